"""Pooling forward values against torch.nn in float64, and hand-computed tables as exact Fractions.

Hypothesis draws valid configurations of every pooling kind (padding, ceil_mode windows that run past the input,
dilation, count_include_pad, divisor_override, adaptive bins that overlap or repeat) and a batch of 2 samples of
small integers over a denominator of 1 or 2. Every output element must equal torch's: exactly for max pools (a max
of exactly representable values), within 1e-12 relative for averages. Pools make no inner products: ctx.macs stays 0.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from math import prod
from typing import Any

import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from cnncalc.compute import Context
from cnncalc.errors import LayerError
from cnncalc.layers import Layer, make_layer
from cnncalc.layers.registry import lookup
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")

BATCH = 2
DIMS = [1, 2, 3]
LARGEST = {1: 12, 2: 8, 3: 5}  # input sizes per axis: small enough for pure Python, large enough for ceil windows


def random_input(shape: tuple[int, ...], seed: int) -> Tensor:
    """Small integers over a denominator of 1 or 2 (halves are exact in float64 too)."""
    rng = random.Random(seed)
    return Tensor(shape, [rng.randint(-6, 6) for _ in range(prod(shape))], rng.choice((1, 2)))


def run_ours(layer: Layer, x: Tensor, mode: str) -> Tensor:
    ctx = Context(mode=mode, seed=0)
    ctx.layer = "pool"
    out = layer.forward([x], {}, ctx)
    assert ctx.macs == 0, "pools make no inner products"
    assert out.shape == (x.shape[0], *layer.out_shape)
    assert all(type(v) is int for v in out.data) and out.denominator >= 1
    return out


def run_torch(kind: str, args: dict[str, Any], x: Tensor, mode: str) -> list[float]:
    module = getattr(torch.nn, kind)(**args)
    module.train(mode == "train")
    values = torch.tensor(x.data, dtype=torch.float64).reshape(x.shape) / x.denominator
    return module(values).flatten().tolist()


def check_values(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], seed: int, mode: str) -> str:
    layer = make_layer(kind, args, in_shape)
    x = random_input((BATCH, *in_shape), seed)
    theirs = run_torch(kind, args, x, mode)
    where = f"{kind}({args}) on {in_shape}"
    if kind.startswith("MaxPool") and any(v == -math.inf for v in theirs):
        # A dilated window that reads only padding: torch outputs -inf, which exact rationals cannot hold.
        with pytest.raises(LayerError) as error:
            run_ours(layer, x, mode)
        assert error.value.arg == "dilation" and "-inf" in str(error.value), where
        assert any("-inf" in warning for warning in layer.warnings), where
        return "divergence: -inf window"
    ours = run_ours(layer, x, mode).values()
    assert len(ours) == len(theirs), where
    exact = "Max" in kind
    for index, (mine, torch_value) in enumerate(zip(ours, theirs, strict=True)):
        if exact:
            assert mine == torch_value, f"{where}: element {index}: ours {mine}, torch {torch_value}"
        else:
            assert math.isclose(mine, torch_value, rel_tol=1e-12), f"{where}: element {index}: {mine} vs {torch_value}"
    return "compared"


def per_axis(draw: st.DrawFn, values: list[int]) -> int | list[int]:
    """An int standing for every axis when the axes agree and hypothesis likes it, else the list."""
    return values[0] if len(set(values)) == 1 and draw(st.booleans()) else values


@st.composite
def window_pool(draw: st.DrawFn, family: str, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """A valid MaxPool/AvgPool configuration: padding at most kernel // 2, an output of at least 1 per axis."""
    axes = st.lists(st.integers(1, 4), min_size=dims, max_size=dims)
    kernel = draw(axes)
    dilation = draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)) if family == "MaxPool" else [1] * dims
    padding = [draw(st.integers(0, k // 2)) for k in kernel]
    ceil_mode = draw(st.booleans())
    sizes = []
    for k, d, p in zip(kernel, dilation, padding, strict=True):
        # From just below the dilated kernel (ceil_mode keeps a partial window there) up to LARGEST.
        least = max(1, d * (k - 1) - 2 * p)
        if family == "AvgPool" and dims == 3:
            least = max(least, k)  # PyTorch's 3-D average pooling needs the unpadded input to hold the kernel
        sizes.append(draw(st.integers(least, max(least, LARGEST[dims]))))
    args: dict[str, Any] = {"kernel_size": per_axis(draw, kernel), "ceil_mode": ceil_mode}
    if draw(st.integers(0, 3)):  # the default stride (the kernel) a quarter of the time
        args["stride"] = per_axis(draw, draw(axes))
    if any(padding) or draw(st.booleans()):
        args["padding"] = per_axis(draw, padding)
    if family == "MaxPool":
        if any(d != 1 for d in dilation) or draw(st.booleans()):
            args["dilation"] = per_axis(draw, dilation)
    else:
        if draw(st.booleans()):
            args["count_include_pad"] = draw(st.booleans())
        if dims > 1 and draw(st.integers(0, 3)) == 0:
            args["divisor_override"] = draw(st.sampled_from([-3, -2, -1, 1, 2, 3, 4, 5]))
    return args, (draw(st.integers(1, 3)), *sizes)


@st.composite
def adaptive_pool(draw: st.DrawFn, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """A valid adaptive configuration: output sizes below, at and above the input's; null keeps an axis (2-D, 3-D)."""
    sizes = draw(st.lists(st.integers(1, LARGEST[dims]), min_size=dims, max_size=dims))
    wanted = st.integers(1, LARGEST[dims] + 2)
    output = draw(st.lists(wanted | st.none() if dims > 1 else wanted, min_size=dims, max_size=dims))
    if len(set(output)) == 1 and output[0] is not None and draw(st.booleans()):
        return {"output_size": output[0]}, (draw(st.integers(1, 3)), *sizes)
    return {"output_size": output}, (draw(st.integers(1, 3)), *sizes)


def valid(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> bool:
    try:
        make_layer(kind, args, in_shape)
    except LayerError:
        return False
    return True


MODES = st.sampled_from(["eval", "train"])


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("family", ["MaxPool", "AvgPool"])
@settings(max_examples=300, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32), mode=MODES)
def test_window_pool_values_match_torch(family: str, dims: int, data: st.DataObject, seed: int, mode: str) -> None:
    kind = f"{family}{dims}d"
    args, in_shape = data.draw(window_pool(family, dims))
    assume(valid(kind, args, in_shape))  # the lower size bound lets a few empty outputs through
    event(check_values(kind, args, in_shape, seed, mode))


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("family", ["AdaptiveMaxPool", "AdaptiveAvgPool"])
@settings(max_examples=200, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32), mode=MODES)
def test_adaptive_pool_values_match_torch(family: str, dims: int, data: st.DataObject, seed: int, mode: str) -> None:
    args, in_shape = data.draw(adaptive_pool(dims))
    event(check_values(f"{family}{dims}d", args, in_shape, seed, mode))


# Each kind's own executor examples, in both modes, against torch too.
EXAMPLES = [
    pytest.param(kind, args, shapes[0], id=f"{kind}-{index}")
    for family in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool")
    for kind in (f"{family}{d}d" for d in DIMS)
    for index, (args, shapes) in enumerate(lookup(kind).examples())
]


@pytest.mark.parametrize("kind, args, in_shape", EXAMPLES)
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_examples_match_torch(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], mode: str) -> None:
    assert check_values(kind, args, in_shape, 5, mode) == "compared"


# Hand-computed tables. The 4x4 grid sums row by row to 8 + 10 + 10 + 26 = 54, so its global average is 54/16.
GRID = [[3, 2, 2, 1], [1, 3, 2, 4], [2, 1, 2, 5], [6, 7, 8, 5]]
TABLES: list[tuple[str, dict[str, Any], list[Any], list[Any]]] = [
    ("AdaptiveAvgPool2d", {"output_size": 1}, [GRID], [[[Fraction(27, 8)]]]),
    ("AvgPool2d", {"kernel_size": 4}, [GRID], [[[Fraction(27, 8)]]]),
    ("MaxPool2d", {"kernel_size": 2}, [GRID], [[[3, 4], [7, 8]]]),
    # quadrant sums 9, 9, 16, 20 over 4
    ("AvgPool2d", {"kernel_size": 2}, [GRID], [[[Fraction(9, 4), Fraction(9, 4)], [4, 5]]]),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": 3}, [GRID], [[[3, 3], [Fraction(16, 3), Fraction(20, 3)]]]),
    # windows [pad 1 2] [2 3 4] [4 5 6] [6 pad past]: the last counts its padding (2), not the part past it
    (
        "AvgPool1d",
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
        [[1, 2, 3, 4, 5, 6]],
        [[1, 3, 5, 3]],
    ),
    (
        "AvgPool1d",
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        [[1, 2, 3, 4, 5, 6]],
        [[Fraction(3, 2), 3, 5, 6]],
    ),
    # -inf padding never wins, even over negative values (zero padding would give 0 at both ends)
    ("MaxPool1d", {"kernel_size": 2, "padding": 1}, [[-1, -2, -3, -4]], [[-1, -2, -4]]),
    # taps 0,2 / 1,3 / 2,4
    ("MaxPool1d", {"kernel_size": 2, "stride": 1, "dilation": 2}, [[1, 5, 2, 4, 3]], [[2, 5, 3]]),
    # bins [0, 3) and [2, 5) overlap at index 2
    ("AdaptiveAvgPool1d", {"output_size": 2}, [[1, 2, 3, 4, 6]], [[2, Fraction(13, 3)]]),
    # bins [0, 2), [1, 4), [3, 5)
    ("AdaptiveMaxPool1d", {"output_size": 3}, [[1, 5, 2, 4, 3]], [[5, 5, 4]]),
    # more outputs than inputs: bins [0, 1), [0, 2), [1, 2)
    (
        "AdaptiveAvgPool1d",
        {"output_size": 3},
        [[Fraction(1, 2), Fraction(1, 3)]],
        [[Fraction(1, 2), Fraction(5, 12), Fraction(1, 3)]],
    ),
]


@pytest.mark.parametrize("kind, args, sample, expected", TABLES)
def test_hand_computed(kind: str, args: dict[str, Any], sample: list[Any], expected: list[Any]) -> None:
    def flat(nested: Any) -> list[Any]:
        return [v for item in nested for v in flat(item)] if isinstance(nested, list) else [nested]

    in_shape = (len(sample), *_shape(sample[0]))
    layer = make_layer(kind, args, in_shape)
    x = Tensor.from_values((1, *in_shape), flat(sample))
    out = run_ours(layer, x, "eval")
    assert out.nested() == [expected]
    assert all(type(v) in (int, Fraction) for v in out.values())


def _shape(nested: Any) -> tuple[int, ...]:
    return (len(nested), *_shape(nested[0])) if isinstance(nested, list) else ()


def test_padding_only_window_is_refused_with_torch_giving_minus_infinity() -> None:
    args = {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 3}
    layer = make_layer("MaxPool2d", args, (1, 2, 2))  # taps -1 and 2 miss an input of 2 on both axes
    assert layer.warnings and "-inf" in layer.warnings[0]
    x = random_input((BATCH, 1, 2, 2), 0)
    assert run_torch("MaxPool2d", args, x, "eval") == [-math.inf] * BATCH
    with pytest.raises(LayerError) as error:
        run_ours(layer, x, "eval")
    assert error.value.arg == "dilation" and "-inf" in str(error.value)
