"""Chunk, Split, LayerScale and StochasticDepth from the command line: `cnncalc layer` (every output of a chunk or
split without index, one row each), and a small spec picking pieces with `index` through `summary`, `run`,
`verify` and `explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

SPEC = """\
name: pieces
input: [4, 4, 4]
layers:
  - chunk: {chunks: 2, index: 0, name: left}
  - split: {split_size_or_sections: [2, 2], dim: 1, index: -1, name: right, inputs: input}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: branch}
  - concat: {inputs: [left, branch], name: joined}
  - chunk: {chunks: 3, dim: 3, index: 1, name: middle}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "pieces.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_layer_lists_every_piece_of_a_chunk() -> None:
    result = run_cli("layer", "chunk", "chunks=2", "dim=1", "--input", "6x4x4")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Chunk chunks=2 dim 1 on 6 x 4 x 4"
    assert lines[1].startswith("outputs          2, one layer each (NAME.0 to NAME.1 in a spec)")
    assert "  [0]            3 x 4 x 4 (C 0 to 2); output C (PyTorch): ceil(C / chunks) = ceil(6 / 2) = 3" in lines
    assert "  [1]            3 x 4 x 4 (C 3 to 5); output C (PyTorch): ceil(C / chunks) = ceil(6 / 2) = 3" in lines
    assert "receptive field  1 / 1 / 0 (size / effective stride / effective padding)" in lines


def test_layer_json_gives_every_output_with_its_field() -> None:
    result = run_cli("layer", "chunk", "chunks=4", "dim=2", "--input", "6x6x4", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["output_shape"] is None and data["formulas"]["pieces"]["value"] == 3  # 6 in 4 chunks: 3 of 2
    outputs = data["outputs"]
    assert [o["output_shape"] for o in outputs] == [[6, 2, 4]] * 3
    assert [o["position"] for o in outputs] == ["H 0 to 1", "H 2 to 3", "H 4 to 5"]
    assert [o["receptive_field"]["padding"] for o in outputs] == [[0, 0], [-2, 0], [-4, 0]]


def test_layer_split_pieces_and_the_last_shorter_one() -> None:
    result = run_cli("layer", "split", "split_size_or_sections=4", "--input", "6x2", "--format", "json")
    data = json.loads(result.out)
    assert [o["output_shape"] for o in data["outputs"]] == [[4, 2], [2, 2]]
    last = data["outputs"][1]["formulas"]["output C (PyTorch)"]
    assert (last["symbols"], last["numbers"], last["value"]) == ("C - k*split_size", "6 - 1*4", 2)


def test_layer_with_index_is_one_layer() -> None:
    result = run_cli("layer", "split", "split_size_or_sections=[1,3,2]", "index=1", "--input", "6x4x4")
    assert result.code == 0, result.err
    assert "output shape     3 x 4 x 4" in result.out
    assert "note: this layer is piece 1 (index 1): C 1 to 3, 3 x 4 x 4" in result.out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("chunk", "chunks=2", "index=2"), "index 2 is out of range: chunks=2 of 6 makes 2 pieces, so valid indices"),
        (("chunk", "chunks=2", "dim=0"), "dim 0 is the batch axis"),
        (("split", "split_size_or_sections=[1,2]"), "sums to 3, but the input's C"),
        (("chunk", "chunk=2"), "did you mean 'chunks'?"),
        (("split", "split_size_or_sections=1", "--input", "20000"), "makes 20,000 pieces"),
    ],
)
def test_layer_refuses_with_a_reason(args: tuple[str, ...], needle: str) -> None:
    shape = () if "--input" in args else ("--input", "6x4x4")
    result = run_cli("layer", *args, *shape)
    assert result.code == 2
    assert needle in result.err and "Traceback" not in result.err


def test_summary_of_pieces_picked_by_index(spec: Path) -> None:
    result = run_cli("summary", str(spec), "--format", "json")
    assert result.code == 0, result.err
    layers = {layer["name"]: layer for layer in json.loads(result.out)["layers"]}
    assert layers["left"]["output_shape"] == [2, 4, 4]
    assert layers["right"]["output_shape"] == [2, 4, 4]
    assert layers["joined"]["output_shape"] == [4, 4, 4]
    assert layers["middle"]["output_shape"] == [4, 4, 2]  # W 4 in 3 chunks: 2 pieces of 2; index 1 is W 2 to 3
    # The conv's field (3 / 1 / 1) moved along W by the piece's offset 2: padding 1 + (-2) * 1.
    assert layers["middle"]["receptive_field"]["padding"] == [1, -1]


def test_run_verify_and_explain_the_spec(spec: Path) -> None:
    run = run_cli("run", str(spec), "--backward", "--format", "json")
    assert run.code == 0, run.err
    assert "output" in json.loads(run.out)
    verify = run_cli("verify", str(spec))
    assert verify.code == 0, verify.err
    assert "all 5 layers agree" in verify.out
    explain = run_cli("explain", str(spec))
    assert explain.code == 0, explain.err
    assert "output W (PyTorch): ceil(W / chunks) = ceil(4 / 3) = 2" in explain.out
    assert "note: this layer is piece 1 (index 1): W 2 to 3, 4 x 4 x 2" in explain.out


SCALED = """\
name: scaled-residual
input: [4, 4, 4]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3, padding: 1, groups: 4, name: dwconv}
  - layerscale: {name: layer_scale}
  - stochasticdepth: {p: 0.5, mode: row, name: drop}
  - add: {inputs: [input, drop], name: residual}
"""


@pytest.fixture
def scaled(tmp_path: Path) -> Path:
    path = tmp_path / "scaled.yaml"
    path.write_text(SCALED, encoding="utf-8")
    return path


def test_layer_scale_and_stochastic_depth_layers() -> None:
    scale = run_cli("layer", "layerscale", "--input", "96x56x56", "--format", "json")
    assert scale.code == 0, scale.err
    data = json.loads(scale.out)
    assert (data["weight_shapes"], data["params"], data["macs"]) == ({"gamma": [96, 1, 1]}, 96, 0)
    assert data["other_ops"] == 96 * 56 * 56 and data["formulas"]["other ops"]["numbers"] == "96*56*56"
    last = json.loads(run_cli("layer", "layerscale", "dim=-1", "--input", "56x56x96", "--format", "json").out)
    assert last["weight_shapes"] == {"gamma": [96]}
    timm = run_cli("layer", "layerscale", "dim=96", "--input", "56x56x96")
    assert timm.code == 2 and "timm's LayerScale(dim=96) means 96 channels" in timm.err
    drop = run_cli("layer", "stochasticdepth", "p=0.2", "mode=row", "--input", "3x8x8")
    assert drop.code == 0, drop.err
    assert "with probability 1 - p = 1 - 0.2 = 0.8" in drop.out and "1/(1 - 0.2) = 1.25" in drop.out
    missing = run_cli("layer", "stochasticdepth", "p=0.2", "--input", "3x8x8")
    assert missing.code == 2 and "needs the argument 'mode'" in missing.err


def test_summary_verify_run_and_explain_a_scaled_residual(scaled: Path) -> None:
    summary = json.loads(run_cli("summary", str(scaled), "--format", "json").out)
    layers = {layer["name"]: layer for layer in summary["layers"]}
    assert layers["layer_scale"]["params"] == 4 and layers["drop"]["params"] == 0
    for mode in ("eval", "train"):
        verify = run_cli("verify", str(scaled), "--mode", mode)
        assert verify.code == 0 and "all 4 layers agree" in verify.out, verify.out + verify.err
    train = json.loads(run_cli("run", str(scaled), "--mode", "train", "--backward", "--format", "json").out)
    evaluated = json.loads(run_cli("run", str(scaled), "--format", "json").out)
    assert train["output_shape"] == evaluated["output_shape"] == [4, 4, 4]
    explain = run_cli("explain", str(scaled))
    assert "other ops counted: 1 multiply per element (x * gamma)" in explain.out
    assert "eval (the mode counted here): the identity" in explain.out
