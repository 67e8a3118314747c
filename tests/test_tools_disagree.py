"""Why tools disagree (docs/tools-disagree.md): every peer's MAC figure, rebuilt exactly from cnncalc's summary JSON.

For each network in tests/reference/models.json with a shipped spec, each peer's figure is computed layer by layer from
`cnncalc summary specs/<net>.yaml --format json`, by the rule the peer's source code applies (fvcore's jit handles,
torchinfo's LayerInfo.calculate_macs, ptflops' pytorch-backend hooks and patched functionals, thop's hooks), and
must equal the figure models.json records (fvcore, torchinfo, ptflops) or the one measured into
tests/reference/peer_figures.json (thop; the other three were measured there too). The document's tables, its jq
breakdown and its reconcile formulas are parsed and checked against the same derivation, so the document cannot
drift. The peers themselves are not dependencies: the measuring tests run only where they are installed.
"""

from __future__ import annotations

import ast
import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
from conftest import ROOT, run_cli
from test_zoo import AWAITING_KINDS

DOC = ROOT / "docs" / "tools-disagree.md"
MODELS: dict[str, dict[str, Any]] = json.loads((ROOT / "tests/reference/models.json").read_text())["models"]
PEER_FIGURES: dict[str, Any] = json.loads((ROOT / "tests/reference/peer_figures.json").read_text())
# Every reference network with a shipped spec: those in test_zoo.AWAITING_KINDS (their layer kinds are not written
# yet) have no spec to derive from, and join here by themselves when their specs ship and leave that set.
NETWORKS = tuple(net for net in MODELS if net not in AWAITING_KINDS)
PEERS = ("fvcore", "torchinfo", "ptflops", "thop")
FROM_MODELS_JSON = ("fvcore", "torchinfo", "ptflops")

# Layers the reference PyTorch implementation calls as a function, not as a module. torchvision's
# MobileNetV2._forward_impl calls nn.functional.adaptive_avg_pool2d: tools that hook modules (ptflops, thop) see no
# module there. cnncalc's JSON cannot tell this; it is a fact of the implementation measured.
CALLED_AS_FUNCTION: dict[str, frozenset[str]] = {"mobilenet_v2": frozenset({"avgpool"})}
# torchvision's ShuffleNetV2 pools with `x.mean([2, 3])`, a tensor method no peer counts: no module to hook, no
# wrapper in ptflops, no aten::mean handle in fvcore. The spec writes it as an adaptive pool and a flatten.
CALLED_AS_MEAN: dict[str, frozenset[str]] = {"shufflenet_v2_x1_0": frozenset({"globalpool"})}
# Kinds torchvision computes in forward() or with modules no peer has a rule for: ShuffleNetV2's chunk and
# channel_shuffle function, ConvNeXt's `self.layer_scale * x` and its Permute and StochasticDepth modules (the
# identity in eval). spec_module() runs them as functions; every peer counts them 0.
UNCOUNTED_KINDS = {"Chunk", "ChannelShuffle", "Permute", "LayerScale", "StochasticDepth"}

# The kinds the rules below are written for: a network with another kind needs its rule added first. Mul is the
# squeeze-excitation gate, written `scale * input` in torchvision (the operator, not torch.mul).
RULED_KINDS = {
    "Conv2d", "ConvTranspose2d", "Linear", "BatchNorm2d", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Hardswish",
    "Hardsigmoid", "MaxPool2d", "AdaptiveAvgPool2d", "Add", "Mul", "Concat", "Flatten", "Dropout", "LayerNorm",
    "GELU", *UNCOUNTED_KINDS,
}  # fmt: skip


def size(shape: list[int] | tuple[int, ...]) -> int:
    return math.prod(shape)


@dataclass(frozen=True)
class LayerView:
    """One layer of the summary JSON, with its input shape looked up and how the reference implementation calls it."""

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    weights: dict[str, list[int]]
    macs: int
    other_ops: int
    called_as_function: bool
    called_as_mean: bool

    @property
    def is_conv(self) -> bool:
        return re.fullmatch(r"Conv[123]d", self.kind) is not None

    @property
    def is_transposed(self) -> bool:
        return re.fullmatch(r"ConvTranspose[123]d", self.kind) is not None

    @property
    def has_bias(self) -> bool:
        return "bias" in self.weights

    @property
    def weight_elements(self) -> int:
        return size(self.weights["weight"])

    @property
    def out_positions(self) -> int:
        return size(self.out_shape[1:])

    @property
    def in_positions(self) -> int:
        return size(self.in_shape[1:])

    @property
    def positions(self) -> int:
        """A Linear's positions: the elements of its output but the last axis (1 on a flat input, H x W when
        channels-last)."""
        return size(self.out_shape[:-1])

    @property
    def counted(self) -> bool:
        """Whether the peers see the layer at all (see CALLED_AS_MEAN and UNCOUNTED_KINDS)."""
        return not self.called_as_mean and self.kind not in UNCOUNTED_KINDS

    def elements(self, side: str) -> int:
        """The elements of the layer's input ("in") or output ("out")."""
        return size({"in": self.in_shape, "out": self.out_shape}[side])


@cache
def summary(net: str) -> dict[str, Any]:
    result = run_cli("summary", f"specs/{net}.yaml", "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


@cache
def layers(net: str) -> tuple[LayerView, ...]:
    report = summary(net)
    shapes = {"input": tuple(report["input_shape"])}
    views = []
    for layer in report["layers"]:
        views.append(
            LayerView(
                name=layer["name"],
                kind=layer["type"],
                in_shape=shapes[layer["inputs"][0]],
                out_shape=tuple(layer["output_shape"]),
                weights=layer["weight_shapes"],
                macs=layer["macs"],
                other_ops=layer["other_ops"],
                called_as_function=layer["name"] in CALLED_AS_FUNCTION.get(net, frozenset()),
                called_as_mean=layer["name"] in CALLED_AS_MEAN.get(net, frozenset()),
            )
        )
        shapes[layer["name"]] = tuple(layer["output_shape"])
    return tuple(views)


# ---- Each peer's rule, per layer, as its source code computes it (batch 1) ----


def fvcore_count(layer: LayerView) -> int:
    """fvcore FlopCountAnalysis: traced aten ops, one multiply-add = one "flop"; convolution by prod(weight) x
    output positions (input positions when transposed), linear by prod(input) x out_features, eval-mode batch_norm
    2 per element (1 without affine), adaptive_avg_pool2d 1 per input element; every other op 0 (relu, silu,
    sigmoid, hardswish, hardsigmoid, gelu, mul, add, dropout, mean have no handle), layer_norm 5 per element (4
    without affine). Ops are traced, so a layer called as a function counts the same; a mean is no adaptive pool."""
    if not layer.counted:
        return 0
    if layer.is_conv:
        return layer.weight_elements * layer.out_positions
    if layer.is_transposed:
        return layer.weight_elements * layer.in_positions
    if layer.kind == "Linear":
        return size(layer.in_shape) * layer.weights["weight"][0]
    if layer.kind == "BatchNorm2d":
        return size(layer.in_shape) * (2 if "weight" in layer.weights else 1)
    if layer.kind == "LayerNorm":
        return size(layer.in_shape) * (5 if "weight" in layer.weights else 4)
    if layer.kind == "AdaptiveAvgPool2d":
        return size(layer.in_shape)
    return 0


def torchinfo_count(layer: LayerView) -> int:
    """torchinfo LayerInfo.calculate_macs: for each parameter named weight or bias, its elements times the output
    positions for a class whose name contains "Conv" (transposed ones too: output, not input, positions), else
    times the batch: a Linear applied channels-last (ConvNeXt's) counts its parameters once, not once per position.
    Layers without parameters count 0."""
    if not layer.counted:
        return 0
    elements = sum(size(shape) for name, shape in layer.weights.items() if name in ("weight", "bias"))
    return elements * layer.out_positions if "Conv" in layer.kind else elements


# ptflops 0.7.5, pytorch backend, count_functional on (its defaults): a module hook per module in MODULES_MAPPING,
# plus the patched torch.nn.functional calls, including those a module's forward makes. nn.ReLU calls F.relu and
# the pools call F.max_pool2d / F.adaptive_avg_pool2d (hooked and patched: counted twice); nn.ReLU6 calls
# F.hardtanh (hooked, not patched: once); nn.SiLU calls F.silu (not hooked, patched: once). nn.Sigmoid,
# nn.Hardswish and nn.Hardsigmoid are neither (torch.sigmoid, F.hardswish, F.hardsigmoid: 0). torch.add/torch.mul
# and Tensor.add/Tensor.mul are patched, but `x + y`, `+=`, `x * y` (Tensor.__add__, __mul__) and torch.cat are not.
# nn.GELU is hooked and calls F.gelu, patched: twice. nn.LayerNorm shares BatchNorm's hook, which doubles for
# `module.affine`, an attribute LayerNorm does not have (it has elementwise_affine): 1 per element. nn.Linear's hook
# counts (in x out + bias) per position of a channels-last input.
PTFLOPS_ELEMENTWISE_HOOK = {
    "ReLU": "out", "ReLU6": "out", "GELU": "out", "MaxPool2d": "in", "AdaptiveAvgPool2d": "in", "LayerNorm": "in",
}  # fmt: skip
PTFLOPS_PATCHED_FUNCTION = {"ReLU": "in", "SiLU": "in", "GELU": "in", "MaxPool2d": "in", "AdaptiveAvgPool2d": "in"}


def ptflops_count(layer: LayerView) -> int:
    if not layer.counted:
        return 0
    bias = size(layer.out_shape) if layer.has_bias else 0
    if layer.is_conv:
        return layer.weight_elements * layer.out_positions + bias
    if layer.is_transposed:
        return layer.weight_elements * layer.in_positions + bias
    if layer.kind == "Linear":
        return (layer.weight_elements + (layer.weights["bias"][0] if layer.has_bias else 0)) * layer.positions
    if layer.kind == "BatchNorm2d":
        return size(layer.in_shape) * (2 if "weight" in layer.weights else 1)
    count = 0
    if layer.kind in PTFLOPS_ELEMENTWISE_HOOK and not layer.called_as_function:
        count += layer.elements(PTFLOPS_ELEMENTWISE_HOOK[layer.kind])
    if layer.kind in PTFLOPS_PATCHED_FUNCTION:
        count += layer.elements(PTFLOPS_PATCHED_FUNCTION[layer.kind])
    return count


def thop_count(layer: LayerView) -> int:
    """thop 0.1.1 profile(): forward hooks on modules only. Convolutions (transposed ones too) by output elements x
    in_channels/groups x kernel elements, no bias; linear by in_features x output elements; BatchNorm 2 per element,
    doubled when affine; adaptive average pooling (window + 1) per output element; ReLU, ReLU6, max pooling, dropout
    0 (zero_ops); SiLU, Sigmoid, Hardswish, Hardsigmoid, GELU 0 (no rule: "treat it as zero Macs"); merges are no
    modules. LayerNorm as BatchNorm: 2 per element, doubled when affine (elementwise_affine)."""
    if layer.called_as_function or not layer.counted:
        return 0
    if layer.is_conv or layer.is_transposed:
        in_channels, out_channels = layer.in_shape[0], layer.out_shape[0]
        groups = (in_channels if layer.is_conv else out_channels) // layer.weights["weight"][1]
        return size(layer.out_shape) * (in_channels // groups) * size(layer.weights["weight"][2:])
    if layer.kind == "Linear":
        return layer.weights["weight"][1] * size(layer.out_shape)
    if layer.kind in ("BatchNorm2d", "LayerNorm"):
        return 2 * size(layer.in_shape) * (2 if "weight" in layer.weights else 1)
    if layer.kind == "AdaptiveAvgPool2d":
        window = math.prod(Fraction(i, o) for i, o in zip(layer.in_shape[1:], layer.out_shape[1:], strict=True))
        return int((window + 1) * size(layer.out_shape))
    return 0


RULES = {"fvcore": fvcore_count, "torchinfo": torchinfo_count, "ptflops": ptflops_count, "thop": thop_count}


def peer_figure(peer: str, net: str) -> int:
    return sum(RULES[peer](layer) for layer in layers(net))


def recorded_figure(peer: str, net: str) -> int:
    """models.json's figure (measured on torchvision's own model) where it has one; else peer_figures.json's
    (measured on spec_module): thop everywhere, and every peer for convnext_tiny, which models.json gives none."""
    if peer in FROM_MODELS_JSON and f"macs_{peer}" in MODELS[net]:
        return MODELS[net][f"macs_{peer}"]
    return PEER_FIGURES["figures"][net][peer]


# ---- What each difference is made of, as the document's tables state it ----


@dataclass(frozen=True)
class Part:
    label: str
    unit: str
    factor: int
    base: int

    @property
    def amount(self) -> int:
        return self.factor * self.base

    def text(self) -> str:
        """The part without its sign (see joined)."""
        if abs(self.factor) == 1:
            return f"{abs(self.amount):,} {self.label} {self.unit}"
        return f"{abs(self.amount):,} {self.label} ({abs(self.factor)} x {self.base:,} {self.unit})"


def joined(found: list[Part]) -> str:
    """'a + b - c': parts a tool adds, and those it leaves out (negative)."""
    text = "".join(f" {'-' if part.amount < 0 else '+'} {part.text()}" for part in found)
    return text[3:] if text.startswith(" + ") else text.lstrip()


def breakdown(net: str) -> dict[str, int]:
    """The per-network quantities the document's jq program prints, computed here in Python."""
    views = layers(net)

    def total(kinds: str, figure: Any) -> int:
        return sum(figure(layer) for layer in views if re.fullmatch(kinds, layer.kind))

    return {
        "macs": summary(net)["totals"]["macs"],
        "bias_adds": total(r"(Conv|ConvTranspose)[123]d|Linear", lambda v: size(v.out_shape) if v.has_bias else 0),
        "batchnorm_elements": total(r"BatchNorm[123]d", lambda v: size(v.out_shape)),
        "batchnorm_params": total(r"BatchNorm[123]d", lambda v: sum(size(s) for s in v.weights.values())),
        "layernorm_elements": total("LayerNorm", lambda v: size(v.out_shape)),
        "layernorm_params": total("LayerNorm", lambda v: sum(size(s) for s in v.weights.values())),
        "relu_elements": total("ReLU", lambda v: size(v.out_shape)),
        "relu6_elements": total("ReLU6", lambda v: size(v.out_shape)),
        "silu_elements": total("SiLU", lambda v: size(v.out_shape)),
        "gelu_elements": total("GELU", lambda v: size(v.out_shape)),
        "maxpool_inputs": total(r"MaxPool[123]d", lambda v: size(v.in_shape)),
        "adaptive_pool_inputs": total(r"AdaptiveAvgPool[123]d", lambda v: size(v.in_shape)),
        "adaptive_pool_outputs": total(r"AdaptiveAvgPool[123]d", lambda v: size(v.out_shape)),
        "transposed_macs": total(r"ConvTranspose[123]d", lambda v: v.macs),
        "transposed_as_conv": total(r"ConvTranspose[123]d", lambda v: v.weight_elements * v.out_positions),
        "linear_extra_positions": total(
            "Linear", lambda v: sum(size(s) for s in v.weights.values()) * (v.positions - 1)
        ),
    }


def transposed_part(views: tuple[LayerView, ...]) -> list[Part]:
    """Counting a transposed conv over its output positions multiplies its MACs by out/in positions (stride^2
    when kernel = stride, as in U-Net's up-convolutions); the excess as (ratio - 1) x cnncalc's MACs."""
    transposed = [v for v in views if v.is_transposed]
    excess = sum(v.weight_elements * v.out_positions - v.macs for v in transposed)
    if excess == 0:
        return []
    ratios = {Fraction(v.out_positions, v.in_positions) for v in transposed}
    if len(ratios) == 1 and (ratio := ratios.pop()).denominator == 1:
        return [Part("transposed conv over output positions", "MACs", int(ratio) - 1, excess // (int(ratio) - 1))]
    return [Part("transposed conv over output positions", "MACs", 1, excess)]


def thop_pool_parts(views: tuple[LayerView, ...]) -> list[Part]:
    """thop's adaptive pools, (window + 1) x outputs: one part when every pool has the same window (ResNet's 7 x 7
    to 1 x 1), else their inputs plus their outputs (squeeze-excitation pools, one window per resolution), which is
    the same when each output size divides its input size."""
    pools = [v for v in views if v.kind == "AdaptiveAvgPool2d" and not v.called_as_function and v.counted]
    factors = {thop_count(v) // size(v.out_shape) for v in pools}
    outputs = sum(size(v.out_shape) for v in pools)
    if len(factors) == 1:
        return [Part("adaptive pool", "outputs", factors.pop(), outputs)]
    inputs = sum(size(v.in_shape) for v in pools)
    return [Part("adaptive pool", "inputs", 1, inputs), Part("adaptive pool", "outputs", 1, outputs)]


def parts(peer: str, net: str) -> list[Part]:
    views = layers(net)
    b = breakdown(net)
    pools = [v for v in views if v.kind == "AdaptiveAvgPool2d" and v.counted]
    pool_module = sum(size(v.in_shape) for v in pools if not v.called_as_function)
    pool_function = sum(size(v.in_shape) for v in pools if v.called_as_function)
    found: list[Part] = []
    if peer == "fvcore":
        found = [Part("BatchNorm", "elements", 2, b["batchnorm_elements"])]
        found += [Part("LayerNorm", "elements", 5, b["layernorm_elements"])]
        found += [Part("adaptive pool", "inputs", 1, pool_module + pool_function)]
    elif peer == "torchinfo":
        found = [Part("bias", "adds", 1, b["bias_adds"]), Part("BatchNorm", "parameters", 1, b["batchnorm_params"])]
        found += [Part("LayerNorm", "parameters", 1, b["layernorm_params"])]
        found += transposed_part(views)
        unit = "MACs and bias adds past each layer's first position"  # a channels-last Linear counted once
        found += [Part("Linear", unit, -1, b["linear_extra_positions"])]
    elif peer == "ptflops":
        found = [
            Part("bias", "adds", 1, b["bias_adds"]),
            Part("BatchNorm", "elements", 2, b["batchnorm_elements"]),
            Part("LayerNorm", "elements", 1, b["layernorm_elements"]),
            Part("ReLU", "elements", 2, b["relu_elements"]),
            Part("ReLU6", "elements", 1, b["relu6_elements"]),
            Part("SiLU", "elements", 1, b["silu_elements"]),
            Part("GELU", "elements", 2, b["gelu_elements"]),
            Part("max pool", "inputs", 2, b["maxpool_inputs"]),
            Part("adaptive pool", "inputs", 2, pool_module),
            Part("adaptive pool", "inputs (called as a function: once)", 1, pool_function),
        ]
    elif peer == "thop":
        found = [Part("BatchNorm", "elements", 4, b["batchnorm_elements"])]
        found += [Part("LayerNorm", "elements", 4, b["layernorm_elements"]), *thop_pool_parts(views)]
        found += transposed_part(views)
    return [part for part in found if part.base]


def network_rows(net: str) -> list[list[str]]:
    macs = summary(net)["totals"]["macs"]
    rows = [["cnncalc `macs`", f"{macs:,}", "0", "conv, transposed conv and linear multiply-accumulates"]]
    for peer in PEERS:
        figure = peer_figure(peer, net)
        difference = f"{figure - macs:+,}" if figure != macs else "0"
        rows.append([peer, f"{figure:,}", difference, joined(parts(peer, net)) or "nothing else"])
    return rows


def overview_rows() -> list[list[str]]:
    return [
        [net, f"{summary(net)['totals']['macs']:,}", *(f"{peer_figure(peer, net):,}" for peer in PEERS)]
        for net in NETWORKS
    ]


def shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(d) for d in shape)


def bias_rows(net: str) -> list[list[str]]:
    """Where the bias adds come from: one add per output element of each layer with a bias."""
    rows = [
        [layer.name, shape_text(layer.out_shape), f"{size(layer.out_shape):,}"]
        for layer in layers(net)
        if layer.has_bias and (layer.is_conv or layer.is_transposed or layer.kind == "Linear")
    ]
    return [*rows, ["total", "", f"{breakdown(net)['bias_adds']:,}"]]


def transposed_rows(net: str) -> list[list[str]]:
    """Each transposed conv: cnncalc's MACs (input positions) and the count over output positions."""
    rows = [
        [
            v.name,
            shape_text(v.in_shape),
            shape_text(v.out_shape),
            f"{v.macs:,}",
            f"{v.weight_elements * v.out_positions:,}",
        ]
        for v in layers(net)
        if v.is_transposed
    ]
    b = breakdown(net)
    return [*rows, ["total", "", "", f"{b['transposed_macs']:,}", f"{b['transposed_as_conv']:,}"]]


# ---- Reading the document ----


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The text under a markdown heading (any level), up to the next heading of the same or a higher level; lines
    in code blocks are never headings."""
    lines = doc_text().splitlines()
    headings: list[tuple[int, int, str]] = []  # (line index, level, text)
    in_code = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.fullmatch(r"(#+) (.*)", line)):
            headings.append((index, len(match.group(1)), match.group(2).strip()))
    for position, (start, level, text) in enumerate(headings):
        if text == heading:
            end = next((i for i, lv, _ in headings[position + 1 :] if lv <= level), len(lines))
            return "\n".join(lines[start + 1 : end])
    raise AssertionError(f"{DOC} has no heading {heading!r}")


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first markdown table in `text` (outside code blocks), cells stripped."""
    rows: list[list[str]] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) >= 2 and set(rows[1][0]) <= set("-: "), f"no markdown table in:\n{text}"
    return rows[2:]


# ---- The tests ----


def test_every_network_uses_only_kinds_the_rules_cover() -> None:
    for net in NETWORKS:
        kinds = {layer.kind for layer in layers(net)}
        assert kinds <= RULED_KINDS, f"{net}: no peer rule written for {sorted(kinds - RULED_KINDS)}"


def test_layers_called_as_functions_exist() -> None:
    for net, names in [*CALLED_AS_FUNCTION.items(), *CALLED_AS_MEAN.items()]:
        pools = {layer.name for layer in layers(net) if layer.kind == "AdaptiveAvgPool2d"}
        assert names <= pools, f"{net}: {sorted(names - pools)} is not an adaptive pool layer of specs/{net}.yaml"


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("peer", PEERS)
def test_peer_rule_reproduces_recorded_figure(peer: str, net: str) -> None:
    assert peer_figure(peer, net) == recorded_figure(peer, net)


def test_measured_figures_agree_with_models_json() -> None:
    """peer_figures.json re-measured fvcore, torchinfo and ptflops too: the same figures models.json records."""
    assert set(PEER_FIGURES["figures"]) == set(NETWORKS)
    for net in NETWORKS:
        assert set(PEER_FIGURES["figures"][net]) == set(PEERS)
        for peer in FROM_MODELS_JSON:
            if f"macs_{peer}" in MODELS[net]:
                assert PEER_FIGURES["figures"][net][peer] == MODELS[net][f"macs_{peer}"], (net, peer)


@pytest.mark.parametrize("net", NETWORKS)
@pytest.mark.parametrize("peer", PEERS)
def test_parts_add_up_to_the_difference(peer: str, net: str) -> None:
    macs = summary(net)["totals"]["macs"]
    assert macs + sum(part.amount for part in parts(peer, net)) == peer_figure(peer, net)


def test_at_a_glance_table() -> None:
    assert table_rows(section("At a glance")) == overview_rows()


@pytest.mark.parametrize("net", NETWORKS)
def test_network_table(net: str) -> None:
    assert table_rows(section(net)) == network_rows(net)


def test_bias_adds_example() -> None:
    assert table_rows(section("Where the bias adds come from: lenet5")) == bias_rows("lenet5")


def test_transposed_conv_example() -> None:
    assert table_rows(section("Transposed convolutions: the stride² story")) == transposed_rows("unet")


def test_torchvision_gflops_are_gmacs() -> None:
    rows = table_rows(section("torchvision's GFLOPS are GMACs"))
    published = {net: model for net, model in MODELS.items() if "published_gflops" in model}
    assert [row[0] for row in rows] == list(published)
    for net, gflops, macs in rows:
        assert float(gflops) == published[net]["published_gflops"]
        assert macs == f"{MODELS[net]['macs']:,}"
        decimals = len(gflops.split(".")[1])
        assert round(MODELS[net]["macs"] / 1e9, decimals) == float(gflops), net
        if net in NETWORKS:  # "The MACs are cnncalc's `macs` for every network with a spec."
            assert summary(net)["totals"]["macs"] == MODELS[net]["macs"], net


# Rows of "What each tool counts" that give a count per element, and the layer kind each is about. torchinfo's
# BatchNorm and LayerNorm cells are per channel (their parameters), checked through batchnorm_params and
# layernorm_params in the network tables instead.
PER_ELEMENT_ROWS = {
    "BatchNorm (eval, affine)": "BatchNorm2d", "LayerNorm (affine)": "LayerNorm", "ReLU": "ReLU", "ReLU6": "ReLU6",
    "SiLU": "SiLU", "Sigmoid": "Sigmoid", "Hardswish": "Hardswish", "Hardsigmoid": "Hardsigmoid", "GELU": "GELU",
    "residual add": "Add", "squeeze-excitation gate (multiply)": "Mul", "layer scale (`layer_scale * x`)": "LayerScale",
}  # fmt: skip
PER_CHANNEL_CELLS = {("BatchNorm (eval, affine)", "torchinfo"), ("LayerNorm (affine)", "torchinfo")}
COUNTS_COLUMNS = ("cnncalc `other_ops`", *PEERS)  # the table's columns after the operation and cnncalc `macs`


def stated_per_element(cell: str) -> int:
    """'2 per element', '1 per output element', '0' or '0 (why)' as the number it states."""
    match = re.fullmatch(r"(\d+)( per (?:output )?element)?( \(.*\))?", cell)
    assert match and (match.group(2) is not None) == (match.group(1) != "0"), f"not a count per element: {cell!r}"
    return int(match.group(1))


def per_element(kind: str, count: Any) -> int:
    """What `count` (a layer's figure) gives per output element, the same for every layer of `kind` in the zoo."""
    found = {Fraction(count(v), size(v.out_shape)) for net in NETWORKS for v in layers(net) if v.kind == kind}
    assert len(found) == 1 and (value := found.pop()).denominator == 1, (kind, found)
    return int(value)


def test_per_element_counts_of_what_each_tool_counts() -> None:
    rows = {row[0]: row[2:] for row in table_rows(section("What each tool counts"))}
    for label, kind in PER_ELEMENT_ROWS.items():
        counts = {"cnncalc `other_ops`": lambda v: v.other_ops, **RULES}
        for column, cell in zip(COUNTS_COLUMNS, rows[label], strict=True):
            if (label, column) not in PER_CHANNEL_CELLS:
                assert stated_per_element(cell) == per_element(kind, counts[column]), (label, column)


NUMBER_WORDS = dict(enumerate("zero one two three four five six seven eight nine ten eleven twelve".split()))


def test_pending_networks_are_those_awaiting_kinds() -> None:
    """The page names the reference networks it cannot derive yet (none, once every spec ships), and counts the
    ones it does."""
    match = re.search(r"(\w+) more reference networks?, ([\w ,]+), (?:are|is) pending", prose())
    pending = [net for net in MODELS if net in AWAITING_KINDS]  # in models.json's order
    if not pending:
        assert match is None and "pending" not in prose(), "the page still names pending networks"
    else:
        assert match, "the sentence naming the pending networks is missing"
        assert re.split(r", | and ", match.group(2)) == pending
        assert match.group(1).lower() == NUMBER_WORDS[len(pending)]
    assert f"For the {NUMBER_WORDS[len(NETWORKS)]} reference networks that cnncalc ships a spec for" in prose()
    assert f"On all {NUMBER_WORDS[len(NETWORKS)]} networks it gives exactly" in prose()


def prose() -> str:
    """The document without its tables and code blocks."""
    kept, in_code = [], False
    for line in doc_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and not line.startswith("|"):
            kept.append(line)
    return "\n".join(kept)


def grouped_numbers(text: str) -> list[int]:
    """Integers written with thousands separators (1,000 and up), in order."""
    return [int(n.replace(",", "")) for n in re.findall(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?!\d|[.,]\d)", text)]


def test_opening_figures_are_resnet50s() -> None:
    opening = prose().split("\n\n")[1]
    expected = [summary("resnet50")["totals"]["macs"], *(recorded_figure(peer, "resnet50") for peer in PEERS)]
    assert grouped_numbers(opening) == expected


def test_unet_percentage() -> None:
    assert "about 13% above the real count" in prose()
    macs = summary("unet")["totals"]["macs"]
    for peer in ("torchinfo", "thop"):
        assert round(100 * (recorded_figure(peer, "unet") - macs) / macs) == 13, peer


def test_resnet18_torchinfo_example_adds_up() -> None:
    match = re.search(r"For ResNet-18, torchinfo's figure is ([\d,]+) \+ ([\d,]+) \+ ([\d,]+) = ([\d,]+)\.", prose())
    assert match, "the worked ResNet-18 example is missing"
    macs, bias, batchnorm, figure = (int(group.replace(",", "")) for group in match.groups())
    b = breakdown("resnet18")
    assert (macs, bias, batchnorm) == (b["macs"], b["bias_adds"], b["batchnorm_params"])
    assert macs + bias + batchnorm == figure == recorded_figure("torchinfo", "resnet18")


def test_every_number_in_the_prose_is_a_derived_one() -> None:
    tables = [overview_rows(), bias_rows("lenet5"), transposed_rows("unet"), *(network_rows(net) for net in NETWORKS)]
    derived = {number for rows in tables for row in rows for cell in row for number in grouped_numbers(cell)}
    derived |= {value for net in NETWORKS for value in breakdown(net).values()}
    assert set(grouped_numbers(prose())) <= derived


def jq_program() -> str:
    """The jq program of the document's breakdown command."""
    block = re.search(r"```sh\n(cnncalc summary \S+ --format json \| jq '(.*?)')\n```", doc_text(), re.S)
    assert block, "the breakdown command (cnncalc summary ... | jq '...') is missing"
    return block.group(2)


def shown_breakdown() -> tuple[str, dict[str, int]]:
    """The network the document runs the breakdown on, and the output it shows."""
    match = re.search(
        r"cnncalc summary specs/(\w+)\.yaml --format json \| jq '.*?'\n```\n\nprints:\n\n```json\n(.*?)```",
        doc_text(),
        re.S,
    )
    assert match, "the breakdown command's output is not shown"
    return match.group(1), json.loads(match.group(2))


def test_shown_breakdown_is_the_derived_one() -> None:
    net, shown = shown_breakdown()
    assert shown == breakdown(net)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
@pytest.mark.parametrize("net", NETWORKS)
def test_jq_breakdown_prints_the_derived_quantities(net: str) -> None:
    done = subprocess.run(
        ["jq", jq_program()], input=json.dumps(summary(net)), capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == breakdown(net)


def evaluate(formula: str, values: dict[str, int]) -> int:
    """An integer formula of names, integers, +, - and * (nothing else is accepted)."""

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
            left, right = value(node.left), value(node.right)
            return (
                left + right
                if isinstance(node.op, ast.Add)
                else left - right
                if isinstance(node.op, ast.Sub)
                else left * right
            )
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        raise AssertionError(f"unexpected {ast.dump(node)} in {formula!r}")

    return value(ast.parse(formula, mode="eval").body)


def test_reconcile_formulas_give_every_peer_figure() -> None:
    formulas = {row[0]: row[1].strip("`") for row in table_rows(section("How to reconcile"))}
    function_rows = {f"{peer}, pool called as a function" for peer in ("ptflops", "thop")}
    mean_rows = {f"{peer}, pool computed as a mean" for peer in ("fvcore", "ptflops", "thop")}
    assert set(formulas) == {*PEERS, *function_rows, *mean_rows}
    for net in NETWORKS:
        for peer in PEERS:
            formula = formulas[peer]
            if net in CALLED_AS_FUNCTION and f"{peer}, pool called as a function" in formulas:
                formula = formulas[f"{peer}, pool called as a function"]
            if net in CALLED_AS_MEAN and f"{peer}, pool computed as a mean" in formulas:
                formula = formulas[f"{peer}, pool computed as a mean"]
            assert evaluate(formula, breakdown(net)) == recorded_figure(peer, net), (net, peer, formula)


# ---- Measuring (only where torch, and for the peers the peer, is installed) ----


def spec_module(net: str, device: str = "cpu") -> Any:
    """specs/<net>.yaml as a plain torch.nn.Module, the way tools see a model: every layer its own module (from
    tests/torch_graph.py), merges as `x + y`, `x * y` (torchvision's squeeze-excitation `scale * input`) and
    torch.cat, the layers in CALLED_AS_FUNCTION called through torch.nn.functional and those in CALLED_AS_MEAN as
    `x.mean([2, 3])`, as the reference implementation does, and UNCOUNTED_KINDS as torchvision computes them:
    `x.chunk`, its channel_shuffle function (view, transpose, view), `x.permute`, `layer_scale * x` with the scale
    a parameter of the enclosing module, and stochastic depth as the identity it is in eval."""
    import torch
    from torch_graph import torch_op

    from cnncalc.graph import NETWORK_INPUT
    from cnncalc.spec import load_spec

    graph = load_spec(str(ROOT / "specs" / f"{net}.yaml"))
    functional = CALLED_AS_FUNCTION.get(net, frozenset())
    means = CALLED_AS_MEAN.get(net, frozenset())

    class SpecModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.input_shape = tuple(graph.input_shape)
            self.steps: list[tuple[str, list[str], str, Any]] = []
            self.layers = torch.nn.ModuleDict()
            self.scales = torch.nn.ParameterDict()
            for node in graph.nodes:
                layer = node.bound()
                if layer.kind in ("Add", "Mul", "Concat"):
                    self.steps.append((node.name, node.inputs, layer.kind, getattr(layer, "dim", None)))
                    continue
                if node.name in means:
                    self.steps.append((node.name, node.inputs, "mean", None))
                    continue
                if layer.kind in UNCOUNTED_KINDS:
                    self.steps.append((node.name, node.inputs, layer.kind, self.uncounted(layer)))
                    continue
                _, module = torch_op(layer)
                if node.name in functional:
                    self.steps.append((node.name, node.inputs, "adaptive_avg_pool", module.output_size))
                    continue
                key = f"layer{len(self.layers)}"
                self.layers[key] = module
                self.steps.append((node.name, node.inputs, "module", key))
            self.output_name = graph.output

        def uncounted(self, layer: Any) -> Any:
            """What forward() needs for a kind in UNCOUNTED_KINDS."""
            if layer.kind == "LayerScale":
                key = f"scale{len(self.scales)}"
                (shape,) = layer.weights().values()
                self.scales[key] = torch.nn.Parameter(torch.ones(tuple(shape)))
                return key
            if layer.kind == "Chunk":
                return (layer.chunks, layer.dim, layer.index)
            if layer.kind == "ChannelShuffle":
                return layer.groups
            return getattr(layer, "dims", None)  # Permute's; StochasticDepth needs nothing

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            values = {NETWORK_INPUT: x}
            for name, inputs, how, argument in self.steps:
                xs = [values[i] for i in inputs]
                if how == "Add":
                    out = xs[0]
                    for other in xs[1:]:
                        out = out + other
                elif how == "Mul":
                    out = xs[0]
                    for other in xs[1:]:
                        out = out * other
                elif how == "Concat":
                    out = torch.cat(xs, dim=argument)
                elif how == "adaptive_avg_pool":
                    out = torch.nn.functional.adaptive_avg_pool2d(xs[0], argument)
                elif how == "mean":  # keepdim: the spec's flatten follows
                    out = xs[0].mean([2, 3], keepdim=True)
                elif how == "Chunk":
                    chunks, dim, index = argument
                    out = xs[0].chunk(chunks, dim=dim)[index]
                elif how == "ChannelShuffle":
                    batch, channels, height, width = xs[0].shape
                    out = xs[0].view(batch, argument, channels // argument, height, width)
                    out = torch.transpose(out, 1, 2).contiguous().view(batch, -1, height, width)
                elif how == "Permute":
                    out = xs[0].permute(*argument)
                elif how == "LayerScale":
                    out = self.scales[argument] * xs[0]
                elif how == "StochasticDepth":
                    out = xs[0]
                else:
                    out = self.layers[argument](xs[0])
                values[name] = out
            return values[self.output_name]

    with torch.device(device):  # on meta, weights get no memory and no initialization
        return SpecModule().eval()


def measure(peer: str, net: str) -> int:
    """What the peer prints for specs/<net>.yaml built by spec_module (the calls peer_figures.json records)."""
    import torch

    model = spec_module(net)
    x = torch.zeros((1, *model.input_shape))
    if peer == "thop":
        import thop

        return int(thop.profile(model, inputs=(x,), verbose=False)[0])
    if peer == "ptflops":
        from ptflops import get_model_complexity_info

        figure, _ = get_model_complexity_info(
            model, model.input_shape, as_strings=False, print_per_layer_stat=False, backend="pytorch"
        )
        return int(figure)
    if peer == "torchinfo":
        import torchinfo

        return int(torchinfo.summary(model, input_data=x, verbose=0).total_mult_adds)
    if peer == "fvcore":
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, (x,))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return int(analysis.total())
    raise AssertionError(peer)


@pytest.mark.parametrize("net", NETWORKS)
def test_flop_counter_mode_counts_twice_the_macs(net: str) -> None:
    """PyTorch's own FlopCounterMode counts 2 FLOPs per multiply-accumulate, bias and everything else left out: on the
    same module the peers were measured on, it is exactly 2 x cnncalc's MACs (shapes only, on the meta device)."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = spec_module(net, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros((1, *model.input_shape), device="meta"))
    assert counter.get_total_flops() == 2 * summary(net)["totals"]["macs"]


@pytest.mark.parametrize("peer", PEERS)
def test_peer_measures_what_peer_figures_json_records(peer: str) -> None:
    pytest.importorskip("torch")
    pytest.importorskip({"fvcore": "fvcore.nn"}.get(peer, peer))
    for net in NETWORKS:
        assert measure(peer, net) == PEER_FIGURES["figures"][net][peer], net
