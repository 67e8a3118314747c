"""Safe YAML loading that remembers where every value came from (line and column), for error messages.

Scalars are read by YAML 1.2's core schema, the one JSON and editors' YAML language server use, not PyYAML's
YAML 1.1 rules: `1e-05`, `1E-5`, `.5` and `1e9` are numbers; `010` is ten; `on`, `off`, `yes`, `no` are text;
`true` and `false` (in any case) are booleans; `null`, `~` and nothing are null; `0x1F` and `0o17` are integers.
Explicit tags (`!!float 1`, `!!str 010`) mean what YAML says or are refused at their line; no tag makes an object
of any other type, and nothing in a spec is ever evaluated as code.

Inside a flow collection (`{kernel_size: (7, 7)}`) YAML would split a Python tuple at its comma; the pieces are
joined back from the text as written, so the value reads `(7, 7)` (cnncalc.args reads such tuples).
Aliases are expanded only after their expanded size is counted, so an alias bomb is refused, not built.
Duplicate keys are errors (PyYAML keeps the last silently). Tabs in indentation get a message that says so.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from cnncalc.errors import Location, SpecError
from cnncalc.yamllines import read_lines
from cnncalc.yamlvalues import (
    _COLUMN_BITS,
    _CORE_NUMBER,
    SourceMark,
    SourceText,
    TextMark,
    YList,
    YMap,
    _number,
    _packed,
    _value_marks,
    core_scalar,
)

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when present
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_PLAIN = "\0plain"  # a plain scalar with no tag: resolved here by the core schema (no YAML tag can hold NUL)
MAX_EXPANSION = 50  # an aliased document may expand to at most this many times its written nodes (+ slack)
MAX_DEPTH = 100  # collections nested deeper than this are refused: libyaml's composer and our builder recurse

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def at(file: str, mark: Any) -> Location:
    """A mark (a yaml Mark, SourceMark or TextMark: 0-based) as a Location (1-based). Marks are kept, not
    Locations, to load large specs fast."""
    return Location(file, mark.line + 1, mark.column + 1)


def location_of(node: yaml.Node, file: str) -> Location:
    return at(file, node.start_mark)


def position(text: str, offset: int, mark: Any) -> Any:
    """The mark of character `offset` of `text`, a scalar that starts at `mark`: exact for a SourceText that is
    its source, else the scalar's start."""
    if not getattr(text, "exact", False):
        return getattr(text, "mark", mark)
    start = text.mark  # type: ignore[attr-defined]
    before = _LINE_BREAK.split(text[:offset])
    if len(before) == 1:
        return TextMark(start.line, start.column + offset)
    return TextMark(start.line + len(before) - 1, len(before[-1]))


def _check_depth(text: str, file: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before composing them: PyYAML's composer recurses once per
    level (its libyaml binding in C, CParser._compose_node: about 25,000 levels overflow the stack and kill the
    process, even for an unclosed flow whose syntax error comes only at its end) and the builder in Python.
    libyaml's scanner and parser keep their stacks on the heap, so walking the parser's events here is safe at any
    depth. Specs nest a few levels, so a cheap bound on the depth usually suffices; only where it cannot rule deep
    nesting out are the events counted. A syntax error met before MAX_DEPTH is left to load_yaml: composing stops
    at the same event.
    """
    if not _may_be_deep(text):
        return
    depth = 0
    loader = _Base(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(at(file, event.start_mark))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        # libyaml 0.2.5+ stops at 1,000 levels itself while scanning ahead: the same refusal, at its mark.
        if "nesting depth" in (error.problem or "") and error.problem_mark is not None:
            raise _too_deep(at(file, error.problem_mark)) from None
        return  # load_yaml reports other syntax errors with their location
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _too_deep(location: Location) -> SpecError:
    return SpecError(
        f"the document nests lists and mappings more than {MAX_DEPTH} levels deep",
        location=location,
        hint="a spec needs a few levels: a layer's arguments are one mapping, a per-axis value a list",
    )


def _may_be_deep(text: str) -> bool:
    """False only when the nesting is surely within MAX_DEPTH (a false True merely costs the exact check).

    Block collections nest by indentation, or on one line by '- ', '? ' and ': ' (compact nested collections); a
    sequence may share its parent key's indentation, hence twice the columns. Flow collections nest by brackets:
    at most one level per '[' or '{' in the text. Where that count is too high, and no quote or comment can hide a
    bracket or fake one, the depth is the number of rounds that removing the innermost pairs takes (each round a
    C-speed replace); an opener left over is deeper still or never closed (libyaml's composer recurses into an
    unclosed flow before it reaches the syntax error at the end, so that counts as deep too)."""
    leading = max((len(line) - len(line.lstrip(" -?:")) for line in text.splitlines()), default=0)
    room = MAX_DEPTH - (2 * leading + 2)
    if room < 1:
        return True
    if text.count("[") + text.count("{") <= room:
        return False
    if "'" in text or '"' in text or "#" in text:  # a quoted or commented ']' could pair with a real '['
        return True
    brackets = re.sub(r"[^\[\]{}]+", "", text).translate(_PARENS)
    for _ in range(room):
        shorter = brackets.replace("()", "")
        if shorter == brackets:
            break
        brackets = shorter
    return "(" in brackets


_PARENS = str.maketrans("[{]}", "(())")


def load_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into plain values (YMap, YList, scalars) carrying locations.

    A document without anchors is built straight from the parser's events (_EventBuilder: no node tree, which for a
    large spec held twice the memory of the values made from it); anything that path does not build itself (an
    error of any kind, a tag, a tuple split inside [...] or {...}, deep nesting) is read again by the general path,
    which composes the node tree and says what is wrong exactly as before. Before both, the common subset of block
    YAML that specs are written in is read line by line (cnncalc.yamllines), faster than libyaml's events are."""
    built = read_lines(text)
    if built is not None:
        return built
    if "&" not in text:  # without anchors no value is shared, so values can be made as their events come
        built = _EventBuilder(text).document()
        if built is not _FALLBACK:
            return built
    return _load_composed(text, file)


def _load_composed(text: str, file: str) -> Any:
    """The general path: PyYAML's composed node tree, checked (depth, alias expansion), then built."""
    _check_depth(text, file)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, text, file) from None
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
        return _Builder(text, file).build(root)
    finally:
        loader.dispose()


def read_value(text: str, file: str) -> Any:
    """One value written on the command line (`eps=1e-5`, `kernel_size=[3,5]`), by the same rules as specs."""
    if not text.strip():
        return None
    return load_yaml(text, file)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader with tag resolution left to _Builder: a plain scalar keeps the marker _PLAIN, so that
    the builder resolves it by the core schema and tells it from a scalar with an explicit tag."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


def _syntax_error(error: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    mark = error.problem_mark or error.context_mark
    location = Location(file, mark.line + 1, mark.column + 1) if mark else None
    problem = error.problem or error.context or "invalid YAML"
    if mark is not None:
        lines = _LINE_BREAK.split(text)
        line = lines[mark.line] if mark.line < len(lines) else ""
        indent = len(line) - len(line.lstrip(" \t"))
        tab = line.find("\t", 0, max(indent, mark.column + 1))
        if tab >= 0:
            where = "in the indentation" if tab < indent else "where YAML needs a space"
            return SpecError(
                f"a tab character {where} (YAML indents with spaces only)",
                location=Location(file, mark.line + 1, tab + 1),
                hint="replace the tab with spaces (most editors can insert spaces for tabs in .yaml files)",
            )
        if "(" in line and ("{" in line or "[" in line):
            return SpecError(
                f"YAML syntax error: {problem}",
                location=location,
                hint="inside [...] and {...} a plain value ends at ',', '[', ']', '{' or '}': put a printed layer "
                "in quotes or write it in block style (one '- ' item per line), and a tuple as a list, [7, 7]",
            )
    return SpecError(f"YAML syntax error: {problem}", location=location)


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
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        # Without anchors no node has two parents (an alias is the only way to share one), so each collection's
        # nodes can be let go once built: a large spec's composed nodes (about 1.5 KB per layer, their marks
        # besides those kept) are freed while its values are made, instead of both being held at their peak.
        self.consume = "&" not in text
        self.keys: dict[str, str] = {}  # one string per distinct key: a large spec writes the same few keys often

    def taken(self, nodes: list[Any]) -> Any:
        """The items of `nodes` in order; when consuming, each slot emptied as its item is handed out."""
        if not self.consume:
            yield from nodes
            return
        for index in range(len(nodes)):
            node = nodes[index]
            nodes[index] = None
            yield node

    def error(self, message: str, node: yaml.Node, hint: str | None = None) -> SpecError:
        return SpecError(message, location=location_of(node, self.file), hint=hint)

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            self.collection_tag(node, _SEQ)
            children = self.joined(node.value) if node.flow_style else node.value
            items, marks = YList(), []
            for child in self.taken(children):
                items.append(self.build(child))
                marks.append(_mark_of(items[-1], child))
            items.mark = _packed(node.start_mark)
            items.item_marks = marks
            return items
        if isinstance(node, yaml.MappingNode):
            self.collection_tag(node, _MAP)
            return self.mapping(node)
        raise self.error("unsupported YAML node", node)

    # -- scalars ------------------------------------------------------------------------------------------------

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _PLAIN:
            try:
                resolved = core_scalar(value)
            except ValueError:  # Python reads at most 4,300 digits of an int from text
                raise self.error(f"an integer of {len(value):,} digits is too long to read", node) from None
            return (
                self.source_text(node) if type(resolved) is str and ("(" in resolved or "$" in resolved) else resolved
            )
        if tag == _STR:
            return self.source_text(node) if "(" in value or "$" in value else value
        return self.tagged(node)

    def source_text(self, node: yaml.ScalarNode) -> SourceText:
        return _source_text(self.text, node.value, node.start_mark, node.end_mark)

    def tagged(self, node: yaml.ScalarNode) -> Any:
        """A scalar with an explicit tag: what the tag means in YAML 1.2, or a message at its line."""
        tag, value = node.tag, node.value
        shown = _shown(tag)
        if tag in (_INT, _FLOAT):
            match = _CORE_NUMBER.fullmatch(value)
            wanted = ("int", "oct", "hex") if tag == _INT else ("int", "float", "inf", "nan")
            if not match or match.lastgroup not in wanted:
                what = "an integer (12, 0x1F, 0o17)" if tag == _INT else "a number (0.5, 1e-05, .inf, .nan)"
                raise self.error(f"{shown} {value!r} is not {what}", node, hint=f"remove {shown} or fix the value")
            if tag == _FLOAT:  # float() of the text: 1 followed by 400 zeros is .inf, not an overflow
                return float(value) if match.lastgroup in ("int", "float") else _number(match)
            try:
                return _number(match)
            except ValueError:
                raise self.error(f"an integer of {len(value):,} digits is too long to read", node) from None
        if tag == _BOOL:
            if value.lower() not in ("true", "false"):
                raise self.error(
                    f"{shown} {value!r} is not true or false", node, hint="YAML 1.2's booleans are true and false"
                )
            return value.lower() == "true"
        if tag == _NULL:
            if value not in ("", "~", "null", "Null", "NULL"):
                raise self.error(f"{shown} {value!r} is not null", node, hint="write null, ~ or nothing")
            return None
        if tag in (_SEQ, _MAP):
            form = "a list ([...] or '- ' items)" if tag == _SEQ else "a mapping ({...} or 'key: value' lines)"
            raise self.error(f"{shown} needs {form}, got the single value {value!r}", node, hint=f"remove {shown}")
        message, hint = _unsupported(tag, "value")
        raise self.error(message, node, hint=hint)

    # -- collections --------------------------------------------------------------------------------------------

    def collection_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            message, hint = _unsupported(node.tag, "list" if expected == _SEQ else "mapping")
            raise self.error(message, node, hint=hint)

    def mapping(self, node: yaml.MappingNode) -> YMap:
        mapping = YMap()
        mapping.mark = _packed(node.start_mark)
        mapping.key_marks = {}
        value_marks = []
        pairs = self.joined_pairs(node.value) if node.flow_style else node.value
        for key_node, value_node in self.taken(pairs):
            if key_node.tag == _PLAIN and key_node.value == "<<":
                raise self.error(
                    "YAML merge keys ('<<') are not supported; use a block with parameters instead", key_node
                )
            key = self.build(key_node)
            if type(key) is str:
                key = self.keys.setdefault(key, key)
            if isinstance(key, (list, dict)):
                raise self.error("a mapping key must be a plain name", key_node)
            if key in mapping:
                raise self.error(f"duplicate key '{key}' (first at line {mapping.key_marks[key].line + 1})", key_node)
            mapping[key] = value = self.build(value_node)
            mapping.key_marks[key] = _packed(key_node.start_mark)
            value_marks.append(_mark_of(value, value_node))
        mapping._value_marks = _value_marks(mapping, value_marks)
        return mapping

    def joined(self, nodes: list[yaml.Node]) -> list[yaml.Node]:
        """A flow sequence's items with the pieces of a split tuple, `(7` and `7)`, joined back into one scalar."""
        if not any(_opens(n) for n in nodes):
            return nodes
        items: list[yaml.Node] = []
        index = 0
        while index < len(nodes):
            node = nodes[index]
            index += 1
            end = self.closing(node) if _opens(node) else None
            if end is not None:
                last = node
                while index < len(nodes) and nodes[index].start_mark.index < end:
                    last = nodes[index]
                    index += 1
                node = self.rejoined(node, max(end, last.end_mark.index))
            items.append(node)
        return items

    def joined_pairs(self, pairs: list[tuple[yaml.Node, yaml.Node]]) -> list[tuple[yaml.Node, yaml.Node]]:
        """A flow mapping's pairs with a split tuple value joined back: `{k: (7, 7)}` reads as k: '(7, 7)',
        not k: '(7' and '7)': null."""
        if not any(_opens(value) for _, value in pairs):
            return pairs
        joined: list[tuple[yaml.Node, yaml.Node]] = []
        index = 0
        while index < len(pairs):
            key, value = pairs[index]
            index += 1
            end = self.closing(value) if _opens(value) else None
            if end is not None:
                last = value
                while index < len(pairs) and pairs[index][0].start_mark.index < end:
                    last = pairs[index][1]
                    index += 1
                value = self.rejoined(value, max(end, last.end_mark.index))
            joined.append((key, value))
        return joined

    def closing(self, node: yaml.ScalarNode) -> int | None:
        """The index just after the ')' that closes the first unclosed '(' of `node`, in the source text; None
        when the flow collection ends first (an error for what can only be a tuple, `(7, 7`)."""
        depth, quote = 0, ""
        text = self.text
        for index in range(node.start_mark.index, len(text)):
            char = text[index]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and depth:
                quote = char
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth -= 1
                if depth == 0 and char == ")":
                    return index + 1
                if depth <= 0:
                    break
        if not node.value.startswith("("):
            return None
        raise self.error(
            f"'(' in {node.value!r} is never closed",
            node,
            hint="write a tuple such as (7, 7) as a list, [7, 7]",
        )

    def rejoined(self, first: yaml.ScalarNode, end: int) -> yaml.ScalarNode:
        start = first.start_mark
        end_mark = yaml.Mark(start.name, end, start.line, start.column, None, None)
        return yaml.ScalarNode(_PLAIN, self.text[start.index : end].rstrip(" \t\r\n"), start, end_mark)


def _source_text(source: str, value: str, start: Any, end: Any) -> SourceText:
    text = SourceText(value)
    written = source[start.index : end.index]
    text.mark, text.exact = _packed(start), written == value
    if not text.exact and written[1:-1] == value and written[:1] in ("'", '"'):  # quoted, no escapes
        text.mark, text.exact = TextMark(start.line, start.column + 1), True
    return text


_FALLBACK: Any = object()  # _EventBuilder's answer when the general path must read the document


class _Fallback(Exception):
    """Raised inside _EventBuilder where the general path must take over (to build or to report)."""


class _EventBuilder:
    """Values straight from the parser's events, for a document without anchors: the same values and marks as
    _Builder makes from the composed tree (tests/test_yaml_events.py compares them), at the memory of the values
    alone. Only the common forms are built here; on anything else `document` answers _FALLBACK."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.keys: dict[str, str] = {}

    def document(self) -> Any:
        loader = _Base(self.text)
        try:
            if type(loader.get_event()) is not yaml.StreamStartEvent:
                return _FALLBACK
            if type(loader.get_event()) is not yaml.DocumentStartEvent:
                return _FALLBACK  # no document: the general path says the spec is empty
            root = self.values(loader.get_event)
            if type(loader.get_event()) is not yaml.StreamEndEvent:
                return _FALLBACK  # a second document: an error
            return root
        except (_Fallback, yaml.YAMLError):
            return _FALLBACK
        finally:
            loader.dispose()

    def values(self, next_event: Any) -> Any:
        """The document's root value, its events read up to and including DocumentEndEvent."""
        # A stack of open collections: [collection, marks (key_marks or item_marks), value marks (a list) or None,
        # the key waiting for its value (or _FALLBACK), that key's mark, whether the collection is flow style].
        stack: list[list[Any]] = []
        top: list[Any] | None = None
        root: Any = _FALLBACK
        scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
        ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
        source_mark, column_bits, same_key = SourceMark, _COLUMN_BITS, self.keys.setdefault  # local: a hot loop
        while True:
            event = next_event()
            kind = type(event)
            if kind is scalar_event:
                value = event.value
                if event.tag is None and event.implicit[0] and value.isdigit() and len(value) < 20 and value.isascii():
                    value = int(value)  # core_scalar's common case, inline
                else:
                    value = self.scalar(event, top is not None and top[5])
                start = event.start_mark
                column = start.column  # _packed, inline: this runs for most values of a large spec
                mark = source_mark(start.line << 32 | column) if column <= column_bits else start
            elif kind is mapping_start or kind is sequence_start:
                if event.tag not in (None, "!", _MAP if kind is mapping_start else _SEQ):  # (no anchors: no '&')
                    raise _Fallback
                if len(stack) >= MAX_DEPTH:
                    raise _Fallback  # the general path measures the depth and reports it
                if kind is mapping_start:
                    collection: Any = YMap()
                    collection.key_marks = {}
                    top = [collection, collection.key_marks, [], _FALLBACK, None, event.flow_style]
                else:
                    collection = YList()
                    collection.item_marks = []
                    top = [collection, collection.item_marks, None, None, None, event.flow_style]
                collection.mark = _packed(event.start_mark)
                stack.append(top)
                continue
            elif kind in ends:
                closed = stack.pop()
                value = closed[0]
                if closed[2] is not None:
                    value._value_marks = _value_marks(value, closed[2])
                mark = value.mark
                top = stack[-1] if stack else None
            elif kind is yaml.DocumentEndEvent and top is None and root is not _FALLBACK:
                return root
            else:
                raise _Fallback  # an alias (undefined without anchors: an error), or events out of place
            if top is None:
                root = value
            elif top[2] is None:  # a sequence
                top[0].append(value)
                top[1].append(mark)
            elif top[3] is _FALLBACK:  # a mapping's key
                if type(value) is str:
                    value = same_key(value, value)
                elif isinstance(value, (list, dict)):
                    raise _Fallback
                if value == "<<" or value in top[0]:
                    raise _Fallback
                top[3], top[4] = value, mark
            else:  # that key's value
                key = top[3]
                top[0][key] = value
                top[1][key] = top[4]
                top[2].append(mark)
                top[3] = _FALLBACK

    def scalar(self, event: Any, in_flow: bool) -> Any:
        """What _Builder.scalar makes of a scalar without a tag (tagged ones are left to the general path)."""
        tag, value = event.tag, event.value
        if tag is not None and tag != "!":
            raise _Fallback
        if not event.implicit[0]:  # quoted (or '!'): text
            if "(" in value or "$" in value:
                return _source_text(self.text, value, event.start_mark, event.end_mark)
            return value
        if in_flow and "(" in value and value.count("(") > value.count(")"):
            raise _Fallback  # a tuple YAML split at its comma: _Builder joins it back
        try:
            resolved = core_scalar(value)
        except ValueError:
            raise _Fallback from None
        if type(resolved) is str and ("(" in resolved or "$" in resolved):
            return _source_text(self.text, value, event.start_mark, event.end_mark)
        return resolved


def _mark_of(value: Any, node: yaml.Node) -> Any:
    """Where `value`, built from `node`, starts: a collection's own mark (one object for both), else the node's."""
    return value.mark if type(value) in (YMap, YList) else _packed(node.start_mark)


def _opens(node: yaml.Node) -> bool:
    """A plain scalar with more '(' than ')': the first piece of a tuple YAML split at a comma."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != _PLAIN:
        return False
    value = node.value
    return "(" in value and value.count("(") > value.count(")")


def _shown(tag: str) -> str:
    """A tag as it is written: !!float for tag:yaml.org,2002:float."""
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _unsupported(tag: str, what: str) -> tuple[str, str]:
    """(message, hint) for a tag cnncalc does not read."""
    shown = _shown(tag)
    if shown in ("!!set", "!!omap", "!!pairs"):
        return f"the YAML tag {shown} is not used in specs", "write a plain list or mapping, without the tag"
    if shown in ("!!binary", "!!timestamp"):
        return f"the YAML tag {shown} has no meaning in a spec", f"remove {shown}; values are numbers, text or lists"
    if shown.startswith("!!"):
        return (
            f"unknown YAML tag {shown} on a {what}",
            "YAML 1.2's tags are !!str, !!int, !!float, !!bool, !!null, !!seq, !!map",
        )
    return f"unsupported YAML tag {shown} on a {what}", "cnncalc reads plain YAML: remove the tag"
