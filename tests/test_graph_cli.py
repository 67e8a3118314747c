"""`cnncalc graph`: Mermaid, DOT and JSON pictures of the layer graph. The drawings are parsed back here (small
regexes) and must hold exactly the graph's edges, each labelled with its source's output shape as `summary
--format json` reports it, and every block-expanded layer inside the boxes its dotted name says."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SPECS, run_cli

from cnncalc.analyze import analyze
from cnncalc.render.graph import graph_dict, render_dot, render_mermaid
from cnncalc.render.json_report import report_dict
from cnncalc.spec import load_spec
from cnncalc.units import human

ALL_SPECS = sorted(SPECS.glob("*.yaml"))
FIGURES = (("params", "params"), ("macs", "MACs"))  # summary JSON key, word on the node

RESIDUAL = """\
name: residual
input: [3, 8, 8]
blocks:
  unit:
    params: {c: null}
    layers:
      - conv2d: {out_channels: $c, kernel_size: 3, padding: 1, bias: false, name: conv}
      - batchnorm2d: {name: bn}
      - add: {inputs: [input, bn], name: add}
layers:
  - conv2d: {out_channels: 4, kernel_size: 1, name: stem}
  - unit: {c: 4, repeat: 2, name: stage}
  - relu: {name: end}
"""

# Names that Mermaid or DOT would misread if written as they are: dots, dashes, `end` (closes a Mermaid
# subgraph), DOT keywords, Mermaid words (style, click, default), ids that start with o or x after an arrow, two
# names that differ only in '-' and '_', a block instance named like its block, and quotes in the network's name.
ODD_NAMES = """\
name: 'odd "names"'
input: [2, 6, 6]
blocks:
  end:
    params: {}
    layers:
      - conv2d: {out_channels: 2, kernel_size: 1, name: end}
      - relu: {name: a-b}
      - relu: {name: a_b}
layers:
  - end: {name: end}
  - relu: {name: graph}
  - relu: {name: subgraph}
  - relu: {name: node}
  - relu: {name: o-x}
  - relu: {name: x_o}
  - end: {name: my-block, repeat: 2}
  - identity: {name: default, repeat: 2}
  - add: {inputs: [end, default], name: style}
  - relu: {name: click}
"""


# -- parsing the drawings back --------------------------------------------------------------------------------

MERMAID_ENTITIES = {"#quot;": '"', "#lt;": "<", "#amp;": "&", "#35;": "#"}


def mermaid_text(text: str) -> str:
    return re.sub(r"#(?:quot|lt|amp|35);", lambda m: MERMAID_ENTITIES[m.group(0)], text)


def parse_mermaid(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str]], dict[str, str | None]]:
    """(node label lines by full name, edges (from, to, label) by full name, each node's innermost box title)."""
    lines = text.splitlines()
    assert re.fullmatch(r"flowchart (TB|LR)", lines[0]), lines[0]
    stack: list[str] = []
    ids: dict[str, str] = {}  # mermaid id -> full layer name
    labels: dict[str, list[str]] = {}
    boxes: dict[str, str | None] = {}
    edges: list[tuple[str, str, str]] = []
    box_ids: set[str] = set()
    for line in lines[1:]:
        if match := re.fullmatch(r'\s*subgraph (g_\w+) \["([^"]*)"\]', line):
            title = mermaid_text(match.group(2))
            # a nested box is titled with its parent's name and one more dotted part
            assert not stack or title.rpartition(".")[0] == stack[-1], (title, stack)
            assert match.group(1) not in box_ids
            box_ids.add(match.group(1))
            stack.append(title)
        elif re.fullmatch(r"\s*end", line):
            stack.pop()
        elif match := re.fullmatch(r'\s*(n_\w+)(?:\["|\(\[")([^"]*)(?:"\]|"\]\))', line):
            parts = [mermaid_text(part) for part in match.group(2).split("<br/>")]
            name = f"{stack[-1]}.{parts[0]}" if stack else parts[0]
            assert match.group(1) not in ids and match.group(1) not in box_ids, line
            assert name not in labels, line
            ids[match.group(1)] = name
            labels[name] = parts
            boxes[name] = stack[-1] if stack else None
        elif match := re.fullmatch(r'\s*(\w+) -->\|"([^"]*)"\| (\w+)', line):
            edges.append((ids[match.group(1)], ids[match.group(3)], match.group(2)))
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert not stack, "unclosed subgraph"
    return labels, edges, boxes


DOT_STRING = r'"((?:[^"\\]|\\.)*)"'


def dot_text(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_dot(text: str) -> tuple[dict[str, list[str]], list[tuple[str, str, str]], dict[str, str | None]]:
    lines = text.splitlines()
    assert re.fullmatch(rf"digraph {DOT_STRING} \{{", lines[0]) and lines[-1] == "}", (lines[0], lines[-1])
    stack: list[str] = []
    labels: dict[str, list[str]] = {}
    boxes: dict[str, str | None] = {}
    edges: list[tuple[str, str, str]] = []
    for line in lines[1:-1]:
        if match := re.fullmatch(rf"\s*subgraph {DOT_STRING} \{{", line):
            name = dot_text(match.group(1))
            assert name.startswith("cluster_"), line  # Graphviz draws a box only for cluster_ subgraphs
            stack.append(name.removeprefix("cluster_"))
        elif re.fullmatch(r"\s*\}", line):
            stack.pop()
        elif match := re.fullmatch(rf"\s*label={DOT_STRING}; .*", line):
            assert dot_text(match.group(1)) == stack[-1], line
        elif match := re.fullmatch(rf"\s*{DOT_STRING} -> {DOT_STRING} \[label={DOT_STRING}\];", line):
            edges.append((dot_text(match.group(1)), dot_text(match.group(2)), dot_text(match.group(3))))
        elif match := re.fullmatch(rf"\s*{DOT_STRING} \[label={DOT_STRING}.*\];", line):
            name = dot_text(match.group(1))
            assert name not in labels, line
            labels[name] = [dot_text(part) for part in match.group(2).split("\\n")]
            boxes[name] = stack[-1] if stack else None
        elif not re.fullmatch(r"\s*(rankdir=(TB|LR)|node \[.*\]|edge \[.*\]);", line):
            raise AssertionError(f"unexpected DOT line: {line!r}")
    assert not stack, "unclosed subgraph"
    return labels, edges, boxes


def shape_label(shape: list[int]) -> str:
    return "x".join(map(str, shape))


def check_drawing(parsed: Any, summary: dict[str, Any], figures: bool = False) -> None:
    """The drawing against `summary --format json`: the same layers, each input an edge labelled with the shape
    its source outputs, blocks boxed by their dotted names, labels naming the kind and arguments."""
    labels, edges, boxes = parsed
    shapes = {"input": summary["input_shape"]} | {layer["name"]: layer["output_shape"] for layer in summary["layers"]}
    expected_edges = [
        (source, layer["name"], shape_label(shapes[source]))
        for layer in summary["layers"]
        for source in layer["inputs"]
    ]
    assert sorted(edges) == sorted(expected_edges)
    assert set(labels) == set(shapes)
    assert labels["input"] == ["input", shape_label(summary["input_shape"])] and boxes["input"] is None
    for layer in summary["layers"]:
        name = layer["name"]
        assert boxes[name] == (name.rpartition(".")[0] or None), name
        assert labels[name][:2] == [name.rpartition(".")[2], f"{layer['type']} {layer['summary']}".rstrip()]
        counted = [f"{human(layer[key])} {what}" for key, what in FIGURES if layer[key]]
        assert labels[name][2:] == ([", ".join(counted)] if figures and counted else []), name


def summary_of(path: str, *options: str) -> dict[str, Any]:
    result = run_cli("summary", path, "--format", "json", "--batch", "1", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- golden files -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["mermaid", "dot"])
def test_lenet_golden(format: str, golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("graph", "specs/lenet5.yaml", "--format", format)
    assert result.code == 0 and result.err == "", result.err
    golden(f"graph_lenet5.{'mmd' if format == 'mermaid' else 'dot'}", result.out)
    parse = parse_mermaid if format == "mermaid" else parse_dot
    check_drawing(parse(result.out), summary_of("specs/lenet5.yaml"))


@pytest.mark.parametrize("format", ["mermaid", "dot"])
def test_residual_golden(format: str, tmp_path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    spec = write(tmp_path, "residual.yaml", RESIDUAL)
    result = run_cli("graph", spec, "--format", format)
    assert result.code == 0, result.err
    golden(f"graph_residual.{'mmd' if format == 'mermaid' else 'dot'}", result.out)
    parsed = (parse_mermaid if format == "mermaid" else parse_dot)(result.out)
    check_drawing(parsed, summary_of(spec))
    # the skip connection: the block's input feeds its conv and its add
    assert ("stem", "stage.0.add", "4x8x8") in parsed[1] and ("stem", "stage.0.conv", "4x8x8") in parsed[1]


# -- structure, on real networks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["resnet50", "unet"])
@pytest.mark.parametrize("format", ["mermaid", "dot"])
def test_large_networks_parse_back_to_their_graph(spec: str, format: str) -> None:
    path = f"specs/{spec}.yaml"
    result = run_cli("graph", path, "--format", format, "--figures")
    assert result.code == 0 and result.err == "", result.err
    summary = summary_of(path)
    check_drawing((parse_mermaid if format == "mermaid" else parse_dot)(result.out), summary, figures=True)
    boxed = [layer["name"] for layer in summary["layers"] if "." in layer["name"]]
    assert len(boxed) > len(summary["layers"]) // 2  # both networks are mostly blocks: the boxes are exercised


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda path: path.stem)
def test_every_shipped_spec(path: Path) -> None:
    graph = load_spec(str(path))
    report = analyze(graph)
    summary = report_dict(report)
    data = graph_dict(graph, report)
    for direction in ("TB", "LR"):
        check_drawing(parse_mermaid(render_mermaid(data, direction)), summary)
        check_drawing(parse_dot(render_dot(data, direction, figures=True)), summary, figures=True)


def test_odd_names_are_escaped(tmp_path: Path) -> None:
    spec = write(tmp_path, "odd.yaml", ODD_NAMES)
    summary = summary_of(spec)
    names = {layer["name"] for layer in summary["layers"]}
    assert {"end.end", "end.a-b", "end.a_b", "my-block.1.end", "default.0", "style", "click"} <= names
    mermaid = run_cli("graph", spec)
    assert mermaid.code == 0, mermaid.err
    check_drawing(parse_mermaid(mermaid.out), summary)
    ids = re.findall(r"^\s*(?:subgraph (g_\w+) \[|(n_\w+)[\[(])", mermaid.out, flags=re.MULTILINE)
    ids = [box or node for box, node in ids]
    assert len(ids) == len(set(ids)) == len(names) + 1 + 5  # layers, the input, 5 boxes: no two share an id
    dot = run_cli("graph", spec, "--format", "dot")
    assert dot.code == 0, dot.err
    assert dot.out.startswith('digraph "odd \\"names\\"" {\n')
    check_drawing(parse_dot(dot.out), summary)


# -- Graphviz itself, where installed ----------------------------------------------------------------------------

needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")


@needs_graphviz
@pytest.mark.parametrize("spec", ["specs/resnet50.yaml", "specs/unet.yaml", "odd"])
def test_graphviz_draws_it(spec: str, tmp_path: Path) -> None:
    path = write(tmp_path, "odd.yaml", ODD_NAMES) if spec == "odd" else spec
    text = run_cli("graph", path, "--format", "dot", "--figures").out
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and "Warning" not in done.stderr and "Error" not in done.stderr, done.stderr
    titles = set(re.findall(r"<title>([^<]*)</title>", done.stdout))
    import html

    titles = {html.unescape(title) for title in titles}
    names = {layer["name"] for layer in summary_of(path)["layers"]} | {"input"}
    assert names <= titles  # every layer drawn as a node of its own name
    clusters = {title.removeprefix("cluster_") for title in titles if title.startswith("cluster_")}
    assert clusters == {prefix for name in names for prefix in _prefixes(name)}


def _prefixes(name: str) -> list[str]:
    parts = name.split(".")[:-1]
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


# -- options ------------------------------------------------------------------------------------------------------


def test_layout_direction_markdown_and_stdin() -> None:
    plain = run_cli("graph", "specs/resnet18.yaml").out
    hwc = run_cli("graph", "specs/resnet18.yaml", "--layout", "hwc")
    assert hwc.code == 0
    check_drawing(parse_mermaid(hwc.out), summary_of("specs/resnet18.yaml", "--layout", "hwc"))
    assert hwc.out != plain and '-->|"112x112x64"|' in hwc.out
    sideways = run_cli("graph", "specs/resnet18.yaml", "--direction", "LR", "--format", "dot").out
    assert "    rankdir=LR;\n" in sideways
    assert run_cli("graph", "specs/resnet18.yaml", "-d", "lr").out == plain.replace("flowchart TB", "flowchart LR", 1)
    fenced = run_cli("graph", "specs/resnet18.yaml", "--markdown").out
    assert fenced == f"```mermaid\n{plain}```\n"
    text = (SPECS / "resnet18.yaml").read_text(encoding="utf-8")
    assert run_cli("graph", "-", stdin=text).out == plain


def test_json() -> None:
    result = run_cli("graph", "specs/unet.yaml", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    summary = summary_of("specs/unet.yaml")
    assert {k: data[k] for k in ("schema_version", "name", "layout", "output")} == {
        "schema_version": 2,
        "name": "unet",
        "layout": "chw",
        "output": summary["layers"][-1]["name"],
    }
    assert (
        data["cnncalc_version"]
        == json.loads(run_cli("summary", "specs/unet.yaml", "-f", "json").out)["cnncalc_version"]
    )
    assert data["nodes"][0] == {
        "name": "input",
        "type": None,
        "summary": "",
        "output_shape": summary["input_shape"],
        "block": None,
        "params": 0,
        "macs": 0,
    }
    assert data["nodes"][1:] == [
        {
            "name": layer["name"],
            "type": layer["type"],
            "summary": layer["summary"],
            "output_shape": layer["output_shape"],
            "block": layer["name"].rpartition(".")[0] or None,
            "params": layer["params"],
            "macs": layer["macs"],
        }
        for layer in summary["layers"]
    ]
    shapes = {node["name"]: node["output_shape"] for node in data["nodes"]}
    assert data["edges"] == [
        {"from": source, "to": layer["name"], "shape": shapes[source]}
        for layer in summary["layers"]
        for source in layer["inputs"]
    ]


def test_figures_on_the_nodes() -> None:
    out = run_cli("graph", "specs/lenet5.yaml", "--figures").out
    summary = summary_of("specs/lenet5.yaml")
    check_drawing(parse_mermaid(out), summary, figures=True)
    assert '["conv1<br/>Conv2d k5 p2<br/>520 params, 392K MACs"]' in out


def test_mermaid_over_githubs_limits_warns(tmp_path: Path) -> None:
    spec = write(tmp_path, "long.yaml", "input: [1, 4, 4]\nlayers:\n  - relu: {repeat: 700}\n")
    result = run_cli("graph", spec)
    assert result.code == 0
    assert len(result.out) > 50_000
    assert "warning: the diagram has" in result.err and "characters" in result.err and "700 edges" in result.err
    assert len(parse_mermaid(result.out)[1]) == 700
    quiet = run_cli("graph", spec, "--format", "dot")
    assert quiet.code == 0 and quiet.err == ""


def test_errors() -> None:
    missing = run_cli("graph", "specs/nope.yaml")
    assert missing.code == 2 and missing.out == "" and "Traceback" not in missing.err and "error:" in missing.err
    wrong = run_cli("graph", "specs/lenet5.yaml", "--format", "svg")
    assert wrong.code == 2 and "Traceback" not in wrong.err
    broken = run_cli("graph", "-", stdin="input: [1, 8, 8]\nlayers:\n  - conv2d: {out_channel: 4, kernel_size: 3}\n")
    assert broken.code == 2 and broken.out == "" and "did you mean" in broken.err
