"""The layer graph: nodes in topological order, each bound to its kind's Layer once shapes are known."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import LayerError, Location, SpecError
from cnncalc.layers import Layer, Shape
from cnncalc.yamlsource import at

NETWORK_INPUT = "input"


@dataclass(eq=False)
class Node:
    """One layer of the expanded network, as written in the spec (after blocks and repeats are expanded)."""

    name: str  # unique, dotted inside blocks: "layer1.0.conv2d_1"
    cls: type[Layer]
    arguments: dict[str, Any]  # the kind's own arguments (reserved keys removed)
    mark: Any  # where the entry starts (yaml Mark)
    arg_marks: dict[str, Any]  # where each argument's value was written (the use site for block parameters)
    position: int  # 1-based, in file order after expansion
    inputs: list[str] = field(default_factory=list)  # resolved names; NETWORK_INPUT for the network input
    trainable: bool = True
    expanded_from: tuple[tuple[str, Any], ...] = ()  # (block name, mark of its use), outermost first
    layer: Layer | None = None

    @property
    def kind(self) -> str:
        return self.cls.kind

    def label(self) -> str:
        return f"layer '{self.name}' (#{self.position}, {self.cls.kind})"

    def bound(self) -> Layer:
        assert self.layer is not None, "shapes not inferred yet"
        return self.layer


@dataclass
class Graph:
    name: str
    file: str
    input_shape: Shape
    batch: int
    nodes: list[Node]  # topological order
    output: str  # the network's output node (the last layer in the file)
    warnings: list[str] = field(default_factory=list)

    def node(self, name: str) -> Node:
        return self.by_name[name]

    @property
    def by_name(self) -> dict[str, Node]:
        cached = self.__dict__.get("_by_name")
        if cached is None:
            cached = {n.name: n for n in self.nodes}
            self.__dict__["_by_name"] = cached
        return cached

    def shape_of(self, name: str) -> Shape:
        return self.input_shape if name == NETWORK_INPUT else self.by_name[name].bound().out_shape

    @property
    def output_shape(self) -> Shape:
        return self.shape_of(self.output)


def located(file: str, node: Node, error: LayerError) -> SpecError:
    """A kind's LayerError, placed at the argument (or entry) it concerns, naming the layer."""
    mark = node.arg_marks.get(error.arg or "", node.mark)
    note = None
    if node.expanded_from:
        note = "expanded from " + ", ".join(f"block '{b}' used at line {m.line + 1}" for b, m in node.expanded_from)
    return SpecError(error.message, location=at(file, mark), layer=node.label(), hint=error.hint, note=note)


def topological_order(nodes: list[Node], file: str) -> list[Node]:
    """Nodes ordered so every input comes first; file order wherever the file allows. Cycles are errors."""
    position = {n.name: i for i, n in enumerate(nodes)}
    if all(position.get(i, -1) < k for k, n in enumerate(nodes) for i in n.inputs):
        return nodes  # the common case: every layer reads earlier ones
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


def infer_shapes(graph: Graph) -> None:
    """Bind every node to its kind's Layer, walking in topological order."""
    shapes: dict[str, Shape] = {NETWORK_INPUT: graph.input_shape}
    for node in graph.nodes:
        try:
            node.layer = node.cls(node.arguments, tuple(shapes[i] for i in node.inputs))
        except LayerError as error:
            raise located(graph.file, node, error) from None
        shapes[node.name] = node.layer.out_shape


def location(graph: Graph, node: Node) -> Location:
    return at(graph.file, node.mark)
