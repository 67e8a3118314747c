"""Shared test fixtures: running the CLI as a user does, and golden files (`pytest --update-golden` rewrites them)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_configure(config: pytest.Config) -> None:
    """Where torchvision is installed, import it once through the helper that lets it load on a CPU build of torch
    (tests/torchvision_models.py), before anything imports it plainly: torch_graph's StochasticDepth, and ptflops,
    which imports torchvision.ops when it is imported."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is not None and importlib.util.find_spec("torch") is not None:
        from torchvision_models import import_torchvision

        import_torchvision()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run `python -m cnncalc ARGS` in a fresh process from the repository root, as a user would."""
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM")}
    environment.update({"NO_COLOR": "1", "COLUMNS": "100", **(env or {})})
    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with tests/golden/NAME, or rewrite it under --update-golden (then review the diff)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden and review it"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (pytest --update-golden)"

    return check
