"""The spec language (docs/language.md): expressions, shape names, $index, conditionals, kinds as parameters,
repeat: 0, several-output kinds; each error at file:line:column with did-you-mean; nothing evaluated; bounded."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from cnncalc.analyze import analyze
from cnncalc.args import Arg, Int, Optional
from cnncalc.errors import LayerError, SpecError
from cnncalc.graph import Graph
from cnncalc.layers import REGISTRY, Layer
from cnncalc.spec import MAX_NODES, parse_spec


def spec(text: str, **overrides: Any) -> Graph:
    return parse_spec(textwrap.dedent(text).lstrip("\n"), "test.yaml", **overrides)


def error_of(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        spec(text)
    return caught.value.render()


def names(graph: Graph) -> list[str]:
    return [n.name for n in graph.nodes]


def arguments(graph: Graph, name: str) -> dict[str, Any]:
    return dict(graph.node(name).arguments)


def figures(graph: Graph) -> tuple[list[Any], int, int]:
    report = analyze(graph)
    return [n.bound().out_shape for n in graph.nodes], report.totals.params, report.totals.macs


# -- expressions ---------------------------------------------------------------------------------------------------


def test_expressions_compute_arguments_as_written_out() -> None:
    written = spec(
        """
        input: [3, 16, 16]
        blocks:
          unit:
            params: {width: null, groups: 2, expansion: 4}
            layers:
              - conv2d: {out_channels: $width * $groups, kernel_size: 1}
              - conv2d: {out_channels: "$width * $groups", kernel_size: 3, padding: "$groups - 1", groups: $groups}
              - conv2d: {out_channels: $expansion * $width, kernel_size: [1, "max(1, $groups - 1)"]}
        layers:
          - unit: {width: $in_channels + 13}
        """
    )
    plain = spec(
        """
        input: [3, 16, 16]
        layers:
          - conv2d: {out_channels: 32, kernel_size: 1}
          - conv2d: {out_channels: 32, kernel_size: 3, padding: 1, groups: 2}
          - conv2d: {out_channels: 64, kernel_size: [1, 1]}
        """
    )
    assert figures(written) == figures(plain)
    assert arguments(written, "unit_1.conv2d_3")["kernel_size"] == [1, 1]


def test_text_without_a_dollar_is_taken_as_written() -> None:
    graph = spec(
        """
        input: [3, 16, 16]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 3, padding: same}
        """
    )
    assert arguments(graph, "conv2d_1")["padding"] == "same"


def test_whole_value_parameters_pass_lists_and_layer_names_unchanged() -> None:
    graph = spec(
        """
        input: [3, 16, 16]
        blocks:
          pair:
            params: {k: [3, 5], skip: null}
            layers:
              - conv2d: {out_channels: 3, kernel_size: $k, padding: [1, 2]}
              - add: {inputs: [$skip, conv2d_1]}
        layers:
          - relu: {name: first}
          - pair: {skip: first}
        """
    )
    assert arguments(graph, "pair_1.conv2d_1")["kernel_size"] == [3, 5]
    assert graph.node("pair_1.add_1").inputs == ["first", "pair_1.conv2d_1"]


def test_block_defaults_read_earlier_parameters_and_the_input_shape() -> None:
    graph = spec(
        """
        input: [6, 8, 8]
        blocks:
          bottleneck:
            params: {planes: null, expansion: 4, out: $planes * $expansion, wide: $in_channels * 2}
            layers:
              - conv2d: {out_channels: $wide, kernel_size: 1}
              - conv2d: {out_channels: $out, kernel_size: 1}
        layers:
          - bottleneck: {planes: 5}
          - bottleneck: {planes: 5, out: 7}
        """
    )
    assert graph.node("bottleneck_1.conv2d_1").bound().out_shape == (12, 8, 8)
    assert graph.node("bottleneck_1.conv2d_2").bound().out_shape == (20, 8, 8)
    assert graph.node("bottleneck_2.conv2d_1").bound().out_shape == (40, 8, 8)
    assert graph.node("bottleneck_2.conv2d_2").bound().out_shape == (7, 8, 8)


def _make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, copied: the reference the spec language must match."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * value:
        new_v += divisor
    return new_v


@pytest.mark.parametrize("channels", [16, 24, 40, 72, 96, 120, 144, 240, 288, 576, 960])
@pytest.mark.parametrize("width_mult", ["1.0", "0.75", "0.5"])
def test_make_divisible_matches_torchvision_for_mobilenet_widths(channels: int, width_mult: str) -> None:
    graph = spec(
        f"""
        input: [{channels}, 4, 4]
        layers:
          - conv2d: {{out_channels: "make_divisible($in_channels * {width_mult}, 8)", kernel_size: 1}}
          - conv2d: {{out_channels: make_divisible($in_channels // 4, 8), kernel_size: 1, inputs: input}}
        """
    )
    assert graph.node("conv2d_1").bound().out_shape[0] == _make_divisible(channels * float(width_mult), 8)
    assert graph.node("conv2d_2").bound().out_shape[0] == _make_divisible(channels // 4, 8)


# -- shape names ---------------------------------------------------------------------------------------------------


def test_depthwise_conv_written_without_its_channel_count() -> None:
    graph = spec(
        """
        input: [3, 16, 16]
        layers:
          - conv2d: {out_channels: 24, kernel_size: 1}
          - conv2d: {out_channels: $in_channels, kernel_size: 3, padding: 1, groups: $in_channels}
        """
    )
    depthwise = graph.node("conv2d_2").bound()
    assert (depthwise.groups, depthwise.out_shape) == (24, (24, 16, 16))
    assert depthwise.params() == 24 * 9 + 24  # torch: Conv2d(24, 24, 3, groups=24) has 240 parameters


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ([5, 7], {"in_channels": 5, "in_length": 7, "in_features": 7, "in_shape": [5, 7]}),
        ([5, 7, 9], {"in_channels": 5, "in_height": 7, "in_width": 9, "in_features": 9}),
        ([5, 3, 7, 9], {"in_channels": 5, "in_depth": 3, "in_height": 7, "in_width": 9, "in_features": 9}),
        ([11], {"in_channels": 11, "in_features": 11, "in_shape": [11]}),
    ],
)
def test_shape_names_read_the_first_input_by_the_axis_names_cnncalc_prints(shape: list[int], expected: dict) -> None:
    for name, value in expected.items():
        for probe, held in (
            (value, True),
            (repr(value).replace("[", "[1 + ") if isinstance(value, list) else value + 1, False),
        ):
            graph = spec(
                f"""
                input: {shape}
                layers:
                  - relu: {{name: probe, when: "${name} == {probe}"}}
                  - identity: {{inputs: input}}
                """
            )
            assert ("probe" in names(graph)) is held, (name, probe)


def test_shape_names_read_the_entry_s_own_first_input() -> None:
    graph = spec(
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 10, kernel_size: 1, name: wide}
          - conv2d: {out_channels: 4, kernel_size: 1, name: narrow}
          - conv2d: {out_channels: $in_channels, kernel_size: 1, inputs: wide}
          - conv2d: {out_channels: $in_channels + $in_width, kernel_size: 1, inputs: [narrow]}
        """
    )
    assert graph.node("conv2d_1").bound().out_shape == (10, 8, 8)
    assert graph.node("conv2d_2").bound().out_shape == (12, 8, 8)


def test_input_override_goes_in_before_expansion() -> None:
    text = """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: $in_channels * 2, kernel_size: 1}
        """
    assert spec(text).output_shape == (6, 8, 8)
    assert spec(text, input_shape=(5, 4, 4)).output_shape == (10, 4, 4)


def test_forward_references_keep_working_where_no_shape_is_read() -> None:
    graph = spec(
        """
        input: [3, 8, 8]
        layers:
          - add: {inputs: [input, later], name: sum}
          - relu: {name: later, inputs: input}
        """
    )
    assert graph.output_shape == (3, 8, 8)
    assert [n.name for n in graph.nodes] == ["later", "sum"]


# -- $index and repeat -----------------------------------------------------------------------------------------------


def test_index_gives_each_copy_its_own_arguments() -> None:
    graph = spec(
        """
        input: [4, 16, 16]
        blocks:
          unit:
            params: {stride: 1}
            layers:
              - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, stride: $stride}
        layers:
          - unit: {stride: "2 if $index == 0 else 1", repeat: 3, name: stage}
          - conv2d: {out_channels: 4 + $index, kernel_size: 1, repeat: 2, name: grow}
        """
    )
    assert names(graph) == ["stage.0.conv2d_1", "stage.1.conv2d_1", "stage.2.conv2d_1", "grow.0", "grow.1"]
    assert [graph.node(f"stage.{k}.conv2d_1").bound().stride for k in range(3)] == [(2, 2), (1, 1), (1, 1)]
    assert graph.node("grow.0").bound().out_shape == (4, 8, 8)
    assert graph.node("grow.1").bound().out_shape == (5, 8, 8)


def test_index_is_zero_without_repeat() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        layers:
          - conv2d: {out_channels: 3 + $index, kernel_size: 1}
        """
    )
    assert graph.output_shape == (3, 8, 8)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_one_naming_rule_for_any_repeat_count(count: int) -> None:
    graph = spec(
        f"""
        input: [4, 8, 8]
        layers:
          - relu: {{name: first}}
          - conv2d: {{out_channels: 4, kernel_size: 1, repeat: {count}, name: body}}
          - add: {{inputs: [first, body]}}
        """
    )
    assert names(graph) == ["first", *(f"body.{k}" for k in range(count)), "add_1"]
    assert graph.node("add_1").inputs == ["first", f"body.{count - 1}" if count else "first"]
    if count:
        assert graph.groups["body"].output == f"body.{count - 1}"
    else:
        assert "body" not in graph.groups


def test_repeat_zero_of_a_block_stands_for_its_input() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        blocks:
          unit:
            layers: [relu, conv2d: {out_channels: 9, kernel_size: 1}]
        layers:
          - conv2d: {out_channels: 5, kernel_size: 1}
          - unit: {repeat: 0, name: nothing}
          - batchnorm2d
        """
    )
    assert names(graph) == ["conv2d_1", "batchnorm2d_1"]
    assert graph.node("batchnorm2d_1").inputs == ["conv2d_1"]


# -- conditionals ----------------------------------------------------------------------------------------------------


BLOCK_WITH_CONDITIONS = """
    input: [{channels}, 8, 8]
    blocks:
      inverted:
        params: {{expand: 6, out: null, stride: 1}}
        layers:
          - if: $expand != 1
            then:
              - conv2d: {{out_channels: $in_channels * $expand, kernel_size: 1, bias: false, name: expand}}
              - batchnorm2d
              - relu6
          - conv2d: {{out_channels: $in_channels, kernel_size: 3, padding: 1, stride: $stride, groups: $in_channels,
                     bias: false, name: dw}}
          - batchnorm2d
          - relu6
          - conv2d: {{out_channels: $out, kernel_size: 1, bias: false, name: project}}
          - batchnorm2d: {{name: bn}}
          - add: {{inputs: [input, bn], when: $stride == 1 and $in_channels == $out}}
    layers:
      - inverted: {{expand: {expand}, out: {out}, stride: {stride}, name: block}}
    """


@pytest.mark.parametrize(
    ("channels", "expand", "out", "stride"), [(16, 1, 16, 1), (16, 6, 16, 1), (16, 6, 24, 1), (16, 6, 16, 2)]
)
def test_residual_only_when_stride_one_and_channels_match(channels: int, expand: int, out: int, stride: int) -> None:
    graph = spec(BLOCK_WITH_CONDITIONS.format(channels=channels, expand=expand, out=out, stride=stride))
    residual = stride == 1 and channels == out
    made = names(graph)
    assert ("block.expand" in made) == (expand != 1)
    assert ("block.add_1" in made) == residual
    assert graph.output == ("block.add_1" if residual else "block.bn")
    assert graph.groups["block"].output == graph.output
    torch = pytest.importorskip("torch")
    nn = torch.nn
    hidden = channels * expand
    layers: list[Any] = []
    if expand != 1:
        layers += [nn.Conv2d(channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
    layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden)]
    layers += [nn.ReLU6(), nn.Conv2d(hidden, out, 1, bias=False), nn.BatchNorm2d(out)]
    model = nn.Sequential(*layers)
    assert analyze(graph).totals.params == sum(p.numel() for p in model.parameters())
    assert graph.output_shape == tuple(model(torch.zeros(1, channels, 8, 8)).shape[1:])


def test_when_skipping_the_last_entry_leaves_the_block_its_last_layer_made() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        blocks:
          unit:
            params: {tail: false}
            layers:
              - conv2d: {out_channels: 6, kernel_size: 1, name: conv}
              - relu: {when: $tail, name: act}
        layers:
          - unit: {name: a}
          - unit: {tail: true, name: b}
          - add: {inputs: [a, b]}
        """
    )
    assert names(graph) == ["a.conv", "b.conv", "b.act", "add_1"]
    assert graph.node("add_1").inputs == ["a.conv", "b.act"]


def test_a_block_that_makes_nothing_stands_for_its_input() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        blocks:
          maybe:
            params: {on: false}
            layers:
              - relu: {when: $on}
        layers:
          - conv2d: {out_channels: 6, kernel_size: 1}
          - maybe: {name: off}
          - batchnorm2d: {inputs: off}
        """
    )
    assert names(graph) == ["conv2d_1", "batchnorm2d_1"]
    assert graph.node("batchnorm2d_1").inputs == ["conv2d_1"]


def test_if_then_else_names_belong_to_the_enclosing_scope() -> None:
    text = """
        input: [4, 8, 8]
        blocks:
          unit:
            params: {se: true}
            layers:
              - conv2d: {{out_channels: 8, kernel_size: 1, name: conv}}
              - if: $se
                then:
                  - adaptiveavgpool2d: {{output_size: 1, name: pool}}
                  - conv2d: {{out_channels: 2, kernel_size: 1}}
                  - conv2d: {{out_channels: 8, kernel_size: 1}}
                  - sigmoid
                  - mul: {{inputs: [conv, sigmoid_1], name: scaled}}
                else:
                  - identity: {{name: scaled}}
              - relu
        layers:
          - unit: {{se: {se}}}
        """
    with_se = spec(text.replace("{{", "{").replace("}}", "}").replace("{se}", "true"))
    without = spec(text.replace("{{", "{").replace("}}", "}").replace("{se}", "false"))
    assert names(with_se) == [
        "unit_1.conv",
        "unit_1.pool",
        "unit_1.conv2d_1",
        "unit_1.conv2d_2",
        "unit_1.sigmoid_1",
        "unit_1.scaled",
        "unit_1.relu_1",
    ]
    assert names(without) == ["unit_1.conv", "unit_1.scaled", "unit_1.relu_1"]
    assert with_se.output_shape == without.output_shape == (8, 8, 8)


def test_conditions_read_shapes_and_parameters_at_the_top_level_too() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        layers:
          - if: $in_channels > 3
            then: [conv2d: {out_channels: 3, kernel_size: 1}]
            else: [relu]
          - if: $in_channels > 3
            then: [conv2d: {out_channels: 3, kernel_size: 1}]
            else: [relu]
        """
    )
    assert names(graph) == ["conv2d_1", "relu_1"]


# -- kinds as parameters -----------------------------------------------------------------------------------------------


def test_kinds_and_blocks_as_parameters() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        blocks:
          squeeze:
            layers: [adaptiveavgpool2d: {output_size: 1}]
          unit:
            params: {act: relu, norm: batchnorm2d, tail: squeeze}
            layers:
              - conv2d: {out_channels: 8, kernel_size: 1}
              - $norm
              - $act: {inplace: true}
              - $tail
        layers:
          - unit: {act: hardswish, name: a}
          - unit: {name: b}
        """
    )
    kinds = ["Conv2d", "BatchNorm2d", "Hardswish", "AdaptiveAvgPool2d", "Conv2d", "BatchNorm2d", "ReLU"]
    assert [n.kind for n in graph.nodes] == [*kinds, "AdaptiveAvgPool2d"]
    assert names(graph)[:4] == ["a.conv2d_1", "a.batchnorm2d_1", "a.hardswish_1", "a.squeeze_1.adaptiveavgpool2d_1"]
    assert names(graph)[6] == "b.relu_1"


# -- several outputs ------------------------------------------------------------------------------------------------


class Halves(Layer):
    """Test-only: a kind with two outputs (the halves of the channels), as chunk without `index`."""

    kind = "TestHalves"
    arguments = (Arg("index", Optional(Int()), None, "which half"),)

    @classmethod
    def output_count(cls, arguments: dict[str, Any], in_shapes: tuple[tuple[int, ...], ...]) -> int | None:
        if arguments.get("index") is None:
            if in_shapes[0][0] % 2:
                raise LayerError("the channels must be even", arg="index")
            return 2
        return None

    def output_shape(self) -> tuple[int, ...]:
        if self.index is None:
            raise LayerError("index is needed", arg="index")
        return (self.in_shape[0] // 2, *self.in_shape[1:])


@pytest.fixture
def halves() -> Iterator[None]:
    REGISTRY[Halves.kind.lower()] = Halves
    try:
        yield
    finally:
        del REGISTRY[Halves.kind.lower()]


@pytest.mark.usefixtures("halves")
def test_a_kind_with_several_outputs_becomes_one_layer_per_output() -> None:
    graph = spec(
        """
        input: [6, 4, 4]
        layers:
          - testhalves: {name: parts}
          - relu: {inputs: parts.1}
          - concat: {inputs: [parts.0, relu_1]}
          - testhalves: {index: 1}
        """
    )
    assert names(graph) == ["parts.0", "parts.1", "relu_1", "concat_1", "testhalves_1"]
    assert [arguments(graph, f"parts.{k}")["index"] for k in range(2)] == [0, 1]
    assert graph.node("relu_1").bound().out_shape == (3, 4, 4)
    assert graph.output_shape == (3, 4, 4)
    assert graph.groups["parts"].block == "TestHalves"


@pytest.mark.usefixtures("halves")
def test_reading_a_several_output_entry_whole_is_an_error() -> None:
    message = error_of(
        """
        input: [6, 4, 4]
        layers:
          - testhalves: {name: parts}
          - relu
        """
    )
    assert message.startswith("test.yaml:4:5: error: layer 'relu_1'")
    assert "testhalves 'parts' has 2 outputs: read parts.0 or parts.1" in message
    message = error_of(
        """
        input: [5, 4, 4]
        layers:
          - testhalves: {name: parts}
        """
    )
    assert "test.yaml:3:5" in message and "the channels must be even" in message


@pytest.mark.skipif("chunk" not in REGISTRY, reason="Chunk is on branch pieces")
def test_chunk_outputs_are_read_by_name() -> None:
    graph = spec(
        """
        input: [8, 4, 4]
        layers:
          - chunk: {chunks: 2, dim: 1, name: halves}
          - conv2d: {out_channels: $in_channels, kernel_size: 1, inputs: halves.1}
          - concat: {inputs: [halves.0, conv2d_1]}
        """
    )
    assert names(graph) == ["halves.0", "halves.1", "conv2d_1", "concat_1"]
    assert graph.node("conv2d_1").bound().out_shape == (4, 4, 4)
    assert graph.output_shape == (8, 4, 4)


# -- errors: where, what, did-you-mean -------------------------------------------------------------------------------


ERRORS = [
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {width: 8}
            layers:
              - conv2d: {out_channels: $wdth * 2, kernel_size: 1}
        layers: [b]
        """,
        (6, "$wdth"),
        ["layer 'b_1.conv2d_1' (Conv2d)", "unknown name $wdth", "did you mean '$width'?", "in block 'b'"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {width: 8}
            layers:
              - conv2d: {out_channels: "$width + wdth", kernel_size: 1}
        layers: [b]
        """,
        (6, 'wdth"'),  # inside a quoted scalar: the quote counts
        ["unknown word 'wdth'", "names are written with $", "$width"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: $in_chanels, kernel_size: 1}
        """,
        (3, "$in_chanels"),
        ["unknown name $in_chanels", "did you mean '$in_channels'?", "parameters exist only inside blocks"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: $in_channels // (1 - 1), kernel_size: 1}
        """,
        (3, "//"),
        ["division by zero"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1, repeat: $index + 1}
        """,
        (3, "$index"),
        ["$index is the copy number", "not in repeat"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - relu: {when: $in_channels}
        """,
        (3, "$in_channels"),
        ["when: expected a condition (true or false), got 3"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - if: $in_channels == 3
            than: [relu]
        """,
        (4, "than"),
        ["'if' entry has the keys if, then and else; not 'than'", "did you mean 'then'?"],
    ),
    (
        """
        input: [3, 8]
        layers:
          - conv1d: {out_channels: $in_height, kernel_size: 1}
        """,
        (3, "$in_height"),
        ["$in_height: the input 'input' is 3 x 8 (2 axes)", "did you mean '$in_length'?"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1, inputs: later, groups: $in_channels}
          - relu: {name: later, inputs: input}
        """,
        (3, "$in_channels"),
        ["$in_channels reads the shape of 'later'", "written later in the spec"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {in_channels: 3}
            layers: [relu]
        layers: [b]
        """,
        (4, "in_channels"),
        ["'in_channels' cannot be a parameter name", "a name the language gives"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {out: $width * 2, width: 8}
            layers: [relu]
        layers: [b]
        """,
        (4, "$width"),
        ["the default of 'out' reads $width, declared after it", "declare 'width' before 'out'"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {act: relu}
            layers: [$act]
        layers:
          - b: {act: rleu}
        """,
        (7, "rleu"),  # where the kind was passed
        ["unknown layer kind 'rleu'", "did you mean 'ReLU'?"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {act: relu}
            layers: [$actt]
        layers: [b]
        """,
        (5, "$actt"),
        ["unknown name $actt", "did you mean '$act'?"],
    ),
    (
        """
        input: [3, 8, 8]
        blocks:
          b:
            params: {act: 3}
            layers: [$act]
        layers: [b]
        """,
        (5, "$act"),
        ["must hold a layer kind or a block name, got 3"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - relu: {name: gate, when: false}
          - add: {inputs: [input, gate]}
        """,
        (4, "gate"),
        ["no layer named 'gate'", "'gate' is left out: its condition (when, line 3) is false"],
    ),
    (
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {out_channels: 4, kernel_size: 1, repeat: -1}
        """,
        (3, "-1"),
        ["repeat: expected a whole number (0 or more), got -1"],
    ),
]


def column_of(text: str, line: int, token: str) -> str:
    """'test.yaml:LINE:COLUMN' of the first `token` on 1-based `line` of the dedented spec."""
    written = textwrap.dedent(text).lstrip("\n").splitlines()[line - 1]
    return f"test.yaml:{line}:{written.index(token) + 1}"


@pytest.mark.parametrize(("text", "where", "needles"), ERRORS)
def test_language_errors_name_place_and_fix(text: str, where: tuple[int, str], needles: list[str]) -> None:
    message = error_of(text)
    assert message.startswith(column_of(text, *where) + ": error:"), message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize(
    ("value", "token", "needle"),
    [
        ("\"$in_channels + __import__('os')\"", "__import__", "unknown function '__import__'"),
        ("\"$in_channels + open('x')\"", "open", "unknown function 'open'"),
        ("$in_channels.real", ".real", "attribute access is not part of the spec language"),
        ("$a.b", ".b", "attribute access is not part of the spec language"),
        ('"[$in_channels][0]"', "[0]", "subscripts are not part of the spec language"),
        ("$in_channels ** 2", "**", ""),
        ('"(lambda x: 1)($in_channels)"', "lambda", "'lambda' is not part of the spec language"),
        ('"[x for x in $in_shape]"', "for", ""),
    ],
)
def test_nothing_in_a_spec_is_evaluated(value: str, token: str, needle: str) -> None:
    text = f"""
        input: [3, 8, 8]
        layers:
          - conv2d: {{out_channels: {value}, kernel_size: 1}}
        """
    message = error_of(text)
    assert message.startswith(column_of(text, 3, token) + ": error:"), message
    assert needle in message


# -- bounded work ----------------------------------------------------------------------------------------------------


def test_a_huge_repeat_computed_by_expressions_is_refused_before_building() -> None:
    from test_bounded_work import bounded

    text = """
        input: [3, 8, 8]
        blocks:
          unit:
            params: {n: 1}
            layers:
              - relu: {repeat: $n * $n}
        layers:
          - unit: {n: 100000}
        """
    with pytest.raises(SpecError, match="expands to at least 10,000,000,000 layers"):
        bounded(lambda: spec(text))


def test_nested_blocks_with_conditions_cannot_make_expansion_exponential() -> None:
    from test_bounded_work import bounded

    levels = 40
    blocks = "\n".join(
        f"""
          b{k}:
            params: {{n: 2}}
            layers:
              - if: $n > 1
                then: [b{k - 1}: {{n: $n, repeat: $n}}, b{k - 1}: {{n: $n, when: $n > 0}}]
                else: [b{k - 1}]"""
        for k in range(1, levels)
    )
    text = f"""
        input: [3, 8, 8]
        blocks:
          b0:
            layers: [relu]{blocks}
        layers:
          - b{levels - 1}
        """
    with pytest.raises(SpecError, match=f"(builds|reads) at most {MAX_NODES:,}"):
        bounded(lambda: spec(text))


@pytest.mark.parametrize("nothing", ["relu: {repeat: 0}", "relu: {when: false}", "if: false\n        then: [relu]"])
def test_blocks_that_make_nothing_cannot_make_expansion_exponential(nothing: str) -> None:
    """Each block uses the one before twice: 2^40 block uses that make no layer are still work, refused at once."""
    from test_bounded_work import bounded

    levels = 40
    blocks = "".join(f"  b{k}: {{layers: [b{k - 1}, b{k - 1}]}}\n" for k in range(1, levels))
    first = f"  b0:\n    layers:\n      - {nothing}\n"
    text = f"input: [3, 8, 8]\nblocks:\n{first}{blocks}layers:\n  - relu\n  - b{levels - 1}\n"
    with pytest.raises(SpecError, match="at least [0-9,]{10,} (layers|entries)"):  # when: counted as holding
        bounded(lambda: parse_spec(text, "test.yaml"))
