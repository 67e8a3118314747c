"""Hand-checkable cases for the merges (Add, Concat, Mul) and the resizing layers (Upsample, the padding layers,
CenterCrop): output shape, other ops, receptive-field window and summary per row, then the errors.

tests/test_torch_merge_resize.py runs these same rows against PyTorch (GOOD: torch gives the same shape; BAD:
torch rejects the configuration too, or accepts it where cnncalc deliberately refuses, as each row says) and
draws thousands more configurations; this table pins the formulas and the wording of the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

import pytest

from cnncalc.errors import LayerError
from cnncalc.layers import POINTWISE, Shape, Window, lookup, make_layer
from cnncalc.layers.resize import exact_factor

F = Fraction


def w(extent: int | Fraction, stride: int | Fraction, padding: int | Fraction) -> Window:
    return Window(extent, stride, padding)


@dataclass(frozen=True)
class Good:
    id: str
    kind: str
    args: dict[str, Any]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    window: tuple[Window, ...] | None
    other_ops: int
    summary: str
    warns: bool = False


P = POINTWISE
HW = 2 * (P,)

GOOD = [
    # -- merges: (inputs - 1) ops per output element for Add and Mul, none for Concat -----------------------------
    Good("add-residual", "add", {}, ((64, 56, 56), (64, 56, 56)), (64, 56, 56), HW, 64 * 56 * 56, "sum of 2"),
    Good("add-three", "Add", {}, ((2, 3, 3),) * 3, (2, 3, 3), HW, 2 * 2 * 3 * 3, "sum of 3"),
    Good("concat-channels", "concat", {}, ((64, 28, 28), (32, 28, 28)), (96, 28, 28), HW, 0, "dim 1"),
    Good("concat-last", "Concat", {"dim": -1}, ((3, 4, 5), (3, 4, 2), (3, 4, 1)), (3, 4, 8), HW, 0, "dim 3"),
    Good("concat-1d-length", "concat", {"dim": 2}, ((8, 10), (8, 6)), (8, 16), (P,), 0, "dim 2"),
    # Squeeze-and-excitation: the C x 1 x 1 gate broadcasts over H and W.
    Good("mul-se", "mul", {}, ((64, 56, 56), (64, 1, 1)), (64, 56, 56), HW, 64 * 56 * 56, "product of 2"),
    Good("mul-both-stretch", "Mul", {}, ((3, 1, 5), (1, 4, 1)), (3, 4, 5), HW, 3 * 4 * 5, "product of 2"),
    Good("mul-three", "mul", {}, ((2, 3), (2, 1), (1, 3)), (2, 3), (P,), 2 * 2 * 3, "product of 3"),
    # Fewer axes: aligned from the right (the last axis of 2x3x4 meets the 4), fine for one sample; warned.
    Good("mul-lower-rank", "mul", {}, ((2, 3, 4), (4,)), (2, 3, 4), HW, 2 * 3 * 4, "product of 2", warns=True),
    # -- Upsample: floor(L * scale) in double precision; windows cover PyTorch's floored source index -----------
    Good("up-nearest-x2", "upsample", {"scale_factor": 2}, ((3, 4, 4),), (3, 8, 8),
         2 * (w(F(1, 2), F(1, 2), F(1, 2)),), 0, "x2 nearest"),
    Good("up-1.5-on-5", "Upsample", {"scale_factor": 1.5}, ((2, 5),), (2, 7), (w(F(2, 3), F(2, 3), F(2, 3)),), 0,
         "x1.5 nearest"),
    # 100 * 0.29 is 28.999999999999996 in doubles, so PyTorch makes 28, not 29; the window keeps f = 29/100.
    Good("up-0.29-floor", "upsample", {"scale_factor": 0.29, "mode": "linear"}, ((1, 100),), (1, 28),
         (w(F(115, 58), F(100, 29), F(-7, 29)),), 3 * 28, "x0.29 linear"),
    # size 7 from 4 and 5: f = 7/4 and 7/5; padding (f - 1)/(2f).
    Good("up-bilinear-size", "upsample", {"size": 7, "mode": "bilinear"}, ((3, 4, 5),), (3, 7, 7),
         (w(F(27, 14), F(4, 7), F(8, 7)), w(F(13, 7), F(5, 7), 1)), 7 * 3 * 7 * 7, "to 7x7 bilinear"),
    Good("up-align-corners", "upsample", {"size": [7, 9], "mode": "bilinear", "align_corners": True}, ((1, 4, 5),),
         (1, 7, 9), 2 * (w(F(3, 2), F(1, 2), F(1, 2)),), 7 * 63, "to 7x9 bilinear align_corners"),
    Good("up-bicubic-per-axis", "upsample", {"scale_factor": [2, 1.5], "mode": "bicubic"}, ((1, 4, 4),), (1, 8, 6),
         (w(F(15, 4), F(1, 2), 2), w(F(23, 6), F(2, 3), 2)), 31 * 48, "x2,1.5 bicubic"),
    Good("up-trilinear", "upsample", {"scale_factor": 2, "mode": "trilinear"}, ((2, 2, 3, 4),), (2, 4, 6, 8),
         3 * (w(F(7, 4), F(1, 2), 1),), 15 * 2 * 4 * 6 * 8, "x2 trilinear"),
    # recompute_scale_factor: the 7 outputs map back with 5/7, not with 1/1.5.
    Good("up-recompute", "upsample", {"scale_factor": 1.5, "recompute_scale_factor": True}, ((2, 5),), (2, 7),
         (w(F(6, 7), F(5, 7), F(6, 7)),), 0, "x1.5 nearest"),
    # floor(5 * 1.1) = 5 = L: PyTorch's nearest copies index o whatever the factor.
    Good("up-nearest-same-size", "upsample", {"scale_factor": 1.1}, ((1, 5),), (1, 5), (P,), 0, "x1.1 nearest"),
    Good("up-nearest-exact", "upsample", {"scale_factor": 2, "mode": "nearest-exact"}, ((1, 3),), (1, 6),
         (w(F(3, 4), F(1, 2), F(1, 2)),), 0, "x2 nearest-exact"),
    Good("up-one-third", "upsample", {"scale_factor": 0.3333333333333333}, ((1, 9),), (1, 3), (w(0, 3, 0),), 0,
         "x0.333333 nearest"),
    # torch.nn.Upsample keeps `scale_factor if scale_factor else None`: a 0 means "not given".
    Good("up-zero-scale-is-none", "upsample", {"size": 4, "scale_factor": 0}, ((1, 2),), (1, 4),
         (w(F(1, 2), F(1, 2), F(1, 2)),), 0, "to 4 nearest"),
    Good("up-align-one-output", "upsample", {"size": 1, "mode": "linear", "align_corners": True}, ((1, 5),), (1, 1),
         (w(1, 0, 0),), 3, "to 1 linear align_corners"),
    # -- padding: (left, right, top, bottom, front, back), last axis first; negative crops ------------------------
    Good("zeropad-int", "ZeroPad2d", {"padding": 1}, ((3, 5, 5),), (3, 7, 7), 2 * (w(0, 1, 1),), 0, "pad 1,1,1,1"),
    Good("zeropad-order", "zeropad2d", {"padding": [1, 2, 3, 4]}, ((3, 5, 5),), (3, 12, 8),
         (w(0, 1, 3), w(0, 1, 1)), 0, "pad 1,2,3,4"),
    Good("zeropad-crop", "zeropad2d", {"padding": [-1, -1, 0, 0]}, ((3, 5, 5),), (3, 5, 3), (P, w(0, 1, -1)), 0,
         "pad -1,-1,0,0"),
    # Constant padding pads the last axes of any rank: ZeroPad1d on C x H x W pads W only.
    Good("zeropad1d-on-2d", "zeropad1d", {"padding": 2}, ((3, 4, 5),), (3, 4, 9), (P, w(0, 1, 2)), 0, "pad 2,2"),
    Good("constantpad-value", "ConstantPad1d", {"padding": [2, -1], "value": 3.5}, ((2, 4),), (2, 5),
         (w(0, 1, 2),), 0, "pad 2,-1 value 3.5"),
    Good("constantpad-3d", "constantpad3d", {"padding": 1, "value": 0}, ((1, 2, 3, 4),), (1, 4, 5, 6),
         3 * (w(0, 1, 1),), 0, "pad 1,1,1,1,1,1 value 0"),
    Good("zeropad-to-empty", "zeropad1d", {"padding": [-2, -2]}, ((1, 4),), (1, 0), (w(0, 1, -2),), 0, "pad -2,-2",
         warns=True),
    Good("reflect-largest", "ReflectionPad2d", {"padding": 2}, ((3, 3, 3),), (3, 7, 7), 2 * (w(0, 1, 2),), 0,
         "pad 2,2,2,2"),
    # The unbatched form: H x W per sample (PyTorch reads (N, H, W) as C x H x W); one window, for W.
    Good("reflect-unbatched", "reflectionpad2d", {"padding": 1}, ((5, 5),), (7, 7), (w(0, 1, 1),), 0, "pad 1,1,1,1"),
    Good("reflect-crop", "reflectionpad1d", {"padding": [-1, 2]}, ((2, 4),), (2, 5), (w(0, 1, -1),), 0, "pad -1,2"),
    Good("reflect-3d", "reflectionpad3d", {"padding": 1}, ((1, 2, 2, 2),), (1, 4, 4, 4), 3 * (w(0, 1, 1),), 0,
         "pad 1,1,1,1,1,1"),
    Good("replicate-wide", "ReplicationPad1d", {"padding": 10}, ((1, 1),), (1, 21), (w(0, 1, 10),), 0, "pad 10,10"),
    Good("replicate-mixed", "replicationpad2d", {"padding": [-2, 0, 0, 3]}, ((1, 2, 3),), (1, 5, 1),
         (w(0, 1, 0), w(0, 1, -2)), 0, "pad -2,0,0,3"),
    # PyTorch checks `output_w >= 1 || output_h >= 1`: one padded axis may end up empty (warned).
    Good("replicate-one-axis-empty", "replicationpad2d", {"padding": [-2, 0, 0, 0]}, ((1, 3, 2),), (1, 3, 0),
         (w(0, 1, 0), w(0, 1, -2)), 0, "pad -2,0,0,0", warns=True),
    Good("replicate-3d", "replicationpad3d", {"padding": 2}, ((2, 1, 1, 1),), (2, 5, 5, 5), 3 * (w(0, 1, 2),), 0,
         "pad 2,2,2,2,2,2"),
    Good("circular-whole", "CircularPad1d", {"padding": 3}, ((2, 3),), (2, 9), (w(0, 1, 3),), 0, "pad 3,3"),
    # Crop 1 on the right, then wrap 1 of the 2 left onto the left.
    Good("circular-crop-wrap", "circularpad2d", {"padding": [1, -1, 0, 0]}, ((1, 3, 3),), (1, 3, 3),
         (P, w(0, 1, 1)), 0, "pad 1,-1,0,0"),
    Good("circular-to-empty", "circularpad1d", {"padding": [-1, 0]}, ((1, 1),), (1, 0), (w(0, 1, -1),), 0,
         "pad -1,0", warns=True),
    Good("circular-3d", "circularpad3d", {"padding": 1}, ((1, 2, 2, 2),), (1, 4, 4, 4), 3 * (w(0, 1, 1),), 0,
         "pad 1,1,1,1,1,1"),
    # -- CenterCrop: offset int(round((L - out) / 2)), Python's round halving to even --------------------------------
    # The original U-Net: the 64 x 568 x 568 skip cropped to the 392 x 392 of the upsampled path, keeping 64 channels.
    Good("crop-unet-skip", "CenterCrop", {}, ((64, 568, 568), (128, 392, 392)), (64, 392, 392),
         2 * (w(0, 1, -88),), 0, "crop 392x392"),
    Good("crop-size", "centercrop", {"size": 388}, ((2, 392, 392),), (2, 388, 388), 2 * (w(0, 1, -2),), 0,
         "crop 388x388"),
    # Surplus 1 -> round(0.5) = 0; surplus 3 -> round(1.5) = 2.
    Good("crop-odd-surplus", "centercrop", {"size": [4, 4]}, ((1, 5, 7),), (1, 4, 4), (w(0, 1, 0), w(0, 1, -2)), 0,
         "crop 4x4"),
    Good("crop-1d", "centercrop", {"size": 3}, ((2, 8),), (2, 3), (w(0, 1, -2),), 0, "crop 3"),
    Good("crop-3d", "centercrop", {"size": [1, 2, 3]}, ((1, 3, 3, 3),), (1, 1, 2, 3),
         (w(0, 1, -1), w(0, 1, 0), w(0, 1, 0)), 0, "crop 1x2x3"),
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_good(case: Good) -> None:
    layer = make_layer(case.kind, case.args, *case.in_shapes)
    assert layer.out_shape == case.out_shape
    assert layer.window() == case.window
    assert layer.other_ops() == case.other_ops
    assert layer.summary() == case.summary
    assert bool(layer.warnings) == case.warns, layer.warnings
    assert layer.macs() == 0 and layer.params() == 0 and layer.buffer_count() == 0
    assert layer.ops_rule and layer.ops_rule != "none" or case.other_ops == 0


@dataclass(frozen=True)
class Bad:
    id: str
    kind: str
    args: dict[str, Any]
    in_shapes: tuple[Shape, ...]
    arg: str | None  # the argument the error points at
    fragments: tuple[str, ...]  # pieces the message must contain: the numbers and what would be valid
    torch: str = "rejects"  # "rejects": torch raises too; "accepts": cnncalc refuses on purpose; "none": no torch op


BAD = [
    # -- merges ----------------------------------------------------------------------------------------------------
    Bad("add-shapes-differ", "add", {}, ((64, 56, 56), (64, 28, 28)), "inputs",
        ("64 x 56 x 56", "64 x 28 x 28", "along H", "56 vs 28")),
    # torch.add broadcasts 64 x 1 x 1; a residual sum that broadcasts is a wiring mistake, so Add refuses it.
    Bad("add-broadcast", "add", {}, ((64, 56, 56), (64, 1, 1)), "inputs", ("64 x 1 x 1", "along H", "56 vs 1"),
        "accepts"),
    Bad("add-third-differs", "add", {}, ((2, 3), (2, 3), (2, 4)), "inputs", ("input 3", "2 x 4", "along L")),
    Bad("add-ranks", "add", {}, ((3, 4), (3, 4, 1)), "inputs", ("3 x 4", "3 x 4 x 1", "2 axes", "3 axes")),
    Bad("add-one-input", "add", {}, ((3, 4),), "inputs", ("at least 2", "got 1"), "none"),
    # torch.cat along dim 0 stacks samples: not a layer of one sample.
    Bad("concat-batch", "concat", {"dim": 0}, ((3, 4), (3, 4)), "dim", ("batch axis", "1 to 2"), "accepts"),
    Bad("concat-batch-negative", "concat", {"dim": -3}, ((3, 4), (3, 4)), "dim", ("batch axis",), "accepts"),
    Bad("concat-range", "concat", {"dim": 3}, ((3, 4), (3, 4)), "dim", ("out of range", "-3 to 2")),
    Bad("concat-mismatch", "concat", {}, ((3, 4, 5), (2, 4, 6)), "inputs", ("W differs", "5 vs 6", "2 x 4 x 6")),
    Bad("concat-ranks", "concat", {}, ((3, 4), (3, 4, 1)), "inputs", ("same number of axes", "3 x 4 x 1")),
    Bad("concat-dim-type", "concat", {"dim": "channels"}, ((3, 4), (3, 4)), "dim", ("integer", "'channels'")),
    Bad("mul-no-broadcast", "mul", {}, ((3, 4), (3, 5)), "inputs",
        ("along L", "input 1 has 4 and input 2 has 5", "equal or 1")),
    Bad("mul-right-aligned", "mul", {}, ((2, 3, 4), (3,)), "inputs", ("along W", "input 2 has 3")),
    # -- Upsample --------------------------------------------------------------------------------------------------
    Bad("up-both", "upsample", {"size": 4, "scale_factor": 2}, ((1, 2),), "scale_factor", ("only one",)),
    Bad("up-neither", "upsample", {}, ((1, 2),), "scale_factor", ("needs size or scale_factor",)),
    Bad("up-zero-scale", "upsample", {"scale_factor": 0}, ((1, 2),), "scale_factor", ("0 counts as not given",)),
    Bad("up-align-nearest", "upsample", {"scale_factor": 2, "align_corners": False}, ((1, 2),), "align_corners",
        ("interpolating modes", "'nearest'")),
    Bad("up-align-exact", "upsample", {"scale_factor": 2, "mode": "nearest-exact", "align_corners": True},
        ((1, 2),), "align_corners", ("'nearest-exact'",)),
    Bad("up-bilinear-on-1d", "upsample", {"scale_factor": 2, "mode": "bilinear"}, ((1, 2),), "mode",
        ("'bilinear'", "3 (C x H x W)", "got 2")),
    Bad("up-linear-on-2d", "upsample", {"scale_factor": 2, "mode": "linear"}, ((1, 2, 2),), "mode",
        ("'linear'", "2 (C x L)", "got 3")),
    Bad("up-trilinear-on-2d", "upsample", {"scale_factor": 2, "mode": "trilinear"}, ((1, 2, 2),), "mode",
        ("4 (C x D x H x W)",)),
    Bad("up-bicubic-on-3d", "upsample", {"scale_factor": 2, "mode": "bicubic"}, ((1, 2, 2, 2),), "mode",
        ("'bicubic'", "got 4")),
    Bad("up-rank-1", "upsample", {"scale_factor": 2}, ((5,),), "inputs", ("2 (C x L) or 3", "got 1")),
    Bad("up-rank-5", "upsample", {"scale_factor": 2}, ((1, 1, 1, 1, 1),), "inputs", ("got 5",)),
    Bad("up-size-length", "upsample", {"size": [4, 4]}, ((1, 2),), "size", ("2 values", "1 spatial axis")),
    Bad("up-scale-length", "upsample", {"scale_factor": [2]}, ((1, 2, 2),), "scale_factor",
        ("1 value", "2 spatial axes")),
    Bad("up-recompute-size", "upsample", {"size": 4, "recompute_scale_factor": True}, ((1, 2),),
        "recompute_scale_factor", ("explicit size",)),
    Bad("up-empty", "upsample", {"scale_factor": 0.1}, ((1, 5),), "scale_factor", ("floor(5 * 0.1) = 0", "at least 1")),
    Bad("up-negative", "upsample", {"scale_factor": [2, -2]}, ((1, 2, 2),), "scale_factor", ("along W", "= -4")),
    Bad("up-size-zero", "upsample", {"size": 0}, ((1, 2),), "size", ("positive integer",)),
    Bad("up-scale-inf", "upsample", {"scale_factor": float("inf")}, ((1, 2),), "scale_factor", ("a number",)),
    Bad("up-mode-typo", "upsample", {"scale_factor": 2, "mode": "bilinar"}, ((1, 2, 2),), "mode", ("'bicubic'",)),
    # mode 'area' is adaptive average pooling (AdaptiveAvgPoolNd); cnncalc's Upsample leaves it out.
    Bad("up-mode-area", "upsample", {"size": 4, "mode": "area"}, ((1, 2),), "mode",
        ("'nearest-exact'", "AdaptiveAvgPool"), "accepts"),
    # -- padding ---------------------------------------------------------------------------------------------------
    # torch.nn.ZeroPad2d((1, 1)) silently pads only the last axis (an undocumented leftover of F.pad).
    Bad("pad-list-length", "zeropad2d", {"padding": [1, 1]}, ((1, 4, 4),), "padding",
        ("4 integers", "left, right, top, bottom"), "accepts"),
    Bad("pad-float", "zeropad2d", {"padding": 1.5}, ((1, 4, 4),), "padding", ("an integer",)),
    Bad("constantpad-no-value", "constantpad2d", {"padding": 1}, ((1, 4, 4),), "value", ("'value'",)),
    Bad("zeropad-value", "zeropad2d", {"padding": 1, "value": 1}, ((1, 4, 4),), "value", ("no argument 'value'",)),
    # F.pad would pad the batch axis as the 2nd padded axis of a one-axis sample.
    Bad("zeropad-batch-axis", "zeropad2d", {"padding": 1}, ((5,),), "inputs", ("batch axis", "1 per sample"),
        "accepts"),
    Bad("constant-over-crop", "zeropad1d", {"padding": [-3, -2]}, ((1, 4),), "padding", ("crops 5", "only 4")),
    Bad("reflect-too-wide", "reflectionpad1d", {"padding": 4}, ((1, 4),), "padding",
        ("smaller than", "4", "at most 3")),
    Bad("reflect-one-side", "reflectionpad2d", {"padding": [0, 0, 3, 0]}, ((1, 3, 5),), "padding",
        ("(top, bottom) = (3, 0)", "size of H")),
    Bad("reflect-rank", "reflectionpad2d", {"padding": 1}, ((1, 3, 3, 3),), "inputs", ("2 or 3", "got 4")),
    Bad("reflect-empty", "reflectionpad1d", {"padding": [-2, -2]}, ((1, 4),), "padding",
        ("L: 4 + -2 + -2 = 0", "at least one")),
    Bad("replicate-empty", "replicationpad2d", {"padding": [-3, 0, -3, 0]}, ((1, 3, 3),), "padding",
        ("H: 3 + -3 + 0 = 0; W: 3 + -3 + 0 = 0",)),
    Bad("replicate-negative", "replicationpad2d", {"padding": [0, 0, -4, 0]}, ((1, 3, 3),), "padding",
        ("3 + -4 + 0 = -1", "along H")),
    Bad("replicate-rank", "replicationpad1d", {"padding": 1}, ((1, 2, 3),), "inputs", ("1 or 2", "got 3")),
    Bad("circular-too-wide", "circularpad1d", {"padding": 4}, ((1, 3),), "padding", ("more than once", "only 3")),
    Bad("circular-negative", "circularpad1d", {"padding": [-2, -2]}, ((1, 3),), "padding", ("= -1",)),
    # torch accepts it and fills the output from uninitialised memory.
    Bad("circular-wrap-cropped", "circularpad1d", {"padding": [-3, 3]}, ((1, 3),), "padding",
        ("from 3 to 0", "wraps 3", "at most 0"), "accepts"),
    Bad("circular-rank", "circularpad2d", {"padding": 1}, ((3,),), "inputs", ("2 or 3", "got 1")),
    # -- CenterCrop (no torch.nn class) ----------------------------------------------------------------------------
    Bad("crop-too-big", "centercrop", {"size": 400}, ((1, 392, 392),), "size", ("400 x 400", "392", "fewer than 400"),
        "none"),
    Bad("crop-bigger-input", "centercrop", {}, ((1, 5, 5), (1, 6, 5)), "inputs", ("H has 5", "fewer than 6"),
        "none"),
    Bad("crop-both", "centercrop", {"size": 3}, ((1, 5, 5), (1, 3, 3)), "size", ("not both",), "none"),
    Bad("crop-neither", "centercrop", {}, ((1, 5, 5),), "size", ("needs size",), "none"),
    Bad("crop-three-inputs", "centercrop", {}, ((1, 5, 5),) * 3, "inputs", ("1 to 2", "got 3"), "none"),
    Bad("crop-size-length", "centercrop", {"size": [3]}, ((1, 5, 5),), "size", ("1 value", "2 spatial axes"), "none"),
    Bad("crop-rank-1", "centercrop", {"size": 3}, ((5,),), "inputs", ("spatial axis",), "none"),
    Bad("crop-ranks-differ", "centercrop", {}, ((1, 5, 5), (1, 3)), "inputs", ("different numbers of axes",), "none"),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_bad(case: Bad) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer(case.kind, case.args, *case.in_shapes)
    error = caught.value
    assert error.arg == case.arg, error.message
    for fragment in case.fragments:
        assert fragment in error.message + (error.hint or ""), f"{fragment!r} not in {error.message!r}"


def test_hints_say_what_would_be_valid() -> None:
    def hint(kind: str, args: dict[str, Any], *shapes: Shape) -> str:
        with pytest.raises(LayerError) as caught:
            make_layer(kind, args, *shapes)
        return caught.value.hint or ""

    assert "mode 'linear'" in hint("upsample", {"scale_factor": 2, "mode": "bilinear"}, (1, 4))
    assert "'bilinear' or 'bicubic'" in hint("upsample", {"scale_factor": 2, "mode": "trilinear"}, (1, 4, 4))
    assert "did you mean 'bilinear'" in hint("upsample", {"scale_factor": 2, "mode": "bilinar"}, (1, 4, 4))
    assert "1d layer" in hint("zeropad2d", {"padding": [1, 1]}, (1, 4, 4))
    assert "3d layer" in hint("reflectionpad1d", {"padding": [1, 1, 1, 1, 1, 1]}, (1, 4))
    assert "1d padding layer" in hint("zeropad3d", {"padding": 1}, (4,))
    assert "project the shortcut" in hint("add", {}, (64, 56, 56), (128, 28, 28))


def test_kinds_are_registered_with_their_input_counts() -> None:
    merges = ["Add", "Concat", "Mul"]
    pads = [
        f"{family}Pad{d}d"
        for family in ("Zero", "Constant", "Reflection", "Replication", "Circular")
        for d in (1, 2, 3)
    ]
    for name in merges + pads + ["Upsample", "CenterCrop"]:
        cls = lookup(name.upper())
        assert cls.kind == name
        assert (cls.min_inputs, cls.max_inputs) == (
            (2, None) if name in merges else (1, 2 if name == "CenterCrop" else 1)
        )
    assert len(pads) == 15


def test_add_and_mul_count_ops_per_extra_input() -> None:
    for inputs in range(2, 6):
        shapes = ((3, 4, 5),) * inputs
        for kind in ("add", "mul"):
            assert make_layer(kind, {}, *shapes).other_ops() == (inputs - 1) * 3 * 4 * 5
        assert make_layer("concat", {}, *shapes).out_shape == (3 * inputs, 4, 5)


def test_interpolation_ops_per_output_element() -> None:
    """2^k taps for the linear family (k spatial axes), 16 for bicubic: taps multiplies and taps - 1 adds."""
    for mode, shape, taps in (("linear", (2, 3), 2), ("bilinear", (2, 3, 3), 4), ("trilinear", (2, 3, 3, 3), 8),
                              ("bicubic", (2, 3, 3), 16)):  # fmt: skip
        layer = make_layer("upsample", {"scale_factor": 2, "mode": mode}, shape)
        assert layer.other_ops() == (2 * taps - 1) * prod(layer.out_shape)
        assert make_layer("upsample", {"scale_factor": 2, "mode": mode, "align_corners": True}, shape).other_ops() == (
            layer.other_ops()
        )
    for mode in ("nearest", "nearest-exact"):
        assert make_layer("upsample", {"scale_factor": 3, "mode": mode}, (2, 3, 3)).other_ops() == 0


@pytest.mark.parametrize(
    ("value", "exact"),
    [
        (2, F(2)),
        (1.5, F(3, 2)),
        (0.29, F(29, 100)),  # the double is 0.28999999999999998002..., the user meant 29/100
        (1.1, F(11, 10)),
        (0.3333333333333333, F(1, 3)),  # a recurring decimal written out to double precision
        (2.0 / 3.0, F(2, 3)),
        (1.2345678901, F("1.2345678901")),  # no small fraction rounds to it: the decimal as written
        (1e-7, F(1, 10**7)),
    ],
)
def test_scale_factors_become_the_rational_the_user_meant(value: float, exact: Fraction) -> None:
    assert exact_factor(value) == exact
    assert float(exact_factor(value)) == value


def test_upsample_size_uses_double_precision_like_torch() -> None:
    # Exact arithmetic would say 29, 7 and 3; PyTorch multiplies doubles and floors.
    assert make_layer("upsample", {"scale_factor": 0.29}, (1, 100)).out_shape == (1, 28)
    assert make_layer("upsample", {"scale_factor": 0.7}, (1, 10)).out_shape == (1, 7)
    assert make_layer("upsample", {"scale_factor": 1.1}, (1, 3)).out_shape == (1, 3)
    assert make_layer("upsample", {"scale_factor": 1.5, "recompute_scale_factor": True}, (1, 5)).out_shape == (1, 7)


def test_padding_layers_accept_torchs_ranks() -> None:
    """Reflection, replication and circular: C x spatial or the spatial axes alone; constant: any rank >= dims."""
    for family in ("Reflection", "Replication", "Circular"):
        for dims in (1, 2, 3):
            kind = f"{family}Pad{dims}d"
            for rank in range(1, 6):
                shape = (3,) * rank
                if rank in (dims, dims + 1):
                    assert make_layer(kind, {"padding": 1}, shape).out_shape == shape[: rank - dims] + (5,) * dims
                else:
                    with pytest.raises(LayerError):
                        make_layer(kind, {"padding": 1}, shape)
    for dims in (1, 2, 3):
        for rank in range(dims, 6):
            shape = (3,) * rank
            assert make_layer(f"ZeroPad{dims}d", {"padding": 1}, shape).out_shape == shape[: rank - dims] + (5,) * dims


def test_mul_warns_only_when_ranks_differ() -> None:
    assert make_layer("mul", {}, (8, 4, 4), (8, 1, 1)).warnings == []
    (warning,) = make_layer("mul", {}, (8, 4, 4), (4,)).warnings
    assert "8 x 4 x 4" in warning and "batch" in warning
