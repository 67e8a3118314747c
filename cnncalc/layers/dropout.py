"""Dropout, Dropout1d, Dropout2d and Dropout3d.

The analyzers count inference (eval mode), where every dropout is the identity: same shape, no weights, no
operations, a pointwise window. The kinds differ only in the per-sample ranks PyTorch accepts, rejects or warns
about: Dropout1d drops whole channels of C x L, Dropout2d of C x H x W, Dropout3d of C x D x H x W.

Execution (`forward`): eval mode is the identity. Training keeps each element (each channel, for the channel-wise
kinds: the same units PyTorch draws one mask value for, see `mask_unit`) with probability 1 - p, drawn from
ctx.random() (seeded by the run's seed and the layer's name: the same mask on every run, though not torch's), and
scales the kept values by 1 / (1 - p) exactly, p being the decimal the spec wrote (0.2 is 1/5: the scale is 5/4).
p = 1 zeroes everything.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.args import Arg, Bool, Float
from cnncalc.layers.base import Layer, Shape, fmt_shape
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context


class _DropoutBase(Layer):
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

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        from fractions import Fraction

        (x,) = inputs
        if not ctx.training or self.p == 0:
            return x
        if self.p == 1:
            return Tensor(x.shape, [0] * len(x.data), 1, x.approximate)
        keep = 1 - Fraction(str(self.p))
        unit = self.mask_unit(x.shape)
        rng = ctx.random()
        data: list[int] = []
        for start in range(0, len(x.data), unit):
            if rng.random() < self.p:  # dropped with probability p (the double nearest p: within 2**-53)
                data.extend([0] * unit)
            else:  # kept and scaled by 1 / keep = keep.denominator / keep.numerator
                data.extend(v * keep.denominator for v in x.data[start : start + unit])
        return Tensor(x.shape, data, x.denominator * keep.numerator, x.approximate)


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
