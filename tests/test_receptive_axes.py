"""Receptive fields that follow the axes (cnncalc/receptive.py): through Permute, Transpose, Reshape, View,
Unflatten and ChannelShuffle, and through the channels-last layers between them (LayerNorm, Linear, GELU), checked
by input gradients in torch.

The measurement: the network in torch (float64, eval) with random weights and a random input, so that no gradient
cancels by accident (tests/test_receptive.py uses equal weights, under which a LayerNorm's outputs sum to a
constant). For an output position (one index along every axis holding an input spatial axis, all indices along the
others), the input gradient of a random combination of those outputs is nonzero exactly on the input positions they
read. Along input axis i, held by output axis k at index j, that must be the field's span j*S - P ... j*S - P + r - 1
wherever it lies inside the input.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.graph import Graph
from cnncalc.receptive import ReceptiveField, layout, receptive_fields
from cnncalc.spec import parse_spec

torch = pytest.importorskip("torch")
from torch_graph import TorchGraph  # noqa: E402  (needs torch)


def measure(graph: Graph, nodes: list[str] | None = None, seed: int = 0) -> int:
    """Compare every node's field (or `nodes'`) with measured input gradients; returns how many positions."""
    fields, _ = receptive_fields(graph)
    generator = torch.Generator().manual_seed(seed)
    net = TorchGraph(graph)
    with torch.no_grad():
        for module in net.modules.values():
            for parameter in module.parameters():
                parameter.copy_(torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype) + 0.5)
    x = torch.rand((1, *graph.input_shape), generator=generator, dtype=torch.float64).requires_grad_(True)
    values = net(x)
    in_spatial = graph.input_shape[1:]
    compared = 0
    for node in graph.nodes:
        field = fields[node.name]
        if field is None or (nodes is not None and node.name not in nodes):
            continue
        out = values[node.name]
        held = layout(field)
        assert len(held) == out.dim() - 1, node.name
        for position in positions(field, held, tuple(out.shape[1:]), in_spatial):
            index = (0, *(slice(None) if axis is None else position[axis] for axis in held))
            picked = out[index]
            weights = torch.rand(picked.shape, generator=generator, dtype=torch.float64) + 0.5
            (grad,) = torch.autograd.grad((picked * weights).sum(), x, retain_graph=True)
            support = grad[0].abs().sum(0).nonzero()
            assert support.shape[0], (node.name, position)
            for axis, j in position.items():
                start, end = field.span(axis, j)
                low, high = int(support[:, axis].min()), int(support[:, axis].max())
                assert (low, high) == (start, end), (
                    f"{node.name} at {position} along input axis {axis}: measured {low}..{high}, field {start}..{end}"
                )
            compared += 1
    return compared


def positions(
    field: ReceptiveField, held: tuple[int | None, ...], out_spatial: tuple[int, ...], in_spatial: tuple[int, ...]
) -> list[dict[int, int]]:
    """A few output positions (per input spatial axis, the index along the output axis holding it) whose field lies
    inside the input: first, middle and last along each axis, taken together."""
    per_axis: dict[int, list[int]] = {}
    for out_axis, axis in enumerate(held):
        if axis is None:
            continue
        inside = [
            j
            for j in range(out_spatial[out_axis])
            if field.span(axis, j)[0] >= 0 and field.span(axis, j)[1] <= in_spatial[axis] - 1
        ]
        if not inside:
            return []
        per_axis[axis] = sorted({inside[0], inside[len(inside) // 2], inside[-1]})
    count = max(len(js) for js in per_axis.values())
    return [{axis: js[min(i, len(js) - 1)] for axis, js in per_axis.items()} for i in range(count)]


def graph_of(text: str) -> tuple[Graph, dict[str, ReceptiveField | None]]:
    graph = parse_spec(text)
    return graph, receptive_fields(graph)[0]


CONVNEXT = """
name: convnext_block
input: [4, 12, 12]
layers:
  - conv2d: {out_channels: 4, kernel_size: 7, padding: 3, groups: 4, name: dwconv}
  - permute: {dims: [0, 2, 3, 1], name: to_last}
  - layernorm: {normalized_shape: 4, eps: 1.0e-6, name: norm}
  - linear: {out_features: 16, name: pwconv1}
  - gelu: {name: act}
  - linear: {out_features: 4, name: pwconv2}
  - permute: {dims: [0, 3, 1, 2], name: to_first}
  - add: {inputs: [input, to_first], name: residual}
  - conv2d: {out_channels: 4, kernel_size: 7, padding: 3, groups: 4, name: dwconv2}
"""


def test_convnext_block_keeps_the_depthwise_field() -> None:
    graph, fields = graph_of(CONVNEXT)
    dw = ReceptiveField((7, 7), (1, 1), (3, 3))
    assert fields["dwconv"] == dw
    for name in ("to_last", "norm", "pwconv1", "act", "pwconv2"):
        assert fields[name] == ReceptiveField((7, 7), (1, 1), (3, 3), (0, 1, None)), name  # H, W, then C
    assert fields["to_first"] == fields["residual"] == dw  # back in the input's own layout
    assert fields["dwconv2"] == ReceptiveField((13, 13), (1, 1), (6, 6))
    assert measure(graph) > 20


def test_summary_json_shows_the_field_after_permute() -> None:
    from cnncalc.analyze import analyze
    from cnncalc.render.json_report import report_dict

    graph, _ = graph_of(CONVNEXT)
    rows = {row["name"]: row for row in report_dict(analyze(graph))["layers"]}
    assert rows["pwconv1"]["receptive_field"] == {"size": [7, 7], "stride": [1, 1], "padding": [3, 3]}
    json.dumps(rows)


def test_transpose_moves_the_axes_a_conv_then_acts_on() -> None:
    graph, fields = graph_of("""
input: [2, 17, 19]
layers:
  - conv2d: {out_channels: 2, kernel_size: [3, 1], padding: [1, 0], name: tall}
  - transpose: {dim0: 2, dim1: 3, name: swapped}
  - conv2d: {out_channels: 2, kernel_size: [5, 1], stride: [2, 1], name: along_w}
  - transpose: {dim0: -1, dim1: -2, name: back}
  - conv2d: {out_channels: 2, kernel_size: 3, name: both}
""")
    assert fields["swapped"] == ReceptiveField((3, 1), (1, 1), (1, 0), (None, 1, 0))
    # The second conv's kernel of 5 at stride 2 runs along the axis that holds W.
    assert fields["along_w"] == ReceptiveField((3, 5), (1, 2), (1, 0), (None, 1, 0))
    assert fields["back"] == ReceptiveField((3, 5), (1, 2), (1, 0))
    assert fields["both"] == ReceptiveField((5, 9), (1, 2), (1, 0))
    assert measure(graph) > 10


SHUFFLE = """
input: [4, 13, 13]
layers:
  - conv2d: {out_channels: 6, kernel_size: 3, groups: 2, name: grouped}
  - channelshuffle: {groups: 2, name: shuffled}
  - conv2d: {out_channels: 6, kernel_size: 3, stride: 2, groups: 6, name: depthwise}
  - reshape: {shape: [3, 2, 5, 5], name: split}
  - transpose: {dim0: 1, dim1: 2, name: swapped}
  - reshape: {shape: [6, 5, 5], name: joined}  # view would fail in torch: transpose left it non-contiguous
  - conv2d: {out_channels: 6, kernel_size: 3, name: after}
"""


def test_channel_shuffle_both_ways_keeps_the_field() -> None:
    graph, fields = graph_of(SHUFFLE)
    assert fields["shuffled"] == fields["grouped"] == ReceptiveField((3, 3), (1, 1), (0, 0))
    assert fields["split"] == fields["swapped"] == ReceptiveField((5, 5), (2, 2), (0, 0), (None, None, 0, 1))
    assert fields["joined"] == fields["depthwise"] == ReceptiveField((5, 5), (2, 2), (0, 0))
    assert fields["after"] == ReceptiveField((9, 9), (2, 2), (0, 0))
    assert measure(graph) > 10


def test_reshape_unflatten_keep_surviving_axes_and_a_conv3d_runs_over_them() -> None:
    graph, fields = graph_of("""
input: [4, 11, 10]
layers:
  - unflatten: {dim: 1, unflattened_size: [2, 2], name: groups}
  - conv3d: {out_channels: 2, kernel_size: [1, 3, 3], name: conv}
  - reshape: {shape: [-1, 9, 8], name: back}
""")
    assert fields["groups"] == ReceptiveField((1, 1), (1, 1), (0, 0), (None, None, 0, 1))
    assert fields["conv"] == ReceptiveField((3, 3), (1, 1), (0, 0), (None, None, 0, 1))
    assert fields["back"] == ReceptiveField((3, 3), (1, 1), (0, 0))
    assert measure(graph) > 5


def test_layernorm_over_a_spatial_axis_reads_it_whole() -> None:
    graph, fields = graph_of("""
input: [3, 9, 7]
layers:
  - conv2d: {out_channels: 3, kernel_size: 3, padding: 1, name: conv}
  - permute: {dims: [0, 2, 3, 1], name: last}
  - layernorm: {normalized_shape: [7, 3], name: norm}
  - permute: {dims: [0, 3, 1, 2], name: first}
""")
    # Along W the statistics read the whole row of 7: a spanning window 2*(7 - 1) at padding 6.
    assert fields["norm"] == ReceptiveField((3, 3 + 12), (1, 1), (1, 1 + 6), (0, 1, None))
    assert fields["first"] == ReceptiveField((3, 15), (1, 1), (1, 7))
    # The field is exact along H; along W it spans the whole row from any position (an upper bound by design).
    assert measure(graph, nodes=["conv"]) > 0


@pytest.mark.parametrize(
    "layers",
    [
        # H and W merged into one axis: neither is an axis any more.
        "  - reshape: {shape: [3, -1]}",
        "  - flatten: {start_dim: 2}",
        # Channels last, then a convolution that takes H for its channels: it mixes H.
        "  - permute: {dims: [0, 2, 1, 3]}\n  - conv2d: {out_channels: 2, kernel_size: 1}",
        # Linear along W mixes it into new features.
        "  - linear: {out_features: 4}",
        # The channels shuffled while H sits on the channel axis.
        "  - transpose: {dim0: 1, dim1: 2}\n  - channelshuffle: {groups: 2}",
    ],
)
def test_an_axis_mixed_away_leaves_no_field(layers: str) -> None:
    _, fields = graph_of(f"input: [3, 6, 5]\nlayers:\n  - conv2d: {{out_channels: 3, kernel_size: 3}}\n{layers}\n")
    *_, last = fields.values()
    assert last is None


def test_merging_different_layouts_has_no_field() -> None:
    _, fields = graph_of("""
input: [2, 5, 5]
layers:
  - transpose: {dim0: 2, dim1: 3, name: swapped}
  - add: {inputs: [input, swapped]}
""")
    assert fields["swapped"] is not None and fields["add_1"] is None


# -- property: random chains of moves, channels-last blocks and convolutions ----------------------------------------


@st.composite
def chains(draw: st.DrawFn) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 5))):
        step = draw(st.sampled_from(["conv", "transpose", "shuffle", "regroup", "last", "permute"]))
        if step == "conv":
            kernel = [draw(st.integers(1, 3)) for _ in range(2)]
            stride = [draw(st.integers(1, 2)) for _ in range(2)]
            layers.append({"conv2d": {"out_channels": 4, "kernel_size": kernel, "stride": stride, "groups": 2}})
        elif step == "transpose":
            layers.append({"transpose": {"dim0": 2, "dim1": 3}})
        elif step == "shuffle":
            layers.append({"channelshuffle": {"groups": 2}})
        elif step == "regroup":  # ShuffleNet's shuffle written out
            layers += [
                {"unflatten": {"dim": 1, "unflattened_size": [2, -1]}},
                {"transpose": {"dim0": 1, "dim1": 2}},
                {"flatten": {"start_dim": 1, "end_dim": 2}},
            ]
        elif step == "last":  # a ConvNeXt block's pointwise part
            layers += [
                {"permute": {"dims": [0, 2, 3, 1]}},
                {"layernorm": {"normalized_shape": 4}},
                {"linear": {"out_features": 4}},
                {"gelu": None},
                {"permute": {"dims": [0, 3, 1, 2]}},
            ]
        else:  # a spatial permutation through channels last and back
            layers += [{"permute": {"dims": [0, 3, 2, 1]}}, {"permute": {"dims": [0, 3, 1, 2]}}]
    return layers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains(), st.integers(0, 2**16))
def test_random_chains_match_torch(layers: list[dict[str, Any]], seed: int) -> None:
    layers = [{"conv2d": {"out_channels": 4, "kernel_size": 1}}, *layers]
    graph = parse_spec(json.dumps({"input": [2, 16, 13], "layers": layers}))
    fields = receptive_fields(graph)[0]
    assert fields[graph.output] is not None  # every step keeps H and W as axes
    measure(graph, seed=seed)
