"""Speed of `cnncalc report` (issue 12): the HTML page of ResNet-50, beyond start-up and against the JSON report.

    python benchmarks/bench_report.py            # 9 pairs of each
    python benchmarks/bench_report.py --quick    # 3 pairs

Cold processes, paired and interleaved (paired.py): `report specs/resnet50.yaml -o FILE` against `cnncalc
--version` (start-up alone: Python, typer, the command modules), whose per-pair CPU differences give the report's
cost beyond start-up (goal: under a second); and against `summary specs/resnet50.yaml --format json`, whose
per-pair ratio says what the page costs beyond the JSON it embeds (printed; it has no goal of its own). Then
the same work in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from paired import PYTHON, Result, announce, header, ms, paired_cold, print_results, timed_call  # noqa: E402

BEYOND_START_GOAL = 1.0  # seconds of CPU
SPEC = "specs/resnet50.yaml"


def page_in_process() -> None:
    from cnncalc.analyze import analyze
    from cnncalc.report.data import page_data
    from cnncalc.report.html import render_page
    from cnncalc.spec import load_spec
    from cnncalc.tree import block_tree

    graph = load_spec(str(ROOT / SPEC))
    report = analyze(graph, optimizer="adam")
    render_page(page_data(graph, report, block_tree(graph, report)))


def results(quick: bool = False) -> list[Result]:
    header(f"report: the HTML page of {SPEC}")
    pairs = 3 if quick else 9
    cnncalc = [PYTHON, "-m", "cnncalc"]
    with tempfile.TemporaryDirectory() as folder:
        page = str(Path(folder) / "resnet50.html")
        report = [*cnncalc, "report", SPEC, "-o", page]
        print(f"  cold `report {SPEC} -o FILE` (A) against cold `cnncalc --version` (B)")
        start = paired_cold(report, [*cnncalc, "--version"], pairs)
        print(start.describe("report", "--version"))
        print(f"  cold `report {SPEC} -o FILE` (A) against cold `summary {SPEC} --format json` (B)")
        summary = paired_cold(report, [*cnncalc, "summary", SPEC, "--format", "json"], pairs)
        print(summary.describe("report", "summary --format json"))
        print(f"      page: {Path(page).stat().st_size / 1e6:.2f} MB")
    beyond = statistics.median(a - b for a, b in zip(start.a, start.b, strict=True))
    page_in_process()
    times = [timed_call(page_in_process)[0] for _ in range(pairs)]
    print(f"  in this process (no start-up), {pairs} runs: median {ms(statistics.median(times))} CPU")
    return [
        announce(Result.at_most("cold report resnet50 beyond start-up (CPU)", beyond, BEYOND_START_GOAL, " s")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    print_results(results(parser.parse_args().quick), "\nreport:")


if __name__ == "__main__":
    main()
