"""The analysis's shortcuts give what the long way gives (issue 13): per-sample figures and receptive-field plans
kept per Layer across analyses (`cnncalc check`'s specs share their layers), unused layers known at once when every
layer but the output is read. Compared with `shortcuts = False` in cnncalc.analyze and cnncalc.receptive over the
shipped specs, the test fixtures, fuzzer mutants and random graphs with branches and dead ends: the same reports
(rows, totals, warnings) or errors. (Receptive fields' inline common cases: tests/test_receptive_paths.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz.campaign import mutant_texts
from test_receptive_paths import random_graph

import cnncalc.analyze as analysis
import cnncalc.receptive as receptive
from cnncalc.errors import CnncalcError
from cnncalc.graph import Graph
from cnncalc.spec import parse_spec
from cnncalc.spec.document import graph_from_document
from cnncalc.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "fixtures").rglob("*.yaml"))
MUTANTS = 200  # fuzzer cases, seed "analysis"


def outcomes(graph: Graph, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The analysis of `graph` with the shortcuts and without them (each a report, or an error's text), at the
    spec's batch and at batch 3 in float16."""

    def both() -> list[Any]:
        found = []
        for options in ({}, {"dtype": "float16"}):
            try:
                found.append(analysis.analyze(graph, **options))
            except CnncalcError as error:
                found.append(error.render())
        return found

    fast = both()
    with monkeypatch.context() as patch:
        patch.setattr(analysis, "shortcuts", False)
        patch.setattr(receptive, "shortcuts", False)
        slow = both()
    return fast, slow


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in SHIPPED] + mutant_texts("analysis", MUTANTS)


def test_shortcuts_analyze_as_the_long_way(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    analyzed = 0
    for text in texts:
        try:
            graph = parse_spec(text, "spec.yaml")
        except CnncalcError:
            continue
        fast, slow = outcomes(graph, monkeypatch)
        assert fast == slow, text
        analyzed += 1
    assert analyzed > 60


def test_random_graphs_analyze_as_the_long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random graphs read random earlier layers: many leave layers unused, which must still be found."""
    unused = 0
    for seed in range(120):
        graph = random_graph(seed)
        fast, slow = outcomes(graph, monkeypatch)
        assert fast == slow, seed
        fields, field_warnings = receptive.receptive_fields(graph)  # the report's: the fields', then the rest
        assert fast[0].warnings[: len(field_warnings)] == field_warnings
        assert [row.receptive_field for row in fast[0].rows] == [fields[node.name] for node in graph.nodes]
        unused += any("not used by the output" in text for text in fast[0].warnings)
    assert unused >= 10


def test_layers_shared_between_specs_give_each_its_own_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Specs built with one cache of layers (as `check` builds them) share Layer objects, and with them the
    per-sample figures: each spec's report, at its own batch, is still its own."""
    built: dict[Any, Any] = {}
    graphs = []
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        for batch in (None, 2):
            try:
                graphs.append(graph_from_document(load_yaml(text, path.name), path.name, batch=batch, built=built))
            except CnncalcError:
                continue
    assert len(graphs) > 20
    for graph in graphs:
        fast, slow = outcomes(graph, monkeypatch)
        assert fast == slow, graph.name


def test_an_unused_layer_is_still_warned_about() -> None:
    text = """
input: [3, 8, 8]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, name: a}
  - relu: {name: dead, inputs: a}
  - relu: {name: out, inputs: a}
"""
    report = analysis.analyze(parse_spec(text))
    assert "not used by the output 'out': dead" in report.warnings
