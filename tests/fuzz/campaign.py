"""A fuzz campaign: make the cases, run them, group the failures by cause and write reproductions."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .known import KNOWN, Known, match
from .mutate import ROOT, Case, make_case
from .worker import Limits, Outcome, run_cases

DEFAULT_SEED = "0"
DEFAULT_COUNT = 8000
DEFAULT_TIMEOUT = 10.0  # seconds per command: about hangs, not speed
DEFAULT_MEMORY = 2048  # MiB of address space per command, above the worker's own size


def kinds() -> list[dict[str, Any]]:
    """`cnncalc kinds --format json`'s kinds, in-process."""
    from cnncalc.cli import main

    out = io.StringIO()
    saved = sys.argv
    sys.argv = ["cnncalc", "kinds", "--format", "json"]
    try:
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            main()
    finally:
        sys.argv = saved
    return json.loads(out.getvalue())["kinds"]


def mutant_texts(seed: str, count: int) -> list[str]:
    """The mutant specs of the first `count` cases of `seed` (about 9 in 10 cases carry one), for tests that
    compare a fast path with its long way over them."""
    table = kinds()
    texts = (make_case(seed, index, table).mutant for index in range(count))
    return [text for text in texts if text]


@dataclass
class Group:
    signature: str
    known: Known | None
    cases: list[tuple[Case, Outcome]] = field(default_factory=list)

    @property
    def first(self) -> tuple[Case, Outcome]:
        return min(self.cases, key=lambda pair: (len(pair[0].mutant), pair[0].index))  # the shortest mutant


@dataclass
class Result:
    seed: str
    cases: list[Case]
    outcomes: list[Outcome]
    seconds: float
    groups: list[Group]

    @property
    def unknown(self) -> list[Group]:
        return [g for g in self.groups if g.known is None]

    def stats(self) -> str:
        by_command: dict[str, list[float]] = defaultdict(list)
        for case, outcome in zip(self.cases, self.outcomes, strict=True):
            by_command[case.command].append(outcome.seconds)
        codes: dict[Any, int] = defaultdict(int)
        for outcome in self.outcomes:
            codes[outcome.code if outcome.kind == "ok" else outcome.kind] += 1
        per = ", ".join(f"{c} {len(s)} ({sum(s):.0f} s)" for c, s in sorted(by_command.items()))
        passed = [(o.seconds, c) for c, o in zip(self.cases, self.outcomes, strict=True) if o.kind == "ok"]
        slowest = ", ".join(f"case {c.index} {c.command} {s:.1f} s" for s, c in sorted(passed, key=lambda p: -p[0])[:3])
        return (
            f"seed {self.seed}: {len(self.cases)} cases in {self.seconds:.0f} s; exit codes and failures: "
            f"{dict(sorted(codes.items(), key=str))}; per command: {per}; slowest passing: {slowest}"
        )


def run_campaign(
    seed: str = DEFAULT_SEED,
    count: int = DEFAULT_COUNT,
    jobs: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
    megabytes: int = DEFAULT_MEMORY,
    only: list[int] | None = None,
    start: int = 0,
) -> Result:
    import time

    table = kinds()
    indices = only if only else range(start, start + count)
    cases = [make_case(seed, i, table) for i in indices]
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cnncalc-fuzz-") as root:
        outcomes = run_cases(cases, jobs, Limits(timeout, megabytes), root)
    groups: dict[str, Group] = {}
    for case, outcome in zip(cases, outcomes, strict=True):
        if outcome.failed:
            known = match(case, outcome)
            key = known.id if known else outcome.signature
            groups.setdefault(key, Group(key, known)).cases.append((case, outcome))
    ordered = sorted(groups.values(), key=lambda g: (g.known is not None, -len(g.cases)))
    return Result(seed, cases, outcomes, time.monotonic() - began, ordered)


def write_reproduction(case: Case, directory: Path) -> str:
    """The case's files in directory/case-N/, and the command line that reproduces it there."""
    folder = directory / f"case-{case.index}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in case.files.items():
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    if case.stdin is not None:
        (folder / "stdin.yaml").write_text(case.stdin, encoding="utf-8", errors="surrogatepass")
    return f"cd {ROOT} && {case.command_line(str(folder))}"


def describe(group: Group, directory: Path, examples: int = 1, lines: int = 40) -> str:
    """A group of failures: how many, which commands, and its shortest mutant written out for reproduction."""
    commands = sorted({case.command for case, _ in group.cases})
    title = f"{group.signature}: {len(group.cases)} case(s) ({', '.join(commands)})"
    if group.known:
        title += f"\n  known: {group.known.item} [{group.known.area}]"
    parts = [title]
    shown = [group.first] + [pair for pair in group.cases if pair is not group.first][: examples - 1]
    for case, outcome in shown:
        text = case.mutant
        excerpt = "\n".join("    | " + line[:200] for line in text.splitlines()[:lines])
        more = len(text.splitlines()) - lines
        parts.append(
            f"  case {case.index} (seed {case.seed}), from {case.base}: {'; '.join(case.mutations)[:600]}\n"
            f"  {outcome.kind}: {outcome.message[:500]}\n"
            f"  reproduce: {write_reproduction(case, directory)}\n"
            f"  or: CNNCALC_FUZZ_SEED={case.seed} CNNCALC_FUZZ_ONLY={case.index} python -m pytest tests/test_fuzz.py\n"
            + (f"  spec ({len(text)} characters):\n{excerpt}" + (f"\n    | ... {more} more lines" if more > 0 else ""))
            + ("\n  " + "\n  ".join(stack_lines(outcome)) if outcome.detail else "")
        )
    return "\n".join(parts)


def stack_lines(outcome: Outcome, count: int = 14) -> list[str]:
    """The innermost frames: a traceback's last lines, a faulthandler dump's first ones (innermost first)."""
    lines = outcome.detail.strip().splitlines()
    return lines[:count] if outcome.kind in ("timeout", "crash") else lines[-count:]


def settings_from_environment() -> dict[str, Any]:
    """CNNCALC_FUZZ_SEED (any text; 'random' picks one), _COUNT, _JOBS, _TIMEOUT (s), _MEMORY (MiB), _ONLY (1,5)."""
    seed = os.environ.get("CNNCALC_FUZZ_SEED", DEFAULT_SEED)
    if seed == "random":
        seed = str(int.from_bytes(os.urandom(4), "big"))
    only = os.environ.get("CNNCALC_FUZZ_ONLY")
    return {
        "seed": seed,
        "count": int(os.environ.get("CNNCALC_FUZZ_COUNT", DEFAULT_COUNT)),
        "jobs": int(os.environ.get("CNNCALC_FUZZ_JOBS", min(2, os.cpu_count() or 1))),
        "timeout": float(os.environ.get("CNNCALC_FUZZ_TIMEOUT", DEFAULT_TIMEOUT)),
        "megabytes": int(os.environ.get("CNNCALC_FUZZ_MEMORY", DEFAULT_MEMORY)),
        "only": [int(i) for i in only.split(",")] if only else None,
    }


__all__ = ["KNOWN", "Result", "describe", "run_campaign", "settings_from_environment"]
