"""Commands that try the spec at another input size expand it again: a value computed from a shape name
(`$in_height`) follows the new size instead of keeping the old one's figure."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from cnncalc.spec import at_input, load_spec

SPEC = """input: [3, 16, 16]
layers:
  - conv2d: {out_channels: $in_height, kernel_size: 3}
  - batchnorm2d
"""


def test_at_input_expands_again(tmp_path: Path) -> None:
    path = tmp_path / "grow.yaml"
    path.write_text(SPEC, encoding="utf-8")
    graph = load_spec(str(path))
    smaller = at_input(graph, (3, 8, 8))
    assert smaller.nodes[0].bound().out_shape == (8, 6, 6)
    assert graph.nodes[0].bound().out_shape == (16, 14, 14)  # the first graph is left as it was
    direct = load_spec(str(path), input_shape=(3, 8, 8))
    assert [n.bound().out_shape for n in smaller.nodes] == [n.bound().out_shape for n in direct.nodes]


def test_fuse_at_another_input_reads_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "grow.yaml"
    path.write_text(SPEC, encoding="utf-8")
    result = run_cli("fuse", str(path), "--input", "3x8x8", "-o", "-")
    assert result.code == 0, result.err
    assert "input: [3, 8, 8]" in result.out
    assert "out_channels: 8," in result.out  # $in_height at 8, not the spec's 16
