"""Speed of `cnncalc check` over 1,000 generated small specs, against loading the same files with yaml.CSafeLoader.

    python benchmarks/bench_check.py [--quick] [--specs 1000]

A = a cold `cnncalc check DIR --quiet` over N generated small specs (budgets in each spec's `limits:`, lint on);
B = a cold `python -c` that only loads the same N files with yaml.load(..., Loader=yaml.CSafeLoader), the least any
checker must do. Paired, interleaved runs; CPU time (benchmarks/paired.py). Goals: A <= 2x B, and A <= 2 s (the
earlier goal, "1,000 small specs in a second or two").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import PYTHON, Result, announce, header, paired_cold, print_results  # noqa: E402

RATIO_GOAL = 2.0
SECONDS_GOAL = 2.0

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

LOAD_ONLY = (
    "import os, sys, yaml\n"
    "folder = sys.argv[1]\n"
    "for name in sorted(os.listdir(folder)):\n"
    "    with open(os.path.join(folder, name), encoding='utf-8') as file:\n"
    "        yaml.load(file.read(), Loader=yaml.CSafeLoader)\n"
)


def write_specs(folder: str, count: int) -> None:
    for index in range(count):
        # (width, wide) differs for every index, so no two specs are the same network: check shares the layers
        # that specs have in common, and repeated specs would flatter it.
        text = SPEC.format(
            index=index, channels=1 + index % 3, size=16 + 4 * (index % 5), width=4 + index % 8, wide=8 + index // 8
        )
        Path(folder, f"net{index:04d}.yaml").write_text(text)


def results(quick: bool = False, specs: int = 1000) -> list[Result]:
    header(f"check: {specs:,} generated specs")
    with tempfile.TemporaryDirectory() as folder:
        write_specs(folder, specs)
        check = [PYTHON, "-m", "cnncalc", "check", folder, "--quiet"]
        load_only = [PYTHON, "-c", LOAD_ONLY, folder]
        print(
            f"  cold `cnncalc check DIR --quiet` (A) against a cold load of the same {specs:,} files "
            "with CSafeLoader (B)"
        )
        pairing = paired_cold(check, load_only, 3 if quick else 9)
    print(pairing.describe("cnncalc check", "CSafeLoader only"))
    median = statistics.median(pairing.a)
    print(
        f"      per spec: {median / specs * 1000:.2f} ms of check, "
        f"{statistics.median(pairing.b) / specs * 1000:.2f} ms of loading"
    )
    return [
        announce(
            Result.at_most(f"cold check of {specs:,} specs / loading them with CSafeLoader", pairing.ratio, RATIO_GOAL)
        ),
        announce(Result.at_most(f"cold check of {specs:,} specs (CPU)", median, SECONDS_GOAL, " s")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs")
    parser.add_argument("--specs", type=int, default=1000)
    options = parser.parse_args()
    print_results(results(options.quick, options.specs), "\ncheck:")


if __name__ == "__main__":
    main()
