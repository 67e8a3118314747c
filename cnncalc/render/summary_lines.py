"""The totals under a table, as plain lines (shared by the terminal table and Markdown)."""

from __future__ import annotations

from cnncalc.analyze import Report
from cnncalc.layers import fmt_shape
from cnncalc.layout import shown
from cnncalc.units import count, nbytes


def totals_lines(report: Report, human_units: bool) -> list[str]:
    t = report.totals
    n = lambda v: count(v, human_units)  # noqa: E731
    b = lambda v: nbytes(v, human_units)  # noqa: E731
    per = f"batch {report.batch}" if report.batch != 1 else "batch 1"
    return [
        f"Params: {n(t.params)} (trainable {n(t.trainable_params)}, non-trainable {n(t.non_trainable_params)}); "
        f"buffers: {n(t.buffers)}",
        f"MACs: {n(t.macs)} ({per})",
        f"FLOPs: {n(t.flops)} = 2 x MACs + {n(t.other_ops)} other ops",
        f"Memory ({report.dtype}, {per}): input {b(t.input_bytes)}, activations {b(t.activation_bytes)}, "
        f"params {b(t.param_bytes)}",
        f"Output: {fmt_shape(shown(t.output_shape, report.layout))}",
        *training_lines(report, human_units),
    ]


def training_lines(report: Report, human_units: bool) -> list[str]:
    """`summary --training`: the backward pass and a training step's memory (docs/conventions.md)."""
    t = report.totals
    if t.saved_bytes is None:
        return []
    b = lambda v: nbytes(v, human_units)  # noqa: E731
    return [
        f"Backward MACs: {count(t.backward_macs, human_units)}; saved for backward: {b(t.saved_bytes)}",
        f"Training step ({t.optimizer}): {b(t.training_bytes)} = params + gradients + optimizer state + saved",
    ]
