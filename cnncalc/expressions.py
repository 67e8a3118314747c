"""The spec language's expressions: `$width * 4`, `make_divisible($c // 4, 8)`, `$stride == 1 and $cin == $cout`.

A YAML string is an expression when it contains `$`. A tokenizer and a precedence-climbing parser of our own turn
the text into a tree of closures; nothing is ever evaluated by Python (no eval, no ast, no attribute access).

    expr       := or_test [if or_test else expr]            (lazy, as Python's)
    or_test    := and_test (or and_test)*                   (true/false only, short-circuit)
    and_test   := not_test (and not_test)*
    not_test   := not not_test | comparison
    comparison := sum ((== | != | < | <= | > | >=) sum)*    (chained as Python's: 1 < $x < 5)
    sum        := term ((+ | -) term)*
    term       := unary ((* | / | // | %) unary)*           (/ is exact; // and % floor as Python's)
    unary      := (- | +) unary | atom
    atom       := $name | number | 'string' | "string" | true | false | none | [expr, ...] | (expr)
                | function(expr, ...)                       (min max abs int ceil floor make_divisible)

Numbers are exact: int stays int, decimals and / give rationals (fractions.Fraction, imported only when needed);
a result with denominator 1 comes back as int, any other rational as float. Booleans are not numbers. A float read
from YAML counts as the decimal written (0.1 is 1/10). Work is bounded by the text: its length and nesting depth
are limited, number literals are short, and there is no ** and no repetition.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cnncalc.errors import CnncalcError

MAX_LENGTH = 10_000  # characters of one expression
MAX_DEPTH = 100  # nested sub-expressions (parentheses, signs, not, chained if/else; lists and calls count 2)
MAX_DIGITS = 4300  # digits of one number literal (as Python's int() and the YAML loader allow)

Names = Mapping[str, Any]
Run = Callable[[Names], Any]  # a compiled sub-expression
Node = tuple[Run, int]  # ... and where it starts in the text
Token = tuple[str, Any, int]  # kind (an operator's text, a keyword, num/str/const/name/word/end/fault), value, offset


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
        self.is_name = is_name  # 'width' when the text is just '$width': its value comes back as is
        self._run = run

    def evaluate(self, names: Names) -> Any:
        try:
            value = self._run(names)
        except ExpressionError as error:
            error.text = self.text
            raise
        return value if type(value) in _PLAIN or self.is_name else _finish(value)

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
    from fractions import Fraction  # only once a non-integer appears: keeps start-up fast

    return Fraction


def _norm(value: Any) -> Any:
    """A rational with denominator 1 as an int, so that whole numbers stay on the fast int path."""
    return value.numerator if value.denominator == 1 else value


def _exact(value: Any) -> Any:
    """The value as an int or Fraction, or None when it is not a finite number."""
    kind = type(value)
    if kind is int:
        return value
    if kind in (bool, str, list, type(None)):
        return None
    if kind is float:  # from YAML: the decimal the author wrote, not the binary float's value
        return _norm(_fraction()(repr(value))) if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value if isinstance(value, _fraction()) else None


def _finish(value: Any) -> Any:
    """A result as the caller sees it: a rational that is not whole becomes a float; anything else as is."""
    if type(value) in _PLAIN or not isinstance(value, _fraction()):
        return value
    try:
        return _norm(value) if value.denominator == 1 else float(value)
    except OverflowError:
        raise ExpressionError("the result is too large for a decimal number", 0) from None


_PLAIN = {int, bool, str, list, float, type(None)}


def _describe(value: Any) -> str:
    if value is True or value is False or value is None:
        return {True: "true", False: "false", None: "none"}[value]
    if isinstance(value, (str, list, tuple)):
        return f"the string {str(value)!r}" if isinstance(value, str) else "a list"
    number = _exact(value)
    return f"a {type(value).__name__}" if number is None else f"the number {_finish(number)}"


def _number(what: str, value: Any, at: int) -> Any:
    """The value as an int or Fraction, or an error at `at` saying that `what` needs numbers."""
    number = _exact(value)
    if number is None:
        hint = "true and false are not numbers" if value is True or value is False else None
        raise ExpressionError(f"{what} needs numbers, not {_describe(value)}", at, hint=hint)
    return number


def _operation(op: str, rule: Callable[[Any, Any], Any], zero: str | None = None) -> Callable[[Any, Any, int], Any]:
    def apply(a: Any, b: Any, at: int) -> Any:
        if type(a) is not int or type(b) is not int:
            a, b = _number(f"'{op}'", a, at), _number(f"'{op}'", b, at)
        if zero and b == 0:
            raise ExpressionError(zero, at)
        return _norm(rule(a, b))

    return apply


_ARITHMETIC = {
    "+": _operation("+", operator.add),
    "-": _operation("-", operator.sub),
    "*": _operation("*", operator.mul),
    "/": _operation("/", lambda a, b: _fraction()(a) / b, "division by zero"),
    "//": _operation("//", operator.floordiv, "division by zero"),
    "%": _operation("%", operator.mod, "modulo by zero"),
}


def _equal(a: Any, b: Any) -> bool:
    """Equality of anything: numbers by value (exactly), lists item by item, otherwise same kind and value."""
    if type(a) is type(b) and type(a) in (int, str, bool):
        return bool(a == b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_equal, a, b))
    x, y = _exact(a), _exact(b)
    if x is not None or y is not None:
        return x is not None and y is not None and x == y
    return not (isinstance(a, bool) or isinstance(b, bool)) and bool(a == b)


def _comparer(op: str) -> Callable[[Any, Any, int], bool]:
    if op in ("==", "!="):
        same = op == "=="
        return lambda a, b, at: _equal(a, b) is same
    test = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def compare(a: Any, b: Any, at: int) -> bool:
        if type(a) is int and type(b) is int or isinstance(a, str) and isinstance(b, str):
            return bool(test(a, b))
        x, y = _exact(a), _exact(b)
        if x is None or y is None:
            message = f"'{op}' compares numbers with numbers or strings with strings, not {_describe(a)}"
            raise ExpressionError(f"{message} with {_describe(b)}", at)
        return bool(test(x, y))

    return compare


def _truth(value: Any, what: str, at: int) -> bool:
    if value is True or value is False:
        return value
    raise ExpressionError(f"'{what}' needs true or false, not {_describe(value)}", at, hint="compare with == or !=")


# ------------------------------------------------------------------------------------------------- functions

Apply = Callable[[list[Any], list[int], int], Any]  # argument values, where each was written, where the call is


def _pick(function: str, choose: Callable[[list[Any]], Any]) -> Apply:
    def apply(values: list[Any], offsets: list[int], at: int) -> Any:
        if len(values) == 1:  # min($in_shape): the items of one list
            if not isinstance(values[0], (list, tuple)) or not values[0]:
                raise ExpressionError(f"{function}() of one value: give several, or a list", offsets[0])
            values, offsets = list(values[0]), offsets * len(values[0])
        if all(isinstance(v, str) for v in values):
            return choose(values)
        return choose([_number(f"{function}()", v, at) for v, at in zip(values, offsets, strict=True)])

    return apply


def _one(function: str, rule: Callable[[Any], Any]) -> Apply:
    return lambda values, offsets, at: rule(_number(f"{function}()", values[0], offsets[0]))


def _make_divisible(values: list[Any], offsets: list[int], at: int) -> Any:
    """torchvision's `_make_divisible` (MobileNet, EfficientNet), computed exactly: the multiple of `divisor`
    nearest to `value`, at least `min_value` (None: the divisor), and never below 90% of `value`."""
    value = _number("make_divisible()", values[0], offsets[0])
    divisor = _exact(values[1])
    if type(divisor) is not int or divisor <= 0:
        message = f"make_divisible() needs a positive whole divisor, not {_describe(values[1])}"
        raise ExpressionError(message, offsets[1])
    least = divisor if values[2] is None else _number("make_divisible()", values[2], offsets[2])
    top, bottom = 2 * value.numerator + divisor * value.denominator, 2 * value.denominator  # value + divisor / 2
    rounded = top // bottom if top >= 0 else -(-top // bottom)  # int(): toward zero
    new = max(least, rounded // divisor * divisor)
    return _norm(new + divisor if 10 * new * value.denominator < 9 * value.numerator else new)  # below 90%


# name -> (parameters, how many are required, the rule); parameters None: any number of values, no keywords
_FUNCTIONS: dict[str, tuple[tuple[str, ...] | None, int, Apply]] = {
    "min": (None, 1, _pick("min", min)),
    "max": (None, 1, _pick("max", max)),
    "abs": (("x",), 1, _one("abs", abs)),
    "int": (("x",), 1, _one("int", int)),  # toward zero, as Python's int()
    "ceil": (("x",), 1, _one("ceil", math.ceil)),
    "floor": (("x",), 1, _one("floor", math.floor)),
    "make_divisible": (("value", "divisor", "min_value"), 2, _make_divisible),
}
_FUNCTIONS_HINT = "the functions are " + ", ".join(f"{name}()" for name in _FUNCTIONS)
_CONSTANTS = {"true": True, "True": True, "false": False, "False": False, "none": None, "None": None}
_KEYWORDS = ("and", "or", "not", "if", "else")
_FOREIGN = {"is": "compare with == or !=", "in": None, "lambda": None, "for": None, "import": None}  # Python's


def _close_match(word: str, choices: list[str]) -> str | None:
    from cnncalc.args import did_you_mean  # only on the error path

    return did_you_mean(word, choices)


# ------------------------------------------------------------------------------------------------- tokenizer

_TOKEN = (  # compiled on first use (re caches it): a spec without expressions never pays for it
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<name>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"""|(?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"|(?P<op>\*\*|//|==|!=|<=|>=|[-+*/%<>()\[\],=])"
)
_NUMBER = r"([0-9]+)(?:\.([0-9]+))?(?:[eE][-+]?([0-9]+))?"
_ESCAPE = r"\\(.)"
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}


def _tokens(text: str) -> list[Token]:
    """The tokens up to the end, or up to a faulty one, which the parser raises when it reaches it: the fault
    reported is the leftmost one, whichever stage finds it."""
    tokens: list[Token] = []
    position, match_token = 0, re.compile(_TOKEN).match
    try:
        while position < len(text):
            match = match_token(text, position)
            if match is None:
                raise _bad_character(text, position)
            kind, part, at = match.lastgroup, match.group(), position
            position = match.end()
            if kind == "number":
                tokens.append(("num", _number_literal(part, at), at))
            elif kind == "string":
                tokens.append(("str", _string(part, at), at))
            elif kind == "name":
                tokens.append(("name", part[1:], at))
            elif kind == "word":
                word = "const" if part in _CONSTANTS else part if part in _KEYWORDS else "word"
                tokens.append((word, _CONSTANTS.get(part, part), at))
            elif part == "**":
                raise ExpressionError("there is no ** (power) in the spec language", at, hint="multiply out")
            elif kind == "op":
                tokens.append((part, part, at))
    except ExpressionError as fault:
        return [*tokens, ("fault", fault, position)]
    return [*tokens, ("end", "", len(text.rstrip(" \t\r\n")))]


def _number_literal(part: str, at: int) -> Any:
    whole, decimals, exponent = re.fullmatch(_NUMBER, part).groups()  # type: ignore[union-attr]
    if len(whole) + len(decimals or "") > MAX_DIGITS:
        raise ExpressionError(f"a number with more than {MAX_DIGITS} digits", at)
    if exponent is not None and len(exponent.lstrip("0")) > 2:  # 1e999999 would be a huge number from 8 characters
        raise ExpressionError("an exponent of more than 2 digits", at, hint="write numbers between 1e-99 and 1e99")
    return int(whole) if exponent is None and decimals is None else _norm(_fraction()(part))  # 0.1 is 1/10


def _string(part: str, at: int) -> str:
    def unescape(match: re.Match[str]) -> str:
        if match.group(1) not in _ESCAPES:
            raise ExpressionError(f"unknown escape {match.group()} in a string", at + 1 + match.start())
        return _ESCAPES[match.group(1)]

    return re.sub(_ESCAPE, unescape, part[1:-1])


def _bad_character(text: str, at: int) -> ExpressionError:
    char = text[at]
    if char == "$":
        return ExpressionError("a name must follow $", at, hint="names are letters, digits and _, as $width")
    if char == "." and (text[at + 1 : at + 2].isdigit() or text[at - 1 : at].isdigit()):
        return ExpressionError("a decimal needs digits on both sides of the point", at, hint="write 0.5")
    if char == ".":
        return ExpressionError("attribute access is not part of the spec language", at)
    if char in "'\"":
        return ExpressionError("this string is never closed", at)
    hint = {"!": "write not", "&": "write and", "|": "write or"}.get(char)
    return ExpressionError(f"unexpected character {char!r}", at, hint=hint)


# ---------------------------------------------------------------------------------------------------- parser

# How tightly each infix operator binds (Python's order); `not` takes a comparison, a sign takes an atom.
_BINDING = {"if": 1, "or": 2, "and": 3, **dict.fromkeys(("==", "!=", "<", "<=", ">", ">="), 5)}
_BINDING.update({"+": 6, "-": 6, "*": 7, "/": 7, "//": 7, "%": 7})
_NOT_OPERAND, _COMPARISONS, _SIGN_OPERAND = 5, 5, 8


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"an expression of {len(text)} characters: at most {MAX_LENGTH} are read", 0)
        self.text, self.tokens, self.position, self.depth = text, _tokens(text), 0, 0
        self.names: set[str] = set()
        self.bare_words: list[tuple[str, int]] = []

    def parse(self) -> Expression:
        if self.peek()[0] == "end":
            raise ExpressionError("an empty expression", 0)
        run = self.expression(0)[0]
        if self.peek()[0] != "end":
            raise self.unexpected(*self.peek(), hint="an operator or a comma is missing?")
        if self.bare_words:  # reported when evaluated, with a did-you-mean among the names visible then
            run = _bare_word(*self.bare_words[0])
        is_name = self.tokens[0][1] if len(self.tokens) == 2 and self.tokens[0][0] == "name" else None
        return Expression(self.text, frozenset(self.names), is_name, run)

    def peek(self) -> Token:
        token = self.tokens[self.position]
        if token[0] == "fault":
            raise token[1]
        return token

    def take(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def close(self, kind: str, opened: int) -> None:
        if self.peek()[0] == "end":
            raise ExpressionError(f"this {self.text[opened]!r} is never closed", opened)
        if self.peek()[0] != kind:
            raise self.unexpected(*self.peek(), hint=f"expected {kind!r}")
        self.take()

    def unexpected(self, kind: str, value: Any, at: int, hint: str | None = None) -> ExpressionError:
        if kind == "end":
            return ExpressionError("the expression ends where a value is expected", at)
        if kind in ("(", "["):
            what = "calls" if kind == "(" else "subscripts"
            return ExpressionError(f"{what} are not part of the spec language", at, hint=_FUNCTIONS_HINT)
        if kind == "word" and value in _FOREIGN:
            return ExpressionError(f"'{value}' is not part of the spec language", at, hint=_FOREIGN[value])
        shown = self.text[at : at + 20] if kind in ("num", "str") else value
        return ExpressionError(f"unexpected {str(shown)!r}", at, hint="compare with ==" if kind == "=" else hint)

    def enter(self) -> None:
        """One level deeper: parsing and evaluating recurse, so depth is bounded (never a RecursionError)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep", self.peek()[2])

    def expression(self, least: int) -> Node:
        """An expression whose infix operators bind at least as tightly as `least`."""
        self.enter()
        node = self.prefix(least)
        while (level := _BINDING.get(kind := self.peek()[0])) is not None and level >= least:
            if kind == "if":
                node = self.conditional(node)
                continue
            steps = []
            while _BINDING.get(self.peek()[0]) == level:  # a run of one level is flat, however long
                op, _, at = self.take()
                steps.append((op, at, self.expression(level + 1)))
            build = _logic if kind in ("and", "or") else _comparison if level == _COMPARISONS else _arithmetic
            node = build(node, steps), node[1]
        self.depth -= 1
        return node

    def conditional(self, body: Node) -> Node:
        at = self.take()[2]
        test, test_at = self.expression(_BINDING["or"])
        if self.peek()[0] != "else":
            raise ExpressionError("'if' needs an 'else'", at, hint="write: A if CONDITION else B")
        self.take()
        (then, _), (otherwise, _) = body, self.expression(_BINDING["if"])
        return (lambda names: then(names) if _truth(test(names), "if", test_at) else otherwise(names)), body[1]

    def prefix(self, least: int) -> Node:
        kind, value, at = self.take()
        if kind in ("-", "+"):
            return _sign(kind, self.expression(_SIGN_OPERAND)[0], at), at
        if kind == "not":
            if least > _NOT_OPERAND:
                raise ExpressionError("'not' needs parentheses here", at, hint="write (not ...)")
            operand, operand_at = self.expression(_NOT_OPERAND)
            return (lambda names: not _truth(operand(names), "not", operand_at)), at
        if kind in ("num", "str", "const"):
            run: Run = lambda names: value  # noqa: E731
        elif kind == "name":
            self.names.add(value)
            run = _name(value, at)
        elif kind == "(":
            run = self.expression(0)[0]
            self.close(")", at)
        elif kind == "[":
            elements = [self.positional(item) for item in self.items("]", at)]
            run = lambda names: [_finish(element(names)) for element in elements]  # noqa: E731
        elif kind == "word":
            run = self.word(value, at)
        else:
            raise self.unexpected(kind, value, at)
        if self.peek()[0] in ("(", "["):
            raise self.unexpected(*self.peek())
        return run, at

    def items(self, end: str, opened: int) -> list[tuple[Token | None, Node]]:
        """Comma-separated expressions up to `end`, each with the `word=` written before it, if any."""
        items: list[tuple[Token | None, Node]] = []
        self.enter()  # a list or a call counts twice: its parsing and evaluating take more stack
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
        self.depth -= 1
        return items

    @staticmethod
    def positional(item: tuple[Token | None, Node]) -> Run:
        keyword, (run, _) = item
        if keyword is not None:
            raise ExpressionError("'=' inside a list", keyword[2] + len(keyword[1]), hint="compare with ==")
        return run

    def word(self, word: str, at: int) -> Run:
        if word in _FOREIGN:
            raise ExpressionError(f"'{word}' is not part of the spec language", at, hint=_FOREIGN[word])
        if self.peek()[0] == "(":
            return self.call(word, at)
        if word in _FUNCTIONS:
            raise ExpressionError(f"{word} is a function: call it as {word}(...)", at)
        self.bare_words.append((word, at))
        return _name(word, at)  # never run: evaluate() reports the word first

    def call(self, word: str, at: int) -> Run:
        if word not in _FUNCTIONS:
            hint = _close_match(word, list(_FUNCTIONS)) or _FUNCTIONS_HINT
            raise ExpressionError(f"unknown function '{word}'", at, hint=hint)
        params, required, apply = _FUNCTIONS[word]
        items = self.items(")", self.take()[2])
        given = sum(keyword is None for keyword, _ in items)
        slots: list[Node | None] = []  # one per parameter; None: not given (its default)
        keyed = False
        for keyword, node in items:
            if keyword is None:
                if keyed:
                    raise ExpressionError("a positional argument after a keyword argument", node[1])
                if params is not None and len(slots) == len(params):
                    count = f"{required} to {len(params)} arguments" if required < len(params) else "1 argument"
                    raise ExpressionError(f"{word}() takes {count} ({given} given)", node[1])
                slots.append(node)
                continue
            if params is None or keyword[1] not in params:
                hint = _close_match(keyword[1], list(params)) if params else None
                raise ExpressionError(f"{word}() has no argument '{keyword[1]}'", keyword[2], hint=hint)
            keyed, index = True, params.index(keyword[1])
            slots.extend([None] * (index + 1 - len(slots)))
            if slots[index] is not None:
                raise ExpressionError(f"{word}() got '{keyword[1]}' twice", keyword[2])
            slots[index] = node
        slots.extend([None] * (len(params or ()) - len(slots)))
        missing = [params[index] for index in range(required) if slots[index] is None] if params else []
        if missing or not slots:
            raise ExpressionError(f"{word}() needs {f'its argument {missing[0]!r}' if missing else 'a value'}", at)
        runs = [slot[0] if slot else _none for slot in slots]
        offsets = [slot[1] if slot else at for slot in slots]
        return lambda names: apply([run(names) for run in runs], offsets, at)


# ---------------------------------------------------------------------------------------------- the closures


def _none(names: Names) -> None:
    return None


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


def _arithmetic(first: Node, steps: list[tuple[str, int, Node]]) -> Run:
    start = first[0]
    if len(steps) == 1:  # the common case, `$width * 4`, without a loop
        apply, at, (second, _) = _ARITHMETIC[steps[0][0]], steps[0][1], steps[0][2]
        return lambda names: apply(start(names), second(names), at)
    applied = [(_ARITHMETIC[op], at, operand) for op, at, (operand, _) in steps]

    def run(names: Names) -> Any:
        value = start(names)
        for apply, at, operand in applied:
            value = apply(value, operand(names), at)
        return value

    return run


def _comparison(first: Node, steps: list[tuple[str, int, Node]]) -> Run:
    start, tests = first[0], [(_comparer(op), at, operand) for op, at, (operand, _) in steps]

    def run(names: Names) -> bool:
        left = start(names)
        for test, at, operand in tests:  # a < b < c is a < b and b < c, b evaluated once, lazily
            right = operand(names)
            if not test(left, right, at):
                return False
            left = right
        return True

    return run


def _logic(first: Node, steps: list[tuple[str, int, Node]]) -> Run:
    word, operands = steps[0][0], [first, *(operand for _, _, operand in steps)]
    stop = word == "or"  # `or` stops at the first true operand, `and` at the first false one

    def run(names: Names) -> bool:
        for operand, at in operands:
            if _truth(operand(names), word, at) is stop:
                return stop
        return not stop

    return run


def _sign(op: str, operand: Run, at: int) -> Run:
    def run(names: Names) -> Any:
        value = operand(names)
        number = value if type(value) is int else _number(f"'{op}'", value, at)
        return -number if op == "-" else number

    return run
