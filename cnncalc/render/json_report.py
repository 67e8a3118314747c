"""The JSON report (its keys and their meaning: docs/design.md, "The JSON report"). Keys are never renamed."""

from __future__ import annotations

import json
from typing import Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report, dtype_bytes
from cnncalc.layout import shown
from cnncalc.receptive import ReceptiveField
from cnncalc.tree import Block, Node
from cnncalc.units import rational


def rf_dict(field: ReceptiveField | None) -> dict[str, list[int | str]] | None:
    if field is None:
        return None
    return {
        "size": [rational(v) for v in field.size],
        "stride": [rational(v) for v in field.stride],
        "padding": [rational(v) for v in field.padding],
    }


def report_dict(report: Report, tree: Block | None = None, depth: int | None = None) -> dict[str, Any]:
    """The report's keys; with its block `tree`, also `blocks` (down to `depth`, default the whole tree)."""
    t = report.totals
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "name": report.name,
        "file": report.file,
        "input_shape": list(shown(report.input_shape, report.layout)),
        "layout": report.layout,
        "batch": report.batch,
        "dtype": report.dtype,
        "layers": [
            {
                "name": r.name,
                "type": r.kind,
                "summary": r.summary,
                "inputs": r.inputs,
                "output_shape": list(shown(r.output_shape, report.layout)),
                "params": r.params,
                "trainable": r.trainable,
                "weight_shapes": {k: list(v) for k, v in r.weight_shapes.items()},
                "buffers": r.buffers,
                "buffer_shapes": {k: list(v) for k, v in r.buffer_shapes.items()},
                "macs": r.macs,
                "other_ops": r.other_ops,
                "flops": r.flops,
                "activation_elements": r.activation_elements,
                "activation_bytes": r.activation_bytes,
                "receptive_field": rf_dict(r.receptive_field),
                **training_row(r),
            }
            for r in report.rows
        ],
        "totals": {
            "params": t.params,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "buffers": t.buffers,
            "macs": t.macs,
            "other_ops": t.other_ops,
            "flops": t.flops,
            "output_shape": list(shown(t.output_shape, report.layout)),
            "input_elements": t.input_elements,
            "input_bytes": t.input_bytes,
            "activation_elements": t.activation_elements,
            "activation_bytes": t.activation_bytes,
            "param_bytes": t.param_bytes,
            **training_totals(t),
        },
        "warnings": report.warnings,
    }
    if tree is not None:
        data["blocks"] = tree_dict(tree, report, depth, {layer["name"]: layer for layer in data["layers"]})
    return data


# -- the block tree (`blocks`) ----------------------------------------------------------------------------------


def node_dict(node: Node, depth: int, layout: str, size: int, layer: dict[str, Any] | None = None) -> dict[str, Any]:
    """One node of `blocks` without its children: the same keys for the network, a block and a layer (`size`:
    bytes per element; `layer`: the layer's entry of `layers`, whose shape and field it shares, already made)."""
    if isinstance(node, Block):
        block, repeat, kind, layers, trainable = node.block, node.repeat, None, node.layer_count, node.trainable_params
    else:
        block, repeat, kind, layers, trainable = None, None, node.kind, 1, node.params if node.trainable else 0
    return {
        "name": node.name,
        "block": block,
        "repeat": repeat,
        "type": kind,
        "depth": depth,
        "layer_count": layers,
        "output_shape": layer["output_shape"] if layer else list(shown(node.output_shape, layout)),
        "params": node.params,
        "trainable_params": trainable,
        "non_trainable_params": node.params - trainable,
        "buffers": node.buffers,
        "macs": node.macs,
        "other_ops": node.other_ops,
        "flops": node.flops,
        "activation_elements": node.activation_elements,
        "activation_bytes": node.activation_bytes,
        "param_bytes": node.params * size,
        "receptive_field": layer["receptive_field"] if layer else rf_dict(node.receptive_field),
        **training_row(node),
    }


def tree_dict(
    root: Block, report: Report, depth: int | None = None, layers: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`blocks`: the network (depth 0) and, under `children`, its entries, down to `depth` (default: to the
    layers); a block at `depth` has no children listed. Walked with a list, not recursion: nesting is unbounded.
    `layers`: the entries of `layers` by name, to share their shapes and fields (read-only) instead of making them
    again: on large networks those take most of the time."""
    layers = layers or {}
    size = dtype_bytes(report.dtype)
    top = node_dict(root, 0, report.layout, size)
    pending: list[tuple[dict[str, Any], Node, int]] = [(top, root, 0)]
    while pending:
        data, node, level = pending.pop()
        children: list[dict[str, Any]] = []
        data["children"] = children
        if isinstance(node, Block) and (depth is None or level < depth):
            for child in node.children:
                child_data = node_dict(child, level + 1, report.layout, size, layers.get(child.name))
                children.append(child_data)
                pending.append((child_data, child, level + 1))
    return top


def tree_lines(top: dict[str, Any], indent: int) -> list[str]:
    """`blocks` as text: each node's own keys on one line, its children on the lines under it, indented."""
    lines: list[str] = []
    pending: list[tuple[dict[str, Any] | None, int, str]] = [(top, indent, "")]
    while pending:
        node, margin, after = pending.pop()
        pad = " " * margin
        if node is None:  # the end of a node's children
            lines.append(f"{pad}]}}{after}")
            continue
        children = node["children"]
        if not children:  # a layer, or a block the depth closes: one line (the common case, no copy)
            lines.append(f"{pad}{json.dumps(node)}{after}")
            continue
        del node["children"]  # written below, one child per line (put back, still the last key)
        head = json.dumps(node)[:-1]
        node["children"] = children
        lines.append(f'{pad}{head}, "children": [')
        pending.append((None, margin, after))
        last = len(children) - 1
        pending.extend((children[i], margin + 2, "" if i == last else ",") for i in range(last, -1, -1))
    return lines


def training_row(row: Any) -> dict[str, Any]:
    """`summary --training`: each layer's backward MACs and the bytes it first saves for backward."""
    return {} if row.saved_bytes is None else {"backward_macs": row.backward_macs, "saved_bytes": row.saved_bytes}


def training_totals(t: Any) -> dict[str, Any]:
    if t.saved_bytes is None:
        return {}
    return {
        "backward_macs": t.backward_macs,
        "saved_bytes": t.saved_bytes,
        "training_bytes": t.training_bytes,
        "optimizer": t.optimizer,
    }


def versioned(data: dict[str, Any]) -> dict[str, Any]:
    """Every command's JSON starts with the schema version of its keys and the cnncalc that wrote it."""
    return {"schema_version": SCHEMA_VERSION, "cnncalc_version": __version__, **data}


def render_json(reports: list[Report], trees: list[Block] | None = None, depth: int | None = None) -> str:
    """One spec: one JSON object. Several: a JSON array of them, in the order given.

    One key per line and one layer per line: readable and diffable, and written by json's C encoder (any
    `indent` falls back to the pure-Python one, several times slower on large networks)."""
    with_trees = trees or [None] * len(reports)
    texts = [object_text(report_dict(r, t, depth)) for r, t in zip(reports, with_trees, strict=True)]
    return texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]"


def object_text(data: dict[str, Any]) -> str:
    """A JSON object with one key per line and, under "layers", one layer per line (under "blocks", one node per
    line, indented by depth)."""
    lines = []
    for key, value in data.items():
        if key == "layers" and value:
            items = ",\n".join("    " + json.dumps(layer) for layer in value)
            lines.append(f'  "layers": [\n{items}\n  ]')
        elif key == "blocks" and isinstance(value, dict):
            lines.append('  "blocks": ' + "\n".join(tree_lines(value, 2)).lstrip())
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"
