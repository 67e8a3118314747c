"""Numbers that remember how they were computed, so a figure and the formula shown for it come from one rule.

A kind writes a rule once, as ordinary arithmetic over its sizes (see conv.py's `conv_size`). Called with ints it
gives the figure; called with Terms it gives the same figure together with the formula, in symbols and with the
numbers substituted:

    >>> size = conv_size(Term.leaf("L", 32), Term.leaf("P", 2), Term.leaf("P", 2), Term.leaf("D", 1), ...)
    >>> size.symbols   'floor((L + P + P - D*(K - 1) - 1) / S) + 1'
    >>> size.numbers   'floor((32 + 2 + 2 - 1*(5 - 1) - 1) / 1) + 1'
    >>> size.value     32

Nothing here parses or evaluates text: the text is built alongside the value by the same operations.
"""

from __future__ import annotations

from typing import Any

# Binding strength of the operator at the top of a term's text: tighter terms need no parentheses inside looser.
ATOM, PRODUCT, SUM = 3, 2, 1


class Term:
    """An int (or exact rational) value with its formula in symbols and in numbers."""

    __slots__ = ("value", "symbols", "numbers", "strength")

    def __init__(self, value: Any, symbols: str, numbers: str, strength: int = ATOM) -> None:
        self.value = value
        self.symbols = symbols
        self.numbers = numbers
        self.strength = strength

    @classmethod
    def leaf(cls, symbol: str, value: Any) -> Term:
        return cls(value, symbol, str(value))

    def __repr__(self) -> str:
        return f"Term({self.value!r}: {self.symbols} = {self.numbers})"

    # -- arithmetic -----------------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Term:
        return _binary(self, other, "+", SUM, lambda a, b: a + b)

    def __radd__(self, other: Any) -> Term:
        return _binary(other, self, "+", SUM, lambda a, b: a + b)

    def __sub__(self, other: Any) -> Term:
        return _binary(self, other, "-", SUM, lambda a, b: a - b, right_strict=True)

    def __rsub__(self, other: Any) -> Term:
        return _binary(other, self, "-", SUM, lambda a, b: a - b, right_strict=True)

    def __mul__(self, other: Any) -> Term:
        return _binary(self, other, "*", PRODUCT, lambda a, b: a * b)

    def __rmul__(self, other: Any) -> Term:
        return _binary(other, self, "*", PRODUCT, lambda a, b: a * b)

    def __floordiv__(self, other: Any) -> Term:
        value = _value(self) // _value(other)
        inner = _binary(self, other, "/", PRODUCT, lambda a, b: a, right_strict=True)
        return Term(value, f"floor({inner.symbols})", f"floor({inner.numbers})")

    def __eq__(self, other: object) -> bool:
        return bool(_value(self) == _value(other))

    def __lt__(self, other: Any) -> bool:
        return bool(_value(self) < _value(other))

    def __le__(self, other: Any) -> bool:
        return bool(_value(self) <= _value(other))

    def __gt__(self, other: Any) -> bool:
        return bool(_value(self) > _value(other))

    def __ge__(self, other: Any) -> bool:
        return bool(_value(self) >= _value(other))

    def __hash__(self) -> int:
        return hash(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Term) else x


def _parts(x: Any) -> tuple[str, str, int]:
    if isinstance(x, Term):
        return x.symbols, x.numbers, x.strength
    text = str(x)
    return text, text, ATOM


def _binary(left: Any, right: Any, op: str, strength: int, apply: Any, right_strict: bool = False) -> Term:
    ls, ln, lstrength = _parts(left)
    rs, rn, rstrength = _parts(right)
    # a - (b + c) needs its parentheses; a + (b + c) and a - b*c do not.
    if lstrength < strength:
        ls, ln = f"({ls})", f"({ln})"
    if rstrength < strength or (right_strict and rstrength == strength):
        rs, rn = f"({rs})", f"({rn})"
    spaced = f" {op} " if strength == SUM else op if op == "*" else f" {op} "
    return Term(apply(_value(left), _value(right)), ls + spaced + rs, ln + spaced + rn, strength)


def ceil_div(a: Any, b: Any) -> Any:
    """ceil(a / b) for ints and Terms (the lectures' form of the output size)."""
    if not isinstance(a, Term) and not isinstance(b, Term):
        return -(-a // b)
    inner = _binary(a, b, "/", PRODUCT, lambda x, y: x, right_strict=True)
    return Term(-(-_value(a) // _value(b)), f"ceil({inner.symbols})", f"ceil({inner.numbers})")


def shown(term: Any) -> str:
    """'symbols = numbers = value', the way `explain` prints a derivation (less where parts coincide)."""
    if not isinstance(term, Term):
        return str(term)
    parts = [term.symbols, term.numbers, f"{term.value:,}" if isinstance(term.value, int) else str(term.value)]
    unique = [p for i, p in enumerate(parts) if p not in parts[:i]]
    return " = ".join(unique)
