"""Budgets for `cnncalc check`: the spec's `limits:` section and the command line's --max-... options.

    limits:
      max_params: 25M              # counts take K, M, G, T (powers of 1000)
      max_macs: 4.1G
      max_flops: 9G
      max_activation_bytes: 1.5GiB # bytes also take KB, MB, GB (1000s) and KiB, MiB, GiB (1024s)
      dtype: float16               # element type for max_activation_bytes (default float32)
      expect_output: [1000]        # the output shape of one sample, or '2x256x256'
      min_receptive_field: 200     # one size for every spatial axis, or one per axis: [200, 100], '200x100'

Values are exact: 4.1G is 4,100,000,000, and a value that is not a whole number (1.5K bytes is fine, 1.0005K is
not) is an error, never rounded.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, NamedTuple

from cnncalc.errors import Location, SpecError, UsageError

COUNT_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
BYTE_UNITS = {
    "": 1,
    "B": 1,
    **{f"{p}B": 1000 ** (i + 1) for i, p in enumerate("KMGTP")},
    **{f"{p}": 1000 ** (i + 1) for i, p in enumerate("KMGTP")},
    **{f"{p}iB": 1024 ** (i + 1) for i, p in enumerate("KMGTP")},
}

# budget -> (what it measures, the unit table its values take)
COUNTS = {"max_params": "params", "max_macs": "MACs", "max_flops": "FLOPs"}
BUDGETS = (*COUNTS, "max_activation_bytes", "expect_output", "min_receptive_field")
LIMIT_KEYS = (*BUDGETS, "dtype")
# A decimal number, with an exponent as YAML 1.2 and JSON write them (1e9, 4.1e9), then a unit. The exponent has
# at most two digits: 10**(10**9) would take forever to write out, and no budget needs it.
_NUMBER = re.compile(r"^\s*((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?)\s*([A-Za-z]*)\s*$")


class Limit(NamedTuple):
    """One budget: its value (an int, or a shape / per-axis sizes), where it was set, and how it was written."""

    budget: str
    value: Any
    written: str  # as the user wrote it, for messages: "4.1G"
    source: str  # "spec" or the command-line option, "--max-macs"
    location: Location | None  # in the spec, for "spec" limits


def parse_amount(value: Any, units: dict[str, int]) -> int:
    """An exact non-negative integer from 25000000, '25M', '4.1G', '1.5GiB'; ValueError with the reason."""
    if isinstance(value, float) and value.is_integer() and value >= 0:  # YAML reads 1e9 and 1.5e+6 as floats
        return int(Fraction(repr(value)))  # the decimal written, not the double's binary value: 1.1e17 is 11 * 10**16
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a whole number, optionally with a unit (25M, 4.1G)")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("expected a number >= 0")
        return value
    match = _NUMBER.match(value.replace(",", "").replace("_", ""))
    if not match:
        raise ValueError("expected a number with an optional unit, such as 25M or 4.1G")
    number, unit = match.groups()
    scale = units.get(unit, units.get(unit.upper()) if len(unit) == 1 else None)  # 25m reads as 25M
    if scale is None:
        raise ValueError(f"unknown unit '{unit}' (valid: {', '.join(u for u in units if u)})")
    if "e" not in number and "E" not in number:  # integer arithmetic: Fraction(text) parses with a regex of its own
        whole, _, decimals = number.partition(".")
        amount, rest = divmod(int(whole + decimals) * scale, 10 ** len(decimals))
        if not rest:
            return amount
    exact = Fraction(number) * scale
    if exact.denominator != 1:
        raise ValueError(f"{value} is not a whole number ({float(exact):,.3f})")
    return int(exact)


def parse_sizes(value: Any, what: str) -> tuple[int, ...]:
    """A shape or per-axis sizes: 10, [2, 256, 256], '2x256x256' or (2, 256, 256)."""
    from cnncalc.args import python_form

    value = python_form(value)
    if isinstance(value, str):
        parts = [p.strip() for p in re.split(r"[x,]", value)]
        if all(re.fullmatch("[0-9]+", p) for p in parts):
            value = [int(p) for p in parts]
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(f"expected {what}: a positive integer, a list of them, or '2x256x256'")
    return tuple(value)


def parse_limit(budget: str, value: Any) -> Any:
    """A budget's value in its exact form; ValueError with the reason."""
    if budget in COUNTS:
        return parse_amount(value, COUNT_UNITS)
    if budget == "max_activation_bytes":
        return parse_amount(value, BYTE_UNITS)
    if budget == "expect_output":
        return parse_sizes(value, "the output shape of one sample")
    if budget == "min_receptive_field":
        return parse_sizes(value, "a size per spatial axis")
    raise AssertionError(budget)


def parse_limits(section: Any, mark: Any, file: str) -> dict[str, Limit]:
    """The spec's `limits:` mapping; `dtype` is kept as a Limit too (its value a dtype name)."""
    from cnncalc.args import describe, did_you_mean
    from cnncalc.units import DTYPE_BYTES
    from cnncalc.yamlsource import at

    if not isinstance(section, dict):
        raise SpecError(
            f"limits: expected a mapping of budgets, got {describe(section)}",
            location=at(file, mark),
            hint="for example limits: {max_params: 25M, max_macs: 4.1G}",
        )
    limits: dict[str, Limit] = {}
    for key, value in section.items():
        where = at(file, section.value_marks[key])
        if key not in LIMIT_KEYS:
            raise SpecError(
                f"limits: unknown budget '{key}' (valid: {', '.join(LIMIT_KEYS)})",
                location=at(file, section.key_marks[key]),
                hint=did_you_mean(str(key), LIMIT_KEYS),
            )
        if key == "dtype":
            if not isinstance(value, str) or value not in DTYPE_BYTES:
                raise SpecError(
                    f"limits: dtype: expected one of {', '.join(DTYPE_BYTES)}, got {describe(value)}",
                    location=where,
                    hint=did_you_mean(str(value), list(DTYPE_BYTES)),
                )
            limits[key] = Limit(key, value, str(value), "spec", where)
            continue
        try:
            parsed = parse_limit(key, value)
        except ValueError as error:
            raise SpecError(f"limits: {key}: {error}, got {describe(value)}", location=where) from None
        limits[key] = Limit(key, parsed, _written(value), "spec", where)
    return limits


def option_limit(budget: str, text: str) -> Limit:
    """A budget from the command line (--max-macs 4.1G), as a Limit; UsageError when it cannot be read."""
    option = "--" + budget.replace("_", "-")
    try:
        value = parse_limit(budget, int(text) if re.fullmatch("[0-9]+", text) else text)
    except ValueError as error:
        raise UsageError(f"{option}: {error}, got {text!r}") from None
    return Limit(budget, value, text, option, None)


def _written(value: Any) -> str:
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return str(value)
