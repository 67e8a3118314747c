"""The analyzers' walk over a shaped graph: one row per layer and the totals under them.

Every figure comes from the layer kinds' own rules (`cnncalc.layers`); this module only walks, multiplies by the
batch size and adds up. Per-sample figures are scaled by `batch` for MACs, FLOPs and activation memory.
"""

from __future__ import annotations

from itertools import compress
from math import prod
from operator import itemgetter
from typing import Any, NamedTuple

from cnncalc.errors import LayerError, UsageError
from cnncalc.graph import NETWORK_INPUT, Graph, Node, located
from cnncalc.layers import Layer, Shape
from cnncalc.receptive import ReceptiveField, receptive_fields
from cnncalc.speed import paused_gc
from cnncalc.units import DTYPE_BYTES

# False: every figure the long way (no per-Layer figures kept across analyses, the walk for unused layers), for
# the tests that compare both ways (tests/test_analysis_paths.py).
shortcuts = True

SCHEMA_VERSION = 2  # 2: summary `blocks` (the block tree), diff `depth`; see README "The JSON report"


class Row(NamedTuple):
    name: str
    kind: str
    summary: str  # the layer's arguments in short, e.g. "k5 p2"
    inputs: list[str]
    output_shape: Shape  # per sample
    weight_shapes: dict[str, Shape]  # learnable parameters by state_dict name
    buffer_shapes: dict[str, Shape]
    params: int
    trainable: bool
    buffers: int
    macs: int  # for the whole batch
    other_ops: int  # for the whole batch
    flops: int  # 2 * macs + other_ops
    activation_elements: int  # output elements for the whole batch
    activation_bytes: int
    receptive_field: ReceptiveField | None
    # Training figures (analyze(..., optimizer=...); None otherwise): cnncalc/training.py, whole batch.
    backward_macs: int | None = None
    saved_bytes: int | None = None  # memory first saved for backward by this layer


class Totals(NamedTuple):
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    other_ops: int
    flops: int
    output_shape: Shape
    input_elements: int
    input_bytes: int
    activation_elements: int  # all layer outputs, whole batch (what a training step keeps)
    activation_bytes: int
    param_bytes: int
    # Training figures (analyze(..., optimizer=...); None otherwise), whole batch.
    backward_macs: int | None = None
    saved_bytes: int | None = None
    training_bytes: int | None = None  # params + gradients + optimizer state + saved (docs/conventions.md)
    optimizer: str | None = None


class Report(NamedTuple):
    name: str
    file: str
    input_shape: Shape
    batch: int
    dtype: str
    rows: list[Row]
    totals: Totals
    warnings: list[str]
    layout: str  # how shapes print (cnncalc.layout); the figures are channels-first


def dtype_bytes(dtype: str) -> int:
    if dtype not in DTYPE_BYTES:
        from cnncalc.args import did_you_mean

        raise UsageError(
            f"unknown dtype '{dtype}' (valid: {', '.join(DTYPE_BYTES)})",
            hint=did_you_mean(dtype, list(DTYPE_BYTES)),
        )
    return DTYPE_BYTES[dtype]


def analyze(
    graph: Graph,
    dtype: str = "float32",
    layout: str | None = None,
    optimizer: str | None = None,
    receptive: bool = True,
) -> Report:
    """Rows and totals of `graph`; shapes print in `layout` (default: the spec's). With `optimizer` (sgd,
    momentum, adam, adamw), the training figures too: backward MACs, saved bytes, training bytes. With
    `receptive=False`, no receptive fields (every row's is None, and no warning about them): for `cnncalc check`,
    which reads fields only for some lint rules and budgets (cnncalc.check.needs_fields)."""
    with paused_gc():
        report = _analyze(graph, dtype, layout or graph.layout, receptive)
        return report if optimizer is None else with_training(report, graph, optimizer)


def with_training(report: Report, graph: Graph, optimizer: str) -> Report:
    """The report with each row's backward MACs and saved bytes, and the totals' training bytes."""
    from cnncalc.training import optimizer_state_bytes, training

    size = dtype_bytes(report.dtype)
    figures = training(graph, size)
    rows = [
        row._replace(
            backward_macs=figures.layers[row.name].backward_macs, saved_bytes=figures.layers[row.name].saved_bytes
        )
        for row in report.rows
    ]
    t = report.totals
    tensors = sum(len(row.weight_shapes) for row in rows if row.trainable)
    trainable_bytes = t.trainable_params * size
    state = optimizer_state_bytes(optimizer, t.trainable_params, tensors, size)
    totals = t._replace(
        backward_macs=figures.backward_macs,
        saved_bytes=figures.saved_bytes,
        training_bytes=t.param_bytes + trainable_bytes + state + figures.saved_bytes,
        optimizer=optimizer,
    )
    return report._replace(rows=rows, totals=totals)


def _analyze(graph: Graph, dtype: str, layout: str, receptive: bool = True) -> Report:
    size = dtype_bytes(dtype)
    batch = graph.batch
    fields: list[ReceptiveField | None] = []  # each node's, in order
    if receptive:
        warnings = receptive_fields(graph, fields)[1]
    else:  # check: no rule or budget reads them (cnncalc.check.needs_fields)
        fields, warnings = [None] * len(graph.nodes), []
    rows: list[Row] = []
    # Per Layer object (nodes built alike share one, graph.py): the row's fields but the node's own (name, inputs,
    # trainable, receptive field), computed once.
    figures: dict[int, tuple[Any, ...]] = {}
    new_row = tuple.__new__  # Row(...) without NamedTuple's Python-level __new__: one call per layer
    unread: set[str] = set()  # the layers no layer has read so far (_unused_layers)
    for node, field in zip(graph.nodes, fields, strict=True):
        layer = node.layer or node.bound()
        known = figures.get(id(layer))
        if known is None:
            known = figures[id(layer)] = _batch_figures(graph.file, node, layer, batch, size)
        kind, summary, shape, weights, buffers, params, buffer_count, macs, other, flops, elements, memory = known
        # The row's inputs are the node's list itself (neither changes once the graph is built): a list per row
        # would be 64 bytes, a million layers' worth of them 64 MB.
        name = node.name
        inputs = node.inputs
        unread.difference_update(inputs)  # the names just read are those of recent layers: fast, in the cache
        unread.add(name)
        # fmt: off
        row = (name, kind, summary, inputs, shape, weights, buffers, params, node.trainable, buffer_count,
               macs, other, flops, elements, memory, field, None, None)
        # fmt: on
        rows.append(new_row(Row, row))
        if layer.warnings:
            warnings.extend(f"layer '{node.name}': {text}" for text in layer.warnings)
    params = sum(map(_PARAMS, rows))
    trainable = sum(compress(map(_PARAMS, rows), map(_TRAINABLE, rows)))
    input_elements = prod(graph.input_shape) * batch
    activations = sum(map(_ACTIVATION_ELEMENTS, rows))
    macs = sum(map(_MACS, rows))
    other = sum(map(_OTHER_OPS, rows))
    totals = Totals(
        params=params,
        trainable_params=trainable,
        non_trainable_params=params - trainable,
        buffers=sum(map(_BUFFERS, rows)),
        macs=macs,
        other_ops=other,
        flops=2 * macs + other,
        output_shape=graph.output_shape,
        input_elements=input_elements,
        input_bytes=input_elements * size,
        activation_elements=activations,
        activation_bytes=activations * size,
        param_bytes=params * size,
    )
    unused = _unused_layers(graph, unread if shortcuts else None)
    if unused:
        shown = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
        warnings.append(f"not used by the output '{graph.output}': {shown}")
    return Report(
        graph.name, graph.file, graph.input_shape, batch, dtype, rows, totals, warnings + graph.warnings, layout
    )


def _batch_figures(file: str, node: Node, layer: Layer, batch: int, size: int) -> tuple[Any, ...]:
    """The row fields that are the layer's (all but the node's name, inputs, trainable and receptive field), in
    their order, for the whole batch."""
    try:
        layer.check_batch_size(batch)
    except LayerError as error:
        raise located(file, node, error) from None
    kind, summary, shape, weights, buffers, params, buffer_count, macs, other, elements = sample_figures(layer)
    macs *= batch
    other *= batch
    elements *= batch
    return (kind, summary, shape, weights, buffers, params, buffer_count, macs, other, 2 * macs + other, elements,
            elements * size)  # fmt: skip


# Per-sample figures by Layer, kept across analyses: `cnncalc check` analyzes many specs whose layers are shared
# by configuration (cnncalc.graph.bind), and a spec analyzed at several sizes or dtypes. Each entry keeps its Layer
# alive, so an id is never that of another object; at most SHARED_FIGURES layers are kept (then it starts again).
_SAMPLE_FIGURES: dict[int, tuple[Layer, tuple[Any, ...]]] = {}
SHARED_FIGURES = 10_000


def sample_figures(layer: Layer) -> tuple[Any, ...]:
    """The layer's kind, summary, output shape, weight and buffer shapes, parameter and buffer counts, MACs,
    other ops and output elements, per sample (the same objects each time: rows share them)."""
    known = _SAMPLE_FIGURES.get(id(layer)) if shortcuts else None
    if known is not None:
        return known[1]
    weights = layer.weights()
    buffers = layer.buffers()
    params = sum(map(prod, weights.values()))
    buffer_count = sum(map(prod, buffers.values()))
    figures = (layer.kind, layer.summary(), layer.out_shape, weights, buffers, params, buffer_count, layer.macs(),
               layer.other_ops(), prod(layer.out_shape))  # fmt: skip
    if len(_SAMPLE_FIGURES) >= SHARED_FIGURES:
        _SAMPLE_FIGURES.clear()
    _SAMPLE_FIGURES[id(layer)] = (layer, figures)
    return figures


# Row fields by position, for the totals' sums (map and itemgetter: no Python code per row).
_PARAMS, _TRAINABLE, _BUFFERS = itemgetter(7), itemgetter(8), itemgetter(9)
_MACS, _OTHER_OPS, _ACTIVATION_ELEMENTS = itemgetter(10), itemgetter(11), itemgetter(13)


def _unused_layers(graph: Graph, unread: set[str] | None = None) -> list[str]:
    """Layers whose output never reaches the network's output (probably a mistyped `inputs`).

    `unread`: the layers that no layer reads (analyze's walk gathers them). When none is, but the output, no layer
    is unused (follow any layer's readers, each later in the graph's order: they end at a layer nobody reads, the
    output), the common case, known at once. Else, or without `unread`, the walk back from the output
    (tests/test_analysis_paths.py)."""
    if unread is not None and unread <= {graph.output}:
        return []
    needed = {graph.output}
    for node in reversed(graph.nodes):
        if node.name in needed:
            needed.update(node.inputs)
    return [n.name for n in graph.nodes if n.name not in needed and n.name != NETWORK_INPUT]
