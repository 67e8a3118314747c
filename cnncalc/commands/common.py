"""What the commands share: output formats and element types, writing to stdout or a file, the screen."""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from cnncalc.render.screen import Screen


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Layout(str, Enum):
    chw = "chw"
    hwc = "hwc"


class Dtype(str, Enum):
    float64 = "float64"
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float8 = "float8"
    int64 = "int64"
    int32 = "int32"
    int16 = "int16"
    int8 = "int8"
    uint8 = "uint8"


class Mode(str, Enum):
    eval = "eval"
    train = "train"


class RunFormat(str, Enum):
    table = "table"
    json = "json"


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def write_file(path: str, text: str) -> None:
    from cnncalc.errors import UsageError

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _width_option(default: str, narrower: str) -> Any:
    return typer.Option(
        None,
        "--width",
        min=0,
        help=f"Lay the output out in this many columns (0: no limit). Default: {default}, else (a pipe or a file) "
        f"no limit. {narrower}; figures are never cut.",
        show_default=False,
    )


# The commands that print tables share this option (typer builds each command's parameter from it).
WIDTH = _width_option(
    "$COLUMNS, else the terminal's width",
    "Narrower tables leave optional columns out, then print a record per row",
)
# check, lint and kinds print log lines: wrapped between words at the width. Without --width only a terminal wraps
# them, never a pipe (even with $COLUMNS set): tools and logs read each finding whole, `file:line:column: ...`.
LINES_WIDTH = _width_option(
    "on a terminal, $COLUMNS, else its width",
    "Longer lines wrap between words, indented under their start",
)


def input_size(repeated: str = "") -> Any:
    """The --input SHAPE option of the commands that analyze a spec at another input size (cnncalc.sizes);
    `repeated` says what giving it several times does for that command."""
    return typer.Option(
        None,
        "--input",
        "-i",
        metavar="SHAPE",
        help="Analyze at this input size (one sample) instead of the spec's `input:`, written as the spec writes "
        "it, in its layout: 3x320x320, 3,320,320 or [3, 320, 320]; the spec is expanded again at it. "
        + (repeated or "One size (summary compares several)."),
        show_default=False,
    )


def screen(width: int | None = None) -> Screen:
    """The width and colour of standard output for tables (cnncalc.render.screen): --width, else $COLUMNS, else
    the terminal's width; no limit in a pipe. Colour only on a terminal (or FORCE_COLOR), never with NO_COLOR."""
    from cnncalc.render.screen import detect

    return detect(width)


def lines_width(width: int | None, output: str | None = None) -> int | None:
    """The width log lines wrap at (LINES_WIDTH): --width if given (0: none); else, writing to standard output
    (`output` None) on a terminal, $COLUMNS or the terminal's width; none in a pipe or the file `output`."""
    if width is not None or output is not None or not sys.stdout.isatty():
        return width or None
    return screen().width


def interactive() -> bool:
    """Progress bars only where a person watches (standard error is a terminal)."""
    return sys.stderr.isatty()


def named_values(arguments: list[str]) -> dict[str, object]:
    """NAME=VALUE pairs, each value read as YAML is in specs (5, [3, 5], (3, 5), same, true, 1e-5)."""
    from cnncalc.errors import SpecError, UsageError
    from cnncalc.yamlsource import read_value

    values: dict[str, object] = {}
    for text in arguments:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise UsageError(f"expected NAME=VALUE, got {text!r}", hint="for example kernel_size=5 or padding=same")
        try:
            values[name.strip()] = read_value(value, f"{name.strip()}=")
        except SpecError as error:
            raise UsageError(f"{name}: cannot read the value {value!r}: {error.message}", hint=error.hint) from None
    return values
