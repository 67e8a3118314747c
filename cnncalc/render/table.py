"""The terminal table, laid out like the lecture's LeNet-5 table (layer, output size, weight size) with
params, MACs and receptive field beside it and the totals under it; and `cnncalc verify`'s comparison.

Plain text (cnncalc.render.grid): where the lecture's layout does not fit the width, shapes lose their spaces and
kinds their arguments, then the Weight and Kind columns go (a line says so), then each layer becomes a record.
Params and MACs are always shown and no figure is ever cut.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from cnncalc.analyze import Report
from cnncalc.render.cells import FIGURE_CELLS, RF_CAPTION, TRAINING_HEADERS, Style, columns, input_cells
from cnncalc.render.grid import Column, Grid, Line, fit
from cnncalc.render.screen import Screen, paint, wrap, wrap_all
from cnncalc.render.summary_lines import totals_lines

if TYPE_CHECKING:  # the block tree's modules load only for `summary --depth` (start-up time)
    from cnncalc.render.tree_cells import TreeRow
    from cnncalc.tree import Block

NUMERIC = ("Params", "MACs", "Bwd MACs", "Saved")


def training_columns(report: Report) -> list[tuple[str, Any]]:
    """`summary --training`: each layer's backward MACs and the bytes it first saves for backward."""
    if report.totals.saved_bytes is None:
        return []
    return [(header, FIGURE_CELLS[header]) for header in TRAINING_HEADERS]


def render_tables(
    reports: list[Report],
    human_units: bool,
    screen: Screen,
    trees: list[Block] | None = None,
    depth: int | None = None,
) -> str:
    """Every report's table, totals and warnings, a blank line between reports. With a `depth` (and the reports'
    block `trees`): the block tree down to that depth instead of one row per layer."""
    if depth is None or trees is None:
        return "\n".join(_report_text(report, human_units, screen) for report in reports)
    return "\n".join(
        _tree_text(report, tree, depth, human_units, screen) for report, tree in zip(reports, trees, strict=True)
    )


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


# -- summary --depth N: the block tree ------------------------------------------------------------------------


def _tree_forms(human: bool, layout: str, headers: tuple[str, ...]) -> list[tuple[Style, tuple[str, ...]]]:
    """Every column first, then compact cells, then without FLOPs, Activations, Kind (MACs and params stay)."""
    compact = Style(human, compact=True, layout=layout)
    left_out: list[tuple[str, ...]] = [(), ("FLOPs",), ("FLOPs", "Activations"), ("FLOPs", "Activations", "Kind")]
    forms = [(Style(human, layout=layout), headers)]
    forms += [(compact, tuple(h for h in headers if h not in gone)) for gone in left_out]
    return forms


def tree_grid(
    report: Report, rows: list[TreeRow], style: Style, headers: tuple[str, ...], full_names: bool = False
) -> Grid:
    """The tree's rows; `full_names` for records, where no indentation shows whose a row is."""
    from cnncalc.render.tree_cells import TREE_NUMERIC, tree_cell, tree_input_cells

    grid_columns = tuple(Column(h, right=h in TREE_NUMERIC, style="bold" if h == "Layer" else "") for h in headers)
    lines = [Line(tuple(tree_input_cells(report, style, headers)), style="dim")]
    for row in rows:
        cells = [tree_cell(h, row, style) for h in headers]
        if full_names and row.depth:
            cells[0] = row.node.name
        lines.append(Line(tuple(cells), style="bold" if row.is_block else ""))
    return Grid(grid_columns, tuple(lines))


def _tree_text(report: Report, tree: Block, depth: int, human_units: bool, screen: Screen) -> str:
    from cnncalc.render.tree_cells import TREE_CAPTION, depth_line, tree_headers, tree_rows
    from cnncalc.tree import max_depth

    rows = tree_rows(tree, depth)
    tables = _tree_forms(human_units, report.layout, tree_headers(report))
    forms = [partial(tree_grid, report, rows, style, headers) for style, headers in tables]
    # Records (past every table form, as wide as the first two) name each row in full.
    forms += [partial(tree_grid, report, rows, style, headers, True) for style, headers in tables[:2]]
    fitted = fit(forms, [len(tables), len(tables) + 1], screen, row_word="row")
    title = wrap(f"{report.name}  ({report.file})", screen.width, "", "  ")
    lines = [paint(line, "bold", screen) for line in title] + [""] + fitted.lines + [""]
    footer = ([fitted.note] if fitted.note else []) + [depth_line(depth, max_depth(tree)), TREE_CAPTION]
    footer += [RF_CAPTION] + totals_lines(report, human_units)
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
