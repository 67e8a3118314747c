"""`cnncalc layer`: one layer without a spec, each figure with its formula."""

from __future__ import annotations

import typer

from cnncalc.commands.common import Layout, RunFormat, named_values, write
from cnncalc.errors import CnncalcError


def layer(
    kind: str = typer.Argument(
        ..., help="A layer kind, as in specs: conv2d, maxpool2d, linear, ...", show_default=False
    ),
    arguments: list[str] = typer.Argument(
        None, help="The layer's arguments as NAME=VALUE (YAML values).", show_default=False
    ),
    input: list[str] = typer.Option(
        ...,
        "--input",
        "-i",
        help="The input shape of one sample, e.g. 3x32x32; once per input for a layer with several (matmul).",
        show_default=False,
    ),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    layout: Layout = typer.Option(Layout.chw, "--layout", help="How --input is written and shapes are printed."),
) -> None:
    """One layer without a spec, each figure with its formula and numbers.

    Output shape, weights, params, MACs, other ops and receptive field, each with the formula behind it and the
    numbers substituted, plus notes (statistics axes, train vs eval). A kind with several outputs (chunk, split
    without index) lists every output with its shape.

    \b
    Examples:
      cnncalc layer conv2d --input 3x32x32 out_channels=10 kernel_size=5 padding=2
      cnncalc layer maxpool2d --input 20x28x28 kernel_size=2 stride=2
      cnncalc layer conv2d --input 64x64x16 --layout hwc out_channels=32 kernel_size=1 --format json
      cnncalc layer chunk --input 6x4x4 chunks=2 dim=1
      cnncalc layer matmul --input 10x64 --input 64x10
    """
    from cnncalc.layers import make_layer
    from cnncalc.layout import to_chw
    from cnncalc.render.layer import layer_dict, layer_text
    from cnncalc.sizes import parse_shape

    values = named_values(arguments or [])
    try:
        shapes = tuple(to_chw(parse_shape(shape), layout.value) for shape in input)
        built = make_layer(kind, values, *shapes)
        # An entry with several outputs (chunk, split without index): every output, as the spec would make them.
        count = type(built).output_count(values, shapes)
        pieces = None if count is None else [make_layer(kind, {**values, "index": k}, *shapes) for k in range(count)]
    except CnncalcError as error:
        error.layer = error.layer or kind
        if getattr(error, "arg", None) == "inputs" and error.hint is None:
            error.hint = "give --input once per input of the layer, in order: --input 3x4 --input 4x2"
        raise
    data = layer_dict(built, layout.value, pieces)
    if format is RunFormat.json:
        from cnncalc.render.json_report import object_text, versioned

        write(object_text(versioned(data)) + "\n")
    else:
        write(layer_text(data))
