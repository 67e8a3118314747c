"""`cnncalc summary`: the layer table with totals (or JSON, CSV, Markdown)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import typer

from cnncalc.commands.common import WIDTH, Dtype, Format, Layout, input_size, screen, write

if TYPE_CHECKING:
    from cnncalc.analyze import Report
    from cnncalc.graph import Graph


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"


def summary(
    specs: list[str] = typer.Argument(
        ..., help="Spec files (YAML); '-' reads one from standard input.", show_default=False
    ),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format.", case_sensitive=False),
    batch: int | None = typer.Option(None, "--batch", "-b", min=1, help="Batch size (overrides the spec's 'batch')."),
    input: list[str] = input_size(
        "Repeat it to compare sizes: a row per size (output, params, MACs, FLOPs, activations, final RF); JSON: "
        "an array of reports, one per size."
    ),
    dtype: Dtype = typer.Option(Dtype.float32, "--dtype", help="Element type for memory figures."),
    human: bool = typer.Option(False, "--human", "-H", help="Human units (768K, 4.09G) instead of exact integers."),
    layout: Layout | None = typer.Option(
        None, "--layout", help="Print volumes as C x H x W or H x W x C (default: the spec's 'layout', else chw)."
    ),
    width: int | None = WIDTH,
    depth: int | None = typer.Option(
        None,
        "--depth",
        min=0,
        help="The block tree down to this depth: a row per block use and repeat (with the sums of its layers) "
        "and per layer above it; 0: the network alone. Default: one row per layer.",
        show_default=False,
    ),
    training: bool = typer.Option(
        False, "--training", help="Add backward MACs, bytes saved for backward and a training step's memory."
    ),
    optimizer: Optimizer | None = typer.Option(
        None,
        "--optimizer",
        help="Optimizer whose state the training memory counts (default adam); implies --training.",
        show_default=False,
    ),
) -> None:
    """Layer-by-layer table of output shapes, weights, parameters, MACs and receptive fields, with totals.

    \b
    Examples:
      cnncalc summary specs/lenet5.yaml
      cnncalc summary specs/resnet50.yaml --format json | jq .totals.macs
      cnncalc summary specs/resnet50.yaml --depth 1
      cnncalc summary specs/vgg16.yaml --batch 32 --dtype float16 --human
      cnncalc summary specs/resnet18.yaml --training --optimizer sgd
      cnncalc summary specs/resnet50.yaml --input 3x224x224 --input 3x320x320
      cat net.yaml | cnncalc summary -
    """
    from cnncalc.sizes import analyzed, graphs_at, parse_sizes

    if specs.count("-") > 1:
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once")
    sizes = parse_sizes(input)
    if len(sizes) > 1 and depth is not None and format is not Format.json:
        from cnncalc.errors import UsageError

        raise UsageError(
            "--depth shows one size's block tree; with several --input sizes the table has a row per size",
            hint="give one --input with --depth, or --format json (a report per size, each with its tree)",
        )
    shapes = layout.value if layout else None
    trained = (optimizer or Optimizer.adam).value if training or optimizer else None
    if sizes:  # each spec is expanded again at each size: its document is kept for that
        graphs = [graph for path in specs for graph in graphs_at(path, sizes, batch)]
    else:  # nothing reads a spec again: its document is let go as its graph is built (peak memory of large specs)
        from cnncalc.spec import load_spec

        graphs = [load_spec(path, batch=batch, keep_document=False) for path in specs]
    reports = [analyzed(graph, dtype=dtype.value, layout=shapes, optimizer=trained) for graph in graphs]
    if len(sizes) > 1 and format is not Format.json:
        _write_sizes(graphs, reports, len(sizes), format, human, width)
        return
    trees = None
    if depth is not None or format is Format.json:  # JSON always has the tree (`blocks`)
        from cnncalc.tree import block_tree

        trees = [block_tree(graph, report) for graph, report in zip(graphs, reports, strict=True)]
    if format is Format.json:
        import sys

        from cnncalc.render.json_report import write_json

        graphs.clear()  # the reports and trees hold what is written: a large graph's memory goes to the writing
        write_json(sys.stdout, reports, trees, depth)  # streamed: a million layers make a gigabyte of JSON
        write("\n")
    elif format is Format.csv:
        from cnncalc.render.flat import render_csv

        write(render_csv(reports, trees, depth))
    elif format is Format.markdown:
        from cnncalc.render.flat import render_markdown

        write(render_markdown(reports, human, trees, depth))
    else:
        from cnncalc.render.table import render_tables

        write(render_tables(reports, human, screen(width), trees, depth))


def _write_sizes(
    graphs: list[Graph], reports: list[Report], per_spec: int, format: Format, human: bool, width: int | None
) -> None:
    """Several --input sizes: a table per spec with a row per size (cnncalc.render.sizes)."""
    from cnncalc.render import sizes as render
    from cnncalc.sizes import size_figures

    figures = [size_figures(graph, report) for graph, report in zip(graphs, reports, strict=True)]
    specs = [figures[start : start + per_spec] for start in range(0, len(figures), per_spec)]
    if format is Format.csv:
        write(render.render_sizes_csv(specs))
    elif format is Format.markdown:
        write(render.render_sizes_markdown(specs, human))
    else:
        write(render.render_sizes_table(specs, human, screen(width)))
