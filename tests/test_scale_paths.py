"""The fast paths behind large specs and the executor give what the plain ones give: packed inner products equal
plain ones, bulk-drawn weights come from the same sets, and loading, analyzing, the block tree and the JSON leave no
garbage cycles (cnncalc.speed.paused_gc relies on it: what a paused build keeps is promoted, not scanned)."""

from __future__ import annotations

import gc
import random
from collections import Counter
from operator import mul
from pathlib import Path

import pytest

from cnncalc.analyze import analyze
from cnncalc.compute import Context, PackedRows
from cnncalc.layers.base import SMALL, draw
from cnncalc.render.json_report import render_json
from cnncalc.spec import load_spec
from cnncalc.tree import block_tree

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("spread", [128, 1000])  # weights of one byte (laid out in C), and others
@pytest.mark.parametrize(
    ("count", "length", "largest"),
    [(1, 5, 3), (7, 25, 3), (50, 500, 10**6), (130, 9, 2**70), (3, 0, 5), (64, 3, 0), (65, 4, 1)],
)
def test_packed_rows_give_the_plain_inner_products(count: int, length: int, largest: int, spread: int) -> None:
    rng = random.Random(count * 1000 + length)
    rows = [[rng.randint(-spread, min(spread, 127)) for _ in range(length)] for _ in range(count)]
    if length:
        rows[0][0] = -spread  # the extremes too
    packed = PackedRows(rows, largest)
    for _ in range(5):
        xs = [rng.randint(-largest, largest) for _ in range(length)]
        if length:
            xs[0] = -largest
        ctx = Context()
        assert ctx.dots(xs, packed) == [sum(map(mul, xs, row)) for row in rows]
        assert ctx.macs == count * length


def test_bulk_draws_are_uniform_over_their_set_and_seeded() -> None:
    for values in (SMALL, range(1, 5), (-2, -1, 1, 2), (7,)):
        drawn = draw(random.Random("1:conv:weight"), values, 20_000)
        assert len(drawn) == 20_000 and set(drawn) == set(values)
        expected = 20_000 / len(values)
        assert all(abs(n - expected) < 5 * expected**0.5 for n in Counter(drawn).values())
        assert drawn == draw(random.Random("1:conv:weight"), values, 20_000)
    assert draw(random.Random(0), SMALL, 0) == []


@pytest.mark.parametrize("name", ["resnet50", "unet", "efficientnet_b0", "mobilenet_v3_small"])
def test_building_leaves_no_garbage_cycles(name: str) -> None:
    def build() -> None:
        graph = load_spec(str(ROOT / "specs" / f"{name}.yaml"))
        report = analyze(graph)
        render_json([report], [block_tree(graph, report)])

    build()  # a first build may import modules lazily, and an import can leave cycles of its own: not ours
    gc.collect()
    build()
    assert gc.collect() == 0
