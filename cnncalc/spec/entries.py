"""Entries as written: the forms of one item of a list of layers (a kind, `kind: {arguments}`, a layer as PyTorch
prints it), an entry's `inputs`, and what expansion keeps of an entry for each of its copies."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.args import describe
from cnncalc.errors import SpecError
from cnncalc.layers.base import Layer
from cnncalc.spec.blocks import Block
from cnncalc.spec.scope import CallerName, Ref, Scope
from cnncalc.yamlsource import YMap, at


class Entry(NamedTuple):
    """One layer entry as written, reserved keys read: what `place` needs for each copy of it."""

    block: Block | None
    cls: type[Layer] | None  # None for a block use
    raw: dict[str, Any]  # the arguments as written, evaluated per copy ($index, shapes)
    value_marks: dict[str, Any]  # where each argument's and reserved key's value was written
    marks: dict[str, Any]  # where each reserved key's value was written (the use site for params)
    key_marks: dict[str, Any]  # where each argument's name was written
    mark: Any  # where the entry starts
    trainable: bool
    values: Any  # `weights`
    ignore: Any  # `ignore`, as written
    kind: str  # the kind or block, for messages
    dynamic: tuple[str, ...]  # the arguments holding expressions: evaluated per copy; the others are taken as written


class Entries:
    """Reads the form of entries in one spec file (`blocks` for printed layers that use them)."""

    def __init__(self, file: str, blocks: dict[str, Block]) -> None:
        self.file = file
        self.blocks = blocks
        self.caller_refs = 0  # `inputs` naming a layer through a block parameter, read so far (Expander's templates)

    def error(self, message: str, mark: Any, hint: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint)

    def split(self, item: Any, mark: Any) -> tuple[str, YMap | dict[str, Any], Any]:
        """(kind or block name, arguments, where the kind is written)."""
        if type(item) is YMap and len(item) == 1:  # the common form `kind: {arguments}`, read at once
            for kind, args in item.items():
                if type(kind) is str and type(args) is YMap:
                    return kind, args, item.key_marks[kind]
        if isinstance(item, str):
            if "(" in item:  # a layer as PyTorch prints it: Conv2d(3, 64, kernel_size=(7, 7))
                return self.printed(item, mark)
            return item, {}, mark
        if isinstance(item, YMap) and len(item) == 1:
            kind, args = next(iter(item.items()))
            if not isinstance(kind, str):
                raise self.error(f"a layer kind must be a name, got {describe(kind)}", mark)
            if args is None:
                return kind, {}, item.key_marks[kind]
            if isinstance(args, str) and "(" in args:  # `(conv1): Conv2d(...)`, a named layer as print(model) shows
                from cnncalc.printed import is_call, named

                if is_call(args):
                    kind_, printed, kind_mark = self.printed(args, item.value_marks[kind])
                    named(kind, item.key_marks[kind], printed, self.file)
                    return kind_, printed, kind_mark
            if not isinstance(args, YMap):
                raise self.error(
                    f"the arguments of '{kind}' must be a mapping, got {describe(args)}",
                    item.value_marks[kind],
                    hint=f"write '{kind}: {{argument: value, ...}}'",
                )
            return kind, args, item.key_marks[kind]
        if isinstance(item, YMap) and len(item) > 1:
            keys = ", ".join(f"'{k}'" for k in item)
            raise self.error(
                f"a layer entry has one key, its kind; this one has {len(item)}: {keys}",
                mark,
                hint="indent the arguments under the kind, or write them as 'kind: {argument: value}'",
            )
        raise self.error(
            f"a layer is a kind name or a one-key mapping 'kind: {{arguments}}', got {describe(item)}",
            mark,
        )

    def printed(self, text: str, mark: Any) -> tuple[str, YMap, Any]:
        from cnncalc.printed import printed_entry  # only specs that hold printed layers need the parser

        return printed_entry(text, mark, self.file, self.blocks)

    def input_refs(self, value: Any, marks: dict[str, Any], scope: Scope) -> list[Ref] | None:
        if value is None:
            return None
        mark = marks["inputs"]
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise self.error(
                f"inputs: expected a layer name or a list of layer names, got {describe(value)}",
                mark,
                hint="'input' is the network's (or the block's) input",
            )
        item_marks = getattr(names, "item_marks", [mark] * len(names))
        # A name passed in as a block parameter is looked up where the block was used (a U-Net skip connection).
        if any(isinstance(n, CallerName) for n in names):
            self.caller_refs += 1
        return [((getattr(n, "scope", scope), str(n)), m) for n, m in zip(names, item_marks, strict=True)]


def holds_expression(value: Any) -> bool:
    """Text holding $, or a list with such text in it: a value read through expressions."""
    if isinstance(value, str):
        return "$" in value
    return isinstance(value, list) and any(holds_expression(item) for item in value)
