"""The naming rule for layers and blocks, in one place (spec loading, the graph's look-ups, the JSON Schema).

A layer name is PyTorch's module path: dot-separated parts, each a word (letters of any script, digits, '_' and
'-', not starting with a digit or '-', as Python identifiers are) or a whole number, so torchvision's
`layer2.0.conv1`, `features.0` and `classifier.1` are names, and a spec's state_dict keys (name + "." + weight
name) are PyTorch's. A block's name is one word: it is written where a layer kind is.

Names are compared in Unicode NFC, so a letter typed precomposed or as a base letter and an accent is one name.
"""

from __future__ import annotations

from typing import Any

RULE = (
    "a name is one or more parts joined by '.': words of letters (any script), digits, '_' and '-', not starting "
    "with a digit or '-', or whole numbers (torchvision's layer2.0.conv1, features.0)"
)
BLOCK_RULE = "a block name is one word: letters (any script), digits, '_' and '-', not starting with a digit or '-'"

# The same rule as a regular expression that Python and ECMA 262 (JSON Schema, editors) read alike. Neither has
# Unicode letter classes in common, so any non-ASCII character passes here; `is_layer_name` is the exact rule.
_START = r"(?:[A-Za-z_]|[^\x00-\x7f])"
_WORD = _START + r"(?:[A-Za-z0-9_\-]|[^\x00-\x7f])*"
LAYER_NAME_PATTERN = rf"^(?:{_WORD}|[0-9]+)(?:\.(?:{_WORD}|[0-9]+))*$"
BLOCK_NAME_PATTERN = rf"^{_WORD}$"


def canonical(name: str) -> str:
    """`name` in NFC (ASCII, the common case, is returned as it is)."""
    if name.isascii():
        return name
    import unicodedata  # only for names with other letters

    return unicodedata.normalize("NFC", name)


def is_word(part: str) -> bool:
    """A part that is a word: a Python identifier, '-' allowed after the first character."""
    return part[:1] != "-" and part.replace("-", "_").isidentifier()


def is_layer_name(value: Any) -> bool:
    """Whether `value` is a valid layer name (the reserved name 'input' aside)."""
    if not isinstance(value, str) or not value:
        return False
    return all(is_word(part) or (part.isascii() and part.isdigit()) for part in value.split("."))


def is_block_name(value: Any) -> bool:
    return isinstance(value, str) and is_word(value)
