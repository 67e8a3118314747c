"""`cnncalc run` and `cnncalc verify` as library functions: input files, the MAC budget, and the comparison of
what the executor did with what the analyzers say."""

from __future__ import annotations

import re
from math import prod
from typing import NamedTuple

from cnncalc.analyze import Report, analyze
from cnncalc.compute import Context
from cnncalc.errors import CnncalcError, Location, UsageError
from cnncalc.execute import Run, Weights, backward, execute, generated_input, weights_for
from cnncalc.graph import Graph
from cnncalc.layers import fmt_shape
from cnncalc.tensor import Tensor, flatten_nested, parse_value, shape_of_nested

DEFAULT_MAX_MACS = 50_000_000  # a pure-Python exact run of this many MACs takes some seconds


class InputError(CnncalcError):
    """An --input or --grad-output file that cannot be used."""


def parse_shape(text: str) -> tuple[int, ...]:
    """'3x32x32' or '3,32,32' -> (3, 32, 32)."""
    parts = [p.strip() for p in text.replace(",", "x").split("x")]
    if not parts or not all(re.fullmatch("[0-9]+", p) and int(p) > 0 for p in parts):
        raise UsageError(f"expected a shape such as 3x32x32, got {text!r}")
    return tuple(int(p) for p in parts)


def read_input(path: str, graph: Graph) -> tuple[Tensor, bool]:
    """The input tensor from a YAML or JSON nested list, with or without a batch axis; and whether it had one."""
    return read_tensor(path, graph.input_shape, f"{graph.name} takes", "the input")


def read_tensor(
    path: str, sample: tuple[int, ...], takes: str, what: str, batch: int | None = None
) -> tuple[Tensor, bool]:
    """Values of per-sample shape `sample` from a YAML or JSON nested list, with or without a batch axis (of
    `batch` samples when given); and whether it had one."""
    from cnncalc.spec import read_spec_text
    from cnncalc.yamlsource import load_yaml

    text, file = read_spec_text(path)
    value = load_yaml(text, file)
    where = Location(file, 1, 1)
    try:
        shape = shape_of_nested(value) if isinstance(value, list) else ()
    except ValueError as error:
        raise InputError(f"{what} is not a rectangular nested list: {error}", location=where) from None
    if (shape == sample or (sample[0] == 1 and shape == sample[1:])) and batch in (None, 1):  # H x W: one channel
        batched, full = False, (1, *sample)
    elif len(shape) == len(sample) + 1 and shape[1:] == sample and batch in (None, shape[0]):
        batched, full = True, shape
    else:
        samples = "N" if batch is None else str(batch)
        raise InputError(
            f"{what} has shape {fmt_shape(shape) or 'a single number'}, but {takes} {fmt_shape(sample)} per sample"
            + ("" if batch is None else f" for {batch} sample(s)"),
            location=where,
            hint=f"give a nested list of shape {fmt_shape(sample)}, or {samples} x {fmt_shape(sample)} for a batch",
        )
    try:
        values = [parse_value(v) for v in flatten_nested(value)]
    except ValueError as error:
        raise InputError(f"{what} holds a value that is not a number: {error}", location=where) from None
    return Tensor.from_values(full, values), batched


def check_budget(report: Report, max_macs: int) -> None:
    if report.totals.macs > max_macs:
        raise UsageError(
            f"this run needs {report.totals.macs:,} multiply-accumulates (batch {report.batch}), above the "
            f"budget of {max_macs:,}; the exact executor is pure Python",
            # Never a fixed input size: it may be the very one given (`verify --input 3x32x32`).
            hint=f"raise the budget to cover this run (--max-macs {report.totals.macs}), or give a smaller input",
        )


class Execution(NamedTuple):
    run: Run
    report: Report
    weights: Weights
    ctx: Context


def run_spec(
    graph: Graph,
    x: Tensor | None,
    seed: int,
    mode: str,
    max_macs: int,
    progress: bool = False,
) -> Execution:
    """Execute `graph` on `x` (or a seeded input of the spec's batch), within the MAC budget."""
    if x is not None:
        graph.batch = x.shape[0]
    report = analyze(graph)
    check_budget(report, max_macs)
    if x is None:
        x = generated_input((graph.batch, *graph.input_shape), seed)
    weights = weights_for(graph, seed)
    ctx = Context(mode=mode, seed=seed)
    run = _with_progress(graph, x, weights, ctx) if progress else execute(graph, x, weights, ctx)
    return Execution(run, report, weights, ctx)


def gradients(graph: Graph, execution: Execution, grad_path: str | None) -> dict[str, Tensor]:
    """Exact gradients of the sum of the outputs, or of sum(G * output) for G read from `grad_path`."""
    output = execution.run.output
    if grad_path is None:
        grad = Tensor(output.shape, [1] * len(output.data))
    else:
        grad, _ = read_tensor(grad_path, output.shape[1:], "the output has", "--grad-output", batch=output.shape[0])
    return backward(graph, execution.run, execution.weights, execution.ctx, grad)


def _with_progress(graph: Graph, x: Tensor, weights: dict[str, dict[str, Tensor]], ctx: Context) -> Run:
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:  # stdout stays the result alone
        task = bar.add_task("running exactly", total=len(graph.nodes))
        return execute(graph, x, weights, ctx, on_layer=lambda: bar.advance(task))


class Check(NamedTuple):
    name: str
    kind: str
    shape: tuple[tuple[int, ...], tuple[int, ...]]  # executed (per sample), analyzed
    macs: tuple[int, int]  # counted, analyzed
    params: tuple[int, int]  # read by forward, analyzed

    @property
    def ok(self) -> bool:
        return self.shape[0] == self.shape[1] and self.macs[0] == self.macs[1] and self.params[0] == self.params[1]


def verify(graph: Graph, seed: int, mode: str, max_macs: int, progress: bool = False) -> list[Check]:
    """Run the executor on one generated sample and compare each layer with the analyzers' figures."""
    graph.batch = 1
    run, report, _, _ = run_spec(graph, None, seed, mode, max_macs, progress)
    checks = []
    for row in report.rows:
        executed = run.outputs[row.name].shape[1:]
        checks.append(
            Check(
                row.name,
                row.kind,
                (executed, row.output_shape),
                (run.macs[row.name], row.macs),
                (run.consumed[row.name], row.params),
            )
        )
    return checks


def output_value_count(run: Run) -> int:
    return prod(run.output.shape)
