"""Receptive fields: hand-computed cases, then measurement against PyTorch through input gradients.

The measurement: the network in torch with positive weights that average what they read (1 / fan-in), biases 0,
BatchNorm in eval with unit statistics, and a small constant input (2^-10); backpropagating from one spatial position j
of a node (all its channels) leaves a nonzero input gradient exactly on the input positions that output reads,
since every path carries a positive product and no activation saturates. Its extent must be our field's
j*S - P ... j*S - P + r - 1 wherever that lies inside the input (elsewhere, padding hides the rest and the
gradient lies within it). Max pools pass gradient to one element only, so the measured network averages over the
same windows instead (tests/torch_graph.py, average_max_pools).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.errors import SpecError
from cnncalc.graph import NETWORK_INPUT, Graph
from cnncalc.receptive import ReceptiveField, receptive_fields
from cnncalc.render.json_report import rf_dict
from cnncalc.spec import parse_spec


def fields_of(text: str) -> tuple[Graph, dict[str, ReceptiveField | None], list[str]]:
    graph = parse_spec(text)
    fields, warnings = receptive_fields(graph)
    return graph, fields, warnings


def field(size: Any, stride: Any, padding: Any, axes: int = 2) -> ReceptiveField:
    """The same value on every axis."""
    return ReceptiveField((size,) * axes, (stride,) * axes, (padding,) * axes)


# PyTorch warns that padding='same' with an even kernel copies the input: true, and beside the point here.
SAME_EVEN = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


# -- hand-computed cases ------------------------------------------------------------------------------------------

LENET = """
name: lenet5
input: [1, 28, 28]
layers:
  - conv2d: {out_channels: 20, kernel_size: 5, padding: 2, name: conv1}
  - relu
  - maxpool2d: {kernel_size: 2, stride: 2, name: pool1}
  - conv2d: {out_channels: 50, kernel_size: 5, padding: 2, name: conv2}
  - relu
  - maxpool2d: {kernel_size: 2, name: pool2}
  - flatten
  - linear: {out_features: 500}
  - relu
  - linear: {out_features: 10}
"""


def test_lenet_per_layer() -> None:
    _, fields, warnings = fields_of(LENET)
    assert fields[NETWORK_INPUT] == field(1, 1, 0)
    assert fields["conv1"] == field(5, 1, 2)
    assert fields["relu_1"] == fields["conv1"]  # pointwise
    assert fields["pool1"] == field(6, 2, 2)
    assert fields["conv2"] == field(14, 2, 6)
    assert fields["pool2"] == field(16, 4, 6)
    # Flatten mixes the positions; so does everything after it.
    assert [fields[name] for name in ("flatten_1", "linear_1", "relu_3", "linear_2")] == [None] * 4
    assert warnings == []


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("depth", [1, 2, 3, 7])
def test_stacked_convs_grow_by_k_minus_1(kernel: int, depth: int) -> None:
    spec = f"""
input: [3, 32, 32]
layers:
  - conv2d: {{out_channels: 8, kernel_size: {kernel}, padding: {kernel // 2}, repeat: {depth}, name: stack}}
"""
    graph, fields, _ = fields_of(spec)
    # The lecture's 1 + L(K-1), centred on the output position.
    assert fields[graph.output] == field(1 + depth * (kernel - 1), 1, depth * (kernel // 2))


def test_dilation() -> None:
    # WaveNet's stack: kernel 2 with dilations 1, 2, 4, 8 covers 16 samples; causal, so padding 0.
    spec = """
input: [1, 100]
layers:
  - conv1d: {out_channels: 4, kernel_size: 2, dilation: 1}
  - conv1d: {out_channels: 4, kernel_size: 2, dilation: 2}
  - conv1d: {out_channels: 4, kernel_size: 2, dilation: 4}
  - conv1d: {out_channels: 4, kernel_size: 2, dilation: 8, name: last}
"""
    _, fields, _ = fields_of(spec)
    assert fields["last"] == ReceptiveField((16,), (1,), (0,))
    assert [fields[f"conv1d_{i}"].size for i in (1, 2, 3)] == [(2,), (4,), (8,)]


def test_dilation_and_stride_per_axis() -> None:
    spec = """
input: [1, 40, 50]
layers:
  - conv2d: {out_channels: 2, kernel_size: [3, 5], stride: [1, 2], padding: [2, 1], dilation: [2, 1]}
  - conv2d: {out_channels: 2, kernel_size: 3, dilation: [1, 3], padding: [1, 0]}
"""
    _, fields, _ = fields_of(spec)
    # Axis H: extent 2*(3-1) = 4, pad 2; then extent 2, pad 1. Axis W: extent 4, stride 2, pad 1; then extent 6.
    assert fields["conv2d_1"] == ReceptiveField((5, 5), (1, 2), (2, 1))
    assert fields["conv2d_2"] == ReceptiveField((7, 5 + 6 * 2), (1, 2), (3, 1))


def test_transposed_conv_fractional_stride_stays_exact() -> None:
    spec = """
input: [1, 16, 16]
layers:
  - convtranspose2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: up}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: smooth}
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: down}
"""
    _, fields, _ = fields_of(spec)
    # Output o of the transposed conv reads inputs i with 2i - 1 + m = o, m in 0..2: i in [(o - 1)/2, (o + 1)/2].
    half = Fraction(1, 2)
    assert fields["up"] == field(2, half, half)
    assert fields["smooth"] == field(3, half, 1)
    assert fields["down"] == field(4, 1, Fraction(3, 2))
    # Whole numbers come back as ints, the others as reduced Fractions, and the JSON writes those as "p/q".
    assert all(type(v) is int for v in fields["smooth"].size + fields["down"].stride)
    assert rf_dict(fields["up"]) == {"size": [2, 2], "stride": ["1/2", "1/2"], "padding": ["1/2", "1/2"]}
    assert rf_dict(fields["down"]) == {"size": [4, 4], "stride": [1, 1], "padding": ["3/2", "3/2"]}


def test_conv_then_transposed_conv_recovers_the_grid() -> None:
    # The encoder-decoder step of a U-Net: stride 2 down, stride 2 up.
    spec = """
input: [1, 32, 32]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
  - convtranspose2d: {out_channels: 4, kernel_size: 4, stride: 2, padding: 1, name: up}
"""
    _, fields, _ = fields_of(spec)
    # (3, 2, 1) then extent 3/2, stride 1/2, padding (3 - 1)/2 = 1, each scaled by S = 2.
    assert fields["up"] == field(3 + 3, 1, 1 + 2)


def test_upsampling() -> None:
    # Upsample's windows cover PyTorch's floored source index (see resize.py): nearest x2 reads floor(o/2), in
    # [o/2 - 1/2, o/2]; bilinear reads floor(src) and the next pixel, src = (o + 1/2)/2 - 1/2, so it covers
    # [src - 3/4, src + 1] (src is a multiple of 1/4).
    spec = """
input: [1, 16, 16]
layers:
  - conv2d: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1, name: down}
  - upsample: {scale_factor: 2, name: nearest}
  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1, name: smooth}
  - upsample: {scale_factor: 2, mode: bilinear, inputs: input, name: bilinear}
  - conv2d: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1, name: back}
"""
    _, fields, _ = fields_of(spec)
    # Output pixels 2i and 2i+1 copy pixel i: together they cover two of down's fields, 3 + (1/2)*2 wide.
    assert fields["nearest"] == field(4, 1, 2)
    assert fields["smooth"] == field(6, 1, 3)
    assert fields["bilinear"] == field(Fraction(11, 4), Fraction(1, 2), 1)
    # Back on the input's grid: 11/4 + 2*(1/2), stride 1, padding 1 + 1/2.
    assert fields["back"] == field(Fraction(15, 4), 1, Fraction(3, 2))


def test_residual_add_takes_the_union() -> None:
    spec = """
input: [8, 16, 16]
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1}
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, name: branch}
  - add: {inputs: [input, branch], name: sum}
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, name: after}
"""
    _, fields, warnings = fields_of(spec)
    assert fields["sum"] == field(5, 1, 2)  # the identity path's single pixel lies inside the branch's 5 x 5
    assert fields["after"] == field(7, 1, 3)  # a layer reading a merge composes onto the merged field
    assert warnings == []


def test_concat_of_centred_branches_is_the_largest() -> None:
    spec = """
input: [4, 20, 20]
layers:
  - conv2d: {out_channels: 2, kernel_size: 1, inputs: input, name: b1}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, inputs: input, name: b3}
  - conv2d: {out_channels: 2, kernel_size: 5, padding: 2, inputs: input, name: b5}
  - maxpool2d: {kernel_size: 3, stride: 1, padding: 1, inputs: input, name: pool}
  - concat: {inputs: [b1, b3, b5, pool], name: cat}
"""
    _, fields, warnings = fields_of(spec)
    assert fields["cat"] == field(5, 1, 2)
    assert warnings == []


MISALIGNED = """
input: [1, 12, 12]
layers:
  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1, inputs: input, name: centred}
  - zeropad2d: {padding: [0, 2, 0, 2], inputs: input}
  - conv2d: {out_channels: 1, kernel_size: 3, name: shifted}
  - add: {inputs: [centred, shifted], name: sum}
  - conv2d: {out_channels: 1, kernel_size: 2, padding: same, inputs: input, name: half}
  - add: {inputs: [centred, half], name: sum2}
"""


def test_misaligned_branches_warn_and_take_the_union() -> None:
    _, fields, warnings = fields_of(MISALIGNED)
    # Padding only after: the shifted branch reads j ... j + 2, the centred one j - 1 ... j + 1.
    assert fields["shifted"] == field(3, 1, 0)
    assert fields["sum"] == field(4, 1, 1)
    # padding='same' with an even kernel pads only after, too: j ... j + 1 within j - 1 ... j + 1.
    assert fields["half"] == field(2, 1, 0)
    assert fields["sum2"] == field(3, 1, 1)
    assert len(warnings) == 2 and "'sum'" in warnings[0] and "'sum2'" in warnings[1]
    assert "'centred' at 0" in warnings[0] and "'shifted' at 1" in warnings[0]
    assert "'centred' at 0" in warnings[1] and "'half' at 1/2" in warnings[1]


def test_branches_with_different_strides_warn_and_take_the_largest() -> None:
    spec = """
input: [1, 8, 8]
layers:
  - conv2d: {out_channels: 1, kernel_size: 2, stride: 2, inputs: input, name: strided}
  - conv2d: {out_channels: 1, kernel_size: 5, inputs: input, name: wide}
  - add: {inputs: [strided, wide], name: sum}
"""
    _, fields, warnings = fields_of(spec)
    assert fields["sum"] == fields["wide"] == field(5, 1, 0)
    assert len(warnings) == 1
    assert "'sum'" in warnings[0] and "strides differ" in warnings[0] and "'wide'" in warnings[0]


def test_axes_decide_separately() -> None:
    # Strides agree along H and differ along W.
    spec = """
input: [1, 9, 9]
layers:
  - conv2d: {out_channels: 1, kernel_size: [3, 2], stride: [1, 2], padding: [1, 0], inputs: input, name: a}
  - conv2d: {out_channels: 1, kernel_size: [1, 6], inputs: input, name: b}
  - add: {inputs: [a, b], name: sum}
"""
    _, fields, warnings = fields_of(spec)
    assert fields["sum"] == ReceptiveField((3, 6), (1, 1), (1, 0))
    assert len(warnings) == 1 and "along W" in warnings[0] and "along H" not in warnings[0]


SQUEEZE_EXCITE = """
input: [8, 20, 20]
blocks:
  se:
    layers:
      - adaptiveavgpool2d: {output_size: 1}
      - conv2d: {out_channels: 2, kernel_size: 1}
      - relu
      - conv2d: {out_channels: 8, kernel_size: 1}
      - sigmoid: {name: gate}
      - mul: {inputs: [input, gate], name: scaled}
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, name: features}
  - se: {name: se1}
  - conv2d: {out_channels: 8, kernel_size: 3, stride: 2, padding: 1, name: after}
  - se: {name: se2}
"""


def test_squeeze_excitation_gate_is_left_out_with_one_warning() -> None:
    _, fields, warnings = fields_of(SQUEEZE_EXCITE)
    # The gate went through a global pool (its own field covers the input); it scales every position alike,
    # so the positions keep the field of the features they scale.
    assert fields["se1.gate"].stride == (20, 20)
    assert fields["se1.scaled"] == fields["features"] == field(3, 1, 1)
    assert fields["after"] == field(5, 2, 2)
    assert fields["se2.scaled"] == fields["after"]
    assert len(warnings) == 1
    assert "2 broadcast input(s)" in warnings[0]
    assert "'se1.gate' into 'se1.scaled'" in warnings[0] and "'se2.gate' into 'se2.scaled'" in warnings[0]


def test_input_without_field_makes_the_merge_fieldless() -> None:
    # Linear along W mixes every column: its output has no field, nor has any sum with it, nor what follows.
    spec = """
input: [2, 6, 6]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: conv}
  - linear: {out_features: 6, inputs: input, name: mix}
  - add: {inputs: [conv, mix], name: sum}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: after}
"""
    _, fields, warnings = fields_of(spec)
    assert fields["conv"] == field(3, 1, 1)
    assert [fields[name] for name in ("mix", "sum", "after")] == [None] * 3
    assert warnings == []


def test_flattened_input_makes_the_merge_fieldless() -> None:
    # A 6 x 6 (C x L) map from a Flatten times a 2 x 6 x 6 one (PyTorch aligns the shapes from the right).
    spec = """
input: [2, 6, 6]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: conv}
  - flatten: {start_dim: 1, end_dim: 2, inputs: input, name: flat}
  - conv1d: {out_channels: 6, kernel_size: 3, padding: 1, name: rows}
  - mul: {inputs: [conv, rows], name: product}
"""
    graph, fields, _ = fields_of(spec)
    assert graph.shape_of("rows") == (6, 6) and fields["rows"] is None  # Flatten merged H into the channels
    assert graph.shape_of("product") == (2, 6, 6) and fields["product"] is None


def test_no_spatial_axes() -> None:
    _, fields, _ = fields_of("input: [10]\nlayers:\n  - linear: {out_features: 3}\n  - identity\n")
    assert fields == {NETWORK_INPUT: None, "linear_1": None, "identity_1": None}


def test_flatten_that_keeps_the_shape_keeps_the_field() -> None:
    _, fields, _ = fields_of(
        "input: [2, 6]\nlayers:\n  - conv1d: {out_channels: 2, kernel_size: 3}\n  - flatten: {start_dim: 2}\n"
    )
    assert fields["flatten_1"] == fields["conv1d_1"] == ReceptiveField((3,), (1,), (0,))


def test_deep_residual_graph() -> None:
    # 5,000 residual blocks: 15,000 nodes.
    depth = 5_000
    spec = f"""
input: [1, 8]
blocks:
  res:
    layers:
      - conv1d: {{out_channels: 1, kernel_size: 3, padding: 1}}
      - identity
      - add: {{inputs: [input, identity_1]}}
layers:
  - res: {{repeat: {depth}}}
"""
    graph, fields, warnings = fields_of(spec)
    assert set(fields) == {NETWORK_INPUT} | {n.name for n in graph.nodes}
    assert fields[graph.output] == ReceptiveField((1 + 2 * depth,), (1,), (depth,))
    assert warnings == []


# -- measurement against PyTorch ----------------------------------------------------------------------------------


def rounded(start: int | Fraction, end: int | Fraction) -> tuple[int, int]:
    """The integer positions a fractional field covers: those inside it (every fractional window covers the
    inputs its output reads, e.g. a transposed convolution's output o reads the inputs i in
    [(o + p - d(k-1))/s, (o + p)/s])."""
    return math.ceil(start), math.floor(end)


def interior_positions(
    fld: ReceptiveField, out_spatial: tuple[int, ...], in_spatial: tuple[int, ...]
) -> list[list[int]]:
    """Per axis, the output positions whose whole field lies inside the input."""
    axes = []
    for axis, (outputs, length) in enumerate(zip(out_spatial, in_spatial, strict=True)):
        inside = []
        for j in range(outputs):
            low, high = rounded(*fld.span(axis, j))
            if low >= 0 and high <= length - 1:
                inside.append(j)
        axes.append(inside)
    return axes


def few(values: list[int], count: int = 3) -> list[int]:
    """First, middle and last (or all when fewer)."""
    if len(values) <= count:
        return values
    return sorted({values[0], values[len(values) // 2], values[-1]})


def measure_against_torch(
    graph: Graph,
    *,
    exact: bool = True,
    edges: bool = True,
    nodes: list[str] | None = None,
) -> int:
    """Compare every node's field (or `nodes`') with the input gradient of a few of its output positions.

    Interior positions must match exactly (`exact`) or lie within the field; with `edges`, the first and last
    positions must lie within the field clipped to the input (not so after reflection, replication or circular
    padding, which read inside the input for positions outside it). Returns the number of positions compared."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these tensors are tiny: thread start-up would cost ten times the work
    try:
        return _measure(torch, graph, exact, edges, nodes)
    finally:
        torch.set_num_threads(threads)


def _measure(torch: Any, graph: Graph, exact: bool, edges: bool, nodes: list[str] | None) -> int:
    from torch_graph import TorchGraph

    fields, _ = receptive_fields(graph)
    net = TorchGraph(graph, average_max_pools=True).fill_positive()
    # Small: residual sums double the values, and ReLU6 or hardtanh pass no gradient beyond their clip.
    x = torch.full((1,) + graph.input_shape, 2.0**-10, dtype=torch.float64, requires_grad=True)
    values = net(x)
    in_spatial = graph.input_shape[1:]
    compared = 0
    for node in graph.nodes:
        if nodes is not None and node.name not in nodes:
            continue
        out_shape = node.bound().out_shape
        assert tuple(values[node.name].shape[1:]) == out_shape, node.name  # torch agrees on the shape
        fld = fields[node.name]
        if fld is None:
            continue
        out_spatial = out_shape[1:]
        # Axes are independent: walking the diagonal of the per-axis choices tries each value on every axis.
        choices = [few(js) for js in interior_positions(fld, out_spatial, in_spatial)]
        count = max(len(js) for js in choices) if all(choices) else 0
        interior = [(tuple(js[min(i, len(js) - 1)] for js in choices), True) for i in range(count)]
        edge = [(p, False) for p in itertools.product(*({0, n - 1} for n in out_spatial))] if edges else []
        for position, inside in interior + edge:
            index = (0, slice(None)) + tuple(position)
            (grad,) = torch.autograd.grad(values[node.name][index].sum(), x, retain_graph=True)
            support = grad[0].abs().sum(0).nonzero()
            compared += 1
            if support.shape[0] == 0:
                # Nothing read: at the edges, where every path runs through padding of some layer, or between
                # the taps of a transposed convolution whose stride exceeds its kernel.
                assert not (inside and exact), (node.name, position)
                continue
            for axis, j in enumerate(position):
                start, end = fld.span(axis, j)
                low, high = int(support[:, axis].min()), int(support[:, axis].max())
                expected = rounded(start, end)
                where = f"{node.name} at {position} axis {axis}: measured {low}..{high}, field {start}..{end}"
                if inside and exact:
                    assert (low, high) == expected, where
                else:
                    assert max(expected[0], 0) <= low and high <= min(expected[1], in_spatial[axis] - 1), where
    return compared


def test_lenet_matches_torch() -> None:
    pytest.importorskip("torch")
    graph = parse_spec(LENET)
    assert measure_against_torch(graph) > 10


def test_strided_dilated_chain_matches_torch() -> None:
    pytest.importorskip("torch")
    spec = """
input: [2, 41, 37]
layers:
  - conv2d: {out_channels: 3, kernel_size: [3, 5], stride: [2, 1], padding: [1, 2], dilation: [1, 2]}
  - avgpool2d: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - conv2d: {out_channels: 2, kernel_size: 3, dilation: 2, padding: 1}
  - maxpool2d: {kernel_size: 2, stride: 1, dilation: 2}
  - conv2d: {out_channels: 2, kernel_size: 1}
"""
    assert measure_against_torch(parse_spec(spec)) > 10


TRANSPOSED = """
input: [1, 12, 12]
layers:
  - convtranspose2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: up}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: smooth}
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: down}
  - convtranspose2d: {out_channels: 1, kernel_size: [4, 3], stride: [2, 3], padding: [1, 0], name: up2}
"""


def test_transposed_conv_matches_torch() -> None:
    pytest.importorskip("torch")
    # Kernel >= stride and no dilation: every output reads every input inside its fractional window, so the
    # field, rounded inwards, is exact for the transposed conv and the convs right after it.
    assert measure_against_torch(parse_spec(TRANSPOSED), nodes=["up", "smooth", "down"]) > 10


def test_fractional_fields_are_upper_bounds() -> None:
    pytest.importorskip("torch")
    # The composition follows real-valued windows; with fractional ends, the integer positions in between
    # can fall short of them (up2's output 4 along H reads down's 1..2, which read inputs 0..3, but the
    # composed field ends at 4). The field holds every measured one.
    graph = parse_spec(TRANSPOSED)
    fields, _ = receptive_fields(graph)
    assert fields["up2"].span(0, 4) == (Fraction(-1, 2), 4)
    assert measure_against_torch(graph, exact=False) > 10
    spec = """
input: [1, 30]
layers:
  - conv1d: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1}
  - convtranspose1d: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1}
  - convtranspose1d: {out_channels: 1, kernel_size: 5, stride: 3}
"""
    assert measure_against_torch(parse_spec(spec), exact=False) > 5


@pytest.mark.parametrize(
    "shape, upsample",
    [
        ([1, 12, 12], "{scale_factor: 2}"),
        ([1, 12, 12], "{scale_factor: 3}"),
        ([1, 10], "{scale_factor: 1.5}"),
        ([1, 5], "{size: 7}"),
        ([1, 12, 12], "{scale_factor: 2, mode: nearest-exact}"),
        ([1, 5], "{size: 7, mode: nearest-exact}"),
        ([1, 12, 12], "{scale_factor: 2, mode: bilinear}"),
        ([1, 12, 12], "{scale_factor: 2, mode: bicubic}"),
        ([1, 7, 9], "{size: [12, 20], mode: bilinear, align_corners: true}"),
        ([1, 5], "{size: 7, mode: linear}"),
    ],
)
def test_upsample_matches_torch(shape: list[int], upsample: str) -> None:
    pytest.importorskip("torch")
    graph = parse_spec(f"input: {shape}\nlayers:\n  - upsample: {upsample}\n")
    # Interpolation gives the last tap a weight of 0 where the source coordinate is whole: that pixel is not
    # read, so the interpolating modes are checked for lying within the field.
    interpolating = "linear" in upsample or "bicubic" in upsample
    assert measure_against_torch(graph, exact=not interpolating) > 3


def test_padding_and_cropping_match_torch() -> None:
    pytest.importorskip("torch")
    spec = """
input: [1, 11, 10]
layers:
  - zeropad2d: {padding: [1, 2, 0, 3]}
  - conv2d: {out_channels: 2, kernel_size: 3}
  - reflectionpad2d: {padding: 2}
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2}
  - replicationpad2d: {padding: [0, 1, 2, 1]}
  - circularpad2d: {padding: 1}
  - centercrop: {size: [8, 7]}
  - constantpad2d: {padding: [-1, 0, 1, -1], value: 0.5}
  - conv2d: {out_channels: 1, kernel_size: 2}
"""
    graph, fields, _ = fields_of(spec)
    assert fields["zeropad2d_1"] == ReceptiveField((1, 1), (1, 1), (0, 1))  # left pads W, top pads H
    # Reflection, replication and circular padding fill the padding from inside the input: only interior
    # positions compare. (They come before the crops: a position a crop removed has no value to wrap around to.)
    assert measure_against_torch(graph, edges=False) > 20


def test_pointwise_and_normalising_layers_match_torch() -> None:
    pytest.importorskip("torch")
    spec = """
input: [2, 24, 24]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, stride: 2}
  - batchnorm2d
  - relu
  - dropout2d: {p: 0.5}
  - conv2d: {out_channels: 4, kernel_size: 3}
  - gelu
  - silu
  - sigmoid
  - hardswish
  - tanh
  - relu6
  - hardtanh
  - leakyrelu
  - elu
  - prelu
  - hardsigmoid
  - dropout
  - adaptiveavgpool2d: {output_size: 3, name: pooled}
  - adaptivemaxpool2d: {output_size: 3}
  - groupnorm: {num_groups: 2, name: grouped}
"""
    graph, fields, _ = fields_of(spec)
    # 9 x 9 pooled to 3 x 3: bins of 3 at stride 3 over a field of 7 at stride 2: 7 + 2*2 = 11 at stride 6.
    assert fields["pooled"] == field(11, 6, 0)
    # Statistics over the 3 x 3 map: every output reads all of it (a window of 2*(3 - 1) = 4 at padding 2).
    assert fields["grouped"] == field(11 + 4 * 6, 6, 2 * 6)
    # (Softmax is left out: its outputs sum to 1, so with weights alike in every channel its gradient cancels.)
    assert measure_against_torch(graph) > 20


def test_instance_norm_reads_the_whole_map() -> None:
    pytest.importorskip("torch")
    graph, fields, _ = fields_of(
        "input: [2, 8, 9]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1}\n  - instancenorm2d\n"
    )
    assert fields["instancenorm2d_1"] == ReceptiveField((17, 19), (1, 1), (8, 9))
    assert measure_against_torch(graph) > 5


@pytest.mark.parametrize("shape, output_size", [([1, 5], 3), ([1, 10], 4), ([1, 7, 7], 3), ([1, 9, 8], [4, 3])])
def test_adaptive_pools_hold_their_bins(shape: list[int], output_size: Any) -> None:
    pytest.importorskip("torch")
    # Bins [floor(i*L/out), ceil((i+1)*L/out)): the window covers each bin, and the integers inside the
    # window are exactly the bin's.
    for kind in ("adaptiveavgpool", "adaptivemaxpool"):
        spec = f"input: {shape}\nlayers:\n  - {kind}{len(shape) - 1}d: {{output_size: {output_size}}}\n"
        assert measure_against_torch(parse_spec(spec)) > 2


UNET_CROP = """
input: [1, 32, 32]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, name: e1}
  - maxpool2d: {kernel_size: 2}
  - conv2d: {out_channels: 2, kernel_size: 3, name: e2}
  - upsample: {scale_factor: 2, name: up}
  - centercrop: {inputs: [e1, up], name: skip}
  - concat: {inputs: [skip, up], name: joined}
"""


def test_crop_to_a_second_input_reads_only_the_first() -> None:
    pytest.importorskip("torch")
    graph, fields, warnings = fields_of(UNET_CROP)
    # e1 (30 x 30) cropped to up's 26 x 26 starts 2 pixels in; up's field does not enter the crop.
    assert fields["skip"] == field(3, 1, -2)
    # e2's field (8, stride 2, padding 0) through nearest x2: 8 + (1/2)*2 wide, padding (1/2)*2.
    assert fields["up"] == field(9, 1, 1)
    assert fields["joined"] == field(9, 1, 1)
    assert warnings == []  # both centred at j + 3
    assert measure_against_torch(graph, nodes=["e1", "e2", "skip"]) > 5


@SAME_EVEN
def test_misaligned_union_matches_torch() -> None:
    pytest.importorskip("torch")
    assert measure_against_torch(parse_spec(MISALIGNED)) > 10


BRANCHING = """
input: [2, 24, 24]
blocks:
  inception:
    layers:
      - conv2d: {out_channels: 2, kernel_size: 1, name: b1}
      - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, inputs: input, name: b3}
      - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: b3b}
      - avgpool2d: {kernel_size: 3, stride: 1, padding: 1, inputs: input, name: pool}
      - conv2d: {out_channels: 2, kernel_size: 5, padding: 2, dilation: 1, inputs: input, name: b5}
      - concat: {inputs: [b1, b3b, pool, b5]}
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: stem}
  - inception: {name: mix}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: c1}
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, name: c2}
  - add: {inputs: [mix, c2], name: residual}
  - conv2d: {out_channels: 8, kernel_size: 2, padding: same, inputs: stem, name: shifted}
  - add: {inputs: [residual, shifted], name: misaligned}
  - maxpool2d: {kernel_size: 3, stride: 2}
"""


@SAME_EVEN
def test_branching_network_matches_torch() -> None:
    pytest.importorskip("torch")
    graph, fields, warnings = fields_of(BRANCHING)
    assert measure_against_torch(graph) > 20
    assert len(warnings) == 1 and "'misaligned'" in warnings[0]


SPECS = Path(__file__).resolve().parent.parent / "specs"


@pytest.mark.parametrize(
    "spec, size, node, expected",
    [
        # The published figures: ResNet-18's last block sees 435 pixels, MobileNetV2's last conv 491.
        ("resnet18.yaml", 480, "layer4.rest.relu_1", field(435, 32, 217)),
        ("mobilenet_v2.yaml", 520, "conv_last_relu", field(491, 32, 245)),
    ],
)
def test_zoo_networks_match_torch(spec: str, size: int, node: str, expected: ReceptiveField) -> None:
    pytest.importorskip("torch")
    # An input just large enough for whole fields inside it, instead of 224 x 224.
    text = re.sub(r"^input:.*$", f"input: [3, {size}, {size}]", (SPECS / spec).read_text(), flags=re.M)
    graph, fields, warnings = fields_of(text)
    assert fields[node] == expected and warnings == []
    assert measure_against_torch(graph, nodes=[node], edges=False) > 0


# -- property: random chains of convolutions and pools -------------------------------------------------------------


@st.composite
def chains(draw: st.DrawFn) -> tuple[int, list[dict[str, Any]]]:
    dims = draw(st.sampled_from([1, 1, 2]))
    count = draw(st.integers(1, 4 if dims == 1 else 3))

    def per_axis(values: st.SearchStrategy[int]) -> Any:
        items = [draw(values) for _ in range(dims)]
        return items[0] if dims == 1 else items

    layers = []
    for _ in range(count):
        kind = draw(st.sampled_from(["conv", "conv", "avgpool", "maxpool"]))
        kernel = per_axis(st.integers(1, 5))
        kernels = [kernel] if dims == 1 else kernel
        args: dict[str, Any] = {"kernel_size": kernel, "stride": per_axis(st.integers(1, 3))}
        if kind == "conv":
            args |= {"out_channels": draw(st.integers(1, 2)), "padding": per_axis(st.integers(0, 3))}
            args["dilation"] = per_axis(st.integers(1, 3))
        else:
            # PyTorch's pools take padding up to half the kernel.
            pads = [draw(st.integers(0, k // 2)) for k in kernels]
            args |= {"padding": pads[0] if dims == 1 else pads, "ceil_mode": draw(st.booleans())}
            if kind == "maxpool":
                args["dilation"] = per_axis(st.integers(1, 3))
        layers.append({f"{kind}{dims}d": args})
    return dims, layers


def chain_spec(dims: int, layers: list[dict[str, Any]], length: int) -> str:
    return json.dumps({"input": [1] + [length] * dims, "layers": layers})  # JSON is YAML


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_chains_match_torch(chain: tuple[int, list[dict[str, Any]]]) -> None:
    pytest.importorskip("torch")
    dims, layers = chain
    try:
        probe = parse_spec(chain_spec(dims, layers, 400 if dims == 1 else 120))
    except SpecError:
        assume(False)
    out = receptive_fields(probe)[0][probe.output]
    assert out is not None
    # An input just large enough for a few outputs whose field lies wholly inside it.
    length = max(int(r + 2 * p + 2 * s) for r, p, s in zip(out.size, out.padding, out.stride, strict=True))
    assume(length <= (400 if dims == 1 else 120))
    try:
        graph = parse_spec(chain_spec(dims, layers, length))
    except SpecError:
        assume(False)
    assert measure_against_torch(graph) > 0


@st.composite
def chains_with_transposed(draw: st.DrawFn) -> list[dict[str, Any]]:
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv1d", "convtranspose1d", "convtranspose1d", "avgpool1d"]))
        kernel, stride = draw(st.integers(1, 5)), draw(st.integers(1, 3))
        args: dict[str, Any] = {"kernel_size": kernel, "stride": stride}
        if kind == "avgpool1d":
            args["padding"] = draw(st.integers(0, kernel // 2))
        else:
            dilation = draw(st.integers(1, 3))
            args |= {"out_channels": 1, "padding": draw(st.integers(0, 3)), "dilation": dilation}
            if kind == "convtranspose1d":
                args["output_padding"] = draw(st.integers(0, max(stride, dilation) - 1))
        layers.append({kind: args})
    return layers


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains_with_transposed())
def test_random_chains_with_transposed_convs_hold_the_measured_field(layers: list[dict[str, Any]]) -> None:
    pytest.importorskip("torch")
    # Fractional strides: the composed field is a real interval holding the positions each output reads.
    try:
        probe = parse_spec(chain_spec(1, layers, 200))
    except SpecError:
        assume(False)
    out = receptive_fields(probe)[0][probe.output]
    assert out is not None
    length = math.ceil(out.size[0] + 2 * abs(out.padding[0]) + 2 * out.stride[0]) + 2
    assume(length <= 200)
    try:
        graph = parse_spec(chain_spec(1, layers, length))
    except SpecError:
        assume(False)
    assert measure_against_torch(graph, exact=False, nodes=[graph.output]) > 0
