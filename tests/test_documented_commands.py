"""Every documented command works as printed.

The commands are collected, not listed: every `cnncalc ...` line in README.md's and docs/*.md's code blocks
(shell and console blocks, and the `run:`/`entry:` lines of YAML ones), every concrete `cnncalc ...` in their
prose, and every line of the commands' `--help` examples (the `\\b Examples:` paragraphs of their docstrings).
Each runs through a shell (bash, with pipefail), as printed, in a copy of the repository root: a temporary
directory holding a copy of specs/ and README.md, the placeholder files the docs name (net.yaml, old.yaml,
new.yaml, image.yaml: tests/fixtures/documented/; models/: shipped specs plus a YAML file that is not a spec), and
a git history for `git show HEAD~1:net.yaml`. `cnncalc` on the PATH runs this checkout's code. Each must exit 0
(unless EXPECTED_EXIT says otherwise), print no traceback, and leave a non-empty file wherever it writes one.

What cannot run as printed is in the reviewed tables below, each entry with its reason: MAPPED (run another
command in its place), NOT_RUN (kept short) and FAILING (known failures another change fixes: strict xfails, so
the fix must remove the mark). A test keeps the tables' keys documented, so they cannot go stale.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from conftest import ROOT
from test_teaching_guide import BLOCK as TEACHING_BLOCK
from test_teaching_guide import GUIDE

FIXTURES = ROOT / "tests" / "fixtures" / "documented"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# The models/ folder the docs' CI examples point at: shipped specs (one in a subfolder, which `check models/`
# reaches) and a YAML file that is not a spec, beside them (skipped with a notice when found in the folder).
MODELS = {
    "models/resnet18.yaml": ROOT / "specs" / "resnet18.yaml",
    "models/mobilenet_v2.yaml": ROOT / "specs" / "mobilenet_v2.yaml",
    "models/sub/resnet50.yaml": ROOT / "specs" / "resnet50.yaml",
    "models/training.yaml": FIXTURES / "training.yaml",
}

# Printed command -> (the command run in its place, why).
MAPPED: dict[str, tuple[str, str]] = {
    "pip install . && cnncalc summary specs/lenet5.yaml": (
        "cnncalc summary specs/lenet5.yaml",
        "installing would replace the environment under test; the Quickstart's second half runs",
    ),
    "entry: cnncalc check --skip-non-specs --quiet": (
        "cnncalc check --skip-non-specs --quiet models/mobilenet_v2.yaml models/resnet18.yaml "
        "models/sub/resnet50.yaml models/training.yaml",
        "a pre-commit hook's entry: pre-commit appends the files matching `files:` (^models/.*\\.ya?ml$)",
    ),
}

# docs/bridges.md's torchvision examples: torchvision imports here only after its operators are declared
# (tests/torchvision_models.py); tests/fixtures/torch_import/tvmodels.py declares them, then is torchvision.models.
_TVMODELS = f"PYTHONPATH={ROOT / 'tests' / 'fixtures' / 'torch_import'}{os.pathsep}{ROOT}"
for _printed in (
    "cnncalc import torchvision.models:resnet50 --input 3x224x224 -o resnet50.yaml",
    "cnncalc import torchvision.models:googlenet --input 3x224x224 | head -2",
    "cnncalc import torchvision.models:vit_b_16 --input 3x224x224",
):
    MAPPED[_printed] = (
        f"{_TVMODELS} {_printed.replace('torchvision.models:', 'tvmodels:')}",
        "torchvision's wheel needs its two operators declared first on this CPU build of torch",
    )

# Printed command -> the modules it needs: skipped where one is not installed (CI installs them all).
_ROUND_TRIP = ("torch",)
NEEDS: dict[str, tuple[str, ...]] = {
    'python -c "import torch, resnet18; print(resnet18.build_model()(torch.zeros(1, *resnet18.INPUT_SHAPE)).shape)"': (
        _ROUND_TRIP
    ),
    "cnncalc import resnet18:build_model --input 3x224x224 -o resnet18_back.yaml": _ROUND_TRIP,
    "cnncalc import resnet18:build_model --input 3x224x224": _ROUND_TRIP,  # README's tour
    "cnncalc diff specs/resnet18.yaml resnet18_back.yaml --depth 0": _ROUND_TRIP,
    'python -c "import torch, resnet18; torch.onnx.export(resnet18.build_model(), '
    "(torch.zeros(1, *resnet18.INPUT_SHAPE),), 'resnet18.onnx', dynamo=False)\"": ("torch", "onnx"),
    "cnncalc summary resnet18.onnx --human | tail -5": ("torch", "onnx"),
    "cnncalc import torchvision.models:resnet50 --input 3x224x224 -o resnet50.yaml": ("torch", "torchvision"),
    "cnncalc summary resnet50.yaml | tail -5": ("torch", "torchvision"),
    "cnncalc import torchvision.models:googlenet --input 3x224x224 | head -2": ("torch", "torchvision"),
    "cnncalc import torchvision.models:vit_b_16 --input 3x224x224": ("torch", "torchvision"),
    "cnncalc import torch.nn:Conv2d --arg in_channels=3 --arg out_channels=8 --arg kernel_size=3 --input 3x32x32": (
        "torch",
    ),
}

# Printed command -> why it cannot run here. Keep this short.
NOT_RUN: dict[str, str] = {}

# Printed command -> the known failure, fixed by another change (remove the entry with the fix).
FAILING: dict[str, str] = {}

# Printed command -> its documented exit codes, where that is not 0 alone.
EXPECTED_EXIT: dict[str, tuple[int, ...]] = {
    # "Exit codes": head may leave before cnncalc's last write (141, quietly) or after it (0)
    "cnncalc summary specs/resnet50.yaml | head -1": (0, 141),
    "cnncalc check specs/ | head -1": (0, 141),
    "cnncalc import torchvision.models:vit_b_16 --input 3x224x224": (2,),  # docs/bridges.md: what cannot import
}


class Documented(NamedTuple):
    where: str  # README.md:37, or `cnncalc verify --help`
    command: str  # as printed (comments included: the shell drops them)

    @property
    def key(self) -> str:
        """The command without its trailing comment: how the tables below name it."""
        return without_comment(self.command)


def without_comment(command: str) -> str:
    words = shlex.split(command, comments=True)
    for match in re.finditer(r"\s#", command):
        try:
            if shlex.split(command[: match.start()]) == words:
                return command[: match.start()].rstrip()
        except ValueError:
            continue  # the # is inside quotes
    return command


# -- collecting ---------------------------------------------------------------------------------------------

COMMAND_START = re.compile(r"(?:^|\|\||&&|[|;])\s*cnncalc\s")
SHELL_FENCES = {"", "sh", "bash", "shell", "console"}


def _complete(lines: list[str], start: int) -> tuple[str, int]:
    """The command beginning at lines[start], joined with the lines after it while a quote is still open (the
    multi-line jq program in docs/tools-disagree.md) or the line ends with a backslash."""
    text, end = lines[start], start
    while end + 1 < len(lines):
        if text.endswith("\\"):
            text, end = text[:-1] + lines[end + 1], end + 1
            continue
        try:
            shlex.split(text, comments=True)
            break
        except ValueError:
            text, end = text + "\n" + lines[end + 1], end + 1
    return text, end


def fenced_commands(path: Path) -> list[Documented]:
    name = str(path.relative_to(ROOT))
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Documented] = []
    fence: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = stripped[3:].strip() if fence is None else None
        elif fence is not None:
            command = None
            if stripped.startswith("$ "):
                command = stripped[2:]
            elif fence == "yaml":
                key, _, value = stripped.lstrip("- ").partition(": ")
                if key in ("run", "entry") and COMMAND_START.search(value):
                    command = f"{key}: {value}" if key == "entry" else value
            elif fence in SHELL_FENCES and fence != "console" and COMMAND_START.search(stripped):
                command = stripped
            if command is not None:
                start = index
                indent = len(line) - len(line.lstrip())
                rest = [command] + [raw[indent:] for raw in lines[index + 1 :]]
                command, extra = _complete(rest, 0)
                index += extra
                found.append(Documented(f"{name}:{start + 1}", command))
        index += 1
    assert fence is None, f"{name}: a code fence is not closed"
    return found


def inline_commands(path: Path) -> list[Documented]:
    """`cnncalc ...` code spans in the prose (outside code blocks)."""
    name = str(path.relative_to(ROOT))
    found: list[Documented] = []
    fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith("```"):
            fence = not fence
        elif not fence:
            spans = re.findall(r"`(cnncalc [^`]*)`", line)
            if line.lstrip().startswith("|"):  # in a table, a code span writes its pipes as \|
                spans = [span.replace("\\|", "|") for span in spans]
            found.extend(Documented(f"{name}:{number}", span) for span in spans)
    return found


def help_examples() -> list[Documented]:
    from cnncalc.cli import app

    found: list[Documented] = []
    app_help = app.info.help or ""
    found.extend(Documented("`cnncalc --help`", m) for m in re.findall(r"Example: (cnncalc [^\n]*)", app_help))
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.callback.__name__
        paragraphs = inspect.cleandoc(info.callback.__doc__ or "").split("\n\n")
        examples = [p for p in paragraphs if p.startswith("\b") and "Examples:" in p]
        assert examples, f"`cnncalc {name} --help` has no Examples paragraph"
        for paragraph in examples:
            lines = [line.strip() for line in paragraph.splitlines()]
            commands = [line for line in lines[lines.index("Examples:") + 1 :] if COMMAND_START.search(line)]
            assert any(f"cnncalc {name}" in line for line in commands), f"`cnncalc {name} --help`: no example"
            found.extend(Documented(f"`cnncalc {name} --help`", line) for line in commands)
    return found


# -- what a span is ----------------------------------------------------------------------------------------


def click_command(name: str):  # type: ignore[no-untyped-def]
    import typer.main

    from cnncalc.cli import app

    group = typer.main.get_command(app)
    return group.commands.get(name)  # type: ignore[attr-defined]


def is_synopsis(span: str) -> bool:
    """`cnncalc layer KIND --input SHAPE NAME=VALUE...`: placeholders in capitals, `...` or [optional] parts."""
    return "..." in span or "[" in span or re.search(r"(?<![\w-])[A-Z]{2,}\b", span) is not None


def is_reference(span: str) -> bool:
    """`cnncalc check`, `cnncalc diff --exit-code`, `cnncalc check --min-receptive-field`: a command (and its
    options) named in prose, not a command to run: it gives no operand although the command takes some."""
    words = shlex.split(span.split("|")[0])
    command = click_command(words[1]) if len(words) > 1 else None
    if command is None or not any(p.param_type_name == "argument" for p in command.params):
        return False
    rest = iter(words[2:])
    for word in rest:
        if not word.startswith("-"):
            return False  # an operand
        if _takes_value(words[1], word):
            next(rest, None)
    return True


def _takes_value(command_name: str, option: str) -> bool:
    command = click_command(command_name)
    return any(option in p.opts and not p.is_flag for p in command.params if p.param_type_name == "option")


def documented() -> list[Documented]:
    commands: list[Documented] = []
    for path in DOCS:
        commands.extend(fenced_commands(path))
        commands.extend(c for c in inline_commands(path) if not is_synopsis(c.command) and not is_reference(c.command))
    return commands + help_examples()


# -- the sandbox -------------------------------------------------------------------------------------------

STAND_INS = {
    # Used only where the tool is not installed, so that the cnncalc side of the pipe is still checked.
    "jq": "import json, sys\njson.dump(json.load(sys.stdin), sys.stdout)\n",
    "dot": "import sys\ntext = sys.stdin.read()\n"
    "assert text.lstrip().startswith(('digraph', 'graph')) and text.rstrip().endswith('}'), 'not DOT'\n"
    "print('<svg xmlns=\"http://www.w3.org/2000/svg\"/>')\n",
}


class Sandbox(NamedTuple):
    root: Path  # where the commands run
    env: dict[str, str]  # `cnncalc` (this checkout) and the stand-ins first on the PATH


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(ROOT / "specs", root / "specs")
    shutil.copy(ROOT / "README.md", root / "README.md")
    for name in ("net.yaml", "old.yaml", "new.yaml", "image.yaml"):
        shutil.copy(FIXTURES / name, root / name)
    for target, source in MODELS.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / target)
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "cnncalc").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cnncalc "$@"\n')
    for tool, program in STAND_INS.items():
        if shutil.which(tool) is None:
            (bin_dir / tool).write_text(f"#!{sys.executable}\n{program}")
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    if shutil.which("git"):
        _git_history(root)
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM", "COLUMNS")}
    environment.update({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    return Sandbox(root, environment)


def _git_history(root: Path) -> None:
    """net.yaml in two commits, old.yaml's text first, so `git show HEAD~1:net.yaml` has something to show."""
    env = {**os.environ, **_GIT_IDENTITY}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)

    git("init", "-q")
    (root / "net.yaml").write_text((FIXTURES / "old.yaml").read_text())
    git("add", "net.yaml")
    git("commit", "-q", "-m", "net: first version")
    (root / "net.yaml").write_text((FIXTURES / "net.yaml").read_text())
    git("commit", "-q", "-am", "net: wider")


_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def written_files(command: str) -> list[str]:
    """The files a command writes: after `>`, `>>`, `-o`, `--output` (not `-`, standard output)."""
    words = shlex.split(command, comments=True)
    return [
        after
        for word, after in zip(words, words[1:], strict=False)
        if word in (">", ">>", "-o", "--output") and after != "-"
    ]


# -- the tests ---------------------------------------------------------------------------------------------


def _cases() -> list:  # type: ignore[type-arg]
    cases = []
    for item in documented():
        marks = []
        if item.key in FAILING:
            marks.append(pytest.mark.xfail(strict=True, reason=FAILING[item.key]))
        if item.key in NOT_RUN:
            marks.append(pytest.mark.skip(reason=NOT_RUN[item.key]))
        missing = [module for module in NEEDS.get(item.key, ()) if importlib.util.find_spec(module) is None]
        if missing:
            marks.append(pytest.mark.skip(reason=f"needs {' and '.join(missing)}, not installed"))
        cases.append(pytest.param(item, marks=marks, id=f"{item.where} {item.command[:70]}"))
    return cases


@pytest.mark.parametrize("item", _cases())
def test_documented_command_runs_as_printed(item: Documented, sandbox: Sandbox) -> None:
    command = MAPPED[item.key][0] if item.key in MAPPED else item.command
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=sandbox.root,
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    shown = f"{item.where}: `{command}`\nexit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr, shown
    assert done.returncode in EXPECTED_EXIT.get(item.key, (0,)), shown
    for file in written_files(command):
        path = sandbox.root / file
        assert path.is_file() and path.stat().st_size > 0, f"{shown}\nwrote nothing to {file}"


def test_the_collection_finds_the_commands_it_must() -> None:
    commands = documented()
    printed = {c.command for c in commands}
    # the teaching guide's own extraction finds nothing this one misses
    guide = {f"cnncalc {m['command']}" for m in TEACHING_BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}
    assert guide and guide <= printed
    # every command of the CLI is documented somewhere, and shown in its own --help
    from cnncalc.cli import app

    for info in app.registered_commands:
        assert info.callback is not None
        name = info.callback.__name__
        assert any(COMMAND_START.search(c.command) and f"cnncalc {name}" in c.command for c in commands), name
    assert any(c.where.startswith("docs/tools-disagree.md") and "\n" in c.command for c in commands)  # multi-line
    assert len(commands) > 80


def test_the_tables_name_documented_commands_only() -> None:
    printed = {c.key for c in documented()}
    for table in (MAPPED, NOT_RUN, FAILING, EXPECTED_EXIT, NEEDS):
        stale = set(table) - printed
        assert not stale, f"no longer documented (remove from the table): {stale}"
    assert len(NOT_RUN) <= 3, "commands that cannot run must stay the exception"


def test_synopses_and_references_name_real_commands_and_options() -> None:
    """`cnncalc diff --exit-code`, `cnncalc layer KIND --input SHAPE NAME=VALUE...`: not run, but the command and
    every option named must exist."""
    spans = [c for path in DOCS for c in inline_commands(path)]
    checked = 0
    for span in spans:
        if not (is_synopsis(span.command) or is_reference(span.command)):
            continue
        words = span.command.split("|")[0].split()
        command = click_command(words[1])
        assert command is not None, f"{span.where}: no command {words[1]!r}"
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for word in words[2:]:
            option = word.strip("[]").split("=")[0]
            if option.startswith("-"):
                assert option in options, f"{span.where}: `cnncalc {words[1]}` has no option {option}"
        checked += 1
    assert checked >= 10
