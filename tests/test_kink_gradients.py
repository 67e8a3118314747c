"""PReLU's gradients at its kink x = 0 against PyTorch's autograd (float64), for the input and the slopes. The
other kinks (ReLU, ReLU6, LeakyReLU, ELU, Hardtanh, Hardswish, Hardsigmoid) are pinned against torch in
tests/test_gradients_norm_act.py; PReLU has weights, so it is checked here with its weight gradient as well.
Every value is a small dyadic fraction, so torch's float64 figures are exact and compared with ==."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc.compute import Context
from cnncalc.layers import make_layer
from cnncalc.tensor import Tensor

torch = pytest.importorskip("torch")

HALF = Fraction(1, 2)


@pytest.mark.parametrize(
    "slopes", [[Fraction(1, 4)], [Fraction(1, 4), Fraction(-3, 2), 2]], ids=["shared", "per-channel"]
)
def test_prelu_at_zero_is_torchs(slopes: list[Fraction]) -> None:
    channels = 3
    x_values = [-HALF, 0, HALF] * channels  # each channel: below, on and above the kink
    g_values = [1, 2, 4, -1, 3, 5, 2, -2, 1]
    layer = make_layer("PReLU", {"num_parameters": len(slopes)}, (channels, 3))
    x = Tensor.from_values((1, channels, 3), x_values)
    params = {"weight": Tensor.from_values((len(slopes),), slopes)}
    ctx = Context(mode="eval", seed=0)
    ctx.layer = "prelu"
    out = layer.forward([x], params, ctx)
    (grad_x,), grads = layer.backward([x], params, out, Tensor.from_values(out.shape, g_values), ctx)

    tx = torch.tensor([float(v) for v in x_values], dtype=torch.float64).reshape(1, channels, 3).requires_grad_()
    weight = torch.tensor([float(a) for a in slopes], dtype=torch.float64, requires_grad=True)
    gy = torch.tensor(g_values, dtype=torch.float64).reshape(1, channels, 3)
    torch.nn.functional.prelu(tx, weight).backward(gy)

    assert grad_x is not None and grad_x.values() == tx.grad.reshape(-1).tolist()
    assert grads["weight"].values() == weight.grad.tolist()
    # By hand: at 0 the input gets the negative side's slope a * g, and the slope's gradient g * x is 0 there.
    a = [slopes[c % len(slopes)] for c in range(channels)]
    assert grad_x.values()[1::3] == [a[c] * g_values[3 * c + 1] for c in range(channels)]
