"""Speed of `cnncalc report` (issue 12): the HTML page of ResNet-50 against `summary --format json` of it.

    python benchmarks/bench_report.py               # 11 rounds of cold processes, then in-process timings
    python benchmarks/bench_report.py --rounds 21   # steadier

Three cold processes per round, in a rotating order: `report specs/resnet50.yaml -o FILE`, `summary
specs/resnet50.yaml --format json` and `cnncalc --version` (start-up alone: Python, typer, the command modules).
Printed: the median of per-round ratios report / summary, and the medians of per-round differences report -
start-up (goal: under a second) and report - summary (what the page costs beyond the JSON). Then the same work
in this process, without start-up: analysis with training figures, lint, tree and graph model, HTML. Exit status 0
either way: a MISS is a finding to read, not a failure.
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

from bench_bridges import cnncalc, rounds  # noqa: E402
from bench_summary import load_note, ms, timed  # noqa: E402

BEYOND_START_GOAL = 1.0  # seconds
SPEC = "specs/resnet50.yaml"


def in_process(count: int) -> list[float]:
    from cnncalc.analyze import analyze
    from cnncalc.report.data import page_data
    from cnncalc.report.html import render_page
    from cnncalc.spec import load_spec
    from cnncalc.tree import block_tree

    def once() -> str:
        graph = load_spec(str(ROOT / SPEC))
        report = analyze(graph, optimizer="adam")
        return render_page(page_data(graph, report, block_tree(graph, report)))

    once()
    return [timed(once)[0] for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds of cold processes (default 11)")
    count = parser.parse_args().rounds
    print(f"cnncalc report benchmark: Python {sys.version.split()[0]}; {load_note()}")
    with tempfile.TemporaryDirectory() as directory:
        page = str(Path(directory) / "resnet50.html")
        commands = [cnncalc("report", SPEC, "-o", page), cnncalc("summary", SPEC, "--format", "json")]
        commands.append(cnncalc("--version"))
        print(f"\nCold `report {SPEC} -o FILE`, `summary {SPEC} --format json`, `--version`: {count} rounds")
        report, summary, start = rounds(commands, count)
        size = Path(page).stat().st_size
    print(
        f"        report: {ms(statistics.median(report))}; summary --format json: {ms(statistics.median(summary))}; "
        f"start-up: {ms(statistics.median(start))}; page: {size / 1e6:.2f} MB"
    )
    ratios = [a / b for a, b in zip(report, summary, strict=True)]
    print(f"        report / summary --format json, median of per-round ratios: {statistics.median(ratios):.3f}x")
    beyond_summary = statistics.median(a - b for a, b in zip(report, summary, strict=True))
    print(f"        report - summary --format json, median of per-round differences: {ms(beyond_summary)}")
    beyond = statistics.median(a - b for a, b in zip(report, start, strict=True))
    verdict = "PASS" if beyond < BEYOND_START_GOAL else "MISS"
    print(f"  {verdict}  report beyond start-up (median of per-round differences): {ms(beyond)}   (goal: < 1 s)")
    times = in_process(count)
    print(f"\nIn this process (no start-up), {count} runs: median {ms(statistics.median(times))}, min {ms(min(times))}")
    print(f"\nAt the end: {load_note()}")


if __name__ == "__main__":
    main()
