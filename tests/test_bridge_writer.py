"""The spec writer's block folding (cnncalc.bridges.writer), without torch: ImportedNetworks are built from real
cnncalc specs (every shipped spec: its layers, and its block uses and repeats as the module tree), written folded,
loaded again, and compared layer by layer with the original graph and with the flat writing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.args import REQUIRED, _parsed_default
from cnncalc.bridges.network import ImportedLayer, ImportedNetwork, Scope
from cnncalc.bridges.writer import folding_problem, write_folded, write_spec
from cnncalc.graph import Graph
from cnncalc.spec import load_spec, parse_spec

SPECS = sorted(Path(__file__).resolve().parent.parent.glob("specs/*.yaml"))


def plain(value: Any) -> Any:
    """A parsed argument as an importer gives it: lists for tuples."""
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return value


def imported_arguments(node: Any) -> dict[str, Any]:
    """The layer's parsed arguments, defaults and inferred sizes left out (what an importer writes)."""
    layer = node.bound()
    found = {}
    for arg in layer.arguments:
        value = getattr(layer, arg.name)
        if arg.inferred or (arg.default is not REQUIRED and value == _parsed_default(arg, layer.dims)):
            continue
        found[arg.name] = plain(value)
    return found


def scopes_of(graph: Graph) -> dict[int, list[Scope]]:
    """Per file position, the block uses and repeats around it, outermost first: a repeat is a Sequential."""
    names = {node.name for node in graph.nodes}
    scopes: dict[int, list[Scope]] = {}
    for path, group in graph.groups.items():
        child = graph.groups.get(path + ".0")
        repeat = (child is not None and child.block == group.block) or (
            path + ".0" in names and graph.node(path + ".0").kind == group.block
        )
        scope = Scope(path, "Sequential" if repeat else group.block)
        for position in range(group.first, group.last + 1):
            scopes.setdefault(position, []).append(scope)
    return {position: sorted(found, key=lambda s: len(s.path)) for position, found in scopes.items()}


def network_of(graph: Graph) -> ImportedNetwork:
    scopes = scopes_of(graph)
    layers = [
        ImportedLayer(
            node.name, node.kind, imported_arguments(node), list(node.inputs), tuple(scopes.get(node.position, ()))
        )
        for node in graph.nodes
    ]
    return ImportedNetwork(graph.name, graph.file, tuple(graph.input_shape), layers, graph.output)


def figures(graph: Graph) -> list[tuple]:
    """Everything a layer is counted by: name, kind, arguments as parsed, inputs, shapes, weights, MACs."""
    rows = []
    for node in graph.nodes:
        layer = node.bound()
        rows.append(
            (
                node.name,
                node.kind,
                imported_arguments(node),
                node.inputs,
                layer.out_shape,
                layer.weights(),
                layer.buffers(),
                layer.macs(),
                layer.other_ops(),
            )
        )
    return rows


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_folded_spec_makes_the_same_layers(path: Path) -> None:
    graph = load_spec(str(path))
    network = network_of(graph)
    folded = write_folded(network)
    assert "written flat" not in write_spec(network)
    flat = parse_spec(write_spec(network, fold=False), "flat.yaml")
    again = parse_spec(folded, "folded.yaml")
    assert figures(again) == figures(graph)
    assert figures(flat) == figures(graph)


# -- a network laid out as torchvision's ResNet-50 is traced (module paths, Sequential stages, Bottleneck modules)


def resnet_like(blocks: tuple[int, ...] = (3, 4, 6, 3)) -> ImportedNetwork:
    """torchvision's ResNet-50 as the PyTorch importer gives it: names are module paths, functional calls are
    named in the module they are called in, a module called again gets _1, _2."""
    layers: list[ImportedLayer] = []

    def add(name: str, kind: str, arguments: dict[str, Any], inputs: list[str], scopes: tuple[Scope, ...] = ()) -> str:
        layers.append(ImportedLayer(name, kind, arguments, inputs, scopes))
        return name

    x = add(
        "conv1", "Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False}, ["input"]
    )
    x = add("bn1", "BatchNorm2d", {}, [x])
    x = add("relu", "ReLU", {"inplace": True}, [x])
    x = add("maxpool", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, [x])
    for stage, count in enumerate(blocks, start=1):
        width = 64 * 2 ** (stage - 1)
        for index in range(count):
            path = f"layer{stage}.{index}"
            scopes = (Scope(f"layer{stage}", "Sequential"), Scope(path, "Bottleneck"))
            stride = 2 if index == 0 and stage > 1 else 1
            block_input = x
            y = add(f"{path}.conv1", "Conv2d", {"out_channels": width, "kernel_size": 1, "bias": False}, [x], scopes)
            y = add(f"{path}.bn1", "BatchNorm2d", {}, [y], scopes)
            y = add(f"{path}.relu", "ReLU", {"inplace": True}, [y], scopes)
            conv2 = {"out_channels": width, "kernel_size": 3, "padding": 1, "bias": False}
            conv2 = {**conv2, "stride": stride} if stride != 1 else conv2
            y = add(f"{path}.conv2", "Conv2d", conv2, [y], scopes)
            y = add(f"{path}.bn2", "BatchNorm2d", {}, [y], scopes)
            y = add(f"{path}.relu_1", "ReLU", {"inplace": True}, [y], scopes)
            y = add(
                f"{path}.conv3", "Conv2d", {"out_channels": 4 * width, "kernel_size": 1, "bias": False}, [y], scopes
            )
            y = add(f"{path}.bn3", "BatchNorm2d", {}, [y], scopes)
            shortcut = block_input
            if index == 0:
                inner = (*scopes, Scope(f"{path}.downsample", "Sequential"))
                projection = {"out_channels": 4 * width, "kernel_size": 1, "bias": False}
                projection = {**projection, "stride": stride} if stride != 1 else projection
                s = add(f"{path}.downsample.0", "Conv2d", projection, [block_input], inner)
                shortcut = add(f"{path}.downsample.1", "BatchNorm2d", {}, [s], inner)
            y = add(f"{path}.add", "Add", {}, [y, shortcut], scopes)
            x = add(f"{path}.relu_2", "ReLU", {"inplace": True}, [y], scopes)
    x = add("avgpool", "AdaptiveAvgPool2d", {"output_size": 1}, [x])
    x = add("flatten", "Flatten", {}, [x])
    x = add("fc", "Linear", {"out_features": 1000}, [x])
    return ImportedNetwork("resnet50", "torchvision.models:resnet50", (3, 224, 224), layers, x)


def test_resnet50_as_torchvision_names_it_folds_like_the_hand_written_spec() -> None:
    network = resnet_like()
    folded = write_spec(network)
    assert "written flat" not in folded
    flat = write_spec(network, fold=False)
    assert figures(parse_spec(folded)) == figures(parse_spec(flat))
    lines = folded.splitlines()
    assert len(lines) <= 44 < 176 <= len(flat.splitlines())
    assert "  bottleneck:" in lines  # one block for every Bottleneck, the downsample ones by an `if`
    assert "      - if: $downsample" in lines
    assert sum(line.startswith("  - bottleneck: {") for line in lines) == 4  # a stage is one repeated use
    assert any("repeat: 6, name: layer3}" in line for line in lines)
    assert any(line.startswith("  - bottleneck:") and "2 if $index == 0 else 1" in line for line in lines)


def test_a_module_read_from_outside_twice_is_written_inline() -> None:
    """A module whose layers read two outside tensors cannot be a block (a block has one `input`): inline."""
    network = resnet_like((2, 2))
    for layer in network.layers:
        if layer.name == "layer1.1.add":  # the shortcut now comes from before the previous block
            layer.inputs = [layer.inputs[0], "layer1.0.bn3"]
    folded = write_spec(network)
    assert "written flat" not in folded and "name: layer1.1.conv1" in folded
    assert figures(parse_spec(folded)) == figures(parse_spec(write_spec(network, fold=False)))


def test_names_outside_reach_inside_a_block_use() -> None:
    """A layer outside a use may read one of its inner layers by full name: the use still folds."""
    network = resnet_like((3,))
    tap = ImportedLayer("tap", "ReLU", {}, ["layer1.1.bn2"])
    network.layers.insert(len(network.layers) - 3, tap)
    network.layers[-3].inputs = ["layer1.2.relu_2"]
    folded = write_spec(network)
    assert "written flat" not in folded and "inputs: layer1.1.bn2" in folded
    assert figures(parse_spec(folded)) == figures(parse_spec(write_spec(network, fold=False)))


# -- random module trees (hypothesis): recipes per class, instances that vary their arguments and optional parts


CHANNELS = 4


class RandomNetwork:
    """A random network of C x 6 x 6 tensors (C = 4): module classes with fixed recipes, containers, optional
    layers, skips inside a module and (rarely) from outside it, modules called again later (not contiguous)."""

    def __init__(self, rng: Any) -> None:
        self.rng = rng
        self.layers: list[ImportedLayer] = []
        self.classes = [f"Cell{index}" for index in range(rng.randint(1, 4))]
        self.recipes = {cls: self.recipe(position) for position, cls in enumerate(self.classes)}

    def recipe(self, position: int) -> list[tuple]:
        rng, steps = self.rng, []
        for index in range(rng.randint(1, 5)):
            roll = rng.random()
            inner = self.classes[position + 1 :]
            if roll < 0.25 and inner:
                steps.append(("child", rng.choice(inner), f"sub{index}"))
            elif roll < 0.35 and inner:
                steps.append(("sequential", rng.choice(inner), f"seq{index}"))
            else:
                kind = rng.choice(["Conv2d", "BatchNorm2d", "ReLU", "Activation", "LeakyReLU", "Dropout", "Add"])
                steps.append(("layer", kind, f"{kind.lower()}{index}", rng.random() < 0.2))  # optional
        return steps

    def arguments(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "Conv2d":
            kernel, dilation = rng.choice([1, 3]), rng.choice([1, 1, 2])
            found = {"out_channels": CHANNELS, "kernel_size": kernel, "padding": dilation * (kernel // 2)}
            found.update({"dilation": dilation} if dilation != 1 else {})
            found.update({"groups": rng.choice([2, 4])} if rng.random() < 0.3 else {})
            return {**found, **({"bias": False} if rng.random() < 0.5 else {})}
        if kind == "LeakyReLU":
            return {"negative_slope": rng.choice([0.01, 0.2, 1e-05])} if rng.random() < 0.7 else {}
        if kind == "Dropout":
            return {"p": rng.choice([0.1, 0.25, 0.5])}
        if kind == "BatchNorm2d" and rng.random() < 0.3:
            return {"eps": 0.001}
        return {}

    def add(self, name: str, kind: str, inputs: list[str], scopes: tuple[Scope, ...]) -> str:
        self.layers.append(ImportedLayer(name, kind, self.arguments(kind), inputs, scopes))
        return name

    def instance(self, cls: str, path: str, scopes: tuple[Scope, ...], x: str) -> str:
        scopes = (*scopes, Scope(path, cls))
        inside = [x]
        for step in self.recipes[cls]:
            if step[0] == "layer":
                kind, local, optional = step[1:]
                if optional and self.rng.random() < 0.5:
                    continue
                reads = [x]
                if kind == "Activation":  # the class takes its activation as an argument
                    kind = self.rng.choice(["ReLU", "SiLU", "Hardswish", "LeakyReLU"])
                if kind == "Add":
                    pool = [name for name in (layer.name for layer in self.layers) if self.rng.random() < 0.05]
                    reads = [x, self.rng.choice(inside + pool)]
                x = self.add(f"{path}.{local}", kind, reads, scopes)
            elif step[0] == "child":
                x = self.instance(step[1], f"{path}.{step[2]}", scopes, x)
            else:
                container = (*scopes, Scope(f"{path}.{step[2]}", "Sequential"))
                for index in range(self.rng.randint(1, 4)):
                    x = self.instance(step[1], f"{path}.{step[2]}.{index}", container, x)
            inside.append(x)
        if self.rng.random() < 0.05:  # the module called once more, later: its layers are not contiguous
            self.late.append((f"{path}.again", scopes))
        return x

    def network(self) -> ImportedNetwork:
        x, self.late = "input", []
        x = self.add("stem", "Conv2d", ["input"], ())
        for index in range(self.rng.randint(1, 5)):
            cls = self.rng.choice(self.classes)
            if self.rng.random() < 0.4:
                for copy in range(self.rng.randint(1, 4)):
                    x = self.instance(cls, f"stage{index}.{copy}", (Scope(f"stage{index}", "Sequential"),), x)
            else:
                x = self.instance(cls, f"block{index}", (), x)
            while self.late and self.rng.random() < 0.5:
                name, scopes = self.late.pop()
                x = self.add(name, "ReLU", [x], scopes)
        return ImportedNetwork("random", "hypothesis", (CHANNELS, 6, 6), self.layers, x)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_random_module_trees_fold_to_the_same_layers(rng: Any) -> None:
    network = RandomNetwork(rng).network()
    folded = write_folded(network)
    assert folding_problem(network, folded) is None, folded
    assert figures(parse_spec(folded)) == figures(parse_spec(write_spec(network, fold=False)))


# -- torchvision's own models, through the PyTorch importer where it is there (it skips otherwise)

# The most lines each folded import may take (flat: 179, 157, 253, 206, 202, 247, 157): what folding is for.
TORCHVISION_LINES = {
    "resnet50": 40,
    "mobilenet_v2": 50,
    "efficientnet_b0": 60,
    "convnext_tiny": 70,
    "googlenet": 50,
    "shufflenet_v2_x1_0": 70,
    "mnasnet1_0": 45,
}


@pytest.mark.filterwarnings("ignore::FutureWarning")  # GoogLeNet's note on its weight initialization
@pytest.mark.parametrize("name", sorted(TORCHVISION_LINES))
def test_torchvision_models_fold(name: str) -> None:
    from torchvision_models import torchvision

    vision = torchvision()
    from_torch = pytest.importorskip("cnncalc.bridges.from_torch", reason="the PyTorch importer is not here")
    import torch

    with torch.device("meta"):
        model = getattr(vision.models, name)(weights=None)
    network, _ = from_torch.import_module(model, (3, 224, 224), source=f"torchvision.models:{name}", name=name)
    folded = write_folded(network)
    assert folding_problem(network, folded) is None, folded
    assert figures(parse_spec(folded)) == figures(parse_spec(write_spec(network, fold=False)))
    assert len(folded.splitlines()) <= TORCHVISION_LINES[name], folded


def test_a_folding_that_does_not_check_is_written_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The folded text is loaded and compared before it is returned; where it differs, the flat text is."""
    import cnncalc.bridges.writer as writer

    network = resnet_like((2,))
    broken = writer.write_folded(network).replace("name: relu_2", "name: relu_3")
    monkeypatch.setattr(writer, "write_folded", lambda _: broken)
    text = write_spec(network)
    assert "# note: written flat: the folded spec did not check (layer layer1.0.relu_2 came out as" in text
    assert "blocks:" not in text
    assert figures(parse_spec(text)) == figures(parse_spec(write_spec(network, fold=False)))


@pytest.mark.parametrize(
    "value",
    [1e-05, 0.1, 1e20, -1e-07, 5e-324, 2.0, -0.0, 0, -3, True, False, None, "0", "1.5", "true", "Null", "yes", "on"]
    + ["~", "a b", "x: y", 'say "hi"', "back\\slash", "layer1.0", "same", "#x", "-", [1, [2.5, "0"]], (3, 3), []],
)
def test_values_read_back_as_written(value: Any) -> None:
    from cnncalc.yamlsource import load_yaml
    from cnncalc.yamltext import flow_value

    read = load_yaml(f"value: {flow_value(value)}\nin_flow: {{value: {flow_value(value)}}}\n", "v.yaml")
    expected = plain(value)
    for got in (read["value"], read["in_flow"]["value"]):
        assert got == expected
        assert isinstance(got, list) if isinstance(expected, list) else type(got) is type(expected)
        if isinstance(value, float):
            assert repr(got) == repr(value)  # the same float, -0.0 included


def test_a_folding_that_fails_is_written_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.bridges.writer as writer

    def fails(_: ImportedNetwork) -> str:
        raise KeyError("layer1.0")

    monkeypatch.setattr(writer, "write_folded", fails)
    text = write_spec(resnet_like((2,)))
    assert "# note: written flat: the folded spec did not check (KeyError: 'layer1.0')" in text
    assert "blocks:" not in text and "name: layer1.1.relu_2" in text
