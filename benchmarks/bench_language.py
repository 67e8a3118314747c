"""Speed of the spec language: ResNet-50 written with expressions against the same network written out (issue 10).

    python benchmarks/bench_language.py [--quick]     # 21 (quick: 7) pairs of cold processes, then in-process pairs

The shipped specs/resnet50.yaml uses the language (expressions for the widths and block counts); the baseline,
benchmarks/resnet50_plain.yaml, is the spec as it was written before, with every figure typed in. Both must give
the same report (checked first: otherwise unlike work would be compared). The figure is the median of per-pair
ratios of cold `python -m cnncalc summary SPEC --format json` runs, each pair run back to back in alternating
order, so that a change in the machine's load, or a cost of running second, moves both sides alike. Goal: at most
1.1x. Exit status 0 either way: a MISS is a finding to read, not a failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import (  # noqa: E402
    BENCH,
    CHILD_ENV,
    PYTHON,
    ROOT,
    Result,
    announce,
    header,
    paired_calls,
    paired_cold,
    print_results,
)

sys.path.insert(0, str(ROOT))

WITH_EXPRESSIONS = ROOT / "specs" / "resnet50.yaml"
WRITTEN_OUT = BENCH / "resnet50_plain.yaml"
GOAL = 1.1  # "within 1.1x of today's, cold"


def command(spec: Path) -> list[str]:
    return [PYTHON, "-m", "cnncalc", "summary", str(spec), "--format", "json"]


def report_of(spec: Path) -> dict[str, Any]:
    """The JSON report, less what differs by design: the file it was read from, and the block tree ("blocks"),
    whose block names differ (the plain spec writes the projection unit as a second block, `projection`)."""
    done = subprocess.run(command(spec), cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{spec.relative_to(ROOT)} does not load:\n{done.stderr}")
    report = json.loads(done.stdout)
    report.pop("file", None)
    report.pop("blocks", None)
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


def results(quick: bool = False) -> list[Result]:
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    header("language: ResNet-50 with expressions against the same written out")
    if report_of(WITH_EXPRESSIONS) != report_of(WRITTEN_OUT):
        return [announce(Result("with expressions / written out", "reports differ", f"<= {GOAL}x", "MISS"))]
    layers = len(report_of(WITH_EXPRESSIONS)["layers"])
    print(
        f"  same report from both ({layers} layers); {WITH_EXPRESSIONS.relative_to(ROOT)} has "
        f"{uses_expressions(WITH_EXPRESSIONS)} expression values, {WRITTEN_OUT.relative_to(ROOT)} "
        f"{uses_expressions(WRITTEN_OUT)}"
    )
    print("  cold `summary SPEC --format json`: with expressions (A) against written out (B)")
    cold = paired_cold(command(WITH_EXPRESSIONS), command(WRITTEN_OUT), 7 if quick else 21)
    print(cold.describe("with expressions", "written out"))
    what = "cold summary resnet50: with expressions / written out"
    out = [announce(Result.at_most(what, cold.ratio, GOAL, digits=3))]
    texts = {spec: spec.read_text() for spec in (WITH_EXPRESSIONS, WRITTEN_OUT)}
    warm = paired_calls(
        lambda: analyze(parse_spec(texts[WITH_EXPRESSIONS], str(WITH_EXPRESSIONS))),
        lambda: analyze(parse_spec(texts[WRITTEN_OUT], str(WRITTEN_OUT))),
        15 if quick else 61,
    )
    print("  in process, parse_spec + analyze of the text already read (no goal: where a difference would come from)")
    print(warm.describe("with expressions", "written out"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    print_results(results(parser.parse_args().quick), "\nlanguage:")


if __name__ == "__main__":
    main()
