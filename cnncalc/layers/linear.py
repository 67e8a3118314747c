"""Linear (acts on the last axis), Flatten and Identity.

The counting rules (linear_params, linear_macs, flattened_size) are written once over the sizes: the analyzer calls
them with ints, `explain` with formula.Terms, so a figure and the formula shown for it come from the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import lcm, prod
from operator import mul
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Bool, Int, Optional
from cnncalc.compute import PackedRows
from cnncalc.errors import LayerError
from cnncalc.formula import Term, shown
from cnncalc.layers.base import (
    POINTWISE,
    AxisMap,
    Backprop,
    Layer,
    Saved,
    Shape,
    Window,
    dim_name,
    fmt_shape,
    saved_input,
)
from cnncalc.layers.rearrange import surviving_axes
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


def axis_symbols(rank: int) -> tuple[str, ...]:
    """Names for the axes of a per-sample shape, as cnncalc writes volumes (C x H x W, ...); N_1, N_2, ... for
    ranks without a convention."""
    names = {1: ("F",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "D", "H", "W")}
    return names.get(rank, tuple(f"N_{i + 1}" for i in range(rank)))


def _product(values: Sequence[Any]) -> Any:
    """The product of ints or Terms, written without a leading 1* (1 for no values)."""
    if not values:
        return 1
    total = values[0]
    for value in values[1:]:
        total = total * value
    return total


def linear_params(in_features: Any, out_features: Any, bias: bool) -> Any:
    """(in + 1) * out: each output's weights over the inputs, plus its bias."""
    return (in_features + 1) * out_features if bias else in_features * out_features


def linear_macs(leading: Sequence[Any], in_features: Any, out_features: Any) -> Any:
    """in * out multiply-accumulates per vector, for every vector along the leading axes."""
    return _product([*leading, in_features, out_features])


def flattened_size(merged: Sequence[Any]) -> Any:
    """The size of the one axis Flatten makes: the product of the axes it merges."""
    return _product(merged)


@register
class Linear(Layer):
    kind = "Linear"
    ops_rule = "one add per output element for the bias"
    arguments = (
        Arg("in_features", Optional(Int(min=1)), None, "size of the input's last axis", inferred=True),
        Arg("out_features", Int(min=1)),
        Arg("bias", Bool(), True),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """linear saves its input for the weight gradient (when the weight is trainable) and its weight (a
        parameter) for the input gradient. An input with leading axes that is not contiguous (after a permute) is
        first copied into a contiguous matrix, and that copy is saved."""
        if not step.weight_grads:
            return []
        if len(self.in_shape) > 1 and not step.contiguous[0]:
            return [Saved("contiguous copy of the input", (step.batch, *self.in_shape), "own")]
        return [saved_input(0, self.in_shape, step.batch)]

    def backward_macs(self, step: Backprop) -> list[tuple[str, int]]:
        """grad x weight^T for the input and grad^T x input for the weight: in_features x out_features MACs per
        vector each, the forward MACs."""
        terms = [("input gradient", self.macs())] if step.input_grads[0] else []
        return terms + ([("weight gradient", self.macs())] if step.weight_grads else [])

    def setup(self) -> None:
        if not self.in_shape:
            # PyTorch would read the batch axis as the features; cnncalc keeps the batch axis apart.
            raise LayerError(
                "Linear needs at least one axis per sample (its last axis holds the features), got a scalar",
                arg="inputs",
                hint="add a flatten layer before it",
            )
        if len(self.in_shape) > 1 and self.in_features not in (None, self.in_shape[-1]):
            self.refuse_unflattened()
        self.infer("in_features", self.in_shape[-1], "features on its last axis")

    def refuse_unflattened(self) -> None:
        """in_features that does not fit the last axis of a multi-axis input: most likely the flatten that a
        PyTorch model does in forward() (torchvision's torch.flatten(x, 1)) is missing from the spec."""
        whole = prod(self.in_shape)
        last = self.in_shape[-1]
        fits = " = in_features" if whole == self.in_features else f"; in_features must then be {whole}"
        raise LayerError(
            f"in_features is {self.in_features} but the input is {fmt_shape(self.in_shape)}: Linear acts on the "
            f"last axis only, which has {last} feature{'s' if last != 1 else ''}",
            arg="in_features",
            hint=f"insert '- flatten' before it ({fmt_shape(self.in_shape)} flattens to {whole:,}{fits}); "
            f"or, for a Linear along the last axis, set in_features to {last}",
        )

    def output_shape(self) -> Shape:
        return self.in_shape[:-1] + (self.out_features,)

    def weights(self) -> dict[str, Shape]:
        shapes = {"weight": (self.out_features, self.in_features)}
        if self.bias:
            shapes["bias"] = (self.out_features,)
        return shapes

    def macs(self) -> int:
        return linear_macs(self.in_shape[:-1], self.in_features, self.out_features)

    def leading_terms(self) -> list[Term]:
        """The axes before the features, each a vector the same weight is applied to."""
        names = axis_symbols(len(self.in_shape))
        return [Term.leaf(name, size) for name, size in zip(names, self.in_shape[:-1], strict=False)]

    def explain(self) -> list[tuple[str, Any]]:
        """(what, Term) pairs: params and MACs from the rules that count them."""
        in_f, out_f = Term.leaf("in_features", self.in_features), Term.leaf("out_features", self.out_features)
        return [
            ("params", linear_params(in_f, out_f, self.bias)),
            ("MACs", linear_macs(self.leading_terms(), in_f, out_f)),
        ]

    def notes(self) -> list[str]:
        weight = self.weights()["weight"]
        notes = [
            f"PyTorch stores the weight out x in, {fmt_shape(weight)}, and computes y = W x + b; the lectures' "
            f"tables write it in x out, {fmt_shape(weight[::-1])}"
        ]
        leading = self.leading_terms()
        if leading:
            notes.append(
                f"the same weight applies to each of the {shown(_product(leading))} vectors along the last axis"
            )
        return notes

    def other_ops(self) -> int:
        return prod(self.out_shape) if self.bias else 0

    def window(self) -> None:
        return None  # every output reads the whole last axis

    def axis_map(self) -> AxisMap:
        # The leading axes are read position by position; the last becomes out_features, each mixing every position
        # of it (a spatial axis there is lost; the channels of a channels-last tensor hold none).
        return (*((axis, POINTWISE) for axis in range(len(self.in_shape) - 1)), None)

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
        if self.out_features > 1 and len(x.data) >= 2 * features > 0:  # rows met by several vectors: packed
            packed = PackedRows(rows, max(map(abs, x.data), default=0))
            for start in range(0, len(x.data), features):
                out.extend(ctx.dots(x.data[start : start + features], packed))
        else:
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

    def output_storage(self, step: Backprop) -> str:
        """A view of a contiguous input; a non-contiguous one is copied (reshape)."""
        return "input" if step.contiguous[0] else "new"

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
        merged = full[: self.start] + (flattened_size(full[self.start : self.end + 1]),) + full[self.end + 1 :]
        return merged[1:]

    def merged_terms(self) -> list[Term]:
        """The per-sample axes merged into one (none when start_dim and end_dim name a single axis)."""
        if self.end == self.start:
            return []
        names = axis_symbols(len(self.in_shape))
        return [Term.leaf(names[axis - 1], self.in_shape[axis - 1]) for axis in range(self.start, self.end + 1)]

    def explain(self) -> list[tuple[str, Any]]:
        """The merged axis's size from the rule that computes it; its index counts the batch axis as 0."""
        merged = self.merged_terms()
        return [(f"output dim {self.start} (merged)", flattened_size(merged))] if merged else []

    def notes(self) -> list[str]:
        span = f"start_dim {self.start_dim} to end_dim {self.end_dim} (the batch axis is 0, as in PyTorch)"
        merged = self.merged_terms()
        if not merged:
            axis = dim_name(self.start, len(self.in_shape))
            return [f"{span} name one axis, {axis}: nothing merges, the shape stays {fmt_shape(self.in_shape)}"]
        names = " x ".join(term.symbols for term in merged)
        return [
            f"{span} merge dims {self.start} to {self.end}, {names}, into one axis, its elements in row-major order "
            "(the last axis varies fastest)"
        ]

    def window(self) -> tuple[Window, ...] | None:
        return super().window() if self.out_shape == self.in_shape else None

    def axis_map(self) -> AxisMap:
        # A reshape: the axes it does not merge keep their positions (receptive fields follow them).
        return surviving_axes(self.in_shape, self.out_shape)

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
    keeps_channels = True

    def output_storage(self, step: Backprop) -> str:
        return "input"  # the input tensor itself

    def output_contiguous(self, step: Backprop) -> bool:
        return step.contiguous[0]

    @classmethod
    def examples(cls) -> Examples:
        return [({}, ((3, 4),)), ({}, ((2, 3, 2, 2),))]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        return inputs[0]

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad], {}
