"""The shipped specs (specs/*.yaml) pinned to the ground truth.

Three sources: reference/models.json (PyTorch 2.13 and torchvision's published figures) for the zoo, read from
the file; the lecture's quiz answers for the two one-layer specs; and PyTorch itself, which runs every spec layer
by layer (on the meta device: shapes only, no arithmetic) to check each layer's output shape, state_dict and MACs.
"""

from __future__ import annotations

import json
from functools import reduce
from math import prod
from operator import mul
from pathlib import Path
from typing import Any

import pytest
import yaml

from cnncalc.analyze import analyze
from cnncalc.graph import NETWORK_INPUT, Graph, Node
from cnncalc.receptive import receptive_fields
from cnncalc.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SPEC_FILES = sorted(SPECS.glob("*.yaml"))
# A copy of the team's ../shared/reference/models.json, so the zoo is checked wherever the repository is cloned;
# test_reference_copy_is_current keeps it in step with the shared original where that is present.
REFERENCE_FILE = ROOT / "tests" / "reference" / "models.json"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference" / "models.json"
REFERENCE: dict[str, Any] = json.loads(REFERENCE_FILE.read_text())
# Reference networks the spec language cannot write yet (none since issue 10 added channel split and shuffle,
# permutes, layer scale and stochastic depth): a network added to models.json before its kinds exist waits here.
AWAITING_KINDS: set[str] = set()


@pytest.mark.skipif(not SHARED_REFERENCE.is_file(), reason="no ../shared beside this clone")
def test_reference_copy_is_current() -> None:
    assert json.loads(SHARED_REFERENCE.read_text()) == REFERENCE


# The lecture's quiz answers: "ten 5x5 filters, stride 1, pad 2 over 3x32x32" and "16x64x64 through a 1x1 conv to 32".
QUIZ = {
    "conv_760": {"params": 760, "macs": 768_000, "output_shape": (10, 32, 32)},
    "pointwise": {"params": 544, "macs": 2_097_152, "output_shape": (32, 64, 64)},
}


def load(name: str) -> Graph:
    return load_spec(str(SPECS / f"{name}.yaml"))


def totals(graph: Graph) -> dict[str, Any]:
    """The figures models.json gives, summed straight from the layers' rules."""
    layers = [node.bound() for node in graph.nodes]
    return {
        "params": sum(layer.params() for layer in layers),
        "trainable_params": sum(node.bound().params() for node in graph.nodes if node.trainable),
        "buffers": sum(layer.buffer_count() for layer in layers),
        "macs": sum(layer.macs() for layer in layers),
        "input_shape": graph.input_shape,
        "output_shape": graph.output_shape,
    }


# -- every spec ---------------------------------------------------------------------------------------------------


def test_the_zoo_is_shipped() -> None:
    shipped = {path.stem for path in SPEC_FILES}
    wanted = set(REFERENCE["models"]) - AWAITING_KINDS | set(QUIZ) | {"unet_original"}
    assert wanted <= shipped, f"missing specs: {sorted(wanted - shipped)}"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.stem)
def test_every_spec_loads_and_says_what_it_is(path: Path) -> None:
    graph = load_spec(str(path))
    assert graph.name == path.stem
    description = yaml.safe_load(path.read_text())["description"]
    assert isinstance(description, str) and description.strip() and "\n" not in description.strip()
    assert not unexpected_warnings(graph)  # no unused layers, no disagreeing branches


def unexpected_warnings(graph: Graph) -> list[str]:
    """The analyzer's warnings less its one note on squeeze-and-excitation gates, which must count every gate.

    The gate (C x 1 x 1, through global pooling) is broadcast over the features in a Mul; receptive.py leaves it
    out of the receptive field and says so in one warning. Every Mul of the zoo is such a gate.
    """
    warnings = list(analyze(graph).warnings)
    gates = [node for node in graph.nodes if node.kind == "Mul"]
    if gates:
        note = f"receptive field: {len(gates)} broadcast input(s) of merges left out"
        notes = [warning for warning in warnings if warning.startswith(note)]
        assert len(notes) == 1, warnings
        assert f"into '{gates[0].name}'" in notes[0], notes[0]
        warnings.remove(notes[0])
    return warnings


# -- the reference ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(set(REFERENCE["models"]) - AWAITING_KINDS))
def test_zoo_matches_the_reference(model: str) -> None:
    expected = REFERENCE["models"][model]
    graph = load(model)
    found = totals(graph)
    for key, value in found.items():
        wanted = tuple(expected[key]) if key.endswith("shape") else expected[key]
        assert value == wanted, f"{model} {key}: {value} != reference {wanted}"
    report = analyze(graph).totals
    assert (report.params, report.trainable_params, report.buffers, report.macs, report.output_shape) == (
        found["params"],
        found["trainable_params"],
        found["buffers"],
        found["macs"],
        found["output_shape"],
    )


@pytest.mark.parametrize("model", sorted(QUIZ))
def test_lecture_quiz_layers(model: str) -> None:
    graph = load(model)
    found = totals(graph)
    assert {key: found[key] for key in QUIZ[model]} == QUIZ[model]


def test_unet_original_crops_572_to_388_with_the_padded_unets_weights() -> None:
    graph = load("unet_original")
    assert (graph.input_shape, graph.output_shape) == ((1, 572, 572), (2, 388, 388))  # the paper's Fig. 1
    assert totals(graph)["params"] == REFERENCE["models"]["unet"]["params"]  # padding changes no weight


# -- receptive fields ---------------------------------------------------------------------------------------------

# Which nodes each fact of models.json describes; the resnet50 fact is the output of layer4, read by avgpool.
FACT_NODES = {
    "lenet5 (per layer conv1,pool1,conv2,pool2)": ("lenet5", ["conv1", "pool1", "conv2", "pool2"]),
    "vgg16 conv5_3": ("vgg16", ["conv5_3"]),
    "vgg16 pool5": ("vgg16", ["pool5"]),
    "resnet50 (torchvision, last conv stage)": ("resnet50", ["<avgpool's input>"]),
}


def fact_items() -> list[str]:
    return sorted(key for key in REFERENCE.get("receptive_field_facts", {}) if key != "source")


def test_every_receptive_field_fact_is_checked() -> None:
    assert set(fact_items()) == set(FACT_NODES)


@pytest.mark.parametrize("fact", fact_items())
def test_receptive_field_facts(fact: str) -> None:
    model, names = FACT_NODES[fact]
    graph = load(model)
    names = [graph.node("avgpool").inputs[0] if n == "<avgpool's input>" else n for n in names]
    fields, warnings = receptive_fields(graph)
    expected = REFERENCE["receptive_field_facts"][fact]
    for index, name in enumerate(names):
        field = fields[name]
        assert field is not None, f"{model} {name}: no receptive field"
        for attribute, key in (("size", "size"), ("stride", "effective_stride"), ("padding", "effective_padding")):
            value = expected[key][index] if isinstance(expected[key], list) else expected[key]
            assert getattr(field, attribute) == (value, value), f"{model} {name} {attribute}"
    assert not warnings


# -- PyTorch, layer by layer --------------------------------------------------------------------------------------


def torch_module(torch: Any, node: Node) -> Any:
    """The torch.nn module a node stands for, built from the spec's own (PyTorch-named) arguments."""
    layer = node.bound()
    arguments = dict(node.arguments)
    for arg in node.cls.arguments:
        if arg.inferred:
            arguments[arg.name] = getattr(layer, arg.name)
    return getattr(torch.nn, node.kind)(**arguments).eval()


def center_crop(tensor: Any, size: tuple[int, ...]) -> Any:
    """torchvision's CenterCrop: the window starts at round((L - l) / 2) along each trailing axis."""
    spatial = tensor.shape[-len(size) :]
    starts = [int(round((big - small) / 2)) for big, small in zip(spatial, size, strict=True)]
    index = (...,) + tuple(slice(s, s + small) for s, small in zip(starts, size, strict=True))
    return tensor[index]


def torch_merge(torch: Any, node: Node, values: list[Any]) -> Any:
    """The kinds that have no torch.nn class, done the way the networks' forward() methods do them."""
    kind = node.kind.lower()
    layer = node.bound()
    if kind == "chunk":  # ShuffleNetV2's x.chunk(2, dim=1), one layer per piece
        return values[0].chunk(layer.chunks, dim=layer.dim)[layer.index]
    if kind == "split":
        return torch.split(values[0], layer.split_size_or_sections, dim=layer.dim)[layer.index]
    if kind == "permute":  # torchvision.ops.Permute, ConvNeXt's channels-last round trip
        return values[0].permute(*layer.dims)
    if kind == "transpose":
        return values[0].transpose(layer.dim0, layer.dim1)
    if kind in ("reshape", "view"):
        return values[0].reshape(values[0].shape[0], *layer.shape)
    if kind == "layerscale":  # ConvNeXt's `self.layer_scale * x`, a learned (C, 1, 1) parameter
        (shape,) = layer.weights().values()
        return values[0] * torch.ones(tuple(shape))
    if kind == "stochasticdepth":  # torchvision.ops.StochasticDepth is the identity in eval
        return values[0]
    if kind == "matmul":
        return torch.matmul(values[0], values[1])
    if kind == "add":
        return sum(values[1:], values[0])
    if kind == "mul":  # squeeze-and-excitation's gate times the features, broadcast as in torch
        return reduce(mul, values)
    if kind == "concat":
        return torch.cat(values, dim=node.bound().dim)
    if kind == "centercrop":
        return center_crop(values[0], tuple(values[1].shape[2:]))
    raise AssertionError(f"no torch counterpart for {node.kind} in this test")


def torch_macs(torch: Any, module: Any, inputs: list[Any], output: Any) -> int:
    """design.md's count, read off PyTorch's modules and tensors."""
    if isinstance(module, torch.nn.modules.conv._ConvTransposeNd):
        return inputs[0].numel() * module.out_channels // module.groups * prod(module.kernel_size)
    if isinstance(module, torch.nn.modules.conv._ConvNd):
        return output.numel() * module.in_channels // module.groups * prod(module.kernel_size)
    if isinstance(module, torch.nn.Linear):
        return output.numel() * module.in_features
    return 0


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.stem)
def test_every_layer_agrees_with_pytorch(path: Path) -> None:
    torch = pytest.importorskip("torch")
    graph = load_spec(str(path))
    with torch.device("meta"):  # shapes and state_dicts only: no memory for VGG's weights, no arithmetic
        values = {NETWORK_INPUT: torch.empty((1, *graph.input_shape))}
        for node in graph.nodes:
            layer = node.bound()
            inputs = [values[name] for name in node.inputs]
            if hasattr(torch.nn, node.kind):
                module = torch_module(torch, node)
                output = module(*inputs)
                weights = {name: tuple(p.shape) for name, p in module.named_parameters()}
                buffers = {name: tuple(b.shape) for name, b in module.named_buffers()}
                assert (layer.weights(), layer.buffers()) == (weights, buffers), node.label()
                assert layer.macs() == torch_macs(torch, module, inputs, output), node.label()
            else:
                output = torch_merge(torch, node, inputs)
            assert layer.out_shape == tuple(output.shape[1:]), node.label()
            values[node.name] = output
