"""`python -m tests.fuzz [--seed S] [--count N] [--jobs J] [--start I] [--only I,J] [--out DIR] [--known]`:
a campaign outside pytest, its failures grouped by cause with a reproduction each (written to --out)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .campaign import describe, run_campaign, settings_from_environment


def main() -> int:
    defaults = settings_from_environment()
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seed", default=defaults["seed"])
    parser.add_argument("--count", type=int, default=defaults["count"])
    parser.add_argument("--start", type=int, default=0, help="the first case's index")
    parser.add_argument("--jobs", type=int, default=defaults["jobs"])
    parser.add_argument("--timeout", type=float, default=defaults["timeout"], help="seconds per command")
    parser.add_argument("--memory", type=int, default=defaults["megabytes"], help="MiB per command")
    parser.add_argument("--only", help="only these case indices (comma-separated)")
    parser.add_argument("--out", help="write reproductions here (default: a new temporary directory)")
    parser.add_argument("--known", action="store_true", help="also describe the known failures")
    parser.add_argument("--examples", type=int, default=1, help="examples shown per group")
    options = parser.parse_args()
    only = [int(i) for i in options.only.split(",")] if options.only else defaults["only"]
    result = run_campaign(
        options.seed, options.count, options.jobs, options.timeout, options.memory, only, options.start
    )
    out = Path(options.out or tempfile.mkdtemp(prefix="cnncalc-fuzz-repro-"))
    print(result.stats())
    for group in result.groups:
        if group.known is None or options.known:
            print()
            print(describe(group, out, options.examples))
    known = [g for g in result.groups if g.known is not None]
    if known:
        print("\nknown failures: " + ", ".join(f"{g.signature} x{len(g.cases)}" for g in known))
    print(f"\n{len(result.unknown)} unknown failure group(s); reproductions in {out}")
    return 1 if result.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
