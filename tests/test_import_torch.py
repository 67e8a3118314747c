"""`cnncalc import` of small hand-written PyTorch models (tests/fixtures/torch_import/small_models.py), through
the CLI as a user runs it: the spec written loads, and its params, buffers, output shape and MACs equal PyTorch's
(FlopCounterMode's total / 2, from a forward pass of the model itself). Then the errors: one clear message, exit 2,
no traceback, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_cli

torch = pytest.importorskip("torch")

from torch_reference import pytorch_figures  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "torch_import"
ENV = {"PYTHONPATH": os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")])}


def imported(source: str, shape: str, *args: str) -> str:
    done = run_cli("import", source, "--input", shape, *args, env=ENV)
    assert done.code == 0, done.err
    assert "Traceback" not in done.err
    return done.out


def cnncalc_figures(text: str) -> dict[str, object]:
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    totals = analyze(parse_spec(text, "imported.yaml")).totals
    return {
        "params": totals.params,
        "buffers": totals.buffers,
        "output_shape": list(totals.output_shape),
        "macs": totals.macs,
    }


def small_model(name: str, **arguments: object) -> torch.nn.Module:
    import importlib
    import sys

    sys.path.insert(0, str(FIXTURES))
    try:
        module = importlib.import_module("small_models")
    finally:
        sys.path.remove(str(FIXTURES))
    return getattr(module, name)(**arguments)


def shape_of(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("x"))


CASES = [
    ("modules", "3x16x16", {}),
    ("modules", "3x20x20", {"channels": 4, "classes": 7}),
    ("Functional", "4x8x8", {}),
    ("blocks", "8x12x12", {}),
    ("Tokens", "16x32", {}),
    ("Aux", "3x16x16", {}),
    ("channels_last_norm", "3x6x6", {}),
    ("Resized", "2x5x5", {}),
    ("ShapeDependent", "3x8x8", {}),
    ("Extras", "4x6x6", {}),  # control flow on sizes: fx's MetaTracer
]


@pytest.mark.parametrize(("name", "shape", "arguments"), CASES)
def test_import_equals_pytorch(name: str, shape: str, arguments: dict[str, object]) -> None:
    args = [f"--arg={key}={value}" for key, value in arguments.items()]
    text = imported(f"small_models:{name}", shape, *args)
    torch.manual_seed(0)
    assert cnncalc_figures(text) == pytorch_figures(small_model(name, **arguments), shape_of(shape), device="cpu")


def test_leaf_module_arguments_differing_from_defaults_are_written() -> None:
    text = imported("small_models:modules", "3x16x16")
    assert '- conv2d: {out_channels: 8, kernel_size: 3, padding: 1, bias: false, name: "0"}' in text
    assert '- batchnorm2d: {eps: 0.001, momentum: 0.01, name: "1"}' in text
    assert '- relu: {name: "2"}' in text  # inplace is not written: it changes no figure
    assert '- maxpool2d: {kernel_size: 3, stride: 2, ceil_mode: true, name: "10"}' in text
    assert '- upsample: {scale_factor: 2.0, mode: bilinear, name: "14"}' in text
    assert "in_channels" not in text and "num_features" not in text


def test_functional_calls_are_named_in_their_module_and_shapes_resolved() -> None:
    text = imported("small_models:Functional", "4x8x8")
    assert "- chunk: {chunks: 2, index: 1, name: chunk_1, inputs: mul_1}" in text
    assert "- split: {split_size_or_sections: [3, 5], index: 0, name: split, inputs: mul_1}" in text
    assert "- reshape: {shape: [25, 16], name: reshape}" in text  # x.size(0), -1 resolved, batch axis kept
    assert "- view: {shape: [256], name: view, inputs: max_pool2d}" in text
    assert "- adaptiveavgpool2d: {output_size: 1, name: mean, inputs: max_pool2d}" in text  # x.mean([2, 3])
    assert "contiguous" not in text


def test_module_parameters_read_by_functional_calls_keep_their_names() -> None:
    text = imported("small_models:blocks", "8x12x12", "--flat")
    assert "- layernorm: {normalized_shape: [8], eps: 1e-06, name: stages.0.norm}" in text  # F.layer_norm
    assert "- layerscale: {name: stages.1.layer_scale}" in text  # x * parameter
    assert "- add: {name: stages.2.add, inputs: [stages.1.add, stages.2.layer_scale]}" in text
    assert "- relu: {name: act_1}" in text  # a module called a second time


def test_a_module_whose_forward_is_one_call_names_that_call() -> None:
    text = imported("small_models:channels_last_norm", "3x6x6")
    assert '- permute: {dims: [0, 2, 3, 1], name: "1"}' in text
    assert '- permute: {dims: [0, 3, 1, 2], name: "3"}' in text


def test_scopes_are_the_enclosing_module_instances() -> None:
    from cnncalc.bridges.from_torch import import_module
    from cnncalc.bridges.network import Scope

    network, shape = import_module(small_model("blocks"), (8, 12, 12))
    layers = {layer.name: layer for layer in network.layers}
    assert shape == (4,)
    assert layers["stages.1.conv"].scopes == (Scope("stages", "Sequential"), Scope("stages.1", "Block"))
    assert layers["stages.1.norm"].scopes == (Scope("stages", "Sequential"), Scope("stages.1", "Block"))
    assert layers["stages.1.norm.permute"].scopes == (
        Scope("stages", "Sequential"),
        Scope("stages.1", "Block"),
        Scope("stages.1.norm", "LayerNorm2d"),
    )
    assert layers["stages.1.add"].scopes == (Scope("stages", "Sequential"), Scope("stages.1", "Block"))
    assert layers["fc"].scopes == ()


def test_unreached_parameters_are_reported_and_left_out() -> None:
    text = imported("small_models:Aux", "3x16x16")
    assert "# note: 7,850 parameters (2 tensors) are never reached" in text
    assert text.rstrip().endswith("aux") is False and "aux" in text.splitlines()[1]


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    done = run_cli("import", "small_models:Aux", "--input", "3x16x16", "-o", str(out), env=ENV)
    assert done.code == 0, done.err
    assert done.out == ""
    assert out.read_text().startswith("# imported by cnncalc import from small_models:Aux\n")


def failed(*args: str, env: dict[str, str] | None = None) -> str:
    done = run_cli("import", *args, env=env or ENV)
    assert done.code == 2, (done.out, done.err)
    assert done.out == ""
    assert "Traceback" not in done.err
    return done.err


def test_unsupported_operations_are_listed_once_with_where(tmp_path: Path) -> None:
    out = tmp_path / "model.yaml"
    err = failed("small_models:Unsupported", "--input", "3x8x8", "-o", str(out))
    assert "uses 3 operations cnncalc cannot express (nothing was written)" in err
    assert "  torch.roll(): roll, roll_1\n" in err
    assert "  multiplying by a constant (operator.mul): mul\n" in err
    assert "  indexing or slicing a tensor (x[...]): getitem\n" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("small_models", "expected SOURCE as package.module:callable or a file.onnx, got 'small_models'"),
        ("torch.nnn:Linear", "no module named 'torch.nnn'\n  hint: did you mean 'nn'?"),
        ("small_models:modulez", "small_models has no attribute 'modulez'\n  hint: did you mean 'modules'?"),
        ("small_models:not_a_model", "small_models:not_a_model returned int, not a torch.nn.Module"),
    ],
)
def test_bad_sources(source: str, message: str) -> None:
    assert message in failed(source, "--input", "3x8x8")


def test_input_is_required_for_a_callable() -> None:
    assert "needs the input size of one sample: --input" in failed("small_models:modules")


def test_arguments_the_callable_does_not_take() -> None:
    err = failed("small_models:modules", "--input", "3x16x16", "--arg", "width=3")
    assert "unexpected keyword argument 'width'" in err


def test_an_input_the_model_does_not_take() -> None:
    err = failed("small_models:modules", "--input", "5x16x16")
    assert "small_models:modules does not run on an input of 5x16x16 (one sample)" in err


def test_without_torch(tmp_path: Path) -> None:
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('torch is not installed here')\n")
    err = failed("small_models:modules", "--input", "3x16x16", env={"PYTHONPATH": str(tmp_path)})
    assert "this needs torch, which is not installed: pip install 'cnncalc[torch]'" in err


def test_a_bare_torch_nn_layer() -> None:
    text = imported(
        "torch.nn:Conv2d", "3x32x32", "--arg", "in_channels=3", "--arg", "out_channels=8", "-a", "kernel_size=3"
    )
    assert text.endswith("layers:\n  - conv2d: {out_channels: 8, kernel_size: 3, name: conv2d}\n")


def test_an_onnx_source_goes_to_the_onnx_importer(tmp_path: Path) -> None:
    try:
        import cnncalc.bridges.from_onnx  # noqa: F401
    except ImportError:
        err = failed(str(tmp_path / "model.onnx"))
        assert "this cnncalc cannot read ONNX files yet" in err
    else:
        pytest.skip("the ONNX importer's own tests cover it (tests/test_import_onnx.py)")


def test_a_model_fx_cannot_trace_says_where() -> None:
    err = failed("small_models:DataDependent", "--input", "3x4x4")
    assert "small_models:DataDependent: torch.fx cannot trace the model in gate.1 (Gate): TraceError:" in err


def test_a_builder_that_fails() -> None:
    err = failed("small_models:modules", "--input", "3x16x16", "--arg", "channels=-1")
    assert "calling small_models:modules failed: RuntimeError:" in err


def test_a_spec_whose_output_is_not_the_traced_one_is_not_written() -> None:
    from cnncalc.commands.import_ import _check_reads_back
    from cnncalc.errors import UsageError

    text = "name: n\ninput: [3, 8, 8]\nlayers:\n  - flatten\n"
    _check_reads_back(text, (192,), "n.yaml")
    with pytest.raises(UsageError, match=r"output shape \[192\] is not the traced model's \[10\]"):
        _check_reads_back(text, (10,), "n.yaml")
    with pytest.raises(UsageError, match="the imported spec does not load"):
        _check_reads_back(text.replace("flatten", "flattn"), (192,), "n.yaml")
