"""`cnncalc explain`: for each layer, the derivation of every figure `summary` shows, from the same rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report
from cnncalc.formula import Term, shown
from cnncalc.graph import NETWORK_INPUT, Graph, Node
from cnncalc.layers import POINTWISE, fmt_shape
from cnncalc.layers.base import spatial_names
from cnncalc.layout import shown as in_layout
from cnncalc.receptive import ReceptiveField, compose_axis, layout
from cnncalc.units import rational, rational_text

if TYPE_CHECKING:
    from cnncalc.training import LayerTraining, Training


def explain_text(graph: Graph, report: Report, names: list[str], train: Training | None = None) -> str:
    rows = {row.name: row for row in report.rows}
    fields = {row.name: row.receptive_field for row in report.rows}
    fields[NETWORK_INPUT] = _input_field(graph)
    folds = _folds(graph, report)
    blocks = []
    for node in graph.nodes:
        if names and node.name not in names:
            continue
        text = _layer_text(node, rows[node.name], fields, report.layout, graph)
        if node.name in folds:
            text += "\n  note: " + _fold_note(folds[node.name])
        if train is not None:
            text += "\n" + "\n".join(training_lines(node, train.layers[node.name], report))
        blocks.append(text)
    return "\n\n".join(blocks) + "\n"


def explain_dict(graph: Graph, report: Report, names: list[str], train: Training | None = None) -> dict[str, Any]:
    """What `explain_text` shows, for machines: per layer the formulas (symbols, numbers, value, as `cnncalc layer
    --format json` writes them), the figures, notes and the receptive-field step. Figures are per sample."""
    fields = {row.name: row.receptive_field for row in report.rows}
    fields[NETWORK_INPUT] = _input_field(graph)
    folds = _folds(graph, report)
    layers = [
        _layer_dict(node, fields, report.layout, folds.get(node.name))
        for node in graph.nodes
        if not names or node.name in names
    ]
    if train is not None:
        for entry in layers:
            entry["training"] = training_dict(train.layers[entry["name"]], report)
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "name": report.name,
        "file": report.file,
        "layout": report.layout,
        "input_shape": list(in_layout(graph.input_shape, report.layout)),
        "layers": layers,
    }


def formula_dict(term: Term) -> dict[str, Any]:
    """One derivation as `cnncalc layer --format json` writes it; non-integer values as "p/q" strings."""
    value = term.value if isinstance(term.value, int) else rational(term.value)
    return {"symbols": term.symbols, "numbers": term.numbers, "value": value}


def _layer_dict(
    node: Node, fields: dict[str, ReceptiveField | None], layout: str, fold: dict[str, Any] | None
) -> dict[str, Any]:
    from cnncalc.render.json_report import rf_dict

    layer = node.bound()
    notes = list(layer.notes()) + ([_fold_note(fold)] if fold else [])
    rule, axes = _field_step(node, fields)
    step: dict[str, Any] = {"rule": rule}
    if axes:
        step["axes"] = [
            {"axis": letter, "size": formula_dict(size), "stride": formula_dict(stride), "padding": formula_dict(pad)}
            for letter, size, stride, pad in axes
        ]
    return {
        "name": node.name,
        "type": layer.kind,
        "summary": layer.summary(),
        "inputs": [
            {"name": name, "shape": list(in_layout(shape, layout))}
            for name, shape in zip(node.inputs, layer.in_shapes, strict=True)
        ],
        "output_shape": list(in_layout(layer.out_shape, layout)),
        "formulas": {what: formula_dict(term) for what, term in layer.explain() if isinstance(term, Term)},
        "params": layer.params(),
        "weight_shapes": {name: list(shape) for name, shape in layer.weights().items()},
        "buffers": layer.buffer_count(),
        "buffer_shapes": {name: list(shape) for name, shape in layer.buffers().items()},
        "macs": layer.macs(),
        "other_ops": layer.other_ops(),
        "ops_rule": layer.ops_rule,
        "notes": notes,
        "fold": fold,
        "receptive_field": rf_dict(fields.get(node.name)),
        "receptive_field_step": step,
        "warnings": list(layer.warnings),
    }


def _fold_note(pair: dict[str, Any]) -> str:
    return (
        f"in eval mode this BatchNorm is a fixed scale and shift per channel: it folds into "
        f"'{pair['layer']}' (w' = w*gamma/sqrt(var + eps), b' = (b - mean)*gamma/sqrt(var + eps) + beta), "
        f"saving {pair['params_saved']:,} params, {pair['buffers_saved']:,} buffers and "
        f"{pair['flops_saved']:,} FLOPs (cnncalc fuse writes the folded network)"
    )


def _folds(graph: Graph, report: Report) -> dict[str, dict[str, Any]]:
    """For each BatchNorm that `cnncalc fuse` would fold at inference, what folding it saves (the analyzer's
    figures on the spec and on the fused spec, as fuse reports them): fuse's `folded` entries by BatchNorm."""
    from cnncalc.fuse import find_pairs, fuse, report_dict, spec_text
    from cnncalc.spec import parse_spec

    if not find_pairs(graph)[0]:
        return {}
    fusion = fuse(graph)
    fused = parse_spec(spec_text(fusion, with_weights=False), graph.file, batch=graph.batch)
    from cnncalc.analyze import analyze

    data = report_dict(fusion, report, analyze(fused), "")
    kept = ("layer", "params_saved", "buffers_saved", "flops_saved")
    return {pair["batchnorm"]: {key: pair[key] for key in kept} for pair in data["folded"]}


def _input_field(graph: Graph) -> ReceptiveField | None:
    axes = len(graph.input_shape) - 1
    return ReceptiveField((1,) * axes, (1,) * axes, (0,) * axes) if axes > 0 else None


def _layer_text(node: Node, row: object, fields: dict[str, ReceptiveField | None], layout: str, graph: Graph) -> str:
    layer = node.bound()
    inputs = ", ".join(
        f"{name} {fmt_shape(in_layout(shape, layout))}"
        for name, shape in zip(node.inputs, layer.in_shapes, strict=True)
    )
    title = f"{node.name}: {layer.kind} {layer.summary()}".rstrip()
    lines = [title, f"  reads {inputs}; output {fmt_shape(in_layout(layer.out_shape, layout))}"]
    lines.extend(f"  {what}: {shown(term)}" for what, term in layer.explain())
    explained = {what for what, _ in layer.explain()}
    if "params" not in explained:
        weights = ", ".join(f"{n} {fmt_shape(s)}" for n, s in layer.weights().items())
        lines.append(f"  params: {layer.params():,}" + (f" ({weights})" if weights else ""))
    if layer.buffers() and "buffers" not in explained:
        buffers = ", ".join(f"{n} {fmt_shape(s) or '1'}" for n, s in layer.buffers().items())
        lines.append(f"  buffers: {layer.buffer_count():,} ({buffers})")
    if "MACs" not in explained:
        lines.append(f"  MACs: {layer.macs():,}")
    if "other ops" in explained:
        lines.append(f"  other ops counted: {layer.ops_rule}")
    else:
        lines.append(f"  other ops: {layer.other_ops():,} ({layer.ops_rule})")
    lines.extend(f"  note: {note}" for note in layer.notes())
    lines.extend(_field_lines(node, fields))
    lines.extend(f"  warning: {text}" for text in layer.warnings)
    return "\n".join(lines)


def _field_lines(node: Node, fields: dict[str, ReceptiveField | None]) -> list[str]:
    """The receptive-field step from the layer's input, per axis, with the numbers."""
    rule, axes = _field_step(node, fields)
    if rule == "none":
        return ["  receptive field: none (the output mixes every position)"]
    if rule == "union":
        sizes = " x ".join(rational_text(v) for v in fields[node.name].size)  # type: ignore[union-attr]
        return [f"  receptive field: size {sizes} (the union of its inputs' fields)"]
    if rule == "unchanged":
        return ["  receptive field: unchanged (each output reads one input position)"]
    if rule == "moved":
        field = fields[node.name]
        assert field is not None
        letters = spatial_names(len(field.size))
        where = ", ".join(
            f"{letters[axis]} at dim {dim}" for dim, axis in enumerate(layout(field), 1) if axis is not None
        )
        return [f"  receptive field: unchanged, its axes moved ({where}; the batch axis is dim 0)"]
    return [
        f"  receptive field {letter}: size {shown(size)}; stride {shown(stride)}; padding {shown(padding)}"
        for letter, size, stride, padding in axes
    ]


def _field_step(node: Node, fields: dict[str, ReceptiveField | None]) -> tuple[str, list[tuple[str, Term, Term, Term]]]:
    """How the layer's receptive field follows from its input's: "none" (no field: the output mixes every
    position), "union" (several inputs), "unchanged" (element-wise), "moved" (the values move between axes, each
    input axis's field with them: Permute, Transpose, reshapes) or "composed" with per input spatial axis (letter,
    size, stride, padding) as formula Terms from the same compose rule as the figures."""
    layer = node.bound()
    out = fields.get(node.name)
    amap = layer.axis_map()
    if out is None or amap is None:
        return "none", []
    reads = node.inputs[: layer.value_inputs]
    source = fields.get(reads[0]) if len(reads) == 1 else None
    if source is None:
        return "union", []
    held = layout(source)
    steps = sorted(
        (held[entry[0]], entry[1]) for entry in amap if entry is not None and held[entry[0]] is not None
    )  # (input spatial axis, the window along the output axis now holding it)
    if all(w == POINTWISE for _, w in steps):
        return ("unchanged" if layout(out) == held else "moved"), []
    axes = []
    letters = spatial_names(len(source.size))
    for axis, w in steps:
        r, s, p = (Term.leaf(name, value[axis]) for name, value in zip("rSP", source[:3], strict=True))
        size, stride, padding = compose_axis(
            r, s, p, Term.leaf("e", w.extent), Term.leaf("s", w.stride), Term.leaf("p", w.padding)
        )
        axes.append((letters[axis], size, stride, padding))
    return "composed", axes


def training_lines(node: Node, figures: LayerTraining, report: Report) -> list[str]:
    """`explain --training`: which gradients flow, what the layer saves for backward (each tensor's shape, dtype
    and memory) and its backward MAC terms, for the report's batch and dtype."""
    step = figures.step
    per = f"batch {report.batch}, {report.dtype}"
    if not figures.grad:
        return [f"  training ({per}): no gradient flows through this layer: autograd records nothing, saves nothing"]
    inputs = ", ".join(
        f"'{name}' {'requires grad' if grad else 'no grad'}"
        for name, grad in zip(node.inputs, step.input_grads, strict=True)
    )
    has_weights = bool(node.bound().weights())
    weights = "trainable" if step.weight_grads else "frozen" if has_weights else "none"
    lines = [f"  training ({per}): inputs {inputs}; weights {weights}"]
    for item in figures.saved:
        dtype = item.saved.dtype or report.dtype
        whose = "own memory" if not item.memory else f"the memory of '{item.memory}'"
        counted = f"{item.memory_bytes:,} B" if item.counted else f"counted already ({item.memory_bytes:,} B)"
        shape = fmt_shape(item.saved.shape) or "scalar"
        lines.append(f"  saves {item.saved.what}: {shape} {dtype}, {whose}: {counted}")
    if not figures.saved:
        lines.append("  saves nothing for backward (beyond parameters)")
    lines.append(f"  saved bytes: {figures.saved_bytes:,} (memory first saved by this layer)")
    if figures.backward_terms:
        terms = " + ".join(f"{what} {macs:,}" for what, macs in figures.backward_terms)
        total = sum(macs for _, macs in figures.backward_terms)
        lines.append(f"  backward MACs: {terms} = {total:,} per sample; x {report.batch} = {figures.backward_macs:,}")
    else:
        lines.append("  backward MACs: 0 (no inner products in its gradients)")
    return lines


def training_dict(figures: LayerTraining, report: Report) -> dict[str, Any]:
    """`explain --training --format json`: the same, for machines (backward terms per sample)."""
    return {
        "grad": figures.grad,
        "input_grads": list(figures.step.input_grads),
        "weight_grads": figures.step.weight_grads,
        "saved": [
            {
                "what": item.saved.what,
                "shape": list(item.saved.shape),
                "dtype": item.saved.dtype or report.dtype,
                "memory": item.memory or None,
                "bytes": item.memory_bytes,
                "counted": item.counted,
            }
            for item in figures.saved
        ],
        "saved_bytes": figures.saved_bytes,
        "backward_terms": [{"what": what, "macs": macs} for what, macs in figures.backward_terms],
        "backward_macs": figures.backward_macs,
    }
