"""The executor's values for the normalization, activation and dropout kinds, against torch.nn in float64.

For drawn configurations, the layer's exact `forward` runs on small rational inputs (numerators from -9 to 9 over
1 to 4; GELU within -4..4, see below) and generated weights, and torch.nn's module of the same name and arguments
(tests/torch_graph.py's layer_arguments) runs on the same values in the same mode. Then:
- ours raises LayerError exactly where torch raises or outputs inf / NaN (which exact arithmetic cannot hold);
- every output element agrees within a relative 1e-9 (plus 1e-12 absolute: torch's own float64 rounding, about
  1e-16 of the terms a value is summed from, is all that shows there), and equals torch's exactly where torch
  computes exactly (clipping kinds on dyadic inputs);
- exact kinds never mark their output approximate; the others do only where a value left the rationals;
- normalizations record the statistics they used, which must be torch's batch / instance / running statistics.
Dropout in training cannot match torch's random mask: each output must be 0 or x / (1 - p), the mask must be
drawn over the same units as torch's (elements, channels, or whole samples), be reproducible for a seed, and
keep a plausible fraction. Hand-computed cases from the lectures pin a few figures, and mpmath at 60 digits checks
that approximate values really carry 40 significant digits.

GELU's inputs stay within -4..4: below that torch's float64 1 + erf(x / sqrt(2)) cancels to a few digits (at
x = -8 it is off by some 10%), while ours computes the tail erfc directly.
"""

from __future__ import annotations

import random
import warnings
from fractions import Fraction
from math import prod
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, event, given, reject, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch_graph import layer_arguments  # noqa: E402

from cnncalc.compute import Context  # noqa: E402
from cnncalc.errors import LayerError  # noqa: E402
from cnncalc.layers import Layer, Shape, make_layer  # noqa: E402
from cnncalc.tensor import Tensor  # noqa: E402

nn = torch.nn
SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
RELATIVE, ABSOLUTE = 1e-9, 1e-12

EXACT_KINDS = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "Hardtanh", "Hardswish", "Hardsigmoid"}
# Kinds whose float64 result is exact on dyadic inputs with dyadic (or no) constants: compared with ==.
EXACT_IN_FLOAT = {"ReLU", "ReLU6", "Hardtanh", "PReLU"}


# -- running both -----------------------------------------------------------------------------------------------


def params_for(layer: Layer, seed: int, denominator: int = 1) -> dict[str, Tensor]:
    """The layer's weights and buffers as the executor generates them (small integers; running_var positive,
    weights nonzero), optionally over a denominator so that fractional weights are exercised too."""
    params = {}
    for name, shape in {**layer.weights(), **layer.buffers()}.items():
        rng = random.Random(f"{seed}:{name}")
        values = layer.initial_values(name, prod(shape), rng)
        params[name] = Tensor(shape, values, 1 if name == "num_batches_tracked" else denominator)
    return params


def run_ours(layer: Layer, x: Tensor, params: dict[str, Tensor], mode: str, seed: int = 0) -> tuple[Tensor, Context]:
    ctx = Context(mode=mode, seed=seed)
    ctx.layer = "layer"
    return layer.forward([x], params, ctx), ctx


def torch_module(layer: Layer, params: dict[str, Tensor], mode: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations and implicit dims: tested in test_torch_norm_act.py
        module = getattr(nn, layer.kind)(**layer_arguments(layer)).double()
    state = {}
    for name, tensor in params.items():
        values = [float(v) for v in tensor.values()]
        if name == "num_batches_tracked":
            state[name] = torch.tensor(int(values[0]), dtype=torch.long)
        else:
            state[name] = torch.tensor(values, dtype=torch.float64).reshape(tensor.shape)
    module.load_state_dict(state)
    return module.train(mode == "train")


def as_torch(x: Tensor) -> Any:
    return torch.tensor([float(v) for v in x.values()], dtype=torch.float64).reshape(x.shape)


def run_torch(layer: Layer, x: Tensor, params: dict[str, Tensor], mode: str) -> tuple[list[float] | None, str]:
    """torch's output as floats, or None and why when torch raises or outputs inf / NaN."""
    module = torch_module(layer, params, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.no_grad():
                out = module(as_torch(x))
        except Exception as error:  # torch raises ValueError or RuntimeError
            return None, f"{type(error).__name__}: {error}"
    if not torch.isfinite(out).all():
        return None, "non-finite output"
    assert tuple(out.shape) == x.shape[:1] + layer.out_shape
    return out.flatten().tolist(), ""


def assert_close(ours: Tensor, theirs: list[float], what: str, exact: bool = False) -> None:
    assert len(ours.data) == len(theirs), what
    for i, expected in enumerate(theirs):
        got = float(ours.value(i))
        if exact:
            assert got == expected, f"{what}: element {i}: ours {ours.value(i)}, torch {expected!r}"
        else:
            assert abs(got - expected) <= RELATIVE * abs(expected) + ABSOLUTE, (
                f"{what}: element {i}: ours {got!r}, torch {expected!r}"
            )


def agree(kind: str, args: dict[str, Any], in_shape: Shape, batch: int, mode: str, data: st.DataObject) -> str:
    """Ours against torch for one configuration on drawn values; returns what it exercised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = make_layer(kind, args, in_shape)
    except LayerError:
        reject()  # shapes and validity are test_torch_norm_act.py's; here only runnable layers matter
    limit = 4 if kind == "GELU" else 9
    denominator = data.draw(st.sampled_from([1, 2, 3, 4]), label="denominator")
    numerators = data.draw(
        st.lists(
            st.integers(-limit * denominator, limit * denominator),
            min_size=batch * prod(in_shape),
            max_size=batch * prod(in_shape),
        ),
        label="numerators",
    )
    x = Tensor((batch, *in_shape), numerators, denominator)
    params = params_for(layer, data.draw(st.integers(0, 99), label="seed"), data.draw(st.sampled_from([1, 2])))
    what = f"{kind}({args}) on {(batch, *in_shape)} in {mode} mode"
    theirs, why = run_torch(layer, x, params, mode)
    try:
        ours, ctx = run_ours(layer, x, params, mode)
    except LayerError as error:
        assert theirs is None, f"{what}: ours raises {error.render()}, torch accepts it"
        return "both reject"
    assert theirs is not None, f"{what}: torch {why}, ours accepts it"
    assert ours.shape == (batch, *layer.out_shape), what
    dyadic = denominator in (1, 2, 4) and all(p.denominator in (1, 2, 4) for p in params.values())
    assert_close(ours, theirs, what, exact=kind in EXACT_IN_FLOAT and dyadic)
    if kind in EXACT_KINDS:
        assert not ours.approximate, what
    check_statistics(layer, x, params, ctx, mode, what)
    return "approximate" if ours.approximate else "exact"


def check_statistics(layer: Layer, x: Tensor, params: dict[str, Tensor], ctx: Context, mode: str, what: str) -> None:
    """The recorded statistics are the ones torch normalizes with (batch statistics checked in float64)."""
    kind = layer.kind
    if not kind.startswith(("BatchNorm", "InstanceNorm")):
        return
    recorded = ctx.stats["layer"]
    running = layer.track_running_stats and mode == "eval"
    if running:
        assert recorded["mean"] == params["running_mean"].values(), what
        assert recorded["var"] == params["running_var"].values(), what
        return
    values = as_torch(x)
    axes = [0, *range(2, values.dim())] if kind.startswith("BatchNorm") else list(range(2, values.dim()))
    mean = values.mean(dim=axes).flatten().tolist()
    var = values.var(dim=axes, unbiased=False).flatten().tolist()
    for ours_list, theirs_list in ((recorded["mean"], mean), (recorded["var"], var)):
        assert len(ours_list) == len(theirs_list), what
        for a, b in zip(ours_list, theirs_list, strict=True):
            assert abs(float(a) - b) <= RELATIVE * abs(b) + ABSOLUTE, what


# -- drawn configurations -----------------------------------------------------------------------------------------

EPS = st.sampled_from([1e-5, 1e-3, 0.5, 2.0])
SPATIAL = st.integers(1, 3)


@st.composite
def norm_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape]:
    family = draw(st.sampled_from(["BatchNorm", "InstanceNorm", "LayerNorm", "GroupNorm", "RMSNorm"]))
    channels = draw(st.integers(1, 4))
    if family in ("BatchNorm", "InstanceNorm"):
        dims = draw(st.integers(1, 3))
        rank = dims + 1 if family == "InstanceNorm" or dims > 1 else draw(st.sampled_from([1, 2]))
        shape = (channels, *draw(st.lists(SPATIAL, min_size=rank - 1, max_size=rank - 1)))
        args = {
            "eps": draw(EPS),
            "affine": draw(st.booleans()),
            "bias": draw(st.booleans()),
            "track_running_stats": draw(st.booleans()),
            "momentum": draw(st.sampled_from([0.1, None])),
        }
        return f"{family}{dims}d", args, shape
    rank = draw(st.integers(1, 3))
    shape = (channels, *draw(st.lists(SPATIAL, min_size=rank - 1, max_size=rank - 1)))
    if family == "GroupNorm":
        channels = draw(st.sampled_from([2, 4, 6]))
        shape = (channels, *shape[1:])
        groups = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
        return family, {"num_groups": groups, "eps": draw(EPS), "affine": draw(st.booleans())}, shape
    normalized = list(shape[draw(st.integers(0, rank - 1)) :])
    args = {"normalized_shape": normalized, "elementwise_affine": draw(st.booleans())}
    if family == "LayerNorm":
        args |= {"eps": draw(EPS), "bias": draw(st.booleans())}
    else:
        args["eps"] = draw(st.sampled_from([None, 1e-6, 0.5]))
    return family, args, shape


@st.composite
def activation_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any], Shape]:
    kind = draw(
        st.sampled_from(
            "ReLU ReLU6 LeakyReLU PReLU ELU GELU SiLU Sigmoid Tanh Hardtanh Hardswish Hardsigmoid Softmax".split()
        )
    )
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank)))
    args: dict[str, Any] = {}
    if kind == "LeakyReLU":
        args["negative_slope"] = draw(st.sampled_from([0.01, 0.2, -1.5, 0, 3]))
    elif kind == "PReLU":
        args["num_parameters"] = draw(st.sampled_from([1, shape[0]]))
    elif kind == "ELU":
        args["alpha"] = draw(st.sampled_from([1.0, 0.5, -2, 0]))
    elif kind == "GELU":
        args["approximate"] = draw(st.sampled_from(["none", "tanh"]))
    elif kind == "Hardtanh":
        args["min_val"], args["max_val"] = draw(st.sampled_from([(-1.0, 1.0), (-7, 7), (-0.5, 2), (-2.25, 0.75)]))
    elif kind == "Softmax":
        args["dim"] = draw(st.integers(-rank - 1, rank))
    return kind, args, shape


@pytest.mark.parametrize("mode", ["eval", "train"])
@settings(max_examples=500, **SETTINGS)
@given(config=norm_configs(), batch=st.integers(1, 3), data=st.data())
def test_normalization_values(mode: str, config: tuple[str, dict[str, Any], Shape], batch: int, data: Any) -> None:
    kind, args, shape = config
    event(f"{kind}: {agree(kind, args, shape, batch, mode, data)}")


@pytest.mark.parametrize("mode", ["eval", "train"])  # activations ignore it, as torch's do
@settings(max_examples=600, **SETTINGS)
@given(config=activation_configs(), batch=st.integers(1, 3), data=st.data())
def test_activation_values(mode: str, config: tuple[str, dict[str, Any], Shape], batch: int, data: Any) -> None:
    kind, args, shape = config
    event(f"{kind}: {agree(kind, args, shape, batch, mode, data)}")


@pytest.mark.parametrize("kind", ["GELU", "Softmax", "PReLU", "ELU"])
def test_activations_ignore_the_mode(kind: str) -> None:
    layer = make_layer(kind, {}, (3, 4))
    x = Tensor((2, 3, 4), [random.Random(i).randint(-5, 5) for i in range(24)], 2)
    params = params_for(layer, 1)
    eval_out, _ = run_ours(layer, x, params, "eval")
    train_out, _ = run_ours(layer, x, params, "train")
    assert eval_out.values() == train_out.values()


# -- hand-computed cases ------------------------------------------------------------------------------------------


def test_batchnorm_lecture_batch_mean() -> None:
    """The lecture's batch (2, 3), (4, 5), (7, 6): mean (13/3, 14/3), biased variances 38/9 and 14/9 (the squared
    deviations 49/9 + 1/9 + 64/9 and 25/9 + 1/9 + 16/9, over 3)."""
    layer = make_layer("BatchNorm1d", {}, (2,))
    x = Tensor((3, 2), [2, 3, 4, 5, 7, 6])
    params = params_for(layer, 0)
    out, ctx = run_ours(layer, x, params, "train")
    assert ctx.stats["layer"] == {"mean": [Fraction(13, 3), Fraction(14, 3)], "var": [Fraction(38, 9), Fraction(14, 9)]}
    assert out.approximate
    theirs, _ = run_torch(layer, x, params, "train")
    assert theirs is not None
    assert_close(out, theirs, "lecture batch")
    # Eval mode normalizes with the running statistics, recorded as they are.
    out, ctx = run_ours(layer, x, params, "eval")
    assert ctx.stats["layer"] == {"mean": params["running_mean"].values(), "var": params["running_var"].values()}
    theirs, _ = run_torch(layer, x, params, "eval")
    assert theirs is not None
    assert_close(out, theirs, "lecture batch, eval")


def test_hardtanh_clips_at_seven() -> None:
    """The lecture quiz: Hardtanh(-7, 7) clips, exactly."""
    layer = make_layer("Hardtanh", {"min_val": -7, "max_val": 7}, (8,))
    x = Tensor.from_values((1, 8), [-10, Fraction(-15, 2), -7, -3, 0, Fraction(13, 2), 7, 12])
    out, _ = run_ours(layer, x, {}, "eval")
    assert out.values() == [-7, -7, -7, -3, 0, Fraction(13, 2), 7, 7]
    assert not out.approximate


def test_relu_of_a_lecture_matrix() -> None:
    layer = make_layer("ReLU", {}, (1, 3, 3))
    x = Tensor((1, 1, 3, 3), [1, -2, 3, -4, 5, -6, 7, -8, 9])
    out, _ = run_ours(layer, x, {}, "eval")
    assert out.nested() == [[[[1, 0, 3], [0, 5, 0], [7, 0, 9]]]]
    assert not out.approximate


def test_rational_results_stay_exact() -> None:
    """exp, erf and tanh leave the rationals only at nonzero arguments: zeros and equal softmax rows stay exact."""
    zeros = Tensor((2, 3), [0] * 6)
    for kind in ("Sigmoid", "SiLU", "Tanh", "GELU", "ELU"):
        out, _ = run_ours(make_layer(kind, {}, (3,)), zeros, {}, "eval")
        assert not out.approximate, kind
        assert out.values() == ([Fraction(1, 2)] * 6 if kind == "Sigmoid" else [0] * 6), kind
    out, _ = run_ours(make_layer("Softmax", {"dim": 1}, (3,)), Tensor((2, 3), [5, 5, 5, -1, -1, -1]), {}, "eval")
    assert not out.approximate and out.values() == [Fraction(1, 3)] * 6
    out, _ = run_ours(make_layer("Sigmoid", {}, (3,)), Tensor((1, 3), [0, 1, 0]), {}, "eval")
    assert out.approximate


def test_layernorm_exact_when_the_root_is_rational() -> None:
    """eps = 0 and a variance that is a square: the output stays exact (x = 1, 3: mean 2, variance 1)."""
    layer = make_layer("LayerNorm", {"normalized_shape": 2, "eps": 0, "elementwise_affine": False}, (2,))
    out, ctx = run_ours(layer, Tensor((1, 2), [1, 3]), {}, "eval")
    assert out.values() == [-1, 1] and not out.approximate
    assert ctx.stats["layer"] == {"mean": [2], "var": [1]}


def test_rmsnorm_default_eps_is_float64s() -> None:
    """eps=None is torch.finfo(float64).eps: on values of 1e-9 it matters (float32's eps would give 2.9e-6)."""
    layer = make_layer("RMSNorm", {"normalized_shape": 3, "elementwise_affine": False}, (3,))
    x = Tensor((1, 3), [1, -1, 2], 10**9)
    out, _ = run_ours(layer, x, {}, "eval")
    theirs, _ = run_torch(layer, x, {}, "eval")
    assert theirs is not None
    assert_close(out, theirs, "RMSNorm eps=None")
    assert 0.06 < float(out.value(0)) < 0.07


# -- what torch rejects, or cannot compute ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, args, shape, batch, mode, arg",
    [
        ("BatchNorm1d", {}, (3,), 1, "train", "inputs"),  # one value per channel from the batch statistics
        ("BatchNorm2d", {}, (2, 1, 1), 1, "train", "inputs"),
        ("BatchNorm2d", {"eps": 0}, (2, 2, 2), 2, "train", "eps"),
        ("InstanceNorm2d", {"track_running_stats": True}, (2, 1, 1), 2, "train", "inputs"),
        ("LayerNorm", {"normalized_shape": 3, "eps": 0}, (3,), 2, "eval", "eps"),  # a constant row: 0 / 0
        ("RMSNorm", {"normalized_shape": 3, "eps": 0}, (3,), 2, "eval", "eps"),  # a zero row
        ("GroupNorm", {"num_groups": 1, "eps": -1.0}, (2, 2), 1, "eval", "eps"),  # variance + eps < 0
    ],
)
def test_errors_where_torch_fails(kind: str, args: dict[str, Any], shape: Shape, batch: int, mode: str, arg: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = make_layer(kind, args, shape)
    x = Tensor((batch, *shape), [2] * (batch * prod(shape)))  # constant: zero variance
    if kind == "RMSNorm":
        x = Tensor(x.shape, [0] * len(x.data))
    params = params_for(layer, 0)
    theirs, why = run_torch(layer, x, params, mode)
    assert theirs is None
    with pytest.raises(LayerError) as caught:
        run_ours(layer, x, params, mode)
    assert caught.value.arg == arg, why
    # The same layer runs where torch runs: in eval mode with running statistics, or on a varied input.
    if mode == "train" and layer.buffers():
        out, _ = run_ours(layer, x, params, "eval")
        assert_close(out, run_torch(layer, x, params, "eval")[0] or [], "eval")


# -- forty digits ---------------------------------------------------------------------------------------------------


def test_approximate_values_carry_forty_digits() -> None:
    """Every kind that leaves the rationals, against mpmath at 60 digits, on arguments where naive formulas lose
    digits: tiny ones (exp(x) - 1 cancels) and large negative ones (1 + tanh and 1 - erf cancel)."""
    mpmath = pytest.importorskip("mpmath")
    values = [
        Fraction(-20),
        Fraction(-7, 2),
        Fraction(-1, 3),
        Fraction(1, 10**30),
        Fraction(-1, 10**25),
        Fraction(5, 2),
    ]

    def run(kind: str, args: dict[str, Any], inputs: list[Fraction]) -> list[Any]:
        layer = make_layer(kind, args, (len(inputs),))
        out, _ = run_ours(layer, Tensor.from_values((1, len(inputs)), inputs), {}, "eval")
        assert out.approximate
        return [mpmath.mpf(v.numerator) / v.denominator for v in map(Fraction, out.values())]

    def check(what: str, got: list[Any], expected: list[Any]) -> None:
        for a, b in zip(got, expected, strict=True):
            assert abs(a / b - 1) < mpmath.mpf(10) ** -40, f"{what}: {a} vs {b}"

    with mpmath.workdps(60):
        xs = [mpmath.mpf(v.numerator) / v.denominator for v in values]
        check("Sigmoid", run("Sigmoid", {}, values), [1 / (1 + mpmath.exp(-x)) for x in xs])
        check("SiLU", run("SiLU", {}, values), [x / (1 + mpmath.exp(-x)) for x in xs])
        check("Tanh", run("Tanh", {}, values), [mpmath.tanh(x) for x in xs])
        check("ELU", run("ELU", {}, values), [x if x > 0 else mpmath.expm1(x) for x in xs])
        check("GELU", run("GELU", {}, values), [x * mpmath.ncdf(x) for x in xs])
        expected = []
        for x in xs:
            u = mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x**3)
            with mpmath.workdps(1000):  # 1 + tanh(u) cancels some 260 digits at x = -20
                expected.append(+(x / 2 * (1 + mpmath.tanh(u))))
        check("GELU tanh", run("GELU", {"approximate": "tanh"}, values), expected)
        row = [Fraction(k, 3) for k in (-90, -2, 0, 1, 90)]  # spread over 60 units
        exps = [mpmath.exp(mpmath.mpf(v.numerator) / v.denominator) for v in row]
        check("Softmax", run("Softmax", {"dim": 1}, row), [e / sum(exps) for e in exps])
        # LayerNorm's square root, with eps the double nearest 1e-5 (mpf(1e-5) is that double, exactly).
        ys = [mpmath.mpf(v) for v in (1, 2, 4)]
        mean = sum(ys) / 3
        root = mpmath.sqrt(sum((y - mean) ** 2 for y in ys) / 3 + mpmath.mpf(1e-5))
        normalized = run("LayerNorm", {"normalized_shape": 3, "elementwise_affine": False}, [1, 2, 4])
        check("LayerNorm", normalized, [(y - mean) / root for y in ys])


def test_tiny_approximate_values_do_not_lengthen_the_tensor() -> None:
    """sigmoid(-1000) = 5e-435 is kept to 1e-400, not to 43 digits (float64 flushes it to 0 as well): its
    tensor's denominator stays 10**400 at most, and its neighbours keep their digits."""
    out, _ = run_ours(make_layer("Sigmoid", {}, (3,)), Tensor((1, 3), [-1000, -700, 1]), {}, "eval")
    assert out.denominator <= 10**400
    assert out.value(0) == 0
    assert abs(float(out.value(1)) / float(torch.sigmoid(torch.tensor(-700.0, dtype=torch.float64))) - 1) < 1e-12


# -- dropout --------------------------------------------------------------------------------------------------------

DROPOUTS = [
    ("Dropout", (3, 4)),
    ("Dropout", (2, 3, 2)),
    ("Dropout1d", (3, 4)),
    ("Dropout1d", (5,)),  # one unbatched C x L sample: whole samples dropped
    ("Dropout2d", (2, 3, 3)),
    ("Dropout2d", (3, 4)),  # C x L: channels, as Dropout1d
    ("Dropout2d", (4,)),  # a vector per sample: single values
    ("Dropout2d", (2, 2, 1, 2)),
    ("Dropout3d", (2, 2, 2, 3)),
    ("Dropout3d", (2, 3, 3)),  # one unbatched sample: whole samples
    ("Dropout3d", (3, 2)),
]


def dropout_layer(kind: str, shape: Shape, p: float) -> Layer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_layer(kind, {"p": p}, shape)


@pytest.mark.parametrize("kind, shape", DROPOUTS)
def test_dropout_eval_is_the_identity(kind: str, shape: Shape) -> None:
    layer = dropout_layer(kind, shape, 0.5)
    x = Tensor((3, *shape), list(range(1, 3 * prod(shape) + 1)), 3)
    out, _ = run_ours(layer, x, {}, "eval")
    theirs, _ = run_torch(layer, x, {}, "eval")
    assert theirs is not None
    assert out.values() == x.values() and not out.approximate
    assert_close(out, theirs, kind)


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.75])
@pytest.mark.parametrize("kind, shape", DROPOUTS)
def test_dropout_train_keeps_and_scales(kind: str, shape: Shape, p: float) -> None:
    layer = dropout_layer(kind, shape, p)
    x = Tensor((4, *shape), [v or 1 for v in range(-4 * prod(shape) // 2, 4 * prod(shape) // 2)], 2)
    out, _ = run_ours(layer, x, {}, "train", seed=5)
    scale = 1 / (1 - Fraction(str(p)))  # 0.2 drops 1/5: kept values times 5/4 exactly
    for i, value in enumerate(out.values()):
        assert value in (0, x.value(i) * scale), f"{kind} p={p}: element {i}"
    assert not out.approximate
    # Reproducible: the same seed and layer name draw the same mask.
    again, _ = run_ours(layer, x, {}, "train", seed=5)
    assert again.values() == out.values()


def fates(outputs: list[list[float]]) -> list[bool]:
    """For each pair of neighbouring elements: did they always share their fate (both kept or both dropped)?"""
    return [all((run[i] == 0) == (run[i + 1] == 0) for run in outputs) for i in range(len(outputs[0]) - 1)]


@pytest.mark.parametrize("kind, shape", DROPOUTS)
def test_dropout_draws_over_torchs_units(kind: str, shape: Shape) -> None:
    """Elements share one draw exactly where torch's share one: over 40 seeds, neighbours in one unit always share
    their fate, neighbours in different units differ at least once (missed with probability 2**-40)."""
    layer = dropout_layer(kind, shape, 0.5)
    x = Tensor((3, *shape), [1] * (3 * prod(shape)))
    ours = [[float(v) for v in run_ours(layer, x, {}, "train", seed=seed)[0].values()] for seed in range(40)]
    module = torch_module(layer, {}, "train")
    theirs = []
    for seed in range(40):
        torch.manual_seed(seed)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            theirs.append(module(as_torch(x)).flatten().tolist())
    assert fates(ours) == fates(theirs)


def test_dropout_mask_depends_on_seed_and_keeps_about_one_minus_p() -> None:
    layer = dropout_layer("Dropout", (50, 80), 0.3)
    x = Tensor((1, 50, 80), [1] * 4000)
    first, _ = run_ours(layer, x, {}, "train", seed=1)
    other, _ = run_ours(layer, x, {}, "train", seed=2)
    assert first.values() != other.values()
    kept = sum(1 for v in first.values() if v) / 4000
    assert abs(kept - 0.7) < 0.04  # the binomial's standard deviation is 0.0072


@pytest.mark.parametrize("kind, shape", DROPOUTS[:5])
def test_dropout_extremes(kind: str, shape: Shape) -> None:
    x = Tensor((2, *shape), list(range(2 * prod(shape))), 3)
    out, _ = run_ours(dropout_layer(kind, shape, 1.0), x, {}, "train")
    assert out.values() == [0] * len(x.data)
    theirs, _ = run_torch(dropout_layer(kind, shape, 1.0), x, {}, "train")
    assert theirs == [0.0] * len(x.data)
    out, _ = run_ours(dropout_layer(kind, shape, 0.0), x, {}, "train")
    assert out.values() == x.values()


# -- a whole network ------------------------------------------------------------------------------------------------

NETWORK = """
name: norms-and-activations
input: [4, 3, 3]
batch: 3
layers:
  - batchnorm2d
  - prelu: {num_parameters: 4}
  - groupnorm: {num_groups: 2}
  - gelu: {approximate: tanh}
  - instancenorm2d: {affine: true, track_running_stats: true}
  - elu: {alpha: 0.5}
  - layernorm: {normalized_shape: [4, 3, 3]}
  - hardswish
  - rmsnorm: {normalized_shape: 3}
  - tanh
  - softmax: {dim: 1}
"""


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_a_network_through_the_executor(mode: str) -> None:
    """The graph walk (execute, weights_for, generated_input) feeding each kind the previous one's approximate
    output, every node against tests/torch_graph.py's network with the same state, in both modes."""
    from torch_graph import TorchGraph

    from cnncalc.execute import execute, generated_input, weights_for
    from cnncalc.spec import parse_spec

    graph = parse_spec(NETWORK)
    weights = weights_for(graph, seed=3)
    x = generated_input((graph.batch, *graph.input_shape), seed=3)
    run = execute(graph, x, weights, Context(mode=mode, seed=3))
    network = TorchGraph(graph)
    for name, module in network.modules.items():
        module.load_state_dict(torch_module(graph.node(name).bound(), weights[name], mode).state_dict())
        module.train(mode == "train")
    with torch.no_grad():
        theirs = network(as_torch(x))
    assert run.approximate
    for node in graph.nodes:
        assert_close(run.outputs[node.name], theirs[node.name].flatten().tolist(), f"{node.name} in {mode} mode")
