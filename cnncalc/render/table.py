"""The terminal table, laid out like the lecture's LeNet-5 table (layer, output size, weight size) with
params, MACs and receptive field beside it and the totals under it; and `cnncalc verify`'s comparison.

Plain text (cnncalc.render.grid): where the lecture's layout does not fit the width, shapes lose their spaces and
kinds their arguments, then the Weight and Kind columns go (a line says so), then each layer becomes a record.
Params and MACs are always shown and no figure is ever cut.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from cnncalc.analyze import Report
from cnncalc.render.cells import RF_CAPTION, Style, columns, input_cells
from cnncalc.render.grid import Column, Grid, Line, fit
from cnncalc.render.screen import Screen, paint, wrap, wrap_all
from cnncalc.render.summary_lines import totals_lines
from cnncalc.units import count, nbytes

NUMERIC = ("Params", "MACs", "Bwd MACs", "Saved")


def training_columns(report: Report) -> list[tuple[str, Any]]:
    """`summary --training`: each layer's backward MACs and the bytes it first saves for backward."""
    if report.totals.saved_bytes is None:
        return []
    return [
        ("Bwd MACs", lambda r, s: count(r.backward_macs, s.human)),
        ("Saved", lambda r, s: nbytes(r.saved_bytes, s.human)),
    ]


def render_tables(reports: list[Report], human_units: bool, screen: Screen) -> str:
    """Every report's table, totals and warnings, a blank line between reports."""
    return "\n".join(_report_text(report, human_units, screen) for report in reports)


def _styles(human: bool, layout: str) -> list[Style]:
    """The lecture's layout first, then narrower forms of it."""
    compact = Style(human, compact=True, layout=layout)
    return [
        Style(human, layout=layout),
        compact,
        compact._replace(weights=False),
        compact._replace(weights=False, kinds=False),
    ]


def summary_grid(report: Report, style: Style) -> Grid:
    extra = training_columns(report)
    chosen = columns(style) + extra
    grid_columns = tuple(Column(h, right=h in NUMERIC, style="bold" if h == "Layer" else "") for h, _ in chosen)
    rows = [Line(tuple(input_cells(report, style) + [""] * len(extra)), style="dim")]
    rows += [Line(tuple([cell(row, style) for _, cell in chosen])) for row in report.rows]
    return Grid(grid_columns, tuple(rows))


def _report_text(report: Report, human_units: bool, screen: Screen) -> str:
    forms = [partial(summary_grid, report, style) for style in _styles(human_units, report.layout)]
    fitted = fit(forms, [0, 1], screen)  # records have room for every column: full shapes where they fit
    title = wrap(f"{report.name}  ({report.file})", screen.width, "", "  ")
    lines = [paint(line, "bold", screen) for line in title] + [""] + fitted.lines + [""]
    footer = ([fitted.note] if fitted.note else []) + [RF_CAPTION] + totals_lines(report, human_units)
    lines += wrap_all(footer, screen.width)
    for warning in report.warnings:
        parts = wrap(f"warning: {warning}", screen.width, "", "  ")
        lines += [paint("warning:", "yellow", screen) + parts[0][len("warning:") :]] + parts[1:]
    return "\n".join(lines) + "\n"


# -- cnncalc verify -------------------------------------------------------------------------------------------

VERIFY_CAPTION = (
    "Shape, MACs and params as executed (multiplies counted in inner products, weights read); "
    "where the analyzer's figure differs: executed / analyzed."
)


def _agreeing(executed: Any, analyzed: Any, text: Any) -> str:
    return text(executed) if executed == analyzed else f"{text(executed)} / {text(analyzed)}"


def _verify_grid(data: dict[str, Any], compact: bool, kinds: bool) -> Grid:
    joiner = "x" if compact else " x "
    shape = lambda values: joiner.join(map(str, values))  # noqa: E731
    figure = lambda value: f"{value:,}"  # noqa: E731
    headers = ["Layer", "Kind", "Shape", "MACs", "Params", "Result"]
    rows = []
    for layer in data["layers"]:
        cells = [
            layer["name"],
            layer["type"],
            _agreeing(layer["executed_shape"], layer["output_shape"], shape),
            _agreeing(layer["counted_macs"], layer["macs"], figure),
            _agreeing(layer["params_read"], layer["params"], figure),
            "ok" if layer["ok"] else "DIFFERS",
        ]
        rows.append(Line(tuple(cells), marks=("",) * 5 + ("" if layer["ok"] else "bold red",)))
    keep = [i for i, h in enumerate(headers) if kinds or h != "Kind"]
    grid_columns = tuple(
        Column(headers[i], right=headers[i] in NUMERIC, style="bold" if headers[i] == "Layer" else "") for i in keep
    )
    picked = tuple(Line(tuple(r.cells[i] for i in keep), r.style, tuple(r.marks[i] for i in keep)) for r in rows)
    return Grid(grid_columns, picked)


def render_verify(data: dict[str, Any], screen: Screen) -> str:
    """The per-layer comparison of `cnncalc verify`, with a verdict under it."""
    forms = [
        partial(_verify_grid, data, compact, kinds) for compact, kinds in ((False, True), (True, True), (True, False))
    ]
    fitted = fit(forms, [0, 1], screen)
    title = f"verify {data['name']}  (input {' x '.join(map(str, data['input_shape']))})"
    lines = [paint(line, "bold", screen) for line in wrap(title, screen.width, "", "  ")] + [""]
    lines += fitted.lines + [""]
    lines += wrap_all(([fitted.note] if fitted.note else []) + [VERIFY_CAPTION], screen.width)
    failures = sum(not layer["ok"] for layer in data["layers"])
    if failures:
        verdict = wrap(f"{failures} layer(s) differ from the analyzers", screen.width, "", "  ")
        lines += [paint(line, "red", screen) for line in verdict]
    else:
        lines += wrap(f"all {len(data['layers'])} layers agree: shapes, MACs and parameters", screen.width, "", "  ")
    return "\n".join(lines) + "\n"
