"""Layer entries written as PyTorch prints them, read into the mapping form they stand for.

    - Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
    - (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)

mean exactly `- conv2d: {in_channels: 3, out_channels: 64, kernel_size: [7, 7], ...}` (the second named bn1):
positional values take the names of torch.nn's positional arguments, in its order. The text is parsed by
cnncalc.pyliteral, never evaluated; errors point at the column inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cnncalc.args import did_you_mean, positional_names
from cnncalc.errors import LayerError, SpecError
from cnncalc.layers import lookup
from cnncalc.pyliteral import LiteralError, is_call, parse_call
from cnncalc.yamlsource import YList, YMap, at, position

__all__ = ["is_call", "printed_entry"]

FORM_HINT = (
    "a layer as PyTorch prints it, such as Conv2d(3, 64, kernel_size=(7, 7), bias=False): values are numbers, "
    "'text', tuples, lists, None, True and False"
)


def printed_entry(text: str, mark: Any, file: str, blocks: Mapping[str, Any]) -> tuple[str, YMap, Any]:
    """(kind or block name, arguments, where the kind is written) of a printed layer; `blocks` are the spec's
    (their `params` in order take a block use's positional values)."""
    try:
        call = parse_call(text)
    except LiteralError as error:
        raise SpecError(
            f"cannot read the layer {_short(text)}: {error.message}",
            location=at(file, position(text, error.offset, mark)),
            hint=FORM_HINT,
        ) from None
    kind_mark = position(text, call.name_offset, mark)
    if call.name in blocks:
        order = list(blocks[call.name].params)
    else:
        try:
            order = positional_names(lookup(call.name).arguments)
        except LayerError as error:
            raise SpecError(
                error.message,
                location=at(file, kind_mark),
                hint=did_you_mean(call.name, list(blocks)) or error.hint,
            ) from None
    args = YMap()
    args.mark, args.key_marks, args.value_marks = kind_mark, {}, {}
    for index, argument in enumerate(call.arguments):
        where = position(text, argument.value_offset, mark)
        if argument.keyword is None:
            if index >= len(order):
                raise SpecError(
                    f"{call.name} takes {_count(len(order))} by position ({', '.join(order) or 'none'}), "
                    f"got {index + 1} or more",
                    location=at(file, where),
                    hint="give the others by name, as in kernel_size=3",
                )
            name = order[index]
        else:
            name = argument.keyword
        if name in args:
            raise SpecError(
                f"{call.name} got the argument '{name}' twice",
                location=at(file, position(text, argument.keyword_offset, mark)),
                hint=f"by position it is argument {order.index(name) + 1}" if name in order else None,
            )
        args[name] = _located(argument.value, where)
        args.key_marks[name] = position(text, argument.keyword_offset, mark)
        args.value_marks[name] = where
    return call.name, args, kind_mark


def named(name: Any, name_mark: Any, args: YMap, file: str) -> None:
    """`(conv1): Conv2d(...)`, as print(model) writes a module's name: the layer's name, without the brackets."""
    if "name" in args:
        raise SpecError(
            "the layer is named twice: before the ':' and by name=",
            location=at(file, args.key_marks["name"]),
            hint="keep one of them",
        )
    if isinstance(name, str):
        name = name.strip()
        if name.startswith("(") and name.endswith(")"):
            name = name[1:-1].strip()
    args["name"] = name
    args.key_marks["name"] = args.value_marks["name"] = name_mark


def _located(value: Any, mark: Any) -> Any:
    """Lists as YLists, so that they carry a place like values read from YAML."""
    if isinstance(value, list):
        items = YList(_located(v, mark) for v in value)
        items.mark, items.item_marks = mark, [mark] * len(items)
        return items
    return value


def _count(number: int) -> str:
    return f"{number} argument{'s' if number != 1 else ''}"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= 60 else text[:57] + "...")
