"""The rows of `summary --depth N` (cnncalc.tree cut at a depth) and their cells, shared by the terminal table,
Markdown and CSV: one row per layer and per block, a block's row above the rows indented under it."""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.analyze import Report
from cnncalc.layout import shown
from cnncalc.render.cells import TRAINING_HEADERS, Style, figure_cell, kind_cell, shape_text
from cnncalc.tree import Block, Node, block_kind, label, walk

TREE_HEADERS = ("Layer", "Kind", "Output", "Params", "MACs", "FLOPs", "Activations", "RF")
TREE_NUMERIC = ("Params", "MACs", "FLOPs", "Activations", *TRAINING_HEADERS)
INDENT = "  "  # per level below the top
TREE_CAPTION = "A block's figures are the sums of all its layers; its output and RF, those of its last layer."


class TreeRow(NamedTuple):
    node: Node
    depth: int  # 0: the network (the root), 1: a top-level entry
    label: str  # its name under its parent's

    @property
    def is_block(self) -> bool:
        return isinstance(self.node, Block)


def tree_headers(report: Report) -> tuple[str, ...]:
    """The tree's columns: the training figures' too when the report has them."""
    return TREE_HEADERS + (TRAINING_HEADERS if report.totals.saved_bytes is not None else ())


def tree_rows(root: Block, depth: int) -> list[TreeRow]:
    """The rows down to `depth`: the root alone at depth 0, else every node down to it, blocks at `depth` closed."""
    if depth == 0:
        return [TreeRow(root, 0, root.name)]
    return [TreeRow(node, level, label(node, parent)) for node, level, parent in walk(root, depth)]


def tree_cell(header: str, row: TreeRow, style: Style) -> str:
    node = row.node
    if header == "Layer":
        return INDENT * max(row.depth - 1, 0) + row.label
    if header == "Kind":
        return block_kind(node) if isinstance(node, Block) else kind_cell(node, style)
    return figure_cell(header, node, style)


def tree_input_cells(report: Report, style: Style, headers: tuple[str, ...]) -> list[str]:
    cells = {"Layer": "input", "Output": shape_text(shown(report.input_shape, style.layout), style)}
    return [cells.get(header, "") for header in headers]


def depth_line(depth: int, deepest: int) -> str:
    """How deep the table goes, and how to see more."""
    if depth >= deepest:
        return f"Depth {depth}: every block open (the tree is {deepest} deep)."
    return f"Depth {depth} of {deepest}: --depth {depth + 1} shows one level more."
