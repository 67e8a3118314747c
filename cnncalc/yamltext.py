"""Values written into spec text (`cnncalc fuse`, `cnncalc import`): YAML flow scalars, sequences and mappings that
cnncalc's loader (cnncalc.yamlsource, YAML 1.2 numbers) reads back as the same values."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from cnncalc.errors import CnncalcError

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")  # text YAML reads as text when unquoted (but for _WORDS)
_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf", "~"}  # YAML 1.1 or 1.2 non-text


def flow_value(value: Any) -> str:
    """`value` (None, bool, int, float, str, or a list, tuple or dict of these) as YAML flow text."""
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
        return repr(value)  # the shortest text that reads back: 1e-05, 0.1, 2.0 (as PyTorch prints them)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _WORDS:
            return value
        return json.dumps(value)  # JSON's escapes are YAML double-quoted escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow_value(k)}: {flow_value(v)}" for k, v in value.items()) + "}"
    raise CnncalcError(f"cannot write {type(value).__name__} {value!r} in a spec")
