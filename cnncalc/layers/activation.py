"""Activations: ReLU, ReLU6, LeakyReLU, PReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Hardtanh, Hardswish,
Hardsigmoid and Softmax. None changes the shape; only PReLU has weights.

Other ops are counted per element from each function's usual formula, one op for each add, subtract, multiply,
divide or compare, and one for each evaluation of exp, erf or tanh (negating a value is not counted). The rule of
each kind is stated in its `ops_rule`; every element is counted the same, whichever branch it takes.

Execution (`forward`): the piecewise-rational kinds (ReLU, ReLU6, LeakyReLU, PReLU, Hardtanh, Hardswish,
Hardsigmoid) stay exact. Their constants are taken as the decimals the spec wrote (negative_slope 0.01 is 1/100,
Fraction(str(0.01)), where PyTorch multiplies by the nearest double: the two differ by less than 1e-16 relatively).
The others leave the rationals at any nonzero input (exp, erf, tanh of a nonzero rational are irrational): those
elements are computed to DIGITS significant digits or better, in pure Python decimal arithmetic at a fixed
precision (compute.py: the argument is rounded first, so the time does not grow with its size or its digits; erf
by its series, erfc by its continued fraction), and the output is then marked approximate; inputs that give
rational results (0, a softmax row of equal values) stay exact.

Gradients (`backward`) follow the same split: exact slopes for the piecewise kinds, with PyTorch's values at the
kinks (ReLU: 0 at 0; ReLU6, Hardtanh, Hardsigmoid: 0 at both bounds; LeakyReLU, PReLU, ELU: the negative side's
slope at 0; Hardswish: 0 at -3 and 1 at 3), and 40-digit slopes elsewhere, in forms that do not cancel in the
tails (sigmoid' = p*q / (p + q)^2 with p/q = exp(-|x|), not s * (1 - s)). Softmax's gradient is taken from
forward's output. One divergence is deliberate: Hardsigmoid's slope is exactly 1/6, where PyTorch's CPU backward
multiplies by the float32 constant 1.0f / 6.0f even in float64 (a relative 3e-8 off; its forward divides exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from math import lcm, log, prod, sqrt
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.args import Arg, Bool, Choice, Float, Int, Optional
from cnncalc.compute import (
    UNDERFLOW,
    WORKING_DIGITS,
    argument,
    exp_ratio,
    expm1_decimal,
    expm1_ratio,
    shortened,
    to_ratio,
    working,
)
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers.base import POINTWISE, Backprop, Layer, Saved, Shape, Window, dim_name, fmt_shape, saved_input
from cnncalc.layers.norm import (
    axis_names,
    element_count,
    named,
    per_element_ops,
    product,
    ratio_tensor,
    spanning_window,
)
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from decimal import Context as DecimalContext
    from decimal import Decimal
    from fractions import Fraction

    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

INPLACE = Arg("inplace", Bool(), False, "overwrite the input; changes no shape or count")

Ratio = tuple[int, int, bool]  # numerator, positive denominator, exact


def as_written(layer: Layer, name: str) -> Fraction:
    """Argument `name` as the decimal the spec wrote (0.01 is 1/100, not the double nearest to it)."""
    from fractions import Fraction

    value = getattr(layer, name)
    if value != value or value in (float("inf"), float("-inf")):
        raise LayerError(
            f"{name} is {value}: the exact executor needs a finite number", arg=name, hint=f"give {name} a number"
        )
    return Fraction(str(value))


def map_values(x: Tensor, function: Callable[[Fraction], Ratio]) -> Tensor:
    """`function` of every element's value, each given as a ratio of ints; a value met again (many repeat: zeros
    after a ReLU, small integers) is computed once. Approximate when some result or the input is."""
    from fractions import Fraction

    results: dict[int, Ratio] = {}
    ratios = []
    rounded = False
    for numerator in x.data:
        result = results.get(numerator)
        if result is None:
            result = results[numerator] = function(Fraction(numerator, x.denominator))
            rounded = rounded or not result[2]
        ratios.append(result[:2])
    out = ratio_tensor(x.shape, ratios, rounded)
    out.approximate = out.approximate or x.approximate
    return out


def chain(x: Tensor, grad: Tensor, slope: Callable[[Fraction], Ratio]) -> Tensor:
    """dL/dx = dL/dy * slope(x) element by element, for y = f(x) applied to each element alone; the slope at a
    value met again is computed once. Approximate when some slope, the input or the gradient is."""
    from fractions import Fraction

    slopes: dict[int, Ratio] = {}
    ratios = []
    rounded = False
    for numerator, g in zip(x.data, grad.data, strict=True):
        result = slopes.get(numerator)
        if result is None:
            result = slopes[numerator] = slope(Fraction(numerator, x.denominator))
            rounded = rounded or not result[2]
        ratios.append((g * result[0], grad.denominator * result[1]))
    out = ratio_tensor(x.shape, ratios, rounded)
    out.approximate = out.approximate or x.approximate or grad.approximate
    return out


def gated(x: Tensor, grad: Tensor, passes: Callable[[int], bool]) -> Tensor:
    """dL/dy where passes(numerator of x) and 0 elsewhere: the gradient of a function whose slope is 1 or 0."""
    data = [g if passes(v) else 0 for v, g in zip(x.data, grad.data, strict=True)]
    return Tensor(x.shape, data, grad.denominator, x.approximate or grad.approximate)


def _approximate(value: Decimal) -> Ratio:
    """A result that left the rationals, as a ratio of ints (0 below 10**-UNDERFLOW: compute.to_ratio)."""
    p, q = to_ratio(working().plus(value))
    return p, q, False


def sigmoid(value: Fraction) -> Ratio:
    """1 / (1 + exp(-value)), exp taken of -|value| only, so that it never overflows; exactly 1/2 at 0."""
    if value == 0:
        return 1, 2, True
    p, q = exp_ratio(-abs(value))  # exp(-|value|) = p / q
    return (q if value > 0 else p), p + q, False


def tanh(value: Fraction) -> Ratio:
    """tanh(|v|) = -m / (m + 2) with m = expm1(-2|v|): no cancellation for small v, no overflow for large."""
    if value == 0:
        return 0, 1, True
    context = working(5)
    m = expm1_decimal(-2 * abs(value))
    result = context.divide(m.copy_negate(), context.add(m, 2))
    return _approximate(result if value > 0 else result.copy_negate())


def sigmoid_slope(value: Fraction) -> Ratio:
    """sigmoid'(x) = s * (1 - s) = p*q / (p + q)^2 with p/q = exp(-|x|): no 1 - s that would cancel."""
    if value == 0:
        return 1, 4, True
    p, q = exp_ratio(-abs(value))
    return p * q, (p + q) ** 2, False


def tanh_slope(value: Fraction) -> Ratio:
    """tanh'(x) = 1 - tanh(x)^2 = 4*p*q / (p + q)^2 with p/q = exp(-2|x|): no cancellation where tanh nears 1."""
    if value == 0:
        return 1, 1, True
    p, q = exp_ratio(-2 * abs(value))
    return 4 * p * q, (p + q) ** 2, False


def silu(value: Fraction) -> Ratio:
    """x * sigmoid(x), x rounded to WORKING_DIGITS + 10 digits first where it is written with long integers."""
    if value == 0:
        return 0, 1, True
    x = shortened(value)
    p, q, _ = sigmoid(x)
    return x.numerator * p, x.denominator * q, False


def silu_slope(value: Fraction) -> Ratio:
    """SiLU'(x) = s * (1 + x * (1 - s)), s = sigmoid(x), both s and 1 - s taken from p/q = exp(-|x|); exact
    arithmetic from there, so that near its zero (x ~ -1.28) the sum loses no more than exp's 60 digits."""
    if value == 0:
        return 1, 2, True
    x = shortened(value)
    p, q = exp_ratio(-abs(x))
    kept, rest = (q, p) if x > 0 else (p, q)  # s = kept / (p + q), 1 - s = rest / (p + q)
    total = p + q
    top, bottom = x.numerator, x.denominator
    return kept * (total * bottom + top * rest), total * total * bottom, False


@lru_cache
def _pi(digits: int) -> Decimal:
    """pi to `digits` significant digits (the decimal module documentation's series)."""
    from decimal import Context as DecimalContext
    from decimal import Decimal

    context = DecimalContext(prec=digits + 3)
    three = Decimal(3)
    last, term, total, n, na, d, da = Decimal(0), three, three, 1, 0, 0, 24
    while total != last:
        last = total
        n, na = n + na, na + 8
        d, da = d + da, da + 32
        term = context.divide(context.multiply(term, n), d)
        total = context.add(total, term)
    return DecimalContext(prec=digits).plus(total)


SERIES_BELOW = 6  # erfc by erf's series below this argument, by its continued fraction from it on


def erfc(z: Decimal, digits: int) -> Decimal:
    """The complementary error function of z >= 0 to `digits` significant digits, in decimal arithmetic.

    Below SERIES_BELOW: erf(z) = 2/sqrt(pi) * exp(-z^2) * sum_n 2^n z^(2n+1) / (1*3*...*(2n+1)), whose terms are
    all positive, taken with z^2 / ln(10) digits more since 1 - erf(z) cancels that many. From it on, Laplace's
    continued fraction erfc(z) = exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + (2/2) / (z + (3/2) / (z + ...)))),
    evaluated from the back with twice as many terms until two evaluations agree. Beyond z = 37, exp(-z^2) is
    below 10**-(UNDERFLOW + digits) (compute.to_ratio's 0) and the result is 0 without further work."""
    from decimal import Decimal

    if z == 0:
        return Decimal(1)
    if z < SERIES_BELOW:
        context = working(digits - WORKING_DIGITS + int(float(z) ** 2 / 2.302585) + 5)
        square = context.multiply(z, z)
        ratio = context.multiply(2, square)
        term = total = context.plus(z)
        n = 0
        while n <= square or term > context.multiply(total, Decimal(10) ** -context.prec):
            n += 1
            term = context.divide(context.multiply(term, ratio), 2 * n + 1)
            total = context.add(total, term)
        factor = context.divide(
            context.multiply(2, context.exp(context.minus(square))), context.sqrt(_pi(context.prec))
        )
        return working(digits - WORKING_DIGITS).subtract(1, context.multiply(factor, total))
    if z > sqrt((UNDERFLOW + digits) * log(10)):  # exp(-z^2) < 10**-(UNDERFLOW + digits): below what is kept
        return Decimal(0)
    context = working(digits - WORKING_DIGITS + 10)

    def fraction_value(terms: int) -> Decimal:
        tail = z
        for n in range(terms, 0, -1):
            tail = context.add(z, context.divide(Decimal(n) / 2, tail))
        return context.divide(1, tail)

    terms = 16
    previous = fraction_value(terms)
    while True:
        terms *= 2
        current = fraction_value(terms)
        if abs(current - previous) <= current * Decimal(10) ** -(digits + 5):
            break
        previous = current
    factor = context.divide(context.exp(context.minus(context.multiply(z, z))), context.sqrt(_pi(context.prec)))
    return working(digits - WORKING_DIGITS).multiply(factor, current)


def gelu_erf(value: Fraction) -> Ratio:
    """x * Phi(x), Phi(x) = erfc(-x / sqrt(2)) / 2: for x < 0 the small tail is computed directly, not as 1 - erf."""
    if value == 0:
        return 0, 1, True
    context = working(5)
    x = argument(value)
    return _approximate(context.multiply(x, _normal_cdf(x, context)))


def _normal_cdf(x: Decimal, context: DecimalContext) -> Decimal:
    """Phi(x) = erfc(-x / sqrt(2)) / 2 to the context's precision."""
    from decimal import Decimal

    tail = erfc(context.divide(context.abs(x), context.sqrt(Decimal(2))), context.prec)
    half_tail = context.divide(tail, 2)
    return context.subtract(1, half_tail) if x > 0 else half_tail


def gelu_erf_slope(value: Fraction) -> Ratio:
    """d/dx x * Phi(x) = Phi(x) + x * phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the normal density."""
    if value == 0:
        return 1, 2, True
    context = working(5)
    x = argument(value)
    density = context.divide(
        context.exp(context.divide(context.minus(context.multiply(x, x)), 2)),
        context.sqrt(context.multiply(2, _pi(context.prec + 3))),
    )
    return _approximate(context.add(_normal_cdf(x, context), context.multiply(x, density)))


@lru_cache
def _sqrt_2_over_pi() -> Fraction:
    from fractions import Fraction

    context = working(20)
    return Fraction(*context.sqrt(context.divide(2, _pi(context.prec + 5))).as_integer_ratio())


GELU_CUBIC = "0.044715"  # the tanh approximation's constant, as PyTorch writes it


def gelu_tanh(value: Fraction) -> Ratio:
    """0.5 * x * (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi) * (x + 0.044715 x^3): 1 + tanh(u) for very
    negative u would cancel, the sigmoid form does not."""
    from fractions import Fraction

    if value == 0:
        return 0, 1, True
    x = shortened(value)
    u = _sqrt_2_over_pi() * (x + Fraction(GELU_CUBIC) * x**3)
    p, q, _ = sigmoid(2 * u)
    return x.numerator * p, x.denominator * q, False


def gelu_tanh_slope(value: Fraction) -> Ratio:
    """d/dx x * s(2u) = s + x * s * (1 - s) * 2u', s = sigmoid(2u), u' = sqrt(2/pi) * (1 + 3 * 0.044715 x^2)."""
    from fractions import Fraction

    if value == 0:
        return 1, 2, True
    cubic = Fraction(GELU_CUBIC)
    x = shortened(value)
    u = _sqrt_2_over_pi() * (x + cubic * x**3)
    s_top, total, _ = sigmoid(2 * u)  # s = s_top / total, 1 - s = (total - s_top) / total
    du = _sqrt_2_over_pi() * (1 + 3 * cubic * x**2)
    slope = Fraction(s_top, total) + x * Fraction(s_top * (total - s_top), total * total) * 2 * du
    return slope.numerator, slope.denominator, False


class _Elementwise(Layer):
    """An activation applied to each element alone: same shape, pointwise window, a fixed cost per element.

    A subclass states `ops_per_element` and `ops_formula` (what is counted); `ops_rule` is built from them.
    """

    ops_per_element: ClassVar[int] = 0
    ops_formula: ClassVar[str] = ""
    keeps_channels = True  # each element alone: receptive fields keep every axis (cnncalc/receptive.py)
    # What autograd keeps for the slope: "input" (x) or "output" (y: ReLU, Sigmoid, Tanh read their slope from it).
    # In place (inplace: true), "output" kinds keep their result, which is the input's memory; the others keep a
    # copy of the input taken before it is overwritten ("copy"), new memory.
    saves: ClassVar[str] = "input"
    saves_in_place: ClassVar[str] = "copy"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ops_formula:
            cls.ops_rule = f"{cls.ops_per_element} per element: {cls.ops_formula}"

    def element_ops(self) -> int:
        return self.ops_per_element

    def saved(self, step: Backprop) -> list[Saved]:
        shape = (step.batch, *self.in_shape)
        if getattr(self, "inplace", False):
            if self.saves_in_place == "output":
                return [Saved("output (in place: the input's memory)", shape, "output")]
            return [Saved("copy of the input (taken before it is overwritten in place)", shape, "own")]
        if self.saves == "output":
            return [Saved("output", shape, "output")]
        return [saved_input(0, self.in_shape, step.batch)]

    def output_storage(self, step: Backprop) -> str:
        return "input" if getattr(self, "inplace", False) else "new"

    def other_ops(self) -> int:
        return per_element_ops(prod(self.in_shape), [self.element_ops()])  # type: ignore[no-any-return]

    def explain(self) -> list[tuple[str, Any]]:
        volume = product(named(axis_names(len(self.in_shape)), self.in_shape))
        return [("other ops", per_element_ops(volume, [Term.leaf("k", self.element_ops())]))]

    def value(self) -> Callable[[Fraction], Ratio]:
        """The function applied to each element, exact or to 40 digits (kinds whose forward is their own
        need not define it)."""
        raise NotImplementedError

    def slope(self) -> Callable[[Fraction], Ratio]:
        """Its derivative, with PyTorch's value at kinks."""
        raise NotImplementedError

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return map_values(x, self.value())

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [chain(x, grad, self.slope())], {}

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [({}, ((3, 4),)), ({}, ((2, 2, 3),)), ({}, ((5,),))]


def _warn_inplace_negative(layer: Layer, name: str, value: float) -> None:
    """In place, the backward pass reads the output, which a negative factor makes ambiguous: PyTorch refuses it."""
    if layer.inplace and value < 0:
        layer.warn(
            f"inplace with a negative {name} ({value:g}) works at inference, but PyTorch cannot train it "
            "(its backward pass rejects it): use inplace: false"
        )


@register
class ReLU(_Elementwise):
    kind = "ReLU"
    saves = "output"
    saves_in_place = "output"
    arguments = (INPLACE,)
    ops_per_element = 1
    ops_formula = "max(0, x), one compare"

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return Tensor(x.shape, [v if v > 0 else 0 for v in x.data], x.denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [gated(x, grad, lambda v: v > 0)], {}  # PyTorch: slope 0 at the kink x = 0


@register
class ReLU6(_Elementwise):
    kind = "ReLU6"
    arguments = (INPLACE,)
    ops_per_element = 2
    ops_formula = "min(max(0, x), 6), two compares"

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        six = 6 * x.denominator
        data = [0 if v < 0 else six if v > six else v for v in x.data]
        return Tensor(x.shape, data, x.denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        six = 6 * x.denominator
        return [gated(x, grad, lambda v: 0 < v < six)], {}  # PyTorch (Hardtanh's rule): slope 0 at 0 and at 6


@register
class LeakyReLU(_Elementwise):
    kind = "LeakyReLU"
    saves_in_place = "output"
    arguments = (Arg("negative_slope", Float(), 0.01, "factor for negative inputs"), INPLACE)
    ops_per_element = 2
    ops_formula = "a compare, and a multiply by negative_slope"

    def setup(self) -> None:
        _warn_inplace_negative(self, "negative_slope", self.negative_slope)

    def summary(self) -> str:
        return f"slope={self.negative_slope:g}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [({}, ((3, 4),)), ({"negative_slope": 0.2}, ((2, 2, 3),)), ({"negative_slope": -1.5}, ((5,),))]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        slope = as_written(self, "negative_slope")
        top, bottom = slope.numerator, slope.denominator
        data = [v * bottom if v > 0 else v * top for v in x.data]
        return Tensor(x.shape, data, x.denominator * bottom, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        slope = as_written(self, "negative_slope")
        top, bottom = slope.numerator, slope.denominator
        # PyTorch: the negative slope at the kink x = 0.
        data = [g * bottom if v > 0 else g * top for v, g in zip(x.data, grad.data, strict=True)]
        return [Tensor(x.shape, data, grad.denominator * bottom, x.approximate or grad.approximate)], {}


@register
class PReLU(_Elementwise):
    kind = "PReLU"
    arguments = (
        Arg("num_parameters", Int(min=1), 1, "learned slopes: 1 shared, or one per channel"),
        Arg("init", Float(), 0.25, "initial slope"),
    )
    ops_per_element = 2
    ops_formula = "a compare, and a multiply by the learned slope"

    def setup(self) -> None:
        # PyTorch checks this at forward: the channel axis is the first one per sample.
        channels = self.in_shape[0]
        if self.num_parameters not in (1, channels):
            raise LayerError(
                f"num_parameters ({self.num_parameters}) must be 1 or the number of channels ({channels}) "
                f"of the input ({fmt_shape(self.in_shape)})",
                arg="num_parameters",
                hint=f"use 1 (one slope shared by all channels) or {channels} (one per channel)",
            )

    def slopes(self, count: Any) -> dict[str, tuple[Any, ...]]:
        """The learnable slopes by state_dict name, `count` of them (an int, or a Term for `explain`)."""
        return {"weight": (count,)}

    def weights(self) -> dict[str, tuple[int, ...]]:
        return self.slopes(self.num_parameters)

    def params(self) -> int:
        return element_count(self.weights().values())  # type: ignore[no-any-return]

    def explain(self) -> list[tuple[str, Any]]:
        per_channel = self.num_parameters > 1  # setup made sure it is then the number of channels
        count = Term.leaf("C", self.num_parameters) if per_channel else self.num_parameters
        return [("params", element_count(self.slopes(count).values())), *super().explain()]

    def notes(self) -> list[str]:
        if self.num_parameters > 1:
            slopes = f"one learned slope a per channel, C = {self.num_parameters} of them"
        else:
            slopes = "one learned slope a shared by every channel"
        return [f"y = x for x >= 0, a*x below; {slopes}, initialized to {self.init:g}"]

    def summary(self) -> str:
        return f"slopes={self.num_parameters} init={self.init:g}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({}, ((3, 4),)),
            ({"num_parameters": 3}, ((3, 2, 2),)),
            ({"num_parameters": 4, "init": 0.1}, ((4,),)),
            ({"num_parameters": 2}, ((2, 3),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        weight = params["weight"]
        slopes, scale = weight.data, weight.denominator
        # One slope per channel (axis 1 of the batch, as in PyTorch), or one for all.
        plane = prod(x.shape[2:])
        channels = len(slopes)
        data = [
            v * scale if v >= 0 else v * slopes[(i // plane) % channels if channels > 1 else 0]
            for i, v in enumerate(x.data)
        ]
        return Tensor(x.shape, data, x.denominator * scale, x.approximate or weight.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # y = x for x > 0, a * x otherwise (PyTorch: the slope a at the kink x = 0); da sums g * x over the
        # non-positive elements its channel (or, shared, every channel) scales.
        (x,) = inputs
        weight = params["weight"]
        slopes, scale = weight.data, weight.denominator
        plane = prod(x.shape[2:])
        channels = len(slopes)
        grad_x, grad_slopes = [], [0] * channels
        for i, (v, g) in enumerate(zip(x.data, grad.data, strict=True)):
            if v > 0:
                grad_x.append(g * scale)
            else:
                channel = (i // plane) % channels if channels > 1 else 0
                grad_x.append(g * slopes[channel])
                grad_slopes[channel] += g * v
        approximate = x.approximate or grad.approximate
        return [Tensor(x.shape, grad_x, grad.denominator * scale, approximate or weight.approximate)], {
            "weight": Tensor(weight.shape, grad_slopes, grad.denominator * x.denominator, approximate)
        }


@register
class ELU(_Elementwise):
    kind = "ELU"
    saves_in_place = "output"
    arguments = (Arg("alpha", Float(), 1.0, "scale of the negative part alpha * (exp(x) - 1)"), INPLACE)
    ops_per_element = 4
    ops_formula = "a compare, exp, subtract 1, multiply by alpha"

    def setup(self) -> None:
        _warn_inplace_negative(self, "alpha", self.alpha)

    def summary(self) -> str:
        return f"alpha={self.alpha:g}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [({}, ((3, 4),)), ({"alpha": 0.5}, ((2, 2, 3),)), ({"alpha": -2}, ((5,),))]

    def value(self) -> Callable[[Fraction], Ratio]:
        alpha = as_written(self, "alpha")

        def elu(value: Fraction) -> Ratio:
            if value >= 0 or alpha == 0:
                return (value.numerator, value.denominator, True) if value >= 0 else (0, 1, True)
            p, q = expm1_ratio(value)
            return alpha.numerator * p, alpha.denominator * q, False

        return elu

    def slope(self) -> Callable[[Fraction], Ratio]:
        alpha = as_written(self, "alpha")

        def slope(value: Fraction) -> Ratio:
            # PyTorch: alpha * exp(x) for x <= 0, so alpha (not 1) at the kink x = 0.
            if value > 0:
                return 1, 1, True
            if value == 0 or alpha == 0:
                return alpha.numerator, alpha.denominator, True
            p, q = exp_ratio(value)
            return alpha.numerator * p, alpha.denominator * q, False

        return slope


@register
class GELU(_Elementwise):
    kind = "GELU"
    arguments = (Arg("approximate", Choice(("none", "tanh")), "none", "'tanh' for the tanh approximation"),)
    ops_by_mode: ClassVar[dict[str, tuple[int, str]]] = {
        "none": (5, "0.5 * x * (1 + erf(x / sqrt(2))): multiply, erf, add, two multiplies"),
        "tanh": (
            9,
            "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))): two multiplies for x^3, multiply, add, "
            "multiply, tanh, add, two multiplies",
        ),
    }
    ops_rule = "per element: " + "; ".join(
        f"{count} for '{mode}', {text}" for mode, (count, text) in ops_by_mode.items()
    )

    def element_ops(self) -> int:
        return self.ops_by_mode[self.approximate][0]

    def summary(self) -> str:
        return "tanh" if self.approximate == "tanh" else ""

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [({}, ((3, 4),)), ({"approximate": "tanh"}, ((2, 2, 3),)), ({"approximate": "none"}, ((5,),))]

    def value(self) -> Callable[[Fraction], Ratio]:
        return gelu_tanh if self.approximate == "tanh" else gelu_erf

    def slope(self) -> Callable[[Fraction], Ratio]:
        return gelu_tanh_slope if self.approximate == "tanh" else gelu_erf_slope


@register
class SiLU(_Elementwise):
    kind = "SiLU"
    arguments = (INPLACE,)
    ops_per_element = 3
    ops_formula = "x / (1 + exp(-x)): exp, add, divide"

    def value(self) -> Callable[[Fraction], Ratio]:
        return silu

    def slope(self) -> Callable[[Fraction], Ratio]:
        return silu_slope


@register
class Sigmoid(_Elementwise):
    kind = "Sigmoid"
    saves = "output"
    ops_per_element = 3
    ops_formula = "1 / (1 + exp(-x)): exp, add, divide"

    def value(self) -> Callable[[Fraction], Ratio]:
        return sigmoid

    def slope(self) -> Callable[[Fraction], Ratio]:
        return sigmoid_slope


@register
class Tanh(_Elementwise):
    kind = "Tanh"
    saves = "output"
    ops_per_element = 1
    ops_formula = "tanh, one function evaluation"

    def value(self) -> Callable[[Fraction], Ratio]:
        return tanh

    def slope(self) -> Callable[[Fraction], Ratio]:
        return tanh_slope


@register
class Hardtanh(_Elementwise):
    kind = "Hardtanh"
    arguments = (
        Arg("min_val", Float(infinite=True), -1.0, "lower clip value (-.inf: none)"),
        Arg("max_val", Float(infinite=True), 1.0, "upper clip value (.inf: none); must exceed min_val"),
        INPLACE,
        Arg("min_value", Optional(Float(infinite=True)), None, "deprecated name of min_val; overrides it"),
        Arg("max_value", Optional(Float(infinite=True)), None, "deprecated name of max_val; overrides it"),
    )
    ops_per_element = 2
    ops_formula = "min(max(x, min_val), max_val), two compares"

    def setup(self) -> None:
        # PyTorch's deprecated spellings win over the new ones, with a warning.
        for old, new in (("min_value", "min_val"), ("max_value", "max_val")):
            if getattr(self, old) is not None:
                self.warn(f"{old} is deprecated and renamed to {new}")
                setattr(self, new, getattr(self, old))
        if not self.max_val > self.min_val:
            raise LayerError(
                f"max_val ({self.max_val:g}) must be greater than min_val ({self.min_val:g})",
                arg=self.culprit(),
                hint=(
                    f"make max_val larger than {self.min_val:g}"
                    if self.max_val == self.min_val
                    else f"swap them: min_val: {self.max_val:g}, max_val: {self.min_val:g}"
                ),
            )

    def culprit(self) -> str:
        """The clip value the spec wrote (the upper one when both are written), under the name it used."""
        for new, old in (("max_val", "max_value"), ("min_val", "min_value")):
            if old in self.given:
                return old
            if new in self.given:
                return new
        return "max_val"

    def summary(self) -> str:
        return f"min={self.min_val:g} max={self.max_val:g}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({}, ((3, 4),)),
            ({"min_val": -0.5, "max_val": 2}, ((2, 2, 3),)),
            ({"min_value": -2, "max_value": 1.5}, ((5,),)),
            ({"min_val": float("-inf"), "max_val": 0.25}, ((2, 3),)),
        ]

    def bounds(self) -> tuple[Fraction | None, Fraction | None]:
        """The clip values as the decimals the spec wrote; None for an infinite one (no clipping there)."""
        from fractions import Fraction

        infinite = (float("inf"), float("-inf"))
        low = None if self.min_val in infinite else Fraction(str(self.min_val))
        high = None if self.max_val in infinite else Fraction(str(self.max_val))
        return low, high

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        low, high = self.bounds()
        denominator = lcm(x.denominator, *(b.denominator for b in (low, high) if b is not None))
        factor = denominator // x.denominator
        data = [v * factor for v in x.data]
        if low is not None:
            floor = low.numerator * (denominator // low.denominator)
            data = [v if v > floor else floor for v in data]
        if high is not None:
            ceiling = high.numerator * (denominator // high.denominator)
            data = [v if v < ceiling else ceiling for v in data]
        return Tensor(x.shape, data, denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        low, high = self.bounds()
        d = x.denominator
        # PyTorch passes the gradient strictly between the bounds only: slope 0 at min_val and at max_val.
        # Compared as v * q against p * d for a bound p / q, so no bound's denominator rescales the input.
        floor = None if low is None else (low.numerator * d, low.denominator)
        ceiling = None if high is None else (high.numerator * d, high.denominator)

        def inside(v: int) -> bool:
            above = floor is None or v * floor[1] > floor[0]
            return above and (ceiling is None or v * ceiling[1] < ceiling[0])

        return [gated(x, grad, inside)], {}


@register
class Hardswish(_Elementwise):
    kind = "Hardswish"
    arguments = (INPLACE,)
    ops_per_element = 5
    ops_formula = "x * min(max(x + 3, 0), 6) / 6: add, two compares, multiply, divide"

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        d = x.denominator
        data = [v * min(max(v + 3 * d, 0), 6 * d) for v in x.data]  # over 6 d^2
        return Tensor(x.shape, data, 6 * d * d, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Slope 0 for x <= -3, x / 3 + 1 / 2 = (2x + 3) / 6 for -3 < x < 3, 1 for x >= 3: PyTorch's values at
        # the kinks (0 at -3, where the middle piece would give -1/2; 1 at 3, where it would give 3/2).
        (x,) = inputs
        d = x.denominator
        three, six = 3 * d, 6 * d
        data = [
            0 if v <= -three else g * six if v >= three else g * (2 * v + three)
            for v, g in zip(x.data, grad.data, strict=True)
        ]
        return [Tensor(x.shape, data, grad.denominator * six, x.approximate or grad.approximate)], {}


@register
class Hardsigmoid(_Elementwise):
    kind = "Hardsigmoid"
    arguments = (INPLACE,)
    ops_per_element = 4
    ops_formula = "min(max(x + 3, 0), 6) / 6: add, two compares, divide"

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        d = x.denominator
        data = [min(max(v + 3 * d, 0), 6 * d) for v in x.data]  # over 6 d
        return Tensor(x.shape, data, 6 * d, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        three = 3 * x.denominator
        # Slope 1/6 strictly between -3 and 3, 0 elsewhere: PyTorch gives 0 at both kinks.
        data = [g if -three < v < three else 0 for v, g in zip(x.data, grad.data, strict=True)]
        return [Tensor(x.shape, data, 6 * grad.denominator, x.approximate or grad.approximate)], {}


@register
class Softmax(Layer):
    kind = "Softmax"
    arguments = (
        Arg("dim", Optional(Int()), None, "axis to normalize along, counting the batch axis as 0 as PyTorch does"),
    )
    ops_per_element = 3
    ops_formula = "exp, add to the sum along dim, divide by it (the max subtraction not counted)"
    ops_rule = f"{ops_per_element} per element: {ops_formula}"

    def saved(self, step: Backprop) -> list[Saved]:
        """softmax's backward reads its output alone."""
        return [Saved("output", (step.batch, *self.in_shape), "output")]

    def setup(self) -> None:
        rank = len(self.in_shape) + 1  # PyTorch counts the batch axis
        if self.dim is None:
            # PyTorch's deprecated implicit choice (_get_softmax_dim): axis 0 for 0-, 1- and 3-axis tensors, else 1.
            self.axis = 0 if rank in (0, 1, 3) else 1
            self.warn(
                f"softmax without dim: PyTorch picks {dim_name(self.axis, rank - 1)} for a {rank}-axis tensor (the "
                "batch axis counts) and warns that this implicit choice is deprecated; give dim explicitly"
            )
        elif -rank <= self.dim < rank:
            self.axis = self.dim % rank
        else:
            raise LayerError(
                f"dim {self.dim} is out of range for a {rank}-axis tensor (the batch axis counts as 0; input "
                f"shape {fmt_shape(self.in_shape)} per sample)",
                arg="dim",
                hint=f"use a dim from {-rank} to {rank - 1}; 1 is the channels",
            )
        if self.axis == 0:
            self.warn(
                "softmax along dim 0 (the batch axis): each value is normalized against the other samples' values, "
                "so a batch of 1 gives 1 everywhere"
            )

    def other_ops(self) -> int:
        return per_element_ops(prod(self.in_shape), [self.ops_per_element])  # type: ignore[no-any-return]

    def explain(self) -> list[tuple[str, Any]]:
        volume = product(named(axis_names(len(self.in_shape)), self.in_shape))
        return [("other ops", per_element_ops(volume, [Term.leaf("k", self.ops_per_element)]))]

    def notes(self) -> list[str]:
        name = ("N", *axis_names(len(self.in_shape)))[self.axis]
        values = f"{name} = {self.in_shape[self.axis - 1]} values" if self.axis else "N samples of the batch"
        return [
            f"y_i = exp(x_i) / sum_j exp(x_j) over the {values} along dim {self.axis} ({name}), which then sum to 1"
        ]

    def window(self) -> tuple[Window, ...] | None:
        if len(self.in_shape) < 2:
            return None
        # Every output reads its whole row along the normalized axis; per sample, axis - 1 (batch excluded).
        return tuple(
            spanning_window(size) if axis == self.axis - 1 else POINTWISE
            for axis, size in enumerate(self.in_shape[1:], start=1)
        )

    def summary(self) -> str:
        return f"dim={self.axis}"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        # Along dim 0 the samples normalize each other: only without spatial axes (no window) does that fit the
        # generic test's check that a change in one sample stays in that sample.
        return [
            ({"dim": 1}, ((3, 4),)),
            ({"dim": -1}, ((2, 2, 3),)),
            ({"dim": 2}, ((2, 3, 2),)),
            ({"dim": 0}, ((3,),)),
            ({}, ((3, 2, 2),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        from fractions import Fraction

        (x,) = inputs
        shape, d = x.shape, x.denominator
        size, stride = shape[self.axis], prod(shape[self.axis + 1 :])
        exps: dict[int, Fraction] = {}  # exp((v - max) / d) by v - max
        ratios: list[tuple[int, int]] = [(0, 1)] * len(x.data)
        rounded = False
        for outer in range(prod(shape[: self.axis])):
            for inner in range(stride):
                row = range(outer * size * stride + inner, (outer + 1) * size * stride, stride)
                top = max(x.data[i] for i in row)
                terms = []
                for i in row:
                    difference = x.data[i] - top  # <= 0: exp never overflows (PyTorch subtracts the max too)
                    if difference not in exps:
                        exps[difference] = Fraction(*exp_ratio(Fraction(difference, d))) if difference else Fraction(1)
                    terms.append(exps[difference])
                    rounded = rounded or difference != 0
                total = sum(terms)
                for i, term in zip(row, terms, strict=True):
                    value = term / total
                    ratios[i] = (value.numerator, value.denominator)
        out = ratio_tensor(shape, ratios, rounded)
        out.approximate = out.approximate or x.approximate
        return out

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # dx_i = y_i * (g_i - sum_j g_j y_j) along each row, from forward's output y (its 40-digit values where
        # they are approximate), with sum_j g_j y_j taken as sum_j g_j y_j / sum_j y_j: the same where the row sums
        # to 1 exactly, and where it is rounded, a uniform g (the rows' sums are constant) still gives exactly 0.
        # With y_i = Y_i / D and g_i = G_i / E: dx_i = Y_i * (G_i * sum(Y) - sum(G Y)) / (E * D * sum(Y)).
        shape = output.shape
        y, g = output.data, grad.data
        size, stride = shape[self.axis], prod(shape[self.axis + 1 :])
        ratios: list[tuple[int, int]] = [(0, 1)] * len(y)
        scale = grad.denominator * output.denominator
        for outer in range(prod(shape[: self.axis])):
            for inner in range(stride):
                row = range(outer * size * stride + inner, (outer + 1) * size * stride, stride)
                total = sum(y[i] for i in row)
                weighted = sum(g[i] * y[i] for i in row)
                for i in row:
                    ratios[i] = (y[i] * (g[i] * total - weighted), scale * total)
        # Rounded again to SIGNIFICANT digits where y is approximate, so that long denominators do not pile up.
        out = ratio_tensor(shape, ratios, rounded=output.approximate)
        out.approximate = output.approximate or grad.approximate or inputs[0].approximate
        return [out], {}
