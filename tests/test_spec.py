"""Spec loading: the plain list form, names and inputs, blocks with parameters, repeat, batch."""

from __future__ import annotations

import textwrap

from cnncalc.analyze import analyze
from cnncalc.spec import parse_spec


def spec(text: str):  # type: ignore[no-untyped-def]
    return parse_spec(textwrap.dedent(text), "test.yaml")


def test_plain_list_chains_layers_and_infers_input_sizes() -> None:
    graph = spec(
        """
        input: [3, 32, 32]
        layers:
          - conv2d: {out_channels: 10, kernel_size: 5, padding: 2}
          - Conv2d: {out_channels: 4, kernel_size: 3, in_channels: 10}
          - flatten
          - linear: {out_features: 7}
        """
    )
    names = [n.name for n in graph.nodes]
    assert names == ["conv2d_1", "conv2d_2", "flatten_1", "linear_1"]
    assert [n.inputs for n in graph.nodes] == [["input"], ["conv2d_1"], ["conv2d_2"], ["flatten_1"]]
    assert graph.node("conv2d_2").bound().in_channels == 10
    assert graph.output_shape == (7,)
    assert graph.node("linear_1").bound().in_features == 4 * 30 * 30


def test_names_and_inputs_make_branches_and_forward_references_are_sorted() -> None:
    graph = spec(
        """
        input: [8, 16, 16]
        layers:
          - identity: {name: head, inputs: [left]}
          - conv2d: {name: left, inputs: input, out_channels: 8, kernel_size: 3, padding: 1}
          - conv2d: {name: right, inputs: [input], out_channels: 8, kernel_size: 1}
          - flatten: {inputs: [head]}
        """
    )
    order = [n.name for n in graph.nodes]
    assert order.index("left") < order.index("head")
    assert graph.output == "flatten_1"  # the last layer written is the network's output
    assert graph.output_shape == (8 * 16 * 16,)


BLOCKS = """
    input: [16, 8, 8]
    blocks:
      unit:
        params: {width: null, kernel: 3}
        layers:
          - conv2d: {name: a, out_channels: $width, kernel_size: $kernel, padding: 1}
          - conv2d: {name: b, out_channels: $width, kernel_size: [$kernel, $kernel], padding: 1, inputs: [a]}
      pair:
        params: {width: null}
        layers:
          - unit: {width: $width, name: first}
          - unit: {width: $width, name: second}
    layers:
      - unit: {width: 16, repeat: 3, name: stage}
      - pair: {width: 4}
      - conv2d: {out_channels: 2, kernel_size: 1, inputs: [stage.1.a]}
      - flatten: {inputs: [pair_1]}
"""


def test_blocks_expand_with_parameters_repeat_and_dotted_names() -> None:
    graph = spec(BLOCKS)
    names = [n.name for n in graph.nodes]
    assert names[:6] == ["stage.0.a", "stage.0.b", "stage.1.a", "stage.1.b", "stage.2.a", "stage.2.b"]
    assert "pair_1.first.a" in names and "pair_1.second.b" in names
    assert graph.node("stage.1.a").inputs == ["stage.0.b"]  # repeats chain
    assert graph.node("pair_1.first.a").inputs == ["stage.2.b"]  # a block's `input` is its use's input
    assert graph.node("pair_1.second.a").inputs == ["pair_1.first.b"]
    assert graph.node("conv2d_1").inputs == ["stage.1.a"]
    assert graph.node("flatten_1").inputs == ["pair_1.second.b"]  # a block's name is its last layer
    assert graph.node("pair_1.first.b").bound().out_shape == (4, 8, 8)


def test_batch_scales_macs_but_not_params_and_trainable_false_freezes() -> None:
    text = """
        input: [3, 32, 32]
        batch: 4
        layers:
          - conv2d: {out_channels: 10, kernel_size: 5, padding: 2, trainable: false}
          - conv2d: {out_channels: 1, kernel_size: 1}
    """
    report = analyze(spec(text))
    assert report.batch == 4
    assert report.rows[0].macs == 4 * 768_000
    assert report.totals.params == 760 + 11
    assert report.totals.trainable_params == 11
    assert report.totals.non_trainable_params == 760
    assert analyze(parse_spec(textwrap.dedent(text), "t", batch=1)).totals.macs == 768_000 + 1024 * 10


def test_huge_sizes_compute_exactly() -> None:
    report = analyze(
        spec(
            """
            input: [1000000000000, 1, 1]
            layers:
              - conv2d: {out_channels: 1000000000000, kernel_size: 1}
            """
        )
    )
    assert report.totals.params == 10**24 + 10**12
    assert report.totals.macs == 10**24


def test_unused_layers_are_warned_about() -> None:
    report = analyze(
        spec(
            """
            input: [3, 8, 8]
            layers:
              - conv2d: {name: lost, out_channels: 2, kernel_size: 1}
              - conv2d: {inputs: [input], out_channels: 2, kernel_size: 1}
            """
        )
    )
    assert any("lost" in w for w in report.warnings)


def test_a_block_parameter_in_inputs_names_a_layer_where_the_block_is_used() -> None:
    graph = spec(
        """
        input: [4, 8, 8]
        blocks:
          up:
            params: {skip: null}
            layers:
              - conv2d: {name: conv, out_channels: 4, kernel_size: 1}
              - concat: {inputs: [$skip, conv], name: cat}
          outer:
            params: {skip: null}
            layers:
              - up: {skip: $skip, name: inner}
        layers:
          - conv2d: {name: early, out_channels: 2, kernel_size: 1}
          - up: {skip: early, name: u}
          - outer: {skip: early, name: o}
        """
    )
    assert graph.node("u.cat").inputs == ["early", "u.conv"]
    assert graph.node("o.inner.cat").inputs == ["early", "o.inner.conv"]  # passed through a nested block
    assert graph.node("o.inner.cat").bound().out_shape == (6, 8, 8)
