"""Exact tensors for the reference executor: integer numerators over one common denominator.

A Fraction per element is about 90 times slower than int arithmetic, so a tensor holds Python ints and one
positive denominator: element i is data[i] / denominator. Inner products then run on plain ints
(sum(map(mul, xs, ws))), and only the denominators multiply. Where mathematics leaves the rationals (square roots
in normalization, exponentials in GELU, SiLU, Sigmoid, Softmax), values are rounded to DIGITS significant digits
or better, still held as ratios of integers, and the tensor is marked `approximate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import gcd, lcm, prod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fractions import Fraction

DIGITS = 40  # significant digits kept where a value leaves the rationals (the contract asks for at least 30)


class Tensor:
    """A dense tensor, batch axis included: shape (N, C, H, W) for a batch of C x H x W samples."""

    __slots__ = ("shape", "data", "denominator", "approximate")

    def __init__(self, shape: tuple[int, ...], data: list[int], denominator: int = 1, approximate: bool = False):
        if len(data) != prod(shape):
            raise ValueError(f"{len(data)} values do not fill a tensor of shape {shape}")
        self.shape = shape
        self.data = data
        self.denominator = denominator
        self.approximate = approximate

    # -- construction ---------------------------------------------------------------------------------------

    @classmethod
    def from_values(cls, shape: tuple[int, ...], values: Sequence[int | Fraction], approximate: bool = False) -> Tensor:
        """From exact values (ints or Fractions), over their least common denominator."""
        denominator = 1
        for value in values:
            if type(value) is not int:
                denominator = lcm(denominator, value.denominator)
        if denominator == 1:
            return cls(shape, [int(v) for v in values], 1, approximate)
        return cls(shape, [int(v * denominator) for v in values], denominator, approximate)

    @classmethod
    def zeros(cls, shape: tuple[int, ...]) -> Tensor:
        return cls(shape, [0] * prod(shape))

    # -- reading --------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.data)

    def value(self, index: int) -> int | Fraction:
        """Element `index` (flat, row-major) as an int or a Fraction."""
        from fractions import Fraction

        numerator = self.data[index]
        if self.denominator == 1:
            return numerator
        value = Fraction(numerator, self.denominator)
        return value.numerator if value.denominator == 1 else value

    def values(self) -> list[int | Fraction]:
        return [self.value(i) for i in range(len(self.data))]

    def nested(self) -> Any:
        """The values as nested lists, shaped like the tensor."""
        if 0 in self.shape:  # no values: lists down to the first empty axis, as torch's tolist() gives
            return _empty_nested(self.shape)
        flat = self.values()
        for size in reversed(self.shape[1:]):
            flat = [flat[i : i + size] for i in range(0, len(flat), size)]
        return flat

    def strides(self) -> tuple[int, ...]:
        strides = []
        step = 1
        for size in reversed(self.shape):
            strides.append(step)
            step *= size
        return tuple(reversed(strides))

    # -- arithmetic helpers ---------------------------------------------------------------------------------

    def reduced(self) -> Tensor:
        """The same values over the smallest common denominator (keeps numbers short through deep networks)."""
        if self.denominator == 1:
            return self
        common = gcd(self.denominator, *self.data)
        if common == 1:
            return self
        return Tensor(self.shape, [v // common for v in self.data], self.denominator // common, self.approximate)

    def over(self, denominator: int) -> list[int]:
        """The numerators over `denominator`, a multiple of this tensor's denominator."""
        factor, rest = divmod(denominator, self.denominator)
        if rest:
            raise ValueError(f"{denominator} is not a multiple of {self.denominator}")
        return self.data if factor == 1 else [v * factor for v in self.data]

    def reshaped(self, shape: tuple[int, ...]) -> Tensor:
        return Tensor(shape, self.data, self.denominator, self.approximate)


def common(tensors: Iterable[Tensor]) -> tuple[int, list[list[int]], bool]:
    """The least common denominator of `tensors`, their numerators over it, and whether any is approximate."""
    group = list(tensors)
    denominator = lcm(*(t.denominator for t in group))
    return denominator, [t.over(denominator) for t in group], any(t.approximate for t in group)


def parse_value(value: Any) -> int | Fraction:
    """A number from an input or weights file: int, float (its exact binary value), or 'p/q' text."""
    from fractions import Fraction

    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"expected a finite number, got {value}")
        exact = Fraction(value)
        return exact.numerator if exact.denominator == 1 else exact
    if isinstance(value, str):
        try:
            exact = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a number or 'p/q', got {value!r}") from None
        return exact.numerator if exact.denominator == 1 else exact
    raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")


def shape_of_nested(value: Any) -> tuple[int, ...]:
    """The shape of a nested list (rectangular), or a ValueError naming where it is ragged."""
    shape: list[int] = []
    level = value
    while isinstance(level, list):
        shape.append(len(level))
        if not level:
            break
        level = level[0]
    _check_rectangular(value, tuple(shape), ())
    return tuple(shape)


class RaggedError(ValueError):
    """A nested list that is not rectangular; `at` is the index path of the first item that does not fit."""

    def __init__(self, message: str, at: tuple[int, ...]) -> None:
        super().__init__(message)
        self.at = at


def _check_rectangular(value: Any, shape: tuple[int, ...], at: tuple[int, ...]) -> None:
    if not shape:
        if isinstance(value, list):
            raise RaggedError(f"too deep at index {list(at)}", at)
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        found = f"{len(value)} items" if isinstance(value, list) else "a number"
        raise RaggedError(f"ragged at index {list(at)}: expected {shape[0]} items, found {found}", at)
    for i, item in enumerate(value):
        _check_rectangular(item, shape[1:], at + (i,))


def flatten_nested(value: Any) -> list[Any]:
    if not isinstance(value, list):
        return [value]
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def add(a: Tensor, b: Tensor) -> Tensor:
    """The element-wise sum of two tensors of one shape, over their least common denominator."""
    denominator, (x, y), approximate = common((a, b))
    return Tensor(a.shape, [p + q for p, q in zip(x, y, strict=True)], denominator, approximate)


def _empty_nested(shape: tuple[int, ...]) -> list[Any]:
    if not shape or shape[0] == 0:
        return []
    return [_empty_nested(shape[1:]) for _ in range(shape[0])]
