"""`cnncalc report` in a real browser: headless Chromium (Debian's `chromium` package) opens the page from a file
with the network unused, runs its scripts without an error, and draws the graph laid out by dagre, with the JSON's
shapes on its edges. Screenshots are kept in test-artifacts/report/ (git-ignored). Skipped where Chromium is
absent (.ci/run installs it where it can)."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from report_page import Page
from test_report import FINDINGS_SPEC, UNITS_SPEC

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (Debian: apt-get install chromium)")

ARTIFACTS = ROOT / "test-artifacts" / "report"
# Headless, and nothing that reaches for the network in the background: without these flags Chromium waits for
# its update and sync services, which a closed network never answers.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
]


class Dom(HTMLParser):
    """The DOM Chromium dumps after the page's scripts ran: the root's attributes, the graph's box, nodes (with
    their layout position) and edge labels, the direction buttons, and the tree's <details> (classes, open)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str | None] = {}
        self.box: dict[str, str | None] = {}
        self.buttons: list[tuple[str | None, str | None]] = []  # (data-rankdir-button, aria-pressed)
        self.details: list[tuple[list[str], bool]] = []
        self.nodes: list[dict[str, str | None]] = []
        self.labels: list[str] = []
        self.paths = 0
        self._label: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "html":
            self.root = attributes
        elif tag == "div" and attributes.get("id") == "graph-box":
            self.box = attributes
        elif tag == "button" and "data-rankdir-button" in attributes:
            self.buttons.append((attributes["data-rankdir-button"], attributes.get("aria-pressed")))
        elif tag == "details":
            self.details.append((classes, "open" in attributes))
        elif tag == "g" and "node" in classes:
            self.nodes.append(attributes)
        elif tag == "g" and "label" in classes:
            self._label = []
        elif tag == "path" and "edge" in classes and (attributes.get("d") or "").startswith("M"):
            self.paths += 1

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self._label is not None:
            self.labels.append("".join(self._label))
            self._label = None


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"  # a fresh profile: no state from another run
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def open_report(tmp_path: Path, name: str, spec: str, then: str = "") -> tuple[Page, Dom]:
    """Write the report of `spec`, dump its DOM after the scripts ran, and keep a screenshot of it. `then`: script
    run after the page's own, as a reader's clicks would (inline, as the page's Content-Security-Policy allows)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_file = ARTIFACTS / f"{name}.html"
    done = run_cli("report", spec, "-o", str(page_file))
    assert done.code == 0, done.err
    page = Page(page_file.read_text(encoding="utf-8"))
    if then:
        text = page_file.read_text(encoding="utf-8")
        page_file.write_text(text.replace("</body>", f"<script>{then}</script>\n</body>"), encoding="utf-8")
    url = page_file.resolve().as_uri()
    dumped = chromium(tmp_path, "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    screenshot = ARTIFACTS / f"{name}.png"
    shot = chromium(tmp_path, f"--screenshot={screenshot}", "--window-size=1400,2000", url)
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
    print(f"screenshot: {screenshot}")
    return page, Dom(dumped.stdout)


def click(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)}).click();"


def check_drawn(page: Page, dom: Dom) -> None:
    """No script error; one box per node of the graph model, each placed by the layout; the edges' labels are
    the shapes of the JSON."""
    assert json.loads(dom.root.get("data-errors") or "null") == [], dom.root.get("data-errors")
    graph = page.embedded["graph"]
    assert dom.root.get("data-graph") == "drawn"
    assert [node["data-name"] for node in dom.nodes] == [node["name"] for node in graph["nodes"]]
    positions = {(float(node["data-x"] or "nan"), float(node["data-y"] or "nan")) for node in dom.nodes}
    assert len(positions) == len(dom.nodes)  # every box somewhere of its own
    assert all(x > 0 and y > 0 for x, y in positions)
    assert dom.labels == [edge[2] for edge in graph["edges"]]
    assert dom.paths == len(graph["edges"])
    # Every edge runs down the page, or right with the Left to right button: the direction the box says.
    direction = dom.box.get("data-rankdir")
    assert dom.buttons == [("TB", str(direction == "TB").lower()), ("LR", str(direction == "LR").lower())]
    at = {node["data-name"]: (float(node["data-x"] or "nan"), float(node["data-y"] or "nan")) for node in dom.nodes}
    axis = 1 if direction == "TB" else 0
    for source, target, _ in graph["edges"]:
        start, end = at[graph["nodes"][source]["name"]], at[graph["nodes"][target]["name"]]
        assert end[axis] > start[axis], (direction, graph["nodes"][source], graph["nodes"][target])
    shapes = {"input": page.embedded["report"]["input_shape"]}
    shapes |= {layer["name"]: layer["output_shape"] for layer in page.embedded["report"]["layers"]}
    if graph["level"] is None:
        for source, _, label in graph["edges"]:
            assert label == "x".join(map(str, shapes[graph["nodes"][source]["name"]]))


@pytest.mark.parametrize("name", ["resnet50", "unet"])
def test_zoo_report_draws(tmp_path: Path, name: str) -> None:
    page, dom = open_report(tmp_path, name, f"specs/{name}.yaml")
    check_drawn(page, dom)


def test_findings_report_draws(tmp_path: Path) -> None:
    spec = tmp_path / "findings.yaml"
    spec.write_text(FINDINGS_SPEC)
    page, dom = open_report(tmp_path, "findings", str(spec))
    check_drawn(page, dom)


def test_block_level_report_draws(tmp_path: Path) -> None:
    spec = tmp_path / "units.yaml"
    spec.write_text(UNITS_SPEC)
    page, dom = open_report(tmp_path, "units", str(spec))
    check_drawn(page, dom)
    assert page.embedded["graph"]["level"] == 2


LEFT_TO_RIGHT = click("[data-rankdir-button=LR]")
TOP_TO_BOTTOM = click("[data-rankdir-button=TB]")


@pytest.mark.parametrize("name", ["resnet50", "unet"])
def test_the_graph_turns_left_to_right_and_back(tmp_path: Path, name: str) -> None:
    page, dom = open_report(tmp_path, f"{name}-left-to-right", f"specs/{name}.yaml", then=LEFT_TO_RIGHT)
    assert dom.box["data-rankdir"] == "LR"
    check_drawn(page, dom)
    _, first = open_report(tmp_path, name, f"specs/{name}.yaml")
    _, back = open_report(tmp_path, f"{name}-back", f"specs/{name}.yaml", then=LEFT_TO_RIGHT + TOP_TO_BOTTOM)
    assert first.box["data-rankdir"] == back.box["data-rankdir"] == "TB"
    assert back.nodes == first.nodes and back.labels == first.labels  # the first layout, drawn again
    assert back.nodes != dom.nodes


def test_a_long_flat_network_browses_in_groups(tmp_path: Path) -> None:
    """2,500 layers, no blocks: the tree opens as 25 closed groups; Expand all leaves them closed (it opens blocks);
    a group opens by a click."""
    from cnncalc.report.html import ROWS_MAX, TREE_GROUP

    layers = ROWS_MAX + 500
    spec = tmp_path / "chain.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n" + "  - relu\n" * layers)
    expand = click("[data-tree=open]")
    third = "document.querySelectorAll('.tree details.group')[2].querySelector('summary').click();"
    page, dom = open_report(tmp_path, "long-chain", str(spec), then=expand + third)
    assert json.loads(dom.root.get("data-errors") or "null") == [], dom.root.get("data-errors")
    groups = [opened for classes, opened in dom.details if "group" in classes]
    assert len(groups) == len(page.groups) == layers // TREE_GROUP
    assert groups == [i == 2 for i in range(len(groups))]
    assert [opened for classes, opened in dom.details if "group" not in classes] == [True]  # the network
