"""The spec language's expressions (cnncalc/expressions.py): precedence as Python's, exact numbers, torchvision's
make_divisible, errors that point at the offending token, bounded work, and nothing ever evaluated by Python."""

from __future__ import annotations

import builtins
import math
import subprocess
import sys
import time
from fractions import Fraction
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    is_expression,
    parse_expression,
)


def value(text: str, **names: object) -> object:
    return parse_expression(text).evaluate(names)


def error(text: str, **names: object) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        value(text, **names)
    return caught.value


# ------------------------------------------------------------------------------ precedence, against Python's own


@cache
def integers(depth: int) -> st.SearchStrategy[str]:
    """Texts of integer expressions; parentheses only where a different parse would change the type."""
    atom = st.one_of(st.integers(0, 30).map(str), st.integers(0, 10**25).map(str))
    if depth == 0:
        return atom
    sub = integers(depth - 1)
    return st.one_of(
        atom,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "//", "%"]), sub).map(" ".join),
        st.tuples(st.sampled_from(["-", "+", "- ", "-("]), sub).map(lambda t: t[0] + t[1] + ")" * t[0].count("(")),
        sub.map(lambda s: f"({s})"),
        st.tuples(sub, booleans(depth - 1), sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


@cache
def booleans(depth: int) -> st.SearchStrategy[str]:
    comparison = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    operand = integers(max(depth - 1, 0))
    compared = st.lists(st.tuples(comparison, operand), min_size=1, max_size=3)
    chains = st.tuples(operand, compared).map(lambda t: t[0] + "".join(f" {op} {b}" for op, b in t[1]))
    atom = st.one_of(st.sampled_from(["True", "False"]), chains)
    if depth == 0:
        return atom
    sub = booleans(depth - 1)
    return st.one_of(
        atom,
        sub.map(lambda s: f"not {s}"),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(" ".join),
        sub.map(lambda s: f"({s})"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


def conditionals(depth: int) -> st.SearchStrategy[str]:
    """Unparenthesized `A if C else B if D else E`, as written at the top of a value."""
    branch = st.one_of(integers(depth), booleans(depth))
    tails = st.lists(st.tuples(booleans(depth), branch), min_size=1, max_size=3)
    return st.tuples(branch, tails).map(lambda t: t[0] + "".join(f" if {c} else {b}" for c, b in t[1]))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(integers(3), booleans(3), conditionals(2)))
def test_precedence_and_values_agree_with_python(text: str) -> None:
    try:
        expected: object = eval(text, {"__builtins__": {}})  # the test's oracle only; the module never evaluates
    except ZeroDivisionError:
        assert "by zero" in error(text).message
        return
    got = value(text)
    assert type(got) is type(expected) and got == expected, text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 // 4", 1),
        ("-7 // 2", -4),
        ("-7 % 3", 2),
        ("7 % -3", -2),
        ("- 2 * 3", -6),
        ("not true == false", True),
        ("not false and false", False),
        ("true or false and false", True),
        ("1 + 2 if false else 3", 3),
        ("1 if false else 2 if false else 3", 3),
        ("1 < 2 < 3", True),
        ("3 > 2 == 2", True),
        ("1 < 3 > 2 <= 2", True),
        ("false and 1 // 0 == 1", False),  # lazy, as Python's
        ("1 if true else 1 // 0", 1),
        ("2 < 1 < 1 // 0", False),
        ("[1, 2 + 3, [4]]", [1, 5, [4]]),
        ("[]", []),
        ("[1, 2,]", [1, 2]),
        ("'a' < 'b'", True),
        ("\"it's\" == 'it\\'s'", True),
        ("none == None", True),
        ("true != True", False),
    ],
)
def test_values(text: str, expected: object) -> None:
    got = value(text)
    assert type(got) is type(expected) and got == expected


# ------------------------------------------------------------------------------------------------ exact numbers


@pytest.mark.parametrize(
    "text, expected",
    [
        ("7 / 2", 3.5),
        ("6 / 3", 2),  # a whole rational comes back as int
        ("1 / 3 * 3", 1),  # exact: no rounding on the way
        ("0.1 + 0.2 == 0.3", True),
        ("0.1 + 0.2", 0.3),
        ("2.5 * 4", 10),
        ("1e-5 * 100000", 1),
        ("1.5e2", 150),
        ("7 // 0.5", 14),
        ("7.5 % 2", 1.5),
        ("10**0".replace("**0", " * 1"), 10),
        ("int(-7 / 2)", -3),  # toward zero
        ("floor(-7 / 2)", -4),
        ("ceil(-7 / 2)", -3),
        ("ceil(7 / 2)", 4),
        ("abs(-3 / 4)", 0.75),
        ("min(3, 1 / 2, 2)", 0.5),
        ("max(3, 1, 2)", 3),
        ("min('b', 'a')", "a"),
        ("99999999999999999999 * 99999999999999999999", 99999999999999999999**2),
    ],
)
def test_exact_numbers(text: str, expected: object) -> None:
    got = value(text)
    assert type(got) is type(expected) and got == expected


def test_floats_from_yaml_are_the_decimals_written() -> None:
    assert value("$x * 3 == 0.3", x=0.1) is True  # 0.1 is 1/10, not the binary float's value
    assert value("$x * 64", x=0.75) == 48 and type(value("$x * 64", x=0.75)) is int
    assert value("$x * 10", x=0.35) == 3.5
    assert value("max($shape)", shape=[3, 224, 112]) == 224
    assert "needs numbers" in error("$x + 1", x=math.inf).message
    assert "needs numbers" in error("$x + 1", x=math.nan).message


def test_results_too_large_for_a_float() -> None:
    assert "too large" in error(" * ".join(["1e99"] * 5) + " / 7").message
    assert value(" * ".join(["1e99"] * 5)) == 10**495  # whole: an int of any size


def test_integers_stay_integers_without_importing_fractions() -> None:
    code = (
        "import sys; from cnncalc.expressions import parse_expression as p;"
        "r = p('max($a * 4 + 1, $a // 2 % 3) if $a >= 1 and not $a == 2 else -1').evaluate({'a': 3});"
        "print(r, 'fractions' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["13", "False"]


# ----------------------------------------------------------------------------------------------- make_divisible


def torchvision_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, transcribed."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def exact_make_divisible(v: Fraction, divisor: int, min_value: int | None = None) -> int:
    """The same rule over rationals: what make_divisible computes for any decimal the spec writes."""
    least = divisor if min_value is None else min_value
    new = max(least, int(v + Fraction(divisor, 2)) // divisor * divisor)
    return new + divisor if new < Fraction(9, 10) * v else new


DIVISORS = st.sampled_from([1, 2, 3, 4, 5, 7, 8, 16, 32, 64])
MINIMA = st.one_of(st.none(), st.integers(-50, 300))


@settings(max_examples=2000, deadline=None)
@given(st.integers(-1000, 10**6), st.integers(0, 3), DIVISORS, MINIMA)
def test_make_divisible_is_torchvisions(whole: int, quarters: int, divisor: int, least: int | None) -> None:
    v = whole + quarters / 4  # values a float holds exactly: torchvision's arithmetic is then exact too
    text = "make_divisible($v, $d)" if least is None else "make_divisible($v, $d, $m)"
    assert value(text, v=v, d=divisor, m=least) == torchvision_make_divisible(v, divisor, least)
    assert value("make_divisible($w + $q / 4, $d, min_value=$m)", w=whole, q=quarters, d=divisor, m=least) == (
        torchvision_make_divisible(v, divisor, least)
    )


@settings(max_examples=1000, deadline=None)
@given(
    st.integers(1, 4096), st.sampled_from(["0.1", "0.35", "0.5", "0.75", "1.1", "1.2", "1.4", "1.8", "2.0"]), DIVISORS
)
def test_make_divisible_is_exact_over_decimals(channels: int, multiplier: str, divisor: int) -> None:
    expected = exact_make_divisible(channels * Fraction(multiplier), divisor)
    got = value(f"make_divisible($c * {multiplier}, $d)", c=channels, d=divisor)
    assert type(got) is int and got == expected
    assert value("make_divisible($c * $m, $d)", c=channels, m=float(multiplier), d=divisor) == expected


def test_make_divisible_examples_from_torchvision_networks() -> None:
    assert value("make_divisible(16 // 4, 8)") == 8  # MobileNetV3's first squeeze-and-excitation
    assert value("make_divisible(96 // 4, 8)") == 24
    assert value("make_divisible(32 * 0.75, 8)") == 24
    assert value("make_divisible(1280 * 0.75, 8)") == 960
    assert value("make_divisible(10, 8)") == 16  # 8 would be below 90% of 10


def test_make_divisible_against_torchvision_itself() -> None:
    utils = pytest.importorskip("torchvision.models._utils")
    for v in [*range(0, 2000, 7), 0.5, 3.75, 1279.5]:
        for divisor in (1, 3, 8, 16):
            assert value("make_divisible($v, $d)", v=v, d=divisor) == utils._make_divisible(v, divisor)


# ----------------------------------------------------------------------------------------- errors and positions


@pytest.mark.parametrize(
    "text, offset, message, hint",
    [
        ("$wdth * 2", 0, "unknown name $wdth", "did you mean '$width'?"),
        ("1 + wdth", 4, "unknown word 'wdth'", "names are written with $: did you mean '$width'?"),
        ("1 + Ture", 4, "unknown word 'Ture'", "did you mean 'True'?"),
        ("$width.real", 6, "attribute access is not part of the spec language", None),
        ("__import__('os')", 0, "unknown function '__import__'", "the functions are min(),"),
        ("__import__('os').system('ls')", 0, "unknown function '__import__'", None),
        ("mx(1, 2)", 0, "unknown function 'mx'", "did you mean 'max'?"),
        ("$shape[0]", 6, "subscripts are not part of the spec language", None),
        ("$width(1)", 6, "calls are not part of the spec language", None),
        ("2 ** 3", 2, "there is no ** (power)", None),
        ("(1 + (2 * 3)", 0, "this '(' is never closed", None),
        ("max(1, 2", 3, "this '(' is never closed", None),
        ("[1, 2", 0, "this '[' is never closed", None),
        ("1 + 2)", 5, "unexpected ')'", None),
        ("$width 2", 7, "unexpected '2'", "an operator or a comma is missing?"),
        ("1 +", 3, "the expression ends where a value is expected", None),
        ("", 0, "an empty expression", None),
        ("   ", 0, "an empty expression", None),
        ("$", 0, "a name must follow $", None),
        ("1 + $ width", 4, "a name must follow $", None),
        ("abs(1, 2)", 7, "abs() takes 1 argument (2 given)", None),
        ("make_divisible(1, 2, 3, 4)", 24, "make_divisible() takes 2 to 3 arguments (4 given)", None),
        ("make_divisible(10)", 0, "make_divisible() needs its argument 'divisor'", None),
        ("make_divisible(10, 8, min_valu=3)", 22, "make_divisible() has no argument 'min_valu'", "'min_value'"),
        ("make_divisible(10, divisor=8, 3)", 30, "a positional argument after a keyword argument", None),
        ("min()", 0, "min() needs a value", None),
        ("min(3)", 4, "min() of one value", None),
        ("max", 0, "max is a function: call it as max(...)", None),
        ("'a' * 2", 4, "'*' needs numbers, not the string 'a'", None),
        ("true + 1", 5, "'+' needs numbers, not true", "true and false are not numbers"),
        ("1 - none", 2, "'-' needs numbers, not none", None),
        ("[1] + [2]", 4, "'+' needs numbers, not a list", None),
        ("-'a'", 0, "'-' needs numbers, not the string 'a'", None),
        ("'a' < 1", 4, "'<' compares numbers with numbers or strings with strings", None),
        ("1 and true", 0, "'and' needs true or false, not the number 1", None),
        ("true and 2", 9, "'and' needs true or false, not the number 2", None),
        ("not $width", 4, "'not' needs true or false", None),
        ("1 if $width else 2", 5, "'if' needs true or false", None),
        ("1 if true", 2, "'if' needs an 'else'", None),
        ("1 == not true", 5, "'not' needs parentheses here", None),
        ("$width / (3 - 3)", 7, "division by zero", None),
        ("$width // 0", 7, "division by zero", None),
        ("$width % 0", 7, "modulo by zero", None),
        ("$width = 3", 7, "unexpected '='", "compare with =="),
        ("$width is none", 7, "'is' is not part of the spec language", "compare with == or !="),
        ("lambda: 1", 0, "'lambda' is not part of the spec language", None),
        ("[x for x in $shape]", 3, "'for' is not part of the spec language", None),
        ("1 && 2", 2, "unexpected character '&'", "write and"),
        ("1 ! 2", 2, "unexpected character '!'", "write not"),
        ("{1: 2}", 0, "unexpected character '{'", None),
        ("'open", 0, "this string is never closed", None),
        ("'\\q'", 1, "unknown escape \\q", None),
        (".5", 0, "a decimal needs digits on both sides of the point", None),
        ("1e999", 0, "an exponent of more than 2 digits", None),
        ("make_divisible(10, 0)", 19, "make_divisible() needs a positive whole divisor", None),
        ("make_divisible(10, 2.5)", 19, "make_divisible() needs a positive whole divisor", None),
        ("floor('a')", 6, "floor() needs numbers, not the string 'a'", None),
        ("min(1, true)", 7, "min() needs numbers, not true", "true and false are not numbers"),
        ("make_divisible(value=10, divisor=8, value=3)", 36, "make_divisible() got 'value' twice", None),
        ("make_divisible(10, 8, value=3)", 22, "make_divisible() got 'value' twice", None),
        ("min(values=3)", 4, "min() has no argument 'values'", None),
    ],
)
def test_errors_point_at_the_token(text: str, offset: int, message: str, hint: str | None) -> None:
    caught = error(text, width=64, shape=[3, 8, 8])
    assert isinstance(caught, CnncalcError)
    assert caught.message.startswith(message), caught.message
    assert caught.offset == offset, (caught.offset, caught.message)
    assert caught.text == text
    if hint is not None:
        assert caught.hint is not None and hint in caught.hint, caught.hint


def test_unknown_names_list_what_is_visible() -> None:
    assert error("$zzz", alpha=1, beta=2).hint == "the names here are $alpha, $beta"
    assert error("$zzz").hint == "no names are defined here"
    assert error("zzz", alpha=1).hint == "names are written with $"


def test_a_bare_word_is_reported_before_anything_is_evaluated() -> None:
    assert "unknown word 'wdth'" in error("1 // 0 if true else wdth").message


# ------------------------------------------------------------------------------------------------------ limits


def refused_fast(text: str, message: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert time.perf_counter() - start < 0.5
    assert message in caught.value.message


def test_long_texts_are_refused() -> None:
    refused_fast("1+" * 50_000 + "1", f"at most {MAX_LENGTH} are read")
    refused_fast("(" * 10_000 + "1" + ")" * 10_000, f"at most {MAX_LENGTH} are read")
    refused_fast("9" * 5000, "more than 4300 digits")


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1000 + "1" + ")" * 1000,
        "[" * 1000 + "]" * 1000,
        "max(" * 1000 + "1" + ")" * 1000,
        "-" * 5000 + "1",
        "not " * 2000 + "true",
        "1 if true else " * 600 + "1",
        "1 + (" * 1000 + "1" + ")" * 1000,
    ],
)
def test_deep_nesting_is_refused_without_recursion_error(text: str) -> None:
    refused_fast(text, f"nested more than {MAX_DEPTH} levels deep")


def test_nesting_up_to_the_limit_works() -> None:
    depth = MAX_DEPTH - 1
    assert value("(" * depth + "$a" + ")" * depth, a=5) == 5
    assert value("-" * depth + "1") == (-1) ** depth
    assert value("max(1, " * (depth // 2) + "$a" + ")" * (depth // 2), a=5) == 5  # lists and calls count twice
    assert value("[" * (depth // 2) + "]" * (depth // 2)) == value("[" * (depth // 2) + "]" * (depth // 2))
    assert value("not " * depth + "true") is (depth % 2 == 0)
    refused_fast("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH, "nested")


def test_long_flat_chains_evaluate_without_recursion() -> None:
    assert value("+".join(["1"] * 4000)) == 4000
    assert value(" - ".join(["$a"] * 2000), a=1) == -1998
    assert value(" < ".join(str(i) for i in range(1000))) is True
    assert value(" and ".join(["true"] * 1000)) is True


# ----------------------------------------------------------------------------------------- the API and its use


def test_a_lone_name_is_its_value_itself() -> None:
    class Kind(str):
        pass

    shape, kind = [3, 224, 224], Kind("relu")
    assert parse_expression("$shape").is_name == "shape"
    assert value("$shape", shape=shape) is shape
    assert value("$kind", kind=kind) is kind
    assert value("($kind)", kind=kind) is kind
    assert value("$kind if true else 1", kind=kind) is kind
    assert value("$x", x=0.1) == 0.1 and value("$flag", flag=True) is True


def test_names_and_caching() -> None:
    parsed = parse_expression("max($a, $b * 2) if $index == 0 else $a")
    assert isinstance(parsed, Expression)
    assert parsed.names == frozenset({"a", "b", "index"}) and parsed.is_name is None
    assert parse_expression("max($a, $b * 2) if $index == 0 else $a") is parsed
    assert value("$a * 2", a=3) == 6 and value("$a * 2", a=4) == 8  # the cache keeps no values


def test_is_expression() -> None:
    assert is_expression("$width") and is_expression("make_divisible($c, 8)")
    assert not is_expression("same") and not is_expression(3) and not is_expression(None)
    assert not is_expression(["$a"])  # a list's items are values of their own


def test_nothing_is_evaluated_by_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("Python evaluation used")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    texts = ["1 + $a * 2 // 3 % 4", "make_divisible($a * 0.75, 8)", "[min($a, 2), 1 / 3]", "'x' if $a > 1 else none"]
    results = [parse_expression(text + " ").evaluate({"a": 5}) for text in texts]
    monkeypatch.undo()
    assert results == [4, 8, [2, 1 / 3], "x"]


PIECES = [
    *"0123456789$abxyz_.,()[]'\"+-*/%<>=! \\e",
    "//",
    "==",
    "and ",
    "or ",
    "not ",
    " if ",
    " else ",
    "true",
    "none",
    "min(",
    "max(",
    "make_divisible(",
    "int(",
    "ceil(",
    "abs(",
    "1e5",
    "0.5",
    "$a",
    "$s",
    "$l",
    "$f",
    "=",
    "\n",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25).map("".join))
def test_any_text_gives_a_value_or_an_expression_error(text: str) -> None:
    names = {"a": 3, "b": True, "s": "relu", "l": [1, 2.5], "f": 0.1, "x": None}
    try:
        parse_expression(text).evaluate(names)
    except ExpressionError as caught:
        assert 0 <= caught.offset <= len(text) and caught.message
