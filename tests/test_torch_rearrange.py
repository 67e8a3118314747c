"""Permute, Transpose, Reshape, View, Unflatten and ChannelShuffle against PyTorch, on drawn configurations valid and
invalid.

For every drawn configuration cnncalc's layer (via `make_layer`) and PyTorch run on the same float64 tensor
(N, *in_shape): x.permute(*dims), x.transpose(dim0, dim1), x.reshape(N, *shape), x.view(N, *shape),
nn.Unflatten(dim, unflattened_size) and nn.ChannelShuffle(groups). Valid: the same output shape, no weights, no
MACs, no other ops, and through the executor the same values and the same input gradients (autograd of
sum(g * output)), exactly: every value is a copy. A configuration PyTorch rejects must raise LayerError naming an
argument (our message, where torch raises).

Where PyTorch accepts what cnncalc refuses on purpose, the test asserts the configuration lies in that documented
region and nothing else: a permute or transpose that moves the batch axis, an unflatten of the batch axis, and an
empty per-sample shape for reshape/view (x.reshape(N): arguments take at least one size).
"""

from __future__ import annotations

import random
import warnings
from math import prod
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.compute import Context
from cnncalc.errors import LayerError
from cnncalc.layers import Layer, Shape, lookup, make_layer
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")
from test_kinds_rearrange import BAD, GOOD  # noqa: E402  (the hand-checked rows, once more against torch)

TORCH_REJECTS = (ValueError, RuntimeError, TypeError, IndexError)
SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
Args = dict[str, Any]


def torch_run(kind: str, args: Args, x: Any) -> Any:
    """PyTorch's output for the batched tensor x, or the exception it raises."""
    if kind == "Permute":
        return x.permute(*args["dims"]) if isinstance(args["dims"], list) else x.permute(args["dims"])
    if kind == "Transpose":
        return x.transpose(args["dim0"], args["dim1"])
    if kind in ("Reshape", "View"):
        shape = args["shape"] if isinstance(args["shape"], list) else [args["shape"]]
        return getattr(x, kind.lower())(x.shape[0], *shape)
    if kind == "Unflatten":
        sizes = args["unflattened_size"]
        return torch.nn.Unflatten(args["dim"], tuple(sizes) if isinstance(sizes, list) else sizes)(x)
    return torch.nn.ChannelShuffle(args["groups"])(x)


def refused_on_purpose(kind: str, args: Args, shape: Shape) -> str | None:
    """Why cnncalc refuses a configuration torch runs, when that is by design (see the module's docstring)."""
    rank = len(shape) + 1
    if kind == "Permute" and args["dims"][0] % rank != 0:
        return "permute moves the batch axis"
    if kind == "Transpose" and 0 in (args["dim0"] % rank, args["dim1"] % rank):
        return "transpose moves the batch axis"
    if kind == "Unflatten" and args["dim"] % rank == 0:
        return "unflatten splits the batch axis"
    if kind in ("Reshape", "View") and args["shape"] == []:
        return "an empty per-sample shape"
    return None


def event(text: str) -> None:
    """hypothesis's statistics, also outside a hypothesis test (the table rows)."""
    from hypothesis import event as record
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        record(text)


def as_torch(tensor: Tensor, grad: bool = False) -> Any:
    values = [float(v) for v in tensor.values()]
    return torch.tensor(values, dtype=torch.float64).reshape(tensor.shape).requires_grad_(grad)


def compare(kind: str, args: Args, shape: Shape, batch: int, rng: random.Random) -> None:
    """Shapes or failures agree; for a valid configuration, values and input gradients agree exactly."""
    where = f"{kind}({args}) on {shape}"
    ours: Layer | LayerError
    try:
        ours = make_layer(kind, args, shape)
    except LayerError as error:
        ours = error
    x = Tensor((batch, *shape), [rng.randint(-9, 9) for _ in range(batch * prod(shape))], rng.choice((1, 2, 4)))
    xt = as_torch(x, grad=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch_run(kind, args, xt)
    except TORCH_REJECTS as error:
        assert isinstance(ours, LayerError), f"torch rejects {where}: {error}; cnncalc gives {ours.out_shape}"
        assert ours.arg, f"the error should name its argument: {ours.message}"
        event(f"invalid: {ours.arg}")
        return
    if isinstance(ours, LayerError):
        reason = refused_on_purpose(kind, args, shape)
        assert reason, f"cnncalc rejects {where}, which torch runs (shape {tuple(theirs.shape)}): {ours}"
        event(f"refused on purpose: {reason}")
        return
    event("valid")
    assert (batch, *ours.out_shape) == tuple(theirs.shape), f"{where}: ours {ours.out_shape}, torch {theirs.shape}"
    assert ours.params() == ours.macs() == ours.other_ops() == ours.buffer_count() == 0
    ctx = Context()
    ctx.layer = "layer"
    out = ours.forward([x], {}, ctx)
    assert out.shape == tuple(theirs.shape) and ctx.macs == 0
    assert [float(v) for v in out.values()] == theirs.detach().flatten().tolist()
    grad = Tensor(out.shape, [rng.randint(-9, 9) for _ in range(len(out.data))], rng.choice((1, 3)))
    (input_grad,), weight_grads = ours.backward([x], {}, out, grad, ctx)
    assert weight_grads == {}
    if not x.data:  # torch's channel_shuffle backward fails on 0 channels (it divides by C / groups): nothing to do
        assert input_grad is not None and input_grad.shape == x.shape and not input_grad.data
        return
    (theirs * as_torch(grad)).sum().backward()
    assert input_grad is not None and input_grad.shape == x.shape
    assert [float(v) for v in input_grad.values()] == xt.grad.flatten().tolist()


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)
nonempty = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
batches = st.integers(1, 2)
randoms = st.randoms(use_true_random=False)


@st.composite
def permute_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = draw(st.one_of(nonempty, shapes))
    rank = len(shape) + 1
    dims = draw(st.permutations(range(rank)))
    dims = [d - rank if draw(st.booleans()) else d for d in dims]  # negative dims as PyTorch counts them
    if draw(st.integers(0, 3)) == 0:  # something wrong: a repeat, a missing or extra entry, out of range
        spoil = draw(st.sampled_from(["repeat", "drop", "extra", "range"]))
        if spoil == "repeat" and rank > 1:
            dims[draw(st.integers(1, rank - 1))] = dims[0]
        elif spoil == "drop":
            dims = dims[:-1]
        elif spoil == "extra":
            dims = [*dims, draw(st.integers(-rank, rank - 1))]
        else:
            dims[draw(st.integers(0, rank - 1))] = draw(st.sampled_from([rank, rank + 1, -rank - 1]))
    if dims and draw(st.integers(0, 2)) == 0:
        dims = [0, *dims[1:]] if draw(st.booleans()) else dims  # dims[0] mostly kept at the batch axis
    elif dims and dims[0] % rank != 0 and draw(st.booleans()):
        first = dims.index(0) if 0 in dims else None
        if first is not None:
            dims[0], dims[first] = dims[first], dims[0]
    return {"dims": dims}, shape


@settings(max_examples=400, **SETTINGS)
@given(permute_cases(), batches, randoms)
def test_permute(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    compare("Permute", *case, batch, rng)


@st.composite
def transpose_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = draw(st.one_of(nonempty, shapes))
    rank = len(shape) + 1
    dims = st.integers(-rank - 1, rank)
    return {"dim0": draw(dims), "dim1": draw(dims)}, shape


@settings(max_examples=300, **SETTINGS)
@given(transpose_cases(), batches, randoms)
def test_transpose(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    compare("Transpose", *case, batch, rng)


def factor(draw: st.DrawFn, total: int) -> list[int]:
    """Sizes whose product is `total` (a few axes of 1 possible)."""
    sizes: list[int] = []
    rest = total
    while rest > 1 and len(sizes) < 3:
        divisors = [d for d in range(2, rest + 1) if rest % d == 0]
        size = draw(st.sampled_from(divisors))
        sizes.append(size)
        rest //= size
    if rest != 1 or not sizes:
        sizes.append(rest)
    if draw(st.booleans()):
        sizes.insert(draw(st.integers(0, len(sizes))), 1)
    return sizes


@st.composite
def reshape_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = draw(st.one_of(nonempty, shapes))
    total = prod(shape)
    choice = draw(st.integers(0, 3))
    if choice == 0:  # anything: mostly wrong
        sizes: Any = draw(st.lists(st.integers(-3, 6), min_size=0, max_size=4))
    else:
        sizes = draw(st.permutations(factor(draw, total))) if total else [0, draw(st.integers(0, 3))]
        sizes = list(sizes)
        if choice >= 2 and sizes:
            sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    if isinstance(sizes, list) and len(sizes) == 1 and draw(st.booleans()):
        sizes = sizes[0]  # one int, as x.reshape(N, -1)
    return {"shape": sizes}, shape


@settings(max_examples=400, **SETTINGS)
@given(st.sampled_from(["Reshape", "View"]), reshape_cases(), batches, randoms)
def test_reshape_and_view(kind: str, case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    compare(kind, *case, batch, rng)


@st.composite
def unflatten_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = draw(st.one_of(nonempty, shapes).filter(len))
    rank = len(shape) + 1
    dim = draw(st.integers(-rank - 1, rank))
    length = shape[(dim % rank) - 1] if -rank <= dim < rank and dim % rank else draw(st.integers(0, 6))
    if draw(st.integers(0, 3)) == 0:
        sizes: Any = draw(st.one_of(st.lists(st.integers(-3, 6), max_size=4), st.integers(1, 6)))
    else:
        sizes = list(draw(st.permutations(factor(draw, length)))) if length else [0, draw(st.integers(0, 3))]
        if draw(st.booleans()):
            sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return {"dim": dim, "unflattened_size": sizes}, shape


@settings(max_examples=400, **SETTINGS)
@given(unflatten_cases(), batches, randoms)
def test_unflatten(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    compare("Unflatten", *case, batch, rng)


@st.composite
def shuffle_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = draw(st.one_of(nonempty, shapes).filter(len))
    if draw(st.booleans()):
        shape = (draw(st.sampled_from([2, 4, 6, 8, 12])), *shape[1:])
    groups = draw(st.one_of(st.integers(1, 6), st.sampled_from([0, -1])))
    return {"groups": groups}, shape


@settings(max_examples=300, **SETTINGS)
@given(shuffle_cases(), batches, randoms)
def test_channel_shuffle(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    compare("ChannelShuffle", *case, batch, rng)


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_table_rows_valid_in_torch(case: Any) -> None:
    kind = lookup(case.kind).kind
    compare(kind, case.args, case.in_shape, 2, random.Random(case.id))


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_table_rows_refused_as_torch_does(case: Any) -> None:
    kind = lookup(case.kind).kind
    x = torch.zeros((1, *case.in_shape), dtype=torch.float64)
    if case.torch == "rejects":
        with pytest.raises(TORCH_REJECTS):
            torch_run(kind, case.args, x)
    else:
        torch_run(kind, case.args, x)
        assert refused_on_purpose(kind, case.args, case.in_shape)
    with pytest.raises(LayerError):
        make_layer(kind, case.args, case.in_shape)


def test_shufflenet_shuffle_is_its_view_transpose_view() -> None:
    """ShuffleNetV2's channel_shuffle as torchvision writes it: view, transpose(1, 2), view; the same as ours."""
    layer = make_layer("ChannelShuffle", {"groups": 2}, (6, 2, 2))
    x = torch.arange(2 * 24, dtype=torch.float64).reshape(2, 6, 2, 2)
    written = x.view(2, 2, 3, 2, 2).transpose(1, 2).contiguous().view(2, -1, 2, 2)
    ctx = Context()
    ours = layer.forward([Tensor((2, 6, 2, 2), list(range(48)))], {}, ctx)
    assert [float(v) for v in ours.values()] == written.flatten().tolist()
