"""The one way every benchmark here measures: paired, interleaved runs of A and B, and one row type for the goals.

- `cold(command)`: one fresh process, its CPU time (user + system, from os.wait4's rusage), wall time and peak RSS
  (through a small launcher process: see LAUNCHER).
- `paired_cold(a, b, pairs)` / `paired_calls(a, b, pairs)`: A and B run back to back, pair after pair, the order
  alternating (A first in even pairs, B first in odd ones), so that a change in the machine's load or a cost of
  running second falls on both sides alike. The figure is the median of the per-pair ratios A/B; the raw medians
  of both sides and the load average at the start and the end are printed with it.
- `Result`: one goal's line (verdict, measured, goal, what); `print_results` prints them all alike.

CPU time is the basis of every ratio: on a shared machine a process waiting for a core shows in its wall time but
not in what it costs; wall medians are printed beside it.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable


def child_environment() -> dict[str, str]:
    """The environment of every timed child process.

    Bytecode caching on, in a cache of the benchmarks' own: an installed cnncalc runs from .pyc files, and a
    session with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every source on every start. Torch and its
    peers on one thread (OMP_NUM_THREADS, MKL_NUM_THREADS; the scripts also call torch.set_num_threads(1)): on a
    loaded 2-core machine a second thread inflates them, and cnncalc uses one.
    """
    drop = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "FORCE_COLOR", "COLUMNS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cnncalc-bench-pycache")
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH)])
    return env


CHILD_ENV = child_environment()


# -- one cold process ---------------------------------------------------------------------------------------------


@dataclass
class Sample:
    cpu: float  # seconds, user + system
    wall: float  # seconds
    rss_mb: float  # peak resident set size, MB (ru_maxrss)


# The command runs as the child of this small launcher, not of the benchmark: a child's peak RSS (ru_maxrss) starts
# at its parent's size when it was spawned (Linux keeps the pre-exec high-water mark), and the benchmark process
# holds cnncalc, specs and results. The launcher (python -I -S, a few MB) spawns the command, waits for it with
# os.wait4 and writes its CPU seconds, wall seconds, peak RSS (KB) and exit status to a file.
LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as out:
    out.write(f"{usage.ru_utime + usage.ru_stime} {wall} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def cold(command: Sequence[str], stdout: str = "pipe", env: dict[str, str] | None = None) -> Sample:
    """Run `command` in a fresh process (cwd: the checkout), through the launcher above. `stdout`: "pipe" (read
    and discarded here, as a `| jq` would) or "null" (/dev/null). Fails loudly if the command fails."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as report:
        target = subprocess.PIPE if stdout == "pipe" else subprocess.DEVNULL
        launcher = [PYTHON, "-I", "-S", "-c", LAUNCHER, report.name, *command]
        process = subprocess.Popen(launcher, cwd=ROOT, env=env or CHILD_ENV, stdout=target, stderr=errors)
        if process.stdout is not None:
            while process.stdout.read(1 << 16):
                pass
            process.stdout.close()
        process.wait()
        fields = report.read().split()
        if process.returncode or len(fields) != 4 or fields[3] != "0":
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-3000:]
            status = fields[3] if len(fields) == 4 else f"launcher {process.returncode}"
            raise SystemExit(f"failed (exit {status}): {' '.join(command)}\n{message}")
    return Sample(float(fields[0]), float(fields[1]), int(fields[2]) / 1024)


# -- pairs -------------------------------------------------------------------------------------------------------


def load() -> float:
    return os.getloadavg()[0]


@dataclass
class Pairing:
    """Both sides of a paired measurement: seconds per pair (CPU for processes, the basis of the ratios)."""

    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    a_wall: list[float] = field(default_factory=list)
    b_wall: list[float] = field(default_factory=list)
    a_rss: list[float] = field(default_factory=list)
    b_rss: list[float] = field(default_factory=list)
    load_start: float = 0.0
    load_end: float = 0.0

    @property
    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a, self.b, strict=True)]

    @property
    def ratio(self) -> float:
        """The median of the per-pair ratios A/B."""
        return statistics.median(self.ratios)

    @property
    def inverse(self) -> float:
        """The median of the per-pair ratios B/A (for "B is N times A")."""
        return statistics.median(y / x for x, y in zip(self.a, self.b, strict=True))

    def describe(self, a_name: str, b_name: str, basis: str = "CPU") -> str:
        ratios = self.ratios
        lines = [
            f"      {a_name}: {ms(statistics.median(self.a))} {basis}"
            + (f", {ms(statistics.median(self.a_wall))} wall" if self.a_wall else "")
            + (f", {statistics.median(self.a_rss):.0f} MB peak" if self.a_rss else ""),
            f"      {b_name}: {ms(statistics.median(self.b))} {basis}"
            + (f", {ms(statistics.median(self.b_wall))} wall" if self.b_wall else "")
            + (f", {statistics.median(self.b_rss):.0f} MB peak" if self.b_rss else ""),
            f"      {len(ratios)} pairs, per-pair ratio A/B: min {min(ratios):.3f}, median {self.ratio:.3f}, "
            f"max {max(ratios):.3f}; load average {self.load_start:.2f} -> {self.load_end:.2f}",
        ]
        return "\n".join(lines)


def paired_cold(
    a: Sequence[str], b: Sequence[str], pairs: int, stdout: str = "pipe", env: dict[str, str] | None = None
) -> Pairing:
    """Cold processes A and B, `pairs` times, alternating which runs first; one untimed run of each first (it
    fills the bytecode and page caches, as any earlier use would)."""
    cold(a, stdout, env)
    cold(b, stdout, env)
    result = Pairing(load_start=load())
    for pair in range(pairs):
        order = ((a, "a"), (b, "b")) if pair % 2 == 0 else ((b, "b"), (a, "a"))
        for command, side in order:
            sample = cold(command, stdout, env)
            getattr(result, side).append(sample.cpu)
            getattr(result, f"{side}_wall").append(sample.wall)
            getattr(result, f"{side}_rss").append(sample.rss_mb)
    result.load_end = load()
    return result


def timed_call(call: Callable[[], Any]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one call, after a collection (garbage left by the previous call is not
    charged to it); the collector stays on during the call, as it is for users."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def paired_calls(a: Callable[[], Any], b: Callable[[], Any], pairs: int) -> Pairing:
    """In-process callables A and B, as `paired_cold` does processes (one untimed call of each first). A callable
    may return its own CPU seconds (a float: e.g. a call timed in another process); otherwise it is timed here."""
    a(), b()

    def seconds(call: Callable[[], Any]) -> tuple[float, float]:
        gc.collect()
        cpu, wall = time.process_time(), time.perf_counter()
        answer = call()
        spent = time.process_time() - cpu, time.perf_counter() - wall
        return (answer, answer) if isinstance(answer, float) else spent

    result = Pairing(load_start=load())
    for pair in range(pairs):
        order = ((a, "a"), (b, "b")) if pair % 2 == 0 else ((b, "b"), (a, "a"))
        for call, side in order:
            cpu, wall = seconds(call)
            getattr(result, side).append(cpu)
            getattr(result, f"{side}_wall").append(wall)
    result.load_end = load()
    return result


# -- results -----------------------------------------------------------------------------------------------------


@dataclass
class Result:
    """One goal: what is measured, the figure, the goal, and PASS, MISS or SKIP (with why)."""

    what: str
    measured: str
    goal: str
    verdict: str  # PASS, MISS or SKIP

    @classmethod
    def at_most(cls, what: str, value: float, limit: float, unit: str = "x", digits: int = 2) -> Result:
        return cls(what, f"{value:.{digits}f}{unit}", f"<= {limit:g}{unit}", "PASS" if value <= limit else "MISS")

    @classmethod
    def at_least(cls, what: str, value: float, limit: float, unit: str = "x", digits: int = 2) -> Result:
        return cls(what, f"{value:.{digits}f}{unit}", f">= {limit:g}{unit}", "PASS" if value >= limit else "MISS")

    @classmethod
    def skipped(cls, what: str, goal: str, why: str) -> Result:
        return cls(what, why, goal, "SKIP")

    def line(self) -> str:
        return f"{self.verdict:<4}  {self.measured:>10}  (goal {self.goal:<9})  {self.what}"


def print_results(results: Sequence[Result], title: str = "") -> None:
    if title:
        print(title)
    for result in results:
        print("  " + result.line(), flush=True)


def announce(result: Result) -> Result:
    """Print a goal's line where it is measured (the detail above it), and hand it on."""
    print("  " + result.line(), flush=True)
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def header(name: str) -> None:
    print(f"\n== {name} (load average {load():.2f}) ==", flush=True)
