"""Argument values: a string holding `$` is an expression (cnncalc.spec.expressions), read in the names visible where
it is written: the block's parameters, `$index` (the copy number inside the entry's `repeat`) and the entry's
first input's shape (`$in_channels`, ...). `$name` alone stands for the value passed, unchanged (a list, a kind,
a layer name for `inputs`). Nothing is evaluated as code."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cnncalc.args import describe, did_you_mean
from cnncalc.errors import SpecError
from cnncalc.layers.base import Shape
from cnncalc.spec.scope import CallerName, Scope
from cnncalc.yamlsource import YList, at, position

SHAPE_NAMES = ("in_channels", "in_length", "in_depth", "in_height", "in_width", "in_features", "in_shape")
INDEX = "index"
RESERVED_NAMES = (INDEX, *SHAPE_NAMES)  # names the language gives; a block parameter may not take them

# The axis names cnncalc prints, by the rank of a per-sample shape: C x L, C x H x W, C x D x H x W.
_AXES = {2: ("in_channels", "in_length"), 3: ("in_channels", "in_height", "in_width")}
_AXES[4] = ("in_channels", "in_depth", "in_height", "in_width")


class Context:
    """Where values are being read: the scope (its parameters), the copy number (None where `$index` is not
    visible), the first input's shape (a function: shapes are looked up only when read), and the layer or
    block use being written, for messages."""

    __slots__ = ("scope", "index", "shape", "label")

    def __init__(
        self,
        scope: Scope,
        index: int | None,
        shape: Callable[[], tuple[Shape | None, str]] | None,
        label: str | Callable[[], str] | None = None,
    ) -> None:
        self.scope = scope
        self.index = index
        self.shape = shape  # () -> (the first input's shape or None when not known yet, its name); None: not here
        self.label = label  # the layer or block use, for messages: text, or a function making it

    def layer(self) -> str | None:
        return self.label() if callable(self.label) else self.label


def shape_names(shape: Shape) -> dict[str, Any]:
    """The shape names of a per-sample shape: channels (axis 1 with the batch), the spatial axes by name, the
    features (the last axis) and the whole shape."""
    names: dict[str, Any] = dict(zip(_AXES.get(len(shape), ("in_channels",)), shape, strict=False))
    names["in_features"] = shape[-1]
    names["in_shape"] = list(shape)
    return names


class Values:
    """Evaluates the values written in entries."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, message: str, mark: Any, ctx: Context | None = None, hint: str | None = None) -> SpecError:
        label = ctx.layer() if ctx is not None else None
        note = f"in block '{ctx.scope.block}'" if ctx is not None and ctx.scope.block else None
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=label, note=note)

    def value(self, value: Any, mark: Any, ctx: Context | Callable[[], Context]) -> tuple[Any, Any]:
        if isinstance(value, str) and "$" in value:
            return self.expression(value, mark, ctx)
        if isinstance(value, list):
            item_marks = getattr(value, "item_marks", [mark] * len(value))
            items = YList(self.value(v, m, ctx)[0] for v, m in zip(value, item_marks, strict=True))
            items.mark, items.item_marks = mark, item_marks
            return items, mark
        return value, mark

    def expression(self, text: str, mark: Any, ctx: Context | Callable[[], Context]) -> tuple[Any, Any]:
        if not isinstance(ctx, Context):
            ctx = ctx()  # made only where an expression is met: most values are plain
        params = ctx.scope.params
        if text[0] == "$" and text[1:] in params and text[1:].isidentifier():
            return params[text[1:]]  # `$name` alone: the value passed, unchanged, with where it was written
        from cnncalc.spec.expressions import ExpressionError, parse_expression

        try:
            expression = parse_expression(text)
        except ExpressionError as error:
            raise self.error(error.message, position(text, error.offset, mark), ctx, error.hint) from None
        try:
            return expression.evaluate(_Visible(self, ctx, text, mark)), mark
        except ExpressionError as error:
            hint = error.hint
            if ctx.scope.block is None and error.message.startswith("unknown name"):
                hint = (hint + " " if hint else "") + "(parameters exist only inside blocks)"
            raise self.error(error.message, position(text, error.offset, mark), ctx, hint) from None

    def given(self, name: str, ctx: Context, text: str, mark: Any) -> Any:
        """The value of a name the language gives ($index, shape names), or why it cannot be read here."""
        where = _name_mark(text, name, mark)
        if name == INDEX:
            if ctx.index is None:
                raise self.error(
                    "$index is the copy number of a repeated entry: it is read in the entry's arguments, not in "
                    "repeat, when, name or inputs",
                    where,
                    ctx,
                )
            return ctx.index
        if ctx.shape is None:
            raise self.error(f"${name}: shape names are read in an entry's arguments, not in inputs", where, ctx)
        shape, source = ctx.shape()
        if shape is None:
            raise self.error(
                f"${name} reads the shape of '{source}', which is not known here: it is (or reads) a layer "
                "written later in the spec, or an `inputs` name that no layer has",
                where,
                ctx,
                hint="shape names need the entry's input built before it: check the names in `inputs` on the way "
                "there, or give the value as a number here",
            )
        given = shape_names(shape)
        if name not in given:
            axes = ", ".join(f"${n}" for n in given)
            raise self.error(
                f"${name}: the input '{source}' is {' x '.join(map(str, shape))} ({len(shape)} axes); its shape "
                f"names are {axes}",
                where,
                ctx,
                hint=did_you_mean(f"${name}", [f"${n}" for n in given]),
            )
        return given[name]

    def kind(self, kind: str, mark: Any, ctx: Context) -> tuple[str, Any]:
        """An entry's kind written as `$param`: the kind or block name the parameter holds."""
        value, where = self.value(kind, mark, ctx)
        if not isinstance(value, str) or "$" in value:
            raise self.error(
                f"{kind}: a kind written as a parameter must hold a layer kind or a block name, got {describe(value)}",
                mark,
                ctx,
                hint="pass the kind as text, e.g. act: relu",
            )
        return str(value), where


class _Visible(Mapping[str, Any]):
    """The names an expression may read: the scope's parameters, then the names the language gives, looked up
    only when read (a shape name needs the input built)."""

    def __init__(self, values: Values, ctx: Context, text: str, mark: Any) -> None:
        self.values, self.ctx, self.text, self.mark = values, ctx, text, mark
        self.params = ctx.scope.params

    def __getitem__(self, name: str) -> Any:
        if name in self.params:
            return self.params[name][0]
        if name in RESERVED_NAMES:
            return self.values.given(name, self.ctx, self.text, self.mark)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self.params
        yield from RESERVED_NAMES if self.ctx.index is not None else SHAPE_NAMES

    def __len__(self) -> int:
        return len(self.params) + len(SHAPE_NAMES) + (self.ctx.index is not None)


def _name_mark(text: str, name: str, mark: Any) -> Any:
    """Where `$name` is written inside `text` (its first use)."""
    found = re.search(rf"\${name}(?![A-Za-z0-9_])", text)
    return position(text, found.start() if found else 0, mark)


def caller_value(value: Any, caller: Scope) -> Any:
    """A block argument: text passed to a block keeps the scope it was written in (a layer name for `inputs`)."""
    if isinstance(value, str) and not isinstance(value, CallerName):
        return CallerName(value, caller)
    return value
