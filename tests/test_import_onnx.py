"""ONNX files read as specs (cnncalc.bridges.from_onnx): torch modules exported with torch.onnx.export(dynamo=False)
and ONNX graphs built with onnx.helper, then `cnncalc summary FILE.onnx --format json`.

Oracles: MACs = torch's FlopCounterMode total / 2 on the module that was exported, the output shape is the
module's, params are the file's float initializers (BatchNorm running statistics aside: cnncalc counts those as
buffers, with num_batches_tracked, which ONNX does not keep). Weights get distinct random values first, or the
exporter would merge identical initializers (cnncalc then reports them as shared).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from torchvision_models import torchvision

onnx = pytest.importorskip("onnx")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch: "the legacy TorchScript-based exporter"


# -- helpers ----------------------------------------------------------------------------------------------------


def randomize(module: Any, seed: int = 0) -> None:
    """Distinct values in every float parameter and buffer (BatchNorm variances positive)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if tensor.is_floating_point():
                values = torch.randn(tensor.shape, generator=generator) * 0.1
                tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)


def file_counts(path: Path) -> tuple[int, int]:
    """(params, buffers) the file holds: float initializers; BatchNormalization's mean and variance are buffers,
    plus one num_batches_tracked per BatchNorm, as PyTorch and cnncalc count them."""
    model = onnx.load(str(path))
    statistics = {name for node in model.graph.node if node.op_type == "BatchNormalization" for name in node.input[3:5]}
    batchnorms = sum(node.op_type == "BatchNormalization" for node in model.graph.node)
    params = buffers = 0
    for tensor in model.graph.initializer:
        if tensor.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE) or not tensor.dims:
            continue
        if tensor.name in statistics:
            buffers += math.prod(tensor.dims)
        else:
            params += math.prod(tensor.dims)
    return params, buffers + batchnorms


def summary(path: Path, *extra: str) -> dict[str, Any]:
    result = run_cli("summary", str(path), "--format", "json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def torch_figures(module: Any, x: Any) -> tuple[int, list[int]]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = module(x)
    return counter.get_total_flops(), list(out.shape[1:])


def export(module: Any, shape: tuple[int, ...], path: Path, seed: int = 0, **options: Any) -> tuple[int, list[int]]:
    """Randomize, count FLOPs and export `module` at a batch of one `shape` sample; (FLOPs, output shape)."""
    import torch

    module.eval()
    randomize(module, seed)
    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(seed))
    flops, out = torch_figures(module, x)
    with torch.no_grad():
        torch.onnx.export(module, (x,), str(path), dynamo=False, **options)
    return flops, out


def check_exported(module: Any, shape: tuple[int, ...], path: Path, **options: Any) -> dict[str, Any]:
    """Export, summarize, and compare MACs, output shape, params and buffers; the JSON report."""
    flops, out = export(module, shape, path, **options)
    report = summary(path)
    totals = report["totals"]
    assert totals["output_shape"] == out
    assert 2 * totals["macs"] == flops
    assert (totals["params"], totals["buffers"]) == file_counts(path)
    assert report["input_shape"] == list(shape)
    return report


def kinds(report: dict[str, Any]) -> list[str]:
    return [layer["type"] for layer in report["layers"]]


# -- operators, one small module each ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nn() -> Any:
    return pytest.importorskip("torch").nn


def _modules(nn: Any) -> dict[str, tuple[Any, tuple[int, ...], list[str]]]:
    """name -> (module, sample shape, kinds that must appear)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    class Activations(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(8)  # folded into conv by the exporter
            self.relu6 = nn.ReLU6()
            self.hardtanh = nn.Hardtanh(-2.0, 3.0)
            self.sigmoid = nn.Sigmoid()
            self.hardsigmoid = nn.Hardsigmoid()
            self.hardswish = nn.Hardswish()
            self.silu = nn.SiLU()
            self.gelu = nn.GELU()
            self.leaky = nn.LeakyReLU(0.2)
            self.elu = nn.ELU()
            self.tanh = nn.Tanh()
            self.prelu = nn.PReLU(8)
            self.norm = nn.BatchNorm2d(8)  # after an activation: stays a BatchNormalization node

        def forward(self, x: Any) -> Any:
            x = self.relu6(self.conv(x))
            x = self.hardtanh(x) + self.sigmoid(x)
            x = self.hardsigmoid(x) * self.hardswish(x)
            x = self.silu(x) + self.gelu(x)
            x = self.leaky(x) + self.elu(x) + self.tanh(x)
            return self.norm(self.prelu(x))

    class Pools(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
            self.avgpool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
            self.avgpool2 = nn.AvgPool2d(2, ceil_mode=True)
            self.dilated = nn.Conv2d(3, 6, 3, padding=2, dilation=2, groups=3)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.gmp = nn.AdaptiveMaxPool2d(1)
            self.fc = nn.Linear(12, 5)
            self.dropout = nn.Dropout(0.3)
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x: Any) -> Any:
            x = self.dilated(self.avgpool2(self.avgpool(self.maxpool(x))))
            x = torch.cat([self.gap(x), self.gmp(x)], 1)
            return self.softmax(self.fc(self.dropout(torch.flatten(x, 1))))

    class Merges(nn.Module):
        """Squeeze-and-excitation (Mul of two tensors), chunk, LayerScale, x.mean, view(x.size(0), -1)."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 8, 1)
            self.fc1 = nn.Conv2d(8, 2, 1)
            self.fc2 = nn.Conv2d(2, 8, 1)
            self.layer_scale = nn.Parameter(torch.ones(4, 1, 1))
            self.head = nn.Linear(8, 3)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            scale = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean([2, 3], keepdim=True)))))
            x = x * scale
            a, b = x.chunk(2, dim=1)
            x = torch.cat([self.layer_scale * a, b], dim=1)
            x = x.view(x.size(0), x.size(1), -1).mean(2)
            return self.head(x)

    class Shapes(nn.Module):
        """Tokens: reshape, transpose, permute, LayerNorm, Linear on 3-D (MatMul + Add), q @ k^T, softmax."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Conv2d(3, 16, 4, stride=4)
            self.norm = nn.LayerNorm(16)
            self.qkv = nn.Linear(16, 48)
            self.proj = nn.Linear(16, 16, bias=False)

        def forward(self, x: Any) -> Any:
            x = self.embed(x)
            x = x.reshape(x.shape[0], 16, -1).transpose(1, 2)
            q, k, v = self.qkv(self.norm(x)).split(16, dim=-1)
            attention = torch.softmax(q @ k.transpose(1, 2), dim=-1)
            x = self.proj(attention @ v)
            return x.reshape(x.shape[0], 4, 4, 16).permute(0, 3, 1, 2)

    class PadsResize(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.zero = nn.ZeroPad2d((1, 2, 0, 1))
            self.reflect = nn.ReflectionPad2d(1)
            self.replicate = nn.ReplicationPad2d((2, 0, 1, 1))
            self.constant = nn.ConstantPad2d(1, 0.5)
            self.up = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)

        def forward(self, x: Any) -> Any:
            x = self.constant(self.replicate(self.reflect(self.zero(x))))
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.interpolate(x, size=(20, 18), mode="bilinear", align_corners=False)
            x = F.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=True)
            return self.up(x)

    class OtherRanks(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1d = nn.Conv1d(4, 6, 3, padding=1)
            self.bn1d = nn.BatchNorm1d(6)
            self.conv3d = nn.Conv3d(1, 2, (1, 2, 2))
            self.pool1d = nn.MaxPool1d(2)

        def forward(self, x: Any) -> Any:
            y = self.pool1d(self.bn1d(torch.relu(self.conv1d(x))))  # 4 x 8 -> 6 x 4
            return self.conv3d(y.unsqueeze(1).reshape(y.shape[0], 1, 6, 2, 2))

    return {
        "activations": (Activations(), (3, 16, 16), ["Conv2d", "ReLU6", "Hardtanh", "Sigmoid", "Hardsigmoid",
                        "Hardswish", "SiLU", "GELU", "LeakyReLU", "ELU", "Tanh", "PReLU", "BatchNorm2d"]),
        "pools": (Pools(), (3, 17, 17), ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
                  "Concat", "Flatten", "Linear", "Softmax"]),
        "merges": (Merges(), (4, 6, 6), ["Mul", "Split", "LayerScale", "Reshape", "AdaptiveAvgPool2d"]),
        "shapes": (Shapes(), (3, 16, 16), ["Reshape", "Transpose", "LayerNorm", "Linear", "Split", "MatMul",
                   "Softmax", "Permute"]),
        "pads_resize": (PadsResize(), (3, 6, 7), ["ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d",
                        "ConstantPad2d", "Upsample", "ConvTranspose2d"]),
        "other_ranks": (OtherRanks(), (4, 8), ["Conv1d", "BatchNorm1d", "MaxPool1d", "Reshape", "Conv3d"]),
    }  # fmt: skip


OPERATOR_MODULES = ["activations", "pools", "merges", "shapes", "pads_resize", "other_ranks"]


@pytest.mark.parametrize("name", OPERATOR_MODULES)
def test_operators_match_torch(nn: Any, tmp_path: Path, name: str) -> None:
    module, shape, expected = _modules(nn)[name]
    report = check_exported(module, shape, tmp_path / f"{name}.onnx")
    missing = [kind for kind in expected if kind not in kinds(report)]
    assert not missing, f"{name}: no {missing} among {kinds(report)}"


def test_gelu_from_erf_before_opset_20(nn: Any, tmp_path: Path) -> None:
    """Opset 17 has no Gelu op: torch writes x * 0.5 * (1 + erf(x / sqrt 2)), read back as one GELU."""
    module = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.LayerNorm(8))
    path = tmp_path / "gelu.onnx"
    report = check_exported(module, (5, 6), path, opset_version=17)
    assert {node.op_type for node in onnx.load(str(path)).graph.node} >= {"Erf", "LayerNormalization"}
    assert kinds(report) == ["Linear", "GELU", "LayerNorm"]
    assert [layer["name"] for layer in report["layers"]] == ["0", "1", "2"]


# -- names, scopes, notes ---------------------------------------------------------------------------------------


def _resnet_like(nn: Any) -> Any:
    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = (
                nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                if stride != 1 or cin != cout
                else None
            )

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.layer1 = nn.Sequential(Block(8, 8, 1), Block(8, 8, 1))
            self.layer2 = nn.Sequential(Block(8, 16, 2), Block(16, 16, 1))
            self.fc = nn.Linear(16, 4)

        def forward(self, x: Any) -> Any:
            x = self.layer2(self.layer1(self.stem(x)))
            return self.fc(x.mean([2, 3]))

    return Net()


def test_names_scopes_and_folded_batchnorms(nn: Any, tmp_path: Path) -> None:
    from cnncalc.bridges.from_onnx import read_onnx

    path = tmp_path / "resnet_like.onnx"
    report = check_exported(_resnet_like(nn), (3, 8, 8), path)
    names = [layer["name"] for layer in report["layers"]]
    assert names[:8] == [
        "stem", "layer1.0.conv1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.add", "layer1.0.relu_1",
        "layer1.1.conv1", "layer1.1.relu",
    ]  # fmt: skip
    assert "layer2.0.downsample.0" in names and names[-3:] == ["mean", "flatten", "fc"]
    network = read_onnx(str(path))
    by_name = {layer.name: layer for layer in network.layers}
    scopes = by_name["layer2.0.downsample.0"].scopes
    assert [scope.path for scope in scopes] == ["layer2", "layer2.0", "layer2.0.downsample"]
    classes = {scope.path: scope.cls for layer in network.layers for scope in layer.scopes}
    assert classes["layer1.0"] == classes["layer1.1"] == classes["layer2.1"] == "Layer1_0"
    assert classes["layer2.0"] == "Layer2_0" and classes["layer1"] != classes["layer2"]
    assert by_name["layer1.0.conv1"].scopes == tuple(by_name["layer1.0.add"].scopes)
    folded = [note for note in network.notes if "folded" in note]
    assert len(folded) == 1 and folded[0].startswith("9 BatchNorms folded into convolutions")
    result = run_cli("summary", str(path))
    assert "note: " in result.err and "9 BatchNorms folded" in result.err


def test_shared_initializer_is_reported_and_counted_per_use(nn: Any, tmp_path: Path) -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return self.conv(torch_relu(self.conv(x)))

    import torch

    torch_relu = torch.relu
    path = tmp_path / "twice.onnx"
    flops, out = export(Twice(), (4, 5, 5), path)
    report = summary(path)
    params, _ = file_counts(path)
    assert [layer["name"] for layer in report["layers"]] == ["conv", "relu", "conv_1"]
    assert 2 * report["totals"]["macs"] == flops and report["totals"]["output_shape"] == out
    assert report["totals"]["params"] == 2 * params  # cnncalc counts the shared weight per use
    result = run_cli("summary", str(path))
    assert "initializer conv.weight (144 values) is shared by 2 layers (conv, conv_1)" in result.err


# -- graphs written by hand: what torch does not export ---------------------------------------------------------


def _graph_file(tmp_path: Path, nodes: list[Any], shape: list[Any], initializers: list[Any], opset: int = 17) -> Path:
    helper = onnx.helper
    graph = helper.make_graph(
        nodes,
        "hand",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(nodes[-1].output[0], onnx.TensorProto.FLOAT, None)],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "hand.onnx"
    onnx.save(model, str(path))
    return path


def _weight(name: str, dims: list[int]) -> Any:
    return onnx.helper.make_tensor(name, onnx.TensorProto.FLOAT, dims, [0.5] * math.prod(dims))


def _reference_shape(path: Path, shape: tuple[int, ...]) -> list[int]:
    import numpy as np
    from onnx.reference import ReferenceEvaluator

    (out,) = ReferenceEvaluator(str(path)).run(None, {"x": np.ones(shape, dtype=np.float32)})
    return list(out.shape[1:])


@pytest.mark.parametrize(
    ("attributes", "pad_kind"),
    [({"pads": [0, 1, 2, 1]}, "ZeroPad2d"), ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, "ZeroPad2d"),
     ({"auto_pad": "SAME_LOWER"}, None), ({"auto_pad": "VALID"}, None)],
)  # fmt: skip
def test_conv_pads_uneven_and_auto(tmp_path: Path, attributes: dict[str, Any], pad_kind: str | None) -> None:
    node = onnx.helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], **attributes)
    path = _graph_file(tmp_path, [node], [1, 2, 7, 8], [_weight("w", [4, 2, 3, 3])])
    report = summary(path)
    out = _reference_shape(path, (1, 2, 7, 8))
    assert report["totals"]["output_shape"] == out
    assert report["totals"]["macs"] == math.prod(out) * 2 * 9
    assert kinds(report) == ([pad_kind] if pad_kind else []) + ["Conv2d"]


def test_clip_before_opset_11_and_reshape_of_a_shape_chain(tmp_path: Path) -> None:
    helper = onnx.helper
    nodes = [
        helper.make_node("Clip", ["x"], ["c"], name="clip", min=0.0, max=6.0),
        helper.make_node("Shape", ["c"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], name="unsqueeze", axes=[0]),
        helper.make_node("Concat", ["n1", "minus"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["c", "target"], ["y"], name="reshape"),
    ]
    constants = [
        helper.make_tensor("zero", onnx.TensorProto.INT64, [], [0]),
        helper.make_tensor("minus", onnx.TensorProto.INT64, [1], [-1]),
    ]
    path = _graph_file(tmp_path, nodes, ["batch", 3, 4, 4], constants, opset=10)
    report = summary(path)
    assert kinds(report) == ["ReLU6", "Reshape"] and report["totals"]["output_shape"] == [48]
    assert [layer["name"] for layer in report["layers"]] == ["clip", "reshape"]


def test_the_first_graph_output_is_the_spec_output(tmp_path: Path) -> None:
    """A second output computed after the first (an auxiliary head) stays a branch; the spec ends at the first."""
    helper = onnx.helper
    nodes = [
        helper.make_node("Relu", ["x"], ["main"], name="head"),
        helper.make_node("MaxPool", ["x"], ["aux"], name="aux_pool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes,
        "two",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in ("main", "aux")],
    )
    path = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    result = run_cli("summary", str(path), "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["totals"]["output_shape"] == [3, 4, 4] and report["layers"][-1]["name"] == "head"
    assert "the graph has 2 outputs; the spec's output is the first, main (the layers computing aux" in result.err


def test_unsupported_operations_listed_once_each(tmp_path: Path) -> None:
    helper = onnx.helper
    nodes = [
        helper.make_node("Sin", ["x"], ["a"], name="first_sin"),
        helper.make_node("Cos", ["a"], ["b"], name="a_cos"),
        helper.make_node("Sin", ["b"], ["c"], name="second_sin"),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
    ]
    path = _graph_file(tmp_path, nodes, [1, 3, 4, 4], [])
    result = run_cli("summary", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert "uses 2 operations cnncalc cannot express" in result.err
    assert "Sin: first_sin, second_sin" in result.err and "Cos: a_cos" in result.err
    assert result.err.count("Sin") == 1


# -- files: external data, batch axes, bad files ----------------------------------------------------------------


def test_weights_in_a_side_file(nn: Any, tmp_path: Path) -> None:
    inside = tmp_path / "inside.onnx"
    expected = check_exported(_resnet_like(nn), (3, 8, 8), inside)["totals"]
    model = onnx.load(str(inside))
    outside = tmp_path / "outside.onnx"
    onnx.save_model(model, str(outside), save_as_external_data=True, location="outside.data", size_threshold=0)
    assert (tmp_path / "outside.data").stat().st_size > 0
    assert summary(outside)["totals"] == {**expected}
    (tmp_path / "outside.data").unlink()
    result = run_cli("summary", str(outside))
    assert result.code == 2 and "side file outside.data, which is not next to it" in result.err


def test_symbolic_batch_and_symbolic_size(nn: Any, tmp_path: Path) -> None:
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    path = tmp_path / "batch.onnx"
    options = {"input_names": ["x"], "dynamic_axes": {"x": {0: "batch"}}}
    check_exported(module, (3, 8, 8), path, **options)
    assert summary(path, "--batch", "4")["batch"] == 4
    sized = tmp_path / "sized.onnx"
    export(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 8, 8), sized, input_names=["x"], dynamic_axes={"x": {2: "h"}})
    result = run_cli("summary", str(sized))
    assert result.code == 2 and "axis 2 has no fixed size (h)" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("content", [b"", b"not an onnx model \x00\xff\xfe garbage", b"input: [3, 8, 8]\nlayers: []\n"])
def test_not_an_onnx_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    result = run_cli("summary", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert "is not an ONNX model" in result.err


def test_missing_file(tmp_path: Path) -> None:
    result = run_cli("summary", str(tmp_path / "absent.onnx"))
    assert result.code == 2 and "no such file" in result.err


def test_every_command_reads_onnx(nn: Any, tmp_path: Path) -> None:
    path = tmp_path / "small.onnx"
    check_exported(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), (3, 8, 8), path)
    for command in (["explain", str(path)], ["check", str(path)], ["lint", str(path)], ["graph", str(path)],
                    ["diff", str(path), str(path)]):  # fmt: skip
        result = run_cli(*command)
        assert result.code in (0, 1) and "Traceback" not in result.err, (command, result.err)
        assert result.out, command


def test_without_onnx_one_line_naming_the_extra(tmp_path: Path) -> None:
    path = tmp_path / "any.onnx"
    path.write_bytes(b"whatever")
    code = (
        "import sys; sys.modules['onnx'] = None; sys.argv = ['cnncalc', 'summary', sys.argv[1]]; "
        "from cnncalc.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: this needs onnx, which is not installed: pip install 'cnncalc[onnx]'"


def test_cli_imports_neither_onnx_nor_torch() -> None:
    code = "import sys, cnncalc.cli; print(sorted(m for m in ('onnx', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


# -- torchvision's classification models ------------------------------------------------------------------------

# At their natural input size (inception_v3: 299, the others 224): every CNN family of torchvision, one or two
# small members each. The bigger members differ from these in widths and depths only, and their export costs up
# to a minute each (regnet_y_128gf, efficientnet_v2_l): all 72 CNNs were checked the same way once, with the result
# in docs/bridges.md ("ONNX files"), not on every CI run.
TORCHVISION_NATURAL = [
    "alexnet", "vgg11_bn", "resnet18", "resnext50_32x4d", "densenet121", "squeezenet1_1", "googlenet",
    "inception_v3", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "shufflenet_v2_x0_5", "efficientnet_b0",
    "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny",
]  # fmt: skip
# Transformers: not CNNs, left out of the aim; what stops them, checked to stay so (strict). The Swin models stop
# on shifted-window reshapes across the batch axis (docs); their export costs too much to repeat here.
TORCHVISION_UNSUPPORTED = {
    "vit_b_32": "torch.onnx.export(dynamo=False) cannot export it: aten::_native_multi_head_attention",
    "maxvit_t": "attention: Einsum, a multiply by a constant scale, relative position bias (an Add of a constant)",
}


def _torchvision_case(name: str, tmp_path: Path) -> None:
    models = torchvision().models
    model = models.get_model(name, weights=None)
    size = 299 if name == "inception_v3" else 224
    check_exported(model, (3, size, size), tmp_path / f"{name}.onnx")


@pytest.mark.parametrize("name", TORCHVISION_NATURAL)
def test_torchvision_model(name: str, tmp_path: Path) -> None:
    _torchvision_case(name, tmp_path)


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=why)) for name, why in
             TORCHVISION_UNSUPPORTED.items()]
)  # fmt: skip
def test_torchvision_transformers_do_not_import(name: str, tmp_path: Path) -> None:
    _torchvision_case(name, tmp_path)
