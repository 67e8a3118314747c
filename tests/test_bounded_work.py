"""Nothing hangs: the analyzers' work grows with the size of what they print, never with a number in the spec.

Work is bounded by counting, not by timing: every Python call and line executed is counted by a trace hook, and a
case fails when it passes a budget far above what a normal layer needs (a few thousand events) and far below what a
loop over a 10^8-long axis would take. Work done inside C (a list of 10^8 zeros) has no events, so the CLI cases
also run in a child process with a memory limit. The closed forms that replaced loops are checked against those
loops on small sizes.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import product
from math import gcd
from typing import Any

import pytest
from conftest import ROOT

from cnncalc.errors import LayerError, SpecError
from cnncalc.formula import Term
from cnncalc.layers import REGISTRY, make_layer
from cnncalc.layers.pooling import _AxisDivisors, _window_taps, bin_bounds, bin_total, bins_overlap, bins_uneven
from cnncalc.receptive import compose, network_input_field
from cnncalc.spec import MAX_NODES, parse_spec

BUDGET = 200_000  # trace events per layer: a normal layer needs a few thousand
HUGE = (10**8, 10**12, 10**30)


class OverBudget(BaseException):
    """Raised inside the traced code once it has done more than its budget of work."""


def bounded(work: Callable[[], Any], budget: int = BUDGET) -> Any:
    """Run `work`, counting every call and line it executes; OverBudget past `budget` events."""
    count = 0
    previous = sys.gettrace()

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        if count > budget:
            raise OverBudget(f"more than {budget:,} trace events")
        return trace

    sys.settrace(trace)
    try:
        return work()
    finally:
        sys.settrace(previous)


def every_rule(kind: str, args: dict[str, Any], shapes: tuple[tuple[int, ...], ...]) -> None:
    """Build a layer and ask it everything the analyzers, `explain` and `layer` ask (LayerError is an answer)."""
    try:
        layer = make_layer(kind, args, *shapes)
    except LayerError:
        return
    layer.weights(), layer.buffers(), layer.params(), layer.buffer_count(), layer.macs(), layer.other_ops()
    layer.summary(), layer.notes()
    with contextlib.suppress(LayerError):
        layer.check_batch_size(1)
    for _, term in layer.explain():
        if isinstance(term, Term):
            assert term.symbols and term.numbers and str(term.value)
    window = layer.window()
    field = network_input_field(layer.in_shape)
    if field is not None and window is not None and len(window) == len(field.size):
        compose(field, window)


def mutations(args: dict[str, Any], shapes: tuple[tuple[int, ...], ...]) -> Iterator[tuple[dict[str, Any], Any]]:
    """The example with each integer argument (or one axis of it) and each input axis made huge."""
    for key, value in args.items():
        for big in HUGE:
            if type(value) is int:
                yield {**args, key: big}, shapes
            elif isinstance(value, list) and value and all(type(v) is int for v in value):
                yield {**args, key: [big] * len(value)}, shapes
                for axis in range(len(value)):
                    yield {**args, key: [big if i == axis else v for i, v in enumerate(value)]}, shapes
    for number, shape in enumerate(shapes):
        for big in HUGE:
            for axis in range(len(shape)):
                grown = tuple(big if i == axis else n for i, n in enumerate(shape))
                yield args, shapes[:number] + (grown,) + shapes[number + 1 :]
            yield args, shapes[:number] + (tuple(big for _ in shape),) + shapes[number + 1 :]


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_with_huge_numbers_is_answered_in_bounded_work(kind: str) -> None:
    cls = REGISTRY[kind]
    for args, shapes in cls.examples():
        for grown_args, grown_shapes in mutations(args, shapes):
            try:
                bounded(lambda: every_rule(kind, grown_args, grown_shapes))  # noqa: B023 (run at once)
            except OverBudget:
                pytest.fail(f"{cls.kind} {grown_args} on {grown_shapes}: unbounded work")


ISSUE_CASES = [
    *(
        (f"adaptive{op}pool{d}d", {"output_size": big}, (3, *(7,) * d))
        for op, d, big in product(("avg", "max"), (1, 2, 3), (10**8, 10**30))
    ),
    ("maxpool1d", {"kernel_size": 3}, (4, 10**8)),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (4, 10**8, 10**30)),
    ("maxpool1d", {"kernel_size": 10**8, "padding": 1, "dilation": 2, "stride": 10**9, "ceil_mode": True}, (1, 1)),
    ("avgpool1d", {"kernel_size": 10**7, "stride": 1, "padding": 5 * 10**6, "count_include_pad": False}, (1, 10**8)),
    ("avgpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, (2, 10**30, 10**30)),
    ("groupnorm", {"num_groups": 7}, (10**30, 4, 4)),
    ("upsample", {"scale_factor": 1000}, (3, 10**8, 10**8)),
    ("upsample", {"size": [10**30, 5], "mode": "bilinear"}, (3, 8, 8)),
    ("centercrop", {"size": 10**8}, (3, 10**30, 10**30)),
    ("reflectionpad2d", {"padding": 10**8}, (3, 10**30, 10**30)),
]


@pytest.mark.parametrize(("kind", "args", "shape"), ISSUE_CASES, ids=lambda v: str(v)[:40])
def test_issue_cases_are_answered_in_bounded_work(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> None:
    bounded(lambda: every_rule(kind, args, (shape,)))


# -- the closed forms equal the loops they replaced ---------------------------------------------------------------


def test_adaptive_bin_sums_and_shapes_in_closed_form() -> None:
    for size, count in product(range(1, 41), range(1, 50)):
        bounds = [bin_bounds(size, count, i) for i in range(count)]
        sizes = [end - start for start, end in bounds]
        assert bin_total(size, count) == sum(sizes) == size + count - gcd(size, count)
        assert bins_overlap(size, count) == any(b[0] < a[1] for a, b in zip(bounds, bounds[1:], strict=False))
        assert bins_uneven(size, count) == (len(set(sizes)) > 1), (size, count)


def test_adaptive_pool_other_ops_count_every_bin_element() -> None:
    layer = make_layer("adaptiveavgpool2d", {"output_size": [3, 5]}, (2, 7, 4))
    elements = sum(
        (h1 - h0) * (w1 - w0)
        for h0, h1 in (bin_bounds(7, 3, i) for i in range(3))
        for w0, w1 in (bin_bounds(4, 5, j) for j in range(5))
    )
    assert layer.other_ops() == 2 * elements  # one add (or the divide) per element read, per channel


def test_padding_only_max_pool_windows_in_closed_form() -> None:
    checked = 0
    for size, k, s, p, d, ceil in product(range(1, 7), range(1, 6), range(1, 5), range(3), range(1, 9), (0, 1)):
        args = {"kernel_size": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": bool(ceil)}
        try:
            layer = make_layer("maxpool1d", args, (1, size))
        except LayerError:
            continue
        taps = _window_taps(size, k, s, p, d, layer.out_shape[1])
        enumerated = [j for j, window in enumerate(taps) if not window]
        assert [j for _, j, _ in layer.padding_only_windows((size,))] == enumerated, args
        checked += len(enumerated)
    assert checked > 50  # the sweep does reach windows over padding alone


def test_average_pool_divisors_in_closed_form() -> None:
    for size, k, s, p, ceil, include in product(range(1, 9), range(1, 6), range(1, 5), range(3), (0, 1), (0, 1)):
        args = {
            "kernel_size": k,
            "stride": s,
            "padding": p,
            "ceil_mode": bool(ceil),
            "count_include_pad": bool(include),
        }
        try:
            layer = make_layer("avgpool1d", args, (1, size))
        except LayerError:
            continue
        _, divisors = layer.averaging((size,))  # forward's divisors, window by window
        axis = _AxisDivisors(size, k, s, p, layer.out_shape[1], bool(include))
        assert axis.tally() == Counter(divisors), args
        assert (axis.smallest(), axis.largest()) == (min(divisors), max(divisors)), args


def test_average_pool_note_on_a_huge_axis_gives_the_range() -> None:
    args = {"kernel_size": 10**7, "stride": 1, "padding": 5 * 10**6, "count_include_pad": False}
    (note,) = bounded(lambda: make_layer("avgpool1d", args, (1, 10**8)).notes())
    assert "10,000,000 for the 90,000,001 outputs whose windows lie inside the input" in note
    assert "from 5,000,000 to 10,000,000 near its edges" in note


# -- specs -------------------------------------------------------------------------------------------------------


def test_huge_repeat_is_refused_before_building() -> None:
    text = "input: [3, 8, 8]\nlayers:\n  - relu: {repeat: 1000000000}\n"
    with pytest.raises(SpecError) as caught:
        bounded(lambda: parse_spec(text, "net.yaml"))
    assert "expands to at least 1,000,000,000 layers" in caught.value.message
    assert f"at most {MAX_NODES:,}" in caught.value.message
    assert caught.value.location is not None and caught.value.location.line == 3


def test_nested_blocks_are_counted_not_expanded() -> None:
    """Ten uses of a block of ten uses of ... : 3 x 10^7 layers, refused from the count."""
    blocks = "  b0: {params: {n: 2}, layers: [relu, {relu: {repeat: $n}}]}\n"
    blocks += "".join(f"  b{i}: {{layers: [{', '.join([f'b{i - 1}'] * 10)}]}}\n" for i in range(1, 8))
    text = f"input: [3, 8, 8]\nblocks:\n{blocks}layers:\n  - b7\n"
    with pytest.raises(SpecError) as caught:
        bounded(lambda: parse_spec(text, "net.yaml"))
    assert "expands to at least 30,000,000 layers" in caught.value.message


def test_a_repeat_within_the_limit_still_expands() -> None:
    graph = parse_spec("input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 3, kernel_size: 1, repeat: 40}\n")
    assert len(graph.nodes) == 40


# -- every command, in a child process with a memory limit --------------------------------------------------------

COMMAND_SPECS = {
    "adaptive": """input: [3, 8, 8]
layers:
  - adaptiveavgpool2d: {output_size: 100000000, name: avg}
  - adaptivemaxpool2d: {output_size: [100000000, null], inputs: input}
  - flatten: {start_dim: 2, inputs: avg, name: flat}
  - adaptiveavgpool1d: {output_size: 1000000000000000000000000000000, inputs: flat}
  - adaptivemaxpool1d: {output_size: 1000000000000000000000000000000, inputs: flat}
""",
    "pool_axis": """input: [2, 100000000]
layers:
  - maxpool1d: {kernel_size: 3}
  - avgpool1d: {kernel_size: 3, padding: 1, stride: 2, ceil_mode: true, count_include_pad: false}
""",
    "huge_conv": """input: [1000000000000000000000000000000, 100000000, 100000000]
layers:
  - conv2d: {out_channels: 1000000000000000000000000000000, kernel_size: 3, padding: 1, bias: false}
  - batchnorm2d
  - relu
  - maxpool2d: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - adaptiveavgpool2d: {output_size: 1}
  - flatten
  - linear: {out_features: 100000000}
""",
    "upsample": """input: [3, 100000000, 8]
layers:
  - upsample: {scale_factor: 1000}
  - zeropad2d: {padding: 100000000}
""",
}

CHILD = r"""
import contextlib, io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # 2 GiB: a list over a 10^8 axis does not fit
from cnncalc.cli import app

budget, runs = int(sys.argv[1]), json.loads(sys.argv[2])
class OverBudget(BaseException):
    pass
results = []
for args in runs:
    count = 0
    def trace(frame, event, arg):
        global count
        count += 1
        if count > budget:
            raise OverBudget()
        return trace
    out, err = io.StringIO(), io.StringIO()
    sys.settrace(trace)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                app(args, standalone_mode=False)
                outcome = "ok"
            except SystemExit as stop:
                outcome = f"exit {stop.code}"
            except OverBudget:
                outcome = "over budget"
            except MemoryError:
                outcome = "out of memory"
            except Exception as error:
                from cnncalc.errors import CnncalcError
                outcome = "refused" if isinstance(error, CnncalcError) else f"crash {type(error).__name__}: {error}"
    finally:
        sys.settrace(None)
    results.append([args, outcome, count, err.getvalue()[-300:]])
print(json.dumps(results))
"""


def test_every_command_on_huge_specs_is_bounded(tmp_path: Any) -> None:
    runs = []
    for name, text in COMMAND_SPECS.items():
        path = str(tmp_path / f"{name}.yaml")
        (tmp_path / f"{name}.yaml").write_text(text)
        runs += [
            ["summary", path],
            ["summary", path, "--format", "json"],
            ["explain", path],
            ["explain", path, "--format", "json"],
            ["check", path],
            ["lint", path],
            ["graph", path],
            ["diff", path, path],
        ]
    runs += [
        ["layer", "adaptiveavgpool3d", "--input", "3x7x7x7", "output_size=100000000"],
        ["layer", "maxpool1d", "--input", "2x100000000", "kernel_size=3", "ceil_mode=true"],
        ["layer", "avgpool1d", "--input", "1x100000000", "kernel_size=10000000", "padding=5000000"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "3000000", json.dumps(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,  # a backstop only: the budget decides
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for args, outcome, _events, err in json.loads(done.stdout):
        assert outcome in ("ok", "exit 0", "exit 1", "refused"), (args, outcome, err)
        assert "Traceback" not in err, (args, err)
