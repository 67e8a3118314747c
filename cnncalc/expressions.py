"""The spec language's expressions: `$width * 4`, `make_divisible($c // 4, 8)`, `$stride == 1 and $cin == $cout`.

A YAML string is an expression when it contains `$`. A tokenizer and a precedence-climbing parser of our own turn
the text into a tree of closures; nothing is ever evaluated by Python (no eval, no ast, no attribute access).

    expr     := or_test [if or_test else expr]          (lazy, as Python's)
    or_test  := and_test (or and_test)*                 (booleans only, short-circuit)
    and_test := not_test (and not_test)*
    not_test := not not_test | comparison
    comparison := sum ((== | != | < | <= | > | >=) sum)*   (chained as in Python)
    sum      := term ((+ | -) term)*
    term     := unary ((* | / | // | %) unary)*         (/ is exact; // and % floor as Python's)
    unary    := (- | +) unary | atom
    atom     := $name | number | 'string' | "string" | true | false | none | [expr, ...] | (expr)
              | function(expr, ...)                    (min max abs int ceil floor make_divisible)

Numbers are exact: int stays int, decimals and / give rationals (fractions.Fraction, imported only when needed);
a result with denominator 1 comes back as int, any other rational as float. Booleans are not numbers.
Work is bounded by the text: its length and nesting depth are limited, there is no ** and no repetition.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from cnncalc.errors import CnncalcError

MAX_LENGTH = 10_000  # characters of one expression
MAX_DEPTH = 100  # nested sub-expressions (parentheses, lists, calls, unary signs, chained if/else)
MAX_DIGITS = 4300  # digits of one number literal (as Python's int() and the YAML loader allow)

Names = Mapping[str, Any]
Run = Callable[[Names], Any]


class ExpressionError(CnncalcError):
    """An expression that cannot be read or evaluated; `offset` is the 0-based index of the fault in the text."""

    def __init__(self, message: str, offset: int, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.offset = offset
        self.text: str | None = None  # the expression, filled in by parse_expression and Expression.evaluate


def is_expression(value: object) -> bool:
    """A YAML value is an expression when it is a string containing `$`; anything else is taken as written."""
    return isinstance(value, str) and "$" in value


class Expression:
    """A parsed expression: the names it reads, and `evaluate` over a mapping of those names to values."""

    __slots__ = ("text", "names", "is_name", "_run")

    def __init__(self, text: str, names: frozenset[str], is_name: str | None, run: Run) -> None:
        self.text = text
        self.names = names  # the $names read, without '$'
        self.is_name = is_name  # 'width' when the expression is just '$width' (its value is passed through as is)
        self._run = run

    def evaluate(self, names: Names) -> Any:
        try:
            return self._run(names)
        except ExpressionError as error:
            error.text = self.text
            raise

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expression:
    """The expression in `text` (cached per text: specs repeat the same strings); raises ExpressionError."""
    try:
        return _Parser(text).parse()
    except ExpressionError as error:
        error.text = text
        raise


# ---------------------------------------------------------------------------------------------------- values


def _fraction() -> Any:
    from fractions import Fraction  # only when a non-integer appears: keeps start-up fast

    return Fraction


def _norm(value: Any) -> Any:
    """A rational with denominator 1 as an int, so that whole numbers stay on the fast int path."""
    return value.numerator if value.denominator == 1 else value


def _exact(value: Any) -> Any:
    """The value as an int or Fraction, or None when it is not a (finite) number. Booleans are not numbers."""
    kind = type(value)
    if kind is int:
        return value
    if kind is bool or kind is str or value is None or kind is list:
        return None
    if kind is float:  # from YAML: the decimal the author wrote (0.1 is 1/10), not the binary float's value
        return _norm(_fraction()(repr(value))) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value if isinstance(value, _fraction()) else None


def _describe(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return f"the string {str(value)!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    number = _exact(value)
    if number is not None:
        return f"the number {_finish(number)}"
    return f"a {type(value).__name__}"


def _type_hint(value: Any) -> str | None:
    if value is True or value is False:
        return "true and false are not numbers"
    if isinstance(value, (str, list, tuple)):
        return "arithmetic works on numbers only"
    return None


def _finish(value: Any) -> Any:
    """A result as the caller sees it: a rational that is not whole becomes a float; everything else as is."""
    if type(value) in _PLAIN or not isinstance(value, _fraction()):
        return value
    if value.denominator == 1:
        return value.numerator
    try:
        return float(value)
    except OverflowError:
        raise ExpressionError("the result is too large for a decimal number", 0) from None


_PLAIN = {int, bool, str, list, float, type(None)}


def _numbers(op: str, a: Any, b: Any, at: int) -> tuple[Any, Any]:
    x, y = _exact(a), _exact(b)
    if x is None or y is None:
        bad = a if x is None else b
        raise ExpressionError(f"'{op}' needs numbers, not {_describe(bad)}", at, hint=_type_hint(bad))
    return x, y


def _add(a: Any, b: Any, at: int) -> Any:
    if type(a) is int and type(b) is int:
        return a + b
    x, y = _numbers("+", a, b, at)
    return _norm(x + y)


def _subtract(a: Any, b: Any, at: int) -> Any:
    if type(a) is int and type(b) is int:
        return a - b
    x, y = _numbers("-", a, b, at)
    return _norm(x - y)


def _multiply(a: Any, b: Any, at: int) -> Any:
    if type(a) is int and type(b) is int:
        return a * b
    x, y = _numbers("*", a, b, at)
    return _norm(x * y)


def _divide(a: Any, b: Any, at: int) -> Any:
    x, y = _numbers("/", a, b, at)
    if y == 0:
        raise ExpressionError("division by zero", at)
    return _norm(_fraction()(x) / y)


def _floor_divide(a: Any, b: Any, at: int) -> Any:
    x, y = (a, b) if type(a) is int and type(b) is int else _numbers("//", a, b, at)
    if y == 0:
        raise ExpressionError("division by zero", at)
    return x // y


def _modulo(a: Any, b: Any, at: int) -> Any:
    x, y = (a, b) if type(a) is int and type(b) is int else _numbers("%", a, b, at)
    if y == 0:
        raise ExpressionError("modulo by zero", at)
    return _norm(x % y)


_ARITHMETIC = {"+": _add, "-": _subtract, "*": _multiply, "/": _divide, "//": _floor_divide, "%": _modulo}


def _equal(a: Any, b: Any) -> bool:
    kind = type(a)
    if kind is type(b) and kind in (int, str, bool):
        return bool(a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_equal, a, b))
    x, y = _exact(a), _exact(b)
    if x is not None or y is not None:
        return x is not None and y is not None and x == y
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    return bool(a == b)


def _orderer(op: str) -> Callable[[Any, Any, int], bool]:
    test = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def compare(a: Any, b: Any, at: int) -> bool:
        if type(a) is int and type(b) is int or isinstance(a, str) and isinstance(b, str):
            return bool(test(a, b))
        x, y = _exact(a), _exact(b)
        if x is None or y is None:
            raise ExpressionError(
                f"'{op}' compares numbers with numbers or strings with strings, not {_describe(a)} with {_describe(b)}",
                at,
            )
        return bool(test(x, y))

    return compare


_COMPARE: dict[str, Callable[[Any, Any, int], bool]] = {
    "==": lambda a, b, at: _equal(a, b),
    "!=": lambda a, b, at: not _equal(a, b),
    **{op: _orderer(op) for op in ("<", "<=", ">", ">=")},
}


def _truth(value: Any, what: str, at: int) -> bool:
    if value is True or value is False:
        return value
    raise ExpressionError(f"{what} needs true or false, not {_describe(value)}", at, hint="compare with == or !=")


# ------------------------------------------------------------------------------------------------- functions


def _number_argument(function: str, value: Any, at: int) -> Any:
    number = _exact(value)
    if number is None:
        raise ExpressionError(f"{function}() needs a number, not {_describe(value)}", at, hint=_type_hint(value))
    return number


def _pick(function: str, choose: Callable[..., Any]) -> Callable[[list[Any], list[int], int], Any]:
    def apply(values: list[Any], offsets: list[int], at: int) -> Any:
        if len(values) == 1:
            if not isinstance(values[0], (list, tuple)):
                raise ExpressionError(f"{function}() of one value: give several, or a list", offsets[0])
            values, offsets = list(values[0]), offsets * len(values[0])
            if not values:
                raise ExpressionError(f"{function}() of an empty list", at)
        if all(isinstance(v, str) for v in values):
            return choose(values)
        return choose([_number_argument(function, v, o) for v, o in zip(values, offsets, strict=False)])

    return apply


def _one(function: str, rule: Callable[[Any], Any]) -> Callable[[list[Any], list[int], int], Any]:
    return lambda values, offsets, at: rule(_number_argument(function, values[0], offsets[0]))


def _make_divisible(values: list[Any], offsets: list[int], at: int) -> Any:
    """torchvision's `_make_divisible` (MobileNet, EfficientNet), computed exactly:
    the multiple of `divisor` nearest to `value`, at least `min_value` (default: divisor), never below 90% of it."""
    value = _number_argument("make_divisible", values[0], offsets[0])
    divisor = values[1]
    if type(divisor) is not int or divisor <= 0:
        raise ExpressionError(f"make_divisible() needs a positive whole divisor, not {_describe(divisor)}", offsets[1])
    least = divisor if values[2] is None else _number_argument("make_divisible", values[2], offsets[2])
    new = max(least, int(value + _fraction()(divisor, 2)) // divisor * divisor)
    if new < _fraction()(9, 10) * value:
        new += divisor
    return _norm(_fraction()(new))


class _Function(NamedTuple):
    params: tuple[str, ...]  # for keyword arguments and counts
    required: int
    variadic: bool
    keywords: bool
    apply: Callable[[list[Any], list[int], int], Any]


_FUNCTIONS = {
    "min": _Function(("values",), 1, True, False, _pick("min", min)),
    "max": _Function(("values",), 1, True, False, _pick("max", max)),
    "abs": _Function(("x",), 1, False, False, _one("abs", abs)),
    "int": _Function(("x",), 1, False, False, _one("int", int)),  # toward zero, as Python's int()
    "ceil": _Function(("x",), 1, False, False, _one("ceil", math.ceil)),
    "floor": _Function(("x",), 1, False, False, _one("floor", math.floor)),
    "make_divisible": _Function(("value", "divisor", "min_value"), 2, False, True, _make_divisible),
}
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "none": None, "None": None}
_KEYWORDS = ("and", "or", "not", "if", "else")
# Python words that are not part of the language: a clear message instead of "unknown word"
_FOREIGN = {"is": "compare with == or !=", "in": None, "lambda": None, "for": None, "import": None, "del": None}


# ------------------------------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"""|(?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%<>()\[\],=])"
)
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_NUMBER_PARTS = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:[eE][-+]?([0-9]+))?")
_Token = tuple[str, Any, int]  # kind (an operator's own text, a keyword, or num/str/name/word/const/end), value, offset


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _bad_character(text, position)
        kind, part = match.lastgroup or "", match.group()
        if kind == "number":
            tokens.append(("num", _number(part, position), position))
        elif kind == "string":
            tokens.append(("str", _string(part, position), position))
        elif kind == "name":
            tokens.append(("name", part[1:], position))
        elif kind == "word":
            if part in _CONSTANTS:
                tokens.append(("const", _CONSTANTS[part], position))
            else:
                tokens.append((part if part in _KEYWORDS else "word", part, position))
        elif kind == "op":
            if part == "**":
                raise ExpressionError("there is no ** (power) in the spec language", position, hint="multiply out")
            tokens.append((part, part, position))
        position = match.end()
    tokens.append(("end", "", len(text.rstrip(" \t\r\n"))))
    return tokens


def _number(part: str, at: int) -> Any:
    whole, decimals, exponent = _NUMBER_PARTS.fullmatch(part).groups()  # type: ignore[union-attr]
    if len(whole) + len(decimals or "") > MAX_DIGITS:
        raise ExpressionError(f"a number with more than {MAX_DIGITS} digits", at)
    if exponent is None and decimals is None:
        return int(whole)
    if exponent is not None and len(exponent.lstrip("0")) > 2:
        raise ExpressionError("an exponent of more than 2 digits", at, hint="write numbers between 1e-99 and 1e99")
    return _norm(_fraction()(part))  # the decimal as written: 0.1 is exactly 1/10


def _string(part: str, at: int) -> str:
    body, chars, index = part[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                raise ExpressionError(f"unknown escape \\{escaped} in a string", at + 1 + index)
            chars.append(_ESCAPES[escaped])
            index += 2
        else:
            chars.append(char)
            index += 1
    return "".join(chars)


def _bad_character(text: str, at: int) -> ExpressionError:
    char, after = text[at], text[at + 1 : at + 2]
    if char == "$":
        return ExpressionError("a name must follow $", at, hint="names are letters, digits and _, as $width")
    if char == ".":
        if after.isdigit() or text[at - 1 : at].isdigit():
            return ExpressionError("a decimal needs digits on both sides of the point", at, hint="write 0.5")
        return ExpressionError("attribute access is not part of the spec language", at)
    if char in "'\"":
        return ExpressionError("this string is never closed", at)
    hints = {"!": "write not", "&": "write and", "|": "write or"}
    return ExpressionError(f"unexpected character {char!r}", at, hint=hints.get(char))


# ---------------------------------------------------------------------------------------------------- parser

# How tightly each infix operator binds (Python's order); a prefix `not` takes a comparison, a sign an atom.
_BINDING = {"if": 1, "or": 2, "and": 3, **dict.fromkeys(("==", "!=", "<", "<=", ">", ">="), 5)}
_BINDING.update({"+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7})
_NOT_OPERAND, _COMPARE_LEVEL, _SIGN_OPERAND = 5, 5, 8
_Node = tuple[Run, int]  # the closure that evaluates a sub-expression, and where it starts in the text


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"an expression of {len(text)} characters: at most {MAX_LENGTH} are read", 0)
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.depth = 0
        self.names: set[str] = set()
        self.bare_words: list[tuple[str, int]] = []

    def parse(self) -> Expression:
        if self.peek()[0] == "end":
            raise ExpressionError("an empty expression", 0)
        run, _ = self.expression(0)
        kind, value, at = self.peek()
        if kind != "end":
            raise self.unexpected(kind, value, at, hint="an operator or a comma is missing?")
        names = frozenset(self.names)
        tokens = self.tokens
        is_name = tokens[0][1] if len(tokens) == 2 and tokens[0][0] == "name" else None
        if self.bare_words:
            word, offset = self.bare_words[0]
            return Expression(self.text, names, None, _bare_word(word, offset))
        return Expression(self.text, names, is_name, run if is_name else _finishing(run))

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def take(self) -> _Token:
        self.position += 1
        return self.tokens[self.position - 1]

    def close(self, kind: str, opened: int) -> None:
        if self.peek()[0] != kind:
            token = self.peek()
            if token[0] == "end":
                raise ExpressionError(f"this {self.text[opened]!r} is never closed", opened)
            raise self.unexpected(*token, hint=f"expected {kind!r}")
        self.take()

    def unexpected(self, kind: str, value: Any, at: int, hint: str | None = None) -> ExpressionError:
        if kind == "end":
            return ExpressionError("the expression ends where a value is expected", at)
        if kind == "=":
            hint = "compare with =="
        elif kind in ("(", "["):
            word = "calls" if kind == "(" else "subscripts"
            return ExpressionError(f"{word} are not part of the spec language", at, hint=_FUNCTIONS_HINT)
        if kind == "word" and value in _FOREIGN:
            return ExpressionError(f"'{value}' is not part of the spec language", at, hint=_FOREIGN[value])
        shown = self.text[at : at + 20] if kind in ("num", "str") else value
        return ExpressionError(f"unexpected {str(shown)!r}", at, hint=hint)

    def expression(self, least: int) -> _Node:
        """An expression whose infix operators bind at least as tightly as `least`."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep", self.peek()[2])
        node = self.prefix(least)
        while True:
            kind = self.peek()[0]
            level = _BINDING.get(kind)
            if level is None or level < least:
                break
            if kind == "if":
                node = self.conditional(node)
            elif level == _COMPARE_LEVEL:
                node = self.chain(node, level, _comparison)
            elif kind in ("and", "or"):
                node = self.logic(node, kind)
            else:
                node = self.chain(node, level, _arithmetic)
        self.depth -= 1
        return node

    def chain(self, first: _Node, level: int, build: Callable[[Run, list[Any]], Run]) -> _Node:
        steps = []
        while _BINDING.get(self.peek()[0]) == level:
            op, _, at = self.take()
            steps.append((op, at, self.expression(level + 1)[0]))
        return build(first[0], steps), first[1]

    def logic(self, first: _Node, word: str) -> _Node:
        level, operands = _BINDING[word], [first]
        while self.peek()[0] == word:
            self.take()
            operands.append(self.expression(level + 1))
        return _logic(word, operands), first[1]

    def conditional(self, body: _Node) -> _Node:
        at = self.take()[2]
        condition = self.expression(_BINDING["or"])
        if self.peek()[0] != "else":
            raise ExpressionError("'if' needs an 'else'", at, hint="write: A if CONDITION else B")
        self.take()
        otherwise = self.expression(_BINDING["if"])
        return _conditional(body[0], condition, otherwise[0]), body[1]

    def prefix(self, least: int) -> _Node:
        kind, value, at = self.take()
        if kind in ("num", "str", "const"):
            node: _Node = ((lambda names: value), at)
        elif kind == "name":
            self.names.add(value)
            node = _name(value, at), at
        elif kind == "(":
            node = self.expression(0)[0], at
            self.close(")", at)
        elif kind == "[":
            node = self.list_display(at), at
        elif kind in ("-", "+"):
            return _sign(kind, self.expression(_SIGN_OPERAND)[0], at), at
        elif kind == "not":
            if least > _NOT_OPERAND:
                raise ExpressionError("'not' needs parentheses here", at, hint="write (not ...)")
            return _not(self.expression(_NOT_OPERAND)), at
        elif kind == "word":
            node = self.word(value, at)
        else:
            raise self.unexpected(kind, value, at)
        if self.peek()[0] in ("(", "["):
            raise self.unexpected(*self.peek())
        return node

    def items(self, end: str, opened: int) -> list[tuple[_Token | None, _Node]]:
        """Comma-separated expressions up to `end`, each with the `word=` token written before it, if any."""
        items: list[tuple[_Token | None, _Node]] = []
        while self.peek()[0] != end:
            keyword = None
            if self.peek()[0] == "word" and self.tokens[self.position + 1][0] == "=":
                keyword = self.take()
                self.take()
            items.append((keyword, self.expression(0)))
            if self.peek()[0] != ",":
                break
            self.take()
        self.close(end, opened)
        return items

    def list_display(self, opened: int) -> Run:
        elements = []
        for keyword, (element, _) in self.items("]", opened):
            if keyword is not None:
                raise ExpressionError("'=' inside a list", keyword[2] + len(keyword[1]), hint="compare with ==")
            elements.append(element)
        return lambda names: [_finish(element(names)) for element in elements]

    def word(self, word: str, at: int) -> _Node:
        if self.peek()[0] == "(":
            return self.call(word, at), at
        if word in _FUNCTIONS:
            raise ExpressionError(f"{word} is a function: call it as {word}(...)", at)
        if word in _FOREIGN:
            raise ExpressionError(f"'{word}' is not part of the spec language", at, hint=_FOREIGN[word])
        self.bare_words.append((word, at))
        return _name(word, at), at  # never run: evaluate() reports the word first, with the names it can see

    def call(self, word: str, at: int) -> Run:
        function = _FUNCTIONS.get(word)
        if function is None:
            hint = _close_match(word, list(_FUNCTIONS)) or _FUNCTIONS_HINT
            raise ExpressionError(f"unknown function '{word}'", at, hint=hint)
        positional: list[_Node] = []
        keywords: dict[str, _Node] = {}
        for keyword, node in self.items(")", self.take()[2]):
            if keyword is None:
                if keywords:
                    raise ExpressionError("a positional argument after a keyword argument", node[1])
                positional.append(node)
                continue
            name = keyword[1]
            if not function.keywords or name not in function.params:
                hint = _close_match(name, list(function.params)) if function.keywords else None
                raise ExpressionError(f"{word}() has no argument '{name}'", keyword[2], hint=hint)
            if name in keywords or function.params.index(name) < len(positional):
                raise ExpressionError(f"{word}() got '{name}' twice", keyword[2])
            keywords[name] = node
        return _call(word, function, self.arguments(word, function, positional, keywords, at), at)

    @staticmethod
    def arguments(
        word: str, function: _Function, positional: list[_Node], keywords: dict[str, _Node], at: int
    ) -> list[_Node | None]:
        """One slot per parameter (None: not given), after checking the count."""
        if function.variadic:
            if not positional:
                raise ExpressionError(f"{word}() needs at least one argument", at)
            return list(positional)
        count = len(function.params)
        if len(positional) > count:
            expected = f"{count} argument{'s' if count > 1 else ''}"
            if function.required < count:
                expected = f"{function.required} to {count} arguments"
            raise ExpressionError(f"{word}() takes {expected} ({len(positional)} given)", positional[count][1])
        slots = [*positional, *(keywords.get(name) for name in function.params[len(positional) :])]
        missing = [function.params[i] for i in range(function.required) if slots[i] is None]
        if missing:
            raise ExpressionError(f"{word}() needs its argument '{missing[0]}'", at)
        return slots


_FUNCTIONS_HINT = "the functions are " + ", ".join(f"{name}()" for name in _FUNCTIONS)


def _close_match(word: str, choices: list[str]) -> str | None:
    from cnncalc.args import did_you_mean  # only on the error path

    return did_you_mean(word, choices)


# ---------------------------------------------------------------------------------------------- the closures


def _name(name: str, at: int) -> Run:
    def run(names: Names) -> Any:
        try:
            return names[name]
        except KeyError:
            raise _unknown_name(name, at, names) from None

    return run


def _unknown_name(name: str, at: int, names: Names) -> ExpressionError:
    visible = sorted(f"${n}" for n in names)
    hint = _close_match(f"${name}", visible)
    if hint is None and visible:
        hint = "the names here are " + ", ".join(visible[:12]) + (", ..." if len(visible) > 12 else "")
    return ExpressionError(f"unknown name ${name}", at, hint=hint or "no names are defined here")


def _bare_word(word: str, at: int) -> Run:
    def run(names: Names) -> Any:
        close = _close_match(f"${word}", [f"${n}" for n in names])
        hint = f"names are written with $: {close}" if close else None
        hint = hint or _close_match(word, [*_FUNCTIONS, *_CONSTANTS, *_KEYWORDS]) or "names are written with $"
        raise ExpressionError(f"unknown word '{word}'", at, hint=hint)

    return run


def _finishing(run: Run) -> Run:
    def finished(names: Names) -> Any:
        value = run(names)
        return value if type(value) in _PLAIN else _finish(value)

    return finished


def _arithmetic(first: Run, steps: list[tuple[str, int, Run]]) -> Run:
    if len(steps) == 1:  # the common case, `$width * 4`, without the loop
        op, at, second = steps[0]
        apply = _ARITHMETIC[op]
        return lambda names: apply(first(names), second(names), at)
    applied = [(_ARITHMETIC[op], at, operand) for op, at, operand in steps]

    def run(names: Names) -> Any:
        value = first(names)
        for apply, at, operand in applied:
            value = apply(value, operand(names), at)
        return value

    return run


def _comparison(first: Run, steps: list[tuple[str, int, Run]]) -> Run:
    tests = [(_COMPARE[op], at, operand) for op, at, operand in steps]

    def run(names: Names) -> bool:
        left = first(names)
        for test, at, operand in tests:  # chained as Python's: a < b < c is a < b and b < c, b read once
            right = operand(names)
            if not test(left, right, at):
                return False
            left = right
        return True

    return run


def _logic(word: str, operands: list[_Node]) -> Run:
    stop = word == "or"  # `or` stops at the first true operand, `and` at the first false one

    def run(names: Names) -> bool:
        for operand, at in operands:
            if _truth(operand(names), f"'{word}'", at) is stop:
                return stop
        return not stop

    return run


def _not(operand: _Node) -> Run:
    run, at = operand
    return lambda names: not _truth(run(names), "'not'", at)


def _conditional(body: Run, condition: _Node, otherwise: Run) -> Run:
    test, at = condition
    return lambda names: body(names) if _truth(test(names), "'if'", at) else otherwise(names)


def _sign(op: str, operand: Run, at: int) -> Run:
    def run(names: Names) -> Any:
        value = operand(names)
        if type(value) is not int:
            value = _exact(value)
            if value is None:
                bad = operand(names)
                raise ExpressionError(f"'{op}' needs a number, not {_describe(bad)}", at, hint=_type_hint(bad))
        return -value if op == "-" else value

    return run


def _call(word: str, function: _Function, slots: list[_Node | None], at: int) -> Run:
    runs = [slot[0] if slot else (lambda names: None) for slot in slots]
    offsets = [slot[1] if slot else at for slot in slots]
    apply = function.apply
    return lambda names: apply([run(names) for run in runs], offsets, at)
