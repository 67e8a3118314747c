"""Copies of a repeated block use made from the first copy (issue 13: `Expander.copy_template`) give what
expanding each copy gives (`Expander.shortcuts = False`): every node with its arguments, marks, inputs and layer,
the groups, or the error message. Hand-written specs for each case the template must refuse or get right, and
random specs of blocks, repeats, conditions, shapes that change, names read across copies and duplicates."""

from __future__ import annotations

import random

import pytest
from test_expand_paths import outcome

from cnncalc.spec import parse_spec
from cnncalc.spec.expand import Expander

HEAD = "input: [4, 8, 8]\n"

SPECS = {
    "plain": """blocks:
  unit:
    params: {c: 4}
    layers:
      - conv2d: {out_channels: $c, kernel_size: 3, padding: 1, name: conv}
      - relu
      - add: {inputs: [input, relu_1]}
layers:
  - unit: {c: 4, repeat: 5, name: stage}
  - relu: {inputs: stage.3}
  - relu: {inputs: stage.2.conv}
""",
    "shape changes then stays": """blocks:
  down:
    params: {c: 8}
    layers:
      - conv2d: {out_channels: $c, kernel_size: 3, padding: 1, stride: 2}
      - batchnorm2d
layers:
  - down: {repeat: 4}
  - down: {c: 4, repeat: 3}
""",
    "index in the use": """blocks:
  unit:
    params: {c: 4}
    layers:
      - conv2d: {out_channels: $c, kernel_size: 1}
layers:
  - unit: {c: $index + 1, repeat: 4}
""",
    "condition on shape": """blocks:
  unit:
    params: {c: 4}
    layers:
      - conv2d: {out_channels: 6, kernel_size: 1, when: $in_channels == 4, name: grow}
      - relu: {name: act}
layers:
  - unit: {repeat: 3, name: u}
  - relu: {inputs: u.1.grow}
""",
    "condition false with a name": """blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 1, when: $in_channels == 5, name: never}
      - relu
layers:
  - unit: {repeat: 3, name: u}
  - relu: {inputs: u.2.never}
""",
    "nested block": """blocks:
  inner:
    layers:
      - relu
  outer:
    layers:
      - inner: {repeat: 2}
      - conv2d: {out_channels: 4, kernel_size: 1}
layers:
  - outer: {repeat: 3, name: o}
""",
    "chunk inside": """blocks:
  unit:
    layers:
      - chunk: {chunks: 2, dim: 0, name: parts}
      - concat: {inputs: [parts.1, parts.0], dim: 0}
layers:
  - unit: {repeat: 3}
""",
    "input through a parameter": """blocks:
  unit:
    params: {skip: stem}
    layers:
      - conv2d: {out_channels: 4, kernel_size: 1}
      - add: {inputs: [$skip, conv2d_1]}
layers:
  - conv2d: {out_channels: 4, kernel_size: 1, name: stem}
  - unit: {skip: stem, repeat: 3, name: u}
  - unit: {skip: u.0.conv2d_1, repeat: 3, name: v}
""",
    "ignore and trainable on the use": """blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 1, ignore: bias-before-norm}
      - batchnorm2d
layers:
  - unit: {repeat: 3, trainable: false, ignore: [bias-before-norm]}
""",
    "duplicate of a later copy": """blocks:
  unit:
    layers:
      - relu: {name: act}
layers:
  - relu: {name: u.2.act}
  - unit: {repeat: 4, name: u}
""",
    "a top-level name under a copy's prefix": """blocks:
  unit:
    layers:
      - relu: {inputs: x}
layers:
  - relu: {name: u.0.x}
  - unit: {repeat: 3, name: u}
""",
    "top-level names under the copies' prefixes": """blocks:
  unit:
    layers:
      - conv2d: {inputs: x, out_channels: 4, kernel_size: 1}
      - add: {inputs: [input, conv2d_1]}
layers:
  - conv2d: {out_channels: 6, kernel_size: 1, name: u.1.x}
  - relu: {name: u.0.x, inputs: input}
  - relu: {name: stem, inputs: input}
  - unit: {repeat: 2, name: u}
""",
    "input named under the prefix": """blocks:
  unit:
    layers:
      - relu
      - add: {inputs: [input, relu_1]}
layers:
  - relu: {name: u.0.relu_9}
  - unit: {repeat: 3, name: u}
""",
    "forward reference inside": """blocks:
  unit:
    layers:
      - relu: {inputs: later}
      - relu: {name: later, inputs: input}
layers:
  - unit: {repeat: 3}
""",
    "the network input": """blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 1}
      - add: {inputs: [input, conv2d_1]}
layers:
  - unit: {repeat: 4, name: u}
""",
    "repeat zero and one": """blocks:
  unit:
    layers:
      - relu
layers:
  - unit: {repeat: 0}
  - unit: {repeat: 1}
  - unit: {repeat: 2}
""",
    "error in a layer": """blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 5}
layers:
  - unit: {repeat: 3}
""",
}


@pytest.mark.parametrize("text", SPECS.values(), ids=SPECS.keys())
def test_copies_made_from_a_template_are_the_long_way(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = outcome(HEAD + text)
    monkeypatch.setattr(Expander, "shortcuts", False)
    assert outcome(HEAD + text) == fast


def test_templates_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons compare something: the plain case makes 4 of its 5 copies from the first."""
    calls = []
    original = Expander.copy_template
    monkeypatch.setattr(Expander, "copy_template", lambda self, *args: calls.append(1) or original(self, *args))
    graph = parse_spec(HEAD + SPECS["plain"])
    assert len(calls) == 4
    assert [node.name for node in graph.nodes][-5:] == ["stage.4.conv", "stage.4.relu_1", "stage.4.add_1"] + [
        "relu_1",
        "relu_2",
    ]
    assert graph.node("stage.4.add_1").inputs == ["stage.3.add_1", "stage.4.relu_1"]
    assert graph.node("relu_2").inputs == ["stage.2.conv"]


_KINDS = [
    "relu",
    "batchnorm2d",
    "conv2d: {out_channels: $c, kernel_size: 3, padding: 1}",
    "conv2d: {out_channels: 4, kernel_size: 1, stride: $s}",
    "conv2d: {out_channels: $in_channels, kernel_size: 1, when: $in_channels < 8}",
    "maxpool2d: {kernel_size: 2, when: $in_height > 2}",
    "add: {inputs: [input, PREV]}",
    "concat: {inputs: [input, PREV], dim: 0, when: $in_channels < 12}",
    "relu: {name: NAME}",
    "relu: {inputs: $skip}",
    "leaf: {repeat: 2}",
    "chunk: {chunks: 2, dim: 0, index: 1}",
    "relu: {inputs: NAME}",
]


def _random_spec(rng: random.Random) -> str:
    body = []
    names: list[str] = []
    for position in range(rng.randint(1, 5)):
        entry = rng.choice(_KINDS)
        name = f"n{position}"
        entry = entry.replace("PREV", rng.choice([*names, "input"]) if names else "input")
        if "NAME}" in entry and "inputs: NAME" in entry:
            entry = entry.replace("NAME", rng.choice([*names, "nothing", "input"]))
        elif "NAME" in entry:
            entry = entry.replace("NAME", name)
            names.append(name)
        body.append(f"      - {entry}")
    uses = []
    for use in range(rng.randint(1, 3)):
        args = [f"repeat: {rng.randint(0, 4)}", f"name: b{use}"]
        args += rng.sample(["c: 4", "c: 8", "s: 1", "s: 2", "c: $index + 2", "skip: stem", "trainable: false"], 2)
        uses.append(f"  - body: {{{', '.join(args)}}}")
    if rng.random() < 0.3:
        uses.insert(0, f"  - relu: {{name: b0.{rng.randint(0, 3)}.n{rng.randint(0, 4)}}}")
    return "\n".join(
        [
            "blocks:",
            "  leaf:",
            "    layers: [relu]",
            "  body:",
            "    params: {c: 4, s: 1, skip: input}",
            "    layers:",
            *body,
            "layers:",
            "  - conv2d: {out_channels: 4, kernel_size: 1, name: stem}",
            *uses,
            "",
        ]
    )


def test_random_specs_expand_as_the_long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(13)
    texts = [HEAD + _random_spec(rng) for _ in range(400)]
    fast = [outcome(text) for text in texts]
    assert sum(isinstance(result, dict) for result in fast) > 120  # enough of them expand
    monkeypatch.setattr(Expander, "shortcuts", False)
    for text, result in zip(texts, fast, strict=True):
        assert outcome(text) == result, text
