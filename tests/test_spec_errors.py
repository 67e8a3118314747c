"""Bad specs: every error names file:line:column, the layer, what is wrong and what would be valid."""

from __future__ import annotations

import textwrap

import pytest

from cnncalc.errors import SpecError
from cnncalc.spec import parse_spec


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec(textwrap.dedent(text).lstrip("\n"), "test.yaml")
    return caught.value


CASES = [
    # (spec, where, substrings of the rendered message)
    (
        """
        input: [3, 32, 32]
        layers:
          - conv2: {out_channels: 8, kernel_size: 3}
        """,
        "test.yaml:3:5",
        ["unknown layer kind 'conv2'", "did you mean 'Conv2d'?"],
    ),
    (
        """
        input: [3, 32, 32]
        layers:
          - conv2d: {out_channels: 8, kernal_size: 3}
        """,
        "test.yaml:3:31",  # the unknown argument's name, not its value
        ["layer 'conv2d_1' (#1, Conv2d)", "no argument 'kernal_size'", "did you mean 'kernel_size'?"],
    ),
    (
        """
        input: [3, 32, 32]
        layers:
          - conv2d: {out_channels: 8, kernel_size: five}
        """,
        "test.yaml:3:44",
        ["kernel_size: expected a positive integer or a list of 2 positive integers, got 'five'"],
    ),
    (
        """
        input: [3, 4, 4]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 5}
        """,
        "test.yaml:3:44",
        ["a 5-wide kernel does not fit a padded input of 4", "1 * (kernel_size 5 - 1) + 1 = 5"],
    ),
    (
        """
        input: [6, 8, 8]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, groups: 4}
        """,
        "test.yaml:3:55",
        ["in_channels (6) must be divisible by groups (4)"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, padding: same, stride: 2}
        """,
        "test.yaml:3:56",
        ["padding='same' needs stride 1 on every axis, got stride 2"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3, in_channels: 4}
        """,
        "test.yaml:3:60",
        ["in_channels is 4 but the input has 3 channels", "set it to 3"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 8, kernel_size: 3}
          - flatten: {inputs: [conv2d_2]}
        """,
        "test.yaml:4:24",
        ["no layer named 'conv2d_2'", "did you mean 'conv2d_1'?"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - identity: {name: a, inputs: [b]}
          - identity: {name: b, inputs: [a]}
        """,
        "test.yaml:",
        ["the inputs form a cycle", "a -> b -> a"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - identity: {name: a}
          - identity: {name: a}
        """,
        "test.yaml:4:22",
        ["duplicate layer name 'a'"],
    ),
    (
        """
        input: [3, 8, 8]
        layres:
          - identity
        """,
        "test.yaml:2:1",
        ["unknown top-level key 'layres'", "did you mean 'layers'?"],
    ),
    (
        """
        layers:
          - identity
        """,
        "test.yaml:1:1",
        ["the spec has no 'input'"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d:
            out_channels: 3
        """,
        "test.yaml:3:5",
        ["a layer entry has one key", "indent the arguments under the kind"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 3, kernel_size: 1
        """,
        "test.yaml:4:1",
        ["YAML syntax error"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          unit:
            params: {width: null}
            layers:
              - conv2d: {out_channels: $width, kernel_size: 1}
        layers:
          - unit: {widht: 4}
        """,
        "test.yaml:8:12",  # the unknown parameter's name
        ["block 'unit' has no parameter 'widht'", "did you mean 'width'?"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          unit:
            params: {width: null}
            layers:
              - conv2d: {out_channels: $width, kernel_size: 9}
        layers:
          - unit: {width: 4}
        """,
        "test.yaml:6:53",
        ["layer 'unit_1.conv2d_1'", "does not fit", "note: expanded from block 'unit' used at line 8"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          unit:
            params: {width: null}
            layers:
              - conv2d: {out_channels: $width, kernel_size: 1}
        layers:
          - unit: {width: -4}
        """,
        "test.yaml:8:19",
        ["out_channels: expected a positive integer, got -4"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 3, kernel_size: 1, inputs: [input, input]}
        """,
        "test.yaml:3:55",
        ["Conv2d takes 1 input(s), got 2"],
    ),
    (
        """
        input: [3, 8, 8]
        duplicate: 1
        input: [3, 8, 8]
        layers: [identity]
        """,
        "test.yaml:3:1",
        ["duplicate key 'input' (first at line 1)"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {name: a, out_channels: 4, kernel_size: 3}
          - conv2d: {name: b, out_channels: 4, kernel_size: 1, inputs: [input]}
          - add: {inputs: [a, b]}
        """,
        "test.yaml:5:19",
        ["layer 'add_1' (#3, Add)", "4 x 6 x 6", "4 x 8 x 8"],
    ),
    (
        """
        input: [8, 8, 3]
        layout: whc
        layers: [identity]
        """,
        "test.yaml:2:9",
        ["layout: expected one of chw, hwc, got 'whc'"],
    ),
    (
        "",
        "test.yaml:1:1",
        ["the spec is empty"],
    ),
    (
        """
        input: [0, 8, 8]
        layers: [identity]
        """,
        "test.yaml:1:8",
        ["input: expected the shape of one sample as a list of positive integers"],
    ),
]


@pytest.mark.parametrize("text, where, needles", CASES)
def test_spec_errors_name_place_layer_and_fix(text: str, where: str, needles: list[str]) -> None:
    message = error_of(text).render()
    assert message.startswith(where), message
    for needle in needles:
        assert needle in message, message


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for level in range(1, 12):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    text = "\n".join(lines) + "\ninput: [3, 8, 8]\nlayers: [identity]\n"
    message = error_of(text).render()
    assert "alias bomb" in message


def test_python_tags_are_not_constructed() -> None:
    message = error_of("input: !!python/object/apply:os.system ['true']\nlayers: [identity]\n").render()
    assert message.startswith("test.yaml:1:8")
