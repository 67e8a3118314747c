"""`summary --depth N` and the JSON's `blocks`: the block tree (cnncalc.tree) and its renderings.

The oracle for a block's subtotals is independent of the tree's one-pass walk: the layers `Graph.select(name)`
returns for the block (its positions first..last in file order), summed directly.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import Report, Row, analyze
from cnncalc.graph import Graph
from cnncalc.spec import load_spec, parse_spec
from cnncalc.tree import Block, block_tree, cut, walk

FIGURES = ("params", "buffers", "macs", "other_ops", "flops", "activation_elements", "activation_bytes")
FIGURES += ("backward_macs", "saved_bytes")  # the training figures: every tree here is analyzed with an optimizer


def tree_of(text: str) -> tuple[Graph, Report, Block]:
    graph = parse_spec(text, "<test>")
    report = analyze(graph, optimizer="adam")
    return graph, report, block_tree(graph, report)


def blocks(root: Block) -> list[Block]:
    return [node for node, _, _ in walk(root) if isinstance(node, Block)]


def leaf_rows(root: Block) -> list[Row]:
    return [node for node, _, _ in walk(root) if not isinstance(node, Block)]


def assert_sums(block: Block, rows: list[Row]) -> None:
    for key in FIGURES:
        assert getattr(block, key) == sum(getattr(r, key) for r in rows), (block.name, key)
    assert block.trainable_params == sum(r.params for r in rows if r.trainable), block.name
    assert block.layer_count == len(rows), block.name


# -- random block specs ---------------------------------------------------------------------------------------

# Layers that keep a C x 6 x 6 volume's shape, with and without parameters and buffers.
LAYERS = st.sampled_from(
    [
        {"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1}},
        {"conv2d": {"out_channels": 4, "kernel_size": 1, "bias": False, "trainable": False}},
        {"batchnorm2d": None},
        "relu",
        {"maxpool2d": {"kernel_size": 3, "stride": 1, "padding": 1}},
    ]
)


@st.composite
def entries(draw: Any, uses: list[str], count: int) -> list[Any]:
    """Entries of a list: layers, and uses of the blocks in `uses` (with repeat 0-3 or none, when true or false)."""
    made: list[Any] = []
    for index in range(count):
        if uses and draw(st.booleans()):
            arguments: dict[str, Any] = {"name": f"u{index}"}
            repeat = draw(st.sampled_from([None, 0, 1, 2, 3]))
            if repeat is not None:
                arguments["repeat"] = repeat
            if draw(st.integers(0, 4)) == 0:
                arguments["when"] = draw(st.booleans())
            made.append({draw(st.sampled_from(uses)): arguments})
        else:
            layer = draw(LAYERS)
            if draw(st.integers(0, 5)) == 0:  # a repeated layer
                kind, arguments = next(iter(layer.items())) if isinstance(layer, dict) else (layer, None)
                layer = {kind: {**(arguments or {}), "repeat": draw(st.integers(0, 3)), "name": f"r{index}"}}
            made.append(layer)
    return made


@st.composite
def block_specs(draw: Any) -> str:
    """A spec with up to four blocks, each using only earlier ones (nesting up to four deep), and a residual add."""
    names = [f"b{k}" for k in range(draw(st.integers(0, 4)))]
    defined: dict[str, Any] = {}
    for k, name in enumerate(names):
        layers = draw(entries(names[:k], draw(st.integers(1, 4))))
        defined[name] = {"layers": [*layers, {"conv2d": {"out_channels": 4, "kernel_size": 1, "name": "out"}}]}
    top = draw(entries(names, draw(st.integers(1, 6))))
    stem = [{"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": 1, "name": "stem"}}]
    stem.append({"add": {"inputs": ["input", "stem"]}})
    spec: dict[str, Any] = {"name": "random", "input": [4, 6, 6], "batch": 2, "layers": [*stem, *top]}
    if defined:
        spec["blocks"] = defined
    return yaml.safe_dump(spec, sort_keys=False)


@settings(max_examples=150, deadline=None)
@given(block_specs())
def test_subtotals_are_the_sums_of_their_layers(text: str) -> None:
    graph, report, root = tree_of(text)
    rows = {row.name: row for row in report.rows}
    # The root is the network: its figures are the totals.
    t = report.totals
    assert (root.params, root.macs, root.flops, root.other_ops) == (t.params, t.macs, t.flops, t.other_ops)
    assert (root.buffers, root.activation_bytes, root.trainable_params) == (
        t.buffers,
        t.activation_bytes,
        t.trainable_params,
    )
    assert (root.backward_macs, root.saved_bytes) == (t.backward_macs, t.saved_bytes)
    assert root.output_shape == t.output_shape and root.depth == 0
    # Every layer is a leaf exactly once, in file order; every group is a node exactly once.
    in_file_order = [n.name for n in sorted(graph.nodes, key=lambda n: n.position)]
    assert [r.name for r in leaf_rows(root)] == in_file_order
    found = blocks(root)
    assert sorted(b.name for b in found) == sorted(graph.groups)
    levels = {node.name: level for node, level, _ in walk(root)}
    for block in found:
        selected = [rows[n.name] for n in graph.select(block.name)]
        assert_sums(block, selected)
        group = graph.groups[block.name]
        assert block.block == group.block
        assert block.output_shape == rows[group.output].output_shape
        assert block.receptive_field == rows[group.output].receptive_field
        # Generated names have no dots of their own: the parts of a node's name are its depth.
        assert levels[block.name] == block.depth == block.name.count(".") + 1
        assert sum(c.layer_count if isinstance(c, Block) else 1 for c in block.children) == block.layer_count
    # A cut at any depth partitions the network: its frontier adds up to the totals.
    for depth in range(0, 6):
        frontier = cut(report, root, depth).rows
        leaves = [r for r in frontier if not any(o.name.startswith(r.name + ".") for o in frontier)]
        assert sum(r.macs for r in leaves) == t.macs and sum(r.params for r in leaves) == t.params
        assert sum(r.activation_bytes for r in leaves) == t.activation_bytes
        assert sum(r.saved_bytes for r in leaves) == t.saved_bytes
        assert sum(r.backward_macs for r in leaves) == t.backward_macs


@settings(max_examples=60, deadline=None)
@given(block_specs())
def test_repeats_are_marked_with_their_count(text: str) -> None:
    spec = yaml.safe_load(text)
    _, _, root = tree_of(text)
    by_name = {b.name: b for b in blocks(root)}
    for entry in spec["layers"]:
        if not isinstance(entry, dict):
            continue
        arguments = next(iter(entry.values())) or {}
        name, repeat = arguments.get("name"), arguments.get("repeat")
        if name is None or arguments.get("when") is False:
            continue
        if repeat is None:
            assert name not in by_name or by_name[name].repeat is None
        elif repeat > 0 and name in by_name:
            assert by_name[name].repeat == repeat
            assert [c.name for c in by_name[name].children] == [f"{name}.{k}" for k in range(repeat)]
        elif repeat == 0:
            assert name not in by_name


def test_hand_written_tree() -> None:
    text = """
input: [4, 6, 6]
blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: conv}
      - relu
  pair:
    layers:
      - unit: {name: a}
      - unit: {name: b, repeat: 2}
layers:
  - pair: {name: p}
  - relu: {repeat: 3, name: acts}
  - chunk: {chunks: 2, dim: 1, name: halves}
  - unit: {name: skipped, when: false}
  - unit: {name: none, repeat: 0}
  - add: {inputs: [halves.0, halves.1]}
"""
    graph, report, root = tree_of(text)
    shape = [(node.name, level, node.repeat if isinstance(node, Block) else node.kind) for node, level, _ in walk(root)]
    assert shape[:8] == [
        ("p", 1, None),
        ("p.a", 2, None),
        ("p.a.conv", 3, "Conv2d"),
        ("p.a.relu_1", 3, "ReLU"),
        ("p.b", 2, 2),
        ("p.b.0", 3, None),
        ("p.b.0.conv", 4, "Conv2d"),
        ("p.b.0.relu_1", 4, "ReLU"),
    ]
    names = {node.name: node for node, _, _ in walk(root)}
    assert names["acts"].repeat == 3 and names["acts"].block == "ReLU"  # a repeated layer
    assert names["halves"].repeat is None  # a kind with two outputs: not copies
    assert "skipped" not in names and "none" not in names
    assert names["p"].macs == 3 * (4 * 36 * 4 * 9) and names["p"].layer_count == 6


def test_file_order_where_a_layer_reads_a_later_one() -> None:
    text = """
input: [4, 6, 6]
blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 1, inputs: later, name: first}
      - relu: {inputs: input, name: later}
      - add: {inputs: [first, later]}
layers:
  - unit: {name: u}
  - relu
"""
    graph, report, root = tree_of(text)
    assert [r.name for r in report.rows][:2] == ["u.later", "u.first"]  # topological
    (u, relu) = root.children
    assert isinstance(u, Block) and [c.name for c in u.children] == ["u.first", "u.later", "u.add_1"]
    assert_sums(u, [r for r in report.rows if r.name.startswith("u.")])


# -- the command line -----------------------------------------------------------------------------------------


def summary_json(*args: str) -> dict[str, Any]:
    result = run_cli("summary", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_depth_0_is_the_totals() -> None:
    data = summary_json("specs/resnet50.yaml", "--depth", "0")
    root, totals = data["blocks"], data["totals"]
    for key in ("params", "trainable_params", "non_trainable_params", "buffers", "macs", "other_ops", "flops"):
        assert root[key] == totals[key], key
    for key in ("activation_elements", "activation_bytes", "param_bytes", "output_shape"):
        assert root[key] == totals[key], key
    assert root["children"] == [] and root["depth"] == 0 and root["layer_count"] == len(data["layers"])
    table = run_cli("summary", "specs/resnet50.yaml", "--depth", "0", "--width", "0").out
    row = next(line for line in table.splitlines() if line.startswith(" resnet50 "))
    assert "25,557,032" in row and "4,089,184,256" in row and "8,239,659,496" in row


def test_json_blocks_without_depth_reach_every_layer() -> None:
    data = summary_json("specs/resnet50.yaml")
    nodes, pending = [], [data["blocks"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(reversed(node["children"]))  # in file order
        assert all(child["depth"] == node["depth"] + 1 for child in node["children"])
        if node["children"]:
            assert node["macs"] == sum(child["macs"] for child in node["children"])
            assert node["activation_bytes"] == sum(child["activation_bytes"] for child in node["children"])
    layers = {layer["name"]: layer for layer in data["layers"]}
    leaves = [node for node in nodes if node["type"] is not None]
    assert sorted(node["name"] for node in leaves) == sorted(layers)
    for leaf in leaves:
        layer = layers[leaf["name"]]
        assert (leaf["macs"], leaf["params"], leaf["output_shape"]) == (
            layer["macs"],
            layer["params"],
            layer["output_shape"],
        )
        assert leaf["receptive_field"] == layer["receptive_field"] and leaf["block"] is None
    stages = [node for node in nodes if node["block"] == "stage"]
    assert [s["name"] for s in stages] == ["layer1", "layer2", "layer3", "layer4"]
    assert [n["repeat"] for n in nodes if n["name"].endswith(".rest")] == [2, 3, 5, 2]


def documented_node_keys() -> list[str]:
    """The keys of the `blocks` table in docs/design.md, in order."""
    text = (ROOT / "docs" / "design.md").read_text()
    section = text[text.index("Per node (`blocks`") :]
    section = section[: section.index("\n\n", section.index("|---"))]
    return re.findall(r"^\| `([a-z_]+)`", section, re.MULTILINE)


def test_blocks_keys_are_the_documented_ones() -> None:
    documented = documented_node_keys()
    for args in (["specs/resnet50.yaml"], ["specs/lenet5.yaml", "--depth", "1"], ["specs/unet.yaml"]):
        data = summary_json(*args)
        pending = [data["blocks"]]
        while pending:
            node = pending.pop()
            assert list(node) == documented, args
            pending.extend(node["children"])
    assert "`blocks`" in (ROOT / "README.md").read_text()


def test_blocks_carry_the_training_figures() -> None:
    """With --training, every node of `blocks` has its backward MACs and saved bytes: a block's are its children's
    sums, the network's the totals; without it, neither key (as in `layers`)."""
    data = summary_json("specs/resnet18.yaml", "--training")
    pending = [data["blocks"]]
    assert (pending[0]["backward_macs"], pending[0]["saved_bytes"]) == (
        data["totals"]["backward_macs"],
        data["totals"]["saved_bytes"],
    )
    while pending:
        node = pending.pop()
        if node["children"]:
            for key in ("backward_macs", "saved_bytes"):
                assert node[key] == sum(child[key] for child in node["children"]), (node["name"], key)
        pending.extend(node["children"])
    assert "saved_bytes" not in summary_json("specs/resnet18.yaml", "--depth", "1")["blocks"]


def test_tree_table_markdown_and_csv_carry_the_training_columns() -> None:
    for fmt, marker in (
        ("table", "Bwd MACs"),
        ("markdown", "| Bwd MACs | Saved |"),
        ("csv", "backward_macs,saved_bytes"),
    ):
        result = run_cli("summary", "specs/resnet18.yaml", "--depth", "1", "--training", "--format", fmt)
        assert result.code == 0 and marker in result.out, fmt
        plain = run_cli("summary", "specs/resnet18.yaml", "--depth", "1", "--format", fmt)
        assert "Bwd MACs" not in plain.out and "backward_macs" not in plain.out, fmt


def test_json_follows_depth() -> None:
    data = summary_json("specs/resnet50.yaml", "--depth", "1")
    children = data["blocks"]["children"]
    assert [c["name"] for c in children][:5] == ["conv1", "bn1", "relu", "maxpool", "layer1"]
    assert all(c["children"] == [] for c in children) and children[4]["layer_count"] == 32
    assert sum(c["macs"] for c in children) == data["totals"]["macs"]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("resnet50.depth1.txt", ["--depth", "1", "--width", "0"]),
        ("resnet50.depth2.txt", ["--depth", "2", "--human"]),
        ("resnet50.depth2.md", ["--depth", "2", "--format", "markdown"]),
        ("resnet50.depth2.csv", ["--depth", "2", "--format", "csv"]),
    ],
)
def test_golden_tree(golden: Callable[[str, str], None], name: str, args: list[str]) -> None:
    result = run_cli("summary", "specs/resnet50.yaml", *args)
    assert result.code == 0, result.err
    golden(name, result.out)


def test_table_without_depth_is_unchanged_and_deep_depth_opens_everything() -> None:
    flat = run_cli("summary", "specs/resnet18.yaml", "--width", "0").out
    assert "layer1.0.body.conv1" in flat and "Depth" not in flat  # one row per layer, by full name
    deep = run_cli("summary", "specs/resnet18.yaml", "--depth", "99", "--width", "0").out
    assert "Depth 99: every block open (the tree is 4 deep)." in deep
    names = [line.split()[0] for line in deep.splitlines() if line.startswith(" ") and "x" in line]
    assert names.count("conv1") == 1 + 8 * 1  # the stem's, and each basic block body's (by its local name)


def test_csv_and_markdown_follow_depth() -> None:
    csv_text = run_cli("summary", "specs/resnet50.yaml", "--depth", "1", "--format", "csv").out
    lines = csv_text.splitlines()
    assert lines[0].startswith("spec,depth,name,block,repeat,type") and len(lines) == 1 + 11
    assert sum(int(line.split(",")[10]) for line in lines[1:]) == 4089184256  # macs
    md = run_cli("summary", "specs/resnet50.yaml", "--depth", "3", "--format", "markdown").out
    assert "| **layer1** | stage |" in md and "| &nbsp;&nbsp;&nbsp;&nbsp;**0** | bottleneck |" in md


def test_the_readme_shows_real_output() -> None:
    readme = (ROOT / "README.md").read_text()
    command = "cnncalc summary specs/resnet50.yaml --depth 1 --human"
    start = readme.index(f"$ {command}\n") + len(f"$ {command}\n")
    shown = readme[start : readme.index("```", start)]
    result = run_cli(*command.split()[1:], "--width", "0")
    assert shown == result.out


# -- diff --depth ---------------------------------------------------------------------------------------------


def test_diff_at_depth_compares_blocks() -> None:
    result = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "--depth", "1", "--format", "json", "--all")
    data = json.loads(result.out)
    assert data["depth"] == 1 and data["counts"] == {"changed": 7, "added": 0, "removed": 0, "unchanged": 4}
    new = {c["name"]: c for c in summary_json("specs/resnet50.yaml", "--depth", "1")["blocks"]["children"]}
    old = {c["name"]: c for c in summary_json("specs/resnet18.yaml", "--depth", "1")["blocks"]["children"]}
    for row in data["layers"]:
        for side, tree in (("old", old), ("new", new)):
            for key in ("macs", "params", "flops", "activation_bytes", "output_shape", "receptive_field"):
                assert row[side][key] == tree[row["name"]][key], (row["name"], key)
    layer1 = next(row for row in data["layers"] if row["name"] == "layer1")
    assert (layer1["old"]["type"], layer1["new"]["type"]) == ("basic x 2", "stage")
    table = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "--depth", "1").out
    assert "Rows at depth 1 (blocks and layers): 7 changed" in table and "+ layer1" in table
    md = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "--depth", "2", "--format", "markdown").out
    assert "| added | layer1.rest | bottleneck x 2 |" in md


def test_diff_at_depth_0_is_the_totals_and_a_spec_equals_itself() -> None:
    data = json.loads(run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "--depth", "0", "-f", "json").out)
    (row,) = data["layers"]
    assert row["name"] == "network" and row["new"]["macs"] == data["totals"]["macs"]["new"]
    same = run_cli("diff", "specs/resnet50.yaml", "specs/resnet50.yaml", "--depth", "2", "--exit-code")
    assert same.code == 0 and "0 changed, 0 added, 0 removed" in same.out


# -- work in proportion to the network ------------------------------------------------------------------------


def events(work: Callable[[], Any]) -> int:
    """Python calls and lines executed by `work` (a count, not a time: the machine's load does not change it)."""
    count = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return trace

    sys.settrace(trace)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def nested_spec(units: int) -> str:
    return f"""
input: [4, 6, 6]
blocks:
  unit:
    layers:
      - conv2d: {{out_channels: 4, kernel_size: 3, padding: 1, name: conv}}
      - relu
  group:
    params: {{n: 1}}
    layers:
      - unit: {{repeat: $n, name: units}}
layers:
  - group: {{n: {units}, repeat: 2, name: g}}
  - relu
"""


def test_the_tree_and_its_renderings_grow_linearly() -> None:
    from cnncalc.render.flat import render_csv, render_markdown
    from cnncalc.render.json_report import render_json
    from cnncalc.render.screen import Screen
    from cnncalc.render.table import render_tables

    def work(units: int) -> Callable[[], Any]:
        graph = parse_spec(nested_spec(units), "<test>")
        report = analyze(graph)

        def run() -> None:
            tree = block_tree(graph, report)
            render_tables([report], False, Screen(None), [tree], 3)
            render_json([report], [tree])
            render_csv([report], [tree], 2)
            render_markdown([report], False, [tree], 4)
            cut(report, tree, 2)

        return run

    small, large = events(work(250)), events(work(2_000))
    assert large / small < 8 * 1.15, (small, large)  # 8 times the layers: about 8 times the work, not 64


def test_resnet50_tree_is_built_from_load_spec() -> None:
    graph = load_spec(str(ROOT / "specs" / "resnet50.yaml"))
    report = analyze(graph)
    root = block_tree(graph, report)
    assert [c.name for c in root.children if isinstance(c, Block)] == ["layer1", "layer2", "layer3", "layer4"]


def test_tree_tables_fit_any_width_and_records_name_rows_in_full() -> None:
    from cnncalc.render.screen import Screen
    from cnncalc.render.table import render_tables

    graph = load_spec(str(ROOT / "specs" / "resnet18.yaml"))
    report = analyze(graph)
    tree = block_tree(graph, report)
    shown = [node for node, _, _ in walk(tree, 2)]
    for width in (30, 40, 60, 80, 100, 140):
        text = render_tables([report], False, Screen(width), [tree], 2)
        assert all(len(line) <= width for line in text.splitlines() if "resnet18.yaml" not in line), width
        for node in shown:  # every row's MACs, whole, whatever the width
            assert f"{node.macs:,}" in text, (width, node.name)
        if "One record per row" in text:
            assert "\nlayer2.first\n" in text and "\n  Kind         projection" in text
        else:
            assert "\n   first " in text  # indented under layer2, by its local name
