"""`cnncalc diff`: the comparison as a terminal table, Markdown for a pull-request comment, and a JSON object.

The terminal table reads like a unified diff: a changed layer is a `-` row (before) and a `+` row (after), an added
layer a `+` row, a removed one a `-` row; the markers carry the meaning where there is no colour (pipes, NO_COLOR).
Changes that no column shows (trainable, buffers, other ops) are written under the table. rich is imported only
when the table is printed, so a JSON run never loads it.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report, Row
from cnncalc.diff import ADDED, CHANGED, LAYER_KEYS, REMOVED, UNCHANGED, Diff, LayerDiff, TotalDiff, layer_value
from cnncalc.layout import shown
from cnncalc.render.cells import RF_CAPTION, Style, rf_cell, shape_text
from cnncalc.render.json_report import rf_dict
from cnncalc.units import count, nbytes

if TYPE_CHECKING:
    from rich.console import Console

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


def layer_cell(header: str, row: Row, report: Report, style: Style) -> str:
    if header == "Layer":
        return row.name
    if header == "Kind":
        return row.kind if style.compact else f"{row.kind} {row.summary}".strip()
    if header == "Output":
        return shape_text(shown(row.output_shape, report.layout), style)
    if header == "Params":
        return count(row.params, style.human)
    if header == "MACs":
        return count(row.macs, style.human)
    if header == "Activations":
        return nbytes(row.activation_bytes, style.human)
    return rf_cell(row.receptive_field, style)


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


def counts_line(diff: Diff, show_all: bool) -> str:
    found = diff.counts()
    text = f"Layers: {found[CHANGED]} changed, {found[ADDED]} added, {found[REMOVED]} removed, "
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


def diff_dict(diff: Diff, show_all: bool) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "old": _side(diff.old),
        "new": _side(diff.new),
        "differs": diff.differs,
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


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _md_layer_cell(header: str, layer: LayerDiff, diff: Diff, style: Style) -> str:
    old = layer_cell(header, layer.old, diff.old, style) if layer.old is not None else None
    new = layer_cell(header, layer.new, diff.new, style) if layer.new is not None else None
    if old is None or new is None:
        return old if new is None else new  # type: ignore[return-value]
    if old == new:
        return old
    text = f"{old} → {new}"
    if header in NUMERIC_HEADERS:
        assert layer.old is not None and layer.new is not None
        key = {"Params": "params", "MACs": "macs", "Activations": "activation_bytes"}[header]
        text += f" ({delta_text(key, getattr(layer.new, key) - getattr(layer.old, key), style.human)})"
    return text


def render_markdown(diff: Diff, human_units: bool, show_all: bool) -> str:
    style = Style(human=human_units)
    lines = [
        f"### cnncalc diff: `{_md(diff.old.file)}` → `{_md(diff.new.file)}`",
        "",
        f"{_md(diff.old.name)} → {_md(diff.new.name)} ({setting_text(diff).replace('->', '→')})",
        "",
        "| | old | new | delta | change |",
        "|---|---:|---:|---:|---:|",
    ]
    by_metric = {total.metric: total for total in diff.totals}
    for label, metric in TOTAL_ROWS:
        cells = [label, *total_cells(by_metric[metric], diff, style)]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    lines += ["", counts_line(diff, show_all).replace("Layers:", "**Layers:**"), ""]
    listed = listed_layers(diff, show_all)
    if not listed:
        return "\n".join(lines)
    table = ["| | " + " | ".join(LAYER_HEADERS) + " |"]
    table.append("|---|" + "|".join("---:" if h in NUMERIC_HEADERS else "---" for h in LAYER_HEADERS) + "|")
    for layer in listed:
        cells = [layer.status, *(_md_layer_cell(h, layer, diff, style) for h in LAYER_HEADERS)]
        table.append("| " + " | ".join(_md(c) for c in cells) + " |")
    extra = [f"- {_md(line)}" for line in notes(diff, listed, "→")]
    body = table + ([""] + extra if extra else [])
    if len(listed) > LONG_MARKDOWN:
        summary = f"{len(listed)} layers ({', '.join(f'{n} {s}' for s, n in diff.counts().items() if n)})"
        body = [f"<details><summary>{summary}</summary>", ""] + body + ["", "</details>"]
    return "\n".join(lines + body) + "\n"


# -- terminal table ------------------------------------------------------------------------------------------------

# The rows' markers (before, after) by status; "" means no such row.
_MARKERS = {CHANGED: ("-", "+"), ADDED: ("", "+"), REMOVED: ("-", ""), UNCHANGED: ("", " ")}


def print_diff(diff: Diff, console: Console, human_units: bool, show_all: bool) -> None:
    """Title, the listed layers (two rows for a changed one), notes, layer counts, then the totals."""
    from rich.measure import Measurement
    from rich.text import Text

    title = f"{diff.old.name}  ({diff.old.file})  ->  {diff.new.name}  ({diff.new.file})"
    console.print(Text(title, style="bold"), soft_wrap=True)
    listed = listed_layers(diff, show_all)
    if listed:
        unbounded = console.options.update_width(10**6)  # console.measure would clamp to the width
        # Where the full table does not fit: compact shapes and kinds, then no Activations column (the output
        # shape shows the change); names and kinds fold last, figures never.
        compact = Style(human_units, compact=True)
        narrow = tuple(h for h in LAYER_HEADERS if h != "Activations")
        for style, headers in ((Style(human_units), LAYER_HEADERS), (compact, LAYER_HEADERS), (compact, narrow)):
            table = _layer_table(diff, listed, style, headers)
            excess = Measurement.get(console, unbounded, table).maximum - console.width
            if excess <= 0:
                break
        else:
            table = _layer_table(diff, listed, style, headers, _fold_widths(diff, listed, style, excess))
        console.print(table)
        for line in notes(diff, listed, "->"):
            console.print(Text(f"note: {line}"), soft_wrap=True)
    console.print(Text(counts_line(diff, show_all)), soft_wrap=True)
    console.print()
    console.print(_totals_table(diff, Style(human_units)))


def _fold_widths(diff: Diff, listed: list[LayerDiff], style: Style, excess: int) -> dict[str, int]:
    """Widths for Kind and Layer that take `excess` columns off the table: from the kinds first, since names
    matter most; neither below 8."""
    from rich.cells import cell_len

    rows = [(row, report) for layer in listed for row, report in ((layer.old, diff.old), (layer.new, diff.new)) if row]
    widest = {
        header: max(cell_len(layer_cell(header, row, report, style)) for row, report in rows)
        for header in ("Kind", "Layer")
    }
    widest["Layer"] += 2  # the marker before the name
    widths = {}
    for header in ("Kind", "Layer"):
        widths[header] = max(8, widest[header] - excess)
        excess -= widest[header] - widths[header]
    return widths


def _layer_table(
    diff: Diff,
    listed: list[LayerDiff],
    style: Style,
    headers: tuple[str, ...],
    widths: dict[str, int] | None = None,
) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption=RF_CAPTION,
        caption_justify="left",
    )
    for header in headers:
        folds = header in ("Layer", "Kind")
        table.add_column(
            header,
            justify="right" if header in NUMERIC_HEADERS else "left",
            no_wrap=not folds,
            overflow="fold",
            min_width=8 if folds else None,
            width=(widths or {}).get(header),
        )
    for layer in listed:
        before, after = _MARKERS[layer.status]
        old_cells = [layer_cell(h, layer.old, diff.old, style) for h in headers] if layer.old else None
        new_cells = [layer_cell(h, layer.new, diff.new, style) for h in headers] if layer.new else None
        # The marker leads the name, so that it survives any folding.
        if before and old_cells is not None:
            table.add_row(Text(f"{before} {old_cells[0]}"), *(Text(c) for c in old_cells[1:]), style="red")
        if after and new_cells is not None:
            marked = [
                Text(c, style="bold" if old_cells is not None and c != old_cells[i] else "")
                for i, c in enumerate(new_cells)
            ]
            marked[0] = Text(f"{after} ") + marked[0]
            table.add_row(*marked, style="green" if layer.status != UNCHANGED else None)
    return table


def _totals_table(diff: Diff, style: Style) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"Totals ({setting_text(diff)})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("Total", no_wrap=True)
    for header in ("Old", "New", "Delta", "Change"):
        table.add_column(header, justify="right", no_wrap=True)
    by_metric = {total.metric: total for total in diff.totals}
    for label, metric in TOTAL_ROWS:
        total = by_metric[metric]
        cells = total_cells(total, diff, style)
        table.add_row(Text(label), *(Text(c) for c in cells), style="bold" if total.differs else None)
    return table
