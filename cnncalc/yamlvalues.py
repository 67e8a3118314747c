"""The values a loaded YAML document is made of (YMap, YList, scalars) with the places they were written
(SourceMark, TextMark, SourceText), and YAML 1.2's core schema for plain scalars: what both of cnncalc's YAML
readers (cnncalc.yamlsource and its line reader, cnncalc.yamllines) make, in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

MAX_INT_DIGITS = 4300  # longer integer literals are refused: reading one costs time quadratic in its digits


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus booleans in any case.
_WORDS: dict[str, Any] = {"": None, "~": None, "null": None, "Null": None, "NULL": None}
_WORDS.update({w: True for w in ("true", "True", "TRUE")})
_WORDS.update({w: False for w in ("false", "False", "FALSE")})
_CORE_NUMBER = re.compile(
    r"(?P<int>[-+]?[0-9]+)"
    r"|0o(?P<oct>[0-7]+)"
    r"|0x(?P<hex>[0-9a-fA-F]+)"
    r"|(?P<float>[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)"
    r"|(?P<inf>[-+]?\.(?:inf|Inf|INF))"
    r"|(?P<nan>\.(?:nan|NaN|NAN))"
)
_NUMBER_START = frozenset("0123456789+-.")


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that knows where it, its keys and its values start (SourceMarks; see `at`).

    A loaded mapping whose values are all lists and mappings (each `- kind: {...}` of a spec's layers) keeps no
    dict of its values' marks: each is its value's own `mark`, and `value_marks` makes the read-only mapping when
    asked (nothing changes a loaded mapping). Others keep a dict: spec readers look their marks up once per layer
    made, which making it each time would slow down."""

    __slots__ = ("mark", "key_marks", "_value_marks")  # no instance dict: a large spec holds millions of these
    mark: Any
    key_marks: dict[Any, Any]

    @property
    def value_marks(self) -> Mapping[Any, Any]:
        marks = self._value_marks
        if marks is None:
            return MappingProxyType({key: value.mark for key, value in self.items()})
        return marks  # type: ignore[no-any-return]

    @value_marks.setter
    def value_marks(self, marks: Mapping[Any, Any]) -> None:
        self._value_marks = marks


class YList(list):  # type: ignore[type-arg]
    """A sequence that knows where it and its items start (SourceMarks; see `at`)."""

    __slots__ = ("mark", "item_marks")
    mark: Any
    item_marks: list[Any]


class SourceMark(int):
    """Where a value starts, as a yaml Mark says it (0-based `line` and `column`), in the 48 bytes of one int
    instead of the 80 of a Mark: a large spec keeps millions of them (its values' and keys' places, for errors)."""

    __slots__ = ()

    @property
    def line(self) -> int:
        return self >> 32

    @property
    def column(self) -> int:
        return self & _COLUMN_BITS

    def __bool__(self) -> bool:  # a place, not a number: the first line's first column is a place too
        return True

    def __repr__(self) -> str:
        return f"SourceMark(line={self.line}, column={self.column})"


_COLUMN_BITS = (1 << 32) - 1


def _packed(mark: Any) -> Any:
    """A yaml Mark as a SourceMark (the Mark itself past column 2**32, which a SourceMark cannot hold)."""
    column = mark.column
    return SourceMark(mark.line << 32 | column) if column <= _COLUMN_BITS else mark


class TextMark(NamedTuple):
    """A place inside a scalar's text (0-based, like yaml Marks), for errors that point into a value."""

    line: int
    column: int


class SourceText(str):
    """A scalar holding '(' (a Python tuple or a printed layer) or '$' (an expression), with where it starts and
    whether its text is exactly the source's from there (single-line, no escapes), so that `position` can point at
    a column in it."""

    mark: Any
    exact: bool


def core_scalar(text: str) -> Any:
    """A plain (unquoted, untagged) scalar by YAML 1.2's core schema: None, a bool, an int, a float or the text.

    ValueError for an integer longer than MAX_INT_DIGITS."""
    if text.isdigit() and text.isascii():  # the common case: a decimal integer (010 is ten, as in YAML 1.2)
        if len(text) > MAX_INT_DIGITS:
            raise ValueError(text)
        return int(text)
    if text in _WORDS:
        return _WORDS[text]
    first = text[0]
    if first in _NUMBER_START:
        match = _CORE_NUMBER.fullmatch(text)
        if match:
            return _number(match)
    elif first in "tTfF" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _number(match: re.Match[str]) -> int | float:
    kind = match.lastgroup
    text = match.group(kind or 0)
    if kind in ("int", "oct", "hex") and len(text) > MAX_INT_DIGITS:
        raise ValueError(text)  # refused here, not by Python's guard, which the CLI lifts to print long figures
    if kind == "int":
        return int(text)
    if kind == "oct":
        return int(text, 8)
    if kind == "hex":
        return int(text, 16)
    if kind == "inf":
        return float("-inf") if text.startswith("-") else float("inf")
    if kind == "nan":
        return float("nan")
    return float(text)


def _value_marks(mapping: YMap, marks: list[Any]) -> dict[Any, Any] | None:
    """What a loaded YMap keeps of its values' marks (see YMap): None where each is its value's own mark."""
    for value in mapping.values():
        if type(value) is not YMap and type(value) is not YList:
            return dict(zip(mapping, marks, strict=True))
    return None
