"""The text of each cell, shared by the table, CSV and Markdown renderers."""

from __future__ import annotations

from cnncalc.analyze import Report, Row
from cnncalc.layers import fmt_shape
from cnncalc.receptive import ReceptiveField
from cnncalc.units import count, rational_text

RF_HEADER = "RF"
RF_CAPTION = "RF: receptive field size / effective stride / effective padding, in input pixels"


def per_axis(values: tuple[object, ...]) -> str:
    texts = [rational_text(v) for v in values]  # type: ignore[arg-type]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def rf_cell(field: ReceptiveField | None) -> str:
    if field is None:
        return "-"
    return " / ".join(per_axis(part) for part in (field.size, field.stride, field.padding))


def weight_cell(row: Row) -> str:
    """The 'Weight Size' of the lecture tables: the weight tensor's shape (bias and others counted in params)."""
    if not row.weight_shapes:
        return ""
    name = "weight" if "weight" in row.weight_shapes else next(iter(row.weight_shapes))
    return fmt_shape(row.weight_shapes[name])


def kind_cell(row: Row) -> str:
    return f"{row.kind} {row.summary}".strip()


def row_cells(row: Row, human_units: bool) -> list[str]:
    return [
        row.name,
        kind_cell(row),
        fmt_shape(row.output_shape),
        weight_cell(row),
        count(row.params, human_units),
        count(row.macs, human_units),
        rf_cell(row.receptive_field),
    ]


HEADERS = ["Layer", "Kind", "Output", "Weight", "Params", "MACs", RF_HEADER]


def input_cells(report: Report) -> list[str]:
    return ["input", "", fmt_shape(report.input_shape), "", "", "", ""]
