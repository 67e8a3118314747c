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
        from cnncalc.render.table import render_tables

        _write(render_tables(reports, human, _screen()))


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
    if format is RunFormat.json:
        from cnncalc.render.json_report import versioned

        _write(render_run_json(versioned(data)) + "\n")
    else:
        _write(render_run_text(data))


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
        from cnncalc.render.json_report import object_text, versioned

        _write(object_text(versioned(data)) + "\n")
    else:
        from cnncalc.render.table import render_verify

        _write(render_verify(data, _screen()))
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
        from cnncalc.render.json_report import object_text, versioned

        _write(object_text(versioned(data)) + "\n")
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
    from cnncalc.render.json_report import object_text, versioned
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
    report = object_text(versioned(data)) + "\n" if format is RunFormat.json else report_text(data)
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


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


class Direction(str, Enum):
    TB = "TB"
    LR = "LR"


@app.command()
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
    """
    from cnncalc.analyze import analyze
    from cnncalc.render import graph as draw
    from cnncalc.spec import load_spec

    loaded = load_spec(spec)
    data = draw.graph_dict(loaded, analyze(loaded, layout=layout.value if layout else None))
    if format is GraphFormat.json:
        text = draw.graph_json(data)
    elif format is GraphFormat.dot:
        text = draw.render_dot(data, direction.value, figures)
    else:
        text = draw.render_mermaid(data, direction.value, figures)
        for warning in draw.mermaid_warnings(text, data):
            sys.stderr.write(f"warning: {warning}\n")
    _write(f"```{format.value}\n{text}```\n" if markdown else text)


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


@app.command()
def diff(
    old: str = typer.Argument(
        ..., help="The spec before the change; '-' reads it from standard input.", show_default=False
    ),
    new: str = typer.Argument(
        ..., help="The spec after the change; '-' reads it from standard input.", show_default=False
    ),
    format: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="Output format.", case_sensitive=False),
    batch: int | None = typer.Option(None, "--batch", "-b", min=1, help="Batch size for both (overrides the specs')."),
    dtype: Dtype = typer.Option(Dtype.float32, "--dtype", help="Element type for memory figures."),
    human: bool = typer.Option(False, "--human", "-H", help="Human units (768K, 4.09G) instead of exact integers."),
    show_all: bool = typer.Option(False, "--all", "-a", help="Also list the unchanged layers."),
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when the networks differ, 0 when they do not (like git diff)."
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
    """
    from cnncalc.analyze import analyze
    from cnncalc.diff import compare
    from cnncalc.spec import load_spec

    if old == "-" and new == "-":
        from cnncalc.errors import UsageError

        raise UsageError("standard input ('-') can be read only once", hint="give at least one of the specs as a file")
    reports = [analyze(load_spec(path, batch=batch), dtype=dtype.value) for path in (old, new)]
    comparison = compare(*reports)
    if format is DiffFormat.json:
        from cnncalc.render.diff import diff_dict, diff_json

        _write(diff_json(diff_dict(comparison, show_all)) + "\n")
    elif format is DiffFormat.markdown:
        from cnncalc.render.diff import render_markdown

        _write(render_markdown(comparison, human, show_all))
    else:
        from cnncalc.render.diff import render_diff

        _write(render_diff(comparison, human, show_all, _screen()))
    if exit_code and comparison.differs:
        raise typer.Exit(1)


@app.command()
def schema(
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the schema to this file ('-': standard output, the default).",
        show_default=False,
    ),
) -> None:
    """Print a JSON Schema of spec files, for editors: completion, hover help and checks as you type.

    Generated from the layer registry: every kind (in any case) with its arguments, types, ranges and defaults,
    the reserved keys, blocks ($parameters inside them) and limits. It checks a spec's form, not its shapes;
    `cnncalc summary` checks everything.

    \b
    Examples:
      cnncalc schema -o cnncalc-spec.schema.json
      then, as the first line of a spec: # yaml-language-server: $schema=cnncalc-spec.schema.json
    """
    import json

    from cnncalc.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None or output == "-":
        _write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        from cnncalc.errors import UsageError

        raise UsageError(f"cannot write {output}: {error.strerror}") from None


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
    format: RunFormat = typer.Option(
        RunFormat.table,
        "--format",
        "-f",
        help="Text, or JSON (formulas with symbols, numbers and value).",
        case_sensitive=False,
    ),
) -> None:
    """How every figure of `summary` is derived, layer by layer.

    Output size (PyTorch's form and the lectures'), parameters, MACs and other ops, receptive field from the
    previous layer, with the numbers substituted; notes on normalization, dropout and foldable BatchNorms.
    Figures are per sample.

    \b
    Examples:
      cnncalc explain specs/lenet5.yaml
      cnncalc explain specs/resnet18.yaml --layer conv1 --layer bn1
      cnncalc explain specs/lenet5.yaml --format json | jq '.layers[0].formulas'
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
    if format is RunFormat.json:
        from cnncalc.render.explain import explain_dict
        from cnncalc.render.json_report import object_text

        _write(object_text(explain_dict(graph, report, list(layer or []))) + "\n")
    else:
        _write(explain_text(graph, report, list(layer or [])))


@app.command()
def kinds(
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format.", case_sensitive=False),
) -> None:
    """List the layer kinds with their arguments, PyTorch defaults and how their other ops are counted.

    \b
    Examples:
      cnncalc kinds
      cnncalc kinds --format json | jq '.kinds[] | select(.kind == "Conv2d")'
    """
    from cnncalc.schema import kind_signature, kinds_dict

    if format is RunFormat.json:
        import json

        _write(json.dumps(kinds_dict(), indent=2) + "\n")
        return
    from cnncalc.layers import REGISTRY

    lines = []
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind.lower()):
        lines.append(kind_signature(cls))
        lines.append(f"    other ops: {cls.ops_rule}")
    _write("\n".join(lines) + "\n")


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


# Options check and lint share (typer builds each command's parameter from these declarations).
_AUDIT_FORMAT = typer.Option(
    CheckFormat.text,
    "--format",
    "-f",
    help="text for terminals; json for machines; github for GitHub Actions annotations on the spec's lines; "
    "junit for CI systems that collect JUnit XML test reports.",
)
_AUDIT_OUTPUT = typer.Option(
    None, "--output", "-o", help="Write the report to this file instead of standard output.", show_default=False
)
_AUDIT_IGNORE = typer.Option(
    None, "--ignore", help="Silence a lint rule by id or name (repeatable).", show_default=False
)
_AUDIT_SKIP = typer.Option(
    False, "--skip-non-specs", help="Skip YAML files without 'layers' (for pre-commit hooks on all YAML files)."
)


@app.command()
def check(
    specs: list[str] = typer.Argument(
        ...,
        help="Spec files, directories (their *.yaml files) or quoted glob patterns ('models/**/*.yaml'); '-' reads "
        "standard input.",
        show_default=False,
    ),
    max_params: str | None = typer.Option(
        None, "--max-params", help="Budget for parameters: 25000000, 25M.", show_default=False
    ),
    max_macs: str | None = typer.Option(None, "--max-macs", help="Budget for MACs: 4.1G.", show_default=False),
    max_flops: str | None = typer.Option(None, "--max-flops", help="Budget for FLOPs: 9G.", show_default=False),
    max_activation_bytes: str | None = typer.Option(
        None,
        "--max-activation-bytes",
        help="Budget for activation memory (all layer outputs, whole batch, --dtype): 512MiB, 1.5GB.",
        show_default=False,
    ),
    expect_output: str | None = typer.Option(
        None,
        "--expect-output",
        help="The output shape of one sample must be this: 1000, 2x256x256.",
        show_default=False,
    ),
    min_receptive_field: str | None = typer.Option(
        None,
        "--min-receptive-field",
        help="The receptive field of the last spatial features must reach this: 200, 200x100.",
        show_default=False,
    ),
    dtype: Dtype | None = typer.Option(
        None, "--dtype", help="Element type for activation memory (default: the spec's limits, else float32)."
    ),
    batch: int | None = typer.Option(
        None, "--batch", "-b", min=1, help="Batch size (default: the spec's `batch`, else 1)."
    ),
    format: CheckFormat = _AUDIT_FORMAT,
    output: str | None = _AUDIT_OUTPUT,
    no_lint: bool = typer.Option(False, "--no-lint", help="Check budgets only."),
    strict: bool = typer.Option(False, "--strict", help="Lint warnings fail the check too (exit 1)."),
    ignore: list[str] = _AUDIT_IGNORE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: show only what fails and the summary."),
    skip_non_specs: bool = _AUDIT_SKIP,
) -> None:
    """Hold specs to budgets and lint rules, for CI: exit 0 all hold, 1 a budget or lint error fails, 2 a spec
    cannot be read (or a usage error).

    Budgets come from the options or from the spec's own `limits:` section (the options win); numbers take units:
    25M, 4.1G (powers of 1000), 512MiB (1024). The lint rules (`cnncalc lint --rules`) run too; warnings fail
    only with --strict. Each failure names the spec, the budget, the measured figure and the limit.

    \b
    Examples:
      cnncalc check specs/mobilenet_v2.yaml          # its own limits: section
      cnncalc check specs/resnet50.yaml --max-params 30M --max-macs 4.5G
      cnncalc check models/ --format github          # annotations on PR lines
      cnncalc check 'models/**/*.yaml' --format junit -o cnncalc.xml
    """
    from cnncalc.limits import option_limit

    given = {
        "max_params": max_params,
        "max_macs": max_macs,
        "max_flops": max_flops,
        "max_activation_bytes": max_activation_bytes,
        "expect_output": expect_output,
        "min_receptive_field": min_receptive_field,
    }
    limits = {key: option_limit(key, text) for key, text in given.items() if text is not None}
    _audit("check", specs, limits, batch, dtype, format, output, not no_lint, strict, ignore, quiet, skip_non_specs)


@app.command()
def lint(
    specs: list[str] = typer.Argument(
        None,
        help="Spec files, directories or quoted glob patterns; '-' reads standard input.",
        show_default=False,
    ),
    rules: bool = typer.Option(False, "--rules", help="List the rules with their explanations and exit."),
    batch: int | None = typer.Option(
        None, "--batch", "-b", min=1, help="The training batch size (for small-batch-norm; default: the spec's)."
    ),
    format: CheckFormat = _AUDIT_FORMAT,
    output: str | None = _AUDIT_OUTPUT,
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
    ignore: list[str] = _AUDIT_IGNORE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: do not list skipped files."),
    skip_non_specs: bool = _AUDIT_SKIP,
) -> None:
    """Find known mistakes PyTorch accepts silently: wasted biases, unreliable BatchNorm, data dropped by strides...

    Exit 0 when no finding is an error (warnings fail only with --strict), 1 otherwise, 2 when a spec cannot be
    read. Silence a rule for one layer with `ignore: RULE` in its arguments, for a whole spec with a top-level
    `ignore: RULE` (or a list of rules), or for a run with --ignore RULE.

    \b
    Examples:
      cnncalc lint specs/*.yaml
      cnncalc lint --rules
      cnncalc lint net.yaml --format github --strict
    """
    if rules:
        from cnncalc.lint import RULES

        for rule in RULES:
            _write(f"{rule.id} {rule.name} ({rule.severity}): {rule.summary}\n")
            import textwrap

            _write(textwrap.fill(rule.explanation, 100, initial_indent="    ", subsequent_indent="    ") + "\n")
        return
    if not specs:
        from cnncalc.errors import UsageError

        raise UsageError("no spec given", hint="cnncalc lint SPEC... (or --rules to list the rules)")
    _audit("lint", specs, {}, batch, None, format, output, True, strict, ignore, quiet, skip_non_specs)


def _audit(
    command: str,
    specs: list[str],
    limits: dict,  # type: ignore[type-arg]
    batch: int | None,
    dtype: Dtype | None,
    format: CheckFormat,
    output: str | None,
    linted: bool,
    strict: bool,
    ignore: list[str] | None,
    quiet: bool,
    skip_non_specs: bool,
) -> None:
    """What check and lint share: run over the specs, render, write, and exit with the outcome's code."""
    from cnncalc.check import Options, check_paths, exit_code
    from cnncalc.lint import rule_ids

    options = Options(
        limits=limits,
        batch=batch,
        dtype=dtype.value if dtype else None,
        ignore=rule_ids(ignore or []),
        lint=linted,
        budgets=command == "check",
        skip_non_specs=skip_non_specs,
    )
    results = check_paths(specs, options)
    if format is CheckFormat.json:
        import json

        from cnncalc.render.check import result_dict

        text = json.dumps(result_dict(results, strict, command), indent=2) + "\n"
    elif format is CheckFormat.github:
        from cnncalc.render.check import render_github

        text = render_github(results, strict, command)
    elif format is CheckFormat.junit:
        from cnncalc.render.check import render_junit

        text = render_junit(results, strict, command, linted)
    else:
        from cnncalc.render.check import render_text

        text = render_text(results, strict, command, quiet)
    if output is None:
        _write(text)
    else:
        _write_file(output, text)
    code = exit_code(results, strict)
    if code:
        raise typer.Exit(code)


def _write_file(path: str, text: str) -> None:
    from cnncalc.errors import UsageError

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _screen(width: int | None = None):  # type: ignore[no-untyped-def]
    """The width and colour of standard output for tables (cnncalc.render.screen)."""
    from cnncalc.render.screen import detect

    return detect(width)


def _interactive() -> bool:
    """Progress bars only where a person watches (standard error is a terminal)."""
    return sys.stderr.isatty()


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _reflowed(doc: str) -> str:
    """A docstring with its paragraphs joined into single lines, for the terminal to wrap (typer 0.28 keeps the
    source's line breaks, which wrap raggedly in narrow terminals); `\\b` paragraphs (examples) stay as written."""
    import inspect

    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs)


def _reflow_help() -> None:
    for info in app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _reflowed(info.callback.__doc__)


def main() -> None:
    _reflow_help()
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
