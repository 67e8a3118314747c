"""The exact executor's budget: multiply-accumulates and values read and written, counted from the shapes and
checked before anything is allocated, so no spec makes `run`, `verify` or `fuse --seed-weights` hang. Each
refusal here is asserted to happen before the work (the executor's entry points are replaced by ones that fail),
not timed; the README's run and verify examples are asserted to fit the default budget."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
from conftest import ROOT, run_cli

import cnncalc.fuse
import cnncalc.runner
from cnncalc.budget import DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_MACS, Budget, parse_budget, units_up
from cnncalc.errors import UsageError
from cnncalc.runner import parse_shape, run_spec, verify, workload
from cnncalc.spec import load_spec, parse_spec


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any work a failure: generating weights or inputs, or executing a layer."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the executor started before the budget was checked")

    for name in ("weights_for", "generated_input", "execute"):
        monkeypatch.setattr(cnncalc.runner, name, refuse)
    monkeypatch.setattr(cnncalc.fuse, "weights_for", refuse)


def spec(layers: str, shape: str = "[1, 8, 8]", extra: str = "") -> Any:
    return parse_spec(f"name: t\ninput: {shape}\n{extra}layers:\n{layers}", "t.yaml")


def refusal(graph: Any, budget: Budget = Budget(), command: str = "verify") -> UsageError:
    with pytest.raises(UsageError) as caught:
        if command == "verify":
            verify(graph, 0, "eval", budget)
        else:
            run_spec(graph, None, 0, "eval", budget)
    return caught.value


# -- what is counted ------------------------------------------------------------------------------------------------


def test_upsampling_has_no_macs_but_is_refused(nothing_runs: None) -> None:
    graph = spec("  - upsample: {scale_factor: 1000}\n")
    work = workload(graph)
    assert work.macs == 0 and work.elements == 64 + (64 + 64_000_000)  # the input; the layer reads it, writes 1000^2x
    error = refusal(graph)
    assert f"{work.elements:,} values read and written" in error.message
    assert f"{DEFAULT_MAX_ELEMENTS:,} (--max-elements)" in error.message
    assert "layer 'upsample_1' (Upsample)" in error.message
    assert error.hint and "--input 1x7x7" in error.hint  # the largest square input that fits; never 1x8x8
    assert f"--max-elements {units_up(work.elements)}" in error.hint


@pytest.mark.parametrize(
    "layer",
    [
        "adaptiveavgpool2d: {output_size: 20000}",
        "adaptivemaxpool2d: {output_size: [20000, 3000]}",
        "adaptiveavgpool1d: {output_size: 1000000}",
        "adaptivemaxpool3d: {output_size: [500, 500, 500]}",
    ],
)
def test_adaptive_pooling_to_a_huge_output_is_refused(nothing_runs: None, layer: str) -> None:
    rank = int(re.search(r"(\d)d", layer).group(1))  # type: ignore[union-attr]
    graph = spec(f"  - {layer}\n", str([64 if rank == 1 else 2] + [4] * rank))
    error = refusal(graph, command="run")
    assert "values read and written" in error.message and "(--max-elements)" in error.message


def test_pooling_over_a_huge_axis_is_refused(nothing_runs: None) -> None:
    graph = spec("  - maxpool1d: {kernel_size: 3, stride: 1}\n", "[64, 400000]")
    error = refusal(graph)
    assert f"{workload(graph).elements:,} values read and written" in error.message
    assert "--input 64x" in (error.hint or "")


def test_a_convolutions_padded_copy_counts(nothing_runs: None) -> None:
    # Three outputs per axis, but forward pads the 1 x 1 input to 200,001 x 200,001 first.
    graph = spec("  - conv2d: {out_channels: 1, kernel_size: 1, stride: 100000, padding: 100000}\n", "[1, 1, 1]")
    assert graph.output_shape == (1, 3, 3)
    assert workload(graph).elements > 200_001**2
    assert "layer 'conv2d_1' (Conv2d)" in refusal(graph).message


def test_a_transposed_convolutions_full_output_counts(nothing_runs: None) -> None:
    # Cropping 49,999,999 from each end of a 100,000,001-long scatter leaves 3 outputs.
    text = "  - convtranspose1d: {out_channels: 1, kernel_size: 1, stride: 100000000, padding: 49999999}\n"
    graph = spec(text, "[1, 2]")
    assert graph.output_shape == (1, 3)
    assert workload(graph).elements > 100_000_000
    refusal(graph)


def test_a_huge_network_is_refused_without_advice_to_raise_the_budget(nothing_runs: None) -> None:
    graph = spec("  - conv2d: {out_channels: 1000000000000000000000000000000, kernel_size: 3}\n", "[3, 8, 8]")
    error = refusal(graph, command="run")
    assert "972,000,000,000,000,000,000,000,000,000,000 multiply-accumulates" in error.message
    assert "--max-macs" in error.message and "raise the budget" not in (error.hint or "")


def test_the_macs_budget(nothing_runs: None) -> None:
    graph = load_spec(str(ROOT / "specs" / "resnet50.yaml"), input_shape=(3, 64, 64))
    error = refusal(graph)
    macs = workload(graph).macs
    assert f"needs {macs:,} multiply-accumulates (batch 1), above the budget of {DEFAULT_MAX_MACS:,}" in error.message
    assert error.hint == f"use a smaller input: --input 3x32x32; or raise the budget: --max-macs {units_up(macs)}"


def test_a_batch_too_large_is_told_how_many_samples_fit(nothing_runs: None) -> None:
    graph = load_spec(str(ROOT / "specs" / "lenet5.yaml"))
    graph.batch = 64
    error = refusal(graph, command="run")
    fitting = DEFAULT_MAX_MACS // workload(load_spec(str(ROOT / "specs" / "lenet5.yaml"))).macs
    assert f"run at most {fitting} sample(s) at once (batch: in the spec)" in (error.hint or "")


def test_hints_never_repeat_the_input_given(nothing_runs: None) -> None:
    for size in (33, 40, 64, 100):
        graph = load_spec(str(ROOT / "specs" / "resnet18.yaml"), input_shape=(3, size, size))
        try:
            verify(graph, 0, "eval", Budget(max_macs=30_000_000))
        except UsageError as error:
            assert f"--input 3x{size}x{size}" not in (error.hint or ""), error.hint
            suggested = re.search(r"--input (\S+);", error.hint or "")
            assert suggested, error.hint
            shape = parse_shape(suggested.group(1))
            assert shape[1] < size and workload(load_spec(str(ROOT / "specs" / "resnet18.yaml"), input_shape=shape))
        else:
            raise AssertionError(f"3x{size}x{size} fits")


# -- fuse --seed-weights --------------------------------------------------------------------------------------------


def test_fuse_seed_weights_on_a_huge_conv_is_refused_with_the_count(nothing_runs: None) -> None:
    graph = spec("  - conv2d: {out_channels: 1000000000000000000000000000000, kernel_size: 3}\n  - batchnorm2d\n")
    with pytest.raises(UsageError) as caught:
        cnncalc.fuse.fuse(graph, seed=1)
    assert "--seed-weights would generate and write 14,000,000,000,000,000,000,000,000,000,001" in caught.value.message
    assert "without --seed-weights" in (caught.value.hint or "")


def test_fuse_without_a_seed_generates_nothing_for_values_not_given() -> None:
    # Only the bias is given (and wrong): the 10**12 x 1 x 3 x 3 weight is never generated to check it.
    graph = spec("  - conv2d: {out_channels: 1000000000000, kernel_size: 3, weights: {bias: [1, 2]}}\n")
    with pytest.raises(Exception, match="weights: bias has shape 2, expected 1000000000000"):
        cnncalc.fuse.fuse(graph)


def test_fuse_cli_refusal() -> None:
    result = run_cli("fuse", "-", "--seed-weights", "1", "-o", "-", "--max-elements", "1K", stdin=_LENET_BN)
    assert result.code == 2 and "Traceback" not in result.err
    assert "above the budget of 1,000 (--max-elements)" in result.err


_LENET_BN = (ROOT / "specs" / "lenet5_bn.yaml").read_text()


# -- options and defaults -------------------------------------------------------------------------------------------


def test_budget_options_take_units() -> None:
    assert parse_budget("--max-macs", "100M") == 100_000_000
    assert parse_budget("--max-macs", "1.5G") == 1_500_000_000
    assert parse_budget("--max-elements", "250000") == 250_000
    for bad, reason in (("100X", "unknown unit 'X'"), ("0", "at least 1"), ("1.0005K", "not a whole number")):
        with pytest.raises(UsageError, match=re.escape(reason)):
            parse_budget("--max-macs", bad)
    assert [units_up(n) for n in (999, 1000, 1001, 85_458_944, 4_089_184_256, 999_999_999)] == [
        "999",
        "1K",
        "1.1K",
        "86M",
        "4.1G",
        "1000M",
    ]


def test_budget_options_on_the_command_line() -> None:
    ok = run_cli("verify", "specs/lenet5.yaml", "--max-macs", "7M", "--max-elements", "1.5M")
    assert ok.code == 0, ok.err
    over = run_cli("run", "specs/lenet5.yaml", "--max-macs", "6.5M")
    assert over.code == 2 and "above the budget of 6,500,000 (--max-macs)" in over.err
    assert "raise the budget: --max-macs 6.6M" in over.err
    bad = run_cli("verify", "specs/lenet5.yaml", "--max-elements", "lots")
    assert bad.code == 2 and "--max-elements: expected a number with an optional unit" in bad.err


def documented_commands() -> list[str]:
    """Every `cnncalc run` and `cnncalc verify` command in the README, the docs and the commands' help."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "cnncalc").rglob("*.py"))]
    found = set()
    for path in texts:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.search(r"cnncalc ((?:run|verify) [^#|&`>]*)", line)
            if match and "specs/" in match.group(1):
                found.add(match.group(1).strip())
    return sorted(found)


@pytest.mark.parametrize("command", documented_commands())
def test_documented_runs_fit_the_default_budget(command: str, nothing_runs: None) -> None:
    """Counted, not run: the examples' work is within the defaults (the zoo test runs them)."""
    words = shlex.split(command)
    options = dict(zip(words[2::2], words[3::2], strict=False))
    path = ROOT / words[1]
    if not path.exists():
        pytest.skip(f"{words[1]} is a placeholder")
    graph = load_spec(str(path))
    if words[0] == "verify":
        graph.batch = 1
        if "--input" in options:
            graph = load_spec(str(path), input_shape=parse_shape(options["--input"]))
    work = workload(graph)
    assert work.macs <= DEFAULT_MAX_MACS and work.elements <= DEFAULT_MAX_ELEMENTS, (command, work)


def test_documented_examples_are_found() -> None:
    commands = documented_commands()
    assert "verify specs/resnet50.yaml --input 3x32x32" in commands
    assert any(c.startswith("run specs/lenet5.yaml") for c in commands)


def test_efficientnet_fits_at_32(nothing_runs: None) -> None:
    """SiLU and Sigmoid everywhere: it verifies in seconds at 3x32x32 (test_verify_zoo runs it)."""
    graph = load_spec(str(ROOT / "specs" / "efficientnet_b0.yaml"), input_shape=(3, 32, 32))
    work = workload(graph)
    assert work.macs <= DEFAULT_MAX_MACS and work.elements <= DEFAULT_MAX_ELEMENTS
