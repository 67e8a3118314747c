"""Layer messages: one way of naming axes, did-you-mean that fits the input, Linear told to flatten, and PyTorch's
refusal of BatchNorm on one value per channel refused by the analyzers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import run_cli

from cnncalc.analyze import analyze
from cnncalc.errors import LayerError, SpecError
from cnncalc.formula import Term
from cnncalc.layers import REGISTRY, make_layer
from cnncalc.spec import parse_spec

# A number after "axis" or "dim" must say which axis it is, "dim 2 (H)", unless there is none ("dim 5 is out of
# range"); a bare "axis 2" is what the tables never print. (Summaries echo the arguments: "dim 1", "k3 s2".)
UNNAMED = re.compile(r"\b(axis|axes|dim|dims) -?\d+\b(?! \()(?! to -?\d+,)(?! is )")


def variants(args: dict[str, Any], shapes: tuple[tuple[int, ...], ...]) -> Iterator[tuple[dict[str, Any], Any]]:
    """The example, and versions likely to be refused: each integer argument (or one axis of it) at 0, -1 and
    large, each input axis at 1."""
    yield args, shapes
    for key, value in args.items():
        for new in (0, -1, 1, 2, 9):
            if type(value) is int:
                yield {**args, key: new}, shapes
            elif isinstance(value, list) and value and all(type(v) is int for v in value):
                for axis in range(len(value)):
                    yield {**args, key: [new if i == axis else v for i, v in enumerate(value)]}, shapes
    for number, shape in enumerate(shapes):
        for axis in range(len(shape)):
            yield args, shapes[:number] + (tuple(1 if i == axis else n for i, n in enumerate(shape)),)
    yield {**args, "padding": "same"}, shapes


def texts(kind: str, args: dict[str, Any], shapes: tuple[tuple[int, ...], ...]) -> list[str]:
    """Everything a layer says in words: its error and hint, or its warnings, notes and derivation labels."""
    try:
        layer = make_layer(kind, args, *shapes)
    except LayerError as error:
        return [error.message, error.hint or ""]
    said = [*layer.warnings, *layer.notes()]
    said += [what for what, term in layer.explain() if isinstance(term, Term)]
    return said


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_messages_name_axes_by_letter(kind: str) -> None:
    for args, shapes in REGISTRY[kind].examples():
        for new_args, new_shapes in variants(args, shapes):
            for text in texts(kind, new_args, new_shapes):
                assert not UNNAMED.search(text), f"{kind} {new_args} {new_shapes}: {text}"


@pytest.mark.parametrize(
    ("kind", "args", "shape", "says"),
    [
        ("conv2d", {"out_channels": 1, "kernel_size": [3, 4], "padding": "same"}, (1, 8, 8), "pads W unevenly"),
        ("conv2d", {"out_channels": 1, "kernel_size": [1, 9]}, (1, 8, 8), "along W"),
        ("convtranspose1d", {"out_channels": 1, "kernel_size": 2, "padding": 1}, (1, 1), "collapses along L"),
        ("add", {}, ((2, 3, 4), (2, 3, 5)), "differ along W (4 vs 5)"),
        ("concat", {"dim": 2}, ((2, 3, 4), (3, 5, 4)), "Concat along dim 2 (H) needs all other axes to match"),
        ("concat", {}, ((2, 3, 4), (3, 3, 5)), "W differs (4 vs 5)"),
        ("mul", {}, ((2, 3, 4), (2, 3, 5)), "along W of the broadcast result"),
        ("reflectionpad2d", {"padding": [0, 0, 3, 0]}, (1, 3, 5), "the size of H, 3"),
        ("zeropad1d", {"padding": [-3, -2]}, (1, 4), "crops 5 from L"),
        ("centercrop", {"size": [2, 9]}, (1, 5, 5), "W has 5, fewer than 9"),
        ("upsample", {"scale_factor": [2, -2]}, (1, 2, 2), "along W would be"),
        ("flatten", {"start_dim": 2, "end_dim": 2}, (3, 4, 5), "name one axis, dim 2 (H)"),
    ],
)
def test_axis_names_in_messages(kind: str, args: dict[str, Any], shape: Any, says: str) -> None:
    shapes = shape if isinstance(shape[0], tuple) else (shape,)
    assert any(says in text for text in texts(kind, args, shapes)), texts(kind, args, shapes)


# -- did-you-mean fits the input's rank ---------------------------------------------------------------------------


def unknown_kind_hint(layers: str, input: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(f"input: {input}\nlayers:\n{layers}", "net.yaml")
    assert "unknown layer kind" in caught.value.message
    return caught.value.hint or ""


@pytest.mark.parametrize(
    ("layers", "input", "wanted"),
    [
        ("  - conv\n", "[3, 32, 32]", "Conv2d"),
        ("  - conv\n", "[3, 32]", "Conv1d"),
        ("  - conv\n", "[3, 8, 8, 8]", "Conv3d"),
        ("  - conv2d: {out_channels: 4, kernel_size: 3}\n  - batchnorm\n", "[3, 32, 32]", "BatchNorm2d"),
        ("  - flatten\n  - linear: {out_features: 8}\n  - batchnorm\n", "[3, 32, 32]", "BatchNorm1d"),
        ("  - maxpool\n", "[3, 32, 32]", "MaxPool2d"),
        ("  - adaptiveavgpool: {output_size: 1}\n", "[3, 32, 32]", "AdaptiveAvgPool2d"),
        ("  - instancenorm\n", "[3, 16]", "InstanceNorm1d"),
        ("  - conv2: {out_channels: 4}\n", "[3, 8, 8, 8]", "Conv2d"),  # what was typed wins over the rank
        ("  - relu: {name: a}\n  - conv: {inputs: input}\n", "[3, 32, 32]", "Conv2d"),
    ],
)
def test_did_you_mean_prefers_kinds_that_fit_the_input(layers: str, input: str, wanted: str) -> None:
    assert unknown_kind_hint(layers, input) == f"did you mean '{wanted}'?"


def test_did_you_mean_in_the_layer_command() -> None:
    result = run_cli("layer", "conv", "--input", "3x8x8", "out_channels=2", "kernel_size=3")
    assert result.code == 2
    assert "did you mean 'Conv2d'?" in result.err


# -- Linear on an unflattened input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "in_features", "says"),
    [
        ((512, 7, 7), 25088, "(512 x 7 x 7 flattens to 25,088 = in_features)"),
        ((512, 1, 1), 512, "(512 x 1 x 1 flattens to 512 = in_features)"),
        ((64, 7, 7), 1000, "(64 x 7 x 7 flattens to 3,136; in_features must then be 3136)"),
    ],
)
def test_linear_on_a_multi_axis_input_is_told_to_flatten(shape: tuple[int, ...], in_features: int, says: str) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("linear", {"in_features": in_features, "out_features": 10}, shape)
    assert caught.value.arg == "in_features"
    assert "Linear acts on the last axis only" in caught.value.message
    hint = caught.value.hint or ""
    assert hint.startswith("insert '- flatten' before it") and says in hint
    assert "set in_features to 1" not in hint.split(";")[0]


def test_linear_along_the_last_axis_is_still_accepted() -> None:
    layer = make_layer("linear", {"in_features": 7, "out_features": 3}, (512, 7, 7))
    assert layer.out_shape == (512, 7, 3)


# -- BatchNorm on one value per channel -------------------------------------------------------------------------------


def summary_refuses(kind: str, shape: tuple[int, ...], batch: int, track: bool) -> bool:
    text = f"input: {list(shape)}\nbatch: {batch}\nlayers:\n  - {kind}: {{track_running_stats: {str(track).lower()}}}\n"
    try:
        analyze(parse_spec(text, "net.yaml"))
    except SpecError as error:
        assert "one value per channel" in error.message and "track_running_stats" in (error.hint or "")
        return True
    return False


CASES = [
    (kind, shape, batch, track)
    for kind, shapes in (
        ("batchnorm1d", [(4,), (4, 1), (4, 2)]),
        ("batchnorm2d", [(4, 1, 1), (4, 1, 2)]),
        ("batchnorm3d", [(4, 1, 1, 1)]),
    )
    for shape in shapes
    for batch in (1, 2)
    for track in (True, False)
]


@pytest.mark.parametrize(("kind", "shape", "batch", "track"), CASES)
def test_batchnorm_refused_where_pytorch_refuses_it_in_every_mode(
    kind: str, shape: tuple[int, ...], batch: int, track: bool
) -> None:
    torch = pytest.importorskip("torch")
    module = getattr(torch.nn, {"batchnorm1d": "BatchNorm1d", "batchnorm2d": "BatchNorm2d"}.get(kind, "BatchNorm3d"))
    refused_in = []
    for training in (True, False):
        layer = module(shape[0], track_running_stats=track).train(training)
        try:
            layer(torch.zeros(batch, *shape))
        except ValueError:
            refused_in.append(training)
    # The analyzers count inference: they refuse what PyTorch refuses in eval mode too (lint's CN002 reports
    # what only training refuses, when the spec gives its training batch).
    assert summary_refuses(kind, shape, batch, track) == (refused_in == [True, False])


def test_batchnorm_refusal_points_at_the_argument() -> None:
    text = "input: [16]\nlayers:\n  - batchnorm1d: {track_running_stats: false}\n"
    result = run_cli("summary", "-", stdin=text)
    assert result.code == 2
    assert "<stdin>:3:40: error: layer 'batchnorm1d_1' (#1, BatchNorm1d): a batch of 1 with one value" in result.err
    assert "set batch: 2 or more" in result.err
    assert run_cli("summary", "-", "--batch", "2", stdin=text).code == 0
