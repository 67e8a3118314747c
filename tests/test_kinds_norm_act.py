"""Hand-checkable cases for the normalization, activation and dropout kinds.

Each row states a configuration and the figures a reader can check on paper. The shapes, weights, buffers and
the validity of every row are also checked against torch.nn in tests/test_torch_norm_act.py, which imports these
tables, and which draws thousands more configurations; the other ops, windows, summaries, warnings and error
messages, which torch cannot tell, are pinned here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

import pytest

from cnncalc.errors import LayerError
from cnncalc.layers import REGISTRY, Shape, Window, make_layer

KINDS = (
    "BatchNorm1d BatchNorm2d BatchNorm3d InstanceNorm1d InstanceNorm2d InstanceNorm3d LayerNorm GroupNorm RMSNorm "
    "Dropout Dropout1d Dropout2d Dropout3d ReLU ReLU6 LeakyReLU PReLU ELU GELU SiLU Sigmoid Tanh Hardtanh "
    "Hardswish Hardsigmoid Softmax"
).split()

POINT = Window(0, 1, 0)


def whole(size: int) -> Window:
    """The window of an output that reads every position of an axis of `size`, centred on itself."""
    return Window(2 * (size - 1), 1, size - 1)


def pointwise(shape: Shape) -> tuple[Window, ...] | None:
    return (POINT,) * (len(shape) - 1) if len(shape) > 1 else None


def stats(shape: Shape) -> tuple[Window, ...] | None:
    """Statistics over every spatial axis of the input (GroupNorm, InstanceNorm, BatchNorm on batch statistics)."""
    return tuple(whole(size) for size in shape[1:]) if len(shape) > 1 else None


def running_stats(channels: int) -> dict[str, Shape]:
    return {"running_mean": (channels,), "running_var": (channels,), "num_batches_tracked": ()}


def affine(channels: int | Shape, bias: bool = True) -> dict[str, Shape]:
    shape = (channels,) if isinstance(channels, int) else channels
    return {"weight": shape, "bias": shape} if bias else {"weight": shape}


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    per_element: int  # other ops per element
    weights: dict[str, Shape] = field(default_factory=dict)
    buffers: dict[str, Shape] = field(default_factory=dict)
    window: tuple[Window, ...] | None | str = "pointwise"  # "pointwise" or "stats": derived from in_shape
    summary: str = ""
    warns: bool = False

    def expected_window(self) -> tuple[Window, ...] | None:
        if self.window == "pointwise":
            return pointwise(self.in_shape)
        if self.window == "stats":
            return stats(self.in_shape)
        assert not isinstance(self.window, str)
        return self.window


CASES = [
    # --- BatchNorm: eval mode normalizes with running statistics, 2 ops per element plus scale and shift.
    # ResNet's first BatchNorm: 64 weights + 64 biases, 2 * 64 running statistics + num_batches_tracked.
    Case(
        "bn2d-resnet",
        "BatchNorm2d",
        {},
        (64, 56, 56),
        4,
        affine(64),
        running_stats(64),
        summary="eps=1e-05",
    ),
    Case("bn1d-features", "BatchNorm1d", {}, (128,), 4, affine(128), running_stats(128), summary="eps=1e-05"),
    Case(
        "bn1d-sequence-no-affine",
        "batchnorm1d",
        {"affine": False, "momentum": None, "num_features": 8},
        (8, 10),
        2,
        {},
        running_stats(8),
        summary="eps=1e-05 affine=false",
    ),
    Case(
        "bn2d-weight-without-bias",
        "BatchNorm2d",
        {"bias": False, "eps": 1e-3},
        (3, 5, 5),
        3,
        {"weight": (3,)},
        running_stats(3),
        summary="eps=0.001",
    ),
    # Without running statistics eval mode uses the batch's: +3 per element, and the window spans each axis.
    Case(
        "bn3d-batch-statistics",
        "BatchNorm3d",
        {"track_running_stats": False, "bias": False},
        (4, 2, 3, 3),
        3 + 2 + 1,
        {"weight": (4,)},
        window="stats",
        summary="eps=1e-05 track_running_stats=false",
    ),
    # One value per channel per sample: a batch of 1 would be rejected by PyTorch, a batch of 2 works.
    Case(
        "bn1d-batch-statistics-one-value",
        "BatchNorm1d",
        {"track_running_stats": False},
        (5,),
        7,
        affine(5),
        window=None,
        summary="eps=1e-05 track_running_stats=false",
        warns=True,
    ),
    Case(
        "bn2d-eps-zero",
        "BatchNorm2d",
        {"eps": 0},
        (2, 2, 2),
        4,
        affine(2),
        running_stats(2),
        summary="eps=0",
        warns=True,
    ),
    # --- InstanceNorm: per sample and channel over the spatial axes; no weights or buffers by default.
    Case("in2d-default", "InstanceNorm2d", {}, (3, 4, 5), 5, window="stats", summary="eps=1e-05"),
    Case(
        "in1d-affine-running",
        "InstanceNorm1d",
        {"affine": True, "track_running_stats": True},
        (6, 10),
        4,
        affine(6),
        running_stats(6),
        summary="eps=1e-05 affine=true track_running_stats=true",
    ),
    Case(
        "in3d-running-one-position",
        "InstanceNorm3d",
        {"track_running_stats": True, "num_features": 2, "momentum": None},
        (2, 1, 1, 1),
        2,
        {},
        running_stats(2),
        summary="eps=1e-05 track_running_stats=true",
        warns=True,
    ),
    Case(
        "in2d-negative-eps",
        "InstanceNorm2d",
        {"eps": -0.5, "affine": True, "bias": False},
        (2, 3, 3),
        6,
        {"weight": (2,)},
        window="stats",
        summary="eps=-0.5 affine=true",
        warns=True,
    ),
    # --- LayerNorm: statistics over the last axes; weight and bias of normalized_shape.
    # A ViT-B block: 197 tokens of 768 features, 768 + 768 parameters.
    Case(
        "ln-vit-tokens",
        "LayerNorm",
        {"normalized_shape": 768},
        (197, 768),
        7,
        affine((768,)),
        window=(whole(768),),
        summary="over 768 eps=1e-05",
    ),
    Case(
        "ln-whole-volume-no-bias",
        "LayerNorm",
        {"normalized_shape": [16, 8, 8], "bias": False},
        (16, 8, 8),
        6,
        {"weight": (16, 8, 8)},
        window=(whole(8), whole(8)),
        summary="over 16 x 8 x 8 eps=1e-05",
    ),
    # Over the last axis only: the window spans W but not H.
    Case(
        "ln-last-axis-no-affine",
        "LayerNorm",
        {"normalized_shape": [6], "elementwise_affine": False, "eps": 1e-6},
        (2, 5, 6),
        5,
        window=(POINT, whole(6)),
        summary="over 6 eps=1e-06",
    ),
    # Over the channels of a vector: no spatial axis, no window.
    Case(
        "ln-vector",
        "LayerNorm",
        {"normalized_shape": [10]},
        (10,),
        7,
        affine((10,)),
        window=None,
        summary="over 10 eps=1e-05",
    ),
    # --- RMSNorm: no centring, weight only.
    Case(
        "rms-default",
        "RMSNorm",
        {"normalized_shape": [4, 6]},
        (2, 4, 6),
        2 + 1 + 1,
        {"weight": (4, 6)},
        window=(whole(4), whole(6)),
        summary="over 4 x 6",
    ),
    Case(
        "rms-no-affine",
        "rmsnorm",
        {"normalized_shape": 8, "eps": 1e-6, "elementwise_affine": False},
        (3, 8),
        3,
        window=(whole(8),),
        summary="over 8 eps=1e-06",
    ),
    # --- GroupNorm: per sample over groups of channels and every position.
    Case(
        "gn-resnet-32-groups",
        "GroupNorm",
        {"num_groups": 32},
        (256, 14, 14),
        7,
        affine(256),
        window="stats",
        summary="groups=32 eps=1e-05",
    ),
    Case(
        "gn-vector-no-bias",
        "GroupNorm",
        {"num_groups": 2, "num_channels": 4, "bias": False},
        (4,),
        6,
        {"weight": (4,)},
        window=None,
        summary="groups=2 eps=1e-05",
    ),
    # One group per channel is InstanceNorm with per-channel affine parameters.
    Case(
        "gn-instance-like",
        "GroupNorm",
        {"num_groups": 3, "affine": False},
        (3, 2, 2),
        5,
        window="stats",
        summary="groups=3 eps=1e-05 affine=false",
    ),
    # --- Dropout: the identity at inference.
    Case("dropout", "Dropout", {"p": 0.2}, (10,), 0, summary="p=0.2"),
    Case("dropout-volume", "Dropout", {}, (3, 4, 4), 0, summary="p=0.5"),
    Case("dropout-p1", "Dropout", {"p": 1}, (3,), 0, summary="p=1", warns=True),
    Case("dropout1d", "Dropout1d", {"p": 0.1, "inplace": True}, (16, 10), 0, summary="p=0.1"),
    Case("dropout1d-vector", "Dropout1d", {}, (16,), 0, summary="p=0.5", warns=True),
    Case("dropout2d", "Dropout2d", {"p": 0}, (64, 28, 28), 0, summary="p=0"),
    Case("dropout2d-sequence", "Dropout2d", {}, (64, 28), 0, summary="p=0.5", warns=True),
    Case("dropout2d-volume", "Dropout2d", {}, (4, 2, 2, 2), 0, summary="p=0.5", warns=True),
    Case("dropout3d", "Dropout3d", {}, (8, 4, 4, 4), 0, summary="p=0.5"),
    Case("dropout3d-image", "Dropout3d", {}, (8, 4, 4), 0, summary="p=0.5", warns=True),
    # --- Activations: same shape, pointwise.
    Case("relu-lenet", "ReLU", {}, (20, 28, 28), 1),
    Case("relu-inplace-vector", "relu", {"inplace": True}, (500,), 1),
    Case("relu6", "ReLU6", {}, (32, 112, 112), 2),
    Case("leaky", "LeakyReLU", {"negative_slope": 0.2}, (8, 4), 2, summary="slope=0.2"),
    Case("prelu-shared", "PReLU", {}, (3, 4, 4), 2, {"weight": (1,)}, summary="slopes=1 init=0.25"),
    Case(
        "prelu-per-channel",
        "PReLU",
        {"num_parameters": 3, "init": 0.1},
        (3, 4),
        2,
        {"weight": (3,)},
        summary="slopes=3 init=0.1",
    ),
    # In place with a negative factor: fine at inference, but torch's backward pass refuses it.
    Case(
        "leaky-inplace-negative",
        "LeakyReLU",
        {"negative_slope": -0.1, "inplace": True},
        (4,),
        2,
        summary="slope=-0.1",
        warns=True,
    ),
    Case("elu", "ELU", {"alpha": 0.5}, (2, 3), 4, summary="alpha=0.5"),
    Case("elu-inplace-negative", "ELU", {"alpha": -1, "inplace": True}, (4,), 4, summary="alpha=-1", warns=True),
    Case("gelu", "GELU", {}, (197, 768), 5),
    Case("gelu-tanh", "GELU", {"approximate": "tanh"}, (4, 4), 9, summary="tanh"),
    Case("silu", "SiLU", {}, (16, 8, 8), 3),
    Case("sigmoid", "Sigmoid", {}, (1, 5, 5), 3),
    Case("tanh", "Tanh", {}, (7,), 1),
    # The lecture quiz clips at +-7.
    Case("hardtanh-lecture", "Hardtanh", {"min_val": -7, "max_val": 7}, (3, 64, 64), 2, summary="min=-7 max=7"),
    Case("hardtanh-default", "Hardtanh", {}, (4,), 2, summary="min=-1 max=1"),
    Case("hardtanh-deprecated-name", "Hardtanh", {"min_value": -2.5}, (4,), 2, summary="min=-2.5 max=1", warns=True),
    Case("hardswish", "Hardswish", {}, (16, 8, 8), 5),
    Case("hardsigmoid", "Hardsigmoid", {"inplace": False}, (16, 1, 1), 4),
    # --- Softmax: dims count the batch axis, as in PyTorch.
    Case("softmax-classes", "Softmax", {"dim": 1}, (10,), 3, summary="dim=1"),
    Case("softmax-classes-implicit", "Softmax", {}, (10,), 3, summary="dim=1", warns=True),
    # Implicit dim on a 3-axis tensor (N x C x L) is 0, the batch axis.
    Case("softmax-implicit-batch-axis", "Softmax", {}, (3, 4), 3, summary="dim=0", warns=True),
    Case("softmax-implicit-channels", "Softmax", {}, (3, 4, 5), 3, summary="dim=1", warns=True),
    Case("softmax-last", "Softmax", {"dim": -1}, (3, 4, 5), 3, window=(POINT, whole(5)), summary="dim=3"),
    Case("softmax-height", "Softmax", {"dim": 2}, (3, 4, 5), 3, window=(whole(4), POINT), summary="dim=2"),
]


@dataclass(frozen=True)
class Bad:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    arg: str | None  # the argument the error points at
    says: str  # a fragment of the message or hint: what is wrong, or what would be valid


ERRORS = [
    Bad("bn2d-rank", "BatchNorm2d", {}, (3, 4), "inputs", "3 axes per sample (C x H x W)"),
    Bad("bn1d-rank", "BatchNorm1d", {}, (3, 4, 4), "inputs", "C or C x L"),
    Bad("bn3d-rank", "BatchNorm3d", {}, (3, 4, 4), "inputs", "C x D x H x W"),
    Bad("bn-num-features", "BatchNorm2d", {"num_features": 3}, (4, 2, 2), "num_features", "set it to 4"),
    # PyTorch allocates nothing of that size here and ignores it: cnncalc holds it to the input all the same.
    Bad(
        "bn-num-features-unused",
        "BatchNorm1d",
        {"num_features": 5, "affine": False, "track_running_stats": False},
        (4, 3),
        "num_features",
        "set it to 4",
    ),
    Bad("bn-num-features-zero", "BatchNorm1d", {"num_features": 0}, (4,), "num_features", "positive integer"),
    Bad("bn-eps-negative", "BatchNorm2d", {"eps": -1e-5}, (4, 2, 2), "eps", "non-negative"),
    Bad(
        "bn-eps-zero-batch-stats", "BatchNorm2d", {"eps": 0, "track_running_stats": False}, (4, 2, 2), "eps", "eps > 0"
    ),
    Bad("bn-unknown-argument", "BatchNorm2d", {"num_feature": 4}, (4, 2, 2), "num_feature", "num_features"),
    Bad("bn-affine-type", "BatchNorm2d", {"affine": "yes"}, (4, 2, 2), "affine", "true or false"),
    Bad("in2d-unbatched-reading", "InstanceNorm2d", {}, (4, 4), "inputs", "3 axes per sample"),
    Bad("in1d-rank", "InstanceNorm1d", {}, (4, 4, 4), "inputs", "C x L"),
    # PyTorch only warns here (affine false): cnncalc holds every given input size to the input.
    Bad("in1d-num-features", "InstanceNorm1d", {"num_features": 5}, (4, 4), "num_features", "set it to 4"),
    Bad("in2d-one-position", "InstanceNorm2d", {}, (4, 1, 1), "inputs", "track_running_stats: true"),
    Bad("ln-missing-shape", "LayerNorm", {}, (4,), "normalized_shape", "normalized_shape"),
    Bad(
        "ln-wrong-axes", "LayerNorm", {"normalized_shape": [8]}, (16, 8, 7), "normalized_shape", "7, [8, 7], [16, 8, 7]"
    ),
    Bad("ln-leading-axes", "LayerNorm", {"normalized_shape": [16, 8]}, (16, 8, 7), "normalized_shape", "last 2 axes"),
    Bad("ln-batch-axis", "LayerNorm", {"normalized_shape": [1, 4]}, (4,), "normalized_shape", "batch axis"),
    Bad("ln-empty", "LayerNorm", {"normalized_shape": []}, (4,), "normalized_shape", "list of them"),
    Bad(
        "rms-wrong-axes", "RMSNorm", {"normalized_shape": 3}, (3, 4), "normalized_shape", "use the input's last axes: 4"
    ),
    Bad("gn-divisible", "GroupNorm", {"num_groups": 3}, (16, 8, 8), "num_groups", "1, 2, 4, 8, 16"),
    Bad("gn-zero-groups", "GroupNorm", {"num_groups": 0}, (16, 8, 8), "num_groups", "positive integer"),
    Bad("gn-missing-groups", "GroupNorm", {}, (16, 8, 8), "num_groups", "num_groups"),
    # PyTorch ignores num_channels when affine is false: cnncalc holds it to the input.
    Bad(
        "gn-num-channels",
        "GroupNorm",
        {"num_groups": 2, "num_channels": 6, "affine": False},
        (4, 3),
        "num_channels",
        "set it to 4",
    ),
    Bad("gn-one-value-per-group", "GroupNorm", {"num_groups": 4}, (4, 1, 1), "num_groups", "fewer groups"),
    Bad("dropout-p-above-1", "Dropout", {"p": 1.5}, (4,), "p", "from 0 to 1"),
    Bad("dropout-p-negative", "Dropout2d", {"p": -0.1}, (4, 2, 2), "p", "from 0 to 1"),
    Bad("dropout1d-rank", "Dropout1d", {}, (4, 2, 2), "inputs", "C x L"),
    Bad("prelu-channels", "PReLU", {"num_parameters": 2}, (3, 4), "num_parameters", "use 1 (one slope shared"),
    Bad("prelu-zero", "PReLU", {"num_parameters": 0}, (3, 4), "num_parameters", "positive integer"),
    Bad("gelu-approximate", "GELU", {"approximate": "Tanh"}, (3,), "approximate", "did you mean 'tanh'"),
    Bad("hardtanh-equal", "Hardtanh", {"min_val": 2, "max_val": 2}, (3,), "max_val", "larger than 2"),
    Bad("hardtanh-swapped", "Hardtanh", {"min_val": 7, "max_val": -7}, (3,), "max_val", "swap them"),
    Bad("hardtanh-deprecated-swapped", "Hardtanh", {"min_value": 2}, (3,), "min_value", "greater than min_val (2)"),
    Bad("softmax-dim", "Softmax", {"dim": 4}, (3, 4, 5), "dim", "from -4 to 3"),
    Bad("softmax-negative-dim", "Softmax", {"dim": -3}, (3,), "dim", "from -2 to 1"),
    Bad("relu-inplace-type", "ReLU", {"inplace": "yes"}, (3,), "inplace", "true or false"),
    Bad("sigmoid-no-arguments", "Sigmoid", {"inplace": True}, (3,), "inplace", "its arguments: none"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    layer = make_layer(case.kind, case.args, case.in_shape)
    assert layer.out_shape == case.in_shape  # none of these kinds changes the shape
    assert layer.weights() == case.weights
    assert layer.params() == sum(prod(s) for s in case.weights.values())
    assert layer.buffers() == case.buffers
    assert layer.buffer_count() == sum(prod(s) for s in case.buffers.values())
    assert layer.macs() == 0  # MACs count only conv/linear inner products
    assert layer.other_ops() == case.per_element * prod(case.in_shape)
    assert layer.window() == case.expected_window()
    assert layer.summary() == case.summary
    assert bool(layer.warnings) == case.warns, layer.warnings


@pytest.mark.parametrize("bad", ERRORS, ids=[b.id for b in ERRORS])
def test_error(bad: Bad) -> None:
    with pytest.raises(LayerError) as raised:
        make_layer(bad.kind, bad.args, bad.in_shape)
    error = raised.value
    assert error.arg == bad.arg
    assert bad.says in error.render(), error.render()


def test_every_kind_has_cases_and_a_stated_rule() -> None:
    for kind in KINDS:
        cls = REGISTRY[kind.lower()]
        assert cls.kind == kind  # registered under torch's class name
        assert cls.ops_rule != "none", f"{kind} states no ops rule"
        assert any(c.kind.lower() == kind.lower() for c in CASES), f"no case for {kind}"
    covered = {b.kind for b in ERRORS}
    for kind in ("BatchNorm2d", "InstanceNorm2d", "LayerNorm", "RMSNorm", "GroupNorm", "Dropout", "PReLU", "Softmax"):
        assert kind in covered, f"no error case for {kind}"


def test_element_rules_name_their_count() -> None:
    """The ops rule of an element-wise activation states the count that other_ops uses."""
    for kind in ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SiLU", "Sigmoid", "Tanh", "Hardtanh", "Hardswish"):
        layer = make_layer(kind, {}, (3, 5))
        assert layer.ops_rule.startswith(f"{layer.other_ops() // 15} per element: "), layer.ops_rule


def test_given_input_sizes_that_match_are_accepted() -> None:
    """num_features / num_channels are inferred; given and equal to the input's, they change nothing."""
    for kind, name, extra in (
        ("BatchNorm2d", "num_features", {}),
        ("InstanceNorm2d", "num_features", {}),
        ("GroupNorm", "num_channels", {"num_groups": 2}),
    ):
        inferred = make_layer(kind, extra, (4, 3, 3))
        given = make_layer(kind, {**extra, name: 4}, (4, 3, 3))
        assert getattr(inferred, name) == getattr(given, name) == 4
        assert inferred.weights() == given.weights() and inferred.buffers() == given.buffers()


def test_window_spans_only_the_normalized_axes() -> None:
    """LayerNorm over the last axis mixes positions along W only; with running stats BatchNorm mixes none."""
    layer = make_layer("LayerNorm", {"normalized_shape": 5}, (2, 3, 5))
    first, last = layer.window()
    assert first == POINT and last == whole(5)
    bn = make_layer("InstanceNorm2d", {"track_running_stats": True}, (2, 3, 5))
    assert bn.window() == (POINT, POINT)
