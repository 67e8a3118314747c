"""Exact gradients against PyTorch's autograd (float64), for every registered kind's examples in eval and train
mode: dL/d(input) for every input and dL/d(weight) for every learnable weight, with L = sum(g * output) for a
random integer g. Kinds whose train mode draws random masks (dropout, and MultiheadAttention's dropout on its
attention weights) are compared in eval mode only: their train mode is checked by the mask tests
(tests/test_torch_forward_norm_act.py, tests/test_torch_attention.py)."""

from __future__ import annotations

import random
from math import prod
from typing import Any

import pytest

from cnncalc.compute import Context
from cnncalc.layers import REGISTRY, Layer, make_layer
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")
from torch_graph import torch_op  # noqa: E402  (needs torch)

BATCH = 2
# PyTorch's CPU Hardsigmoid backward multiplies by the float32 constant 1.0f / 6.0f even in float64 (its forward
# divides by 6 exactly): its gradients are rescaled to the slope 1/6 they stand for.
TORCH_SLOPE_FIX = {"Hardsigmoid": (1 / 6) / torch.tensor(1 / 6, dtype=torch.float32).item()}
CASES = [
    pytest.param(cls.kind, args, shapes, id=f"{cls.kind}-{index}")
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind)
    for index, (args, shapes) in enumerate(cls.examples())
]


def tensors_for(layer: Layer, seed: int) -> tuple[list[Tensor], dict[str, Tensor]]:
    rng = random.Random(seed)
    xs = [
        Tensor((BATCH, *shape), [rng.randint(-3, 3) for _ in range(BATCH * prod(shape))], rng.choice((1, 2)))
        for shape in layer.in_shapes
    ]
    params = {}
    for name, shape in {**layer.weights(), **layer.buffers()}.items():
        params[name] = Tensor(shape, layer.initial_values(name, prod(shape), random.Random(f"{seed}:{name}")))
    return xs, params


def as_torch(t: Tensor, grad: bool = False) -> Any:
    values = [float(v) for v in t.values()]
    return torch.tensor(values, dtype=torch.float64).reshape(t.shape).requires_grad_(grad)


def assert_close(ours: Tensor, theirs: Any, what: str) -> None:
    mine = torch.tensor([float(v) for v in ours.values()], dtype=torch.float64).reshape(ours.shape)
    assert theirs is not None, f"{what}: torch computed no gradient"
    scale = max(1.0, float(theirs.abs().max()))
    assert torch.allclose(mine, theirs.reshape(mine.shape), rtol=1e-9, atol=1e-9 * scale), f"{what}: {mine} != {theirs}"


@pytest.mark.parametrize("kind, args, shapes", CASES)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_backward_matches_autograd(kind: str, args: dict[str, Any], shapes: tuple[Any, ...], mode: str) -> None:
    layer = make_layer(kind, args, *shapes)
    dropping = "Dropout" in layer.kind or layer.kind == "StochasticDepth" or getattr(layer, "dropout", 0)
    if mode == "train" and dropping:
        pytest.skip("train-mode dropout masks are cnncalc's own, not torch's random numbers")
    xs, params = tensors_for(layer, 5)
    ctx = Context(mode=mode, seed=3)
    ctx.layer = "layer"
    output = layer.forward(xs, params, ctx)
    rng = random.Random(9)
    grad = Tensor(output.shape, [rng.randint(-3, 3) for _ in range(len(output.data))], rng.choice((1, 3)))
    input_grads, weight_grads = layer.backward(xs, params, output, grad, ctx)

    op, module = torch_op(layer)
    if module is not None:
        module.double()
        module.train(mode == "train")
        for name, value in {**dict(module.named_parameters()), **dict(module.named_buffers())}.items():
            value.data = as_torch(params[name]).to(value.dtype)
    inputs = [as_torch(x, grad=True) for x in xs]
    out = op(inputs)
    assert tuple(out.shape) == output.shape
    (out * as_torch(grad)).sum().backward()
    assert set(weight_grads) == set(layer.weights())
    for index, (ours, x) in enumerate(zip(input_grads, inputs, strict=True)):
        if ours is None:
            assert x.grad is None or not x.grad.any(), f"input {index} has a gradient in torch"
        else:
            theirs = x.grad * TORCH_SLOPE_FIX.get(layer.kind, 1.0) if x.grad is not None else torch.zeros_like(x)
            assert_close(ours, theirs, f"input {index}")
    named = dict(module.named_parameters()) if module is not None else {}
    for name, ours in weight_grads.items():
        assert_close(ours, named[name].grad, name)
