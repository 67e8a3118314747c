"""`--input SHAPE` on summary, explain, check, lint, diff, graph (and layer's own --input): the spec at another
input size. Its figures must equal those of the same spec with its `input:` edited in the YAML text; several
sizes make summary's comparison table; bad shapes and sizes a layer cannot take are clear errors."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.analyze import analyze
from cnncalc.errors import CnncalcError, UsageError
from cnncalc.graph import Graph
from cnncalc.render.json_report import report_dict
from cnncalc.sizes import graphs_at, parse_shape, shape_arg
from cnncalc.spec import parse_spec
from cnncalc.tree import block_tree

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
INPUT_LINE = re.compile(r"^input:.*$", re.MULTILINE)


def written_input(text: str) -> tuple[tuple[int, ...], str]:
    """The spec's `input:` as written (its layout's order) and its layout."""
    line = INPUT_LINE.search(text)
    assert line is not None
    layout = re.search(r"^layout:\s*(\w+)", text, re.MULTILINE)
    return parse_shape(line.group(0).split(":", 1)[1]), layout.group(1) if layout else "chw"


def edited(text: str, size: tuple[int, ...]) -> str:
    """The spec's text with its `input:` line written for `size`."""
    return INPUT_LINE.sub(f"input: {list(size)}", text, count=1)


def other_sizes(own: tuple[int, ...], layout: str) -> list[tuple[int, ...]]:
    """Larger, smaller and odd spatial sizes, and one more channel, in the spec's layout."""
    if len(own) == 1:
        return [(own[0] + 1,), (own[0] * 2,)]
    channel = len(own) - 1 if layout == "hwc" else 0

    def spatial(change) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
        return tuple(n if axis == channel else max(1, change(n)) for axis, n in enumerate(own))

    more_channels = tuple(n + 1 if axis == channel else n for axis, n in enumerate(own))
    return [spatial(lambda n: 2 * n), spatial(lambda n: n // 2), spatial(lambda n: n + 1), more_channels]


def at_size(file: str, size: tuple[int, ...], batch: int | None = None) -> Graph:
    return graphs_at(file, [size], batch)[0]


def summary_json(load: Callable[..., Graph], *args: object, **kwargs: object) -> dict | str:  # type: ignore[type-arg]
    """summary's JSON report of the graph `load(*args, **kwargs)` makes, or its error (message, layer, hint: not
    the note that names the --input size)."""
    try:
        graph = load(*args, **kwargs)
    except CnncalcError as error:
        return f"{type(error).__name__}: {error.location}: {error.layer}: {error.message} / {error.hint}"
    report = analyze(graph)
    return report_dict(report, block_tree(graph, report))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_input_equals_the_spec_edited_to_that_input(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    own, layout = written_input(text)
    file = str(path.relative_to(ROOT))
    for size in other_sizes(own, layout):
        with_option = summary_json(at_size, file, size)
        with_edit = summary_json(parse_spec, edited(text, size), file)
        assert with_option == with_edit, f"{path.name} at --input {shape_arg(size)}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(3, 300), st.integers(3, 300), st.integers(1, 4))
def test_any_size_equals_the_edited_spec(channels: int, height: int, width: int, batch: int) -> None:
    """Any size (and batch) on a network with blocks and expressions reading the input: unet's skip connections
    crop or fail as the edited spec does."""
    for name in ("stacked_convs.yaml", "unet.yaml", "resnet18.yaml"):
        text = (ROOT / "specs" / name).read_text(encoding="utf-8")
        size = (channels, height, width)
        file = f"specs/{name}"
        with_option = summary_json(at_size, file, size, batch)
        with_edit = summary_json(parse_spec, edited(text, size), file, batch=batch)
        assert with_option == with_edit, f"{name} at --input {shape_arg(size)} --batch {batch}"


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=5))
def test_shape_forms_round_trip(shape: list[int]) -> None:
    expected = tuple(shape)
    for text in (
        "x".join(map(str, shape)),
        ",".join(map(str, shape)),
        str(shape),
        str(expected),
        " x ".join(map(str, shape)),
    ):
        assert parse_shape(text) == expected


@pytest.mark.parametrize("text", ["3x-1x2", "abc", "", "3x", "0x4x4", "3x4.5x4", "[3, 4", "3x2e3x3", "3;4;4"])
def test_bad_shape_text_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="expected a shape such as"):
        parse_shape(text)


# -- through the command line -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("summary", "specs/lenet5_bn.yaml", "--input", "1x32x32"),
        ("explain", "specs/lenet5_bn.yaml", "--input", "1x32x32", "--layer", "conv1"),
        ("check", "specs/lenet5_bn.yaml", "--input", "1x32x32"),
        ("lint", "specs/lenet5_bn.yaml", "--input", "1x32x32"),
        ("diff", "specs/lenet5_bn.yaml", "specs/lenet5_bn.yaml", "--input", "1x32x32", "--all"),
        ("graph", "specs/lenet5_bn.yaml", "--input", "1x32x32"),
        ("layer", "conv2d", "--input", "1x32x32", "out_channels=20", "kernel_size=5", "padding=2"),
    ],
    ids=lambda a: a[0],
)
def test_each_command_takes_input(args: tuple[str, ...]) -> None:
    """Each command runs at the size given: its output shows conv1's 20 x 32 x 32 (the spec's own input gives
    20 x 28 x 28), with the format that shows shapes."""
    shown = {"check": ("--format", "json"), "lint": ("--format", "json")}.get(args[0], ())
    result = run_cli(*args, *shown)
    assert result.code == 0, result.err
    if args[0] in ("check", "lint"):
        assert json.loads(result.out)["specs"][0]["input_shape"] == [1, 32, 32]
    else:
        assert re.search(r"20 ?x ?32 ?x ?32", result.out), result.out
        assert not re.search(r"20 ?x ?28 ?x ?28", result.out), result.out


def test_summary_json_with_input_equals_the_edited_spec() -> None:
    text = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
    result = run_cli("summary", "specs/resnet18.yaml", "--input", "3x320x320", "--format", "json")
    edited_result = run_cli("summary", "-", "--format", "json", stdin=edited(text, (3, 320, 320)))
    ours, theirs = json.loads(result.out), json.loads(edited_result.out)
    assert theirs.pop("file") == "<stdin>" and ours.pop("file") == "specs/resnet18.yaml"
    theirs["blocks"].pop("name"), ours["blocks"].pop("name")
    theirs.pop("name"), ours.pop("name")  # stdin's default name is "network"; the spec names itself
    assert ours == theirs


def test_several_sizes_make_one_table() -> None:
    args = ("summary", "specs/resnet50.yaml", "--input", "3x224x224", "--input", "3x320x320", "--input", "3x64x64")
    table = run_cli(*args)
    assert table.code == 0, table.err
    rows = [line.split() for line in table.out.splitlines() if re.match(r" 3 x \d+ x \d+ ", line)]
    sizes = [(3, 224, 224), (3, 320, 320), (3, 64, 64)]
    reports = json.loads(run_cli(*args, "--format", "json").out)
    assert [tuple(r["input_shape"]) for r in reports] == sizes  # one report per size, in the order given
    for row, report, size in zip(rows, reports, sizes, strict=True):
        alone = json.loads(run_cli("summary", "specs/resnet50.yaml", "--input", shape_arg(size), "-f", "json").out)
        assert report == alone
        totals = report["totals"]
        assert row[5] == "1000" and row[6:11] == [f"{totals[k]:,}" for k in ("params", "macs", "flops")] + [
            f"{totals['activation_bytes']:,}",
            "B",
        ]
        field = next(
            layer["receptive_field"] for layer in reversed(report["layers"]) if layer["name"] == "layer4.rest.1.relu_1"
        )
        assert row[11:] == [str(field["size"][0]), "/", str(field["stride"][0]), "/", str(field["padding"][0])]
    csv_lines = run_cli(*args, "--format", "csv").out.splitlines()
    assert csv_lines[0].startswith("spec,input_shape,output_shape,params,macs")
    assert [line.split(",")[4] for line in csv_lines[1:]] == [str(r["totals"]["macs"]) for r in reports]
    markdown = run_cli(*args, "--format", "markdown", "--human").out
    assert "| 3 x 320 x 320 | 1000 | 25.6M | 8.34G |" in markdown


def test_diff_compares_one_spec_at_two_sizes() -> None:
    result = run_cli(
        "diff", "specs/resnet18.yaml", "specs/resnet18.yaml", "-i", "3x224x224", "-i", "3x320x320", "-f", "json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["totals"]["input_shape"]["old"] == [3, 224, 224]
    assert data["totals"]["input_shape"]["new"] == [3, 320, 320]


def test_check_holds_budgets_per_size() -> None:
    result = run_cli("check", "specs/resnet50.yaml", "--max-macs", "5G", "-i", "3x224x224", "-i", "3x320x320")
    assert result.code == 1
    assert "(resnet50 at --input 3x224x224): ok" in result.out
    assert "(resnet50 at --input 3x320x320): FAIL" in result.out
    assert "8,343,142,400: over the limit" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("summary", "specs/vgg16.yaml", "--input", "3x-1x2"), "'-1' is not a positive integer"),
        (("summary", "specs/vgg16.yaml", "--input", "abc"), "got 'abc'"),
        (("summary", "specs/vgg16.yaml", "--input", "3x224"), "--input 3x224 has 2 axes; the input of"),
        (("graph", "specs/vgg16.yaml", "-i", "3x64x64", "-i", "3x32x32"), "graph takes one --input"),
        (("explain", "specs/vgg16.yaml", "-i", "3x64x64", "-i", "3x32x32"), "explain takes one --input"),
        (("diff", "specs/vgg16.yaml", "specs/vgg16.yaml", "-i", "3x64x64", "-i", "3x32x32", "-i", "3x40x40"), "not 3"),
        (("summary", "specs/vgg16.yaml", "-i", "3x64x64", "-i", "3x32x32", "--depth", "1"), "--depth shows one"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err and result.out == ""


def test_a_size_that_does_not_fit_names_the_layer_and_the_size() -> None:
    result = run_cli("summary", "specs/vgg16.yaml", "--input", "3x224x224", "--input", "3x8x8")
    assert result.code == 2 and "Traceback" not in result.err
    assert "layer 'pool4'" in result.err
    assert "note: with --input 3x8x8 (the spec's own input is 3x224x224)" in result.err


def test_channels_last_sizes_are_written_in_the_specs_layout() -> None:
    result = run_cli("summary", "specs/pointwise_hwc.yaml", "--input", "32x32x16", "--format", "json")
    data = json.loads(result.out)
    assert data["input_shape"] == [32, 32, 16] and data["layout"] == "hwc"
    assert data["totals"]["output_shape"] == [32, 32, 32]
    assert data["totals"]["macs"] == 32 * 32 * 16 * 32


def test_a_huge_size_is_fast() -> None:
    """The analyzers are closed-form: 100,000 x 100,000 pixels cost no more than 224 x 224."""
    start = time.perf_counter()
    for command in ("summary", "lint", "check"):
        result = run_cli(command, "specs/resnet50.yaml", "--input", "3x100000x100000", "-i", "3x224x224")
        assert result.code == 0, result.err
    assert time.perf_counter() - start < 60
    text = (ROOT / "specs" / "resnet50.yaml").read_text(encoding="utf-8")
    expected = summary_json(parse_spec, edited(text, (3, 100000, 100000)), "specs/resnet50.yaml")
    assert isinstance(expected, dict)
    shown = run_cli("summary", "specs/resnet50.yaml", "--input", "3x100000x100000").out
    assert f"MACs: {expected['totals']['macs']:,} (batch 1)" in shown


def test_standard_input_is_read_once_for_every_size() -> None:
    text = (ROOT / "specs" / "resnet18.yaml").read_text(encoding="utf-8")
    args = ("summary", "-", "-i", "3x64x64", "-i", "3x32x32", "-f", "json")
    reports = json.loads(run_cli(*args, stdin=text).out)
    assert [r["input_shape"] for r in reports] == [[3, 64, 64], [3, 32, 32]]
    for report in reports:
        expected = summary_json(parse_spec, edited(text, tuple(report["input_shape"])), "<stdin>")
        assert isinstance(expected, dict)
        assert report["totals"] == expected["totals"]


def test_final_fields_at_different_layers_are_named_per_size() -> None:
    """At 32 x 32 ResNet-18's last feature map is 1 x 1, so its average pool is no global pool there."""
    table = run_cli("summary", "specs/resnet18.yaml", "-i", "3x64x64", "-i", "3x32x32", "--width", "0").out
    assert "RF at" in table
    assert re.search(r"3 x 64 x 64 .* layer4\.rest\.relu_1$", table, re.MULTILINE)
    assert re.search(r"3 x 32 x 32 .* avgpool$", table, re.MULTILINE)


def test_errors_while_analyzing_at_a_size_name_it() -> None:
    """Training a BatchNorm on one value per channel is refused at 32 x 32, batch 1: the message says the size."""
    for command in ("summary", "explain"):
        result = run_cli(command, "specs/resnet18.yaml", "--input", "3x32x32", "--training")
        assert result.code == 2 and "Traceback" not in result.err
        assert "layer 'layer4.first.body.bn1'" in result.err
        assert "; with --input 3x32x32 (the spec's own input is 3x224x224)" in result.err  # after the block note


def test_check_reports_each_size_with_its_outcome() -> None:
    result = run_cli("check", "specs/vgg16.yaml", "-i", "3x8x8", "-i", "3x64x64", "-f", "json")
    assert result.code == 2
    specs = json.loads(result.out)["specs"]
    assert [(s["input_shape"], s["status"]) for s in specs] == [([3, 8, 8], "error"), ([3, 64, 64], "passed")]
    assert "'pool4'" in specs[0]["error"]["layer"]
    assert "with --input 3x8x8" in specs[0]["error"]["note"]
    github = run_cli("check", "specs/vgg16.yaml", "-i", "3x8x8", "-f", "github").out
    assert "::at --input 3x8x8: layer 'pool4'" in github
    plain = run_cli("check", "specs/vgg16.yaml", "-f", "json").out
    assert "input_shape" not in json.loads(plain)["specs"][0]  # without --input, the JSON is as before
