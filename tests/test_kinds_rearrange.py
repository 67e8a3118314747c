"""Hand-checkable cases for Permute, Transpose, Reshape, View, Unflatten and ChannelShuffle: output shape, how the
output's axes read the input's (axis_map, which receptive fields follow), window and summary per row; then the
errors and their wording, and `cnncalc layer`'s JSON with its formulas.

tests/test_torch_rearrange.py runs these same rows against PyTorch and draws thousands more configurations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import run_cli
from test_layer_cli import evaluate

from cnncalc.errors import LayerError
from cnncalc.layers import POINTWISE, Shape, lookup, make_layer

P = POINTWISE


@dataclass(frozen=True)
class Good:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    out_shape: Shape
    axes: tuple[int | None, ...]  # the input axis each output axis reads position by position
    pointwise: bool  # window(): pointwise on every spatial axis (else None: the axes move)
    summary: str


GOOD = [
    Good("permute-channels-last", "permute", {"dims": [0, 2, 3, 1]}, (96, 56, 56), (56, 56, 96), (1, 2, 0), False,
         "dims 0,2,3,1"),
    Good("permute-back", "Permute", {"dims": [0, -1, 1, 2]}, (56, 56, 96), (96, 56, 56), (2, 0, 1), False,
         "dims 0,3,1,2"),
    Good("permute-identity", "permute", {"dims": [0, 1, 2]}, (3, 4), (3, 4), (0, 1), True, "dims 0,1,2"),
    Good("transpose-hw", "transpose", {"dim0": 2, "dim1": 3}, (3, 4, 5), (3, 5, 4), (0, 2, 1), False, "dims 2,3"),
    Good("transpose-negative", "Transpose", {"dim0": -1, "dim1": 1}, (3, 4, 5), (5, 4, 3), (2, 1, 0), False,
         "dims 3,1"),
    Good("transpose-same", "transpose", {"dim0": 1, "dim1": -2}, (3, 4), (3, 4), (0, 1), True, "dims 1,1"),
    # ShuffleNet's view: C splits into groups x channels per group; H and W survive.
    Good("reshape-groups", "reshape", {"shape": [2, -1, 7, 7]}, (116, 7, 7), (2, 58, 7, 7), (None, None, 1, 2),
         False, "shape 2,-1,7,7"),
    Good("reshape-flat", "Reshape", {"shape": -1}, (3, 4, 5), (60,), (None,), False, "shape -1"),
    Good("reshape-tokens", "reshape", {"shape": [96, -1]}, (96, 7, 7), (96, 49), (0, None), False, "shape 96,-1"),
    Good("reshape-same", "reshape", {"shape": [3, 4, 5]}, (3, 4, 5), (3, 4, 5), (0, 1, 2), True, "shape 3,4,5"),
    Good("view-insert-one", "view", {"shape": [3, 1, 4]}, (3, 4), (3, 1, 4), (0, None, 1), False, "shape 3,1,4"),
    Good("unflatten-channels", "unflatten", {"dim": 1, "unflattened_size": [4, -1]}, (12, 5, 5), (4, 3, 5, 5),
         (None, None, 1, 2), False, "dim 1 -> 4x3"),
    Good("unflatten-last", "Unflatten", {"dim": -1, "unflattened_size": [7, 7]}, (96, 49), (96, 7, 7),
         (0, None, None), False, "dim 2 -> 7x7"),
    Good("unflatten-one", "unflatten", {"dim": 2, "unflattened_size": [5]}, (3, 5), (3, 5), (0, 1), True,
         "dim 2 -> 5"),
    Good("shuffle-shufflenet", "channelshuffle", {"groups": 2}, (116, 28, 28), (116, 28, 28), (None, 1, 2), True,
         "groups 2"),
    Good("shuffle-1d", "ChannelShuffle", {"groups": 3}, (6, 10), (6, 10), (None, 1), True, "groups 3"),
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD, ids=lambda c: c.id)
def test_good(case: Good) -> None:
    layer = make_layer(case.kind, case.args, case.in_shape)
    assert layer.out_shape == case.out_shape
    amap = layer.axis_map()
    assert amap is not None
    assert tuple(None if entry is None else entry[0] for entry in amap) == case.axes
    assert all(entry is None or entry[1] == P for entry in amap)
    assert layer.window() == ((P,) * (len(case.out_shape) - 1) if case.pointwise else None)
    assert layer.summary() == case.summary
    assert layer.params() == layer.macs() == layer.other_ops() == layer.buffer_count() == 0
    assert "data movement" in layer.ops_rule
    assert layer.notes() and not layer.warnings


@dataclass(frozen=True)
class Bad:
    id: str
    kind: str
    args: dict[str, Any]
    in_shape: Shape
    arg: str | None  # the argument the error points at
    fragments: tuple[str, ...]  # pieces the message (or hint) must contain
    torch: str = "rejects"  # "rejects": torch raises too; "accepts": cnncalc refuses on purpose


BAD = [
    Bad("permute-short", "permute", {"dims": [0, 2, 1]}, (3, 4, 5), "dims",
        ("3 entries", "4 axes", "[0, 1, 2, 3] keeps the order")),
    Bad("permute-repeat", "permute", {"dims": [0, 1, 1, 2]}, (3, 4, 5), "dims", ("dim 1 (C) twice", "[3] is missing")),
    Bad("permute-range", "permute", {"dims": [0, 1, 4, 2]}, (3, 4, 5), "dims", ("4 is out of range", "-4 to 3")),
    Bad("permute-batch", "permute", {"dims": [1, 0, 2, 3]}, (3, 4, 5), "dims",
        ("dim 1 (C) first", "batch axis", "dims[0] as 0"), "accepts"),
    Bad("transpose-range", "transpose", {"dim0": 1, "dim1": 3}, (3, 4), "dim1", ("dim1 3 is out of range", "-3 to 2")),
    Bad("transpose-batch", "transpose", {"dim0": 0, "dim1": 1}, (3, 4), "dim0", ("batch axis", "from 1 to 2"),
        "accepts"),
    Bad("reshape-size", "reshape", {"shape": [5, 5]}, (3, 4, 2), "shape",
        ("holds 25 values", "24 per sample (3 x 4 x 2)", "multiply to 24")),
    Bad("reshape-two-free", "reshape", {"shape": [-1, 2, -1]}, (3, 4), "shape", ("indices 0 and 2", "only one")),
    Bad("reshape-negative", "view", {"shape": [-2, 6]}, (3, 4), "shape", ("-2 at index 0", "non-negative")),
    Bad("reshape-indivisible", "reshape", {"shape": [5, -1]}, (3, 4), "shape", ("multiply to 5", "does not divide")),
    Bad("reshape-ambiguous", "reshape", {"shape": [0, -1]}, (0, 4), "shape", ("multiply to 0", "any size")),
    Bad("unflatten-size", "unflatten", {"dim": 1, "unflattened_size": [4, 4]}, (12, 5), "unflattened_size",
        ("holds 16 values", "dim 1 (C) has 12")),
    Bad("unflatten-int", "unflatten", {"dim": 1, "unflattened_size": 12}, (12, 5), "unflattened_size",
        ("must be a list", "[12]")),
    Bad("unflatten-range", "unflatten", {"dim": 3, "unflattened_size": [2, 2]}, (4, 5), "dim",
        ("dim 3 is out of range", "-3 to 2")),
    Bad("unflatten-batch", "unflatten", {"dim": 0, "unflattened_size": [1, 1]}, (4, 5), "dim",
        ("batch axis", "from 1 to 2"), "accepts"),
    Bad("shuffle-groups", "channelshuffle", {"groups": 4}, (6, 5, 5), "groups",
        ("4 does not divide the 6 channels", "divisors of 6: 2, 3, 6")),
    Bad("shuffle-rank", "channelshuffle", {"groups": 2}, (6,), "inputs", ("at least 2 axes", "got 6")),
    Bad("shuffle-zero", "channelshuffle", {"groups": 0}, (6, 5), "groups", ("positive",)),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.id)
def test_bad(case: Bad) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer(case.kind, case.args, case.in_shape)
    error = caught.value
    assert error.arg == case.arg, error.message
    for fragment in case.fragments:
        assert fragment in error.message + (error.hint or ""), f"{fragment!r} not in {error.message!r}"


def test_kinds_are_registered_by_name() -> None:
    for name in ("Permute", "Transpose", "Reshape", "View", "Unflatten", "ChannelShuffle"):
        cls = lookup(name.lower())
        assert cls.kind == name and (cls.min_inputs, cls.max_inputs) == (1, 1)
    with pytest.raises(LayerError) as caught:
        lookup("channelshufle")
    assert "did you mean 'ChannelShuffle'" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("kind", "args", "shape", "formula", "value"),
    [
        ("reshape", "shape=[-1,4]", "8x4x4", "output dim 1 (inferred)", 32),
        ("view", "shape=[2,-1]", "6x4", "output dim 2 (inferred)", 12),
        ("unflatten", "dim=1 unflattened_size=[2,-1]", "8x3", "output dim 2 (inferred)", 4),
        ("channelshuffle", "groups=4", "8x3x3", "channels per group", 2),
    ],
)
def test_layer_json_and_formulas(kind: str, args: str, shape: str, formula: str, value: int) -> None:
    result = run_cli("layer", kind, *args.split(), "--input", shape, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["params"], data["macs"], data["other_ops"], data["flops"]) == (0, 0, 0, 0)
    shown = data["formulas"][formula]
    assert evaluate(shown["numbers"]) == shown["value"] == value
    assert data["notes"]


def test_layer_cli_permute() -> None:
    result = run_cli("layer", "permute", "dims=[0,2,3,1]", "--input", "8x4x4")
    assert result.code == 0, result.err
    assert "output shape     4 x 4 x 8" in result.out
    assert "N x C x H x W -> N x H x W x C" in result.out
    bad = run_cli("layer", "permute", "dims=[1,0,2,3]", "--input", "8x4x4")
    assert bad.code == 2 and "batch axis" in bad.err and "Traceback" not in bad.err
