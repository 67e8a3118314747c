"""`cnncalc report`: one self-contained HTML page of a spec (docs/report.md)."""

from __future__ import annotations

import typer

from cnncalc.commands.common import Dtype, Layout, write, write_file
from cnncalc.commands.summary import Optimizer


def report(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    output: str | None = typer.Option(
        None, "--output", "-o", help="The HTML file to write (default: standard output).", show_default=False
    ),
    batch: int | None = typer.Option(None, "--batch", "-b", min=1, help="Batch size (overrides the spec's 'batch')."),
    dtype: Dtype = typer.Option(Dtype.float32, "--dtype", help="Element type for memory figures."),
    layout: Layout | None = typer.Option(
        None, "--layout", help="Shapes as C x H x W or H x W x C (default: the spec's 'layout', else chw)."
    ),
    optimizer: Optimizer = typer.Option(
        Optimizer.adam, "--optimizer", help="Optimizer whose state the training memory counts."
    ),
) -> None:
    """Write one HTML page of a spec that works offline: totals, the block tree (expand and collapse), bars per
    layer for MACs, params, activation and saved memory, receptive fields, the layer graph with shapes on its
    edges, warnings and lint findings.

    Its numbers are those of `summary --format json --training` (embedded in the page). Networks of more than 400
    layers are drawn with their blocks closed.

    \b
    Examples:
      cnncalc report specs/resnet50.yaml -o resnet50.html
      cnncalc report specs/unet.yaml --batch 8 --optimizer sgd -o unet.html
    """
    from cnncalc.analyze import analyze
    from cnncalc.report.data import page_data
    from cnncalc.report.html import render_page
    from cnncalc.spec import load_spec
    from cnncalc.tree import block_tree

    graph = load_spec(spec, batch=batch)
    analysis = analyze(graph, dtype=dtype.value, layout=layout.value if layout else None, optimizer=optimizer.value)
    page = render_page(page_data(graph, analysis, block_tree(graph, analysis)))
    if output is None or output == "-":
        write(page)
    else:
        write_file(output, page)
