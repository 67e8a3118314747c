"""The reference executor's whole-graph work: values for every weight, the input, and the walk through the graph.

Each kind's exact `forward` lives with its other rules (cnncalc/layers/); this module only allocates what
`weights()` and `buffers()` declare, feeds inputs in topological order, and records per layer what was counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from math import prod
from typing import Any, NamedTuple

from cnncalc.args import did_you_mean
from cnncalc.compute import Context
from cnncalc.errors import LayerError, SpecError
from cnncalc.graph import NETWORK_INPUT, Graph, Node, located
from cnncalc.layers import Shape, fmt_shape
from cnncalc.tensor import Tensor, flatten_nested, parse_value, shape_of_nested
from cnncalc.yamlsource import at

Weights = dict[str, dict[str, Tensor]]  # node name -> state_dict name -> values


class Run(NamedTuple):
    output: Tensor
    outputs: dict[str, Tensor]  # every node's output, by name ("input" too)
    macs: dict[str, int]  # multiplies counted per node
    consumed: dict[str, int]  # learnable weight elements each node's forward read
    stats: dict[str, dict[str, Any]]  # what normalizations computed their output with
    approximate: bool  # some value left the rationals (square roots, exponentials)


class RecordingParams(dict):  # type: ignore[type-arg]
    """A layer's parameters that remember which of them forward read."""

    def __init__(self, values: dict[str, Tensor]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Tensor:
        self.read.add(name)
        return super().__getitem__(name)


def weights_for(graph: Graph, seed: int, generate: bool = True) -> Weights:
    """Every layer's weights and buffers: the spec's `weights` where given, else small seeded integers (without
    `generate`, only the spec's: nothing is allocated for the entries it does not give)."""
    weights: Weights = {}
    for node in graph.nodes:
        layer = node.bound()
        declared = {**layer.weights(), **layer.buffers()}
        given = node.values or {}
        for name in given:
            if name not in declared:
                known = ", ".join(declared) or "none: it has no parameters"
                raise _at_values(
                    graph,
                    node,
                    str(name),
                    f"weights: {layer.kind} has no state_dict entry '{name}' (its entries: {known})",
                    did_you_mean(str(name), list(declared)),
                    at_name=True,
                )
        values: dict[str, Tensor] = {}
        for name, shape in declared.items():
            if name in given:
                values[name] = _given_tensor(graph, node, name, given[name], shape)
            elif generate:
                rng = random.Random(f"{seed}:{node.name}:{name}")
                values[name] = Tensor(shape, layer.initial_values(name, prod(shape), rng))
        weights[node.name] = values
    return weights


def _given_tensor(graph: Graph, node: Node, name: str, value: Any, shape: Shape) -> Tensor:
    try:
        found = shape_of_nested(value) if isinstance(value, list) else ()
    except ValueError as error:
        raise _at_values(graph, node, name, f"weights: {name} is not a rectangular nested list ({error})") from None
    if found != shape:
        raise _at_values(
            graph,
            node,
            name,
            f"weights: {name} has shape {fmt_shape(found) or 'a single number'}, expected {fmt_shape(shape)} "
            f"(PyTorch's state_dict shape)",
        )
    try:
        return Tensor.from_values(shape, [parse_value(v) for v in flatten_nested(value)])
    except ValueError as error:
        raise _at_values(graph, node, name, f"weights: {name}: {error}") from None


def _at_values(
    graph: Graph, node: Node, name: str, message: str, hint: str | None = None, at_name: bool = False
) -> SpecError:
    """An error about one `weights` entry, at its value (or, `at_name`, at its name: an unknown entry)."""
    values = node.values
    marks = getattr(values, "key_marks" if at_name else "value_marks", {})
    mark = marks.get(name, node.arg_marks.get("weights", node.mark))
    return SpecError(message, location=at(graph.file, mark), layer=node.label(), hint=hint)


def generated_input(shape: tuple[int, ...], seed: int) -> Tensor:
    """A batch of small seeded integers (values from -3 to 3), for runs without --input."""
    rng = random.Random(f"{seed}:input")
    return Tensor(shape, [rng.randint(-3, 3) for _ in range(prod(shape))])


def execute(graph: Graph, x: Tensor, weights: Weights, ctx: Context, on_layer: Callable[[], None] | None = None) -> Run:
    """Run every layer's forward on `x` (batch axis included) in topological order."""
    outputs: dict[str, Tensor] = {NETWORK_INPUT: x}
    macs: dict[str, int] = {}
    consumed: dict[str, int] = {}
    for node in graph.nodes:
        ctx.layer = node.name
        before = ctx.macs
        params = RecordingParams(weights[node.name])
        try:
            out = node.bound().forward([outputs[i] for i in node.inputs], params, ctx)
        except LayerError as error:
            raise located(graph.file, node, error) from None
        outputs[node.name] = out.reduced()
        macs[node.name] = ctx.macs - before
        learnable = node.bound().weights()
        consumed[node.name] = sum(len(params[name]) for name in params.read if name in learnable)
        if on_layer is not None:
            on_layer()
    approximate = any(t.approximate for t in outputs.values())
    return Run(outputs[graph.output], outputs, macs, consumed, ctx.stats, approximate)


def backward(graph: Graph, run: Run, weights: Weights, ctx: Context, grad_output: Tensor) -> dict[str, Tensor]:
    """Exact gradients of L = sum(grad_output * output) (grad_output all ones: the sum of the outputs) with
    respect to the input ("input") and every learnable weight ("<layer name>.<state_dict name>"), walking the
    graph backwards and summing the gradients that reach a layer from several readers."""
    from cnncalc.tensor import add

    pending: dict[str, Tensor] = {graph.output: grad_output}
    grads: dict[str, Tensor] = {}
    for node in reversed(graph.nodes):
        grad = pending.pop(node.name, None)
        if grad is None:
            continue  # this layer does not reach the output
        ctx.layer = node.name
        inputs = [run.outputs[i] for i in node.inputs]
        try:
            input_grads, weight_grads = node.bound().backward(
                inputs, weights[node.name], run.outputs[node.name], grad, ctx
            )
        except LayerError as error:
            raise located(graph.file, node, error) from None
        for name, value in weight_grads.items():
            grads[f"{node.name}.{name}"] = value.reduced()
        for source, value in zip(node.inputs, input_grads, strict=True):
            if value is not None:
                pending[source] = add(pending[source], value) if source in pending else value
    x = run.outputs[NETWORK_INPUT]
    grads["input"] = pending.get(NETWORK_INPUT, Tensor.zeros(x.shape)).reduced()
    return grads
