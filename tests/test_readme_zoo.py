"""README's table of shipped specs gives each spec's totals as the analyzer computes them (typed figures drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnncalc.analyze import analyze
from cnncalc.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(?P<file>[a-z0-9_]+\.yaml)` \| (?P<params>[0-9,]+) \| (?P<macs>[0-9,]+) \|$", re.MULTILINE)


def readme_rows() -> dict[str, tuple[int, int]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The shipped specs", 1)[1].split("\n## ", 1)[0]
    return {
        m["file"]: (int(m["params"].replace(",", "")), int(m["macs"].replace(",", ""))) for m in ROW.finditer(section)
    }


def test_the_table_lists_the_torchvision_networks() -> None:
    torchvision = {
        "efficientnet_b0",
        "mobilenet_v3_small",
        "mobilenet_v2",
        "resnet50",
        "shufflenet_v2_x1_0",
        "convnext_tiny",
    }
    assert {f"{net}.yaml" for net in torchvision} <= set(readme_rows())


@pytest.mark.parametrize("file", sorted(readme_rows()))
def test_readme_totals_are_the_analyzers(file: str) -> None:
    totals = analyze(load_spec(str(ROOT / "specs" / file))).totals
    assert (totals.params, totals.macs) == readme_rows()[file]
