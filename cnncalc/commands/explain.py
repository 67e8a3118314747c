"""`cnncalc explain`: how every figure of `summary` is derived."""

from __future__ import annotations

import typer

from cnncalc.commands.common import Dtype, Layout, RunFormat, input_size, write


def explain(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    layer: list[str] = typer.Option(
        None,
        "--layer",
        "-l",
        help="Only this layer, or every layer of this block use or repeat (layer1, layer1.0); repeatable.",
        show_default=False,
    ),
    layout: Layout | None = typer.Option(None, "--layout", help="Print volumes as C x H x W or H x W x C."),
    format: RunFormat = typer.Option(
        RunFormat.table,
        "--format",
        "-f",
        help="Text, or JSON (formulas with symbols, numbers and value).",
        case_sensitive=False,
    ),
    training: bool = typer.Option(
        False, "--training", help="Also what each layer saves for backward and its backward MAC terms."
    ),
    batch: int | None = typer.Option(None, "--batch", "-b", min=1, help="Batch size (with --training)."),
    input: list[str] = input_size(),
    dtype: Dtype = typer.Option(Dtype.float32, "--dtype", help="Element type of saved memory (with --training)."),
) -> None:
    """How every figure of `summary` is derived, layer by layer.

    Output size (PyTorch's form and the lectures'), parameters, MACs and other ops, receptive field from the
    previous layer, with the numbers substituted; notes on normalization, dropout and foldable BatchNorms.
    Figures are per sample.

    \b
    Examples:
      cnncalc explain specs/lenet5.yaml
      cnncalc explain specs/resnet18.yaml --layer conv1 --layer bn1
      cnncalc explain specs/resnet18.yaml --layer layer2.first
      cnncalc explain specs/lenet5.yaml --format json | jq '.layers[0].formulas'
      cnncalc explain specs/resnet18.yaml --layer layer1.0 --training --batch 32
      cnncalc explain specs/lenet5_bn.yaml --layer conv1 --input 1x32x32
    """
    from cnncalc.render.explain import explain_text
    from cnncalc.sizes import analyzed, graphs_at, one_size, size_noted

    size = one_size(input, "explain")
    graph = graphs_at(spec, [size] if size else [], batch)[0]
    # A block use's name selects all of its layers (graph.select), each once, in the network's order.
    names = list(dict.fromkeys(node.name for name in layer or [] for node in graph.select(name)))
    report = analyzed(graph, dtype=dtype.value, layout=layout.value if layout else None)
    train = None
    if training:
        from cnncalc.analyze import dtype_bytes
        from cnncalc.training import training as training_figures

        with size_noted(graph):
            train = training_figures(graph, dtype_bytes(dtype.value))
    if format is RunFormat.json:
        from cnncalc.render.explain import explain_dict
        from cnncalc.render.json_report import object_text

        write(object_text(explain_dict(graph, report, names, train)) + "\n")
    else:
        write(explain_text(graph, report, names, train))
