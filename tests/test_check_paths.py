"""`cnncalc check`'s shortcut gives what the long way gives (issue 13): a spec whose budgets and lint rules read no
receptive field is analyzed without them (`analyze(..., receptive=False)`, cnncalc.check.needs_fields); with
`cnncalc.check.shortcuts = False` every spec is analyzed with its fields. Compared over the shipped specs, the
fixtures, the lint rules' cases (tests/test_lint.py) and fuzzer mutants (tests/fuzz), each checked against the
budgets of its own `limits:` and of the command line (the receptive-field one included): the text and JSON
reports must be the same either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzz.campaign import mutant_texts
from test_lint import CASES

import cnncalc.analyze
from cnncalc import check
from cnncalc.check import Options, check_paths
from cnncalc.limits import option_limit
from cnncalc.render.check import render_text, result_dict

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "fixtures").glob("*.yaml"))
MUTANTS = 300  # fuzzer cases (about 9 in 10 carry a mutant spec), seed "check"
LIMITS = {
    "max_params": option_limit("max_params", "1M"),
    "max_macs": option_limit("max_macs", "100M"),
    "max_activation_bytes": option_limit("max_activation_bytes", "1MiB"),
    "expect_output": option_limit("expect_output", "10"),
    "min_receptive_field": option_limit("min_receptive_field", "20"),
}


@pytest.fixture(scope="module")
def spec_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("specs")
    mutants = mutant_texts("check", MUTANTS)
    cases = [text for firing, _, quiet in CASES.values() for text in (firing, quiet)]
    texts = [path.read_text(encoding="utf-8") for path in SHIPPED] + cases + mutants
    files = []
    for index, text in enumerate(texts):
        path = folder / f"spec{index:04d}.yaml"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    return files


def reports(files: list[str], options: Options) -> tuple[str, str]:
    results = check_paths(files, options)
    return render_text(results, True, "check"), json.dumps(result_dict(results, True, "check"), indent=2)


@pytest.mark.parametrize(
    "limits", [{}, LIMITS, {key: value for key, value in LIMITS.items() if key != "min_receptive_field"}]
)
@pytest.mark.parametrize("batch", [None, 2])
def test_checks_without_fields_as_with_them(
    spec_files: list[str], limits: dict, batch: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = Options(limits, batch, None, frozenset(), lint=True, budgets=True, skip_non_specs=True)
    fast = reports(spec_files, options)
    monkeypatch.setattr(check, "shortcuts", False)
    assert reports(spec_files, options) == fast


def test_the_comparison_compares_something(spec_files: list[str]) -> None:
    """Lint findings of the rules that read fields, and receptive-field budgets, do come up among the specs."""
    options = Options(LIMITS, None, None, frozenset(), lint=True, budgets=True, skip_non_specs=True)
    text, _ = reports(spec_files, options)
    assert "small-receptive-field" in text and "misaligned-branches" in text
    assert "receptive field at" in text


def fields_computed(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **limits: str) -> int:
    calls = []
    original = cnncalc.analyze.receptive_fields
    monkeypatch.setattr(
        cnncalc.analyze, "receptive_fields", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs)
    )
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    given = {key: option_limit(key, value) for key, value in limits.items()}
    options = Options(given, None, None, frozenset(), lint=True, budgets=True, skip_non_specs=False)
    (result,) = check_paths([str(path)], options)
    assert result.error is None and len(result.budgets) == len(given)
    return len(calls)


PLAIN = (
    "input: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 3, kernel_size: 3, padding: 1, name: c}\n"
    "  - maxpool2d: {kernel_size: 2}\n  - flatten\n"
)


def test_fields_are_left_out_where_nothing_reads_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert fields_computed(PLAIN, tmp_path, monkeypatch) == 0
    assert fields_computed(PLAIN, tmp_path, monkeypatch, min_receptive_field="5") == 1
    pooled = PLAIN.replace("maxpool2d: {kernel_size: 2}", "adaptiveavgpool2d: {output_size: 1}")
    assert fields_computed(pooled, tmp_path, monkeypatch) == 1
    merged = PLAIN.replace("  - flatten\n", "  - add: {inputs: [c, input]}\n")
    assert fields_computed(merged, tmp_path, monkeypatch) == 1
