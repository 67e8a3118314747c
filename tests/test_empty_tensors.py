"""Outputs with an empty axis (negative padding can leave one): printed as torch's tolist() prints them, and an
average over nothing refused with a message (PyTorch's NaN has no exact value)."""

from __future__ import annotations

import json

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
