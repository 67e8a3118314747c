"""Every command speaks JSON: `schema_version` and `cnncalc_version` first, and every top-level key documented."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, run_cli

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION

COMMANDS = {
    "summary": ["summary", "specs/lenet5.yaml"],
    "run": ["run", "specs/conv_760.yaml", "--backward", "--trace"],
    "verify": ["verify", "specs/conv_760.yaml"],
    "layer": ["layer", "conv2d", "--input", "3x32x32", "out_channels=10", "kernel_size=5", "padding=2"],
    "fuse": ["fuse", "specs/lenet5_bn.yaml", "-o", "/dev/null"],
    "explain": ["explain", "specs/lenet5.yaml"],
    "kinds": ["kinds"],
    "graph": ["graph", "specs/lenet5.yaml"],
    "diff": ["diff", "specs/resnet18.yaml", "specs/resnet50.yaml"],
    "check": ["check", "specs/mobilenet_v2.yaml"],
    "lint": ["lint", "specs/lenet5.yaml"],
}


def documented_names() -> set[str]:
    text = (ROOT / "README.md").read_text() + (ROOT / "docs" / "ci.md").read_text()
    return set(re.findall(r"`([a-z_]+)`", text)) | set(re.findall(r'"([a-z_]+)"', text))


def test_every_command_is_covered() -> None:
    help_text = run_cli("--help").out
    listed = set(re.findall(r"│ ([a-z]+) ", help_text))
    # schema prints a JSON Schema: JSON by nature; import writes a spec (YAML), export Python source: not reports;
    # report writes an HTML page of summary's JSON (embedded in it, tests/test_report.py)
    assert listed == set(COMMANDS) | {"schema", "import", "export", "report"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_is_versioned_and_documented(command: str) -> None:
    result = run_cli(*COMMANDS[command], "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert list(data)[:2] == ["schema_version", "cnncalc_version"]
    assert data["schema_version"] == SCHEMA_VERSION and data["cnncalc_version"] == __version__
    missing = set(data) - documented_names()
    assert not missing, f"{command} --format json: keys not documented in README.md or docs/ci.md: {missing}"


def test_schema_is_versioned() -> None:
    data = json.loads(run_cli("schema").out)
    assert data["schema_version"] == SCHEMA_VERSION and data["cnncalc_version"] == __version__
