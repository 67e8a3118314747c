"""Exact MACs per second of the reference executor on LeNet-5, against the pure-Python ceiling measured in the same
run: the same inner products (same count, same lengths) as plain sum(map(operator.mul, a, b)) over int lists.

    python benchmarks/bench_executor.py [--repeats 5]

Goal: the executor reaches at least half the ceiling, so LeNet-5 (6,522,000 MACs) runs exactly in well under a
second. Prints PASS or MISS; exits 0 either way (a MISS is a finding, not a failure).
"""

from __future__ import annotations

import argparse
import operator
import random
import statistics
import time
from pathlib import Path

from cnncalc.analyze import analyze
from cnncalc.compute import Context
from cnncalc.execute import execute, generated_input, weights_for
from cnncalc.spec import load_spec

SPEC = Path(__file__).resolve().parent.parent / "specs" / "lenet5.yaml"


def inner_products(graph) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """(length, count) of the inner products each conv/linear layer performs, from the analyzer's figures."""
    shapes = []
    for row in analyze(graph).rows:
        if row.macs:
            outputs = 1
            for size in row.output_shape:
                outputs *= size
            shapes.append((row.macs // outputs, outputs))
    return shapes


def ceiling_seconds(shapes: list[tuple[int, int]]) -> float:
    rng = random.Random(0)
    mul = operator.mul
    lists = {
        length: ([rng.randint(-3, 3) for _ in range(length)], [rng.randint(-3, 3) for _ in range(length)])
        for length, _ in shapes
    }
    start = time.perf_counter()
    for length, count in shapes:
        a, b = lists[length]
        for _ in range(count):
            sum(map(mul, a, b))
    return time.perf_counter() - start


def executor_seconds(graph, seed: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    weights = weights_for(graph, seed)
    x = generated_input((1, *graph.input_shape), seed)
    ctx = Context()
    start = time.perf_counter()
    execute(graph, x, weights, ctx)
    return time.perf_counter() - start, ctx.macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    graph = load_spec(str(SPEC))
    graph.batch = 1
    shapes = inner_products(graph)
    ceiling, executor, macs = [], [], 0
    for _ in range(args.repeats):  # interleaved, so a change in load moves both alike
        ceiling.append(ceiling_seconds(shapes))
        seconds, macs = executor_seconds(graph, 0)
        executor.append(seconds)
    c, e = statistics.median(ceiling), statistics.median(executor)
    print(f"LeNet-5 forward, exact: {macs:,} MACs counted")
    print(f"  pure-Python ceiling (same inner products): {c * 1000:.0f} ms = {macs / c / 1e6:.1f} M MACs/s")
    print(f"  executor: {e * 1000:.0f} ms = {macs / e / 1e6:.1f} M MACs/s")
    ratio = c / e
    print(f"  {'PASS' if ratio >= 0.5 else 'MISS'}  executor / ceiling: {ratio:.2f}   (goal: >= 0.5)")
    print(f"  {'PASS' if e < 1 else 'MISS'}  LeNet-5 exactly in {e:.2f} s   (goal: well under 1 s)")


if __name__ == "__main__":
    main()
