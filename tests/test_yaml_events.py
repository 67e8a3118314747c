"""The two ways cnncalc.yamlsource builds a document give the same values, types and marks.

load_yaml builds a document without anchors straight from the parser's events (_EventBuilder) and leaves anything
else (errors, tags, split tuples, deep nesting, anchors) to the general path, which composes PyYAML's node tree
first (_load_composed). These tests build every document both ways: over the shipped specs, the YAML blocks of the
docs, and random documents (block and flow style, every kind of scalar, keys repeated, tuples, tags, aliases,
syntax errors), and check that the event path either answers exactly what the general path answers or hands over.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cnncalc.errors import SpecError
from cnncalc.yamlsource import (
    _FALLBACK,
    SourceMark,
    SourceText,
    TextMark,
    YList,
    YMap,
    _EventBuilder,
    _load_composed,
    _packed,
    at,
    load_yaml,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p for p in ROOT.glob("**/*.yaml") if ".git" not in p.parts)
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md")])


def mark_of(mark: Any) -> tuple[Any, ...]:
    """A mark as comparable figures: its type, line and column."""
    return (type(mark).__name__, mark.line, mark.column)


def same(a: Any, b: Any, path: str = "document") -> None:
    """Assert that `a` and `b` are the same values of the same types with the same marks, all the way down."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, YMap):
        assert list(a) == list(b), path
        assert mark_of(a.mark) == mark_of(b.mark), path
        assert list(a.key_marks) == list(b.key_marks) == list(a.value_marks) == list(b.value_marks) == list(a), path
        for key in a:
            assert mark_of(a.key_marks[key]) == mark_of(b.key_marks[key]), f"{path}.{key} (key)"
            assert mark_of(a.value_marks[key]) == mark_of(b.value_marks[key]), f"{path}.{key}"
        for (key_a, value_a), (key_b, value_b) in zip(a.items(), b.items(), strict=True):
            same(key_a, key_b, f"{path} key {key_a!r}")
            same(value_a, value_b, f"{path}.{key_a}")
    elif isinstance(a, YList):
        assert len(a) == len(b), path
        assert mark_of(a.mark) == mark_of(b.mark), path
        assert [mark_of(m) for m in a.item_marks] == [mark_of(m) for m in b.item_marks], path
        for index, (item_a, item_b) in enumerate(zip(a, b, strict=True)):
            same(item_a, item_b, f"{path}[{index}]")
    elif isinstance(a, SourceText):
        assert str(a) == str(b) and a.exact == b.exact, path
        assert mark_of(a.mark) == mark_of(b.mark), path
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", load(text, "doc.yaml")
    except SpecError as error:
        return "error", str(error)


def check(text: str) -> bool:
    """The event path's document equals the general path's (or it hands over); load_yaml answers as the general
    path does, error messages included. True when the event path built the document itself."""
    general = outcome(_load_composed, text)
    built = _EventBuilder(text).document() if "&" not in text else _FALLBACK
    if built is not _FALLBACK:
        assert general[0] == "value", f"the event path built a document the general path refuses: {general[1]}"
        same(built, general[1])
        if isinstance(built, (YMap, YList)):
            same_places(built, yaml.compose(text, Loader=yaml.CSafeLoader))
    answer = outcome(load_yaml, text)
    assert answer[0] == general[0]
    if answer[0] == "error":
        assert answer[1] == general[1]
    else:
        same(answer[1], general[1])
    return built is not _FALLBACK


def same_places(value: Any, node: yaml.Node) -> None:
    """Assert that the marks of a loaded `value` are where PyYAML's composed `node` tree says its parts start (an
    oracle apart from both builders; for documents without tuples split in [...] or {...})."""
    assert (value.mark.line, value.mark.column) == (node.start_mark.line, node.start_mark.column)
    if isinstance(value, YMap):
        assert len(value) == len(node.value)
        for (key, item), (key_node, item_node) in zip(value.items(), node.value, strict=True):
            for mark, part in ((value.key_marks[key], key_node), (value.value_marks[key], item_node)):
                assert (mark.line, mark.column) == (part.start_mark.line, part.start_mark.column), key
            if isinstance(item, (YMap, YList)):
                same_places(item, item_node)
    elif isinstance(value, YList):
        assert len(value) == len(node.value)
        for item, mark, item_node in zip(value, value.item_marks, node.value, strict=True):
            assert (mark.line, mark.column) == (item_node.start_mark.line, item_node.start_mark.column)
            if isinstance(item, (YMap, YList)):
                same_places(item, item_node)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_yaml_files_are_built_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    built_by_events = check(text)
    if "&" not in text:
        assert built_by_events, "a shipped spec should not need the general path"
        same_places(load_yaml(text, "doc.yaml"), yaml.compose(text, Loader=yaml.CSafeLoader))


def test_value_marks_of_collections_are_their_own_marks_and_read_only() -> None:
    document = load_yaml("layers:\n  - conv2d: {k: 1}\n  - pool: [2, 2]\n", "doc.yaml")
    entry, pool = document["layers"]
    assert entry.value_marks == {"conv2d": entry["conv2d"].mark} and pool.value_marks["pool"] is pool["pool"].mark
    with pytest.raises(TypeError):
        entry.value_marks["conv2d"] = None  # type: ignore[index]
    assigned = YMap(a=1)
    assigned.value_marks = {}
    assigned.value_marks["a"] = document.mark  # one assigned is kept as it is
    assert assigned.value_marks == {"a": document.mark}


def test_yaml_blocks_of_the_docs_are_built_alike() -> None:
    blocks = [b for doc in DOCS for b in re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)]
    assert len(blocks) >= 15
    assert sum(check(block) for block in blocks) >= 10


# -- random documents ------------------------------------------------------------------------------------------

SCALARS = st.sampled_from(
    [
        "1", "010", "-3", "0x1F", "0o17", "1e-5", ".5", "1e9", ".inf", "-.Inf", ".nan", "true", "False", "on", "no",
        "null", "~", "", "relu", "conv2d", "'quoted'", '"dq\\tx"', "'$x'", "$channels * 4", "(7, 7)", "'(7, 7)'",
        "Conv2d(3, 64, kernel_size=3)", "0.1 * (3 + $index) / 17", "!!float 1", "!!str 010", "!!int x", "! 2",
        "!custom v", "<<", "*a", "9" * 5000, "'a: b'", "x # comment", "a\tb",
    ]
)  # fmt: skip
KEYS = st.sampled_from(["name", "out_channels", "kernel_size", "a", "b", "'name'", "1", "null", "<<", "$k", "(x"])


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return value


def block(value: Any, indent: int, flows: Any) -> str:
    """`value` in block style at `indent` columns, some collections in flow style (as `flows` draws)."""
    pad = " " * indent
    if not isinstance(value, (dict, list)) or not value or flows.draw(st.booleans()):
        return " " + flow(value) + "\n"
    if isinstance(value, dict):
        return "\n" + "".join(f"{pad}{k}:{block(v, indent + 2, flows)}" for k, v in value.items())
    return "\n" + "".join(f"{pad}-{block(v, indent + 2, flows)}" for v in value)


TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(tree=st.dictionaries(KEYS, TREES, min_size=1, max_size=4), flows=st.data())
def test_random_documents_are_built_alike(tree: dict[str, Any], flows: Any) -> None:
    check(block(tree, 0, flows).lstrip("\n"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="ab:-[]{}, \n'\"#&*!$()\t1.", max_size=40))
@example(text="a: [1, (7, 7)]\nb: {k: (3, 3), c: 1}")
@example(text="a: 1\na: 2")
@example(text="- *x")
@example(text="a: 1\n---\nb: 2")
@example(text="? [a]\n: 1")
@example(text="[" * 150 + "]" * 150)
def test_random_texts_are_built_alike(text: str) -> None:
    check(text)


def test_the_event_path_builds_the_common_forms_and_hands_the_rest_over() -> None:
    common = "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: $c * 2, kernel_size: 3}\n  - relu\n"
    assert _EventBuilder(common).document() is not _FALLBACK
    for text in [
        "a: !!float 1",  # a tag
        "a: [1, (7, 7)]",  # a tuple split at its comma
        "a: 1\na: 2",  # a duplicate key (an error)
        "a: *x",  # an alias (undefined: an error)
        "a: [1",  # a syntax error
        "",  # no document
        "a: 1\n---\nb: 2",  # two documents
        "[" * 101 + "]" * 101,  # deeper than MAX_DEPTH
    ]:
        assert _EventBuilder(text).document() is _FALLBACK, text


def test_source_marks_hold_a_line_and_a_column_and_are_places() -> None:
    document = load_yaml("a: 1\nlayers:\n  - {x: [1, 2]}\n", "doc.yaml")
    assert type(document.mark) is SourceMark and document.mark  # line 0, column 0 is a place, not false
    assert (document.mark.line, document.mark.column) == (0, 0)
    inner = document["layers"][0]
    assert (inner.value_marks["x"].line, inner.value_marks["x"].column) == (2, 8)
    assert inner.value_marks["x"] is inner["x"].mark  # one object for a collection's place
    assert str(at("doc.yaml", inner.key_marks["x"])) == "doc.yaml:3:6"
    for line, column in [(0, 0), (1, 2), (10**6, 2**32 - 1), (2**40, 7)]:
        mark = _packed(TextMark(line, column))
        assert type(mark) is SourceMark and (mark.line, mark.column) == (line, column)
    wide = TextMark(3, 2**32)  # past what a SourceMark holds: the mark is kept as it is
    assert _packed(wide) is wide
