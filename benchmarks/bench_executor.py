"""The reference executor's speed, each figure a ratio of paired runs measured interleaved in the same process.

    python benchmarks/bench_executor.py [--repeats 5]     # a minute or two

1. Exact MACs per second on LeNet-5, against the pure-Python ceiling: the same inner products (same count, same
   lengths) as plain sum(map(operator.mul, a, b)) over int lists. Goal: at least half the ceiling, so LeNet-5
   (6,522,000 MACs) runs exactly in well under a second.
2. Exponentials: four 3x3 convs then a Sigmoid (2.4 M MACs, values near 1e6: exp of them used to become ratios of
   hundreds of thousands of digits, 62 s), against the same network with a ReLU instead. Goal: the Sigmoid adds at
   most as much as the convs take (ratio <= 2), the whole in about a second.
3. EfficientNet-B0 (specs/efficientnet_b0.yaml: MBConv with squeeze-and-excitation, SiLU, Sigmoid,
   BatchNorm) verified at 3x32x32, against the same network with ReLU for SiLU and Hardsigmoid for Sigmoid. Goal:
   seconds, and the 40-digit activations at most 3x the exact ones.
4. One sigmoid at arguments of growing size (-1e3, -1e6, 1e6 + 1/7), against sigmoid(1/3), and at a value written
   with 100,000-digit integers, against one integer division of them (reading it cannot take less). Goal: each at
   most 3x: the time does not grow with the argument's size.

Prints PASS or MISS per goal; exits 0 either way (a MISS is a finding, not a failure).
"""

from __future__ import annotations

import argparse
import operator
import random
import statistics
import time
from fractions import Fraction
from pathlib import Path

from cnncalc.analyze import analyze
from cnncalc.budget import Budget
from cnncalc.compute import Context
from cnncalc.execute import execute, generated_input, weights_for
from cnncalc.layers.activation import sigmoid
from cnncalc.runner import verify
from cnncalc.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "lenet5.yaml"
EFFICIENTNET = ROOT / "specs" / "efficientnet_b0.yaml"
CONVS_THEN = """name: convs_then_{last}
input: [16, 16, 16]
layers:
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - {last}
"""


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


def paired(first, second, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median seconds of two callables, run interleaved (A, B, A, B, ...) so that load moves both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for call, spent in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            call()
            spent.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def lenet(repeats: int) -> None:
    graph = load_spec(str(SPEC))
    graph.batch = 1
    shapes = inner_products(graph)
    ceiling, executor, macs = [], [], 0
    for _ in range(repeats):  # interleaved, so a change in load moves both alike
        ceiling.append(ceiling_seconds(shapes))
        seconds, macs = executor_seconds(graph, 0)
        executor.append(seconds)
    c, e = statistics.median(ceiling), statistics.median(executor)
    print(f"1. LeNet-5 forward, exact: {macs:,} MACs counted")
    print(f"  pure-Python ceiling (same inner products): {c * 1000:.0f} ms = {macs / c / 1e6:.1f} M MACs/s")
    print(f"  executor: {e * 1000:.0f} ms = {macs / e / 1e6:.1f} M MACs/s")
    ratio = c / e
    print(f"  {verdict(ratio >= 0.5)}  executor / ceiling: {ratio:.2f}   (goal: >= 0.5)")
    print(f"  {verdict(e < 1)}  LeNet-5 exactly in {e:.2f} s   (goal: well under 1 s)")


def exponentials(repeats: int) -> None:
    graphs = [parse_spec(CONVS_THEN.format(last=last), f"{last}.yaml") for last in ("sigmoid", "relu")]
    budget = Budget(10**9, 10**9)
    with_sigmoid, with_relu = paired(
        *(lambda g=g: verify(g, 0, "eval", budget) for g in graphs),  # type: ignore[misc]
        repeats=repeats,
    )
    macs = analyze(graphs[0]).totals.macs
    print(f"2. four 3x3 convs ({macs:,} MACs) then Sigmoid, verified: {with_sigmoid:.2f} s")
    print(f"  the same convs then ReLU: {with_relu:.2f} s")
    ratio = with_sigmoid / with_relu
    print(f"  {verdict(ratio <= 2)}  Sigmoid / ReLU: {ratio:.2f}   (goal: <= 2)")
    print(f"  {verdict(with_sigmoid <= 1.5)}  with Sigmoid in {with_sigmoid:.2f} s   (goal: about 1 s; was 62 s)")


def efficientnet(repeats: int) -> None:
    text = EFFICIENTNET.read_text(encoding="utf-8")
    # Exact stand-ins: ReLU for SiLU, and Hardsigmoid for the gate's Sigmoid (a ReLU gate would not be bounded, and
    # the values would grow without limit through the squeeze-and-excitation products).
    relu = text.replace("silu:", "relu:").replace("sigmoid:", "hardsigmoid:")
    graphs = [parse_spec(t, str(EFFICIENTNET)) for t in (text, relu)]
    budget = Budget(10**9, 10**9)
    for graph in graphs:
        graph.input_shape = (3, 32, 32)
        from cnncalc.graph import infer_shapes

        infer_shapes(graph)
    exact_activations, relus = paired(
        *(lambda g=g: verify(g, 0, "eval", budget) for g in graphs),  # type: ignore[misc]
        repeats=max(1, repeats // 2),
    )
    print(f"3. EfficientNet-B0 at 3x32x32 verified: {exact_activations:.2f} s")
    print(f"  with ReLU and Hardsigmoid instead: {relus:.2f} s")
    ratio = exact_activations / relus
    print(f"  {verdict(ratio <= 3)}  SiLU and Sigmoid / ReLU and Hardsigmoid: {ratio:.2f}   (goal: <= 3)")
    print(f"  {verdict(exact_activations <= 10)}  in {exact_activations:.2f} s   (goal: seconds; was over 5 minutes)")


def argument_sizes(repeats: int) -> None:
    calls = 2000
    small = Fraction(1, 3)
    print(f"4. sigmoid(x), {calls} calls, against sigmoid(1/3):")
    arguments = (("-1e3", Fraction(-1000)), ("-1e6", Fraction(-(10**6))), ("1e6 + 1/7", Fraction(7 * 10**6 + 1, 7)))
    for label, value in arguments:
        large, reference = paired(
            lambda v=value: [sigmoid(v) for _ in range(calls)],  # type: ignore[misc]
            lambda: [sigmoid(small) for _ in range(calls)],
            repeats=repeats,
        )
        print(f"  {verdict(large / reference <= 3)}  x = {label}: {large / reference:.2f}x   (goal: <= 3)")
    # A value written with 100,000-digit integers cannot be read in constant time: against one division of them.
    huge = 10**100_000
    value = Fraction(-3 * huge - 1, huge)
    large, floor = paired(
        lambda: sigmoid(value),
        lambda: value.numerator * 10**60 // value.denominator,
        repeats=repeats,
    )
    ratio = large / floor
    print(f"  {verdict(ratio <= 3)}  x = (-3*10^100000 - 1) / 10^100000: {ratio:.2f}x one division (goal: <= 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    lenet(args.repeats)
    exponentials(args.repeats)
    efficientnet(args.repeats)
    argument_sizes(args.repeats)


if __name__ == "__main__":
    main()
