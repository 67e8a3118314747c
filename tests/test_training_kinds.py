"""Every kind's training rules against PyTorch, layer by layer: the memories its backward pass saves (which
tensors, whose memory, how large) and its backward MACs, for each kind's example configurations, at batch 1 and
2, with the input requiring grad or not and the weights trainable or frozen (train mode, float32)."""

from __future__ import annotations

from math import prod
from typing import Any

import pytest

from cnncalc.layers import REGISTRY, Layer
from cnncalc.layers.base import Backprop
from cnncalc.training import itemsize

torch = pytest.importorskip("torch")
from torch_graph import torch_op  # noqa: E402  (needs torch)
from training_torch import backward_macs, state_storages  # noqa: E402

CASES = [
    (cls, arguments, shapes)
    for _, cls in sorted(REGISTRY.items())
    for arguments, shapes in cls.examples()
    if cls.kind != "StochasticDepth"  # needs torchvision: tests/test_training_networks.py
]
# Beyond the kinds' examples: in place, p = 1, grouped, frozen-only paths.
EXTRA = [
    *((REGISTRY[kind], {"inplace": True}, ((3, 4),)) for kind in ("relu", "relu6", "leakyrelu", "elu", "hardtanh")),
    *((REGISTRY[kind], {"inplace": True}, ((2, 3, 3),)) for kind in ("hardswish", "hardsigmoid", "silu")),
    (REGISTRY["dropout"], {"inplace": True}, ((3, 4),)),
    (REGISTRY["dropout"], {"p": 1.0}, ((3, 4),)),
    (REGISTRY["dropout2d"], {"p": 0.5, "inplace": True}, ((3, 4, 4),)),
    (REGISTRY["conv2d"], {"out_channels": 8, "kernel_size": 3, "padding": 1, "groups": 8}, ((8, 6, 6),)),
    (REGISTRY["adaptiveavgpool2d"], {"output_size": [1, 1]}, ((2, 3, 3),)),
    (REGISTRY["mul"], {}, ((2, 3, 3), (2, 3, 3), (2, 3, 3))),
]
CASES += EXTRA
MODES = [(True, False), (False, False), (True, True), (False, True)]  # (input requires grad, frozen)


def ours(layer: Layer, batch: int, input_grad: bool, frozen: bool) -> tuple[list[tuple[str, int]], int]:
    """The memories cnncalc says the layer saves, as (whose, bytes), and its backward MACs for the batch."""
    count = len(layer.in_shapes)
    step = Backprop(
        batch=batch,
        input_grads=(input_grad,) * (count if layer.value_inputs is None else layer.value_inputs)
        + (False,) * (count - (count if layer.value_inputs is None else layer.value_inputs)),
        weight_grads=not frozen and bool(layer.weights()),
        contiguous=(True,) * count,
        same_as=tuple(range(count)),
    )
    if not any(step.input_grads) and not step.weight_grads:
        return [], 0
    output_is_input = layer.output_storage(step) == "input"
    memories: dict[str, int] = {}
    own = []
    for item in layer.saved(step):
        if item.storage == "own":
            own.append(("own", prod(item.shape) * itemsize(item.dtype, 4)))
            continue
        storage = "input" if item.storage == "output" and output_is_input else item.storage
        if storage == "output":
            memories["out"] = prod(layer.out_shape) * batch * 4
        else:
            index = int(storage[len("input") :] or 0)
            memories[f"in{index}"] = prod(layer.in_shapes[index]) * batch * 4
    return sorted([*memories.items(), *own]), sum(n for _, n in layer.backward_macs(step)) * batch


def theirs(layer: Layer, batch: int, input_grad: bool, frozen: bool) -> tuple[list[tuple[str, int]], int]:
    torch.manual_seed(0)
    op, module = torch_op(layer)
    modules = [module] if module is not None else []
    for m in modules:
        m.train()
        for parameter in m.parameters():
            parameter.requires_grad_(not frozen)
    leaves = [torch.randn((batch, *shape)).requires_grad_(input_grad) for shape in layer.in_shapes]

    def inputs() -> list[Any]:  # not leaves, so in-place layers may overwrite them
        return [x * 1 if input_grad else x for x in leaves]

    excluded = state_storages(modules)
    xs = inputs()
    packed: list[Any] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        out = op(xs)
    found: dict[int, tuple[str, int]] = {}
    for tensor in packed:
        storage = tensor.untyped_storage()
        pointer = storage.data_ptr()
        if pointer in excluded or pointer in found:
            continue
        whose = next((f"in{i}" for i, x in enumerate(xs) if x.untyped_storage().data_ptr() == pointer), None)
        if whose is None and out.untyped_storage().data_ptr() == pointer:
            whose = "out"
        found[pointer] = (whose or "own", storage.nbytes())
    return sorted(found.values()), backward_macs(lambda: op(inputs()))


@pytest.mark.parametrize("cls, arguments, shapes", CASES, ids=[f"{c.kind}-{a}-{s}" for c, a, s in CASES])
def test_kind_saves_and_backward_macs_as_pytorch(cls: type[Layer], arguments: dict, shapes: tuple) -> None:
    layer = cls(arguments, shapes)
    for batch in (1, 2):
        for input_grad, frozen in MODES:
            try:
                expected = theirs(layer, batch, input_grad, frozen)
            except ValueError as error:  # BatchNorm in training needs more than one value per channel
                assert "more than 1 value per channel" in str(error)
                continue
            assert ours(layer, batch, input_grad, frozen) == expected, (batch, input_grad, frozen)
