"""explain() and notes() of normalizations, activations, dropout, merges and resizing.

Every formula a kind shows must evaluate (tests/test_layer_cli.py's evaluator, on its `numbers` text) to its value,
and that value must be the analyzer's figure. The notes are checked against what the layers do: the statistics
axes against torch (the output does not move when a constant is added per statistics group, and does when the
constant varies inside one), dropout's scale against the executor's and torch's kept values, the axes named in the
notes against PyTorch's documentation.
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from math import prod
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_layer_cli import check_formulas, evaluate

from cnncalc.compute import Context
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers import Layer, Shape, make_layer
from cnncalc.layers.resize import PadNd, exact_factor
from cnncalc.render.layer import layer_dict
from cnncalc.tensor import Tensor

SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.filter_too_much]}
# Where a named output axis sits in the per-sample shape: C first, the spatial axes counted from the end (padding
# layers pad the last axes whatever the rank).
AXIS_POSITION = {"C": 0, "L": -1, "W": -1, "H": -2, "D": -3}


def build(kind: str, args: dict[str, Any], *shapes: Shape) -> Layer | None:
    """The layer, or None where PyTorch (and so cnncalc) rejects the configuration."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make_layer(kind, args, *shapes)
    except LayerError:
        return None


def figures(layer: Layer) -> dict[str, Any]:
    """What each formula must equal: the analyzer's figures."""
    wanted: dict[str, Any] = {
        "params": layer.params(),
        "buffers": layer.buffer_count(),
        "MACs": layer.macs(),
        "other ops": layer.other_ops(),
    }
    for axis, position in AXIS_POSITION.items():
        if len(layer.out_shape) >= max(position + 1, -position):
            wanted[f"output {axis} (PyTorch)"] = layer.out_shape[position]
    return wanted


def check_explained(layer: Layer) -> dict[str, Any]:
    """Every formula evaluates to its value, which is the analyzer's figure; returns them by label."""
    wanted = figures(layer)
    explained = dict(layer.explain())
    assert len(explained) == len(layer.explain()), "a label shown twice"
    for what, term in explained.items():
        assert what in wanted, f"{layer.kind}: no figure to check '{what}' against"
        value = term.value if isinstance(term, Term) else term
        assert value == wanted[what], (layer.kind, what, term)
        if isinstance(term, Term):
            assert evaluate(term.numbers) == term.value, (layer.kind, what, term)
    # `cnncalc layer`'s JSON, in either layout, passes the CLI test's own check, which reads the first axis as the
    # channels: wherever there is one (a padding layer's input may have none).
    if len(layer.in_shapes) == 1 and not (isinstance(layer, PadNd) and len(layer.in_shape) == layer.dims):
        for layout in ("chw", "hwc"):
            check_formulas(layer_dict(layer, layout))
    return explained


# -- normalizations ---------------------------------------------------------------------------------------------


@st.composite
def norm_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape]:
    family = draw(st.sampled_from(["BatchNorm", "InstanceNorm", "LayerNorm", "GroupNorm", "RMSNorm"]))
    if family in ("BatchNorm", "InstanceNorm"):
        dims = draw(st.integers(1, 3))
        rank = dims + 1 if family == "InstanceNorm" or dims > 1 else draw(st.sampled_from([1, 2]))
        shape = tuple(draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
        args = {
            "affine": draw(st.booleans()),
            "bias": draw(st.booleans()),
            "track_running_stats": draw(st.booleans()),
            "momentum": draw(st.sampled_from([0.1, None, 0.3, 0.01])),
        }
        return f"{family}{dims}d", args, shape
    rank = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)))
    if family == "GroupNorm":
        channels = shape[0]
        groups = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
        return family, {"num_groups": groups, "affine": draw(st.booleans()), "bias": draw(st.booleans())}, shape
    args = {"normalized_shape": list(shape[draw(st.integers(0, rank - 1)) :])}
    args["elementwise_affine"] = draw(st.booleans())
    if family == "LayerNorm":
        args["bias"] = draw(st.booleans())
    return family, args, shape


@settings(max_examples=1500, **SETTINGS)
@given(norm_configs())
def test_normalization_formulas_equal_the_figures(config: tuple[str, dict[str, Any], Shape]) -> None:
    kind, args, shape = config
    layer = build(kind, args, shape)
    if layer is None:
        return
    explained = check_explained(layer)
    assert "other ops" in explained
    assert ("params" in explained) == bool(layer.weights())
    assert ("buffers" in explained) == bool(layer.buffers())
    # The shapes the formulas count are the state_dict's (element_count groups them, it must not lose any).
    assert layer.params() == sum(prod(s) for s in layer.weights().values())
    assert layer.buffer_count() == sum(prod(s) for s in layer.buffers().values())
    notes = layer.notes()
    for name, shape_ in {**layer.weights(), **layer.buffers()}.items():
        assert any(f"{name} " in note and note.count(name) for note in notes), (name, shape_, notes)


def test_the_lecture_batchnorm() -> None:
    """BatchNorm2d on 16 x 8 x 8: 2*C params, 2*C + 1 buffers, C*H*W*(2 + 1 + 1) ops at inference."""
    layer = make_layer("batchnorm2d", {}, (16, 8, 8))
    explained = check_explained(layer)
    assert (explained["params"].symbols, explained["params"].numbers) == ("2*C", "2*16")
    assert (explained["buffers"].symbols, explained["buffers"].numbers) == ("2*C + 1", "2*16 + 1")
    assert explained["other ops"].numbers == "16*8*8*(2 + 1 + 1)"
    statistics, train, evaluation, learned, kept = layer.notes()
    assert "over N, H, W of the N x C x H x W batch" in statistics and "C = 16 entries" in statistics
    assert "the batch's" in train and "0.9*running + 0.1*batch value" in train
    assert "running_mean and running_var" in evaluation and evaluation.startswith("eval")
    assert learned == "learned: weight (scale) 16, bias (shift) 16"
    assert "running_mean 16, running_var 16, num_batches_tracked 1" in kept


AXES = {1: "C", 2: "C x L", 3: "C x H x W", 4: "C x D x H x W"}


@settings(max_examples=200, **SETTINGS)
@given(
    dims=st.integers(1, 3),
    channels=st.integers(1, 64),
    sizes=st.lists(st.integers(2, 30), min_size=3, max_size=3),
    length=st.booleans(),
)
def test_batchnorm_notes_name_the_axes(dims: int, channels: int, sizes: list[int], length: bool) -> None:
    """PyTorch: BatchNorm's mean and variance are per channel, over the batch and every spatial axis."""
    spatial = sizes[:dims] if dims > 1 or length else []
    layer = make_layer(f"batchnorm{dims}d", {}, (channels, *spatial))
    reduced = ", ".join(["N", *AXES[len(spatial) + 1].split(" x ")[1:]])
    statistics = layer.notes()[0]
    assert f"over {reduced} of the N x {AXES[len(spatial) + 1]} batch" in statistics
    assert f"C = {channels} entries, one per channel" in statistics


@settings(max_examples=200, **SETTINGS)
@given(dims=st.integers(1, 3), channels=st.integers(1, 64), sizes=st.lists(st.integers(2, 30), min_size=3, max_size=3))
def test_instancenorm_notes_name_the_axes(dims: int, channels: int, sizes: list[int]) -> None:
    """PyTorch: InstanceNorm's statistics are per sample and channel, over the spatial axes."""
    layer = make_layer(f"instancenorm{dims}d", {}, (channels, *sizes[:dims]))
    axes = AXES[dims + 1]
    statistics = layer.notes()[0]
    assert f"over {', '.join(axes.split(' x ')[1:])} of the N x {axes} batch" in statistics
    assert f"N x C = N x {channels} entries, {channels} per sample" in statistics
    assert "train and eval alike: normalizes with each sample's own" in layer.notes()[1]


@settings(max_examples=200, **SETTINGS)
@given(shape=st.lists(st.integers(1, 12), min_size=1, max_size=4), data=st.data())
def test_layernorm_notes_name_the_axes(shape: list[int], data: st.DataObject) -> None:
    """PyTorch: LayerNorm's statistics are per sample (and leading position), over the normalized last axes."""
    start = data.draw(st.integers(0, len(shape) - 1), label="start")
    layer = make_layer("layernorm", {"normalized_shape": shape[start:]}, tuple(shape))
    names = AXES[len(shape)].split(" x ")
    statistics = layer.notes()[0]
    assert f"over {', '.join(names[start:])} of the N x {AXES[len(shape)]} batch" in statistics
    if start == 0:
        assert "N entries, one per sample" in statistics
    else:
        kept = " x ".join(names[:start]) + " = " + " x ".join(str(s) for s in shape[:start])
        assert f"N x {kept.replace(' = ', ' = N x ')} entries, {prod(shape[:start])} per sample" in statistics


@settings(max_examples=200, **SETTINGS)
@given(per_group=st.integers(1, 8), groups=st.integers(1, 8), spatial=st.lists(st.integers(2, 9), max_size=3))
def test_groupnorm_notes_name_the_axes(per_group: int, groups: int, spatial: list[int]) -> None:
    """PyTorch: GroupNorm's statistics are per sample and group, over the group's channels and every position."""
    channels = per_group * groups
    if per_group * prod(spatial) == 1:
        return  # one value per group: PyTorch rejects it
    layer = make_layer("groupnorm", {"num_groups": groups}, (channels, *spatial))
    statistics = layer.notes()[0]
    names = AXES[len(spatial) + 1].split(" x ")
    assert f"over {', '.join(['C/G', *names[1:]])} of the N x {AXES[len(spatial) + 1]} batch" in statistics
    assert f"C = {channels} channels split into G = {groups} groups of C/G = {per_group}" in statistics
    assert f"N x G = N x {groups} entries, {groups} per sample" in statistics


def group_of_each_element(layer: Layer, shape: Shape) -> list[int]:
    """The statistics group of every element of a batch of `shape`, from the StatisticsAxes the notes name."""
    axes = layer.statistics_axes(shape)  # type: ignore[attr-defined]
    inner = prod(size for _, size in axes.after)
    period = prod(size for _, size in axes.groups)
    assert prod(size for _, size in axes.before + axes.groups + axes.after) == prod(shape)
    return [(i // inner) % period for i in range(prod(shape))]


@settings(max_examples=400, **SETTINGS)
@given(config=norm_configs(), batch=st.integers(2, 3), seed=st.integers(0, 2**16))
def test_the_statistics_axes_are_torchs(config: tuple[str, dict[str, Any], Shape], batch: int, seed: int) -> None:
    """The axes the notes name are the ones torch takes its statistics over, in training: adding a constant per
    group (multiplying by one, for RMSNorm, which does not centre) leaves torch's output as it is, and changing one
    element of a group alone does not."""
    torch = pytest.importorskip("torch")
    from torch_graph import layer_arguments

    kind, args, shape = config
    layer = build(kind, {**args, "track_running_stats": False} if "track_running_stats" in args else args, shape)
    if layer is None:
        return
    batched = (batch, *shape)
    groups = group_of_each_element(layer, batched)
    if min(groups.count(g) for g in set(groups)) < 2:
        return  # a group of one value: every output is 0 whatever the input
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batched, dtype=torch.float64, generator=generator)
    offsets = torch.rand(max(groups) + 1, dtype=torch.float64, generator=generator) + 0.5
    per_element = offsets[torch.tensor(groups)].reshape(batched)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = getattr(torch.nn, layer.kind)(**layer_arguments(layer)).double().train()
    centred = layer.kind != "RMSNorm"
    moved = x + per_element if centred else x * per_element
    with torch.no_grad():
        assert torch.allclose(module(x), module(moved), rtol=1e-6, atol=1e-6), (kind, args, shape)
        if groups.count(groups[0]) < 3:
            return  # two values normalize to -1 and 1 whatever they are
        inside = x.clone().flatten()
        inside[0] = inside[0] + 3 if centred else inside[0] * 3
        assert not torch.allclose(module(x), module(inside.reshape(batched)), rtol=1e-6, atol=1e-6)


# -- dropout --------------------------------------------------------------------------------------------------------

P_VALUES = [0.5, 0.1, 0.2, 0.25, 0.3, 0.75, 0.9, 0.05, 0.123, 1 / 3]


def stated_scale(note: str, p: float) -> Fraction:
    match = re.search(r"scaled by 1/\(1 - p\) = 1/\(1 - ([^)]+)\) = ([0-9./]+)", note)
    assert match, note
    assert match.group(1) == str(p)
    return Fraction(match.group(2))


@settings(max_examples=200, **SETTINGS)
@given(
    kind=st.sampled_from(["dropout", "dropout1d", "dropout2d", "dropout3d"]),
    p=st.sampled_from(P_VALUES),
    shape=st.sampled_from([(4,), (3, 5), (2, 3, 3), (2, 2, 2, 3)]),
)
def test_dropout_notes_state_the_executors_scale(kind: str, p: float, shape: Shape) -> None:
    layer = build(kind, {"p": p}, shape)
    if layer is None:
        return
    assert layer.explain() == []  # nothing to derive: no weights, no ops at inference, same shape
    train, evaluation = layer.notes()
    scale = stated_scale(train, p)
    assert f"1 - p = 1 - {p} = " in train
    assert evaluation.startswith("eval") and "identity" in evaluation
    batch = (4, *shape)
    for seed in range(50):  # until some unit is kept
        ctx = Context("train", seed=seed)
        ctx.layer = "layer"
        out = layer.forward([Tensor(batch, [1] * prod(batch))], {}, ctx)
        kept = {Fraction(v, out.denominator) for v in out.data} - {0}
        if kept:
            break
    assert kept == {scale}  # what forward multiplies the kept values by
    assert "each value" in train if layer.mask_unit(batch) == 1 else "values together" in train  # type: ignore[attr-defined]


@pytest.mark.parametrize("p", P_VALUES)
def test_dropout_scale_is_torchs(p: float) -> None:
    torch = pytest.importorskip("torch")
    scale = stated_scale(make_layer("dropout", {"p": p}, (10,)).notes()[0], p)
    out = torch.nn.Dropout(p).train()(torch.ones(1000, dtype=torch.float64))
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, float(scale)), rtol=1e-12, atol=0)


def test_the_lecture_dropout() -> None:
    train, evaluation = make_layer("dropout", {"p": 0.5}, (10,)).notes()
    assert "1/(1 - p) = 1/(1 - 0.5) = 2" in train and "1 - p = 1 - 0.5 = 0.5" in train
    assert make_layer("dropout", {"p": 1}, (10,)).notes()[0].endswith("all zeros")
    assert "keeps everything unscaled" in make_layer("dropout", {"p": 0}, (10,)).notes()[0]


# -- activations ----------------------------------------------------------------------------------------------------

ACTIVATIONS = "ReLU ReLU6 LeakyReLU PReLU ELU GELU SiLU Sigmoid Tanh Hardtanh Hardswish Hardsigmoid Softmax".split()


@settings(max_examples=1500, **SETTINGS)
@given(
    kind=st.sampled_from(ACTIVATIONS),
    shape=st.lists(st.integers(1, 20), min_size=1, max_size=4),
    data=st.data(),
)
def test_activation_formulas_equal_the_figures(kind: str, shape: list[int], data: st.DataObject) -> None:
    args: dict[str, Any] = {}
    if kind == "PReLU":
        args["num_parameters"] = data.draw(st.sampled_from([1, shape[0]]), label="num_parameters")
    elif kind == "GELU":
        args["approximate"] = data.draw(st.sampled_from(["none", "tanh"]), label="approximate")
    elif kind == "Softmax":
        args["dim"] = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    layer = build(kind, args, tuple(shape))
    if layer is None:
        return
    explained = check_explained(layer)
    ops = explained["other ops"]
    per_element = layer.other_ops() // prod(shape)
    assert ops.numbers == "*".join(map(str, shape)) + f"*{per_element}"
    assert f"{per_element} per element" in layer.ops_rule or f"{per_element} for '" in layer.ops_rule  # k, in words
    if kind == "PReLU":
        assert explained["params"] == layer.params() == args["num_parameters"]
        assert ("per channel" in layer.notes()[0]) == (args["num_parameters"] > 1)


def test_softmax_notes_name_the_axis() -> None:
    assert "over the C = 10 values along dim 1 (C)" in make_layer("softmax", {"dim": 1}, (10,)).notes()[0]
    assert "over the W = 4 values along dim 3 (W)" in make_layer("softmax", {"dim": -1}, (10, 5, 4)).notes()[0]
    assert "over the N samples of the batch" in make_layer("softmax", {"dim": 0}, (10, 5, 4)).notes()[0]


# -- merges ---------------------------------------------------------------------------------------------------------


@settings(max_examples=600, **SETTINGS)
@given(
    kind=st.sampled_from(["add", "mul", "concat"]),
    shape=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    inputs=st.integers(2, 4),
    data=st.data(),
)
def test_merge_formulas_equal_the_figures(kind: str, shape: list[int], inputs: int, data: st.DataObject) -> None:
    args: dict[str, Any] = {}
    shapes = [tuple(shape)] * inputs
    if kind == "concat":
        axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
        args["dim"] = data.draw(st.sampled_from([axis + 1, axis - len(shape)]), label="dim")
        sizes = data.draw(st.lists(st.integers(1, 9), min_size=inputs, max_size=inputs), label="sizes")
        shapes = [tuple(shape[:axis]) + (size,) + tuple(shape[axis + 1 :]) for size in sizes]
    elif kind == "mul":  # squeeze-and-excitation style: some inputs size 1 along some axes
        shapes = [
            tuple(s if data.draw(st.booleans(), label="keep") else 1 for s in shape) for _ in range(inputs - 1)
        ] + [tuple(shape)]
    layer = build(kind, args, *shapes)
    assert layer is not None
    explained = check_explained(layer)
    if kind == "concat":
        (what,) = explained
        assert explained[what].numbers == " + ".join(str(s[layer.axis]) for s in shapes)  # type: ignore[attr-defined]
        assert layer.other_ops() == 0
    else:
        assert explained["other ops"].numbers.startswith(f"({inputs} - 1)*")
    if kind == "mul":
        repeated = [number for number, s in enumerate(shapes, start=1) if s != layer.out_shape]
        assert [int(note.split()[1]) for note in layer.notes()] == repeated


# -- resizing -------------------------------------------------------------------------------------------------------

FACTORS = [2, 3, 0.5, 1.5, 0.29, 1.1, 2.3, 0.3, 0.7, 1.7, 1 / 3, 2.5, 1.15, 0.57, 4]


@settings(max_examples=800, **SETTINGS)
@given(
    mode=st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"]),
    spatial=st.lists(st.integers(1, 120), min_size=1, max_size=3),
    factor=st.sampled_from(FACTORS),
    by_size=st.booleans(),
)
def test_upsample_formulas_equal_the_figures(mode: str, spatial: list[int], factor: float, by_size: bool) -> None:
    args: dict[str, Any] = {"mode": mode}
    if by_size:
        args["size"] = [max(1, s * 2 - 1) for s in spatial]
    else:
        args["scale_factor"] = factor
    layer = build("upsample", args, (3, *spatial))
    if layer is None:
        return
    explained = check_explained(layer)
    outputs = [what for what in explained if what.startswith("output ")]
    assert len(outputs) == (0 if by_size else len(spatial))
    assert ("other ops" in explained) == (layer.other_ops() > 0)
    differs = [note for note in layer.notes() if note.startswith("PyTorch multiplies in double precision")]
    # The size the decimal as written gives (1/3 for 0.3333333333333333), against PyTorch's in double precision.
    exact = [s * exact_factor(factor) // 1 for s in spatial] if not by_size else list(layer.out_shape[1:])
    assert len(differs) == sum(1 for e, o in zip(exact, layer.out_shape[1:], strict=True) if e != o)


def test_upsample_in_double_precision() -> None:
    """100 * 0.29 is 28.999999999999996 in double precision: PyTorch's output is 28 wide, and the note says why."""
    layer = make_layer("upsample", {"scale_factor": 0.29}, (3, 100))
    assert layer.out_shape == (3, 28)
    (output,) = (term for what, term in check_explained(layer).items() if what.startswith("output"))
    assert output.value == 28 and evaluate(output.numbers) == 28
    assert "100 * 0.29 = 28.999999999999996, so the output L is 28, not floor(100 * 0.29) = 29" in layer.notes()[0]
    torch = pytest.importorskip("torch")
    assert torch.nn.Upsample(scale_factor=0.29)(torch.zeros(1, 3, 100)).shape[-1] == 28


PADS = ["zeropad", "constantpad", "reflectionpad", "replicationpad", "circularpad"]


@settings(max_examples=800, **SETTINGS)
@given(
    family=st.sampled_from(PADS),
    dims=st.integers(1, 3),
    channels=st.booleans(),
    spatial=st.lists(st.integers(1, 9), min_size=3, max_size=3),
    pads=st.lists(st.integers(-3, 4), min_size=6, max_size=6),
)
def test_padding_formulas_equal_the_figures(
    family: str, dims: int, channels: bool, spatial: list[int], pads: list[int]
) -> None:
    args: dict[str, Any] = {"padding": pads[: 2 * dims]}
    if family == "constantpad":
        args["value"] = 0.5
    shape = ((2,) if channels else ()) + tuple(spatial[:dims])
    layer = build(f"{family}{dims}d", args, shape)
    if layer is None:
        return
    explained = check_explained(layer)
    assert len(explained) == dims
    for term in explained.values():
        assert ("crop_" in term.symbols) == ("-" in term.numbers)
    assert "padded by 2 on both sides" in layer.notes()[0]


def test_padding_notes_show_forwards_fill() -> None:
    notes = {
        family: make_layer(f"{family}1d", {"padding": 2, **({"value": 0.5} if family == "constantpad" else {})}, (1, 3))
        for family in PADS
    }
    examples = {family: layer.notes()[0].rsplit(" is ", 1)[1] for family, layer in notes.items()}
    assert examples == {
        "zeropad": "0 0 1 2 3 0 0",
        "constantpad": "0.5 0.5 1 2 3 0.5 0.5",
        "reflectionpad": "3 2 1 2 3 2 1",
        "replicationpad": "1 1 1 2 3 3 3",
        "circularpad": "2 3 1 2 3 1 2",
    }


@settings(max_examples=200, **SETTINGS)
@given(spatial=st.lists(st.integers(1, 12), min_size=1, max_size=3), data=st.data())
def test_center_crop_notes(spatial: list[int], data: st.DataObject) -> None:
    target = [data.draw(st.integers(1, s), label="size") for s in spatial]
    layer = make_layer("centercrop", {"size": target}, (2, *spatial))
    assert layer.explain() == []
    notes = layer.notes()
    assert len(notes) == len(spatial)
    for note, length, wanted in zip(notes, spatial, target, strict=True):
        start = int(round((length - wanted) / 2.0))  # torchvision's offset
        assert f"keeps {wanted} of {length}, positions {start} to {start + wanted - 1}" in note
