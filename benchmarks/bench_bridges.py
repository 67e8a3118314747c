"""Speed of the bridges (issue 11): `cnncalc import` against importing torch, `summary model.onnx` against
importing onnx plus a cold `summary` of the same network written as a spec.

    python benchmarks/bench_bridges.py               # 11 rounds of cold processes
    python benchmarks/bench_bridges.py --rounds 21   # steadier

1. Cold `cnncalc import torch_resnet50:ResNet50 --input 3x224x224` (benchmarks/torch_resnet50.py: torchvision's
   ResNet-50 in plain torch) against cold `python -c "import torch"`. Goal: at most 1.5x.
2. Cold `cnncalc summary resnet50.onnx --format json` (that module exported once by torch.onnx.export, dynamo=False)
   against the sum of cold `python -c "import onnx"` and cold `cnncalc summary specs/resnet50.yaml --format json`,
   the three run back to back in a rotating order each round. Goal: at most 1.0x.

Every figure is the median of per-round ratios of runs made in the same round, in alternating order, so a change
in the machine's load moves both sides alike; the raw medians and the load average are printed too. Exit status 0
either way: a MISS is a finding to read, not a failure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from bench_summary import CHILD_ENV, load_note, ms  # noqa: E402

IMPORT_GOAL = 1.5
ONNX_GOAL = 1.0
ENV = {**CHILD_ENV, "PYTHONPATH": str(BENCH), "OMP_NUM_THREADS": "1"}


def cold(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode()}")
    return elapsed


def cnncalc(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cnncalc", *arguments]


def rounds(commands: list[list[str]], count: int) -> list[list[float]]:
    """Seconds of each command per round; round r starts with command r mod len(commands)."""
    for command in commands:  # fill the bytecode and page caches, as any earlier use would
        cold(command)
    times: list[list[float]] = [[] for _ in commands]
    for r in range(count):
        for k in range(len(commands)):
            index = (r + k) % len(commands)
            times[index].append(cold(commands[index]))
    return times


def verdict(ratios: list[float], what: str, goal: float) -> None:
    ratio = statistics.median(ratios)
    print(f"        per-round ratios: min {min(ratios):.3f}, median {ratio:.3f}, max {max(ratios):.3f}")
    print(f"  {'PASS' if ratio <= goal else 'MISS'}  {what}: {ratio:.3f}x   (goal: <= {goal}x)")


def export_onnx(directory: Path) -> Path:
    """benchmarks/torch_resnet50.py's model as an ONNX file (a child process: torch stays out of this one)."""
    path = directory / "resnet50.onnx"
    script = (
        "import torch, torch_resnet50 as m; net = m.ResNet50().eval(); "
        f"torch.onnx.export(net, (torch.zeros(1, 3, 224, 224),), {str(path)!r}, dynamo=False)"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=ENV, check=True, capture_output=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11, help="rounds of cold processes (default 11)")
    count = parser.parse_args().rounds
    print(f"cnncalc bridges benchmark: Python {sys.version.split()[0]}; {load_note()}")

    torch_floor = [sys.executable, "-c", "import torch"]
    importing = cnncalc("import", "torch_resnet50:ResNet50", "--input", "3x224x224")
    print(f"\n1. Cold `{' '.join(importing[1:])}` against `python -c 'import torch'`, {count} rounds")
    ours, floor = rounds([importing, torch_floor], count)
    print(f"        import: {ms(statistics.median(ours))}; import torch: {ms(statistics.median(floor))}")
    verdict([a / b for a, b in zip(ours, floor, strict=True)], "cold import / import torch", IMPORT_GOAL)

    with tempfile.TemporaryDirectory() as directory:
        onnx_file = export_onnx(Path(directory))
        reading = cnncalc("summary", str(onnx_file), "--format", "json")
        onnx_floor = [sys.executable, "-c", "import onnx"]
        spec = cnncalc("summary", "specs/resnet50.yaml", "--format", "json")
        print("\n2. Cold `summary resnet50.onnx --format json` against `import onnx` + `summary specs/resnet50.yaml`")
        ours, onnx_alone, spec_alone = rounds([reading, onnx_floor, spec], count)
        print(
            f"        summary .onnx: {ms(statistics.median(ours))}; import onnx: {ms(statistics.median(onnx_alone))};"
            f" summary .yaml: {ms(statistics.median(spec_alone))}"
        )
        ratios = [a / (b + c) for a, b, c in zip(ours, onnx_alone, spec_alone, strict=True)]
        verdict(ratios, "cold summary .onnx / (import onnx + summary .yaml)", ONNX_GOAL)
    print(f"\nAt the end: {load_note()}")


if __name__ == "__main__":
    main()
