"""Dropout, Dropout1d, Dropout2d, Dropout3d, and StochasticDepth (torchvision.ops.StochasticDepth).

The analyzers count inference (eval mode), where every dropout is the identity: same shape, no weights, no
operations, a pointwise window. The kinds differ only in the per-sample ranks PyTorch accepts, rejects or warns
about: Dropout1d drops whole channels of C x L, Dropout2d of C x H x W, Dropout3d of C x D x H x W.

Execution (`forward`): eval mode is the identity. Training keeps each element (each channel, for the channel-wise
kinds: the same units PyTorch draws one mask value for, see `mask_unit`) with probability 1 - p, drawn from
ctx.random() (seeded by the run's seed and the layer's name: the same mask on every run, though not torch's), and
scales the kept values by 1 / (1 - p) exactly, p being the decimal the spec wrote (0.2 is 1/5: the scale is 5/4).
p = 1 zeroes everything. The gradient (`backward`) is masked alike: the same mask, drawn again from ctx.random() (the
same node name seeds it), zero where a unit was dropped and g / (1 - p) where it was kept; eval mode passes it on.

StochasticDepth (Huang et al. 2016; torchvision.ops.stochastic_depth, used on the residual branch of EfficientNet and
ConvNeXt blocks) is dropout whose unit is a whole sample ('row': one draw per sample) or the whole batch ('batch':
one draw per forward pass): the same mask rule, the same 1 / (1 - p) scale, and at p = 1 all zeros (torchvision
then multiplies by its zero mask without dividing). It has no torch.nn class; its arguments are torchvision's, both
required as there.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.args import Arg, Bool, Choice, Float
from cnncalc.layers.base import Backprop, Layer, Saved, Shape, fmt_shape
from cnncalc.layers.norm import decimal_text
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients


class _DropoutBase(Layer):
    keeps_channels = True  # masks and scales values in place: receptive fields keep every axis
    arguments = (
        Arg("p", Float(min=0, max=1), 0.5, "probability of dropping an element (a channel for Dropout1d/2d/3d)"),
        Arg("inplace", Bool(), False, "overwrite the input; changes no shape or count"),
    )
    ops_rule = (
        "none: the analyzers count inference, where dropout is the identity (training would add a mask "
        "multiply and a 1/(1-p) scale per element)"
    )
    # Per-sample rank of a (C, spatial...) input for the channel-wise kinds; 0 for element-wise Dropout.
    channel_rank: ClassVar[int] = 0
    axes_text: ClassVar[str] = ""

    def setup(self) -> None:
        if self.p == 1:
            self.warn("p=1 drops every value in training: the layer's output is then all zeros")
        rank = len(self.in_shape)
        if self.channel_rank and rank != self.channel_rank:
            self.check_rank(rank)

    def check_rank(self, rank: int) -> None:
        """An input that is not C x spatial: PyTorch warns (Dropout2d, Dropout3d) or rejects (Dropout1d)."""
        self.warn(
            f"{self.kind} drops whole channels of a {self.axes_text} input, got {rank} axes per sample "
            f"({fmt_shape(self.in_shape)}); PyTorch deprecates this and will reject it: use Dropout"
        )

    def summary(self) -> str:
        return f"p={self.p:g}"

    def mask_unit(self, shape: Shape) -> int:
        """How many consecutive elements of a batch of `shape` (batch axis included) share one draw."""
        return 1

    def saved(self, step: Backprop) -> list[Saved]:
        """Training multiplies the input by a noise tensor (0 or 1/(1 - p) per mask unit, in the input's dtype:
        PyTorch's CPU path) and keeps that noise for the backward pass; p = 1 multiplies by a zero scalar, which is
        kept instead; p = 0 returns the input untouched and keeps nothing."""
        if self.p == 0:
            return []
        if self.p == 1 and self.kind != "StochasticDepth":
            return [Saved("zero scalar (p = 1)", (), "own")]
        return [Saved("mask (0 or 1/(1 - p) per unit)", self.noise_shape((step.batch, *self.in_shape)), "own")]

    def noise_shape(self, shape: Shape) -> Shape:
        """The mask's shape for a batch of `shape`: the trailing axes one draw covers are 1 (broadcast)."""
        sizes, rest = list(shape), self.mask_unit(shape)
        for axis in reversed(range(len(sizes))):
            if rest <= 1 or sizes[axis] == 0:
                break
            rest //= sizes[axis]
            sizes[axis] = 1
        return tuple(sizes)

    def output_storage(self, step: Backprop) -> str:
        """p = 0 returns the input itself; inplace masks it in place."""
        return "input" if self.p == 0 or getattr(self, "inplace", False) else "new"

    def keep(self) -> Fraction:
        """The probability 1 - p of keeping a unit in training, p being the decimal the spec wrote (0.2 is 1/5)."""
        from fractions import Fraction

        return 1 - Fraction(str(self.p))

    def notes(self) -> list[str]:
        """Train vs eval, with this p's numbers and the unit a mask value covers (`keep` and `mask_unit`, which
        forward uses)."""
        p, keep = str(self.p), self.keep()
        unit = self.mask_unit((1, *self.in_shape))

        def values(axes: Shape) -> str:
            return f"its {fmt_shape(axes)} = {unit} values" if len(axes) > 1 else f"its {unit} values"

        if self.channel_rank and len(self.in_shape) >= 2 and unit == prod(self.in_shape[1:]):
            what = f"each channel of each sample ({values(self.in_shape[1:])} together)"
        elif unit == 1:
            what = "each value"
        elif unit == prod(self.in_shape):
            what = f"each whole sample ({values(self.in_shape)} together)"
        else:
            what = f"each run of {unit} consecutive values"
        if keep == 0:
            train = f"train: p = {p} drops {what.replace('each', 'every', 1)}: the output is all zeros"
        elif keep == 1:
            train = f"train: p = {p} keeps everything unscaled, as eval does"
        else:
            train = (
                f"train: keeps {what} with probability 1 - p = 1 - {p} = {decimal_text(keep)} and zeroes it "
                f"otherwise; kept values are scaled by 1/(1 - p) = 1/(1 - {p}) = {decimal_text(1 / keep)}, so "
                "that each output's expected value is its input"
            )
        return [train, "eval (the mode counted here): the identity, nothing dropped and nothing scaled"]

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        sample = {0: (3, 4), 2: (3, 4), 3: (2, 3, 3), 4: (2, 2, 2, 3)}[cls.channel_rank]
        other = {0: (2, 3, 2), 2: (5,), 3: (3, 4), 4: (2, 3, 3)}[cls.channel_rank]  # Dropout1d: samples dropped
        return [
            ({}, (sample,)),
            ({"p": 0.2}, (sample,)),
            ({"p": 1.0, "inplace": True}, (sample,)),
            ({"p": 0}, (sample,)),
            ({"p": 0.75}, (other,)),
        ]

    def kept(self, shape: Shape, ctx: Context) -> list[bool]:
        """Per mask unit of a batch of `shape`, whether it is kept: drawn from ctx.random() in order, one draw per
        unit, so that forward and backward (ctx.layer being the same node) see the same mask."""
        rng = ctx.random()
        units = prod(shape) // self.mask_unit(shape)
        return [rng.random() >= self.p for _ in range(units)]  # dropped with probability p (the double nearest p)

    def masked(self, t: Tensor, ctx: Context) -> Tensor:
        """t with the dropped units zeroed and the kept ones scaled by 1 / (1 - p), exactly; in eval mode (or with
        p = 0) t itself. The forward pass masks the input; the backward pass masks the gradient the same way, since
        dy/dx is 0 where a unit was dropped and 1 / (1 - p) where it was kept."""
        if not ctx.training or self.p == 0:
            return t
        if self.p == 1:
            return Tensor(t.shape, [0] * len(t.data), 1, t.approximate)
        keep = self.keep()  # scaled by 1 / keep = keep.denominator / keep.numerator
        unit = self.mask_unit(t.shape)
        data: list[int] = []
        for number, kept in enumerate(self.kept(t.shape, ctx)):
            start = number * unit
            if kept:
                data.extend(v * keep.denominator for v in t.data[start : start + unit])
            else:
                data.extend([0] * unit)
        return Tensor(t.shape, data, t.denominator * keep.numerator, t.approximate)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return self.masked(x, ctx)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [self.masked(grad, ctx)], {}


@register
class Dropout(_DropoutBase):
    kind = "Dropout"


@register
class Dropout1d(_DropoutBase):
    kind = "Dropout1d"
    channel_rank = 2
    axes_text = "C x L"

    def mask_unit(self, shape: Shape) -> int:
        # A vector per sample reads as one unbatched C x L sample whose channels are the samples.
        return prod(shape[2:]) if len(shape) == 3 else prod(shape[1:])

    def check_rank(self, rank: int) -> None:
        if rank > self.channel_rank:
            self.expect_rank(self.channel_rank, what=self.axes_text)  # PyTorch: "Expected 2D or 3D input"
        # A batch of vectors (N x C) is 2-D: PyTorch reads it as one unbatched C x L sample, its channels
        # being the batch, and so drops whole samples. Valid, but hardly what was meant.
        self.warn(
            f"{self.kind} on a vector per sample ({fmt_shape(self.in_shape)}): PyTorch reads the N x C batch as "
            "one unbatched C x L sample and drops whole samples; use Dropout to drop single values"
        )


@register
class Dropout2d(_DropoutBase):
    kind = "Dropout2d"
    channel_rank = 3
    axes_text = "C x H x W"

    def mask_unit(self, shape: Shape) -> int:
        # PyTorch's feature dropout draws per (sample, channel) whatever the rank; a vector per sample: per element.
        return prod(shape[2:])

    def check_rank(self, rank: int) -> None:
        if rank == 2:
            # PyTorch reads N x C x L as a batch of 1-D inputs, and warns that this will change.
            self.warn(
                f"{self.kind} on a C x L input ({fmt_shape(self.in_shape)}): PyTorch drops channels as "
                "Dropout1d would, and warns that it will read such an input differently in a future release; "
                "use Dropout1d"
            )
        else:
            super().check_rank(rank)


@register
class Dropout3d(_DropoutBase):
    kind = "Dropout3d"
    channel_rank = 4
    axes_text = "C x D x H x W"

    def mask_unit(self, shape: Shape) -> int:
        # Any other rank reads as one unbatched sample whose channels are the samples.
        return prod(shape[2:]) if len(shape) == 5 else prod(shape[1:])

    def check_rank(self, rank: int) -> None:
        if rank == 3:
            # PyTorch does not warn here: it silently reads N x C x H x W as one unbatched C x D x H x W sample.
            self.warn(
                f"{self.kind} on a C x H x W input ({fmt_shape(self.in_shape)}): PyTorch reads the batch as one "
                "unbatched C x D x H x W sample and drops whole samples; use Dropout2d"
            )
        else:
            super().check_rank(rank)


@register
class StochasticDepth(_DropoutBase):
    """torchvision.ops.StochasticDepth(p, mode): drops a whole sample's input ('row') or the whole batch's
    ('batch') in training; the identity in eval."""

    kind = "StochasticDepth"
    arguments = (
        Arg("p", Float(min=0, max=1), doc="probability of dropping a sample's input ('row') or the batch's ('batch')"),
        Arg("mode", Choice(("row", "batch")), doc="'row': one draw per sample; 'batch': one draw for the batch"),
    )
    ops_rule = (
        "none: the analyzers count inference, where stochastic depth is the identity (training would multiply every "
        "element by its sample's 0 or 1/(1-p))"
    )

    def setup(self) -> None:
        if self.p == 1:
            self.warn("p=1 drops every sample in training: the layer's output is then all zeros")

    def mask_unit(self, shape: Shape) -> int:
        # One draw per sample ('row') or for the whole batch ('batch'), as torchvision's noise of shape
        # (N, 1, ..., 1) or (1, ..., 1).
        return prod(shape[1:]) if self.mode == "row" else prod(shape)

    def kept(self, shape: Shape, ctx: Context) -> list[bool]:
        rng = ctx.random()
        units = shape[0] if self.mode == "row" else 1  # a sample (or a batch) of no values still draws
        return [rng.random() >= self.p for _ in range(units)]

    def notes(self) -> list[str]:
        p, keep = str(self.p), self.keep()
        values = f"{fmt_shape(self.in_shape)} = {prod(self.in_shape):,} values" if self.in_shape else "1 value"
        what = f"each sample's whole input ({values})" if self.mode == "row" else "the whole batch, with one draw"
        if keep == 0:
            train = f"train: p = {p} drops {what.replace('each', 'every', 1)}: the output is all zeros"
        elif keep == 1:
            train = f"train: p = {p} keeps everything unscaled, as eval does"
        else:
            train = (
                f"train: keeps {what} with probability 1 - p = 1 - {p} = {decimal_text(keep)} and zeroes it "
                f"otherwise; kept values are scaled by 1/(1 - p) = 1/(1 - {p}) = {decimal_text(1 / keep)}, so that "
                "each output's expected value is its input"
            )
        return [
            train,
            "eval (the mode counted here): the identity, nothing dropped and nothing scaled",
            "on a residual branch (x + StochasticDepth(branch(x))) a dropped sample skips the branch: the depth of "
            "the network varies from sample to sample in training",
        ]

    def summary(self) -> str:
        return f"p={self.p:g} {self.mode}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({"p": 0.2, "mode": "row"}, ((3, 4),)),
            ({"p": 0.5, "mode": "batch"}, ((2, 2, 2),)),
            ({"p": 1.0, "mode": "row"}, ((3,),)),
            ({"p": 0, "mode": "batch"}, ((2, 3),)),
            ({"p": 0.75, "mode": "row"}, ((2, 3, 3),)),
        ]
