"""Plain-text tables that never cut a cell: laid out in the first form that fits the width, else as records.

A table comes in forms, from the fullest to the narrowest (shorter shapes, optional columns left out); the first
form whose natural width fits the screen is printed, with a line naming the columns it leaves out and the width
that shows them. Where no form fits, each row becomes a record: its first cell on a line, then one line per
other cell, `Header  value`, the values wrapped between whole figures. Cells are never cropped or folded.

The look is the lecture's: a title line, a blank line, the header, a rule, the rows (a leading space, columns two
spaces apart, figures right-aligned), no trailing spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from cnncalc.render.screen import Screen, cell_width, paint, units, wrap

GAP = "  "
RECORD_INDENT = "  "
HANGING_INDENT = "    "  # a record's value that does not fit beside its header goes under it


class Column(NamedTuple):
    header: str
    right: bool = False  # figures align right
    style: str = ""  # the column's colour on a colour screen (names in bold)


class Line(NamedTuple):
    cells: tuple[str, ...]
    style: str = ""  # the whole row's colour
    marks: tuple[str, ...] = ()  # per cell, a colour over the row's (changed figures in bold)


class Grid:
    """Columns and rows; the widths are measured once."""

    __slots__ = ("columns", "rows", "_widths")

    def __init__(self, columns: tuple[Column, ...], rows: tuple[Line, ...]) -> None:
        self.columns = columns
        self.rows = rows
        self._widths: list[int] | None = None

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)

    def widths(self) -> list[int]:
        if self._widths is None:
            widths = [cell_width(column.header) for column in self.columns]
            for index in range(len(widths)):
                widths[index] = max(widths[index], max((cell_width(row.cells[index]) for row in self.rows), default=0))
            self._widths = widths
        return self._widths

    def width(self) -> int:
        """The natural width: every cell whole, on one line."""
        widths = self.widths()
        return len(" ") + sum(widths) + len(GAP) * (len(widths) - 1)


def table_lines(grid: Grid, screen: Screen) -> list[str]:
    """Header, rule and rows at the grid's natural width."""
    widths = grid.widths()
    header = Line(tuple(column.header for column in grid.columns), style="bold")
    lines = [_row_text(header, grid.columns, widths, screen), " " + screen.rule * (grid.width() - 1)]
    if screen.color:
        lines.extend(_row_text(row, grid.columns, widths, screen) for row in grid.rows)
    else:  # the common case, kept lean for long tables
        aligned = [
            (str.rjust if column.right else str.ljust, width)
            for column, width in zip(grid.columns, widths, strict=True)
        ]
        for row in grid.rows:
            if all(cell.isascii() for cell in row.cells):
                text = GAP.join(align(cell, width) for (align, width), cell in zip(aligned, row.cells, strict=True))
                lines.append((" " + text).rstrip())
            else:
                lines.append(_row_text(row, grid.columns, widths, screen))
    return lines


def _row_text(row: Line, columns: Sequence[Column], widths: list[int], screen: Screen) -> str:
    parts = []
    for index, (cell, column, width) in enumerate(zip(row.cells, columns, widths, strict=True)):
        pad = " " * (width - cell_width(cell))
        mark = row.marks[index] if index < len(row.marks) and row.marks[index] else ""
        text = paint(cell, " ".join(s for s in (row.style, column.style, mark) if s), screen)
        parts.append(pad + text if column.right else text + pad)
    return (" " + GAP.join(parts)).rstrip()


def record_lines(grid: Grid, screen: Screen) -> list[str]:
    """One record per row: the first cell on a line of its own, then `Header  value` for each other non-empty
    cell, values wrapped between whole units and put under their header where they do not fit beside it."""
    return _records(grid, screen)[0]


def _records(grid: Grid, screen: Screen) -> tuple[list[str], int]:
    """The records' lines and how many cells they overflow the width by in all (0: every line fits)."""
    width = screen.width if screen.width is not None else 1 << 60
    label_width = max((cell_width(c.header) for c in grid.columns[1:]), default=0)
    labels = [RECORD_INDENT + c.header + " " * (label_width - cell_width(c.header)) + GAP for c in grid.columns]
    lines: list[str] = []
    overflow = 0
    for row in grid.rows:
        style = " ".join(s for s in (row.style, grid.columns[0].style) if s)
        for text in wrap(row.cells[0].strip(), screen.width, "", HANGING_INDENT):
            overflow += max(0, cell_width(text) - width)
            lines.append(paint(text, style, screen))
        for index in range(1, len(row.cells)):
            cell = row.cells[index]
            if not cell:
                continue
            label = labels[index]
            mark = row.marks[index] if index < len(row.marks) else ""
            value_style = " ".join(s for s in (row.style, mark) if s)
            used = len(label) + cell_width(cell)
            if used <= width:  # the common case: beside its header, on one line
                lines.append(paint(label + cell, value_style, screen))
                continue
            if len(label) + cell_width(units(cell)[0]) > width:
                texts = [label.rstrip()] + wrap(cell, screen.width, HANGING_INDENT, HANGING_INDENT)
            else:
                texts = wrap(cell, screen.width, label, " " * len(label))
            for text in texts:
                overflow += max(0, cell_width(text) - width)
                lines.append(paint(text, value_style, screen))
    return lines, overflow


class Fitted(NamedTuple):
    lines: list[str]
    note: str | None  # what the form leaves out and how to see it; None for the fullest form


Build = Callable[[], Grid]


class _Forms:
    """The forms of a table, each built when first needed (a long table in a pipe needs only the first)."""

    def __init__(self, builders: Sequence[Build]) -> None:
        self.builders = builders
        self.built: dict[int, Grid] = {}

    def __getitem__(self, index: int) -> Grid:
        if index not in self.built:
            self.built[index] = self.builders[index]()
        return self.built[index]

    def __len__(self) -> int:
        return len(self.builders)


def fit(forms: Sequence[Build], records: Sequence[int], screen: Screen, row_word: str = "layer") -> Fitted:
    """The first of `forms` (builders, fullest first) that fits the screen, else one record per row from the
    forms numbered in `records` (of those whose lines all fit, the shortest; else the one that overflows least).
    The note names what is left out and the width that shows it."""
    grids = _Forms(forms)
    if screen.width is None or grids[0].width() <= screen.width:
        return Fitted(table_lines(grids[0], screen), None)
    for index in range(1, len(grids)):
        if grids[index].width() <= screen.width:
            missing = [header for header in grids[0].headers if header not in grids[index].headers]
            note = _left_out_note(missing, [grids[i] for i in range(index + 1)], screen.width) if missing else None
            return Fitted(table_lines(grids[index], screen), note)
    width = screen.width
    candidates = [_records(grids[index], screen) for index in records]
    # Of the candidates that fit, the first of the shortest (full shapes where they fit); else the least overflow.
    best = min(range(len(candidates)), key=lambda i: (candidates[i][1], len(candidates[i][0])))
    narrowest = min(grids[i].width() for i in range(len(grids)))
    note = (
        f"One record per {row_word} to fit {width} columns (the table needs {narrowest}: --width {narrowest} "
        "shows it; --format json has every figure)."
    )
    return Fitted(candidates[best][0], note)


def _left_out_note(missing: list[str], forms: Sequence[Grid], width: int) -> str:
    needed = min(form.width() for form in forms if all(header in form.headers for header in missing))
    names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    plural = len(missing) > 1
    return (
        f"{names} column{'s' if plural else ''} left out to fit {width} columns "
        f"(--width {needed} shows {'them' if plural else 'it'}; --format json has every figure)."
    )
