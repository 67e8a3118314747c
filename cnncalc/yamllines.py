"""A line reader for the common subset of block YAML that specs are written in, tried before libyaml's parser.

A large spec is mostly lines such as `  - conv2d: {out_channels: 16, kernel_size: 3, name: c1}`; reading them
with a regular expression per line costs a fraction of walking libyaml's events (about 10 of them per line, each a
Python object). The subset is small and strict, and anything outside it makes `read_lines` answer None, so that
cnncalc.yamlsource reads the whole document as before (errors, too, are always its to report):

- ASCII text without tabs, carriage returns or other control characters; lines end with '\\n';
- block mappings (`key: value`, `key:` with a nested block below) and block sequences (`- value`, `- key: value`
  whose further keys follow at the item's indentation + 2, an indentless `- ` sequence under its key), nested by
  indentation; blank lines, comment lines, and ` # comments` after a value;
- values that are plain scalars on one line (`ResNet-18 (2015)`; inside a flow collection `4 * $width`, but
  not `(7, 7)`, which YAML splits at its comma), quoted ones without escapes (`'0'`, `"max(1, $c)"`), or
  one-line flow collections of them (`[3, 3]`, `{inputs: [a, b], name: x}`, `{}`); keys are plain tokens
  (letters, digits, `_ $ . + - /`).

Whatever is read makes exactly what cnncalc.yamlsource's _EventBuilder makes: the same YMap, YList and scalar values
and types (YAML 1.2's core schema, by the same core_scalar), the same marks (`mark`, `key_marks`, `item_marks`,
`_value_marks`, a SourceText's `mark` and `exact`), the same interned keys (tests/test_yaml_lines.py compares them).
"""

from __future__ import annotations

import re
from typing import Any

from cnncalc.yamlvalues import _WORDS, SourceMark, SourceText, TextMark, YList, YMap, _value_marks, core_scalar

_TOKEN_TEXT = r"(?:[A-Za-z0-9_$.+/]|-(?=[A-Za-z0-9_$.+/]))[A-Za-z0-9_$.+/\-]*"  # a leading '-' is no '- ' entry
_TOKEN = re.compile(_TOKEN_TEXT)
# The start of a plain scalar written as a block value, `key: ResNet-18, as in the paper (2015)`: no indicator
# first (a leading '-' followed by a space is a sequence entry); the rest may hold spaces, but no ': ' or ' #'.
_BLOCK_PLAIN = re.compile(r"[A-Za-z0-9_$.+/(]|-[^ ]")
# A plain scalar inside a flow collection, `{out_channels: 4 * $width}`: it ends at ',', ']' or '}' (no ':' or
# '#' in it; one with an unclosed '(' is a tuple split at its comma, which the general path joins back).
_FLOW_PLAIN = re.compile(r"(?:[A-Za-z0-9_$.+/(]|-(?=[A-Za-z0-9_$.+/(]))[^,\[\]{}:#]*")
_KEY_LINE = re.compile(rf"({_TOKEN_TEXT}):(?: +(.*))?")  # `key: value` or `key:` (the line has no trailing space)
_CONTROLS = tuple(chr(code) for code in (*range(10), *range(11, 32), 127))  # tabs and CRs among them
_MAX_KEY = 1000  # YAML's implicit keys are at most 1024 characters: longer ones are an error, the general path's
_MAX_DEPTH = 50  # deeper nesting is left to the general path (which refuses more than MAX_DEPTH = 100 levels)
_MAX_FLOW_DEPTH = 10  # (flow collections nested in one another, within the block nesting)
# A flow mapping of `key: token` pairs written the usual way, one space after each ':' and ','; a value may be a
# flow sequence of tokens.
_FLAT_VALUE = rf"(?:{_TOKEN_TEXT}|\[(?:{_TOKEN_TEXT}(?:, {_TOKEN_TEXT})*)?\])"
_FLAT_MAP = re.compile(rf"\{{(?:{_TOKEN_TEXT}: {_FLAT_VALUE}(?:, {_TOKEN_TEXT}: {_FLAT_VALUE})*)?\}}")
_FLAT_PAIR = re.compile(rf"({_TOKEN_TEXT})(: )({_FLAT_VALUE})")  # as str.partition splits `key: value`
_TEXT_FIRST = frozenset("ABCDEGHIJKLMOPQRSUVWXYZabcdeghijklmopqrsuvwxyz_/")  # not n, t, f (null, true, false)
_QUOTED = re.compile(r"'[^']*'|\"[^\"\\]*\"")  # quoted, one line, no escapes (no '' or backslash in it)
_HOT_ITEM = re.compile(rf"({_TOKEN_TEXT}): ({_FLAT_MAP.pattern})")  # `kind: {...}` after a sequence entry's '- '


class _Outside(Exception):
    """The document leaves the subset: the general path reads it."""


def read_lines(text: str) -> Any:
    """The document's root mapping or sequence, or None when the document is not in the subset."""
    if not text.isascii() or any(control in text for control in _CONTROLS) or _has_marker(text):
        return None
    try:
        return _Reader().read(text)
    except (_Outside, IndexError):
        return None


class _Frame:
    """An open block collection: its indentation, the collection, and its marks (a mapping's key marks and its
    values' marks; a sequence's item marks)."""

    __slots__ = ("indent", "collection", "marks", "value_marks", "indentless")

    def __init__(self, indent: int, collection: Any, marks: Any, value_marks: Any, indentless: bool) -> None:
        self.indent = indent
        self.collection = collection
        self.marks = marks
        self.value_marks = value_marks  # None for a sequence
        self.indentless = indentless  # a sequence at its key's own indentation


class _Reader:
    """One document, read line by line: a stack of open block collections, each closed by a line indented less."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # one string per distinct key, as _EventBuilder keeps them
        self.hot: tuple[_Frame, YMap | None] | None = None  # the last item made by hot_run, and its sequence's frame

    def read(self, text: str) -> Any:
        stack: list[_Frame] = []
        root: Any = None
        pending: tuple[_Frame, Any, Any] | None = None  # (mapping, key, key mark) of a `key:` awaiting its block
        lines = text.split("\n")
        number, count = 0, len(lines)
        while number < count:
            line = lines[number]
            if "#" in line:
                line = _without_comment(line)
            line = line.rstrip(" ")
            if not line:
                number += 1
                continue
            body = line.lstrip(" ")
            indent = len(line) - len(body)
            entry = body.startswith("- ")
            if pending is not None:
                frame = self.nested(pending, indent, entry, number)
                stack.append(frame)
                pending = None
            elif root is None:
                frame = self.opened(indent, entry, number, False)
                root = frame.collection
                stack.append(frame)
            else:
                while stack and (
                    stack[-1].indent > indent or (stack[-1].indentless and stack[-1].indent == indent and not entry)
                ):
                    self.close(stack.pop())
                if not stack:
                    raise _Outside
                if stack[-1].indent != indent:
                    stack.append(self.reopened(stack[-1], indent))
                frame = stack[-1]
            if len(stack) > _MAX_DEPTH:
                raise _Outside
            if frame.value_marks is None:
                if not entry:
                    raise _Outside
                after = self.hot_run(lines, number, frame) if _HOT_ITEM.fullmatch(line, indent + 2) else number
                if after > number:  # (not when the line was written with a comment or trailing spaces)
                    number = after
                    continue
                pending = self.item(frame, line, indent + 2, number, stack)
            else:
                if entry:
                    raise _Outside
                pending = self.pair(frame, line, indent, number)
            number += 1
        if pending is not None or root is None:
            raise _Outside  # a `key:` with nothing below (null, at a place libyaml picks), or no document
        while stack:
            self.close(stack.pop())
        return root

    def hot_run(self, lines: list[str], number: int, frame: _Frame) -> int:
        """Items `- kind: {key: value, ...}` and `- kind` of `frame`'s sequence from line `number` on, as long as they
        come (the lines of a large spec), each made without a frame of its own; the number of the first line after
        them."""
        column = frame.indent + 2
        prefix, hot_item, flat_map, keys = lines[number][:column], _HOT_ITEM.fullmatch, self.flat_map, self.keys
        items, item_marks = frame.collection, frame.marks
        mapping = None
        for number in range(number, len(lines)):  # noqa: B020 (the number of the line after the run is returned)
            line = lines[number]
            if not line.startswith(prefix):
                break
            match = hot_item(line, column)
            if match is None:
                text = line[column:]
                if not text.isidentifier():  # `- relu`, a kind alone, is read here as item() reads it (ASCII text)
                    break
                mark = SourceMark(number << 32 | column)
                items.append(self.scalar(text, mark))
                item_marks.append(mark)
                mapping = None  # (no line may continue it: reopened refuses)
                continue
            key_start, value_start = match.start(1), match.start(2)
            value = flat_map(line, value_start, match.end(), number << 32)
            key_text = match.group(1)
            key = keys.get(key_text)
            mark = SourceMark(value.mark - value_start + key_start)  # the key's line and column
            if key is None:
                key = self.key(key_text, mark, {})
            mapping = YMap()
            mapping.mark, mapping.key_marks, mapping._value_marks = mark, {key: mark}, None  # (a mapping's value)
            mapping[key] = value
            items.append(mapping)
            item_marks.append(mark)
        else:
            number = len(lines)
        self.hot = (frame, mapping)
        return number

    def reopened(self, frame: _Frame, indent: int) -> _Frame:
        """The frame of the last item of `frame`'s sequence when it was a hot line and `indent` is its keys', as in
        `- kind: {...}` followed by `  name: x`; else the line is out of place (_Outside)."""
        if self.hot is None or self.hot[0] is not frame or frame.collection[-1] is not self.hot[1]:
            raise _Outside
        mapping = self.hot[1]
        if mapping.mark & 0xFFFFFFFF != indent:
            raise _Outside
        self.hot = None
        return _Frame(indent, mapping, mapping.key_marks, [value.mark for value in mapping.values()], False)

    def opened(self, indent: int, entry: bool, number: int, indentless: bool) -> _Frame:
        """A new block collection whose first line is `number`: a sequence if it starts with '- '."""
        mark = SourceMark(number << 32 | indent)
        if entry:
            items = YList()
            items.mark, items.item_marks = mark, []
            return _Frame(indent, items, items.item_marks, None, indentless)
        mapping = YMap()
        mapping.mark, mapping.key_marks = mark, {}
        return _Frame(indent, mapping, mapping.key_marks, [], False)

    def nested(self, pending: tuple[_Frame, Any, Any], indent: int, entry: bool, number: int) -> _Frame:
        """The block under a `key:`: indented further, or a sequence at the key's own indentation."""
        parent, key, key_mark = pending
        key_indent = key_mark & 0xFFFFFFFF
        if indent <= key_indent and not (entry and indent == key_indent):
            raise _Outside  # the key's value is null
        frame = self.opened(indent, entry, number, indent == key_indent)
        self.store(parent, key, key_mark, frame.collection, frame.collection.mark)
        return frame

    def close(self, frame: _Frame) -> None:
        if frame.value_marks is not None:
            frame.collection._value_marks = _value_marks(frame.collection, frame.value_marks)

    def item(self, frame: _Frame, line: str, column: int, number: int, stack: list[_Frame]) -> Any:
        """A `- ...` line of a sequence; the pending `key:` when the item is a mapping whose first value is below."""
        self.hot = None
        if line[column] == " " or line.startswith("-", column) and not _TOKEN.match(line, column):
            raise _Outside  # `-   x` or `- - x`: not in the subset
        if _KEY_LINE.match(line, column):
            mapping = self.opened(column, False, number, False)
            frame.collection.append(mapping.collection)
            frame.marks.append(mapping.collection.mark)
            stack.append(mapping)
            return self.pair(mapping, line, column, number)
        value, mark = self.value(line, column, number)
        frame.collection.append(value)
        frame.marks.append(mark)
        return None

    def pair(self, frame: _Frame, line: str, column: int, number: int) -> Any:
        """A `key: value` line of a mapping; the pending `key:` when the value is the block below."""
        match = _KEY_LINE.match(line, column)
        if match is None or match.end() != len(line):
            raise _Outside
        key_text = match.group(1)
        key_mark = SourceMark(number << 32 | column)
        key = self.key(key_text, key_mark, frame.collection)
        if match.group(2) is None:
            return frame, key, key_mark
        value, mark = self.value(line, match.start(2), number)
        self.store(frame, key, key_mark, value, mark)
        return None

    def key(self, text: str, mark: Any, mapping: YMap) -> Any:
        """The key written as `text` (interned when it is text), not yet in `mapping`."""
        if len(text) > _MAX_KEY:
            raise _Outside
        key = self.scalar(text, mark)
        if type(key) is str:
            key = self.keys.setdefault(key, key)
        if key in mapping:
            raise _Outside  # a duplicate key: the general path says so
        return key

    @staticmethod
    def store(frame: _Frame, key: Any, key_mark: Any, value: Any, mark: Any) -> None:
        frame.collection[key] = value
        frame.marks[key] = key_mark
        frame.value_marks.append(mark)

    def value(self, line: str, column: int, number: int) -> tuple[Any, Any]:
        """The value that takes the rest of `line` from `column`, and its mark."""
        first = line[column]
        if first == "{" or first == "[":
            value, end = self.flow(line, column, number, 1)
            if end != len(line):
                raise _Outside
            return value, value.mark  # one mark object for both, as _EventBuilder keeps it
        if first == "'" or first == '"':
            quoted = _QUOTED.match(line, column)
            if quoted is None or quoted.end() != len(line):
                raise _Outside
            return _quoted(quoted.group(), number, column), SourceMark(number << 32 | column)
        text = line[column:]
        if not _BLOCK_PLAIN.match(text) or ": " in text or " #" in text or text[-1] == ":":
            raise _Outside
        mark = SourceMark(number << 32 | column)
        return self.scalar(text, mark), mark

    @staticmethod
    def scalar(text: str, mark: Any) -> Any:
        """A plain scalar as _EventBuilder.scalar resolves it (one line, no escapes: its text is its source)."""
        if text.isdigit() and len(text) < 20:
            return int(text)
        try:
            value = core_scalar(text)
        except ValueError:
            raise _Outside from None  # too many digits: the general path refuses it
        if type(value) is str and ("$" in value or "(" in value):
            value = SourceText(text)
            value.mark, value.exact = mark, True
        return value

    def flow(self, line: str, column: int, number: int, depth: int) -> tuple[Any, int]:
        """The flow collection that starts at `column` of `line`, and the column after it."""
        if depth > _MAX_FLOW_DEPTH:
            raise _Outside
        line_mark = number << 32
        if line[column] == "{":
            flat = _FLAT_MAP.match(line, column)
            if flat is not None:
                return self.flat_map(line, column, flat.end(), line_mark), flat.end()
            return self.flow_map(line, column, line_mark, number, depth)
        items = YList()
        items.mark, items.item_marks = SourceMark(line_mark | column), []
        position = _skip(line, column + 1)
        if line[position] == "]":
            return items, position + 1
        while True:
            value, mark, position = self.flow_value(line, position, line_mark, number, depth)
            items.append(value)
            items.item_marks.append(mark)
            position = _skip(line, position)
            if line[position] == "]":
                return items, position + 1
            if line[position] != ",":
                raise _Outside  # `[a: 1]` or a stray character
            position = _skip(line, position + 1)

    def flow_map(self, line: str, column: int, line_mark: int, number: int, depth: int) -> tuple[YMap, int]:
        mapping = YMap()
        mapping.mark, mapping.key_marks = SourceMark(line_mark | column), {}
        marks: list[Any] = []
        position = _skip(line, column + 1)
        if line[position] != "}":
            while True:
                match = _TOKEN.match(line, position)
                if match is None or not line.startswith(": ", match.end()):
                    raise _Outside
                key_mark = SourceMark(line_mark | position)
                key = self.key(match.group(), key_mark, mapping)
                value, mark, position = self.flow_value(line, _skip(line, match.end() + 2), line_mark, number, depth)
                mapping[key] = value
                mapping.key_marks[key] = key_mark
                marks.append(mark)
                position = _skip(line, position)
                if line[position] == "}":
                    break
                if line[position] != ",":
                    raise _Outside
                position = _skip(line, position + 1)
        mapping._value_marks = _value_marks(mapping, marks)
        return mapping, position + 1

    def flow_value(self, line: str, position: int, line_mark: int, number: int, depth: int) -> tuple[Any, Any, int]:
        """A value inside a flow collection: its value, mark and the column after it."""
        if line[position] in "{[":
            value, end = self.flow(line, position, number, depth + 1)
            return value, value.mark, end
        if line[position] in "'\"":
            quoted = _QUOTED.match(line, position)
            if quoted is None:
                raise _Outside
            return _quoted(quoted.group(), number, position), SourceMark(line_mark | position), quoted.end()
        match = _FLOW_PLAIN.match(line, position)
        if match is None:
            raise _Outside  # an empty value, a trailing comma...
        text = match.group().rstrip(" ")
        if "(" in text and text.count("(") > text.count(")"):
            raise _Outside
        mark = SourceMark(line_mark | position)
        return self.scalar(text, mark), mark, position + len(text)

    def flat_map(self, line: str, start: int, end: int, line_mark: int) -> YMap:
        """A flow mapping that _FLAT_MAP matched: its pairs are split by one regular expression, their columns
        follow from the lengths of the texts (one space after each ':' and ',')."""
        mapping = YMap()
        mapping.mark, key_marks, value_marks = SourceMark(line_mark | start), {}, {}
        mapping.key_marks = key_marks
        column = start + 1
        keys, scalar, only_lists = self.keys, self.scalar, True
        inner = line[start + 1 : end - 1]
        if "[" in inner:  # a list's items are separated by ', ' too
            pairs = _FLAT_PAIR.findall(line, start, end)
        else:  # (splitting is cheaper than a regular expression)
            pairs = [pair.partition(": ") for pair in inner.split(", ")] if inner else []
        for key_text, _, value_text in pairs:
            key = keys.get(key_text)
            if key is None:
                key = self.key(key_text, SourceMark(line_mark | column), mapping)
            elif key in mapping:
                raise _Outside  # a duplicate key
            key_marks[key] = SourceMark(line_mark | column)
            column += len(key_text) + 2
            first = value_text[0]
            if first == "[":
                value = self.flat_list(value_text, column, line_mark)
                value_marks[key] = value.mark
            else:
                only_lists = False
                mark = value_marks[key] = SourceMark(line_mark | column)
                if first in _TEXT_FIRST and "$" not in value_text:
                    value = value_text  # text by the core schema (no null, bool or number starts so)
                elif value_text.isdigit() and len(value_text) < 20:
                    value = int(value_text)
                elif value_text in _WORDS:
                    value = _WORDS[value_text]
                else:
                    value = scalar(value_text, mark)
            mapping[key] = value
            column += len(value_text) + 2
        mapping._value_marks = None if only_lists else value_marks
        return mapping

    def flat_list(self, text: str, column: int, line_mark: int) -> YList:
        items = YList()
        items.mark, items.item_marks = SourceMark(line_mark | column), []
        if text != "[]":
            column += 1
            for item in text[1:-1].split(", "):
                mark = SourceMark(line_mark | column)
                items.append(self.scalar(item, mark))
                items.item_marks.append(mark)
                column += len(item) + 2
        return items


def _quoted(written: str, number: int, column: int) -> Any:
    """A quoted scalar without escapes (written with its quotes at `column` of line `number`): text, a SourceText
    whose place is its first character inside the quotes when it holds '(' or '$'."""
    value = written[1:-1]
    if "(" in value or "$" in value:
        value = SourceText(value)
        value.mark, value.exact = TextMark(number, column + 1), True
    return value


def _has_marker(text: str) -> bool:
    """Whether a line starts with '---' or '...' (a document's start or end, or a line outside the subset)."""
    return text.startswith(("---", "...")) or "\n---" in text or "\n..." in text


def _skip(line: str, position: int) -> int:
    """The first column from `position` that is not a space."""
    while line[position] == " ":
        position += 1
    return position


def _without_comment(line: str) -> str:
    """The line without its comment: a '#' at the line's start or after a space begins one (a token holds no quote,
    so no '#' is inside a quoted scalar); a '#' elsewhere is kept, and leaves the subset as no token holds it."""
    start = line.find("#")
    if start == 0 or line[start - 1] == " ":
        return line[:start]
    return line
