"""The reference executor's speed: each figure from paired, interleaved runs (benchmarks/paired.py).

    python benchmarks/bench_executor.py [--quick]     # a minute or two

1. LeNet-5's exact forward pass against its real ceiling: the very inner products the executor computes, on the very
   operand lists it multiplies (recorded from a run: seeded weights and input, and the layers' outputs), replayed as
   plain sum(map(operator.mul, xs, ws)). Goal: the executor at least 0.8 of the ceiling. Weight and input generation
   are timed apart and printed (no goal here: the cold `run` below includes them).
2. A cold `cnncalc run specs/lenet5.yaml --seed 1` (stdout a pipe), CPU time, paired with the import floor
   `python -c "import typer, yaml"`. Goal: at most 0.25 s CPU.
3. Exponentials: four 3x3 convs then a Sigmoid (2.4 M MACs, values near 1e6: exp of them used to become ratios of
   hundreds of thousands of digits, 62 s), against the same network with a ReLU instead. Goal: the Sigmoid adds at
   most as much as the convs take (ratio <= 2), the whole in about a second.
4. EfficientNet-B0 (specs/efficientnet_b0.yaml: MBConv with squeeze-and-excitation, SiLU, Sigmoid,
   BatchNorm) verified at 3x32x32, against the same network with ReLU for SiLU and Hardsigmoid for Sigmoid. Goal:
   seconds, and the 40-digit activations at most 3x the exact ones.
5. One sigmoid at arguments of growing size (-1e3, -1e6, 1e6 + 1/7), against sigmoid(1/3), and at a value written
   with 100,000-digit integers, against one integer division of them (reading it cannot take less). Goal: each at
   most 3x: the time does not grow with the argument's size.

Prints PASS or MISS per goal; exits 0 either way (a MISS is a finding, not a failure).
"""

from __future__ import annotations

import argparse
import operator
import statistics
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import PYTHON, ROOT, Result, announce, header, ms, paired_calls, paired_cold, print_results  # noqa: E402

sys.path.insert(0, str(ROOT))

from cnncalc.analyze import analyze  # noqa: E402
from cnncalc.budget import Budget  # noqa: E402
from cnncalc.compute import Context, PackedRows  # noqa: E402
from cnncalc.execute import execute, generated_input, weights_for  # noqa: E402
from cnncalc.graph import infer_shapes  # noqa: E402
from cnncalc.layers.activation import sigmoid  # noqa: E402
from cnncalc.runner import verify  # noqa: E402
from cnncalc.spec import load_spec, parse_spec  # noqa: E402

SPEC = ROOT / "specs" / "lenet5.yaml"
EFFICIENTNET = ROOT / "specs" / "efficientnet_b0.yaml"
CEILING_GOAL = 0.8
COLD_RUN_GOAL_S = 0.25
CONVS_THEN = """name: convs_then_{last}
input: [16, 16, 16]
layers:
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1}}
  - {last}
"""


class Recording(Context):
    """A Context that keeps every inner product's operand lists (the same list objects the executor multiplies)."""

    def __init__(self) -> None:
        super().__init__()
        self.operands: list[tuple[list[int], list[int]]] = []

    def dot(self, xs: list[int], ws: list[int]) -> int:
        self.operands.append((xs, ws))
        return super().dot(xs, ws)

    def dots(self, xs: list[int], rows: PackedRows) -> list[int]:
        # The executor takes these inner products together (Kronecker substitution); the ceiling takes them one
        # by one, as a plain executor would.
        self.operands.extend((xs, row) for row in rows.rows)
        return super().dots(xs, rows)


def lenet(pairs: int) -> list[Result]:
    graph = load_spec(str(SPEC))
    graph.batch = 1
    seed = 1

    def generate() -> tuple[Any, Any]:
        return weights_for(graph, seed), generated_input((1, *graph.input_shape), seed)

    weights, x = generate()
    recording = Recording()
    execute(graph, x, weights, recording)
    operands = recording.operands
    recorded = sum(len(xs) for xs, _ in operands)
    if recorded != recording.macs:
        raise SystemExit(f"recorded {recorded:,} multiplies, the executor counted {recording.macs:,}")
    mul = operator.mul

    def ceiling() -> None:
        for xs, ws in operands:
            sum(map(mul, xs, ws))

    def forward() -> None:
        execute(graph, x, weights, Context())

    print(
        f"  LeNet-5, seed {seed}: {recording.macs:,} MACs in {len(operands):,} inner products; "
        f"the ceiling replays them on the recorded operands (A) against the executor's forward (B)"
    )
    pairing = paired_calls(ceiling, forward, pairs)
    print(pairing.describe("ceiling sum(map(mul, xs, ws))", "execute()"))
    generation = paired_calls(generate, forward, max(3, pairs // 2))
    gen, fwd = statistics.median(generation.a), statistics.median(generation.b)
    print(
        f"      weights and input generation: {ms(gen)} CPU, {gen / (gen + fwd) * 100:.0f}% of generation + "
        f"forward ({ms(gen + fwd)}); not in the ratio, in the cold `run` below"
    )
    forward_s = statistics.median(pairing.b)
    return [
        announce(Result.at_least("LeNet-5 forward: real ceiling / executor", pairing.ratio, CEILING_GOAL)),
        announce(Result.at_most("LeNet-5 forward, exact (CPU)", forward_s, 1.0, " s")),
    ]


def cold_run(pairs: int) -> list[Result]:
    run = [PYTHON, "-m", "cnncalc", "run", str(SPEC), "--seed", "1"]
    floor = [PYTHON, "-c", "import typer, yaml"]
    print("  cold `cnncalc run specs/lenet5.yaml --seed 1` (A) against cold `python -c 'import typer, yaml'` (B)")
    pairing = paired_cold(run, floor, pairs)
    print(pairing.describe("run lenet5", "import typer, yaml"))
    cpu = statistics.median(pairing.a)
    what = f"cold run specs/lenet5.yaml --seed 1 (CPU; {pairing.ratio:.1f}x the floor)"
    return [announce(Result.at_most(what, cpu, COLD_RUN_GOAL_S, " s"))]


def exponentials(pairs: int) -> list[Result]:
    graphs = [parse_spec(CONVS_THEN.format(last=last), f"{last}.yaml") for last in ("sigmoid", "relu")]
    budget = Budget(10**9, 10**9)
    macs = analyze(graphs[0]).totals.macs
    print(f"  four 3x3 convs ({macs:,} MACs) then Sigmoid (A) against then ReLU (B), verified")
    pairing = paired_calls(*(lambda g=g: verify(g, 0, "eval", budget) for g in graphs), pairs)  # type: ignore[misc]
    print(pairing.describe("then Sigmoid", "then ReLU"))
    with_sigmoid = statistics.median(pairing.a)
    return [
        announce(Result.at_most("convs then Sigmoid / then ReLU, verified", pairing.ratio, 2.0)),
        announce(Result.at_most("convs then Sigmoid, verified (CPU; was 62 s)", with_sigmoid, 1.5, " s")),
    ]


def efficientnet(pairs: int) -> list[Result]:
    text = EFFICIENTNET.read_text(encoding="utf-8")
    # Exact stand-ins: ReLU for SiLU, and Hardsigmoid for the gate's Sigmoid (a ReLU gate would not be bounded, and
    # the values would grow without limit through the squeeze-and-excitation products).
    relu = text.replace("silu:", "relu:").replace("sigmoid:", "hardsigmoid:")
    graphs = [parse_spec(t, str(EFFICIENTNET)) for t in (text, relu)]
    budget = Budget(10**9, 10**9)
    for graph in graphs:
        graph.input_shape = (3, 32, 32)
        infer_shapes(graph)
    print("  EfficientNet-B0 at 3x32x32 verified (A) against ReLU and Hardsigmoid instead (B)")
    pairing = paired_calls(*(lambda g=g: verify(g, 0, "eval", budget) for g in graphs), pairs)  # type: ignore[misc]
    print(pairing.describe("SiLU and Sigmoid", "ReLU and Hardsigmoid"))
    return [
        announce(Result.at_most("EfficientNet-B0: SiLU, Sigmoid / ReLU, Hardsigmoid", pairing.ratio, 3.0)),
        announce(Result.at_most("EfficientNet-B0 at 3x32x32, verified (CPU)", statistics.median(pairing.a), 10, " s")),
    ]


def argument_sizes(pairs: int) -> list[Result]:
    calls = 2000
    small = Fraction(1, 3)
    out = []
    print(f"  sigmoid(x), {calls} calls (A), against sigmoid(1/3) (B)")
    arguments = (("-1e3", Fraction(-1000)), ("-1e6", Fraction(-(10**6))), ("1e6 + 1/7", Fraction(7 * 10**6 + 1, 7)))
    for label, value in arguments:
        pairing = paired_calls(
            lambda v=value: [sigmoid(v) for _ in range(calls)],  # type: ignore[misc]
            lambda: [sigmoid(small) for _ in range(calls)],
            pairs,
        )
        out.append(announce(Result.at_most(f"sigmoid({label}) / sigmoid(1/3)", pairing.ratio, 3.0)))
    # A value written with 100,000-digit integers cannot be read in constant time: against one division of them.
    huge = 10**100_000
    value = Fraction(-3 * huge - 1, huge)
    pairing = paired_calls(lambda: sigmoid(value), lambda: value.numerator * 10**60 // value.denominator, pairs)
    what = "sigmoid((-3*10^100000 - 1) / 10^100000) / one division of its integers"
    out.append(announce(Result.at_most(what, pairing.ratio, 3.0)))
    return out


def results(quick: bool = False) -> list[Result]:
    header("executor: LeNet-5 against its real ceiling, cold run, exponentials")
    out = lenet(5 if quick else 15)
    out += cold_run(5 if quick else 15)
    out += exponentials(1 if quick else 5)
    if quick:
        out += [
            announce(Result.skipped("EfficientNet-B0: SiLU, Sigmoid / ReLU, Hardsigmoid", "<= 3x", "--quick")),
            announce(Result.skipped("EfficientNet-B0 at 3x32x32, verified (CPU)", "<= 10 s", "--quick")),
        ]
    else:
        out += efficientnet(3)
    out += argument_sizes(3 if quick else 9)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    print_results(results(parser.parse_args().quick), "\nexecutor:")


if __name__ == "__main__":
    main()
