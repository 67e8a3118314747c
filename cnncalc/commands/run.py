"""`cnncalc run`: the network executed exactly, its output (and gradients)."""

from __future__ import annotations

import typer

from cnncalc.commands.budget_options import MAX_ELEMENTS, MAX_MACS, budget
from cnncalc.commands.common import Mode, RunFormat, interactive, write


def run(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Input values: a YAML or JSON nested list, with or without a batch axis."
    ),
    seed: int = typer.Option(0, "--seed", "-s", help="Seed for generated weights, inputs and dropout masks."),
    mode: Mode = typer.Option(Mode.eval, "--mode", help="PyTorch's eval or train mode (BatchNorm, dropout)."),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    trace: bool = typer.Option(False, "--trace", help="Show every layer's output and the statistics used."),
    backward: bool = typer.Option(
        False, "--backward", help="Also the exact gradients of the sum of the outputs (input and every weight)."
    ),
    grad_output: str | None = typer.Option(
        None, "--grad-output", help="Differentiate sum(G * output) for G from this file instead (implies --backward)."
    ),
    max_macs: str = MAX_MACS,
    max_elements: str = MAX_ELEMENTS,
) -> None:
    """Run the network exactly (pure Python, rational numbers) and print its output.

    Weights come from the spec (a layer's `weights: {state_dict name: nested list}`) or, where not given, from a
    seeded generator of small integers; so does the input without --input. Integers print as integers, other
    rationals as p/q; values through square roots or exponentials are marked approximate (40 digits).

    \b
    Examples:
      cnncalc run specs/lenet5.yaml --seed 1
      cnncalc run net.yaml --input image.yaml --trace
      cnncalc run net.yaml --mode train --format json | jq .output
      cnncalc run specs/conv_gradients.yaml --input specs/inputs/grid_4x4.yaml --backward
    """
    from cnncalc.render.values import render_run_json, render_run_text, run_dict
    from cnncalc.runner import read_input, run_spec
    from cnncalc.spec import load_spec

    if spec == "-" and input == "-":
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once")
    graph = load_spec(spec)
    x, batched = read_input(input, graph) if input is not None else (None, graph.batch > 1)
    execution = run_spec(graph, x, seed, mode.value, budget(max_macs, max_elements), progress=interactive())
    data = run_dict(graph, execution.run, batched, mode.value, seed, trace)
    if backward or grad_output is not None:
        from cnncalc.render.values import grad_dict
        from cnncalc.runner import gradients

        data["grad"] = grad_dict(gradients(graph, execution, grad_output), batched)
    if format is RunFormat.json:
        from cnncalc.render.json_report import versioned

        write(render_run_json(versioned(data)) + "\n")
    else:
        write(render_run_text(data))
