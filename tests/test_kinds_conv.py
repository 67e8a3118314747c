"""Hand-checkable cases for Conv1d/2d/3d, ConvTranspose1d/2d/3d, Linear, Flatten and Identity.

Each row states a configuration and the figures a reader can check on paper (the lecture's 760-parameter layer,
the pointwise quiz, ...). tests/test_torch_conv.py checks the same rules against torch.nn on thousands of drawn
configurations; this table pins the formulas, the error messages and the sizes torch cannot allocate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import prod
from typing import Any

import pytest

from cnncalc.errors import LayerError
from cnncalc.layers import Shape, Window, make_layer

T = 10**12  # channels no machine could allocate: every figure must stay an exact Python int


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    out_shape: Shape
    weights: dict[str, Shape]
    params: int
    macs: int
    other_ops: int
    window: tuple[Window, ...] | None
    warns: bool = False


def w(extent: int | Fraction, stride: int | Fraction, padding: int | Fraction) -> Window:
    return Window(extent, stride, padding)


def bias_adds(out_shape: Shape) -> int:
    """Other ops of a conv/linear with bias: one add per output element."""
    return prod(out_shape)


CASES = [
    # The lecture: ten 5x5 filters over 3x32x32, stride 1, pad 2. Params 10*(3*25) + 10; MACs 10*32*32 * 3*25.
    Case(
        "lecture-conv",
        "conv2d",
        {"out_channels": 10, "kernel_size": 5, "stride": 1, "padding": 2},
        (3, 32, 32),
        (10, 32, 32),
        {"weight": (10, 3, 5, 5), "bias": (10,)},
        760,
        768_000,
        10 * 32 * 32,
        (w(4, 1, 2), w(4, 1, 2)),
    ),
    # The pointwise quiz: 32 filters of 16x1x1 -> 512 + 32 params; 32*64*64 outputs of 16 MACs each.
    Case(
        "pointwise-quiz",
        "Conv2d",
        {"out_channels": 32, "kernel_size": 1},
        (16, 64, 64),
        (32, 64, 64),
        {"weight": (32, 16, 1, 1), "bias": (32,)},
        544,
        2_097_152,
        32 * 64 * 64,
        (w(0, 1, 0), w(0, 1, 0)),
    ),
    # Depthwise: groups = channels, one 3x3 filter per channel (MobileNet's 32x112x112 stage).
    Case(
        "depthwise",
        "conv2d",
        {"out_channels": 32, "kernel_size": 3, "padding": 1, "groups": 32, "bias": False},
        (32, 112, 112),
        (32, 112, 112),
        {"weight": (32, 1, 3, 3)},
        288,
        32 * 112 * 112 * 9,
        0,
        (w(2, 1, 1), w(2, 1, 1)),
    ),
    # Depthwise with a channel multiplier: each of 4 groups maps 1 channel to 2.
    Case(
        "depthwise-multiplier",
        "conv1d",
        {"out_channels": 8, "kernel_size": 3, "groups": 4},
        (4, 10),
        (8, 8),
        {"weight": (8, 1, 3), "bias": (8,)},
        8 * 3 + 8,
        8 * 8 * 3,
        8 * 8,
        (w(2, 1, 0),),
    ),
    # AlexNet conv1: (227 - 11) / 4 + 1 = 55; 96 * 3*11*11 + 96 params.
    Case(
        "alexnet-conv1",
        "conv2d",
        {"out_channels": 96, "kernel_size": 11, "stride": 4},
        (3, 227, 227),
        (96, 55, 55),
        {"weight": (96, 3, 11, 11), "bias": (96,)},
        34_944,
        96 * 55 * 55 * 363,
        96 * 55 * 55,
        (w(10, 4, 0), w(10, 4, 0)),
    ),
    # A stride that does not divide: floor((8 + 2 - 2 - 1) / 2) + 1 = 4 (the last padded column is never read).
    Case(
        "stride-floor",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1, "bias": False},
        (1, 8),
        (1, 4),
        {"weight": (1, 1, 3)},
        3,
        12,
        0,
        (w(2, 2, 1),),
    ),
    # 'same' with an even kernel: total padding 3, PyTorch puts 1 before and 2 after, so the window starts 1 early.
    Case(
        "same-even-kernel",
        "conv1d",
        {"out_channels": 3, "kernel_size": 4, "padding": "same"},
        (2, 10),
        (3, 10),
        {"weight": (3, 2, 4), "bias": (3,)},
        3 * 2 * 4 + 3,
        3 * 10 * 2 * 4,
        30,
        (w(3, 1, 1),),
        warns=True,
    ),
    # 'same' per axis: kernel 2 with dilation 3 spans 4 (padding 1 + 2); kernel 3 spans 3 (padding 1 + 1).
    Case(
        "same-dilated-per-axis",
        "conv2d",
        {"out_channels": 2, "kernel_size": [2, 3], "dilation": [3, 1], "padding": "same", "bias": False},
        (1, 5, 6),
        (2, 5, 6),
        {"weight": (2, 1, 2, 3)},
        12,
        2 * 30 * 6,
        0,
        (w(3, 1, 1), w(2, 1, 1)),
        warns=True,
    ),
    # 'same' with an odd kernel and reflection padding: symmetric, no warning; padding 2 < 3 fits reflect.
    Case(
        "same-odd-reflect",
        "conv2d",
        {"out_channels": 4, "kernel_size": 5, "padding": "same", "padding_mode": "reflect"},
        (2, 3, 3),
        (4, 3, 3),
        {"weight": (4, 2, 5, 5), "bias": (4,)},
        204,
        4 * 9 * 50,
        36,
        (w(4, 1, 2), w(4, 1, 2)),
    ),
    # 'valid' is padding 0: LeNet's first layer, 28 - 5 + 1 = 24.
    Case(
        "valid",
        "conv2d",
        {"out_channels": 6, "kernel_size": 5, "padding": "valid"},
        (1, 28, 28),
        (6, 24, 24),
        {"weight": (6, 1, 5, 5), "bias": (6,)},
        156,
        6 * 24 * 24 * 25,
        6 * 24 * 24,
        (w(4, 1, 0), w(4, 1, 0)),
    ),
    # Dilation 2 turns a 3-tap kernel into a 5-wide window: 10 - 5 + 1 = 6 outputs of 3 MACs.
    Case(
        "dilation",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "dilation": 2, "bias": False},
        (1, 10),
        (1, 6),
        {"weight": (1, 1, 3)},
        3,
        18,
        0,
        (w(4, 1, 0),),
    ),
    # Dilation, stride and padding together: floor((15 + 4 - 4 - 1) / 2) + 1 = 8.
    Case(
        "dilation-stride-padding",
        "conv2d",
        {"out_channels": 4, "kernel_size": 3, "dilation": 2, "stride": 2, "padding": 2},
        (3, 15, 15),
        (4, 8, 8),
        {"weight": (4, 3, 3, 3), "bias": (4,)},
        112,
        4 * 64 * 27,
        4 * 64,
        (w(4, 2, 2), w(4, 2, 2)),
    ),
    # Reflection padding up to size - 1 = 3: 4 + 6 - 3 + 1 = 8.
    Case(
        "reflect-at-limit",
        "conv1d",
        {"out_channels": 3, "kernel_size": 3, "padding": 3, "padding_mode": "reflect"},
        (2, 4),
        (3, 8),
        {"weight": (3, 2, 3), "bias": (3,)},
        21,
        3 * 8 * 6,
        24,
        (w(2, 1, 3),),
    ),
    # Circular padding up to the size itself (it wraps around once): 3 + 6 - 3 + 1 = 7.
    Case(
        "circular-at-limit",
        "conv2d",
        {"out_channels": 1, "kernel_size": 3, "padding": 3, "padding_mode": "circular", "bias": False},
        (1, 3, 3),
        (1, 7, 7),
        {"weight": (1, 1, 3, 3)},
        9,
        49 * 9,
        0,
        (w(2, 1, 3), w(2, 1, 3)),
    ),
    # Replicate padding has no limit: an input of 1 padded by 9 on each side.
    Case(
        "replicate-unlimited",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "padding": 9, "padding_mode": "replicate", "bias": False},
        (1, 1),
        (1, 17),
        {"weight": (1, 1, 3)},
        3,
        51,
        0,
        (w(2, 1, 9),),
    ),
    # C3D's first layer: 64 filters of 3x3x3x3 over 3x16x112x112, padding 1.
    Case(
        "conv3d-c3d",
        "conv3d",
        {"out_channels": 64, "kernel_size": 3, "padding": 1},
        (3, 16, 112, 112),
        (64, 16, 112, 112),
        {"weight": (64, 3, 3, 3, 3), "bias": (64,)},
        64 * 81 + 64,
        64 * 16 * 112 * 112 * 81,
        64 * 16 * 112 * 112,
        (w(2, 1, 1),) * 3,
    ),
    # Conv3d with per-axis kernel, stride and padding: (4-1)/1+1 = 4, (9+2-3)/2+1 = 5, (9+0-1)/3+1 = 3.
    Case(
        "conv3d-per-axis",
        "conv3d",
        {"out_channels": 2, "kernel_size": [1, 3, 1], "stride": [1, 2, 3], "padding": [0, 1, 0], "bias": False},
        (1, 4, 9, 9),
        (2, 4, 5, 3),
        {"weight": (2, 1, 1, 3, 1)},
        6,
        2 * 60 * 3,
        0,
        (w(0, 1, 0), w(2, 2, 1), w(0, 3, 0)),
    ),
    # Transposed conv doubling 14 -> 28: (14-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 28. Weight is (in, out/groups, k, k).
    # MACs are the multiplies performed: 16*14*14 inputs, each meeting 8*3*3 weights.
    Case(
        "tconv2d-double",
        "convtranspose2d",
        {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
        (16, 14, 14),
        (8, 28, 28),
        {"weight": (16, 8, 3, 3), "bias": (8,)},
        16 * 8 * 9 + 8,
        16 * 14 * 14 * 8 * 9,
        8 * 28 * 28,
        (w(Fraction(1), Fraction(1, 2), Fraction(1, 2)),) * 2,
    ),
    # DCGAN's 4x4 stride-2 upsampling with groups: (5-1)*2 - 2 + 3 + 1 = 10; weight (4, 2/2, 4).
    Case(
        "tconv1d-groups",
        "ConvTranspose1d",
        {"out_channels": 2, "kernel_size": 4, "stride": 2, "padding": 1, "groups": 2, "bias": False},
        (4, 5),
        (2, 10),
        {"weight": (4, 1, 4)},
        16,
        4 * 5 * 1 * 4,
        0,
        (w(Fraction(3, 2), Fraction(1, 2), Fraction(1)),),
    ),
    # output_padding 1 with stride 1 is allowed when dilation is 2: (5-1) + 2*2 + 1 + 1 = 10.
    Case(
        "tconv-output-padding-below-dilation",
        "convtranspose1d",
        {"out_channels": 1, "kernel_size": 3, "dilation": 2, "output_padding": 1, "bias": False},
        (1, 5),
        (1, 10),
        {"weight": (1, 1, 3)},
        3,
        15,
        0,
        (w(4, 1, 4),),
    ),
    # Transposed 3-D, per axis (L-1)*s - 2p + (k-1) + output_padding + 1: 1+0+1+0+1 = 3, 4-2+2+1+1 = 6, 6-2+1+2+1 = 8.
    Case(
        "tconv3d-per-axis",
        "convtranspose3d",
        {
            "out_channels": 3,
            "kernel_size": [2, 3, 2],
            "stride": [1, 2, 3],
            "padding": [0, 1, 1],
            "output_padding": [0, 1, 2],
        },
        (2, 2, 3, 3),
        (3, 3, 6, 8),
        {"weight": (2, 3, 2, 3, 2), "bias": (3,)},
        2 * 3 * 12 + 3,
        2 * 18 * 3 * 12,
        3 * 3 * 6 * 8,
        (
            w(Fraction(1), Fraction(1), Fraction(1)),
            w(Fraction(1), Fraction(1, 2), Fraction(1, 2)),
            w(Fraction(1, 3), Fraction(1, 3), Fraction(0)),
        ),
    ),
    # Linear: AlexNet's fc6, 9216 -> 4096.
    Case(
        "linear-fc6",
        "linear",
        {"out_features": 4096},
        (9216,),
        (4096,),
        {"weight": (4096, 9216), "bias": (4096,)},
        37_752_832,
        37_748_736,
        4096,
        None,
    ),
    # Linear acts on the last axis only: every one of the 2*3 rows is a 5 -> 7 product.
    Case(
        "linear-last-axis",
        "Linear",
        {"in_features": 5, "out_features": 7, "bias": False},
        (2, 3, 5),
        (2, 3, 7),
        {"weight": (7, 5)},
        35,
        2 * 3 * 7 * 5,
        0,
        None,
    ),
    # PyTorch has no rank limit for Linear: nine axes per sample.
    Case(
        "linear-rank-9",
        "linear",
        {"out_features": 2},
        (1, 1, 1, 1, 1, 1, 1, 2, 3),
        (1, 1, 1, 1, 1, 1, 1, 2, 2),
        {"weight": (2, 3), "bias": (2,)},
        8,
        12,
        4,
        None,
    ),
    Case("flatten-lenet", "flatten", {}, (50, 7, 7), (2450,), {}, 0, 0, 0, None),
    # start_dim 2 (the batch axis is 0) keeps channels and merges H x W.
    Case("flatten-spatial", "flatten", {"start_dim": 2}, (8, 4, 5), (8, 20), {}, 0, 0, 0, None),
    Case("flatten-negative", "flatten", {"start_dim": -3, "end_dim": -2}, (8, 4, 5), (32, 5), {}, 0, 0, 0, None),
    # A single axis "merged" with itself changes nothing, so the window stays pointwise.
    Case(
        "flatten-noop", "flatten", {"start_dim": 2, "end_dim": 2}, (8, 4, 5), (8, 4, 5), {}, 0, 0, 0, (w(0, 1, 0),) * 2
    ),
    Case("flatten-batch-only", "flatten", {"start_dim": 0, "end_dim": 0}, (3, 4), (3, 4), {}, 0, 0, 0, (w(0, 1, 0),)),
    Case("flatten-vector", "flatten", {}, (7,), (7,), {}, 0, 0, 0, None),
    Case("identity", "identity", {}, (3, 4, 5), (3, 4, 5), {}, 0, 0, 0, (w(0, 1, 0),) * 2),
    Case("identity-vector", "Identity", {}, (9,), (9,), {}, 0, 0, 0, None),
    # Sizes no machine holds: a 10**12-channel pointwise conv has 10**24 + 10**12 params.
    Case(
        "huge-pointwise",
        "conv2d",
        {"out_channels": T, "kernel_size": 1},
        (T, 1, 1),
        (T, 1, 1),
        {"weight": (T, T, 1, 1), "bias": (T,)},
        10**24 + 10**12,
        10**24,
        10**12,
        (w(0, 1, 0),) * 2,
    ),
    # A 10**12-long signal through a 3-tap filter: 10**12 - 2 outputs of T*3 MACs each.
    Case(
        "huge-conv1d",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "bias": False},
        (T, T),
        (1, T - 2),
        {"weight": (1, T, 3)},
        3 * T,
        (T - 2) * 3 * T,
        0,
        (w(2, 1, 0),),
    ),
    Case(
        "huge-tconv",
        "convtranspose1d",
        {"out_channels": T, "kernel_size": 2, "stride": 2, "groups": T},
        (T, T),
        (T, 2 * T),
        {"weight": (T, 1, 2), "bias": (T,)},
        3 * T,
        T * T * 2,
        2 * T * T,
        (w(Fraction(1, 2), Fraction(1, 2), Fraction(1, 2)),),
    ),
    Case(
        "huge-linear",
        "linear",
        {"out_features": T},
        (T,),
        (T,),
        {"weight": (T, T), "bias": (T,)},
        10**24 + 10**12,
        10**24,
        T,
        None,
    ),
    Case("huge-flatten", "flatten", {}, (T, T, T), (10**36,), {}, 0, 0, 0, None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_kind_figures(case: Case) -> None:
    layer = make_layer(case.kind, case.args, case.in_shape)
    assert layer.out_shape == case.out_shape
    assert layer.weights() == case.weights
    assert layer.params() == case.params
    assert layer.buffers() == {}
    assert layer.macs() == case.macs
    assert layer.other_ops() == case.other_ops
    assert layer.window() == case.window
    assert bool(layer.warnings) == case.warns
    for figure in (layer.params(), layer.macs(), layer.other_ops(), *layer.out_shape):
        assert type(figure) is int  # exact, never a float that rounded 10**24


def test_same_warning_names_the_split() -> None:
    layer = make_layer("conv2d", {"out_channels": 1, "kernel_size": [3, 4], "padding": "same"}, (1, 8, 8))
    assert layer.warnings == [
        "padding='same' pads W unevenly (1 before, 2 after) because dilation * (kernel_size - 1) = 3 is odd"
    ]


@dataclass(frozen=True)
class Bad:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    arg: str
    says: tuple[str, ...] = field(default=())  # numbers and words the message must contain


BAD = [
    Bad(
        "kernel-does-not-fit",
        "conv1d",
        {"out_channels": 1, "kernel_size": 5},
        (2, 4),
        "kernel_size",
        ("a 5-wide kernel does not fit a padded input of 4",),
    ),
    Bad(
        "dilated-kernel-does-not-fit",
        "conv2d",
        {"out_channels": 1, "kernel_size": 3, "dilation": [1, 3], "padding": 1},
        (1, 5, 4),
        "kernel_size",
        ("7-wide", "padded input of 6", "along W", "dilation 3"),
    ),
    Bad(
        "valid-does-not-fit",
        "conv3d",
        {"out_channels": 1, "kernel_size": [1, 1, 4], "padding": "valid"},
        (1, 2, 2, 3),
        "kernel_size",
        ("4-wide", "padded input of 3", "along W"),
    ),
    Bad(
        "in-channels-not-divisible",
        "conv2d",
        {"out_channels": 4, "kernel_size": 1, "groups": 4},
        (6, 8, 8),
        "groups",
        ("in_channels (6)", "groups (4)"),
    ),
    Bad(
        "out-channels-not-divisible",
        "convtranspose2d",
        {"out_channels": 6, "kernel_size": 1, "groups": 4},
        (4, 8, 8),
        "groups",
        ("out_channels (6)", "groups (4)"),
    ),
    Bad(
        "same-with-stride-2",
        "conv2d",
        {"out_channels": 1, "kernel_size": 3, "stride": [1, 2], "padding": "same"},
        (1, 8, 8),
        "padding",
        ("'same'", "stride 1x2"),
    ),
    Bad(
        "in-channels-disagree",
        "conv2d",
        {"in_channels": 3, "out_channels": 8, "kernel_size": 3},
        (4, 8, 8),
        "in_channels",
        ("in_channels is 3", "4 channels"),
    ),
    Bad(
        "tconv-in-channels-disagree",
        "convtranspose1d",
        {"in_channels": 2, "out_channels": 8, "kernel_size": 3},
        (1, 8),
        "in_channels",
        ("in_channels is 2", "1 channels"),
    ),
    Bad(
        "in-features-disagree",
        "linear",
        {"in_features": 100, "out_features": 10},
        (50, 10),
        "in_features",
        ("in_features is 100", "has 10 features"),
    ),
    Bad(
        "reflect-padding-too-big",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "padding": 4, "padding_mode": "reflect"},
        (1, 4),
        "padding",
        ("up to 3", "input size 4", "got 4"),
    ),
    Bad(
        "reflect-same-too-big",
        "conv1d",
        {"out_channels": 1, "kernel_size": 3, "padding": "same", "padding_mode": "reflect"},
        (1, 1),
        "padding",
        ("up to 0", "got 1"),
    ),
    Bad(
        "circular-wraps-twice",
        "conv2d",
        {"out_channels": 1, "kernel_size": 3, "padding": [1, 4], "padding_mode": "circular"},
        (1, 5, 3),
        "padding",
        ("up to 3", "along W", "got 4"),
    ),
    Bad(
        "tconv-output-padding",
        "convtranspose2d",
        {"out_channels": 1, "kernel_size": 3, "stride": 2, "output_padding": [1, 2]},
        (1, 4, 4),
        "output_padding",
        ("output_padding (2)", "stride (2)", "dilation (1)", "along W"),
    ),
    Bad(
        "tconv-output-collapses",
        "convtranspose1d",
        {"out_channels": 1, "kernel_size": 2, "padding": 1},
        (1, 1),
        "padding",
        ("= 0",),
    ),
    Bad(
        "tconv-no-same",
        "convtranspose2d",
        {"out_channels": 1, "kernel_size": 3, "padding": "same"},
        (1, 4, 4),
        "padding",
    ),
    Bad(
        "tconv-zeros-only",
        "convtranspose2d",
        {"out_channels": 1, "kernel_size": 3, "padding_mode": "reflect"},
        (1, 4, 4),
        "padding_mode",
        ("'zeros'",),
    ),
    Bad("kernel-zero", "conv2d", {"out_channels": 1, "kernel_size": [3, 0]}, (1, 4, 4), "kernel_size"),
    Bad("stride-zero", "conv1d", {"out_channels": 1, "kernel_size": 1, "stride": 0}, (1, 4), "stride"),
    Bad("negative-padding", "conv1d", {"out_channels": 1, "kernel_size": 1, "padding": -1}, (1, 4), "padding"),
    Bad("zero-channels", "conv1d", {"out_channels": 0, "kernel_size": 1}, (1, 4), "out_channels"),
    Bad("zero-in-channels", "conv1d", {"in_channels": 0, "out_channels": 1, "kernel_size": 1}, (1, 4), "in_channels"),
    Bad("zero-features", "linear", {"out_features": 0}, (4,), "out_features"),
    # PyTorch's ATen repeats a one-element list for every axis; cnncalc wants an int or one value per axis.
    Bad("one-element-list", "conv2d", {"out_channels": 1, "kernel_size": 1, "stride": [2]}, (1, 4, 4), "stride"),
    # PyTorch's F.pad would crop the input here; cnncalc's padding is never negative.
    Bad(
        "negative-padding-reflect",
        "conv1d",
        {"out_channels": 1, "kernel_size": 1, "padding": -1, "padding_mode": "reflect"},
        (1, 4),
        "padding",
    ),
    Bad("per-axis-list-length", "conv2d", {"out_channels": 1, "kernel_size": [3, 3, 3]}, (1, 4, 4), "kernel_size"),
    Bad(
        "unknown-padding-word", "conv2d", {"out_channels": 1, "kernel_size": 3, "padding": "Same"}, (1, 4, 4), "padding"
    ),
    Bad(
        "conv2d-on-vector", "conv2d", {"out_channels": 1, "kernel_size": 3}, (3, 32), "inputs", ("C x H x W", "3 x 32")
    ),
    Bad("conv1d-on-image", "conv1d", {"out_channels": 1, "kernel_size": 3}, (3, 32, 32), "inputs", ("C x L",)),
    Bad("linear-on-scalar", "linear", {"out_features": 3}, (), "inputs", ("at least one axis",)),
    Bad("flatten-start-out-of-range", "flatten", {"start_dim": 4}, (2, 3, 4), "start_dim", ("4", "-4 to 3")),
    Bad("flatten-end-out-of-range", "flatten", {"end_dim": -5}, (2, 3, 4), "end_dim", ("-5", "-4 to 3")),
    Bad("flatten-start-after-end", "flatten", {"start_dim": 3, "end_dim": 1}, (2, 3, 4), "start_dim", ("3", "1")),
    Bad("flatten-batch-axis", "flatten", {"start_dim": 0}, (2, 3, 4), "start_dim", ("batch",)),
    Bad("identity-takes-nothing", "identity", {"inplace": True}, (2, 3), "inplace"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_kind_errors(bad: Bad) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer(bad.kind, bad.args, bad.in_shape)
    error = caught.value
    assert error.arg == bad.arg
    for words in bad.says:
        assert words in error.message, f"{words!r} missing from: {error.message}"


def test_conv_takes_one_input() -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("conv2d", {"out_channels": 1, "kernel_size": 1}, (1, 4, 4), (1, 4, 4))
    assert caught.value.arg == "inputs"
