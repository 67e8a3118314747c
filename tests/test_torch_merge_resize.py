"""Merges, Upsample, the padding layers and CenterCrop against PyTorch, on drawn configurations valid and invalid.

For every drawn configuration cnncalc's layer (via `make_layer`) and PyTorch run on zeros float64 tensors
(1, *in_shape): torch.add / torch.cat / torch.mul for the merges, torch.nn.Upsample and torch.nn.<Kind>Pad<d>d for
the others, and for CenterCrop (no torch.nn class) a hand-written slice at torchvision's offsets. Valid: the same
output shape. A configuration PyTorch rejects must raise LayerError naming an argument.

Where PyTorch accepts what cnncalc refuses on purpose, the test asserts the configuration lies in that documented
region and nothing else (each is also a row of tests/test_kinds_merge_resize.py):
- Add of shapes that differ (torch.add broadcasts; a residual sum that broadcasts is a wiring mistake);
- Concat along dim 0, the batch axis (torch.cat joins samples);
- constant padding of more axes than a sample has (F.pad pads the batch axis);
- circular padding whose negative side crops the axis below what the other side wraps (PyTorch does not check
  and copies uninitialised memory into the output).
Drawn domains leave out what is rejected by argument parsing alone and would only retest args.py (booleans and
strings for numbers, padding lists of another length, mode 'area'); the table rows cover those.

Receptive-field windows are checked against autograd: the inputs an output element reads along an axis are those
with a non-zero gradient.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from fractions import Fraction
from functools import reduce
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cnncalc.errors import LayerError
from cnncalc.layers import Layer, Shape, Window, make_layer
from cnncalc.layers.base import axis_names

torch = pytest.importorskip("torch")
from test_kinds_merge_resize import BAD, GOOD  # noqa: E402  (the hand-checked rows, once more against torch)

TORCH_REJECTS = (ValueError, RuntimeError, TypeError, NotImplementedError, IndexError)
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}

Args = dict[str, Any]
Shapes = tuple[Shape, ...]
Divergence = Callable[[str, Args, Shapes], str | None]

PAD_FAMILIES = ("Zero", "Constant", "Reflection", "Replication", "Circular")
PAD_KINDS = [f"{family}Pad{dims}d" for family in PAD_FAMILIES for dims in (1, 2, 3)]
UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact")


# -- running both sides -------------------------------------------------------------------------------------------


def tupled(value: Any) -> Any:
    """YAML lists are torch's tuples (nn.Upsample takes a tuple scale_factor, not a list)."""
    return tuple(value) if isinstance(value, list) else value


def crop_offsets(in_shape: Shape, target: Shape) -> tuple[int, ...]:
    """torchvision.transforms.functional.center_crop's start per axis."""
    return tuple(int(round((length - wanted) / 2.0)) for length, wanted in zip(in_shape[1:], target, strict=True))


def crop_target(args: Args, shapes: Shapes) -> Shape | None:
    """The spatial size CenterCrop should produce, or None when the configuration is invalid (written out by hand
    from the rules in the brief: one of size and a second input, a spatial axis, a crop no larger than the input)."""
    spatial = len(shapes[0]) - 1
    size = args.get("size")
    if spatial < 1 or len(shapes) > 2 or (size is None) == (len(shapes) == 1):
        return None
    if len(shapes) == 2:
        if len(shapes[1]) != len(shapes[0]):
            return None
        target = shapes[1][1:]
    elif isinstance(size, list):
        if len(size) != spatial or min(size) < 1:
            return None
        target = tuple(size)
    else:
        if size < 1:
            return None
        target = (size,) * spatial
    return target if all(t <= length for t, length in zip(target, shapes[0][1:], strict=True)) else None


def torch_function(kind: str, args: Args, shapes: Shapes) -> Callable[..., Any]:
    if kind == "Add":
        return lambda *xs: reduce(torch.add, xs)
    if kind == "Mul":
        return lambda *xs: reduce(torch.mul, xs)
    if kind == "Concat":
        return lambda *xs: torch.cat(xs, dim=args.get("dim", 1))
    if kind == "CenterCrop":
        target = crop_target(args, shapes)
        if target is None:
            raise ValueError("invalid CenterCrop")
        starts = crop_offsets(shapes[0], target)
        cut = (slice(None), slice(None)) + tuple(slice(s, s + t) for s, t in zip(starts, target, strict=True))
        return lambda *xs: xs[0][cut]
    return getattr(torch.nn, kind)(**{name: tupled(value) for name, value in args.items()})


def run_torch(kind: str, args: Args, shapes: Shapes) -> tuple[int, ...] | Exception:
    """The full output shape (batch axis first) of PyTorch on zeros (1, *shape), or what it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function = torch_function(kind, args, shapes)
            output = function(*(torch.zeros((1, *shape), dtype=torch.float64) for shape in shapes))
    except TORCH_REJECTS as error:
        return error
    return tuple(output.shape)


def compare(kind: str, args: Args, shapes: Shapes, divergence: Divergence | None = None) -> Layer | None:
    """Assert cnncalc and PyTorch agree on this configuration; return our layer when it is valid."""
    ours: Layer | LayerError
    try:
        ours = make_layer(kind, args, *shapes)
    except LayerError as error:
        ours = error
    theirs = run_torch(kind, args, shapes)
    where = f"{kind}({args}) on {' and '.join(str(s) for s in shapes)}"
    if isinstance(theirs, Exception):
        assert isinstance(ours, LayerError), f"torch rejects {where}: {theirs}; cnncalc gives {ours.out_shape}"
        assert ours.arg, f"the error should name its argument: {ours.message}"
        event(f"invalid: {ours.arg}")
        return None
    if isinstance(ours, LayerError):
        reason = divergence(kind, args, shapes) if divergence else None
        assert reason, f"cnncalc rejects {where}, which torch runs (shape {theirs}): {ours}"
        event(f"refused on purpose: {reason}")
        return None
    assert theirs[0] == 1 and ours.out_shape == theirs[1:], f"{where}: cnncalc {ours.out_shape}, torch {theirs}"
    assert ours.macs() == 0 and ours.params() == 0 and ours.buffer_count() == 0
    event("valid")
    return ours


# -- strategies ---------------------------------------------------------------------------------------------------


def mostly(valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values four times in five, else a wider range that includes invalid ones."""
    return st.integers(0, 4).flatmap(lambda pick: anything if pick == 0 else valid)


@st.composite
def related_shapes(draw: st.DrawFn, min_rank: int = 1, max_size: int = 4) -> Shapes:
    """2 to 4 shapes derived from one: equal, or with axes set to 1, one axis resized, or axes added or dropped
    in front (so that broadcasting, concatenation and mismatches all come up)."""
    rank = draw(st.integers(min_rank, 4))
    base = tuple(draw(st.lists(st.integers(1, max_size), min_size=rank, max_size=rank)))
    shapes = [base]
    for _ in range(draw(st.integers(1, 3))):
        change = draw(st.sampled_from(["same", "same", "same", "ones", "resize", "drop", "prepend"]))
        shape = list(base)
        if change == "ones":
            for axis in draw(st.sets(st.integers(0, rank - 1))):
                shape[axis] = 1
        elif change == "resize":
            shape[draw(st.integers(0, rank - 1))] = draw(st.integers(1, max_size))
        elif change == "drop" and rank > 1:
            shape = shape[draw(st.integers(1, rank - 1)) :]
        elif change == "prepend":
            shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)) + shape
        shapes.append(tuple(shape))
    return tuple(shapes)


VALID_SCALES = (0.29, 0.3333333333333333, 0.5, 0.7, 0.9, 1, 1.1, 1.25, 1.5, 1.7, 2, 2.5, 3, 4)
scales = st.one_of(st.sampled_from(VALID_SCALES), st.builds(round, st.floats(0.5, 4.5), st.integers(1, 3)))


def per_axis(count: int, valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """One value for every axis or a list of `count`, mostly valid; else a list of the wrong length, or one
    invalid value in it or alone (0 alone is a scale_factor "not given"; small and negative ones empty the output).
    """
    good = st.one_of(valid, st.lists(valid, min_size=count, max_size=count))
    bad = st.one_of(
        invalid,
        st.lists(valid, min_size=count + 1, max_size=count + 1),
        st.tuples(st.lists(valid, min_size=count - 1, max_size=count - 1), invalid).map(lambda p: [p[1], *p[0]]),
    )
    return mostly(good, bad)


RANKS = {"linear": 2, "bilinear": 3, "bicubic": 3, "trilinear": 4}


@st.composite
def upsample_configs(draw: st.DrawFn) -> tuple[Args, Shape]:
    mode = draw(st.sampled_from(UPSAMPLE_MODES))
    suited = st.just(RANKS[mode]) if mode in RANKS else st.integers(2, 4)
    rank = draw(mostly(suited, st.integers(1, 5)))
    in_shape = tuple(draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank)))
    spatial = max(rank - 1, 1)
    args: Args = {}
    given = draw(st.sampled_from(["size"] * 3 + ["scale"] * 5 + ["both", "neither"]))
    if given in ("size", "both"):
        args["size"] = draw(per_axis(spatial, st.integers(1, 12), st.integers(-1, 12)))
    if given in ("scale", "both"):
        args["scale_factor"] = draw(per_axis(spatial, scales, st.sampled_from((0, 0.1, 0.25, -1, -0.5))))
    if mode != "nearest" or draw(st.booleans()):
        args["mode"] = mode
    if draw(st.integers(0, 5)) == 0 if mode in ("nearest", "nearest-exact") else draw(st.booleans()):
        args["align_corners"] = draw(st.booleans())
    if draw(st.integers(0, 2)) == 0:
        args["recompute_scale_factor"] = draw(st.booleans())
    return args, in_shape


@st.composite
def pad_configs(draw: st.DrawFn, kind: str) -> tuple[Args, Shape]:
    dims = int(kind[-2])
    rank = draw(mostly(st.integers(dims, dims + 1), st.integers(max(dims - 1, 1), dims + 2)))
    in_shape = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    pads = mostly(st.integers(-2, 3), st.integers(-7, 7))
    args: Args = {"padding": draw(st.one_of(pads, st.lists(pads, min_size=2 * dims, max_size=2 * dims)))}
    if kind.startswith("Constant"):
        args["value"] = draw(st.sampled_from([0, 1, -2.5, 0.125]))
    return args, in_shape


@st.composite
def crop_configs(draw: st.DrawFn) -> tuple[Args, Shapes]:
    rank = draw(mostly(st.integers(2, 4), st.integers(1, 4)))
    sizes = st.integers(1, 9)
    in_shape = tuple(draw(st.lists(sizes, min_size=rank, max_size=rank)))
    spatial = max(rank - 1, 1)
    args: Args = {}
    form = draw(st.sampled_from(["size", "size", "input", "input", "both", "neither"]))
    shapes: Shapes = (in_shape,)
    if form in ("size", "both"):
        wanted = mostly(st.integers(1, 6), st.integers(0, 10))
        args["size"] = draw(st.one_of(wanted, st.lists(wanted, min_size=spatial, max_size=spatial + 1)))
    if form in ("input", "both"):
        other_rank = draw(mostly(st.just(rank), st.integers(1, 4)))
        shapes += (tuple(draw(st.lists(st.integers(1, 7), min_size=other_rank, max_size=other_rank))),)
    return args, shapes


# -- documented divergences -----------------------------------------------------------------------------------------


def add_divergence(kind: str, args: Args, shapes: Shapes) -> str | None:
    return "Add of different shapes" if len(set(shapes)) > 1 else None


def concat_divergence(kind: str, args: Args, shapes: Shapes) -> str | None:
    rank = len(shapes[0]) + 1
    return "Concat along the batch axis" if args.get("dim", 1) % rank == 0 else None


def pad_divergence(kind: str, args: Args, shapes: Shapes) -> str | None:
    dims = int(kind[-2])
    (in_shape,) = shapes
    if kind.startswith(("Zero", "Constant")) and len(in_shape) < dims:
        return "constant padding of the batch axis"
    padding = args["padding"] if isinstance(args["padding"], list) else [args["padding"]] * (2 * dims)
    if kind.startswith("Circular") and len(in_shape) >= dims:
        for k in range(dims):
            length, before, after = in_shape[-1 - k], padding[2 * k], padding[2 * k + 1]
            kept = length + min(before, 0) + min(after, 0)
            if before <= length and after <= length and length + before + after >= 0 and max(before, after) > kept:
                return "circular wrap beyond a crop"
    return None


# -- differential tests -----------------------------------------------------------------------------------------


@settings(max_examples=300, **SETTINGS)
@given(related_shapes())
def test_add_matches_torch(shapes: Shapes) -> None:
    layer = compare("Add", {}, shapes, add_divergence)
    if layer is None and len({len(s) for s in shapes}) == 1 and len(set(shapes)) > 1:
        # The message shows both shapes and the first axis where they differ, named as the tables name it.
        with pytest.raises(LayerError) as caught:
            make_layer("Add", {}, *shapes)
        other = next(s for s in shapes if s != shapes[0])
        axis = next(i for i, (a, b) in enumerate(zip(shapes[0], other, strict=True)) if a != b)
        name = axis_names(len(other))[axis]
        for fragment in (" x ".join(map(str, shapes[0])), " x ".join(map(str, other)), f"along {name} "):
            assert fragment in caught.value.message


@settings(max_examples=500, **SETTINGS)
@given(related_shapes(), mostly(st.integers(-3, 3), st.integers(-6, 6)))
def test_concat_matches_torch(shapes: Shapes, dim: int) -> None:
    args = {} if dim == 1 else {"dim": dim}
    layer = compare("Concat", args, shapes, concat_divergence)
    if layer is not None:
        assert layer.other_ops() == 0


@settings(max_examples=500, **SETTINGS)
@given(related_shapes(max_size=3))
def test_mul_matches_torch(shapes: Shapes) -> None:
    layer = compare("Mul", {}, shapes)
    if layer is not None:
        assert layer.other_ops() == (len(shapes) - 1) * math.prod(layer.out_shape)
        assert bool(layer.warnings) == (len({len(s) for s in shapes}) > 1)


@settings(max_examples=1500, **SETTINGS)
@given(upsample_configs())
def test_upsample_matches_torch(config: tuple[Args, Shape]) -> None:
    args, in_shape = config
    compare("Upsample", args, (in_shape,))


@pytest.mark.parametrize("kind", PAD_KINDS)
@settings(max_examples=200, **SETTINGS)
@given(data=st.data())
def test_padding_matches_torch(kind: str, data: st.DataObject) -> None:
    args, in_shape = data.draw(pad_configs(kind))
    compare(kind, args, (in_shape,), pad_divergence)


@settings(max_examples=500, **SETTINGS)
@given(crop_configs())
def test_center_crop_matches_a_torch_slice(config: tuple[Args, Shapes]) -> None:
    args, shapes = config
    layer = compare("CenterCrop", args, shapes)
    if layer is not None:
        # The window is the slice: output o along each axis is input o - padding (= o + offset).
        x = torch.arange(math.prod(shapes[0]), dtype=torch.float64).reshape(1, *shapes[0])
        expected = torch_function("CenterCrop", args, shapes)(x)
        picked = x
        for axis, (window, out) in enumerate(zip(layer.window(), layer.out_shape[1:], strict=True), start=2):
            assert window.extent == 0 and window.stride == 1
            picked = picked.index_select(axis, torch.tensor([o - window.padding for o in range(out)]))
        assert torch.equal(picked, expected)


# -- receptive-field windows against autograd -----------------------------------------------------------------


def inputs_read(function: Callable[..., Any], in_shape: Shape, axis: int) -> list[set[int]]:
    """For every output index o along per-sample `axis`, the input indices along that axis with a non-zero
    gradient of the sum of the outputs at o (every other axis summed)."""
    x = torch.zeros((1, *in_shape), dtype=torch.float64, requires_grad=True)
    y = function(x)
    others = tuple(a for a in range(1, x.dim()) if a != axis + 1)
    read = []
    for o in range(y.shape[axis + 1]):
        (grad,) = torch.autograd.grad(y.select(axis + 1, o).sum(), x, retain_graph=True)
        touched = grad.abs().sum(others)[0] if others else grad.abs()[0]
        read.append(set(torch.nonzero(touched).flatten().tolist()))
    return read


def window_bounds(window: Window, o: int) -> tuple[Fraction, Fraction]:
    first = Fraction(o * window.stride - window.padding)
    return first, first + window.extent


@settings(max_examples=250, **SETTINGS)
@given(upsample_configs())
def test_upsample_window_matches_autograd(config: tuple[Args, Shape]) -> None:
    """Every read lies in the window [first, last] (the window covers PyTorch's floored source index). Indices
    outside the input are clamped by PyTorch as they are here; a small slack covers PyTorch's single-precision
    factors."""
    args, in_shape = config
    try:
        layer = make_layer("Upsample", args, in_shape)
    except LayerError:
        return
    event(f"mode {layer.mode}")
    module = torch_function("Upsample", args, (in_shape,))
    slack = Fraction(1, 10**4)
    for axis, window in enumerate(layer.window(), start=1):
        length = in_shape[axis]
        for o, read in enumerate(inputs_read(module, in_shape, axis)):
            first, last = window_bounds(window, o)
            low, high = math.ceil(first - slack), math.floor(last + slack)
            allowed = {min(max(i, 0), length - 1) for i in range(low, high + 1)}
            assert read, f"axis {axis}, output {o}: reads nothing"
            assert read <= allowed, f"axis {axis}, output {o}: reads {sorted(read)}, window [{first}, {last}]"


@pytest.mark.parametrize("kind", PAD_KINDS)
@settings(max_examples=30, **SETTINGS)
@given(data=st.data())
def test_padding_window_matches_autograd(kind: str, data: st.DataObject) -> None:
    """Every output whose window falls inside the input reads exactly that input (the border reads zeros,
    mirrored, repeated or wrapped values, which the window, like a convolution's padding, does not model)."""
    args, in_shape = data.draw(pad_configs(kind))
    try:
        layer = make_layer(kind, args, in_shape)
    except LayerError:
        return
    if 0 in layer.out_shape:
        return  # nothing to differentiate
    module = torch_function(kind, args, (in_shape,))
    x = torch.zeros((1, *in_shape), dtype=torch.float64, requires_grad=True)
    if not torch.autograd.grad(module(x).sum(), x)[0].any():
        return  # an axis cropped or padded so that every output is padding: nothing reads the input
    for axis, window in enumerate(layer.window() or (), start=1):
        assert window.extent == 0 and window.stride == 1
        for o, read in enumerate(inputs_read(module, in_shape, axis)):
            first, _ = window_bounds(window, o)
            if 0 <= first < in_shape[axis]:
                assert read == {first}, f"axis {axis}, output {o}: reads {sorted(read)}, window at {first}"


# -- the hand-checked rows of test_kinds_merge_resize.py, against torch -----------------------------------------


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_table_shapes_match_torch(case: Any) -> None:
    kind = make_layer(case.kind, case.args, *case.in_shapes).kind  # the canonical name from any spelling
    theirs = run_torch(kind, case.args, case.in_shapes)
    assert not isinstance(theirs, Exception), theirs
    assert theirs == (1, *case.out_shape)


@pytest.mark.parametrize("case", [c for c in BAD if c.torch != "none"], ids=lambda c: c.id)
def test_table_errors_match_torch(case: Any) -> None:
    """'rejects' rows fail in torch too; 'accepts' rows are the deliberate refusals, which torch runs."""
    kind = next(k for k in ["Add", "Concat", "Mul", "Upsample", *PAD_KINDS] if k.lower() == case.kind.lower())
    theirs = run_torch(kind, case.args, case.in_shapes)
    assert isinstance(theirs, Exception) == (case.torch == "rejects"), theirs
