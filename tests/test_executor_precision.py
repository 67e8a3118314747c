"""The executor's 40-digit functions (exp, exp - 1, square roots, and the activations built on them) at arguments
of any size: |x| up to 1e6, tiny and huge fractions, values with 100,000-digit denominators. Each result must
carry 40 significant digits against mpmath at 100 digits (or be 0 where the true value is below 10**-UNDERFLOW,
far below what a tensor keeps and below float64's smallest value), and be a short ratio: before, exp(-1e6)
became a ratio of integers with 434,294 digits, and four convs then a sigmoid took a minute. Speed itself is
measured in benchmarks/bench_executor.py; here the sizes of the results stand for the work (they are what made
it grow), so the tests cannot flake on a busy machine."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from cnncalc.compute import UNDERFLOW, Context, decimal_of, exp_ratio, expm1_ratio, sqrt_ratio, to_decimal
from cnncalc.layers import make_layer
from cnncalc.layers.activation import (
    gelu_erf,
    gelu_erf_slope,
    gelu_tanh,
    gelu_tanh_slope,
    sigmoid,
    sigmoid_slope,
    silu,
    silu_slope,
    tanh,
    tanh_slope,
)
from cnncalc.tensor import Tensor

mpmath = pytest.importorskip("mpmath")

HUGE = 10**100_000  # a denominator of 100,001 digits
ARGUMENTS = [
    Fraction(-(10**6)),
    Fraction(10**6),
    Fraction(-1000),
    Fraction(1000),
    Fraction(-700),
    Fraction(-52),  # GELU's tail: exp(-x^2/2) near 10**-590
    Fraction(-37),
    Fraction(-7, 2),
    Fraction(-1, 3),
    Fraction(1, 10**30),
    Fraction(-1, 10**60),  # below 10**-WORKING_DIGITS: expm1 by its series
    Fraction(1, HUGE),
    Fraction(-1, HUGE),
    Fraction(HUGE + 1, HUGE),  # 1 + 1e-100000, written with 100,001-digit integers
    Fraction(-3 * HUGE - 1, HUGE),
    Fraction(10**6 * HUGE + 7, HUGE),
    Fraction(123456789, 1000),
]
# A result's numerator and denominator: exp's smallest kept value (e**-2072, some 2**-2990, over 2**240) squared in
# the slopes' (1 + e)^2 gives the longest, some 6,500 bits, whatever the argument.
MAX_BITS = 8000


def mp(value: Fraction) -> Any:
    return mpmath.mpf(value.numerator) / value.denominator


def check(got: tuple[int, int] | tuple[int, int, bool], expected: Any, what: str, bits: int = MAX_BITS) -> None:
    p, q = got[0], got[1]
    assert q > 0 and p.bit_length() < bits and q.bit_length() < bits, f"{what}: a long ratio"
    value = mpmath.mpf(p) / q
    if abs(expected) < mpmath.mpf(10) ** -(UNDERFLOW - 10):
        assert abs(value) < mpmath.mpf(10) ** -(UNDERFLOW - 20), f"{what}: {value} vs {expected}"
    else:
        assert abs(value / expected - 1) < mpmath.mpf(10) ** -40, f"{what}: {value} vs {expected}"


def sig(x: Any) -> Any:
    return 1 / (1 + mpmath.exp(-x))


REFERENCES: list[tuple[str, Callable[[Fraction], Any], Callable[[Any], Any]]] = [
    ("sigmoid", sigmoid, sig),
    ("sigmoid'", sigmoid_slope, lambda x: sig(x) * sig(-x)),
    ("tanh", tanh, mpmath.tanh),
    ("tanh'", tanh_slope, lambda x: 1 / mpmath.cosh(x) ** 2),
    ("silu", silu, lambda x: x * sig(x)),
    ("silu'", silu_slope, lambda x: sig(x) * (1 + x * sig(-x))),
    ("gelu", gelu_erf, lambda x: x * mpmath.ncdf(x)),
    ("gelu'", gelu_erf_slope, lambda x: mpmath.ncdf(x) + x * mpmath.npdf(x)),
]


def gelu_tanh_reference(x: Any) -> Any:
    two_u = 2 * mpmath.sqrt(2 / mpmath.pi) * (x + mpmath.mpf("0.044715") * x**3)
    return x * sig(two_u)


def gelu_tanh_slope_reference(x: Any) -> Any:
    c = mpmath.mpf("0.044715")
    two_u = 2 * mpmath.sqrt(2 / mpmath.pi) * (x + c * x**3)
    du = mpmath.sqrt(2 / mpmath.pi) * (1 + 3 * c * x**2)
    return sig(two_u) + x * sig(two_u) * sig(-two_u) * 2 * du


@pytest.mark.parametrize("value", ARGUMENTS, ids=lambda v: f"{float(v):.3g}{'~' if v.denominator > 10**100 else ''}")
def test_exp_and_square_root_keep_forty_digits_at_any_size(value: Fraction) -> None:
    with mpmath.workdps(100):
        x = mp(value)
        if value <= 0:  # the executor's exponentials are of non-positive arguments (exp(-|x|), max subtracted)
            check(exp_ratio(value), mpmath.exp(x), "exp")
            check(expm1_ratio(value), mpmath.expm1(x), "expm1")
        else:
            # Never flushed (it is divided by): a power of ten as long as the root's magnitude needs.
            magnitude = abs(value.denominator.bit_length() - value.numerator.bit_length()) // 2
            check(sqrt_ratio(value.numerator, value.denominator), mpmath.sqrt(x), "sqrt", magnitude + 200)
            check(exp_ratio(-value), mpmath.exp(-x), "exp")


@pytest.mark.parametrize("value", ARGUMENTS, ids=lambda v: f"{float(v):.3g}{'~' if v.denominator > 10**100 else ''}")
def test_activations_keep_forty_digits_at_any_size(value: Fraction) -> None:
    # mpmath's tail functions lose relative digits far out; 300 digits of working precision cover |x| = 1e6.
    with mpmath.workdps(300):
        x = mp(value)
        for what, ours, reference in REFERENCES:
            check(ours(value), reference(x), what)
        if abs(value) < 10**4:  # beyond that, x^3 makes mpmath's own sigmoid argument overflow its exponent
            check(gelu_tanh(value), gelu_tanh_reference(x), "gelu tanh")
            check(gelu_tanh_slope(value), gelu_tanh_slope_reference(x), "gelu tanh'")


def test_rational_results_stay_exact() -> None:
    for function, expected in ((sigmoid, (1, 2)), (tanh, (0, 1)), (silu, (0, 1)), (gelu_erf, (0, 1))):
        assert function(Fraction(0)) == (*expected, True)
    assert exp_ratio(0) == (1, 1) and expm1_ratio(0) == (0, 1)
    assert sqrt_ratio(0, 5) == (0, 1)
    out = make_layer("Softmax", {"dim": 1}, (4,)).forward([Tensor((1, 4), [7, 7, 7, 7])], {}, Context())
    assert not out.approximate and out.values() == [Fraction(1, 4)] * 4


def test_square_roots_are_short_ratios_and_never_flushed() -> None:
    # A tiny variance + eps is divided by: its root must never become 0, however small.
    p, q = sqrt_ratio(1, 10**3000)
    tiny = Fraction(1, 10**3000)
    assert p > 0 and abs(Fraction(p, q) ** 2 - tiny) <= tiny / 10**40  # exact: pytest.approx takes no Fraction
    p, q = sqrt_ratio(2 * HUGE + 1, 3 * HUGE)  # 100,001-digit operands: a 50-digit result
    assert p.bit_length() < 200 and q.bit_length() < 200
    with mpmath.workdps(60):
        assert abs(mpmath.mpf(p) / q / mpmath.sqrt(mpmath.mpf(2) / 3) - 1) < mpmath.mpf(10) ** -40


def test_decimal_conversion_is_exactly_truncated() -> None:
    assert to_decimal(Fraction(1, 3), 10) == decimal_of(1, 3, 10)
    value = decimal_of(-(10**100_000) - 1, HUGE, 20)  # -(1 + 1e-100000): the trailing 1 is far below 20 digits
    assert str(value).startswith("-1.000000000000000000") and value.adjusted() == 0
    assert decimal_of(7, 1) == 7 and decimal_of(0, HUGE) == 0


def test_large_activations_through_layers_stay_short() -> None:
    """Four convs give values near 1e6 with growing denominators; the layers' outputs keep short numerators."""
    values = [-(10**6), 10**6, -(10**6) + Fraction(1, 7), Fraction(-1, HUGE), Fraction(5 * HUGE + 1, HUGE), 0]
    x = Tensor.from_values((1, len(values)), values)
    for kind, args in (("Sigmoid", {}), ("SiLU", {}), ("Tanh", {}), ("GELU", {}), ("GELU", {"approximate": "tanh"})):
        layer = make_layer(kind, args, (len(values),))
        out = layer.forward([x], {}, Context())
        assert out.approximate and out.denominator <= 10**400, kind
        assert max(abs(v) for v in out.data).bit_length() < 1500, kind
        grads, _ = layer.backward([x], {}, out, Tensor((1, len(values)), [1] * len(values)), Context())
        assert grads[0].denominator <= 10**400, kind
