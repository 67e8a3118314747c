"""Linear (acts on the last axis), Flatten and Identity."""

from __future__ import annotations

from math import lcm, prod
from operator import mul
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Bool, Int, Optional
from cnncalc.errors import LayerError
from cnncalc.layers.base import Layer, Shape, Window
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


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

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"out_features": 3}, ((4,),)),
            ({"out_features": 2, "bias": False}, ((5,),)),
            ({"out_features": 3}, ((2, 3, 4),)),  # every row of the last axis, as torch.nn.Linear
            ({"in_features": 1, "out_features": 1}, ((3, 1),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        weight = params["weight"]
        features = x.shape[-1]
        rows = [weight.data[o * features : (o + 1) * features] for o in range(self.out_features)]
        out = []
        for start in range(0, len(x.data), features):
            vector = x.data[start : start + features]
            out.extend(ctx.dot(vector, row) for row in rows)
        shape = x.shape[:-1] + (self.out_features,)
        denominator = x.denominator * weight.denominator
        approximate = x.approximate or weight.approximate
        if not self.bias:
            return Tensor(shape, out, denominator, approximate)
        bias = params["bias"]
        common = lcm(denominator, bias.denominator)
        scale = common // denominator
        adds = [b * (common // bias.denominator) for b in bias.data]
        count = self.out_features
        out = [v * scale + adds[i % count] for i, v in enumerate(out)]  # the bias runs along the last axis
        return Tensor(shape, out, common, approximate or bias.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Y = X W^T + b over every row of the leading axes: dX = dY W, dW = dY^T X summed over rows, db = sum dY.
        (x,) = inputs
        weight = params["weight"]
        features, outs = self.in_features, self.out_features
        g, xs, w = grad.data, x.data, weight.data
        columns = [w[i::features] for i in range(features)]  # W's column i: the weights input i meets
        grad_x: list[int] = []
        grad_weight = [0] * len(w)
        sums = [0] * outs
        for row in range(len(g) // outs):
            g_row = g[row * outs : (row + 1) * outs]
            x_row = xs[row * features : (row + 1) * features]
            grad_x.extend(sum(map(mul, g_row, column)) for column in columns)
            for o, go in enumerate(g_row):
                if go:
                    sums[o] += go
                    at = o * features
                    for i, value in enumerate(x_row):
                        grad_weight[at + i] += go * value
        approximate = grad.approximate or x.approximate or weight.approximate
        grads = {"weight": Tensor(weight.shape, grad_weight, grad.denominator * x.denominator, approximate)}
        if self.bias:
            grads["bias"] = Tensor((outs,), sums, grad.denominator, grad.approximate)
        return [Tensor(x.shape, grad_x, grad.denominator * weight.denominator, approximate)], grads


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

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((2, 3, 4),)),
            ({"start_dim": 2}, ((2, 3, 4),)),
            ({"start_dim": -3, "end_dim": -2}, ((2, 3, 4),)),
            ({"start_dim": 2, "end_dim": 2}, ((2, 3),)),  # one axis: nothing merges
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        # Row-major data is already flat: only the shape changes (start and end count the batch axis, as here).
        shape = x.shape[: self.start] + (prod(x.shape[self.start : self.end + 1]),) + x.shape[self.end + 1 :]
        return x.reshaped(shape)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad.reshaped(inputs[0].shape)], {}  # the same row-major values, in the input's shape


@register
class Identity(Layer):
    kind = "Identity"

    @classmethod
    def examples(cls) -> Examples:
        return [({}, ((3, 4),)), ({}, ((2, 3, 2, 2),))]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        return inputs[0]

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad], {}
