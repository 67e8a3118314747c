"""The common entry outside blocks expanded in one pass (issue 13: `Expander.plain_entry`) gives what the long way
gives (`Expander.shortcuts = False`): every node with its arguments, marks, inputs and layer, or the error message.
Random lists of entries in every form plain_entry takes or leaves to the long way."""

from __future__ import annotations

import random

import pytest
from test_expand_paths import outcome

from cnncalc.layers import REGISTRY
from cnncalc.spec import parse_spec
from cnncalc.spec.expand import Expander

_GOOD = [
    "relu",
    "- relu: {}",
    "- relu: {name: NAME}",
    "- relu: {name: 'NAME'}",
    "- relu: {inputs: REF}",
    "- relu: {inputs: [REF]}",
    "- add: {inputs: [REF, REF], name: NAME}",
    "- conv2d: {out_channels: 4, kernel_size: 3, padding: 1, bias: false, name: NAME}",
    "- conv2d: {out_channels: 4, kernel_size: (3, 3), padding: 1}",
    "- conv2d: {out_channels: 4, kernel_size: [1, 1]}",
    "- conv2d: {out_channels: 4, kernel_size: 1, inputs: REF}",
    "- batchnorm2d: {name: NAME}",
    "- leakyrelu: {negative_slope: 0.0}",
    "- leakyrelu: {negative_slope: -0.0}",
    "- relu: {inplace: true}",
    "- unit: {name: NAME}",
    "- unit",
    "- if: true\n    then: [relu, {relu: {name: NAME}}]",
]
_OTHERS = [
    "- relu: {name: input}",
    "- relu: {name: 12}",
    "- relu: {name: a.b}",
    "- relu: {name: Ünï}",
    "- relu: {name: $x}",
    "- relu: {inputs: REF}",
    "- relu: {inputs: [REF]}",
    "- relu: {inputs: [REF, REF]}",
    "- relu: {inputs: 3}",
    "- relu: {inputs: $x}",
    "- add: {inputs: [REF, REF], name: NAME}",
    "- concat: {inputs: [REF, REF], dim: 0}",
    "- conv2d: {out_channels: 4, kernel_size: 3, padding: 1, bias: false, name: NAME}",
    "- conv2d: {out_channels: 4, kernel_size: (3, 3), padding: 1}",
    "- conv2d: {out_channels: 4, kernel_size: [1, 1]}",
    "- conv2d: {out_channels: $in_channels, kernel_size: 1}",
    "- conv2d: {out_channels: 4, kernel_size: 1, inputs: REF}",
    "- conv2d: {out_channels: 4, kernel_size: 1, repeat: 2}",
    "- conv2d: {out_channels: 4, kernel_size: 1, when: true}",
    "- conv2d: {out_channels: 4, kernel_size: 1, trainable: false}",
    "- conv2d: {out_channels: 4, kernel_size: 1, ignore: bias-before-norm}",
    "- conv2d: {out_channels: 4, kernel_size: 9}",
    "- conv2d: {out_channels: 4, kernel_sise: 1}",
    "- conv2d: {out_channels: 4, kernel_size: 1, 3: 4}",
    "- Conv2d: {out_channels: 4, kernel_size: 1}",
    "- batchnorm2d: {name: NAME}",
    "- batchnorm2d: {num_features: 4}",
    "- chunk: {chunks: 2, dim: 0, name: NAME}",
    "- chunk: {chunks: 2, dim: 0, index: 0}",
    "- leakyrelu: {negative_slope: 0.0}",
    "- leakyrelu: {negative_slope: -0.0}",
    "- relu: {inplace: 1}",
    "- relu: {inplace: true}",
    "- unit: {name: NAME}",
    "- unit",
    "- relu: null",
    "- Conv2d(4, 4, kernel_size=(1, 1))",
    "- if: true\n    then: [relu, {relu: {name: NAME}}]",
]


def _random_spec(rng: random.Random) -> str:
    lines = ["input: [4, 8, 8]", "blocks:", "  unit:", "    layers: [relu, {relu: {name: inner}}]", "layers:"]
    names = ["input"]
    for position in range(rng.randint(1, 12)):
        entry = rng.choice(_GOOD if rng.random() < 0.9 else _OTHERS)
        if entry == "relu":
            entry = "- relu"
        name = f"n{position}" if rng.random() < 0.9 else rng.choice([f"n{rng.randint(0, position)}", "relu_1"])
        while "REF" in entry:
            entry = entry.replace("REF", rng.choice([*names, "nothing", "unit_1", "n9", "relu_1"]), 1)
        if "NAME" in entry:
            entry = entry.replace("NAME", name)
            names.append(name)
        lines.append(f"  {entry}")
    return "\n".join(lines) + "\n"


def test_random_entries_expand_as_the_long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(13)
    texts = [_random_spec(rng) for _ in range(800)]
    fast = [outcome(text) for text in texts]
    assert sum(isinstance(result, dict) for result in fast) > 200  # enough of them expand
    monkeypatch.setattr(Expander, "shortcuts", False)
    for text, result in zip(texts, fast, strict=True):
        assert outcome(text) == result, text


def test_plain_entries_take_the_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison compares something: entries of kinds whose modules are imported, a kind alone, named or
    with inputs, take plain_entry; one with a condition does not."""
    REGISTRY.load_all()
    taken = []
    original = Expander.plain_entry
    monkeypatch.setattr(Expander, "plain_entry", lambda self, *args: taken.append(original(self, *args)) or taken[-1])
    text = "input: [4, 8, 8]\nlayers:\n  - relu\n  - relu: {}\n  - relu: {name: act}\n"
    text += "  - add: {inputs: [relu_1, act]}\n  - relu: {when: true}\n"
    graph = parse_spec(text)
    assert taken == [True, True, True, True, False]
    assert graph.node("add_1").inputs == ["relu_1", "act"]
