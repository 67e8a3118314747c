"""Safe YAML loading that remembers where every value came from (line and column), for error messages.

Only YAML's plain types are constructed (SafeLoader's scalars); nothing in a spec is ever evaluated as code.
Aliases are expanded only after their expanded size is counted, so an alias bomb is refused, not built.
Duplicate keys are errors (PyYAML keeps the last silently).
"""

from __future__ import annotations

from typing import Any

import yaml

from cnncalc.errors import Location, SpecError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
MAX_EXPANSION = 50  # an aliased document may expand to at most this many times its written nodes (+ slack)


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that knows where it, its keys and its values start (yaml Marks; see `at`)."""

    mark: Any
    key_marks: dict[Any, Any]
    value_marks: dict[Any, Any]


class YList(list):  # type: ignore[type-arg]
    """A sequence that knows where it and its items start (yaml Marks; see `at`)."""

    mark: Any
    item_marks: list[Any]


def at(file: str, mark: Any) -> Location:
    """A yaml Mark (0-based) as a Location (1-based). Marks are kept, not Locations, to load large specs fast."""
    return Location(file, mark.line + 1, mark.column + 1)


def location_of(node: yaml.Node, file: str) -> Location:
    return at(file, node.start_mark)


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into plain values (YMap, YList, scalars) carrying locations."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", location=location) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML error: {error}", location=Location(file, 1, 1)) from None
    if root is None:
        raise SpecError(
            "the spec is empty",
            location=Location(file, 1, 1),
            hint="a spec needs at least 'input: [C, H, W]' and 'layers: [...]'",
        )
    if "&" in text:  # without anchors there are no aliases to expand
        _check_expansion(root, file)
    try:
        return _Builder(loader, file).build(root)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Count nodes as written and as expanded (aliases repeat their anchor's subtree); refuse bombs and loops."""
    expanded_size: dict[int, int] = {}
    distinct = 0
    # Iterative post-order walk: deep specs must not hit Python's recursion limit.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    in_progress: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            in_progress.discard(key)
            total = 1 + sum(expanded_size[id(c)] for c in _children(node))
            expanded_size[key] = total
            continue
        if key in expanded_size:
            continue
        if key in in_progress:
            raise SpecError("a YAML alias refers to itself (a recursive structure)", location=location_of(node, file))
        in_progress.add(key)
        distinct += 1
        stack.append((node, True))
        for child in _children(node):
            if id(child) in in_progress:
                raise SpecError(
                    "a YAML alias refers to a structure that contains it (a recursive structure)",
                    location=location_of(child, file),
                )
            if id(child) not in expanded_size:
                stack.append((child, False))
    total = expanded_size[id(root)]
    if total > MAX_EXPANSION * distinct + 100_000:
        raise SpecError(
            f"YAML aliases expand {distinct:,} written nodes into {total:,} (an alias bomb?); refusing to expand",
            location=location_of(root, file),
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Builder:
    def __init__(self, loader: Any, file: str) -> None:
        self.loader = loader
        self.file = file

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            # Fast paths for the plain names and decimal integers that make up most specs; the rest (floats,
            # booleans, null, other integer forms) go through PyYAML's SafeConstructor.
            if node.tag == _STR:
                return node.value
            if node.tag == _INT and node.value.isdigit() and (node.value[0] != "0" or node.value == "0"):
                return int(node.value)
            try:
                return self.loader.construct_object(node)
            except yaml.YAMLError as error:
                raise SpecError(
                    f"cannot read this value: {getattr(error, 'problem', error)}",
                    location=location_of(node, self.file),
                ) from None
        if isinstance(node, yaml.SequenceNode):
            self._plain_tag(node, "tag:yaml.org,2002:seq")
            items = YList([self.build(child) for child in node.value])
            items.mark = node.start_mark
            items.item_marks = [child.start_mark for child in node.value]
            return items
        if isinstance(node, yaml.MappingNode):
            self._plain_tag(node, "tag:yaml.org,2002:map")
            mapping = YMap()
            mapping.mark = node.start_mark
            mapping.key_marks = {}
            mapping.value_marks = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise SpecError(
                        "YAML merge keys ('<<') are not supported; use a block with parameters instead",
                        location=location_of(key_node, self.file),
                    )
                key = self.build(key_node)
                if isinstance(key, (list, dict)):
                    raise SpecError("a mapping key must be a plain name", location=location_of(key_node, self.file))
                if key in mapping:
                    raise SpecError(
                        f"duplicate key '{key}' (first at line {mapping.key_marks[key].line + 1})",
                        location=location_of(key_node, self.file),
                    )
                mapping[key] = self.build(value_node)
                mapping.key_marks[key] = key_node.start_mark
                mapping.value_marks[key] = value_node.start_mark
            return mapping
        raise SpecError("unsupported YAML node", location=location_of(node, self.file))

    def _plain_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            raise SpecError(f"unsupported YAML tag {node.tag}", location=location_of(node, self.file))
