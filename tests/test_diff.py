"""`cnncalc diff`: every figure checked against `cnncalc summary --format json` of the two specs, or against
PyTorch's formulas for a small edit; golden files for the three formats of a small diff; exit codes and errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SPECS, run_cli

from cnncalc.units import human

LENET = "specs/lenet5.yaml"
LENET_WIDE = "tests/fixtures/lenet5_wide.yaml"  # LeNet-5 with conv1 at 32 channels instead of 20
# The figures compared per layer, by summary's JSON names (param_bytes is derived below).
SUMMARY_KEYS = (
    "type",
    "summary",
    "output_shape",
    "params",
    "trainable",
    "buffers",
    "macs",
    "other_ops",
    "flops",
    "activation_bytes",
    "receptive_field",
)
COMPARED = [key for key in SUMMARY_KEYS if key != "summary"] + ["param_bytes"]


def summary_json(spec: str, *options: str) -> dict[str, Any]:
    result = run_cli("summary", spec, "--format", "json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def diff_json(old: str, new: str, *options: str) -> dict[str, Any]:
    result = run_cli("diff", old, new, "--format", "json", *options)
    assert result.code == 0, result.err
    assert result.err == ""
    return json.loads(result.out)


def channels_first(shape: list[int], layout: str) -> list[int]:
    """A shape as printed in `layout` (H x W x C for hwc) in C x H x W order."""
    return [shape[-1], *shape[:-1]] if layout == "hwc" and len(shape) > 1 else shape


def expected_figures(layer: dict[str, Any], element_bytes: int) -> dict[str, Any]:
    figures = {key: layer[key] for key in SUMMARY_KEYS}
    figures["param_bytes"] = layer["params"] * element_bytes
    return figures


def check_against_summaries(old_spec: str, new_spec: str, *options: str) -> dict[str, Any]:
    """The whole diff (with --all) rebuilt from the two summaries; returns the diff."""
    old, new = summary_json(old_spec, *options), summary_json(new_spec, *options)
    data = diff_json(old_spec, new_spec, "--all", *options)
    assert (data["schema_version"], data["old"]["file"], data["new"]["file"]) == (2, old["file"], new["file"])
    assert (data["old"]["name"], data["new"]["name"]) == (old["name"], new["name"])
    for side, summary in (("old", old), ("new", new)):
        assert {k: data[side][k] for k in ("batch", "dtype", "layout")} == {
            k: summary[k] for k in ("batch", "dtype", "layout")
        }

    # Totals: old and new are the summaries' totals, delta = new - old, percent = 100 * delta / old.
    for metric, total in data["totals"].items():
        if metric.endswith("_shape"):
            source = "totals" if metric == "output_shape" else None
            before = old[source][metric] if source else old[metric]
            after = new[source][metric] if source else new[metric]
            assert total == {"old": before, "new": after, "delta": None, "percent": None}, metric
            continue
        before, after = old["totals"][metric], new["totals"][metric]
        assert (total["old"], total["new"], total["delta"]) == (before, after, after - before), metric
        expected = float(Fraction(100 * (after - before), before)) if before else None
        assert total["percent"] == expected, metric
    wanted = {"params", "trainable_params", "buffers", "macs", "flops", "activation_bytes", "param_bytes"}
    assert wanted | {"output_shape", "input_shape"} <= set(data["totals"])

    # Layers: matched by name; figures as in the summaries' rows; the status and changes follow from them.
    element_bytes = old["totals"]["activation_bytes"] // old["totals"]["activation_elements"]
    old_rows = {layer["name"]: expected_figures(layer, element_bytes) for layer in old["layers"]}
    new_rows = {layer["name"]: expected_figures(layer, element_bytes) for layer in new["layers"]}
    by_status: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set(), "unchanged": set()}
    for layer in data["layers"]:
        by_status[layer["status"]].add(layer["name"])
        before, after = old_rows.get(layer["name"]), new_rows.get(layer["name"])
        assert layer["old"] == before and layer["new"] == after, layer["name"]
        if before and after:
            # In the order the figures are written; shapes compared channels-first, whatever their layout.
            before = {**before, "output_shape": channels_first(before["output_shape"], old["layout"])}
            after = {**after, "output_shape": channels_first(after["output_shape"], new["layout"])}
            assert layer["changes"] == [key for key in layer["new"] if key in COMPARED and before[key] != after[key]]
            assert layer["status"] == ("changed" if layer["changes"] else "unchanged")
        else:
            assert layer["changes"] == []
    assert by_status["added"] == set(new_rows) - set(old_rows)
    assert by_status["removed"] == set(old_rows) - set(new_rows)
    assert by_status["changed"] | by_status["unchanged"] == set(old_rows) & set(new_rows)
    assert data["counts"] == {status: len(names) for status, names in by_status.items()}
    # Order: the new network's layers in its order, the removed ones in the old network's order.
    listed = [layer["name"] for layer in data["layers"]]
    assert [n for n in listed if n in new_rows] == [layer["name"] for layer in new["layers"]]
    assert [n for n in listed if n in by_status["removed"]] == [
        layer["name"] for layer in old["layers"] if layer["name"] in by_status["removed"]
    ]
    return data


def test_resnet18_to_resnet50_agrees_with_both_summaries() -> None:
    data = check_against_summaries("specs/resnet18.yaml", "specs/resnet50.yaml")
    assert data["differs"] is True
    counts = data["counts"]
    assert min(counts.values()) > 0  # the pair exercises every status

    # Without --all the unchanged layers are left out, and nothing else.
    short = diff_json("specs/resnet18.yaml", "specs/resnet50.yaml")
    assert short["layers"] == [layer for layer in data["layers"] if layer["status"] != "unchanged"]
    assert short["totals"] == data["totals"] and short["counts"] == counts


def test_batch_and_dtype_apply_to_both() -> None:
    data = check_against_summaries(LENET, LENET_WIDE, "--batch", "4", "--dtype", "float16")
    assert data["old"]["batch"] == data["new"]["batch"] == 4


def test_resnet_table_and_markdown_list_the_same_rows() -> None:
    data = diff_json("specs/resnet18.yaml", "specs/resnet50.yaml")
    counts = data["counts"]
    # Wide enough that no name folds: one line per row, '-' before and '+' after a change.
    table = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", env={"COLUMNS": "200"})
    assert table.code == 0 and table.err == ""
    rows = [line.split()[:2] for line in table.out.splitlines() if re.match(r" [-+] \S", line)]
    assert sum(marker == "-" for marker, _ in rows) == counts["changed"] + counts["removed"]
    assert sum(marker == "+" for marker, _ in rows) == counts["changed"] + counts["added"]
    expected_rows = []
    for layer in data["layers"]:
        expected_rows += [["-", layer["name"]]] if layer["old"] else []
        expected_rows += [["+", layer["name"]]] if layer["new"] else []
    assert rows == expected_rows
    old_params, new_params = data["totals"]["params"]["old"], data["totals"]["params"]["new"]
    percent = data["totals"]["params"]["percent"]
    assert f"+{percent:.1f}%" in table.out  # +118.6%: resnet50 has 2.19 times the parameters
    assert f"{old_params:,}" in table.out and f"{new_params:,}" in table.out

    markdown = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", "--format", "markdown", "--human")
    assert markdown.code == 0
    lines = markdown.out.splitlines()
    assert lines[0].startswith("### ") and "<details>" in markdown.out and "</details>" in markdown.out
    # The short totals table comes first, then the collapsed layers.
    assert markdown.out.index(f"| Params | {human(old_params)} | {human(new_params)} |") < markdown.out.index(
        "<details>"
    )
    statuses = [line.split("|")[1].strip() for line in lines if re.match(r"\| (changed|added|removed) \|", line)]
    assert statuses == [layer["status"] for layer in data["layers"]]


def test_a_spec_against_itself_has_no_changes() -> None:
    data = diff_json(LENET, LENET, "--all")
    assert data["differs"] is False
    assert data["counts"] == {"changed": 0, "added": 0, "removed": 0, "unchanged": len(data["layers"])}
    assert all(layer["changes"] == [] and layer["old"] == layer["new"] for layer in data["layers"])
    assert all(total["delta"] in (0, None) for total in data["totals"].values())
    assert diff_json(LENET, LENET)["layers"] == []
    for format in ("table", "json", "markdown"):
        result = run_cli("diff", LENET, LENET, "--exit-code", "--format", format)
        assert (result.code, result.err) == (0, ""), format
    table = run_cli("diff", LENET, LENET).out
    assert "0 changed, 0 added, 0 removed, 10 unchanged" in table
    assert not re.search(r"^ [-+] ", table, re.MULTILINE)


def test_exit_code_like_git_diff() -> None:
    assert run_cli("diff", LENET, LENET_WIDE).code == 0  # informative by default
    for format in ("table", "json", "markdown"):
        result = run_cli("diff", LENET, LENET_WIDE, "--exit-code", "--format", format)
        assert result.code == 1 and result.out and result.err == "", format


def _conv_params(in_channels: int, out_channels: int, kernel: int) -> int:
    return (in_channels * kernel * kernel + 1) * out_channels  # PyTorch: weight out x in x k x k, bias out


def _conv_macs(in_channels: int, out_channels: int, kernel: int, height: int, width: int) -> int:
    return out_channels * height * width * in_channels * kernel * kernel


@pytest.mark.parametrize("channels", [6, 32])
def test_one_conv_made_narrower_or_wider(tmp_path: Path, channels: int) -> None:
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    edited = text.replace(
        "out_channels: 20, kernel_size: 5, padding: 2, name: conv1",
        f"out_channels: {channels}, kernel_size: 5, padding: 2, name: conv1",
    )
    assert edited != text
    spec = tmp_path / "lenet5_edit.yaml"
    spec.write_text(edited, encoding="utf-8")
    data = check_against_summaries(LENET, str(spec))

    # conv1's channels reach relu1 and pool1 (shapes) and conv2 (its weights); conv2's output is unchanged.
    changed = {layer["name"]: layer for layer in data["layers"] if layer["status"] == "changed"}
    assert set(changed) == {"conv1", "relu1", "pool1", "conv2"}
    assert data["counts"]["added"] == data["counts"]["removed"] == 0
    assert changed["conv1"]["changes"] == [
        "output_shape",
        "params",
        "macs",
        "other_ops",
        "flops",
        "activation_bytes",
        "param_bytes",
    ]
    shape_only = ["output_shape", "other_ops", "flops", "activation_bytes"]
    assert changed["relu1"]["changes"] == changed["pool1"]["changes"] == shape_only
    assert changed["conv2"]["changes"] == ["params", "macs", "flops", "param_bytes"]

    # The deltas from PyTorch's formulas (LeNet-5: 1x28x28, conv1 k5 p2 -> 28x28, pool /2, conv2 50 k5 p2).
    def delta(layer: str, key: str) -> int:
        return changed[layer]["new"][key] - changed[layer]["old"][key]

    assert delta("conv1", "params") == _conv_params(1, channels, 5) - _conv_params(1, 20, 5)
    assert delta("conv2", "params") == _conv_params(channels, 50, 5) - _conv_params(20, 50, 5)
    assert delta("conv1", "macs") == _conv_macs(1, channels, 5, 28, 28) - _conv_macs(1, 20, 5, 28, 28)
    assert delta("conv2", "macs") == _conv_macs(channels, 50, 5, 14, 14) - _conv_macs(20, 50, 5, 14, 14)
    assert changed["relu1"]["new"]["output_shape"] == [channels, 28, 28]
    assert changed["pool1"]["new"]["output_shape"] == [channels, 14, 14]
    assert delta("pool1", "activation_bytes") == 4 * (channels - 20) * 14 * 14
    totals = data["totals"]
    assert totals["params"]["delta"] == delta("conv1", "params") + delta("conv2", "params")
    assert totals["macs"]["delta"] == delta("conv1", "macs") + delta("conv2", "macs")
    assert totals["activation_bytes"]["delta"] == sum(delta(n, "activation_bytes") for n in changed)
    assert totals["param_bytes"]["delta"] == 4 * totals["params"]["delta"]
    assert totals["output_shape"]["old"] == totals["output_shape"]["new"] == [10]


def test_added_removed_renamed_and_frozen_layers(tmp_path: Path) -> None:
    text = (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    edited = (
        text.replace("  - relu: {name: relu2}\n", "")  # removed
        .replace("name: relu3}", "name: act3}")  # renamed: reads as removed plus added
        .replace("name: conv2}", "name: conv2, trainable: false}")  # frozen: a change no column shows
        .replace(
            "  - linear: {in_features: 500, out_features: 10, name: fc2}",
            "  - dropout: {p: 0.5}\n  - linear: {in_features: 500, out_features: 10, name: fc2}",
        )  # added
    )
    spec = tmp_path / "lenet5_edit.yaml"
    spec.write_text(edited, encoding="utf-8")
    data = check_against_summaries(LENET, str(spec))
    status = {layer["name"]: layer["status"] for layer in data["layers"] if layer["status"] != "unchanged"}
    assert status == {"relu2": "removed", "relu3": "removed", "act3": "added", "dropout_1": "added", "conv2": "changed"}
    conv2 = next(layer for layer in data["layers"] if layer["name"] == "conv2")
    assert conv2["changes"] == ["trainable"]
    assert data["totals"]["trainable_params"]["delta"] == -conv2["old"]["params"]
    # Removed layers stand where they stood: after the last layer both networks have before them.
    names = [layer["name"] for layer in diff_json(LENET, str(spec))["layers"]]
    assert names == ["conv2", "relu2", "relu3", "act3", "dropout_1"]

    table = run_cli("diff", LENET, str(spec)).out
    assert "note: conv2: trainable yes -> no" in table
    markdown = run_cli("diff", LENET, str(spec), "--format", "markdown").out
    assert "- conv2: trainable yes → no" in markdown
    assert "| removed | relu2 |" in markdown and "| added | dropout_1 |" in markdown


def test_layouts_are_compared_channels_first(tmp_path: Path) -> None:
    # The same network written H x W x C: nothing changes, and each side prints in its own layout.
    hwc = (SPECS / "pointwise_hwc.yaml").read_text(encoding="utf-8").replace("name: pointwise}", "name: conv}")
    spec = tmp_path / "pointwise_hwc.yaml"
    spec.write_text(hwc, encoding="utf-8")
    data = check_against_summaries("specs/pointwise.yaml", str(spec))
    assert data["differs"] is False
    assert data["totals"]["input_shape"] == {"old": [16, 64, 64], "new": [64, 64, 16], "delta": None, "percent": None}


def test_standard_input_for_one_spec() -> None:
    piped = run_cli("diff", "-", LENET_WIDE, "--format", "json", stdin=(ROOT / LENET).read_text(encoding="utf-8"))
    assert piped.code == 0, piped.err
    from_stdin, from_file = json.loads(piped.out), diff_json(LENET, LENET_WIDE)
    assert from_stdin["old"]["file"] == "<stdin>"
    from_stdin["old"]["file"] = from_file["old"]["file"]
    assert from_stdin == from_file
    piped = run_cli("diff", LENET, "-", stdin=(ROOT / LENET).read_text(encoding="utf-8"))
    assert piped.code == 0 and "0 changed" in piped.out


def test_errors() -> None:
    missing = run_cli("diff", LENET, "no/such/spec.yaml")
    assert missing.code == 2 and missing.out == ""
    assert "no such file: no/such/spec.yaml" in missing.err and "Traceback" not in missing.err
    twice = run_cli("diff", "-", "-", stdin="name: x\n")
    assert twice.code == 2 and "standard input ('-') can be read only once" in twice.err
    assert "Traceback" not in twice.err
    bad_format = run_cli("diff", LENET, LENET, "--format", "csv")
    assert bad_format.code == 2 and "Traceback" not in bad_format.err
    invalid = run_cli("diff", LENET, "-", stdin="name: x\ninput: [1, 8, 8]\nlayers:\n  - conv2d: {kernel_size: 3}\n")
    assert invalid.code == 2 and "<stdin>:4" in invalid.err and "out_channels" in invalid.err


def test_golden_small_diff(golden) -> None:  # type: ignore[no-untyped-def]
    table = run_cli("diff", LENET, LENET_WIDE)
    assert table.code == 0 and table.err == ""
    golden("diff_lenet5_wide.table.txt", table.out)
    markdown = run_cli("diff", LENET, LENET_WIDE, "--format", "markdown")
    assert markdown.code == 0 and markdown.err == ""
    golden("diff_lenet5_wide.md", markdown.out)
    as_json = run_cli("diff", LENET, LENET_WIDE, "--format", "json")
    assert as_json.code == 0 and as_json.err == ""
    golden("diff_lenet5_wide.json", as_json.out)
    human_table = run_cli("diff", LENET, LENET_WIDE, "--human", "--all", env={"COLUMNS": "80"})
    golden("diff_lenet5_wide.human_all.txt", human_table.out)


def test_narrow_terminal_folds_names_never_figures() -> None:
    data = diff_json("specs/resnet18.yaml", "specs/resnet50.yaml")
    result = run_cli("diff", "specs/resnet18.yaml", "specs/resnet50.yaml", env={"COLUMNS": "80"})
    assert result.code == 0
    lines = result.out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    # Every row keeps its marker (folded names continue on lines of their own) and its figures whole.
    assert sum(bool(re.match(r" [-+] ", line)) for line in lines) == sum(
        (layer["old"] is not None) + (layer["new"] is not None) for layer in data["layers"]
    )
    for layer in data["layers"]:
        for side in ("old", "new"):
            if layer[side]:
                assert f"{layer[side]['macs']:,}" in result.out


def test_json_run_does_not_import_rich() -> None:
    code = (
        "import sys; from cnncalc.cli import main; sys.argv = ['cnncalc', 'diff', 'specs/lenet5.yaml', "
        "'tests/fixtures/lenet5_wide.yaml', '-f', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'rich' not in sys.modules, 'rich imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["differs"] is True
