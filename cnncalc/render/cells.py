"""The text of each cell, shared by the terminal table and Markdown (CSV keeps exact raw values)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from cnncalc.analyze import Report, Row
from cnncalc.layers import Shape
from cnncalc.layout import shown
from cnncalc.receptive import ReceptiveField
from cnncalc.units import count, nbytes, rational_text

RF_CAPTION = "RF: receptive field size / effective stride / effective padding, in input pixels"
TRAINING_HEADERS = ("Bwd MACs", "Saved")  # with `summary --training`


class Style(NamedTuple):
    human: bool = False  # 768K instead of 768,000
    compact: bool = False  # narrow terminals: 64x112x112, 7/2/3, the kind without its arguments
    weights: bool = True  # show the Weight column
    kinds: bool = True  # show the Kind column
    layout: str = "chw"  # volumes as C x H x W or H x W x C (weights keep PyTorch's order)


def shape_text(shape: Shape, style: Style) -> str:
    """'20 x 28 x 28' as the lecture tables write volumes; '20x28x28' where space is short."""
    return ("x" if style.compact else " x ").join(str(d) for d in shape)


def per_axis(values: tuple[object, ...]) -> str:
    """One value where every axis has the same, else 'AxB'."""
    first = values[0]
    if all(value == first for value in values):
        return _rational(first)
    return "x".join(_rational(value) for value in values)


def _rational(value: object) -> str:
    return str(value) if type(value) is int else rational_text(value)  # type: ignore[arg-type]


def rf_cell(field: ReceptiveField | None, style: Style = Style()) -> str:
    if field is None:
        return "-"
    return ("/" if style.compact else " / ").join(per_axis(p) for p in (field.size, field.stride, field.padding))


def weight_cell(row: Row, style: Style = Style()) -> str:
    """The 'Weight Size' of the lecture tables: the weight tensor's shape (bias and others counted in params)."""
    if not row.weight_shapes:
        return ""
    name = "weight" if "weight" in row.weight_shapes else next(iter(row.weight_shapes))
    return shape_text(row.weight_shapes[name], style)


def kind_cell(row: Row, style: Style) -> str:
    return row.kind if style.compact else f"{row.kind} {row.summary}".strip()


class Figures(Protocol):
    """The figures a layer's row (analyze.Row) and a block of the tree (tree.Block) both have."""

    @property
    def output_shape(self) -> Shape: ...
    @property
    def params(self) -> int: ...
    @property
    def macs(self) -> int: ...
    @property
    def flops(self) -> int: ...
    @property
    def activation_bytes(self) -> int: ...
    @property
    def backward_macs(self) -> int | None: ...
    @property
    def saved_bytes(self) -> int | None: ...
    @property
    def receptive_field(self) -> ReceptiveField | None: ...


# A figure's text by its column's header: one rule for the flat table, the block tree and diff, layers and blocks.
FIGURE_CELLS: dict[str, Callable[[Figures, Style], str]] = {
    "Output": lambda n, s: shape_text(shown(n.output_shape, s.layout), s),
    "Params": lambda n, s: count(n.params, s.human),
    "MACs": lambda n, s: count(n.macs, s.human),
    "FLOPs": lambda n, s: count(n.flops, s.human),
    "Activations": lambda n, s: nbytes(n.activation_bytes, s.human),
    "Bwd MACs": lambda n, s: count(n.backward_macs, s.human),  # type: ignore[arg-type]
    "Saved": lambda n, s: nbytes(n.saved_bytes, s.human),  # type: ignore[arg-type]
    "RF": lambda n, s: rf_cell(n.receptive_field, s),
}


def figure_cell(header: str, node: Figures, style: Style) -> str:
    """The text of a figure column (not Layer, Kind or Weight) for a layer or a block; shapes in `style.layout`."""
    return FIGURE_CELLS[header](node, style)


Column = tuple[str, Callable[[Row, Style], str]]


def columns(style: Style) -> list[Column]:
    chosen: list[Column] = [
        ("Layer", lambda r, s: r.name),
        ("Kind", kind_cell),
        ("Output", FIGURE_CELLS["Output"]),
        ("Weight", weight_cell),
        *((header, FIGURE_CELLS[header]) for header in ("Params", "MACs", "RF")),
    ]
    left_out = {"Weight": not style.weights, "Kind": not style.kinds}
    return [c for c in chosen if not left_out.get(c[0])]


def row_cells(row: Row, style: Style) -> list[str]:
    return [cell(row, style) for _, cell in columns(style)]


def input_cells(report: Report, style: Style) -> list[str]:
    cells = {"Layer": "input", "Output": shape_text(shown(report.input_shape, style.layout), style)}
    return [cells.get(header, "") for header, _ in columns(style)]
