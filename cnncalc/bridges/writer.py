"""An ImportedNetwork as spec text (docs/language.md), read back by cnncalc.spec like any hand-written spec.

`write_spec(network, fold=False)` writes one entry per layer, named with the layer's full name (PyTorch's module
path), `inputs` only where a layer does not read the entry before it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cnncalc.bridges.network import NETWORK_INPUT, ImportedLayer, ImportedNetwork

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# Words YAML (1.1 or 1.2) may read as something other than a string.
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf"}


def yaml_value(value: Any) -> str:
    """`value` (None, bool, int, float, str, list or tuple of these) as a YAML flow scalar or sequence."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)  # shortest round trip: 1e-05, 0.1, 2.0
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as a spec value")


def yaml_mapping(items: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {yaml_value(value)}" for key, value in items.items()) + "}"


def entry(kind: str, arguments: dict[str, Any]) -> str:
    """One list entry's text after '- ': a bare kind, or `kind: {arguments}`."""
    return f"{kind.lower()}: {yaml_mapping(arguments)}" if arguments else kind.lower()


def header(network: ImportedNetwork) -> list[str]:
    lines = [f"# imported by cnncalc import from {network.source}"]
    lines += [f"# note: {note}" for note in network.notes]
    lines += [f"name: {yaml_value(network.name)}", f"input: {yaml_value(list(network.input_shape))}"]
    return lines


def layer_entry(layer: ImportedLayer, previous: str, name: str | None = None) -> str:
    """The layer as a list entry: its arguments, then `name`, then `inputs` unless it reads `previous` alone."""
    arguments = dict(layer.arguments)
    arguments["name"] = name if name is not None else layer.name
    if layer.inputs != [previous]:
        arguments["inputs"] = layer.inputs[0] if len(layer.inputs) == 1 else list(layer.inputs)
    return entry(layer.kind, arguments)


def write_flat(network: ImportedNetwork) -> str:
    lines = [*header(network), "layers:"]
    previous = NETWORK_INPUT
    for layer in network.layers:
        lines.append(f"  - {layer_entry(layer, previous)}")
        previous = layer.name
    return "\n".join(lines) + "\n"


def write_spec(network: ImportedNetwork, *, fold: bool = True) -> str:
    """The network as spec text. `fold` is accepted for the block-folding writer; this writer is flat."""
    return write_flat(network)
