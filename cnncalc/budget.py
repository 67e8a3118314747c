"""The exact executor's budget: how many multiply-accumulates and how many values read and written one run of
`cnncalc run` or `cnncalc verify` (or the values `cnncalc fuse --seed-weights` generates) may take. The counts come
from the shapes before anything runs (cnncalc.runner.workload); this module holds the figures and their units,
and is light enough for the command-line options to import at start-up."""

from __future__ import annotations

from typing import NamedTuple

from cnncalc.errors import UsageError

DEFAULT_MAX_MACS = 100_000_000  # ResNet-50 at 3x32x32 needs 85 M: some ten seconds of pure-Python integer products
DEFAULT_MAX_ELEMENTS = 50_000_000  # ResNet-50 at 3x32x32 needs 29 M, mostly its 25.6 M generated weights
PRACTICAL = 10**12  # above this many MACs or values, raising the budget is no advice: it would run for days


class Budget(NamedTuple):
    """What the executor may do in one run; both are checked before it starts."""

    max_macs: int = DEFAULT_MAX_MACS  # multiply-accumulates of inner products (conv, linear)
    max_elements: int = DEFAULT_MAX_ELEMENTS  # values read and written by every layer, see Workload


def parse_budget(option: str, text: str) -> int:
    """A budget option's value: 100000000, 100M, 1.5G (powers of 1000, as `cnncalc check` reads them)."""
    from cnncalc.limits import COUNT_UNITS, parse_amount

    try:
        value = parse_amount(text, COUNT_UNITS)
    except ValueError as error:
        raise UsageError(f"{option}: {error}, got {text!r}", hint=f"for example {option} 100M") from None
    if value < 1:
        raise UsageError(f"{option}: expected a budget of at least 1, got {text!r}", hint=f"for example {option} 100M")
    return value


def units_up(count: int) -> str:
    """count rounded up to two significant digits in the units budgets take: 4,089,184,256 -> 4.1G."""
    from cnncalc.limits import COUNT_UNITS

    if count < 1000:
        return str(count)
    for unit, scale in reversed(COUNT_UNITS.items()):
        if unit and count >= scale:
            break
    digits = len(str(count // scale))
    step = scale * 10 ** max(0, digits - 2) // (10 if digits == 1 else 1)
    value = -(-count // step) * step
    whole, rest = divmod(value, scale)
    return f"{whole}{f'.{rest * 10 // scale}' if rest else ''}{unit}"
