"""`cnncalc layer`: one layer's figures, each with its formula and the numbers substituted."""

from __future__ import annotations

from typing import Any

from cnncalc.formula import Term, shown
from cnncalc.layers import Layer, fmt_shape
from cnncalc.layout import shown as in_layout
from cnncalc.receptive import compose, network_input_field
from cnncalc.render.json_report import rf_dict


def layer_dict(layer: Layer, layout: str) -> dict[str, Any]:
    field = network_input_field(layer.in_shape)
    window = layer.window()
    rf = compose(field, window) if field is not None and window is not None and len(window) == len(field.size) else None
    macs, other = layer.macs(), layer.other_ops()
    return {
        "type": layer.kind,
        "summary": layer.summary(),
        "input_shape": list(in_layout(layer.in_shape, layout)),
        "input_shapes": [list(in_layout(shape, layout)) for shape in layer.in_shapes],
        "output_shape": list(in_layout(layer.out_shape, layout)),
        "layout": layout,
        "weight_shapes": {name: list(shape) for name, shape in layer.weights().items()},
        "params": layer.params(),
        "buffers": layer.buffer_count(),
        "macs": macs,
        "other_ops": other,
        "flops": 2 * macs + other,
        "receptive_field": rf_dict(rf),
        "formulas": {
            what: {"symbols": term.symbols, "numbers": term.numbers, "value": term.value}
            for what, term in layer.explain()
            if isinstance(term, Term)
        },
        "notes": layer.notes(),
        "warnings": list(layer.warnings),
    }


def layer_text(data: dict[str, Any]) -> str:
    formulas = data["formulas"]
    inputs = [fmt_shape(tuple(shape)) for shape in data["input_shapes"]]
    shapes = " and ".join([", ".join(inputs[:-1]), inputs[-1]] if len(inputs) > 1 else inputs)
    lines = [f"{data['type']} {data['summary']}".rstrip() + f" on {shapes}"]

    def figure(label: str, value: str, *keys: str) -> None:
        lines.append(f"{label:<16} {value}")
        for key in keys:
            lines.extend(f"  {what}: {shown(_term(formulas[what]))}" for what in formulas if what.startswith(key))

    figure("output shape", fmt_shape(tuple(data["output_shape"])), "output ")
    weights = ", ".join(f"{name} {fmt_shape(tuple(shape))}" for name, shape in data["weight_shapes"].items())
    figure("weights", weights or "none")
    if data["buffers"]:
        figure("buffers", f"{data['buffers']:,}", "buffers")
    figure("params", f"{data['params']:,}", "params")
    figure("MACs", f"{data['macs']:,}", "MACs")
    figure("FLOPs", f"{data['flops']:,} = 2 x MACs + {data['other_ops']:,} other ops", "other ops")
    rf = data["receptive_field"]
    if rf is not None:
        text = " / ".join(
            " x ".join(map(str, rf[k])) if len(set(map(str, rf[k]))) > 1 else str(rf[k][0])
            for k in ("size", "stride", "padding")
        )
        lines.append(f"{'receptive field':<16} {text} (size / effective stride / effective padding)")
    lines.extend(f"note: {note}" for note in data["notes"])
    lines.extend(f"warning: {w}" for w in data["warnings"])
    return "\n".join(lines) + "\n"


def _term(entry: dict[str, Any]) -> Term:
    return Term(entry["value"], entry["symbols"], entry["numbers"])
