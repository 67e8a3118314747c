"""Speed of `cnncalc check` over many specs ("1,000 small specs in a second or two"), against baselines measured
in the same run.

    python benchmarks/bench_check.py                 # 1,000 generated specs, 5 repetitions
    python benchmarks/bench_check.py --specs 200 --repeats 3

Figures: the wall time of one cold `cnncalc check DIR --quiet` over N generated small specs (budgets in each
spec's `limits:`, lint on), its per-spec cost after subtracting a cold one-spec check, and the ratio of the N-spec
run to a cold `python -c "import typer, yaml"` (the import floor every run pays). Medians, the sides of each ratio
measured interleaved. Exit status 0 either way: a MISS is a finding, not a failure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 2.0  # "1,000 small specs in a second or two"

SPEC = """name: net{index}
description: generated for benchmarks/bench_check.py
input: [{channels}, {size}, {size}]
limits: {{max_params: 5M, max_macs: 2G, expect_output: [10]}}
layers:
  - conv2d: {{out_channels: {width}, kernel_size: 3, padding: 1, bias: false}}
  - batchnorm2d
  - relu
  - maxpool2d: {{kernel_size: 2}}
  - conv2d: {{out_channels: {wide}, kernel_size: 3, padding: 1, bias: false}}
  - batchnorm2d
  - relu
  - maxpool2d: {{kernel_size: 2}}
  - flatten
  - linear: {{out_features: 64}}
  - relu
  - dropout: {{p: 0.5}}
  - linear: {{out_features: 10}}
"""


def environment() -> dict[str, str]:
    """Bytecode caching on, in a cache of the benchmark's own (as an installed cnncalc runs; see bench_summary)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cnncalc-bench-pycache")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = environment()
    with tempfile.TemporaryDirectory() as folder:
        for index in range(args.specs):
            text = SPEC.format(
                index=index, channels=1 + index % 3, size=16 + 4 * (index % 5), width=4 + index % 8, wide=8 + index % 16
            )
            Path(folder, f"net{index:04d}.yaml").write_text(text)
        many = [sys.executable, "-m", "cnncalc", "check", folder, "--quiet"]
        one = [sys.executable, "-m", "cnncalc", "check", str(Path(folder, "net0000.yaml")), "--quiet"]
        floor = [sys.executable, "-c", "import typer, yaml"]
        timed(many, env)  # warm the bytecode cache and the file cache
        runs: dict[str, list[float]] = {"many": [], "one": [], "floor": []}
        for _ in range(args.repeats):
            runs["many"].append(timed(many, env))
            runs["one"].append(timed(one, env))
            runs["floor"].append(timed(floor, env))
    many_s, one_s, floor_s = (statistics.median(runs[k]) for k in ("many", "one", "floor"))
    per_spec_ms = (many_s - one_s) / max(args.specs - 1, 1) * 1000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cnncalc check over {args.specs:,} generated specs (median of {args.repeats}; load average {load:.2f})")
    rows = [
        ("import floor `import typer, yaml`", f"{floor_s:.3f} s"),
        ("one spec, cold", f"{one_s:.3f} s  ({one_s / floor_s:.2f}x the floor)"),
        (f"{args.specs:,} specs, cold", f"{many_s:.3f} s  ({many_s / floor_s:.1f}x the floor)"),
        ("per spec after start-up", f"{per_spec_ms:.2f} ms"),
    ]
    for label, figure in rows:
        print(f"  {label + ':':<36}{figure}")
    if args.specs >= 1000:
        verdict = "PASS" if many_s <= GOAL_S else "MISS"
        print(f"  goal: {args.specs:,} specs in at most {GOAL_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
