"""A mutation fuzzer over the shipped specs (issue 9): no traceback, exit code 0, 1 or 2, bounded time and memory.

- `mutate`: the mutants (text and structure edits of specs/*.yaml) and the command each one is run through; every
  case is a pure function of (seed, index), so any failure is reproduced from those two numbers.
- `worker`: runs the cases in-process (`cnncalc.cli.main` with argv) in forked workers with a memory limit and a
  per-command alarm, and says what went wrong, with a signature that groups failures by cause.
- `known`: the failures known today, each with its issue item; the lead removes them as the fixes land.
- `python -m tests.fuzz --seed 7 --count 20000` runs a campaign outside pytest and prints the failures grouped.
"""
