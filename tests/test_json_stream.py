"""The JSON report written piece by piece (render.json_report.write_json) is the text of its dicts
(object_text(report_dict(...))), byte for byte: for every spec, layout, depth, with and without training figures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cnncalc.analyze import analyze
from cnncalc.render.json_report import object_text, render_json, report_dict, write_json
from cnncalc.spec import load_spec, parse_spec
from cnncalc.tree import block_tree

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

NESTED = """
input: [4, 8, 8]
blocks:
  unit:
    layers:
      - conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: conv}
      - batchnorm2d
      - relu
  group:
    params: {n: 1}
    layers:
      - unit: {repeat: $n, name: units}
      - maxpool2d: {kernel_size: 2, stride: 1}
layers:
  - group: {n: 3, repeat: 2, name: "g"}
  - conv2d: {out_channels: 4, kernel_size: 2, stride: 2, name: "q\\u00e9x"}
  - avgpool2d: {kernel_size: 2, name: tail, inputs: [g]}
  - convtranspose2d: {out_channels: 4, kernel_size: 2, stride: 2, inputs: [g]}  # fields of "p/q" values
  - conv2d: {out_channels: 4, kernel_size: 3}
"""


def reference(reports, trees, depth) -> str:  # type: ignore[no-untyped-def]
    texts = [object_text(report_dict(r, t, depth)) for r, t in zip(reports, trees, strict=True)]
    return texts[0] if len(texts) == 1 else "[\n" + ",\n".join(texts) + "\n]"


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_streamed_json_is_the_text_of_the_dicts(path: Path) -> None:
    graph = load_spec(str(path), batch=2)  # training BatchNorm needs a batch of 2
    for optimizer, layout, dtype in ((None, None, "float32"), ("adam", "hwc", "float16")):
        report = analyze(graph, dtype=dtype, layout=layout, optimizer=optimizer)
        tree = block_tree(graph, report)
        for depth in (None, 0, 1, 2, 3):
            assert render_json([report], [tree], depth) == reference([report], [tree], depth)
        assert render_json([report]) == object_text(report_dict(report))


def test_nested_blocks_odd_names_and_several_reports() -> None:
    graph = parse_spec(NESTED, "<nested>")
    reports = [analyze(graph), analyze(graph, optimizer="sgd")]
    trees = [block_tree(graph, r) for r in reports]
    for depth in (None, 1, 2, 3, 4):
        assert render_json(reports, trees, depth) == reference(reports, trees, depth)
    out = io.StringIO()
    write_json(out, reports[:1], trees[:1])
    assert out.getvalue() == reference(reports[:1], trees[:1], None)
    assert '"q\\u00e9x"' in out.getvalue()  # a non-ASCII name escaped as json.dumps escapes it
    assert '"stride": ["1/2", "1/2"]' in out.getvalue()


def test_many_layers_cross_the_write_chunks() -> None:
    spec = "input: [2, 4, 4]\nlayers:\n" + "  - relu\n  - conv2d: {out_channels: 2, kernel_size: 1}\n" * 2100
    graph = parse_spec(spec, "<long>")
    report = analyze(graph)
    tree = block_tree(graph, report)
    assert render_json([report], [tree]) == reference([report], [tree], None)
