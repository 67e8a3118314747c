"""CLI conventions: every exit code (and the one place that documents them), a closed pipe, `check DIR` over
subfolders with files that are not specs, `--quiet`, hints that never repeat what was given, and documentation
that lives in the repository (docs/design.md, docs/conventions.md; no reference to ../shared)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from cnncalc.cli import EXIT_INTERRUPTED, EXIT_READER_LEFT

LENET = "specs/lenet5.yaml"
BUDGETED = ROOT / "tests" / "check_specs" / "budgeted.yaml"  # exceeds its max_params; two lint warnings
CLEAN = ROOT / "tests" / "check_specs" / "clean.yaml"
BROKEN = ROOT / "tests" / "check_specs" / "broken.yaml"
NOT_A_SPEC = ROOT / "tests" / "fixtures" / "documented" / "training.yaml"


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM")}
    environment.update({"NO_COLOR": "1", "COLUMNS": "100"})
    return environment


# -- exit codes ---------------------------------------------------------------------------------------------


def documented_exit_codes(path: Path, heading: str) -> dict[int, str]:
    """The rows `| code | meaning |` of the table under `heading`."""
    text = path.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    section = section[: section.find("\n#", 1)]
    return {int(m[1]): m[2] for m in re.finditer(r"^\|\s*(\d+)\s*\|(.*)\|$", section, re.M)}


def test_the_exit_codes_are_documented_in_one_table() -> None:
    readme = documented_exit_codes(ROOT / "README.md", "## Exit codes")
    assert set(readme) == {0, 1, 2, EXIT_INTERRUPTED, EXIT_READER_LEFT}
    assert "head -1" in readme[EXIT_READER_LEFT] and "Ctrl-C" in readme[EXIT_INTERRUPTED]
    assert set(documented_exit_codes(ROOT / "docs" / "ci.md", "## Exit codes")) == set(readme)
    assert (EXIT_INTERRUPTED, EXIT_READER_LEFT) == (128 + signal.SIGINT, 128 + signal.SIGPIPE)


@pytest.mark.parametrize(
    "args, code",
    [
        (("summary", LENET), 0),
        (("check", str(BUDGETED)), 1),  # a budget exceeded
        (("lint", str(BUDGETED), "--strict"), 1),  # warnings fail with --strict
        (("verify", LENET), 0),
        (("diff", LENET, "specs/lenet5_bn.yaml", "--exit-code"), 1),
        (("diff", LENET, LENET, "--exit-code"), 0),
        (("summary", str(BROKEN)), 2),  # an invalid spec
        (("summary", "no-such-spec.yaml"), 2),
        (("summary", LENET, "--batch", "0"), 2),  # a usage error caught by the option parser
        (("verify", LENET, "--max-macs", "1000"), 2),  # over the executor's budget
    ],
)
def test_exit_codes_0_1_2(args: tuple[str, ...], code: int) -> None:
    result = run_cli(*args)
    assert result.code == code, result.out + result.err
    assert "Traceback" not in result.err


def test_exit_130_on_ctrl_c(tmp_path: Path) -> None:
    """SIGINT while cnncalc waits for its spec: a FIFO's open returns in the writer once cnncalc has opened it, so
    the signal arrives after start-up, deterministically."""
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", "summary", str(fifo)],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with open(fifo, "w"):
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err


# -- a closed pipe ------------------------------------------------------------------------------------------

CLOSED_PIPE_COMMANDS = [
    *[("summary", "specs/resnet50.yaml", "--format", f) for f in ("table", "json", "csv", "markdown")],
    ("summary", "--help"),
    ("--help",),
    ("--version",),
    ("run", LENET),
    ("run", LENET, "--format", "json"),
    ("verify", LENET),
    ("layer", "conv2d", "--input", "3x32x32", "out_channels=10", "kernel_size=5"),
    ("explain", LENET),
    ("explain", LENET, "--format", "json"),
    ("fuse", "specs/lenet5_bn.yaml", "-o", "-"),
    ("graph", LENET),
    ("graph", LENET, "--format", "dot"),
    ("diff", LENET, "specs/lenet5_bn.yaml"),
    ("diff", LENET, "specs/lenet5_bn.yaml", "--format", "markdown"),
    ("schema",),
    ("kinds",),
    ("kinds", "--format", "json"),
    ("check", "specs/"),
    ("check", str(BUDGETED), "--format", "github"),  # exit 1 otherwise: the pipe's code wins
    ("lint", "specs/", "--format", "junit"),
    ("lint", "--rules"),
]


@pytest.mark.parametrize("args", CLOSED_PIPE_COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    """Standard output is a pipe whose reader has already left (what `| head -1` becomes once head exits):
    every write fails with EPIPE. The command stops with 141 and says nothing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cnncalc", *args],
            cwd=ROOT,
            env=_environment(),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (EXIT_READER_LEFT, "")


@pytest.mark.parametrize("format", ["table", "json", "csv", "markdown"])
def test_head_in_a_shell_pipeline(format: str) -> None:
    """As a user types it: head may leave before or after cnncalc's last write, so 0 or 141, never 1 or 2."""
    done = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f'"{sys.executable}" -m cnncalc summary specs/resnet50.yaml -f {format} | head -1',
        ],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, EXIT_READER_LEFT) and done.stderr == ""
    assert len(done.stdout.splitlines()) == 1


# -- check DIR ----------------------------------------------------------------------------------------------


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """models/ with a spec that fails a budget, one that passes in a subfolder, YAML files that are not specs
    beside them, a hidden folder with a broken spec, and a link back up (a cycle, if it were followed)."""
    root = tmp_path / "models"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".cache").mkdir()
    (root / "budgeted.yaml").write_text(BUDGETED.read_text())
    (root / "sub" / "deeper" / "clean.yml").write_text(CLEAN.read_text())
    (root / "training.yaml").write_text(NOT_A_SPEC.read_text())
    (root / "sub" / "notes.yaml").write_text("- a list, not a spec\n")
    (root / "sub" / "empty.yaml").write_text("")
    (root / ".cache" / "broken.yaml").write_text(BROKEN.read_text())
    (root / ".hidden.yaml").write_text(BROKEN.read_text())
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    return root


def test_check_dir_recurses_and_skips_what_is_not_a_spec(models: Path) -> None:
    result = run_cli("check", str(models), "--format", "json")
    data = json.loads(result.out)
    statuses = {Path(s["file"]).relative_to(models).as_posix(): s["status"] for s in data["specs"]}
    assert statuses == {
        "budgeted.yaml": "failed",
        "sub/deeper/clean.yml": "passed",
        "sub/empty.yaml": "skipped",
        "sub/notes.yaml": "skipped",
        "training.yaml": "skipped",
    }
    assert result.code == 1  # the failed budget; skipped files change nothing


def test_check_dir_notices_are_one_line_each(models: Path) -> None:
    result = run_cli("check", str(models))
    notices = [line for line in result.out.splitlines() if ": skipped, not a cnncalc spec (" in line]
    assert len(notices) == 3
    assert f"{models / 'training.yaml'}: skipped, not a cnncalc spec (no 'layers')" in notices
    assert result.out.splitlines()[-1].startswith("check: 2 specs, 1 passed, 1 failed; 3 YAML files skipped")
    assert result.err == ""


def test_named_files_that_are_not_specs_still_fail(models: Path) -> None:
    for command in ("check", "lint"):
        assert run_cli(command, str(models / "training.yaml")).code == 2
        skipped = run_cli(command, str(models / "training.yaml"), "--skip-non-specs")
        assert skipped.code == 0 and "skipped, not a cnncalc spec" in skipped.out


def test_quoted_globs_skip_what_is_not_a_spec(models: Path) -> None:
    result = run_cli("lint", f"{models}/**/*.yaml", "--format", "json")
    data = json.loads(result.out)
    assert {Path(s["file"]).name: s["status"] for s in data["specs"]} == {
        "budgeted.yaml": "passed",
        "empty.yaml": "skipped",
        "notes.yaml": "skipped",
        "training.yaml": "skipped",
    }
    assert result.code == 0


# -- --quiet ------------------------------------------------------------------------------------------------


def test_quiet_prints_only_what_fails(models: Path) -> None:
    loud = run_cli("check", str(models))
    assert "warning:" in loud.out and "skipped" in loud.out and "): ok" in loud.out  # what --quiet drops
    quiet = run_cli("check", str(models), "--quiet")
    assert quiet.code == loud.code == 1
    lines = quiet.out.splitlines()
    assert len(lines) == 3 and lines[0] == f"{models / 'budgeted.yaml'} (budgeted): FAIL"
    assert lines[1].startswith("  FAIL max_params:")
    assert lines[2] == loud.out.splitlines()[-1]  # the summary line stays


def test_quiet_lint_keeps_failing_findings_and_errors(models: Path) -> None:
    quiet = run_cli("lint", str(models), "--quiet")
    assert quiet.code == 0 and len(quiet.out.splitlines()) == 1  # two warnings, neither fails: the summary alone
    strict = run_cli("lint", str(models), "--quiet", "--strict")
    assert strict.code == 1
    assert sum("[CN00" in line for line in strict.out.splitlines()) == 2  # with --strict both fail: both shown
    broken = run_cli("lint", str(BROKEN), str(CLEAN), "--quiet")
    assert broken.code == 2 and broken.out.startswith(f"{BROKEN}:") and "clean" not in broken.out.split("\nlint:")[0]


def test_quiet_github_leaves_out_warnings_that_do_not_fail() -> None:
    loud = run_cli("check", str(BUDGETED), "--format", "github")
    quiet = run_cli("check", str(BUDGETED), "--format", "github", "--quiet")
    assert "::warning " in loud.out and "::warning " not in quiet.out
    assert [line for line in quiet.out.splitlines() if line.startswith("::error ")] == [
        line for line in loud.out.splitlines() if line.startswith("::error ")
    ]


def test_quiet_is_explained_in_help() -> None:
    for command in ("check", "lint"):
        text = " ".join(run_cli(command, "--help", env={"COLUMNS": "200"}).out.split())
        assert "Show only what fails" in text and "summary" in text


# -- hints never repeat what was given ----------------------------------------------------------------------


def test_over_budget_hint_names_a_budget_that_works_and_not_the_input_given() -> None:
    over = run_cli("verify", LENET, "--input", "1x28x28", "--max-macs", "1000")
    assert over.code == 2
    hint = next(line for line in over.err.splitlines() if line.strip().startswith("hint:"))
    assert "1x28x28" not in hint
    budget = re.search(r"--max-macs ([0-9.]+[KMGTP]?)", hint)  # a count, with a unit (6.6M) or without
    assert budget is not None, hint
    assert run_cli("verify", LENET, "--input", "1x28x28", "--max-macs", budget[1]).code == 0


# -- documentation in the repository ------------------------------------------------------------------------

SHARED = re.compile(r"\.\./shared|shared/(design|reference)")


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.splitlines()]


def test_no_tracked_file_sends_readers_to_shared() -> None:
    """A clone has no ../shared: only tests that compare with it may name it, and they skip where it is absent."""
    offenders = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in (".json", ".xml") or path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if not SHARED.search(text):
            continue
        comparing_test = path.parent.name == "tests" and "skipif" in text and ".is_file()" in text
        if not comparing_test:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_readme_points_at_the_docs_it_cites() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target
    assert "docs/design.md" in readme and "docs/conventions.md" in readme


def test_design_lists_every_key_of_the_json_report() -> None:
    """docs/design.md's four key tables hold exactly the keys `summary --format json` prints."""
    data = json.loads(run_cli("summary", "specs/unet.yaml", "--format", "json").out)
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text[text.index("## The JSON report") : text.index("## Architecture")]
    tables = re.split(r"\n(?=Top level:|Per layer|Totals|Per node)", section)[1:]
    documented = [set() for _ in tables]  # type: ignore[var-annotated]
    for keys, table in zip(documented, tables, strict=True):
        for cell in re.findall(r"^\| (`[^|]+`) \|", table, re.M):
            keys.update(re.findall(r"`(\w+)`", cell))
    assert documented == [set(data), set(data["layers"][0]), set(data["totals"]), set(data["blocks"])]


# The table in docs/conventions.md between these markers is generated from the kinds' own rules.
OPS_START = "<!-- other-ops: generated from each kind's ops_rule"
OPS_END = "<!-- end other-ops -->"


def other_ops_table() -> str:
    from cnncalc.layers.registry import REGISTRY

    kinds_by_rule: dict[str, list[str]] = {}
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind):
        kinds_by_rule.setdefault(cls.ops_rule, []).append(cls.kind)
    rows = ["| kinds | other operations |", "|---|---|"]
    for rule, kinds in sorted(kinds_by_rule.items(), key=lambda item: item[1][0].lower()):
        cell = rule.replace("|", "\\|")
        rows.append(f"| {', '.join(f'`{k}`' for k in kinds)} | {cell} |")
    return "\n".join(rows) + "\n"


def test_conventions_state_every_kinds_other_ops_rule(request: pytest.FixtureRequest) -> None:
    path = ROOT / "docs" / "conventions.md"
    text = path.read_text(encoding="utf-8")
    start = text.index("\n", text.index(OPS_START)) + 1
    end = text.index(OPS_END)
    if request.config.getoption("--update-golden"):
        path.write_text(text[:start] + other_ops_table() + text[end:], encoding="utf-8")
        return
    assert text[start:end] == other_ops_table(), "docs/conventions.md: run pytest --update-golden and review"


def test_help_and_usage_errors_say_something_at_columns_0() -> None:
    """COLUMNS=0 means "no limit" to cnncalc's tables; rich, which typer prints help and usage errors with, made
    every line of them empty there (found by the fuzzer: `summary --depth -1` exited 2 saying nothing)."""
    helped = run_cli("--help", env={"COLUMNS": "0"})
    assert helped.code == 0 and "Usage:" in helped.out and "summary" in helped.out
    refused = run_cli("summary", "specs/lenet5.yaml", "--depth", "-1", env={"COLUMNS": "0"})
    assert refused.code == 2 and "--depth" in refused.err and "x>=0" in refused.err
    table = run_cli("summary", "specs/lenet5.yaml", env={"COLUMNS": "0"})
    assert table.code == 0 and "conv1" in table.out
