"""`cnncalc graph`: the layer graph as a picture (Mermaid, Graphviz DOT) or as JSON, with shapes on the edges.

One model, `graph_dict`, from the spec's graph and its report; the two picture languages only write it out.
Layers with dotted names are drawn inside one box per name prefix, nested as the names are (`layer1` > `layer1.0`):
a block's layers (`layer1.0.conv1`) in one box per block instance, layers named with dots in the spec (`features.0`)
likewise.
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION, Report
from cnncalc.graph import NETWORK_INPUT, Graph
from cnncalc.layout import shown
from cnncalc.units import human

# GitHub renders Mermaid with its default limits: longer diagrams show an error instead of a picture.
MERMAID_MAX_TEXT = 50_000
MERMAID_MAX_EDGES = 500


def graph_dict(graph: Graph, report: Report) -> dict[str, Any]:
    """Nodes (the network input first, then every layer in topological order) and edges (one per input read,
    labelled with the per-sample shape of the tensor it carries, in the report's layout)."""
    input_shape = list(shown(graph.input_shape, report.layout))
    shapes = {NETWORK_INPUT: input_shape}
    nodes: list[dict[str, Any]] = [
        {
            "name": NETWORK_INPUT,
            "type": None,
            "summary": "",
            "output_shape": input_shape,
            "block": None,
            "params": 0,
            "macs": 0,
        }
    ]
    for row in report.rows:
        shapes[row.name] = list(shown(row.output_shape, report.layout))
        nodes.append(
            {
                "name": row.name,
                "type": row.kind,
                "summary": row.summary,
                "output_shape": shapes[row.name],
                "block": block_of(row.name),
                "params": row.params,
                "macs": row.macs,
            }
        )
    edges = [{"from": source, "to": row.name, "shape": shapes[source]} for row in report.rows for source in row.inputs]
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "name": report.name,
        "layout": report.layout,
        "output": graph.output,
        "nodes": nodes,
        "edges": edges,
    }


def block_of(name: str) -> str | None:
    """The box a layer is drawn in: its name up to the last dot, or None for a name without one. For a layer
    expanded from a block that is the block instance (`layer1.0` for `layer1.0.conv1`); a layer written with a
    dotted name of its own (torchvision's `features.0`, `features.1`) is boxed the same way, as PyTorch's module
    tree nests it, though no block made it."""
    prefix, dot, _ = name.rpartition(".")
    return prefix if dot else None


def shape_text(shape: list[int]) -> str:
    return "x".join(map(str, shape))


def label_lines(node: dict[str, Any], figures: bool) -> list[str]:
    """A node's label: its name (inside a block's box, the part after the box's name), then its kind and
    arguments (the input: its shape), then its figures if asked."""
    if node["type"] is None:
        return [node["name"], shape_text(node["output_shape"])]
    lines = [node["name"].rpartition(".")[2], f"{node['type']} {node['summary']}".rstrip()]
    if figures and (node["params"] or node["macs"]):
        counted = [f"{human(node[key])} {what}" for key, what in (("params", "params"), ("macs", "MACs")) if node[key]]
        lines.append(", ".join(counted))
    return lines


# -- nesting ----------------------------------------------------------------------------------------------------


def _tree(data: dict[str, Any]) -> dict[str | None, list[tuple[str, str]]]:
    """Children of each block prefix (None: the top), in order of first appearance: ("node", name) or
    ("group", prefix)."""
    children: dict[str | None, list[tuple[str, str]]] = {None: []}
    for node in data["nodes"]:
        block = node["block"]
        if block is not None and block not in children:
            parts = block.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix not in children:
                    children[prefix] = []
                    children[".".join(parts[: end - 1]) or None].append(("group", prefix))
        children[block].append(("node", node["name"]))
    return children


def _walk(
    children: dict[str | None, list[tuple[str, str]]], parent: str | None, depth: int
) -> list[tuple[str, str, int]]:
    """("node", name, depth), ("open", prefix, depth) and ("close", prefix, depth) in drawing order."""
    items: list[tuple[str, str, int]] = []
    for what, key in children[parent]:
        if what == "node":
            items.append(("node", key, depth))
        else:
            items.append(("open", key, depth))
            items.extend(_walk(children, key, depth + 1))
            items.append(("close", key, depth))
    return items


# -- Mermaid ----------------------------------------------------------------------------------------------------

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")


def _mermaid_ids(data: dict[str, Any], groups: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Safe, unique ids: Mermaid ids cannot hold dots or dashes, and words such as `end` or `graph` (or an id
    starting with o or x after an arrow) mean something else; a prefix ("n_" nodes, "g_" blocks) rules both out."""
    taken: set[str] = set()

    def unique(base: str) -> str:
        made, count = base, 1
        while made in taken:
            count += 1
            made = f"{base}_{count}"
        taken.add(made)
        return made

    nodes = {n["name"]: unique("n_" + _UNSAFE_ID.sub("_", n["name"])) for n in data["nodes"]}
    blocks = {prefix: unique("g_" + _UNSAFE_ID.sub("_", prefix)) for prefix in groups}
    return nodes, blocks


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: '#' (which starts Mermaid's entity codes), quotes, and what HTML
    labels would read as markup ('<' and '&') as entity codes; '>' shows as it is ('2450 -> 500')."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), ("&", "#amp;")):
        text = text.replace(char, code)
    return text


def render_mermaid(data: dict[str, Any], direction: str = "TB", figures: bool = False) -> str:
    children = _tree(data)
    groups = [key for key in children if key is not None]
    ids, block_ids = _mermaid_ids(data, groups)
    by_name = {node["name"]: node for node in data["nodes"]}
    lines = [f"flowchart {direction}"]
    for what, key, depth in _walk(children, None, 1):
        indent = "    " * depth
        if what == "open":
            lines.append(f'{indent}subgraph {block_ids[key]} ["{_mermaid_text(key)}"]')
        elif what == "close":
            lines.append(f"{indent}end")
        else:
            node = by_name[key]
            label = "<br/>".join(_mermaid_text(line) for line in label_lines(node, figures))
            # The input is drawn as a stadium, layers as boxes.
            shape = ('(["', '"])') if node["type"] is None else ('["', '"]')
            lines.append(f"{indent}{ids[key]}{shape[0]}{label}{shape[1]}")
    for edge in data["edges"]:
        lines.append(f'    {ids[edge["from"]]} -->|"{shape_text(edge["shape"])}"| {ids[edge["to"]]}')
    return "\n".join(lines) + "\n"


def mermaid_warnings(text: str, data: dict[str, Any]) -> list[str]:
    """Where GitHub's Mermaid (default limits) would refuse the diagram."""
    warnings = []
    if len(text) > MERMAID_MAX_TEXT:
        warnings.append(
            f"the diagram has {len(text):,} characters; GitHub renders Mermaid diagrams of at most "
            f"{MERMAID_MAX_TEXT:,} (try --format dot)"
        )
    if len(data["edges"]) > MERMAID_MAX_EDGES:
        warnings.append(
            f"the diagram has {len(data['edges']):,} edges; GitHub renders Mermaid diagrams of at most "
            f"{MERMAID_MAX_EDGES:,} (try --format dot)"
        )
    return warnings


# -- Graphviz DOT -----------------------------------------------------------------------------------------------


def _dot_string(text: str) -> str:
    """A quoted DOT string: every name is quoted, so keywords (node, edge, graph) and dots are plain text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(data: dict[str, Any], direction: str = "TB", figures: bool = False) -> str:
    children = _tree(data)
    by_name = {node["name"]: node for node in data["nodes"]}
    lines = [
        f"digraph {_dot_string(data['name'])} {{",
        f"    rankdir={direction};",
        '    node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    for what, key, depth in _walk(children, None, 1):
        indent = "    " * depth
        if what == "open":
            lines.append(f"{indent}subgraph {_dot_string('cluster_' + key)} {{")
            lines.append(f'{indent}    label={_dot_string(key)}; style="rounded,dashed"; color=gray50;')
        elif what == "close":
            lines.append(f"{indent}}}")
        else:
            node = by_name[key]
            # Each line escaped on its own, then joined by DOT's \n escape (centred lines).
            label = "\\n".join(_dot_string(line)[1:-1] for line in label_lines(node, figures))
            extra = ", shape=ellipse, style=solid" if node["type"] is None else ""
            lines.append(f'{indent}{_dot_string(key)} [label="{label}"{extra}];')
    for edge in data["edges"]:
        lines.append(
            f"    {_dot_string(edge['from'])} -> {_dot_string(edge['to'])} "
            f"[label={_dot_string(shape_text(edge['shape']))}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_json(data: dict[str, Any]) -> str:
    """One key per line; one node or edge per line."""
    import json

    lines = []
    for key, value in data.items():
        if key in ("nodes", "edges") and value:
            items = ",\n".join("    " + json.dumps(item) for item in value)
            lines.append(f'  "{key}": [\n{items}\n  ]')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
