"""Chunk, Split, LayerScale and StochasticDepth against PyTorch, on drawn configurations valid and invalid.

Chunk and Split: for every drawn configuration torch.chunk / torch.split run on a float64 tensor (batch, *in_shape).
Where torch accepts, cnncalc's output_count (without index) equals the number of pieces torch makes, and the layer
with each index has torch's piece's shape; an index outside the pieces is refused with the valid range. Where torch
raises, cnncalc raises a LayerError. cnncalc refuses on purpose, and only there:
- dim 0, the batch axis (torch cuts the batch into groups of samples);
- an empty list of sections (torch makes no piece of an empty axis; an entry without outputs is no layer).
Values and gradients go through the executor in float64, and must equal torch's exactly (copies).
"""

from __future__ import annotations

import random
from math import prod
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.compute import Context
from cnncalc.errors import LayerError
from cnncalc.layers import Layer, Shape, lookup, make_layer
from cnncalc.layers.pieces import MAX_PIECES
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")

SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
TORCH_REJECTS = (ValueError, RuntimeError, TypeError, IndexError)
Args = dict[str, Any]


def to_torch(tensor: Tensor) -> Any:
    return torch.tensor([float(v) for v in tensor.values()], dtype=torch.float64).reshape(tensor.shape)


def random_tensor(rng: random.Random, shape: Shape) -> Tensor:
    return Tensor(shape, [rng.randint(-4, 4) for _ in range(prod(shape))], rng.choice((1, 2, 4)))


def values_of(tensor: Tensor) -> list[float]:
    return [float(v) for v in tensor.values()]


# -- Chunk and Split: shapes and output counts ---------------------------------------------------------------------


@st.composite
def piece_configs(draw: st.DrawFn) -> tuple[str, Args, Shape]:
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=0, max_size=3)))
    kind = draw(st.sampled_from(["chunk", "split"]))
    args: Args = {}
    if kind == "chunk":
        args["chunks"] = draw(st.integers(-1, 9))
    elif draw(st.booleans()):
        args["split_size_or_sections"] = draw(st.integers(-1, 8))
    else:
        args["split_size_or_sections"] = draw(st.lists(st.integers(-1, 5), min_size=0, max_size=4))
    if draw(st.integers(0, 4)):
        args["dim"] = draw(st.integers(-5, 4))
    if draw(st.booleans()):
        args["index"] = draw(st.integers(-5, 5))
    return kind, args, shape


def torch_pieces(kind: str, args: Args, shape: Shape) -> list[Any]:
    x = torch.zeros((2, *shape), dtype=torch.float64)
    dim = args.get("dim", 1)  # cnncalc's default; torch's is 0 (the batch axis, refused)
    if kind == "chunk":
        return list(torch.chunk(x, args["chunks"], dim))
    return list(torch.split(x, args["split_size_or_sections"], dim))


def cnncalc_pieces(kind: str, args: Args, shape: Shape) -> list[Shape]:
    """The shape of every piece, as cnncalc makes them; LayerError where it refuses."""
    count = lookup(kind).output_count(args, (shape,))
    if count is None:
        return [make_layer(kind, args, shape).out_shape]
    return [make_layer(kind, {**args, "index": k}, shape).out_shape for k in range(count)]


@settings(max_examples=600, **SETTINGS)
@given(piece_configs())
def test_pieces_agree_with_torch(config: tuple[str, Args, Shape]) -> None:
    kind, args, shape = config
    try:
        theirs = torch_pieces(kind, args, shape)
    except TORCH_REJECTS:
        with pytest.raises(LayerError):
            cnncalc_pieces(kind, args, shape)
        return
    rank = len(shape) + 1
    if args.get("dim", 1) % rank == 0:  # the batch axis: refused on purpose
        with pytest.raises(LayerError) as caught:
            cnncalc_pieces(kind, args, shape)
        assert caught.value.arg == "dim" and "batch axis" in caught.value.message
        return
    if args.get("split_size_or_sections") == []:  # no piece at all: refused on purpose
        with pytest.raises(LayerError):
            cnncalc_pieces(kind, args, shape)
        return
    shapes = [tuple(piece.shape[1:]) for piece in theirs]
    index = args.get("index")
    if index is None:
        assert lookup(kind).output_count(args, (shape,)) == len(theirs)
        assert cnncalc_pieces(kind, args, shape) == shapes
    elif -len(theirs) <= index < len(theirs):
        assert lookup(kind).output_count(args, (shape,)) is None
        assert make_layer(kind, args, shape).out_shape == shapes[index]
    else:
        with pytest.raises(LayerError) as caught:
            make_layer(kind, args, shape)
        assert caught.value.arg == "index"
        assert f"valid indices are 0 to {len(theirs) - 1}" in caught.value.message


@pytest.mark.parametrize(
    ("kind", "args", "shape", "count", "sizes"),
    [
        ("chunk", {"chunks": 4}, (6, 4, 4), 3, [2, 2, 2]),  # fewer pieces than chunks
        ("chunk", {"chunks": 2}, (5,), 2, [3, 2]),
        ("chunk", {"chunks": 3}, (0, 2), 3, [0, 0, 0]),  # an empty axis: `chunks` empty pieces
        ("split", {"split_size_or_sections": 4}, (6, 2), 2, [4, 2]),
        ("split", {"split_size_or_sections": 7}, (6, 2), 1, [6]),
        ("split", {"split_size_or_sections": 0}, (0, 2), 1, [0]),
        ("split", {"split_size_or_sections": [1, 0, 5]}, (6, 2), 3, [1, 0, 5]),
    ],
)
def test_piece_counts_and_sizes(kind: str, args: Args, shape: Shape, count: int, sizes: list[int]) -> None:
    assert lookup(kind).output_count(args, (shape,)) == count
    assert [s[0] for s in cnncalc_pieces(kind, args, shape)] == sizes
    assert [tuple(p.shape[1:])[0] for p in torch_pieces(kind, args, shape)] == sizes


@pytest.mark.parametrize(
    ("kind", "args", "shape", "arg", "needle"),
    [
        ("chunk", {"chunks": 2, "dim": 0}, (4, 4), "dim", "dim 0 is the batch axis"),
        ("chunk", {"chunks": 2, "dim": 3}, (4, 4), "dim", "valid dims are -3 to 2"),
        ("chunk", {"chunks": 0}, (4,), "chunks", "expected a positive integer"),
        ("chunk", {"chunks": 2, "index": 2}, (4,), "index", "valid indices are 0 to 1 (or -2 to -1"),
        ("split", {"split_size_or_sections": [1, 2]}, (4,), "split_size_or_sections", "sums to 3"),
        ("split", {"split_size_or_sections": 0}, (4,), "split_size_or_sections", "only an empty axis"),
        ("split", {"split_size_or_sections": []}, (0,), "split_size_or_sections", "expected"),
        ("split", {"split_size_or_sections": -1}, (4,), "split_size_or_sections", "expected"),
        ("split", {"split_size_or_sections": 1, "index": -5}, (4,), "index", "valid indices are 0 to 3"),
    ],
)
def test_refused_with_a_reason(kind: str, args: Args, shape: Shape, arg: str, needle: str) -> None:
    with pytest.raises(LayerError) as caught:
        cnncalc_pieces(kind, args, shape)
    assert caught.value.arg == arg
    assert needle in caught.value.message


def test_too_many_pieces_without_index_are_refused_but_one_piece_is_answered() -> None:
    with pytest.raises(LayerError) as caught:
        lookup("split").output_count({"split_size_or_sections": 1}, ((MAX_PIECES + 1, 2),))
    assert "pick the piece you need with index" in (caught.value.hint or "")
    huge = {"chunks": 10**30, "index": 10**30 - 1}
    assert make_layer("chunk", huge, (0, 3)).out_shape == (0, 3)  # an empty axis: 10^30 empty pieces
    assert make_layer("chunk", {"chunks": 10**30, "index": -1}, (10**40,)).out_shape == (10**10,)


# -- Chunk and Split: values and gradients -------------------------------------------------------------------------


@st.composite
def valid_pieces(draw: st.DrawFn) -> tuple[Layer, int]:
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    dim = draw(st.integers(1, len(shape)))
    size = shape[dim - 1]
    if draw(st.booleans()):
        kind, args = "chunk", {"chunks": draw(st.integers(1, 6))}
    elif draw(st.booleans()):
        kind, args = "split", {"split_size_or_sections": draw(st.integers(1, 6))}
    else:
        cuts = sorted(draw(st.lists(st.integers(0, size), max_size=3)))
        bounds = [0, *cuts, size]
        kind, args = "split", {"split_size_or_sections": [b - a for a, b in zip(bounds, bounds[1:], strict=False)]}
    args["dim"] = draw(st.sampled_from([dim, dim - len(shape) - 1]))  # counted from either end
    count = lookup(kind).output_count(args, (shape,))
    assert count is not None
    index = draw(st.integers(-count, count - 1))
    return make_layer(kind, {**args, "index": index}, shape), draw(st.integers(1, 3))


@settings(max_examples=150, **SETTINGS)
@given(valid_pieces(), st.integers(0, 2**32))
def test_values_and_gradients_equal_torch(drawn: tuple[Layer, int], seed: int) -> None:
    layer, batch = drawn
    rng = random.Random(seed)
    x = random_tensor(rng, (batch, *layer.in_shape))
    ctx = Context()
    out = layer.forward([x], {}, ctx)
    grad = random_tensor(rng, out.shape)
    (dx,), weights = layer.backward([x], {}, out, grad, ctx)
    assert weights == {} and ctx.macs == 0

    tx = to_torch(x).requires_grad_(True)
    args = {arg.name: getattr(layer, arg.name) for arg in layer.arguments}
    cut = args.get("chunks", args.get("split_size_or_sections"))
    function = torch.chunk if layer.kind == "Chunk" else torch.split
    theirs = function(tx, list(cut) if isinstance(cut, tuple) else cut, args["dim"])[args["index"]]
    (theirs * to_torch(grad)).sum().backward()
    assert out.shape == tuple(theirs.shape)
    assert values_of(out) == theirs.detach().flatten().tolist()
    assert dx is not None and values_of(dx) == tx.grad.flatten().tolist()
