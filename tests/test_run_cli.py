"""`cnncalc run` and `cnncalc verify` as users meet them: the lecture's worked examples, bad inputs and weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli


def run_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("run", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_lecture_cross_kernel() -> None:
    data = run_json("specs/cross_kernel.yaml", "--input", "specs/inputs/cross_kernel_image.yaml")
    assert data["output"] == [[[3, 2, 2], [1, 3, 2], [2, 1, 2]]]
    assert data["macs"] == 9 * 9 and data["approximate"] is False


def test_lecture_global_average_pooling() -> None:
    data = run_json("specs/global_avg_pool.yaml", "--input", "specs/inputs/grid_4x4.yaml")
    assert data["output"] == [[["13/4"]]]


def test_lecture_batch_mean() -> None:
    data = run_json(
        "specs/batch_mean.yaml", "--input", "specs/inputs/batch_of_three.yaml", "--mode", "train", "--trace"
    )
    (layer,) = data["layers"]
    assert layer["stats"]["mean"] == ["13/3", "14/3"]
    assert data["batch"] == 3 and data["approximate"] is True  # normalizing divides by a square root


def test_lecture_convolution_gradients() -> None:
    grid = [[2, 3, 2, 4], [5, 6, 6, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
    kernel = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    data = run_json("specs/conv_gradients.yaml", "--input", "specs/inputs/grid_4x4.yaml", "--backward")
    # The gradient of the summed outputs for weight (i, j): the sum over the 2 x 2 output positions (patches) of
    # the input pixel that weight meets there; for input pixel (y, x): the sum of the weights that meet it.
    weight = [[sum(grid[i + a][j + b] for a in range(2) for b in range(2)) for j in range(3)] for i in range(3)]
    assert data["grad"]["conv.weight"] == [[weight]]
    assert data["grad"]["conv.bias"] == [4]
    meets = [
        [
            sum(kernel[y - a][x - b] for a in range(2) for b in range(2) if 0 <= y - a < 3 and 0 <= x - b < 3)
            for x in range(4)
        ]
        for y in range(4)
    ]
    assert data["grad"]["input"] == [meets]


def test_gradient_of_a_weighted_output(tmp_path: Path) -> None:
    given = _write(tmp_path, "g.yaml", "[[[1, 0], [0, -1]]]")
    data = run_json("specs/conv_gradients.yaml", "--input", "specs/inputs/grid_4x4.yaml", "--grad-output", str(given))
    assert data["grad"]["conv.bias"] == [0]  # 1 + 0 + 0 - 1
    assert data["grad"]["conv.weight"][0][0][0] == [2 - 6, 3 - 6, 2 - 8]  # x[0][j] - x[1][j + 1]


def test_table_output_prints_exact_values() -> None:
    result = run_cli("run", "specs/global_avg_pool.yaml", "--input", "specs/inputs/grid_4x4.yaml")
    assert result.code == 0, result.err
    assert "[[[13/4]]]" in result.out


def test_a_flipped_kernel_computes_a_true_convolution(tmp_path: Path) -> None:
    spec = tmp_path / "flip.yaml"
    spec.write_text(
        "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2, bias: false, flip: true,"
        " weights: {weight: [[[1, 10]]]}}\n"
    )
    data = run_json(str(spec), "--input", str(_write(tmp_path, "x.yaml", "[[1, 2, 3]]")))
    assert data["output"] == [[1 * 10 + 2 * 1, 2 * 10 + 3 * 1]]  # y[i] = sum x[i + m] * w[k - 1 - m]


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "spec_text, input_text, needles",
    [
        (
            "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2}\n",
            "[[1, 2, 3, 4]]",
            ["x.yaml:1:2: error: the input has shape 1 x 4, but", "takes 1 x 3 per sample"],
        ),
        (
            "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2}\n",
            "[[1, two, 3]]",
            ["x.yaml:1:6: error: the input holds a value that is not a number"],
        ),
        (
            "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2, weights: {weight: [[1, 2]]}}\n",
            "[[1, 2, 3]]",
            ["spec.yaml:3:65: error: layer 'conv1d_1' (#1, Conv1d):", "weight has shape 1 x 2, expected 1 x 1 x 2"],
        ),
        (
            "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2, weights: {wieght: [[[1, 2]]]}}\n",
            "[[1, 2, 3]]",
            ["error: layer 'conv1d_1' (#1, Conv1d): weights: Conv1d has no state_dict entry 'wieght'", "'weight'"],
        ),
        (
            "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2, weights: {bias: [x]}}\n",
            "[[1, 2, 3]]",
            ["weights: bias: expected a number or 'p/q', got 'x'"],
        ),
    ],
)
def test_bad_inputs_and_weights(tmp_path: Path, spec_text: str, input_text: str, needles: list[str]) -> None:
    spec = _write(tmp_path, "spec.yaml", spec_text)
    given = _write(tmp_path, "x.yaml", input_text)
    result = run_cli("run", str(spec), "--input", str(given))
    assert result.code == 2
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in result.err, result.err


def test_the_mac_budget_is_checked_before_running() -> None:
    result = run_cli("run", "specs/resnet50.yaml")
    assert result.code == 2
    assert "this run needs 4,089,184,256 multiply-accumulates" in result.err
    assert "--max-macs" in result.err


def test_verify_agrees_on_lenet() -> None:
    result = run_cli("verify", "specs/lenet5.yaml", "--format", "json")
    assert result.code == 0, result.err + result.out
    data = json.loads(result.out)
    assert data["ok"] and len(data["layers"]) == 10
    assert sum(layer["counted_macs"] for layer in data["layers"]) == 6_522_000
