"""Blocks: reusable, parameterized lists of layers (`blocks:` at the top of a spec), read and checked before
expansion, and counted without being built so that a runaway `repeat` is refused at once."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.args import describe, did_you_mean
from cnncalc.errors import SpecError
from cnncalc.layers import REGISTRY
from cnncalc.names import BLOCK_RULE, canonical, is_block_name
from cnncalc.yamlsource import YList, YMap, at

RESERVED = ("name", "inputs", "repeat", "trainable", "weights", "ignore")
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
    layers = body.get("layers")
    if not isinstance(layers, YList) or not layers:
        raise error(f"block '{name}': expected a non-empty list of layers", body.value_marks.get("layers", where))
    defaults = {p: (REQUIRED_PARAM if v is None else v) for p, v in params.items()}
    default_marks = dict(getattr(params, "value_marks", {}))
    return Block(canonical(name), defaults, layers, where, default_marks)


def block_size(block: Block, args: dict[str, Any], blocks: dict[str, Block], seen: dict[Any, int], using: Any) -> int:
    """How many layers one use of `block` with arguments `args` expands to, counted without building them: repeats
    multiply, and a block is counted once per set of arguments. What expansion would refuse (a bad repeat, a block
    using itself) counts as it is: expansion reports it."""
    params = {**{k: v for k, v in block.params.items() if v is not REQUIRED_PARAM}, **args}
    key = (block.name, repr(sorted(params.items(), key=lambda item: str(item[0]))))
    if key in seen or block.name in using:
        return seen.get(key, 0)
    total = 0
    for item in block.layers:
        kind, raw = (item, {}) if isinstance(item, str) else (None, {})
        if isinstance(item, dict) and len(item) == 1:
            kind, raw = next(iter(item.items()))
        raw = raw if isinstance(raw, dict) else {}
        values = {k: params.get(v[1:], v) if isinstance(v, str) and v.startswith("$") else v for k, v in raw.items()}
        repeat = values.get("repeat", 1)
        repeat = repeat if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat >= 1 else 1
        inner = blocks.get(kind) if isinstance(kind, str) else None
        used = {k: v for k, v in values.items() if k not in RESERVED}
        total += repeat * (1 if inner is None else block_size(inner, used, blocks, seen, (*using, block.name)))
    seen[key] = total
    return total
