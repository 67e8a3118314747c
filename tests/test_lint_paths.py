"""`cnncalc check`'s shortcuts give what the long way gives (issue 13): lint's rules visiting only the layers of
their kinds (`lint(..., grouped=False)` scans every node for every rule), and the budgets' amounts read in integer
arithmetic (the long way: Fraction). Compared over the shipped specs, the lint rules' cases (tests/test_lint.py),
fuzzer mutants (tests/fuzz) and random amounts: the findings, or the error, must be the same either way."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fuzz.campaign import mutant_texts
from test_lint import CASES

from cnncalc.analyze import analyze
from cnncalc.errors import CnncalcError
from cnncalc.limits import _NUMBER, BYTE_UNITS, COUNT_UNITS, parse_amount
from cnncalc.lint import lint
from cnncalc.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "specs").glob("*.yaml")) + sorted((ROOT / "tests" / "fixtures").glob("*.yaml"))
MUTANTS = 300  # fuzzer cases (about 9 in 10 carry a mutant spec), seed "lint"


def _texts() -> list[str]:
    mutants = mutant_texts("lint", MUTANTS)
    cases = [text for firing, _, quiet in CASES.values() for text in (firing, quiet)]
    return [path.read_text(encoding="utf-8") for path in SHIPPED] + cases + mutants


def _findings(text: str, batch: int | None, grouped: bool) -> Any:
    try:
        graph = parse_spec(text, "spec.yaml", batch=batch)
        return lint(graph, analyze(graph), grouped=grouped)
    except CnncalcError as error:
        return error.render()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _texts()


def test_grouped_rules_find_what_scanning_every_node_finds(texts: list[str]) -> None:
    found = 0
    for text in texts:
        for batch in (None, 2):  # batch 2: small-batch-norm runs too
            grouped = _findings(text, batch, grouped=True)
            assert grouped == _findings(text, batch, grouped=False), text
            found += len(grouped) if isinstance(grouped, list) else 0
    assert found > 50  # the comparison compares something: findings of every rule, not only clean specs


def _amount_by_fraction(value: str, units: dict[str, int]) -> int | None:
    """The long way: the decimal as a Fraction times the unit; None where it is not a whole number."""
    match = _NUMBER.match(value)
    assert match is not None
    number, unit = match.groups()
    exact = Fraction(number) * units[unit]
    return int(exact) if exact.denominator == 1 else None


def test_amounts_read_as_fractions_read() -> None:
    rng = random.Random(13)
    for _ in range(20_000):
        whole = str(rng.randrange(10 ** rng.randrange(0, 7))) if rng.random() < 0.9 else ""
        decimals = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 5)))
        number = whole + ("." + decimals if decimals or (whole and rng.random() < 0.3) else "")
        if not number:
            continue
        if rng.random() < 0.2:
            number += rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randrange(0, 20))
        for units in (COUNT_UNITS, BYTE_UNITS):
            text = number + rng.choice(list(units))
            try:
                got: int | None = parse_amount(text, units)
            except ValueError as error:
                assert "not a whole number" in str(error), text
                got = None
            assert got == _amount_by_fraction(text, units), text


@pytest.mark.parametrize(
    "text, value",
    [("5M", 5_000_000), ("4.1G", 4_100_000_000), ("1.5GiB", 3 * 2**29), ("0.5K", 500), (".5K", 500), ("7.", 7)],
)
def test_amounts(text: str, value: int) -> None:
    assert parse_amount(text, BYTE_UNITS if "iB" in text else COUNT_UNITS) == value
