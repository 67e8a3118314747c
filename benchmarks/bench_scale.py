"""Large specs: a cold `summary --format json` of generated specs of 10,000, 100,000 and 1,000,000 layers, its CPU
time, peak memory and cost per layer, and a phase table that adds up to the whole command (see README.md here).

    python benchmarks/bench_scale.py            # 10k, 100k and 1M layers (several minutes)
    python benchmarks/bench_scale.py --quick    # 10k and 100k only (the 1M goals are then SKIP)

Per-layer cost of N layers = (CPU of the command on N layers - CPU of the same command on a 15-layer spec of the
same generator, run in the same round) / N: start-up is not charged to the layers. Growth = per-layer cost at the
largest size / at 10,000, the median of per-round ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import PYTHON, Result, announce, cold, header, load, print_results  # noqa: E402

HERE = Path(__file__).resolve()
LARGEST_GOAL_S = 20.0  # 1,000,000 layers, CPU seconds of the cold command
LARGEST_GOAL_MB = 1536.0  # 1.5 GB peak RSS
GROWTH_GOAL = 1.3  # per-layer cost at 1M / at 10k
OLD_GOAL_S = 5.0  # 100,000 layers, text to report (YAML + expansion + analysis), CPU seconds (bench_summary's)
TINY = 15


def residual_spec(layers: int) -> str:
    """A spec of exactly `layers` layers: a stem conv; residual units written out, joined by names and `inputs`
    (about half the layers); the same unit as a block used with `repeat`; ReLUs to make up the count."""
    unit = 7  # conv, bn, relu, conv, bn, add, relu
    written = (layers // 2) // unit
    repeated = (layers - 1 - written * unit) // unit
    extra = layers - 1 - (written + repeated) * unit
    lines = [
        f"name: generated_{layers}",
        "input: [16, 8, 8]",
        "blocks:",
        "  residual:",
        "    params: {channels: null}",
        "    layers:",
        "      - conv2d: {out_channels: $channels, kernel_size: 3, padding: 1, bias: false, name: conv1}",
        "      - batchnorm2d: {name: bn1}",
        "      - relu: {name: relu1}",
        "      - conv2d: {out_channels: $channels, kernel_size: 3, padding: 1, bias: false, name: conv2}",
        "      - batchnorm2d: {name: bn2}",
        "      - add: {inputs: [input, bn2]}",
        "      - relu: {name: out}",
        "layers:",
        "  - conv2d: {out_channels: 16, kernel_size: 3, padding: 1, name: stem}",
    ]
    previous = "stem"
    for u in range(written):
        lines += [
            f"  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1, bias: false, name: u{u}_conv1}}",
            f"  - batchnorm2d: {{name: u{u}_bn1}}",
            f"  - relu: {{name: u{u}_relu1}}",
            f"  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1, bias: false, name: u{u}_conv2}}",
            f"  - batchnorm2d: {{name: u{u}_bn2}}",
            f"  - add: {{inputs: [{previous}, u{u}_bn2], name: u{u}_add}}",
            f"  - relu: {{name: u{u}_out}}",
        ]
        previous = f"u{u}_out"
    if repeated:
        lines.append(f"  - residual: {{channels: 16, repeat: {repeated}, name: tail}}")
    lines += ["  - relu"] * extra
    return "\n".join(lines) + "\n"


def command(spec: Path) -> list[str]:
    return [PYTHON, "-m", "cnncalc", "summary", str(spec), "--format", "json"]


# -- the instrumented child: the real command, its library calls timed where they happen ---------------------------

# (module, function, phase): each wrapped where defined and wherever a cnncalc module imported it by name. Nested
# calls are charged to the outermost phase; what no phase covers is "other" (typer, dispatch, lazy imports).
PHASES = (
    ("cnncalc.spec.document", "load_yaml", "YAML loading (load_yaml)"),
    ("cnncalc.spec.document", "graph_from_document", "expansion and shapes"),
    ("cnncalc.analyze", "analyze", "analysis (analyze)"),
    ("cnncalc.tree", "block_tree", "block tree (block_tree)"),
    ("cnncalc.render.json_report", "render_json", "rendering (render_json)"),
    ("cnncalc.render.json_report", "write_json", "rendering and writing, streamed (write_json)"),
    ("cnncalc.commands.common", "write", "writing to stdout"),
)


def child(spec: str, out: str) -> None:
    import importlib

    started = time.process_time()  # the interpreter's own start-up, until this line
    spent: dict[str, float] = {}
    collector: dict[str, float] = {}
    active: list[str] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.process_time()
        else:
            where = active[0] if active else "outside the phases"
            collector[where] = collector.get(where, 0.0) + time.process_time() - gc_start[0]

    def timed(function: Callable[..., Any], phase: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if active:
                return function(*args, **kwargs)
            active.append(phase)
            begin = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] = spent.get(phase, 0.0) + time.process_time() - begin
                active.pop()

        return wrapper

    before_imports = time.process_time()
    import cnncalc.cli

    missing = []
    for module_name, name, phase in PHASES:
        try:
            module = importlib.import_module(module_name)
            original = getattr(module, name)
        except (ImportError, AttributeError):
            missing.append(f"{module_name}.{name}")
            continue
        wrapped = timed(original, phase)
        for loaded in list(sys.modules.values()):
            if getattr(loaded, "__name__", "").startswith("cnncalc") and getattr(loaded, name, None) is original:
                setattr(loaded, name, wrapped)
    imports = time.process_time() - before_imports
    gc.callbacks.append(on_gc)
    sys.argv = ["cnncalc", "summary", spec, "--format", "json"]
    begin = time.process_time()
    try:
        cnncalc.cli.main()
    except SystemExit as stop:
        if stop.code:
            raise
    finally:
        gc.callbacks.remove(on_gc)
    main = time.process_time() - begin
    report = {
        "start-up (interpreter)": started,
        "imports (cnncalc.cli and the modules timed below)": imports,
        **{phase: spent.get(phase, 0.0) for _, _, phase in PHASES},
        "other (typer, dispatch, lazy imports)": main - sum(spent.values()),
        "gc": collector,
        "missing": missing,
        "in_main": main,
        "before_exit": time.process_time(),
    }
    Path(out).write_text(json.dumps(report))


def instrumented(spec: Path) -> tuple[Any, dict[str, Any]]:
    """One instrumented cold run: its wait4 sample and the phases, which add up to the process's CPU time."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        sample = cold([PYTHON, str(HERE), "--child", str(spec), out], stdout="null")
        report = json.loads(Path(out).read_text())
    finally:
        os.unlink(out)
    report["exit (freeing, interpreter shutdown)"] = sample.cpu - report.pop("before_exit")
    return sample, report


def print_phases(layers: int, sample: Any, report: dict[str, Any]) -> None:
    gc_times, missing, in_main = report.pop("gc"), report.pop("missing"), report.pop("in_main")
    print(f"  {layers:,} layers, an instrumented cold run: {sample.cpu:.2f} s CPU, {sample.rss_mb:.0f} MB peak RSS")
    for phase, seconds in report.items():
        collected = gc_times.get(phase, 0.0)
        note = f"   of which garbage collector {collected:.3f} s" if collected >= 0.001 else ""
        print(f"      {seconds:8.3f} s {seconds / sample.cpu * 100:5.1f}%  {phase}{note}")
    print(f"      {sum(report.values()):8.3f} s 100.0%  total (= the process's CPU time; main() took {in_main:.3f} s)")
    outside = gc_times.get("outside the phases", 0.0)
    if outside >= 0.001:
        print(f"      (garbage collector outside the timed phases: {outside:.3f} s)")
    if missing:
        print(f"      not in this version (or moved: update PHASES), so no phase: {', '.join(missing)}")


def results(quick: bool = False) -> list[Result]:
    """Quick: one round of instrumented runs (10k, 100k), which give both the figures and the phase tables. Full:
    two rounds of the plain command (10k, 100k, 1M), then one instrumented run per size for the phase tables."""
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    rounds = 1 if quick else 2
    header(f"scale: generated specs of {', '.join(f'{s:,}' for s in sizes)} layers, cold summary --format json")
    with tempfile.TemporaryDirectory() as folder:
        specs = {}
        for size in (TINY, *sizes):
            specs[size] = Path(folder, f"generated_{size}.yaml")
            specs[size].write_text(residual_spec(size))
        cold(command(specs[TINY]), "null")  # fills the bytecode cache
        samples: dict[int, list[Any]] = {size: [] for size in (TINY, *sizes)}
        tables: dict[int, dict[str, Any]] = {}
        load_start = load()
        for r in range(rounds):
            order = [TINY, *sizes] if r % 2 == 0 else [*reversed(sizes), TINY]
            for size in order:
                if quick:
                    sample, tables[size] = instrumented(specs[size])
                    samples[size].append(sample)
                else:
                    samples[size].append(cold(command(specs[size]), "null"))
        load_end = load()
        what = "instrumented" if quick else "plain `python -m cnncalc summary SPEC --format json` > /dev/null"
        print(f"  {rounds} round(s), {what}; medians; load average {load_start:.2f} -> {load_end:.2f}")
        per_layer: dict[int, list[float]] = {}
        for size in (TINY, *sizes):
            cpu = statistics.median(s.cpu for s in samples[size])
            wall = statistics.median(s.wall for s in samples[size])
            rss = statistics.median(s.rss_mb for s in samples[size])
            line = f"      {size:>9,} layers: {cpu:7.2f} s CPU, {wall:7.2f} s wall, {rss:6.0f} MB peak"
            if size != TINY:
                per_layer[size] = [(s.cpu - t.cpu) / size for s, t in zip(samples[size], samples[TINY], strict=True)]
                line += f", {statistics.median(per_layer[size]) * 1e6:.1f} us per layer beyond start-up"
            print(line)
        for size in sizes:
            if size not in tables:
                sample, tables[size] = instrumented(specs[size])
            else:
                sample = samples[size][-1]
            print_phases(size, sample, tables[size])
    largest = max(sizes)
    growth = statistics.median(a / b for a, b in zip(per_layer[largest], per_layer[10_000], strict=True))
    cpu = statistics.median(s.cpu for s in samples[largest])
    rss = statistics.median(s.rss_mb for s in samples[largest])
    text_to_report = sum(v for k, v in tables[100_000].items() if k.startswith(("YAML", "expansion", "analysis")))
    out = [Result.at_most("100,000 layers: YAML + expansion + analysis (CPU)", text_to_report, OLD_GOAL_S, " s")]
    big = "1,000,000 layers: cold summary --format json"
    if largest == 1_000_000:
        out.append(Result.at_most(f"{big} (CPU)", cpu, LARGEST_GOAL_S, " s", 1))
        out.append(Result.at_most(f"{big}: peak RSS", rss, LARGEST_GOAL_MB, " MB", 0))
        out.append(Result.at_most("per-layer cost at 1,000,000 / at 10,000 layers", growth, GROWTH_GOAL))
    else:
        why = "--quick"
        out.append(
            Result.skipped(f"{big} (CPU); not run; 100,000 layers: {cpu:.2f} s", f"<= {LARGEST_GOAL_S:g} s", why)
        )
        out.append(
            Result.skipped(f"{big}: peak RSS; not run; 100,000: {rss:.0f} MB", f"<= {LARGEST_GOAL_MB:g} MB", why)
        )
        growth_what = "per-layer cost at 100,000 / at 10,000 layers (--quick; the goal is 1M / 10k)"
        out.append(Result.at_most(growth_what, growth, GROWTH_GOAL))
    for result in out:
        announce(result)
    return out


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 100,000 layers")
    options = parser.parse_args()
    print_results(results(options.quick), "\nscale:")


if __name__ == "__main__":
    main()
