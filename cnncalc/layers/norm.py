"""Normalization: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm and RMSNorm.

Every kind here computes y = (x - mean) * inv_std, then optionally scales by a weight and shifts by a bias.
They differ in where mean and inv_std come from, and the counts follow from that (inference, i.e. eval mode):
- running statistics (BatchNorm, and InstanceNorm with track_running_stats): mean and inv_std are per-channel
  constants, so the layer is element-wise;
- statistics of the input itself (LayerNorm, GroupNorm, RMSNorm, InstanceNorm without running statistics, and
  BatchNorm without them, over the batch): every output depends on every input of its group, so along each
  spatial axis that is averaged over, the receptive-field window spans the whole axis.

Other ops per element: 2 to normalize ((x - mean) * inv_std), +3 when the statistics come from the input (add to
the sum; square and add to the sum of squares), +1 for the scale and +1 for the shift when present. Per-channel or
per-group constants (1/n, + eps, the square root) are not counted: they do not grow with the elements.
RMSNorm does not centre: 2 per element for its statistic (square, add) and 1 to normalize (x * inv_rms).
"""

from __future__ import annotations

from math import prod
from typing import ClassVar

from cnncalc.args import Arg, Bool, Float, Int, IntList, Optional
from cnncalc.errors import LayerError
from cnncalc.layers.base import POINTWISE, Layer, Shape, Window, fmt_shape
from cnncalc.layers.registry import register

AXES = {1: "C x L", 2: "C x H x W", 3: "C x D x H x W"}


def spanning_window(size: int) -> Window:
    """The window of an output that reads every position of an axis of `size`: output j reads j - (size - 1)
    ... j + (size - 1), which holds the whole axis for every j and keeps the field centred."""
    return Window(2 * (size - 1), 1, size - 1)


def _flag(name: str, value: object, default: object) -> list[str]:
    """'name=value' for a summary, only when it differs from PyTorch's default."""
    shown = str(value).lower() if isinstance(value, bool) else value  # as written in YAML
    return [] if value == default else [f"{name}={shown}"]


class _Normalization(Layer):
    """What every normalization shares: the ops rule and the receptive-field window.

    Subclasses set, in setup(): `input_stats` (the statistics are computed from the input rather than taken
    from running buffers), `stats_axes` (the per-sample spatial axes they are taken over, which the window
    then spans) and `scaled` / `shifted` (learnable weight / bias present).
    """

    stats_ops: ClassVar[int] = 3  # per element, statistics taken from the input: mean and sum of squares
    normalize_ops: ClassVar[int] = 2  # per element: (x - mean) * inv_std
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std), +3 when the statistics come from the input "
        "(sum, square, sum of squares), +1 for the scale (weight) and +1 for the shift (bias) when present; "
        "per-channel constants (1/n, eps, square root) not counted"
    )

    input_stats: bool = False
    stats_axes: tuple[int, ...] = ()
    scaled: bool = False
    shifted: bool = False

    def affine_shape(self) -> Shape:
        """The shape of the weight and bias."""
        raise NotImplementedError

    def weights(self) -> dict[str, Shape]:
        shapes: dict[str, Shape] = {}
        if self.scaled:
            shapes["weight"] = self.affine_shape()
        if self.shifted:
            shapes["bias"] = self.affine_shape()
        return shapes

    def check_eps(self) -> None:
        if self.eps is not None and self.eps < 0:
            # PyTorch accepts it here, but var + eps can reach 0 or below: division by zero or NaN.
            self.warn(f"eps is negative ({self.eps:g}): var + eps can be 0 or negative, giving inf or NaN")

    def other_ops(self) -> int:
        per_element = self.normalize_ops + int(self.scaled) + int(self.shifted)
        if self.input_stats:
            per_element += self.stats_ops
        return prod(self.in_shape) * per_element

    def window(self) -> tuple[Window, ...] | None:
        if len(self.in_shape) < 2:
            return None
        return tuple(
            spanning_window(size) if axis in self.stats_axes else POINTWISE
            for axis, size in enumerate(self.in_shape[1:], start=1)
        )


class _ChannelNorm(_Normalization):
    """PyTorch's _NormBase: BatchNorm and InstanceNorm, one mean and variance per channel (axis 0 per sample)."""

    # Per-sample ranks accepted, and how the axes are named in messages.
    ranks: ClassVar[tuple[int, ...]] = ()
    axes_text: ClassVar[str] = ""
    # PyTorch's defaults, so that summaries show only what differs.
    affine_default: ClassVar[bool] = True
    track_default: ClassVar[bool] = True

    def check_channels(self) -> None:
        self.expect_rank(*self.ranks, what=self.axes_text)
        self.infer("num_features", self.in_shape[0], "channels")
        self.check_eps()
        self.scaled = self.affine
        self.shifted = self.affine and self.bias

    @property
    def spatial(self) -> int:
        return prod(self.in_shape[1:])

    def affine_shape(self) -> Shape:
        return (self.num_features,)

    def buffers(self) -> dict[str, Shape]:
        if not self.track_running_stats:
            return {}
        # num_batches_tracked is a 0-d tensor: one element, as in the state_dict.
        return {"running_mean": (self.num_features,), "running_var": (self.num_features,), "num_batches_tracked": ()}

    def summary(self) -> str:
        parts = [f"eps={self.eps:g}"]
        parts += _flag("affine", self.affine, self.affine_default)
        parts += _flag("track_running_stats", self.track_running_stats, self.track_default)
        return " ".join(parts)


def _channel_norm_arguments(affine: bool, track_running_stats: bool, eps: Float) -> tuple[Arg, ...]:
    return (
        Arg("num_features", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("eps", eps, 1e-5, "added to the variance before the square root"),
        Arg("momentum", Optional(Float()), 0.1, "running-statistics update factor; null: cumulative average"),
        Arg("affine", Bool(), affine, "learn a per-channel weight (scale) and bias (shift)"),
        Arg("track_running_stats", Bool(), track_running_stats, "keep running mean and variance buffers"),
        Arg("bias", Bool(), True, "with affine: learn the bias too"),
    )


class _BatchNormNd(_ChannelNorm):
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std with the running statistics), +1 scale and +1 shift "
        "when affine; +3 (sum, square, sum of squares) when track_running_stats is false, as eval mode then "
        "normalizes with the batch's statistics"
    )
    # PyTorch rejects eps < 0 in eval mode (and eps <= 0 in training mode).
    arguments = _channel_norm_arguments(True, True, Float(min=0))

    def setup(self) -> None:
        self.check_channels()
        if self.track_running_stats:
            if self.eps == 0:
                self.warn("eps=0: fine at inference with running statistics, but PyTorch rejects it in training")
            return
        # Without running statistics, eval mode normalizes with the batch's statistics, per channel over the
        # batch and the spatial axes (PyTorch takes its training path here).
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        if self.eps == 0:
            raise LayerError(
                "eps must be positive when track_running_stats is false: the batch statistics are used even at "
                "inference, and PyTorch rejects eps=0 there",
                arg="eps",
                hint="use eps > 0, e.g. 1e-05 (the default)",
            )
        if self.spatial == 1:
            # Batch-dependent: cnncalc's shapes are per sample, so this is a warning rather than an error.
            self.warn(
                f"each channel holds one value per sample ({fmt_shape(self.in_shape)}) and track_running_stats "
                "is false: the statistics come from the batch alone, so a batch of 1 normalizes every value to 0 "
                "and PyTorch rejects it ('Expected more than 1 value per channel'); it needs a batch of 2 or more"
            )


@register
class BatchNorm1d(_BatchNormNd):
    kind = "BatchNorm1d"
    dims = 1
    ranks = (1, 2)
    axes_text = "C or C x L"


@register
class BatchNorm2d(_BatchNormNd):
    kind = "BatchNorm2d"
    dims = 2
    ranks = (3,)
    axes_text = AXES[2]


@register
class BatchNorm3d(_BatchNormNd):
    kind = "BatchNorm3d"
    dims = 3
    ranks = (4,)
    axes_text = AXES[3]


class _InstanceNormNd(_ChannelNorm):
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std), +3 (sum, square, sum of squares) for the "
        "per-sample, per-channel statistics unless track_running_stats uses running ones, +1 scale and "
        "+1 shift when affine"
    )
    # PyTorch accepts any eps here (a negative one only risks NaN: see check_eps).
    arguments = _channel_norm_arguments(False, False, Float())
    affine_default = False
    track_default = False

    def setup(self) -> None:
        if len(self.in_shape) == self.dims:
            # PyTorch would read the batched tensor as one unbatched sample, its batch axis as the channels.
            raise LayerError(
                f"{self.kind} expects {self.dims + 1} axes per sample ({self.axes_text}), got {self.dims}: "
                f"{fmt_shape(self.in_shape)}. PyTorch would read such a batch as one unbatched sample whose "
                "channels are the batch",
                arg="inputs",
                hint="add a channel axis of size 1 in front, or use LayerNorm over the last axes",
            )
        # PyTorch only warns on a wrong num_features when affine is false; the contract makes it an error.
        self.check_channels()
        if self.track_running_stats:
            if self.spatial == 1:
                self.warn(
                    f"one spatial position per channel ({fmt_shape(self.in_shape)}): fine at inference with "
                    "running statistics, but PyTorch rejects it in training ('Expected more than 1 spatial element')"
                )
            return
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        if self.spatial == 1:
            raise LayerError(
                f"{self.kind} normalizes each channel over its spatial positions, but the input "
                f"({fmt_shape(self.in_shape)}) has one per channel: every output would be 0 (plus bias), and "
                "PyTorch rejects it ('Expected more than 1 spatial element')",
                arg="inputs",
                hint="set track_running_stats: true to normalize with running statistics, or use a larger input",
            )


@register
class InstanceNorm1d(_InstanceNormNd):
    kind = "InstanceNorm1d"
    dims = 1
    ranks = (2,)
    axes_text = AXES[1]


@register
class InstanceNorm2d(_InstanceNormNd):
    kind = "InstanceNorm2d"
    dims = 2
    ranks = (3,)
    axes_text = AXES[2]


@register
class InstanceNorm3d(_InstanceNormNd):
    kind = "InstanceNorm3d"
    dims = 3
    ranks = (4,)
    axes_text = AXES[3]


class _TrailingNorm(_Normalization):
    """LayerNorm and RMSNorm: statistics over the input's last len(normalized_shape) axes, per sample."""

    def check_normalized_shape(self) -> None:
        self.expect_rank(*range(1, 9))
        shape, rank = self.normalized_shape, len(self.in_shape)
        suffixes = [self.in_shape[start:] for start in range(rank - 1, -1, -1)]
        valid = ", ".join(str(s[0]) if len(s) == 1 else str(list(s)) for s in suffixes)
        if len(shape) > rank:
            raise LayerError(
                f"normalized_shape {list(shape)} has {len(shape)} axes but the input has {rank} per sample "
                f"({fmt_shape(self.in_shape)}); normalizing across the batch axis is not supported",
                arg="normalized_shape",
                hint=f"use the input's last axes: {valid}",
            )
        if self.in_shape[rank - len(shape) :] != shape:
            raise LayerError(
                f"normalized_shape {list(shape)} must equal the input's "
                f"{'last axis' if len(shape) == 1 else f'last {len(shape)} axes'}, "
                f"got {list(self.in_shape[rank - len(shape) :])} (input shape {fmt_shape(self.in_shape)})",
                arg="normalized_shape",
                hint=f"use the input's last axes: {valid}",
            )
        self.input_stats = True
        self.stats_axes = tuple(range(max(rank - len(shape), 1), rank))  # axis 0 (channels) has no window
        self.check_eps()

    def affine_shape(self) -> Shape:
        return self.normalized_shape

    def summary(self) -> str:
        parts = [f"over {fmt_shape(self.normalized_shape)}"]
        if self.eps is not None:
            parts.append(f"eps={self.eps:g}")
        return " ".join(parts)


@register
class LayerNorm(_TrailingNorm):
    kind = "LayerNorm"
    ops_rule = (
        "per element: 3 for the statistics (sum, square, sum of squares), 2 to normalize ((x - mean) * inv_std), "
        "+1 scale and +1 shift with elementwise_affine (the shift only with bias)"
    )
    arguments = (
        Arg("normalized_shape", IntList(Int(min=1)), doc="the input's last axes to normalize over"),
        Arg("eps", Float(), 1e-5, "added to the variance before the square root"),
        Arg("elementwise_affine", Bool(), True, "learn a weight (and bias) of normalized_shape"),
        Arg("bias", Bool(), True, "with elementwise_affine: learn the bias too"),
    )

    def setup(self) -> None:
        self.check_normalized_shape()
        self.scaled = self.elementwise_affine
        self.shifted = self.elementwise_affine and self.bias


@register
class RMSNorm(_TrailingNorm):
    kind = "RMSNorm"
    stats_ops = 2  # square, add to the sum of squares: no mean
    normalize_ops = 1  # x * inv_rms: nothing to subtract
    ops_rule = (
        "per element: 2 for the statistic (square, sum of squares), 1 to normalize (x * inv_rms), "
        "+1 scale with elementwise_affine"
    )
    arguments = (
        Arg("normalized_shape", IntList(Int(min=1)), doc="the input's last axes to normalize over"),
        Arg("eps", Optional(Float()), None, "added to the mean square; null: the dtype's machine epsilon"),
        Arg("elementwise_affine", Bool(), True, "learn a weight of normalized_shape"),
    )

    def setup(self) -> None:
        self.check_normalized_shape()
        self.scaled = self.elementwise_affine  # no bias: RMSNorm does not shift


@register
class GroupNorm(_Normalization):
    kind = "GroupNorm"
    ops_rule = (
        "per element: 3 for the per-group statistics (sum, square, sum of squares), 2 to normalize "
        "((x - mean) * inv_std), +1 scale and +1 shift when affine (the shift only with bias)"
    )
    arguments = (
        Arg("num_groups", Int(min=1), doc="groups the channels are split into; must divide the channels"),
        Arg("num_channels", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("eps", Float(), 1e-5, "added to the variance before the square root"),
        Arg("affine", Bool(), True, "learn a per-channel weight (scale) and bias (shift)"),
        Arg("bias", Bool(), True, "with affine: learn the bias too"),
    )

    def setup(self) -> None:
        self.expect_rank(*range(1, 9))
        channels = self.infer("num_channels", self.in_shape[0], "channels")
        if channels % self.num_groups:
            divisors = [g for g in range(1, channels + 1) if channels % g == 0]
            shown = ", ".join(str(g) for g in divisors[:12]) + (", ..." if len(divisors) > 12 else "")
            raise LayerError(
                f"num_channels ({channels}) must be divisible by num_groups ({self.num_groups})",
                arg="num_groups",
                hint=f"num_groups must divide {channels}: {shown}",
            )
        per_group = channels // self.num_groups * prod(self.in_shape[1:])
        if per_group == 1:
            raise LayerError(
                f"each of the {self.num_groups} groups holds a single value ({channels} channels / "
                f"{self.num_groups} groups x {prod(self.in_shape[1:])} positions): every output would be 0 "
                "(plus bias), and PyTorch rejects it ('Expected more than 1 value per channel')",
                arg="num_groups",
                hint="use fewer groups, so that each group has several channels or positions",
            )
        self.check_eps()
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        self.scaled = self.affine
        self.shifted = self.affine and self.bias

    def affine_shape(self) -> Shape:
        return (self.num_channels,)

    def summary(self) -> str:
        return " ".join([f"groups={self.num_groups}", f"eps={self.eps:g}", *_flag("affine", self.affine, True)])
