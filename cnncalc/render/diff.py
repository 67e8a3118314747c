"""`cnncalc diff`: the comparison as a terminal table, Markdown for a pull-request comment, and a JSON object.

The terminal table reads like a unified diff: a changed layer is a `-` row (before) and a `+` row (after), an added
layer a `+` row, a removed one a `-` row; the markers carry the meaning where there is no colour (pipes, NO_COLOR).
Changes that no column shows (trainable, buffers, other ops) are written under the table. Plain text
(cnncalc.render.grid): no terminal library is loaded.
"""

from __future__ import annotations

import json
from fractions import Fraction
from functools import partial
from typing import Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report, Row
from cnncalc.diff import ADDED, CHANGED, LAYER_KEYS, REMOVED, UNCHANGED, Diff, LayerDiff, TotalDiff, layer_value
from cnncalc.layout import shown
from cnncalc.render.cells import RF_CAPTION, Style, figure_cell, kind_cell, shape_text
from cnncalc.render.grid import Column, Grid, Line, fit
from cnncalc.render.json_report import rf_dict
from cnncalc.render.md import md_code, md_text
from cnncalc.render.screen import Screen, paint, wrap, wrap_all
from cnncalc.units import count, nbytes

# Markdown collapses the layer table into a <details> block above this many rows.
LONG_MARKDOWN = 20

LAYER_HEADERS = ("Layer", "Kind", "Output", "Params", "MACs", "Activations", "RF")
NUMERIC_HEADERS = ("Params", "MACs", "Activations")
# Changed keys that no column shows, written as notes under the table (flops follows from MACs and other ops,
# param_bytes from params).
NOTED_KEYS = {"trainable": "trainable", "buffers": "buffers", "other_ops": "other ops"}

# (label, metric) of the totals table; JSON has every metric of cnncalc.diff.
TOTAL_ROWS = (
    ("Params", "params"),
    ("Trainable params", "trainable_params"),
    ("Buffers", "buffers"),
    ("MACs", "macs"),
    ("FLOPs", "flops"),
    ("Activations", "activation_bytes"),
    ("Param memory", "param_bytes"),
    ("Output", "output_shape"),
    ("Input", "input_shape"),
)
BYTE_METRICS = ("input_bytes", "activation_bytes", "param_bytes")


# -- numbers -------------------------------------------------------------------------------------------------------


def percent(total: TotalDiff) -> float | None:
    """The relative change in percent; None for shapes and where the old value is 0."""
    if total.delta is None or total.old == 0:
        return None
    return float(Fraction(100 * total.delta, total.old))


def percent_text(delta: int, old: int) -> str:
    """'+118.6%' (rounded half away from zero); '' when unchanged, '-' from 0, '+<0.1%' when it would read 0.0%."""
    if delta == 0:
        return ""
    if old == 0:
        return "-"
    sign = "+" if delta > 0 else "-"
    size = abs(delta) * 1000
    tenths = (2 * size + old) // (2 * old)
    if tenths == 0:
        return f"{sign}<0.1%"
    return f"{sign}{tenths // 10}.{tenths % 10}%"


def _signed(delta: int, text: str) -> str:
    return f"+{text}" if delta > 0 else f"-{text}" if delta < 0 else text


def delta_text(metric: str, delta: int, human_units: bool) -> str:
    magnitude = nbytes(abs(delta), human_units) if metric in BYTE_METRICS else count(abs(delta), human_units)
    return _signed(delta, magnitude)


def _total_value(metric: str, value: Any, report: Report, style: Style) -> str:
    if metric.endswith("_shape"):
        return shape_text(shown(value, report.layout), style)
    return nbytes(value, style.human) if metric in BYTE_METRICS else count(value, style.human)


def total_cells(total: TotalDiff, diff: Diff, style: Style) -> list[str]:
    """Old, new, delta and relative change of one total, as text."""
    old = _total_value(total.metric, total.old, diff.old, style)
    new = _total_value(total.metric, total.new, diff.new, style)
    if total.delta is None:
        return [old, new, "" if not total.differs else "changed", ""]
    return [old, new, delta_text(total.metric, total.delta, style.human), percent_text(total.delta, total.old)]


# -- layer cells ---------------------------------------------------------------------------------------------------


def layer_cell(header: str, row: Row, style: Style) -> str:
    """A layer's cell; `style` in the layout of the layer's own report (see `side_styles`)."""
    if header == "Layer":
        return row.name
    if header == "Kind":
        return kind_cell(row, style)
    return figure_cell(header, row, style)


def side_styles(diff: Diff, style: Style) -> tuple[Style, Style]:
    """`style` for the old and the new report's rows: each side's shapes in its own spec's layout."""
    return style._replace(layout=diff.old.layout), style._replace(layout=diff.new.layout)


def _yes_no(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else count(value, False)


def notes(diff: Diff, listed: list[LayerDiff], arrow: str) -> list[str]:
    """'conv1: trainable yes -> no; buffers 129 -> 0' for changes the columns do not show."""
    lines = []
    for layer in listed:
        if layer.status != CHANGED or layer.old is None or layer.new is None:
            continue
        # Other ops follow a shape change; they are worth a note only where no column changed.
        visible = any(key not in NOTED_KEYS and key != "flops" for key in layer.changes)
        parts = []
        for key, label in NOTED_KEYS.items():
            if key in layer.changes and not (key == "other_ops" and visible):
                before = _yes_no(layer_value(layer.old, key, diff.old))
                after = _yes_no(layer_value(layer.new, key, diff.new))
                parts.append(f"{label} {before} {arrow} {after}")
        if parts:
            lines.append(f"{layer.name}: {'; '.join(parts)}")
    return lines


def listed_layers(diff: Diff, show_all: bool) -> list[LayerDiff]:
    return [layer for layer in diff.layers if show_all or layer.status != UNCHANGED]


def counts_line(diff: Diff, show_all: bool, depth: int | None = None) -> str:
    found = diff.counts()
    noun = "Layers" if depth is None else f"Rows at depth {depth} (blocks and layers)"
    text = f"{noun}: {found[CHANGED]} changed, {found[ADDED]} added, {found[REMOVED]} removed, "
    text += f"{found[UNCHANGED]} unchanged"
    if found[UNCHANGED] and not show_all:
        text += " (--all lists them)"
    return text


def setting_text(diff: Diff) -> str:
    """'batch 1, float32', or 'batch 1 -> 8, float32' where the specs' batch sizes differ."""
    old, new = diff.old.batch, diff.new.batch
    return f"batch {old if old == new else f'{old} -> {new}'}, {diff.new.dtype}"


# -- JSON ------------------------------------------------------------------------------------------------------------


def _side(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "file": report.file,
        "layout": report.layout,
        "batch": report.batch,
        "dtype": report.dtype,
    }


def _layer_figures(row: Row | None, report: Report) -> dict[str, Any] | None:
    if row is None:
        return None
    figures: dict[str, Any] = {}
    for key in LAYER_KEYS:
        value = layer_value(row, key, report)
        if key == "output_shape":
            value = list(shown(value, report.layout))
        elif key == "receptive_field":
            value = rf_dict(value)
        figures[key] = value
        if key == "type":
            figures["summary"] = row.summary
    return figures


def _total_json(total: TotalDiff, diff: Diff) -> dict[str, Any]:
    if total.delta is None:
        return {
            "old": list(shown(total.old, diff.old.layout)),
            "new": list(shown(total.new, diff.new.layout)),
            "delta": None,
            "percent": None,
        }
    return {"old": total.old, "new": total.new, "delta": total.delta, "percent": percent(total)}


def diff_dict(diff: Diff, show_all: bool, depth: int | None = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "old": _side(diff.old),
        "new": _side(diff.new),
        "differs": diff.differs,
        "depth": depth,
        "counts": diff.counts(),
        "totals": {total.metric: _total_json(total, diff) for total in diff.totals},
        "layers": [
            {
                "name": layer.name,
                "status": layer.status,
                "old": _layer_figures(layer.old, diff.old),
                "new": _layer_figures(layer.new, diff.new),
                "changes": layer.changes,
            }
            for layer in listed_layers(diff, show_all)
        ],
    }


def diff_json(data: dict[str, Any]) -> str:
    """One key per line; one total and one layer per line (readable, diffable, and the C encoder's speed)."""
    lines = []
    for key, value in data.items():
        if key in ("totals", "layers") and value:
            items = value.items() if key == "totals" else enumerate(value)
            inner = ",\n".join(
                f"    {json.dumps(k)}: {json.dumps(v)}" if key == "totals" else f"    {json.dumps(v)}" for k, v in items
            )
            opening, closing = ("{", "}") if key == "totals" else ("[", "]")
            lines.append(f"  {json.dumps(key)}: {opening}\n{inner}\n  {closing}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


# -- Markdown --------------------------------------------------------------------------------------------------------


def _md_layer_cell(header: str, layer: LayerDiff, styles: tuple[Style, Style]) -> str:
    old = layer_cell(header, layer.old, styles[0]) if layer.old is not None else None
    new = layer_cell(header, layer.new, styles[1]) if layer.new is not None else None
    if old is None or new is None:
        return old if new is None else new  # type: ignore[return-value]
    if old == new:
        return old
    text = f"{old} → {new}"
    if header in NUMERIC_HEADERS:
        assert layer.old is not None and layer.new is not None
        key = {"Params": "params", "MACs": "macs", "Activations": "activation_bytes"}[header]
        text += f" ({delta_text(key, getattr(layer.new, key) - getattr(layer.old, key), styles[1].human)})"
    return text


def render_markdown(diff: Diff, human_units: bool, show_all: bool, depth: int | None = None) -> str:
    style = Style(human=human_units)
    styles = side_styles(diff, style)
    lines = [
        f"### cnncalc diff: {md_code(diff.old.file)} → {md_code(diff.new.file)}",
        "",
        f"{md_text(diff.old.name)} → {md_text(diff.new.name)} ({setting_text(diff).replace('->', '→')})",
        "",
        "| | old | new | delta | change |",
        "|---|---:|---:|---:|---:|",
    ]
    by_metric = {total.metric: total for total in diff.totals}
    for label, metric in TOTAL_ROWS:
        cells = [label, *total_cells(by_metric[metric], diff, style)]
        lines.append("| " + " | ".join(md_text(c) for c in cells) + " |")
    noun, _, rest = counts_line(diff, show_all, depth).partition(": ")
    lines += ["", f"**{noun}:** {rest}", ""]
    listed = listed_layers(diff, show_all)
    if not listed:
        return "\n".join(lines)
    table = ["| | " + " | ".join(LAYER_HEADERS) + " |"]
    table.append("|---|" + "|".join("---:" if h in NUMERIC_HEADERS else "---" for h in LAYER_HEADERS) + "|")
    for layer in listed:
        cells = [layer.status, *(_md_layer_cell(h, layer, styles) for h in LAYER_HEADERS)]
        table.append("| " + " | ".join(md_text(c) for c in cells) + " |")
    extra = [f"- {md_text(line)}" for line in notes(diff, listed, "→")]
    body = table + ([""] + extra if extra else [])
    if len(listed) > LONG_MARKDOWN:
        found = ", ".join(f"{n} {s}" for s, n in diff.counts().items() if n)
        summary = f"{len(listed)} {'layers' if depth is None else 'rows'} ({found})"
        body = [f"<details><summary>{summary}</summary>", ""] + body + ["", "</details>"]
    return "\n".join(lines + body) + "\n"


# -- terminal table ------------------------------------------------------------------------------------------------

# The rows' markers (before, after) by status; "" means no such row.
_MARKERS = {CHANGED: ("-", "+"), ADDED: ("", "+"), REMOVED: ("-", ""), UNCHANGED: ("", " ")}


def render_diff(diff: Diff, human_units: bool, show_all: bool, screen: Screen, depth: int | None = None) -> str:
    """Title, the listed layers (two rows for a changed one), notes, layer counts, then the totals. Where the
    full table does not fit: compact shapes and kinds, then no Activations column (the output shape shows the
    change), then no Kind column, then one record per row; figures are never cut."""
    title = f"{diff.old.name}  ({diff.old.file})  ->  {diff.new.name}  ({diff.new.file})"
    lines = [paint(line, "bold", screen) for line in wrap(title, screen.width, "", "  ")]
    listed = listed_layers(diff, show_all)
    if listed:
        full, compact = Style(human_units), Style(human_units, compact=True)
        no_activations = tuple(h for h in LAYER_HEADERS if h != "Activations")
        no_kinds = tuple(h for h in no_activations if h != "Kind")
        variants = ((full, LAYER_HEADERS), (compact, LAYER_HEADERS), (compact, no_activations), (compact, no_kinds))
        forms = [partial(_layer_grid, diff, listed, style, headers) for style, headers in variants]
        fitted = fit(forms, [0, 1], screen, row_word="row")
        lines += [""] + fitted.lines + [""]
        footer = ([fitted.note] if fitted.note else []) + [RF_CAPTION]
        footer += [f"note: {line}" for line in notes(diff, listed, "->")]
        lines += wrap_all(footer, screen.width)
    lines += wrap_all([counts_line(diff, show_all, depth)], screen.width)
    lines += [""] + [paint(line, "bold", screen) for line in wrap(f"Totals ({setting_text(diff)})", screen.width)]
    totals = _totals_grid(diff, Style(human_units))
    fitted = fit([lambda: totals, partial(_without_last_column, totals)], [0], screen, row_word="total")
    lines += [""] + fitted.lines + ([""] + wrap_all([fitted.note], screen.width) if fitted.note else [])
    return "\n".join(lines) + "\n"


def _layer_grid(diff: Diff, listed: list[LayerDiff], style: Style, headers: tuple[str, ...]) -> Grid:
    columns = tuple(Column(h, right=h in NUMERIC_HEADERS) for h in headers)
    old_style, new_style = side_styles(diff, style)
    rows = []
    for layer in listed:
        before, after = _MARKERS[layer.status]
        old_cells = [layer_cell(h, layer.old, old_style) for h in headers] if layer.old else None
        new_cells = [layer_cell(h, layer.new, new_style) for h in headers] if layer.new else None
        # The marker leads the name: it carries the meaning where there is no colour.
        if before and old_cells is not None:
            rows.append(Line((f"{before} {old_cells[0]}", *old_cells[1:]), style="red"))
        if after and new_cells is not None:
            changed = tuple(
                "bold" if old_cells is not None and cell != old_cells[i] else "" for i, cell in enumerate(new_cells)
            )
            style_name = "green" if layer.status != UNCHANGED else ""
            rows.append(Line((f"{after} {new_cells[0]}", *new_cells[1:]), style=style_name, marks=changed))
    return Grid(columns, tuple(rows))


def _without_last_column(grid: Grid) -> Grid:
    return Grid(grid.columns[:-1], tuple(Line(row.cells[:-1], row.style, row.marks[:-1]) for row in grid.rows))


def _totals_grid(diff: Diff, style: Style) -> Grid:
    columns = (Column("Total"), *(Column(header, right=True) for header in ("Old", "New", "Delta", "Change")))
    by_metric = {total.metric: total for total in diff.totals}
    rows = []
    for label, metric in TOTAL_ROWS:
        total = by_metric[metric]
        rows.append(Line((label, *total_cells(total, diff, style)), style="bold" if total.differs else ""))
    return Grid(columns, tuple(rows))
