"""`cnncalc import`'s shape propagation takes the shapes of nodes that map to cnncalc layers from their kinds
(cnncalc.bridges.kind_shapes), not from torch's Python meta functions, which import sympy and torch._dynamo (issue
13: a second of CPU). These tests hold the fast path to the general one it stands in for: on every torchvision
classification model, the hand-written test models, every shipped spec exported to PyTorch and random leaf modules
on random inputs, every node's value (shape, dtype, layout) is the one torch computes on meta tensors, and where
torch refuses an input the error is the same. Then which modules a cold import loads (not a timing test)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, SPECS

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from cnncalc.bridges import from_torch  # noqa: E402
from cnncalc.bridges.kind_shapes import leaf_output  # noqa: E402
from cnncalc.bridges.torch_ops import load  # noqa: E402
from cnncalc.errors import UsageError  # noqa: E402


def described(value: Any) -> Any:
    """What later nodes can see of a value: a tensor's shape, dtype, layout and device; containers item by item."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.dtype, value.is_contiguous(), value.device.type)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [described(item) for item in value])
    if isinstance(value, dict):
        return {key: described(item) for key, item in value.items()}
    return ("value", value)


def both_ways(model: nn.Module, shape: tuple[int, ...], source: str = "model") -> tuple[Any, Any]:
    """Every node's described value, propagated with the kinds' shapes and with torch alone."""
    graph_module = from_torch.trace(from_torch._wrapped_if_leaf(model.eval()), source, shape)
    fast = from_torch.propagate(graph_module, shape, source)
    general = from_torch.propagate(graph_module, shape, source, shapes_from_kinds=False)
    nodes = list(graph_module.graph.nodes)
    return [(n.name, described(fast[n])) for n in nodes], [(n.name, described(general[n])) for n in nodes]


def assert_same_values(model: nn.Module, shape: tuple[int, ...]) -> None:
    fast, general = both_ways(model, shape)
    assert fast == general


# -- whole models ---------------------------------------------------------------------------------------------------
def _torchvision_names() -> list[str]:
    from torchvision_models import classification_models

    return classification_models()


@pytest.mark.parametrize("name", _torchvision_names())
def test_every_torchvision_model_propagates_as_torch_does(name: str) -> None:
    from test_import_torchvision import build, input_size

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # GoogLeNet's and Inception's init_weights notice
        model = build(name)
    assert_same_values(model, input_size(name, model))


def _small_cases() -> list[Any]:
    from test_import_torch import CASES

    return [pytest.param(name, shape, arguments, id=f"{name}-{shape}") for name, shape, arguments in CASES]


@pytest.mark.parametrize(("name", "shape", "arguments"), _small_cases())
def test_hand_written_models_propagate_as_torch_does(name: str, shape: str, arguments: dict[str, Any]) -> None:
    from test_import_torch import shape_of, small_model

    assert_same_values(small_model(name, **arguments), shape_of(shape))


def _exported(spec: str) -> ModuleType:
    from cnncalc.bridges.to_torch import export_source
    from cnncalc.spec import load_spec

    source = export_source(load_spec(str(SPECS / spec)), f"specs/{spec}", f"cnncalc export specs/{spec}")
    module = ModuleType(f"exported_{Path(spec).stem}")
    exec(compile(source, f"<export of {spec}>", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("spec", sorted(p.name for p in SPECS.glob("*.yaml")))
def test_shipped_specs_exported_to_pytorch_propagate_as_torch_does(spec: str) -> None:
    module = _exported(spec)
    with torch.device("meta"):
        model = module.build_model()
    assert_same_values(model, tuple(module.INPUT_SHAPE))


# -- random leaf modules on random inputs ----------------------------------------------------------------------------
def _random_module(rng: random.Random, channels: int, rank: int) -> nn.Module:
    """A leaf module with random arguments, built for `channels` input channels (its input may have others)."""
    dims = max(1, min(3, rank - 2))
    k, s, p, d = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2), rng.randint(1, 2)
    out = rng.choice([1, 2, 4, 6])
    conv = getattr(nn, f"Conv{dims}d")
    pad = rng.choice([p, "same", "valid"]) if s == 1 else p
    makers = [
        lambda: conv(channels, out, k, stride=s, padding=pad, dilation=d, groups=rng.choice([1, channels])),
        lambda: getattr(nn, f"ConvTranspose{dims}d")(channels, out, k, stride=s, padding=min(p, k - 1), dilation=d),
        lambda: getattr(nn, f"MaxPool{dims}d")(k, s, padding=min(p, k // 2), dilation=d, ceil_mode=rng.random() < 0.5),
        lambda: getattr(nn, f"AvgPool{dims}d")(k, s, padding=min(p, k // 2), ceil_mode=rng.random() < 0.5),
        lambda: getattr(nn, f"AdaptiveAvgPool{dims}d")(rng.randint(1, 5)),
        lambda: getattr(nn, f"AdaptiveMaxPool{dims}d")(rng.randint(1, 5)),
        lambda: getattr(nn, f"BatchNorm{dims}d")(channels, affine=rng.random() < 0.5),
        lambda: getattr(nn, f"InstanceNorm{dims}d")(channels, affine=rng.random() < 0.5),
        lambda: getattr(nn, f"ReflectionPad{dims}d")(p),
        lambda: getattr(nn, f"ZeroPad{dims}d")(p),
        lambda: getattr(nn, f"Dropout{dims}d")(0.5),
        lambda: nn.GroupNorm(rng.choice([1, 2, 3]), channels),
        lambda: nn.LayerNorm(rng.randint(1, 6)),
        lambda: nn.Linear(rng.randint(1, 6), out),
        lambda: nn.Flatten(rng.choice([0, 1, 2, -1]), rng.choice([-1, 2, 3])),
        lambda: nn.Upsample(scale_factor=rng.choice([2, 1.5]), mode=rng.choice(["nearest", "bilinear"])),
        lambda: nn.Softmax(dim=rng.choice([0, 1, -1])),
        lambda: nn.PReLU(rng.choice([1, channels])),
        lambda: nn.ChannelShuffle(rng.choice([1, 2, 3])),
        lambda: rng.choice([nn.ReLU, nn.GELU, nn.Hardswish, nn.Sigmoid, nn.Identity, nn.Dropout])(),
    ]
    return rng.choice(makers)()


def test_random_leaf_modules_take_torchs_shapes_or_run_on_torch() -> None:
    load()
    rng = random.Random(13)
    fast = 0
    for _ in range(1500):
        rank = rng.randint(2, 5)
        channels = rng.randint(1, 4)
        shape = [1, channels if rng.random() < 0.8 else channels + 1, *(rng.randint(1, 9) for _ in range(rank - 2))]
        try:
            module = _random_module(rng, channels, rank).eval().to("meta")  # as propagate swaps its weights
        except (ValueError, RuntimeError):  # arguments torch.nn refuses to build with
            continue
        value = torch.empty(shape, device="meta")
        quick = leaf_output(module, (value,), {})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = module(value)
        except Exception:  # noqa: BLE001 - torch refuses the input: the kind must refuse it too
            assert quick is None, (module, shape)
            continue
        if quick is not None:
            fast += 1
            assert described(quick) == described(expected), (module, shape)
    assert fast > 500  # the kinds answer for most of them


# -- where torch decides ---------------------------------------------------------------------------------------------
class _Hooked(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.conv.register_forward_hook(lambda module, args, out: out[:, :2])
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))


class _InPlaceBroadcast(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.mean([2, 3], keepdim=True)
        return y.mul_(x)  # torch refuses: the result would not fit y


class _ViewOfPermuted(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x.permute(0, 2, 3, 1)).view(1, -1)  # relu keeps the permuted layout: view refuses


def test_hooks_and_forwards_of_their_own_run_on_torch() -> None:
    assert_same_values(_Hooked(), (3, 8, 8))
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    model[0].forward = lambda x: nn.functional.conv2d(x, model[0].weight)[:, :1]
    assert_same_values(model, (3, 8, 8))


def test_instance_norm_built_for_other_channels_runs_on_torch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's "expected input's size at dim=1 to match"
        assert_same_values(nn.Sequential(nn.Conv2d(3, 6, 1), nn.InstanceNorm2d(4)), (3, 5, 5))


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(5)), (3, 8, 8)),
        (nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(7, 2)), (3, 8, 8)),
        (nn.Sequential(nn.Conv2d(4, 4, 3)), (3, 8, 8)),
        (nn.Sequential(nn.Conv2d(3, 4, 9)), (3, 8, 8)),
        (nn.Sequential(nn.Conv2d(3, 4, 3)).double(), (3, 8, 8)),  # a float32 input to float64 weights
        (_InPlaceBroadcast(), (3, 4, 4)),
        (_ViewOfPermuted(), (3, 4, 4)),
    ],
)
def test_inputs_torch_refuses_give_torchs_error_either_way(model: nn.Module, shape: tuple[int, ...]) -> None:
    messages = []
    for fast in (True, False):
        graph_module = from_torch.trace(model.eval(), "m:model", shape)
        with pytest.raises(UsageError) as error:
            from_torch.propagate(graph_module, shape, "m:model", shapes_from_kinds=fast)
        messages.append(error.value.render())
    assert messages[0] == messages[1]
    assert "m:model does not run on an input of" in messages[0]


def test_the_kinds_path_runs_no_python_meta_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's Python meta functions and references check their arguments with torch._check: none is called for
    a ResNet (the general path calls it hundreds of times)."""
    from torchvision_models import torchvision

    calls = []
    check = torch._check_with
    monkeypatch.setattr(torch, "_check_with", lambda *args, **kwargs: calls.append(1) or check(*args, **kwargs))
    with torch.device("meta"):
        model = torchvision().models.resnet50(weights=None).eval()
    graph_module = from_torch.trace(model, "resnet50", (3, 224, 224))
    calls.clear()
    from_torch.propagate(graph_module, (3, 224, 224), "resnet50")
    assert calls == []
    from_torch.propagate(graph_module, (3, 224, 224), "resnet50", shapes_from_kinds=False)
    assert len(calls) > 100


def test_a_cold_import_of_a_resnet_loads_neither_dynamo_nor_sympy(tmp_path: Path) -> None:
    """benchmarks/torch_resnet50.py is torchvision's ResNet-50 in plain torch (importing torchvision itself loads
    torch._dynamo, whatever cnncalc does)."""
    from test_cold_imports import MODULES_AT_EXIT

    listing = tmp_path / "modules.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    command = [sys.executable, "-c", MODULES_AT_EXIT, str(listing), "import", "torch_resnet50:ResNet50"]
    done = subprocess.run([*command, "--input", "3x224x224"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "name: ResNet50\n" in done.stdout
    loaded = set(listing.read_text().split())
    assert "torch" in loaded and "cnncalc.bridges.kind_shapes" in loaded
    assert not {"torch._dynamo", "sympy", "torch.fx.experimental.symbolic_shapes"} & loaded
