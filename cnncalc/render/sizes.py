"""`cnncalc summary SPEC --input A --input B`: one row per input size, the figures that change with it (output
shape, params, MACs, FLOPs, activation memory, the final receptive field), as a table, Markdown or CSV. JSON is
summary's own report, one per size (cnncalc.render.json_report)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from cnncalc.layers import fmt_shape
from cnncalc.layout import shown
from cnncalc.render.cells import Style, rf_cell, shape_text
from cnncalc.units import count, nbytes

if TYPE_CHECKING:
    from cnncalc.render.grid import Grid
    from cnncalc.render.screen import Screen
    from cnncalc.sizes import SizeFigures

Cell = Callable[["SizeFigures", Style], str]
NUMERIC = {"Params", "MACs", "FLOPs", "Activations", "Backward MACs", "Training memory"}


def _columns(sizes: list[SizeFigures]) -> list[tuple[str, Cell]]:
    chosen: list[tuple[str, Cell]] = [
        ("Input", lambda f, s: shape_text(shown(f.report.input_shape, s.layout), s)),
        ("Output", lambda f, s: shape_text(shown(f.report.totals.output_shape, s.layout), s)),
        ("Params", lambda f, s: count(f.report.totals.params, s.human)),
        ("MACs", lambda f, s: count(f.report.totals.macs, s.human)),
        ("FLOPs", lambda f, s: count(f.report.totals.flops, s.human)),
        ("Activations", lambda f, s: nbytes(f.report.totals.activation_bytes, s.human)),
        ("RF", lambda f, s: rf_cell(f.field, s)),
    ]
    if len(_field_layers(sizes)) > 1:  # sizes whose final field is taken at different layers say where
        chosen.append(("RF at", lambda f, s: f.field_layer or "-"))
    if _training(sizes):
        chosen += [
            ("Backward MACs", lambda f, s: count(f.report.totals.backward_macs or 0, s.human)),
            ("Training memory", lambda f, s: nbytes(f.report.totals.training_bytes or 0, s.human)),
        ]
    return chosen


def _field_layers(sizes: list[SizeFigures]) -> list[str]:
    return list(dict.fromkeys(f.field_layer for f in sizes if f.field_layer is not None))


def _training(sizes: list[SizeFigures]) -> bool:
    return any(f.report.totals.saved_bytes is not None for f in sizes)


def caption_lines(sizes: list[SizeFigures]) -> list[str]:
    """What the columns mean: the setting the figures are for and where the receptive field is taken."""
    report = sizes[0].report
    layers = _field_layers(sizes)
    where = f" ({layers[0]})" if len(layers) == 1 else " (the layer under RF at)" if layers else ""
    lines = [
        f"MACs, FLOPs, activations: whole batch ({report.batch}), activations in {report.dtype}; "
        "input and output: one sample",
        f"RF: receptive field of the last spatial features{where}, size / effective stride / effective padding "
        "in input pixels",
    ]
    if _training(sizes):
        lines.append(f"Training memory ({report.totals.optimizer}): params + gradients + optimizer state + saved")
    return lines


def _title(sizes: list[SizeFigures]) -> str:
    report = sizes[0].report
    return f"{report.name}  ({report.file}) at {len(sizes)} input sizes"


def render_sizes_table(specs: list[list[SizeFigures]], human_units: bool, screen: Screen) -> str:
    """A table per spec, a row per size; narrower forms (compact shapes), then records, where it does not fit."""
    from cnncalc.render.grid import fit
    from cnncalc.render.screen import paint, wrap, wrap_all

    texts = []
    for sizes in specs:
        fitted = fit([_grid_builder(sizes, human_units, compact) for compact in (False, True)], [1], screen, "size")
        title = wrap(_title(sizes), screen.width, "", "  ")
        lines = [paint(line, "bold", screen) for line in title] + [""] + fitted.lines + [""]
        lines += wrap_all(([fitted.note] if fitted.note else []) + caption_lines(sizes), screen.width)
        texts.append("\n".join(lines) + "\n")
    return "\n".join(texts)


def _grid_builder(sizes: list[SizeFigures], human_units: bool, compact: bool) -> Callable[[], Grid]:
    """One form of a spec's table: full shapes and fields, or compact ones (3x224x224, 427/32/213)."""
    from cnncalc.render.grid import Column, Grid, Line

    def build() -> Grid:
        style = Style(human=human_units, compact=compact, layout=sizes[0].report.layout)
        columns = _columns(sizes)
        heads = tuple(Column(h, right=h in NUMERIC, style="bold" if h == "Input" else "") for h, _ in columns)
        return Grid(heads, tuple(Line(tuple(cell(f, style) for _, cell in columns)) for f in sizes))

    return build


def render_sizes_markdown(specs: list[list[SizeFigures]], human_units: bool) -> str:
    """A pipe table per spec, a row per size, the captions as a list under it."""
    from cnncalc.render.md import md_text

    parts = []
    for sizes in specs:
        columns = _columns(sizes)
        style = Style(human=human_units, layout=sizes[0].report.layout)
        lines = [f"### {md_text(sizes[0].report.name)}", ""]
        lines.append("| " + " | ".join(h for h, _ in columns) + " |")
        lines.append("|" + "|".join("---:" if h in NUMERIC else "---" for h, _ in columns) + "|")
        lines += ["| " + " | ".join(md_text(cell(f, style)) for _, cell in columns) + " |" for f in sizes]
        lines.append("")
        lines += [f"- {md_text(line)}" for line in caption_lines(sizes)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def render_sizes_csv(specs: list[list[SizeFigures]]) -> str:
    """One row per spec and size, exact integers (whole batch), shapes as 3x224x224 in the report's layout."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    training = any(_training(sizes) for sizes in specs)
    header = ["spec", "input_shape", "output_shape", "params", "macs", "other_ops", "flops"]
    header += ["activation_elements", "activation_bytes", "receptive_field", "receptive_field_layer"]
    writer.writerow(header + (["backward_macs", "saved_bytes", "training_bytes"] if training else []))
    for sizes in specs:
        for f in sizes:
            r, t = f.report, f.report.totals
            writer.writerow(
                [r.name, fmt_shape(shown(r.input_shape, r.layout)), fmt_shape(shown(t.output_shape, r.layout))]
                + [t.params, t.macs, t.other_ops, t.flops, t.activation_elements, t.activation_bytes]
                + [rf_cell(f.field), f.field_layer or ""]
                + ([t.backward_macs, t.saved_bytes, t.training_bytes] if training else [])
            )
    return out.getvalue()
