"""The JSON report (its keys and their meaning: docs/design.md, "The JSON report"). Keys are never renamed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any, TextIO

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report, Row, dtype_bytes
from cnncalc.layers import Shape
from cnncalc.layout import shown
from cnncalc.receptive import ReceptiveField
from cnncalc.speed import paused_gc
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
                **_layer_entry(r, report.layout),
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
    """One spec: one JSON object. Several: a JSON array of them, in the order given (write_json's text).

    One key per line and one layer per line: readable and diffable."""
    buffer = io.StringIO()
    write_json(buffer, reports, trees, depth)
    return buffer.getvalue()


def write_json(out: TextIO, reports: list[Report], trees: list[Block] | None = None, depth: int | None = None) -> None:
    """render_json's text, written to `out` a few thousand lines at a time: a network of a million layers makes
    about a gigabyte of JSON, which is never held whole. The text is object_text(report_dict(...))'s, byte for
    byte (tests/test_json_stream.py), made without a dict per layer and per tree node: see _RowTexts."""
    with_trees = trees or [None] * len(reports)
    several = len(reports) > 1
    if several:
        out.write("[\n")
    with paused_gc():  # the caches' entries, kept to the end (cnncalc.speed); the text is not tracked
        for index, (report, tree) in enumerate(zip(reports, with_trees, strict=True)):
            if index:
                out.write(",\n")
            _write_object(out, report, tree, depth)
    if several:
        out.write("\n]")


_CHUNK = 4096  # lines joined per write
_CHUNK_CHARS = 1 << 20  # characters joined per write where the lines' lengths vary


def _write_lines(out: TextIO, lines: Iterable[str], separator: str) -> None:
    """The lines joined by `separator`, written in chunks of about _CHUNK_CHARS characters (a "line" may be many:
    _tree_lines gives a run of layers as one text)."""
    chunk: list[str] = []
    size = 0
    first = True
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size >= _CHUNK_CHARS:
            out.write(("" if first else separator) + separator.join(chunk))
            chunk.clear()
            size = 0
            first = False
    if chunk:
        out.write(("" if first else separator) + separator.join(chunk))


def _write_layers(out: TextIO, rows: list[Row], texts: _RowTexts) -> None:
    """The layers' lines (the first one's indent already written), _CHUNK at a time."""
    for start in range(0, len(rows), _CHUNK):
        if start:
            out.write(",\n    ")
        out.write(",\n    ".join(texts.layers(rows[start : start + _CHUNK])))


def _write_object(out: TextIO, report: Report, tree: Block | None, depth: int | None) -> None:
    """object_text(report_dict(report, tree, depth)), written piece by piece."""
    texts = _RowTexts(report.layout, dtype_bytes(report.dtype))
    head = report_dict(report._replace(rows=[]))
    if tree is not None:
        head["blocks"] = None
    out.write("{\n")
    for number, key in enumerate(head):
        if number:
            out.write(",\n")
        if key == "layers" and report.rows:
            out.write('  "layers": [\n    ')
            _write_layers(out, report.rows, texts)
            out.write("\n  ]")
        elif key == "blocks" and tree is not None:
            out.write('  "blocks": ')
            _write_lines(out, _tree_lines(tree, report, depth, texts), "\n")
        else:
            out.write(f"  {json.dumps(key)}: {json.dumps(head[key])}")
    out.write("\n}")


class _RowTexts:
    """The JSON text of a row in `layers` and as a leaf of `blocks`, as json.dumps writes their dicts.

    Layers built alike share their figures (analyze.py: the very same objects, one weight_shapes dict among them),
    so everything but the name, the inputs, the depth, the receptive field (shared by layers that keep it) and the
    training figures is written once per set of figures and reused: on large networks, making and encoding a dict
    per row took most of the time. A set is looked up by its weight_shapes dict and then compared whole with the
    row it was written for (equal figures, equal text): the comparison finds the same objects, at C speed, where a
    key of every figure cost more than the rest of the line. The caches keep the rows they compare with alive, so
    an id is never that of another object while they last."""

    def __init__(self, layout: str, size: int) -> None:
        self.layout = layout
        self.size = size
        self.layer_parts: dict[int, tuple[Row, tuple[str, str]]] = {}
        self.leaf_parts: dict[int, tuple[Row, tuple[str, str]]] = {}
        self.fields: dict[int, str] = {}
        self.shapes: dict[int, tuple[Shape, str]] = {}

    def field(self, field: ReceptiveField | None) -> str:
        if field is None:
            return "null"
        text = self.fields.get(id(field))
        if text is None:  # json.dumps(rf_dict(field)), written directly: a new field every few layers
            size, stride, padding = field[:3]
            text = f'{{"size": {list(size)}, "stride": {list(stride)}, "padding": {list(padding)}}}'
            if "F" in text:  # a list of ints prints as its JSON; a Fraction would print as Fraction(p, q)
                size, stride, padding = (_values_text(values) for values in field[:3])
                text = f'{{"size": {size}, "stride": {stride}, "padding": {padding}}}'
            self.fields[id(field)] = text
        return text

    def shape(self, shape: Shape) -> str:
        """json.dumps of the shape as shown in the layout (a block's output shape: that of one of its layers)."""
        known = self.shapes.get(id(shape))
        if known is None or known[0] is not shape:
            known = self.shapes[id(shape)] = (shape, json.dumps(list(shown(shape, self.layout))))
        return known[1]

    def layers(self, rows: list[Row]) -> list[str]:
        """json.dumps of each row's entry in `layers` (report_dict's). One loop for many rows (a million layers
        make a million lines); most layers read the layer before them, whose name is then written already."""
        lines: list[str] = []
        parts = self.layer_parts
        fields = self.fields
        named, named_text = "", ""  # the previous row's name and its text
        for row in rows:
            # The same dicts (equal ones may list their keys in another order), equal everything else: compared as
            # one tuple (made in C), equal at once where they are the very same objects.
            figures = _LAYER_FIGURES(row)
            cached = parts.get(id(row[5]))
            if cached is None or cached[0] != figures or cached[0][3] is not row[5] or cached[0][4] is not row[6]:
                cached = parts[id(row[5])] = (figures, *self._layer_parts(row))
            _, before, after = cached
            inputs = row[3]
            field = row[15]
            field_text = "null" if field is None else fields.get(id(field)) or self.field(field)
            name = row[0]
            name_text = _text(name)
            if len(inputs) == 1:
                listed = named_text if inputs[0] == named else _text(inputs[0])
            else:
                listed = ", ".join([named_text if other == named else _text(other) for other in inputs])
            named, named_text = name, name_text
            if row[17] is None:
                lines.append(f'{{"name": {name_text}{before}[{listed}]{after}{field_text}}}')
            else:
                lines.append(f'{{"name": {name_text}{before}[{listed}]{after}{field_text}{_training_text(row)}}}')
        return lines

    def _layer_parts(self, row: Row) -> tuple[str, str]:
        """The text between the name and the inputs, and between the inputs and the receptive field."""
        entry = _layer_entry(row, self.layout)
        before = {k: entry[k] for k in ("type", "summary")}
        after = {k: entry[k] for k in _LAYER_MIDDLE}
        return f', {json.dumps(before)[1:-1]}, "inputs": ', f', {json.dumps(after)[1:-1]}, "receptive_field": '

    def leaves(self, rows: list[Row], depth: int, pad: str) -> list[str]:
        """json.dumps of each row as a node of `blocks` (node_dict's), with its empty children, after `pad`."""
        lines: list[str] = []
        parts = self.leaf_parts
        fields = self.fields
        for row in rows:
            figures = _LEAF_FIGURES(row)  # as in layers(), those the node shows, and the key
            cached = parts.get(id(row[5]))
            if cached is None or cached[0] != figures:
                cached = parts[id(row[5])] = (figures, *self._leaf_parts(row))
            _, before, after = cached
            field = row[15]
            field_text = "null" if field is None else fields.get(id(field)) or self.field(field)
            if row[17] is None:
                lines.append(f'{pad}{{"name": {_text(row[0])}{before}{depth}{after}{field_text}, "children": []}}')
            else:
                training = _training_text(row)
                lines.append(
                    f'{pad}{{"name": {_text(row[0])}{before}{depth}{after}{field_text}{training}, "children": []}}'
                )
        return lines

    def _leaf_parts(self, row: Row) -> tuple[str, str]:
        """The text between the name and the depth, and between the depth and the receptive field."""
        node = node_dict(row, 0, self.layout, self.size)
        before = {k: node[k] for k in ("block", "repeat", "type")}
        after = {k: node[k] for k in _LEAF_MIDDLE}
        return f', {json.dumps(before)[1:-1]}, "depth": ', f', {json.dumps(after)[1:-1]}, "receptive_field": '


def _values_text(values: tuple[Any, ...]) -> str:
    """json.dumps([rational(v) for v in values])."""
    return "[" + ", ".join(map(_rational_text, values)) + "]"


def _rational_text(value: Any) -> str:
    """json.dumps(rational(value)): an int as written, another rational as the string "p/q"."""
    shown = rational(value)
    return str(shown) if type(shown) is int else json.dumps(shown)


# A row's fields that its line in `layers` shows (all but the name, the inputs, the field and training figures),
# and those of its node in `blocks` (its weight_shapes too: the caches' key, kept alive with them).
_LAYER_FIGURES = itemgetter(1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
_LEAF_FIGURES = itemgetter(1, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14)
_text = json.encoder.encode_basestring_ascii  # json.dumps of a str (the C function json.dumps calls)
_LAYER_MIDDLE = ("output_shape", "params", "trainable", "weight_shapes", "buffers", "buffer_shapes", "macs")
_LAYER_MIDDLE += ("other_ops", "flops", "activation_elements", "activation_bytes")
_LEAF_MIDDLE = ("layer_count", "output_shape", "params", "trainable_params", "non_trainable_params", "buffers")
_LEAF_MIDDLE += ("macs", "other_ops", "flops", "activation_elements", "activation_bytes", "param_bytes")


def _layer_entry(row: Row, layout: str) -> dict[str, Any]:
    """A row's entry in `layers` (the receptive field and training figures left to the caller)."""
    return {
        "name": row.name,
        "type": row.kind,
        "summary": row.summary,
        "inputs": row.inputs,
        "output_shape": list(shown(row.output_shape, layout)),
        "params": row.params,
        "trainable": row.trainable,
        "weight_shapes": {k: list(v) for k, v in row.weight_shapes.items()},
        "buffers": row.buffers,
        "buffer_shapes": {k: list(v) for k, v in row.buffer_shapes.items()},
        "macs": row.macs,
        "other_ops": row.other_ops,
        "flops": row.flops,
        "activation_elements": row.activation_elements,
        "activation_bytes": row.activation_bytes,
    }


def _training_text(row: Node) -> str:
    return f", {json.dumps(training_row(row))[1:-1]}"


def _tree_lines(root: Block, report: Report, depth: int | None, texts: _RowTexts) -> Iterator[str]:
    """tree_lines(tree_dict(root, report, depth), 2) with its first line unindented, one line at a time.

    Walked with a stack of open blocks, each with its children and the index of the next one: a block's layers
    (most of the lines) are written in a plain loop, not pushed and popped one by one."""
    size = dtype_bytes(report.dtype)
    head = _block_head(root, 0, report.layout, size, texts)
    children = root.children if depth is None or depth > 0 else []
    if not children:
        yield f'{head}, "children": []}}'
        return
    yield f'{head}, "children": ['
    # Per open block: its children, the index of the next one, their depth, their indent, what follows its "]}".
    stack: list[tuple[list[Node], int, int, str, str]] = [(children, 0, 1, " " * 4, "")]
    while stack:
        children, index, level, pad, after = stack.pop()
        last = len(children) - 1
        while index <= last:
            child = children[index]
            if not isinstance(child, Block):  # a run of layers (up to _CHUNK: a text is never large): their lines
                end = index + 1
                while end <= last and end - index < _CHUNK and not isinstance(children[end], Block):
                    end += 1
                text = ",\n".join(texts.leaves(children[index:end], level, pad))  # type: ignore[arg-type]
                index = end
                yield text if end > last else f"{text},"
                continue
            comma = "" if index == last else ","
            index += 1
            head = _block_head(child, level, report.layout, size, texts)
            inner = child.children if depth is None or level < depth else []
            if not inner:
                yield f'{pad}{head}, "children": []}}{comma}'
                continue
            yield f'{pad}{head}, "children": ['
            stack.append((children, index, level, pad, after))
            stack.append((inner, 0, level + 1, pad + "  ", comma))
            break
        else:
            yield f"{pad[:-2]}]}}{after}"


def _block_head(block: Block, level: int, layout: str, size: int, texts: _RowTexts) -> str:
    """A block's node of `blocks` up to its children: json.dumps of node_dict's keys (but the children), written
    directly (a million layers make some 70,000 blocks; a dict and json.dumps each took most of their time). Its
    figures are sums of ints; anything else (never seen) goes through node_dict."""
    params, trainable, training = block.params, block.trainable_params, training_row(block)
    figures = (block.layer_count, params, trainable, block.buffers, block.macs, block.other_ops)
    figures += (block.activation_elements, block.activation_bytes, block.repeat if block.repeat is not None else 0)
    if set(map(type, figures)) != {int} or not (block.block is None or type(block.block) is str):
        return _block_head_of_dict(block, level, layout, size, texts)
    name = _text(block.name)
    used = "null" if block.block is None else _text(block.block)
    repeat = "null" if block.repeat is None else block.repeat
    head = (
        f'{{"name": {name}, "block": {used}, "repeat": {repeat}, "type": null, "depth": {level}, '
        f'"layer_count": {block.layer_count}, "output_shape": {texts.shape(block.output_shape)}, '
        f'"params": {params}, "trainable_params": {trainable}, "non_trainable_params": {params - trainable}, '
        f'"buffers": {block.buffers}, "macs": {block.macs}, "other_ops": {block.other_ops}, '
        f'"flops": {2 * block.macs + block.other_ops}, "activation_elements": {block.activation_elements}, '
        f'"activation_bytes": {block.activation_bytes}, "param_bytes": {params * size}, '
        f'"receptive_field": {texts.field(block.receptive_field)}'
    )
    return head + _training_text(block) if training else head


def _block_head_of_dict(block: Block, level: int, layout: str, size: int, texts: _RowTexts) -> str:
    """_block_head() through node_dict and json.dumps (tests/test_json_stream.py compares the two)."""
    data = node_dict(block, level, layout, size)
    training = training_row(block)
    for key in ("receptive_field", *training):  # the last keys, written below
        del data[key]
    head = f'{json.dumps(data)[:-1]}, "receptive_field": {texts.field(block.receptive_field)}'
    return head + _training_text(block) if training else head


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
