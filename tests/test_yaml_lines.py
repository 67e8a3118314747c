"""The line reader (cnncalc.yamllines) reads what it reads exactly as the other paths do, and hands the rest over.

load_yaml tries the line reader first; a document outside its subset goes to the event path (_EventBuilder) or
the general path (_load_composed), as before. Here every document is read by the line reader and by the general
path (and the event path): over the shipped specs, every YAML file of the tests, the docs' YAML blocks, the
benchmarks' generated specs, random documents and thousands of mutated spec lines (tabs, comments, quotes, odd
indentation, `- - x`, `key:  value`, `{}`, `a:b`, `-1`, `.5`, `1e-05`, `~`, `on`, ...). Where the line reader
answers, the values, their types and every mark must be the same, and keys interned alike; error messages come
from the general path, unchanged.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_yaml_events import DOCS, ROOT, TREES, block, outcome, same, same_places

from cnncalc.yamllines import read_lines
from cnncalc.yamlsource import _FALLBACK, SourceText, YList, YMap, _EventBuilder, _load_composed, load_yaml

YAML_FILES = sorted(p for p in ROOT.glob("**/*.yaml") if ".git" not in p.parts)


def keys_of(value: Any) -> list[Any]:
    """Every mapping key of a document, in order (to compare which are one object)."""
    found: list[Any] = []
    if isinstance(value, YMap):
        for key, item in value.items():
            found.append(key)
            found.extend(keys_of(item))
    elif isinstance(value, YList):
        for item in value:
            found.extend(keys_of(item))
    return found


def kept_marks(value: Any) -> list[bool]:
    """Whether each mapping of a document keeps a dict of its values' marks (or makes it when asked: see YMap)."""
    kept: list[bool] = []
    if isinstance(value, YMap):
        kept.append(value._value_marks is not None)
        for item in value.values():
            kept.extend(kept_marks(item))
    elif isinstance(value, YList):
        for item in value:
            kept.extend(kept_marks(item))
    return kept


def check(text: str) -> bool:
    """The line reader's document equals the general path's and the event path's (or it hands over); load_yaml
    answers as the general path does. True when the line reader read the document."""
    read = read_lines(text)
    if read is None:
        answer, general = outcome(load_yaml, text), outcome(_load_composed, text)
        assert answer[0] == general[0]
        if answer[0] == "error":
            assert answer[1] == general[1]
        return False
    general = outcome(_load_composed, text)
    assert general[0] == "value", f"the line reader read a document the general path refuses: {general[1]}"
    same(read, general[1])
    events = _EventBuilder(text).document()
    assert events is not _FALLBACK, "the line reader read a document the event path hands over"
    same(read, events)
    assert kept_marks(read) == kept_marks(events)  # the same memory, too
    same_places(read, yaml.compose(text, Loader=yaml.CSafeLoader))
    # keys are interned alike: two equal text keys are one object in both, or in neither
    read_keys, event_keys = keys_of(read), keys_of(events)
    first_read: dict[Any, int] = {}
    first_event: dict[Any, int] = {}
    for index, (a, b) in enumerate(zip(read_keys, event_keys, strict=True)):
        if type(a) is str:
            assert (a is read_keys[first_read.setdefault(a, index)]) == (
                b is event_keys[first_event.setdefault(b, index)]
            )
    same(load_yaml(text, "doc.yaml"), events)
    return True


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_files_are_read_alike(path: Path) -> None:
    check(path.read_text(encoding="utf-8"))


def test_most_shipped_specs_are_in_the_subset() -> None:
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    read = [path.name for path in specs if read_lines(path.read_text(encoding="utf-8")) is not None]
    assert len(read) >= len(specs) * 3 // 4, read


def test_yaml_blocks_of_the_docs_are_read_alike() -> None:
    blocks = [b for doc in DOCS for b in re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)]
    assert sum(check(block) for block in blocks) >= 10


def benchmark(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_generated_specs_of_the_benchmarks_are_read_alike(tmp_path: Path) -> None:
    for layers in (10, 100, 1000):
        assert check(benchmark("bench_scale").residual_spec(layers))
    benchmark("bench_check").write_specs(str(tmp_path), 30)
    for path in sorted(tmp_path.glob("*.yaml")):
        assert check(path.read_text(encoding="utf-8")), path.name


def test_the_common_forms_are_read_and_the_rest_handed_over() -> None:
    common = (
        "name: net  # a comment\ndescription: ResNet-18, as in the paper (2015)\ninput: [3, 32, 32]\n"
        "blocks:\n  b:\n    params: {c: null}\n    layers:\n    - conv2d: {out_channels: $c * 2, kernel_size: 3}\n"
        "layers:\n\n  # comment line\n  - conv2d: {out_channels: 16, kernel_size: [3, 3], name: c1}\n  - relu\n"
        "  - add: {inputs: [a, b], name: x}\n  - b: {c: 4, repeat: 2}\n  - pool:\n      k: (7, 7)\n      s: -1\n"
    )
    assert check(common)
    for text in [
        "a: !!float 1",  # a tag
        "a: [1, (7, 7)]",  # a tuple split at its comma
        "a: 1\na: 2",  # a duplicate key (an error)
        "a: *x",  # an alias
        "a: &x 1",  # an anchor
        "a: [1",  # a syntax error
        "",  # no document
        "# only a comment\n",
        "a: 1\n---\nb: 2",  # two documents
        "a:\tb",  # a tab
        "a: 1\r\nb: 2",  # a carriage return
        "a: 'it''s'",  # a quote with an escape
        'a: "tab\\t"',
        "a: {b: (7, 7)}",  # a tuple YAML splits at its comma
        "a: |\n  text",  # a block scalar
        "- - x",  # a sequence in a sequence on one line
        "a:",  # a null written as nothing
        "a: b\n  c",  # a plain scalar over two lines
        "a: b: c",  # a mapping where a value must be
        "a: " + "9" * 5000,  # an integer too long to read
        "a:" + "\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 60)) + " " * 120 + "x: 1",  # deep
        "k" * 1100 + ": 1",  # a key longer than YAML allows
        "a: {" + "k" * 1100 + ": 1}",
        "- " + "k" * 1100 + ": {a: 1}",
        "- a: {" + "k" * 1100 + ": 1}",
        "- a: {b: 1, " + "k" * 1100 + ": [1]}",
        "a: é",  # not ASCII
    ]:
        assert read_lines(text) is None, text
        check(text)


def test_values_are_those_of_the_event_path() -> None:
    document = read_lines("a: $x\nb: (3, 3)\nc: [$y, 1e-05, .5, -1, null, on, 0x1F]\nd: {}\ne: []\n")
    assert document is not None
    assert type(document["a"]) is SourceText and document["a"].exact and document["a"].mark.column == 3
    assert type(document["b"]) is SourceText and document["b"] == "(3, 3)"
    assert document["c"][1:] == [1e-05, 0.5, -1, None, "on", 31] and document["d"] == {} and document["e"] == []


def test_kinds_alone_among_hot_lines_are_read_as_items() -> None:
    """`- relu` after `- conv2d: {...}` lines is read inside the run of hot lines (hot_run), as item() reads it:
    the core schema's words too (null, true, False are not text), and a line that goes on is handed over."""
    words = ["relu", "null", "Null", "true", "TRUE", "False", "tRuE", "nan", "inf", "_x1", "on", "y"]
    text = "layers:\n" + "".join(f"  - conv2d: {{k: {i}}}\n  - {word}\n" for i, word in enumerate(words))
    assert check(text)
    document = read_lines(text)
    assert document is not None
    assert document["layers"][1::2] == [core for core in _EventBuilder(text).document()["layers"][1::2]]
    assert [type(item) for item in document["layers"][1::2]] == [
        str,
        type(None),
        type(None),
        bool,
        bool,
        bool,
        bool,
        str,
        str,
        str,
        str,
        str,
    ]
    for tail in ["  - relu\n    name: x\n", "  - relu  \n", "  - relu # c\n", "  - relu:\n", "  - 1x\n"]:
        check("layers:\n  - conv2d: {k: 1}\n" + tail + "  - conv2d: {k: 2}\n")


# -- random and mutated documents -------------------------------------------------------------------------------


class AllBlock:
    """A `flows` for test_yaml_events.block that draws block style wherever it can (the line reader's forms)."""

    def draw(self, strategy: Any) -> bool:
        return False


@settings(max_examples=300, deadline=None)
@given(
    tree=st.dictionaries(st.sampled_from(["a", "b", "name", "1", "null", "on", "$k"]), TREES, min_size=1, max_size=4)
)
def test_random_documents_are_read_alike(tree: dict[str, Any]) -> None:
    check(block(tree, 0, AllBlock()).lstrip("\n"))


@settings(max_examples=300, deadline=None)
@given(
    tree=st.dictionaries(st.sampled_from(["a", "b", "name", "1", "null", "on", "$k"]), TREES, max_size=4),
    flows=st.data(),
)
def test_random_documents_with_flow_parts_are_read_alike(tree: dict[str, Any], flows: Any) -> None:
    check(block(tree, 0, flows).lstrip("\n"))


SPEC_LINES = [
    "name: net",
    "description: a net, with (parentheses) and $signs",
    "input: [3, 32, 32]",
    "layers:",
    "  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1, bias: false, name: c1}",
    "  - batchnorm2d: {name: bn1}",
    "  - relu",
    "  - add: {inputs: [c1, bn1], name: add}",
    "  - conv2d: {out_channels: $c * 2, kernel_size: [3, 3]}",
    "  - pool:",
    "      kernel_size: 2",
    "      stride: 2",
    "  - linear: {out_features: 10}",
    "  - conv2d: {name: '0', p: 0.1 * (3 + $index) / 17, when: $act != 'identity'}",
    '  - x: "max(1, $c // 4)"',
    "limits: {max_params: 5M, max_macs: 2G, expect_output: [10]}",
]
PIECES = [
    "\t", " ", "  ", "#", " # c", "'", '"', ":", ": ", "- ", "-", "{", "}", "[", "]", ",", "a:b", "-1", ".5",
    "1e-05", "~", "null", "True", "on", "y", "{}", "[]", "\n", "\n  ", "$", "(", ")", "&a", "*a", "!", "|", ">",
    "?", "%", "@", "---", "...", "<<", "0x1F", "9" * 25, "é", "\r",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(
    dropped=st.sets(st.integers(0, len(SPEC_LINES) - 1), max_size=2),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(PIECES), st.integers(0, 3)), max_size=3),
)
@example(dropped=set(), edits=[])
def test_mutated_specs_are_read_alike_or_handed_over(dropped: set[int], edits: list[tuple[int, str, int]]) -> None:
    """A spec with lines left out and pieces put in (each replacing up to 3 characters)."""
    text = "\n".join(line for index, line in enumerate(SPEC_LINES) if index not in dropped) + "\n"
    for place, piece, cut in edits:
        at = place % (len(text) + 1)
        text = text[:at] + piece + text[at + cut :]
    check(text)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="ab:-[]{}, \n#$().1e~", max_size=40))
@example(text="- a:\n  - x\n- b")
@example(text="a:\n- x\n- y\nb: 1")
@example(text="a:  b\nc:   [1,  2 ]\nd: { e: 1 ,f: 2 }")
def test_random_texts_are_read_alike(text: str) -> None:
    check(text)


def test_load_yaml_reads_the_subset_by_lines_and_the_rest_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.yamlsource as yamlsource

    class Refused:
        def __init__(self, text: str) -> None:
            raise AssertionError("the event path was asked")

    spec = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
    monkeypatch.setattr(yamlsource, "_EventBuilder", Refused)
    same(load_yaml(spec, "doc.yaml"), _load_composed(spec, "doc.yaml"))
    with pytest.raises(AssertionError, match="event path"):
        load_yaml("a: 'it''s'\n", "doc.yaml")
