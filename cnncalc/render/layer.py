"""`cnncalc layer`: one layer's figures, each with its formula and the numbers substituted."""

from __future__ import annotations

from typing import Any

from cnncalc.formula import Term, shown
from cnncalc.layers import Layer, fmt_shape
from cnncalc.layout import shown as in_layout
from cnncalc.receptive import compose, network_input_field
from cnncalc.render.json_report import rf_dict


def _field(layer: Layer) -> dict[str, Any] | None:
    field = network_input_field(layer.in_shape)
    window = layer.window()
    rf = compose(field, window) if field is not None and window is not None and len(window) == len(field.size) else None
    return rf_dict(rf)


def layer_dict(layer: Layer, layout: str, pieces: list[Layer] | None = None) -> dict[str, Any]:
    """The layer's figures and formulas; with `pieces` (the layers an entry with several outputs makes, chunk and
    split without index), one entry per output under "outputs", and no single output_shape."""
    macs, other = layer.macs(), layer.other_ops()
    data = {
        "type": layer.kind,
        "summary": layer.summary(),
        "input_shape": list(in_layout(layer.in_shape, layout)),
        "output_shape": list(in_layout(layer.out_shape, layout)),
        "layout": layout,
        "weight_shapes": {name: list(shape) for name, shape in layer.weights().items()},
        "params": layer.params(),
        "buffers": layer.buffer_count(),
        "macs": macs,
        "other_ops": other,
        "flops": 2 * macs + other,
        "receptive_field": _field(layer),
        "formulas": {
            what: {"symbols": term.symbols, "numbers": term.numbers, "value": term.value}
            for what, term in layer.explain()
            if isinstance(term, Term)
        },
        "notes": layer.notes(),
        "warnings": list(layer.warnings),
    }
    if pieces is not None:
        data["output_shape"] = None
        data["receptive_field"] = None
        data["formulas"] = {what: entry for what, entry in data["formulas"].items() if not what.startswith("output ")}
        data["outputs"] = [_output_dict(number, piece, layout) for number, piece in enumerate(pieces)]
    return data


def _output_dict(number: int, piece: Layer, layout: str) -> dict[str, Any]:
    """One output of an entry with several: its shape, where it lies in the input, its receptive field, and the
    formula of its size."""
    positions = getattr(piece, "positions", None)
    return {
        "index": number,
        "output_shape": list(in_layout(piece.out_shape, layout)),
        "position": positions() if positions is not None else None,
        "receptive_field": _field(piece),
        "formulas": {
            what: {"symbols": term.symbols, "numbers": term.numbers, "value": term.value}
            for what, term in piece.explain()
            if isinstance(term, Term) and what.startswith("output ")
        },
    }


def layer_text(data: dict[str, Any]) -> str:
    formulas = data["formulas"]
    lines = [f"{data['type']} {data['summary']}".rstrip() + f" on {fmt_shape(tuple(data['input_shape']))}"]

    def figure(label: str, value: str, *keys: str) -> None:
        lines.append(f"{label:<16} {value}")
        for key in keys:
            lines.extend(f"  {what}: {shown(_term(formulas[what]))}" for what in formulas if what.startswith(key))

    outputs = data.get("outputs")
    if outputs is None:
        figure("output shape", fmt_shape(tuple(data["output_shape"])), "output ")
    else:
        figure("outputs", f"{len(outputs):,}, one layer each (NAME.0 to NAME.{len(outputs) - 1} in a spec)", "pieces")
        fields = {_rf_text(output["receptive_field"]) for output in outputs}
        for output in outputs:
            where = f" ({output['position']})" if output["position"] else ""
            row = [fmt_shape(tuple(output["output_shape"])) + where]
            row += [f"{what}: {shown(_term(entry))}" for what, entry in output["formulas"].items()]
            if len(fields) > 1:
                row.append(f"receptive field {_rf_text(output['receptive_field'])}")
            lines.append(f"  {'[' + str(output['index']) + ']':<14} " + "; ".join(row))
    weights = ", ".join(f"{name} {fmt_shape(tuple(shape))}" for name, shape in data["weight_shapes"].items())
    figure("weights", weights or "none")
    if data["buffers"]:
        figure("buffers", f"{data['buffers']:,}", "buffers")
    figure("params", f"{data['params']:,}", "params")
    figure("MACs", f"{data['macs']:,}", "MACs")
    figure("FLOPs", f"{data['flops']:,} = 2 x MACs + {data['other_ops']:,} other ops", "other ops")
    rf = data["receptive_field"]
    if outputs:
        fields = {_rf_text(output["receptive_field"]) for output in outputs}
        rf = outputs[0]["receptive_field"] if len(fields) == 1 else None
        if len(fields) > 1:
            lines.append(f"{'receptive field':<16} one per output, above (size / effective stride / effective padding)")
    if rf is not None:
        lines.append(f"{'receptive field':<16} {_rf_text(rf)} (size / effective stride / effective padding)")
    lines.extend(f"note: {note}" for note in data["notes"])
    lines.extend(f"warning: {w}" for w in data["warnings"])
    return "\n".join(lines) + "\n"


def _rf_text(rf: dict[str, Any] | None) -> str:
    """'3 / 1 / 1', per axis where the axes differ: '3 x 1 / 1 / 1 x 0'."""
    if rf is None:
        return "-"
    return " / ".join(
        " x ".join(map(str, rf[k])) if len(set(map(str, rf[k]))) > 1 else str(rf[k][0])
        for k in ("size", "stride", "padding")
    )


def _term(entry: dict[str, Any]) -> Term:
    return Term(entry["value"], entry["symbols"], entry["numbers"])
