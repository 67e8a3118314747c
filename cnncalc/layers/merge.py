"""Merges of two or more inputs: Add (residual sum), Concat (torch.cat) and Mul (broadcast product).

These have no torch.nn class; their names are cnncalc's (`add`, `concat`, `mul`). Shapes are per sample, so a
dim argument counts the batch axis as 0 (as in torch.cat) and dim 0 is refused: merging samples is not a layer.
Receptive-field composition across branches happens in the graph; each merge is pointwise per input.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Int
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers.base import Backprop, Layer, Saved, Shape, dim_name, fmt_shape, saved_input
from cnncalc.layers.norm import axis_names, named, product
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor, common

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


def _shown(shape: Shape) -> str:
    return fmt_shape(shape) if shape else "a scalar"


def merge_ops(inputs: Any, elements: Any) -> Any:
    """(inputs - 1) * elements: n inputs take n - 1 adds (or multiplies) per output element."""
    return (inputs - 1) * elements


def joined_size(sizes: Any) -> Any:
    """Concat's output size along its dim: the sum of the inputs' sizes there."""
    total = sizes[0]
    for size in sizes[1:]:
        total = total + size
    return total


class _Merge(Layer):
    min_inputs = 2
    max_inputs = None


class _ElementwiseMerge(_Merge):
    """Add and Mul: one operation per output element for every input after the first."""

    keeps_channels = True  # element by element: receptive fields keep every axis

    def other_ops(self) -> int:
        return merge_ops(len(self.in_shapes), prod(self.out_shape))  # type: ignore[no-any-return]

    def explain(self) -> list[tuple[str, Any]]:
        volume = product(named(axis_names(len(self.out_shape)), self.out_shape))
        return [("other ops", merge_ops(Term.leaf("n", len(self.in_shapes)), volume))]


@register
class Add(_ElementwiseMerge):
    """Element-wise sum; the shapes must be identical (a residual connection that broadcasts is a bug)."""

    kind = "Add"
    ops_rule = "(inputs - 1) adds per output element"

    def setup(self) -> None:
        first = self.in_shape
        for number, shape in enumerate(self.in_shapes[1:], start=2):
            if shape == first:
                continue
            if len(shape) != len(first):
                raise LayerError(
                    f"Add needs inputs of identical shapes: input 1 is {_shown(first)} ({len(first)} axes per "
                    f"sample), input {number} is {_shown(shape)} ({len(shape)} axes)",
                    arg="inputs",
                    hint="make both branches end in the same shape",
                )
            axis = next(i for i, (a, b) in enumerate(zip(first, shape, strict=True)) if a != b)
            raise LayerError(
                f"Add needs inputs of identical shapes: input 1 is {_shown(first)}, input {number} is "
                f"{_shown(shape)}; they differ along {axis_names(len(first))[axis]} ({first[axis]} vs {shape[axis]})",
                arg="inputs",
                hint="in a residual block, project the shortcut (1x1 conv with the block's stride) to match; "
                "for broadcasting use mul",
            )

    def summary(self) -> str:
        return f"sum of {len(self.in_shapes)}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((2, 3, 3), (2, 3, 3))),
            ({}, ((4,), (4,), (4,))),
            ({}, ((1, 2, 2, 2), (1, 2, 2, 2))),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        denominator, numerators, approximate = common(inputs)
        return Tensor(
            inputs[0].shape, [sum(values) for values in zip(*numerators, strict=True)], denominator, approximate
        )

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad for _ in inputs], {}  # every input adds with weight 1


@register
class Concat(_Merge):
    """torch.cat along `dim` (default 1, the channels); every other axis must match."""

    kind = "Concat"
    ops_rule = "none (copies)"
    arguments = (Arg("dim", Int(), 1, "axis to join along, counting the batch axis as 0 (1 = channels)"),)

    def setup(self) -> None:
        first = self.in_shape
        for number, shape in enumerate(self.in_shapes[1:], start=2):
            if len(shape) != len(first):
                raise LayerError(
                    f"Concat needs inputs with the same number of axes: input 1 is {_shown(first)} "
                    f"({len(first)} per sample), input {number} is {_shown(shape)} ({len(shape)})",
                    arg="inputs",
                )
        rank = len(first) + 1  # torch.cat sees the batch axis too
        if not -rank <= self.dim < rank:
            raise LayerError(
                f"dim {self.dim} is out of range for inputs with {rank} axes (batch axis included): "
                f"valid dims are {-rank} to {rank - 1}",
                arg="dim",
            )
        self.axis = self.dim % rank - 1  # per-sample axis
        if self.axis < 0:
            raise LayerError(
                f"dim {self.dim} is the batch axis: concatenating there joins samples, not features",
                arg="dim",
                hint="use dim: 1 (channels, the default) or another axis from 1 to " + str(rank - 1),
            )
        for number, shape in enumerate(self.in_shapes[1:], start=2):
            for axis, (a, b) in enumerate(zip(first, shape, strict=True)):
                if axis != self.axis and a != b:
                    raise LayerError(
                        f"Concat along {dim_name(self.axis + 1, len(first))} needs all other axes to match: "
                        f"input 1 is {_shown(first)}, input {number} is {_shown(shape)}; "
                        f"{axis_names(len(first))[axis]} differs ({a} vs {b})",
                        arg="inputs",
                    )

    def output_shape(self) -> Shape:
        joined = joined_size([shape[self.axis] for shape in self.in_shapes])
        return self.in_shape[: self.axis] + (joined,) + self.in_shape[self.axis + 1 :]

    def explain(self) -> list[tuple[str, Any]]:
        name = axis_names(len(self.in_shape))[self.axis]
        sizes = [Term.leaf(f"{name}_{n}", shape[self.axis]) for n, shape in enumerate(self.in_shapes, start=1)]
        return [(f"output {name} (PyTorch)", joined_size(sizes))]

    def notes(self) -> list[str]:
        names = axis_names(len(self.in_shape))
        others = [axis for axis in range(len(self.in_shape)) if axis != self.axis]
        same = " x ".join(names[axis] for axis in others) + " = " + " x ".join(str(self.in_shape[a]) for a in others)
        must = f"; every input has the same {same}" if others else ""
        return [f"joins the inputs one after another along {dim_name(self.axis + 1, len(self.in_shape))}{must}"]

    def summary(self) -> str:
        return f"dim {self.axis + 1}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((2, 3, 3), (1, 3, 3))),
            ({"dim": -1}, ((2, 2, 3), (2, 2, 1), (2, 2, 2))),
            ({"dim": 2}, ((3, 2), (3, 1))),
            ({}, ((3,), (2,))),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        denominator, numerators, approximate = common(inputs)
        axis = self.axis + 1  # in the batched tensors
        first = inputs[0].shape
        outer = prod(first[:axis])  # batch included: every sample joins its own slices
        blocks = [prod(t.shape[axis:]) for t in inputs]
        out: list[int] = []
        for index in range(outer):
            for data, block in zip(numerators, blocks, strict=True):
                out.extend(data[index * block : (index + 1) * block])
        shape = first[:axis] + (sum(t.shape[axis] for t in inputs),) + first[axis + 1 :]
        return Tensor(shape, out, denominator, approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Each input gets back its own slices of every outer block, in the order forward joined them.
        axis = self.axis + 1
        outer = prod(inputs[0].shape[:axis])
        blocks = [prod(t.shape[axis:]) for t in inputs]
        joined = sum(blocks)
        parts: list[list[int]] = [[] for _ in inputs]
        for index in range(outer):
            at = index * joined
            for part, block in zip(parts, blocks, strict=True):
                part.extend(grad.data[at : at + block])
                at += block
        return [
            Tensor(t.shape, part, grad.denominator, grad.approximate) for t, part in zip(inputs, parts, strict=True)
        ], {}


@register
class Mul(_ElementwiseMerge):
    """Element-wise product with PyTorch broadcasting over the (1, *shape) tensors, as in squeeze-and-excitation."""

    kind = "Mul"
    ops_rule = "(inputs - 1) multiplies per output element"

    def saved(self, step: Backprop) -> list[Saved]:
        """x1 * x2 * ... is a chain of products (the running product times the next input); each saves its
        other factor for the gradient of a factor that requires grad: the next input, and the running product
        (input 1's memory first, then each intermediate product's own)."""
        kept: list[Saved] = []
        running, grad = (step.batch, *self.in_shapes[0]), step.input_grads[0]
        for index in range(1, len(self.in_shapes)):
            shape = (step.batch, *self.in_shapes[index])
            if grad:
                kept.append(saved_input(index, self.in_shapes[index], step.batch))
            if step.input_grads[index]:
                kept.append(
                    saved_input(0, self.in_shapes[0], step.batch)
                    if index == 1
                    else Saved(f"product of inputs 1 to {index}", running, "own")
                )
            running, grad = _broadcast([running, shape]) or running, grad or step.input_grads[index]
        return kept

    def setup(self) -> None:
        ranks = {len(shape) for shape in self.in_shapes}
        if len(ranks) > 1:
            # PyTorch aligns shapes from the right: a lower-rank input's batch axis then meets a feature axis.
            self.warn(
                "Mul inputs have different numbers of axes ("
                + ", ".join(_shown(s) for s in self.in_shapes)
                + "); PyTorch aligns shapes from the right, so with a batch larger than 1 the batch axis of the "
                "shorter input meets a feature axis of the longer one; give it the same number of axes "
                "(e.g. C x 1 x 1)"
            )

    def output_shape(self) -> Shape:
        full = [(1,) + shape for shape in self.in_shapes]
        rank = max(len(shape) for shape in full)
        result: list[int] = []
        for position in range(rank):  # position counts from the left of the broadcast result
            sizes = {s[position - rank + len(s)] for s in full if position - rank + len(s) >= 0}
            wanted = sizes - {1}
            if len(wanted) > 1:
                where = "the batch axis" if position == 0 else axis_names(rank - 1)[position - 1]
                sizes_by_input = " and ".join(
                    f"input {n} has {s[position - rank + len(s)]}"
                    for n, s in enumerate(full, start=1)
                    if position - rank + len(s) >= 0
                )
                raise LayerError(
                    "Mul cannot broadcast its inputs ("
                    + ", ".join(_shown(s) for s in self.in_shapes)
                    + f"): along {where} of the broadcast result, {sizes_by_input}; sizes must be equal "
                    "or 1 (shapes align from the right)",
                    arg="inputs",
                )
            result.append(wanted.pop() if wanted else 1)
        return tuple(result[1:])

    def summary(self) -> str:
        return f"product of {len(self.in_shapes)}"

    def notes(self) -> list[str]:
        """Which inputs are broadcast (repeated) along which axes: the alignment from the right that
        output_shape applies."""
        names = axis_names(len(self.out_shape))
        notes = []
        for number, shape in enumerate(self.in_shapes, start=1):
            offset = len(self.out_shape) - len(shape)  # axes missing on the left are repeated too
            repeated = [
                name
                for axis, (name, size) in enumerate(zip(names, self.out_shape, strict=True))
                if size != 1 and (axis < offset or shape[axis - offset] == 1)
            ]
            if repeated:
                notes.append(f"input {number} ({_shown(shape)}) is repeated along {', '.join(repeated)}")
        return notes

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((2, 3, 3), (2, 1, 1))),  # squeeze-and-excitation: one scale per channel
            ({}, ((2, 3), (2, 3), (1, 3))),
            ({}, ((1, 2, 1), (3, 1, 2))),  # both sides broadcast
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        shapes = [t.shape for t in inputs]
        shape = _broadcast(shapes)
        batch = shapes[0][0]
        if shape is None or shape != (batch, *self.out_shape):
            # Shapes of different ranks align the batch axis of the shorter with a feature axis (see setup).
            shown = " and ".join(fmt_shape(s) for s in shapes)
            outcome = (
                "cannot broadcast them"
                if shape is None
                else f"broadcasts them to {fmt_shape(shape)}, not {fmt_shape((batch, *self.out_shape))}"
            )
            raise LayerError(
                f"with a batch of {batch}, the inputs are {shown} (batch axis first) and PyTorch {outcome}: shapes "
                "align from the right, so the batch axis of a shorter input meets a feature axis of a longer one",
                arg="inputs",
                hint="give every input the same number of axes (e.g. C x 1 x 1), or run with batch 1",
            )
        # Each value's denominator multiplies, so the numerators multiply as they are.
        readers = [_broadcast_indices(t.shape, shape) for t in inputs]
        out = [inputs[0].data[i] for i in readers[0]]
        denominator = inputs[0].denominator
        for tensor, reader in zip(inputs[1:], readers[1:], strict=True):
            data = tensor.data
            out = [v * data[i] for v, i in zip(out, reader, strict=True)]
            denominator *= tensor.denominator
        return Tensor(shape, out, denominator, any(t.approximate for t in inputs))

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # d(x_1 ... x_k)/dx_j is the product of the others, broadcast to the output; an input broadcast along an
        # axis was read once per output element there, so its gradient sums over that axis.
        shape = grad.shape
        readers = [_broadcast_indices(t.shape, shape) for t in inputs]
        approximate = grad.approximate or any(t.approximate for t in inputs)
        grads: list[Tensor | None] = []
        for j, (tensor, reader) in enumerate(zip(inputs, readers, strict=True)):
            product = grad.data
            denominator = grad.denominator
            for k, (other, other_reader) in enumerate(zip(inputs, readers, strict=True)):
                if k != j:
                    data = other.data
                    product = [v * data[i] for v, i in zip(product, other_reader, strict=True)]
                    denominator *= other.denominator
            summed = [0] * len(tensor.data)
            for value, i in zip(product, reader, strict=True):
                summed[i] += value
            grads.append(Tensor(tensor.shape, summed, denominator, approximate))
        return grads, {}


def _broadcast(shapes: list[Shape]) -> Shape | None:
    """PyTorch's broadcast shape of full tensor shapes (aligned from the right), or None where they clash."""
    rank = max(len(s) for s in shapes)
    result = []
    for position in range(rank):
        sizes = {s[position - rank + len(s)] for s in shapes if position - rank + len(s) >= 0} - {1}
        if len(sizes) > 1:
            return None
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def _broadcast_indices(shape: Shape, out_shape: Shape) -> list[int]:
    """For every element of `out_shape` (row-major), the flat index it reads in a tensor of `shape`."""
    missing = len(out_shape) - len(shape)
    strides = [0] * missing
    step = 1
    own = []
    for size in reversed(shape):
        own.append(step if size != 1 else 0)  # a size-1 axis repeats: stride 0
        step *= size
    strides += reversed(own)
    indices = [0]
    for size, stride in zip(out_shape, strides, strict=True):
        indices = [base + k * stride for base in indices for k in range(size)]
    return indices
