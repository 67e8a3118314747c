"""Executor values against torch in float64: Linear, Flatten, Identity, the merges (Add, Concat, Mul), Upsample in
every mode, the padding layers, CenterCrop and ConvTranspose1d/2d/3d; then hand-computed table cases.

Inputs and weights are small integers over a denominator of 1, 2 or 4 (and of 3 or 5 where said), drawn by
hypothesis, so every value torch sees is exactly a double. Where torch's arithmetic is exact too (copies, and sums
and products of such short binary fractions: linear and transposed-convolution layers, merges of dyadic values,
padding, nearest resizing, cropping) every output must equal torch's exactly, after rounding our exact value to the
nearest double. Where torch rounds (the weights of linear, bilinear, trilinear and bicubic interpolation, merges of
thirds and fifths), every output must agree within 1e-9 of the largest input magnitude (a relative error taken on
the scale of the values summed, since a sum of rounded terms may cancel to almost 0).

Torch runs the very layer cnncalc built (tests/torch_graph.py turns a layer into its torch.nn module or function),
with cnncalc's parameter values loaded by state_dict name. Transposed convolutions must also count exactly
C_in * prod(input) * C_out / groups * prod(kernel) multiplies per sample.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Iterator
from fractions import Fraction
from math import prod
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.compute import Context
from cnncalc.errors import LayerError
from cnncalc.layers import Layer, Shape, make_layer
from cnncalc.layers.resize import exact_factor, interpolation_taps, nearest_sources
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")
from torch_graph import torch_op  # noqa: E402  (imports torch itself)

SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
Args = dict[str, Any]
DYADIC = (1, 2, 4)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny tensors: torch's thread pool only adds waiting."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- running both sides -------------------------------------------------------------------------------------------


def random_tensor(rng: random.Random, shape: Shape, denominators: tuple[int, ...] = DYADIC) -> Tensor:
    return Tensor(shape, [rng.randint(-4, 4) for _ in range(prod(shape))], rng.choice(denominators))


def to_torch(tensor: Tensor) -> Any:
    return torch.tensor([float(v) for v in tensor.values()], dtype=torch.float64).reshape(tensor.shape)


def run_both(
    layer: Layer, xs: list[Tensor], rng: random.Random, mode: str = "eval"
) -> tuple[Tensor, Any, Context, dict[str, Tensor]]:
    """cnncalc's forward and torch's output on the same inputs and parameters (drawn from `rng`)."""
    params = {name: random_tensor(rng, shape, (1, 2)) for name, shape in {**layer.weights(), **layer.buffers()}.items()}
    ctx = Context(mode=mode)
    ctx.layer = "layer"
    ours = layer.forward(xs, params, ctx)
    op, module = torch_op(layer)
    if module is not None:
        module = module.double().train(mode == "train")
        module.load_state_dict({name: to_torch(t) for name, t in params.items()})
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = op([to_torch(x) for x in xs])
    assert ours.shape == tuple(theirs.shape) == (xs[0].shape[0], *layer.out_shape)
    assert not ours.approximate and all(type(v) is int for v in ours.data) and ours.denominator >= 1
    return ours, theirs, ctx, params


def assert_exact(ours: Tensor, theirs: Any) -> None:
    mine = [float(v) for v in ours.values()]
    assert mine == theirs.flatten().tolist()


def assert_close(ours: Tensor, theirs: Any, inputs: list[Tensor]) -> None:
    scale = max([1.0] + [abs(float(v)) for x in inputs for v in x.values()])
    for index, (mine, value) in enumerate(zip(ours.values(), theirs.flatten().tolist(), strict=True)):
        assert abs(float(mine) - value) <= 1e-9 * scale, f"element {index}: exact {mine}, torch {value}"


def valid_layer(kind: str, args: Args, *shapes: Shape) -> Layer:
    """The layer, or hypothesis looks for another configuration (validity is tested in test_torch_*.py)."""
    try:
        return make_layer(kind, args, *shapes)
    except LayerError:
        assume(False)
        raise


def sizes(draw: st.DrawFn, count: int, low: int, high: int) -> tuple[int, ...]:
    return tuple(draw(st.lists(st.integers(low, high), min_size=count, max_size=count)))


def per_axis(draw: st.DrawFn, values: tuple[int, ...]) -> int | list[int]:
    """One value for every axis when they agree and hypothesis likes, else the list."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return list(values)


batches = st.integers(1, 2)


# -- Linear, Flatten, Identity --------------------------------------------------------------------------------------


@st.composite
def linear_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = sizes(draw, draw(st.integers(1, 3)), 1, 4)
    args: Args = {"out_features": draw(st.integers(1, 4))}
    if draw(st.booleans()):
        args["bias"] = draw(st.booleans())
    return args, shape


@settings(max_examples=200, **SETTINGS)
@given(linear_cases(), batches, st.randoms(use_true_random=False))
def test_linear_values(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    args, shape = case
    layer = make_layer("Linear", args, shape)
    x = random_tensor(rng, (batch, *shape))
    ours, theirs, ctx, _ = run_both(layer, [x], rng)
    assert_exact(ours, theirs)
    assert ctx.macs == batch * prod(shape[:-1]) * shape[-1] * args["out_features"]


@st.composite
def flatten_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    shape = sizes(draw, draw(st.integers(0, 4)), 1, 3)
    rank = len(shape) + 1  # torch counts the batch axis
    start = draw(st.integers(-rank, rank - 1))
    end = draw(st.integers(-rank, rank - 1))
    assume(start % rank <= end % rank and not (start % rank == 0 and end % rank > 0))
    return {"start_dim": start, "end_dim": end}, shape


@settings(max_examples=100, **SETTINGS)
@given(flatten_cases(), batches, st.randoms(use_true_random=False))
def test_flatten_and_identity_values(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    args, shape = case
    x = random_tensor(rng, (batch, *shape))
    for layer in (make_layer("Flatten", args, shape), make_layer("Identity", {}, shape)):
        ours, theirs, ctx, _ = run_both(layer, [x], rng)
        assert_exact(ours, theirs)
        assert ctx.macs == 0


# -- merges ---------------------------------------------------------------------------------------------------------


@st.composite
def merge_cases(draw: st.DrawFn) -> tuple[str, Args, tuple[Shape, ...]]:
    kind = draw(st.sampled_from(["Add", "Concat", "Mul"]))
    rank = draw(st.integers(1, 3))
    base = sizes(draw, rank, 1, 3)
    count = draw(st.integers(2, 3))
    args: Args = {}
    if kind == "Add":
        shapes = [base] * count
    elif kind == "Concat":
        axis = draw(st.integers(0, rank - 1))
        args["dim"] = draw(st.sampled_from([axis + 1, axis - rank]))  # torch.cat's dim, from either end
        shapes = [base[:axis] + (draw(st.integers(1, 3)),) + base[axis + 1 :] for _ in range(count)]
    else:  # broadcasting: any axis of any input may be 1
        shapes = [tuple(1 if draw(st.integers(0, 2)) == 0 else size for size in base) for _ in range(count)]
    return kind, args, tuple(shapes)


@settings(max_examples=300, **SETTINGS)
@given(merge_cases(), batches, st.booleans(), st.randoms(use_true_random=False))
def test_merge_values(case: tuple[str, Args, tuple[Shape, ...]], batch: int, dyadic: bool, rng: random.Random) -> None:
    kind, args, shapes = case
    layer = make_layer(kind, args, *shapes)
    denominators = DYADIC if dyadic else (1, 3, 5, 6)
    xs = [random_tensor(rng, (batch, *shape), denominators) for shape in shapes]
    ours, theirs, ctx, _ = run_both(layer, xs, rng)
    # Concat only copies, so torch is exact even for thirds; sums and products of thirds are rounded.
    if dyadic or kind == "Concat":
        assert_exact(ours, theirs)
    else:
        assert_close(ours, theirs, xs)
    assert ctx.macs == 0


# -- ConvTranspose --------------------------------------------------------------------------------------------------

TCONV_SIZES = {1: 5, 2: 3, 3: 2}


@st.composite
def conv_transpose_cases(draw: st.DrawFn) -> tuple[str, Args, Shape]:
    dims = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    kernel = sizes(draw, dims, 1, 3 if dims < 3 else 2)
    stride = sizes(draw, dims, 1, 3)
    dilation = sizes(draw, dims, 1, 2)
    # output_padding must be smaller than the stride or the dilation (PyTorch's rule, checked by the layer).
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    args: Args = {
        "out_channels": groups * draw(st.integers(1, 2)),
        "kernel_size": per_axis(draw, kernel),
        "stride": per_axis(draw, stride),
        "dilation": per_axis(draw, dilation),
        "padding": per_axis(draw, sizes(draw, dims, 0, 2)),
        "output_padding": per_axis(draw, output_padding),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return f"ConvTranspose{dims}d", args, (in_channels, *sizes(draw, dims, 1, TCONV_SIZES[dims]))


@settings(max_examples=300, **SETTINGS)
@given(conv_transpose_cases(), batches, st.randoms(use_true_random=False))
def test_conv_transpose_values(case: tuple[str, Args, Shape], batch: int, rng: random.Random) -> None:
    kind, args, shape = case
    layer = valid_layer(kind, args, shape)  # large paddings make the output collapse
    x = random_tensor(rng, (batch, *shape))
    ours, theirs, ctx, _ = run_both(layer, [x], rng)
    assert_exact(ours, theirs)
    kernel = layer.weights()["weight"][2:]
    # The scatter really performed: every input element meets every tap of its group's filters.
    assert ctx.macs == batch * prod(shape) * (args["out_channels"] // args["groups"]) * prod(kernel)


# -- Upsample -------------------------------------------------------------------------------------------------------

MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
FACTORS = (0.29, 1 / 3, 0.5, 0.7, 1, 1.1, 1.25, 1.5, 1.7, 2, 2.1, 2.3, 2.5, 3, 4)
factors = st.one_of(st.sampled_from(FACTORS), st.builds(round, st.floats(0.3, 4.5), st.integers(1, 3)))


@st.composite
def upsample_cases(draw: st.DrawFn) -> tuple[Args, Shape]:
    mode = draw(st.sampled_from(["nearest", "nearest-exact", *MODE_DIMS]))
    dims = MODE_DIMS.get(mode) or draw(st.integers(1, 3))
    top = (7, 5, 3)[dims - 1]
    shape = (draw(st.integers(1, 2)), *sizes(draw, dims, 1, top))
    args: Args = {"mode": mode}
    if draw(st.booleans()):
        args["size"] = per_axis(draw, sizes(draw, dims, 1, top + 3))
    else:
        args["scale_factor"] = per_axis(draw, tuple(draw(factors) for _ in range(dims)))
        if draw(st.booleans()):
            args["recompute_scale_factor"] = draw(st.booleans())
    if mode in MODE_DIMS and draw(st.booleans()):
        args["align_corners"] = draw(st.booleans())
    return args, shape


@settings(max_examples=400, **SETTINGS)
@given(upsample_cases(), batches, st.randoms(use_true_random=False))
def test_upsample_values(case: tuple[Args, Shape], batch: int, rng: random.Random) -> None:
    args, shape = case
    layer = valid_layer("Upsample", args, shape)  # factors that leave no output element
    x = random_tensor(rng, (batch, *shape))
    ours, theirs, ctx, _ = run_both(layer, [x], rng)
    if args["mode"].startswith("nearest"):
        assert_exact(ours, theirs)
    else:
        assert_close(ours, theirs, [x])
    assert ctx.macs == 0


@st.composite
def long_rows(draw: st.DrawFn) -> tuple[Args, Shape]:
    """2-D nearest resizing of long rows, so the output's H + W falls on both sides of 128, where PyTorch switches
    between its two CPU kernels (single- and double-precision source indices)."""
    mode = draw(st.sampled_from(["nearest", "nearest-exact"]))
    shape = (1, draw(st.integers(1, 3)), draw(st.integers(20, 64)))
    args: Args = {"mode": mode, "scale_factor": [draw(factors), draw(st.sampled_from([1.3, 1.7, 2.1, 2.3, 2.7]))]}
    if draw(st.booleans()):
        args["recompute_scale_factor"] = True
    return args, shape


@settings(max_examples=100, **SETTINGS)
@given(long_rows(), st.randoms(use_true_random=False))
def test_upsample_nearest_kernels(case: tuple[Args, Shape], rng: random.Random) -> None:
    args, shape = case
    layer = valid_layer("Upsample", args, shape)
    # Each input element distinct, so the comparison checks every index read.
    x = Tensor((1, *shape), list(range(prod(shape))))
    ours, theirs, _, _ = run_both(layer, [x], rng)
    assert_exact(ours, theirs)


# -- padding and cropping -------------------------------------------------------------------------------------------

PAD_FAMILIES = ("Zero", "Constant", "Reflection", "Replication", "Circular")
PAD_VALUES = (0, 1, -2, 0.5, 0.1, 2.75, -1.3, 1e-3)


@st.composite
def pad_cases(draw: st.DrawFn) -> tuple[str, Args, Shape]:
    family = draw(st.sampled_from(PAD_FAMILIES))
    dims = draw(st.integers(1, 3))
    spatial = sizes(draw, dims, 1, (5, 4, 3)[dims - 1])
    # Constant padding takes any number of leading axes; the others C x spatial or spatial alone.
    leading = draw(st.integers(0, 2 if family in ("Zero", "Constant") else 1))
    shape = sizes(draw, leading, 1, 2) + spatial
    pads = []
    for length in reversed(spatial):  # PyTorch's order: the last axis first
        pads += [draw(st.integers(-length, length)), draw(st.integers(-length, length))]
    args: Args = {"padding": pads[0] if len(set(pads)) == 1 and draw(st.booleans()) else pads}
    if family == "Constant":
        args["value"] = draw(st.sampled_from(PAD_VALUES))
    return f"{family}Pad{dims}d", args, shape


@settings(max_examples=400, **SETTINGS)
@given(pad_cases(), batches, st.randoms(use_true_random=False))
def test_padding_values(case: tuple[str, Args, Shape], batch: int, rng: random.Random) -> None:
    kind, args, shape = case
    layer = valid_layer(kind, args, shape)  # reflection past the edge, crops past the size, ...
    x = random_tensor(rng, (batch, *shape))
    ours, theirs, ctx, _ = run_both(layer, [x], rng)
    assert_exact(ours, theirs)  # a value such as 0.1 is exactly 1/10 here, and the same double after rounding
    assert ctx.macs == 0


@st.composite
def crop_cases(draw: st.DrawFn) -> tuple[Args, tuple[Shape, ...]]:
    dims = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), *sizes(draw, dims, 1, (7, 6, 4)[dims - 1]))
    target = tuple(draw(st.integers(1, length)) for length in shape[1:])
    if draw(st.booleans()):
        return {}, (shape, (draw(st.integers(1, 3)), *target))
    return {"size": per_axis(draw, target)}, (shape,)


@settings(max_examples=150, **SETTINGS)
@given(crop_cases(), batches, st.randoms(use_true_random=False))
def test_center_crop_values(case: tuple[Args, tuple[Shape, ...]], batch: int, rng: random.Random) -> None:
    args, shapes = case
    layer = make_layer("CenterCrop", args, *shapes)
    xs = [random_tensor(rng, (batch, *shape)) for shape in shapes]
    ours, theirs, _, _ = run_both(layer, xs, rng)
    assert_exact(ours, theirs)


# -- hand-computed table cases ---------------------------------------------------------------------------------------


def run_ours(kind: str, args: Args, x: Tensor, params: dict[str, Tensor]) -> tuple[Tensor, Context]:
    layer = make_layer(kind, args, x.shape[1:])
    ctx = Context()
    return layer.forward([x], params, ctx), ctx


def test_lecture_cross_kernel_on_a_5x5_image() -> None:
    """The lecture's 3x3 cross kernel, no padding: each output counts the 4 neighbours of the pixel under the
    kernel's centre (up, left, right, down)."""
    image = [
        [1, 0, 1, 0, 0],
        [0, 1, 1, 0, 1],
        [1, 1, 0, 1, 0],
        [0, 0, 1, 1, 1],
        [1, 0, 0, 1, 0],
    ]
    cross = [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    x = Tensor((1, 1, 5, 5), [v for row in image for v in row])
    weight = Tensor((1, 1, 3, 3), [v for row in cross for v in row])
    out, ctx = run_ours("Conv2d", {"out_channels": 1, "kernel_size": 3, "bias": False}, x, {"weight": weight})
    # By hand, e.g. the centre: above 1 (row 1, col 2), left 1, right 1, below 1 -> 4.
    assert out.nested() == [[[[2, 2, 3], [2, 4, 1], [2, 1, 4]]]]
    assert ctx.macs == 9 * 9  # 9 outputs, 9 taps each (the zeros of the kernel multiply too)
    conv = torch.nn.functional.conv2d(to_torch(x), to_torch(weight))
    assert_exact(out, conv)


def test_transposed_conv_2x2_stride_2_by_hand() -> None:
    """Kernel 2, stride 2: every input pixel stamps its own 2x2 copy of the kernel, scaled by its value, and the
    stamps tile the output without overlapping."""
    x = Tensor((1, 1, 2, 2), [1, 2, 3, 4])
    kernel = Tensor((1, 1, 2, 2), [1, 0, 2, -1])  # [[1, 0], [2, -1]]
    args = {"out_channels": 1, "kernel_size": 2, "stride": 2, "bias": False}
    out, ctx = run_ours("ConvTranspose2d", args, x, {"weight": kernel})
    assert out.nested() == [
        [
            [
                [1, 0, 2, 0],
                [2, -1, 4, -2],
                [3, 0, 4, 0],
                [6, -3, 8, -4],
            ]
        ]
    ]
    assert ctx.macs == 4 * 4  # 4 input pixels x 4 taps, not 16 outputs x 4 taps
    assert_exact(out, torch.nn.functional.conv_transpose2d(to_torch(x), to_torch(kernel), stride=2))


def test_transposed_conv_overlap_and_padding_by_hand() -> None:
    """Stride 1: neighbouring stamps overlap and add; padding 1 then removes the first and last full output."""
    x = Tensor((1, 1, 3), [1, 2, 3], 2)  # 1/2, 1, 3/2
    kernel = Tensor((1, 1, 3), [1, 1, 1])
    full, _ = run_ours("ConvTranspose1d", {"out_channels": 1, "kernel_size": 3, "bias": False}, x, {"weight": kernel})
    # Full output (L-1)*s + k = 5: sums of the stamps 1/2 at 0..2, 1 at 1..3, 3/2 at 2..4.
    assert full.values() == [Fraction(1, 2), Fraction(3, 2), 3, Fraction(5, 2), Fraction(3, 2)]
    args = {"out_channels": 1, "kernel_size": 3, "padding": 1, "bias": False}
    cropped, _ = run_ours("ConvTranspose1d", args, x, {"weight": kernel})
    assert cropped.values() == full.values()[1:-1]


def test_concat_of_different_denominators() -> None:
    """Halves and thirds: the result holds both over the common denominator 6."""
    halves = Tensor((1, 1, 2), [1, 3], 2)  # 1/2, 3/2
    thirds = Tensor((1, 2, 2), [1, 2, -1, 4], 3)  # 1/3, 2/3, -1/3, 4/3
    layer = make_layer("Concat", {}, (1, 2), (2, 2))
    out = layer.forward([halves, thirds], {}, Context())
    assert out.shape == (1, 3, 2)
    assert out.denominator == 6 and out.data == [3, 9, 2, 4, -2, 8]
    assert out.values() == [
        Fraction(1, 2),
        Fraction(3, 2),
        Fraction(1, 3),
        Fraction(2, 3),
        Fraction(-1, 3),
        Fraction(4, 3),
    ]


def test_bicubic_halfway_weights() -> None:
    """Halving a row with bicubic: every source position lies halfway between two inputs (t = 1/2), where Keys'
    kernel with a = -3/4 weighs the four neighbours -3/32, 19/32, 19/32, -3/32; at the left edge the taps before
    the input clamp to index 0 and their weights add up: (-3 + 19)/32 = 1/2."""
    taps, denominator = interpolation_taps(8, 4, Fraction(2), align_corners=False, cubic=True)
    weights = [{index: Fraction(w, denominator) for index, w in row} for row in taps]
    assert weights[1] == {1: Fraction(-3, 32), 2: Fraction(19, 32), 3: Fraction(19, 32), 4: Fraction(-3, 32)}
    assert weights[0] == {0: Fraction(1, 2), 1: Fraction(19, 32), 2: Fraction(-3, 32)}
    assert all(sum(row.values()) == 1 for row in weights)


def test_nearest_reads_what_torch_reads_not_exact_arithmetic() -> None:
    """nearest-exact at scale 2.3 on a 1 x 16 image: output 34's source is exactly 34.5 / 2.3 = 15, but PyTorch's
    single-precision kernel (2-D, small output) computes 14.999999... and reads input 14. The executor does too;
    the 1-D kernel, in double precision, reads 15."""
    row = list(range(16))
    two_d = make_layer("Upsample", {"scale_factor": 2.3, "mode": "nearest-exact"}, (1, 1, 16))
    out = two_d.forward([Tensor((1, 1, 1, 16), row)], {}, Context())
    theirs = torch.nn.Upsample(scale_factor=2.3, mode="nearest-exact")(
        torch.tensor(row, dtype=torch.float64).reshape(1, 1, 1, 16)
    )
    assert_exact(out, theirs)
    assert math.floor((34 + Fraction(1, 2)) / exact_factor(2.3)) == 15 and out.data[34] == 14
    assert nearest_sources(16, 36, 2.3, exact=True, single=False)[34] == 15
    one_d = make_layer("Upsample", {"scale_factor": 2.3, "mode": "nearest-exact"}, (1, 16))
    assert one_d.forward([Tensor((1, 1, 16), row)], {}, Context()).data[34] == 15


def test_linear_family_copies_an_unchanged_axis() -> None:
    """Scale factor 1.1 on 5 pixels gives 5 again: bilinear copies that axis (PyTorch special-cases equal sizes),
    while bicubic still interpolates with scale 1/1.1."""
    x = Tensor((1, 1, 1, 5), [0, 1, 2, 3, 4])
    for mode in ("bilinear", "bicubic"):
        layer = make_layer("Upsample", {"scale_factor": [1, 1.1], "mode": mode}, (1, 1, 5))
        out = layer.forward([x], {}, Context())
        theirs = torch.nn.Upsample(scale_factor=(1.0, 1.1), mode=mode)(to_torch(x))
        assert_close(out, theirs, [x])
        assert (out.values() == x.values()) == (mode == "bilinear")


def test_circular_padding_crops_before_wrapping() -> None:
    """padding (-1, 2) on 0 1 2 3 4: PyTorch crops the 0 first and wraps around what is left: 1 2 3 4 1 2.
    Reflection and replication mirror and repeat the whole input's edge instead: 1 2 3 4 3 2 and 1 2 3 4 4 4."""
    x = Tensor((1, 1, 5), [0, 1, 2, 3, 4])
    expected = {"Circular": [1, 2, 3, 4, 1, 2], "Reflection": [1, 2, 3, 4, 3, 2], "Replication": [1, 2, 3, 4, 4, 4]}
    for family, values in expected.items():
        out, _ = run_ours(f"{family}Pad1d", {"padding": [-1, 2]}, x, {})
        assert out.data == values
        assert_exact(out, getattr(torch.nn, f"{family}Pad1d")((-1, 2))(to_torch(x)))


def test_constant_padding_value_is_the_decimal_written() -> None:
    x = Tensor((1, 1, 2), [1, 3], 2)
    out, _ = run_ours("ConstantPad1d", {"padding": 1, "value": 0.1}, x, {})
    assert out.values() == [Fraction(1, 10), Fraction(1, 2), Fraction(3, 2), Fraction(1, 10)]
    assert_exact(out, torch.nn.ConstantPad1d(1, 0.1)(to_torch(x)))


def test_mul_of_different_ranks_follows_torch_or_says_why() -> None:
    """Inputs of different ranks align from the right with the batch axis included, as in torch: per-sample 2 x 3
    and 3 with a batch of 2 are 2 x 2 x 3 and 2 x 3, so the second input's batch axis meets the channels (the
    layer warns); the executor computes what torch computes. Per-sample 3 x 3 and 3 with a batch of 2 do not
    broadcast at all (3 x 3 against 2 x 3), which torch rejects and the executor refuses, naming the inputs."""
    layer = make_layer("Mul", {}, (2, 3), (3,))
    assert layer.warnings
    for batch in (1, 2):
        xs = [Tensor((batch, 2, 3), list(range(6 * batch))), Tensor((batch, 3), list(range(1, 3 * batch + 1)), 2)]
        assert_exact(layer.forward(xs, {}, Context()), torch.mul(*(to_torch(t) for t in xs)))
    layer = make_layer("Mul", {}, (3, 3), (3,))
    xs = [Tensor((2, 3, 3), list(range(18))), Tensor((2, 3), list(range(6)))]
    with pytest.raises(RuntimeError):
        torch.mul(*(to_torch(t) for t in xs))
    with pytest.raises(LayerError) as error:
        layer.forward(xs, {}, Context())
    assert error.value.arg == "inputs" and "batch of 2" in error.value.message
