"""`cnncalc export`: every shipped spec written as PyTorch source, run in torch, and compared with cnncalc.

Round trip per spec: the module's state_dict has the spec's names and cnncalc's shapes (weights and buffers per
layer), its parameter and buffer totals are `cnncalc summary`'s, its output shape is the spec's, and its
FlopCounterMode total / 2 is the summary's MACs (FlopCounterMode counts 2 FLOPs per multiply-accumulate, bias
excluded, as tests/test_torch_conv.py compares). The float64 forward with `cnncalc run`'s weights (the spec's, else
seeded) equals the exact executor's output on small inputs; where the executor's budget refuses even a small input
(VGG-16's 4096-wide classifier, U-Net), it equals tests/torch_graph.py's layer-by-layer run of the same graph.
Shapes and FLOPs are measured on the meta device (no memory, no arithmetic). specs/inputs/ holds input files, not
specs. torchvision's ShuffleNetV2 loads into the exported shufflenet_v2_x1_0 with strict=True and computes the same.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, SPECS, run_cli

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402  (only once torch is known to be there)

from cnncalc.bridges.to_torch import export_source  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.execute import generated_input  # noqa: E402
from cnncalc.graph import Graph  # noqa: E402
from cnncalc.runner import run_spec  # noqa: E402
from cnncalc.spec import at_input, load_spec  # noqa: E402

SPEC_FILES = sorted(p.name for p in SPECS.glob("*.yaml"))
# The exact executor (pure Python) runs the specs up to these sizes at their small input, in a few seconds each.
EXACT_MACS = 30_000_000
EXACT_PARAMS = 12_000_000


@cache
def graph_at(spec: str, small: bool = False) -> Graph:
    """The spec's graph at its own input, or at the smallest spatial size (2, 4, 8, ...) it takes."""
    graph = load_spec(str(SPECS / spec))
    if not small or len(graph.input_shape) < 2:
        return graph
    channels, *spatial = graph.input_shape
    size = 2
    while True:
        try:
            return at_input(graph, (channels, *(min(size, d) for d in spatial)))
        except CnncalcError:  # too small for its strides and pools
            if size >= max(spatial):
                raise
            size *= 2


@cache
def exported(spec: str, small: bool = False) -> ModuleType:
    """The exported source of the spec (at its small input with `small`), imported as a module."""
    source = export_source(graph_at(spec, small), f"specs/{spec}", f"cnncalc export specs/{spec}")
    module = ModuleType(f"exported_{Path(spec).stem}")
    exec(compile(source, f"<export of {spec}>", "exec"), module.__dict__)
    module.SOURCE = source  # type: ignore[attr-defined]
    return module


@cache
def summaries() -> dict[str, dict[str, Any]]:
    """`cnncalc summary --format json` of every shipped spec, by file name (one process)."""
    done = run_cli("summary", *(f"specs/{s}" for s in SPEC_FILES), "--format", "json")
    assert done.code == 0, done.err
    return {Path(report["file"]).name: report for report in json.loads(done.out)}


def meta_model(spec: str) -> Any:
    with torch.device("meta"):
        return exported(spec).build_model()


def expected_entries(graph: Graph) -> dict[str, tuple[int, ...]]:
    entries = {}
    for node in graph.nodes:
        layer = node.bound()
        for name, shape in {**layer.weights(), **layer.buffers()}.items():
            entries[f"{node.name}.{name}"] = tuple(shape)
    return entries


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_state_dict_is_the_specs_names_and_shapes(spec: str) -> None:
    state = meta_model(spec).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected_entries(graph_at(spec))


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_totals_output_shape_and_macs_equal_summary(spec: str) -> None:
    model = meta_model(spec)
    totals = summaries()[spec]["totals"]
    assert sum(p.numel() for p in model.parameters()) == totals["params"]
    assert sum(b.numel() for b in model.buffers()) == totals["buffers"]
    graph = graph_at(spec)
    x = torch.zeros((1, *graph.input_shape), device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = model(x)
    assert tuple(y.shape[1:]) == graph.output_shape
    assert counter.get_total_flops() == 2 * totals["macs"]


def _as_float(tensor: Any) -> Any:
    """An exact cnncalc Tensor in float64 (each value rounded once: Python's int / int is correctly rounded)."""
    values = tensor.data if tensor.denominator == 1 else [v / tensor.denominator for v in tensor.data]
    return torch.tensor(values, dtype=torch.float64).reshape(tensor.shape)


def _assert_close(got: Any, expected: Any) -> None:
    assert got.shape == expected.shape
    scale = max(1.0, float(expected.abs().max()))
    assert float((got - expected).abs().max()) <= 1e-9 * scale, (got, expected)


def _small_model(spec: str) -> tuple[Any, Graph]:
    return exported(spec, small=True).build_model().double(), graph_at(spec, small=True)


def _cost(spec: str) -> tuple[int, int]:
    """MACs at the small input and parameters: what the exact executor's time grows with."""
    graph = graph_at(spec, small=True)
    return sum(n.bound().macs() for n in graph.nodes), sum(n.bound().params() for n in graph.nodes)


EXACT = [s for s in SPEC_FILES if _cost(s)[0] <= EXACT_MACS and _cost(s)[1] <= EXACT_PARAMS]


@pytest.mark.parametrize("spec", EXACT)
def test_float64_forward_equals_cnncalc_run(spec: str) -> None:
    model, graph = _small_model(spec)
    x = generated_input((1, *graph.input_shape), 1)
    execution = run_spec(graph, x, 1, "eval")
    values = {
        f"{layer}.{name}": _as_float(tensor)
        for layer, entries in execution.weights.items()
        for name, tensor in entries.items()
    }
    model.load_state_dict(values, strict=True)  # the values `cnncalc run --seed 1` used: the spec's, else seeded
    with torch.no_grad():
        got = model(_as_float(x))
    _assert_close(got, _as_float(execution.run.output))


@pytest.mark.parametrize("spec", [s for s in SPEC_FILES if s not in EXACT])
def test_float64_forward_equals_the_graph_run_in_torch(spec: str) -> None:
    from torch_graph import TorchGraph
    from torchvision_models import torchvision

    try:  # torch_graph's StochasticDepth imports torchvision where it is installed: declare its operators first
        torchvision()
    except pytest.skip.Exception:
        pass
    model, graph = _small_model(spec)
    reference = TorchGraph(graph)
    state = model.state_dict()
    with torch.no_grad():
        for node in graph.nodes:
            module = reference.modules.get(node.name)
            for name, value in module.state_dict().items() if module is not None else ():
                value.copy_(state[f"{node.name}.{name}"])
        x = torch.randn((2, *graph.input_shape), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        _assert_close(model(x), reference(x)[graph.output])


def test_the_specs_weights_are_loaded_by_build_model() -> None:
    graph = graph_at("conv_gradients.yaml")
    state = exported("conv_gradients.yaml").build_model().state_dict()
    given = graph.nodes[0].values
    assert state[f"{graph.nodes[0].name}.weight"].tolist() == given["weight"]
    assert state[f"{graph.nodes[0].name}.bias"].tolist() == given["bias"]


def test_the_source_needs_only_torch_and_reads_as_python_written_by_hand() -> None:
    source = exported("resnet18.yaml").SOURCE
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import torch", "from torch import nn"]
    assert source.startswith("# Generated by cnncalc") and "To rebuild it: cnncalc export specs/resnet18.yaml" in source
    for line in ("class Basic(nn.Module):", "self.layer1 = nn.ModuleList([Basic(out=64), Basic(out=64)])"):
        assert line in source
    assert "def build_model() -> Resnet18:" in source
    assert not exported("resnet18.yaml").build_model().training  # eval mode


def test_the_sources_pass_ruff(tmp_path: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for spec in SPEC_FILES:
        (tmp_path / f"{Path(spec).stem}.py").write_text(exported(spec).SOURCE, encoding="utf-8")
    done = subprocess.run(
        [ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_torchvision_shufflenet_loads_strictly_and_computes_the_same() -> None:
    from torchvision_models import torchvision

    models = torchvision().models
    reference = models.shufflenet_v2_x1_0(weights=None).eval()
    model = exported("shufflenet_v2_x1_0.yaml").build_model()
    model.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn((2, 3, 64, 64), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


# -- the command ----------------------------------------------------------------------------------------------------


def test_export_writes_an_importable_module(tmp_path: Path) -> None:
    target = tmp_path / "lenet.py"
    done = run_cli("export", "specs/lenet5.yaml", "-o", str(target))
    assert done.code == 0, done.err
    assert done.out == ""
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import lenet, torch; "
        "m = lenet.build_model(); print(tuple(m(torch.zeros(1, *lenet.INPUT_SHAPE)).shape))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(1, 10)"
    header = " ".join(line.removeprefix("# ") for line in target.read_text(encoding="utf-8").splitlines()[1:3])
    assert f"To rebuild it: cnncalc export specs/lenet5.yaml -o {target}" in header


def test_export_to_standard_output_and_at_another_input() -> None:
    done = run_cli("export", "specs/unet.yaml", "--input", "1x32x32")
    assert done.code == 0, done.err
    assert "INPUT_SHAPE = (1, 32, 32)" in done.out
    assert "# To rebuild it: cnncalc export specs/unet.yaml --input 1x32x32" in done.out


def test_export_does_not_import_torch() -> None:
    code = (
        "import sys\nfrom cnncalc.cli import main\nsys.argv = ['cnncalc', 'export', 'specs/resnet18.yaml']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nassert 'torch' not in sys.modules, 'torch imported'\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "class Resnet18(nn.Module):" in ran.stdout


def test_an_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("export", "specs/lenet5.yaml", "-o", str(tmp_path / "missing" / "model.py"))
    assert done.code == 2
    assert "cannot write" in done.err and "Traceback" not in done.err


def test_a_spec_that_fails_to_load_gives_the_usual_message(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 4, kernel_sise: 3}\n", encoding="utf-8")
    done = run_cli("export", str(spec))
    assert done.code == 2
    assert f"{spec}:3:" in done.err and "kernel_sise" in done.err and "Traceback" not in done.err
    assert done.out == ""


ODD = """
input: [8, 6, 6]
blocks:
  mixer:              # attention over positions; reads a layer outside the block (`extra`)
    params: {heads: 2, extra: null}
    layers:
      - mul: {inputs: [input, $extra], name: gate}
      - flatten: {start_dim: 2, name: tokens}
      - transpose: {dim0: 1, dim1: 2}
      - multiheadattention: {embed_dim: 8, num_heads: $heads, batch_first: true, name: attn}
      - layerscale: {dim: -1, name: ls}
      - transpose: {dim0: 1, dim1: 2, inputs: transpose_1, name: back}
      - matmul: {inputs: [ls, back]}
  conv_bn:
    layers:
      - conv2d: {out_channels: 8, kernel_size: 1, name: conv}
      - batchnorm2d: {name: bn}
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, name: stem-a}
  - relu: {name: class, inplace: true}
  - conv2d: {out_channels: 8, kernel_size: 1, name: seq.0}
  - conv2d: {out_channels: 8, kernel_size: 1, name: seq.2}
  - chunk: {chunks: 2, dim: 1, name: halves}
  - concat: {inputs: [halves.1, halves.0]}
  - reshape: {shape: [4, 2, 36]}
  - view: {shape: [8, 6, 6]}
  - permute: {dims: [0, 1, 3, 2]}
  - centercrop: {size: 4}
  - centercrop: {inputs: [centercrop_1, later]}
  - conv_bn: {name: cb}
  - add: {inputs: [cb.conv, cb]}               # reads inside a block use: written inline
  - mixer: {name: mix1, extra: add_1, inputs: cb}
  - mixer: {heads: 4, name: mix2, extra: add_1, inputs: cb}
  - add: {inputs: [mix1, mix2]}
  - maxpool2d: {kernel_size: 2, inputs: class, name: later}   # read before it is written
  - flatten: {inputs: later}
  - linear: {out_features: 81}
  - reshape: {shape: [9, 9]}
  - add: {inputs: [add_2, reshape_2]}
"""


def test_every_kind_of_reference_and_expression_runs_as_the_graph() -> None:
    from torch_graph import TorchGraph

    from cnncalc.spec import parse_spec

    graph = parse_spec(ODD, "odd.yaml")
    source = export_source(graph, "odd.yaml", "cnncalc export odd.yaml")
    module = ModuleType("odd")
    exec(compile(source, "<export of odd.yaml>", "exec"), module.__dict__)
    model = module.build_model().double()
    state = model.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == expected_entries(graph)
    for line in (
        'self.add_module("stem-a", nn.Conv2d(8, 8, kernel_size=3, padding=1))',
        "def forward(self, x: torch.Tensor, extra: torch.Tensor)",
    ):
        assert line in source
    assert "inplace" not in source
    reference = TorchGraph(graph)
    with torch.no_grad():
        for node in graph.nodes:
            layer_module = reference.modules.get(node.name)
            for name, value in layer_module.state_dict().items() if layer_module is not None else ():
                value.copy_(state[f"{node.name}.{name}"])
        x = torch.randn((2, *graph.input_shape), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        _assert_close(model(x), reference(x)[graph.output])


# One spec per construct (blocks and forms, chunk and concat, external reads, permute and layer scale). Not
# unet_original: torch.fx cannot trace the exported center_crop (it reads sizes with len()).
ROUND_TRIP = [
    "lenet5_bn.yaml",
    "resnet18.yaml",
    "shufflenet_v2_x1_0.yaml",
    "efficientnet_b0.yaml",
    "unet.yaml",
    "convnext_tiny.yaml",
]


@pytest.mark.parametrize("spec", ROUND_TRIP)
def test_import_of_the_export_gives_the_specs_figures(spec: str, tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("cnncalc.commands.import_") is None:
        pytest.skip("cnncalc import is not on this branch")
    stem = f"exported_{Path(spec).stem}"
    (tmp_path / f"{stem}.py").write_text(exported(spec).SOURCE, encoding="utf-8")
    shape = "x".join(map(str, graph_at(spec).input_shape))
    imported = tmp_path / "imported.yaml"
    done = run_cli(
        "import", f"{stem}:build_model", "--input", shape, "-o", str(imported), env={"PYTHONPATH": str(tmp_path)}
    )
    assert done.code == 0, done.err
    figures = run_cli("summary", str(imported), "--format", "json")
    assert figures.code == 0, figures.err
    totals, expected = json.loads(figures.out)["totals"], summaries()[spec]["totals"]
    for key in ("params", "buffers", "macs", "output_shape"):
        assert totals[key] == expected[key], key
