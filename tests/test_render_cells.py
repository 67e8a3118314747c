"""One rule per figure column (cnncalc.render.cells.figure_cell): a layer's figures read the same in the flat
summary table, the block tree (`summary --depth`) and `diff`, and a block's read the same as its row form
(tree.as_row, what `diff --depth` compares), in every style, over shipped specs of both layouts."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import SPECS

from cnncalc.analyze import Report, analyze
from cnncalc.render.cells import FIGURE_CELLS, TRAINING_HEADERS, Style, columns, figure_cell
from cnncalc.render.diff import layer_cell
from cnncalc.render.table import training_columns
from cnncalc.render.tree_cells import TreeRow, tree_cell, tree_headers
from cnncalc.spec import load_spec
from cnncalc.tree import Block, as_row, block_tree, walk
from cnncalc.units import count, nbytes

NAMES = ["lenet5.yaml", "pointwise_hwc.yaml", "resnet50.yaml", "unet.yaml", "mobilenet_v2.yaml"]


@cache
def analyzed(name: str) -> tuple[Report, Block]:
    graph = load_spec(str(SPECS / name))
    report = analyze(graph, optimizer="adam")  # with the training columns
    return report, block_tree(graph, report)


def styles(layout: str) -> list[Style]:
    return [Style(human, compact, layout=layout) for human in (False, True) for compact in (False, True)]


@pytest.mark.parametrize("name", NAMES)
def test_a_layer_reads_the_same_in_every_table(name: str) -> None:
    report, tree = analyzed(name)
    assert report.totals.saved_bytes is not None
    tree_rows = {node.name: TreeRow(node, level, node.name) for node, level, _ in walk(tree) if node in report.rows}
    assert len(tree_rows) == len(report.rows)
    for style in styles(report.layout):
        flat = columns(style) + training_columns(report)
        for row in report.rows:
            cells = {header: cell(row, style) for header, cell in flat}
            for header in set(cells) & set(tree_headers(report)) - {"Layer"}:
                assert tree_cell(header, tree_rows[row.name], style) == cells[header], (row.name, header)
            for header in set(cells) - {"Weight"}:
                assert layer_cell(header, row, style) == cells[header], (row.name, header)


@pytest.mark.parametrize("name", NAMES)
def test_a_block_reads_as_its_row_form(name: str) -> None:
    report, tree = analyzed(name)
    blocks = [tree] + [node for node, _, _ in walk(tree) if isinstance(node, Block)]
    for style in styles(report.layout):
        for block in blocks:
            for header in FIGURE_CELLS:
                assert figure_cell(header, block, style) == figure_cell(header, as_row(block), style)


def test_the_figures_are_the_reports() -> None:
    """The cells say the report's numbers, in the units and layout asked for."""
    report, tree = analyzed("pointwise_hwc.yaml")
    assert report.layout == "hwc"
    row = report.rows[0]
    exact, human = Style(layout="hwc"), Style(human=True, layout="chw")
    shape = row.output_shape  # C x H x W, shown H x W x C
    assert shape[0] != shape[-1] and figure_cell("Output", row, exact) == " x ".join(map(str, [*shape[1:], shape[0]]))
    assert figure_cell("Output", row, human) == " x ".join(map(str, row.output_shape))
    assert figure_cell("Params", row, exact) == f"{row.params:,}"
    assert figure_cell("FLOPs", tree, exact) == f"{2 * tree.macs + tree.other_ops:,}"
    assert figure_cell("Activations", row, exact) == f"{row.activation_bytes:,} B"
    for header, value in zip(TRAINING_HEADERS, (tree.backward_macs, tree.saved_bytes), strict=True):
        assert value is not None
        shown = count(value, True) if header == "Bwd MACs" else nbytes(value, True)
        assert figure_cell(header, tree, human) == shown
