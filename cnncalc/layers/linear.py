"""Linear (acts on the last axis), Flatten and Identity."""

from __future__ import annotations

from math import prod

from cnncalc.args import Arg, Bool, Int, Optional
from cnncalc.errors import LayerError
from cnncalc.layers.base import Layer, Shape, Window
from cnncalc.layers.registry import register


@register
class Linear(Layer):
    kind = "Linear"
    ops_rule = "one add per output element for the bias"
    arguments = (
        Arg("in_features", Optional(Int(min=1)), None, "size of the input's last axis", inferred=True),
        Arg("out_features", Int(min=1)),
        Arg("bias", Bool(), True),
    )

    def setup(self) -> None:
        if not self.in_shape:
            # PyTorch would read the batch axis as the features; cnncalc keeps the batch axis apart.
            raise LayerError(
                "Linear needs at least one axis per sample (its last axis holds the features), got a scalar",
                arg="inputs",
                hint="add a flatten layer before it",
            )
        self.infer("in_features", self.in_shape[-1], "features on its last axis")

    def output_shape(self) -> Shape:
        return self.in_shape[:-1] + (self.out_features,)

    def weights(self) -> dict[str, Shape]:
        shapes = {"weight": (self.out_features, self.in_features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes

    def macs(self) -> int:
        return prod(self.out_shape) * self.in_features

    def other_ops(self) -> int:
        return prod(self.out_shape) if self.bias else 0

    def window(self) -> None:
        return None  # every output reads the whole last axis

    def summary(self) -> str:
        return f"{self.in_features} -> {self.out_features}"


@register
class Flatten(Layer):
    kind = "Flatten"
    arguments = (
        Arg("start_dim", Int(), 1, "first axis to merge, counting the batch axis as 0, as in PyTorch"),
        Arg("end_dim", Int(), -1),
    )

    def setup(self) -> None:
        rank = len(self.in_shape) + 1  # PyTorch counts the batch axis
        bounds = f"from {-rank} to {rank - 1}"
        for name in ("start_dim", "end_dim"):
            value = getattr(self, name)
            if not -rank <= value < rank:
                raise LayerError(f"{name} {value} is out of range for a {rank}-axis tensor ({bounds})", arg=name)
        self.start = self.start_dim % rank
        self.end = self.end_dim % rank
        if self.start > self.end:
            raise LayerError(
                f"start_dim ({self.start_dim}) comes after end_dim ({self.end_dim})",
                arg="start_dim",
            )
        if self.start == 0 and self.end > 0:
            raise LayerError(
                "start_dim 0 would merge the batch axis into the others; cnncalc keeps the batch axis apart",
                arg="start_dim",
                hint="use start_dim: 1 (the default)",
            )

    def output_shape(self) -> Shape:
        full = (1,) + self.in_shape
        merged = full[: self.start] + (prod(full[self.start : self.end + 1]),) + full[self.end + 1 :]
        return merged[1:]

    def window(self) -> tuple[Window, ...] | None:
        return super().window() if self.out_shape == self.in_shape else None

    def summary(self) -> str:
        # The output column shows the result; only non-default axes are worth a mention.
        return "" if (self.start_dim, self.end_dim) == (1, -1) else f"dims {self.start_dim}..{self.end_dim}"


@register
class Identity(Layer):
    kind = "Identity"
