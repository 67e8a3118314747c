"""Speed of the spec language: ResNet-50 written with expressions against the same network written out (issue 10).

    python benchmarks/bench_language.py               # 21 pairs of cold processes, then the in-process pairs
    python benchmarks/bench_language.py --pairs 41    # steadier

The shipped specs/resnet50.yaml uses the language (expressions for the widths and block counts); the baseline,
benchmarks/resnet50_plain.yaml, is the spec as it was written before, with every figure typed in. Both must give
the same report (checked first: otherwise unlike work would be compared). The figure is the median of per-pair
ratios of cold `python -m cnncalc summary SPEC --format json` runs, each pair run back to back in alternating
order, so that a change in the machine's load, or a cost of running second, moves both sides alike. Goal: at most
1.1x. Exit status 0 either way: a MISS is a finding to read, not a failure.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))  # bench_summary's child environment and load note

from bench_summary import CHILD_ENV, load_note, ms  # noqa: E402

WITH_EXPRESSIONS = ROOT / "specs" / "resnet50.yaml"
WRITTEN_OUT = BENCH / "resnet50_plain.yaml"
GOAL = 1.1  # "within 1.1x of today's, cold"


def command(spec: Path) -> list[str]:
    return [sys.executable, "-m", "cnncalc", "summary", str(spec), "--format", "json"]


def report_of(spec: Path) -> dict[str, Any]:
    """The JSON report, less the file it was read from (the one thing that differs by design)."""
    done = subprocess.run(command(spec), cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{spec.relative_to(ROOT)} does not load:\n{done.stderr}")
    report = json.loads(done.stdout)
    report.pop("file", None)
    return report


def uses_expressions(spec: Path) -> int:
    """How many values of the spec are expressions (a `$` that is more than a whole `$name`)."""
    from cnncalc.spec.expressions import is_expression, parse_expression
    from cnncalc.yamlsource import load_yaml

    def walk(value: Any) -> int:
        if isinstance(value, dict):
            return sum(walk(key) + walk(item) for key, item in value.items())
        if isinstance(value, list):
            return sum(walk(item) for item in value)
        return int(is_expression(value) and parse_expression(value).is_name is None)

    return walk(load_yaml(spec.read_text(), str(spec)))


def cold_seconds(spec: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command(spec), cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(command(spec))}\n{done.stderr.decode()}")
    return elapsed


def paired_cold(pairs: int) -> tuple[list[float], list[float]]:
    """Seconds of each side, pair by pair; even pairs run the expressions first, odd pairs the plain spec first."""
    cold_seconds(WITH_EXPRESSIONS)  # fill the bytecode and page caches, as any earlier use would
    cold_seconds(WRITTEN_OUT)
    ours: list[float] = []
    plain: list[float] = []
    for pair in range(pairs):
        if pair % 2 == 0:
            ours.append(cold_seconds(WITH_EXPRESSIONS))
            plain.append(cold_seconds(WRITTEN_OUT))
        else:
            plain.append(cold_seconds(WRITTEN_OUT))
            ours.append(cold_seconds(WITH_EXPRESSIONS))
    return ours, plain


def paired_in_process(pairs: int) -> tuple[list[float], list[float]]:
    """parse_spec (YAML, expansion, expressions, shapes) + analyze of both texts, already read, in this process."""
    sys.path.insert(0, str(ROOT))
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    texts = {spec: spec.read_text() for spec in (WITH_EXPRESSIONS, WRITTEN_OUT)}

    def once(spec: Path) -> float:
        gc.collect()
        start = time.perf_counter()
        analyze(parse_spec(texts[spec], str(spec)))
        return time.perf_counter() - start

    once(WITH_EXPRESSIONS)
    once(WRITTEN_OUT)
    ours: list[float] = []
    plain: list[float] = []
    for pair in range(pairs):
        order = (WITH_EXPRESSIONS, WRITTEN_OUT) if pair % 2 == 0 else (WRITTEN_OUT, WITH_EXPRESSIONS)
        for spec in order:
            (ours if spec == WITH_EXPRESSIONS else plain).append(once(spec))
    return ours, plain


def verdict(ours: list[float], plain: list[float], what: str, goal: float | None) -> None:
    ratios = [a / b for a, b in zip(ours, plain, strict=True)]
    ratio = statistics.median(ratios)
    print(f"        with expressions: {ms(statistics.median(ours))}; written out: {ms(statistics.median(plain))}")
    print(f"        per-pair ratios: min {min(ratios):.3f}, median {ratio:.3f}, max {max(ratios):.3f}")
    if goal is None:
        print(f"        {what}: {ratio:.3f}x   (no goal: where the time goes, for reading)")
        return
    print(f"  {'PASS' if ratio <= goal else 'MISS'}  {what}: {ratio:.3f}x   (goal: <= {goal}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=21, help="pairs of cold processes (default 21)")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    print(f"cnncalc spec-language benchmark: Python {sys.version.split()[0]}; {load_note()}")
    if report_of(WITH_EXPRESSIONS) != report_of(WRITTEN_OUT):
        raise SystemExit("the two specs give different reports: not the same network, nothing to compare")
    layers = len(report_of(WITH_EXPRESSIONS)["layers"])
    print(
        f"same report from both ({layers} layers); {WITH_EXPRESSIONS.relative_to(ROOT)} has "
        f"{uses_expressions(WITH_EXPRESSIONS)} expression values, {WRITTEN_OUT.relative_to(ROOT)} "
        f"{uses_expressions(WRITTEN_OUT)}"
    )
    print(f"\n1. Cold `python -m cnncalc summary SPEC --format json` > /dev/null, {options.pairs} pairs")
    verdict(*paired_cold(options.pairs), "cold, with expressions / written out", GOAL)
    print(f"\n2. In-process parse_spec + analyze of the text already read, {5 * options.pairs} pairs")
    verdict(*paired_in_process(5 * options.pairs), "in-process, with expressions / written out", None)
    print(f"\nAt the end: {load_note()}")


if __name__ == "__main__":
    main()
