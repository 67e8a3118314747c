"""Figures are never cut, at any width (issue 9, item 1).

Every table command's text is parsed back at many widths and compared with the command's JSON: each row must be
found by its layer name with exactly the JSON's figures, whole, in its cells (or, in the one-record-per-layer
form, beside their headers); params and MACs are always shown; a column left out is named with a width that
shows it; no line is wider than the width unless it holds a single piece that cannot be broken (a name, a path,
a figure); no line ends in a space; footers are whole figures. Rendering runs in process (fast); a few runs go
through `python -m cnncalc` to check COLUMNS, --width, pipes, terminals and colour as users meet them.
"""

from __future__ import annotations

import json
import os
import re
import sys
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import terminal
from conftest import ROOT, SPECS, run_cli

from cnncalc.analyze import Report, analyze
from cnncalc.diff import compare
from cnncalc.render.diff import (
    TOTAL_ROWS,  # the labels the parser reads back; figures come from the JSON
    diff_dict,
    render_diff,
)
from cnncalc.render.json_report import report_dict
from cnncalc.render.screen import Screen, units
from cnncalc.render.table import render_tables, render_verify
from cnncalc.spec import load_spec

SPEC_FILES = sorted(path.name for path in SPECS.glob("*.yaml"))
WIDTHS = [None, 1, 20, 40, 60, 80, 200]
# Widths between the forms' thresholds too, so that every form of every table is met.
MORE_WIDTHS = [8, 13, 27, 33, 47, 53, 66, 71, 75, 88, 95, 104, 120, 140]
SUMMARY_HEADERS = ["Layer", "Kind", "Output", "Weight", "Params", "MACs", "RF"]
DIFF_HEADERS = ["Layer", "Kind", "Output", "Params", "MACs", "Activations", "RF"]
TOTAL_HEADERS = ["Total", "Old", "New", "Delta", "Change"]
DIFF_PAIRS = [
    ("resnet18.yaml", "resnet50.yaml"),
    ("lenet5.yaml", "../tests/fixtures/lenet5_wide.yaml"),
    ("unet.yaml", "unet_original.yaml"),
    ("alexnet.yaml", "vgg16.yaml"),
    ("mobilenet_v2.yaml", "lenet5_bn.yaml"),
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@cache
def report(name: str, batch: int | None = None) -> Report:
    return analyze(load_spec(str(SPECS / name), batch=batch))


# -- what the JSON says a cell may read ------------------------------------------------------------------------


def shape_texts(shape: list[int]) -> list[str]:
    """A shape as the tables print it: the lecture's '20 x 28 x 28' or the compact '20x28x28'."""
    return [" x ".join(map(str, shape)), "x".join(map(str, shape))]


def rf_texts(field: dict[str, list[Any]] | None) -> list[str]:
    if field is None:
        return ["-"]
    axes = []
    for key in ("size", "stride", "padding"):
        values = [str(v) for v in field[key]]
        axes.append(values[0] if len(set(values)) == 1 else "x".join(values))
    return [" / ".join(axes), "/".join(axes)]


def kind_texts(kind: str, summary: str) -> list[str]:
    return [f"{kind} {summary}".strip(), kind]


def figure(value: int) -> list[str]:
    return [f"{value:,}"]


def byte_figure(value: int) -> list[str]:
    return [f"{value:,} B"]


def summary_cells(layer: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, list[str]]:
    """Per header, the texts the cell may show (absent: the cell is empty); None is the input row."""
    if layer is None:
        return {"Layer": ["input"], "Output": shape_texts(data["input_shape"])}
    cells = {
        "Layer": [layer["name"]],
        "Kind": kind_texts(layer["type"], layer["summary"]),
        "Output": shape_texts(layer["output_shape"]),
        "Params": figure(layer["params"]),
        "MACs": figure(layer["macs"]),
        "RF": rf_texts(layer["receptive_field"]),
    }
    if layer["weight_shapes"]:
        weights = layer["weight_shapes"]
        cells["Weight"] = shape_texts(weights["weight"] if "weight" in weights else next(iter(weights.values())))
    return cells


def totals_lines(data: dict[str, Any]) -> list[str]:
    t, batch = data["totals"], data["batch"]
    return [
        f"Params: {t['params']:,} (trainable {t['trainable_params']:,}, non-trainable "
        f"{t['non_trainable_params']:,}); buffers: {t['buffers']:,}",
        f"MACs: {t['macs']:,} (batch {batch})",
        f"FLOPs: {t['flops']:,} = 2 x MACs + {t['other_ops']:,} other ops",
        f"Memory ({data['dtype']}, batch {batch}): input {t['input_bytes']:,} B, activations "
        f"{t['activation_bytes']:,} B, params {t['param_bytes']:,} B",
        f"Output: {' x '.join(map(str, t['output_shape']))}",
    ]


# -- reading the text back -------------------------------------------------------------------------------------


def check_lines(text: str, width: int | None) -> None:
    """No trailing spaces, no escape codes; within the width unless one unbreakable piece is wider."""
    assert text.endswith("\n")
    assert not ANSI.search(text)
    for line in text.splitlines():
        assert line == line.rstrip(), f"trailing space: {line!r}"
        if width is not None and len(line) > width:
            assert len(units(line.strip())) == 1, f"{len(line)} > {width} columns: {line!r}"


def logical(lines: list[str], indent: str = "  ") -> list[str]:
    """Lines with their wrapped continuations (indented by `indent`) joined back."""
    joined: list[str] = []
    for line in lines:
        if joined and line.startswith(indent):
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    return joined


def squeeze(text: str) -> str:
    return " ".join(text.split())


def no_split_figures(lines: list[str]) -> None:
    """A line break never falls inside a shape, a receptive field or between a number and its unit."""
    for line, after in zip(lines, lines[1:], strict=False):
        assert not re.search(r"(^| )(x|/|-|\+|->)$", line), f"a break after {line!r}"
        assert not re.match(r"\s*(x|/|B|KiB|MiB|GiB|TiB|PiB)( |$)", after), f"a break before {after!r}"


def cut(lines: list[str]) -> tuple[list[str], list[str]]:
    """The lines before the first empty line, and those after it."""
    index = lines.index("") if "" in lines else len(lines)
    return lines[:index], lines[index + 1 :]


def is_table(body: list[str]) -> bool:
    return len(body) > 1 and set(body[1].strip()) <= {"─", "-"} and body[1].strip() != ""


def row_pattern(first: str, cells: list[list[str]]) -> re.Pattern[str]:
    """A table row: ' ' + the first cell, then each non-empty cell whole, two or more spaces apart."""
    parts = [re.escape(first)]
    for alternatives in cells:
        parts.append("(?:" + "|".join(re.escape(a) for a in sorted(alternatives, key=len, reverse=True)) + ")")
    return re.compile("^ " + " {2,}".join(parts) + "$")


def check_table_rows(body: list[str], headers: list[str], rows: list[tuple[str, dict[str, list[str]]]]) -> None:
    """Each row, in order, reads exactly its first cell and the expected figures under the shown headers."""
    assert len(body) - 2 == len(rows), "one line per row: nothing folds"
    for line, (first, cells) in zip(body[2:], rows, strict=True):
        expected = [cells[h] for h in headers[1:] if h in cells]
        assert row_pattern(first, expected).match(line), f"row {first!r} reads {line!r}"


def records(body: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """One record per row: (title, [(header, value)]) from 'title' then '  Header  value' lines."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for line in body:
        if not line.startswith(" "):
            found.append((line, []))
        elif not line.startswith("   ") and line.startswith("  "):
            header, _, value = line.strip().partition("  ")
            found[-1][1].append((header, value.strip()))
        else:  # a continuation: of the title before any field, else of the last value
            title, fields = found[-1]
            if fields:
                header, value = fields[-1]
                fields[-1] = (header, squeeze(f"{value} {line}"))
            else:
                found[-1] = (squeeze(f"{title} {line}"), fields)
    return found


def check_records(body: list[str], rows: list[tuple[str, dict[str, list[str]]]], order: list[str]) -> None:
    found = records(body)
    assert [title for title, _ in found] == [first.strip() for first, _ in rows]
    for (title, fields), (_, cells) in zip(found, rows, strict=True):
        expected = [h for h in order[1:] if h in cells]
        assert [header for header, _ in fields] == expected, title
        for header, value in fields:
            assert value in cells[header], f"{title}: {header} reads {value!r}, not one of {cells[header]}"


def check_note(note: str, missing: list[str], render: Any) -> None:
    """The note names the columns left out and a width that shows them (checked by rendering at it)."""
    for header in missing:
        assert re.search(rf"\b{header}\b", note), note
    needed = int(re.search(r"--width (\d+) shows", note).group(1))  # type: ignore[union-attr]
    shown = render(Screen(needed))
    for header in missing:
        assert re.search(rf"^ .*\b{header}\b", shown, re.M), f"--width {needed} does not show {header}"
    assert "--format json has every figure" in note


# -- summary ---------------------------------------------------------------------------------------------------


def check_summary(text: str, data: dict[str, Any], width: int | None, render: Any) -> None:
    check_lines(text, width)
    lines = text.split("\n")[:-1]
    title, rest = cut(lines)
    assert squeeze(" ".join(title)) == squeeze(f"{data['name']}  ({data['file']})")
    body, footer = cut(rest)
    rows = [("input", summary_cells(None, data))] + [
        (layer["name"], summary_cells(layer, data)) for layer in data["layers"]
    ]
    notes = logical(footer)
    if is_table(body):
        headers = body[0].split()
        assert headers[0] == "Layer" and "Params" in headers and "MACs" in headers
        assert [h for h in SUMMARY_HEADERS if h in headers] == headers
        check_table_rows(body, headers, rows)
        missing = [h for h in SUMMARY_HEADERS if h not in headers]
        if missing:
            check_note(notes.pop(0), missing, render)
        else:
            assert width is None or len(max(body, key=len)) <= width
    else:
        assert width is not None
        check_records(body, rows, SUMMARY_HEADERS)
        note = notes.pop(0)
        assert note.startswith("One record per layer") and "--format json has every figure" in note
        needed = int(re.search(r"--width (\d+) shows", note).group(1))  # type: ignore[union-attr]
        assert needed > width and is_table(cut(cut(render(Screen(needed)).split("\n"))[1])[0])
    assert notes[0].startswith("RF: receptive field size")
    assert notes[1:6] == totals_lines(data)
    assert [squeeze(line) for line in notes[6:]] == [squeeze(f"warning: {w}") for w in data["warnings"]]
    no_split_figures(footer)


def summary_case(spec: str, width: int | None, batch: int | None = None) -> None:
    built = report(spec, batch)
    data = report_dict(built)
    data["warnings"] = built.warnings

    def render(screen: Screen) -> str:
        return render_tables([built], False, screen)

    check_summary(render(Screen(width)), data, width, render)


@pytest.mark.parametrize("spec", SPEC_FILES)
def test_summary_every_spec_at_every_width(spec: str) -> None:
    for width in WIDTHS + MORE_WIDTHS:
        summary_case(spec, width)


def test_summary_every_width_of_a_small_table() -> None:
    for width in range(1, 110):
        summary_case("lenet5.yaml", width)


def test_the_issues_examples_in_process() -> None:
    vgg = render_tables([report("vgg16.yaml", 1024)], False, Screen(60))
    assert re.search(r"^ +MACs +88,785,027,072$", vgg, re.M) or re.search(r"^ conv1_1 .*88,785,027,072", vgg, re.M)
    resnet = render_tables([report("resnet50.yaml")], False, Screen(60))
    assert re.search(r"^ +RF +7 / 2 / 3$", resnet, re.M) or re.search(r"^ conv1 .* 7/2/3$", resnet, re.M)
    summary_case("vgg16.yaml", 60, batch=1024)


def test_huge_figures_stay_whole(tmp_path: Path) -> None:
    """A 10^12-channel conv: 24,300,000,000,000,000 MACs at 80 columns and below, never 24,300,000,000,000."""
    spec = tmp_path / "huge.yaml"
    spec.write_text(
        "name: huge\ninput: [3, 32, 32]\nlayers:\n  - conv2d: {out_channels: 1000000000000, kernel_size: 3}\n"
    )
    built = analyze(load_spec(str(spec)))
    data = report_dict(built)
    data["warnings"] = built.warnings
    for width in WIDTHS + MORE_WIDTHS:
        text = render_tables([built], False, Screen(width))
        check_summary(text, data, width, lambda screen: render_tables([built], False, screen))
        assert f"{data['layers'][0]['macs']:,}" in text


def test_several_specs_and_human_units() -> None:
    both = render_tables([report("lenet5.yaml"), report("resnet18.yaml")], True, Screen(50))
    check_lines(both, 50)
    assert both.count("RF: receptive field size") == 2
    for token in re.findall(r"(?<![\w.,])\d[\d.,]*[KMGTPE]?(?![\w.,])", both):
        assert re.fullmatch(r"\d{1,3}(,\d{3})*|\d+(\.\d+)?[KMGTPE]?", token), token


def test_colour_changes_nothing_but_escape_codes() -> None:
    for width in (None, 80, 40, 20):
        for spec in ("lenet5.yaml", "resnet18.yaml"):
            plain = render_tables([report(spec)], False, Screen(width))
            colored = render_tables([report(spec)], False, Screen(width, color=True))
            assert "\x1b[" in colored and ANSI.sub("", colored) == plain


def test_wide_characters_keep_the_columns_aligned() -> None:
    """Names may hold letters that take two terminal cells (CJK); alignment counts cells, not characters."""
    built = report("lenet5.yaml")
    renamed = built._replace(rows=[row._replace(name=f"层{row.name}") for row in built.rows])
    text = render_tables([renamed], False, Screen(200))
    rows = [line for line in text.splitlines() if line.startswith(" 层")]
    from cnncalc.render.screen import cell_width

    kinds = {cell_width(line[: line.index(kind)]) for line in rows for kind in ("Conv2d", "ReLU") if kind in line}
    assert len(kinds) == 1


# -- verify ----------------------------------------------------------------------------------------------------


def verify_data(spec: str) -> dict[str, Any]:
    """What `cnncalc verify` reports, from the analyzer's figures (rendering is what is tested here), with one
    layer made to disagree so that 'executed / analyzed' cells are met too."""
    data = report_dict(report(spec))
    layers = [
        {
            "name": layer["name"],
            "type": layer["type"],
            "ok": True,
            "executed_shape": layer["output_shape"],
            "output_shape": layer["output_shape"],
            "counted_macs": layer["macs"],
            "macs": layer["macs"],
            "params_read": layer["params"],
            "params": layer["params"],
        }
        for layer in data["layers"]
    ]
    wrong = layers[len(layers) // 2]
    wrong.update(ok=False, executed_shape=[*wrong["output_shape"], 2], counted_macs=wrong["macs"] * 1000 + 7)
    return {"name": data["name"], "input_shape": data["input_shape"], "ok": False, "layers": layers}


def verify_cells(layer: dict[str, Any]) -> dict[str, list[str]]:
    def pair(executed: Any, analyzed: Any, texts: Any) -> list[str]:
        if executed == analyzed:
            return texts(executed)
        return [f"{a} / {b}" for a, b in zip(texts(executed), texts(analyzed), strict=True)]

    return {
        "Layer": [layer["name"]],
        "Kind": [layer["type"]],
        "Shape": pair(layer["executed_shape"], layer["output_shape"], shape_texts),
        "MACs": pair(layer["counted_macs"], layer["macs"], figure),
        "Params": pair(layer["params_read"], layer["params"], figure),
        "Result": ["ok" if layer["ok"] else "DIFFERS"],
    }


def check_verify(text: str, data: dict[str, Any], width: int | None, render: Any) -> None:
    check_lines(text, width)
    lines = text.split("\n")[:-1]
    title, rest = cut(lines)
    assert squeeze(" ".join(title)) == squeeze(
        f"verify {data['name']}  (input {' x '.join(map(str, data['input_shape']))})"
    )
    body, footer = cut(rest)
    headers_all = ["Layer", "Kind", "Shape", "MACs", "Params", "Result"]
    rows = [(layer["name"], verify_cells(layer)) for layer in data["layers"]]
    notes = logical(footer)
    if is_table(body):
        headers = body[0].split()
        assert "MACs" in headers and "Params" in headers and "Shape" in headers
        check_table_rows(body, headers, rows)
        missing = [h for h in headers_all if h not in headers]
        if missing:
            check_note(notes.pop(0), missing, render)
    else:
        check_records(body, rows, headers_all)
        assert notes.pop(0).startswith("One record per layer")
    assert notes[0].startswith("Shape, MACs and params as executed")
    failures = sum(not layer["ok"] for layer in data["layers"])
    assert notes[-1] == (
        f"{failures} layer(s) differ from the analyzers"
        if failures
        else f"all {len(rows)} layers agree: shapes, MACs and parameters"
    )


@pytest.mark.parametrize("spec", ["lenet5.yaml", "resnet50.yaml", "unet.yaml", "mobilenet_v2.yaml"])
def test_verify_at_every_width(spec: str) -> None:
    data = verify_data(spec)
    for width in WIDTHS + MORE_WIDTHS:
        check_verify(render_verify(data, Screen(width)), data, width, lambda screen: render_verify(data, screen))


def test_verify_executed_at_every_width() -> None:
    from cnncalc.render.values import verify_dict
    from cnncalc.runner import verify

    graph = load_spec(str(SPECS / "lenet5_bn.yaml"))
    data = verify_dict(graph, verify(graph, 0, "eval"))  # the default budget
    for width in WIDTHS:
        check_verify(render_verify(data, Screen(width)), data, width, lambda screen: render_verify(data, screen))


# -- diff ------------------------------------------------------------------------------------------------------


def diff_cells(side: dict[str, Any], name: str, marker: str) -> tuple[str, dict[str, list[str]]]:
    return (
        f"{marker} {name}",
        {
            "Kind": kind_texts(side["type"], side["summary"]),
            "Output": shape_texts(side["output_shape"]),
            "Params": figure(side["params"]),
            "MACs": figure(side["macs"]),
            "Activations": byte_figure(side["activation_bytes"]),
            "RF": rf_texts(side["receptive_field"]),
        },
    )


def diff_rows(data: dict[str, Any]) -> list[tuple[str, dict[str, list[str]]]]:
    rows = []
    for layer in data["layers"]:
        if layer["status"] == "unchanged":
            rows.append(diff_cells(layer["new"], layer["name"], " "))
            continue
        if layer["old"] is not None:
            rows.append(diff_cells(layer["old"], layer["name"], "-"))
        if layer["new"] is not None:
            rows.append(diff_cells(layer["new"], layer["name"], "+"))
    return rows


def change_text(old: int, delta: int) -> str:
    """The relative change to a tenth of a percent, half away from zero, from the exact integers."""
    if delta == 0:
        return ""
    if old == 0:
        return "-"
    tenths = Fraction(abs(delta) * 1000, old)
    rounded = int(tenths + Fraction(1, 2))
    sign = "+" if delta > 0 else "-"
    return f"{sign}<0.1%" if rounded == 0 else f"{sign}{rounded // 10}.{rounded % 10}%"


def total_cells(data: dict[str, Any]) -> list[tuple[str, dict[str, list[str]]]]:
    rows = []
    for label, metric in TOTAL_ROWS:
        total = data["totals"][metric]
        if metric.endswith("_shape"):
            cells = {"Old": [" x ".join(map(str, total["old"]))], "New": [" x ".join(map(str, total["new"]))]}
            if total["old"] != total["new"]:
                cells["Delta"] = ["changed"]
        else:
            text = byte_figure if metric.endswith("bytes") else figure
            cells = {"Old": text(total["old"]), "New": text(total["new"])}
            sign = "+" if total["delta"] > 0 else "-" if total["delta"] < 0 else ""
            cells["Delta"] = [sign + text(abs(total["delta"]))[0]]
            change = change_text(total["old"], total["delta"])
            if change:
                cells["Change"] = [change]
                if total["percent"] is not None and "<" not in change:
                    assert abs(float(change[:-1]) - total["percent"]) <= 0.05 + 1e-9
        rows.append((label, cells))
    return rows


def check_diff(text: str, data: dict[str, Any], width: int | None, render: Any) -> None:
    check_lines(text, width)
    lines = text.split("\n")[:-1]
    end = 1 + next(i for i, line in enumerate(lines[1:] + [""]) if not line.startswith("  "))
    title, rest = lines[:end], lines[end:]
    old, new = data["old"], data["new"]
    assert squeeze(" ".join(title)) == squeeze(f"{old['name']}  ({old['file']})  ->  {new['name']}  ({new['file']})")
    rows = diff_rows(data)
    if rows:
        assert rest[0] == ""
        body, rest = cut(rest[1:])
        notes = logical(rest[: rest.index("")])
        if is_table(body):
            headers = body[0].split()
            assert "Params" in headers and "MACs" in headers
            check_table_rows(body, headers, rows)
            missing = [h for h in DIFF_HEADERS if h not in headers]
            if missing:
                check_note(notes.pop(0), missing, render)
        else:
            check_records(body, [(first.strip(), cells) for first, cells in rows], DIFF_HEADERS)
            assert notes.pop(0).startswith("One record per row")
        assert notes[0].startswith("RF: receptive field size")
    else:
        notes = logical(rest[: rest.index("")])
    counts = data["counts"]
    expected_counts = f"Layers: {counts['changed']} changed, {counts['added']} added, {counts['removed']} removed"
    assert squeeze(notes[-1]).startswith(expected_counts)
    totals_title, totals = cut(rest[rest.index("") + 1 :])
    assert squeeze(" ".join(totals_title)).startswith("Totals (batch ")
    body, after = cut(totals)
    expected = total_cells(data)
    if is_table(body):
        headers = body[0].split()
        assert headers[:4] == TOTAL_HEADERS[:4]
        check_table_rows(body, headers, [(label, cells) for label, cells in expected])
        if headers != TOTAL_HEADERS:
            check_note(logical(after)[0], ["Change"], render)
    else:
        check_records(body, expected, TOTAL_HEADERS)
        assert logical(after)[0].startswith("One record per total")


@pytest.mark.parametrize("pair", DIFF_PAIRS, ids=lambda pair: f"{pair[0]}-{Path(pair[1]).name}")
def test_diff_at_every_width(pair: tuple[str, str]) -> None:
    comparison = compare(report(pair[0]), report(pair[1]))
    for show_all in (False, True):
        data = diff_dict(comparison, show_all)

        def render(screen: Screen, show_all: bool = show_all) -> str:
            return render_diff(comparison, False, show_all, screen)

        for width in WIDTHS + MORE_WIDTHS:
            check_diff(render(Screen(width)), data, width, render)


def test_diff_of_a_spec_with_itself_lists_no_rows() -> None:
    comparison = compare(report("lenet5.yaml"), report("lenet5.yaml"))
    for width in WIDTHS:
        check_diff(
            render_diff(comparison, False, False, Screen(width)),
            diff_dict(comparison, False),
            width,
            lambda s: render_diff(comparison, False, False, s),
        )


# -- as users run it -------------------------------------------------------------------------------------------


def summary_json(spec: str, *args: str) -> dict[str, Any]:
    data = json.loads(run_cli("summary", spec, *args, "--format", "json").out)
    data["warnings"] = report(Path(spec).name).warnings
    return data


def cli_render(spec: str, *args: str) -> Any:
    return lambda screen: run_cli("summary", spec, *args, "--width", str(screen.width or 0)).out


@pytest.mark.parametrize(
    "env, args, width",
    [
        ({"COLUMNS": "60"}, ("--batch", "1024"), 60),
        ({"COLUMNS": "40"}, (), 40),
        ({"COLUMNS": "1"}, (), 1),
        ({"COLUMNS": "200"}, ("--width", "20"), 20),
    ],
)
def test_columns_and_width_from_the_command_line(env: dict[str, str], args: tuple[str, ...], width: int) -> None:
    spec = "specs/vgg16.yaml"
    result = run_cli("summary", spec, *args, env=env)
    assert result.code == 0 and result.err == ""
    batch = args if args[:1] == ("--batch",) else ()
    check_summary(result.out, summary_json(spec, *batch), width, cli_render(spec, *batch))


def test_columns_zero_and_pipes_print_the_whole_table_unwrapped() -> None:
    spec = "specs/resnet50.yaml"
    unset = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = run_cli("summary", spec, env={"COLUMNS": "0"})
    assert piped.code == 0 and piped.out
    data = summary_json(spec)
    check_summary(piped.out, data, None, cli_render(spec))
    in_process = render_tables([report("resnet50.yaml")], False, Screen(None))
    assert piped.out.split("\n")[1:] == in_process.split("\n")[1:]  # the title names the file as given
    assert max(len(line) for line in piped.out.splitlines()) > 80  # not wrapped at 80: logs and grep see rows
    assert "Weight" in piped.out.splitlines()[2]
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", "summary", spec],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**unset, "NO_COLOR": "1"},
        timeout=120,
    )
    assert done.stdout == piped.out
    assert run_cli("summary", spec, "--width", "0", env={"COLUMNS": "30"}).out == piped.out


def test_the_issues_examples_from_the_command_line() -> None:
    vgg = run_cli("summary", "specs/vgg16.yaml", "--batch", "1024", env={"COLUMNS": "60"}).out
    assert "88,785,027,072" in vgg
    resnet = run_cli("summary", "specs/resnet50.yaml", env={"COLUMNS": "60"}).out
    # ResNet-50's names are too long for a table at 60 columns: one record per layer, the RF whole.
    assert "\nconv1\n  Kind    Conv2d k7 s2 p3\n" in resnet
    assert "\n  MACs    118,013,952\n  RF      7 / 2 / 3\nbn1\n" in resnet
    narrow = run_cli("summary", "specs/resnet50.yaml", env={"COLUMNS": "40"}).out
    for layer in summary_json("specs/resnet50.yaml")["layers"]:
        assert f"\n{layer['name']}\n" in narrow


def test_verify_and_diff_take_width_too() -> None:
    result = run_cli("verify", "specs/lenet5.yaml", "--width", "30")
    assert result.code == 0
    data = json.loads(run_cli("verify", "specs/lenet5.yaml", "--format", "json").out)
    check_verify(
        result.out, data, 30, lambda screen: run_cli("verify", "specs/lenet5.yaml", "--width", str(screen.width)).out
    )
    old, new = "specs/lenet5.yaml", "tests/fixtures/lenet5_wide.yaml"
    result = run_cli("diff", old, new, "--width", "45", env={"COLUMNS": "200"})
    data = json.loads(run_cli("diff", old, new, "--format", "json").out)
    check_diff(result.out, data, 45, lambda screen: run_cli("diff", old, new, "--width", str(screen.width)).out)


def test_no_color_leaves_no_escape_codes_and_colour_needs_a_terminal() -> None:
    for command in (("summary", "specs/lenet5.yaml"), ("diff", "specs/lenet5.yaml", "specs/lenet5_bn.yaml")):
        assert "\x1b[" not in run_cli(*command, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).out
        assert "\x1b[" not in run_cli(*command, env={"NO_COLOR": ""}).out  # a pipe
        assert "\x1b[" in run_cli(*command, env={"FORCE_COLOR": "1", "NO_COLOR": ""}).out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_on_a_terminal_the_table_fits_it_and_is_coloured() -> None:
    def on_terminal(columns: int, **env: str) -> str:
        code, out = terminal.on_terminal(["summary", "specs/resnet18.yaml"], columns, **env)
        assert code == 0
        return out

    colored = on_terminal(50)
    assert "\x1b[" in colored
    plain = ANSI.sub("", colored)
    assert max(len(line) for line in plain.splitlines()) <= 50
    assert "\x1b[" not in on_terminal(50, NO_COLOR="1")
    assert ANSI.sub("", on_terminal(50, NO_COLOR="1")) == plain


# -- Markdown --------------------------------------------------------------------------------------------------


def test_markdown_escapes_what_specs_write(tmp_path: Path) -> None:
    spec = tmp_path / "odd.yaml"
    spec.write_text(
        'name: "<b>bold</b> | *x* _y_ [z](u) #"\ninput: [1, 8, 8]\nlayers:\n'
        "  - conv2d: {out_channels: 2, kernel_size: 3, name: conv_1}\n"
    )
    result = run_cli("summary", str(spec), "--format", "markdown")
    assert result.code == 0
    assert "<b>" not in result.out and "&lt;b>bold&lt;/b>" in result.out
    assert result.out.splitlines()[0] == r"### &lt;b>bold&lt;/b> \| \*x\* \_y\_ \[z\](u) \#"
    assert "| conv_1 |" in result.out  # an underscore inside a word stays as written
    for line in result.out.splitlines():
        assert line == line.rstrip()
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 8  # seven columns: no cell splits
    diff = run_cli("diff", str(spec), "specs/lenet5.yaml", "--format", "markdown")
    assert diff.code == 0 and "<b>" not in diff.out
    assert "&lt;b>bold&lt;/b> \\| \\*x\\*" in diff.out


# -- the other commands' text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("kinds",),
        ("check", "specs/"),
        ("lint", "specs/"),
        ("explain", "specs/lenet5_bn.yaml"),
        ("layer", "conv2d", "--input", "3x32x32", "out_channels=10", "kernel_size=5"),
        ("run", "specs/cross_kernel.yaml", "--input", "specs/inputs/cross_kernel_image.yaml"),
        ("fuse", "specs/lenet5_bn.yaml", "-o", "-"),
    ],
)
def test_no_line_ends_in_a_space(command: tuple[str, ...]) -> None:
    for columns in ("0", "40"):
        result = run_cli(*command, env={"COLUMNS": columns})
        assert result.code in (0, 1), result.err
        for line in (result.out + result.err).splitlines():
            assert line == line.rstrip(), f"{command}: {line!r}"


def test_check_text_shows_the_json_figures_whole() -> None:
    text = run_cli("check", "specs/mobilenet_v2.yaml", env={"COLUMNS": "40"}).out
    data = json.loads(run_cli("check", "specs/mobilenet_v2.yaml", "--format", "json").out)
    for budget in data["specs"][0]["budgets"]:
        if isinstance(budget["measured"], int):
            assert f"{budget['measured']:,}" in text
