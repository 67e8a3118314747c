"""The command line as a user meets it: exit codes, streams, formats, golden output."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import SPECS, run_cli

from cnncalc import __version__

LENET = "specs/lenet5.yaml"


def test_version_and_help() -> None:
    result = run_cli("--version")
    assert (result.code, result.out.strip()) == (0, f"cnncalc {__version__}")
    result = run_cli("--help")
    assert result.code == 0 and "summary" in result.out
    result = run_cli("summary", "--help")
    assert result.code == 0 and "--format" in result.out and "Examples" in result.out
    assert run_cli().code in (0, 2)  # no arguments: help, never a traceback


def test_summary_table_golden(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("summary", LENET, env={"COLUMNS": "120"})
    assert result.code == 0, result.err
    assert result.err == ""
    golden("lenet5.table.txt", result.out)


def test_summary_json_golden_and_contract(golden) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("summary", LENET, "--format", "json")
    assert result.code == 0 and result.err == ""
    data = json.loads(result.out)  # stdout holds the JSON object and nothing else
    for key in ("name", "input_shape", "batch", "layers", "totals"):
        assert key in data
    for key in ("name", "type", "inputs", "output_shape", "params", "macs", "receptive_field"):
        assert key in data["layers"][0]
    for key in ("params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops", "output_shape"):
        assert key in data["totals"]
    golden("lenet5.json", result.out)


def test_json_totals_equal_the_sum_of_layers() -> None:
    data = json.loads(run_cli("summary", "specs/resnet18.yaml", "-f", "json").out)
    for key in ("params", "macs", "flops", "buffers"):
        assert data["totals"][key] == sum(layer[key] for layer in data["layers"])
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"] + data["totals"]["other_ops"]


def test_csv_and_markdown() -> None:
    result = run_cli("summary", LENET, "--format", "csv")
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(result.out)))
    total = rows[-1]
    assert total["layer"] == "TOTAL"
    assert int(total["params"]) == sum(int(r["params"]) for r in rows[:-1])
    markdown = run_cli("summary", LENET, "--format", "markdown", "--human").out
    assert markdown.startswith("### lenet5\n")
    assert "| Layer | Kind |" in markdown


def test_batch_dtype_and_human_units() -> None:
    one = json.loads(run_cli("summary", LENET, "-f", "json").out)
    many = json.loads(run_cli("summary", LENET, "-f", "json", "--batch", "8", "--dtype", "float16").out)
    assert many["batch"] == 8
    assert many["totals"]["macs"] == 8 * one["totals"]["macs"]
    assert many["totals"]["params"] == one["totals"]["params"]
    assert many["totals"]["activation_bytes"] * 2 == one["totals"]["activation_bytes"] * 8
    human = run_cli("summary", LENET, "--human").out
    assert "6.52M" in human and "1.26M" in human


def test_stdin_and_several_specs() -> None:
    text = (SPECS / "conv_760.yaml").read_text()
    result = run_cli("summary", "-", "-f", "json", stdin=text)
    assert result.code == 0, result.err
    assert json.loads(result.out)["totals"]["macs"] == 768_000
    both = json.loads(run_cli("summary", "specs/conv_760.yaml", "specs/pointwise.yaml", "-f", "json").out)
    assert [d["totals"]["params"] for d in both] == [760, 544]


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (("summary", "specs/missing.yaml"), 2, "no such file: specs/missing.yaml"),
        (("summary", LENET, "--format", "xml"), 2, "Invalid value"),
        (("summary", LENET, "--batch", "0"), 2, "Invalid value"),
        (("summary", LENET, "--dtype", "float13"), 2, "Invalid value"),
        (("summary", "specs"), 2, "is a directory"),
        (("frobnicate",), 2, "No such command"),
    ],
)
def test_errors_exit_non_zero_without_traceback(args: tuple[str, ...], code: int, needle: str) -> None:
    result = run_cli(*args)
    assert result.code == code
    assert needle in result.err
    assert "Traceback" not in result.err + result.out


def test_bad_spec_on_stdin_names_place_and_layer() -> None:
    result = run_cli("summary", "-", stdin="input: [3, 4, 4]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 5}\n")
    assert result.code == 2
    assert result.err.startswith("<stdin>:3:44: error: layer 'conv2d_1' (#1, Conv2d):")
    assert result.out == ""


def test_no_color_and_narrow_terminals() -> None:
    result = run_cli("summary", "specs/resnet50.yaml", env={"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "80"})
    assert result.code == 0
    assert "\x1b[" not in result.out
    assert max(len(line) for line in result.out.splitlines()) <= 80
    header = next(line for line in result.out.splitlines() if "Params" in line)
    # Compact, and the Kind column goes rather than fold 'layer4.last.body.conv1' over two lines; nothing cut off.
    assert header.split() == ["Layer", "Output", "Params", "MACs", "RF"]
    assert "Kind and Weight columns left out to fit 80 columns (--width " in result.out
    assert " conv1 " in result.out and "64x112x112" in result.out
    colored = run_cli("summary", LENET, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in colored.out


def test_kinds_lists_every_registered_kind() -> None:
    from cnncalc.layers import REGISTRY

    out = run_cli("kinds").out
    for cls in REGISTRY.values():
        assert f"{cls.kind}(" in out


def test_layouts_read_and_print_h_x_w_x_c() -> None:
    hwc = json.loads(run_cli("summary", "specs/pointwise_hwc.yaml", "-f", "json").out)
    chw = json.loads(run_cli("summary", "specs/pointwise.yaml", "-f", "json").out)
    assert hwc["layout"] == "hwc" and chw["layout"] == "chw"
    assert hwc["input_shape"] == [64, 64, 16] and hwc["totals"]["output_shape"] == [64, 64, 32]
    assert chw["totals"]["output_shape"] == [32, 64, 64]
    assert (hwc["totals"]["params"], hwc["totals"]["macs"]) == (chw["totals"]["params"], chw["totals"]["macs"])
    printed = run_cli("summary", "specs/pointwise.yaml", "--layout", "hwc").out
    assert "Output: 64 x 64 x 32" in printed
    assert run_cli("summary", "specs/pointwise.yaml", "--layout", "whc").code == 2
