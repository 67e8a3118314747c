"""LayerScale: a learned scale per channel, ConvNeXt's "layer scale" (Touvron et al., CaiT).

PyTorch has no torch.nn class for it; the two forms in use hold the same numbers:
- torchvision's ConvNeXt (CNBlock): `layer_scale = nn.Parameter(torch.ones(C, 1, 1) * layer_scale_value)`,
  multiplied onto the block's channels-first C x H x W output;
- timm's LayerScale: `gamma = nn.Parameter(init_values * torch.ones(C))`, multiplied onto a channels-last input
  (the last axis), as in ViTs and timm's ConvNeXt blocks.

cnncalc's LayerScale covers both: `dim` is the axis scaled, counting the batch axis as 0 as torch does (1, the
default, is the channels of a channels-first input; -1 the last axis, timm's form), and its one weight `gamma` has
the shape that broadcasts along the axes after it: C x 1 x 1 on a C x H x W input at dim 1 (torchvision's
layer_scale, the same tensor), C at dim -1 (timm's gamma). `init_values` (default 1e-5, timm's) is the value
PyTorch starts gamma at; the executor, as for every kind, generates small integers instead unless the spec gives
weights.

Counting: one multiply per element, an "other op" (a scale, as BatchNorm's affine scale and Mul are counted), no
MACs: there is no inner product. The receptive field is pointwise.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Bool, Float, Int
from cnncalc.errors import LayerError
from cnncalc.layers.base import Backprop, Layer, Saved, Shape, axis_names, dim_name, draw, fmt_shape, saved_input
from cnncalc.layers.norm import named, product
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from random import Random

    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


@register
class LayerScale(Layer):
    """x * gamma, gamma holding one learned value per position along `dim`."""

    kind = "LayerScale"
    keeps_channels = True  # scales values in place: receptive fields keep every axis
    ops_rule = "1 multiply per element (x * gamma)"
    arguments = (
        Arg("dim", Int(), 1, "axis scaled, counting the batch axis as 0 (1 = channels first; -1 = channels last)"),
        Arg("init_values", Float(), 1e-5, "the value PyTorch starts gamma at (timm's default)"),
        Arg("inplace", Bool(), False, "multiply into the input (timm's mul_); changes no shape or count"),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """x * gamma saves x for gamma's gradient (gamma, a parameter, for x's)."""
        return [saved_input(0, self.in_shape, step.batch)] if step.weight_grads else []

    def setup(self) -> None:
        rank = len(self.in_shape) + 1  # torch sees the batch axis too
        if not -rank <= self.dim < rank:
            hint = (
                f"dim is the axis scaled, as torch's dim; timm's LayerScale(dim={self.dim}) means {self.dim} "
                "channels, which cnncalc infers from the input"
                if self.dim > 1
                else None
            )
            raise LayerError(
                f"dim {self.dim} is out of range for an input with {rank} axes (batch axis included): "
                f"valid dims are {-rank} to {rank - 1}",
                arg="dim",
                hint=hint,
            )
        self.axis = self.dim % rank - 1  # per-sample axis
        if self.axis < 0:
            raise LayerError(
                f"dim {self.dim} is the batch axis: a scale per sample is not a layer's weight",
                arg="dim",
                hint="use dim: 1 (channels first, the default) or dim: -1 (channels last)"
                if rank > 1
                else "the input is one value per sample: there is no axis to scale",
            )

    def gamma_shape(self, sizes: tuple[Any, ...]) -> tuple[Any, ...]:
        """gamma's shape for per-sample `sizes` (ints or Terms): the scaled axis, then a 1 for every later axis,
        so that it broadcasts against (N, *sizes) as torchvision's C x 1 x 1 does."""
        return (sizes[self.axis],) + (1,) * (len(sizes) - self.axis - 1)

    def weights(self) -> dict[str, Shape]:
        return {"gamma": self.gamma_shape(self.in_shape)}

    def other_ops(self) -> int:
        return prod(self.out_shape)

    def axis_name(self) -> str:
        return axis_names(len(self.in_shape))[self.axis]

    def explain(self) -> list[tuple[str, Any]]:
        sizes = named(axis_names(len(self.in_shape)), self.in_shape)
        return [("params", sizes[self.axis]), ("other ops", product(sizes))]

    def notes(self) -> list[str]:
        rank = len(self.in_shape)
        name = self.axis_name()
        shape = fmt_shape(self.gamma_shape(self.in_shape))
        others = [n for axis, n in enumerate(axis_names(rank)) if axis != self.axis]
        over = f", the same value over {' x '.join(others)}" if others else ""
        forms = (
            "torchvision's ConvNeXt holds this tensor as layer_scale (C x 1 x 1)"
            if self.axis == 0 and rank == 3
            else "timm's LayerScale holds this tensor as gamma (C) on a channels-last input"
            if self.axis == rank - 1
            else ""
        )
        notes = [
            f"multiplies every element by gamma[{name.lower()}], one learned value per {name} position along "
            f"{dim_name(self.axis + 1, rank)}{over}; gamma's shape is {shape}, which broadcasts against the input"
        ]
        if forms:
            notes.append(forms)
        notes.append(f"PyTorch starts gamma at init_values = {self.init_values:g} everywhere; train and eval alike")
        return notes

    def summary(self) -> str:
        init = f" init {self.init_values:g}" if self.init_values != 1e-5 else ""
        return f"dim {self.axis + 1}{init}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((3, 2, 2),)),  # torchvision's C x 1 x 1
            ({"dim": -1}, ((2, 2, 3),)),  # timm's channels-last
            ({"dim": 2, "init_values": 0.1}, ((2, 3, 2),)),
            ({}, ((4,),)),
            ({"dim": -1, "inplace": True}, ((3, 5),)),
        ]

    def initial_values(self, name: str, count: int, rng: Random) -> list[int]:
        return draw(rng, (-2, -1, 1, 2), count)  # a zero scale would hide what it multiplies

    # -- execution ----------------------------------------------------------------------------------------------

    def layout(self, shape: Shape) -> tuple[int, int]:
        """(size, inner) of a batch of `shape`: element i is scaled by gamma[(i // inner) % size]."""
        axis = self.axis + 1
        return shape[axis], prod(shape[axis + 1 :])

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        gamma = params["gamma"]
        size, inner = self.layout(x.shape)
        scale = gamma.data
        data = [v * scale[(i // inner) % size] for i, v in enumerate(x.data)]
        return Tensor(x.shape, data, x.denominator * gamma.denominator, x.approximate or gamma.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # dy/dx = gamma at each element; dL/dgamma[c] sums g * x over every element that gamma[c] scales.
        (x,) = inputs
        gamma = params["gamma"]
        size, inner = self.layout(x.shape)
        scale = gamma.data
        dx = [g * scale[(i // inner) % size] for i, g in enumerate(grad.data)]
        sums = [0] * size
        for i, (g, v) in enumerate(zip(grad.data, x.data, strict=True)):
            sums[(i // inner) % size] += g * v
        approximate = grad.approximate or x.approximate or gamma.approximate
        return [Tensor(x.shape, dx, grad.denominator * gamma.denominator, approximate)], {
            "gamma": Tensor(gamma.shape, sums, grad.denominator * x.denominator, approximate)
        }
