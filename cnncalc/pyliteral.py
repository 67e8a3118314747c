"""Python literal forms people copy from `print(model)`: values such as `(7, 7)`, `(768,)` and `None`, and whole
printed layers such as `Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), bias=False)`.

A small tokenizer and recursive-descent parser of our own: the text is parsed, never evaluated, and nothing but
the forms below is read. Errors carry the offset in the text where they happened, so that messages can point at
the column.

    value   := number | string | None | True | False | tuple | list | name (in a call only: padding=same)
    number  := [+-] digits [. digits] [e [+-] digits]      (decimal, as YAML 1.2 reads numbers: 010 is ten)
    string  := '...' or "..." with Python's common escapes
    tuple   := ( ) | ( value , ) | ( value , value [, value]... [,] )
    list    := [ value [, value]... [,] ]
    call    := [nn. | torch.nn.] Name ( [value, ...] [name=value, ...] )
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from cnncalc.errors import CnncalcError

MAX_INT_DIGITS = 4300  # as the YAML loader: longer integers are refused (reading one is quadratic in its digits)

MAX_DEPTH = 64  # nested brackets; deeper text is refused, never recursed into
WHITESPACE = " \t\r\n"  # as the JSON Schema's patterns spell it (cnncalc.schema)
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_KEYWORD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)[ \t\r\n]*=(?!=)")
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False, "null": None, "true": True, "false": False}
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}
# How a printed layer starts (cnncalc.schema builds its pattern from this one).
CALL_START = re.compile(r"[ \t\r\n]*(?:torch\.nn\.|nn\.)?[A-Za-z_][A-Za-z0-9_]*[ \t\r\n]*\(")
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_MODULE_PREFIXES = ("torch.nn.", "nn.")
_TUPLE = "tuple"  # marks a parenthesized value that is a tuple, not just a value in parentheses


class LiteralError(CnncalcError):
    """Text that is not one of the forms above; `offset` is where in the text it went wrong."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class NotATuple(LiteralError):
    """A value in parentheses without a comma: `(7)` is 7 in Python."""


class Argument(NamedTuple):
    keyword: str | None  # None for a positional argument
    keyword_offset: int  # where the keyword (or, for a positional argument, the value) starts
    value: Any
    value_offset: int


class Call(NamedTuple):
    """`Kind(args)` as written: the kind without any `nn.` prefix, and each argument with its offsets."""

    name: str
    name_offset: int
    arguments: list[Argument]


def looks_like_tuple(text: str) -> bool:
    """Cheap test for a value that may be a tuple (the full parse decides)."""
    return text.lstrip(WHITESPACE).startswith("(")


def parse_tuple_or_none(text: str) -> Any:
    """`(7, 7)` -> [7, 7], `(768,)` -> [768], `()` -> [], `None` -> None; LiteralError for anything else.

    A value in parentheses without a comma, `(7)`, is 7 in Python, not a tuple: it is refused, so that a tuple
    stands where a list could, and nowhere else."""
    if text.strip(WHITESPACE) == "None":
        return None
    parser = _Parser(text, names=False)
    value, kind = parser.value_with_kind(0)
    parser.end()
    if kind != _TUPLE:
        written = text.strip(WHITESPACE)
        inner = written[1:-1].strip(WHITESPACE)
        if inner.startswith("("):
            raise NotATuple(f"write {written} without the extra parentheses: {inner}", 0)
        raise NotATuple(
            f"{written} is {inner} in Python, not a tuple: write {inner}, or ({inner},) for a tuple of one", 0
        )
    return value


def parse_call(text: str) -> Call:
    """`Conv2d(3, 64, kernel_size=(7, 7))` as a Call; LiteralError for anything else."""
    parser = _Parser(text, names=True)
    return parser.call()


def is_call(text: str) -> bool:
    """Cheap test for text that may be a printed layer: a kind's name and '(' (the parse decides)."""
    return CALL_START.match(text) is not None


class _Parser:
    def __init__(self, text: str, names: bool) -> None:
        self.text = text
        self.pos = 0
        self.names = names  # bare names read as text (padding=same, as torch prints it) inside a call

    # -- tokens -------------------------------------------------------------------------------------------------

    def skip(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in WHITESPACE:
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos : self.pos + 1]

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise LiteralError(f"expected {what}, found {self.found()}", self.pos)
        self.pos += 1

    def found(self) -> str:
        if self.pos >= len(self.text):
            return "the end of the text"
        return repr(self.text[self.pos])

    def end(self) -> None:
        if self.peek():
            raise LiteralError(f"unexpected {self.found()} after the value", self.pos)

    # -- values -------------------------------------------------------------------------------------------------

    def value(self, depth: int) -> Any:
        return self.value_with_kind(depth)[0]

    def value_with_kind(self, depth: int) -> tuple[Any, str | None]:
        if depth > MAX_DEPTH:
            raise LiteralError(f"brackets nested more than {MAX_DEPTH} deep", self.pos)
        char = self.peek()
        start = self.pos
        if char == "(":
            return self.parenthesized(depth)
        if char == "[":
            self.pos += 1
            return self.items("]", depth), "list"
        if char in ("'", '"'):
            return self.string(), None
        if char and char in "+-":
            self.pos += 1
            after = self.text[self.pos : self.pos + 1]  # no space after the sign: the schema's patterns agree
            if not after or not (after.isdigit() or after == "."):
                raise LiteralError(f"expected a number after '{char}', found {self.found()}", self.pos)
            number = self.number()
            return (-number if char == "-" else number), None
        if char.isdigit() or char == ".":
            return self.number(), None
        match = _NAME.match(self.text, self.pos)
        if match:
            word = match.group()
            self.pos = match.end()
            if word in _CONSTANTS:
                return _CONSTANTS[word], None
            if self.names:
                return word, None
            raise LiteralError(
                f"{word!r} is a name, not a value (write text in quotes: '{word}')",
                start,
            )
        raise LiteralError(f"expected a value, found {self.found()}", self.pos)

    def parenthesized(self, depth: int) -> tuple[Any, str | None]:
        """`(value)` is the value; with a comma (or empty) it is a tuple, returned as a list."""
        self.pos += 1
        if self.peek() == ")":
            self.pos += 1
            return [], _TUPLE
        first, kind = self.value_with_kind(depth + 1)
        if self.peek() == ")":
            self.pos += 1
            return first, "parenthesized"
        self.expect(",", "',' or ')'")
        return [first, *self.items(")", depth)], _TUPLE

    def items(self, close: str, depth: int) -> list[Any]:
        """Values separated by commas up to `close` (the opening bracket already read), a trailing comma allowed."""
        values: list[Any] = []
        while True:
            if self.peek() == close:
                self.pos += 1
                return values
            values.append(self.value(depth + 1))
            if self.peek() == close:
                self.pos += 1
                return values
            self.expect(",", f"',' or '{close}'")

    def number(self) -> int | float:
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise LiteralError(f"expected a number, found {self.found()}", self.pos)
        written = match.group()
        after = self.text[match.end() : match.end() + 1]
        if after and (after.isalnum() or after in "_."):
            raise LiteralError(
                f"cannot read the number {self.text[self.pos : match.end() + 1]!r}... (numbers are decimal: "
                "12, 0.5, 1e-05)",
                self.pos,
            )
        if "." in written or "e" in written or "E" in written:
            number: int | float = float(written)
        else:
            # Refused here, not by Python's digit guard (the CLI lifts it to print long figures): reading an int
            # costs time quadratic in its digits.
            if len(written.lstrip("+-")) > MAX_INT_DIGITS:
                raise LiteralError(f"an integer of {len(written):,} digits is too long", self.pos)
            number = int(written)
        self.pos = match.end()
        return number

    def string(self) -> str:
        quote = self.text[self.pos]
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] in "\r\n":
                raise LiteralError(f"the text in quotes starting here never ends (no closing {quote})", start)
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self.escape())
                continue
            parts.append(char)
            self.pos += 1

    def escape(self) -> str:
        """One backslash escape, as Python's repr writes them: \\n, \\', \\xhh, \\uhhhh, \\Uhhhhhhhh, ..."""
        start = self.pos
        escaped = self.text[start + 1 : start + 2]
        if escaped in _ESCAPES:
            self.pos += 2
            return _ESCAPES[escaped]
        digits = _HEX_DIGITS.get(escaped)
        code = self.text[start + 2 : start + 2 + (digits or 0)]
        if digits is None or len(code) != digits or not all(c in "0123456789abcdefABCDEF" for c in code):
            raise LiteralError(f"unknown escape {self.text[start : start + 2]!r} in text in quotes", start)
        if int(code, 16) > 0x10FFFF:
            raise LiteralError(f"{self.text[start : start + 2 + digits]!r} is not a character", start)
        self.pos += 2 + digits
        return chr(int(code, 16))

    # -- a printed layer ----------------------------------------------------------------------------------------

    def call(self) -> Call:
        self.skip()
        start = self.pos
        match = _DOTTED.match(self.text, self.pos)
        if not match:
            raise LiteralError(f"expected a layer kind such as Conv2d, found {self.found()}", self.pos)
        name = match.group()
        self.pos = match.end()
        for prefix in _MODULE_PREFIXES:
            if name.startswith(prefix):
                name, start = name[len(prefix) :], start + len(prefix)
                break
        if "." in name:
            raise LiteralError(f"expected a layer kind such as Conv2d or nn.Conv2d, found {name!r}", start)
        self.expect("(", f"'(' after {name}")
        arguments: list[Argument] = []
        seen: dict[str, int] = {}
        while True:
            if self.peek() == ")":
                self.pos += 1
                break
            arguments.append(self.argument(seen, any(a.keyword for a in arguments)))
            if self.peek() == ")":
                self.pos += 1
                break
            self.expect(",", "',' or ')'")
        self.end()
        return Call(name, start, arguments)

    def argument(self, seen: dict[str, int], after_keyword: bool) -> Argument:
        self.skip()
        start = self.pos
        match = _KEYWORD.match(self.text, self.pos)
        if match:
            keyword = match.group(1)
            if keyword in seen:
                raise LiteralError(f"the argument '{keyword}' is given twice", start)
            seen[keyword] = start
            self.pos = match.end()
            self.skip()
            value_offset = self.pos
            return Argument(keyword, start, self.value(1), value_offset)
        if after_keyword:
            raise LiteralError("a positional argument after keyword arguments (as in Python, they come first)", start)
        return Argument(None, start, self.value(1), start)
