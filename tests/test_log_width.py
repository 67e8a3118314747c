"""`--width` on the commands that print log lines, not tables: `check`, `lint` (and `lint --rules`) and `kinds`.

N columns and 0 (no limit) mean what they mean for `summary`; without the option only a terminal wraps them ($COLUMNS,
else its width), never a pipe or a file, even with $COLUMNS set (tools read each `file:line:column: ...` whole). A
line longer than the width wraps between words, its continuation two spaces deeper than its start; the words are
those of the whole line, none cut (a single piece wider than the width stands whole on its line). The machine
formats (json, github, junit) never wrap.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from terminal import on_terminal

from cnncalc.render.screen import cell_width, units

CHECK_SPECS = ROOT / "tests" / "check_specs"
SPECS = [str(CHECK_SPECS / name) for name in ("clean.yaml", "budgeted.yaml", "broken.yaml")]
COMMANDS = {
    "check": ["check", *SPECS],
    "lint": ["lint", *SPECS],
    "lint-rules": ["lint", "--rules"],
    "kinds": ["kinds"],
}
NO_LIMIT = {"COLUMNS": "0"}  # what run_cli's pipe has with no COLUMNS: no limit


def whole(command: str) -> str:
    return run_cli(*COMMANDS[command], env=NO_LIMIT).out


def check_wrapped(text: str, whole_text: str, width: int) -> None:
    """Every line fits in `width` unless it is one piece; nothing is cut, added or lost: the same words in the
    same order; continuations are indented deeper than a line can start."""
    assert text.split() == whole_text.split()
    for line in text.splitlines():
        assert line == line.rstrip()
        assert cell_width(line) <= width or len(units(line)) == 1, (width, line)
    assert len(text.splitlines()) >= len(whole_text.splitlines())


@pytest.mark.parametrize("command", COMMANDS)
def test_width_0_is_no_limit_whatever_columns_says(command: str) -> None:
    narrow_terminal = {"COLUMNS": "30"}
    no_limit = run_cli(*COMMANDS[command], "--width", "0", env=narrow_terminal)
    assert no_limit.out == whole(command)
    assert no_limit.err == ""


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("width", [1, 24, 40, 60, 100])
def test_narrow_widths_wrap_between_words(command: str, width: int) -> None:
    done = run_cli(*COMMANDS[command], "--width", str(width), env={"COLUMNS": "200"})
    assert done.code == run_cli(*COMMANDS[command], env=NO_LIMIT).code
    check_wrapped(done.out, whole(command), width)


@pytest.mark.parametrize("command", ["check", "kinds"])
def test_a_pipe_wraps_only_with_the_option(command: str) -> None:
    assert run_cli(*COMMANDS[command], env={"COLUMNS": "50"}).out == whole(command)
    assert run_cli(*COMMANDS[command], "--width", "50").out != whole(command)  # the case wraps something


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("command", ["check", "kinds"])
def test_a_terminal_wraps_at_its_width_or_columns(command: str) -> None:
    arguments = COMMANDS[command]
    assert on_terminal(arguments, 50, NO_COLOR="1")[1] == run_cli(*arguments, "--width", "50").out
    assert on_terminal(arguments, 50, NO_COLOR="1", COLUMNS="70")[1] == run_cli(*arguments, "--width", "70").out
    assert on_terminal([*arguments, "--width", "0"], 50, NO_COLOR="1")[1] == whole(command)


def test_continuations_are_deeper_than_their_line() -> None:
    text = run_cli(*COMMANDS["check"], "--width", "40").out
    lines = text.splitlines()
    hint = next(i for i, line in enumerate(lines) if line.startswith("  hint: "))
    assert lines[hint + 1].startswith("    ") and not lines[hint + 1].startswith("     ")
    # The broken spec's location is one piece wider than the line: whole on its own line, the message under it.
    error = lines.index(f"{SPECS[2]}:5:5:")
    assert lines[error + 1].startswith("  error: ")


def test_kinds_other_ops_wrap_under_their_line() -> None:
    lines = run_cli("kinds", "--width", "50").out.splitlines()
    first = lines.index("    other ops: bin elements - 1 adds + 1 divide")
    assert lines[first + 1].startswith("      ") and lines[first - 1] == "AdaptiveAvgPool1d(output_size)"


def test_lint_rules_paragraphs_are_unchanged_without_a_limit() -> None:
    """The explanations are filled at 100 columns as textwrap did before --width existed."""
    import textwrap

    from cnncalc.lint import RULES

    expected = []
    for rule in RULES:
        expected.append(f"{rule.id} {rule.name} ({rule.severity}): {rule.summary}")
        expected.append(textwrap.fill(rule.explanation, 100, initial_indent="    ", subsequent_indent="    "))
    assert whole("lint-rules") == "\n".join(expected) + "\n"


@pytest.mark.parametrize("form", ["json", "github", "junit"])
def test_machine_formats_never_wrap(form: str) -> None:
    wide = run_cli("check", *SPECS, "--format", form, "--width", "0")
    narrow = run_cli("check", *SPECS, "--format", form, "--width", "20", env={"COLUMNS": "20"})
    assert narrow.out == wide.out and narrow.code == wide.code
    if form == "json":
        json.loads(narrow.out)


def test_a_file_has_no_limit_unless_given(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    run_cli("check", *SPECS, "-o", str(out), env={"COLUMNS": "30"})
    assert out.read_text(encoding="utf-8") == whole("check")
    run_cli("check", *SPECS, "-o", str(out), "--width", "30")
    check_wrapped(out.read_text(encoding="utf-8"), whole("check"), 30)


@pytest.mark.parametrize("command", ["check", "lint", "kinds"])
def test_help_and_bad_values(command: str) -> None:
    shown = " ".join(run_cli(command, "--help", env={"COLUMNS": "200"}).out.split())
    assert "--width" in shown and "0: no limit" in shown
    bad = run_cli(command, *COMMANDS[command][1:], "--width", "-1")
    assert bad.code == 2 and "Traceback" not in bad.err and "--width" in bad.err
