"""explain() and notes() of the pooling kinds, Linear, Flatten and the transposed convolutions.

Over valid configurations drawn by hypothesis, every formula explain() shows must equal the analyzer's own figure
(an output axis, params(), macs(), buffer_count(), other_ops()), and its `numbers` text, evaluated by
test_layer_cli's small evaluator, must give the same value; `cnncalc layer`'s JSON must pass test_layer_cli's
check_formulas in either layout. The analyzer's figures are checked against PyTorch elsewhere
(test_torch_pooling.py, test_torch_conv.py, ...); here they are the oracle for the formulas."""

from __future__ import annotations

import json
import re
from math import prod
from typing import Any

import pytest
from conftest import run_cli
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_layer_cli import check_formulas, evaluate

from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers import Layer, make_layer
from cnncalc.render.layer import layer_dict

LETTERS = {1: "L", 2: "HW", 3: "DHW"}
EXAMPLES = 300  # per kind and test: a few thousand configurations in all, in a few seconds


def figure(layer: Layer, what: str) -> Any:
    """The analyzer's figure that the formula labelled `what` derives."""
    simple = {
        "params": layer.params,
        "MACs": layer.macs,
        "buffers": layer.buffer_count,
        "other ops": layer.other_ops,
    }
    if what in simple:
        return simple[what]()
    size = re.fullmatch(r"output (\w) \((PyTorch|lecture)\)", what)
    if size:
        return layer.out_shape[1 + LETTERS[len(layer.out_shape) - 1].index(size[1])]
    merged = re.fullmatch(r"output dim (\d+) \(merged\)", what)
    if merged:  # numbered as Flatten's start_dim counts, the batch axis being 0
        return layer.out_shape[int(merged[1]) - 1]
    raise AssertionError(f"a formula with an unknown label: {what}")


def checked(layer: Layer) -> dict[str, Term]:
    """Every formula of `layer` against its figure and its own numbers; the notes are text; the JSON agrees."""
    pairs = layer.explain()
    explained = dict(pairs)
    assert len(explained) == len(pairs), "labels repeat"
    for what, term in pairs:
        assert isinstance(term, Term)
        assert term.value == figure(layer, what), (what, term)
        assert evaluate(term.numbers) == term.value, (what, term)
    for note in layer.notes():
        assert isinstance(note, str) and note
    for layout in ("chw", "hwc"):
        check_formulas(layer_dict(layer, layout))
    return explained


def built(kind: str, args: dict[str, Any], in_shape: tuple[int, ...]) -> Layer:
    """The layer, or (for a draw whose kernel does not fit the input) a rejected example; any other error fails."""
    try:
        return make_layer(kind, args, in_shape)
    except LayerError as error:
        assume(error.arg != "kernel_size")
        raise


# -- MaxPool and AvgPool ------------------------------------------------------------------------------------------


@st.composite
def window_pools(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], tuple[int, ...]]:
    dims = int(kind[-2])
    axes = st.lists(st.integers(1, 3), min_size=dims, max_size=dims)
    kernel = draw(st.lists(st.integers(1, 5), min_size=dims, max_size=dims))
    padding = [draw(st.integers(0, k // 2)) for k in kernel]
    dilation = draw(axes) if kind.startswith("MaxPool") else [1] * dims
    args: dict[str, Any] = {"kernel_size": kernel, "padding": padding, "ceil_mode": draw(st.booleans())}
    stride = draw(st.none() | axes)
    if stride is not None:
        args["stride"] = stride
    if kind.startswith("MaxPool"):
        args["dilation"] = dilation
    else:
        args["count_include_pad"] = draw(st.booleans())
        if dims > 1:
            args["divisor_override"] = draw(st.none() | st.sampled_from([-4, -3, -2, -1, 1, 2, 3, 4]))
    sizes = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        # From a little below the dilated kernel (ceil_mode can still fit a partial window there) upwards.
        low = max(1, d * (k - 1) + 1 - 2 * p - 2, k if kind == "AvgPool3d" else 1)
        sizes.append(draw(st.integers(low, low + 9)))
    return args, (draw(st.integers(1, 3)), *sizes)


@pytest.mark.parametrize("kind", [f"{family}{dims}d" for family in ("MaxPool", "AvgPool") for dims in (1, 2, 3)])
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_window_pool_formulas(kind: str, data: st.DataObject) -> None:
    args, in_shape = data.draw(window_pools(kind))
    layer = built(kind, args, in_shape)
    explained = checked(layer)
    dims = len(in_shape) - 1
    stride = args.get("stride", args["kernel_size"])
    dilation = args.get("dilation", [1] * dims)
    notes = layer.notes()
    for axis, size, k, s, p, d, out in zip(
        LETTERS[dims],
        in_shape[1:],
        args["kernel_size"],
        stride,
        args["padding"],
        dilation,
        layer.out_shape[1:],
        strict=True,
    ):
        assert f"output {axis} (PyTorch)" in explained
        # The lectures' ceil form is shown exactly where it holds: no dilation, no ceil_mode.
        assert (f"output {axis} (lecture)" in explained) == (d == 1 and not args["ceil_mode"])
        # ceil_mode's last-window rule: a note names every window it drops.
        windows = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
        dropped = [n for n in notes if n.startswith(f"ceil_mode along {axis} ") and "drops it" in n]
        assert len(dropped) == (1 if args["ceil_mode"] and windows > out else 0)
        if dropped:
            assert f"n = {windows} windows" in dropped[0] and dropped[0].endswith(f": {out}")
    assert "other ops" in explained and "params" not in explained and "MACs" not in explained


def test_ceil_mode_drop_shows_its_numbers() -> None:
    # 5 + 1 + 1 padded: ceil((5 + 2 - 1 - 1) / 2) + 1 = 4 windows, the 4th would start at 6, in the right padding.
    layer = make_layer("MaxPool2d", {"kernel_size": 2, "padding": 1, "ceil_mode": True}, (1, 5, 5))
    explained = checked(layer)
    assert explained["output H (PyTorch)"].numbers == "ceil((5 + 2*1 - 1*(2 - 1) - 1) / 2) + 1 - 1"
    (note, _) = layer.notes()
    assert (
        "(n - 1)*S = (4 - 1)*2 = 6" in note
        and "H + P = 5 + 1 = 6" in note
        and note.endswith("drops it (the final - 1 of output H): 3")
    )


def test_average_divisors_in_the_note() -> None:
    # count_include_pad false: corner windows of a 3x3 kernel over a 1-padded 5x5 input cover 4 input elements,
    # edge windows 6, the centre one 9.
    layer = make_layer(
        "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, (1, 5, 5)
    )
    checked(layer)
    assert layer.notes() == [
        "each window's sum is divided by the input elements under it, padding excluded (count_include_pad false): "
        "9 for 1 output, 6 for 4, 4 for 4 (per channel)"
    ]


# -- AdaptiveAvgPool and AdaptiveMaxPool -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", [f"{family}{dims}d" for family in ("AdaptiveMaxPool", "AdaptiveAvgPool") for dims in (1, 2, 3)]
)
@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(data=st.data())
def test_adaptive_pool_formulas(kind: str, data: st.DataObject) -> None:
    dims = int(kind[-2])
    sizes = data.draw(st.lists(st.integers(1, 12), min_size=dims, max_size=dims))
    wanted = st.integers(1, 12) | st.none() if dims > 1 else st.integers(1, 12)
    args = {"output_size": data.draw(st.lists(wanted, min_size=dims, max_size=dims))}
    in_shape = (data.draw(st.integers(1, 4)), *sizes)
    layer = make_layer(kind, args, in_shape)
    assert list(checked(layer)) == ["other ops"]
    notes = layer.notes()
    assert len(notes) == dims
    for axis, size, count, note in zip(LETTERS[dims], in_shape[1:], layer.out_shape[1:], notes, strict=True):
        # Bin i is [floor(i*L/out), ceil((i+1)*L/out)); B sums their sizes.
        bins = [(i * size // count, -(-(i + 1) * size // count)) for i in range(count)]
        assert note.startswith(f"bins along {axis}, ")
        assert f"B_{axis} = " in note and f"= {sum(end - start for start, end in bins)} elements" in note
        assert ("no overlap" in note) == (size % count == 0)
        if count <= 8:
            assert " ".join(f"[{start}, {end})" for start, end in bins) in note


# -- ConvTranspose1d/2d/3d ----------------------------------------------------------------------------------------


@st.composite
def transposed_convs(draw: st.DrawFn, dims: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    groups = draw(st.integers(1, 3))
    axes = st.lists(st.integers(1, 3), min_size=dims, max_size=dims)
    kernel = draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims))
    stride, dilation = draw(axes), draw(axes)
    output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)]
    sizes = draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims))
    # padding small enough that the output keeps at least one element along every axis
    padding = [
        draw(st.integers(0, ((n - 1) * s + d * (k - 1) + op) // 2))
        for n, s, d, k, op in zip(sizes, stride, dilation, kernel, output_padding, strict=True)
    ]
    args = {
        "out_channels": groups * draw(st.integers(1, 3)),
        "kernel_size": kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return args, (groups * draw(st.integers(1, 3)), *sizes)


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_transposed_conv_formulas(dims: int, data: st.DataObject) -> None:
    args, in_shape = data.draw(transposed_convs(dims))
    layer = make_layer(f"ConvTranspose{dims}d", args, in_shape)
    explained = checked(layer)
    wanted = {f"output {axis} (PyTorch)" for axis in LETTERS[dims]} | {"params", "MACs"}
    assert set(explained) == wanted
    if args["groups"] == 1:  # params read off the weight tensor, C_in x C_out x K..., as the weights line shows it
        assert explained["params"].numbers.startswith("*".join(map(str, layer.weights()["weight"])))
    # The note compares with the count of tools that treat it as a convolution over the output.
    c_in, c_out, g = in_shape[0], args["out_channels"], args["groups"]
    as_conv = c_out * prod(layer.out_shape[1:]) * (c_in // g) * prod(args["kernel_size"])
    assert f"= {as_conv:,}," in layer.notes()[0]
    assert len(layer.notes()) == 1 + sum(1 for op in args["output_padding"] if op)


def test_transposed_conv_collapse_shows_the_formula() -> None:
    args = {"out_channels": 1, "kernel_size": 2, "padding": 1}
    try:
        make_layer("ConvTranspose1d", args, (1, 1))
    except LayerError as error:
        formula = error.message.split(": ", 1)[1]
        numbers = formula.split(" = ")[1]
        assert evaluate(numbers) == 0 and formula.endswith("= 0")
        assert error.arg == "padding" and error.hint is not None and "padding at most 0" in error.hint
    else:
        raise AssertionError("a collapsed output was accepted")


# -- Linear and Flatten -------------------------------------------------------------------------------------------


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(
    st.lists(st.integers(1, 4), max_size=3),
    st.integers(1, 64),
    st.integers(1, 64),
    st.booleans(),
)
def test_linear_formulas(leading: list[int], in_features: int, out_features: int, bias: bool) -> None:
    layer = make_layer("Linear", {"out_features": out_features, "bias": bias}, (*leading, in_features))
    assert set(checked(layer)) == {"params", "MACs"}
    assert len(layer.notes()) == (2 if leading else 1)


@settings(max_examples=2 * EXAMPLES, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.data())
def test_flatten_formulas(shape: list[int], data: st.DataObject) -> None:
    rank = len(shape) + 1  # PyTorch's dims count the batch axis
    start = data.draw(st.integers(0, rank - 1))
    end = 0 if start == 0 else data.draw(st.integers(start, rank - 1))
    # Either form PyTorch accepts: counted from the front, or from the back (negative).
    start_dim = start - rank if data.draw(st.booleans()) else start
    end_dim = end - rank if data.draw(st.booleans()) else end
    layer = make_layer("Flatten", {"start_dim": start_dim, "end_dim": end_dim}, tuple(shape))
    explained = checked(layer)
    if end > start:
        (merged,) = explained.values()
        assert list(explained) == [f"output dim {start} (merged)"]
        assert merged.value == prod(shape[start - 1 : end])
    else:
        assert explained == {} and "nothing merges" in layer.notes()[0]


# -- the lecture's LeNet-5 layers, as `cnncalc layer` shows them ---------------------------------------------------


def test_lenet_pool_and_linear_read_as_the_lecture() -> None:
    pool = run_cli("layer", "maxpool2d", "--input", "20x28x28", "kernel_size=2", "stride=2")
    assert pool.code == 0, pool.err
    assert "output H (lecture): ceil((H - K + 1 + 2*P) / S) = ceil((28 - 2 + 1 + 2*0) / 2) = 14" in pool.out
    linear = run_cli("layer", "linear", "--input", "2450", "out_features=500")
    assert linear.code == 0, linear.err
    assert "params: (in_features + 1)*out_features = (2450 + 1)*500 = 1,225,500" in linear.out
    assert "MACs: in_features*out_features = 2450*500 = 1,225,000" in linear.out
    for args in (
        ("maxpool2d", "--input", "20x28x28", "kernel_size=2", "stride=2"),
        ("linear", "--input", "2450", "out_features=500"),
        ("flatten", "--input", "50x7x7"),
        ("convtranspose2d", "--input", "16x8x8", "--layout", "hwc", "out_channels=8", "kernel_size=3", "stride=2"),
    ):
        result = run_cli("layer", *args, "--format", "json")
        assert result.code == 0, result.err
        check_formulas(json.loads(result.out))
