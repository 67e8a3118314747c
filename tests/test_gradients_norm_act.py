"""Gradients of the normalization, activation and dropout kinds beyond the generic autograd test
(tests/test_gradients_torch.py, which draws inputs from -3..3):

- hand-computed exact gradients: BatchNorm in training (through the batch mean and variance) and in eval mode,
  where var + eps is a perfect square so every figure is a small fraction;
- the sum of a normalized group is constant, so with weight 1 the input gradient of sum(output) is exactly 0;
- PyTorch's slopes at the kinks (ReLU at 0, Hardtanh at +-7, ...), read from torch's autograd;
- dropout in training: the gradient is 0 exactly where the output was dropped and g / (1 - p) elsewhere;
- every backward against central differences of its own forward (40-digit values, h = 1e-15), over a wider input
  range than the torch test can use (torch's float64 tanh' and GELU' lose their digits in the tails).
"""

from __future__ import annotations

import random
from fractions import Fraction
from math import prod
from typing import Any

import pytest

from cnncalc.compute import Context
from cnncalc.layers import Layer, make_layer
from cnncalc.tensor import Tensor

Shape = tuple[int, ...]


def run(
    layer: Layer, x: Tensor, params: dict[str, Tensor], grad_values: list[Any], mode: str
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """forward, then backward with dL/d(output) = grad_values; the output, dL/dx and the weights' gradients."""
    ctx = Context(mode=mode, seed=11)
    ctx.layer = "layer"
    out = layer.forward([x], params, ctx)
    grad = Tensor.from_values(out.shape, grad_values)
    (grad_x,), grad_weights = layer.backward([x], params, out, grad, ctx)
    assert grad_x is not None
    return out, grad_x, grad_weights


def tensor(shape: Shape, values: list[Any]) -> Tensor:
    return Tensor.from_values(shape, values)


# -- hand-computed --------------------------------------------------------------------------------------------


def test_batchnorm_train_gradient_by_hand() -> None:
    # One channel, a batch of 5: x = -2..2 has mean 0 and biased variance 2; eps = 0.25 (exact in binary) makes
    # var + eps = 9/4, so r = 2/3 and xh = 2x/3 = (-4/3, -2/3, 0, 2/3, 4/3). With g = (1, 0, 0, 0, 0) and weight 1:
    # dx_j = r/n * (n g_j - sum(g) - xh_j * sum(g xh)) = 2/15 * (5 [j = 0] - 1 + 4/3 * xh_j).
    layer = make_layer("BatchNorm1d", {"eps": 0.25}, (1,))
    params = {
        "weight": tensor((1,), [1]),
        "bias": tensor((1,), [7]),
        "running_mean": tensor((1,), [0]),
        "running_var": tensor((1,), [1]),
        "num_batches_tracked": tensor((), [0]),
    }
    x = tensor((5, 1), [-2, -1, 0, 1, 2])
    out, grad_x, grads = run(layer, x, params, [1, 0, 0, 0, 0], "train")
    xh = [Fraction(2 * v, 3) for v in range(-2, 3)]
    assert out.values() == [h + 7 for h in xh] and not out.approximate
    expected = [Fraction(2, 15) * ((5 if j == 0 else 0) - 1 + Fraction(4, 3) * xh[j]) for j in range(5)]
    assert expected == [Fraction(8, 27), Fraction(-34, 135), Fraction(-2, 15), Fraction(-2, 135), Fraction(14, 135)]
    assert grad_x.values() == expected and not grad_x.approximate
    assert sum(grad_x.values()) == 0  # shifting every input alike does not change a batch-normalized output
    assert grads["weight"].values() == [xh[0]] and grads["bias"].values() == [1]

    # With weight 2 the gradient reaching xh doubles, and so does dx; the bias gradient does not change.
    params["weight"] = tensor((1,), [2])
    _, grad_x, grads = run(layer, x, params, [1, 0, 0, 0, 0], "train")
    assert grad_x.values() == [2 * v for v in expected] and grads["bias"].values() == [1]


def test_batchnorm_eval_gradient_by_hand() -> None:
    # Running statistics are constants: with running_var 4 and eps 0 (allowed in eval mode), r = 1/2 and
    # y = (x - 1) / 2 * 3 + 5, so dx = 3/2 * g, dweight = sum(g * (x - 1) / 2), dbias = sum(g).
    layer = make_layer("BatchNorm1d", {"eps": 0}, (1,))
    params = {
        "weight": tensor((1,), [3]),
        "bias": tensor((1,), [5]),
        "running_mean": tensor((1,), [1]),
        "running_var": tensor((1,), [4]),
        "num_batches_tracked": tensor((), [0]),
    }
    x = tensor((3, 1), [1, 3, -1])
    _, grad_x, grads = run(layer, x, params, [1, 2, 3], "eval")
    assert grad_x.values() == [Fraction(3, 2), 3, Fraction(9, 2)] and not grad_x.approximate
    assert grads["weight"].values() == [0 * 1 + 1 * 2 + (-1) * 3]
    assert grads["bias"].values() == [6]


SUM_CASES = [
    ("BatchNorm1d", {}, (3,), 4),
    ("BatchNorm1d", {}, (2, 3), 2),
    ("BatchNorm2d", {}, (2, 2, 3), 2),
    ("BatchNorm3d", {"track_running_stats": False}, (2, 2, 2, 2), 2),
    ("InstanceNorm2d", {"affine": True}, (2, 3, 2), 2),
    ("LayerNorm", {"normalized_shape": [2, 3]}, (2, 2, 3), 2),
    ("GroupNorm", {"num_groups": 2}, (4, 3), 2),
]


@pytest.mark.parametrize("kind, args, shape, batch", SUM_CASES, ids=[c[0] for c in SUM_CASES])
def test_gradient_of_a_normalized_sum_is_zero(kind: str, args: dict[str, Any], shape: Shape, batch: int) -> None:
    # Every normalized group sums to 0 whatever the input, so sum(output) = sum(bias) is constant with weight 1:
    # its input gradient is exactly 0, although r = 1 / sqrt(var + eps) is irrational here (eps = 1e-05).
    layer = make_layer(kind, args, shape)
    rng = random.Random(kind)
    x = Tensor((batch, *shape), [rng.randint(-9, 9) for _ in range(batch * prod(shape))], 3)
    params = {}
    for name, weight_shape in {**layer.weights(), **layer.buffers()}.items():
        count = prod(weight_shape)
        params[name] = tensor(weight_shape, [1] * count if name == "weight" else [rng.randint(1, 4)] * count)
    out, grad_x, grads = run(layer, x, params, [1] * len(x), "train")
    assert out.approximate and grad_x.approximate  # the square root left the rationals...
    assert set(grad_x.data) == {0}  # ...and still the sums cancel exactly
    assert grads["bias"].values() == [len(x) // len(grads["bias"])] * len(grads["bias"])
    assert abs(float(sum(grads["weight"].values()))) < 1e-30  # sum(xh) over a group: 0 up to xh's 43 digits


def test_gradient_of_a_softmax_sum_is_zero() -> None:
    # Every row of a softmax sums to 1, so sum(output) is constant: exactly 0 although y's values are rounded.
    layer = make_layer("Softmax", {"dim": 1}, (4, 3))
    rng = random.Random(5)
    x = Tensor((2, 4, 3), [rng.randint(-9, 9) for _ in range(24)], 2)
    out, grad_x, _ = run(layer, x, {}, [3] * 24, "eval")
    assert out.approximate and set(grad_x.data) == {0}


# -- PyTorch's slopes at the kinks ------------------------------------------------------------------------------

KINKS = [
    ("ReLU", {}, [0]),
    ("ReLU6", {}, [0, 6]),
    ("LeakyReLU", {"negative_slope": 0.2}, [0]),
    ("ELU", {"alpha": 0.5}, [0]),
    ("Hardtanh", {}, [-1, 1]),
    ("Hardtanh", {"min_val": -7, "max_val": 7}, [-7, 7]),
    ("Hardtanh", {"min_val": float("-inf"), "max_val": 0.25}, [Fraction(1, 4)]),
    ("Hardswish", {}, [-3, 3]),
    ("Hardsigmoid", {}, [-3, 3]),
]


@pytest.mark.parametrize("kind, args, kinks", KINKS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(KINKS)])
def test_slopes_at_kinks_are_torchs(kind: str, args: dict[str, Any], kinks: list[Any]) -> None:
    torch = pytest.importorskip("torch")
    from torch_graph import torch_op

    values = [v + offset for v in kinks for offset in (Fraction(-1, 2), 0, Fraction(1, 2))]
    layer = make_layer(kind, args, (len(values),))
    _, grad_x, _ = run(layer, tensor((1, len(values)), values), {}, [1] * len(values), "eval")
    op, _ = torch_op(layer)
    x = torch.tensor([[float(v) for v in values]], dtype=torch.float64, requires_grad=True)
    op([x]).sum().backward()
    theirs = x.grad.flatten().tolist()
    for value, ours, their in zip(values, grad_x.values(), theirs, strict=True):
        if kind == "Hardsigmoid" and their not in (0.0, 1.0):
            continue  # inside the kinks: see test_hardsigmoid_slope_is_one_sixth
        # Off a kink only torch's rounding differs (Hardswish's x / 3 + 0.5); at one, the rule decides.
        assert abs(float(ours) - their) <= 1e-15, f"{kind} at {value}: slope {ours}, torch {their}"


def test_relu_and_hardtanh_kinks_by_hand() -> None:
    # What torch defines (checked against it above): ReLU passes no gradient at 0, Hardtanh none at either bound.
    relu = make_layer("ReLU", {}, (3,))
    _, grad_x, _ = run(relu, tensor((1, 3), [-1, 0, 1]), {}, [5, 5, 5], "eval")
    assert grad_x.values() == [0, 0, 5]
    clip = make_layer("Hardtanh", {"min_val": -7, "max_val": 7}, (5,))
    _, grad_x, _ = run(clip, tensor((1, 5), [-8, -7, 0, 7, 8]), {}, [2, 2, 2, 2, 2], "eval")
    assert grad_x.values() == [0, 0, 2, 0, 0]


def test_hardsigmoid_slope_is_one_sixth() -> None:
    # Our slope inside (-3, 3) is exactly 1/6, the slope of the values forward computes. PyTorch's CPU backward
    # multiplies by the float32 constant 1.0f / 6.0f even in float64 (forward divides exactly), a relative 3e-8
    # off: a deliberate divergence, pinned here.
    layer = make_layer("Hardsigmoid", {}, (3,))
    _, grad_x, _ = run(layer, tensor((1, 3), [-1, Fraction(1, 2), 2]), {}, [6, 12, 1], "eval")
    assert grad_x.values() == [1, 2, Fraction(1, 6)] and not grad_x.approximate
    torch = pytest.importorskip("torch")
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.hardsigmoid(x).backward()
    assert x.grad.item() == torch.tensor(1 / 6, dtype=torch.float32).item() != 1 / 6


# -- dropout in training ----------------------------------------------------------------------------------------

DROPOUTS = [
    ("Dropout", 0.5, (3, 4)),
    ("Dropout", 0.2, (2, 3, 2)),
    ("Dropout2d", 0.5, (4, 2, 3)),
    ("Dropout1d", 0.75, (5, 3)),
]


@pytest.mark.parametrize("kind, p, shape", DROPOUTS, ids=[f"{k}-{p}" for k, p, _ in DROPOUTS])
def test_dropout_gradient_follows_the_mask(kind: str, p: float, shape: Shape) -> None:
    layer = make_layer(kind, {"p": p}, shape)
    rng = random.Random(kind)
    batch = 4
    x = Tensor((batch, *shape), [rng.choice((-3, -2, -1, 1, 2, 3)) for _ in range(batch * prod(shape))], 2)
    g = [rng.choice((-2, -1, 1, 2, 3)) for _ in range(len(x))]  # nonzero: a zero gradient would prove nothing
    out, grad_x, grads = run(layer, x, {}, g, "train")
    scale = 1 / (1 - Fraction(str(p)))
    dropped = [value == 0 for value in out.values()]  # x has no zeros: 0 out means dropped
    assert 0 < sum(dropped) < len(dropped)
    for i, (was_dropped, value) in enumerate(zip(dropped, grad_x.values(), strict=True)):
        assert value == (0 if was_dropped else g[i] * scale), f"element {i}"
    assert grads == {} and not grad_x.approximate
    _, eval_grad, _ = run(layer, x, {}, g, "eval")
    assert eval_grad.values() == g  # eval mode: the identity


# -- against central differences of forward ---------------------------------------------------------------------

STEP = Fraction(1, 10**15)
FINITE_CASES: list[tuple[str, dict[str, Any], Shape, str]] = [
    ("Sigmoid", {}, (12,), "eval"),
    ("Tanh", {}, (12,), "eval"),
    ("SiLU", {}, (12,), "eval"),
    ("GELU", {}, (12,), "eval"),
    ("GELU", {"approximate": "tanh"}, (12,), "eval"),
    ("ELU", {"alpha": 1.5}, (12,), "eval"),
    ("Softmax", {"dim": 1}, (3, 2), "eval"),
    ("BatchNorm2d", {}, (2, 2, 1), "train"),
    ("LayerNorm", {"normalized_shape": 3}, (2, 3), "train"),
    ("GroupNorm", {"num_groups": 2}, (4, 1), "train"),
    ("RMSNorm", {"normalized_shape": 3}, (2, 3), "train"),
    ("InstanceNorm1d", {"affine": True}, (1, 3), "train"),
]


@pytest.mark.parametrize(
    "kind, args, shape, mode", FINITE_CASES, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(FINITE_CASES)]
)
def test_backward_matches_central_differences(kind: str, args: dict[str, Any], shape: Shape, mode: str) -> None:
    layer = make_layer(kind, args, shape)
    rng = random.Random(kind + str(args))
    count = 2 * prod(shape)
    elementwise = kind in {"Sigmoid", "Tanh", "SiLU", "GELU", "ELU"}
    if elementwise:
        # Far into the tails, where torch's float64 slopes lose their digits: -30 .. 30 in quarters, not 0 (ELU's
        # kink, where a central difference averages the two slopes).
        values = [Fraction(rng.choice([k for k in range(-120, 121) if k]), 4) for _ in range(count)]
    else:
        values = [Fraction(rng.randint(-9, 9), 2) for _ in range(count)]
    x = tensor((2, *shape), values)
    params = {}
    for name, weight_shape in {**layer.weights(), **layer.buffers()}.items():
        params[name] = tensor(
            weight_shape, [Fraction(rng.choice((-3, -1, 2, 5)), 2) for _ in range(prod(weight_shape))]
        )
    g = [Fraction(rng.randint(-4, 4), 3) for _ in range(count)]
    out, grad_x, grads = run(layer, x, params, g, mode)
    assert grad_x.approximate

    def loss(xs: list[Fraction], weights: dict[str, Tensor]) -> Fraction:
        ctx = Context(mode=mode, seed=11)
        ctx.layer = "layer"
        out = layer.forward([tensor(x.shape, xs)], weights, ctx)
        return sum((gi * yi for gi, yi in zip(g, out.values(), strict=True)), Fraction(0))

    def central(shifted: Any) -> Fraction:
        return (shifted(STEP) - shifted(-STEP)) / (2 * STEP)

    if elementwise:  # each output reads its own input only: shift them all at once
        plus, minus = ([v + h for v in values] for h in (STEP, -STEP))
        ctx = Context(mode=mode)
        ups, downs = (layer.forward([tensor(x.shape, xs)], params, ctx).values() for xs in (plus, minus))
        for i, (ours, up, down, y) in enumerate(zip(grad_x.values(), ups, downs, out.values(), strict=True)):
            numeric = g[i] * (up - down) / (2 * STEP)
            # Relative 1e-20, down to what a difference of 43-digit values of y over 2h can resolve: a slope of
            # 1e-13 in sigmoid's lower tail is checked to 20 digits, the same slope at x = +30 (y near 1) is not.
            resolution = Fraction(1, 10**20) * abs(numeric) + Fraction(1, 10**26) * abs(g[i] * y)
            assert abs(ours - numeric) <= resolution, f"at {values[i]}: {float(ours)} vs {float(numeric)}"
        return
    for i, ours in enumerate(grad_x.values()):
        numeric = central(lambda h, i=i: loss([v + (h if j == i else 0) for j, v in enumerate(values)], params))
        assert abs(ours - numeric) <= Fraction(1, 10**20) * max(1, abs(numeric)), f"dx[{i}]: {ours} vs {numeric}"
    for name, grad_w in grads.items():
        w = params[name]
        for k, ours in enumerate(grad_w.values()):

            def shifted(h: Fraction, k: int = k, name: str = name, w: Tensor = w) -> Fraction:
                moved = [v + (h if j == k else 0) for j, v in enumerate(w.values())]
                return loss(values, {**params, name: tensor(w.shape, moved)})

            numeric = central(shifted)
            assert abs(ours - numeric) <= Fraction(1, 10**20) * max(1, abs(numeric)), f"{name}[{k}]"
