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
from fractions import Fraction
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


# -- LayerScale ----------------------------------------------------------------------------------------------------


class TorchvisionLayerScale(torch.nn.Module):
    """ConvNeXt's layer scale as torchvision's CNBlock holds it (there a parameter of the block, `layer_scale`):
    torch.ones(dim, 1, 1) * layer_scale_value, multiplied onto the channels-first output."""

    def __init__(self, dim: int, layer_scale_value: float) -> None:
        super().__init__()
        self.layer_scale = torch.nn.Parameter(torch.ones(dim, 1, 1) * layer_scale_value)

    def forward(self, x: Any) -> Any:
        return self.layer_scale * x


class TimmLayerScale(torch.nn.Module):
    """timm.layers.LayerScale (timm is not installed here), transcribed: gamma = init_values * torch.ones(dim),
    x * gamma on a channels-last input."""

    def __init__(self, dim: int, init_values: float = 1e-5) -> None:
        super().__init__()
        self.gamma = torch.nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: Any) -> Any:
        return x * self.gamma


def test_layer_scale_has_the_shapes_of_torchvisions_and_timms() -> None:
    channels_first = make_layer("layerscale", {}, (96, 56, 56))
    theirs = TorchvisionLayerScale(96, 1e-6)
    assert channels_first.weights() == {"gamma": tuple(theirs.state_dict()["layer_scale"].shape)}
    assert channels_first.params() == sum(p.numel() for p in theirs.parameters())
    channels_last = make_layer("layerscale", {"dim": -1}, (56, 56, 96))
    timm = TimmLayerScale(96)
    assert {name: tuple(t.shape) for name, t in timm.state_dict().items()} == channels_last.weights()
    assert channels_last.params() == 96 and channels_last.buffer_count() == 0


@st.composite
def layer_scale_configs(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=3)))
    args: Args = {}
    if draw(st.integers(0, 3)):
        args["dim"] = draw(st.integers(-5, 4))
    if draw(st.booleans()):
        args["init_values"] = draw(st.sampled_from([1e-6, 0.1, 1, 0, -2.5]))
    return args, shape


@settings(max_examples=150, **SETTINGS)
@given(layer_scale_configs())
def test_layer_scale_agrees_with_a_torch_module_of_the_same_form(config: tuple[Args, Shape]) -> None:
    args, shape = config
    x = torch.zeros((2, *shape), dtype=torch.float64)
    dim = args.get("dim", 1)
    try:
        size = x.shape[dim]  # the axis scaled, as torch indexes it
    except IndexError:
        with pytest.raises(LayerError) as caught:
            make_layer("layerscale", args, shape)
        assert caught.value.arg == "dim"
        return
    if dim % x.dim() == 0:  # the batch axis: refused on purpose
        with pytest.raises(LayerError) as caught:
            make_layer("layerscale", args, shape)
        assert "batch axis" in caught.value.message
        return
    layer = make_layer("layerscale", args, shape)
    # The broadcasting form: the axis scaled, then 1 per later axis (torchvision's C x 1 x 1, timm's C).
    gamma = torch.nn.Parameter(
        args.get("init_values", 1e-5) * torch.ones((size,) + (1,) * (x.dim() - 1 - dim % x.dim()))
    )
    assert layer.weights() == {"gamma": tuple(gamma.shape)}
    assert layer.params() == gamma.numel() == size
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        out = x * gamma
    assert tuple(out.shape[1:]) == layer.out_shape == shape
    assert layer.macs() == counter.get_total_flops() // 2 == 0  # a scale is no inner product
    assert layer.other_ops() == prod(shape)  # one multiply per element, as Mul and BatchNorm's scale


@settings(max_examples=150, **SETTINGS)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 3), st.data(), st.integers(0, 2**32))
def test_layer_scale_values_and_gradients_equal_torch(shape: list[int], batch: int, data: Any, seed: int) -> None:
    rank = len(shape)
    dim = data.draw(st.sampled_from([*range(1, rank + 1), *range(-rank, 0)]))
    layer = make_layer("layerscale", {"dim": dim}, tuple(shape))
    rng = random.Random(seed)
    x = random_tensor(rng, (batch, *shape))
    gamma = random_tensor(rng, layer.weights()["gamma"])
    ctx = Context()
    out = layer.forward([x], {"gamma": gamma}, ctx)
    grad = random_tensor(rng, out.shape)
    (dx,), weights = layer.backward([x], {"gamma": gamma}, out, grad, ctx)
    assert ctx.macs == 0

    tx, tgamma = to_torch(x).requires_grad_(True), to_torch(gamma).requires_grad_(True)
    theirs = tx * tgamma
    (theirs * to_torch(grad)).sum().backward()
    assert values_of(out) == theirs.detach().flatten().tolist()
    assert dx is not None and values_of(dx) == tx.grad.flatten().tolist()
    assert values_of(weights["gamma"]) == tgamma.grad.flatten().tolist()


# -- StochasticDepth -----------------------------------------------------------------------------------------------


def torchvision_stochastic_depth(x: Any, p: float, mode: str, training: bool) -> Any:
    """torchvision.ops.stochastic_depth where torchvision imports; else its rule transcribed from torchvision 0.2x
    (torchvision/ops/stochastic_depth.py): p outside [0, 1] or another mode is a ValueError; eval mode or p = 0 is
    the identity; otherwise a Bernoulli(1 - p) noise of shape (N, 1, ..., 1) for 'row' or (1, ..., 1) for 'batch',
    divided by 1 - p when that is above 0 (p = 1: all zeros, no division), multiplied onto the input."""
    try:
        from torchvision.ops import stochastic_depth
    except ImportError:
        pass
    else:
        return stochastic_depth(x, p, mode, training)
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return x
    survival_rate = 1.0 - p
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return x * noise


@pytest.mark.parametrize(("p", "mode"), [(-0.1, "row"), (1.5, "batch"), (0.5, "rows"), (0.5, "sample")])
def test_stochastic_depth_refuses_what_torchvision_refuses(p: float, mode: str) -> None:
    with pytest.raises(ValueError):
        torchvision_stochastic_depth(torch.zeros(2, 3), p, mode, True)
    with pytest.raises(LayerError):
        make_layer("stochasticdepth", {"p": p, "mode": mode}, (3,))


@settings(max_examples=100, **SETTINGS)
@given(
    st.lists(st.integers(0, 4), min_size=0, max_size=3),
    st.integers(1, 3),
    st.sampled_from([0, 0.2, 0.5, 1.0]),
    st.sampled_from(["row", "batch"]),
    st.integers(0, 2**32),
)
def test_stochastic_depth_is_the_identity_in_eval(shape: list[int], batch: int, p: float, mode: str, seed: int) -> None:
    layer = make_layer("stochasticdepth", {"p": p, "mode": mode}, tuple(shape))
    assert layer.out_shape == tuple(shape) and layer.params() == layer.macs() == layer.other_ops() == 0
    x = random_tensor(random.Random(seed), (batch, *shape))
    out = layer.forward([x], {}, Context(mode="eval"))
    theirs = torchvision_stochastic_depth(to_torch(x), p, mode, training=False)
    assert values_of(out) == theirs.flatten().tolist() == values_of(x)


def train_masks(layer: Layer, x: Tensor, seed: int) -> tuple[Tensor, Context]:
    ctx = Context(mode="train", seed=seed)
    ctx.layer = "drop"
    return layer.forward([x], {}, ctx), ctx


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_stochastic_depth_row_drops_whole_samples_at_rate_p_and_scales_the_rest(p: float) -> None:
    batch = 4000
    layer = make_layer("stochasticdepth", {"p": p, "mode": "row"}, (2, 3))
    x = Tensor((batch, 2, 3), [1 + i % 5 for i in range(batch * 6)])
    out, _ = train_masks(layer, x, seed=1)
    keep = 1 - Fraction(str(p))
    dropped = 0
    outputs, inputs = out.values(), x.values()
    for sample in range(batch):
        mine = outputs[sample * 6 : (sample + 1) * 6]
        given_ = inputs[sample * 6 : (sample + 1) * 6]
        if all(v == 0 for v in mine):
            dropped += 1
        else:
            assert mine == [v / keep for v in given_]  # the whole sample, scaled by exactly 1 / (1 - p)
    theirs = torchvision_stochastic_depth(torch.ones(batch, 2, 3, dtype=torch.float64), p, "row", training=True)
    their_rows = theirs.reshape(batch, 6)
    their_dropped = int((their_rows == 0).all(dim=1).sum())
    assert set(their_rows.flatten().tolist()) <= {0.0, 1 / (1 - p)}  # torch's rule: the same two outcomes
    spread = 5 * (p * (1 - p) / batch) ** 0.5  # five standard deviations of a binomial rate
    assert abs(dropped / batch - p) < spread and abs(their_dropped / batch - p) < spread


def test_stochastic_depth_batch_drops_the_whole_batch_at_rate_p() -> None:
    p, runs = 0.3, 2000
    layer = make_layer("stochasticdepth", {"p": p, "mode": "batch"}, (2,))
    x = Tensor((3, 2), [1, 2, 3, 4, 5, 6])
    dropped = 0
    for seed in range(runs):
        out, _ = train_masks(layer, x, seed)
        if all(v == 0 for v in out.values()):
            dropped += 1
        else:
            assert out.values() == [v / (1 - Fraction(str(p))) for v in x.values()]  # one draw for every sample
    theirs = [torchvision_stochastic_depth(torch.ones(3, 2), p, "batch", True) for _ in range(runs)]
    assert all(len(set(t.flatten().tolist())) == 1 for t in theirs)  # torch's: all kept or all dropped too
    their_dropped = sum(bool((t == 0).all()) for t in theirs)
    spread = 5 * (p * (1 - p) / runs) ** 0.5
    assert abs(dropped / runs - p) < spread and abs(their_dropped / runs - p) < spread


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_p_one_zeroes_and_p_zero_keeps_in_training(mode: str) -> None:
    x = Tensor((2, 3), [1, -2, 3, 4, 5, -6], 2)
    for p, expected in ((1.0, [0.0] * 6), (0.0, values_of(x))):
        layer = make_layer("stochasticdepth", {"p": p, "mode": mode}, (3,))
        out, _ = train_masks(layer, x, seed=0)
        theirs = torchvision_stochastic_depth(to_torch(x), p, mode, training=True)
        assert values_of(out) == theirs.flatten().tolist() == expected


@settings(max_examples=100, **SETTINGS)
@given(
    st.lists(st.integers(1, 3), min_size=0, max_size=3),
    st.integers(1, 4),
    st.sampled_from([0.2, 0.5, 0.75]),
    st.sampled_from(["row", "batch"]),
    st.integers(0, 2**32),
)
def test_stochastic_depth_train_values_and_gradients_follow_the_mask(
    shape: list[int], batch: int, p: float, mode: str, seed: int
) -> None:
    """Given the mask cnncalc drew, torch's x * noise (noise = mask / (1 - p), the rule above) and its autograd
    must give cnncalc's output and input gradient exactly."""
    layer = make_layer("stochasticdepth", {"p": p, "mode": mode}, tuple(shape))
    rng = random.Random(seed)
    x = random_tensor(rng, (batch, *shape))
    out, ctx = train_masks(layer, x, seed)
    kept = layer.kept(x.shape, ctx)
    assert len(kept) == (batch if mode == "row" else 1)
    grad = random_tensor(rng, out.shape)
    (dx,), _ = layer.backward([x], {}, out, grad, ctx)
    noise_shape = [batch] + [1] * len(shape) if mode == "row" else [1] * (len(shape) + 1)
    noise = torch.tensor([1.0 if k else 0.0 for k in kept], dtype=torch.float64).reshape(noise_shape) / (1 - p)
    tx = to_torch(x).requires_grad_(True)
    theirs = tx * noise
    (theirs * to_torch(grad)).sum().backward()
    for mine, value in zip(values_of(out), theirs.detach().flatten().tolist(), strict=True):
        assert mine == pytest.approx(value, rel=1e-15, abs=0)  # 1 / (1 - p) is exact for us, rounded in torch
    for mine, value in zip(values_of(dx), tx.grad.flatten().tolist(), strict=True):
        assert mine == pytest.approx(value, rel=1e-15, abs=0)


# -- receptive fields: the window of a piece against autograd ------------------------------------------------------


@settings(max_examples=80, **SETTINGS)
@given(valid_pieces())
def test_piece_windows_are_the_inputs_autograd_reaches(drawn: tuple[Layer, int]) -> None:
    """Along every spatial axis, output position j of a piece depends on exactly the input positions its window
    names, j*s - p ... j*s - p + e: j itself, or offset + j along the cut axis."""
    layer, _ = drawn
    window = layer.window()
    if window is None:
        assert len(layer.in_shape) == 1  # a vector per sample has no spatial axis
        return
    if not prod(layer.out_shape):
        return  # an empty piece reads nothing
    args = {arg.name: getattr(layer, arg.name) for arg in layer.arguments}
    cut = args.get("chunks", args.get("split_size_or_sections"))
    function = torch.chunk if layer.kind == "Chunk" else torch.split
    for axis, w in enumerate(window, start=2):  # the batched tensor's spatial axes
        for j in range(layer.out_shape[axis - 1]):
            x = torch.ones((1, *layer.in_shape), dtype=torch.float64, requires_grad=True)
            piece = function(x, list(cut) if isinstance(cut, tuple) else cut, args["dim"])[args["index"]]
            piece.narrow(axis, j, 1).sum().backward()
            reached = x.grad.sum(dim=[d for d in range(x.dim()) if d != axis]).nonzero().flatten().tolist()
            assert reached == list(range(j * w.stride - w.padding, j * w.stride - w.padding + w.extent + 1))
