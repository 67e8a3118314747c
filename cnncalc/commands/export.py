"""`cnncalc export`: the spec's network as readable PyTorch source."""

from __future__ import annotations

import typer

from cnncalc.commands.common import write, write_file


def export(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the Python module here (default: standard output).", show_default=False
    ),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Use this input size instead of the spec's, e.g. 3x32x32.", show_default=False
    ),
) -> None:
    """Write the network as PyTorch source that needs only torch: one nn.Module class per block, build_model().

    Layers keep the spec's names as module paths (dotted names become nested modules, as in torchvision), so the
    state_dict keys are the spec's names and the shapes are cnncalc's: a spec written with torchvision's module
    names loads torchvision's weights with strict=True. build_model() returns the network in eval mode, with the
    spec's `weights` loaded where it gives them.

    \b
    Examples:
      cnncalc export specs/resnet18.yaml -o resnet18.py
      python -c "import resnet18; print(resnet18.build_model())"
      cnncalc export specs/unet.yaml --input 1x64x64 > unet.py
    """
    from cnncalc.bridges.to_torch import export_source
    from cnncalc.spec import load_spec

    graph = load_spec(spec)
    if input:  # written in the spec's layout, like its `input`; expanded again: expressions may read the shape
        from cnncalc.layout import to_chw
        from cnncalc.runner import parse_shape
        from cnncalc.spec import at_input

        graph = at_input(graph, to_chw(parse_shape(input), graph.layout))
    command = "cnncalc export " + spec + (f" --input {input}" if input else "") + (f" -o {output}" if output else "")
    source = export_source(graph, spec, command)
    if output is None or output == "-":
        write(source)
    else:
        write_file(output, source)
