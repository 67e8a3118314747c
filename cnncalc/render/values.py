"""Exact values for people and machines: integers as integers, other rationals as p/q; values that left the
rationals (square roots, exponentials) as 40-digit decimals, marked approximate."""

from __future__ import annotations

from typing import Any

from cnncalc.execute import Run
from cnncalc.graph import Graph
from cnncalc.layout import shown
from cnncalc.runner import Check
from cnncalc.tensor import DIGITS, Tensor


def value_text(value: Any, approximate: bool) -> int | str:
    """A value for JSON: an int, a 'p/q' string, or (approximate) a decimal string of DIGITS digits."""
    if getattr(value, "denominator", 1) == 1:
        return int(value)
    if approximate:
        from decimal import Context, Decimal

        context = Context(prec=DIGITS)
        return str(context.divide(Decimal(value.numerator), Decimal(value.denominator)))
    return f"{value.numerator}/{value.denominator}"


def tensor_values(tensor: Tensor, batched: bool) -> Any:
    """Nested values; without `batched` the batch axis (of one sample) is dropped, as the input had none."""
    nested = _convert(tensor.nested(), tensor.approximate)
    return nested if batched else nested[0]


def _convert(nested: Any, approximate: bool) -> Any:
    if isinstance(nested, list):
        return [_convert(v, approximate) for v in nested]
    return value_text(nested, approximate)


def nested_text(values: Any, indent: int = 0) -> str:
    """Like NumPy prints arrays: the innermost lists on one line each."""
    if not isinstance(values, list):
        return str(values)
    if not values or not isinstance(values[0], list):
        return "[" + ", ".join(str(v) for v in values) + "]"
    inner = [nested_text(v, indent + 1) for v in values]
    gap = ",\n" + " " * (indent + 1)
    if isinstance(values[0][0] if values[0] else None, list):
        gap = ",\n\n" + " " * (indent + 1)
    return "[" + gap.join(inner) + "]"


def run_dict(graph: Graph, run: Run, batched: bool, mode: str, seed: int, trace: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": graph.name,
        "mode": mode,
        "seed": seed,
        "batch": run.output.shape[0],
        "input_shape": list(graph.input_shape),
        "output_shape": list(run.output.shape[1:]),
        "approximate": run.approximate,
        "macs": sum(run.macs.values()),
        "output": tensor_values(run.output, batched),
    }
    if trace:
        data["layers"] = [
            {
                "name": node.name,
                "type": node.kind,
                "output_shape": list(run.outputs[node.name].shape[1:]),
                "macs": run.macs[node.name],
                "output": tensor_values(run.outputs[node.name], batched),
                **({"stats": _stats(run.stats[node.name])} if node.name in run.stats else {}),
            }
            for node in graph.nodes
        ]
    return data


def grad_dict(grads: dict[str, Tensor], batched: bool) -> dict[str, Any]:
    """The gradients for output: the input's with the input's batch convention, the weights' as they are."""
    return {
        name: tensor_values(value, batched) if name == "input" else _convert(value.nested(), value.approximate)
        for name, value in grads.items()
    }


def _stats(stats: dict[str, Any]) -> dict[str, Any]:
    return {key: _convert(value, False) for key, value in stats.items()}


def render_run_json(data: dict[str, Any]) -> str:
    from cnncalc.render.json_report import object_text

    return object_text(data)


def render_run_text(data: dict[str, Any]) -> str:
    shape = " x ".join(map(str, data["output_shape"]))
    lines = [
        f"{data['name']}: output {shape} (batch {data['batch']}, {data['mode']} mode, seed {data['seed']}; "
        f"{data['macs']:,} MACs executed)"
    ]
    if data["approximate"]:
        lines.append(f"approximate: values through square roots or exponentials, to {DIGITS} significant digits")
    for layer in data.get("layers", []):
        lines.append(f"\n{layer['name']} ({layer['type']}): {' x '.join(map(str, layer['output_shape']))}")
        for key, value in layer.get("stats", {}).items():
            lines.append(f"{key}: {nested_text(value)}")
        lines.append(nested_text(layer["output"]))
    if "layers" in data:
        lines.append("\noutput:")
    lines.append(nested_text(data["output"]))
    for name, value in data.get("grad", {}).items():
        lines.append(f"\ngradient w.r.t. {name}:")
        lines.append(nested_text(value))
    return "\n".join(lines) + "\n"


def verify_dict(graph: Graph, checks: list[Check]) -> dict[str, Any]:
    return {
        "name": graph.name,
        "input_shape": list(shown(graph.input_shape, graph.layout)),
        "layout": graph.layout,
        "ok": all(c.ok for c in checks),
        "layers": [
            {
                "name": c.name,
                "type": c.kind,
                "ok": c.ok,
                "executed_shape": list(shown(c.shape[0], graph.layout)),
                "output_shape": list(shown(c.shape[1], graph.layout)),
                "counted_macs": c.macs[0],
                "macs": c.macs[1],
                "params_read": c.params[0],
                "params": c.params[1],
            }
            for c in checks
        ],
    }
