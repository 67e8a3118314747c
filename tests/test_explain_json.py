"""`cnncalc explain --format json`: the derivations the text shows, for machines. Every formula evaluates to its
value, and every value equals the figure `summary --format json` reports for that layer (batch 1: explain's
figures are per sample); the text and the JSON show the same formulas, notes and receptive-field steps."""

from __future__ import annotations

import ast
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS, run_cli
from test_layer_cli import FUNCTIONS, OPERATORS, figures_of

ALL_SPECS = sorted(SPECS.glob("*.yaml"))


def explain_json(path: str, *options: str) -> dict[str, Any]:
    result = run_cli("explain", path, "--format", "json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def summary_json(path: str, *options: str) -> dict[str, Any]:
    result = run_cli("summary", path, "--format", "json", "--batch", "1", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def evaluate(text: str) -> Fraction:
    """test_layer_cli's evaluator (+, -, *, /, floor, ceil over integer literals), with negative literals too:
    receptive-field steps substitute negative paddings (a centre crop's), as in `2 + -4*1`."""

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left, right = walk(node.left), walk(node.right)
            return left / right if isinstance(node.op, ast.Div) else OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            (argument,) = node.args
            return Fraction(FUNCTIONS[node.func.id](walk(argument)))
        raise AssertionError(f"unexpected formula text: {ast.dump(node)}")

    return walk(ast.parse(text, mode="eval"))


def wanted_figures(row: dict[str, Any], layout: str) -> dict[str, Any]:
    """What each formula must equal (test_layer_cli's table), plus the channel axis a concat joins along."""
    wanted = figures_of(row | {"layout": layout})
    shape = row["output_shape"]
    wanted["output C (PyTorch)"] = shape[0] if layout == "chw" or len(shape) < 2 else shape[-1]
    if row["type"] == "ChannelShuffle":  # the group size it derives: C / groups, groups read from the table's summary
        wanted["channels per group"] = wanted["output C (PyTorch)"] // int(row["summary"].removeprefix("groups "))
    return wanted


def exact(value: int | str) -> int | Fraction:
    """A JSON figure: an int, or a "p/q" string for a fractional receptive-field value."""
    return value if isinstance(value, int) else Fraction(value)


def test_lenet_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("explain", "specs/lenet5.yaml", "--format", "json")
    assert result.code == 0 and result.err == "", result.err
    golden("lenet5.explain.json", result.out)


def test_text_unchanged_by_the_option(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("explain", "specs/lenet5.yaml", "--format", "table")
    assert result.code == 0
    golden("lenet5.explain.txt", result.out)


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda path: path.stem)
def test_every_formula_equals_the_summary_figure(path: Path) -> None:
    check_against_summary(str(path))


def test_fractional_receptive_fields(tmp_path: Path) -> None:
    """After an upsampling, effective strides and sizes are fractions: "p/q" strings, as in summary's JSON."""
    spec = tmp_path / "up.yaml"
    spec.write_text(
        "input: [1, 8, 8]\nlayers:\n  - upsample: {scale_factor: 2}\n"
        "  - conv2d: {out_channels: 1, kernel_size: 3, padding: 1}\n  - avgpool2d: {kernel_size: 2}\n",
        encoding="utf-8",
    )
    layers = check_against_summary(str(spec))
    size = layers[1]["receptive_field_step"]["axes"][0]["size"]
    assert isinstance(size["value"], str) and "/" in size["numbers"]  # fractions on both sides were checked


def check_against_summary(path: str) -> list[dict[str, Any]]:
    data = explain_json(path)
    summary = summary_json(path)
    assert {k: data[k] for k in ("schema_version", "cnncalc_version", "name", "layout", "input_shape")} == {
        k: summary[k] for k in ("schema_version", "cnncalc_version", "name", "layout", "input_shape")
    }
    assert [layer["name"] for layer in data["layers"]] == [layer["name"] for layer in summary["layers"]]
    shapes = {"input": summary["input_shape"]} | {layer["name"]: layer["output_shape"] for layer in summary["layers"]}
    fields = {layer["name"]: layer["receptive_field"] for layer in summary["layers"]}
    checked = 0
    for layer, row in zip(data["layers"], summary["layers"], strict=True):
        figures = ("type", "summary", "output_shape", "params", "weight_shapes", "buffers", "buffer_shapes")
        figures += ("macs", "other_ops", "receptive_field")
        assert {k: layer[k] for k in figures} == {k: row[k] for k in figures}, layer["name"]
        assert layer["inputs"] == [{"name": name, "shape": shapes[name]} for name in row["inputs"]]
        wanted = wanted_figures(row, summary["layout"])
        if row["type"] in ("Chunk", "Split"):  # the pieces its entry made: the layers NAME.0 ... NAME.K-1
            entry = row["name"].rsplit(".", 1)[0]
            wanted["pieces"] = sum(other["name"].rsplit(".", 1)[0] == entry for other in summary["layers"])
        for what, formula in layer["formulas"].items():
            assert evaluate(formula["numbers"]) == formula["value"] == wanted[what], (layer["name"], what, formula)
            checked += 1
        step = layer["receptive_field_step"]
        assert step["rule"] in ("composed", "unchanged", "moved", "union", "none")
        if step["rule"] == "composed":
            field = row["receptive_field"]
            assert len(step["axes"]) == len(field["size"])
            for axis, entry in enumerate(step["axes"]):
                for key in ("size", "stride", "padding"):
                    formula = entry[key]
                    assert evaluate(formula["numbers"]) == exact(formula["value"]) == exact(field[key][axis])
                    checked += 1
        else:
            assert "axes" not in step
        if step["rule"] in ("unchanged", "moved"):  # element-wise, or axes moved: the field of what it reads
            source, axes = row["inputs"][0], len(row["receptive_field"]["size"])
            identity = {"size": [1] * axes, "stride": [1] * axes, "padding": [0] * axes}
            assert row["receptive_field"] == (fields[source] if source != "input" else identity)
    assert checked > 0
    return data["layers"]


@pytest.mark.parametrize("spec", ["lenet5", "lenet5_bn", "resnet18", "unet_original", "pointwise_hwc"])
def test_the_json_holds_what_the_text_shows(spec: str) -> None:
    """Each layer's text block, rebuilt from the JSON: formulas, notes (fold notes included), warnings and the
    receptive-field step lines."""
    from cnncalc.formula import Term, shown

    path = f"specs/{spec}.yaml"
    text = run_cli("explain", path).out
    data = explain_json(path)
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == len(data["layers"])
    for block, layer in zip(blocks, data["layers"], strict=True):
        lines = block.splitlines()
        assert lines[0] == f"{layer['name']}: {layer['type']} {layer['summary']}".rstrip()
        for what, formula in layer["formulas"].items():
            term = Term(exact(formula["value"]), formula["symbols"], formula["numbers"])
            assert f"  {what}: {shown(term)}" in lines, (layer["name"], what)
        for note in layer["notes"]:
            assert f"  note: {note}" in lines
        for warning in layer["warnings"]:
            assert f"  warning: {warning}" in lines
        assert len([line for line in lines if line.startswith("  note: ")]) == len(layer["notes"])
        field_lines = [line for line in lines if line.startswith("  receptive field")]
        step = layer["receptive_field_step"]
        if step["rule"] == "composed":
            assert field_lines == [
                f"  receptive field {axis['axis']}: "
                + "; ".join(
                    f"{key} {shown(Term(exact(axis[key]['value']), axis[key]['symbols'], axis[key]['numbers']))}"
                    for key in ("size", "stride", "padding")
                )
                for axis in step["axes"]
            ]
        else:
            words = {"none": "none", "unchanged": "unchanged", "union": "size"}[step["rule"]]
            assert len(field_lines) == 1 and field_lines[0].startswith(f"  receptive field: {words} ")


def test_folds_are_fuses_figures(tmp_path: Path) -> None:
    report = json.loads(run_cli("fuse", "specs/lenet5_bn.yaml", "-o", str(tmp_path / "f.yaml"), "-f", "json").out)
    layers = {layer["name"]: layer for layer in explain_json("specs/lenet5_bn.yaml")["layers"]}
    assert report["folded"]
    for pair in report["folded"]:
        fold = layers[pair["batchnorm"]]["fold"]
        assert fold == {k: pair[k] for k in ("layer", "params_saved", "buffers_saved", "flops_saved")}
    folded = {pair["batchnorm"] for pair in report["folded"]}
    assert all(layer["fold"] is None for name, layer in layers.items() if name not in folded)


def test_layer_selection_layout_and_errors() -> None:
    data = explain_json("specs/resnet18.yaml", "--layer", "conv1", "--layer", "layer1.0.body.bn1")
    assert [layer["name"] for layer in data["layers"]] == ["conv1", "layer1.0.body.bn1"]
    hwc = explain_json("specs/lenet5.yaml", "--layout", "hwc")
    summary = summary_json("specs/lenet5.yaml", "--layout", "hwc")
    assert hwc["layout"] == "hwc" and hwc["input_shape"] == [28, 28, 1]
    assert [layer["output_shape"] for layer in hwc["layers"]] == [layer["output_shape"] for layer in summary["layers"]]
    assert hwc["layers"][0]["inputs"] == [{"name": "input", "shape": [28, 28, 1]}]
    wrong = run_cli("explain", "specs/lenet5.yaml", "--format", "json", "--layer", "conv3")
    assert wrong.code == 2 and wrong.out == "" and "did you mean 'conv2'?" in wrong.err
    stdin = run_cli("explain", "-", "--format", "json", stdin=(SPECS / "lenet5.yaml").read_text(encoding="utf-8"))
    assert json.loads(stdin.out)["layers"] == explain_json("specs/lenet5.yaml")["layers"]
