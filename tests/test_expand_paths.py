"""Expansion's shortcuts give what the long way gives (issue 13): a block's entries read once and kept for its later
uses, and layers that each read earlier ones taken in order without sorting and building them again
(`Expander.shortcuts`); layers shared by configuration (cnncalc.graph.bind, keyed with the values' types); and
`cnncalc check`'s specs sharing their layers. Compared over the shipped specs and fuzzer mutants (tests/fuzz):
every node with its arguments, marks, inputs and layer, or the error message, must be the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz.campaign import mutant_texts

from cnncalc.check import Options, check_paths
from cnncalc.errors import CnncalcError
from cnncalc.graph import Graph
from cnncalc.spec import parse_spec
from cnncalc.spec.expand import Expander

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "specs").glob("*.yaml"))
MUTANTS = 400  # fuzzer cases (about 9 in 10 carry a mutant spec), seed "expand"


def _position(mark: Any) -> tuple[Any, Any] | None:
    return None if mark is None else (mark.line, mark.column)


def _typed(value: Any) -> Any:
    """A value with its type, so that 1, 1.0 and True (equal in Python) compare apart."""
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _typed(item) for key, item in value.items()}
    return (type(value).__name__, repr(value))


def dump(graph: Graph) -> dict[str, Any]:
    """Everything expansion decides about a graph, in comparable form."""
    nodes = []
    for node in graph.nodes:
        layer = node.bound()
        nodes.append(
            (
                node.name,
                node.kind,
                _typed(node.arguments),
                _position(node.mark),
                {key: _position(mark) for key, mark in node.arg_marks.items()},
                {str(key): _position(mark) for key, mark in node.key_marks.items()},
                node.position,
                node.inputs,
                node.trainable,
                [(block, _position(mark)) for block, mark in node.expanded_from],
                repr(node.values),
                repr(sorted(node.ignore)),
                {key: repr(value) for key, value in vars(layer).items() if key != "given"},
                layer.summary(),
            )
        )
    return {
        "nodes": nodes,
        "output": graph.output,
        "groups": graph.groups,
        "input": graph.input_shape,
        "batch": graph.batch,
        "limits": repr(graph.limits),
        "ignore": sorted(graph.ignore),
    }


def outcome(text: str) -> Any:
    try:
        return dump(parse_spec(text, "spec.yaml"))
    except CnncalcError as error:
        return error.render()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in SHIPPED] + mutant_texts("expand", MUTANTS)


def test_shortcuts_expand_as_the_long_way(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    reused = [outcome(text) for text in texts]
    monkeypatch.setattr(Expander, "shortcuts", False)
    for text, fast in zip(texts, reused, strict=True):
        assert outcome(text) == fast, text


def test_block_entries_are_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above compares something: ResNet-50's bottleneck entries are read once, not 16 times."""
    calls = []
    original = Expander.expand_known
    monkeypatch.setattr(Expander, "expand_known", lambda self, *args: calls.append(1) or original(self, *args))
    parse_spec((ROOT / "specs" / "resnet50.yaml").read_text(encoding="utf-8"))
    assert len(calls) > 100


@pytest.mark.parametrize(
    "layers, message",
    [
        ("[{relu: {inplace: true}}, {relu: {inplace: 1}}]", "layer 'relu_2' (#2, ReLU): inplace: expected true or"),
        ("[{dropout: {p: 0}}, {dropout: {p: false}}]", "layer 'dropout_2' (#2, Dropout): p: expected a number from"),
        (
            "[{conv2d: {out_channels: 3, kernel_size: 1, bias: false}}, {conv2d: {out_channels: 3, kernel_size: 1, "
            "bias: 0}}]",
            "layer 'conv2d_2' (#2, Conv2d): bias: expected true or false, got 0",
        ),
    ],
)
def test_equal_values_of_another_type_are_checked_on_their_own(layers: str, message: str) -> None:
    """1 == True and 0 == False in Python: a layer shared by configuration must not let `inplace: 1` pass for
    `inplace: true` (it did, on the second of two such layers on the same input shape)."""
    with pytest.raises(CnncalcError) as raised:
        parse_spec(f"input: [3, 8, 8]\nlayers: {layers}\n")
    assert message in raised.value.render()


def test_zero_and_negative_zero_are_different_layers() -> None:
    graph = parse_spec(
        "input: [3, 8, 8]\nlayers:\n  - leakyrelu: {negative_slope: 0.0}\n  - leakyrelu: {negative_slope: -0.0}\n"
    )
    assert [node.bound().summary() for node in graph.nodes] == ["slope=0", "slope=-0"]


def test_ignore_of_a_block_use_points_at_that_use() -> None:
    """Two uses of one block with `ignore`: a rule that does not exist is reported at the use that names it (the
    block's layers share their marks between uses; the use's mark goes on a copy)."""
    text = """input: [3, 8, 8]
blocks:
  unit:
    layers:
      - conv2d: {out_channels: 3, kernel_size: 3, padding: 1}
      - relu
layers:
  - unit: {ignore: bias-before-norm}
  - unit: {ignore: no-such-rule}
"""
    with pytest.raises(CnncalcError) as raised:
        parse_spec(text, "spec.yaml")
    assert str(raised.value.location) == "spec.yaml:9:20"
    assert raised.value.layer == "layer 'unit_2.conv2d_1' (#3, Conv2d)"
    assert "no lint rule 'no-such-rule'" in raised.value.message


def _results(paths: list[str]) -> list[Any]:
    options = Options({}, None, None, frozenset(), lint=True, budgets=True, skip_non_specs=False)
    return [
        (
            result.path,
            result.name,
            result.error.render() if result.error else None,
            result.skipped,
            [budget.message for budget in result.budgets],
            [repr(finding) for finding in result.findings],
        )
        for result in check_paths(paths, options)
    ]


def test_check_sharing_layers_between_specs_matches_each_spec_alone(texts: list[str], tmp_path: Path) -> None:
    paths = []
    for index, text in enumerate(texts[:150]):
        path = tmp_path / f"spec{index:03d}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    together = _results(paths)
    assert together == [result for path in paths for result in _results([path])]
    assert sum(result[2] is None for result in together) > 40  # enough of them load to share layers
