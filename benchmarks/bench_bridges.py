"""Speed of the bridges (issue 11): `cnncalc import` against importing torch, `summary model.onnx` against
importing onnx plus a cold `summary` of the same network written as a spec.

    python benchmarks/bench_bridges.py [--quick]     # 11 (quick: 1) rounds of cold processes

1. Cold `cnncalc import torch_resnet50:ResNet50 --input 3x224x224` (benchmarks/torch_resnet50.py: torchvision's
   ResNet-50 in plain torch) against cold `python -c "import torch"`. Goal: at most 1.5x.
2. Cold `cnncalc summary resnet50.onnx --format json` (that module exported once by torch.onnx.export, dynamo=False)
   against the sum of cold `python -c "import onnx"` and cold `cnncalc summary specs/resnet50.yaml --format json`,
   the three run back to back in a rotating order each round. Goal: at most 1.0x.

Torch runs on one thread (OMP_NUM_THREADS=1) on both sides. Every figure is the median of per-round ratios of CPU
times of runs made in the same round, in alternating order, so a change
in the machine's load moves both sides alike; the raw medians and the load average are printed too. Exit status 0
either way: a MISS is a finding to read, not a failure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import CHILD_ENV, PYTHON, ROOT, Result, announce, cold, header, load, ms, paired_cold, print_results  # noqa: E402

IMPORT_GOAL = 1.5
ONNX_GOAL = 1.0


def cnncalc(*arguments: str) -> list[str]:
    return [PYTHON, "-m", "cnncalc", *arguments]


def export_onnx(directory: Path) -> Path:
    """benchmarks/torch_resnet50.py's model as an ONNX file (a child process: torch stays out of this one)."""
    path = directory / "resnet50.onnx"
    script = (
        "import torch, torch_resnet50 as m; net = m.ResNet50().eval(); "
        f"torch.onnx.export(net, (torch.zeros(1, 3, 224, 224),), {str(path)!r}, dynamo=False)"
    )
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=CHILD_ENV, check=True, capture_output=True)
    return path


def missing(*modules: str) -> str | None:
    probe = f"import importlib.util as u; print(' and '.join(m for m in {modules!r} if not u.find_spec(m)))"
    absent = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return f"{absent} not installed" if absent else None


def onnx_figure(count: int) -> Result:
    """Three commands per round, in a rotating order: A = summary .onnx, B1 = import onnx, B2 = summary .yaml."""
    what = "cold summary resnet50.onnx / (import onnx + summary .yaml)"
    with tempfile.TemporaryDirectory() as directory:
        onnx_file = export_onnx(Path(directory))
        commands = [
            cnncalc("summary", str(onnx_file), "--format", "json"),
            [PYTHON, "-c", "import onnx"],
            cnncalc("summary", "specs/resnet50.yaml", "--format", "json"),
        ]
        start = load()
        times = rounds(commands, count)
    ours, onnx_alone, spec_alone = times
    ratios = [a / (b + c) for a, b, c in zip(ours, onnx_alone, spec_alone, strict=True)]
    print(
        f"      summary .onnx: {ms(statistics.median(ours))} CPU; import onnx: {ms(statistics.median(onnx_alone))};"
        f" summary .yaml: {ms(statistics.median(spec_alone))}"
    )
    print(
        f"      {count} rounds, per-round ratio: min {min(ratios):.3f}, median {statistics.median(ratios):.3f}, "
        f"max {max(ratios):.3f}; load average {start:.2f} -> {load():.2f}"
    )
    return Result.at_most(what, statistics.median(ratios), ONNX_GOAL, digits=3)


def rounds(commands: list[list[str]], count: int) -> list[list[float]]:
    """CPU seconds of each command per round, round r starting with command r mod len(commands) (for benchmarks
    written against the earlier bench_bridges: bench_report.py imports this)."""
    for command in commands:
        cold(command)
    times: list[list[float]] = [[] for _ in commands]
    for r in range(count):
        for k in range(len(commands)):
            index = (r + k) % len(commands)
            times[index].append(cold(commands[index]).cpu)
    return times


def results(quick: bool = False) -> list[Result]:
    count = 1 if quick else 11
    header("bridges: cnncalc import and summary of an ONNX file")
    out = []
    what = "cold cnncalc import torch_resnet50:ResNet50 / import torch"
    problem = missing("torch")
    if problem:
        out.append(announce(Result.skipped(what, f"<= {IMPORT_GOAL:g}x", problem)))
    else:
        print("  cold `cnncalc import torch_resnet50:ResNet50 --input 3x224x224` (A) against `import torch` (B)")
        pairing = paired_cold(
            cnncalc("import", "torch_resnet50:ResNet50", "--input", "3x224x224"), [PYTHON, "-c", "import torch"], count
        )
        print(pairing.describe("cnncalc import", "import torch"))
        out.append(announce(Result.at_most(what, pairing.ratio, IMPORT_GOAL, digits=3)))
    what = "cold summary resnet50.onnx / (import onnx + summary .yaml)"
    problem = missing("torch", "onnx")
    if problem:
        out.append(announce(Result.skipped(what, f"<= {ONNX_GOAL:g}x", problem)))
    else:
        print("  cold `summary resnet50.onnx --format json` against `import onnx` + `summary specs/resnet50.yaml`")
        out.append(announce(onnx_figure(count)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    print_results(results(parser.parse_args().quick), "\nbridges:")


if __name__ == "__main__":
    main()
