"""The terminal table, laid out like the lecture's LeNet-5 table (layer, output size, weight size) with
params, MACs and receptive field beside it and the totals under it. rich handles colour, NO_COLOR and width."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cnncalc.analyze import Report
from cnncalc.render.cells import HEADERS, RF_CAPTION, input_cells, row_cells
from cnncalc.render.summary_lines import totals_lines


def print_tables(reports: list[Report], console: Console, human_units: bool) -> None:
    for index, report in enumerate(reports):
        if index:
            console.print()
        table = Table(
            title=f"{report.name}  ({report.file})",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,
            title_justify="left",
            caption=RF_CAPTION,
            caption_justify="left",
        )
        for position, header in enumerate(HEADERS):
            # Names and kinds may fold onto a second line; figures never break.
            table.add_column(
                header,
                justify="right" if header in ("Params", "MACs") else "left",
                no_wrap=header not in ("Layer", "Kind"),
                overflow="fold",
                style="bold" if position == 0 else None,
            )
        table.add_row(*input_cells(report), style="dim")
        for row in report.rows:
            table.add_row(*row_cells(row, human_units))
        console.print(table)
        for line in totals_lines(report, human_units):
            console.print(line, highlight=False, markup=False)
        for warning in report.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
