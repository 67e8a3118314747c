"""Gradients worked out by hand (no torch needed): max pool routing with a tie, average pool spreading 1/4, a
transposed convolution with kernel 2 and stride 2, Linear over several rows, Mul's broadcast sum; and the adjoint
identity <g, f(x)> = <f'(g), x> that every linear layer's backward must satisfy exactly, including configurations
where PyTorch's CPU backward is not the adjoint of its own forward (nearest and bicubic upsampling of an axis whose
size a scale factor leaves unchanged, an empty reflection padding)."""

from __future__ import annotations

import random
from fractions import Fraction
from math import prod
from typing import Any

import pytest

from cnncalc.compute import Context
from cnncalc.layers import make_layer
from cnncalc.layers.base import Layer
from cnncalc.tensor import Tensor, flatten_nested, shape_of_nested

F = Fraction


def tensor(values: Any) -> Tensor:
    """A tensor from nested lists of ints or Fractions (shape read from the nesting)."""
    return Tensor.from_values(shape_of_nested(values), flatten_nested(values))


def gradients(
    layer: Layer, xs: list[Tensor], params: dict[str, Tensor], grad: Any
) -> tuple[list[Tensor | None], dict[str, Tensor], Tensor]:
    ctx = Context()
    ctx.layer = "layer"
    output = layer.forward(xs, params, ctx)
    g = tensor(grad)
    assert g.shape == output.shape
    input_grads, weight_grads = layer.backward(xs, params, output, g, ctx)
    return input_grads, weight_grads, output


def test_max_pool_routes_to_the_first_maximum_of_a_tie() -> None:
    # Windows of MaxPool1d(k=2, s=1) over [1, 3, 3, 2]: [1, 3] -> index 1; [3, 3], a tie -> index 1 (the first);
    # [3, 2] -> index 2. Overlapping windows that pick index 1 add up: 1 + 10.
    layer = make_layer("MaxPool1d", {"kernel_size": 2, "stride": 1}, (1, 4))
    (dx,), weights, _ = gradients(layer, [tensor([[[1, 3, 3, 2]]])], {}, [[[1, 10, 100]]])
    assert weights == {}
    assert dx.nested() == [[[0, 11, 100, 0]]]


def test_max_pool_2d_tie_goes_to_the_first_in_row_major_order() -> None:
    # A 2x2 window of equal values: PyTorch scans rows then columns and keeps the first maximum, (0, 0).
    layer = make_layer("MaxPool2d", {"kernel_size": 2}, (1, 2, 4))
    x = tensor([[[[5, 5, -1, 4], [5, 5, 4, 4]]]])  # second window: 4 at (0, 3), (1, 2), (1, 3): first is (0, 3)
    (dx,), _, _ = gradients(layer, [x], {}, [[[[7, F(1, 3)]]]])
    assert dx.nested() == [[[[7, 0, 0, F(1, 3)], [0, 0, 0, 0]]]]


def test_avg_pool_2x2_spreads_a_quarter() -> None:
    layer = make_layer("AvgPool2d", {"kernel_size": 2}, (1, 4, 4))
    x = tensor([[[[F(i, 2) for i in range(4 * r, 4 * r + 4)] for r in range(4)]]])
    (dx,), _, _ = gradients(layer, [x], {}, [[[[1, 2], [3, F(-4, 3)]]]])
    q = F(1, 4)
    assert dx.nested() == [
        [
            [
                [q, q, 2 * q, 2 * q],
                [q, q, 2 * q, 2 * q],
                [3 * q, 3 * q, F(-1, 3), F(-1, 3)],
                [3 * q, 3 * q, F(-1, 3), F(-1, 3)],
            ]
        ]
    ]


def test_avg_pool_padding_takes_no_gradient() -> None:
    # AvgPool1d(k=2, s=2, p=1) over [a, b]: windows [pad, a] and [b, pad], each divided by 2 (count_include_pad).
    layer = make_layer("AvgPool1d", {"kernel_size": 2, "stride": 2, "padding": 1}, (1, 2))
    (dx,), _, _ = gradients(layer, [tensor([[[3, 5]]])], {}, [[[6, 10]]])
    assert dx.nested() == [[[3, 5]]]


def test_transposed_conv_kernel_2_stride_2() -> None:
    # ConvTranspose1d(1 -> 1, k=2, s=2) on [a, b] with weight [w0, w1] and bias c writes
    # y = [a*w0, a*w1, b*w0, b*w1] + c, so with dL/dy = [g0, g1, g2, g3]:
    # dL/dx = [g0*w0 + g1*w1, g2*w0 + g3*w1], dL/dw = [a*g0 + b*g2, a*g1 + b*g3], dL/dc = g0 + g1 + g2 + g3.
    layer = make_layer("ConvTranspose1d", {"out_channels": 1, "kernel_size": 2, "stride": 2}, (1, 2))
    a, b, w0, w1 = 2, -3, 5, F(1, 2)
    g0, g1, g2, g3 = 1, -2, 4, 3
    params = {"weight": tensor([[[w0, w1]]]), "bias": tensor([7])}
    (dx,), dw, out = gradients(layer, [tensor([[[a, b]]])], params, [[[g0, g1, g2, g3]]])
    assert out.nested() == [[[a * w0 + 7, a * w1 + 7, b * w0 + 7, b * w1 + 7]]]
    assert dx.nested() == [[[g0 * w0 + g1 * w1, g2 * w0 + g3 * w1]]]
    assert dw["weight"].nested() == [[[a * g0 + b * g2, a * g1 + b * g3]]]
    assert dw["bias"].nested() == [g0 + g1 + g2 + g3]


def test_transposed_conv_padding_crops_the_gradient_too() -> None:
    # With padding 1 the full output [a*w0, a*w1, b*w0, b*w1] loses both ends: y = [a*w1, b*w0] (no bias), so
    # dL/dx = [h0*w1, h1*w0] and dL/dw = [b*h1, a*h0].
    layer = make_layer(
        "ConvTranspose1d", {"out_channels": 1, "kernel_size": 2, "stride": 2, "padding": 1, "bias": False}, (1, 2)
    )
    a, b, w0, w1, h0, h1 = 3, 4, -1, 2, 5, F(1, 3)
    (dx,), dw, out = gradients(layer, [tensor([[[a, b]]])], {"weight": tensor([[[w0, w1]]])}, [[[h0, h1]]])
    assert out.nested() == [[[a * w1, b * w0]]]
    assert dx.nested() == [[[h0 * w1, h1 * w0]]]
    assert dw["weight"].nested() == [[[b * h1, a * h0]]]
    assert set(dw) == {"weight"}


def test_linear_over_every_row() -> None:
    # Linear(2 -> 3) on samples of shape (2, 2): four rows in a batch of two. dX = dY W; dW = dY^T X summed over
    # all rows; db = the column sums of dY.
    layer = make_layer("Linear", {"out_features": 3}, (2, 2))
    rows = [[1, 2], [-1, 0], [F(1, 2), 3], [2, -2]]
    grads = [[1, 0, -1], [2, 1, 0], [0, 3, 1], [-1, 1, 2]]
    w = [[1, -1], [2, 0], [0, F(1, 3)]]
    params = {"weight": tensor(w), "bias": tensor([1, 2, 3])}
    x = tensor([rows[:2], rows[2:]])
    (dx,), dw, _ = gradients(layer, [x], params, [grads[:2], grads[2:]])
    expected_dx = [[sum(g[o] * w[o][i] for o in range(3)) for i in range(2)] for g in grads]
    assert dx.nested() == [expected_dx[:2], expected_dx[2:]]
    assert expected_dx[0] == [1, F(-4, 3)]  # one row by hand: [1*1 + 0*2 - 1*0, 1*(-1) + 0*0 - 1*(1/3)]
    expected_dw = [[sum(g[o] * r[i] for g, r in zip(grads, rows, strict=True)) for i in range(2)] for o in range(3)]
    assert dw["weight"].nested() == expected_dw
    assert expected_dw[0] == [-3, 4]  # 1*1 + 2*(-1) + 0*(1/2) - 1*2, 1*2 + 2*0 + 0*3 - 1*(-2)
    assert dw["bias"].nested() == [2, 5, 2]


def test_mul_sums_over_broadcast_axes() -> None:
    # x (1 x 3) times s (1 x 1), an SE-style scale: dL/dx = g * s, dL/ds = sum(g * x) over the broadcast axis.
    layer = make_layer("Mul", {}, (1, 3), (1, 1))
    (dx, ds), _, _ = gradients(layer, [tensor([[[1, 2, 3]]]), tensor([[[F(1, 2)]]])], {}, [[[4, 5, -6]]])
    assert dx.nested() == [[[2, F(5, 2), -3]]]
    assert ds.nested() == [[[4 + 10 - 18]]]


# -- the adjoint identity: for a layer linear in its input, backward is exactly the transpose of forward -----------

LINEAR_IN_X: list[tuple[str, dict[str, Any], tuple[tuple[int, ...], ...]]] = [
    ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, ((2, 5, 4),)),
    ("AvgPool3d", {"kernel_size": 2, "stride": 1, "padding": 1, "divisor_override": -3}, ((1, 3, 2, 3),)),
    ("AdaptiveAvgPool2d", {"output_size": [3, 4]}, ((1, 5, 7),)),
    ("Upsample", {"scale_factor": 1.1, "mode": "nearest"}, ((2, 2),)),  # PyTorch's backward copies instead
    ("Upsample", {"scale_factor": 1.3, "mode": "nearest"}, ((1, 2, 2, 3),)),  # likewise on the 2-sized axes
    ("Upsample", {"scale_factor": 1.1, "mode": "bicubic"}, ((1, 3, 3),)),  # likewise
    ("Upsample", {"scale_factor": 2.3, "mode": "nearest-exact"}, ((1, 4, 3),)),
    ("Upsample", {"size": [4, 7], "mode": "bilinear", "align_corners": True}, ((1, 3, 5),)),
    ("Upsample", {"scale_factor": 0.6, "mode": "trilinear"}, ((1, 3, 4, 5),)),
    ("ReflectionPad3d", {"padding": [1, 0, -1, -1, 0, 0]}, ((1, 3, 2, 3),)),  # empty: PyTorch's gradient is garbage
    ("ReflectionPad2d", {"padding": [2, -1, 1, 1]}, ((2, 3, 4),)),
    ("CircularPad2d", {"padding": [2, -1, 1, 0]}, ((1, 3, 4),)),
    ("ReplicationPad1d", {"padding": [3, -1]}, ((2, 3),)),
    ("CenterCrop", {}, ((2, 6, 5), (1, 3, 3))),
    ("Concat", {"dim": -1}, ((2, 2, 3), (2, 2, 1))),
    ("Flatten", {"start_dim": 2}, ((2, 3, 4),)),
]


@pytest.mark.parametrize("kind, args, shapes", LINEAR_IN_X, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(LINEAR_IN_X)])
def test_backward_is_the_transpose_of_forward(kind: str, args: dict[str, Any], shapes: tuple[Any, ...]) -> None:
    layer = make_layer(kind, args, *shapes)
    rng = random.Random(kind)
    xs = [Tensor((2, *s), [rng.randint(-3, 3) for _ in range(2 * prod(s))], rng.choice((1, 2))) for s in shapes]
    ctx = Context()
    output = layer.forward(xs, {}, ctx)
    g = Tensor(output.shape, [rng.randint(-3, 3) for _ in output.data], 3)
    input_grads, _ = layer.backward(xs, {}, output, g, ctx)
    read = layer.value_inputs or len(xs)  # later inputs give only a size: their gradient is None
    assert all(grad is None for grad in input_grads[read:])
    # Linear in every read input at once: <g, f(x_1, ..., x_k)> = sum_j <df/dx_j^T g, x_j>.
    left = sum(a * b for a, b in zip(g.values(), output.values(), strict=True))
    right = sum(
        sum(a * b for a, b in zip(grad.values(), x.values(), strict=True))
        for grad, x in zip(input_grads[:read], xs[:read], strict=True)
    )
    assert left == right
