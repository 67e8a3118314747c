"""Pooling kinds, table-driven: shapes, other ops, windows and summaries worked out by hand from the formulas in
cnncalc/layers/pooling.py, and the errors PyTorch's validation calls for (tests/test_torch_pooling.py checks the
same rules against torch itself)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from cnncalc.errors import LayerError
from cnncalc.layers import REGISTRY, Window, make_layer
from cnncalc.layers.pooling import pooled_size

POOL_KINDS = [
    f"{family}{dims}d" for family in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool") for dims in (1, 2, 3)
]

# (kind, arguments, input shape, output shape); floor((L + 2p - d(k-1) - 1) / s) + 1 worked out beside each.
SHAPES: list[tuple[str, dict[str, Any], tuple[int, ...], tuple[int, ...]]] = [
    # floor((28 - 1 - 1) / 2) + 1 = 14: stride defaults to the kernel
    ("MaxPool2d", {"kernel_size": 2}, (3, 28, 28), (3, 14, 14)),
    # floor((5 - 1 - 1) / 2) + 1 = 2
    ("MaxPool2d", {"kernel_size": 2}, (3, 5, 5), (3, 2, 2)),
    # ceil((5 - 1 - 1) / 2) + 1 = 3; last start (3-1)*2 = 4 < 5 + 0, kept
    ("MaxPool2d", {"kernel_size": 2, "ceil_mode": True}, (3, 5, 5), (3, 3, 3)),
    # ceil((5 + 2 - 1 - 1) / 2) + 1 = 4; last start (4-1)*2 = 6 >= 5 + 1 lies in the right padding: 3
    ("MaxPool2d", {"kernel_size": 2, "padding": 1, "ceil_mode": True}, (1, 5, 5), (1, 3, 3)),
    # ResNet's stem pool: floor((112 + 2 - 2 - 1) / 2) + 1 = 56
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (64, 112, 112), (64, 56, 56)),
    # dilation 2: floor((10 - 2*2 - 1) / 1) + 1 = 6
    ("MaxPool2d", {"kernel_size": 3, "stride": 1, "dilation": 2}, (1, 10, 10), (1, 6, 6)),
    # H: floor((7 + 2 - 2 - 1) / 2) + 1 = 4; W: floor((9 - 1 - 1) / 3) + 1 = 3
    ("MaxPool2d", {"kernel_size": [3, 2], "stride": [2, 3], "padding": [1, 0]}, (2, 7, 9), (2, 4, 3)),
    # PyTorch's pooling takes a one-element list for every axis, and an empty stride as omitted:
    # floor((8 - 2 - 1) / 3) + 1 = 2
    ("MaxPool2d", {"kernel_size": [3], "stride": []}, (1, 8, 8), (1, 2, 2)),
    # floor((8 + 2 - 2*2 - 1) / 1) + 1 = 6
    ("MaxPool3d", {"kernel_size": [3], "stride": [1], "padding": [1], "dilation": [2]}, (1, 8, 8, 8), (1, 6, 6, 6)),
    # floor((10 - 2 - 1) / 3) + 1 = 3
    ("MaxPool1d", {"kernel_size": 3}, (4, 10), (4, 3)),
    # ceil((10 - 2 - 1) / 3) + 1 = 4; last start 3*3 = 9 < 10, kept
    ("MaxPool1d", {"kernel_size": 3, "ceil_mode": True}, (4, 10), (4, 4)),
    # ceil((4 - 4 - 1) / 3) + 1 = 1: ceil_mode keeps one partial window of a kernel wider than the input
    ("MaxPool1d", {"kernel_size": 5, "stride": 3, "ceil_mode": True}, (1, 4), (1, 1)),
    # floor((8 - 1 - 1) / 2) + 1 = 4 on every axis
    ("MaxPool3d", {"kernel_size": 2}, (2, 8, 8, 8), (2, 4, 4, 4)),
    # D: floor((5 + 2 - 2 - 1) / 2) + 1 = 3; H: floor((6 + 2 - 3) / 2) + 1 = 3; W: floor((7 + 2 - 3) / 2) + 1 = 4
    ("MaxPool3d", {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 5, 6, 7), (1, 3, 3, 4)),
    # floor((32 - 1 - 1) / 2) + 1 = 16
    ("AvgPool2d", {"kernel_size": 2}, (3, 32, 32), (3, 16, 16)),
    # floor((7 + 2 - 2 - 1) / 1) + 1 = 7: 'same' size
    ("AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, (3, 7, 7), (3, 7, 7)),
    # floor((9 + 4 - 3 - 1) / 2) + 1 = 5
    ("AvgPool1d", {"kernel_size": 4, "stride": 2, "padding": 2}, (2, 9), (2, 5)),
    # ceil((9 + 4 - 3 - 1) / 2) + 1 = 6; last start 5*2 = 10 < 9 + 2, kept
    ("AvgPool1d", {"kernel_size": 4, "stride": 2, "padding": 2, "ceil_mode": True}, (2, 9), (2, 6)),
    # floor((2 + 2 - 2 - 1) / 3) + 1 = 1: AvgPool2d, unlike AvgPool3d, lets padding make room for the kernel
    ("AvgPool2d", {"kernel_size": 3, "padding": 1}, (1, 2, 2), (1, 1, 1)),
    # floor((4 - 1 - 1) / 2) + 1 = 2
    ("AvgPool3d", {"kernel_size": 2}, (1, 4, 4, 4), (1, 2, 2, 2)),
    # floor((3 + 2 - 2 - 1) / 3) + 1 = 1
    ("AvgPool3d", {"kernel_size": 3, "padding": 1}, (1, 3, 3, 3), (1, 1, 1, 1)),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": -3}, (1, 4, 4), (1, 2, 2)),  # PyTorch allows a negative one
    ("AdaptiveAvgPool2d", {"output_size": 1}, (512, 7, 7), (512, 1, 1)),
    ("AdaptiveAvgPool2d", {"output_size": [None, 3]}, (3, 7, 7), (3, 7, 3)),
    ("AdaptiveMaxPool1d", {"output_size": 4}, (2, 10), (2, 4)),
    ("AdaptiveMaxPool1d", {"output_size": [4]}, (2, 10), (2, 4)),
    ("AdaptiveAvgPool3d", {"output_size": [2, None, 1]}, (1, 4, 5, 6), (1, 2, 5, 1)),
    ("AdaptiveMaxPool2d", {"output_size": 5}, (1, 3, 3), (1, 5, 5)),  # larger than the input: bins overlap
    ("AdaptiveMaxPool3d", {"output_size": [None, None, None]}, (2, 3, 4, 5), (2, 3, 4, 5)),
]


@pytest.mark.parametrize("kind, args, in_shape, expected", SHAPES)
def test_output_shape(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    layer = make_layer(kind, args, in_shape)
    assert layer.out_shape == expected
    assert layer.macs() == 0


# (L, k, s, p, d, ceil_mode, out): the one helper both MaxPool and AvgPool use.
POOLED_SIZES = [
    (5, 2, 2, 0, 1, False, 2),  # floor(3/2) + 1
    (5, 2, 2, 0, 1, True, 3),  # ceil(3/2) + 1
    (5, 2, 2, 1, 1, True, 3),  # ceil(5/2) + 1 = 4, the 4th window would start at 6 >= 5 + 1
    (4, 2, 2, 1, 1, True, 3),  # ceil(4/2) + 1 = 3, the 3rd starts at 4 < 4 + 1
    (6, 3, 3, 0, 1, True, 2),  # ceil(3/3) + 1 = 2
    (4, 5, 1, 0, 1, False, 0),  # floor(-1/1) + 1: the kernel does not fit
    (4, 5, 3, 0, 1, True, 1),  # ceil(-1/3) + 1
    (3, 2, 1, 0, 3, False, 0),  # floor((3 - 3 - 1)/1) + 1: dilated extent 4 > 3
    (2, 4, 1, 0, 1, True, -1),  # ceil((2 - 3 - 1)/1) + 1
    (2, 2, 1, 1, 3, False, 1),  # floor((2 + 2 - 3 - 1)/1) + 1
]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation, ceil_mode, expected", POOLED_SIZES)
def test_pooled_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool, expected: int
) -> None:
    assert pooled_size(size, kernel, stride, padding, dilation, ceil_mode) == expected


# (kind, arguments, input shape, other ops): full kernel per output for Max/Avg, exact bins for adaptive pools.
OTHER_OPS = [
    ("MaxPool2d", {"kernel_size": 2}, (3, 28, 28), 3 * 14 * 14 * (4 - 1)),
    ("MaxPool1d", {"kernel_size": 3, "stride": 1, "padding": 1}, (1, 5), 5 * 2),  # padded taps counted too
    ("MaxPool3d", {"kernel_size": 2}, (2, 4, 4, 4), 2 * 2 * 2 * 2 * (8 - 1)),
    ("AvgPool2d", {"kernel_size": 2}, (3, 32, 32), 3 * 16 * 16 * (3 + 1)),
    ("AvgPool1d", {"kernel_size": 3, "stride": 1, "padding": 1}, (1, 5), 5 * (2 + 1)),
    ("AvgPool3d", {"kernel_size": [1, 2, 2]}, (1, 2, 4, 4), 1 * 2 * 2 * 2 * (3 + 1)),
    # one bin of 49 per channel: 48 adds + 1 divide, or 48 compares
    ("AdaptiveAvgPool2d", {"output_size": 1}, (512, 7, 7), 512 * 49),
    ("AdaptiveMaxPool2d", {"output_size": 1}, (512, 7, 7), 512 * 48),
    # 7 -> 3: bins [0, 3), [2, 5), [4, 7), 3 elements each
    ("AdaptiveAvgPool1d", {"output_size": 3}, (1, 7), 3 + 3 + 3),
    ("AdaptiveMaxPool1d", {"output_size": 3}, (1, 7), 2 + 2 + 2),
    # 5 -> 3: bins [0, 2), [1, 4), [3, 5) of 2, 3, 2
    ("AdaptiveAvgPool1d", {"output_size": 3}, (2, 5), 2 * (2 + 3 + 2)),
    ("AdaptiveMaxPool1d", {"output_size": 3}, (2, 5), 2 * (1 + 2 + 1)),
    # H 4 -> 2: bins 2, 2; W 5 -> 3: bins 2, 3, 2. Outputs read (2 + 2) * (2 + 3 + 2) elements per channel.
    ("AdaptiveAvgPool2d", {"output_size": [2, 3]}, (2, 4, 5), 2 * 4 * 7),
    ("AdaptiveMaxPool2d", {"output_size": [2, 3]}, (2, 4, 5), 2 * 4 * 7 - 2 * 2 * 3),
    # 3 -> 5: bins [0, 1), [0, 2), [1, 2), [1, 3), [2, 3) of 1, 2, 1, 2, 1
    ("AdaptiveAvgPool3d", {"output_size": [5, 1, 1]}, (1, 3, 1, 1), 1 + 2 + 1 + 2 + 1),
    ("AdaptiveMaxPool3d", {"output_size": [5, 1, 1]}, (1, 3, 1, 1), 0 + 1 + 0 + 1 + 0),
]


@pytest.mark.parametrize("kind, args, in_shape, expected", OTHER_OPS)
def test_other_ops(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], expected: int) -> None:
    layer = make_layer(kind, args, in_shape)
    assert layer.other_ops() == expected
    assert layer.ops_rule != "none"


# (kind, arguments, input shape, windows, warns): adaptive windows are exact only when out divides L.
WINDOWS = [
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 8, 8), [Window(2, 2, 1)] * 2, False),
    ("MaxPool1d", {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 2}, (1, 8), [Window(4, 1, 1)], False),
    (
        "AvgPool2d",
        {"kernel_size": [3, 2], "stride": [1, 2], "padding": [1, 0]},
        (1, 8, 8),
        [Window(2, 1, 1), Window(1, 2, 0)],
        False,
    ),
    ("AvgPool3d", {"kernel_size": 2, "ceil_mode": True}, (1, 3, 3, 3), [Window(1, 2, 0)] * 3, False),
    ("AdaptiveAvgPool2d", {"output_size": 1}, (1, 7, 7), [Window(6, 7, 0)] * 2, False),
    ("AdaptiveMaxPool1d", {"output_size": 2}, (1, 8), [Window(3, 4, 0)], False),
    ("AdaptiveMaxPool2d", {"output_size": [None, 2]}, (1, 5, 8), [Window(0, 1, 0), Window(3, 4, 0)], False),
    # 5 -> 3: bins 0..1, 1..3, 3..4; stride 5/3; windows [i*5/3 - 2/3, i*5/3 + 4/3] cover them
    ("AdaptiveAvgPool1d", {"output_size": 3}, (1, 5), [Window(2, Fraction(5, 3), Fraction(2, 3))], False),
    # 3 -> 5: bins 0..0, 0..1, 1..1, 1..2, 2..2; windows [i*3/5 - 4/5, i*3/5 + 2/5]
    ("AdaptiveMaxPool1d", {"output_size": 5}, (1, 3), [Window(Fraction(6, 5), Fraction(3, 5), Fraction(4, 5))], False),
    (
        "AdaptiveAvgPool3d",
        {"output_size": [1, 2, 3]},
        (1, 3, 4, 7),
        [Window(2, 3, 0), Window(1, 2, 0), Window(Fraction(8, 3), Fraction(7, 3), Fraction(2, 3))],
        False,
    ),
]


@pytest.mark.parametrize("kind, args, in_shape, expected, warns", WINDOWS)
def test_window(
    kind: str, args: dict[str, Any], in_shape: tuple[int, ...], expected: list[Window], warns: bool
) -> None:
    layer = make_layer(kind, args, in_shape)
    assert layer.window() == tuple(expected)
    assert bool(layer.warnings) == warns
    # The window covers every bin: the integers in [i*stride - padding, i*stride - padding + extent].
    if kind.startswith("Adaptive"):
        for axis, (window, size, out) in enumerate(zip(layer.window(), in_shape[1:], layer.out_shape[1:], strict=True)):
            for i in range(out):
                start = i * window.stride - window.padding
                low, high = math.ceil(start), math.floor(start + window.extent)
                assert (low, high) == (i * size // out, -(-(i + 1) * size // out) - 1), (axis, i)


SUMMARIES = [
    ("MaxPool2d", {"kernel_size": 2}, (1, 8, 8), "k2 s2"),
    ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, (1, 8, 8), "k3 s2 p1"),
    ("MaxPool2d", {"kernel_size": [3, 2]}, (1, 8, 8), "k3x2 s3x2"),
    ("MaxPool1d", {"kernel_size": 3, "stride": 1, "dilation": 2, "ceil_mode": True}, (1, 8), "k3 s1 d2 ceil"),
    ("AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, (1, 8, 8), "k3 s1 p1"),
    (
        "AvgPool2d",
        {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False, "divisor_override": 4},
        (1, 8, 8),
        "k3 s1 p1 excl-pad div4",
    ),
    ("AdaptiveAvgPool2d", {"output_size": 1}, (1, 7, 7), "-> 1x1"),
    ("AdaptiveMaxPool3d", {"output_size": [None, 2, 3]}, (1, 4, 5, 6), "-> 4x2x3"),
]


@pytest.mark.parametrize("kind, args, in_shape, expected", SUMMARIES)
def test_summary(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], expected: str) -> None:
    assert make_layer(kind, args, in_shape).summary() == expected


@pytest.mark.parametrize("kind", POOL_KINDS)
def test_registered_without_weights(kind: str) -> None:
    assert REGISTRY[kind.lower()].kind == kind
    first = {"output_size": 2} if kind.startswith("Adaptive") else {"kernel_size": 2}
    layer = make_layer(kind, first, (3,) + (4,) * int(kind[-2]))
    assert layer.weights() == {} and layer.buffers() == {}
    assert layer.params() == 0 and layer.buffer_count() == 0
    assert layer.warnings == []


def test_partial_ceil_window_warns() -> None:
    layer = make_layer("MaxPool1d", {"kernel_size": 5, "stride": 3, "ceil_mode": True}, (1, 4))
    assert layer.warnings and "partial window" in layer.warnings[0]


# (kind, arguments, input shape, argument at fault, fragments of the message)
ERRORS: list[tuple[str, dict[str, Any], tuple[int, ...], str | None, list[str]]] = [
    ("MaxPool2d", {"kernel_size": 3, "padding": 2}, (1, 8, 8), "padding", ["kernel_size // 2 = 3 // 2 = 1"]),
    # dilation does not widen the padding limit
    ("MaxPool2d", {"kernel_size": 3, "padding": 2, "dilation": 2}, (1, 8, 8), "padding", ["dilation does not count"]),
    ("MaxPool1d", {"kernel_size": 2, "padding": [2]}, (1, 8), "padding", ["2 // 2 = 1"]),
    ("AvgPool3d", {"kernel_size": [3, 3, 1], "padding": [1, 1, 1]}, (1, 8, 8, 8), "padding", ["1 // 2 = 0", "W"]),
    (
        "MaxPool1d",
        {"kernel_size": 5},
        (1, 4),
        "kernel_size",
        ["5-wide kernel does not fit the padded input of 4 + 2*0 = 4", "floor((4 + 2*0 - 1*(5-1) - 1) / 5) + 1 = 0"],
    ),
    (
        "MaxPool2d",
        {"kernel_size": 2, "stride": 1, "dilation": 3},
        (1, 3, 3),
        "kernel_size",
        ["dilated by 3 (spanning 4)", "floor((3 + 2*0 - 3*(2-1) - 1) / 1) + 1 = 0"],
    ),
    (
        "AvgPool2d",
        {"kernel_size": [1, 4], "stride": 1, "ceil_mode": True},
        (1, 3, 2),
        "kernel_size",
        ["along W", "ceil((2 + 2*0 - 1*(4-1) - 1) / 1) + 1 = -1"],
    ),
    # AvgPool3d alone needs the unpadded input to hold the kernel
    ("AvgPool3d", {"kernel_size": 3, "padding": 1}, (1, 3, 2, 3), "kernel_size", ["H is 2 but kernel_size is 3"]),
    ("AvgPool2d", {"kernel_size": 2, "divisor_override": 0}, (1, 4, 4), "divisor_override", ["not be zero"]),
    ("AvgPool1d", {"kernel_size": 2, "divisor_override": 2}, (1, 4), "divisor_override", ["no argument"]),
    ("AvgPool2d", {"kernel_size": 2, "dilation": 2}, (1, 4, 4), "dilation", ["no argument"]),
    ("MaxPool2d", {"kernel_size": 2, "return_indices": True}, (1, 4, 4), "return_indices", ["tuple"]),
    ("AdaptiveMaxPool1d", {"output_size": 2, "return_indices": True}, (1, 4), "return_indices", ["tuple"]),
    ("MaxPool2d", {"kernel_size": 0}, (1, 4, 4), "kernel_size", ["positive integer"]),
    ("MaxPool2d", {"kernel_size": 2, "stride": 0}, (1, 4, 4), "stride", ["positive integer"]),
    ("MaxPool3d", {"kernel_size": 2, "stride": [1, 2]}, (1, 4, 4, 4), "stride", ["list of 1 or 3"]),
    ("AvgPool2d", {"kernel_size": []}, (1, 4, 4), "kernel_size", ["list of 1 or 2"]),
    ("AvgPool2d", {"kernel_size": [[2]]}, (1, 4, 4), "kernel_size", ["[[2]]"]),
    ("MaxPool1d", {"kernel_size": [2, 2]}, (1, 4), "kernel_size", ["positive integer"]),
    ("MaxPool2d", {"kernel_size": 2, "padding": -1}, (1, 4, 4), "padding", ["non-negative"]),
    ("MaxPool2d", {"kernel_size": 2, "dilation": 0}, (1, 4, 4), "dilation", ["positive integer"]),
    ("MaxPool2d", {"kernel_size": 2}, (8, 8), "inputs", ["3 axes", "C x H x W"]),
    ("MaxPool1d", {"kernel_size": 2}, (1, 8, 8), "inputs", ["2 axes", "C x L"]),
    ("AvgPool3d", {"kernel_size": 2}, (1, 8, 8), "inputs", ["4 axes"]),
    ("AdaptiveAvgPool2d", {"output_size": 1}, (1, 8, 8, 8), "inputs", ["3 axes"]),
    ("AdaptiveAvgPool2d", {"output_size": 0}, (1, 8, 8), "output_size", ["positive integer"]),
    ("AdaptiveMaxPool2d", {"output_size": [0, 2]}, (1, 8, 8), "output_size", ["positive integer"]),
    ("AdaptiveAvgPool2d", {"output_size": -1}, (1, 8, 8), "output_size", ["positive integer"]),
    ("AdaptiveAvgPool2d", {"output_size": None}, (1, 8, 8), "output_size", ["null"]),
    ("AdaptiveAvgPool1d", {"output_size": [None]}, (1, 8), "output_size", ["positive integer"]),
    ("AdaptiveAvgPool2d", {"output_size": [3]}, (1, 8, 8), "output_size", ["list of 2"]),
    ("AdaptiveAvgPool3d", {"output_size": 2.0}, (1, 8, 8, 8), "output_size", ["float"]),
]


@pytest.mark.parametrize("kind, args, in_shape, arg, fragments", ERRORS)
def test_error(kind: str, args: dict[str, Any], in_shape: tuple[int, ...], arg: str, fragments: list[str]) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer(kind, args, in_shape)
    assert caught.value.arg == arg
    for fragment in fragments:
        assert fragment in caught.value.message


def test_missing_kernel_size() -> None:
    with pytest.raises(LayerError, match="needs the argument 'kernel_size'"):
        make_layer("MaxPool2d", {}, (1, 4, 4))


def test_hints_say_what_is_valid() -> None:
    with pytest.raises(LayerError) as padding:
        make_layer("MaxPool2d", {"kernel_size": 5, "padding": 3}, (1, 8, 8))
    assert padding.value.hint == "use padding from 0 to 2 along H"
    with pytest.raises(LayerError) as zero:
        make_layer("AdaptiveAvgPool1d", {"output_size": 0}, (1, 8))
    assert zero.value.hint is not None and "empty tensor" in zero.value.hint
