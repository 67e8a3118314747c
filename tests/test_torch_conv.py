"""Conv, ConvTranspose, Linear, Flatten and Identity against torch.nn, on drawn configurations valid and invalid.

For every drawn configuration, cnncalc's layer (via `make_layer`) and torch's module run on a zeros float64 tensor
(1, *in_shape) must agree: the output shape, the parameters by state_dict name and shape (so the parameter count),
no buffers, and the MACs (FlopCounterMode counts 2 FLOPs per multiply-accumulate and ignores the bias). A
configuration torch rejects, when constructing the module or running it, must raise LayerError naming an argument,
and only those. Receptive-field windows are checked against autograd: with all weights 1, the gradient of one
output element marks exactly the inputs it reads.

The drawn domain leaves out, on purpose, what torch accepts but cnncalc rejects as degenerate (each is tested to
be rejected in tests/test_kinds_conv.py):
- sizes of 0: Linear's out_features 0 and an in_channels 0 given for a 0-channel input (torch builds empty
  tensors; cnncalc's arguments are at least 1), and inputs with an axis of 0 (a spec's input sizes are positive);
- with padding_mode reflect/replicate/circular, negative padding (torch's F.pad then crops the input) and a
  padding list longer than the spatial axes (F.pad then pads the channel axis too, or nothing if all are 0);
- a one-element list for a per-axis argument of a 2-D or 3-D kind (stride=[2] for Conv2d: ATen repeats it
  silently; cnncalc wants an int or one value per axis);
- Linear on a per-sample scalar (torch would read the batch axis as the features) and Flatten with start_dim 0 and
  a later end_dim (merges the batch axis, which cnncalc keeps apart);
- arguments to Identity (torch ignores any; cnncalc reports them as unknown).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from cnncalc.errors import LayerError
from cnncalc.layers import Layer, Shape, make_layer

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402  (only once torch is known to be there)

# What torch raises for a configuration it rejects; anything else is a bug in this test.
TORCH_REJECTS = (ValueError, RuntimeError, TypeError, NotImplementedError, IndexError)

CONV_MAX_SIZE = {1: 9, 2: 7, 3: 4}  # spatial sizes drawn regardless of the kernel: small, so it often won't fit
TCONV_MAX_SIZE = {1: 7, 2: 5, 3: 3}

Args = dict[str, Any]
Config = tuple[str, Args, Shape]


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny tensors: torch's thread pool only adds waiting (tens of ms per conv on a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def run_torch(kind: str, args: Args, in_shape: Shape) -> tuple[Any, Any, int]:
    """Build torch.nn.<kind>, run it on zeros (1, *in_shape) in float64; return module, output and FLOPs."""
    kwargs = dict(args)
    if kind.startswith("Conv"):
        kwargs.setdefault("in_channels", in_shape[0])
    elif kind == "Linear":
        kwargs.setdefault("in_features", in_shape[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' with even kernels, zero-element init: not errors
        module = getattr(torch.nn, kind)(**kwargs).double()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            output = module(torch.zeros((1, *in_shape), dtype=torch.float64))
    return module, output, counter.get_total_flops()


def note_event(name: str) -> None:
    """Count valid and invalid cases in hypothesis' statistics (--hypothesis-show-statistics); no-op elsewhere."""
    if currently_in_test_context():
        event(name)


def check_against_torch(kind: str, args: Args, in_shape: Shape) -> Layer | None:
    """Assert cnncalc and torch agree on this configuration; return our layer when it is valid."""
    ours: Layer | LayerError
    try:
        ours = make_layer(kind, args, in_shape)
    except LayerError as error:
        ours = error
    try:
        module, output, flops = run_torch(kind, args, in_shape)
    except TORCH_REJECTS as error:
        assert isinstance(ours, LayerError), f"torch rejects {kind}({args}) on {in_shape}: {error}; cnncalc accepts"
        assert ours.arg, f"the error should name its argument: {ours.message}"
        note_event(f"invalid: {ours.arg}")
        return None
    assert not isinstance(ours, LayerError), f"cnncalc rejects {kind}({args}) on {in_shape} that torch runs: {ours}"
    note_event("valid")
    assert ours.out_shape == tuple(output.shape[1:])
    assert ours.weights() == {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert ours.params() == sum(p.numel() for p in module.parameters())
    assert ours.buffers() == {name: tuple(b.shape) for name, b in module.named_buffers()}
    assert {**ours.weights(), **ours.buffers()} == {name: tuple(t.shape) for name, t in module.state_dict().items()}
    assert flops % 2 == 0 and ours.macs() == flops // 2
    return ours


# -- strategies ---------------------------------------------------------------------------------------------------


def per_axis(dims: int, values: st.SearchStrategy[int], extra: bool = True) -> st.SearchStrategy[int | list[int]]:
    """An int or a list with one per axis; with `extra`, now and then one too many (torch rejects those as we do).

    One-element lists for 2-D/3-D kinds are left out on purpose (see the module docstring)."""
    right = st.one_of(values, st.lists(values, min_size=dims, max_size=dims))
    return mostly(right, st.lists(values, min_size=dims + 1, max_size=dims + 1)) if extra else right


@st.composite
def mostly(draw: st.DrawFn, valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> Any:
    """A valid value nine times in ten, else one from a wider range that includes invalid ones.

    (st.one_of would pick each branch equally often, however many times `valid` is repeated in it.)"""
    return draw(anything if draw(st.integers(0, 9)) == 0 else valid)


def per_axis_ints(value: Any, dims: int, default: int) -> list[int]:
    """The per-axis values of a drawn argument (absent, an int, or a list maybe too long), to size the input."""
    if value is None:
        return [default] * dims
    return list(value[:dims]) if isinstance(value, list) else [value] * dims


def conv_input_sizes(draw: st.DrawFn, dims: int, args: Args) -> list[int]:
    """Spatial sizes that mostly fit the drawn kernel and padding mode, and otherwise are anything small."""
    kernel = per_axis_ints(args["kernel_size"], dims, 1)
    dilation = per_axis_ints(args.get("dilation"), dims, 1)
    padding = args.get("padding", 0)
    mode = args.get("padding_mode", "zeros")
    sizes = []
    for axis in range(dims):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        if padding == "same":
            need, pad = 1, span // 2
        elif padding == "valid":
            need, pad = span, 0
        elif isinstance(padding, str):  # a padding word both reject
            need, pad = 1, 0
        else:
            pad = per_axis_ints(padding, dims, 0)[axis]
            need = span - 2 * pad
        need = max(need, pad + 1 if mode == "reflect" else pad if mode == "circular" else 1, 1)
        sizes.append(draw(mostly(st.integers(need, need + 3), st.integers(1, CONV_MAX_SIZE[dims]))))
    return sizes


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def put(draw: st.DrawFn, args: Args, name: str, values: st.SearchStrategy[Any]) -> None:
    """Give the argument about half the time, so PyTorch's defaults are exercised too."""
    if draw(st.booleans()):
        args[name] = draw(values)


def draw_channels(draw: st.DrawFn, args: Args) -> int:
    """in_channels of the input (never 0, see the docstring), groups and out_channels, mostly compatible."""
    channels = draw(st.integers(1, 6))
    groups = draw(mostly(st.sampled_from(divisors(channels)), st.integers(0, 4)))
    args["out_channels"] = draw(mostly(st.integers(1, 3).map(lambda m: m * max(groups, 1)), st.integers(-1, 7)))
    if groups != 1 or draw(st.booleans()):
        args["groups"] = groups
    # in_channels is inferred; given, it is usually right and sometimes disagrees with the input.
    put(draw, args, "in_channels", mostly(st.just(channels), st.integers(1, 6)))
    return channels


@st.composite
def conv_configs(
    draw: st.DrawFn, modes: tuple[str, ...] = ("zeros", "zeros", "reflect", "replicate", "circular")
) -> Config:
    dims = draw(st.integers(1, 3))
    args: Args = {}
    channels = draw_channels(draw, args)
    args["kernel_size"] = draw(per_axis(dims, mostly(st.integers(1, 4), st.integers(-1, 6))))
    put(draw, args, "stride", per_axis(dims, mostly(st.integers(1, 3), st.integers(0, 4))))
    put(draw, args, "dilation", per_axis(dims, mostly(st.integers(1, 3), st.integers(0, 4))))
    mode = draw(st.sampled_from(modes))
    if mode != "zeros" or draw(st.booleans()):
        args["padding_mode"] = mode
    # Negative padding and padding lists too long are drawn only with zero padding (see the docstring).
    zeros = mode == "zeros"
    numbers = mostly(st.integers(0, 3), st.integers(-1 if zeros else 0, 5))
    put(
        draw,
        args,
        "padding",
        st.one_of(mostly(st.sampled_from(["same", "valid"]), st.just("full")), per_axis(dims, numbers, extra=zeros)),
    )
    put(draw, args, "bias", st.booleans())
    return f"Conv{dims}d", args, (channels, *conv_input_sizes(draw, dims, args))


@st.composite
def conv_transpose_configs(
    draw: st.DrawFn, modes: tuple[str, ...] = ("zeros", "zeros", "zeros", "reflect", "circular")
) -> Config:
    dims = draw(st.integers(1, 3))
    args: Args = {}
    channels = draw_channels(draw, args)
    size = st.integers(1, TCONV_MAX_SIZE[dims])
    in_shape = (channels, *draw(st.lists(size, min_size=dims, max_size=dims)))
    args["kernel_size"] = draw(per_axis(dims, mostly(st.integers(1, 4), st.integers(-1, 5))))
    put(draw, args, "stride", per_axis(dims, mostly(st.integers(1, 3), st.integers(0, 4))))
    put(draw, args, "dilation", per_axis(dims, mostly(st.integers(1, 3), st.integers(0, 4))))
    # Large paddings make the output collapse; 'same'/'valid' and modes other than zeros are rejected by both.
    put(
        draw,
        args,
        "padding",
        mostly(per_axis(dims, mostly(st.integers(0, 2), st.integers(-1, 6))), st.sampled_from(["same", "valid"])),
    )
    put(draw, args, "output_padding", per_axis(dims, mostly(st.integers(0, 2), st.integers(-1, 3))))
    put(draw, args, "padding_mode", st.sampled_from(modes))
    put(draw, args, "bias", st.booleans())
    return f"ConvTranspose{dims}d", args, in_shape


@st.composite
def linear_configs(draw: st.DrawFn) -> Config:
    # Rank 0 per sample is left out (see the docstring); ranks up to 9 check there is no limit.
    rank = draw(st.one_of(st.integers(1, 4), st.integers(5, 9)))
    in_shape = tuple(draw(st.lists(st.integers(1, 5 if rank <= 4 else 2), min_size=rank, max_size=rank)))
    args: Args = {"out_features": draw(mostly(st.integers(1, 6), st.sampled_from([-1, 1, 2, 3, 4, 5, 6])))}
    put(draw, args, "in_features", mostly(st.just(in_shape[-1]), st.integers(0, 6)))
    put(draw, args, "bias", st.booleans())
    return "Linear", args, in_shape


@st.composite
def flatten_configs(draw: st.DrawFn) -> Config:
    in_shape = tuple(draw(st.lists(st.integers(1, 4), max_size=4)))
    args: Args = {}
    put(draw, args, "start_dim", st.integers(-6, 6))
    put(draw, args, "end_dim", st.integers(-6, 6))
    rank = len(in_shape) + 1  # with the batch axis, as torch counts
    start, end = args.get("start_dim", 1), args.get("end_dim", -1)
    if -rank <= start < rank and -rank <= end < rank and start % rank == 0 and end % rank > 0:
        reject()  # would merge the batch axis (see the docstring)
    return "Flatten", args, in_shape


SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}


@settings(max_examples=1500, **SETTINGS)
@given(conv_configs())
def test_conv_matches_torch(config: Config) -> None:
    check_against_torch(*config)


@settings(max_examples=1200, **SETTINGS)
@given(conv_transpose_configs())
def test_conv_transpose_matches_torch(config: Config) -> None:
    check_against_torch(*config)


@settings(max_examples=700, **SETTINGS)
@given(linear_configs())
def test_linear_matches_torch(config: Config) -> None:
    check_against_torch(*config)


@settings(max_examples=400, **SETTINGS)
@given(flatten_configs())
def test_flatten_matches_torch(config: Config) -> None:
    check_against_torch(*config)


@settings(max_examples=100, **SETTINGS)
@given(st.lists(st.integers(1, 4), max_size=5).map(tuple))
def test_identity_matches_torch(in_shape: Shape) -> None:
    layer = check_against_torch("Identity", {}, in_shape)
    assert layer is not None and layer.out_shape == in_shape


# -- receptive-field windows against autograd -----------------------------------------------------------------


def inputs_read(kind: str, args: Args, in_shape: Shape, position: Shape) -> list[set[int]]:
    """Per spatial axis, the input indices that output (channel 0, *position) depends on, by autograd.

    With every weight 1 the gradient is a sum of positive terms, so an index is read iff its gradient is non-zero;
    the set read is a product over axes, so projecting onto each axis loses nothing."""
    module, _, _ = run_torch(kind, args, in_shape)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.fill_(1)
    x = torch.zeros((1, *in_shape), dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (grad,) = torch.autograd.grad(module(x)[(0, 0, *position)], x)
    touched = grad[0].abs().sum(0)
    spatial = range(touched.dim())
    return [
        set(
            torch.nonzero(touched.sum(tuple(a for a in spatial if a != axis)) if touched.dim() > 1 else touched)
            .flatten()
            .tolist()
        )
        for axis in spatial
    ]


# Reflect, replicate and circular padding read mirrored inputs: the window is in padded coordinates.
ZEROS = ("zeros",)


def check_window(config: Config, data: st.DataObject) -> None:
    kind, args, in_shape = config
    try:
        layer = make_layer(kind, args, in_shape)
    except LayerError:
        reject()
    position = tuple(data.draw(st.integers(0, size - 1)) for size in layer.out_shape[1:])
    windows = layer.window()
    assert windows is not None and len(windows) == len(position)
    reads = inputs_read(*config, position)
    ends_inside = []  # per axis, the ends of the window that are pixels of the input
    for axis, (window, j, read) in enumerate(zip(windows, position, reads, strict=True)):
        first = j * window.stride - window.padding
        last = first + window.extent
        assert all(first <= i <= last for i in read), f"axis {axis}: read {sorted(read)} outside [{first}, {last}]"
        ends_inside.append(
            {int(e) for e in (first, last) if Fraction(e).denominator == 1 and 0 <= e < in_shape[axis + 1]}
        )
    # The window is tight: both ends are kernel taps, so an end inside the input is read.
    if all(reads):
        for axis, (ends, read) in enumerate(zip(ends_inside, reads, strict=True)):
            assert ends <= read, f"axis {axis}: window ends {sorted(ends)} not read: {sorted(read)}"
    else:  # the output sits wholly in the padding along some axis, so no corner of its window is in the input
        assert not any(reads) and not all(ends_inside)


@settings(max_examples=250, **SETTINGS)
@given(conv_configs(modes=ZEROS), st.data())
def test_conv_window_matches_autograd(config: Config, data: st.DataObject) -> None:
    check_window(config, data)


@settings(max_examples=250, **SETTINGS)
@given(conv_transpose_configs(modes=ZEROS), st.data())
def test_conv_transpose_window_matches_autograd(config: Config, data: st.DataObject) -> None:
    check_window(config, data)


# -- hand-checked cases of test_kinds_conv.py, once more against torch ---------------------------------------------

TABLE_CASES = [
    ("Conv2d", {"out_channels": 10, "kernel_size": 5, "stride": 1, "padding": 2}, (3, 32, 32)),
    ("Conv2d", {"out_channels": 32, "kernel_size": 1}, (16, 64, 64)),
    ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1, "groups": 32, "bias": False}, (32, 112, 112)),
    ("Conv1d", {"out_channels": 3, "kernel_size": 4, "padding": "same"}, (2, 10)),
    ("Conv2d", {"out_channels": 2, "kernel_size": [2, 3], "dilation": [3, 1], "padding": "same"}, (1, 5, 6)),
    ("Conv1d", {"out_channels": 3, "kernel_size": 3, "padding": 3, "padding_mode": "reflect"}, (2, 4)),
    ("Conv1d", {"out_channels": 3, "kernel_size": 3, "padding": 4, "padding_mode": "reflect"}, (2, 4)),
    ("Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": 3, "padding_mode": "circular"}, (1, 3, 3)),
    ("Conv2d", {"out_channels": 1, "kernel_size": 3, "padding": 4, "padding_mode": "circular"}, (1, 3, 3)),
    ("Conv1d", {"out_channels": 1, "kernel_size": 5}, (2, 4)),
    ("Conv2d", {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": "same"}, (1, 8, 8)),
    (
        "ConvTranspose2d",
        {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
        (16, 14, 14),
    ),
    ("ConvTranspose1d", {"out_channels": 1, "kernel_size": 3, "dilation": 2, "output_padding": 1}, (1, 5)),
    ("ConvTranspose1d", {"out_channels": 1, "kernel_size": 3, "output_padding": 1}, (1, 5)),
    ("Conv3d", {"out_channels": 4, "kernel_size": 3, "padding": 1}, (3, 4, 8, 8)),
    ("Conv1d", {"out_channels": 8, "kernel_size": 3, "groups": 4}, (4, 10)),
    ("Conv3d", {"out_channels": 2, "kernel_size": [1, 3, 1], "stride": [1, 2, 3], "padding": [0, 1, 0]}, (1, 4, 9, 9)),
    ("ConvTranspose1d", {"out_channels": 2, "kernel_size": 4, "stride": 2, "padding": 1, "groups": 2}, (4, 5)),
    (
        "ConvTranspose3d",
        {
            "out_channels": 3,
            "kernel_size": [2, 3, 2],
            "stride": [1, 2, 3],
            "padding": [0, 1, 1],
            "output_padding": [0, 1, 2],
        },
        (2, 2, 3, 3),
    ),
    ("ConvTranspose2d", {"out_channels": 1, "kernel_size": 3, "stride": 2, "output_padding": [1, 2]}, (1, 4, 4)),
    ("ConvTranspose1d", {"out_channels": 1, "kernel_size": 2, "padding": 1}, (1, 1)),
    ("Linear", {"out_features": 7}, (2, 3, 5)),
    ("Linear", {"out_features": 2}, (1, 1, 1, 1, 1, 1, 1, 2, 3)),
    ("Flatten", {"start_dim": -3, "end_dim": -2}, (8, 4, 5)),
    ("Flatten", {"start_dim": 3, "end_dim": 1}, (2, 3, 4)),
]


@pytest.mark.parametrize(("kind", "args", "in_shape"), TABLE_CASES)
def test_table_cases_match_torch(kind: str, args: Args, in_shape: Shape) -> None:
    check_against_torch(kind, args, in_shape)
