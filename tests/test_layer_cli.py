"""`cnncalc layer`: one layer's figures with their formulas. Every formula shown is evaluated here (a small
arithmetic evaluator, in the test only) and must equal the figure the analyzer reports."""

from __future__ import annotations

import ast
import json
import math
import operator
from typing import Any

import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.errors import LayerError
from cnncalc.layers import make_layer

OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
FUNCTIONS = {"floor": math.floor, "ceil": math.ceil}


def evaluate(text: str) -> Any:
    """+, -, *, /, floor() and ceil() over integer literals; anything else fails the test."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div):
                from fractions import Fraction

                return Fraction(left, right)
            return OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            (argument,) = node.args
            return FUNCTIONS[node.func.id](walk(argument))
        raise AssertionError(f"unexpected formula text: {ast.dump(node)}")

    return walk(ast.parse(text, mode="eval"))


def figures_of(data: dict[str, Any]) -> dict[str, Any]:
    """What each formula must equal, from the analyzer's figures in the same JSON."""
    wanted: dict[str, Any] = {
        "params": data["params"],
        "MACs": data["macs"],
        "buffers": data["buffers"],
        "other ops": data["other_ops"],
    }
    shape = data["output_shape"]
    chw = shape if data["layout"] == "chw" or len(shape) < 2 else [shape[-1], *shape[:-1]]
    letters = {1: "L", 2: "HW", 3: "DHW"}.get(len(chw) - 1, "")
    for axis, size in zip(letters, chw[1:], strict=False):
        wanted[f"output {axis} (PyTorch)"] = size
        wanted[f"output {axis} (lecture)"] = size
    for axis, size in enumerate(chw, start=1):  # Flatten's merged axis, numbered as start_dim counts (batch = 0)
        wanted[f"output dim {axis} (merged)"] = size
    return wanted


def check_formulas(data: dict[str, Any]) -> None:
    wanted = figures_of(data)
    for what, formula in data["formulas"].items():
        assert evaluate(formula["numbers"]) == formula["value"] == wanted[what], (what, formula)


def test_the_lecture_layer(golden) -> None:  # type: ignore[no-untyped-def]
    args = ("layer", "conv2d", "--input", "3x32x32", "out_channels=10", "kernel_size=5", "padding=2")
    result = run_cli(*args)
    assert result.code == 0, result.err
    golden("layer_conv_760.txt", result.out)
    data = json.loads(run_cli(*args, "--format", "json").out)
    assert (data["output_shape"], data["params"], data["macs"]) == ([10, 32, 32], 760, 768_000)
    assert data["formulas"]["params"]["numbers"] == "(3*5*5 + 1)*10"
    assert data["formulas"]["output H (lecture)"]["numbers"] == "ceil((32 - 5 + 1 + 2*2) / 1)"
    check_formulas(data)


def test_the_pointwise_quiz_in_h_x_w_x_c() -> None:
    result = run_cli(
        "layer",
        "conv2d",
        "--input",
        "64x64x16",
        "--layout",
        "hwc",
        "out_channels=32",
        "kernel_size=1",
        "--format",
        "json",
    )
    data = json.loads(result.out)
    assert (data["output_shape"], data["params"], data["macs"]) == ([64, 64, 32], 544, 2_097_152)
    check_formulas(data)


@pytest.mark.parametrize(
    "args, needle",
    [
        (("conv2d", "--input", "3x32x32", "out_channels=10", "kernal_size=5"), "did you mean 'kernel_size'?"),
        (("conv2e", "--input", "3x32x32"), "did you mean 'Conv2d'?"),
        (("conv2d", "--input", "3x4x4", "out_channels=2", "kernel_size=5"), "a 5-wide kernel does not fit"),
        (("conv2d", "--input", "3x32x32", "out_channels"), "expected NAME=VALUE"),
        (("conv2d", "--input", "3xAx32", "out_channels=2", "kernel_size=1"), "expected a shape such as 3x32x32"),
    ],
)
def test_bad_layers(args: tuple[str, ...], needle: str) -> None:
    result = run_cli("layer", *args)
    assert result.code == 2
    assert needle in result.err and "Traceback" not in result.err


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 4),
    st.integers(1, 12),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(0, 3),
    st.integers(1, 2),
    st.sampled_from([1, 2]),
    st.booleans(),
)
def test_conv_formulas_equal_the_figures(
    c_in: int, size: int, k: int, s: int, p: int, d: int, g: int, bias: bool
) -> None:
    args = {
        "out_channels": 2 * g,
        "kernel_size": k,
        "stride": s,
        "padding": p,
        "dilation": d,
        "groups": g,
        "bias": bias,
    }
    try:
        layer = make_layer("conv2d", args, (c_in * g, size, size + 1))
    except LayerError:
        return
    explained = dict(layer.explain())
    assert explained["params"].value == layer.params()
    assert explained["MACs"].value == layer.macs()
    assert explained["output H (PyTorch)"].value == layer.out_shape[1]
    assert explained["output W (PyTorch)"].value == layer.out_shape[2]
    if "output H (lecture)" in explained:  # symmetric padding, no dilation: the lectures' ceil form
        assert explained["output H (lecture)"].value == layer.out_shape[1]
        assert explained["output W (lecture)"].value == layer.out_shape[2]
    for term in explained.values():
        assert evaluate(term.numbers) == term.value
