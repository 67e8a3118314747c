"""Layer and block names: PyTorch's module paths (torchvision's `layer2.0.conv1`, `features.0`), letters of any
script, block names wherever layer names go, duplicates reported at the second name, and argument errors at the
argument's name."""

from __future__ import annotations

import json
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from cnncalc.analyze import analyze
from cnncalc.errors import SpecError, UsageError
from cnncalc.names import is_block_name, is_layer_name
from cnncalc.spec import load_spec, parse_spec


def spec_of(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def error_of(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(spec_of(text), "test.yaml")
    return caught.value.render()


def write(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(spec_of(text), encoding="utf-8")
    return str(path)


# -- the rule ----------------------------------------------------------------------------------------------------

NAMES = [
    "conv1", "ok-name", "_x", "layer2.0.conv1", "features.0", "classifier.1", "0", "0.1", "layer1.00", "Schicht_ä",
    "слой.0", "层1", "x.y-z", "𝔞",
]  # fmt: skip
NOT_NAMES = ["", "1abc", "a..b", "a.", ".a", "-a", "a.-b", "a.1b", "a b", "a/b", "a:b", "€", "a€", "٣", 3, True]


@pytest.mark.parametrize("name", NAMES)
def test_names_pytorch_writes_are_layer_names(name: str) -> None:
    assert is_layer_name(name)
    graph = parse_spec(
        spec_of(f"""
        input: [3, 8, 8]
        layers:
          - conv2d: {{name: '{name}', out_channels: 4, kernel_size: 3}}
          - identity: {{inputs: ['{name}']}}
        """)
    )
    assert [n.name for n in graph.nodes] == [name, "identity_1"]
    assert graph.nodes[1].inputs == [name]


@pytest.mark.parametrize("name", NOT_NAMES)
def test_other_text_is_refused_with_the_rule(name: Any) -> None:
    assert not is_layer_name(name)
    written = json.dumps(name)  # a YAML flow scalar of the same value
    message = error_of(f"""
        input: [3, 8, 8]
        layers:
          - relu: {{name: {written}}}
        """)
    assert message.startswith("test.yaml:3:18: error: name:"), message
    assert "is not a valid layer name" in message and "whole numbers (torchvision's layer2.0.conv1" in message


def test_names_are_text() -> None:
    assert not is_layer_name(None) and not is_layer_name("$x") and not is_layer_name(["a"])


def test_a_number_as_a_name_is_told_to_quote_it() -> None:
    message = error_of("""
        input: [3, 8, 8]
        layers:
          - relu: {name: 0}
        """)
    assert "name: 0 is not a valid layer name (write name: '0': quoted, a number is text)" in message


def test_input_stays_reserved() -> None:
    assert "'input' is reserved" in error_of("input: [3, 8, 8]\nlayers:\n  - relu: {name: input}\n")


def test_block_names_are_one_word_in_any_script() -> None:
    assert is_block_name("Stufe_ä") and is_block_name("my-block")
    assert not is_block_name("layer1.0") and not is_block_name("0") and not is_block_name("1block")
    graph = parse_spec(
        spec_of("""
        input: [3, 8, 8]
        blocks:
          Stufe_ä:
            layers: [relu]
        layers:
          - Stufe_ä: {name: stufe}
        """)
    )
    assert [n.name for n in graph.nodes] == ["stufe.relu_1"]
    message = error_of("""
        input: [3, 8, 8]
        blocks:
          a.b:
            layers: [relu]
        layers: [relu]
        """)
    assert message.startswith("test.yaml:3:3") and "a block name is one word" in message


def test_names_are_compared_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    graph = parse_spec(
        spec_of(f"""
        input: [3, 8, 8]
        layers:
          - relu: {{name: {decomposed}}}
          - identity: {{inputs: [café]}}
        """)
    )
    assert graph.nodes[0].name == "café" and graph.nodes[1].inputs == ["café"]
    assert graph.select(decomposed) == [graph.nodes[0]]


# -- torchvision's names and state_dict keys -----------------------------------------------------------------------

# torchvision's ResNet (BasicBlock) naming, written flat: every module named as torchvision names it; the adds and
# the second ReLU of each block (one module applied twice in torchvision) get names of their own.
FLAT_RESNET = """
input: [3, 32, 32]
layers:
  - conv2d: {name: conv1, out_channels: 8, kernel_size: 7, stride: 2, padding: 3, bias: false}
  - batchnorm2d: {name: bn1}
  - relu: {name: relu}
  - maxpool2d: {name: maxpool, kernel_size: 3, stride: 2, padding: 1}
  - conv2d: {name: layer1.0.conv1, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
  - batchnorm2d: {name: layer1.0.bn1}
  - relu: {name: layer1.0.relu}
  - conv2d: {name: layer1.0.conv2, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
  - batchnorm2d: {name: layer1.0.bn2}
  - add: {name: layer1.0.add, inputs: [layer1.0.bn2, maxpool]}
  - relu: {name: layer1.0.out}
  - conv2d: {name: layer2.0.conv1, out_channels: 16, kernel_size: 3, stride: 2, padding: 1, bias: false}
  - batchnorm2d: {name: layer2.0.bn1}
  - relu: {name: layer2.0.relu}
  - conv2d: {name: layer2.0.conv2, out_channels: 16, kernel_size: 3, padding: 1, bias: false}
  - batchnorm2d: {name: layer2.0.bn2}
  - conv2d: {name: layer2.0.downsample.0, out_channels: 16, kernel_size: 1, stride: 2, bias: false,
             inputs: [layer1.0.out]}
  - batchnorm2d: {name: layer2.0.downsample.1}
  - add: {name: layer2.0.add, inputs: [layer2.0.bn2, layer2.0.downsample.1]}
  - relu: {name: layer2.0.out}
  - adaptiveavgpool2d: {name: avgpool, output_size: 1}
  - flatten
  - linear: {name: fc, out_features: 10}
"""

# The same network with blocks: the block uses make the same names.
BLOCK_RESNET = """
input: [3, 32, 32]
blocks:
  basic:
    params: {out: null}
    layers:
      - conv2d: {name: conv1, out_channels: $out, kernel_size: 3, padding: 1, bias: false}
      - batchnorm2d: {name: bn1}
      - relu: {name: relu}
      - conv2d: {name: conv2, out_channels: $out, kernel_size: 3, padding: 1, bias: false}
      - batchnorm2d: {name: bn2}
      - add: {name: add, inputs: [bn2, input]}
      - relu: {name: out}
  down:
    params: {out: null}
    layers:
      - conv2d: {name: conv1, out_channels: $out, kernel_size: 3, stride: 2, padding: 1, bias: false}
      - batchnorm2d: {name: bn1}
      - relu: {name: relu}
      - conv2d: {name: conv2, out_channels: $out, kernel_size: 3, padding: 1, bias: false}
      - batchnorm2d: {name: bn2}
      - conv2d: {name: downsample.0, out_channels: $out, kernel_size: 1, stride: 2, bias: false, inputs: [input]}
      - batchnorm2d: {name: downsample.1}
      - add: {name: add, inputs: [bn2, downsample.1]}
      - relu: {name: out}
layers:
  - conv2d: {name: conv1, out_channels: 8, kernel_size: 7, stride: 2, padding: 3, bias: false}
  - batchnorm2d: {name: bn1}
  - relu: {name: relu}
  - maxpool2d: {name: maxpool, kernel_size: 3, stride: 2, padding: 1}
  - basic: {out: 8, name: layer1, repeat: 1}
  - down: {out: 16, name: layer2.0}
  - adaptiveavgpool2d: {name: avgpool, output_size: 1}
  - flatten
  - linear: {name: fc, out_features: 10}
"""


def state_dict_shapes(text: str) -> dict[str, tuple[int, ...]]:
    """cnncalc's state_dict: every layer's weights and buffers as layer name + '.' + entry name."""
    graph = parse_spec(text)
    shapes = {}
    for node in graph.nodes:
        layer = node.bound()
        for entry, shape in {**layer.weights(), **layer.buffers()}.items():
            shapes[f"{node.name}.{entry}"] = tuple(shape)
    return shapes


def torchvision_style_resnet() -> Any:
    """torchvision's ResNet naming, built from torch.nn modules (torchvision itself is not needed)."""
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(8)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = nn.Sequential(BasicBlock(8, 8, 1))
            self.layer2 = nn.Sequential(BasicBlock(8, 16, 2))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 10)

        def forward(self, x: Any) -> Any:
            x = self.layer2(self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x))))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet()


def test_torchvision_names_give_torchvision_state_dict_keys() -> None:
    torch = pytest.importorskip("torch")
    model = torchvision_style_resnet()
    theirs = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert "layer2.0.downsample.0.weight" in theirs  # the names this test is about
    assert state_dict_shapes(FLAT_RESNET) == theirs
    assert state_dict_shapes(BLOCK_RESNET) == theirs  # block uses make the same names
    graph = parse_spec(FLAT_RESNET)
    assert tuple(model(torch.zeros(1, 3, 32, 32)).shape[1:]) == graph.output_shape
    assert analyze(graph).totals.params == sum(p.numel() for p in model.parameters())


def test_sequential_names_features_and_classifier() -> None:
    pytest.importorskip("torch")
    from torch import nn

    class VGGish(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Linear(16, 10))

    text = spec_of("""
        input: [3, 8, 8]
        layers:
          - conv2d: {name: features.0, out_channels: 8, kernel_size: 3, padding: 1}
          - relu: {name: features.1}
          - maxpool2d: {name: features.2, kernel_size: 2}
          - flatten
          - dropout: {name: classifier.0}
          - linear: {name: classifier.1, out_features: 16}
          - relu: {name: classifier.2}
          - linear: {name: classifier.3, out_features: 10}
        """)
    theirs = {key: tuple(value.shape) for key, value in VGGish().state_dict().items()}
    assert state_dict_shapes(text) == theirs


# -- block names and dotted names together ----------------------------------------------------------------------

UNIT = """
input: [3, 8, 8]
blocks:
  unit:
    layers:
      - conv2d: {name: conv1, out_channels: 3, kernel_size: 3, padding: 1}
      - relu
layers:
"""


def test_block_uses_and_repeats_stand_for_their_last_layer_in_inputs() -> None:
    graph = parse_spec(
        spec_of(UNIT)
        + spec_of("""
        - unit: {name: layer1, repeat: 2}
        - identity: {name: a, inputs: [layer1]}
        - identity: {name: b, inputs: [layer1.0]}
        - identity: {name: c, inputs: [layer1.1.conv1]}
        """)
    )
    inputs = {n.name: n.inputs for n in graph.nodes}
    assert inputs["a"] == ["layer1.1.relu_1"]
    assert inputs["b"] == ["layer1.0.relu_1"]
    assert inputs["c"] == ["layer1.1.conv1"]
    assert graph.groups["layer1"].output == "layer1.1.relu_1"
    assert [n.name for n in graph.select("layer1.0")] == ["layer1.0.conv1", "layer1.0.relu_1"]
    assert len(graph.select("layer1")) == 4


def test_repeat_one_names_its_copy_like_torchvision() -> None:
    graph = parse_spec(spec_of(UNIT) + "  - unit: {name: layer4, repeat: 1}\n  - relu: {name: c, repeat: 1}\n")
    assert [n.name for n in graph.nodes] == ["layer4.0.conv1", "layer4.0.relu_1", "c.0"]
    assert graph.groups["layer4"].output == graph.groups["layer4.0"].output == "layer4.0.relu_1"


def test_freezing_a_block_use_freezes_its_layers_not_a_flat_layer_under_its_name() -> None:
    graph = parse_spec(
        spec_of(UNIT)
        + spec_of("""
        - conv2d: {name: layer1.head, out_channels: 3, kernel_size: 1}
        - unit: {name: layer1, trainable: false, ignore: bias-before-norm}
        """)
    )
    frozen = {n.name: (n.trainable, bool(n.ignore)) for n in graph.nodes}
    assert frozen == {"layer1.head": (True, False), "layer1.conv1": (False, True), "layer1.relu_1": (False, True)}


def test_an_unknown_input_gets_the_closest_block_name() -> None:
    message = error_of(UNIT + "  - unit: {name: layer1, repeat: 2}\n  - identity: {inputs: [layr1.1]}\n")
    assert message.startswith("test.yaml:9:25") and "did you mean 'layer1.1'?" in message
    message = error_of(UNIT + "  - relu: {name: act}\n  - identity: {inputs: [act.output.x]}\n")
    assert "'act' is a layer, not a block use: nothing is inside it" in message


DUPLICATES = [
    # (layers, where, the message)
    (
        "  - conv2d: {name: layer1.0.conv1, out_channels: 3, kernel_size: 1}\n  - unit: {name: layer1, repeat: 2}\n",
        "test.yaml:9:18",
        "duplicate layer name 'layer1.0.conv1': a layer at line 8 has this name",
    ),
    (
        "  - unit: {name: layer1, repeat: 2}\n  - conv2d: {name: layer1.0.conv1, out_channels: 3, kernel_size: 1}\n",
        "test.yaml:9:20",
        "duplicate layer name 'layer1.0.conv1': block 'unit' used at line 8 made a layer of this name",
    ),
    (
        "  - relu: {name: layer1.0}\n  - unit: {name: layer1, repeat: 2}\n",
        "test.yaml:9:18",
        "duplicate block use name 'layer1.0': a layer at line 8 has this name",
    ),
    (
        "  - relu: {name: a, repeat: 2}\n  - relu: {name: a.1}\n",
        "test.yaml:9:18",
        "duplicate layer name 'a.1': a layer at line 8 has this name",
    ),
]


@pytest.mark.parametrize("layers, where, needle", DUPLICATES)
def test_a_duplicate_name_is_reported_at_the_second(layers: str, where: str, needle: str) -> None:
    message = error_of(UNIT + layers)
    assert message.startswith(where + ": error: " + needle), message


def test_a_duplicate_inside_a_block_is_reported_in_the_block() -> None:
    message = error_of("""
        input: [3, 8, 8]
        blocks:
          unit:
            layers:
              - relu: {name: act}
              - relu: {name: act}
        layers:
          - unit: {name: u}
        """)
    assert message.startswith("test.yaml:6:22: error: duplicate layer name 'u.act': a layer at line 5"), message
    assert "note: expanded from block 'unit' used at line 8" in message


# -- argument errors point at the argument's name ----------------------------------------------------------------


def test_an_unknown_argument_is_reported_at_its_name_a_wrong_value_at_the_value(tmp_path: Path) -> None:
    flow = write(tmp_path, "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernal_size: 3}\n", "flow.yaml")
    result = run_cli("summary", flow)
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.startswith(f"{flow}:3:31: error: layer 'conv2d_1' (#1, Conv2d): Conv2d has no argument")
    assert "did you mean 'kernel_size'?" in result.err
    block = write(
        tmp_path, "input: [3, 8, 8]\nlayers:\n  - conv2d:\n      out_channels: 4\n      kernal_size: 3\n", "block.yaml"
    )
    assert run_cli("summary", block).err.startswith(f"{block}:5:7: error:")
    wrong = write(tmp_path, "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_size: five}\n", "v.yaml")
    assert run_cli("summary", wrong).err.startswith(f"{wrong}:3:44: error: layer 'conv2d_1' (#1, Conv2d): kernel_size:")


def test_unknown_names_inside_blocks_and_weights_are_at_their_names() -> None:
    inside = error_of("""
        input: [3, 8, 8]
        blocks:
          unit:
            params: {k: 3}
            layers:
              - conv2d: {out_channels: 4, kernal_size: $k}
        layers:
          - unit: {k: 5}
        """)
    assert inside.startswith("test.yaml:6:35") and "expanded from block 'unit' used at line 8" in inside
    parameter = error_of("input: [3, 8, 8]\nblocks:\n  unit:\n    params: {k: 3}\n    layers: [relu]\n"
                         "layers:\n  - unit: {kk: 3}\n")  # fmt: skip
    assert parameter.startswith("test.yaml:7:12") and "block 'unit' has no parameter 'kk'" in parameter
    from cnncalc.execute import weights_for

    graph = parse_spec("input: [1, 3, 3]\nlayers:\n  - conv2d:\n      out_channels: 1\n      kernel_size: 1\n"
                       "      weights: {weight: [[[[1]]]], biass: [0]}\n", "test.yaml")  # fmt: skip
    with pytest.raises(SpecError) as caught:
        weights_for(graph, 0)
    assert caught.value.render().startswith("test.yaml:6:36") and "'biass'" in caught.value.render()


# -- the commands -----------------------------------------------------------------------------------------------


def test_cli_takes_torchvision_and_unicode_names(tmp_path: Path) -> None:
    """The mutation campaign's cases: torchvision's names and non-ASCII letters were refused."""
    flat = write(tmp_path, FLAT_RESNET, "flat.yaml")
    result = run_cli("summary", flat, "--format", "json")
    assert result.code == 0, result.err
    layers = {layer["name"]: layer for layer in json.loads(result.out)["layers"]}
    assert layers["layer2.0.add"]["inputs"] == ["layer2.0.bn2", "layer2.0.downsample.1"]
    unicode = write(
        tmp_path,
        """
        input: [3, 8, 8]
        layers:
          - conv2d: {name: Schicht_ä, out_channels: 4, kernel_size: 3}
          - relu: {name: слой.0}
          - identity: {name: 层1, inputs: [Schicht_ä]}
        """,
    )
    result = run_cli("summary", unicode, "--format", "json")
    assert result.code == 0, result.err
    assert [layer["name"] for layer in json.loads(result.out)["layers"]] == ["Schicht_ä", "слой.0", "层1"]
    for command in ("explain", "graph", "lint"):
        done = run_cli(command, flat)
        assert done.code == 0 and "Traceback" not in done.err, (command, done.err)


def test_cli_explain_a_block_use_explains_its_layers() -> None:
    """The mutation campaign's case: `explain --layer BLOCKNAME` failed."""
    graph = load_spec("specs/resnet18.yaml")
    block = [n.name for n in graph.select("layer2.first")]
    assert len(block) > 5 and all(name.startswith("layer2.first.") for name in block)
    result = run_cli("explain", "specs/resnet18.yaml", "--layer", "layer2.first", "--format", "json")
    assert result.code == 0, result.err
    assert [layer["name"] for layer in json.loads(result.out)["layers"]] == block
    text = run_cli("explain", "specs/resnet18.yaml", "--layer", "layer2", "--layer", "conv1")
    headers = [line.split(":")[0] for line in text.out.splitlines() if line and not line.startswith(" ")]
    assert headers[0] == "conv1" and len(headers) == 1 + len(graph.select("layer2"))
    wrong = run_cli("explain", "specs/resnet18.yaml", "--layer", "layer2.frist")
    assert wrong.code == 2 and "no layer or block named 'layer2.frist'" in wrong.err
    assert "did you mean 'layer2.first'?" in wrong.err
    assert "block use" in run_cli("explain", "--help").out


def test_select_refuses_an_unknown_name_with_a_usage_error() -> None:
    graph = load_spec("specs/resnet18.yaml")
    with pytest.raises(UsageError, match="did you mean 'layer3'"):
        graph.select("layer33")


def test_cli_fuse_keeps_block_names_and_the_fused_spec_agrees(tmp_path: Path) -> None:
    source = write(tmp_path, BLOCK_RESNET, "blocks.yaml")
    out = tmp_path / "fused.yaml"
    result = run_cli("fuse", source, "-o", str(out), "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["renamed"] == {}
    assert {p["fused"] for p in report["folded"]} >= {"conv1", "layer1.0.conv1", "layer2.0.downsample.0"}
    fused = load_spec(str(out))
    original = load_spec(source)
    kept = [n.name for n in original.nodes if n.kind != "BatchNorm2d"]
    assert [n.name for n in fused.nodes] == kept
    totals = analyze(fused).totals
    assert {k: getattr(totals, k) for k in ("params", "buffers", "macs", "flops")} == report["after"]
