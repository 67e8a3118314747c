"""`cnncalc report`: the page's numbers are the JSON's, it fetches nothing, and large networks stay bounded.
(The page in a browser: tests/test_report_browser.py.)"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import SPECS, run_cli
from report_page import Page, at

from cnncalc.report.data import GRAPH_MAX_NODES
from cnncalc.report.html import ROWS_MAX, TREE_GROUP
from cnncalc.units import human, human_bytes

# A conv whose bias BatchNorm cancels (lint CN001), a BatchNorm at batch 4 (CN002), a layer the output does not
# use (an analysis warning).
FINDINGS_SPEC = """\
name: findings
input: [3, 16, 16]
batch: 4
layers:
  - conv2d: {out_channels: 8, kernel_size: 3, name: conv1}
  - batchnorm2d: {name: bn1}
  - relu: {name: side, inputs: bn1}
  - relu: {name: out, inputs: bn1}
"""

# 200 uses of a 3-layer residual block: 601 graph nodes layer by layer, so the graph is drawn block by block.
UNITS_SPEC = """\
name: units
input: [3, 8, 8]
blocks:
  unit:
    layers: [{conv2d: {out_channels: 3, kernel_size: 1}}, {relu: {name: r}}, {add: {inputs: [input, r]}}]
layers:
  - unit: {repeat: 200, name: units}
"""

BYTES_KEYS = ("activation_bytes", "saved_bytes", "param_bytes", "training_bytes", "input_bytes")


def report_page(spec: str, *options: str) -> Page:
    done = run_cli("report", spec, *options)
    assert done.code == 0, done.err
    return Page(done.out)


def summary_json(spec: str, *options: str) -> dict:
    done = run_cli("summary", spec, "--format", "json", "--training", *options)
    assert done.code == 0, done.err
    return json.loads(done.out)


def shown(path: str, value: object) -> str:
    """What the page shows for a value: shapes joined by x, bytes in binary units, counts in SI ones."""
    if isinstance(value, list):
        return "x".join(map(str, value)) if value else "scalar"
    if isinstance(value, int) and path.rsplit(".", 1)[-1] in BYTES_KEYS:
        return human_bytes(value)
    return human(value) if isinstance(value, int) else str(value)


def check_numbers(page: Page) -> None:
    """Every number of the page is the embedded JSON's value at its path, shown as the page's units say."""
    assert page.numbers
    for number in page.numbers:
        value = at(page.embedded, number["path"])
        exact = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        assert number["value"] == exact, number
        assert number["text"] == shown(number["path"], value), number


@pytest.fixture(scope="module")
def resnet50() -> Page:
    return report_page("specs/resnet50.yaml")


def test_embedded_report_is_summary_json(resnet50: Page) -> None:
    assert resnet50.embedded["report"] == summary_json("specs/resnet50.yaml")


def test_every_number_is_the_jsons(resnet50: Page) -> None:
    check_numbers(resnet50)


def test_every_layer_and_block_figure_is_shown(resnet50: Page) -> None:
    report = resnet50.embedded["report"]
    paths = {number["path"] for number in resnet50.numbers}
    for i, layer in enumerate(report["layers"]):
        keys = ["output_shape", "macs", "params", "activation_bytes", "saved_bytes"]
        keys += ["receptive_field.size", "receptive_field.stride"] if layer["receptive_field"] else []
        for key in keys:
            assert f"report.layers.{i}.{key}" in paths, (layer["name"], key)
    for key in ("params", "macs", "flops", "activation_bytes", "saved_bytes", "training_bytes", "backward_macs"):
        assert f"report.totals.{key}" in paths
    for key in ("macs", "params", "activation_bytes", "saved_bytes", "output_shape"):
        tree_nodes = [path for path in paths if path.startswith("report.blocks") and path.endswith("." + key)]
        assert len(tree_nodes) == report["blocks"]["layer_count"] + count_blocks(report["blocks"]), key


def count_blocks(node: dict) -> int:
    blocks, pending = 0, [node]
    while pending:
        node = pending.pop()
        blocks += node["type"] is None
        pending.extend(node["children"])
    return blocks


def test_the_page_fetches_nothing(resnet50: Page) -> None:
    assert resnet50.fetching == []
    assert "default-src 'none'" in resnet50.csp


def test_resnet50_page_size_and_graph(resnet50: Page) -> None:
    done = run_cli("report", "specs/resnet50.yaml")
    assert len(done.out.encode()) < 2_000_000
    graph = resnet50.embedded["graph"]
    layers = resnet50.embedded["report"]["layers"]
    assert graph["level"] is None and len(graph["nodes"]) == len(layers) + 1  # one node per layer, and the input
    shapes = {"input": resnet50.embedded["report"]["input_shape"], **{la["name"]: la["output_shape"] for la in layers}}
    names = [node["name"] for node in graph["nodes"]]
    edges = {(names[a], names[b], shape) for a, b, shape in graph["edges"]}
    expected = {(source, la["name"], "x".join(map(str, shapes[source]))) for la in layers for source in la["inputs"]}
    assert edges == expected


def test_findings_and_warnings_are_listed(tmp_path: Path) -> None:
    spec = tmp_path / "findings.yaml"
    spec.write_text(FINDINGS_SPEC)
    page = report_page(str(spec))
    check_numbers(page)
    assert page.embedded["report"] == summary_json(str(spec))
    linted = run_cli("lint", str(spec), "--format", "json")
    findings = json.loads(linted.out)["specs"][0]["findings"]
    assert {f["rule"] for f in findings} == {"CN001", "CN002"}
    assert page.embedded["lint"] == findings
    for finding in findings:
        assert finding["message"] in page.text
    assert page.embedded["report"]["warnings"]
    for warning in page.embedded["report"]["warnings"]:
        assert warning in page.text


def test_options_reach_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = run_cli("report", "specs/resnet18.yaml", "-o", str(out), "--batch", "8", "--optimizer", "sgd")
    assert done.code == 0 and done.out == "", done.err
    page = Page(out.read_text(encoding="utf-8"))
    assert page.embedded["report"] == summary_json("specs/resnet18.yaml", "--batch", "8", "--optimizer", "sgd")
    check_numbers(page)


def test_large_networks_are_drawn_block_by_block(tmp_path: Path) -> None:
    spec = tmp_path / "units.yaml"
    spec.write_text(UNITS_SPEC)
    page = report_page(str(spec))
    graph = page.embedded["graph"]
    assert graph["level"] == 2 and len(graph["nodes"]) == 201 <= GRAPH_MAX_NODES  # the input and the 200 uses
    assert [e[:2] for e in graph["edges"]] == [[i, i + 1] for i in range(200)]
    check_numbers(page)


def chain_spec(tmp_path: Path, layers: int) -> str:
    """A flat chain of `layers` ReLUs: no blocks, every layer an entry of the network."""
    spec = tmp_path / "chain.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n" + "  - relu\n" * layers)
    return str(spec)


def tree_layer_rows(page: Page) -> set[str]:
    """The tree entries that show a figure, by their path in the JSON ('report.blocks.children.4')."""
    return {n["path"].rsplit(".", 1)[0] for n in page.numbers if n["path"].startswith("report.blocks.children.")}


def test_twenty_thousand_layers_stay_bounded(tmp_path: Path) -> None:
    started = time.monotonic()
    page = report_page(chain_spec(tmp_path, 20_000))
    assert time.monotonic() - started < 60
    assert page.embedded["graph"]["omitted"] and page.embedded["graph"]["nodes"] == []
    rows = {n["path"].split(".")[2] for n in page.numbers if n["path"].startswith("report.layers.")}
    assert len(rows) == ROWS_MAX
    assert len(page.embedded["report"]["layers"]) == 20_000
    assert f"The first {ROWS_MAX:,} of 20,000 layers" in page.text
    # The tree lists every layer, in closed groups of TREE_GROUP.
    assert tree_layer_rows(page) == {f"report.blocks.children.{i}" for i in range(20_000)}
    assert len(page.groups) == 20_000 // TREE_GROUP and not any(group["open"] for group in page.groups)


def test_a_long_flat_list_is_grouped(tmp_path: Path) -> None:
    """Past ROWS_MAX layers the network's entries come in groups of TREE_GROUP, each named by its first and last
    entries and their positions, holding exactly those entries in order; every number is still the JSON's."""
    layers = ROWS_MAX + 150
    page = report_page(chain_spec(tmp_path, layers))
    check_numbers(page)
    names = [child["name"] for child in page.embedded["report"]["blocks"]["children"]]
    starts = range(0, layers, TREE_GROUP)
    ends = [min(i + TREE_GROUP, layers) for i in starts]
    assert [group["label"] for group in page.groups] == [
        f"{names[i]} … {names[end - 1]} {i + 1:,}–{end:,} of {layers:,} entries"
        for i, end in zip(starts, ends, strict=True)
    ]
    assert [group["entries"] for group in page.groups] == [
        [f"report.blocks.children.{j}" for j in range(i, min(i + TREE_GROUP, layers))] for i in starts
    ]
    assert "long lists are shown in groups of" in page.text


def test_blocks_past_the_limit_keep_their_layers(tmp_path: Path) -> None:
    """700 uses of a 3-layer block (2,100 layers): the repeat's 700 entries are grouped, each use keeps its layers
    (before, beyond ROWS_MAX the tree showed blocks alone)."""
    spec = tmp_path / "units.yaml"
    spec.write_text(UNITS_SPEC.replace("repeat: 200", "repeat: 700"))
    page = report_page(str(spec))
    check_numbers(page)
    top = page.embedded["report"]["blocks"]
    assert top["layer_count"] == 2100 > ROWS_MAX
    repeat = "report.blocks.children.0"
    leaves = {f"{repeat}.children.{u}.children.{k}" for u in range(700) for k in range(3)}
    paths = {n["path"].rsplit(".", 1)[0] for n in page.numbers}
    assert leaves <= paths
    assert len(page.groups) == 7
    assert page.groups[0]["entries"][:2] == [f"{repeat}.children.0", f"{repeat}.children.1"]


def test_small_networks_are_not_grouped(resnet50: Page, tmp_path: Path) -> None:
    """Up to ROWS_MAX layers nothing is grouped, however long a list: a flat chain of ROWS_MAX layers is whole."""
    assert resnet50.groups == []
    page = report_page(chain_spec(tmp_path, ROWS_MAX))
    assert page.groups == [] and "long lists are shown in groups of" not in page.text
    assert tree_layer_rows(page) == {f"report.blocks.children.{i}" for i in range(ROWS_MAX)}


def test_the_graph_has_a_direction_switch(resnet50: Page, tmp_path: Path) -> None:
    assert resnet50.direction_buttons == [("TB", "true"), ("LR", "false")]
    undrawn = report_page(chain_spec(tmp_path, 500))  # 501 nodes and no block to close: no graph, no switch
    assert undrawn.embedded["graph"]["omitted"] and undrawn.direction_buttons == []


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    done = run_cli("report", str(SPECS / "lenet5.yaml"), "-o", str(tmp_path / "missing" / "r.html"))
    assert done.code == 2 and "cannot write" in done.err and "Traceback" not in done.err


def test_bad_spec_is_a_clear_error(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channel: 3, kernel_size: 1}\n")
    done = run_cli("report", str(spec))
    assert done.code == 2 and "bad.yaml:3" in done.err and "Traceback" not in done.err and done.out == ""


def test_the_wheel_ships_the_pages_files(tmp_path: Path) -> None:
    """The script, style and vendored library are package data: left out of the wheel, every page of an installed
    cnncalc would fail while every test run from the repository passed."""
    import shutil
    import subprocess
    import sys
    import zipfile

    from conftest import ROOT

    # Built from a clean copy: an egg-info left by an earlier build lists every file, package data or not.
    source = tmp_path / "source"
    skipped = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "cnncalc", source / "cnncalc", ignore=skipped)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path)]
    built = subprocess.run([*command, str(source)], capture_output=True, text=True, timeout=300)
    if built.returncode != 0 and "No module named" in built.stderr:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip().splitlines()[-1]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("cnncalc-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    files = [p for p in (ROOT / "cnncalc" / "report").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert {"cnncalc/report/vendor/dagre.min.js", "cnncalc/report/vendor/LICENSE"} <= shipped
    assert {p.relative_to(ROOT).as_posix() for p in files} - shipped == set()
