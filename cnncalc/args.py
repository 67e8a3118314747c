"""Argument types for layer kinds: parse a value from a spec into its canonical Python form, or say what was expected.

Each kind declares its arguments as a tuple of `Arg`s (name, type, default), the way PyTorch's constructors do. The
declaration is data, so the same table drives validation, defaults, did-you-mean and (later) a JSON Schema.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from cnncalc.errors import LayerError


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED: Any = _Marker("REQUIRED")
"""Default of an argument that has none: the spec must give it."""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """A hint naming the closest valid choice, or None when nothing is close."""
    import difflib  # only on the error path: keeps start-up fast

    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[close[0]]}'?" if close else None


def describe(value: Any) -> str:
    """A value as the user wrote it, with its YAML type when that is the surprise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, float):
        if value != value:
            return ".nan (not a number)"
        if value in (_INF, -_INF):
            return f"{'-' if value < 0 else ''}.inf (infinite)"
        if value.is_integer():
            return f"{value!r} (a float)"
    return repr(value) if not isinstance(value, (list, dict)) else str(value)


_INF = float("inf")
# Forms YAML 1.1 (PyYAML, older tools) reads as booleans or numbers, and YAML 1.2's core schema as text (the
# pattern is compiled on the error path only).
_YAML11_BOOLEANS = {"yes": "true", "no": "false", "on": "true", "off": "false", "y": "true", "n": "false"}
_YAML11_NUMBER = r"[-+]?(?:0b[01_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|[0-9_]*_[0-9_]*(?:\.[0-9_]*)?)"


def form_hint(value: Any, integer: bool = False) -> str | None:
    """What to write instead, for a value whose form is the likely mistake (YAML 1.1 habits, Python forms);
    `integer`: an integer was expected (so 1e3 or 2.0 should be written 1000 or 2)."""
    if integer and isinstance(value, float) and value.is_integer():
        return f"write {int(value)}: an integer is written without a decimal point or exponent (1e3 is a float)"
    if isinstance(value, float) and not math.isfinite(value):
        return "cnncalc computes exact values, and infinity and NaN have none: give a finite number"
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _YAML11_BOOLEANS:
        return f"YAML 1.2 reads {text} as text, not a boolean: write {_YAML11_BOOLEANS[text.lower()]}"
    if re.fullmatch(_YAML11_NUMBER, text):
        return f"YAML 1.2 reads {text} as text, not a number: write the number in decimal, without '_' or ':'"
    if text.lower() in (".inf", "-.inf", "+.inf", ".nan", "inf", "-inf", "nan", "infinity", "-infinity"):
        return "cnncalc computes exact values, and infinity and NaN have none: give a finite number"
    return _python_hint(text)


def _python_hint(text: str) -> str | None:
    from cnncalc.pyliteral import LiteralError, NotATuple, looks_like_tuple, parse_tuple_or_none

    if not looks_like_tuple(text):
        return None
    try:
        value = parse_tuple_or_none(text)
    except NotATuple as error:
        return error.message
    except LiteralError as error:
        return (
            f"{text} is not a Python tuple: {error.message} (at character {error.offset + 1}); or write a list: [7, 7]"
        )
    return f"the tuple {text} reads as the list {value}"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ArgType:
    """Parses one argument's value. `dims` is the kind's number of spatial axes (for per-axis arguments).

    Plain classes, not dataclasses: a frozen dataclass costs ~0.4 ms to create at import, and start-up time is a
    feature of a command-line tool.
    """

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    def expected(self, dims: int) -> str:
        raise NotImplementedError

    def parse(self, value: Any, dims: int) -> Any:
        raise NotImplementedError

    def fail(self, value: Any, dims: int) -> LayerError:
        expected = self.expected(dims)
        return LayerError(f"expected {expected}, got {describe(value)}", hint=form_hint(value, "integer" in expected))

    def json_schema(self, dims: int) -> dict[str, Any]:
        """The JSON Schema (draft-07) of the values `parse` accepts: their form, as far as JSON Schema can say it
        (`cnncalc schema`). Every ArgType says its own; the schema tests compare it with `parse` value by value."""
        raise NotImplementedError(f"{type(self).__name__} has no JSON Schema")


class Int(ArgType):
    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min = min
        self.max = max

    def expected(self, dims: int) -> str:
        if self.min == 1 and self.max is None:
            return "a positive integer"
        if self.min == 0 and self.max is None:
            return "a non-negative integer"
        if self.min is not None and self.max is not None:
            return f"an integer from {self.min} to {self.max}"
        return "an integer"

    def parse(self, value: Any, dims: int) -> int:
        if not is_int(value):
            raise self.fail(value, dims)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise self.fail(value, dims)
        return value

    def json_schema(self, dims: int) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.min is not None:
            schema["minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return schema


class Float(ArgType):
    def __init__(
        self, min: float | None = None, max: float | None = None, min_open: bool = False, infinite: bool = False
    ) -> None:
        self.min = min
        self.max = max
        self.min_open = min_open  # min itself excluded (eps > 0)
        self.infinite = infinite  # +-infinity allowed (Hardtanh's bounds: no clipping on that side); NaN never

    def expected(self, dims: int) -> str:
        if self.min is not None and self.max is not None:
            return f"a number from {self.min:g} to {self.max:g}"
        if self.min == 0:
            return "a positive number" if self.min_open else "a non-negative number"
        return "a number"

    def parse(self, value: Any, dims: int) -> float | int:
        """A finite number: every command computes with it exactly (run, verify, fuse, explain), and infinity and
        NaN have no exact value (PyTorch would only propagate them). Infinity only where the kind gives it a
        meaning every command handles (`infinite`)."""
        if not is_number(value):
            raise self.fail(value, dims)
        if isinstance(value, float) and not math.isfinite(value) and not (self.infinite and value == value):
            error = self.fail(value, dims)
            error.message = f"expected a {'non-NaN' if self.infinite else 'finite'} number, got {describe(value)}"
            raise error
        if self.min is not None and (value < self.min or (self.min_open and value == self.min)):
            raise self.fail(value, dims)
        if self.max is not None and value > self.max:
            raise self.fail(value, dims)
        return value

    def json_schema(self, dims: int) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number"}
        if self.min is not None:
            schema["exclusiveMinimum" if self.min_open else "minimum"] = self.min
        if self.max is not None:
            schema["maximum"] = self.max
        return schema


class Bool(ArgType):
    def expected(self, dims: int) -> str:
        return "true or false"

    def parse(self, value: Any, dims: int) -> bool:
        if not isinstance(value, bool):
            raise self.fail(value, dims)
        return value

    def json_schema(self, dims: int) -> dict[str, Any]:
        return {"type": "boolean"}


class Choice(ArgType):
    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices

    def expected(self, dims: int) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def parse(self, value: Any, dims: int) -> str:
        if value not in self.choices or not isinstance(value, str):
            error = self.fail(value, dims)
            if isinstance(value, str):
                error.hint = did_you_mean(value, self.choices) or error.hint
            raise error
        return value

    def json_schema(self, dims: int) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


class PerAxis(ArgType):
    """An int for every spatial axis, or a list with one per axis (PyTorch's _pair/_triple)."""

    def __init__(self, item: Int) -> None:
        self.item = item

    def expected(self, dims: int) -> str:
        thing = self.item.expected(dims)
        plural = thing.replace("a ", "", 1).replace("an ", "", 1) + "s"
        return f"{thing} or a list of {dims} {plural}" if dims > 1 else thing

    def parse(self, value: Any, dims: int) -> tuple[int, ...]:
        if isinstance(value, list):
            if len(value) != dims:
                raise self.fail(value, dims)
            try:
                return tuple(self.item.parse(v, dims) for v in value)
            except LayerError:
                raise self.fail(value, dims) from None
        try:
            return (self.item.parse(value, dims),) * dims
        except LayerError:
            raise self.fail(value, dims) from None

    def json_schema(self, dims: int) -> dict[str, Any]:
        item = self.item.json_schema(dims)
        return {"anyOf": [item, {"type": "array", "items": item, "minItems": dims, "maxItems": dims}]}


class Padding(ArgType):
    """Convolution padding: per-axis non-negative ints, or 'same' / 'valid'."""

    def expected(self, dims: int) -> str:
        return PerAxis(Int(min=0)).expected(dims) + ", 'same' or 'valid'"

    def parse(self, value: Any, dims: int) -> tuple[int, ...] | str:
        if value in ("same", "valid") and isinstance(value, str):
            return value
        try:
            return PerAxis(Int(min=0)).parse(value, dims)
        except LayerError:
            error = self.fail(value, dims)
            if isinstance(value, str):
                error.hint = did_you_mean(value, ("same", "valid")) or error.hint
            raise error from None

    def json_schema(self, dims: int) -> dict[str, Any]:
        return {"anyOf": [PerAxis(Int(min=0)).json_schema(dims), {"type": "string", "enum": ["same", "valid"]}]}


class Optional(ArgType):
    def __init__(self, item: ArgType) -> None:
        self.item = item

    def expected(self, dims: int) -> str:
        return self.item.expected(dims) + " or null"

    def parse(self, value: Any, dims: int) -> Any:
        return None if value is None else self.item.parse(value, dims)

    def json_schema(self, dims: int) -> dict[str, Any]:
        return {"anyOf": [{"type": "null"}, self.item.json_schema(dims)]}


class IntList(ArgType):
    """An int or a non-empty list of ints (LayerNorm's normalized_shape)."""

    def __init__(self, item: Int) -> None:
        self.item = item

    def expected(self, dims: int) -> str:
        return f"{self.item.expected(dims)} or a list of them"

    def parse(self, value: Any, dims: int) -> tuple[int, ...]:
        if isinstance(value, list):
            if not value:
                raise self.fail(value, dims)
            try:
                return tuple(self.item.parse(v, dims) for v in value)
            except LayerError:
                raise self.fail(value, dims) from None
        try:
            return (self.item.parse(value, dims),)
        except LayerError:
            raise self.fail(value, dims) from None

    def json_schema(self, dims: int) -> dict[str, Any]:
        item = self.item.json_schema(dims)
        return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}


class Arg(NamedTuple):
    """One constructor argument of a layer kind, as in the torch.nn class."""

    name: str
    type: ArgType
    default: Any = REQUIRED
    doc: str = ""
    inferred: bool = False  # an input size (in_channels, ...): inferred from the graph, checked when given
    pytorch: bool = True  # False for cnncalc's own arguments (conv's flip), which torch.nn does not take
    keyword_only: bool = False  # torch.nn takes it by name only (BatchNorm's bias): not a positional argument


def positional_names(declared: tuple[Arg, ...]) -> list[str]:
    """The arguments torch.nn's constructor takes by position, in its order (a printed layer's leading values)."""
    return [a.name for a in declared if a.pytorch and not a.keyword_only]


def parse_arguments(declared: tuple[Arg, ...], given: dict[str, Any], dims: int, kind: str) -> dict[str, Any]:
    """Validate `given` against `declared`: unknown names (with did-you-mean), missing ones, types; fill defaults."""
    by_name, defaults = _declared(declared, dims)
    for name in given:
        if name not in by_name:
            valid = ", ".join(a.name for a in declared) or "none"
            hint = did_you_mean(str(name), list(by_name))
            raise LayerError(
                f"{kind} has no argument '{name}' (its arguments: {valid})",
                arg=str(name),
                hint=hint,
            )
    if not given:  # every argument at its default (ReLU, BatchNorm2d): the parsed defaults, in declared order
        if len(defaults) == len(declared):
            return dict(defaults)
    parsed: dict[str, Any] = {}
    for arg in declared:
        if arg.name in given:
            value = given[arg.name]
            if arg.inferred and value is None:
                parsed[arg.name] = None
                continue
            try:
                parsed[arg.name] = parse_value(arg.type, value, dims)
            except LayerError as error:
                error.message = f"{arg.name}: {error.message}"
                error.arg = arg.name
                raise
        elif arg.default is REQUIRED:
            raise LayerError(f"{kind} needs the argument '{arg.name}' ({arg.type.expected(dims)})", arg=arg.name)
        else:
            parsed[arg.name] = defaults[arg.name]
    return parsed


_DECLARED: dict[tuple[int, int], tuple[tuple[Arg, ...], dict[str, Arg], dict[str, Any]]] = {}


def _declared(declared: tuple[Arg, ...], dims: int) -> tuple[dict[str, Arg], dict[str, Any]]:
    """A kind's arguments by name and its parsed defaults (in declared order), made once per kind and `dims`.

    Keyed by identity, the tuple kept beside them (so its id cannot be reused while the entry lives)."""
    known = _DECLARED.get((id(declared), dims))
    if known is None or known[0] is not declared:
        by_name = {a.name: a for a in declared}
        defaults = {a.name: _parsed_default(a, dims) for a in declared if a.default is not REQUIRED}
        known = _DECLARED[(id(declared), dims)] = (declared, by_name, defaults)
    return known[1], known[2]


def parse_value(arg_type: ArgType, value: Any, dims: int) -> Any:
    """`arg_type.parse`, where a value refused as text is read again as the Python form it may be, as copied from
    `print(model)`: a tuple `(7, 7)` for a list, `None` for null (whether YAML saw it quoted or not)."""
    try:
        return arg_type.parse(value, dims)
    except LayerError:
        python = _python_form(value)
        if python is _NOT_PYTHON:
            raise
    return arg_type.parse(python, dims)


_NOT_PYTHON: Any = _Marker("NOT_PYTHON")


def python_form(value: Any) -> Any:
    """`value` read as the Python tuple or None it spells (`(3, 224, 224)` -> [3, 224, 224]), else unchanged."""
    python = _python_form(value)
    return value if python is _NOT_PYTHON else python


def _python_form(value: Any) -> Any:
    if not isinstance(value, str):
        return _NOT_PYTHON
    text = value.strip(" \t\r\n")  # cnncalc.pyliteral.WHITESPACE
    if not text.startswith("(") and text != "None":
        return _NOT_PYTHON
    from cnncalc.pyliteral import LiteralError, parse_tuple_or_none

    try:
        return parse_tuple_or_none(value)
    except LiteralError:
        return _NOT_PYTHON  # the first error stands, with form_hint's reason


_defaults: dict[tuple[int, int], Any] = {}


def _parsed_default(arg: Arg, dims: int) -> Any:
    """Defaults are written as in PyTorch (stride=1) and parsed like given values (stride=(1, 1)), once.

    Keyed by identity: Args live as long as their kind's class."""
    key = (id(arg), dims)
    if key not in _defaults:
        _defaults[key] = arg.type.parse(arg.default, dims)
    return _defaults[key]
