"""Lint rules: each with a spec where it fires and one where it does not; silencing; rule metadata and docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnncalc.analyze import analyze
from cnncalc.errors import Location, SpecError, UsageError
from cnncalc.lint import ERROR, RULES, WARNING, Finding, lint, rule_ids
from cnncalc.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent


def findings(text: str, batch: int | None = None, ignore: frozenset[str] = frozenset()) -> list[Finding]:
    graph = parse_spec(text, "net.yaml", batch=batch)
    return lint(graph, analyze(graph), ignore)


def spec(layers: str, input: str = "[3, 32, 32]", top: str = "") -> str:
    return f"input: {input}\n{top}layers:\n" + "".join(f"  - {line}\n" for line in layers.strip().splitlines())


def names(found: list[Finding]) -> list[tuple[str, str | None]]:
    return [(f.name, f.layer) for f in found]


# Each rule: (name, a spec where it fires at `layer`, a spec where it does not fire).
CASES = {
    "bias-before-norm": (
        spec("conv2d: {out_channels: 4, kernel_size: 3, name: c}\nbatchnorm2d"),
        "c",
        spec("conv2d: {out_channels: 4, kernel_size: 3, bias: false, name: c}\nbatchnorm2d"),
    ),
    "small-batch-norm": (
        spec("conv2d: {out_channels: 4, kernel_size: 3, bias: false}\nbatchnorm2d: {name: bn}", top="batch: 4\n"),
        "bn",
        spec("conv2d: {out_channels: 4, kernel_size: 3, bias: false}\nbatchnorm2d: {name: bn}", top="batch: 8\n"),
    ),
    "stride-drops-input": (
        spec("conv2d: {out_channels: 4, kernel_size: 3, stride: 2, name: c}"),  # 32: 15 windows end at row 30
        "c",
        spec("conv2d: {out_channels: 4, kernel_size: 3, stride: 2, padding: 1, name: c}"),
    ),
    "even-kernel-same": (
        spec("conv2d: {out_channels: 4, kernel_size: 2, padding: same, name: c}"),
        "c",
        spec("conv2d: {out_channels: 4, kernel_size: 3, padding: same, name: c}"),
    ),
    "linear-multi-axis": (
        spec("conv2d: {out_channels: 4, kernel_size: 3}\nlinear: {out_features: 10, name: fc}"),
        "fc",
        spec("conv2d: {out_channels: 4, kernel_size: 3}\nflatten\nlinear: {out_features: 10, name: fc}"),
    ),
    "dropout-before-norm": (
        spec("conv2d: {out_channels: 4, kernel_size: 3, bias: false}\ndropout\nbatchnorm2d: {name: bn}"),
        "bn",
        spec("conv2d: {out_channels: 4, kernel_size: 3, bias: false}\nbatchnorm2d: {name: bn}\ndropout"),
    ),
    "small-receptive-field": (
        spec("conv2d: {out_channels: 4, kernel_size: 3}\nadaptiveavgpool2d: {output_size: 1, name: gap}"),
        "gap",
        spec(
            "conv2d: {out_channels: 4, kernel_size: 3}\nflatten\nlinear: {out_features: 10}"
        ),  # Flatten + Linear sees every position
    ),
    "misaligned-branches": (
        spec(
            "conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: a}\n"
            "conv2d: {out_channels: 4, kernel_size: 3, inputs: input, name: b}\n"
            "zeropad2d: {padding: [2, 0, 2, 0], name: shifted}\n"
            "add: {inputs: [a, shifted], name: sum}"
        ),
        "sum",
        spec(
            "conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: a}\n"
            "conv2d: {out_channels: 4, kernel_size: 3, inputs: input, name: b}\n"
            "zeropad2d: {padding: [1, 1, 1, 1], name: shifted}\n"
            "add: {inputs: [a, shifted], name: sum}"
        ),
    ),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(rule.name for rule in RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires(rule: str) -> None:
    firing, layer, _ = CASES[rule]
    found = [f for f in findings(firing) if f.name == rule]
    assert [f.layer for f in found] == [layer]
    finding = found[0]
    assert finding.location is not None and finding.location.file == "net.yaml"
    assert finding.message and finding.hint
    assert finding.label is not None and f"'{layer}'" in finding.label


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_does_not_fire(rule: str) -> None:
    _, _, quiet = CASES[rule]
    assert [f for f in findings(quiet) if f.name == rule] == []


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_silenced_by_id_name_and_option(rule: str) -> None:
    firing, layer, _ = CASES[rule]
    by_rule = next(r for r in RULES if r.name == rule)
    for key in (by_rule.name, by_rule.id, by_rule.id.lower()):
        silenced = firing.replace("layers:\n", f"ignore: [{key}]\nlayers:\n", 1)
        assert [f for f in findings(silenced) if f.name == rule] == []
    assert [f for f in findings(firing, ignore=rule_ids([rule])) if f.name == rule] == []


def test_stochastic_depth_before_norm_is_dropout_before_norm() -> None:
    """Stochastic depth drops whole samples and rescales the rest: BatchNorm after it learns a misfit variance."""
    text = spec(
        "conv2d: {out_channels: 4, kernel_size: 3, bias: false}\n"
        "stochasticdepth: {p: 0.2, mode: row, name: sd}\nbatchnorm2d: {name: bn}"
    )
    found = [f for f in findings(text) if f.name == "dropout-before-norm"]
    assert [f.layer for f in found] == ["bn"]
    assert "stochastic depth changes the variance" in found[0].message


def test_layer_ignore_silences_only_that_layer() -> None:
    text = spec(
        "conv2d: {out_channels: 4, kernel_size: 3, name: a, ignore: bias-before-norm}\nbatchnorm2d\n"
        "conv2d: {out_channels: 4, kernel_size: 3, name: b}\nbatchnorm2d"
    )
    assert names(findings(text)) == [("bias-before-norm", "b")]


def test_block_ignore_silences_the_blocks_layers() -> None:
    text = (
        "input: [3, 32, 32]\nblocks:\n  unit:\n    layers:\n"
        "      - conv2d: {out_channels: 4, kernel_size: 3, padding: 1, name: conv}\n      - batchnorm2d\n"
        "layers:\n  - unit: {name: quiet, ignore: [CN001]}\n  - unit: {name: loud}\n"
    )
    assert names(findings(text)) == [("bias-before-norm", "loud.conv")]


def test_unknown_rule_in_spec_is_an_error_with_did_you_mean() -> None:
    with pytest.raises(SpecError) as error:
        parse_spec(spec("relu: {ignore: bias-before-nrom}"), "net.yaml")
    assert "no lint rule 'bias-before-nrom'" in error.value.message
    assert error.value.hint == "did you mean 'bias-before-norm'?"
    assert error.value.location == Location("net.yaml", 3, 20)
    assert error.value.layer == "layer 'relu_1' (#1, ReLU)"
    with pytest.raises(UsageError):
        rule_ids(["no-such-rule"])


def test_small_batch_needs_a_declared_batch_and_errs_on_one_value_per_channel() -> None:
    body = "linear: {out_features: 4, bias: false}\nbatchnorm1d: {name: bn}"
    assert findings(spec(body, input="[16]")) == []  # batch unknown: the default 1 is not a training batch
    found = findings(spec(body, input="[16]"), batch=1)
    assert [(f.name, f.severity) for f in found] == [("small-batch-norm", ERROR)]
    found = findings(spec(body, input="[16]"), batch=2)
    assert [(f.name, f.severity) for f in found] == [("small-batch-norm", WARNING)]
    assert "2 values per channel" in found[0].message


def _unread_tail(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Input rows after the last one any window reads, by enumerating the windows (PyTorch's floor rule)."""
    out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    read = {j * stride - padding + t * dilation for j in range(out) for t in range(kernel)}
    last = max(r for r in read if r < size)
    return size - 1 - last


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [(32, 3, 2, 0, 1), (33, 3, 2, 0, 1), (32, 5, 3, 1, 1), (224, 7, 2, 3, 1), (31, 3, 2, 0, 2), (100, 4, 4, 0, 1)],
)
def test_stride_drops_counts_the_unread_rows(size: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
    text = spec(
        f"conv2d: {{out_channels: 2, kernel_size: {kernel}, stride: {stride}, padding: {padding}, "
        f"dilation: {dilation}, name: c}}",
        input=f"[1, {size}, {size}]",
    )
    lost = _unread_tail(size, kernel, stride, padding, dilation)
    found = [f for f in findings(text) if f.name == "stride-drops-input"]
    if lost == 0:
        assert found == []
    else:
        assert len(found) == 1
        assert f"along H the last {lost} of {size} input row" in found[0].message
        assert f"along W the last {lost} of {size} input column" in found[0].message


def test_pooling_ceil_mode_reads_the_tail() -> None:
    floor = spec("maxpool2d: {kernel_size: 2, name: p}", input="[1, 33, 33]")
    ceil = spec("maxpool2d: {kernel_size: 2, ceil_mode: true, name: p}", input="[1, 33, 33]")
    assert names(findings(floor)) == [("stride-drops-input", "p")]
    assert findings(ceil) == []


def test_shipped_specs_are_lint_clean() -> None:
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        graph = parse_spec(path.read_text(), str(path))
        assert lint(graph, analyze(graph)) == [], path.name


def test_every_rule_is_documented() -> None:
    """Each rule has a section in docs/ci.md headed by its id and name, holding its explanation's text."""
    doc = (ROOT / "docs" / "ci.md").read_text()
    for rule in RULES:
        heading = f"### {rule.id} {rule.name}"
        assert heading in doc, heading
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        assert " ".join(rule.explanation.split()) in " ".join(section.split()), rule.name


SQUEEZE_EXCITE = spec(
    "conv2d: {out_channels: 16, kernel_size: 3, stride: 2, padding: 1, name: stem}\n"
    "relu\n"
    "conv2d: {out_channels: 16, kernel_size: 3, padding: 1, groups: 16, name: dw}\n"
    "adaptiveavgpool2d: {output_size: 1, name: se_pool}\n"
    "conv2d: {out_channels: 4, kernel_size: 1}\n"
    "relu\n"
    "conv2d: {out_channels: 16, kernel_size: 1}\n"
    "hardsigmoid: {name: gate}\n"
    "mul: {inputs: [dw, gate], name: scaled}\n"
    "adaptiveavgpool2d: {output_size: 1, name: gap}\n"
    "flatten\n"
    "linear: {out_features: 10}"
)


def test_small_receptive_field_skips_squeeze_and_excitation_pools() -> None:
    """An SE block's pool only gates channels (its values reach the output only through mul's broadcast input);
    the pool before the classifier is the one judged."""
    found = [f for f in findings(SQUEEZE_EXCITE) if f.name == "small-receptive-field"]
    assert [f.layer for f in found] == ["gap"]
    assert "'scaled'" in found[0].message


def test_small_receptive_field_judges_a_pool_that_also_feeds_the_classifier() -> None:
    """A pool read by a gate and, through another path, by the classifier still hands its features on."""
    text = SQUEEZE_EXCITE.replace("adaptiveavgpool2d: {output_size: 1, name: gap}", "identity: {inputs: se_pool}")
    found = [f for f in findings(text) if f.name == "small-receptive-field"]
    assert [f.layer for f in found] == ["se_pool"]


def test_misaligned_branches_on_more_than_three_spatial_axes_names_them() -> None:
    """Four spatial axes have no letters: they are named by PyTorch's dim (d2 ... d5), never a crash."""
    text = spec(
        "identity: {name: a}\nzeropad3d: {padding: [1, -1, 0, 0, 0, 0], inputs: input, name: b}\n"
        "add: {inputs: [a, b], name: sum}",
        input="[1, 4, 4, 4, 4]",
    )
    (found,) = findings(text)
    assert (found.name, found.layer) == ("misaligned-branches", "sum")
    assert "along d5 their fields are centred at different places" in found.message
