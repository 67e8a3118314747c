"""Activations: ReLU, ReLU6, LeakyReLU, PReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Hardtanh, Hardswish,
Hardsigmoid and Softmax. None changes the shape; only PReLU has weights.

Other ops are counted per element from each function's usual formula, one op for each add, subtract, multiply,
divide or compare, and one for each evaluation of exp, erf or tanh (negating a value is not counted). The rule of
each kind is stated in its `ops_rule`; every element is counted the same, whichever branch it takes.
"""

from __future__ import annotations

from math import prod
from typing import Any, ClassVar

from cnncalc.args import Arg, Bool, Choice, Float, Int, Optional
from cnncalc.errors import LayerError
from cnncalc.layers.base import POINTWISE, Layer, Window, fmt_shape
from cnncalc.layers.norm import spanning_window
from cnncalc.layers.registry import register

INPLACE = Arg("inplace", Bool(), False, "overwrite the input; changes no shape or count")


class _Elementwise(Layer):
    """An activation applied to each element alone: same shape, pointwise window, a fixed cost per element.

    A subclass states `ops_per_element` and `ops_formula` (what is counted); `ops_rule` is built from them.
    """

    ops_per_element: ClassVar[int] = 0
    ops_formula: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ops_formula:
            cls.ops_rule = f"{cls.ops_per_element} per element: {cls.ops_formula}"

    def element_ops(self) -> int:
        return self.ops_per_element

    def other_ops(self) -> int:
        return prod(self.in_shape) * self.element_ops()


def _warn_inplace_negative(layer: Layer, name: str, value: float) -> None:
    """In place, the backward pass reads the output, which a negative factor makes ambiguous: PyTorch refuses it."""
    if layer.inplace and value < 0:
        layer.warn(
            f"inplace with a negative {name} ({value:g}) works at inference, but PyTorch cannot train it "
            "(its backward pass rejects it): use inplace: false"
        )


@register
class ReLU(_Elementwise):
    kind = "ReLU"
    arguments = (INPLACE,)
    ops_per_element = 1
    ops_formula = "max(0, x), one compare"


@register
class ReLU6(_Elementwise):
    kind = "ReLU6"
    arguments = (INPLACE,)
    ops_per_element = 2
    ops_formula = "min(max(0, x), 6), two compares"


@register
class LeakyReLU(_Elementwise):
    kind = "LeakyReLU"
    arguments = (Arg("negative_slope", Float(), 0.01, "factor for negative inputs"), INPLACE)
    ops_per_element = 2
    ops_formula = "a compare, and a multiply by negative_slope"

    def setup(self) -> None:
        _warn_inplace_negative(self, "negative_slope", self.negative_slope)

    def summary(self) -> str:
        return f"slope={self.negative_slope:g}"


@register
class PReLU(_Elementwise):
    kind = "PReLU"
    arguments = (
        Arg("num_parameters", Int(min=1), 1, "learned slopes: 1 shared, or one per channel"),
        Arg("init", Float(), 0.25, "initial slope"),
    )
    ops_per_element = 2
    ops_formula = "a compare, and a multiply by the learned slope"

    def setup(self) -> None:
        # PyTorch checks this at forward: the channel axis is the first one per sample.
        channels = self.in_shape[0]
        if self.num_parameters not in (1, channels):
            raise LayerError(
                f"num_parameters ({self.num_parameters}) must be 1 or the number of channels ({channels}) "
                f"of the input ({fmt_shape(self.in_shape)})",
                arg="num_parameters",
                hint=f"use 1 (one slope shared by all channels) or {channels} (one per channel)",
            )

    def weights(self) -> dict[str, tuple[int, ...]]:
        return {"weight": (self.num_parameters,)}

    def summary(self) -> str:
        return f"slopes={self.num_parameters} init={self.init:g}"


@register
class ELU(_Elementwise):
    kind = "ELU"
    arguments = (Arg("alpha", Float(), 1.0, "scale of the negative part alpha * (exp(x) - 1)"), INPLACE)
    ops_per_element = 4
    ops_formula = "a compare, exp, subtract 1, multiply by alpha"

    def setup(self) -> None:
        _warn_inplace_negative(self, "alpha", self.alpha)

    def summary(self) -> str:
        return f"alpha={self.alpha:g}"


@register
class GELU(_Elementwise):
    kind = "GELU"
    arguments = (Arg("approximate", Choice(("none", "tanh")), "none", "'tanh' for the tanh approximation"),)
    ops_rule = (
        "per element: 5 for 'none', 0.5 * x * (1 + erf(x / sqrt(2))): multiply, erf, add, two multiplies; "
        "9 for 'tanh', 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))): two multiplies for x^3, "
        "multiply, add, multiply, tanh, add, two multiplies"
    )

    def element_ops(self) -> int:
        return 9 if self.approximate == "tanh" else 5

    def summary(self) -> str:
        return "tanh" if self.approximate == "tanh" else ""


@register
class SiLU(_Elementwise):
    kind = "SiLU"
    arguments = (INPLACE,)
    ops_per_element = 3
    ops_formula = "x / (1 + exp(-x)): exp, add, divide"


@register
class Sigmoid(_Elementwise):
    kind = "Sigmoid"
    ops_per_element = 3
    ops_formula = "1 / (1 + exp(-x)): exp, add, divide"


@register
class Tanh(_Elementwise):
    kind = "Tanh"
    ops_per_element = 1
    ops_formula = "tanh, one function evaluation"


@register
class Hardtanh(_Elementwise):
    kind = "Hardtanh"
    arguments = (
        Arg("min_val", Float(), -1.0, "lower clip value"),
        Arg("max_val", Float(), 1.0, "upper clip value; must exceed min_val"),
        INPLACE,
        Arg("min_value", Optional(Float()), None, "deprecated name of min_val; overrides it"),
        Arg("max_value", Optional(Float()), None, "deprecated name of max_val; overrides it"),
    )
    ops_per_element = 2
    ops_formula = "min(max(x, min_val), max_val), two compares"

    def setup(self) -> None:
        # PyTorch's deprecated spellings win over the new ones, with a warning.
        for old, new in (("min_value", "min_val"), ("max_value", "max_val")):
            if getattr(self, old) is not None:
                self.warn(f"{old} is deprecated and renamed to {new}")
                setattr(self, new, getattr(self, old))
        if not self.max_val > self.min_val:
            raise LayerError(
                f"max_val ({self.max_val:g}) must be greater than min_val ({self.min_val:g})",
                arg=self.culprit(),
                hint=(
                    f"make max_val larger than {self.min_val:g}"
                    if self.max_val == self.min_val
                    else f"swap them: min_val: {self.max_val:g}, max_val: {self.min_val:g}"
                ),
            )

    def culprit(self) -> str:
        """The clip value the spec wrote (the upper one when both are written), under the name it used."""
        for new, old in (("max_val", "max_value"), ("min_val", "min_value")):
            if old in self.given:
                return old
            if new in self.given:
                return new
        return "max_val"

    def summary(self) -> str:
        return f"min={self.min_val:g} max={self.max_val:g}"


@register
class Hardswish(_Elementwise):
    kind = "Hardswish"
    arguments = (INPLACE,)
    ops_per_element = 5
    ops_formula = "x * min(max(x + 3, 0), 6) / 6: add, two compares, multiply, divide"


@register
class Hardsigmoid(_Elementwise):
    kind = "Hardsigmoid"
    arguments = (INPLACE,)
    ops_per_element = 4
    ops_formula = "min(max(x + 3, 0), 6) / 6: add, two compares, divide"


@register
class Softmax(Layer):
    kind = "Softmax"
    arguments = (
        Arg("dim", Optional(Int()), None, "axis to normalize along, counting the batch axis as 0 as PyTorch does"),
    )
    ops_rule = "3 per element: exp, add to the sum along dim, divide by it (the max subtraction not counted)"

    def setup(self) -> None:
        rank = len(self.in_shape) + 1  # PyTorch counts the batch axis
        if self.dim is None:
            # PyTorch's deprecated implicit choice (_get_softmax_dim): axis 0 for 0-, 1- and 3-axis tensors, else 1.
            self.axis = 0 if rank in (0, 1, 3) else 1
            self.warn(
                f"softmax without dim: PyTorch picks dim={self.axis} for a {rank}-axis tensor (the batch axis "
                "counts) and warns that this implicit choice is deprecated; give dim explicitly"
            )
        elif -rank <= self.dim < rank:
            self.axis = self.dim % rank
        else:
            raise LayerError(
                f"dim {self.dim} is out of range for a {rank}-axis tensor (the batch axis counts as 0; input "
                f"shape {fmt_shape(self.in_shape)} per sample)",
                arg="dim",
                hint=f"use a dim from {-rank} to {rank - 1}; 1 is the channels",
            )
        if self.axis == 0:
            self.warn(
                "softmax along dim 0, the batch axis: each value is normalized against the other samples' values, "
                "so a batch of 1 gives 1 everywhere"
            )

    def other_ops(self) -> int:
        return 3 * prod(self.in_shape)

    def window(self) -> tuple[Window, ...] | None:
        if len(self.in_shape) < 2:
            return None
        # Every output reads its whole row along the normalized axis; per sample, axis - 1 (batch excluded).
        return tuple(
            spanning_window(size) if axis == self.axis - 1 else POINTWISE
            for axis, size in enumerate(self.in_shape[1:], start=1)
        )

    def summary(self) -> str:
        return f"dim={self.axis}"
