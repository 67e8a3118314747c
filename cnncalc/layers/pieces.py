"""Chunk (torch.chunk) and Split (torch.split): one tensor cut into pieces along one axis.

These have no torch.nn class; their names and arguments are torch's functions' (`chunks`, `split_size_or_sections`,
`dim`). Shapes are per sample, so `dim` counts the batch axis as 0 (as torch does) and dim 0 is refused: cutting
the batch into pieces is not a layer. cnncalc's default dim is 1 (channels), where torch.chunk and torch.split
default to 0.

Several outputs: every layer of a cnncalc graph has one output, so a piece is chosen with `index` (as
`x.chunk(2, 1)[index]`; negative indices count from the end, as Python's). An entry without `index` stands for all
its pieces: `output_count` says how many torch makes, and the spec expands the entry into NAME.0 ... NAME.K-1, one
layer per piece (cnncalc.spec). Built alone without `index` (`cnncalc layer`, make_layer) the layer describes piece
0 in its one-output rules and `pieces()` lists every piece.

How many pieces (closed forms, never a loop over a number written in the spec):
- torch.chunk(x, chunks) along an axis of n > 0: pieces of ceil(n / chunks), the last one shorter, so there are
  ceil(n / ceil(n / chunks)) pieces, which may be fewer than `chunks` (6 in 4 chunks: 3 pieces of 2). An empty
  axis (n = 0) gives `chunks` empty pieces, as torch's special case does.
- torch.split(x, s) with an int: pieces of s, the last one shorter: ceil(n / s) pieces (1 on an empty axis; s = 0
  only on an empty axis). With a list of sections: one piece per entry; they must sum to n.

A piece is a copy: no weights, no arithmetic. Its receptive field is pointwise, except along a cut spatial axis,
where output position j reads input position offset + j (a window of padding -offset, as a crop).
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.args import Arg, Int, IntList, Optional, is_int
from cnncalc.errors import LayerError
from cnncalc.formula import Term, ceil_div
from cnncalc.layers.base import (
    POINTWISE,
    AxisMap,
    Backprop,
    Layer,
    Shape,
    Window,
    axis_names,
    box_contiguous,
    dim_name,
    fmt_shape,
)
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]

# The most pieces one entry without `index` is expanded into (a spec layer each, a row each in `cnncalc layer`):
# far more than any network cuts a tensor into, and small enough that listing them stays quick.
MAX_PIECES = 10_000


class SizeOrSections(IntList):
    """torch.split's split_size_or_sections: a non-negative int (pieces of that size), or a non-empty list of
    non-negative ints (one piece per entry). The int and the one-entry list differ, as in torch: split(x, 4) of 6
    is 4 + 2, split(x, [4]) is an error."""

    def __init__(self) -> None:
        super().__init__(Int(min=0))

    def expected(self, dims: int) -> str:
        return "a non-negative integer (the size of each piece) or a list of them (the size of every piece)"

    def parse(self, value: Any, dims: int) -> int | tuple[int, ...]:  # type: ignore[override]
        if is_int(value):
            return self.item.parse(value, dims)
        return super().parse(value, dims)


class _Pieces(Layer):
    """A cut of the input along `dim` into pieces; the layer is piece `index` (piece 0 when none is chosen)."""

    ops_rule = "none (copies)"
    function: ClassVar[str] = ""  # the torch function, for messages

    # -- the cut, in closed form ---------------------------------------------------------------------------------

    def output_storage(self, step: Backprop) -> str:
        return "input"  # a view of the input (torch.chunk, torch.split)

    def output_contiguous(self, step: Backprop) -> bool:
        full = (step.batch, *self.in_shape)
        return step.contiguous[0] and box_contiguous(full, (step.batch, *self.out_shape))

    def count(self) -> int:
        """How many pieces torch makes along the cut axis."""
        raise NotImplementedError

    def bounds(self, piece: int) -> tuple[int, int]:
        """(offset, length) of piece `piece` (0 <= piece < count) along the cut axis."""
        raise NotImplementedError

    def piece_size_term(self, piece: int) -> Any:
        """The length of `piece` as a formula Term over the axis size (explain)."""
        raise NotImplementedError

    def count_term(self) -> Any:
        """The number of pieces as a formula Term (explain)."""
        return self.pieces_count

    def cut_text(self) -> str:
        """How the axis is cut, for notes: 'chunks=4 of 6'."""
        raise NotImplementedError

    # -- the rules -----------------------------------------------------------------------------------------------

    def setup(self) -> None:
        rank = len(self.in_shape) + 1  # torch sees the batch axis too
        if not -rank <= self.dim < rank:
            raise LayerError(
                f"dim {self.dim} is out of range for an input with {rank} axes (batch axis included): "
                f"valid dims are {-rank} to {rank - 1}",
                arg="dim",
            )
        self.axis = self.dim % rank - 1  # per-sample axis
        if self.axis < 0:
            raise LayerError(
                f"dim {self.dim} is the batch axis: {self.function} there would cut the batch into groups of "
                "samples, not a layer",
                arg="dim",
                hint=f"use dim: 1 (channels, cnncalc's default) or another axis from 1 to {rank - 1}"
                if rank > 1
                else "the input is one value per sample: there is no axis to cut",
            )
        self.size = self.in_shape[self.axis]
        self.check_cut()
        self.pieces_count = self.count()
        self.piece = 0
        if self.index is not None:
            count = self.pieces_count
            if not -count <= self.index < count:
                raise LayerError(
                    f"index {self.index} is out of range: {self.cut_text()} makes {count:,} piece"
                    f"{'s' if count != 1 else ''}, so valid indices are 0 to {count - 1:,} "
                    f"(or {-count:,} to -1, counting from the end)",
                    arg="index",
                )
            self.piece = self.index % count
        self.offset, self.length = self.bounds(self.piece)

    def check_cut(self) -> None:
        """Refuse a cut torch refuses (the axis size is known by now)."""

    def output_shape(self) -> Shape:
        return self.in_shape[: self.axis] + (self.length,) + self.in_shape[self.axis + 1 :]

    @classmethod
    def output_count(cls, arguments: dict[str, Any], in_shapes: tuple[Shape, ...]) -> int | None:
        layer = cls(dict(arguments), in_shapes)  # the layer's own checks and messages
        if layer.index is not None:
            return None
        count = layer.pieces_count
        if count > MAX_PIECES:
            raise LayerError(
                f"{layer.cut_text()} makes {count:,} pieces; cnncalc makes at most {MAX_PIECES:,} layers of one entry",
                arg="index",
                hint="pick the piece you need with index",
            )
        return count

    def window(self) -> tuple[Window, ...] | None:
        if len(self.out_shape) < 2:
            return None
        return tuple(
            Window(0, 1, -self.offset) if axis == self.axis else POINTWISE for axis in range(1, len(self.out_shape))
        )

    def axis_map(self) -> AxisMap | None:
        """Every axis stays where it is; the cut axis is cropped at the piece's offset, also when it is the first
        per-sample axis (which holds a spatial axis after a permute to channels last)."""
        window = self.window()
        if window is None:
            return None
        first = Window(0, 1, -self.offset) if self.axis == 0 else POINTWISE
        return ((0, first), *((axis, w) for axis, w in enumerate(window, start=1)))

    def axis_name(self) -> str:
        return axis_names(len(self.in_shape))[self.axis]

    def positions(self) -> str:
        """Where this piece lies along the cut axis: 'C 0 to 2'."""
        name = self.axis_name()
        if not self.length:
            return f"{name}: none (an empty piece)"
        if self.length == 1:
            return f"{name} {self.offset:,}"
        return f"{name} {self.offset:,} to {self.offset + self.length - 1:,}"

    def explain(self) -> list[tuple[str, Any]]:
        name = self.axis_name()
        return [
            (f"output {name} (PyTorch)", self.piece_size_term(self.piece)),
            ("pieces", self.count_term()),
        ]

    def notes(self) -> list[str]:
        rank, count = len(self.in_shape), self.pieces_count
        notes = [
            f"{self.cut_text()} along {dim_name(self.axis + 1, rank)} makes {count:,} piece{'s' if count != 1 else ''}"
            f"{self.count_detail()}"
        ]
        if self.index is None:
            notes.append(
                f"in a spec, an entry without index makes one layer per piece, NAME.0 to NAME.{count - 1:,}; "
                "later layers read NAME.k"
            )
        else:
            shape = fmt_shape(self.out_shape)
            notes.append(f"this layer is piece {self.piece:,} (index {self.index}): {self.positions()}, {shape}")
        return notes

    def count_detail(self) -> str:
        return ""

    def summary(self) -> str:
        chosen = f" [{self.index}]" if self.index is not None else ""
        return f"{self.cut_summary()} dim {self.axis + 1}{chosen}"

    def cut_summary(self) -> str:
        raise NotImplementedError

    # -- execution ----------------------------------------------------------------------------------------------

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        axis = self.axis + 1  # in the batched tensor
        outer, size, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        start, stop = self.offset * inner, (self.offset + self.length) * inner
        data: list[int] = []
        for block in range(outer):  # every sample (and every position before the axis) keeps its own slice
            at = block * size * inner
            data.extend(x.data[at + start : at + stop])
        shape = x.shape[:axis] + (self.length,) + x.shape[axis + 1 :]
        return Tensor(shape, data, x.denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # The piece's gradient goes back to the positions it was copied from; the rest of the input gets 0.
        (x,) = inputs
        axis = self.axis + 1
        outer, size, inner = prod(x.shape[:axis]), x.shape[axis], prod(x.shape[axis + 1 :])
        start, stop = self.offset * inner, (self.offset + self.length) * inner
        piece = stop - start
        data = [0] * len(x.data)
        for block in range(outer):
            at = block * size * inner
            data[at + start : at + stop] = grad.data[block * piece : (block + 1) * piece]
        return [Tensor(x.shape, data, grad.denominator, grad.approximate)], {}


@register
class Chunk(_Pieces):
    """torch.chunk(x, chunks, dim)[index]."""

    kind = "Chunk"
    function = "torch.chunk"
    arguments = (
        Arg("chunks", Int(min=1), doc="how many pieces to ask for (torch may make fewer: 6 in 4 chunks is 3 of 2)"),
        Arg("dim", Int(), 1, "axis to cut, counting the batch axis as 0 (1 = channels; torch's default 0 is refused)"),
        Arg(
            "index",
            Optional(Int()),
            None,
            "the piece this layer is (x.chunk(...)[index]); none: every piece",
            pytorch=False,
        ),
    )

    def chunk_size(self) -> int:
        return -(-self.size // self.chunks)

    def count(self) -> int:
        if self.size == 0:
            return self.chunks  # torch splits an empty axis into `chunks` empty pieces
        return -(-self.size // self.chunk_size())

    def bounds(self, piece: int) -> tuple[int, int]:
        step = self.chunk_size()
        offset = piece * step
        return offset, min(step, self.size - offset)

    def terms(self) -> tuple[Term, Term]:
        return Term.leaf(self.axis_name(), self.size), Term.leaf("chunks", self.chunks)

    def piece_size_term(self, piece: int) -> Any:
        n, chunks = self.terms()
        if self.size == 0:
            return n
        step = ceil_div(n, chunks)
        if piece < self.pieces_count - 1 or self.size % step.value == 0:
            return step
        return n - Term.leaf("k", piece) * step  # the last piece holds what is left

    def count_term(self) -> Any:
        n, chunks = self.terms()
        return chunks if self.size == 0 else ceil_div(n, ceil_div(n, chunks))

    def cut_text(self) -> str:
        return f"chunks={self.chunks:,} of {self.size:,}"

    def count_detail(self) -> str:
        if self.size == 0:
            return " (an empty axis: every piece is empty)"
        step = self.chunk_size()
        last = self.size - (self.pieces_count - 1) * step
        fewer = f" (fewer than chunks={self.chunks:,})" if self.pieces_count < self.chunks else ""
        rest = "" if last == step else f", the last of {last:,}"
        return f"{fewer} of ceil({self.size:,} / {self.chunks:,}) = {step:,}{rest}"

    def cut_summary(self) -> str:
        return f"chunks={self.chunks}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"chunks": 2, "index": 0}, ((4, 3, 3),)),
            ({"chunks": 2, "index": 1}, ((5, 2, 2),)),  # the last piece is shorter
            ({"chunks": 4, "dim": 2, "index": 2}, ((2, 6, 3),)),  # 3 pieces of 2 along H
            ({"chunks": 3, "dim": -1, "index": -1}, ((2, 2, 7),)),
            ({"chunks": 2}, ((6,),)),
        ]


@register
class Split(_Pieces):
    """torch.split(x, split_size_or_sections, dim)[index]."""

    kind = "Split"
    function = "torch.split"
    arguments = (
        Arg(
            "split_size_or_sections",
            SizeOrSections(),
            doc="the size of each piece (the last may be shorter), or a list with the size of every piece",
        ),
        Arg("dim", Int(), 1, "axis to cut, counting the batch axis as 0 (1 = channels; torch's default 0 is refused)"),
        Arg(
            "index",
            Optional(Int()),
            None,
            "the piece this layer is (torch.split(...)[index]); none: every piece",
            pytorch=False,
        ),
    )

    @property
    def sections(self) -> tuple[int, ...] | None:
        value = self.split_size_or_sections
        return value if isinstance(value, tuple) else None

    def check_cut(self) -> None:
        sections = self.sections
        name = self.axis_name()
        where = f"{dim_name(self.axis + 1, len(self.in_shape))}, of {self.size:,}"
        if sections is None:
            if self.split_size_or_sections == 0 and self.size:
                raise LayerError(
                    f"split_size_or_sections 0 makes pieces of size 0, which only an empty axis allows; {where}",
                    arg="split_size_or_sections",
                    hint=f"give the size of each piece (1 to {self.size:,}) or a list of sizes",
                )
            return
        total = sum(sections)
        if total != self.size:
            raise LayerError(
                f"split_size_or_sections {list(sections)} sums to {total:,}, but the input's {name} "
                f"({where}) has {self.size:,}",
                arg="split_size_or_sections",
                hint=f"give sizes that sum to {self.size:,}",
            )

    def count(self) -> int:
        sections = self.sections
        if sections is not None:
            return len(sections)
        if self.size == 0:
            return 1  # torch makes one empty piece
        return -(-self.size // self.split_size_or_sections)

    def bounds(self, piece: int) -> tuple[int, int]:
        sections = self.sections
        if sections is not None:
            return sum(sections[:piece]), sections[piece]
        offset = piece * self.split_size_or_sections
        return offset, min(self.split_size_or_sections, self.size - offset)

    def piece_size_term(self, piece: int) -> Any:
        sections = self.sections
        if sections is not None:
            return Term.leaf(f"s_{piece}", sections[piece])
        n = Term.leaf(self.axis_name(), self.size)
        split = Term.leaf("split_size", self.split_size_or_sections)
        if self.size == 0:
            return n
        if piece < self.pieces_count - 1 or self.size % self.split_size_or_sections == 0:
            return split
        return n - Term.leaf("k", piece) * split  # the last piece holds what is left

    def count_term(self) -> Any:
        if self.sections is not None or self.size == 0:
            return self.pieces_count
        return ceil_div(Term.leaf(self.axis_name(), self.size), Term.leaf("split_size", self.split_size_or_sections))

    def cut_text(self) -> str:
        sections = self.sections
        if sections is not None:
            return f"split_size_or_sections={list(sections)} of {self.size:,}"
        return f"split_size_or_sections={self.split_size_or_sections:,} of {self.size:,}"

    def count_detail(self) -> str:
        if self.sections is not None:
            return " of the sizes listed"
        if self.size == 0:
            return " (an empty axis: one empty piece)"
        step = self.split_size_or_sections
        last = self.size - (self.pieces_count - 1) * step
        return f" of {step:,}" if last == step else f" of {step:,}, the last of {last:,}"

    def cut_summary(self) -> str:
        sections = self.sections
        if sections is not None:
            return "sections " + "+".join(str(s) for s in sections)
        return f"size {self.split_size_or_sections}"

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"split_size_or_sections": 2, "index": 1}, ((5, 2, 2),)),
            ({"split_size_or_sections": 2, "index": 2}, ((5, 2, 2),)),  # the last piece is shorter
            ({"split_size_or_sections": [1, 3, 2], "index": 1}, ((6, 3),)),
            ({"split_size_or_sections": [2, 1], "dim": 3, "index": 1}, ((2, 2, 3),)),  # along W
            ({"split_size_or_sections": [2, 0, 1], "dim": -2, "index": 1}, ((2, 3, 2),)),  # an empty piece
            ({"split_size_or_sections": 3}, ((4, 2),)),
        ]
