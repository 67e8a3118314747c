"""Figures past float's range and past Python's 4,300-digit str() guard: messages or whole numbers, no traceback."""

from __future__ import annotations

import json
import math
import sys

import pytest
from conftest import run_cli

# 160 axes of 10^30: the element count has 4,801 digits, more than str() prints by default.
HUGE_INPUT = "input: [" + ", ".join(["1" + "0" * 30] * 160) + "]\nlayers:\n  - relu\n"


@pytest.mark.parametrize("command", ["summary", "explain", "lint", "graph"])
def test_an_upsample_factor_past_floats_range_is_an_overflow_message(command: str) -> None:
    spec = "input: [3, 8, 8]\nlayers:\n  - upsample: {scale_factor: 1e308}\n"
    result = run_cli(command, "-", stdin=spec)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    shown = result.out + result.err  # lint and check report unreadable specs in their report, on stdout
    assert "<stdin>:3:" in shown and "overflows a 64-bit integer" in shown


@pytest.fixture
def long_ints():  # type: ignore[no-untyped-def]
    """This test's own str() and json.loads of the figures need Python's digit guard lifted, then restored."""
    if not hasattr(sys, "set_int_max_str_digits"):
        yield
        return
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(previous)


def test_figures_longer_than_4300_digits_print_whole(long_ints: None) -> None:
    result = run_cli("summary", "-", "--format", "json", stdin=HUGE_INPUT)
    assert result.code == 0, result.err
    elements = (10**30) ** 160
    assert len(str(elements)) > 4300
    layer = json.loads(result.out)["layers"][0]
    assert math.prod(layer["output_shape"]) == elements
    table = run_cli("summary", "-", stdin=HUGE_INPUT)
    assert table.code == 0 and "Traceback" not in table.err
    assert f"{4 * elements:,}" in table.out  # float32 bytes of the input, whole


@pytest.mark.parametrize(
    "value",
    [
        "[" * 1000 + "1" + "]" * 1000,  # Python's recursion limit in the builder
        "[" * 30000 + "1" + "]" * 30000,  # libyaml's composer recursing in C: the process used to crash
        "{a: " * 200 + "1" + "}" * 200,
    ],
    ids=["lists-1000", "lists-30000", "mappings-200"],
)
def test_deep_nesting_is_refused_before_composing(value: str) -> None:
    spec = f"input: [1, 4, 4]\nlayers:\n- conv2d: {{out_channels: 1, kernel_size: {value}}}\n"
    result = run_cli("summary", "-", stdin=spec)
    assert result.code == 2, result.err
    assert "<stdin>:3:" in result.err and "more than 100 levels deep" in result.err


def test_block_nesting_past_the_bound_is_refused_too() -> None:
    spec = "input: [1, 4, 4]\nlayers:\n" + "".join("  " * level + "- \n" for level in range(1, 120)) + "- relu\n"
    result = run_cli("summary", "-", stdin=spec)
    assert result.code == 2 and "Traceback" not in result.err
    assert "more than 100 levels deep" in result.err


def test_nesting_within_the_bound_reads_as_before() -> None:
    spec = "input: [1, 4, 4]\nlayers:\n- conv2d: {out_channels: 1, kernel_size: " + "[" * 40 + "1" + "]" * 40 + "}\n"
    result = run_cli("summary", "-", stdin=spec)
    assert result.code == 2 and "levels deep" not in result.err  # refused by Conv2d's own rule, not by depth
