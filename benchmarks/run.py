"""Every speed goal of cnncalc in one command: goal, measured and PASS/MISS per line (see README.md here).

    python benchmarks/run.py             # the full run: every goal, 1,000,000 layers included (15 to 30 minutes)
    python benchmarks/run.py --quick     # fewer pairs, large specs up to 100,000 layers (a few minutes)
    python benchmarks/run.py --only summary scale    # some benchmarks only (names: bench_NAME.py)

Each benchmarks/bench_NAME.py that defines `results(quick: bool = False) -> list[paired.Result]` is run, in the
order of ORDER and then by name: to add goals, add such a module (or a Result to an existing one's list); a module
without `results()` is run as a script and its PASS/MISS lines are collected as they are. Each
prints its detail (raw medians, per-pair ratios, load average) as it goes; the table at the end repeats every goal.
Exit status 0 (a MISS is a finding to read), or with --strict 1 if any goal is missed or a benchmark failed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from paired import ROOT, Result, load, print_results  # noqa: E402

sys.path.insert(0, str(ROOT))

ORDER = ("summary", "language", "bridges", "scale", "check", "executor", "report")


def available() -> list[str]:
    names = [path.stem.removeprefix("bench_") for path in sorted(BENCH.glob("bench_*.py"))]
    return sorted(names, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024**2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({model}){memory}, {platform.system()} {platform.release()}"


def revision() -> str:
    def git(*arguments: str) -> str:
        done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"{ROOT} (not a git checkout)"
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{git('rev-parse', '--abbrev-ref', 'HEAD')} {commit}{dirty}"


def run_script(name: str) -> list[Result]:
    """A benchmark without `results()`: run as a script (its defaults), its output passed through, and each line
    that starts with PASS or MISS taken as a goal's line as it is (the figure and goal stay in the text)."""
    print(f"\n== bench_{name}.py (no results(): run as a script, its PASS/MISS lines collected) ==", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(BENCH / f"bench_{name}.py")], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    rows = []
    assert process.stdout is not None
    for line in process.stdout:
        print(line, end="", flush=True)
        verdict, _, rest = line.strip().partition(" ")
        if verdict in ("PASS", "MISS"):
            rows.append(Result(rest.strip(), "-", "-", verdict))
    if process.wait():
        rows.append(Result(f"bench_{name}.py exited with status {process.returncode}", "error", "-", "FAIL"))
    return rows


def run_one(name: str, quick: bool) -> list[Result]:
    """One benchmark's rows; a benchmark that fails gives a FAIL row (the others still run)."""
    try:
        module = importlib.import_module(f"bench_{name}")
        if not hasattr(module, "results"):
            return run_script(name)
        return list(module.results(quick=quick))
    except (Exception, SystemExit) as error:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc()
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return [Result(f"bench_{name}.py failed: {message[:100]}", "error", "-", "FAIL")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs; large specs only up to 100,000 layers")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=available(), help="run only these")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed or a benchmark failed")
    options = parser.parse_args()
    import yaml

    started = time.perf_counter()
    mode = "quick" if options.quick else "full"
    print(f"cnncalc speed goals ({mode} run), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"  machine: {machine()}")
    print(f"  Python {platform.python_version()}, PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__})")
    print(f"  cnncalc: {revision()}; load average at start {load():.2f}")
    print("  every ratio: median of per-pair ratios of paired, interleaved runs, CPU time (benchmarks/README.md)")
    rows: dict[str, list[Result]] = {}
    for name in options.only or available():
        rows[name] = run_one(name, options.quick)
    every = [row for results in rows.values() for row in results]
    minutes = (time.perf_counter() - started) / 60
    print(f"\n== all goals ({mode} run, {minutes:.1f} min; load average at the end {load():.2f}) ==")
    for name, results in rows.items():
        print_results(results, f"{name}:")
    counts = {verdict: sum(row.verdict == verdict for row in every) for verdict in ("PASS", "MISS", "SKIP", "FAIL")}
    print(", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count) + f" of {len(every)} lines")
    if options.strict and (counts["MISS"] or counts["FAIL"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
