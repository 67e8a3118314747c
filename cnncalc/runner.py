"""`cnncalc run` and `cnncalc verify` as library functions: input files, the budget (MACs and values read and
written, counted from the shapes before anything runs), and the comparison of what the executor did with what the
analyzers say."""

from __future__ import annotations

from math import prod
from typing import Any, NamedTuple

from cnncalc.analyze import Report, analyze
from cnncalc.budget import PRACTICAL, Budget, units_up
from cnncalc.compute import Context
from cnncalc.errors import CnncalcError, Location, UsageError
from cnncalc.execute import Run, Weights, backward, execute, generated_input, weights_for
from cnncalc.graph import NETWORK_INPUT, Graph
from cnncalc.layers import fmt_shape
from cnncalc.sizes import parse_shape  # noqa: F401  (re-exported: the one parser of shapes on command lines)
from cnncalc.tensor import RaggedError, Tensor, flatten_nested, parse_value, shape_of_nested

DEFAULT_MAX_MACS = 50_000_000  # a pure-Python exact run of this many MACs takes some seconds


class InputError(CnncalcError):
    """An --input or --grad-output file that cannot be used."""


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
    try:
        shape = shape_of_nested(value) if isinstance(value, list) else ()
    except RaggedError as error:
        where = _value_location(file, text, value, error.at)
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
            location=_value_location(file, text, value, _first_wrong_axis(shape, sample, batch)),
            hint=f"give a nested list of shape {fmt_shape(sample)}, or {samples} x {fmt_shape(sample)} for a batch",
        )
    values = []
    for index, item in enumerate(flatten_nested(value)):
        try:
            values.append(parse_value(item))
        except ValueError as error:
            where = _value_location(file, text, value, _unravel(index, shape))
            raise InputError(f"{what} holds a value that is not a number: {error}", location=where) from None
    return Tensor.from_values(full, values), batched


def _first_wrong_axis(shape: tuple[int, ...], sample: tuple[int, ...], batch: int | None) -> tuple[int, ...]:
    """The index path of the first list whose length is wrong (the outermost list when the ranks differ): a nested
    list of `shape` read as `sample`, or as a batch of it."""
    if len(shape) == len(sample) + 1:
        wanted = (shape[0] if batch is None else batch, *sample)
    elif len(shape) == len(sample) - 1 and sample[0] == 1:
        wanted = sample[1:]
    else:
        wanted = sample
    if len(shape) != len(wanted):
        return ()
    axis = next((k for k, (got, want) in enumerate(zip(shape, wanted, strict=True)) if got != want), 0)
    return (0,) * axis


def _unravel(index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index path of item `index` of a rectangular nested list of `shape`, read row by row."""
    path = []
    for length in reversed(shape):
        index, position = divmod(index, length)
        path.append(position)
    return tuple(reversed(path))


def _value_location(file: str, text: str, value: Any, path: tuple[int, ...]) -> Location:
    """Where the item at index path `path` of a loaded nested list starts (as deep as the path goes); for a
    document that is a single value, where that value's line starts."""
    from cnncalc.yamlsource import at

    mark = getattr(value, "mark", None)
    for index in path:
        marks = getattr(value, "item_marks", None)
        if marks is None or index >= len(marks):
            break
        mark, value = marks[index], value[index]
    if mark is not None:
        return at(file, mark)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and stripped != "---" and not stripped.startswith(("#", "%")):
            return Location(file, number, len(line) - len(line.lstrip()) + 1)
    return Location(file, 1, 1)


# -- the budget: counted from the shapes before anything runs ---------------------------------------------------


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
        share = f"; the largest share, {most:,}, in layer '{name}' ({kind})"
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
    is valid and within `budget`, as far as a few shape inferences find it; None where there is none.

    One inference at half the size tells what grows with the input: work = fixed + growing * scale**axes (weights
    and pooled classifiers stay, feature maps shrink). That model gives the candidate size; it and the power-of-
    two fractions of the input below it (which keep a U-Net's sizes divisible) are checked until one fits. Where
    the model says nothing fits (an adaptive pool's huge output does not shrink), the search stops after that one
    inference, so it never costs much more than the analysis already done."""
    spatial = graph.input_shape[1:]
    longest = max(spatial, default=0)
    if longest < 2:
        return None
    original = graph.input_shape
    full, half = workload(graph), _workload_at(graph, original, longest // 2)
    candidate = _modelled_size(full, half, longest, len(spatial), budget)
    tried = 0
    while candidate >= 1 and tried < 6:
        work = _workload_at(graph, original, candidate)
        if work is not None and work.macs <= budget.max_macs and work.elements <= budget.max_elements:
            return _shape_at(original, candidate)
        tried += 1
        below = [longest >> j for j in range(1, longest.bit_length()) if longest >> j < candidate]
        candidate = below[0] if below else 0
    return None


def _shape_at(original: tuple[int, ...], size: int) -> tuple[int, ...]:
    """The `original` input with its longest spatial axis at `size`, the others in proportion."""
    channels, *spatial = original
    longest = max(spatial)
    return (channels, *(max(1, s * size // longest) for s in spatial))


def _workload_at(graph: Graph, original: tuple[int, ...], size: int) -> Workload | None:
    """The workload of the spec expanded again at `_shape_at(original, size)` (expressions and conditions may read
    the input's shape); None where some layer refuses that input. The graph itself is left as it is."""
    from cnncalc.spec import at_input

    try:
        return workload(at_input(graph, _shape_at(original, size)))
    except CnncalcError:
        return None


def _modelled_size(full: Workload, half: Workload | None, longest: int, axes: int, budget: Budget) -> int:
    """The largest size at which fixed + growing * (size / longest)**axes stays within both budgets, the two
    parts of each count fitted to the workloads at `longest` and at half of it (where half the size was refused,
    the weights alone are taken as fixed). Exact fractions: the counts may have any number of digits."""
    from fractions import Fraction

    shrink = Fraction(longest // 2, longest) ** axes
    size = Fraction(longest - 1)
    for limit, at_full, at_half, weights in (
        (budget.max_macs, full.macs, None if half is None else half.macs, 0),
        (budget.max_elements, full.elements, None if half is None else half.elements, full.weights),
    ):
        if at_full <= limit:
            continue
        growing = (at_full - at_half) / (1 - shrink) if at_half is not None else Fraction(at_full - weights)
        fixed = at_full - growing
        if fixed >= limit or growing <= 0:
            return 0
        size = min(size, longest * float((limit - fixed) / growing) ** (1 / axes))
    return int(size)


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
