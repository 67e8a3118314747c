"""Where text goes: the width tables are laid out in and whether they are coloured, decided once per command.

Plain text needs no terminal library: a width, a colour switch and word wrapping that never splits a figure. The
width is `--width N` if given (0: no limit), else `COLUMNS` if set to a positive number, else the terminal's
width when standard output is a terminal; output to a pipe or a file has no limit, so logs and grep see whole
lines. Colour needs a terminal (or FORCE_COLOR) and is never used when NO_COLOR is set to anything but "".
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from typing import NamedTuple, TextIO


class Screen(NamedTuple):
    width: int | None = None  # None: no limit (tables at their natural width, lines never wrapped)
    color: bool = False
    rule: str = "─"  # the character of the line under a table's header ('-' where the encoding lacks it)


def detect(width: int | None = None, stream: TextIO | None = None) -> Screen:
    """The screen for `stream` (standard output by default), `width` being the --width option (None: not given)."""
    stream = stream if stream is not None else sys.stdout
    terminal = _is_terminal(stream)
    if width is not None:
        chosen = width or None
    else:
        chosen = _columns_variable() or (_terminal_width(stream) if terminal else None)
    return Screen(chosen, _wants_color(terminal), "─" if _encodes(stream, "─") else "-")


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def _columns_variable() -> int | None:
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _terminal_width(stream: TextIO) -> int | None:
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, ValueError, OSError):
        return None


def _wants_color(terminal: bool) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return terminal or bool(os.environ.get("FORCE_COLOR"))


def _encodes(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


# -- colour ---------------------------------------------------------------------------------------------------

_SGR = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "green": "32", "yellow": "33"}


def paint(text: str, style: str, screen: Screen) -> str:
    """`text` in `style` ("bold", "bold red", ...) on a colour screen; unchanged otherwise or for empty text."""
    if not (screen.color and style and text):
        return text
    codes = ";".join(_SGR[word] for word in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


# -- measuring and wrapping -----------------------------------------------------------------------------------


def cell_width(text: str) -> int:
    """Terminal cells `text` takes: wide (East Asian) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


# Words a line never breaks beside: the `x` and `/` inside a shape or a receptive field (`20 x 28 x 28`,
# `7 / 2 / 3`), the sign before a figure and the arrow before a value (`- conv1`, `-> 500`), and a byte unit after
# its number (`3,136 B`, `1.50 MiB`).
_JOINS_BOTH = frozenset({"x", "×", "/"})
_JOINS_NEXT = frozenset({"-", "+", "->", "→"})
_JOINS_PREVIOUS = frozenset({"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"})


def units(text: str) -> list[str]:
    """`text` cut at the spaces where a line may break, each piece whole (a figure, a shape, a word)."""
    return [piece for _, piece in _pieces(text)]


def _pieces(text: str) -> list[tuple[str, str]]:
    """(the spaces before it, piece) for each unbreakable piece of `text`, spacing inside pieces kept."""
    parts = re.split(r"( +)", text.strip(" "))
    pieces: list[tuple[str, str]] = []
    glue, gap = False, ""
    for index, word in enumerate(parts):
        if index % 2:
            gap = word
            continue
        if not word:
            continue
        if pieces and (glue or word in _JOINS_BOTH or word in _JOINS_PREVIOUS):
            before, piece = pieces[-1]
            pieces[-1] = (before, piece + gap + word)
        else:
            pieces.append((gap, word))
        glue = word in _JOINS_BOTH or word in _JOINS_NEXT
    return pieces


def wrap(text: str, width: int | None, first: str = "", rest: str = "") -> list[str]:
    """`text` in lines of at most `width` cells, broken only between whole units (see `units`), the first line
    after the prefix `first` and the others after `rest`. A unit wider than the line stands alone on its line,
    whole. Without a width, one line as written."""
    if width is None or cell_width(first) + cell_width(text) <= width:
        return [(first + text).rstrip()]
    lines: list[str] = []
    line, used, empty = first, cell_width(first), True
    for gap, piece in _pieces(text):
        size = cell_width(piece)
        if not empty and used + len(gap) + size > width:
            lines.append(line)
            line, used, empty = rest, cell_width(rest), True
        if empty:
            line, used, empty = line + piece, used + size, False
        else:
            line, used = line + gap + piece, used + len(gap) + size
    lines.append(line)
    return [text.rstrip() for text in lines]


def wrap_all(lines: list[str], width: int | None, rest: str = "  ") -> list[str]:
    """Each line wrapped on its own, continuation lines indented by `rest` (footers, notes, warnings)."""
    if width is None:
        return [line.rstrip() for line in lines]
    return [part for line in lines for part in wrap(line, width, "", rest)]


def wrap_text(text: str, width: int | None) -> str:
    """Log lines (check, lint, kinds) each wrapped at `width`, a continuation two spaces deeper than its line's own
    indent; unchanged without a width, so pipes and logs keep whole lines."""
    if width is None:
        return text
    lines = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip(" "))]
        lines += wrap(line[len(indent) :], width, indent, indent + "  ") if line.strip() else [line]
    return "\n".join(lines)
