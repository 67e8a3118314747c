"""Pooling kinds against torch.nn: thousands of drawn configurations, valid and invalid.

For each configuration, ours is built with `make_layer` and torch's module runs on a zero tensor of shape
(1, *in_shape). Ours must raise LayerError exactly when torch raises (at construction or forward); otherwise the
output shapes, parameter counts and buffer counts must agree. Two deliberate divergences are checked as such:
return_indices=true (torch returns a tuple, which a layer graph cannot carry) and an adaptive output_size of 0
(torch returns an empty tensor, which no later layer can use).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cnncalc.errors import LayerError
from cnncalc.layers import Layer, make_layer

torch = pytest.importorskip("torch")

TORCH_ERRORS = (RuntimeError, TypeError, ValueError)


def run_torch(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> Any:
    """torch's output (a tensor, or a tuple with return_indices), plus the module; or the exception it raised."""
    try:
        module = getattr(torch.nn, kind)(**args)
        return module(torch.zeros((1, *in_shape), dtype=torch.float64)), module
    except TORCH_ERRORS as error:
        return error, None


def build_ours(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> Layer | LayerError:
    try:
        return make_layer(kind, args, in_shape)
    except LayerError as error:
        assert error.arg, f"{kind} {args} on {in_shape}: the error names no argument: {error}"
        return error


def check_against_torch(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> str:
    """Compare ours with torch on one configuration; returns which way it went, for hypothesis's statistics."""
    ours = build_ours(kind, args, in_shape)
    theirs, module = run_torch(kind, args, in_shape)
    said = (
        theirs
        if isinstance(theirs, Exception)
        else [tuple(t.shape) for t in (theirs if isinstance(theirs, tuple) else [theirs])]
    )
    where = f"{kind}({args}) on {in_shape}: ours {ours!r}, torch {said!r}"

    if args.get("return_indices") is True:
        # Ours always refuses; torch returns (values, indices). The rest of the configuration must still agree.
        assert isinstance(ours, LayerError), where
        plain = {**args, "return_indices": False}
        check_against_torch(kind, plain, in_shape)
        without = build_ours(kind, plain, in_shape)
        if isinstance(without, Layer):
            assert ours.arg == "return_indices", where
            assert isinstance(theirs, tuple) and tuple(theirs[0].shape[1:]) == without.out_shape, where
        return "divergence: return_indices"

    sizes = args.get("output_size")
    sizes = sizes if isinstance(sizes, list) else [sizes]
    if any(type(size) is int and size == 0 for size in sizes):
        # torch accepts output_size 0 and returns an empty tensor; ours refuses it.
        assert isinstance(ours, LayerError) and ours.arg == "output_size", where
        assert isinstance(theirs, Exception) or theirs.numel() == 0, where
        return "divergence: output_size 0"

    assert isinstance(ours, LayerError) == isinstance(theirs, Exception), where
    if isinstance(ours, LayerError):
        return f"both raise (ours: {ours.arg})"
    assert ours.out_shape == tuple(theirs.shape[1:]), where
    assert ours.params() == sum(p.numel() for p in module.parameters()), where
    assert ours.buffer_count() == sum(b.numel() for b in module.buffers()), where
    return "both valid" + (" with warning" if ours.warnings else "")


def per_axis(values: st.SearchStrategy[Any], dims: int) -> st.SearchStrategy[Any]:
    """An int for every axis, a list with one per axis or a one-element list (as PyTorch's pooling accepts), and
    now and then a list of any length (stride's empty list means omitted; other lengths are refused)."""
    valid = st.one_of(values, st.lists(values, min_size=dims, max_size=dims), st.lists(values, min_size=1, max_size=1))
    return mostly(valid, st.lists(values, max_size=dims + 1))


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values most of the time, so that the invalid ones do not drown every configuration."""
    return st.integers(0, 9).flatmap(lambda roll: invalid if roll == 0 else valid)


def input_shape(draw: st.DrawFn, dims: int, largest: int) -> tuple[int, ...]:
    channels = draw(st.integers(1, 3))
    return (channels, *draw(st.lists(st.integers(1, largest), min_size=dims, max_size=dims)))


def optional_args(draw: st.DrawFn, candidates: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Each argument given or left to its default, so the defaults are exercised too."""
    return {name: draw(values) for name, values in candidates.items() if draw(st.booleans())}


@st.composite
def window_pool(draw: st.DrawFn, family: str, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    in_shape = input_shape(draw, dims, 12 if dims < 3 else 8)
    size = mostly(st.integers(1, 5), st.integers(-1, 0))
    candidates = {
        "stride": st.none() | per_axis(mostly(st.integers(1, 4), st.integers(-1, 0)), dims),
        # padding runs past kernel_size // 2 often enough to test PyTorch's limit
        "padding": per_axis(mostly(st.integers(0, 3), st.just(-1)), dims),
        "ceil_mode": st.booleans(),
    }
    if family == "MaxPool":
        candidates["dilation"] = per_axis(mostly(st.integers(1, 3), st.integers(-1, 0)), dims)
        candidates["return_indices"] = st.sampled_from([False, False, False, True])
    else:
        candidates["count_include_pad"] = st.booleans()
        if dims > 1:
            candidates["divisor_override"] = st.none() | st.integers(-2, 3)
    args = {"kernel_size": draw(per_axis(size, dims)), **optional_args(draw, candidates)}
    return args, in_shape


@st.composite
def adaptive_pool(draw: st.DrawFn, family: str, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    in_shape = input_shape(draw, dims, 12 if dims < 3 else 7)
    size = mostly(st.integers(1, 9), st.integers(-1, 0))
    # null keeps an axis (2-D and 3-D only: both must refuse it in 1-D); a bare null is refused by both
    output_size = st.one_of(size, st.lists(size | st.none(), min_size=dims, max_size=dims), st.just(None))
    args = {"output_size": draw(output_size)}
    if family == "AdaptiveMaxPool":
        args.update(optional_args(draw, {"return_indices": st.sampled_from([False, False, False, True])}))
    return args, in_shape


DIMS = [1, 2, 3]


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("family", ["MaxPool", "AvgPool"])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_window_pools_match_torch(family: str, dims: int, data: st.DataObject) -> None:
    args, in_shape = data.draw(window_pool(family, dims))
    event(check_against_torch(f"{family}{dims}d", args, in_shape))


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("family", ["AdaptiveMaxPool", "AdaptiveAvgPool"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_adaptive_pools_match_torch(family: str, dims: int, data: st.DataObject) -> None:
    args, in_shape = data.draw(adaptive_pool(family, dims))
    event(check_against_torch(f"{family}{dims}d", args, in_shape))


@st.composite
def ceil_mode_pool(draw: st.DrawFn, family: str, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """Valid ceil_mode windows with strides up to beyond the kernel, where the last window can start in the right
    padding (which PyTorch drops): rare among the configurations above."""
    in_shape = input_shape(draw, dims, 12 if dims < 3 else 7)
    kernel = draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims))
    args = {
        "kernel_size": kernel,
        "stride": draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims)),
        "padding": [draw(st.integers(0, k // 2)) for k in kernel],
        "ceil_mode": True,
    }
    if family == "MaxPool":
        args["dilation"] = draw(st.lists(st.integers(1, 2), min_size=dims, max_size=dims))
    return args, in_shape


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("family", ["MaxPool", "AvgPool"])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_ceil_mode_windows_match_torch(family: str, dims: int, data: st.DataObject) -> None:
    args, in_shape = data.draw(ceil_mode_pool(family, dims))
    event(check_against_torch(f"{family}{dims}d", args, in_shape))


# Edge cases worth running every time, whatever hypothesis draws.
EDGES = [
    ("MaxPool2d", {"kernel_size": 2, "padding": 1, "ceil_mode": True}, (1, 5, 5)),  # last window in the padding
    ("MaxPool1d", {"kernel_size": 5, "stride": 3, "ceil_mode": True}, (1, 4)),  # one partial window
    ("MaxPool1d", {"kernel_size": 5, "stride": 1, "ceil_mode": True}, (1, 4)),
    ("MaxPool2d", {"kernel_size": 3, "padding": 1, "dilation": 2}, (1, 8, 8)),
    ("MaxPool2d", {"kernel_size": 3, "padding": 2, "dilation": 2}, (1, 8, 8)),  # dilation does not raise the limit
    ("MaxPool3d", {"kernel_size": 3, "padding": 1}, (1, 2, 2, 2)),
    ("AvgPool2d", {"kernel_size": 3, "padding": 1}, (1, 2, 2)),
    ("AvgPool3d", {"kernel_size": 3, "padding": 1}, (1, 2, 2, 2)),  # unpadded input smaller than the kernel
    ("AvgPool3d", {"kernel_size": 3, "padding": 1}, (1, 3, 2, 3)),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": 0}, (1, 4, 4)),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": -1}, (1, 4, 4)),
    ("AvgPool1d", {"kernel_size": 2, "divisor_override": 2}, (1, 4)),  # not an argument of AvgPool1d
    ("MaxPool2d", {"kernel_size": [3], "stride": [], "padding": [1], "dilation": [2]}, (1, 8, 8)),
    ("AvgPool3d", {"kernel_size": [2], "stride": [1], "padding": [1]}, (1, 3, 3, 3)),
    ("MaxPool3d", {"kernel_size": 2, "stride": [1, 2]}, (1, 4, 4, 4)),
    ("AdaptiveAvgPool2d", {"output_size": [None, 3]}, (1, 8, 7)),
    ("AdaptiveMaxPool2d", {"output_size": None}, (1, 8, 7)),
    ("AdaptiveAvgPool1d", {"output_size": [None]}, (1, 8)),
    ("AdaptiveAvgPool2d", {"output_size": [3]}, (1, 8, 8)),
    ("AdaptiveMaxPool2d", {"output_size": 10}, (1, 3, 7)),
    ("AdaptiveMaxPool3d", {"output_size": [0, 2, None]}, (1, 3, 7, 5)),
    ("AdaptiveMaxPool1d", {"output_size": 2, "return_indices": True}, (1, 8)),
    ("MaxPool2d", {"kernel_size": 9, "return_indices": True}, (1, 8, 8)),
]


@pytest.mark.parametrize("kind, args, in_shape", EDGES)
def test_edge_cases_match_torch(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> None:
    check_against_torch(kind, args, in_shape)
