"""`cnncalc graph`: the layer graph as Mermaid, DOT or JSON."""

from __future__ import annotations

import sys
from enum import Enum

import typer

from cnncalc.commands.common import Layout, input_size, write


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


class Direction(str, Enum):
    TB = "TB"
    LR = "LR"


def graph(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    format: GraphFormat = typer.Option(
        GraphFormat.mermaid, "--format", "-f", help="Mermaid, Graphviz DOT or JSON.", case_sensitive=False
    ),
    layout: Layout | None = typer.Option(
        None, "--layout", help="Shapes as C x H x W or H x W x C (default: the spec's 'layout', else chw)."
    ),
    direction: Direction = typer.Option(
        Direction.TB, "--direction", "-d", help="Top to bottom or left to right.", case_sensitive=False
    ),
    figures: bool = typer.Option(False, "--figures", help="Also each layer's params and MACs (human units)."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Wrap the output in a fenced code block (```mermaid renders on GitHub)."
    ),
    input: list[str] = input_size(),
) -> None:
    """Draw the layer graph: one node per layer, the tensor's shape on every edge, blocks as boxes.

    Mermaid renders in GitHub Markdown (paste it into a ```mermaid fence, or use --markdown); DOT is for
    Graphviz; JSON lists the nodes and edges.

    \b
    Examples:
      cnncalc graph specs/lenet5.yaml
      cnncalc graph specs/resnet18.yaml --markdown >> README.md
      cnncalc graph specs/unet.yaml --format dot | dot -Tsvg > unet.svg
      cnncalc graph specs/resnet50.yaml --format json | jq '.edges | length'
      cnncalc graph specs/unet.yaml --input 1x64x64
    """
    from cnncalc.render import graph as draw
    from cnncalc.sizes import analyzed, graphs_at, one_size

    size = one_size(input, "graph")
    loaded = graphs_at(spec, [size] if size else [])[0]
    data = draw.graph_dict(loaded, analyzed(loaded, layout=layout.value if layout else None))
    if format is GraphFormat.json:
        text = draw.graph_json(data)
    elif format is GraphFormat.dot:
        text = draw.render_dot(data, direction.value, figures)
    else:
        text = draw.render_mermaid(data, direction.value, figures)
        for warning in draw.mermaid_warnings(text, data):
            sys.stderr.write(f"warning: {warning}\n")
    write(f"```{format.value}\n{text}```\n" if markdown else text)
