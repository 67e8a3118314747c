"""The spec writer's block folding (cnncalc.bridges.writer), without torch: ImportedNetworks are built from real
cnncalc specs (every shipped spec: its layers, and its block uses and repeats as the module tree), written folded,
loaded again, and compared layer by layer with the original graph and with the flat writing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cnncalc.args import REQUIRED, _parsed_default
from cnncalc.bridges.network import ImportedLayer, ImportedNetwork, Scope
from cnncalc.bridges.writer import write_folded, write_spec
from cnncalc.graph import Graph
from cnncalc.spec import load_spec, parse_spec

SPECS = sorted(Path(__file__).resolve().parent.parent.glob("specs/*.yaml"))


def plain(value: Any) -> Any:
    """A parsed argument as an importer gives it: lists for tuples."""
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return value


def imported_arguments(node: Any) -> dict[str, Any]:
    """The layer's parsed arguments, defaults and inferred sizes left out (what an importer writes)."""
    layer = node.bound()
    found = {}
    for arg in layer.arguments:
        value = getattr(layer, arg.name)
        if arg.inferred or (arg.default is not REQUIRED and value == _parsed_default(arg, layer.dims)):
            continue
        found[arg.name] = plain(value)
    return found


def scopes_of(graph: Graph) -> dict[int, list[Scope]]:
    """Per file position, the block uses and repeats around it, outermost first: a repeat is a Sequential."""
    names = {node.name for node in graph.nodes}
    scopes: dict[int, list[Scope]] = {}
    for path, group in graph.groups.items():
        child = graph.groups.get(path + ".0")
        repeat = (child is not None and child.block == group.block) or (
            path + ".0" in names and graph.node(path + ".0").kind == group.block
        )
        scope = Scope(path, "Sequential" if repeat else group.block)
        for position in range(group.first, group.last + 1):
            scopes.setdefault(position, []).append(scope)
    return {position: sorted(found, key=lambda s: len(s.path)) for position, found in scopes.items()}


def network_of(graph: Graph) -> ImportedNetwork:
    scopes = scopes_of(graph)
    layers = [
        ImportedLayer(node.name, node.kind, imported_arguments(node), list(node.inputs), tuple(scopes.get(node.position, ())))
        for node in graph.nodes
    ]
    return ImportedNetwork(graph.name, graph.file, tuple(graph.input_shape), layers, graph.output)


def figures(graph: Graph) -> list[tuple]:
    """Everything a layer is counted by: name, kind, arguments as parsed, inputs, shapes, weights, MACs."""
    rows = []
    for node in graph.nodes:
        layer = node.bound()
        rows.append(
            (node.name, node.kind, imported_arguments(node), node.inputs, layer.out_shape, layer.weights(), layer.buffers(), layer.macs(), layer.other_ops())
        )
    return rows


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_folded_spec_makes_the_same_layers(path: Path) -> None:
    graph = load_spec(str(path))
    network = network_of(graph)
    folded = write_folded(network)
    assert "written flat" not in write_spec(network)
    flat = parse_spec(write_spec(network, fold=False), "flat.yaml")
    again = parse_spec(folded, "folded.yaml")
    assert figures(again) == figures(graph)
    assert figures(flat) == figures(graph)
