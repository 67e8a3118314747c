"""The command line: the typer app, its commands (one module each under cnncalc.commands) and the exit codes.

Exit codes (README.md, "Exit codes"): 0 success; 1 a check failed (`check`, `lint`, `verify`, `diff --exit-code`);
2 usage errors and invalid or unreadable specs; 130 interrupted (Ctrl-C); 141 standard output's reader left
(`cnncalc ... | head -1`), quietly.
Start-up time is a feature: `cnncalc summary ...` imports and builds only the `summary` command (its module, its
click parameters), and command modules import the library inside their functions, so that a run imports only what
it uses (tests/test_cold_imports.py). `cnncalc --help` and anything that is not a command name build them all.
"""

from __future__ import annotations

import errno
import gc
import sys

# Start-up builds tens of thousands of long-lived objects (typer, click, the library's classes and tables) and no
# garbage cycles worth collecting: the collector's passes over them cost about 5% of a cold run. It is paused while
# typer is imported here (then typer's objects are frozen: never scanned again, and the pass they would have set
# off right after is not owed), and by main() for the whole command (analyze pauses it for its part anyway).
_collecting = gc.isenabled()
gc.disable()
import typer  # noqa: E402

gc.freeze()
if _collecting:
    gc.enable()

from cnncalc.errors import CnncalcError  # noqa: E402

HELP_WIDTH = 100  # typer's help and usage errors where $COLUMNS is 0
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells report for Ctrl-C
EXIT_READER_LEFT = 141  # 128 + SIGPIPE: what shells report for a writer whose reader left; never 1 ("check failed")

# Each command's name, module and function, in the order of `cnncalc --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "summary": ("summary", "summary"),
    "run": ("run", "run"),
    "verify": ("verify", "verify"),
    "layer": ("layer", "layer"),
    "fuse": ("fuse", "fuse"),
    "graph": ("graph", "graph"),
    "report": ("report", "report"),
    "diff": ("diff", "diff"),
    "import": ("import_", "import_"),
    "export": ("export", "export"),
    "schema": ("schema", "schema"),
    "explain": ("explain", "explain"),
    "kinds": ("kinds", "kinds"),
    "check": ("check", "check"),
    "lint": ("lint", "lint"),
}


def _version(value: bool) -> None:
    if value:
        from cnncalc import __version__

        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


def root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Exact shapes, parameters, MACs and receptive fields of convolutional networks, from a YAML spec.

    Counting conventions: MACs are the multiply-accumulates of conv, transposed conv and linear inner products
    (bias excluded); FLOPs = 2 x MACs + every other arithmetic operation. Shapes are per sample (C x H x W).
    """


def build_app(names: list[str] | None = None) -> typer.Typer:
    """The typer app with the commands `names` (default: all of them), each command's module imported here."""
    import importlib

    built = typer.Typer(
        name="cnncalc",
        help="Exact shapes, parameters, MACs and receptive fields of convolutional networks, from a YAML spec.\n\n"
        "Example: cnncalc summary specs/lenet5.yaml",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    built.callback()(root)
    for name in COMMANDS if names is None else names:
        module, function = COMMANDS[name]
        command = getattr(importlib.import_module(f"cnncalc.commands.{module}"), function)
        built.command()(command)
    _reflow_help(built)
    return built


def __getattr__(name: str) -> typer.Typer:
    """`cnncalc.cli.app`: the app with every command, built when first asked for (tests, documentation)."""
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _invoked(arguments: list[str]) -> list[str] | None:
    """The one command a command line runs, when its first word names one; else None (all: `--help`, a typo
    that click answers with the commands' names)."""
    return [arguments[0]] if arguments and arguments[0] in COMMANDS else None


def _reflowed(doc: str) -> str:
    """A docstring with its paragraphs joined into single lines, for the terminal to wrap (typer 0.28 keeps the
    source's line breaks, which wrap raggedly in narrow terminals); `\\b` paragraphs (examples) stay as written."""
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs)


def _reflow_help(built: typer.Typer) -> None:
    for info in built.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _reflowed(info.callback.__doc__)


def main() -> None:
    collecting = gc.isenabled()
    gc.disable()
    try:
        _main()
    finally:
        if collecting:
            gc.enable()


def console() -> None:
    """The `cnncalc` program (`python -m cnncalc` too): main(), then, its output flushed, an exit that skips the
    interpreter's teardown. Freeing every object one by one at exit is work nobody waits for: about 7% of a cold
    `summary` of ResNet-50, and over a second after a million layers. cnncalc registers no exit handlers; an
    unexpected exception still ends the usual way, with its traceback."""
    import os

    try:
        main()
        code = 0
    except SystemExit as done:
        code = _exit_code(done.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = EXIT_READER_LEFT
    os._exit(code)


def _exit_code(code: object) -> int:
    """What Python's own exit makes of `sys.exit(code)`: None is 0, a number itself, anything else is printed."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _main() -> None:
    app = build_app(_invoked(sys.argv[1:]))
    _help_width_from_columns()
    # Exact figures (a product of huge axes, an executed value) may have more digits than Python's guard against
    # slow int parsing (4,300) lets str() print. The guard is not needed for reading: the YAML loader refuses
    # integers that long itself. (Python before 3.10.7 has no guard.)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        try:
            app()
        finally:
            # Flush here, not at interpreter exit, where a closed pipe would print "Exception ignored" and exit 120.
            sys.stdout.flush()
    except CnncalcError as error:
        sys.stderr.write(error.render() + "\n")
        sys.exit(error.exit_code)
    except SystemExit as done:
        if _reader_left(done):
            _quiet_exit_reader_left()
        raise
    except BrokenPipeError:
        _quiet_exit_reader_left()
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


def _help_width_from_columns() -> None:
    """Give typer's help and usage errors a width where $COLUMNS gives rich none: at COLUMNS=0 (which tells
    cnncalc's tables "no limit") rich prints every line empty, so `--help` and a usage error said nothing."""
    import os

    if os.environ.get("COLUMNS", "1").strip() == "0":
        import typer.rich_utils  # rich's import is paid only in this case

        typer.rich_utils.MAX_WIDTH = HELP_WIDTH


def _reader_left(done: SystemExit) -> bool:
    """Whether an exit was caused by a write to a closed pipe. Click (in typer) and rich both turn a broken pipe
    into exit 1, the code for "a check failed"; both exit while handling the pipe's OSError, which Python keeps
    as the exit's context."""
    cause = done.__context__
    return isinstance(cause, OSError) and cause.errno == errno.EPIPE


def _quiet_exit_reader_left() -> None:
    """`cnncalc ... | head -1`: the reader has what it wanted. Say nothing more, and send what is still buffered
    nowhere rather than to the pipe, which would fail again at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_READER_LEFT)
