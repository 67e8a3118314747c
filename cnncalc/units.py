"""Number formats: exact integers with thousands separators (768,000), human units on request (768K, 4.09G)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction

DTYPE_BYTES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "float8": 1,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
}

_PREFIXES = ("", "K", "M", "G", "T", "P", "E")


def exact(n: int) -> str:
    return f"{n:,}"


def human(n: int) -> str:
    """Three significant digits with an SI prefix: 768000 -> '768K', 4089184256 -> '4.09G'."""
    value = float(n)
    index = 0
    while abs(value) >= 999.5 and index < len(_PREFIXES) - 1:
        value /= 1000
        index += 1
    if index == 0:
        return str(n)
    digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
    return f"{value:.{digits}f}{_PREFIXES[index]}"


def human_bytes(n: int) -> str:
    """Binary units: 1536 -> '1.50 KiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{n} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def count(n: int, human_units: bool) -> str:
    return human(n) if human_units else exact(n)


def nbytes(n: int, human_units: bool) -> str:
    return human_bytes(n) if human_units else f"{n:,} B"


def rational(value: int | Fraction) -> int | str:
    """A receptive-field value for JSON: integers as numbers, other rationals as 'p/q' strings."""
    if value.denominator == 1:  # ints have one too
        return int(value)
    return f"{value.numerator}/{value.denominator}"


def rational_text(value: int | Fraction) -> str:
    return str(rational(value))
