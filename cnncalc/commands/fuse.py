"""`cnncalc fuse`: eval-mode BatchNorm folded into the layer before it."""

from __future__ import annotations

import sys

import typer

from cnncalc.budget import DEFAULT_MAX_ELEMENTS, parse_budget, units_up
from cnncalc.commands.common import RunFormat, write


def fuse(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    output: str = typer.Option(
        ...,
        "--output",
        "-o",
        help="Write the fused spec (YAML) here; '-' writes it to standard output (the report to standard error).",
        show_default=False,
    ),
    seed_weights: int | None = typer.Option(
        None,
        "--seed-weights",
        help="Fold the values `cnncalc run --seed N` uses (the spec's where given, else seeded) and write every "
        "layer's values, so the fused spec runs and compares.",
        show_default=False,
    ),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Use this input size instead of the spec's, e.g. 3x32x32.", show_default=False
    ),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format of the report."),
    max_elements: str = typer.Option(
        units_up(DEFAULT_MAX_ELEMENTS),
        "--max-elements",
        metavar="COUNT",
        help="With --seed-weights, refuse networks with more weights and buffers than this (50M, 1G).",
    ),
) -> None:
    """Fold eval-mode BatchNorm into the conv or linear layer before it, and report the savings.

    Every BatchNorm that follows a conv or linear layer (its only reader) folds into it for inference:
    w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.

    The fused spec is the network as a flat list of layers with their names and inputs. Values are folded where
    the spec gives them, or all of them with --seed-weights; exactly where var + eps is the square of a rational,
    else to 40 significant digits. The report lists the pairs folded and the params, buffers and FLOPs saved.
    Nothing to fold is not an error: the spec is written unchanged (flattened) and the report says so.

    \b
    Examples:
      cnncalc fuse specs/resnet18.yaml -o resnet18_fused.yaml
      cnncalc fuse specs/lenet5_bn.yaml --seed-weights 1 -o fused.yaml && cnncalc run fused.yaml --seed 1
      cnncalc fuse specs/resnet18.yaml -o fused.yaml --format json | jq .saved
    """
    from cnncalc.analyze import analyze
    from cnncalc.errors import UsageError
    from cnncalc.fuse import fuse as fuse_graph
    from cnncalc.fuse import report_dict, report_text, spec_lines, spec_text
    from cnncalc.render.json_report import object_text, versioned
    from cnncalc.spec import load_spec, parse_spec

    graph = load_spec(spec)
    if input:  # written in the spec's layout, like its `input`; the spec is read once ('-' too) and expanded again
        from cnncalc.layout import to_chw
        from cnncalc.runner import parse_shape
        from cnncalc.spec import at_input

        graph = at_input(graph, to_chw(parse_shape(input), graph.layout))
    fusion = fuse_graph(graph, seed_weights, parse_budget("--max-elements", max_elements))
    # The figures come from the analyzer on the fused spec itself (its values do not change them).
    fused = parse_spec(spec_text(fusion, with_weights=False), output)
    data = report_dict(fusion, analyze(graph), analyze(fused), output)
    report = object_text(versioned(data)) + "\n" if format is RunFormat.json else report_text(data)
    if output == "-":
        write("".join(line + "\n" for line in spec_lines(fusion)))
        sys.stderr.write(report)
        return
    try:
        with open(output, "w", encoding="utf-8") as file:
            for line in spec_lines(fusion):
                file.write(line + "\n")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None
    write(report)
