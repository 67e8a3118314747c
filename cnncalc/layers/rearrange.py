"""Kinds that move values between axes without computing any: Permute, Transpose, Reshape, View, Unflatten and
ChannelShuffle.

Names as PyTorch's: nn.Unflatten and nn.ChannelShuffle are torch.nn classes; Permute, Transpose, Reshape and View
are tensor methods (torch.permute, torch.transpose, torch.reshape, Tensor.view), named here by cnncalc. Every `dim`
counts the batch axis as 0, as PyTorch does, and a dim that would move or split the batch axis is refused: shapes
are per sample, and the batch axis stays first. Reshape's and View's `shape` is the per-sample shape (the batch
axis is kept), as x.reshape(x.size(0), *shape).

They have no weights and no multiply-accumulates, and count no other operations: each output value is an input
value copied (data movement, not arithmetic). Receptive fields follow the axes through them (axis_map;
cnncalc/receptive.py): Permute and Transpose move what each axis holds, ChannelShuffle keeps the spatial axes,
Reshape, View and Unflatten keep the axes that survive unchanged (same size, same number of elements after them).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Int, IntList, python_form
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers.base import POINTWISE, AxisMap, Backprop, Layer, Shape, Window, axis_names, dim_name, fmt_shape
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]
MOVES = "none (data movement: every output value is an input value copied, nothing is computed)"


def _shown(shape: Shape) -> str:
    return fmt_shape(shape) if shape else "a scalar"


def listed(values: Sequence[int], limit: int = 8) -> str:
    """A list as written, shortened past `limit` entries (a message stays readable whatever the spec wrote)."""
    if len(values) <= limit:
        return str(list(values))
    head = ", ".join(str(v) for v in values[: limit - 2])
    return f"[{head}, ..., {values[-1]}] ({len(values):,} entries)"


def full_names(rank: int) -> tuple[str, ...]:
    """The axes of a batched tensor by name: N, then the per-sample axes (C, H, W, ...)."""
    return ("N", *axis_names(rank))


def wrap_dim(value: int, rank: int, arg: str, what: str = "") -> int:
    """A PyTorch dim (negative counts from the end) as 0 ... rank - 1 of a batched tensor of `rank` axes, or
    PyTorch's 'Dimension out of range' as a LayerError naming `arg`."""
    if -rank <= value < rank:
        return value % rank
    raise LayerError(
        f"{what or arg} {value} is out of range for a {rank}-axis tensor (the batch axis included, as the first): "
        f"valid dims are {-rank} to {rank - 1}",
        arg=arg,
    )


def gather(shape: Shape, order: tuple[int, ...]) -> list[int]:
    """For every element of x.permute(order) (row-major), the flat index it reads in x of `shape`."""
    strides = [prod(shape[axis + 1 :]) for axis in range(len(shape))]
    indices = [0]
    for axis in order:
        stride = strides[axis]
        indices = [base + k * stride for base in indices for k in range(shape[axis])]
    return indices


def scatter_back(grad: Tensor, sources: list[int], shape: Shape) -> Tensor:
    """The gradient of a gather that reads every input element once: each output's gradient goes back to the input
    element it copied."""
    out = [0] * len(sources)
    for value, source in zip(grad.data, sources, strict=True):
        out[source] = value
    return Tensor(shape, out, grad.denominator, grad.approximate)


def inferred_sizes(sizes: tuple[int, ...], total: int, arg: str, whole: str) -> Shape:
    """`sizes` with its one -1 replaced by what makes their product `total` (PyTorch's infer_size), or a LayerError
    worded for `arg`; `whole` names what holds `total` values ('the input's 24 values per sample')."""
    written = listed(sizes)
    free = [index for index, size in enumerate(sizes) if size == -1]
    if len(free) > 1:
        raise LayerError(
            f"{arg} {written} has -1 at indices {free[0]} and {free[1]}: only one size can be inferred",
            arg=arg,
            hint="write every size but one",
        )
    for index, size in enumerate(sizes):
        if size < -1:
            raise LayerError(
                f"{arg} {written} has {size} at index {index}: a size is a non-negative integer, or -1 for the one "
                "inferred",
                arg=arg,
            )
    known = prod(size for size in sizes if size != -1)
    if not free:
        if known != total:
            suggestion = [*sizes[:-1], -1] if len(sizes) > 1 and total % max(prod(sizes[:-1]), 1) == 0 else None
            raise LayerError(
                f"{arg} {written} holds {known:,} values, but {whole}",
                arg=arg,
                hint=f"the sizes must multiply to {total:,}"
                + (f"; did you mean {listed(suggestion)} (-1 is inferred)?" if suggestion and prod(sizes[:-1]) else ""),
            )
        return sizes
    if known == 0:
        raise LayerError(
            f"{arg} {written}: the other sizes multiply to 0, so -1 could be any size (PyTorch: ambiguous)",
            arg=arg,
            hint="write the size instead of -1",
        )
    if total % known:
        raise LayerError(
            f"{arg} {written}: the other sizes multiply to {known:,}, which does not divide {whole}",
            arg=arg,
            hint=f"the sizes must multiply to {total:,}",
        )
    at = free[0]
    return sizes[:at] + (total // known,) + sizes[at + 1 :]


def surviving_axes(in_shape: Shape, out_shape: Shape) -> AxisMap:
    """Which input axis each output axis of a row-major reshape reads position by position: an axis of the same
    size with as many elements after it holds the same index for every element (the flat index's digit there is
    the same). Other output axes hold pieces of several input axes, or of one: None."""

    def keys(shape: Shape) -> list[tuple[int, int]]:
        after, found = 1, []
        for size in reversed(shape):
            found.append((size, after))
            after *= size
        return found[::-1]

    candidates: dict[tuple[int, int], list[int]] = {}  # (size, elements after) -> the input axes with it, in order
    for axis, key in enumerate(keys(in_shape)):
        candidates.setdefault(key, []).append(axis)
    taken = dict.fromkeys(candidates, 0)
    found: list[tuple[int, Window] | None] = []
    start = 0  # matches keep their order (linear time: each candidate is passed once)
    for key in keys(out_shape):
        axes = candidates.get(key, [])
        at = taken.get(key, 0)
        while at < len(axes) and axes[at] < start:
            at += 1
        if at < len(axes):
            found.append((axes[at], POINTWISE))
            start = axes[at] + 1
            at += 1
        else:
            found.append(None)
        if axes:
            taken[key] = at
    return tuple(found)


def kept_window(layer: Layer) -> tuple[Window, ...] | None:
    """Pointwise where every spatial axis stays in place; else None: the output's positions along an axis are not
    the input's along the same axis (receptive fields then follow axis_map)."""
    amap = layer.axis_map()
    rank = len(layer.out_shape)
    if amap is None or rank < 2 or len(layer.in_shape) != rank:
        return None
    if all(amap[axis] == (axis, POINTWISE) for axis in range(1, rank)):
        return (POINTWISE,) * (rank - 1)
    return None


class _Rearrange(Layer):
    """Values copied to new places: no weights, no MACs, no other ops."""

    ops_rule = MOVES

    def output_storage(self, step: Backprop) -> str:
        """Permute and Transpose are views: the strides move, the memory stays (ChannelShuffle copies)."""
        return "input"

    def output_contiguous(self, step: Backprop) -> bool:
        """Contiguous when the axes longer than 1 keep their order (batch axis included)."""
        shape = (step.batch, *self.in_shape)
        moved = [axis for axis in self.order(len(shape)) if shape[axis] != 1]
        return step.contiguous[0] and moved == sorted(moved)

    def window(self) -> tuple[Window, ...] | None:
        return kept_window(self)

    def scratch_elements(self) -> int:
        return prod(self.in_shape)  # forward's list of source indices, one per element

    def order(self, rank: int) -> tuple[int, ...]:
        """The permutation of a batched tensor's `rank` axes that forward applies (data-moving kinds)."""
        raise NotImplementedError

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        order = self.order(len(x.shape))
        shape = tuple(x.shape[axis] for axis in order)
        data = x.data
        return Tensor(shape, [data[i] for i in gather(x.shape, order)], x.denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [scatter_back(grad, gather(x.shape, self.order(len(x.shape))), x.shape)], {}


@register
class Permute(_Rearrange):
    """torch.permute: the axes in a new order; the batch axis stays first (dims[0] is 0)."""

    kind = "Permute"
    arguments = (
        Arg(
            "dims",
            IntList(Int()),
            doc="the new order of the axes, batch axis included (dims[0] is 0), as torch.permute",
        ),
    )

    def setup(self) -> None:
        rank = len(self.in_shape) + 1
        dims = listed(self.dims)
        keep = listed(range(rank))
        if len(self.dims) != rank:
            raise LayerError(
                f"dims {dims} has {len(self.dims)} entries but the input has {rank} axes, the batch axis included "
                f"(N x {_shown(self.in_shape)}): permute needs one entry per axis",
                arg="dims",
                hint=f"{keep} keeps the order; dims[0] is 0 (the batch axis stays first)",
            )
        order = tuple(wrap_dim(d, rank, "dims", "dims entry") for d in self.dims)
        seen: set[int] = set()
        repeated: list[int] = []
        for axis in order:
            if axis in seen:
                repeated.append(axis)
            seen.add(axis)
        if repeated:
            missing = listed([axis for axis in range(rank) if axis not in seen])
            raise LayerError(
                f"dims {dims} names {dim_name(min(repeated), rank - 1)} twice: permute needs every axis once",
                arg="dims",
                hint=f"dims {missing} missing",
            )
        if order[0] != 0:
            raise LayerError(
                f"dims {dims} puts {dim_name(order[0], rank - 1)} first: that would move the batch axis, which "
                "cnncalc keeps first",
                arg="dims",
                hint="write dims[0] as 0 and permute the other axes",
            )
        self.axes = tuple(axis - 1 for axis in order[1:])  # per sample: output axis k is input axis axes[k]

    def order(self, rank: int) -> tuple[int, ...]:
        return (0, *(axis + 1 for axis in self.axes))

    def output_shape(self) -> Shape:
        return tuple(self.in_shape[axis] for axis in self.axes)

    def axis_map(self) -> AxisMap:
        return tuple((axis, POINTWISE) for axis in self.axes)

    def notes(self) -> list[str]:
        names = full_names(len(self.in_shape))
        moved = " x ".join(names[axis] for axis in self.order(len(names)))
        return [
            f"moves the axes: {' x '.join(names)} -> {moved} (output dim k is input dim dims[k]); values are "
            "copied, none computed"
        ]

    def summary(self) -> str:
        return "dims " + ",".join(str(axis) for axis in self.order(len(self.in_shape) + 1))

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"dims": [0, 2, 3, 1]}, ((2, 3, 4),)),  # channels last (ConvNeXt)
            ({"dims": [0, 3, 1, 2]}, ((3, 2, 2),)),  # back to channels first
            ({"dims": [0, -1, 1]}, ((2, 3),)),
            ({"dims": [0, 1, 2]}, ((2, 3),)),  # the identity
        ]


@register
class Transpose(_Rearrange):
    """torch.transpose: two axes swapped; neither may be the batch axis."""

    kind = "Transpose"
    arguments = (
        Arg("dim0", Int(), doc="one axis to swap, counting the batch axis as 0"),
        Arg("dim1", Int(), doc="the other axis"),
    )

    def setup(self) -> None:
        rank = len(self.in_shape) + 1
        first = wrap_dim(self.dim0, rank, "dim0")
        second = wrap_dim(self.dim1, rank, "dim1")
        for name, value, axis in (("dim0", self.dim0, first), ("dim1", self.dim1, second)):
            if axis == 0:
                raise LayerError(
                    f"{name} {value} is the batch axis: swapping it would mix samples with features, and cnncalc "
                    "keeps the batch axis first",
                    arg=name,
                    hint=f"use dims from 1 to {rank - 1} (or -1 to {-(rank - 1)})",
                )
        self.swapped = (first - 1, second - 1)  # per sample

    def order(self, rank: int) -> tuple[int, ...]:
        first, second = (axis + 1 for axis in self.swapped)
        axes = list(range(rank))
        axes[first], axes[second] = axes[second], axes[first]
        return tuple(axes)

    def output_shape(self) -> Shape:
        return tuple(self.in_shape[axis - 1] for axis in self.order(len(self.in_shape) + 1)[1:])

    def axis_map(self) -> AxisMap:
        return tuple((axis - 1, POINTWISE) for axis in self.order(len(self.in_shape) + 1)[1:])

    def notes(self) -> list[str]:
        rank = len(self.in_shape)
        first, second = (dim_name(axis + 1, rank) for axis in self.swapped)
        if self.swapped[0] == self.swapped[1]:
            return [f"dim0 and dim1 both name {first}: nothing moves"]
        return [f"swaps {first} and {second}; values are copied, none computed"]

    def summary(self) -> str:
        first, second = (axis + 1 for axis in self.swapped)
        return f"dims {first},{second}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"dim0": 1, "dim1": 2}, ((2, 3, 2),)),  # ShuffleNet's transpose of groups and channels per group
            ({"dim0": -1, "dim1": -2}, ((2, 3, 4),)),
            ({"dim0": 2, "dim1": 2}, ((2, 3),)),
        ]


@register
class Reshape(Layer):
    """torch.reshape with the batch axis kept: x.reshape(x.size(0), *shape), one -1 inferred."""

    kind = "Reshape"
    ops_rule = MOVES
    arguments = (Arg("shape", IntList(Int()), doc="the per-sample shape (the batch axis is kept); one -1 is inferred"),)

    def output_storage(self, step: Backprop) -> str:
        """A view of a contiguous input; a non-contiguous one is copied (reshape)."""
        return "input" if step.contiguous[0] else "new"

    def setup(self) -> None:
        total = prod(self.in_shape)
        whole = f"the input has {total:,} per sample ({_shown(self.in_shape)})"
        self.sizes = inferred_sizes(tuple(self.shape), total, "shape", whole)

    def output_shape(self) -> Shape:
        return self.sizes

    def axis_map(self) -> AxisMap:
        return surviving_axes(self.in_shape, self.out_shape)

    def window(self) -> tuple[Window, ...] | None:
        return kept_window(self)

    def explain(self) -> list[tuple[str, Any]]:
        if -1 not in self.shape:
            return []
        at = self.shape.index(-1)
        names = axis_names(len(self.in_shape))
        total = product_of([Term.leaf(name, size) for name, size in zip(names, self.in_shape, strict=True)])
        known = product_of([Term.leaf(f"shape[{i}]", s) for i, s in enumerate(self.shape) if s != -1])
        return [(f"output dim {at + 1} (inferred)", total // known if isinstance(known, Term) else total)]

    def notes(self) -> list[str]:
        return [
            f"reads the values in row-major order (the last axis fastest) and refills them, per sample, into "
            f"{_shown(self.out_shape)}; values are copied, none computed"
        ]

    def summary(self) -> str:
        return "shape " + ",".join(str(size) for size in self.shape)

    def new_shape(self, shape: Shape) -> Shape:
        """The batched output shape for a batched input of `shape` (forward's own -1, not the analyzer's)."""
        total = prod(shape[1:])
        known = prod(size for size in self.shape if size != -1)
        return (shape[0], *(total // known if size == -1 else size for size in self.shape))

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return x.reshaped(self.new_shape(x.shape))  # row-major data is flat already: only the shape changes

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad.reshaped(inputs[0].shape)], {}

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"shape": [4, 6]}, ((2, 3, 4),)),
            ({"shape": [2, -1, 2]}, ((3, 2, 2),)),
            ({"shape": -1}, ((2, 3),)),
            ({"shape": [3, 1, 4]}, ((3, 4),)),  # an axis of 1 inserted: C and W survive
        ]


def product_of(terms: list[Term]) -> Any:
    """The product of Terms, 1 for none."""
    if not terms:
        return 1
    total: Any = terms[0]
    for term in terms[1:]:
        total = total * term
    return total


@register
class View(Reshape):
    """Tensor.view with the batch axis kept. cnncalc's tensors are contiguous, so view and reshape agree."""

    kind = "View"

    def notes(self) -> list[str]:
        return [
            *super().notes(),
            "PyTorch's view needs an input whose memory layout allows it (not straight after a permute or transpose, "
            "where it raises; reshape copies there): cnncalc's tensors are always contiguous, as after .contiguous()",
        ]


@register
class Unflatten(Layer):
    """nn.Unflatten: one axis split into several, one -1 inferred."""

    kind = "Unflatten"
    ops_rule = MOVES
    arguments = (
        Arg("dim", Int(), doc="the axis to split, counting the batch axis as 0 (1 = channels)"),
        Arg("unflattened_size", IntList(Int()), doc="the sizes it splits into (a list); one -1 is inferred"),
    )

    def output_storage(self, step: Backprop) -> str:
        """A view of a contiguous input; a non-contiguous one is copied (reshape)."""
        return "input" if step.contiguous[0] else "new"

    def setup(self) -> None:
        rank = len(self.in_shape) + 1
        if not isinstance(python_form(self.given["unflattened_size"]), list):
            size = self.unflattened_size[0]
            raise LayerError(
                f"unflattened_size must be a list of sizes (PyTorch takes a tuple), got {size}",
                arg="unflattened_size",
                hint=f"write [{size}] for one axis, or the sizes it splits into, e.g. [{size}, 1]",
            )
        axis = wrap_dim(self.dim, rank, "dim")
        if axis == 0:
            raise LayerError(
                f"dim {self.dim} is the batch axis: unflattening it would split the batch, which cnncalc keeps whole",
                arg="dim",
                hint=f"use a dim from 1 to {rank - 1} (1 = channels)",
            )
        self.axis = axis - 1  # per sample
        length = self.in_shape[self.axis]
        whole = f"{dim_name(axis, rank - 1)} has {length:,}"
        self.sizes = inferred_sizes(tuple(self.unflattened_size), length, "unflattened_size", whole)

    def output_shape(self) -> Shape:
        return self.in_shape[: self.axis] + self.sizes + self.in_shape[self.axis + 1 :]

    def axis_map(self) -> AxisMap:
        return surviving_axes(self.in_shape, self.out_shape)

    def window(self) -> tuple[Window, ...] | None:
        return kept_window(self)

    def explain(self) -> list[tuple[str, Any]]:
        sizes = self.unflattened_size
        if -1 not in sizes:
            return []
        at = sizes.index(-1)
        name = axis_names(len(self.in_shape))[self.axis]
        known = product_of([Term.leaf(f"size[{i}]", s) for i, s in enumerate(sizes) if s != -1])
        whole = Term.leaf(name, self.in_shape[self.axis])
        return [(f"output dim {self.axis + 1 + at} (inferred)", whole // known if isinstance(known, Term) else whole)]

    def notes(self) -> list[str]:
        rank = len(self.in_shape)
        return [
            f"splits {dim_name(self.axis + 1, rank)} of {self.in_shape[self.axis]:,} into {fmt_shape(self.sizes)} "
            "(row-major: the last of them fastest); values are copied, none computed"
        ]

    def summary(self) -> str:
        return f"dim {self.axis + 1} -> " + "x".join(str(size) for size in self.sizes)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        axis = self.axis + 1
        known = prod(size for size in self.unflattened_size if size != -1)
        sizes = tuple(x.shape[axis] // known if size == -1 else size for size in self.unflattened_size)
        return x.reshaped(x.shape[:axis] + sizes + x.shape[axis + 1 :])

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        return [grad.reshaped(inputs[0].shape)], {}

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"dim": 1, "unflattened_size": [2, 3]}, ((6, 2),)),
            ({"dim": -1, "unflattened_size": [2, -1]}, ((3, 4),)),
            ({"dim": 2, "unflattened_size": [3, 1]}, ((2, 3, 2),)),
            ({"dim": 1, "unflattened_size": [4, 2, 2]}, ((16,),)),
        ]


@register
class ChannelShuffle(_Rearrange):
    """nn.ChannelShuffle (ShuffleNet): the channels viewed as groups x channels per group, the two transposed."""

    kind = "ChannelShuffle"
    arguments = (Arg("groups", Int(min=1), doc="groups the channels are divided into; must divide the channels"),)

    def output_storage(self, step: Backprop) -> str:
        return "new"  # native_channel_shuffle returns a contiguous copy

    def output_contiguous(self, step: Backprop) -> bool:
        return True

    def setup(self) -> None:
        if len(self.in_shape) < 2:
            raise LayerError(
                f"ChannelShuffle needs at least 2 axes per sample (C and at least one more), got "
                f"{_shown(self.in_shape)}: PyTorch's channel_shuffle expects more than 2 dims with the batch axis",
                arg="inputs",
            )
        channels = self.in_shape[0]
        if channels % self.groups:
            fits = [g for g in range(1, min(channels, 64) + 1) if channels % g == 0 and g != 1]
            raise LayerError(
                f"groups {self.groups} does not divide the {channels} channels (input {_shown(self.in_shape)})",
                arg="groups",
                hint=f"divisors of {channels}: {', '.join(map(str, fits))}" if fits else None,
            )

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        data = x.data
        return Tensor(
            x.shape, [data[i] for i in gather(self.viewed(x.shape), (0, 2, 1, 3))], x.denominator, x.approximate
        )

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [scatter_back(grad, gather(self.viewed(x.shape), (0, 2, 1, 3)), x.shape)], {}

    def viewed(self, shape: Shape) -> Shape:
        """A batched input of `shape` as N x groups x channels per group x the other axes, flattened."""
        batch, channels = shape[0], shape[1]
        return (batch, self.groups, channels // self.groups, prod(shape[2:]))

    def axis_map(self) -> AxisMap:
        # The channels are reordered: an input position along C is no longer at its place (None); the rest stay.
        return (None, *((axis, POINTWISE) for axis in range(1, len(self.in_shape))))

    def explain(self) -> list[tuple[str, Any]]:
        channels = Term.leaf("C", self.in_shape[0])
        return [("channels per group", channels // Term.leaf("groups", self.groups))]

    def notes(self) -> list[str]:
        per = self.in_shape[0] // self.groups
        return [
            f"the {self.in_shape[0]} channels as {self.groups} groups x {per}, transposed and flattened: output "
            f"channel k*{self.groups} + g is input channel g*{per} + k; values are copied, none computed"
        ]

    def summary(self) -> str:
        return f"groups {self.groups}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"groups": 2}, ((4, 2, 3),)),
            ({"groups": 3}, ((6, 2),)),
            ({"groups": 1}, ((3, 2, 2),)),
            ({"groups": 2}, ((4, 1, 2, 2),)),
        ]
