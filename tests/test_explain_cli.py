"""`cnncalc explain`: every layer's derivations; every formula evaluates to the figure `summary` reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from test_layer_cli import evaluate

from cnncalc.spec import load_spec

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))
AXES = {2: "L", 3: "HW", 4: "DHW"}


def test_lenet_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("explain", "specs/lenet5.yaml")
    assert result.code == 0, result.err
    golden("lenet5.explain.txt", result.out)


def test_one_layer_and_a_misspelt_one() -> None:
    result = run_cli("explain", "specs/lenet5.yaml", "--layer", "conv2")
    assert result.code == 0
    assert result.out.startswith("conv2: Conv2d k5 p2\n") and "conv1" not in result.out
    assert "(20*5*5 + 1)*50 = 25,050" in result.out
    wrong = run_cli("explain", "specs/lenet5.yaml", "--layer", "conv3")
    assert wrong.code == 2 and "did you mean 'conv2'?" in wrong.err


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_every_formula_equals_its_figure(path: Path) -> None:
    graph = load_spec(str(path))
    for node in graph.nodes:
        layer = node.bound()
        figures = {"params": layer.params(), "MACs": layer.macs(), "buffers": layer.buffer_count()}
        for axis, size in zip(AXES.get(len(layer.out_shape), ""), layer.out_shape[1:], strict=False):
            figures[f"output {axis} (PyTorch)"] = figures[f"output {axis} (lecture)"] = size
        for what, term in layer.explain():
            assert evaluate(term.numbers) == term.value, (node.name, what)
            if what in figures:
                assert term.value == figures[what], (node.name, what)


def test_foldable_batchnorm_is_noted_with_what_fuse_saves(tmp_path: Path) -> None:
    import json

    report = json.loads(run_cli("fuse", "specs/lenet5_bn.yaml", "-o", str(tmp_path / "f.yaml"), "-f", "json").out)
    explained = run_cli("explain", "specs/lenet5_bn.yaml").out
    for pair in report["folded"]:
        assert (
            f"it folds into '{pair['layer']}'" in explained
            and f"saving {pair['params_saved']:,} params, {pair['buffers_saved']:,} buffers and "
            f"{pair['flops_saved']:,} FLOPs"
            in explained
        )
