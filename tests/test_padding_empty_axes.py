"""Reflection, replication and circular padding on empty and small axes, every case of a small grid against
PyTorch: the same refusals (PyTorch refuses an empty axis for reflection and replication whatever the padding,
and a reflection pad as large as its axis), the same shapes, and the executor's values equal torch's.

The one deliberate difference: circular padding that wraps past what a negative side cropped (PyTorch copies
uninitialised memory there), refused by cnncalc; see CircularPadNd.check_axis.
"""

from __future__ import annotations

import itertools
import random
import warnings
from math import prod

import pytest
import torch

from cnncalc.compute import Context, pad_planes
from cnncalc.errors import LayerError
from cnncalc.layers import make_layer
from cnncalc.tensor import Tensor

FAMILIES = ("Reflection", "Replication", "Circular")
PADS = {1: range(-3, 4), 2: (-2, -1, 0, 1, 2), 3: (-1, 0, 1)}
SIZES = {1: range(0, 4), 2: range(0, 4), 3: range(0, 3)}


def cases(family: str, dims: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The whole 1d grid; 1,500 cases of the 2d and 3d grids (a fixed sample: each case costs a torch module)."""
    grid = [
        (shape, pad)
        for rank in (dims, dims + 1)
        for shape in itertools.product(SIZES[dims], repeat=rank)
        for pad in itertools.product(PADS[dims], repeat=2 * dims)
    ]
    return grid if dims == 1 else random.Random(f"{family}{dims}").sample(grid, 1500)


def wraps_past_a_crop(shape: tuple[int, ...], pad: tuple[int, ...], dims: int) -> bool:
    for k in range(dims):
        length, before, after = shape[-1 - k], pad[2 * k], pad[2 * k + 1]
        kept = length + min(before, 0) + min(after, 0)
        if before <= length and after <= length and length + before + after >= 0 and max(before, after) > kept:
            return True
    return False


def torch_output(kind: str, pad: tuple[int, ...], x: torch.Tensor) -> torch.Tensor | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(torch.nn, kind)(pad)(x)
    except RuntimeError:
        return None


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("family", FAMILIES)
def test_refusals_shapes_and_values_match_torch(family: str, dims: int) -> None:
    kind = f"{family}Pad{dims}d"
    checked = 0
    for shape, pad in cases(family, dims):
        values = list(range(1, prod(shape) + 1))
        theirs = torch_output(kind, pad, torch.tensor(values, dtype=torch.float64).reshape(1, *shape))
        try:
            layer = make_layer(kind, {"padding": list(pad)}, shape)
        except LayerError as error:
            if theirs is not None:
                assert family == "Circular" and wraps_past_a_crop(shape, pad, dims), (kind, shape, pad, error)
            else:
                assert error.arg in ("inputs", "padding"), error
            continue
        where = (kind, shape, pad)
        assert theirs is not None, f"torch refuses {where}; cnncalc gives {layer.out_shape}"
        assert layer.out_shape == tuple(theirs.shape[1:]), where
        out = layer.forward([Tensor((1, *shape), values, 1, False)], {}, Context())
        assert out.shape == tuple(theirs.shape) and out.data == [int(v) for v in theirs.flatten().tolist()], where
        checked += 1
    assert checked > 10


def test_reflection_on_a_single_element_says_what_is_valid() -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("ReflectionPad1d", {"padding": [1, 0]}, (2, 1))
    assert "L has a single element, nothing to mirror: pad it by 0" in str(caught.value)
    with pytest.raises(LayerError) as caught:
        make_layer("ReflectionPad1d", {"padding": [3, 0]}, (2, 3))
    assert "pad each side of L by at most 2" in str(caught.value)


def test_circular_on_an_empty_axis_says_what_is_valid() -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("CircularPad1d", {"padding": [1, 0]}, (2, 0))
    assert "L is empty, nothing to wrap: pad it by 0" in str(caught.value)
    assert make_layer("CircularPad1d", {"padding": 0}, (2, 0)).out_shape == (2, 0)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_the_executor_refuses_copying_from_an_empty_axis_with_a_message(mode: str) -> None:
    with pytest.raises(LayerError) as caught:
        pad_planes([], 2, (3, 0), (0, 1), (0, 1), mode)
    assert "no element to copy along spatial axis 2 of 2" in str(caught.value)
    assert pad_planes([], 2, (3, 0), (0, 1), (0, 1), "zeros") == ([0] * 12, (3, 2))
