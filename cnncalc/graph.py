"""The layer graph: nodes in topological order, each bound to its kind's Layer once shapes are known."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.errors import LayerError, Location, SpecError, UsageError
from cnncalc.layers import Layer, Shape
from cnncalc.names import canonical
from cnncalc.yamlsource import at

NETWORK_INPUT = "input"


class Node:
    """One layer of the expanded network, as written in the spec (after blocks and repeats are expanded).

    A plain class with slots: specs may have 100,000 layers, and start-up time counts (no dataclasses here).
    """

    __slots__ = ("name", "cls", "arguments", "mark", "arg_marks", "position", "inputs", "trainable")
    __slots__ += ("expanded_from", "layer", "key_marks", "_rare")  # 12 slots: a Node fits 128 bytes (pymalloc)

    def __init__(
        self,
        name: str,
        cls: type[Layer],
        arguments: dict[str, Any],
        mark: Any,
        arg_marks: dict[str, Any],
        position: int,
        trainable: bool = True,
        expanded_from: tuple[tuple[str, Any], ...] = (),
        values: Any = None,
        key_marks: dict[str, Any] | None = None,
    ) -> None:
        self.name = name  # unique, dotted inside blocks: "layer1.0.conv2d_1"
        self.cls = cls
        self.arguments = arguments  # the kind's own arguments (reserved keys removed)
        self.mark = mark  # where the entry starts (yaml Mark)
        self.arg_marks = arg_marks  # where each argument's value was written (the use site for block parameters)
        self.position = position  # 1-based, in file order after expansion
        self.inputs: list[str] = []  # resolved names; NETWORK_INPUT for the network input
        self.trainable = trainable
        self.expanded_from = expanded_from  # (block name, mark of its use), outermost first
        self.layer: Layer | None = None
        self.key_marks = key_marks or {}  # where each argument's name was written (an unknown one is reported there)
        # (values, ignore) when either is written, else None: one slot for two that are rarely set keeps a Node
        # at 128 bytes, the size class of the dicts a loaded spec lets go while expanded (peak memory at 1M layers)
        self._rare: tuple[Any, Any] | None = None if values is None else (values, ())

    def renamed(self, name: str, position: int, inputs: list[str]) -> Node:
        """The same layer under another name and position, reading `inputs` (a copy of a repeated block's layer):
        everything else shared, as the copies made the long way share their entry's arguments, marks and layer."""
        node = Node.__new__(Node)
        node.name, node.cls, node.arguments, node.mark = name, self.cls, self.arguments, self.mark
        node.arg_marks, node.position, node.inputs, node.trainable = self.arg_marks, position, inputs, self.trainable
        node.expanded_from, node.layer, node.key_marks, node._rare = (
            self.expanded_from,
            self.layer,
            self.key_marks,
            self._rare,
        )
        return node

    @property
    def values(self) -> Any:
        """The spec's `weights`: state_dict name -> nested list (a YMap), or None."""
        rare = self._rare
        return None if rare is None else rare[0]

    @values.setter
    def values(self, values: Any) -> None:
        self._rare = (values, self.ignore)

    @property
    def ignore(self) -> Any:
        """Lint rule ids silenced on this layer (`ignore:`): () by default, a frozenset once checked."""
        rare = self._rare
        return () if rare is None else rare[1]

    @ignore.setter
    def ignore(self, ignore: Any) -> None:
        self._rare = (self.values, ignore)

    @property
    def kind(self) -> str:
        return self.cls.kind

    def label(self) -> str:
        return f"layer '{self.name}' (#{self.position}, {self.cls.kind})"

    def bound(self) -> Layer:
        assert self.layer is not None, "shapes not inferred yet"
        return self.layer


class Group(NamedTuple):
    """A block use or a `repeat` as a whole: its name stands for its last layer (`output`) and contains the layers
    at positions first..last (file order; a block's layers are expanded one after the other)."""

    block: str  # the block used, or the kind repeated
    output: str
    first: int
    last: int


class Graph:
    def __init__(self, name: str, file: str, input_shape: Shape, batch: int, nodes: list[Node], output: str) -> None:
        self.name = name
        self.file = file
        self.input_shape = input_shape
        self.batch = batch
        self.nodes = nodes  # topological order
        self.output = output  # the network's output node (the last layer in the file)
        self.warnings: list[str] = []
        self.layout = "chw"  # how the spec wrote its input shape, and how shapes print unless told otherwise
        self.batch_given = False  # the spec's `batch:` or --batch: a training batch size lint may judge
        self.limits: dict[str, Any] = {}  # the spec's `limits:` (cnncalc.limits.Limit by budget)
        self.ignore: frozenset[str] = frozenset()  # lint rule ids silenced for the whole spec
        self.by_name = {n.name: n for n in nodes}
        self.groups: dict[str, Group] = {}  # block uses and repeats by full name ("layer1", "layer1.0")
        self.document: Any = None  # the loaded spec, to expand again at another input size (cnncalc.spec.at_input)

    def node(self, name: str) -> Node:
        return self.by_name[name]

    def select(self, name: str) -> list[Node]:
        """The layers a name given on the command line stands for: one layer, or every layer of a block use or a
        repeat (in file order). A UsageError, with the closest layer or block name, when there is none."""
        name = canonical(name)
        if name in self.by_name:
            return [self.by_name[name]]
        group = self.groups.get(name)
        if group is None:
            from cnncalc.args import did_you_mean

            hint = did_you_mean(name, [*self.by_name, *self.groups])
            raise UsageError(f"{self.name} has no layer or block named '{name}'", hint=hint)
        in_file_order = sorted(self.nodes, key=lambda n: n.position)
        return in_file_order[group.first - 1 : group.last]

    def shape_of(self, name: str) -> Shape:
        return self.input_shape if name == NETWORK_INPUT else self.by_name[name].bound().out_shape

    @property
    def output_shape(self) -> Shape:
        return self.shape_of(self.output)


def located(file: str, node: Node, error: LayerError) -> SpecError:
    """A kind's LayerError, placed at the argument (or entry) it concerns, naming the layer: at its value, or at
    its name when the kind has no such argument."""
    mark = node.arg_marks.get(error.arg or "", node.mark)
    if error.arg in node.arguments and all(a.name != error.arg for a in node.cls.arguments):
        mark = node.key_marks.get(error.arg, mark)
    note = None
    if node.expanded_from:
        note = "expanded from " + ", ".join(f"block '{b}' used at line {m.line + 1}" for b, m in node.expanded_from)
    return SpecError(error.message, location=at(file, mark), layer=node.label(), hint=error.hint, note=note)


def topological_order(nodes: list[Node], file: str) -> list[Node]:
    """Nodes ordered so every input comes first; file order wherever the file allows. Cycles are errors."""
    position = {n.name: i for i, n in enumerate(nodes)}
    if all(position.get(i, -1) < k for k, n in enumerate(nodes) for i in n.inputs):
        return nodes  # the common case: every layer reads earlier ones
    import heapq  # only for specs with forward references

    waiting = [0] * len(nodes)
    readers: list[list[int]] = [[] for _ in nodes]
    for k, n in enumerate(nodes):
        for i in n.inputs:
            if i != NETWORK_INPUT:
                waiting[k] += 1
                readers[position[i]].append(k)
    ready = [k for k in range(len(nodes)) if waiting[k] == 0]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(nodes[k])
        for r in readers[k]:
            waiting[r] -= 1
            if waiting[r] == 0:
                heapq.heappush(ready, r)
    if len(order) < len(nodes):
        # Every stuck node reads at least one stuck node, so following those reads must loop.
        stuck = {n.name: n for k, n in enumerate(nodes) if waiting[k]}
        node = next(iter(stuck.values()))
        path: list[str] = []
        seen: dict[str, int] = {}
        while node.name not in seen:
            seen[node.name] = len(path)
            path.append(node.name)
            node = stuck[next(i for i in node.inputs if i in stuck)]
        cycle = path[seen[node.name] :] + [node.name]
        raise SpecError(
            "the inputs form a cycle: " + " -> ".join(cycle),
            location=at(file, node.arg_marks.get("inputs", node.mark)),
            layer=node.label(),
            hint="every layer must read only layers that do not, in turn, read it",
        )
    return order


def infer_shapes(graph: Graph, built: dict[Any, Layer] | None = None, unbound_only: bool = False) -> None:
    """Bind every node to its kind's Layer, walking in topological order (`unbound_only`: the nodes the spec did
    not bind while expanding, which read later layers; `built` is the sharing cache the spec used).

    Real networks repeat layers (ResNet-50 has 16 bottlenecks): nodes with the same kind, arguments and input
    shapes share one Layer, which is never changed after it is built, so the work is done once."""
    built = {} if built is None else built
    shapes: dict[str, Shape] = {NETWORK_INPUT: graph.input_shape}
    for node in graph.nodes:
        layer = node.layer
        if layer is None or not unbound_only:
            layer = bind(node, tuple(shapes[i] for i in node.inputs), built, graph.file)
        shapes[node.name] = layer.out_shape


def bind(node: Node, in_shapes: tuple[Shape, ...], built: dict[Any, Layer], file: str) -> Layer:
    """Build (or reuse, from `built`) the node's Layer for these input shapes; a LayerError is placed in the spec."""
    key = layer_key(node, in_shapes)
    layer = built.get(key) if key is not None else None
    if layer is None:
        try:
            layer = node.cls(node.arguments, in_shapes)
        except LayerError as error:
            raise located(file, node, error) from None
        if key is not None:
            built[key] = layer
    node.layer = layer
    return layer


def layer_key(node: Node, in_shapes: tuple[Shape, ...]) -> Any:
    """A hashable key for a layer's configuration, or None where an argument cannot be hashed."""
    items = argument_items(node.arguments)
    return None if items is None else (node.cls, items, in_shapes)


def argument_items(arguments: dict[str, Any]) -> tuple[Any, ...] | None:
    """A layer's arguments as a hashable key, or None where one cannot be hashed. Values are keyed with their
    types: in Python 1 == 1.0 == True, but a kind takes `bias: true` and refuses `bias: 1`, and prints 0.0 and
    -0.0 apart, so equal values of other types or forms must each be built (and checked) on their own."""
    items = []
    for name, value in arguments.items():
        kind = type(value)
        if kind is int or kind is str or kind is bool or value is None:  # the common case, at once
            items.append((name, kind, value))
        else:
            frozen = frozen_value(value)
            if frozen is None:
                return None
            items.append((name, kind, frozen))
    return tuple(items)


def frozen_value(value: Any) -> Any:
    """`value` as a hashable key that tells apart values Python finds equal (1, 1.0, True; 0.0, -0.0), or None."""
    if isinstance(value, list):
        items = tuple(frozen_value(item) for item in value)
        return None if None in items else items
    if isinstance(value, float):
        return repr(value)
    if value is None or isinstance(value, (int, str)):
        return (type(value), value)
    return None


def location(graph: Graph, node: Node) -> Location:
    return at(graph.file, node.mark)
