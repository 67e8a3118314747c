"""Blocks: reusable, parameterized lists of layers (`blocks:` at the top of a spec), read and checked before
expansion, and counted without being built so that a runaway `repeat` is refused at once."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.args import describe, did_you_mean, is_int
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.layers import REGISTRY
from cnncalc.names import BLOCK_RULE, canonical, is_block_name
from cnncalc.spec.values import RESERVED_NAMES
from cnncalc.yamlsource import YList, YMap, at

RESERVED = ("name", "inputs", "repeat", "when", "trainable", "weights", "ignore")
IF_KEYS = ("if", "then", "else")
BLOCK_KEYS = ("params", "layers", "description")
REQUIRED_PARAM = object()


class Block(NamedTuple):
    name: str
    params: dict[str, Any]  # name -> default (REQUIRED_PARAM when none)
    layers: YList
    mark: Any
    default_marks: dict[str, Any]  # where each default is written


def read_blocks(blocks: Any, mark: Any, file: str) -> dict[str, Block]:
    """The spec's `blocks:` by canonical name, each checked: its name, keys, parameters and layers."""
    if blocks is None:
        return {}
    if not isinstance(blocks, YMap):
        raise SpecError("blocks: expected a mapping of block names to {params, layers}", location=at(file, mark))
    read: dict[str, Block] = {}
    for name, body in blocks.items():
        block = read_block(name, body, blocks.key_marks[name], file)
        if block.name in read:
            raise SpecError(f"duplicate block name '{block.name}'", location=at(file, block.mark))
        read[block.name] = block
    return read


def read_block(name: Any, body: Any, where: Any, file: str) -> Block:
    def error(message: str, mark: Any, hint: str | None = None) -> SpecError:
        return SpecError(message, location=at(file, mark), hint=hint)

    if not is_block_name(name):
        raise error(f"block name {describe(name)} is not a plain name", where, hint=BLOCK_RULE)
    if name.lower() in REGISTRY:
        raise error(f"block '{name}' has the name of a layer kind", where, hint="rename the block")
    if not isinstance(body, YMap):
        raise error(f"block '{name}': expected a mapping with 'params' and 'layers'", where)
    for key in body:
        if key not in BLOCK_KEYS:
            raise error(
                f"block '{name}': unknown key '{key}' (valid: {', '.join(BLOCK_KEYS)})",
                body.key_marks[key],
                hint=did_you_mean(str(key), BLOCK_KEYS),
            )
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise error(f"block '{name}': params must be a mapping of name: default", body.value_marks["params"])
    for param in params:
        if not isinstance(param, str) or param in RESERVED:
            raise error(
                f"block '{name}': {describe(param)} cannot be a parameter name"
                + (" (it is reserved)" if param in RESERVED else ""),
                params.key_marks[param],
            )
        if param in RESERVED_NAMES:
            raise error(
                f"block '{name}': '{param}' cannot be a parameter name: ${param} is a name the language gives",
                params.key_marks[param],
                hint="the names given in every entry: " + ", ".join(f"${n}" for n in RESERVED_NAMES),
            )
    layers = body.get("layers")
    if not isinstance(layers, YList) or not layers:
        raise error(f"block '{name}': expected a non-empty list of layers", body.value_marks.get("layers", where))
    defaults = {p: (REQUIRED_PARAM if v is None else v) for p, v in params.items()}
    default_marks = dict(getattr(params, "value_marks", {}))
    return Block(canonical(name), defaults, layers, where, default_marks)


class _Unknown:
    """A value the count cannot know before building (it reads a shape, `$index`, or is an error)."""

    def __repr__(self) -> str:
        return "?"


UNKNOWN = _Unknown()


def static(value: Any, params: dict[str, Any]) -> Any:
    """A value as the count sees it: expressions evaluated in `params` where they read only known parameters."""
    if isinstance(value, str) and "$" in value:
        if value[0] == "$" and value[1:].isidentifier():  # `$name` alone: no parser needed
            return params.get(value[1:], UNKNOWN)
        from cnncalc.spec.expressions import parse_expression

        try:
            expression = parse_expression(value)
            if any(params.get(name, UNKNOWN) is UNKNOWN for name in expression.names):
                return UNKNOWN
            return expression.evaluate(params)
        except CnncalcError:
            return UNKNOWN
    if isinstance(value, list):
        return [static(item, params) for item in value]
    return value


Count = tuple[int, bool, int]  # layers, whether that bounds the expansion, entries read (making a layer or not)


def block_size(
    block: Block, args: dict[str, Any], blocks: dict[str, Block], seen: dict[Any, Count], using: Any
) -> Count:
    """How many layers one use of `block` with arguments `args` expands to, counted without building them;
    whether that count bounds the expansion; and how many entries expansion reads (an entry that makes nothing,
    `repeat: 0` or a condition that does not hold, is work too). Repeats multiply, and a block is counted once per
    set of arguments. An upper bound where conditions decide (every `when` holds, an `if` makes its larger
    branch); where a repeat or a kind reads what only building tells (a shape, `$index`), one layer is counted and
    the count is not a bound (expansion counts again there). What expansion would refuse counts as it is."""
    params = dict(args)
    for name, default in block.params.items():
        if name not in params:
            params[name] = UNKNOWN if default is REQUIRED_PARAM else static(default, params)
    key = (block.name, repr(sorted(params.items(), key=lambda item: str(item[0]))))
    if key in seen or block.name in using:
        return seen.get(key, (0, True, 0))
    counted = _list_size(block.layers, params, blocks, seen, (*using, block.name))
    seen[key] = counted
    return counted


def _list_size(
    layers: Any, params: dict[str, Any], blocks: dict[str, Block], seen: dict[Any, Count], using: Any
) -> Count:
    total, bound, read = 0, True, 0
    for item in layers if isinstance(layers, list) else ():
        read += 1
        if isinstance(item, dict) and "if" in item:
            branches = [_list_size(item.get(branch), params, blocks, seen, using) for branch in ("then", "else")]
            total += max(size for size, _, _ in branches)
            bound = bound and all(exact for _, exact, _ in branches)
            read += max(entries for _, _, entries in branches)
            continue
        kind, raw = (item, {}) if isinstance(item, str) else (None, {})
        if isinstance(item, dict) and len(item) == 1:
            kind, raw = next(iter(item.items()))
        raw = raw if isinstance(raw, dict) else {}
        if isinstance(kind, str) and kind.startswith("$"):
            kind = params.get(kind[1:], UNKNOWN)
            bound = bound and kind is not UNKNOWN
        repeat = static(raw.get("repeat", 1), params)
        bound = bound and repeat is not UNKNOWN
        repeat = repeat if is_int(repeat) and repeat >= 0 else 1
        inner = blocks.get(kind) if isinstance(kind, str) else None
        if inner is not None:
            used = {k: static(v, params) for k, v in raw.items() if k not in RESERVED}
            size, exact, entries = block_size(inner, used, blocks, seen, using)
            total += repeat * size
            bound = bound and exact
            read += repeat * entries
        else:
            total += repeat
    return total, bound, read
