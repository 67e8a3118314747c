"""The command line: a thin layer over the library (spec -> graph -> report -> renderer).

Exit codes: 0 success; 1 a check failed (budgets, `cnncalc check`); 2 usage errors and invalid or unreadable specs.
Modules are imported inside commands so that a JSON run never imports rich (startup time is a feature).
"""

from __future__ import annotations

import sys
from enum import Enum

import typer

from cnncalc import __version__
from cnncalc.errors import CnncalcError

app = typer.Typer(
    name="cnncalc",
    help="Exact shapes, parameters, MACs and receptive fields of convolutional networks, from a YAML spec.\n\n"
    "Example: cnncalc summary specs/lenet5.yaml",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Layout(str, Enum):
    chw = "chw"
    hwc = "hwc"


class Dtype(str, Enum):
    float64 = "float64"
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    float8 = "float8"
    int64 = "int64"
    int32 = "int32"
    int16 = "int16"
    int8 = "int8"
    uint8 = "uint8"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Exact shapes, parameters, MACs and receptive fields of convolutional networks, from a YAML spec.

    Counting conventions: MACs are the multiply-accumulates of conv, transposed conv and linear inner products
    (bias excluded); FLOPs = 2 x MACs + every other arithmetic operation. Shapes are per sample (C x H x W).
    """


@app.command()
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
) -> None:
    """Layer-by-layer table of output shapes, weights, parameters, MACs and receptive fields, with totals.

    \b
    Examples:
      cnncalc summary specs/lenet5.yaml
      cnncalc summary specs/resnet50.yaml --format json | jq .totals.macs
      cnncalc summary specs/vgg16.yaml --batch 32 --dtype float16 --human
      cat net.yaml | cnncalc summary -
    """
    from cnncalc.analyze import analyze
    from cnncalc.spec import load_spec

    if specs.count("-") > 1:
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once")
    shapes = layout.value if layout else None
    reports = [analyze(load_spec(path, batch=batch), dtype=dtype.value, layout=shapes) for path in specs]
    if format is Format.json:
        from cnncalc.render.json_report import render_json

        _write(render_json(reports) + "\n")
    elif format is Format.csv:
        from cnncalc.render.flat import render_csv

        _write(render_csv(reports))
    elif format is Format.markdown:
        from cnncalc.render.flat import render_markdown

        _write(render_markdown(reports, human))
    else:
        from cnncalc.render.table import print_tables

        print_tables(reports, _console(), human)


class Mode(str, Enum):
    eval = "eval"
    train = "train"


class RunFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
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
    max_macs: int = typer.Option(50_000_000, "--max-macs", min=1, help="Refuse runs above this many MACs."),
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
    execution = run_spec(graph, x, seed, mode.value, max_macs, progress=_interactive())
    data = run_dict(graph, execution.run, batched, mode.value, seed, trace)
    if backward or grad_output is not None:
        from cnncalc.render.values import grad_dict
        from cnncalc.runner import gradients

        data["grad"] = grad_dict(gradients(graph, execution, grad_output), batched)
    _write(render_run_json(data) + "\n" if format is RunFormat.json else render_run_text(data))


@app.command()
def verify(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    input: str | None = typer.Option(
        None, "--input", "-i", help="Run at this input size instead of the spec's, e.g. 3x32x32.", show_default=False
    ),
    seed: int = typer.Option(0, "--seed", "-s", help="Seed for the generated weights and input."),
    mode: Mode = typer.Option(Mode.eval, "--mode", help="PyTorch's eval or train mode."),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    max_macs: int = typer.Option(50_000_000, "--max-macs", min=1, help="Refuse runs above this many MACs."),
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
    checks = verify_graph(graph, seed, mode.value, max_macs, progress=_interactive())
    data = verify_dict(graph, checks)
    if format is RunFormat.json:
        from cnncalc.render.json_report import object_text

        _write(object_text(data) + "\n")
    else:
        from cnncalc.render.table import print_verify

        print_verify(data, _console())
    if not data["ok"]:
        raise typer.Exit(1)


@app.command()
def layer(
    kind: str = typer.Argument(
        ..., help="A layer kind, as in specs: conv2d, maxpool2d, linear, ...", show_default=False
    ),
    arguments: list[str] = typer.Argument(
        None, help="The layer's arguments as NAME=VALUE (YAML values).", show_default=False
    ),
    input: str = typer.Option(
        ..., "--input", "-i", help="The input shape of one sample, e.g. 3x32x32.", show_default=False
    ),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    layout: Layout = typer.Option(Layout.chw, "--layout", help="How --input is written and shapes are printed."),
) -> None:
    """One layer without a spec, each figure with its formula and numbers.

    Output shape, weights, params, MACs, other ops and receptive field, each with the formula behind it and the
    numbers substituted, plus notes (statistics axes, train vs eval).

    \b
    Examples:
      cnncalc layer conv2d --input 3x32x32 out_channels=10 kernel_size=5 padding=2
      cnncalc layer maxpool2d --input 20x28x28 kernel_size=2 stride=2
      cnncalc layer conv2d --input 64x64x16 --layout hwc out_channels=32 kernel_size=1 --format json
    """
    from cnncalc.layers import make_layer
    from cnncalc.layout import to_chw
    from cnncalc.render.layer import layer_dict, layer_text
    from cnncalc.runner import parse_shape

    values = _named_values(arguments or [])
    try:
        built = make_layer(kind, values, to_chw(parse_shape(input), layout.value))
    except CnncalcError as error:
        error.layer = error.layer or kind
        raise
    data = layer_dict(built, layout.value)
    if format is RunFormat.json:
        from cnncalc.render.json_report import object_text

        _write(object_text(data) + "\n")
    else:
        _write(layer_text(data))


@app.command()
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
    from cnncalc.render.json_report import object_text
    from cnncalc.spec import load_spec, parse_spec

    graph = load_spec(spec)
    if input:  # written in the spec's layout, like its `input`; the spec is read once ('-' too)
        from cnncalc.graph import infer_shapes
        from cnncalc.layout import to_chw
        from cnncalc.runner import parse_shape

        graph.input_shape = to_chw(parse_shape(input), graph.layout)
        infer_shapes(graph)
    fusion = fuse_graph(graph, seed_weights)
    # The figures come from the analyzer on the fused spec itself (its values do not change them).
    fused = parse_spec(spec_text(fusion, with_weights=False), output)
    data = report_dict(fusion, analyze(graph), analyze(fused), output)
    report = object_text(data) + "\n" if format is RunFormat.json else report_text(data)
    if output == "-":
        _write("".join(line + "\n" for line in spec_lines(fusion)))
        sys.stderr.write(report)
        return
    try:
        with open(output, "w", encoding="utf-8") as file:
            for line in spec_lines(fusion):
                file.write(line + "\n")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror}") from None
    _write(report)


def _named_values(arguments: list[str]) -> dict[str, object]:
    """NAME=VALUE pairs, each value read as YAML (5, [3, 5], same, true)."""
    import yaml

    from cnncalc.errors import UsageError

    values: dict[str, object] = {}
    for text in arguments:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise UsageError(f"expected NAME=VALUE, got {text!r}", hint="for example kernel_size=5 or padding=same")
        try:
            values[name.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise UsageError(f"{name}: cannot read the value {value!r}") from None
    return values


@app.command()
def explain(
    spec: str = typer.Argument(..., help="Spec file (YAML); '-' reads it from standard input.", show_default=False),
    layer: list[str] = typer.Option(None, "--layer", "-l", help="Only this layer (repeatable).", show_default=False),
    layout: Layout | None = typer.Option(None, "--layout", help="Print volumes as C x H x W or H x W x C."),
) -> None:
    """How every figure of `summary` is derived, layer by layer.

    Output size (PyTorch's form and the lectures'), parameters, MACs and other ops, receptive field from the
    previous layer, with the numbers substituted; notes on normalization, dropout and foldable BatchNorms.

    \b
    Examples:
      cnncalc explain specs/lenet5.yaml
      cnncalc explain specs/resnet18.yaml --layer conv1 --layer bn1
    """
    from cnncalc.analyze import analyze
    from cnncalc.render.explain import explain_text
    from cnncalc.spec import load_spec

    graph = load_spec(spec)
    for name in layer or []:
        if name not in graph.by_name:
            from cnncalc.args import did_you_mean
            from cnncalc.errors import UsageError

            raise UsageError(f"{graph.name} has no layer named '{name}'", hint=did_you_mean(name, list(graph.by_name)))
    report = analyze(graph, layout=layout.value if layout else None)
    _write(explain_text(graph, report, list(layer or [])))


@app.command()
def kinds() -> None:
    """List the layer kinds with their arguments, PyTorch defaults and how their other ops are counted."""
    from cnncalc.args import REQUIRED
    from cnncalc.layers import REGISTRY

    lines = []
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind.lower()):
        args = []
        for arg in cls.arguments:
            if arg.inferred:
                args.append(f"{arg.name}=(inferred)")
            elif arg.default is REQUIRED:
                args.append(arg.name)
            else:
                args.append(f"{arg.name}={arg.default!r}")
        lines.append(f"{cls.kind}({', '.join(args)})")
        lines.append(f"    other ops: {cls.ops_rule}")
    _write("\n".join(lines) + "\n")


def _console():  # type: ignore[no-untyped-def]
    """rich decides colour and width from the terminal; NO_COLOR (non-empty) removes every escape code, as rich
    alone would keep bold and italic."""
    import os

    from rich.console import Console

    return Console(color_system=None) if os.environ.get("NO_COLOR") else Console()


def _interactive() -> bool:
    """Progress bars only where a person watches (standard error is a terminal)."""
    return sys.stderr.isatty()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main() -> None:
    try:
        app()
    except CnncalcError as error:
        sys.stderr.write(error.render() + "\n")
        sys.exit(error.exit_code)
    except BrokenPipeError:
        # `cnncalc ... | head`: the reader left; say nothing more.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
