"""Outputs with an empty axis (negative padding can leave one): printed as torch's tolist() prints them, and an
average over nothing refused with a message (PyTorch's NaN has no exact value)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli


def test_an_empty_output_prints_as_nested_empty_lists() -> None:
    spec = "input: [1, 4, 4]\nlayers:\n- circularpad2d: {padding: -2}\n"
    result = run_cli("run", "-", "--format", "json", stdin=spec)
    assert result.code == 0, result.err
    assert json.loads(result.out)["output"] == [[]]  # torch: CircularPad2d(-2)(zeros(1, 1, 4, 4)).tolist()[0]


def test_an_average_over_an_empty_input_is_refused_at_its_layer() -> None:
    spec = (
        "input: [1, 4, 4]\nlayers:\n- constantpad2d: {padding: -2, value: 5}\n- adaptiveavgpool2d: {output_size: 1}\n"
    )
    for command in ("run", "verify"):
        result = run_cli(command, "-", stdin=spec)
        assert result.code == 2 and "Traceback" not in result.err, result.err
        assert "<stdin>:4:" in result.err and "empty window" in result.err


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("family", ["replication", "reflection"])
def test_copying_padding_of_an_emptied_axis_is_refused_in_every_command(family: str, dims: int) -> None:
    """PyTorch refuses an empty axis for reflection and replication, whatever the padding; the executor used to
    fail with IndexError in compute.pad_planes."""
    shape = [1] + [4] * dims
    spec = f"input: {shape}\nlayers:\n- zeropad{dims}d: {{padding: -2}}\n- {family}pad{dims}d: {{padding: 1}}\n"
    emptied = {1: "L of 1 x 0 is", 2: "H and W of 1 x 0 x 0 are", 3: "D, H and W of 1 x 0 x 0 x 0 are"}[dims]
    for command in ("summary", "run", "verify", "explain", "graph"):
        result = run_cli(command, "-", stdin=spec)
        shown = result.out + result.err
        assert result.code == 2 and "Traceback" not in result.err, (command, result.err)
        assert "<stdin>:4:" in shown and f"but {emptied} 0:" in shown, shown
        assert f"use ZeroPad{dims}d" in shown, shown


def test_circular_padding_of_an_emptied_axis_by_zero_runs() -> None:
    spec = "input: [1, 4, 4]\nlayers:\n- zeropad2d: {padding: [-2, -2, 0, 0]}\n"
    spec += "- circularpad2d: {padding: [0, 0, 1, 1]}\n"
    result = run_cli("run", "-", "--format", "json", stdin=spec)
    assert result.code == 0, result.err
    assert json.loads(result.out)["output"] == [[[]] * 6]  # torch: CircularPad2d((0, 0, 1, 1)) of (1, 1, 4, 0)


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "convtranspose2d"])
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_a_convolution_of_an_emptied_axis_is_refused_as_torch_refuses_it(kind: str, padding: int) -> None:
    """PyTorch's convolutions accept an empty batch or channel axis, never an empty spatial one: whatever the
    padding, torch raises; so does cnncalc, at the layer, in every command."""
    torch = pytest.importorskip("torch")
    dims = int(kind[-2])
    shape = [2] + [4] * dims
    spec = f"input: {shape}\nlayers:\n- zeropad{dims}d: {{padding: {[-2, -2] + [0, 0] * (dims - 1)}}}\n"
    spec += f"- {kind}: {{out_channels: 3, kernel_size: 1, padding: {padding}}}\n"
    module = getattr(torch.nn, {"conv1d": "Conv1d", "conv2d": "Conv2d", "convtranspose2d": "ConvTranspose2d"}[kind])
    emptied = torch.zeros(1, 2, *([4] * (dims - 1)), 0)  # zeropad's first pair is the last axis
    with pytest.raises(RuntimeError):
        module(2, 3, 1, padding=padding)(emptied)
    for command in ("summary", "run"):
        result = run_cli(command, "-", stdin=spec)
        assert result.code == 2 and "Traceback" not in result.err, (command, result.err)
        assert "<stdin>:4:" in result.err and "cannot read an input that is empty" in result.err, result.err
