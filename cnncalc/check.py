"""`cnncalc check` and `cnncalc lint` over many specs: budgets (cnncalc.limits), lint rules (cnncalc.lint).

One spec's failure never stops the others: an unreadable or invalid spec becomes an error result (exit 2), a
budget exceeded or a lint error a failure (exit 1). Renderers are in cnncalc.render.check.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

from cnncalc.analyze import Report, analyze
from cnncalc.errors import CnncalcError, Location, UsageError
from cnncalc.graph import NETWORK_INPUT, Graph, Node
from cnncalc.layout import shown
from cnncalc.limits import COUNTS, Limit
from cnncalc.lint import ERROR, Finding, is_global_pool, lint, reads_fields
from cnncalc.receptive import ReceptiveField
from cnncalc.sizes import size_noted
from cnncalc.spec import graph_from_document, read_spec_text
from cnncalc.spec.document import consumable
from cnncalc.speed import paused_gc
from cnncalc.units import rational, rational_text
from cnncalc.yamlsource import YMap, load_yaml

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
# False: every spec analyzed with its receptive fields, read or not (the long way, for tests/test_check_paths.py).
shortcuts = True
MEASURES = {"max_params": "params", "max_macs": "macs", "max_flops": "flops", "max_activation_bytes": None}


class BudgetResult(NamedTuple):
    limit: Limit
    ok: bool
    measured: Any  # an int, a shape (tuple), or per-axis receptive-field sizes
    message: str  # "MACs 4,089,184,256 exceed the limit 4,000,000,000 (4G)"
    layer: str | None  # where the figure is measured, for the receptive field


class SpecResult(NamedTuple):
    path: str  # as given on the command line, or as found in a directory
    file: str  # as messages show it
    name: str | None
    error: CnncalcError | None  # could not be read or built
    skipped: str | None  # why it was skipped (not a spec, found in a directory or named with --skip-non-specs)
    budgets: list[BudgetResult]
    findings: list[Finding]
    input_shape: tuple[int, ...] | None = None  # the --input size it was checked at (in its layout), if given

    @property
    def at_size(self) -> str:
        """'at --input 3x320x320' where it was checked at an --input size, else ''."""
        return "" if self.input_shape is None else f"at --input {'x'.join(map(str, self.input_shape))}"

    @property
    def label(self) -> str | None:
        """The spec's name, and the --input size it was checked at where one was given."""
        return f"{self.name} {self.at_size}" if self.at_size and self.name is not None else self.name

    def failed(self, strict: bool) -> bool:
        return any(not b.ok for b in self.budgets) or any(fails(f, strict) for f in self.findings)

    def status(self, strict: bool) -> str:
        if self.error is not None:
            return "error"
        if self.skipped is not None:
            return "skipped"
        return "failed" if self.failed(strict) else "passed"


def fails(finding: Finding, strict: bool) -> bool:
    return finding.severity == ERROR or strict


class Options(NamedTuple):
    limits: dict[str, Limit]  # from the command line; they override the spec's own
    batch: int | None
    dtype: str | None
    ignore: frozenset[str]  # lint rule ids
    lint: bool
    budgets: bool
    skip_non_specs: bool  # skip named files that are not specs too (pre-commit passes every changed YAML file)
    sizes: tuple[tuple[int, ...], ...] = ()  # --input: check each spec at each of these sizes (in its layout)


class Target(NamedTuple):
    """One file to check, and whether the user named it (a file argument) or cnncalc found it (in a directory or
    by a quoted glob pattern): found YAML files that are not specs are skipped with a notice, named ones fail."""

    path: str
    named: bool


def expand_paths(paths: list[str]) -> list[Target]:
    """Specs to check: files as given; directories' *.yaml and *.yml files, subfolders included; glob patterns
    (quoted ones the shell did not expand, `**` included); '-' is standard input."""
    expanded: list[Target] = []
    for path in paths:
        if path == "-" or os.path.isfile(path):
            expanded.append(Target(path, named=True))
        elif os.path.isdir(path):
            found = yaml_files_under(path)
            if not found:
                raise UsageError(f"{path}: no *.yaml or *.yml files in this directory or its subfolders")
            expanded.extend(Target(file, named=False) for file in found)
        elif _has_magic(path):
            import glob

            found = sorted(glob.glob(path, recursive=True))
            if not found:
                raise UsageError(f"no file matches {path!r}")
            expanded.extend(Target(file, named=False) for file in found)
        else:
            expanded.append(Target(path, named=True))  # reported as unreadable, with the others still checked
    if [target.path for target in expanded].count("-") > 1:
        raise UsageError("standard input ('-') can be read only once")
    return expanded


def _has_magic(path: str) -> bool:
    """glob.has_magic without importing glob (a folder of specs needs no pattern)."""
    return any(char in path for char in "*?[")


def yaml_files_under(directory: str) -> list[str]:
    """The *.yaml and *.yml files in a directory and its subfolders, sorted. Hidden files and folders (.git,
    .venv) are left out, as glob's `**` does; symbolic links to folders are not followed, so a cycle cannot
    hang the walk."""
    found: list[str] = []
    for folder, subfolders, files in os.walk(directory):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(
            os.path.join(folder, name)
            for name in files
            if name.endswith((".yaml", ".yml")) and not name.startswith(".")
        )
    return sorted(found)


def check_paths(paths: list[str], options: Options) -> list[SpecResult]:
    """A result per spec, or per spec and --input size (in the order given). The specs share their layers: a
    layer is a pure function of its kind, arguments and input shapes (cnncalc.graph.bind), and a folder of specs
    repeats many."""
    layers: dict[Any, Any] = {}
    return [result for target in expand_paths(paths) for result in check_sizes(target, options, layers)]


def check_sizes(target: Target, options: Options, layers: dict[Any, Any] | None = None) -> list[SpecResult]:
    """The spec at its own input, or at each --input size: read once, expanded again per size."""
    first = check_one(target, options, keep_graph=bool(options.sizes), layers=layers)
    if not options.sizes or isinstance(first, SpecResult):
        return [first]
    graph, path, file = first
    return [check_graph(path, file, resized_or_error(graph, size), options, size) for size in options.sizes]


def resized_or_error(graph: Graph, size: tuple[int, ...]) -> Graph | CnncalcError:
    from cnncalc.sizes import resized

    try:
        return resized(graph, size)
    except CnncalcError as error:
        return error


def check_graph(
    path: str, file: str, graph: Graph | CnncalcError, options: Options, size: tuple[int, ...]
) -> SpecResult:
    if isinstance(graph, CnncalcError):
        return SpecResult(path, file, None, graph, None, [], [], size)
    try:
        budgets, findings = judge(graph, options)
    except CnncalcError as error:
        return SpecResult(path, file, None, error, None, [], [], size)
    return SpecResult(path, file, graph.name, None, None, budgets, findings, size)


def judge(graph: Graph, options: Options) -> tuple[list[BudgetResult], list[Finding]]:
    """The budgets and lint findings of one loaded spec."""
    dtype = options.dtype or (graph.limits["dtype"].value if "dtype" in graph.limits else "float32")
    with size_noted(graph):
        report = analyze(graph, dtype=dtype, receptive=needs_fields(graph, options))
        budgets = check_budgets(graph, report, options.limits) if options.budgets else []
        findings = lint(graph, report, options.ignore) if options.lint else []
    return budgets, findings


def needs_fields(graph: Graph, options: Options) -> bool:
    """Whether judging the spec reads a receptive field: the min_receptive_field budget, or a lint rule that
    reads them with a layer of its in the graph (cnncalc.lint.reads_fields). Most specs need none, and analysis
    leaves them out (a fifth of its time for small specs)."""
    if not shortcuts:
        return True
    if options.budgets and ("min_receptive_field" in graph.limits or "min_receptive_field" in options.limits):
        return True
    return options.lint and reads_fields(graph)


SHARED_LAYERS = 10_000  # layers kept for the specs that follow: at most this many (a huge spec's are let go)


def check_one(
    target: Target, options: Options, keep_graph: bool = False, layers: dict[Any, Any] | None = None
) -> SpecResult | tuple[Graph, str, str]:
    """The spec's result; with `keep_graph`, its graph (and path and file name) where it loads, to check at other
    sizes. `layers`: layers built for earlier specs, shared by configuration (bind's cache)."""
    path = target.path
    file = "<stdin>" if path == "-" else path
    skip_non_spec = options.skip_non_specs or not target.named
    try:
        with paused_gc():
            text, file = read_spec_text(path)
            if skip_non_spec and is_empty_yaml(text):
                return SpecResult(path, file, None, None, "not a cnncalc spec (empty)", [], [])
            document = load_yaml(text, file)
            if skip_non_spec and not (isinstance(document, YMap) and "layers" in document):
                return SpecResult(path, file, None, None, "not a cnncalc spec (no 'layers')", [], [])
            if layers is not None and len(layers) > SHARED_LAYERS:
                layers.clear()
            keep = keep_graph or not consumable(text)  # a kept graph is checked again at other sizes
            graph = graph_from_document(document, file, batch=options.batch, built=layers, keep_document=keep)
            if keep_graph:
                return graph, path, file
            budgets, findings = judge(graph, options)
    except CnncalcError as error:
        return SpecResult(path, file, None, error, None, [], [])
    return SpecResult(path, file, graph.name, None, None, budgets, findings)


def is_empty_yaml(text: str) -> bool:
    """No document: only blank lines, comments and document markers (load_yaml refuses such a spec)."""
    return all(
        not line.strip() or line.lstrip().startswith("#") or line.rstrip() in ("---", "...")
        for line in text.splitlines()
    )


def check_budgets(graph: Graph, report: Report, cli_limits: dict[str, Limit]) -> list[BudgetResult]:
    limits = {key: limit for key, limit in graph.limits.items() if key != "dtype"}
    limits.update(cli_limits)
    return [evaluate(limit, graph, report) for limit in limits.values()]


def evaluate(limit: Limit, graph: Graph, report: Report) -> BudgetResult:
    totals = report.totals
    written = f" ({limit.written})" if limit.written.replace(",", "") != str(limit.value) else ""
    if limit.budget in MEASURES:
        if limit.budget in COUNTS:
            measured, what, unit = getattr(totals, MEASURES[limit.budget] or ""), COUNTS[limit.budget], ""
        else:
            measured, unit = totals.activation_bytes, " B"
            what = f"activation memory ({report.dtype}, batch {report.batch})"
        ok = measured <= limit.value
        figure, bound = f"{what} {measured:,}{unit}", f"the limit {limit.value:,}{unit}{written}"
        over = measured - limit.value
        message = (
            f"{figure}: within {bound}"
            if ok
            else f"{figure}: over {bound} by {over:,}{unit} ({100 * over / max(limit.value, 1):.1f}%)"
        )
        return BudgetResult(limit, ok, measured, message, None)
    if limit.budget == "expect_output":
        measured = tuple(shown(totals.output_shape, report.layout))
        expected = "x".join(map(str, limit.value))
        got = "x".join(map(str, measured))
        ok = measured == tuple(limit.value)
        message = f"output shape {got}" + (" as expected" if ok else f" differs from the expected {expected}")
        return BudgetResult(limit, ok, measured, message, None)
    assert limit.budget == "min_receptive_field"
    name, field = feature_field(graph, report)
    if field is None:
        return BudgetResult(limit, False, None, "the network has no receptive field (no spatial layer)", None)
    sizes = field.size
    wanted = tuple(limit.value) * len(sizes) if len(limit.value) == 1 else limit.value
    got = "x".join(rational_text(s) for s in sizes)
    if len(wanted) != len(sizes):
        message = f"the field at '{name}' has {len(sizes)} spatial axes ({got}); the limit gives {len(limit.value)}"
        return BudgetResult(limit, False, tuple(rational(s) for s in sizes), message, name)
    ok = all(s >= w for s, w in zip(sizes, wanted, strict=True))
    limit_text = "x".join(map(str, wanted))
    message = f"receptive field at '{name}' {got} " + (
        f"reaches the minimum {limit_text}" if ok else f"is smaller than the minimum {limit_text}"
    )
    return BudgetResult(limit, ok, tuple(rational(s) for s in sizes), message, name)


def feature_field(graph: Graph, report: Report) -> tuple[str | None, ReceptiveField | None]:
    """The network's receptive field: that of its output, or, where the output has none (Flatten, Linear) or is a
    global pool, of the last layer before it with spatial extent (what the classifier's features see)."""
    fields = {row.name: row.receptive_field for row in report.rows}
    name = graph.output
    while name != NETWORK_INPUT:
        node: Node = graph.node(name)
        if fields[name] is not None and not is_global_pool(node):
            return name, fields[name]
        if not node.inputs:
            break
        name = node.inputs[0]
    return None, None


def exit_code(results: list[SpecResult], strict: bool) -> int:
    if any(r.error is not None for r in results):
        return EXIT_ERROR
    return EXIT_FAILED if any(r.failed(strict) for r in results) else EXIT_OK


def budget_location(result: SpecResult, budget: BudgetResult) -> Location:
    """Where an annotation points: the limit in the spec, else the spec's first line."""
    return budget.limit.location or Location(result.file, 1, 1)
