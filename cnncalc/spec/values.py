"""Argument values: what a layer or block entry's arguments are once `$name`s are replaced."""

from __future__ import annotations

from typing import Any

from cnncalc.args import describe, did_you_mean
from cnncalc.errors import SpecError
from cnncalc.spec.scope import CallerName, Scope
from cnncalc.yamlsource import YList, YMap, at


class Values:
    """Evaluates the values written in one scope's entries."""

    def __init__(self, file: str) -> None:
        self.file = file

    def error(self, message: str, mark: Any, hint: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint)

    def arguments(self, raw: YMap | dict[str, Any], scope: Scope) -> tuple[dict[str, Any], dict[str, Any]]:
        """Arguments with `$param` values replaced, and where each value was written (the use site for params)."""
        value_marks = getattr(raw, "value_marks", {})
        args: dict[str, Any] = {}
        marks: dict[str, Any] = {}
        for key, value in raw.items():
            if not isinstance(key, str):
                raise self.error(f"an argument name must be text, got {describe(key)}", raw.key_marks[key])
            mark = value_marks.get(key)
            args[key], marks[key] = self.value(value, mark, scope)
        return args, marks

    def value(self, value: Any, mark: Any, scope: Scope) -> tuple[Any, Any]:
        if isinstance(value, str) and value.startswith("$"):
            param = value[1:]
            if param not in scope.params:
                where = f"block '{scope.block}'" if scope.block else "the top level (parameters exist only in blocks)"
                valid = ", ".join(f"${p}" for p in scope.params)
                raise self.error(
                    f"unknown parameter {value} in {where}" + (f" (its parameters: {valid})" if valid else ""),
                    mark,
                    hint=did_you_mean(param, list(scope.params)),
                )
            return scope.params[param]
        if isinstance(value, list):
            item_marks = getattr(value, "item_marks", [mark] * len(value))
            items = YList(self.value(v, m, scope)[0] for v, m in zip(value, item_marks, strict=True))
            items.mark, items.item_marks = mark, item_marks
            return items, mark
        return value, mark


def caller_value(value: Any, caller: Scope) -> Any:
    """A block argument: text passed to a block keeps the scope it was written in (a layer name for `inputs`)."""
    if isinstance(value, str) and not isinstance(value, CallerName):
        return CallerName(value, caller)
    return value
