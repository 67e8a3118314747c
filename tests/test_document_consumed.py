"""A spec's document let go as its graph is built (issue 13, peak memory at a million layers): `keep_document=False`
empties the top-level `layers` entry by entry and keeps no graph.document. The graph, the report and every error
must be the same as with the document kept (the default), over the shipped specs and fuzzer mutants; the commands
that read the document again (another --input size, export) keep it."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from fuzz.campaign import mutant_texts
from test_expand_paths import dump

from cnncalc.analyze import analyze
from cnncalc.check import Options, check_paths
from cnncalc.errors import CnncalcError
from cnncalc.graph import Node
from cnncalc.render.json_report import write_json
from cnncalc.spec import load_spec, parse_spec
from cnncalc.spec.document import consumable, graph_from_document
from cnncalc.tree import block_tree
from cnncalc.yamlsource import load_yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "check_specs").glob("*.yaml"))
MUTANTS = 300  # fuzzer cases, seed "consume"


def outcome(text: str, keep_document: bool) -> Any:
    """The graph as expansion made it and its JSON report, or the error message."""
    try:
        graph = parse_spec(text, "spec.yaml", keep_document=keep_document)
        report = analyze(graph)
        out = io.StringIO()
        write_json(out, [report], [block_tree(graph, report)], None)
        return dump(graph), out.getvalue(), graph.document is None
    except CnncalcError as error:
        return error.render()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in SHIPPED] + mutant_texts("consume", MUTANTS)


def test_consumed_document_gives_the_same_graph_report_and_errors(texts: list[str]) -> None:
    compared = 0
    for text in texts:
        kept, consumed = outcome(text, True), outcome(text, False)
        if isinstance(kept, tuple):
            assert kept[2] is False, "the default keeps the document"
            assert isinstance(consumed, tuple), text
            assert consumed[:2] == kept[:2], text
            assert consumed[2] is consumable(text), "no document kept, unless anchors may share its lists"
            compared += 1
        else:
            assert consumed == kept, text
    assert compared > 50  # the comparison compares graphs, not only errors


def test_the_top_level_layers_are_emptied_as_they_are_expanded() -> None:
    """What the opt-out does: the caller's document is left without its layers (their memory went to the graph)."""
    text = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
    document = load_yaml(text, "resnet18.yaml")
    count = len(document["layers"])
    graph = graph_from_document(document, "resnet18.yaml", keep_document=False)
    assert count > 3 and document["layers"] == [] and document["layers"].item_marks == []
    assert graph.document is None and dump(graph) == dump(parse_spec(text, "resnet18.yaml"))


def test_an_aliased_layers_list_is_kept() -> None:
    """With anchors a block's list may be the top-level list itself: parse_spec keeps such a document whole."""
    text = (
        "input: [3, 8, 8]\nblocks:\n  unit:\n    layers: &body\n      - conv2d: {out_channels: 3, kernel_size: 1}\n"
        "      - relu\nlayers: *body\n"
    )
    graph = parse_spec(text, keep_document=False)
    assert graph.document is not None and len(graph.document["layers"]) == 2
    assert dump(graph) == dump(parse_spec(text))


def test_errors_after_a_consumed_entry_keep_their_place(tmp_path: Path) -> None:
    """An error past entries already let go still names its file, line and column."""
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 3}\n  - relu\n"
        "  - conv2d: {out_channels: 4, kernel_size: 30}\n",
        encoding="utf-8",
    )
    messages = []
    for keep in (True, False):
        with pytest.raises(CnncalcError) as raised:
            load_spec(str(spec), keep_document=keep)
        messages.append(raised.value.render())
    assert messages[0] == messages[1] and f"{spec}:5:" in messages[0]


def test_node_values_and_ignore_share_a_slot() -> None:
    node = Node("a", Node, {}, None, {}, 1)  # type: ignore[arg-type]
    assert node.values is None and node.ignore == () and node._rare is None
    node.ignore = frozenset({"L001"})
    assert node.values is None and node.ignore == frozenset({"L001"})
    node.values = {"weight": [1]}
    assert node.values == {"weight": [1]} and node.ignore == frozenset({"L001"})
    assert Node("b", Node, {}, None, {}, 1, values={"bias": [0]}).ignore == ()  # type: ignore[arg-type]
    assert not hasattr(node, "__dict__")
    if sys.implementation.name == "cpython" and sys.maxsize > 2**32:
        assert sys.getsizeof(node) <= 128  # the size class of the dicts a consumed document lets go


def _verdicts(paths: list[str]) -> list[Any]:
    options = Options({}, None, None, frozenset(), True, True, False)
    return [
        (r.path, r.name, r.error and r.error.render(), r.skipped, r.budgets, r.findings)
        for r in check_paths(paths, options)
    ]


def test_check_letting_documents_go_equals_keeping_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cnncalc check` lets each document go (unless it checks other sizes): the same verdicts as keeping them."""
    paths = [str(path) for path in SHIPPED]
    consumed = _verdicts(paths)
    monkeypatch.setattr("cnncalc.spec.document.consumable", lambda text: False)  # every document kept
    kept = _verdicts(paths)
    assert consumed == kept and any(name for _, name, *_ in kept)


@pytest.mark.parametrize("spec", ["specs/resnet18.yaml", "specs/mobilenet_v2.yaml"])
def test_summary_json_equals_summary_at_its_own_input(spec: str) -> None:
    """`summary SPEC` lets the document go; `--input` at the spec's own size keeps it (sizes path): same JSON."""
    own = "x".join(map(str, load_spec(spec).input_shape))
    consumed = run_cli("summary", spec, "--format", "json")
    kept = run_cli("summary", spec, "--input", own, "--format", "json")
    assert consumed.code == kept.code == 0, consumed.err + kept.err
    assert consumed.out == kept.out


def test_commands_that_read_the_document_again_still_work(tmp_path: Path) -> None:
    two = run_cli("summary", "specs/resnet18.yaml", "--input", "3x224x224", "--input", "3x128x128", "--format", "json")
    assert two.code == 0, two.err
    reports = json.loads(two.out)
    assert [r["input_shape"] for r in reports] == [[3, 224, 224], [3, 128, 128]]
    out = tmp_path / "model.py"
    exported = run_cli("export", "specs/resnet18.yaml", "-o", str(out))
    assert exported.code == 0, exported.err
    assert "class" in out.read_text(encoding="utf-8")
