"""Training figures of a whole graph: which gradients flow, the memory saved for backward, the backward MACs.

Each layer kind says what PyTorch's autograd saves for it and which multiply-accumulates its backward pass takes
(`Layer.saved`, `Layer.backward_macs`), given which of its inputs require grad; this module walks the graph in
order, works out which tensors require grad (the network input does not; a layer's output does when an input does
or it has trainable weights), follows whose memory each output is (views and in-place layers share their input's),
and counts every saved memory once, at the first layer that saves it (a ReLU's output, saved by it and by the
convolution after it, is one memory).
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

from cnncalc.errors import LayerError
from cnncalc.graph import NETWORK_INPUT, Graph, located
from cnncalc.layers.base import Backprop, Layer, Saved
from cnncalc.units import DTYPE_BYTES

OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  # state tensors per parameter
STEP_BYTES = 4  # Adam and AdamW keep a float32 step count per parameter tensor (torch.optim, default dtype)


class SavedTensor(NamedTuple):
    """One saved tensor of a layer, with the memory it lives in."""

    saved: Saved
    memory: str  # the node whose output memory it is (NETWORK_INPUT for the input), or "" for the layer's own
    memory_bytes: int  # that memory's size
    counted: bool  # whether this layer is the first to save that memory (its bytes are counted here)


class LayerTraining(NamedTuple):
    grad: bool  # whether a gradient flows through the layer at all (else autograd records nothing for it)
    step: Backprop
    saved: list[SavedTensor]
    saved_bytes: int  # memory first saved by this layer, whole batch
    backward_terms: list[tuple[str, int]]  # per sample
    backward_macs: int  # whole batch


class Training(NamedTuple):
    layers: dict[str, LayerTraining]
    saved_bytes: int
    backward_macs: int


def itemsize(dtype: str | None, size: int) -> int:
    return size if dtype is None else DTYPE_BYTES[dtype]


def training(graph: Graph, dtype_size: int, input_grad: bool = False) -> Training:
    """The training figures of every layer of `graph` for its batch, the network's dtype taking `dtype_size`
    bytes per element; `input_grad`: whether the network input requires grad."""
    batch = graph.batch
    grads = {NETWORK_INPUT: input_grad}
    contiguous = {NETWORK_INPUT: True}
    memory = {NETWORK_INPUT: NETWORK_INPUT}  # node -> the node whose output memory its output is
    sizes = {NETWORK_INPUT: prod(graph.input_shape) * batch * dtype_size}
    counted: set[str] = set()
    layers: dict[str, LayerTraining] = {}
    for node in graph.nodes:
        layer = node.bound()
        try:
            layer.check_training_batch(batch)
        except LayerError as error:
            raise located(graph.file, node, error) from None
        step = backprop(layer, node.inputs, grads, contiguous, node.trainable and bool(layer.weights()), batch)
        grad = any(step.input_grads) or step.weight_grads
        grads[node.name] = grad
        contiguous[node.name] = layer.output_contiguous(step)
        if layer.output_storage(step) == "input":
            memory[node.name] = memory[node.inputs[0]]
        else:
            memory[node.name] = node.name
            sizes[node.name] = prod(layer.out_shape) * batch * dtype_size
        kept: list[SavedTensor] = []
        total = 0
        for item in layer.saved(step) if grad else []:
            if item.storage == "own":
                where, size, first = "", prod(item.shape) * itemsize(item.dtype, dtype_size), True
            else:
                source = node.name if item.storage == "output" else node.inputs[_input_index(item.storage)]
                where = memory[source]
                size, first = sizes[where], where not in counted
                counted.add(where)
            total += size if first else 0
            kept.append(SavedTensor(item, where, size, first))
        terms = layer.backward_macs(step) if grad else []
        layers[node.name] = LayerTraining(grad, step, kept, total, terms, sum(n for _, n in terms) * batch)
    return Training(layers, sum(t.saved_bytes for t in layers.values()), sum(t.backward_macs for t in layers.values()))


def backprop(
    layer: Layer,
    inputs: list[str],
    grads: dict[str, bool],
    contiguous: dict[str, bool],
    weight_grads: bool,
    batch: int,
) -> Backprop:
    """The step around one layer: which inputs require grad (only inputs whose values it reads carry a
    gradient back), which are contiguous, which are the very same tensor."""
    read = len(inputs) if layer.value_inputs is None else layer.value_inputs
    return Backprop(
        batch=batch,
        input_grads=tuple(grads[name] and i < read for i, name in enumerate(inputs)),
        weight_grads=weight_grads,
        contiguous=tuple(contiguous[name] for name in inputs),
        same_as=tuple(inputs.index(name) for name in inputs),
    )


def _input_index(storage: str) -> int:
    return int(storage[len("input") :] or 0)


def optimizer_state_bytes(optimizer: str, trainable_params: int, trainable_tensors: int, dtype_size: int) -> int:
    """torch.optim's state after a step: SGD none, SGD with momentum one buffer per parameter, Adam and AdamW two
    (exp_avg, exp_avg_sq) and a float32 step count per parameter tensor."""
    per = OPTIMIZERS[optimizer]
    steps = trainable_tensors * STEP_BYTES if per == 2 else 0
    return per * trainable_params * dtype_size + steps
