"""The block tree: the network's block uses and repeats (graph.Group) as nodes over the analyzed rows, each with
the subtotals of the layers it contains; what `summary --depth N` prints and the JSON's `blocks`.

The root (depth 0) is the network, with its totals; its children are the top-level entries (depth 1): layers, and
block uses and repeats, whose children are in turn the entries they made. A group contains the layers at positions
first..last in file order, and groups nest as those ranges do (a block's layers are expanded one after the other);
where two ranges are equal (`repeat: 1`, a block that only uses another) the shorter name is the outer one, as
the names are prefixes of each other. Built in one pass over the rows in file order, a group's sums added to its
parent's when it closes: time in proportion to layers plus groups (the groups sorted once).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import compress, count, repeat
from operator import attrgetter, eq, is_not, itemgetter

from cnncalc.analyze import Report, Row, dtype_bytes
from cnncalc.graph import Graph
from cnncalc.layers import Shape
from cnncalc.receptive import ReceptiveField
from cnncalc.speed import paused_gc


class Block:
    """A block use, a repeat, or the whole network (the root), with the figures of every layer inside it.

    `block` is the block used or the kind repeated (None for the root); `repeat` the number of copies when the
    group is a `repeat` (its children then are NAME.0 ... NAME.N-1), else None. The output shape and receptive
    field are those of the layer the group stands for (its last one made: graph.Group.output)."""

    __slots__ = ("name", "block", "repeat", "depth", "children", "output", "last", "output_shape", "receptive_field")
    __slots__ += ("layer_count", "params", "trainable_params", "buffers", "macs", "other_ops")
    __slots__ += ("activation_elements", "activation_bytes", "param_bytes", "backward_macs", "saved_bytes")

    def __init__(self, name: str, block: str | None, depth: int, output: str, last: int) -> None:
        self.name = name
        self.block = block
        self.repeat: int | None = None
        self.depth = depth
        self.children: list[Node] = []  # in file order
        self.output = output  # the layer it stands for
        self.last = last  # the position (file order) of its last layer
        self.output_shape: Shape = ()
        self.receptive_field: ReceptiveField | None = None
        self.layer_count = 0
        self.params = 0
        self.trainable_params = 0
        self.buffers = 0
        self.macs = 0
        self.other_ops = 0
        self.activation_elements = 0
        self.activation_bytes = 0
        self.param_bytes = 0
        self.backward_macs: int | None = None  # the training figures: None unless analyzed with an optimizer
        self.saved_bytes: int | None = None

    @property
    def flops(self) -> int:
        return 2 * self.macs + self.other_ops

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    def add_row(self, row: Row) -> None:
        self.children.append(row)
        self.layer_count += 1
        self.params += row.params
        self.trainable_params += row.params if row.trainable else 0
        self.buffers += row.buffers
        self.macs += row.macs
        self.other_ops += row.other_ops
        self.activation_elements += row.activation_elements
        self.activation_bytes += row.activation_bytes
        self._add_training(row.backward_macs, row.saved_bytes)

    def add_rows(self, rows: list[Row]) -> None:
        """add_row() for each row, the sums taken over all of them at once (no Python code per row)."""
        if len(rows) == 1:
            self.add_row(rows[0])
            return
        self.children.extend(rows)
        self.layer_count += len(rows)
        if len(rows) <= _FEW:  # a block's few layers (most calls): their fields as columns at once
            columns = list(zip(*rows, strict=True))
            self.params += sum(columns[7])
            self.trainable_params += sum(compress(columns[7], columns[8]))
            self.buffers += sum(columns[9])
            self.macs += sum(columns[10])
            self.other_ops += sum(columns[11])
            self.activation_elements += sum(columns[13])
            self.activation_bytes += sum(columns[14])
            if columns[17].count(None) != len(rows):  # analyzed for training: rarely
                for row in rows:
                    self._add_training(row.backward_macs, row.saved_bytes)
            return
        self.params += sum(map(_PARAMS, rows))
        self.trainable_params += sum(compress(map(_PARAMS, rows), map(_TRAINABLE, rows)))
        self.buffers += sum(map(_BUFFERS, rows))
        self.macs += sum(map(_MACS, rows))
        self.other_ops += sum(map(_OTHER_OPS, rows))
        self.activation_elements += sum(map(_ACTIVATION_ELEMENTS, rows))
        self.activation_bytes += sum(map(_ACTIVATION_BYTES, rows))
        if any(map(is_not, map(_SAVED_BYTES, rows), repeat(None))):  # analyzed for training: rarely
            for row in rows:
                self._add_training(row.backward_macs, row.saved_bytes)

    def add_block(self, inner: Block) -> None:
        self.layer_count += inner.layer_count
        self.params += inner.params
        self.trainable_params += inner.trainable_params
        self.buffers += inner.buffers
        self.macs += inner.macs
        self.other_ops += inner.other_ops
        self.activation_elements += inner.activation_elements
        self.activation_bytes += inner.activation_bytes
        self._add_training(inner.backward_macs, inner.saved_bytes)

    def _add_training(self, backward_macs: int | None, saved_bytes: int | None) -> None:
        if saved_bytes is not None and backward_macs is not None:
            self.backward_macs = (self.backward_macs or 0) + backward_macs
            self.saved_bytes = (self.saved_bytes or 0) + saved_bytes


# Row fields by position, for sums over many rows at once; Node attributes for comparing the graph with the rows.
_PARAMS, _TRAINABLE, _BUFFERS, _MACS = itemgetter(7), itemgetter(8), itemgetter(9), itemgetter(10)
_OTHER_OPS, _ACTIVATION_ELEMENTS, _ACTIVATION_BYTES = itemgetter(11), itemgetter(13), itemgetter(14)
_SAVED_BYTES = itemgetter(17)
_POSITION = attrgetter("position")
_FEW = 16  # rows summed as columns (zip) rather than one field at a time (map)

Node = Block | Row  # a tree node: a block (or the root), or a layer's row


def block_tree(graph: Graph, report: Report) -> Block:
    """The tree of `report` (analyzed from `graph`): the root is the network, depth 0."""
    with paused_gc():  # a block per block use and repeat, all kept (cnncalc.speed)
        return _block_tree(graph, report)


def _block_tree(graph: Graph, report: Report) -> Block:
    rows, aligned = _in_file_order(graph, report)
    by_name = _RowsByName(graph, rows, aligned)
    size = dtype_bytes(report.dtype)
    groups = sorted(graph.groups.items(), key=lambda item: (item[1].first, -item[1].last, len(item[0])))
    root = Block(report.name, None, 0, graph.output, len(rows))
    stack = [root]
    next_group = 0
    position = 1  # the next row to place (1-based, file order)
    while position <= len(rows):
        while stack[-1].last < position:
            _close(stack, by_name, size)
        while next_group < len(groups) and groups[next_group][1].first <= position:
            name, group = groups[next_group]
            next_group += 1
            block = Block(name, group.block, stack[-1].depth + 1, group.output, group.last)
            stack[-1].children.append(block)
            stack.append(block)
        # The rows up to the next place where a block closes or opens all go to the innermost open block.
        end = stack[-1].last
        if next_group < len(groups):
            end = min(end, groups[next_group][1].first - 1)
        end = max(end, position)
        stack[-1].add_rows(rows[position - 1 : end])
        position = end + 1
    while len(stack) > 1:
        _close(stack, by_name, size)
    _finish(root, by_name, size)
    root.output_shape = report.totals.output_shape
    return root


def _in_file_order(graph: Graph, report: Report) -> tuple[list[Row], bool]:
    """The rows in file order (the report's are in topological order, the same unless a layer reads a later one),
    and whether they may be the graph's (row k that of the node at position k + 1)."""
    rows = report.rows
    nodes = graph.nodes
    if len(rows) != len(nodes):
        return rows, False
    if all(map(eq, map(_POSITION, nodes), count(1))):  # the common case: file order already (checked in C)
        return rows, True  # row k is presumably node k + 1's: _RowsByName checks each row it finds
    ordered: list[Row | None] = [None] * len(rows)
    for node, row in zip(nodes, rows, strict=True):
        if node.name != row.name or not 0 < node.position <= len(rows) or ordered[node.position - 1] is not None:
            return rows, False  # not the graph the report was analyzed from: keep the report's order
        ordered[node.position - 1] = row
    return ordered, True  # type: ignore[return-value]


class _RowsByName:
    """The rows by layer name: through the graph's own index when the rows are its nodes' in file order (each row
    so found checked: it has the name), else a dict made the first time it is asked (a block's output is looked up
    once per block)."""

    def __init__(self, graph: Graph, rows: list[Row], aligned: bool) -> None:
        self.graph = graph
        self.rows = rows
        self.aligned = aligned
        self.by_name: dict[str, Row] | None = None

    def get(self, name: str) -> Row | None:
        if self.aligned:
            node = self.graph.by_name.get(name)
            if node is None:
                return None
            row = self.rows[node.position - 1] if node.position <= len(self.rows) else None
            if row is not None and row.name == name:  # the row of that name: names are unique
                return row
            self.aligned = False  # not the graph's rows after all: by name from now on
        if self.by_name is None:
            self.by_name = {row.name: row for row in self.rows}
        return self.by_name.get(name)


def _close(stack: list[Block], by_name: _RowsByName, size: int) -> None:
    block = stack.pop()
    _finish(block, by_name, size)
    block.repeat = _repeat_count(block)
    stack[-1].add_block(block)


def _finish(block: Block, by_name: _RowsByName, size: int) -> None:
    block.param_bytes = block.params * size
    output = by_name.get(block.output)
    if output is not None:
        block.output_shape = output.output_shape
        block.receptive_field = output.receptive_field


def _repeat_count(block: Block) -> int | None:
    """N when the block's children are copies NAME.0 ... NAME.N-1 of what it names, each reading the one before
    (a `repeat`), else None. A kind with several outputs (chunk) also makes NAME.0 ...: its copies read one input."""
    children = block.children
    prefix = block.name + "."
    for index, child in enumerate(children):
        if child.name != f"{prefix}{index}":
            return None
        if isinstance(child, Block):
            if child.block != block.block:
                return None
        elif child.kind != block.block or (index and child.inputs != [children[index - 1].name]):
            return None
    return len(children)


def walk(root: Block, depth: int | None = None) -> Iterator[tuple[Node, int, str]]:
    """Every node under the root (not the root itself) with its depth and its parent's name ("" at the top), in
    file order, a block before its children; blocks at `depth` are not opened. Depth 0: the root alone."""
    if depth == 0:
        yield root, 0, ""
        return
    pending: list[tuple[Node, int, str]] = [(child, 1, "") for child in reversed(root.children)]
    while pending:
        node, level, parent = pending.pop()
        yield node, level, parent
        if isinstance(node, Block) and (depth is None or level < depth):
            pending.extend((child, level + 1, node.name) for child in reversed(node.children))


def max_depth(root: Block) -> int:
    return max((level for _, level, _ in walk(root)), default=0)


def label(node: Node, parent: str) -> str:
    """A node's name under its parent's (`rest.0` under `layer1` in `layer1.rest.0`); top-level: its full name."""
    return node.name[len(parent) + 1 :] if parent and node.name.startswith(parent + ".") else node.name


def block_kind(block: Block) -> str:
    """What a block row's Kind column says: the block used, 'x N' for a repeat."""
    if block.block is None:
        return "network"
    return f"{block.block} x {block.repeat}" if block.repeat is not None else block.block


def as_row(block: Block) -> Row:
    """A block as a row of the layer table: its full name, what it uses as its kind, its subtotals (`diff --depth`
    compares these as it compares layers)."""
    return Row(
        name=block.name,
        kind=block_kind(block),
        summary="",
        inputs=[],
        output_shape=block.output_shape,
        weight_shapes={},
        buffer_shapes={},
        params=block.params,
        trainable=block.trainable_params == block.params,
        buffers=block.buffers,
        macs=block.macs,
        other_ops=block.other_ops,
        flops=block.flops,
        activation_elements=block.activation_elements,
        activation_bytes=block.activation_bytes,
        receptive_field=block.receptive_field,
        backward_macs=block.backward_macs,
        saved_bytes=block.saved_bytes,
    )


def cut(report: Report, tree: Block, depth: int) -> Report:
    """The report with the tree's rows down to `depth` (blocks as rows, cnncalc.tree.as_row) instead of its layers;
    the totals unchanged. Depth 0: one row named `network`, whatever the spec's name (two networks compare)."""
    if depth == 0:
        rows = [as_row(tree)._replace(name="network")]
    else:
        rows = [as_row(node) if isinstance(node, Block) else node for node, _, _ in walk(tree, depth)]
    return report._replace(rows=rows)
