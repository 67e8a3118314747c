"""`cnncalc check` and `cnncalc lint` from the command line: every exit code, budgets from options and from
`limits:`, units, and the text, JSON, GitHub and JUnit outputs (golden files, JUnit parsed)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_cli

from cnncalc.limits import BYTE_UNITS, COUNT_UNITS, parse_amount

BUDGETED = "tests/check_specs/budgeted.yaml"
CLEAN = "tests/check_specs/clean.yaml"
BROKEN = "tests/check_specs/broken.yaml"


def totals(spec: str, *options: str) -> dict:  # type: ignore[type-arg]
    result = run_cli("summary", spec, "--format", "json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)["totals"]


def check_json(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = run_cli("check", *args, "--format", "json")
    assert result.err == "", result.err
    return result.code, json.loads(result.out)


# -- exit codes -----------------------------------------------------------------------------------------------


def test_exit_0_when_every_budget_holds() -> None:
    result = run_cli("check", CLEAN)
    assert result.code == 0, result.out + result.err
    assert "clean.yaml (clean): ok" in result.out


def test_exit_1_when_a_spec_limit_is_exceeded() -> None:
    result = run_cli("check", BUDGETED)
    assert result.code == 1
    params = totals(BUDGETED)["params"]
    assert f"FAIL max_params: params {params:,}: over the limit 5,000 (5K) by {params - 5000:,}" in result.out
    assert "[spec, line 5]" in result.out


def test_exit_1_for_each_kind_of_budget_from_options() -> None:
    t = totals(CLEAN)
    for option, measured in (
        ("--max-params", t["params"]),
        ("--max-macs", t["macs"]),
        ("--max-flops", t["flops"]),
        ("--max-activation-bytes", t["activation_bytes"]),
    ):
        assert run_cli("check", CLEAN, option, str(measured)).code == 0, option  # the limit is inclusive
        failed = run_cli("check", CLEAN, option, str(measured - 1))
        assert failed.code == 1, option
        assert f"over the limit {measured - 1:,}" in failed.out
        assert f"[{option}]" in failed.out
    assert run_cli("check", CLEAN, "--expect-output", "10").code == 0
    wrong = run_cli("check", CLEAN, "--expect-output", "1x10")
    assert wrong.code == 1 and "output shape 10 differs from the expected 1x10" in wrong.out


def test_options_replace_the_specs_own_limits() -> None:
    code, data = check_json(BUDGETED, "--max-params", "1G")
    budgets = {b["budget"]: b for b in data["specs"][0]["budgets"]}
    assert budgets["max_params"]["source"] == "--max-params" and budgets["max_params"]["ok"]
    assert budgets["max_macs"]["source"] == "spec"
    assert code == 0  # lint warnings alone do not fail


def test_exit_1_on_lint_warnings_only_with_strict() -> None:
    lint_only = ["--max-params", "1G"]  # the spec's own params limit fails; replace it
    assert run_cli("check", BUDGETED, *lint_only).code == 0
    strict = run_cli("check", BUDGETED, *lint_only, "--strict")
    assert strict.code == 1 and "(--strict: warnings fail)" in strict.out
    assert run_cli("check", BUDGETED, *lint_only, "--strict", "--ignore", "CN001", "--ignore", "CN007").code == 0
    assert run_cli("check", BUDGETED, *lint_only, "--strict", "--no-lint").code == 0


def test_exit_1_on_a_lint_error(tmp_path: Path) -> None:
    spec = tmp_path / "bn1.yaml"
    spec.write_text("input: [16]\nbatch: 1\nlayers:\n  - linear: {out_features: 4, bias: false}\n  - batchnorm1d\n")
    for command in ("check", "lint"):
        result = run_cli(command, str(spec))
        assert result.code == 1, command
        assert "error: [CN002 small-batch-norm]" in result.out


def test_exit_2_for_unreadable_and_invalid_specs_while_the_others_are_checked() -> None:
    result = run_cli("check", CLEAN, BROKEN, "tests/check_specs/missing.yaml")
    assert result.code == 2
    assert "clean.yaml (clean): ok" in result.out
    assert "broken.yaml:5:5: error: unknown layer kind 'rleu'" in result.out
    assert "hint: did you mean 'ReLU'?" in result.out
    assert "error: no such file: tests/check_specs/missing.yaml" in result.out
    assert "3 specs, 1 passed, 2 could not be read" in result.out
    assert run_cli("lint", BROKEN).code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-macs", "lots"], "--max-macs: expected a number with an optional unit"),
        (["--max-params", "1.5"], "--max-params: 1.5 is not a whole number"),
        (["--max-activation-bytes", "3QB"], "unknown unit 'QB'"),
        (["--expect-output", "ten"], "--expect-output: expected the output shape"),
        (["--ignore", "bias-before-nrom"], "did you mean 'bias-before-norm'?"),
        (["--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_exit_2_for_usage_errors(args: list[str], message: str) -> None:
    result = run_cli("check", CLEAN, *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_exit_2_for_a_glob_that_matches_nothing_and_stdin_twice() -> None:
    result = run_cli("check", "tests/check_specs/*.nothing")
    assert result.code == 2 and "no file matches" in result.err
    result = run_cli("check", "-", "-", stdin="")
    assert result.code == 2 and "can be read only once" in result.err


def test_lint_without_specs_is_a_usage_error_and_rules_lists_every_rule() -> None:
    assert run_cli("lint").code == 2
    listed = run_cli("lint", "--rules")
    assert listed.code == 0
    for rule in ("CN001 bias-before-norm", "CN008 misaligned-branches"):
        assert rule in listed.out


# -- many specs -----------------------------------------------------------------------------------------------


def test_directories_and_quoted_globs_expand() -> None:
    code, data = check_json("specs/")  # subfolders included: specs/inputs/ holds YAML files that are not specs
    files = [s["file"] for s in data["specs"]]
    assert files == sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").rglob("*.yaml"))
    statuses = {s["file"]: s["status"] for s in data["specs"]}
    inputs = {file for file in files if file.startswith("specs/inputs/")}
    assert inputs and all(statuses[file] == "skipped" for file in inputs)
    assert code == 0 and data["counts"]["passed"] == len(files) - len(inputs)
    code, globbed = check_json("specs/**/lenet5*.yaml")
    assert [s["file"] for s in globbed["specs"]] == ["specs/lenet5.yaml", "specs/lenet5_bn.yaml"]


def test_stdin_spec() -> None:
    result = run_cli("check", "-", "--max-params", "100", stdin=(ROOT / CLEAN).read_text())
    assert result.code == 1 and "<stdin> (clean): FAIL" in result.out


def test_skip_non_specs() -> None:
    code, data = check_json(".pre-commit-hooks.yaml", CLEAN, "--skip-non-specs")
    assert code == 0
    assert [s["status"] for s in data["specs"]] == ["skipped", "passed"]
    assert run_cli("check", ".pre-commit-hooks.yaml").code == 2  # without the flag it is an invalid spec


def test_batch_and_dtype_scale_activation_memory() -> None:
    t = totals(CLEAN, "--batch", "8", "--dtype", "float16")
    code, data = check_json(CLEAN, "--batch", "8", "--dtype", "float16", "--max-activation-bytes", "1")
    budget = next(b for b in data["specs"][0]["budgets"] if b["budget"] == "max_activation_bytes")
    assert budget["measured"] == t["activation_bytes"]
    assert "(float16, batch 8)" in budget["message"]


def test_min_receptive_field_uses_the_features_before_the_classifier() -> None:
    code, data = check_json("specs/lenet5.yaml", "--min-receptive-field", "16")
    budget = data["specs"][0]["budgets"][0]
    assert code == 0 and budget["layer"] == "pool2" and budget["measured"] == [16, 16]
    summary = json.loads(run_cli("summary", "specs/lenet5.yaml", "--format", "json").out)
    pool2 = next(row for row in summary["layers"] if row["name"] == "pool2")
    assert pool2["receptive_field"]["size"] == budget["measured"]
    assert run_cli("check", "specs/lenet5.yaml", "--min-receptive-field", "17x16").code == 1


# -- units ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units", "value"),
    [
        ("25M", COUNT_UNITS, 25 * 10**6),
        ("4.1G", COUNT_UNITS, 41 * 10**8),
        ("25m", COUNT_UNITS, 25 * 10**6),
        ("1,000", COUNT_UNITS, 1000),
        ("1.5GiB", BYTE_UNITS, 3 * 2**29),
        ("300MB", BYTE_UNITS, 3 * 10**8),
        ("512KiB", BYTE_UNITS, 2**19),
        (7, COUNT_UNITS, 7),
    ],
)
def test_units(text: str | int, units: dict[str, int], value: int) -> None:
    assert parse_amount(text, units) == value


def test_spec_limits_errors_point_at_the_value(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [3, 8, 8]\nlimits:\n  max_parmas: 5M\nlayers:\n  - relu\n")
    result = run_cli("summary", str(spec))
    assert result.code == 2
    assert f"{spec}:3:3: error: limits: unknown budget 'max_parmas'" in result.err
    assert "did you mean 'max_params'?" in result.err
    spec.write_text("input: [3, 8, 8]\nlimits:\n  max_macs: 2.5X\nlayers:\n  - relu\n")
    result = run_cli("check", str(spec))
    assert result.code == 2 and f"{spec}:3:13: error: limits: max_macs: unknown unit 'X'" in result.out


# -- formats --------------------------------------------------------------------------------------------------


def test_json_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", CLEAN, BUDGETED, BROKEN, "--format", "json")
    assert result.code == 2
    data = json.loads(result.out)
    assert data["schema_version"] == 2 and data["exit_code"] == 2 and not data["ok"]
    golden("check_specs.json", result.out)


def test_github_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", CLEAN, BUDGETED, BROKEN, "--format", "github")
    assert result.code == 2
    commands = [line for line in result.out.splitlines() if line.startswith("::")]
    pattern = re.compile(r"^::(error|warning) (file=[^,:]+(,line=\d+,col=\d+)?,)?title=[^:]+::.+$")
    assert all(pattern.match(line) for line in commands), commands
    assert any(line.startswith(f"::error file={BUDGETED},line=5,col=15,") for line in commands)
    assert any(line.startswith(f"::warning file={BUDGETED},line=10,col=5,") for line in commands)
    assert any(line.startswith(f"::error file={BROKEN},line=5,col=5,") for line in commands)
    golden("check_specs.github.txt", result.out)


def test_github_escapes_newlines_percent_and_property_separators() -> None:
    from cnncalc.errors import Location
    from cnncalc.render.check import annotation

    line = annotation("error", Location("a,b:c.yaml", 3, 4), "t: x, y", "50% over\nhint: less")
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=t%3A x%2C y::50%25 over%0Ahint: less"


def test_junit_parses_and_counts(tmp_path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "report.xml"
    result = run_cli("check", CLEAN, BUDGETED, BROKEN, "--format", "junit", "--output", str(report))
    assert result.code == 2 and result.out == ""
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [CLEAN, BUDGETED, BROKEN]
    for suite in [root, *suites]:
        cases = suite.iter("testcase")
        listed = list(cases)
        assert int(suite.get("tests", -1)) == len(listed)
        assert int(suite.get("failures", -1)) == sum(c.find("failure") is not None for c in listed)
        assert int(suite.get("errors", -1)) == sum(c.find("error") is not None for c in listed)
    budgeted = {c.get("name"): c for c in suites[1].findall("testcase")}
    assert set(budgeted) == {"max_params", "max_macs", "expect_output", "min_receptive_field", "lint"}
    assert budgeted["max_params"].find("failure") is not None
    assert budgeted["lint"].find("failure") is None  # warnings only: reported, not failed
    assert "CN001 bias-before-norm" in (budgeted["lint"].findtext("system-out") or "")
    assert suites[2].find("testcase/error") is not None
    golden("check_specs.junit.xml", report.read_text())


def test_junit_strict_fails_the_lint_case() -> None:
    result = run_cli("lint", BUDGETED, "--format", "junit", "--strict")
    assert result.code == 1
    case = ET.fromstring(result.out).find("testsuite/testcase[@name='lint']")
    assert case is not None and case.find("failure") is not None


def test_text_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", CLEAN, BUDGETED, BROKEN)
    golden("check_specs.txt", result.out)
    quiet = run_cli("check", CLEAN, BUDGETED, BROKEN, "--quiet")
    assert "clean.yaml" not in quiet.out and "ok   max_macs" not in quiet.out
    assert "FAIL max_params" in quiet.out


# -- pre-commit, the workflow and the guide -------------------------------------------------------------------


def test_pre_commit_hooks_run_as_pre_commit_would() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["cnncalc-check", "cnncalc-lint"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        program, *args = hook["entry"].split()
        assert program == "cnncalc"
        # pre-commit appends the changed files: a spec, a non-spec YAML file, and a spec that fails
        assert run_cli(*args, "specs/lenet5.yaml", ".pre-commit-hooks.yaml").code == 0
        assert run_cli(*args, "specs/lenet5.yaml", BROKEN).code == 2


def test_the_workflow_commands_pass_on_this_repository() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/specs.yml").read_text())
    steps = workflow["jobs"]["cnncalc"]["steps"]
    commands = [s["run"] for s in steps if "run" in s and s["run"].startswith("cnncalc ")]
    assert len(commands) == 2
    for command in commands:
        program, *args = command.replace("cnncalc-junit.xml", "/dev/null").split()
        result = run_cli(*args)
        assert result.code == 0, command + result.out + result.err


def test_the_guide_shows_the_workflow_and_real_output() -> None:
    guide = (ROOT / "docs/ci.md").read_text()
    assert (ROOT / ".github/workflows/specs.yml").read_text().rstrip() in guide
    shown = guide.split("```\nspecs/mobilenet_v2.yaml (mobilenet_v2): FAIL\n", 1)[1].split("```", 1)[0]
    output = run_cli("check", "specs/mobilenet_v2.yaml", "--max-params", "3M").out
    for line in ["specs/mobilenet_v2.yaml (mobilenet_v2): FAIL", *shown.rstrip().splitlines()]:
        assert line in output.splitlines(), line
