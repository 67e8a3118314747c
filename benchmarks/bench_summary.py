"""Speed of `cnncalc summary` on ResNet-50: cold processes against the import floor and torchinfo, the table against
JSON, in-process analysis against torchinfo.summary, `--depth 1` against the full table (see README.md here).

    python benchmarks/bench_summary.py [--quick] [--profile]

Every ratio is the median of per-pair ratios of paired, interleaved runs (benchmarks/paired.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import (  # noqa: E402
    CHILD_ENV,
    PYTHON,
    ROOT,
    Result,
    announce,
    header,
    load,
    ms,
    paired_calls,
    paired_cold,
    print_results,
    timed_call,
)

sys.path.insert(0, str(ROOT))  # this checkout's cnncalc, installed or not

BENCH = Path(__file__).resolve().parent
RESNET50 = ROOT / "specs" / "resnet50.yaml"
TORCH_MODEL = BENCH / "torch_resnet50.py"

FLOOR_GOAL = 1.3  # cold `summary --format json` within this factor of `import typer, yaml`
TABLE_GOAL = 1.3  # cold default table (stdout a pipe) within this factor of the cold JSON output
COLD_TORCHINFO_GOAL = 15.0  # a cold torchinfo process at least this many times a cold cnncalc one
WARM_TORCHINFO_GOAL = 50.0  # torchinfo.summary at least this many times the in-process analysis
DEPTH_GOAL = 1.0  # `summary --depth 1` no slower than the full table (issue 12)

FLOOR = [PYTHON, "-c", "import typer, yaml"]
JSON = [PYTHON, "-m", "cnncalc", "summary", str(RESNET50), "--format", "json"]
TABLE = [PYTHON, "-m", "cnncalc", "summary", str(RESNET50)]
TORCHINFO = [PYTHON, str(TORCH_MODEL)]


def torchinfo_problem() -> str | None:
    """Why the torchinfo baseline cannot run, or None. Asked of a child process: torch stays out of this one."""
    probe = "import importlib.util as u; print(' and '.join(m for m in ('torch', 'torchinfo') if not u.find_spec(m)))"
    missing = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return f"{missing} not installed" if missing else None


def cold_figures(pairs: int, torch_pairs: int, torch_problem: str | None) -> list[Result]:
    results = []
    print("  cold `summary specs/resnet50.yaml --format json` (A) against cold `python -c 'import typer, yaml'` (B)")
    floor = paired_cold(JSON, FLOOR, pairs)
    print(floor.describe("summary --format json", "import typer, yaml"))
    what = "cold summary resnet50 --format json / import typer, yaml"
    results.append(announce(Result.at_most(what, floor.ratio, FLOOR_GOAL)))

    print("  cold `summary specs/resnet50.yaml` (A, the default table) against the same with --format json (B)")
    table = paired_cold(TABLE, JSON, pairs)
    print(table.describe("summary (table)", "summary --format json"))
    what = "cold summary resnet50 table / JSON (stdout a pipe)"
    results.append(announce(Result.at_most(what, table.ratio, TABLE_GOAL)))

    what = "cold torchinfo (torch on 1 thread) / cold summary --format json"
    if torch_problem:
        return [*results, announce(Result.skipped(what, f">= {COLD_TORCHINFO_GOAL:g}x", torch_problem))]
    print("  cold torchinfo (A: import torch, torchinfo; build ResNet-50; print the summary) against cold JSON (B)")
    peer = paired_cold(TORCHINFO, JSON, torch_pairs)
    print(peer.describe("torchinfo", "summary --format json"))
    return [*results, announce(Result.at_least(what, peer.ratio, COLD_TORCHINFO_GOAL, digits=1))]


class TorchinfoServer:
    """torch_resnet50.py --serve: torch imported (one thread) and the model built once; one torchinfo.summary per
    request, timed there in CPU seconds. A child process: torch's objects would slow this process's collector."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(TORCH_MODEL), "--serve"], cwd=ROOT, env=CHILD_ENV, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.info = self.answer()
        self.last: dict[str, Any] = {}

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the torchinfo server stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def summary(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        self.last = self.answer()
        return float(self.last["cpu"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def torchinfo_mult_adds_expected(report: Any) -> int:
    """torchinfo's "mult-adds" for a network of these rows: our MACs plus what torchinfo also counts, namely
    BatchNorm's affine parameters (weight and bias, one each per channel) and Linear's bias."""
    extra = 0
    for row in report.rows:
        if row.kind.startswith("BatchNorm"):
            extra += row.params
        elif row.kind == "Linear" and "bias" in row.weight_shapes:
            extra += row.weight_shapes["bias"][0]
    return report.totals.macs + extra


def in_process_figures(pairs: int, torch_problem: str | None) -> list[Result]:
    """torchinfo.summary of a built model against our analysis of a built graph: the like-for-like pair (neither
    side pays for building its network). Our side with the spec text parsed first is paired and printed too."""
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    text = RESNET50.read_text(encoding="utf-8")
    graph = parse_spec(text, str(RESNET50))

    def ours() -> Any:
        return analyze(graph)

    def ours_from_text() -> Any:
        return analyze(parse_spec(text, str(RESNET50)))

    report = ours()
    what = "torchinfo.summary (1 thread, model built) / analyze(graph) (graph built)"
    if torch_problem:
        return [announce(Result.skipped(what, f">= {WARM_TORCHINFO_GOAL:g}x", torch_problem))]
    print(f"  in process, ResNet-50 ({len(report.rows)} layers): torchinfo.summary in a server (A) against ours (B)")
    server = TorchinfoServer()
    try:
        pairing = paired_calls(server.summary, ours, pairs)
        from_text = paired_calls(server.summary, ours_from_text, pairs)
    finally:
        server.close()
    threads = f"torchinfo.summary (torch threads: {server.info['threads']})"
    print(pairing.describe(threads, "analyze(graph), the graph built"))
    print("    the same with our network built from the spec text in each call (no goal; printed for the record):")
    print(from_text.describe(threads, "analyze(parse_spec(text))"))
    expected = torchinfo_mult_adds_expected(report)
    answer = server.last
    same = answer["params"] == report.totals.params and answer["mult_adds"] == expected
    print(
        f"      same network: params {report.totals.params:,} (torchinfo {answer['params']:,}); MACs + BatchNorm "
        f"affine + Linear bias = {expected:,} (torchinfo's mult-adds {answer['mult_adds']:,})"
        + ("" if same else "  <- DIFFERENT: unlike work compared")
    )
    result = Result.at_least(what, pairing.ratio, WARM_TORCHINFO_GOAL, digits=1)
    if not same:
        result.verdict = "MISS"
        result.what += " (networks differ!)"
    return [announce(result)]


def depth_figure(pairs: int) -> list[Result]:
    """`summary --depth 1` against the full table, in process: spec text to rendered table."""
    from cnncalc.analyze import analyze
    from cnncalc.render.screen import Screen
    from cnncalc.render.table import render_tables
    from cnncalc.spec import parse_spec
    from cnncalc.tree import block_tree

    text = RESNET50.read_text(encoding="utf-8")
    file = str(RESNET50)

    def full() -> str:
        return render_tables([analyze(parse_spec(text, file))], False, Screen(None))

    def depth_1() -> str:
        graph = parse_spec(text, file)
        report = analyze(graph)
        return render_tables([report], False, Screen(None), [block_tree(graph, report)], 1)

    print("  in process, ResNet-50 from the spec text to the rendered table: --depth 1 (A) against the full table (B)")
    pairing = paired_calls(depth_1, full, pairs)
    print(pairing.describe("--depth 1", "full table"))
    return [announce(Result.at_most("summary --depth 1 / full table (in process)", pairing.ratio, DEPTH_GOAL))]


def results(quick: bool = False) -> list[Result]:
    header("summary: ResNet-50 cold and in process")
    problem = torchinfo_problem()
    out = cold_figures(pairs=7 if quick else 21, torch_pairs=2 if quick else 9, torch_problem=problem)
    out += in_process_figures(pairs=9 if quick else 31, torch_problem=problem)
    out += depth_figure(pairs=15 if quick else 41)
    return out


# -- --profile: where the cold time goes ------------------------------------------------------------------------


def import_times(command: list[str]) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) from `python -X importtime`, the smallest of 3 runs per module."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(3):
        done = subprocess.run(
            [command[0], "-X", "importtime", *command[1:]], cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, check=True,
        )  # fmt: skip
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "| imported package" in line:
                continue
            own, cumulative, name = line[len("import time:") :].split("|")
            entry = (int(own), int(cumulative))
            best[name.strip()] = min(best.get(name.strip(), entry), entry)
    return best


def profile_imports(command: list[str], rows: int = 15) -> None:
    floor = import_times(FLOOR)
    ours = import_times(command)
    extra = {name: times for name, times in ours.items() if name not in floor}
    by_package: dict[str, int] = {}
    for name, (own, _) in extra.items():
        by_package[name.split(".")[0]] = by_package.get(name.split(".")[0], 0) + own
    total = sum(by_package.values()) / 1000
    print(f"\n-- `{' '.join(command[2:])}` imports beyond `import typer, yaml`: {len(extra)} modules, {total:.1f} ms")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:rows]:
        print(f"     {own / 1000:7.1f}  {package}")


def profile_stages(pairs: int) -> None:
    """The cold JSON command built up stage by stage, each stage a process doing the previous stages' work, all
    stages run in each round (rotating order); the steps are differences of the stages' medians, so they add up to
    the last stage's median by construction (a negative step is noise: read it as zero)."""
    work = (
        "from cnncalc.spec import load_spec; from cnncalc.analyze import analyze; from cnncalc.tree import block_tree; "
        f"from cnncalc.render.json_report import render_json; g = load_spec({str(RESNET50)!r}); r = analyze(g); "
        "print(render_json([r], [block_tree(g, r)]))"
    )
    stages = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "+ import typer, yaml (the floor)": FLOOR,
        "+ import cnncalc.cli (the app and its commands)": [PYTHON, "-c", "import typer, yaml, cnncalc.cli"],
        "+ load, analyze, tree, render_json (library calls)": [PYTHON, "-c", f"import cnncalc.cli; {work}"],
        "the command (+ typer's parsing and dispatch)": JSON,
    }
    from paired import cold

    times: dict[str, list[float]] = {name: [] for name in stages}
    for command in stages.values():
        cold(command)
    names = list(stages)
    for r in range(pairs):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            times[name].append(cold(stages[name]).cpu)
    import statistics

    print(f"\n-- the cold JSON command stage by stage (CPU ms, medians of {pairs} rounds, and the step) --")
    previous = 0.0
    for name, values in times.items():
        median = statistics.median(values)
        print(f"     {median * 1000:7.1f}  {(median - previous) * 1000:+7.1f}  {name}")
        previous = median


# -- for benchmarks written against the earlier bench_summary (bench_report.py imports these) ------------------------


def load_note() -> str:
    return f"load average {load():.2f} on {os.cpu_count()} CPUs"


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of one call (after a collection), and its result."""
    answer: list[Any] = []
    seconds, _ = timed_call(lambda: answer.append(run()))
    return seconds, answer[0]


__all__ = ["CHILD_ENV", "load_note", "ms", "results", "timed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    parser.add_argument("--profile", action="store_true", help="also where the cold time goes")
    options = parser.parse_args()
    rows = results(options.quick)
    if options.profile:
        profile_imports(JSON)
        profile_imports(TABLE)
        profile_stages(5 if options.quick else 11)
    print_results(rows, "\nsummary:")


if __name__ == "__main__":
    main()
