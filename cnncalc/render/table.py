"""The terminal table, laid out like the lecture's LeNet-5 table (layer, output size, weight size) with
params, MACs and receptive field beside it and the totals under it. rich handles colour, NO_COLOR and width."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cnncalc.analyze import Report
from cnncalc.render.cells import RF_CAPTION, Style, columns, input_cells, row_cells
from cnncalc.render.summary_lines import totals_lines


# The lecture's layout first; where the terminal is too narrow, shapes lose their spaces and kinds their
# arguments, and then the Weight column goes (params still count the weights).
def _styles(human: bool) -> list[Style]:
    return [Style(human), Style(human, compact=True), Style(human, compact=True, weights=False)]


def print_tables(reports: list[Report], console: Console, human_units: bool) -> None:
    for index, report in enumerate(reports):
        if index:
            console.print()
        for style in _styles(human_units):
            table = _table(report, style)
            if console.measure(table).maximum <= console.width:
                break
        console.print(table)
        for line in totals_lines(report, human_units):
            console.print(line, highlight=False, markup=False)
        for warning in report.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)


def _table(report: Report, style: Style) -> Table:
    table = Table(
        title=f"{report.name}  ({report.file})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
        caption=RF_CAPTION,
        caption_justify="left",
    )
    for header, _ in columns(style):
        # Names and kinds may fold onto a second line; figures never break.
        folds = header in ("Layer", "Kind")
        table.add_column(
            header,
            justify="right" if header in ("Params", "MACs") else "left",
            no_wrap=not folds,
            overflow="fold",
            min_width=8 if folds else None,
            style="bold" if header == "Layer" else None,
        )
    table.add_row(*input_cells(report, style), style="dim")
    for row in report.rows:
        table.add_row(*row_cells(row, style))
    return table
