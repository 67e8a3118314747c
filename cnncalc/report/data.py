"""What a report page shows, as data: the JSON report (`summary --format json --training`, unchanged), the lint
findings (as `lint --format json` lists them) and the graph to draw, one node per layer or, for large networks,
per block (GRAPH_MAX_NODES)."""

from __future__ import annotations

from typing import Any

from cnncalc.analyze import Report
from cnncalc.graph import NETWORK_INPUT, Graph
from cnncalc.tree import Block

# Beyond this many nodes the graph is drawn with blocks closed (the deepest block level that fits), and without
# it when even the top-level blocks do not fit: dagre's layout time grows faster than linearly, and a picture of
# thousands of boxes is not read anyway. ResNet-50 (176 nodes) and U-Net are drawn layer by layer.
GRAPH_MAX_NODES = 400
GRAPH_MAX_EDGES = 1200


def page_data(graph: Graph, report: Report, tree: Block) -> dict[str, Any]:
    from cnncalc.lint import lint
    from cnncalc.render.check import finding_dict
    from cnncalc.render.json_report import report_dict

    data = report_dict(report, tree)
    return {
        "report": data,
        "lint": [finding_dict(finding) for finding in lint(graph, report)],
        "graph": graph_model(data),
    }


def graph_model(data: dict[str, Any]) -> dict[str, Any]:
    """The nodes and edges to draw: `level` None for one node per layer, else the block depth whose blocks are
    drawn closed; `omitted` says why there is no graph when nothing fits."""
    layers = data["layers"]
    if len(layers) + 1 <= GRAPH_MAX_NODES:
        model = _drawn(data, None)
        if len(model["edges"]) <= GRAPH_MAX_EDGES:
            return model
    for depth in _fitting_depths(data["blocks"]):
        model = _drawn(data, depth)
        if len(model["edges"]) <= GRAPH_MAX_EDGES:
            return model
    return {
        "level": None,
        "nodes": [],
        "edges": [],
        "omitted": f"{len(layers)} layers: more than {GRAPH_MAX_NODES} nodes to draw even with every block "
        f"closed; `cnncalc graph` writes the whole graph (DOT, Mermaid, JSON)",
    }


def _fitting_depths(top: dict[str, Any]) -> list[int]:
    """The block depths, deepest first, at which the graph has at most GRAPH_MAX_NODES nodes (the input, the
    layers above that depth and the blocks at it), counted in one walk."""
    layers_at: dict[int, int] = {}
    blocks_at: dict[int, int] = {}
    pending = list(top["children"])
    while pending:
        node = pending.pop()
        counts = layers_at if node["type"] is not None else blocks_at
        counts[node["depth"]] = counts.get(node["depth"], 0) + 1
        pending.extend(node["children"])
    fitting = []
    for depth in sorted(blocks_at, reverse=True):
        nodes = 1 + blocks_at[depth] + sum(n for level, n in layers_at.items() if level <= depth)
        if nodes <= GRAPH_MAX_NODES:
            fitting.append(depth)
    return fitting


def _drawn(data: dict[str, Any], depth: int | None) -> dict[str, Any]:
    """Nodes in file order (each block where its first layer is) and one edge per distinct (from, to, shape)."""
    drawn_as = _drawn_as(data["blocks"], depth)
    index: dict[str, int] = {NETWORK_INPUT: 0}
    nodes: list[dict[str, Any]] = [
        {"name": NETWORK_INPUT, "kind": "input", "sub": "network input", "shape": data["input_shape"]},
    ]
    shapes: dict[str, list[Any]] = {NETWORK_INPUT: data["input_shape"]}
    edges: list[list[Any]] = []
    seen: set[tuple[int, int, str]] = set()
    for layer in data["layers"]:
        shapes[layer["name"]] = layer["output_shape"]
        node = drawn_as.get(layer["name"], layer)
        if node["name"] not in index:
            index[node["name"]] = len(nodes)
            nodes.append(_node(node))
        target = index[node["name"]]
        for source in layer["inputs"]:
            start = index[drawn_as.get(source, {"name": source})["name"]]
            shape = "x".join(map(str, shapes[source]))
            if start != target and (start, target, shape) not in seen:
                seen.add((start, target, shape))
                edges.append([start, target, shape])
    return {"level": depth, "nodes": nodes, "edges": edges}


def _node(node: dict[str, Any]) -> dict[str, Any]:
    if "block" not in node:  # a layer (an entry of `layers`)
        sub = f"{node['type']} {node['summary']}".strip()
        return {"name": node["name"], "kind": "layer", "sub": sub, "shape": node["output_shape"]}
    kind = f"{node['block']} x {node['repeat']}" if node["repeat"] is not None else node["block"]
    sub = f"{kind}, {node['layer_count']} layers"
    return {"name": node["name"], "kind": "block", "sub": sub, "shape": node["output_shape"]}


def _drawn_as(top: dict[str, Any], depth: int | None) -> dict[str, dict[str, Any]]:
    """Layer name -> the block at `depth` that contains it (layers above that depth: absent)."""
    if depth is None:
        return {}
    drawn_as: dict[str, dict[str, Any]] = {}
    pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(child, None) for child in top["children"]]
    while pending:
        node, closed = pending.pop()
        if closed is None and node["type"] is None and node["depth"] == depth:
            closed = node
        if node["type"] is not None and closed is not None:
            drawn_as[node["name"]] = closed
        pending.extend((child, closed) for child in node["children"])
    return drawn_as
