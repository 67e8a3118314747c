"""`cnncalc run` and `cnncalc verify` as library functions: input files, the budget (MACs and values read and
written, counted from the shapes before anything runs), and the comparison of what the executor did with what the
analyzers say."""

from __future__ import annotations

import re
from math import prod
from typing import NamedTuple

from cnncalc.analyze import Report, analyze
from cnncalc.compute import Context
from cnncalc.errors import CnncalcError, Location, UsageError
from cnncalc.execute import Run, Weights, backward, execute, generated_input, weights_for
from cnncalc.graph import NETWORK_INPUT, Graph
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


# -- the budget: counted from the shapes before anything runs ---------------------------------------------------

DEFAULT_MAX_MACS = 100_000_000  # ResNet-50 at 3x32x32 needs 85 M: some ten seconds of pure-Python integer products
DEFAULT_MAX_ELEMENTS = 50_000_000  # ResNet-50 at 3x32x32 needs 29 M, mostly its 25.6 M generated weights
PRACTICAL = 10**12  # above this many MACs or values, raising the budget is no advice: it would run for days


class Budget(NamedTuple):
    """What the executor may do in one run; both are checked before it starts."""

    max_macs: int = DEFAULT_MAX_MACS  # multiply-accumulates of inner products (conv, linear)
    max_elements: int = DEFAULT_MAX_ELEMENTS  # values read and written by every layer, see Workload


class Workload(NamedTuple):
    """What a forward pass does, from the analyzers' rules and the shapes alone (nothing is run).

    `elements` counts, per layer, the values it reads (its inputs, weights and buffers), the values it writes
    (its output), its other ops (the window compares and adds of pooling, the statistics of normalization) and
    the scratch values its forward holds (a convolution's padded input), plus the network input; all for the
    whole batch, weights once. Where no layer multiplies (upsampling, padding, pooling), elements still grow."""

    macs: int
    elements: int
    sample_macs: int  # per sample: the part that grows with the batch
    sample_elements: int
    weights: int  # weights and buffers: generated once, whatever the batch
    largest: tuple[str, str, int]  # the layer with the most elements: name, kind, elements


def workload(graph: Graph) -> Workload:
    sizes = {NETWORK_INPUT: prod(graph.input_shape)}
    macs = weights = 0
    per_sample = sizes[NETWORK_INPUT]
    largest = (NETWORK_INPUT, "", 0)
    for node in graph.nodes:
        layer = node.bound()
        sizes[node.name] = out = prod(layer.out_shape)
        moved = sum(sizes[i] for i in node.inputs) + out + layer.other_ops() + layer.scratch_elements()
        held = layer.params() + layer.buffer_count()
        macs += layer.macs()
        per_sample += moved
        weights += held
        if moved * graph.batch + held > largest[2]:
            largest = (node.name, layer.kind, moved * graph.batch + held)
    batch = graph.batch
    return Workload(macs * batch, per_sample * batch + weights, macs, per_sample, weights, largest)


def parse_budget(option: str, text: str) -> int:
    """A budget option's value: 100000000, 100M, 1.5G (powers of 1000, as `cnncalc check` reads them)."""
    from cnncalc.limits import COUNT_UNITS, parse_amount

    try:
        value = parse_amount(text, COUNT_UNITS)
    except ValueError as error:
        raise UsageError(f"{option}: {error}, got {text!r}", hint=f"for example {option} 100M") from None
    if value < 1:
        raise UsageError(f"{option}: expected a budget of at least 1, got {text!r}", hint=f"for example {option} 100M")
    return value


def check_budget(graph: Graph, budget: Budget, command: str = "run", input_file: bool = False) -> Workload:
    """Refuse a run of `graph` (at graph.batch) above `budget`, before anything is allocated: the message gives
    the counts and the budgets, the hint an input size (or batch) that fits and the budget that would do."""
    work = workload(graph)
    over = [
        (what, needed, limit, option)
        for what, needed, limit, option in (
            ("multiply-accumulates", work.macs, budget.max_macs, "--max-macs"),
            ("values read and written", work.elements, budget.max_elements, "--max-elements"),
        )
        if needed > limit
    ]
    if not over:
        return work
    needs = " and ".join(f"{needed:,} {what}" for what, needed, _, _ in over)
    limits = " and ".join(f"{limit:,} ({option})" for _, _, limit, option in over)
    name, kind, most = work.largest
    share = ""
    if any(option == "--max-elements" for _, _, _, option in over) and name != NETWORK_INPUT:
        share = f"; the most in layer '{name}' ({kind}): {most:,}"
    raise UsageError(
        f"this {command} needs {needs} (batch {graph.batch}), above the budget{'s' if len(over) > 1 else ''} of "
        f"{limits}{share}; the exact executor is pure Python, and checks this before it starts",
        hint=_budget_hint(graph, budget, work, over, command, input_file),
    )


def _budget_hint(
    graph: Graph, budget: Budget, work: Workload, over: list[tuple[str, int, int, str]], command: str, input_file: bool
) -> str:
    """What would fit: fewer samples, else a smaller input (never the one given); and the budget that would do."""
    from cnncalc.layout import shown

    fits = []
    samples = _samples_that_fit(budget, work)
    if graph.batch > 1 and samples:
        where = "in the input file" if input_file else "batch: in the spec"
        fits.append(f"run at most {samples} sample(s) at once ({where})")
    else:
        smaller = _smaller_input(graph, budget)
        if smaller is not None:
            written = shown(smaller, graph.layout)
            if command == "verify":
                fits.append(f"use a smaller input: --input {'x'.join(map(str, written))}")
            elif input_file:
                fits.append(f"use a smaller input: {' x '.join(map(str, written))} fits")
            else:
                fits.append(f"use a smaller input: input: [{', '.join(map(str, written))}] in the spec fits")
    if all(needed <= PRACTICAL for _, needed, _, _ in over):
        fits.append("raise the budget: " + " ".join(f"{option} {units_up(needed)}" for _, needed, _, option in over))
    if not fits:
        return "no input size brings it within the budget; cnncalc summary gives its figures without running it"
    return "; or ".join(fits)


def _samples_that_fit(budget: Budget, work: Workload) -> int:
    """The largest batch within both budgets at this input size (0 when not even one sample fits)."""
    most = (budget.max_elements - work.weights) // work.sample_elements
    if work.sample_macs:
        most = min(most, budget.max_macs // work.sample_macs)
    return max(0, most)


def _smaller_input(graph: Graph, budget: Budget) -> tuple[int, ...] | None:
    """The largest input whose spatial axes (all but the channels) shrink alike, keeping their proportions, that
    is valid and within `budget`; None where there is none (no spatial axes, or too small before it fits).
    Some ten shape inferences: milliseconds even for ResNet-50."""
    from cnncalc.graph import infer_shapes

    original = graph.input_shape
    spatial = original[1:]
    if not spatial:
        return None
    longest = max(spatial)

    def scaled(size: int) -> tuple[int, ...]:
        return (original[0], *(max(1, s * size // longest) for s in spatial))

    def fits(size: int) -> bool | None:
        graph.input_shape = scaled(size)
        try:
            infer_shapes(graph)
        except CnncalcError:
            return None  # too small for some layer
        work = workload(graph)
        return work.macs <= budget.max_macs and work.elements <= budget.max_elements

    try:
        low, high = 0, longest  # fits(high) is False (the input given); find the largest size that fits
        while high - low > 1:
            middle = (low + high) // 2
            if fits(middle) is False:
                high = middle
            else:
                low = middle
        found = scaled(low) if low and fits(low) else None
    finally:
        graph.input_shape = original
        infer_shapes(graph)
    return found if found != original else None


def units_up(count: int) -> str:
    """count rounded up to two significant digits in the units budgets take: 4,089,184,256 -> 4.1G."""
    from cnncalc.limits import COUNT_UNITS

    if count < 1000:
        return str(count)
    for unit, scale in reversed(COUNT_UNITS.items()):
        if unit and count >= scale:
            break
    digits = len(str(count // scale))
    step = scale * 10 ** max(0, digits - 2) // (10 if digits == 1 else 1)
    value = -(-count // step) * step
    whole, rest = divmod(value, scale)
    return f"{whole}{f'.{rest * 10 // scale}' if rest else ''}{unit}"


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
    budget: Budget = Budget(),
    progress: bool = False,
    command: str = "run",
) -> Execution:
    """Execute `graph` on `x` (or a seeded input of the spec's batch), within `budget` (checked first)."""
    if x is not None:
        graph.batch = x.shape[0]
    check_budget(graph, budget, command, input_file=x is not None)
    report = analyze(graph)
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


def verify(graph: Graph, seed: int, mode: str, budget: Budget = Budget(), progress: bool = False) -> list[Check]:
    """Run the executor on one generated sample and compare each layer with the analyzers' figures."""
    graph.batch = 1
    run, report, _, _ = run_spec(graph, None, seed, mode, budget, progress, command="verify")
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
