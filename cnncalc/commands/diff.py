"""`cnncalc diff`: what a change did to a network, layer by layer and in total."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import typer

from cnncalc.commands.common import WIDTH, Dtype, input_size, screen, write

if TYPE_CHECKING:
    from cnncalc.graph import Graph


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def diff(
    old: str = typer.Argument(
        ..., help="The spec before the change; '-' reads it from standard input.", show_default=False
    ),
    new: str = typer.Argument(
        ..., help="The spec after the change; '-' reads it from standard input.", show_default=False
    ),
    format: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="Output format.", case_sensitive=False),
    batch: int | None = typer.Option(None, "--batch", "-b", min=1, help="Batch size for both (overrides the specs')."),
    input: list[str] = input_size(
        "Once: both specs at that size; twice: OLD at the first and NEW at the second (what a size change does)."
    ),
    dtype: Dtype = typer.Option(Dtype.float32, "--dtype", help="Element type for memory figures."),
    human: bool = typer.Option(False, "--human", "-H", help="Human units (768K, 4.09G) instead of exact integers."),
    show_all: bool = typer.Option(False, "--all", "-a", help="Also list the unchanged layers."),
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when the networks differ, 0 when they do not (like git diff)."
    ),
    width: int | None = WIDTH,
    depth: int | None = typer.Option(
        None,
        "--depth",
        min=0,
        help="Compare the block trees down to this depth (as summary --depth shows them): blocks by name, with "
        "the sums of their layers. Default: layer by layer.",
        show_default=False,
    ),
) -> None:
    """What a change did to a network: layer-by-layer and total changes in shapes, params, MACs, memory and RF.

    Layers are matched by name: only in OLD is removed, only in NEW added, in both changed when the kind, output
    shape, a figure or the receptive field differs. A renamed layer reads as removed plus added. Exit code 0
    whenever both specs load (with --exit-code: 1 when they differ).

    \b
    Examples:
      cnncalc diff specs/resnet18.yaml specs/resnet50.yaml
      cnncalc diff old.yaml new.yaml --format markdown > comment.md
      git show HEAD~1:net.yaml | cnncalc diff - net.yaml --human
      cnncalc diff old.yaml new.yaml --format json | jq .totals.macs
      cnncalc diff specs/resnet18.yaml specs/resnet50.yaml --depth 1
      cnncalc diff specs/resnet18.yaml specs/resnet18.yaml --input 3x224x224 --input 3x320x320
    """
    from cnncalc.diff import compare
    from cnncalc.sizes import analyzed

    if old == "-" and new == "-":
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once", hint="give at least one of the specs as a file")
    graphs = _graphs(old, new, input, batch)
    reports = [analyzed(graph, dtype=dtype.value) for graph in graphs]
    if depth is not None:
        from cnncalc.tree import block_tree, cut

        reports = [cut(report, block_tree(g, report), depth) for g, report in zip(graphs, reports, strict=True)]
    comparison = compare(*reports)
    if format is DiffFormat.json:
        from cnncalc.render.diff import diff_dict, diff_json

        write(diff_json(diff_dict(comparison, show_all, depth)) + "\n")
    elif format is DiffFormat.markdown:
        from cnncalc.render.diff import render_markdown

        write(render_markdown(comparison, human, show_all, depth))
    else:
        from cnncalc.render.diff import render_diff

        write(render_diff(comparison, human, show_all, screen(width), depth))
    if exit_code and comparison.differs:
        raise typer.Exit(1)


def _graphs(old: str, new: str, inputs: list[str] | None, batch: int | None) -> list[Graph]:
    """OLD and NEW: at their own inputs, both at one --input, or OLD at the first --input and NEW at the second
    (the same spec twice shows what the size changes)."""
    from cnncalc.sizes import graphs_at, parse_shape

    sizes = [parse_shape(text) for text in inputs or []]
    if len(sizes) > 2:
        from cnncalc.errors import UsageError

        raise UsageError(
            f"diff takes --input once (both specs at that size) or twice (OLD at the first, NEW at the second), "
            f"not {len(sizes)} times",
            hint="to compare more sizes side by side: cnncalc summary SPEC --input A --input B --input C",
        )
    pairs = [sizes, sizes] if len(sizes) < 2 else [sizes[:1], sizes[1:]]
    return [graphs_at(path, at, batch)[0] for path, at in zip((old, new), pairs, strict=True)]
