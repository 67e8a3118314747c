"""Documents nested past MAX_DEPTH are refused with a message before PyYAML composes them, whatever their form.

PyYAML's composer recurses once per level (in C, in its libyaml binding: about 25,000 levels kill the process with
SIGSEGV; in Python: RecursionError), and it recurses into an unclosed flow collection before the parser reaches
the syntax error at its end. Each document is loaded in a fresh process, so a crash is a failed test, not a dead
test run. This file needs only PyYAML and pytest, so that CI's newest PyYAML (libyaml 0.2.6, which caps nesting at
1,000 levels itself) runs it too: `PYTHONPATH=. /path/to/venv/bin/python -m pytest tests/test_yaml_depth.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT

DEEP = 30_000  # past where PyYAML's C composer used to crash
LOAD = """
import sys
from cnncalc.errors import CnncalcError
from cnncalc.yamlsource import load_yaml
try:
    load_yaml(sys.stdin.read(), "t.yaml")
except CnncalcError as error:
    print(error)
    sys.exit(2)
"""


def load_elsewhere(text: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", LOAD], input=text, capture_output=True, text=True, env=environment, timeout=120
    )


DEEP_DOCUMENTS = {
    "lists-unclosed": "a: " + "[" * DEEP,
    "lists-unclosed-newline": "a: " + "[" * DEEP + "\n",
    "mappings-unclosed": "a: " + "{a: " * DEEP,
    "lists-closed": "a: " + "[" * DEEP + "1" + "]" * DEEP,
    "lists-closed-by-braces": "a: " + "[" * DEEP + "1" + "}" * DEEP,
    "lists-unclosed-after-a-closed-one": "a: [[1]]\nb: " + "[" * DEEP,
    # a ']' in quotes or in a comment is no bracket: pairing brackets blindly would count these one level deep
    "single-quoted-closers": "a: " + "[']', " * DEEP + "1" + "]" * DEEP,
    "double-quoted-closers": "a: " + '["]", ' * DEEP + "1" + "]" * DEEP,
    "commented-closers": "a: [\n" + "  [ # ]\n" * DEEP + "  1" + "]" * (DEEP + 1),
    "lists-one-per-line": "a:\n" + "".join(" [\n" for _ in range(DEEP)),
    "block-sequences": "".join("  " * level + "-\n" for level in range(3000)),
    "compact-sequences": "- " * DEEP + "x",
    "explicit-keys": "? " * DEEP + "x",
}


@pytest.mark.parametrize("text", DEEP_DOCUMENTS.values(), ids=DEEP_DOCUMENTS.keys())
def test_deep_documents_are_refused_with_a_message(text: str) -> None:
    done = load_elsewhere(text)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "more than 100 levels deep" in done.stdout and done.stdout.startswith("t.yaml:"), done.stdout


SHALLOW_DOCUMENTS = {
    "unclosed-shallow": ("a: " + "[" * 50, "YAML syntax error"),
    "quoted-brackets": ('a: "' + "[" * 500 + '"', None),
    "commented-brackets": ("a: 1  # " + "[" * 500 + "\n", None),
    "many-shallow-lists": ("a: [" + ", ".join(["[1, [2]]"] * 5000) + "]", None),
}


@pytest.mark.parametrize(("text", "error"), SHALLOW_DOCUMENTS.values(), ids=SHALLOW_DOCUMENTS.keys())
def test_shallow_documents_are_not_refused_for_depth(text: str, error: str | None) -> None:
    done = load_elsewhere(text)
    assert "levels deep" not in done.stdout, done.stdout
    if error is None:
        assert done.returncode == 0, (done.stdout, done.stderr[-2000:])
    else:
        assert done.returncode == 2 and error in done.stdout, (done.stdout, done.stderr[-2000:])
