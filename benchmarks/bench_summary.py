"""Speed of `cnncalc summary`, as ratios against baselines measured in the same run (see README.md here).

    python benchmarks/bench_summary.py             # the figures, each with its goal and PASS/MISS
    python benchmarks/bench_summary.py --profile   # also: where the time goes (cProfile, imports, cold stages)

Every figure is a median of several repetitions, and the two sides of a ratio are measured interleaved, so that
a change in the machine's load between them moves both alike.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESNET50 = ROOT / "specs" / "resnet50.yaml"
TORCH_MODEL = BENCH / "torch_resnet50.py"
sys.path.insert(0, str(ROOT))  # this checkout's cnncalc, installed or not

COLD_GOAL = 1.3  # a cold `cnncalc summary` within this factor of `import typer, yaml`
COLD_TORCHINFO_GOAL = 15.0  # a cold cnncalc process at least this many times faster than a cold torchinfo one
WARM_TORCHINFO_GOAL = 50.0  # in-process analysis at least this many times faster than torchinfo.summary
LARGEST_GOAL_S = 5.0  # "100,000 layers in a few seconds"
LINEAR_GOAL = 1.5  # time per layer at the largest size at most this factor of the smallest size's
SIZES = (1_000, 10_000, 100_000)
RESIDUAL_KINDS = ("conv2d", "batchnorm2d", "relu", "add")  # of the generated specs (a conv chain without them)

FLOOR_COMMAND = [sys.executable, "-c", "import typer, yaml"]
CNNCALC_COMMAND = [sys.executable, "-m", "cnncalc", "summary", str(RESNET50), "--format", "json"]
TORCHINFO_COMMAND = [sys.executable, str(TORCH_MODEL)]


def child_environment() -> dict[str, str]:
    """The environment of every timed child process.

    Bytecode caching on, in a cache of the benchmark's own: an installed cnncalc runs from .pyc files, and a
    session with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every source on every start (measured: the
    cnncalc modules take 5x longer to import). The cache lives outside the source tree and is reused between runs.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME")}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cnncalc-bench-pycache")
    return env


CHILD_ENV = child_environment()


@dataclass
class Figure:
    what: str
    measured: str
    goal: str
    passed: bool

    def line(self) -> str:
        return f"  {'PASS' if self.passed else 'MISS'}  {self.what}: {self.measured}   (goal: {self.goal})"


FIGURES: list[Figure] = []


def report(figure: Figure) -> None:
    FIGURES.append(figure)
    print(figure.line(), flush=True)


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds of one call (after a collection, so garbage left by the previous call is not charged to it)."""
    gc.collect()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def load_note() -> str:
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    busy = "  <- busy machine: other processes share the CPUs, absolute times are inflated" if load > cpus / 2 else ""
    return f"load average {load:.1f} on {cpus} CPUs{busy}"


# -- availability -----------------------------------------------------------------------------------------------


def resnet50_problem() -> str | None:
    """Why specs/resnet50.yaml cannot be analyzed (the spec or its kinds are still being written), or None."""
    from cnncalc.errors import CnncalcError
    from cnncalc.spec import load_spec

    try:
        load_spec(str(RESNET50))
    except CnncalcError as error:
        return error.render().splitlines()[0]
    return None


def torchinfo_problem() -> str | None:
    """Why the torchinfo baseline cannot run, or None. Asked of a child process: torch stays out of this one."""
    probe = "import importlib.util as u; print(' and '.join(m for m in ('torch', 'torchinfo') if not u.find_spec(m)))"
    missing = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    if missing:
        return f"{missing} not installed (pip install torchinfo, next to torch==2.13.0)"
    return None


# -- 1. the cold process --------------------------------------------------------------------------------------


def run_quiet(command: list[str]) -> None:
    done = subprocess.run(
        command, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr}")


def cold_medians(commands: dict[str, list[str]], repeats: int) -> dict[str, float]:
    """Median wall time of each command in a fresh interpreter, the commands taking turns.

    One untimed run of each first: it fills the bytecode cache and the page cache, as any earlier use would.
    """
    for command in commands.values():
        run_quiet(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            start = time.perf_counter()
            run_quiet(command)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def section_cold(repeats: int, torch_problem: str | None) -> None:
    print(f"\n1. Cold process: `cnncalc summary specs/resnet50.yaml --format json` > /dev/null (median of {repeats})")
    commands = {"floor": FLOOR_COMMAND, "cnncalc": CNNCALC_COMMAND}
    if torch_problem is None:
        commands["torchinfo"] = TORCHINFO_COMMAND
    times = cold_medians(commands, repeats)
    floor, ours = times["floor"], times["cnncalc"]
    print(f"        import floor `python -c 'import typer, yaml'`: {ms(floor)}; cnncalc: {ms(ours)}")
    ratio = ours / floor
    report(Figure("cold cnncalc / import floor", f"{ratio:.2f}x", f"<= {COLD_GOAL}x", ratio <= COLD_GOAL))
    if torch_problem:
        print(f"        torchinfo comparison skipped: {torch_problem}")
        return
    theirs = times["torchinfo"]
    print(f"        torchinfo (import torch and torchinfo, build ResNet-50, summary, print): {ms(theirs)}")
    speedup = theirs / ours
    goal = f">= {COLD_TORCHINFO_GOAL:.0f}x"
    report(Figure("cold torchinfo / cold cnncalc", f"{speedup:.1f}x", goal, speedup >= COLD_TORCHINFO_GOAL))


# -- 2. in-process analysis of ResNet-50 ----------------------------------------------------------------------


class TorchinfoServer:
    """torch_resnet50.py --serve: torch imported and the model built once; one torchinfo.summary per request.

    A child process, not this one: torch's hundreds of thousands of objects would make every later garbage
    collection here slower and distort the large-spec timings.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(TORCH_MODEL), "--serve"],
            cwd=ROOT,
            env=CHILD_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.info = self.answer()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the torchinfo server stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def summary(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def torchinfo_mult_adds_expected(report_: Any) -> int:
    """torchinfo's "mult-adds" for a network of these rows: our MACs plus what torchinfo also counts, namely
    BatchNorm's affine parameters (weight and bias, one each per channel) and Linear's bias."""
    extra = 0
    for row in report_.rows:
        if row.kind.startswith("BatchNorm"):
            extra += row.params
        elif row.kind == "Linear" and "bias" in row.weight_shapes:
            extra += row.weight_shapes["bias"][0]
    return report_.totals.macs + extra


def section_in_process(rounds: int, per_round: int, torch_problem: str | None) -> None:
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    text = RESNET50.read_text(encoding="utf-8")
    file = str(RESNET50)

    def ours_once() -> Any:
        return analyze(parse_spec(text, file))

    result = ours_once()  # warm-up
    layers = len(result.rows)
    server = None if torch_problem else TorchinfoServer()
    ours: list[float] = []
    theirs: list[float] = []
    answer: dict[str, Any] = {}
    print(f"\n2. In-process, ResNet-50 ({layers} layers): parse_spec + analyze from the YAML text already read")
    try:
        for _ in range(rounds):
            ours.extend(timed(ours_once)[0] for _ in range(per_round))
            if server:
                answer = server.summary()
                theirs.append(answer["seconds"])
    finally:
        if server:
            server.close()
    mine = statistics.median(ours)
    print(f"        cnncalc: {ms(mine)} (median of {len(ours)}), {mine / layers * 1e6:.1f} us per layer")
    if server is None:
        print(f"        torchinfo comparison skipped: {torch_problem}")
        return
    other = statistics.median(theirs)
    print(
        f"        torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0) with torch imported and the model"
        f" built: {ms(other)} (median of {len(theirs)}, torch threads: {server.info['threads']})"
    )
    expected = torchinfo_mult_adds_expected(result)
    same = answer["params"] == result.totals.params and answer["mult_adds"] == expected
    print(
        f"        same network: params {result.totals.params:,} (torchinfo {answer['params']:,}); "
        f"MACs {result.totals.macs:,} + BatchNorm affine and Linear bias = {expected:,} "
        f"(torchinfo's mult-adds {answer['mult_adds']:,})" + ("" if same else "  <- DIFFERENT: unlike work compared")
    )
    speedup = other / mine
    goal = f">= {WARM_TORCHINFO_GOAL:.0f}x"
    report(Figure("torchinfo.summary / cnncalc analysis", f"{speedup:.0f}x", goal, speedup >= WARM_TORCHINFO_GOAL))


# -- 2b. the block tree ----------------------------------------------------------------------------------------

DEPTH_GOAL = 1.0  # `summary --depth 1` no slower than the full table (issue 12)


def section_depth(rounds: int) -> None:
    """`summary --depth 1` against the full table, in process: spec text to rendered table, paired rounds."""
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
        report_ = analyze(graph)
        return render_tables([report_], False, Screen(None), [block_tree(graph, report_)], 1)

    full(), depth_1()  # warm-up
    flat: list[float] = []
    tree: list[float] = []
    for _ in range(rounds):
        flat.append(timed(full)[0])
        tree.append(timed(depth_1)[0])
    ratio = statistics.median(t / f for t, f in zip(tree, flat, strict=True))
    print(
        f"\n2b. ResNet-50, spec text to table: full table {ms(statistics.median(flat))}, --depth 1 "
        f"{ms(statistics.median(tree))} (medians of {rounds} paired rounds)"
    )
    report(Figure("summary --depth 1 / full table", f"{ratio:.2f}x", f"<= {DEPTH_GOAL}x", ratio <= DEPTH_GOAL))


# -- 3. generated specs ---------------------------------------------------------------------------------------


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


def conv_chain_spec(layers: int) -> str:
    """The fallback while batchnorm2d/relu/add are not registered: convs only, half written out with names and
    explicit `inputs`, half from a two-conv block used with `repeat`."""
    written = layers // 2
    repeated = (layers - written) // 2
    extra = layers - written - 2 * repeated
    lines = [
        f"name: generated_{layers}",
        "input: [16, 8, 8]",
        "blocks:",
        "  pair:",
        "    params: {channels: null}",
        "    layers:",
        "      - conv2d: {out_channels: $channels, kernel_size: 3, padding: 1, name: a}",
        "      - conv2d: {out_channels: $channels, kernel_size: 1, name: b}",
        "layers:",
    ]
    for i in range(written):
        source = "input" if i == 0 else f"c{i - 1}"
        lines.append(f"  - conv2d: {{out_channels: 16, kernel_size: 3, padding: 1, name: c{i}, inputs: {source}}}")
    if repeated:
        lines.append(f"  - pair: {{channels: 16, repeat: {repeated}, name: tail}}")
    lines += ["  - conv2d: {out_channels: 16, kernel_size: 1}"] * extra
    return "\n".join(lines) + "\n"


def spec_generator() -> tuple[Callable[[int], str], str]:
    from cnncalc.layers import REGISTRY

    absent = [kind for kind in RESIDUAL_KINDS if kind not in REGISTRY]
    if absent:
        return conv_chain_spec, f"conv-only chains (kinds not registered yet: {', '.join(absent)})"
    return residual_spec, "conv/batchnorm/relu units joined by residual adds by name, and a block with repeat"


def phase_medians(text: str, repeats: int) -> tuple[float, float, float]:
    """Medians of: load_yaml alone; parse_spec (YAML, expansion, shapes); analyze on parse_spec's graph."""
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec
    from cnncalc.yamlsource import load_yaml

    loading, parsing, analysis = [], [], []
    for _ in range(repeats):
        loading.append(timed(partial(load_yaml, text, "<generated>"))[0])
        seconds, graph = timed(partial(parse_spec, text, "<generated>"))
        parsing.append(seconds)
        analysis.append(timed(partial(analyze, graph))[0])
        del graph  # freed here, not inside the next timed call
    return statistics.median(loading), statistics.median(parsing), statistics.median(analysis)


def section_sizes(sizes: tuple[int, ...]) -> Callable[[int], str]:
    import yaml

    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec
    from cnncalc.yamlsource import _Loader

    generate, form = spec_generator()
    print(f"\n3. Generated specs, text to report (parse_spec + analyze): {form}")
    c_loader = issubclass(_Loader, getattr(yaml, "CSafeLoader", ()))
    print(
        f"        yaml.__with_libyaml__ = {yaml.__with_libyaml__}; cnncalc loads with {_Loader.__mro__[1].__name__}"
        + ("" if c_loader else "  <- pure-Python YAML parsing, several times slower")
    )
    per_layer: dict[int, float] = {}
    for size in sizes:
        text = generate(size)
        repeats = 7 if size <= 1_000 else 5 if size <= 10_000 else 3
        graph = parse_spec(text, "<generated>")
        if len(graph.nodes) != size:
            raise SystemExit(f"the generator wrote {len(graph.nodes)} layers, not {size}")
        analyze(graph)  # warm-up
        del graph
        loading, parsing, analysis = phase_medians(text, repeats)
        total = parsing + analysis
        per_layer[size] = total / size
        print(
            f"        {size:>7,} layers ({len(text) / 1e6:.1f} MB): {total:7.3f} s = YAML {loading:.3f} "
            f"+ expansion and shapes {parsing - loading:.3f} + analyze {analysis:.3f}; "
            f"{total / size * 1e6:.1f} us per layer (medians of {repeats})"
        )
    largest, smallest = max(sizes), min(sizes)
    seconds = per_layer[largest] * largest
    goal = f"<= {LARGEST_GOAL_S:.0f} s"
    report(Figure(f"{largest:,} layers, text to report", f"{seconds:.2f} s", goal, seconds <= LARGEST_GOAL_S))
    if largest > smallest:
        growth = per_layer[largest] / per_layer[smallest]
        what = f"time per layer at {largest:,} / at {smallest:,} layers (1.0 = linear)"
        report(Figure(what, f"{growth:.2f}x", f"<= {LINEAR_GOAL}x", growth <= LINEAR_GOAL))
    return generate


# -- where the time goes (--profile) --------------------------------------------------------------------------


def profile_largest(generate: Callable[[int], str], size: int, rows: int) -> None:
    from cnncalc.analyze import analyze
    from cnncalc.spec import parse_spec

    text = generate(size)
    for collecting in (True, False):
        gc.collect()
        if not collecting:
            gc.disable()
        try:
            seconds = timed(lambda: analyze(parse_spec(text, "<generated>")))[0]
        finally:
            gc.enable()
        state = "on (as shipped)" if collecting else "off (gc.disable() around the call)"
        print(f"\n-- {size:,} layers with the garbage collector {state}: {seconds:.2f} s")
    # Profiled with the collector off: its pauses (the difference above) would be charged to whichever function
    # happened to allocate when one began, hiding the real hot spots.
    profiler = cProfile.Profile()
    gc.collect()
    gc.disable()
    try:
        profiler.enable()
        analyze(parse_spec(text, "<generated>"))
        profiler.disable()
    finally:
        gc.enable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(rows)
        body = out.getvalue().replace(str(ROOT) + "/", "").replace(os.path.dirname(os.__file__) + "/", "")
        print(f"\n-- cProfile of parse_spec + analyze, {size:,} layers, garbage collector off, by {order} --")
        print(body[body.find("   ncalls") :].rstrip())


def import_times(command: list[str]) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) from `python -X importtime`, the smallest of 3 runs per module."""
    best: dict[str, tuple[int, int]] = {}
    for _ in range(3):
        done = subprocess.run(
            [command[0], "-X", "importtime", *command[1:]],
            cwd=ROOT,
            env=CHILD_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "| imported package" in line:
                continue
            own, cumulative, name = line[len("import time:") :].split("|")
            entry = (int(own), int(cumulative))
            best[name.strip()] = min(best.get(name.strip(), entry), entry)
    return best


def profile_imports(rows: int) -> list[str]:
    """Print the modules the cold command imports beyond the floor; return cnncalc's own modules among them."""
    floor = import_times(FLOOR_COMMAND)
    ours = import_times(CNNCALC_COMMAND)
    extra = {name: times for name, times in ours.items() if name not in floor}
    by_package: dict[str, int] = {}
    for name, (own, _) in extra.items():
        by_package[name.split(".")[0]] = by_package.get(name.split(".")[0], 0) + own
    total = sum(by_package.values()) / 1000
    print(f"\n-- imports of the cold command beyond `import typer, yaml`: {len(extra)} modules, {total:.1f} ms --")
    print("   by top-level package (self ms, summed):")
    for package, own in sorted(by_package.items(), key=lambda kv: -kv[1])[:rows]:
        print(f"     {own / 1000:7.1f}  {package}")
    print("   slowest modules (self ms, cumulative ms):")
    for name, (own, cumulative) in sorted(extra.items(), key=lambda kv: -kv[1][0])[:rows]:
        print(f"     {own / 1000:7.1f} {cumulative / 1000:7.1f}  {name}")
    return sorted(name for name in extra if name.split(".")[0] == "cnncalc")


def profile_cold_stages(cnncalc_modules: list[str], repeats: int) -> None:
    """The cold command's time, built up stage by stage (each stage a process doing the previous stages' work)."""
    import importlib.util

    # typer >= 0.29 coerces every CLI parameter through pydantic (typer._adapters); older versions do not.
    coercion = ["pydantic", "typer._adapters"] if importlib.util.find_spec("typer._adapters") else []
    imports = ", ".join(["typer", "yaml", *coercion, *cnncalc_modules])
    work = (
        "from cnncalc.spec import load_spec; from cnncalc.analyze import analyze; "
        "from cnncalc.render.json_report import render_json; "
        f"render_json([analyze(load_spec({str(RESNET50)!r}))])"
    )
    stages = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "+ import typer, yaml (the floor)": FLOOR_COMMAND,
    }
    if coercion:
        stages["+ pydantic (typer >= 0.29 imports it to coerce any CLI parameter)"] = [
            sys.executable,
            "-c",
            f"import typer, yaml, {', '.join(coercion)}",
        ]
    stages[f"+ the {len(cnncalc_modules)} cnncalc modules the command imports"] = [
        sys.executable,
        "-c",
        f"import {imports}",
    ]
    stages["+ load, analyze, render ResNet-50 (library calls, no CLI)"] = [
        sys.executable,
        "-c",
        f"import {imports}; {work}",
    ]
    stages["the command itself (+ typer's parsing and dispatch)"] = CNNCALC_COMMAND
    times = cold_medians(stages, repeats)
    print(f"\n-- the cold command stage by stage (median of {repeats}, wall ms, and the step from the stage before) --")
    previous = 0.0
    for name, seconds in times.items():
        print(f"     {seconds * 1000:7.1f}  {(seconds - previous) * 1000:+7.1f}  {name}")
        previous = seconds


# -- main -----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11, help="repetitions of each cold process (default 11)")
    parser.add_argument("--profile", action="store_true", help="also show where the time goes")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="generated spec sizes, in layers")
    options = parser.parse_args()

    import yaml

    print(f"cnncalc speed benchmark: Python {sys.version.split()[0]}, PyYAML {yaml.__version__}; {load_note()}")
    torch_problem = torchinfo_problem()
    spec_problem = resnet50_problem()
    if spec_problem:
        print(f"\n1-2. skipped: specs/resnet50.yaml does not load yet: {spec_problem}")
    else:
        section_cold(options.repeats, torch_problem)
        section_in_process(rounds=max(5, options.repeats // 2), per_round=5, torch_problem=torch_problem)
        section_depth(rounds=max(15, options.repeats * 2))
    generate = section_sizes(tuple(sorted(set(options.sizes))))
    if options.profile:
        profile_largest(generate, max(options.sizes), rows=30)
        if not spec_problem:
            modules = profile_imports(rows=15)
            profile_cold_stages(modules, options.repeats)
    print(f"\nAt the end: {load_note()}")
    print(f"Summary: {sum(f.passed for f in FIGURES)} of {len(FIGURES)} goals met")
    for figure in FIGURES:
        print(figure.line())


if __name__ == "__main__":
    main()
