"""The executor as the oracle: every registered kind's examples run through `forward`, and what it really did must
agree with the kind's analyzer rules (which forward never calls):

- the executed output shape equals out_shape (batch axis added);
- the multiplies counted in inner products equal macs() times the batch;
- forward reads every learnable weight that weights() declares, and nothing that is not declared;
- changing one input element changes only outputs whose receptive-field window covers it.

Kinds without examples are listed by test_every_kind_has_examples, so none is skipped silently.
"""

from __future__ import annotations

import random
from itertools import product
from math import prod
from typing import Any

import pytest

from cnncalc.compute import Context
from cnncalc.execute import RecordingParams
from cnncalc.layers import REGISTRY, Layer, make_layer
from cnncalc.tensor import Tensor

BATCH = 2
CASES = [
    pytest.param(cls.kind, args, shapes, id=f"{cls.kind}-{index}")
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind)
    for index, (args, shapes) in enumerate(cls.examples())
]


def test_every_kind_has_examples() -> None:
    missing = sorted(cls.kind for cls in REGISTRY.values() if not cls.examples())
    assert not missing, f"kinds without executor examples: {', '.join(missing)}"


def inputs_for(layer: Layer, seed: int) -> list[Tensor]:
    rng = random.Random(seed)
    return [
        Tensor((BATCH, *shape), [rng.randint(-3, 3) for _ in range(BATCH * prod(shape))], rng.choice((1, 2)))
        for shape in layer.in_shapes
    ]


def params_for(layer: Layer, seed: int) -> dict[str, Tensor]:
    params = {}
    for name, shape in {**layer.weights(), **layer.buffers()}.items():
        rng = random.Random(f"{seed}:{name}")
        params[name] = Tensor(shape, layer.initial_values(name, prod(shape), rng))
    return params


def run(layer: Layer, xs: list[Tensor], params: dict[str, Tensor], mode: str) -> tuple[Tensor, Context, set[str]]:
    ctx = Context(mode=mode, seed=7)
    ctx.layer = "layer"
    reads = RecordingParams(params)
    out = layer.forward(xs, reads, ctx)
    return out, ctx, reads.read


@pytest.mark.parametrize("kind, args, shapes", CASES)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_forward_agrees_with_the_rules(kind: str, args: dict[str, Any], shapes: tuple[Any, ...], mode: str) -> None:
    layer = make_layer(kind, args, *shapes)
    xs = inputs_for(layer, 1)
    params = params_for(layer, 1)
    out, ctx, read = run(layer, xs, params, mode)
    assert out.shape == (BATCH, *layer.out_shape)
    assert len(out.data) == prod(out.shape)
    assert all(type(v) is int for v in out.data) and out.denominator >= 1
    assert ctx.macs == layer.macs() * BATCH
    assert set(layer.weights()) <= read <= set(params)
    check_window(layer, xs, params, out, mode)


def check_window(layer: Layer, xs: list[Tensor], params: dict[str, Tensor], out: Tensor, mode: str) -> None:
    """Perturb single input elements; every output that changes must lie where the window says it reads."""
    window = layer.window()
    if window is None or mode != "eval":  # train mode mixes samples (batch statistics) and draws dropout masks
        return
    first = xs[0]
    spatial_in = first.shape[2:]
    spatial_out = out.shape[2:]
    if len(spatial_in) != len(window) or len(spatial_out) != len(window):
        return
    rng = random.Random(3)
    positions = list(product(*(range(n) for n in spatial_in)))
    for position in rng.sample(positions, min(4, len(positions))):
        channel = rng.randrange(first.shape[1])
        index = _flat((0, channel, *position), first.shape)
        changed_data = list(first.data)
        changed_data[index] += 7 * first.denominator
        changed = Tensor(first.shape, changed_data, first.denominator)
        out2, _, _ = run(layer, [changed, *xs[1:]], params, mode)
        for flat in range(len(out.data)):
            if out.value(flat) == out2.value(flat):
                continue
            coords = _coords(flat, out.shape)
            assert coords[0] == 0, f"a change in sample 0 changed sample {coords[0]}"
            spans = [
                (j * w.stride - w.padding, j * w.stride - w.padding + w.extent)
                for j, w in zip(coords[2:], window, strict=True)
            ]
            if any(lo < 0 or hi > n - 1 for (lo, hi), n in zip(spans, spatial_in, strict=True)):
                continue  # the window reaches into padding, which reflect/replicate/circular fill from inside
            for axis, (lo, hi) in enumerate(spans):
                assert lo <= position[axis] <= hi, (
                    f"output {coords} changed by input {position} outside its window [{lo}, {hi}] along axis {axis}"
                )


def _flat(coords: tuple[int, ...], shape: tuple[int, ...]) -> int:
    index = 0
    for c, n in zip(coords, shape, strict=True):
        index = index * n + c
    return index


def _coords(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    coords = []
    for n in reversed(shape):
        flat, c = divmod(flat, n)
        coords.append(c)
    return tuple(reversed(coords))
