"""`cnncalc summary`: the layer table with totals (or JSON, CSV, Markdown)."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.commands.common import WIDTH, Dtype, Format, Layout, screen, write


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
      cat net.yaml | cnncalc summary -
    """
    from cnncalc.analyze import analyze
    from cnncalc.spec import load_spec

    if specs.count("-") > 1:
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once")
    shapes = layout.value if layout else None
    trained = (optimizer or Optimizer.adam).value if training or optimizer else None
    graphs = [load_spec(path, batch=batch) for path in specs]
    reports = [analyze(graph, dtype=dtype.value, layout=shapes, optimizer=trained) for graph in graphs]
    trees = None
    if depth is not None or format is Format.json:  # JSON always has the tree (`blocks`)
        from cnncalc.tree import block_tree

        trees = [block_tree(graph, report) for graph, report in zip(graphs, reports, strict=True)]
    if format is Format.json:
        import sys

        from cnncalc.render.json_report import write_json

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
