"""The terminal table, laid out like the lecture's LeNet-5 table (layer, output size, weight size) with
params, MACs and receptive field beside it and the totals under it. rich handles colour, NO_COLOR and width."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from cnncalc.analyze import Report
from cnncalc.render.cells import RF_CAPTION, Style, columns, input_cells, row_cells
from cnncalc.render.summary_lines import totals_lines


# The lecture's layout first; where the terminal is too narrow, shapes lose their spaces and kinds their
# arguments, and then the Weight column goes (params still count the weights).
def _styles(human: bool, layout: str) -> list[Style]:
    return [
        Style(human, layout=layout),
        Style(human, compact=True, layout=layout),
        Style(human, compact=True, weights=False, layout=layout),
    ]


def print_tables(reports: list[Report], console: Console, human_units: bool) -> None:
    for index, report in enumerate(reports):
        if index:
            console.print()
        unbounded = console.options.update_width(10**6)  # console.measure would clamp to the width
        for style in _styles(human_units, report.layout):
            table = _table(report, style)
            if Measurement.get(console, unbounded, table).maximum <= console.width:
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


def print_verify(data: dict[str, object], console: Console) -> None:
    """The per-layer comparison of `cnncalc verify`, with a verdict under it."""
    table = Table(
        title=f"verify {data['name']}  (input {' x '.join(map(str, data['input_shape']))})", box=box.SIMPLE_HEAD
    )
    for header in (
        "Layer",
        "Kind",
        "Shape (executed / analyzed)",
        "MACs (counted / analyzed)",
        "Params (read / analyzed)",
        "",
    ):
        table.add_column(header, overflow="fold")
    failures = 0
    for layer in data["layers"]:  # type: ignore[attr-defined]
        executed = " x ".join(map(str, layer["executed_shape"]))
        analyzed = " x ".join(map(str, layer["output_shape"]))
        shape = executed if executed == analyzed else f"{executed} / {analyzed}"
        macs = (
            f"{layer['counted_macs']:,}"
            if layer["counted_macs"] == layer["macs"]
            else f"{layer['counted_macs']:,} / {layer['macs']:,}"
        )
        params = (
            f"{layer['params_read']:,}"
            if layer["params_read"] == layer["params"]
            else f"{layer['params_read']:,} / {layer['params']:,}"
        )
        failures += not layer["ok"]
        table.add_row(layer["name"], layer["type"], shape, macs, params, "ok" if layer["ok"] else "[red]DIFFERS[/red]")
    console.print(table)
    if failures:
        console.print(f"[red]{failures} layer(s) differ[/red] from the analyzers")
    else:
        console.print(f"all {len(data['layers'])} layers agree: shapes, MACs and parameters")  # type: ignore[arg-type]
