"""`cnncalc fuse`: fold every eval-mode BatchNorm into the convolution or linear layer it follows.

In eval mode a BatchNorm with running statistics is an affine map per channel c,
    y_c = (x_c - mean_c) * gamma_c / sqrt(var_c + eps) + beta_c,
and when x_c = W_c * u + b_c is output channel c of a Conv1d/2d/3d or Linear layer that only this BatchNorm reads,
the two are one layer with
    W'_c = W_c * s_c,   b'_c = (b_c - mean_c) * s_c + beta_c,   s_c = gamma_c / sqrt(var_c + eps)
(b_c = 0 without a bias, gamma_c = 1 and beta_c = 0 where the BatchNorm has no affine weight or bias; the fused
layer always has a bias). This is BatchNorm's own rule applied to its reader's weights, kept here beside the graph
rewrite it belongs to. It holds in eval mode only: training normalizes with each batch's statistics.

s_c is rational when var_c + eps is the square of a rational, and the fold is then exact. Otherwise
sqrt(var_c + eps) comes from compute.sqrt_ratio and every folded value is rounded to DIGITS (40) significant
digits; eps is the exact binary value of the double PyTorch adds, as the executor takes it.

The fused spec is the expanded network as a flat list of layers, each with its name and its `inputs`, so
branches survive; names are kept, block paths such as layer1.0.conv1 included (a flat spec can write them).
Layers carry `weights` where the original spec gave them or, with a seed, every value the seeded generator
(execute.weights_for) gives, so that `cnncalc run OUT --seed N` computes what `cnncalc run SPEC --seed N` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import isqrt, lcm, prod
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc.budget import DEFAULT_MAX_ELEMENTS, PRACTICAL, units_up
from cnncalc.compute import decimal_exponent, sqrt_ratio
from cnncalc.errors import LayerError, SpecError, UsageError
from cnncalc.execute import Weights, weights_for
from cnncalc.graph import NETWORK_INPUT, Graph, Node, located
from cnncalc.layers import Layer, fmt_shape
from cnncalc.layout import shown
from cnncalc.tensor import DIGITS, Tensor
from cnncalc.yamlsource import at
from cnncalc.yamltext import flow_value

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.analyze import Report

FOLDS_INTO = ("Conv1d", "Conv2d", "Conv3d", "Linear")  # a weight row per output channel, then a bias per channel
NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")


class Folded(NamedTuple):
    """One BatchNorm folded into the layer it reads."""

    producer: str  # the conv or linear layer, as named in the source spec
    norm: str  # the BatchNorm, as named in the source spec
    name: str  # the fused layer's name in the fused spec
    kind: str  # the producer's kind
    exact: bool | None  # every channel folded exactly; None where no values were folded (structure only)


class Skipped(NamedTuple):
    norm: str
    reason: str


class FusedLayer(NamedTuple):
    """One layer of the fused spec."""

    source: str  # the layer of the source spec it comes from (the conv or linear layer for a fused one)
    name: str
    kind: str
    arguments: dict[str, Any]  # the kind's arguments as the spec gave them (the fused layer's bias: true)
    inputs: list[str]
    trainable: bool
    given: dict[str, Any]  # values written as the source spec wrote them (state_dict name -> nested list)
    values: dict[str, Tensor]  # values written from tensors: folded ones, and seeded ones with a seed


class Fusion(NamedTuple):
    source: Graph
    layers: list[FusedLayer]  # in file order; the last is the network's output, as in the source
    folded: list[Folded]
    skipped: list[Skipped]
    renamed: dict[str, str]  # source name -> fused spec name, where they differ
    seed: int | None  # --seed-weights: every value written; None: only the spec's (and folded) values

    def weights(self) -> Weights:
        """The values the fused spec carries as tensors, by fused layer name, as execute() takes them: every
        layer's complete when the fusion was made with a seed."""
        given = given_values(self.source, self.source.nodes)
        return {layer.name: {**given.get(layer.source, {}), **layer.values} for layer in self.layers}


# -- which BatchNorms fold ------------------------------------------------------------------------------------


def readers_of(graph: Graph) -> dict[str, list[str]]:
    readers: dict[str, list[str]] = {}
    for node in graph.nodes:
        for source in node.inputs:
            readers.setdefault(source, []).append(node.name)
    return readers


def why_not(graph: Graph, norm: Node, readers: dict[str, list[str]]) -> str | None:
    """Why BatchNorm `norm` cannot fold into the layer it reads, or None when it can."""
    layer = norm.bound()
    source = norm.inputs[0]
    if source == NETWORK_INPUT:
        return "it reads the network input, not a conv or linear layer"
    producer = graph.node(source)
    if producer.kind not in FOLDS_INTO:
        return f"it reads '{source}' ({producer.kind}), not a Conv1d/2d/3d or Linear layer"
    if not layer.track_running_stats:
        return (
            "track_running_stats is false: it normalizes with each batch's statistics even in eval mode, "
            "which no weight can absorb"
        )
    out_shape = producer.bound().out_shape
    if producer.kind == "Linear" and len(out_shape) != 1:
        return (
            f"'{source}' outputs {fmt_shape(out_shape)} per sample with its features on the last axis, but "
            f"{norm.kind} normalizes each channel of the first"
        )
    others = [r for r in readers.get(source, []) if r != norm.name]
    if others:
        shown_others = ", ".join(f"'{r}'" for r in others[:3]) + (" ..." if len(others) > 3 else "")
        return f"'{source}' is also read by {shown_others}: folding would change what they read"
    if source == graph.output:
        return f"'{source}' is also the network's output"
    return None


def find_pairs(graph: Graph) -> tuple[list[tuple[Node, Node]], list[Skipped]]:
    """(producer, BatchNorm) pairs that fold, and the BatchNorms that do not, with the reason."""
    readers = readers_of(graph)
    pairs, skipped = [], []
    for node in graph.nodes:
        if node.kind not in NORMS:
            continue
        reason = why_not(graph, node, readers)
        if reason is None:
            pairs.append((graph.node(node.inputs[0]), node))
        else:
            skipped.append(Skipped(node.name, reason))
    folded = {norm.name for _, norm in pairs}
    again = "; that one is folded here, so running cnncalc fuse on the result folds this one too"
    return pairs, [
        s._replace(reason=s.reason + again) if graph.node(s.norm).inputs[0] in folded else s for s in skipped
    ]


# -- the fold --------------------------------------------------------------------------------------------------


def inverse_root(total: Fraction) -> tuple[Fraction, bool]:
    """1 / sqrt(total) and whether it is exact: exact when total is the square of a rational, else from
    compute.sqrt_ratio (DIGITS significant digits or better)."""
    from fractions import Fraction

    top, bottom = total.numerator, total.denominator
    top_root, bottom_root = isqrt(top), isqrt(bottom)
    if top_root * top_root == top and bottom_root * bottom_root == bottom:
        return Fraction(bottom_root, top_root), True
    root_top, root_bottom = sqrt_ratio(top, bottom)
    return Fraction(root_bottom, root_top), False


def round_significant(numerator: int, denominator: int, digits: int = DIGITS) -> Fraction:
    """numerator / denominator (denominator > 0) rounded to `digits` significant digits, half away from zero,
    as an exact decimal fraction."""
    from fractions import Fraction

    if numerator == 0:
        return Fraction(0)
    size = abs(numerator)
    shift = digits - 1 - decimal_exponent(size, denominator)  # within one of the right shift; settled below
    while True:
        top, bottom = (size * 10**shift, denominator) if shift >= 0 else (size, denominator * 10**-shift)
        mantissa = (2 * top + bottom) // (2 * bottom)
        if mantissa >= 10**digits:
            shift -= 1
        elif mantissa < 10 ** (digits - 1):
            shift += 1
        else:
            break
    value = Fraction(mantissa, 10**shift) if shift >= 0 else Fraction(mantissa * 10**-shift)
    return value if numerator > 0 else -value


def _per_channel(rows: list[list[int]], values: list[dict[int, Fraction]]) -> tuple[list[int], int]:
    """A tensor whose channel c holds values[c][v] for every numerator v of rows[c], over the least common
    denominator (rows of seeded weights repeat few numerators, so each distinct one is folded once)."""
    denominator = lcm(*(v.denominator for table in values for v in table.values()))
    data: list[int] = []
    for row, table in zip(rows, values, strict=True):
        scaled = {v: f.numerator * (denominator // f.denominator) for v, f in table.items()}
        data.extend(scaled[v] for v in row)
    return data, denominator


def fold(producer: Layer, norm: Layer, weights: dict[str, Tensor], stats: dict[str, Tensor]) -> dict[str, Tensor]:
    """The fused layer's weight and bias: BatchNorm `norm` (eval mode, running statistics `stats`) applied to
    `producer`'s `weights` (see the module's docstring). Tensors are marked approximate where a channel's
    sqrt(var + eps) is irrational and its values are rounded to DIGITS significant digits."""
    from fractions import Fraction

    weight = weights["weight"]
    channels = weight.shape[0]
    row = prod(weight.shape[1:])
    affine = norm.weights()
    eps = norm.epsilon()
    rows, folded_rows, biases = [], [], []
    all_exact = True
    for c in range(channels):
        mean = Fraction(stats["running_mean"].value(c))
        total = stats["running_var"].value(c) + eps
        if total <= 0:
            raise LayerError(
                f"running_var + eps is {float(total):g} for channel {c}: PyTorch divides by its square root and "
                "outputs inf or NaN, so there is nothing to fold",
                arg="eps",
                hint="use a positive running_var, or a positive eps such as 1e-05",
            )
        inverse, exact = inverse_root(Fraction(total))
        gamma = stats["weight"].value(c) if "weight" in affine else 1
        beta = stats["bias"].value(c) if "bias" in affine else 0
        scale = gamma * inverse
        all_exact = all_exact and exact
        # Element v / D of the weight becomes v * scale / D: one exact product, rounded where the root was.
        p, q = scale.numerator, scale.denominator * weight.denominator
        numerators = weight.data[c * row : (c + 1) * row]
        distinct = set(numerators)
        rows.append(numerators)
        folded_rows.append(
            {v: Fraction(v * p, q) if exact else round_significant(v * p, q) for v in distinct},
        )
        bias = weights["bias"].value(c) if "bias" in weights else 0
        shifted = (bias - mean) * scale + beta
        biases.append(shifted if exact else round_significant(shifted.numerator, shifted.denominator))
    data, denominator = _per_channel(rows, folded_rows)
    approximate = not all_exact or any(t.approximate for t in (*weights.values(), *stats.values()))
    folded_bias = Tensor.from_values((channels,), biases, approximate=approximate)
    return {"weight": Tensor(weight.shape, data, denominator, approximate).reduced(), "bias": folded_bias}


def needed(layer: Layer, norm: bool) -> list[str]:
    """The state_dict entries a fold reads: the producer's weight (and bias); the norm's statistics and affine."""
    if norm:
        return ["running_mean", "running_var", *layer.weights()]
    return list(layer.weights())


# -- the rewrite -----------------------------------------------------------------------------------------------


def flat_names(graph: Graph) -> dict[str, str]:
    """Every node's name in the fused spec: its own. Full names are unique and a flat spec can write every one of
    them, block paths (layer1.0.conv1) included, so state_dict keys survive the fuse (the report's `renamed` is
    therefore empty)."""
    return {node.name: node.name for node in graph.nodes}


def _subgraph(graph: Graph, nodes: list[Node]) -> Graph:
    return Graph(graph.name, graph.file, graph.input_shape, graph.batch, nodes, nodes[-1].name)


def given_values(graph: Graph, nodes: list[Node]) -> Weights:
    """The spec's values of `nodes` as tensors (only the entries it gives), checked as `cnncalc run` checks them."""
    carriers = [n for n in nodes if n.values is not None]
    if not carriers:
        return {}
    return weights_for(_subgraph(graph, carriers), 0, generate=False)


def check_seeded_values(graph: Graph, max_elements: int) -> None:
    """Refuse --seed-weights before generating anything when the network holds more than `max_elements` weights
    and buffers: each is generated, folded and written out as text (ResNet-18's 11.7 M make some 500 MB)."""
    count = sum(node.bound().params() + node.bound().buffer_count() for node in graph.nodes)
    if count <= max_elements:
        return
    hint = "without --seed-weights, only the values the spec gives are folded and written"
    if count <= PRACTICAL:
        hint += f"; or raise the budget: --max-elements {units_up(count)}"
    raise UsageError(
        f"--seed-weights would generate and write {count:,} values (every weight and buffer of the network), above "
        f"the budget of {max_elements:,} (--max-elements)",
        hint=hint,
    )


def fuse(graph: Graph, seed: int | None = None, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Fusion:
    """Fold every foldable BatchNorm of `graph`. With `seed`, values come from execute.weights_for(graph, seed)
    (the spec's where given, seeded elsewhere) and every layer carries them; without, only the spec's values are
    folded and kept, and a pair with some values given and some not is an error."""
    pairs, skipped = find_pairs(graph)
    if seed is not None:
        check_seeded_values(graph, max_elements)
    # With a seed, every value; without, the spec's own (checked here, so a bad one fails now, not at `run`).
    values = weights_for(graph, seed) if seed is not None else given_values(graph, graph.nodes)
    names = flat_names(graph)
    by_norm = {norm.name: producer for producer, norm in pairs}
    folded_into = {producer.name for producer, _ in pairs}
    layers: list[FusedLayer] = []
    folded: list[Folded] = []
    for node in sorted(graph.nodes, key=lambda n: n.position):  # file order: the last layer stays the output
        if node.name in folded_into:
            continue  # written where its BatchNorm was (so a BatchNorm that was the output stays last)
        producer = by_norm.get(node.name)
        if producer is None:
            given = dict(node.values or {})  # written as the spec wrote them
            generated = {k: v for k, v in values.get(node.name, {}).items() if k not in given}
            layers.append(
                FusedLayer(
                    node.name,
                    names[node.name],
                    node.kind,
                    dict(node.arguments),
                    [names.get(i, i) for i in node.inputs],
                    node.trainable,
                    given,
                    generated,
                )
            )
            continue
        fused, exact = _fold_pair(graph, producer, node, values, seed is not None)
        arguments = {**producer.arguments, "bias": True}
        inputs = [names.get(i, i) for i in producer.inputs]
        layers.append(
            FusedLayer(
                producer.name, names[producer.name], producer.kind, arguments, inputs, producer.trainable, {}, fused
            )
        )
        folded.append(Folded(producer.name, node.name, names[producer.name], producer.kind, exact))
    # Readers of a folded BatchNorm now read the fused layer, which has the producer's name.
    redirect = {names[norm.name]: names[producer.name] for producer, norm in pairs}
    layers = [layer._replace(inputs=[redirect.get(i, i) for i in layer.inputs]) for layer in layers]
    renamed = {old: new for old, new in names.items() if old != new}
    return Fusion(graph, layers, folded, skipped, renamed, seed)


def _fold_pair(
    graph: Graph, producer: Node, norm: Node, values: Weights, seeded: bool
) -> tuple[dict[str, Tensor], bool | None]:
    """The fused values of one pair, and whether they are exact; no values (structure only) where the spec gives
    none for either layer and no seed was asked."""
    weights, stats = values.get(producer.name, {}), values.get(norm.name, {})
    if not seeded:
        if not weights and not stats:
            return {}, None
        missing = [
            f"{node.name}.{entry}"
            for node, entries in ((producer, needed(producer.bound(), norm=False)), (norm, needed(norm.bound(), True)))
            for entry in entries
            if entry not in values.get(node.name, {})
        ]
        if missing:
            some = producer if producer.values is not None else norm
            raise SpecError(
                f"folding '{norm.name}' into '{producer.name}' needs all of their values or none, and "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not given",
                location=at(graph.file, some.arg_marks.get("weights", some.mark)),
                layer=some.label(),
                hint="give them in the spec, or use --seed-weights N to fill them from the seeded generator "
                "(as cnncalc run --seed N does)",
            )
    try:
        fused = fold(producer.bound(), norm.bound(), weights, stats)
    except LayerError as error:
        raise located(graph.file, norm, error) from None
    return fused, not fused["weight"].approximate and not fused["bias"].approximate


# -- the fused spec as YAML ------------------------------------------------------------------------------------


def number_text(value: Fraction | int) -> str:
    """An exact value: an integer, a decimal where the denominator has no prime factors but 2 and 5, else "p/q"
    (all read back exactly by cnncalc.tensor.parse_value)."""
    from decimal import Decimal

    numerator, denominator = value.numerator, value.denominator
    if denominator == 1:
        return str(numerator)
    rest, twos, fives = denominator, 0, 0
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f'"{numerator}/{denominator}"'
    places = max(twos, fives)
    digits = numerator * 10**places // denominator
    return f'"{Decimal(f"{digits}E-{places}")}"'


def _nested_text(items: list[Any], shape: tuple[int, ...], indent: int) -> str:
    """Flow lists with the innermost lists one per line, continuation lines indented past `indent`."""
    if len(shape) <= 1:
        return "[" + ", ".join(items) + "]"
    step = len(items) // shape[0] if shape[0] else 0
    parts = [_nested_text(items[i * step : (i + 1) * step], shape[1:], indent + 1) for i in range(shape[0])]
    return "[" + (",\n" + " " * (indent + 1)).join(parts) + "]"


def tensor_text(tensor: Tensor, indent: int) -> str:
    from fractions import Fraction

    texts: dict[int, str] = {}  # seeded and folded weights repeat few values
    items = []
    for v in tensor.data:
        text = texts.get(v)
        if text is None:
            text = texts[v] = number_text(Fraction(v, tensor.denominator))
        items.append(text)
    if not tensor.shape:
        return items[0]
    return _nested_text(items, tensor.shape, indent)


def _given_text(value: Any, indent: int) -> str:
    """A value as the spec wrote it (nested lists of numbers or 'p/q' text)."""
    if not isinstance(value, list):
        return flow_value(value)
    if not value or not isinstance(value[0], list):
        return flow_value(value)
    pad = ",\n" + " " * (indent + 1)
    return "[" + pad.join(_given_text(v, indent + 1) for v in value) + "]"


def spec_lines(fusion: Fusion, with_weights: bool = True) -> Iterator[str]:
    """The fused spec, line by line (a seeded ResNet-18 carries 11.7 million values: written as they come)."""
    graph = fusion.source
    folds = len(fusion.folded)
    exact = all(f.exact is not False for f in fusion.folded)
    yield f"# cnncalc fuse {graph.file}: {folds} BatchNorm layer(s) folded into the conv or linear layer before them."
    yield "# Valid in eval mode (running statistics); the network is flattened: one entry per layer, with its inputs."
    if fusion.seed is not None:
        yield f"# Values: the spec's where it gives them, else cnncalc's seeded generator with seed {fusion.seed}."
    if not exact:
        yield f"# Folded values through an irrational sqrt(var + eps) are rounded to {DIGITS} significant digits."
    name = graph.name if graph.name.endswith("_fused") else graph.name + "_fused"
    yield f"name: {flow_value(name)}"
    yield f"description: {flow_value(f'{graph.name} with its BatchNorm layers folded (cnncalc fuse, eval mode)')}"
    yield f"input: {flow_value(list(shown(graph.input_shape, graph.layout)))}"
    if graph.layout != "chw":
        yield f"layout: {graph.layout}"
    if graph.batch != 1:
        yield f"batch: {graph.batch}"
    yield "layers:"
    for layer in fusion.layers:
        arguments: dict[str, Any] = {"name": layer.name, "inputs": layer.inputs, **layer.arguments}
        if not layer.trainable:
            arguments["trainable"] = False
        kind = layer.kind.lower()
        if not with_weights or not (layer.given or layer.values):
            yield f"  - {kind}: {flow_value(arguments)}"
            continue
        yield f"  - {kind}:"
        for key, value in arguments.items():
            yield f"      {key}: {flow_value(value)}"
        yield "      weights:"
        for key, value in layer.given.items():
            yield f"        {key}: {_given_text(value, 9 + len(key))}"
        for key, tensor in layer.values.items():
            yield f"        {key}: {tensor_text(tensor, 9 + len(key))}"


def spec_text(fusion: Fusion, with_weights: bool = True) -> str:
    return "\n".join(spec_lines(fusion, with_weights)) + "\n"


# -- the report ------------------------------------------------------------------------------------------------

FIGURES = ("params", "buffers", "macs", "flops")


def _totals(report: Report) -> dict[str, int]:
    t = report.totals
    return {"params": t.params, "buffers": t.buffers, "macs": t.macs, "flops": t.flops}


def report_dict(fusion: Fusion, before: Report, after: Report, output: str) -> dict[str, Any]:
    """What was folded and what it saves: the analyzer's figures on the source and on the fused spec."""
    rows_before = {r.name: r for r in before.rows}
    rows_after = {r.name: r for r in after.rows}
    pairs = []
    for f in fusion.folded:
        old = [rows_before[f.producer], rows_before[f.norm]]
        new = rows_after[f.name]
        pairs.append(
            {
                "layer": f.producer,
                "batchnorm": f.norm,
                "fused": f.name,
                "type": f.kind,
                "exact": f.exact,
                "params_saved": sum(r.params for r in old) - new.params,
                "buffers_saved": sum(r.buffers for r in old) - new.buffers,
                "flops_saved": sum(r.flops for r in old) - new.flops,
            }
        )
    totals_before, totals_after = _totals(before), _totals(after)
    return {
        "name": fusion.source.name,
        "file": fusion.source.file,
        "output": output,
        "mode": "eval",
        "batch": before.batch,
        "values": _values_word(fusion),
        "digits": DIGITS,
        "folded": pairs,
        "skipped": [{"batchnorm": s.norm, "reason": s.reason} for s in fusion.skipped],
        "renamed": fusion.renamed,
        "before": totals_before,
        "after": totals_after,
        "saved": {k: totals_before[k] - totals_after[k] for k in FIGURES},
    }


def _values_word(fusion: Fusion) -> str:
    """Where the fused spec's values come from, for the report."""
    if fusion.seed is not None:
        return f"the spec's where given, else seeded (seed {fusion.seed}): every layer carries its values"
    if any(layer.given or layer.values for layer in fusion.layers):
        return "the spec's: layers that gave values carry them (folded where their pair was folded)"
    return "none: the spec gives none (--seed-weights N folds the seeded generator's)"


def report_text(data: dict[str, Any]) -> str:
    lines = []
    count = len(data["folded"])
    if count:
        lines.append(
            f"{data['name']}: folded {count} BatchNorm layer(s) into the layers they follow (eval mode) -> "
            f"{data['output']}"
        )
        width = max(len(f"{p['layer']} + {p['batchnorm']}") for p in data["folded"])
        for p in data["folded"]:
            how = {True: "exact", False: f"{data['digits']} significant digits", None: "structure only"}[p["exact"]]
            pair = f"{p['layer']} + {p['batchnorm']}"
            lines.append(
                f"  {pair:<{width}} -> {p['fused']} ({p['type']}, {how}): {p['params_saved']:,} params, "
                f"{p['buffers_saved']:,} buffers, {p['flops_saved']:,} FLOPs saved"
            )
    else:
        lines.append(f"{data['name']}: nothing to fold; wrote the network unchanged (flattened) to {data['output']}")
    if data["skipped"]:
        lines.append("not folded:")
        lines.extend(f"  {s['batchnorm']}: {s['reason']}" for s in data["skipped"])
    elif not count:
        lines.append("  (it has no BatchNorm layer)")
    lines.append(f"values: {data['values']}")
    header = f"{'':8}{'before':>16}{'after':>16}{'saved':>16}"
    lines.append(header)
    labels = {"params": "params", "buffers": "buffers", "macs": "MACs", "flops": "FLOPs"}
    for key in FIGURES:
        lines.append(f"{labels[key]:8}{data['before'][key]:>16,}{data['after'][key]:>16,}{data['saved'][key]:>16,}")
    return "\n".join(lines) + "\n"
