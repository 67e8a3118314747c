"""Lint rules: known mistakes in a network that PyTorch accepts without a word.

Each rule has an id (CN001), a name (bias-before-norm), a severity and an explanation (`cnncalc lint --rules`,
docs/ci.md). A rule is silenced for one layer by the layer's `ignore: [name]` (on a block use: for the whole
block), for the whole spec by a top-level `ignore: [name]`, and for a run by `--ignore name`.
Rules read the analyzer's report and the shaped graph; they never change either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from math import prod
from typing import Any, NamedTuple

from cnncalc.analyze import Report, Row
from cnncalc.errors import Location
from cnncalc.graph import NETWORK_INPUT, Graph, Node, location
from cnncalc.layers.base import Layer, spatial_names
from cnncalc.receptive import ReceptiveField, is_broadcast, network_input_field
from cnncalc.units import rational_text

ERROR = "error"
WARNING = "warning"
SMALL_BATCH = 8  # samples per batch below which BatchNorm's batch statistics are unreliable


class Finding(NamedTuple):
    rule: str  # id, "CN001"
    name: str  # "bias-before-norm"
    severity: str  # ERROR or WARNING
    message: str
    layer: str | None  # the layer's name
    label: str | None  # "layer 'conv1' (#1, Conv2d)"
    location: Location | None
    hint: str | None


class Rule(NamedTuple):
    id: str
    name: str
    severity: str  # the usual severity; a rule may raise it for a case that fails outright (see its text)
    summary: str
    explanation: str
    check: Callable[[Context], Iterator[Finding]]


class Context:
    """What the rules read: the graph, its report's rows by name, and who reads each layer. The nodes are grouped by
    kind once, so that a rule visits only the layers of its kinds; what only some rules read is built on first use."""

    def __init__(self, graph: Graph, report: Report, grouped: bool = True) -> None:
        self.graph = graph
        self.report = report
        # False: the long way, for equivalence tests: every rule scans every node, nothing is remembered across specs
        self.grouped = grouped
        self.by_class: dict[type, list[Node]] = {}  # layer class -> its nodes, in graph order
        for node in graph.nodes:
            nodes = self.by_class.get(node.cls)
            if nodes is None:
                self.by_class[node.cls] = [node]
            else:
                nodes.append(node)
        self.classes = tuple(self.by_class)
        self.current: Rule | None = None
        self._rows: dict[str, Row] | None = None
        self._readers: dict[str, list[Node]] | None = None

    @property
    def rows(self) -> dict[str, Row]:
        if self._rows is None:
            self._rows = {row.name: row for row in self.report.rows}
        return self._rows

    @property
    def readers(self) -> dict[str, list[Node]]:
        if self._readers is None:
            self._readers = {}
            for node in self.graph.nodes:
                for name in node.inputs:
                    self._readers.setdefault(name, []).append(node)
        return self._readers

    def of_kinds(self, *prefixes: str, besides: tuple[str, ...] = ()) -> list[Node]:
        """The nodes whose kind starts with one of `prefixes` (and with none of `besides`), in graph order."""
        if not self.grouped:
            return [node for node in self.graph.nodes if _kind(node, *prefixes) and not _kind(node, *besides)]
        key = (self.classes, prefixes, besides)
        classes = _SELECTED.get(key)
        if classes is None:
            if len(_SELECTED) >= REMEMBERED:
                _SELECTED.clear()
            classes = _SELECTED[key] = tuple(cls for cls in self.classes if _is_of_kinds(cls, prefixes, besides))
        if len(classes) == 1:
            return self.by_class[classes[0]]
        wanted = set(classes)
        return [node for node in self.graph.nodes if node.cls in wanted] if wanted else []

    def field(self, name: str) -> ReceptiveField | None:
        if name == NETWORK_INPUT:
            return network_input_field(self.graph.input_shape)
        return self.rows[name].receptive_field

    def finding(
        self, node: Node, message: str, hint: str | None = None, arg: str | None = None, severity: str | None = None
    ) -> Finding:
        """A finding of the current rule at `node` (at the argument `arg` where it was written)."""
        from cnncalc.yamlsource import at

        rule = self.current
        assert rule is not None
        mark = node.arg_marks.get(arg) if arg else None
        where = at(self.graph.file, mark) if mark is not None else location(self.graph, node)
        return Finding(rule.id, rule.name, severity or rule.severity, message, node.name, node.label(), where, hint)


# Remembered across specs (check lints many, made of the same few layer classes, their layers shared by
# configuration): at most REMEMBERED entries each, then they start again.
REMEMBERED = 10_000
_SELECTED: dict[tuple[tuple[type, ...], tuple[str, ...], tuple[str, ...]], tuple[type, ...]] = {}  # of_kinds
_DROPPED: dict[int, tuple[Any, list[str]]] = {}  # id(layer) -> (the layer, kept alive: its id stays its own; text)
_KINDS_OF_CLASS: dict[tuple[type, tuple[str, ...], tuple[str, ...]], bool] = {}  # (class, prefixes, besides)


def _is_of_kinds(cls: type, prefixes: tuple[str, ...], besides: tuple[str, ...]) -> bool:
    """Whether a layer class's kind starts with one of `prefixes` and with none of `besides`; remembered, as
    every spec asks the same questions about the same few classes."""
    key = (cls, prefixes, besides)
    known = _KINDS_OF_CLASS.get(key)
    if known is None:
        kind: str = cls.kind  # type: ignore[attr-defined]
        known = _KINDS_OF_CLASS[key] = kind.startswith(prefixes) and not kind.startswith(besides)
    return known


def _kind(node: Node, *prefixes: str) -> bool:
    return node.kind.startswith(prefixes)


POOLS = ("AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "MaxPool")


def is_global_pool(node: Node) -> bool:
    """A pooling layer that reduces every spatial axis to 1 (the classifier's input in most networks)."""
    if not _kind(node, *POOLS):
        return False
    layer = node.bound()
    return all(n == 1 for n in layer.out_shape[1:]) and not all(n == 1 for n in layer.in_shapes[0][1:])


def _only_reader(ctx: Context, node: Node) -> Node | None:
    readers = ctx.readers.get(node.name, [])
    return readers[0] if len(readers) == 1 and node.name != ctx.graph.output else None


# -- the rules ------------------------------------------------------------------------------------------------


def bias_before_norm(ctx: Context) -> Iterator[Finding]:
    for node in ctx.of_kinds("Conv", "Linear"):
        if "bias" not in ctx.rows[node.name].weight_shapes:
            continue
        reader = _only_reader(ctx, node)
        if reader is None or not _kind(reader, "BatchNorm", "InstanceNorm"):
            continue
        shape = node.bound().out_shape
        if node.kind == "Linear" and len(shape) != 1:
            continue  # the norm's channels are not the Linear's features: the bias is not cancelled
        count = prod(ctx.rows[node.name].weight_shapes["bias"])
        yield ctx.finding(
            node,
            f"its bias ({count:,} params) is cancelled by '{reader.name}' ({reader.kind}), which subtracts each "
            "channel's mean and adds its own shift",
            hint="set bias: false (the norm's beta does the bias's work)",
            arg="bias" if "bias" in node.arg_marks else None,
        )


def small_batch_norm(ctx: Context) -> Iterator[Finding]:
    graph = ctx.graph
    if not graph.batch_given or graph.batch >= SMALL_BATCH:
        return  # without `batch:` (or --batch) the training batch is unknown
    for node in ctx.of_kinds("BatchNorm"):
        shape = node.bound().in_shapes[0]
        values = graph.batch * prod(shape[1:])
        spatial = "x".join(str(n) for n in shape[1:])
        counted = f"{graph.batch} x {spatial} = {values:,}" if spatial else f"{values:,}"
        if values == 1:
            yield ctx.finding(
                node,
                "batch 1 gives BatchNorm one value per channel in training: its variance is undefined and PyTorch "
                "refuses to train it ('Expected more than 1 value per channel')",
                hint=f"train with batch >= {SMALL_BATCH}, or use GroupNorm or LayerNorm",
                severity=ERROR,
            )
            continue
        yield ctx.finding(
            node,
            f"batch {graph.batch} < {SMALL_BATCH}: in training its mean and variance come from {graph.batch} "
            f"sample(s) ({counted} values per channel), so they are noisy and differ from the running statistics",
            hint=f"train with batch >= {SMALL_BATCH}, or use GroupNorm (batch-independent)",
        )


def stride_drops_input(ctx: Context) -> Iterator[Finding]:
    for node in ctx.of_kinds("Conv", "MaxPool", "AvgPool", besides=("ConvTranspose",)):
        layer = node.bound()
        if not ctx.grouped:
            dropped = _dropped(layer)
        elif (known := _DROPPED.get(id(layer))) is not None:
            dropped = known[1]
        else:
            if len(_DROPPED) >= REMEMBERED:
                _DROPPED.clear()
            dropped = _dropped(layer)
            _DROPPED[id(layer)] = (layer, dropped)
        if dropped:
            yield ctx.finding(
                node,
                "the floor in its output size discards data: " + "; ".join(dropped),
                hint="pad the input, or pick kernel, stride and padding with (size + 2*padding - kernel) divisible "
                "by stride (or ceil_mode: true for pooling)",
                arg="stride" if "stride" in node.arg_marks else None,
            )


def _dropped(layer: Layer) -> list[str]:
    """Per spatial axis whose last input rows no window reads, what is lost (a layer's own figures: layers are
    shared by configuration, so this is remembered per layer)."""
    window = layer.window()
    assert window is not None
    dropped = []
    for axis, (w, size, out) in enumerate(zip(window, layer.in_shapes[0][1:], layer.out_shape[1:], strict=True)):
        if w.extent + 1 < w.stride:
            continue  # the window skips rows between its steps by design (a 1x1 stride-2 shortcut)
        last_read = (out - 1) * w.stride - w.padding + w.extent
        if last_read < size - 1:
            name = spatial_names(len(window))[axis]
            lost = size - 1 - last_read
            things = {"W": "columns", "L": "positions", "D": "slices"}.get(name, "rows")
            dropped.append(
                f"along {name} the last {lost} of {size} input {things if lost > 1 else things[:-1]} "
                f"({_positions(last_read + 1, size - 1)}) never enter a window"
            )
    return dropped


def _positions(first: int, last: int) -> str:
    return f"index {first}" if first == last else f"indices {first} to {last}"


def even_kernel_same(ctx: Context) -> Iterator[Finding]:
    for node in ctx.of_kinds("Conv", besides=("ConvTranspose",)):
        layer = node.bound()
        if getattr(layer, "padding", None) != "same":
            continue
        uneven = [
            f"{spatial_names(layer.dims)[axis]}: {left} before, {right} after"
            for axis, (left, right) in enumerate(zip(layer.pad_left, layer.pad_right, strict=True))
            if left != right
        ]
        if uneven:
            yield ctx.finding(
                node,
                "padding 'same' with an even kernel (dilation * (kernel_size - 1) odd) pads unevenly ("
                + "; ".join(uneven)
                + "): each output is centred half a pixel off its input position",
                hint="use an odd kernel_size, or pad explicitly if the shift is intended",
                arg="padding",
            )


def linear_multi_axis(ctx: Context) -> Iterator[Finding]:
    for node in ctx.of_kinds("Linear"):
        if node.kind != "Linear":
            continue
        shape = node.bound().in_shapes[0]
        if len(shape) > 1:
            shown = "x".join(map(str, shape))
            yield ctx.finding(
                node,
                f"Linear acts on the last axis only: on its {shown} input it mixes the {shape[-1]} "
                f"value{'s' if shape[-1] != 1 else ''} of each row and keeps the other axes, giving "
                f"{'x'.join(map(str, node.bound().out_shape))}",
                hint="add '- flatten' before it if it should see the whole sample",
            )


def dropout_before_norm(ctx: Context) -> Iterator[Finding]:
    for node in ctx.of_kinds("BatchNorm"):
        if not node.inputs or node.inputs[0] == NETWORK_INPUT:
            continue
        source = ctx.graph.node(node.inputs[0])
        # Stochastic depth is dropout of whole samples (kept ones scaled by 1/(1 - p)): the same variance shift.
        if _kind(source, "Dropout", "StochasticDepth"):
            what = "stochastic depth" if source.kind == "StochasticDepth" else "dropout"
            yield ctx.finding(
                node,
                f"it reads '{source.name}' ({source.kind}): {what} changes the variance of its input between "
                "training and evaluation, so the running variance BatchNorm learns does not fit at evaluation",
                hint="put dropout after the normalization (or after the last BatchNorm)",
            )


def only_gates(ctx: Context, node: Node) -> bool:
    """Whether every path from `node`'s output ends as the broadcast input of a merge (a squeeze-and-excitation
    gate: pool, convs, sigmoid, then mul with the feature map) before it reaches the network's output: the pooled
    values then scale channels, and the features that go on are the full map's, not the pooled ones."""
    pending, seen = [node], {node.name}
    while pending:
        current = pending.pop()
        if current.name == ctx.graph.output:
            return False
        shape = current.bound().out_shape
        for reader in ctx.readers.get(current.name, []):
            layer = reader.bound()
            gated = len(reader.inputs) > 1 and is_broadcast(shape, layer.out_shape)
            if not gated and reader.name not in seen:
                seen.add(reader.name)
                pending.append(reader)
    return True


def small_receptive_field(ctx: Context) -> Iterator[Finding]:
    """Global pooling of features that each see only part of the input, where the pooled features go on to the
    classifier; not a squeeze-and-excitation pool, whose values only gate channels (Flatten + Linear is not
    flagged either: its weights are per position, so the classifier does see the whole input)."""
    spatial_input = ctx.graph.input_shape[1:]
    for node in ctx.of_kinds(*POOLS):
        if not is_global_pool(node) or only_gates(ctx, node):
            continue
        source = node.inputs[0]
        if source == NETWORK_INPUT:
            continue  # pooling the input itself: there are no features to judge
        field = ctx.field(source)
        if field is None or len(field.size) != len(spatial_input):
            continue
        if any(size < whole for size, whole in zip(field.size, spatial_input, strict=True)):
            seen = "x".join(rational_text(s) for s in field.size)
            whole = "x".join(map(str, spatial_input))
            yield ctx.finding(
                node,
                f"it pools features of '{source}' that each see {seen} of the {whole} input: what the classifier "
                "gets is an average of local views, and nothing relates parts of the input further apart",
                hint="add layers, stride or dilation before the pooling to widen the field (cnncalc explain shows it)",
            )


def misaligned_branches(ctx: Context) -> Iterator[Finding]:
    for node in ctx.graph.nodes:
        if len(node.inputs) < 2:
            continue  # fewer than two inputs: no branches to compare
        layer = node.bound()
        inputs = node.inputs[: layer.value_inputs]
        if len(inputs) < 2:
            continue
        out = layer.out_shape
        sources = []
        for name in inputs:
            field = ctx.field(name)
            if field is not None and not is_broadcast(ctx.graph.shape_of(name), out):  # a gate: no position
                sources.append((name, field))
        if len(sources) < 2 or len({len(f.size) for _, f in sources}) != 1:
            continue
        problems: dict[str, list[str]] = {}  # what differs -> the axes it differs along
        axes = len(sources[0][1].size)
        for axis in range(axes):
            strides = {f.stride[axis] for _, f in sources}
            centres = {Fraction(f.size[axis] - 1, 2) - f.padding[axis] for _, f in sources}
            if len(strides) > 1:
                shown = ", ".join(f"'{n}' {rational_text(f.stride[axis])}" for n, f in sources)
                problem = f"their effective strides differ ({shown})"
            elif len(centres) > 1:
                shown = ", ".join(f"'{n}' at {rational_text(f.centre(axis))}" for n, f in sources)
                problem = f"their fields are centred at different places ({shown}, + j*S)"
            else:
                continue
            problems.setdefault(problem, []).append(spatial_names(axes)[axis])
        if problems:
            yield ctx.finding(
                node,
                "its inputs look at different places of the input: "
                + "; ".join(f"along {' and '.join(names)} {problem}" for problem, names in problems.items())
                + "; position j of one "
                "branch is combined with a shifted position of the other",
                hint="match the branches' padding and stride (for example padding = dilation * (kernel - 1) / 2)",
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "CN001",
        "bias-before-norm",
        WARNING,
        "conv or linear bias directly followed by BatchNorm or InstanceNorm",
        "A normalization that subtracts each channel's mean cancels any per-channel constant added before it, so "
        "the bias of a conv or linear layer whose only reader is BatchNorm (or InstanceNorm) is wasted: it costs "
        "parameters and an add per output element and changes nothing. Set `bias: false`; the norm's beta is the "
        "bias. (A Linear layer counts only when its output is one axis of features, the norm's channels.)",
        bias_before_norm,
    ),
    Rule(
        "CN002",
        "small-batch-norm",
        WARNING,
        f"BatchNorm with fewer than {SMALL_BATCH} samples per batch",
        "In training, BatchNorm normalizes with the batch's own mean and variance. With fewer than "
        f"{SMALL_BATCH} samples these statistics are noisy, and the running statistics used at evaluation drift "
        "from what training saw. The rule needs the training batch: it runs when the spec says `batch:` or "
        "`--batch` is given. With a single value per channel (batch 1 and no spatial axes) PyTorch refuses to "
        "train at all; that case is an error.",
        small_batch_norm,
    ),
    Rule(
        "CN003",
        "stride-drops-input",
        WARNING,
        "a stride that leaves the last input rows or columns unread",
        "The output size floor((size + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1 discards the "
        "remainder: the last rows or columns of the input (not of the padding) never enter a window, and the "
        "finding says how many. Layers whose stride is larger than their window (a 1x1 stride-2 shortcut) skip "
        "rows by design and are not flagged.",
        stride_drops_input,
    ),
    Rule(
        "CN004",
        "even-kernel-same",
        WARNING,
        "an even kernel with padding 'same' (asymmetric padding)",
        "padding='same' needs dilation*(kernel - 1) elements of padding per axis; when that is odd, PyTorch puts "
        "the extra one at the end, so every output is centred half a pixel away from its input position, and "
        "branches built this way drift apart.",
        even_kernel_same,
    ),
    Rule(
        "CN005",
        "linear-multi-axis",
        WARNING,
        "Linear applied to a tensor with more than one non-batch axis (a missing Flatten?)",
        "nn.Linear multiplies along the last axis only and keeps every other axis: on a 64x7x7 feature map it "
        "mixes 7 values per row, not the 3,136 values of the sample. This is right for sequences (tokens x "
        "features) and usually a missing `flatten` in a convolutional network.",
        linear_multi_axis,
    ),
    Rule(
        "CN006",
        "dropout-before-norm",
        WARNING,
        "dropout (or stochastic depth) directly before BatchNorm",
        "Dropout scales the values it keeps by 1/(1 - p) in training and does nothing at evaluation, so the "
        "variance of BatchNorm's input differs between the two; the running variance learned in training then "
        "misfits at evaluation ('variance shift', Li et al. 2019). Stochastic depth, which drops whole samples, "
        "does the same. Put dropout after the normalization.",
        dropout_before_norm,
    ),
    Rule(
        "CN007",
        "small-receptive-field",
        WARNING,
        "global pooling of features whose receptive field is smaller than the input",
        "A global average (or max) pool before the classifier combines features that each see only their "
        "receptive field; if that is smaller than the input, the network never relates parts of the input "
        "further apart than the field. Only pools whose values go on to the network's output are judged: a "
        "squeeze-and-excitation pool, whose values only scale the channels of a feature map (through a `mul` "
        "that broadcasts them), is not flagged. (Nor is Flatten followed by Linear: its weights differ per "
        "position, so it does see the whole input.)",
        small_receptive_field,
    ),
    Rule(
        "CN008",
        "misaligned-branches",
        WARNING,
        "branches merged (add, concat, mul) whose receptive fields are misaligned",
        "A merge combines position j of each input. When the inputs' fields have different effective strides, "
        "or the same stride but different centres, position j of one branch sees a different place of the "
        "input than position j of another: a residual add or a U-Net concat then mixes shifted features.",
        misaligned_branches,
    ),
)

RULES_BY_KEY: dict[str, Rule] = {key: rule for rule in RULES for key in (rule.id.lower(), rule.name)}


def reads_fields(graph: Graph) -> bool:
    """Whether a rule may read a receptive field in `graph`: small-receptive-field at a global pool,
    misaligned-branches at a layer with more than one input (silenced rules are not looked at: they may)."""
    for node in graph.nodes:
        if len(node.inputs) > 1 or (_is_of_kinds(node.cls, POOLS, ()) and is_global_pool(node)):
            return True
    return False


def lint(graph: Graph, report: Report, ignore: frozenset[str] = frozenset(), grouped: bool = True) -> list[Finding]:
    """Every rule's findings, in rule order then graph order, minus the silenced ones (rule ids in `ignore`,
    the spec's top-level `ignore`, and each layer's own). `grouped=False` lets every rule scan every node (the
    long way the grouped one must agree with)."""
    ctx = Context(graph, report, grouped)
    silenced = ignore | graph.ignore
    findings: list[Finding] = []
    for rule in RULES:
        if rule.id in silenced:
            continue
        ctx.current = rule
        for finding in rule.check(ctx):
            node = graph.by_name.get(finding.layer or "")
            if node is None or rule.id not in node.ignore:
                findings.append(finding)
    if len(findings) < 2:
        return findings
    order = {node.name: node.position for node in graph.nodes}  # file order, as compilers list messages
    findings.sort(key=lambda f: (order.get(f.layer or "", 0), f.rule))
    return findings


def rule_ids(names: list[str]) -> frozenset[str]:
    """--ignore values (ids or names, any case) as rule ids; UsageError for an unknown one."""
    from cnncalc.args import did_you_mean
    from cnncalc.errors import UsageError

    ids = set()
    for name in names:
        rule = RULES_BY_KEY.get(name.lower())
        if rule is None:
            raise UsageError(
                f"--ignore: no lint rule '{name}'",
                hint=did_you_mean(name, [r.name for r in RULES]) or "`cnncalc lint --rules` lists the rules",
            )
        ids.add(rule.id)
    return frozenset(ids)
