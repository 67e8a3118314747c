"""docs/tools-disagree.md, "Backward pass: grouped convolutions in FlopCounterMode": every figure of its table is
cnncalc's backward_macs and FlopCounterMode's own (uncorrected) backward count / 2, measured here; and the
correction the training tests apply is exactly that FlopCounterMode forgets groups in the weight gradient."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from cnncalc.spec import load_spec, parse_spec
from cnncalc.training import training

torch = pytest.importorskip("torch")
from training_torch import counter, train_graph  # noqa: E402

DOC = ROOT / "docs" / "tools-disagree.md"
DEPTHWISE = "input: [8, 16, 16]\nlayers:\n  - conv2d: {out_channels: 8, kernel_size: 3, padding: 1, groups: 8}\n"


def table() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    part = text.split("## Backward pass: grouped convolutions in FlopCounterMode", 1)[1].split("\n## ", 1)[0]
    return [
        [cell.strip() for cell in line.strip("|").split("|")] for line in part.splitlines() if line.startswith("| ")
    ][1:]


def measured(graph: object, input_grad: bool) -> tuple[int, int]:
    """FlopCounterMode's backward count / 2 as it is, and with the weight gradient divided by groups."""
    net = train_graph(graph)
    x = torch.randn((graph.batch, *graph.input_shape)).requires_grad_(input_grad)  # type: ignore[attr-defined]
    figures = []
    for corrected in (False, True):
        out = net(x)[graph.output]  # type: ignore[attr-defined]
        with counter(corrected) as mode:
            out.backward(torch.ones_like(out))
        figures.append(mode.get_total_flops() // 2)
    return figures[0], figures[1]


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.mark.parametrize("row", table(), ids=[row[0] for row in table()])
def test_table_row_is_measured(row: list[str]) -> None:
    case, ours_shown, theirs_shown, factor = row
    if case.startswith("depthwise"):
        graph, input_grad = parse_spec(DEPTHWISE), True
    else:
        graph, input_grad = load_spec(str(ROOT / "specs" / f"{case.split()[0]}.yaml")), False
    ours = training(graph, 4, input_grad=input_grad).backward_macs
    theirs, corrected = measured(graph, input_grad)
    assert (number(ours_shown), number(theirs_shown)) == (ours, theirs)
    assert corrected == ours
    assert factor == f"{round(theirs / ours, 2)}x" or factor == f"{theirs / ours:.1f}x"


def test_every_shipped_grouped_network_is_in_the_table() -> None:
    shown = {row[0].split()[0] for row in table()}
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        graph = load_spec(str(path))
        if any(getattr(node.bound(), "groups", 1) > 1 for node in graph.nodes):
            assert path.stem in shown, path.stem


def test_prose_figures() -> None:
    assert re.search(
        r"8 x 16 x 16 x 9 multiply-accumulates, one per forward tap, and\s+FlopCounterMode counts 8 times",
        DOC.read_text(),
    )
