"""`cnncalc verify`: the analyzers checked by execution, layer by layer."""

from __future__ import annotations

import typer

from cnncalc.commands.budget_options import MAX_ELEMENTS, MAX_MACS, budget
from cnncalc.commands.common import WIDTH, Mode, RunFormat, interactive, screen, write


def verify(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Run at this input size instead of the spec's, e.g. 3x32x32.", show_default=False
    ),
    seed: int = typer.Option(0, "--seed", "-s", help="Seed for the generated weights and input."),
    mode: Mode = typer.Option(Mode.eval, "--mode", help="PyTorch's eval or train mode."),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    max_macs: str = MAX_MACS,
    max_elements: str = MAX_ELEMENTS,
    width: int | None = WIDTH,
) -> None:
    """Check the analyzers by execution, layer by layer.

    Per layer, the executed shape, the multiplies really performed and the weights really read must equal what
    `summary` reports. Exit 0 only when every layer agrees.

    \b
    Examples:
      cnncalc verify specs/lenet5.yaml
      cnncalc verify specs/resnet50.yaml --input 3x32x32
    """
    from cnncalc.render.values import verify_dict
    from cnncalc.runner import parse_shape
    from cnncalc.runner import verify as verify_graph
    from cnncalc.spec import load_spec

    graph = load_spec(spec)
    if input:  # a shape on the command line is written in the spec's layout, like its `input`
        from cnncalc.layout import to_chw

        graph = load_spec(spec, input_shape=to_chw(parse_shape(input), graph.layout))
    checks = verify_graph(graph, seed, mode.value, budget(max_macs, max_elements), progress=interactive())
    data = verify_dict(graph, checks)
    if format is RunFormat.json:
        from cnncalc.render.json_report import object_text, versioned

        write(object_text(versioned(data)) + "\n")
    else:
        from cnncalc.render.table import render_verify

        write(render_verify(data, screen(width)))
    if not data["ok"]:
        raise typer.Exit(1)
