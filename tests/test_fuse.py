"""`cnncalc fuse`: BatchNorm folded into the conv or linear layer it follows. The exact executor is the oracle: the
fused spec computes what the original does, exactly where running_var + eps is the square of a rational, else to
30 significant digits; the report's savings are the analyzer's differences between the two specs."""

from __future__ import annotations

import json
from fractions import Fraction
from math import prod
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import analyze
from cnncalc.compute import Context
from cnncalc.execute import Run, execute, generated_input, weights_for
from cnncalc.fuse import NORMS, fuse, spec_text
from cnncalc.graph import Graph
from cnncalc.spec import load_spec, parse_spec
from cnncalc.tensor import Tensor

LENET_BN = "specs/lenet5_bn.yaml"
EPS = Fraction(1e-5)  # BatchNorm's default eps as the double PyTorch adds


def squares_minus_eps(roots: list[Fraction], eps: Fraction = EPS) -> list[str]:
    """running_var values whose var + eps is the square of each root: the fold is then exact."""
    return [str(r * r - eps) for r in roots]


def agree(a: Tensor, b: Tensor, digits: int | None) -> None:
    """Equal element by element: exactly (digits None), or to `digits` significant digits of each element; an
    element below 1e-5 of its tensor's largest, where a sum that cancels magnifies rounding, to `digits` digits of
    1e-5 of that largest (ResNet-18 at seed 0 agrees to 38.9 digits of each layer's largest value and to 35.5
    digits of every element above that floor)."""
    assert a.shape == b.shape
    if digits is None:
        assert a.values() == b.values()
        return
    floor = max(abs(v) for v in a.data) // 10**5
    for x, y in zip(a.data, b.data, strict=True):
        difference = abs(x * b.denominator - y * a.denominator)  # |x/a.den - y/b.den| * a.den * b.den
        assert difference * 10**digits <= max(abs(x), floor) * b.denominator, (
            Fraction(x, a.denominator),
            Fraction(y, b.denominator),
        )


def run_both(source: Graph, seed: int, fused_text: str, digits: int | None) -> tuple[Run, Run]:
    """Run the source spec and the fused spec (values read back from its text) on one seeded input."""
    fused = parse_spec(fused_text, "fused.yaml")
    x = generated_input((source.batch, *source.input_shape), seed)
    before = execute(source, x, weights_for(source, seed), Context())
    after = execute(fused, x, weights_for(fused, seed), Context())
    agree(before.output, after.output, digits)
    return before, after


def fuse_cli(*args: str) -> dict[str, Any]:
    result = run_cli("fuse", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def run_json(*args: str) -> dict[str, Any]:
    result = run_cli("run", *args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def nested_fractions(values: Any) -> Any:
    return [nested_fractions(v) for v in values] if isinstance(values, list) else Fraction(str(values))


def flat(values: Any) -> list[Fraction]:
    return [x for v in values for x in flat(v)] if isinstance(values, list) else [values]


# -- LeNet-5 with BatchNorm, through the command line ----------------------------------------------------------


def test_lenet_bn_exact_where_the_root_is_rational_and_to_30_digits_elsewhere(tmp_path: Path) -> None:
    # bn1's statistics make var + eps a perfect square (its fold into conv1 is exact); bn2's come from the seeded
    # generator (integer variances plus eps 1e-5: irrational roots, folded to 40 digits).
    document = yaml.safe_load((ROOT / LENET_BN).read_text())
    bn1 = next(layer["batchnorm2d"] for layer in document["layers"] if "batchnorm2d" in layer)
    roots = [Fraction(1 + c % 4, 2) for c in range(20)]
    bn1["weights"] = {
        "running_var": squares_minus_eps(roots),
        "running_mean": [str(Fraction(c - 9, 3)) for c in range(20)],
        "weight": [(-1) ** c * (1 + c % 3) for c in range(20)],
        "bias": [str(Fraction(c % 5 - 2, 7)) for c in range(20)],
    }
    spec = tmp_path / "lenet5_bn.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    out = tmp_path / "fused.yaml"
    report = fuse_cli(str(spec), "-o", str(out), "--seed-weights", "3")
    assert [(p["layer"], p["batchnorm"], p["fused"], p["exact"]) for p in report["folded"]] == [
        ("conv1", "bn1", "conv1", True),
        ("conv2", "bn2", "conv2", False),
    ]
    assert report["skipped"] == [] and report["renamed"] == {}
    before = run_json(str(spec), "--seed", "3", "--trace")
    after = run_json(str(out), "--seed", "3", "--trace")
    layers_before = {layer["name"]: layer for layer in before["layers"]}
    layers_after = {layer["name"]: layer for layer in after["layers"]}
    assert not any(kind in layers_after for kind in ("bn1", "bn2"))
    # conv1 + bn1 folded exactly: the fused conv1 outputs bn1's values, exactly (both print exact p/q).
    assert layers_after["conv1"]["output"] == layers_before["bn1"]["output"]
    assert layers_after["pool1"]["output"] == layers_before["pool1"]["output"]
    assert all("." not in str(v) for v in flat(layers_after["conv1"]["output"]))  # no rounded decimal
    # conv2 + bn2 through irrational roots: 30 digits (the original's BatchNorm output is itself rounded).
    assert before["approximate"] is True
    old, new = flat(nested_fractions(before["output"])), flat(nested_fractions(after["output"]))
    for x, y in zip(old, new, strict=True):
        assert abs(x - y) <= abs(x) / 10**30


def test_report_savings_are_the_analyzers_differences(tmp_path: Path) -> None:
    out = tmp_path / "fused.yaml"
    report = fuse_cli(LENET_BN, "-o", str(out))
    summary_before = json.loads(run_cli("summary", LENET_BN, "-f", "json").out)
    summary_after = json.loads(run_cli("summary", str(out), "-f", "json").out)
    for key in ("params", "buffers", "macs", "flops"):
        assert report["before"][key] == summary_before["totals"][key]
        assert report["after"][key] == summary_after["totals"][key]
        assert report["saved"][key] == report["before"][key] - report["after"][key]
    assert report["saved"]["macs"] == 0
    # Only the pairs change: their savings add up to the totals.
    for key in ("params", "buffers", "flops"):
        assert sum(p[f"{key}_saved"] for p in report["folded"]) == report["saved"][key]
    assert [layer["type"] for layer in summary_after["layers"]] == [
        layer["type"] for layer in summary_before["layers"] if not layer["type"].startswith("BatchNorm")
    ]
    assert all(p["exact"] is None for p in report["folded"])  # no values given or asked: structure only
    assert "weights" not in out.read_text()


def expected_savings(graph: Graph, producer: str, norm: str) -> dict[str, int]:
    """A pair's savings from the two layers' own rules: the BatchNorm's params, buffers and other ops go; the
    layer it follows gains a bias (one parameter per channel, one add per output element) if it had none."""
    layer, bn = graph.node(producer).bound(), graph.node(norm).bound()
    gains_bias = "bias" not in layer.weights()
    channels, elements = layer.out_shape[0], prod(layer.out_shape)
    return {
        "params_saved": bn.params() - (channels if gains_bias else 0),
        "buffers_saved": bn.buffer_count(),
        "flops_saved": bn.other_ops() - (elements if gains_bias else 0),
    }


def test_resnet18_cli_flattens_branches_and_reports_every_pair(tmp_path: Path) -> None:
    out = tmp_path / "r18.yaml"
    report = fuse_cli("specs/resnet18.yaml", "-o", str(out), "--input", "3x32x32")
    graph = load_spec("specs/resnet18.yaml", input_shape=(3, 32, 32))
    norms = [n.name for n in graph.nodes if n.kind in NORMS]
    assert sorted(p["batchnorm"] for p in report["folded"]) == sorted(norms) and report["skipped"] == []
    for pair in report["folded"]:
        assert {k: pair[k] for k in ("params_saved", "buffers_saved", "flops_saved")} == expected_savings(
            graph, pair["layer"], pair["batchnorm"]
        )
    assert report["renamed"] == {}  # block paths are names a flat spec can write: they are kept
    fused = load_spec(str(out))
    assert [n.name for n in fused.nodes] == [n.name for n in graph.nodes if n.name not in set(norms)]
    assert fused.input_shape == (3, 32, 32)
    assert not any(n.kind in NORMS for n in fused.nodes)
    adds = [n for n in fused.nodes if n.kind == "Add"]
    assert len(adds) == 8 and all(len(n.inputs) == 2 for n in adds)  # every shortcut survives
    # A projection shortcut reads the block's input, and its add the fused downsample conv.
    assert fused.node("layer2.first.add_1").inputs == ["layer2.first.downsample", "layer2.first.body.conv2"]
    before, after = analyze(graph).totals, analyze(fused).totals
    assert (before.macs, before.output_shape) == (after.macs, after.output_shape)
    assert report["saved"]["params"] == before.params - after.params == 4800  # 9,600 BatchNorm params - 4,800 biases


# -- ResNet-18 with seeded weights, in the library (11.7 million values are too many for a YAML round trip) --


def test_resnet18_seeded_weights_agree_to_30_digits_at_every_layer() -> None:
    graph = load_spec("specs/resnet18.yaml", input_shape=(3, 32, 32))
    fusion = fuse(graph, seed=0)
    assert len(fusion.folded) == 20 and all(f.exact is False for f in fusion.folded)
    fused = parse_spec(spec_text(fusion, with_weights=False), "fused.yaml")
    x = generated_input((1, 3, 32, 32), 0)
    before = execute(graph, x, weights_for(graph, 0), Context())
    after = execute(fused, x, fusion.weights(), Context())
    names = {n.name: fusion.renamed.get(n.name, n.name) for n in graph.nodes}
    producers = {f.producer for f in fusion.folded}
    for f in fusion.folded:  # a folded BatchNorm's output is now its conv's
        names[f.norm] = f.name
    compared = 0
    for node in graph.nodes:
        if node.name not in producers:  # a producer's own (pre-BatchNorm) output no longer exists
            agree(before.outputs[node.name], after.outputs[names[node.name]], digits=30)
            compared += 1
    assert compared == len(graph.nodes) - 20


# -- every kind that folds, exactly ------------------------------------------------------------------------------


def bn_values(channels: int, draw: Any, eps: Fraction) -> dict[str, list[str]]:
    roots = [Fraction(draw(st.integers(1, 6)), draw(st.integers(1, 4))) for _ in range(channels)]
    return {
        "running_var": squares_minus_eps(roots, eps),
        "running_mean": [str(Fraction(draw(st.integers(-6, 6)), draw(st.integers(1, 5)))) for _ in range(channels)],
        "weight": [str(Fraction(draw(st.integers(-4, 4)), draw(st.integers(1, 3)))) for _ in range(channels)],
        "bias": [str(Fraction(draw(st.integers(-4, 4)), draw(st.integers(1, 3)))) for _ in range(channels)],
    }


@st.composite
def folding_specs(draw: Any) -> tuple[str, int]:
    """A small network: a conv (1-D, 2-D, 3-D) or linear layer with a BatchNorm after it whose roots are rational,
    with the spec's options drawn (bias, groups, padding modes, affine, eps 0, batch)."""
    kind = draw(st.sampled_from(["conv1d", "conv2d", "conv3d", "linear"]))
    dims = {"conv1d": 1, "conv2d": 2, "conv3d": 3, "linear": 0}[kind]
    groups = draw(st.sampled_from([1, 2]))
    channels = 2 * draw(st.integers(1, 2))
    out = 2 * draw(st.integers(1, 2))
    size = [3, 3, 2][:dims]
    layer: dict[str, Any] = {"name": "layer", "bias": draw(st.booleans())}
    if dims:
        layer.update(out_channels=out, kernel_size=draw(st.sampled_from([1, 2])), groups=groups)
        layer["padding"] = draw(st.sampled_from([0, 1]))
        layer["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "circular"]))
        shape = [channels, *size]
    else:
        layer.update(out_features=out)
        shape = [channels]
    eps = draw(st.sampled_from([0.0, 1e-5, 1e-3]))
    norm: dict[str, Any] = {"name": "bn", "eps": eps}
    affine = draw(st.sampled_from(["affine", "no affine", "no bias"]))
    if affine == "no affine":
        norm["affine"] = False
    if affine == "no bias":
        norm["bias"] = False
    values = bn_values(out, draw, Fraction(eps))
    norm["weights"] = {
        k: v for k, v in values.items() if k.startswith("running") or (k == "weight" and affine != "no affine")
    }
    if affine == "affine":
        norm["weights"]["bias"] = values["bias"]
    norm_kind = f"batchnorm{max(dims, 1)}d"
    document = {
        "name": "small",
        "input": shape,
        "batch": draw(st.integers(1, 2)),
        # The BatchNorm may be the network's output: the fused layer then is.
        "layers": [{kind: layer}, {norm_kind: norm}] + draw(st.sampled_from([[], [{"relu": None}, {"flatten": None}]])),
    }
    return yaml.safe_dump(document, sort_keys=False), draw(st.integers(0, 1000))


@settings(max_examples=300, deadline=None)
@given(folding_specs())
def test_every_folding_kind_is_exact_when_the_roots_are_rational(case: tuple[str, int]) -> None:
    text, seed = case
    graph = parse_spec(text, "small.yaml")
    fusion = fuse(graph, seed=seed)
    assert [(f.producer, f.norm, f.exact) for f in fusion.folded] == [("layer", "bn", True)]
    before, after = run_both(graph, seed, spec_text(fusion), digits=None)
    assert not before.approximate and not after.approximate


def test_values_given_in_the_spec_fold_without_a_seed_and_print_as_fractions() -> None:
    # Linear + BatchNorm1d, every value in the spec: scale 2/3 per channel (var + eps = 9/4), so p/q values.
    text = """
input: [3]
layers:
  - linear: {out_features: 2, name: fc, weights: {weight: [[1, 2, 3], [-1, 0, "1/2"]], bias: [1, -1]}}
  - batchnorm1d: {name: bn, weights: {running_mean: ["1/3", -2], running_var: VAR, weight: [1, -2],
                  bias: [0, "1/5"]}}
  - sigmoid
""".replace("VAR", json.dumps(squares_minus_eps([Fraction(3, 2), Fraction(3, 2)])))
    graph = parse_spec(text, "fc.yaml")
    fusion = fuse(graph)
    written = spec_text(fusion)
    assert '"2/3"' in written
    fused = parse_spec(written, "fused.yaml")
    assert [n.kind for n in fused.nodes] == ["Linear", "Sigmoid"]
    # exactly the fold's figures: w' = w * 2/3 * gamma, b' = (b - mean) * 2/3 * gamma + beta
    weights = weights_for(fused, 0)["fc"]
    assert weights["weight"].values() == [Fraction(2, 3), Fraction(4, 3), 2, Fraction(4, 3), 0, Fraction(-2, 3)]
    assert weights["bias"].values() == [Fraction(4, 9), Fraction(-4, 3) + Fraction(1, 5)]
    # sigmoid leaves the rationals: both runs round at the same place, so they agree to its 40 digits
    run_both(graph, 0, written, digits=30)


# -- what is not folded, and the command line ----------------------------------------------------------------

UNFOLDABLE = """
name: skips
input: [2, 6, 6]
layers:
  - batchnorm2d: {name: bn_in}
  - conv2d: {out_channels: 3, kernel_size: 3, name: c1}
  - batchnorm2d: {name: b1}
  - batchnorm2d: {name: b1b}
  - conv2d: {out_channels: 3, kernel_size: 1, name: c2}
  - batchnorm2d: {name: b2, track_running_stats: false}
  - conv2d: {out_channels: 3, kernel_size: 1, name: c3}
  - batchnorm2d: {name: b3}
  - add: {inputs: [b3, c3]}
  - conv2d: {out_channels: 3, kernel_size: 1, name: c4}
  - batchnorm2d: {name: b4}
  - flatten: {start_dim: 2}
  - linear: {out_features: 5, name: fc}
  - batchnorm1d: {name: b5}
"""


def test_batchnorms_that_cannot_fold_stay_with_the_reason(tmp_path: Path) -> None:
    spec = tmp_path / "skips.yaml"
    spec.write_text(UNFOLDABLE)
    out = tmp_path / "out.yaml"
    report = fuse_cli(str(spec), "-o", str(out), "--seed-weights", "1")
    assert [(p["layer"], p["batchnorm"]) for p in report["folded"]] == [("c1", "b1"), ("c4", "b4")]
    reasons = {s["batchnorm"]: s["reason"] for s in report["skipped"]}
    assert "network input" in reasons["bn_in"]
    assert "'b1' (BatchNorm2d)" in reasons["b1b"] and "fuse on the result" in reasons["b1b"]
    assert "track_running_stats is false" in reasons["b2"]
    assert "also read by 'add_1'" in reasons["b3"]
    assert "features on the last axis" in reasons["b5"]  # Linear to 3 x 5: BatchNorm1d normalizes the 3 channels
    fused = load_spec(str(out))
    assert [n.name for n in fused.nodes if n.kind in NORMS] == ["bn_in", "b1b", "b2", "b3", "b5"]
    graph = load_spec(str(spec))
    run_both(graph, 1, out.read_text(), digits=30)  # the values written agree with the seeded originals
    again = fuse_cli(str(out), "-o", str(tmp_path / "again.yaml"))
    assert [(p["layer"], p["batchnorm"]) for p in again["folded"]] == [("c1", "b1b")]


def test_nothing_to_fold_is_not_an_error(tmp_path: Path) -> None:
    out = tmp_path / "lenet5.yaml"
    result = run_cli("fuse", "specs/lenet5.yaml", "-o", str(out))
    assert result.code == 0, result.err
    assert "nothing to fold" in result.out and result.err == ""
    before = json.loads(run_cli("summary", "specs/lenet5.yaml", "-f", "json").out)["totals"]
    after = json.loads(run_cli("summary", str(out), "-f", "json").out)["totals"]
    assert before == after
    report = fuse_cli("specs/lenet5.yaml", "-o", str(out))
    assert report["folded"] == [] and set(report["saved"].values()) == {0}


def test_output_to_stdout_puts_the_report_on_stderr() -> None:
    result = run_cli("fuse", LENET_BN, "-o", "-")
    assert result.code == 0, result.err
    assert parse_spec(result.out, "<stdout>").name == "lenet5_bn_fused"
    assert "folded 2 BatchNorm" in result.err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((LENET_BN,), "--output"),  # -o is required
        (("specs/no_such.yaml", "-o", "x.yaml"), "no such file"),
        (("specs", "-o", "x.yaml"), "is a directory"),
        ((LENET_BN, "-o", "no_such_dir/fused.yaml"), "cannot write no_such_dir/fused.yaml"),
        ((LENET_BN, "-o", "x.yaml", "--input", "1x2x2"), "kernel"),  # 5 x 5 kernels do not fit 2 x 2
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    result = run_cli("fuse", *args)
    assert result.code == 2 and needle in result.err and "Traceback" not in result.err
    assert result.out == ""


PARTIAL = """
input: [1, 4, 4]
layers:
  - conv2d: {out_channels: 2, kernel_size: 3, name: conv, weights: {weight: [[[[1, 0, 0], [0, 1, 0], [0, 0, 1]]],
                                                                              [[[0, 0, 1], [0, 1, 0], [1, 0, 0]]]]}}
  - batchnorm2d: {name: bn, eps: 0.0, weights: {running_var: [%s, 1]}}
"""


@pytest.mark.parametrize(
    ("var", "needle"),
    [
        ("4", "conv.bias, bn.running_mean, bn.weight, bn.bias are not given"),
        ("0", "running_var + eps is 0 for channel 0"),
    ],
)
def test_values_that_cannot_fold_are_errors_at_their_place(tmp_path: Path, var: str, needle: str) -> None:
    spec = tmp_path / "partial.yaml"
    spec.write_text(PARTIAL % var)
    # Without a seed, the spec's values alone must make the fold; with one, the rest comes from the generator.
    args = ("-o", str(tmp_path / "out.yaml")) + (("--seed-weights", "0") if var == "0" else ())
    result = run_cli("fuse", str(spec), *args)
    assert result.code == 2, result.out
    assert needle in result.err and f"{spec}:" in result.err
    if var == "4":
        assert "--seed-weights" in result.err
        assert run_cli("fuse", str(spec), "-o", str(tmp_path / "out.yaml"), "--seed-weights", "0").code == 0
