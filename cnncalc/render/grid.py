"""Plain-text tables that never cut a cell: laid out in the first form that fits the width, else as records.

A table comes in forms, from the fullest to the narrowest (shorter shapes, optional columns left out); the first
form whose natural width fits the screen is printed, with a line naming the columns it leaves out and the width
that shows them. Where no form fits, each row becomes a record: its first cell on a line, then one line per
other cell, `Header  value`, the values wrapped between whole figures. Cells are never cropped or folded.

The look is the lecture's: a title line, a blank line, the header, a rule, the rows (a leading space, columns two
spaces apart, figures right-aligned), no trailing spaces.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class Grid(NamedTuple):
    columns: tuple[Column, ...]
    rows: tuple[Line, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(column.header for column in self.columns)

    def widths(self) -> list[int]:
        widths = [cell_width(column.header) for column in self.columns]
        for row in self.rows:
            for index, cell in enumerate(row.cells):
                widths[index] = max(widths[index], cell_width(cell))
        return widths

    def width(self) -> int:
        """The natural width: every cell whole, on one line."""
        widths = self.widths()
        return len(" ") + sum(widths) + len(GAP) * (len(widths) - 1)


def table_lines(grid: Grid, screen: Screen) -> list[str]:
    """Header, rule and rows at the grid's natural width."""
    widths = grid.widths()
    header = Line(tuple(column.header for column in grid.columns), style="bold")
    lines = [_row_text(header, grid.columns, widths, screen), " " + screen.rule * (grid.width() - 1)]
    lines.extend(_row_text(row, grid.columns, widths, screen) for row in grid.rows)
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
    label_width = max((cell_width(c.header) for c in grid.columns[1:]), default=0)
    lines: list[str] = []
    for row in grid.rows:
        style = " ".join(s for s in (row.style, grid.columns[0].style) if s)
        lines.extend(
            paint(text, style, screen) for text in wrap(row.cells[0].strip(), screen.width, "", HANGING_INDENT)
        )
        for index, (column, cell) in enumerate(zip(grid.columns[1:], row.cells[1:], strict=True), start=1):
            if not cell:
                continue
            label = RECORD_INDENT + column.header + " " * (label_width - cell_width(column.header)) + GAP
            first = units(cell)[0]
            if screen.width is not None and cell_width(label) + cell_width(first) > screen.width:
                texts = [label.rstrip()] + wrap(cell, screen.width, HANGING_INDENT, HANGING_INDENT)
            else:
                texts = wrap(cell, screen.width, label, " " * cell_width(label))
            mark = row.marks[index] if index < len(row.marks) else ""
            value_style = " ".join(s for s in (row.style, mark) if s)
            lines.extend(paint(text, value_style, screen) for text in texts)
    return lines


class Fitted(NamedTuple):
    lines: list[str]
    note: str | None  # what the form leaves out and how to see it; None for the fullest form


def fit(forms: Sequence[Grid], records: Sequence[Grid], screen: Screen, row_word: str = "layer") -> Fitted:
    """The first of `forms` (fullest first) that fits the screen, else one record per row from `records` (of the
    candidates whose lines all fit, the shortest; else the one that overflows least). The note names what is left
    out and the width that shows it."""
    if screen.width is None or forms[0].width() <= screen.width:
        return Fitted(table_lines(forms[0], screen), None)
    for form in forms[1:]:
        if form.width() <= screen.width:
            missing = [header for header in forms[0].headers if header not in form.headers]
            return Fitted(table_lines(form, screen), _left_out_note(missing, forms, screen.width) if missing else None)
    width = screen.width
    plain = screen._replace(color=False)  # measured without escape codes
    candidates = [record_lines(grid, plain) for grid in records]
    fitting = [i for i, lines in enumerate(candidates) if all(cell_width(line) <= width for line in lines)]
    if fitting:
        best = min(fitting, key=lambda i: len(candidates[i]))  # the first of the shortest: full shapes if they fit
    else:
        best = min(range(len(candidates)), key=lambda i: sum(max(0, cell_width(t) - width) for t in candidates[i]))
    narrowest = min(form.width() for form in forms)
    note = (
        f"One record per {row_word} to fit {width} columns (the table needs {narrowest}: --width {narrowest} "
        "shows it; --format json has every figure)."
    )
    return Fitted(candidates[best] if not screen.color else record_lines(records[best], screen), note)


def _left_out_note(missing: list[str], forms: Sequence[Grid], width: int) -> str:
    needed = min(form.width() for form in forms if all(header in form.headers for header in missing))
    names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    plural = len(missing) > 1
    return (
        f"{names} column{'s' if plural else ''} left out to fit {width} columns "
        f"(--width {needed} shows {'them' if plural else 'it'}; --format json has every figure)."
    )
