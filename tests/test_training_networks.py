"""Whole networks' training figures against PyTorch: the bytes saved for backward (each memory at the first layer
that saves it, as saved_tensors_hooks sees them by storage) and the backward MACs (FlopCounterMode / 2, its
grouped-convolution weight gradient corrected), per layer and in total, in train mode, float32, for every shipped
spec (at a small input where the natural one is slow) and for random networks of many kinds (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.spec import load_spec, parse_spec
from cnncalc.training import training

torch = pytest.importorskip("torch")
from training_torch import graph_figures  # noqa: E402

SPECS = sorted(Path(__file__).parent.parent.glob("specs/*.yaml"))
SMALL = [(3, 64, 64), (3, 96, 96), (3, 128, 128), (1, 124, 124), (1, 188, 188)]  # tried in order where too large
LARGE = 64 * 64 * 16


def small_graph(path: Path) -> Any:
    graph = load_spec(str(path), batch=2)
    from math import prod

    if prod(graph.input_shape) <= LARGE:
        return graph
    for shape in SMALL:
        if len(shape) != len(graph.input_shape) or shape[0] != graph.input_shape[0]:
            continue
        try:
            return load_spec(str(path), batch=2, input_shape=shape)
        except CnncalcError:
            continue
    raise AssertionError(f"no small input fits {path.name}")


def assert_matches(graph: Any) -> None:
    per_layer, macs, total, total_macs = graph_figures(graph)
    ours = training(graph, 4)
    for node in graph.nodes:
        figures = ours.layers[node.name]
        assert (node.name, figures.saved_bytes) == (node.name, per_layer[node.name])
        assert (node.name, figures.backward_macs) == (node.name, macs[node.name])
    assert (ours.saved_bytes, ours.backward_macs) == (total, total_macs)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_shipped_spec_matches_pytorch(path: Path) -> None:
    assert_matches(small_graph(path))


# Shape-preserving pieces for a 4 x 4 x 4 sample (C x H x W), so any chain of them is valid.
BODY = [
    "conv2d: {out_channels: 4, kernel_size: 3, padding: 1}",
    "conv2d: {out_channels: 4, kernel_size: 3, padding: 1, groups: 4, bias: false}",
    "conv2d: {out_channels: 4, kernel_size: 1, groups: 2, trainable: false}",
    "conv2d: {out_channels: 4, kernel_size: 3, padding: same, padding_mode: reflect}",
    "conv2d: {out_channels: 4, kernel_size: 3, padding: 1, padding_mode: circular}",
    "conv2d: {out_channels: 4, kernel_size: 2, padding: same, padding_mode: replicate, flip: true}",
    "convtranspose2d: {out_channels: 4, kernel_size: 3, padding: 1, groups: 2}",
    "batchnorm2d",
    "batchnorm2d: {trainable: false}",
    "groupnorm: {num_groups: 2}",
    "instancenorm2d: {affine: true, track_running_stats: true}",
    "relu",
    "relu: {inplace: true}",
    "relu6: {inplace: true}",
    "leakyrelu: {negative_slope: 0.25, inplace: true}",
    "hardswish: {inplace: true}",
    "hardsigmoid",
    "elu",
    "gelu: {approximate: tanh}",
    "silu: {inplace: true}",
    "prelu: {num_parameters: 4}",
    "sigmoid",
    "tanh",
    "dropout: {p: 0.25}",
    "dropout2d: {p: 0.5, inplace: true}",
    "layerscale: {init_values: 0.5}",
    "avgpool2d: {kernel_size: 3, stride: 1, padding: 1}",
    "maxpool2d: {kernel_size: 3, stride: 1, padding: 1}",
    "reflectionpad2d: {padding: 1}\n  - conv2d: {out_channels: 4, kernel_size: 3}",
    "zeropad2d: {padding: 1}\n  - maxpool2d: {kernel_size: 3, stride: 1}",
    "upsample: {scale_factor: 2, mode: bilinear}\n  - avgpool2d: {kernel_size: 2}",
    "permute: {dims: [0, 2, 3, 1]}\n  - layernorm: {normalized_shape: 4}\n  - linear: {out_features: 4}\n"
    "  - permute: {dims: [0, 3, 1, 2]}",
    "permute: {dims: [0, 2, 3, 1]}\n  - rmsnorm: {normalized_shape: 4}\n  - permute: {dims: [0, 3, 1, 2]}",
    "transpose: {dim0: 2, dim1: 3}",
    "chunk: {chunks: 2, index: 1}\n  - conv2d: {out_channels: 4, kernel_size: 1}",
    "channelshuffle: {groups: 2}",
    "identity",
]
HEADS = [
    "adaptiveavgpool2d: {output_size: 1}\n  - flatten\n  - linear: {out_features: 3}",
    "adaptivemaxpool2d: {output_size: 2}\n  - flatten\n  - dropout\n  - linear: {out_features: 2}\n"
    "  - softmax: {dim: 1}",
    "conv2d: {out_channels: 2, kernel_size: 2, stride: 2}",
    "flatten: {start_dim: 2}\n  - transpose: {dim0: 1, dim1: 2}\n"
    "  - multiheadattention: {num_heads: 2, batch_first: true}\n  - flatten\n  - linear: {out_features: 2}",
    "flatten: {start_dim: 2, name: tokens}\n  - transpose: {dim0: 1, dim1: 2, name: columns}\n"
    "  - matmul: {inputs: [tokens, columns]}",
]


@st.composite
def networks(draw: Any) -> str:
    body = draw(st.lists(st.sampled_from(BODY), min_size=1, max_size=5))
    # A stem without weights leaves the first layers' input gradient-free: they save nothing.
    stems = ["conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: stem}", "relu: {name: stem}"]
    stem = draw(st.sampled_from(stems))
    lines = ["input: [4, 4, 4]", f"batch: {draw(st.sampled_from([1, 2]))}", "layers:", f"  - {stem}"]
    lines += [f"  - {layer}" for layer in body]
    lines.append("  - identity: {name: body}")
    merge = draw(st.sampled_from(["add", "mul", "concat", None]))
    if merge in ("add", "mul"):
        lines.append(f"  - {merge}: {{inputs: [stem, body]}}")
    elif merge == "concat":
        lines.append("  - concat: {inputs: [stem, body]}")
        lines.append("  - conv2d: {out_channels: 4, kernel_size: 1}")
    lines.append(f"  - {draw(st.sampled_from(HEADS))}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_random_networks_match_pytorch(text: str) -> None:
    assert_matches(parse_spec(text))


# Known gaps, for the next step: contiguity is a flag (cnncalc/layers/base.py, Layer.output_contiguous), not strides.
# - A Flatten of a channel chunk merges axes that are whole after the first: PyTorch makes a view (the Linear after
#   it saves the whole tensor the chunk reads); cnncalc counts a copy of the piece.
# - An element-wise layer keeps a permuted (dense, non-contiguous) input's strides: the Linear after it copies its
#   input to a contiguous matrix and saves the copy; cnncalc takes the activation's output as contiguous.
KNOWN_GAPS = [
    "input: [4, 3, 3]\nbatch: 2\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 1}\n"
    "  - chunk: {chunks: 2, index: 1}\n  - flatten\n  - linear: {out_features: 2}\n",
    "input: [4, 3, 3]\nbatch: 2\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: 1}\n"
    "  - permute: {dims: [0, 2, 3, 1]}\n  - relu\n  - linear: {out_features: 2}\n",
]


@pytest.mark.xfail(strict=True, reason="strides are not tracked yet (see KNOWN_GAPS)")
@pytest.mark.parametrize("text", KNOWN_GAPS, ids=["flatten-of-a-chunk", "activation-keeps-a-permuted-layout"])
def test_known_gap(text: str) -> None:
    assert_matches(parse_spec(text))
