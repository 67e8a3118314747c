"""The JSON report (its keys and their meaning: docs/design.md, "The JSON report"). Keys are never renamed."""

from __future__ import annotations

import json
from typing import Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report
from cnncalc.layout import shown
from cnncalc.receptive import ReceptiveField
from cnncalc.units import rational


def rf_dict(field: ReceptiveField | None) -> dict[str, list[int | str]] | None:
    if field is None:
        return None
    return {
        "size": [rational(v) for v in field.size],
        "stride": [rational(v) for v in field.stride],
        "padding": [rational(v) for v in field.padding],
    }


def report_dict(report: Report) -> dict[str, Any]:
    t = report.totals
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "name": report.name,
        "file": report.file,
        "input_shape": list(shown(report.input_shape, report.layout)),
        "layout": report.layout,
        "batch": report.batch,
        "dtype": report.dtype,
        "layers": [
            {
                "name": r.name,
                "type": r.kind,
                "summary": r.summary,
                "inputs": r.inputs,
                "output_shape": list(shown(r.output_shape, report.layout)),
                "params": r.params,
                "trainable": r.trainable,
                "weight_shapes": {k: list(v) for k, v in r.weight_shapes.items()},
                "buffers": r.buffers,
                "buffer_shapes": {k: list(v) for k, v in r.buffer_shapes.items()},
                "macs": r.macs,
                "other_ops": r.other_ops,
                "flops": r.flops,
                "activation_elements": r.activation_elements,
                "activation_bytes": r.activation_bytes,
                "receptive_field": rf_dict(r.receptive_field),
                **training_row(r),
            }
            for r in report.rows
        ],
        "totals": {
            "params": t.params,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "buffers": t.buffers,
            "macs": t.macs,
            "other_ops": t.other_ops,
            "flops": t.flops,
            "output_shape": list(shown(t.output_shape, report.layout)),
            "input_elements": t.input_elements,
            "input_bytes": t.input_bytes,
            "activation_elements": t.activation_elements,
            "activation_bytes": t.activation_bytes,
            "param_bytes": t.param_bytes,
            **training_totals(t),
        },
        "warnings": report.warnings,
    }


def training_row(row: Any) -> dict[str, Any]:
    """`summary --training`: each layer's backward MACs and the bytes it first saves for backward."""
    return {} if row.saved_bytes is None else {"backward_macs": row.backward_macs, "saved_bytes": row.saved_bytes}


def training_totals(t: Any) -> dict[str, Any]:
    if t.saved_bytes is None:
        return {}
    return {
        "backward_macs": t.backward_macs,
        "saved_bytes": t.saved_bytes,
        "training_bytes": t.training_bytes,
        "optimizer": t.optimizer,
    }


def versioned(data: dict[str, Any]) -> dict[str, Any]:
    """Every command's JSON starts with the schema version of its keys and the cnncalc that wrote it."""
    return {"schema_version": SCHEMA_VERSION, "cnncalc_version": __version__, **data}


def render_json(reports: list[Report]) -> str:
    """One spec: one JSON object. Several: a JSON array of them, in the order given.

    One key per line and one layer per line: readable and diffable, and written by json's C encoder (any
    `indent` falls back to the pure-Python one, several times slower on large networks)."""
    texts = [object_text(report_dict(r)) for r in reports]
    return texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]"


def object_text(data: dict[str, Any]) -> str:
    """A JSON object with one key per line and, under "layers", one layer per line."""
    lines = []
    for key, value in data.items():
        if key == "layers" and value:
            items = ",\n".join("    " + json.dumps(layer) for layer in value)
            lines.append(f'  "layers": [\n{items}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"
