from cnncalc.cli import console

console()
