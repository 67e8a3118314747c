"""Spec loading: YAML text -> expanded layer graph with inferred shapes.

The basic form is docs/design.md's: `input`, `layers` (a kind name or a one-key mapping `kind: {arguments}`),
reserved argument keys `name` and `inputs`, and `batch`. On top of it, reusable blocks:

    blocks:
      bottleneck:                       # a block: parameters with defaults (null = required) and layers
        params: {width: null, out: null, stride: 1}
        layers:
          - conv2d: {out_channels: $width, kernel_size: 1, bias: false}
          ...
    layers:
      - bottleneck: {width: 64, out: 256, repeat: 3, name: layer1}

A block is used like a layer kind; `$param` values are substituted (whole values only: no expressions, nothing
evaluated). Inside a block, `input` is the block's input and names are local; outside, the block's name stands
for its last layer and `name.local` reaches inside. `repeat: N` (any entry) chains N copies named name.0 ...
name.N-1, like torchvision's layer1.0. `trainable: false` freezes a layer's parameters.

Names are PyTorch's module paths (cnncalc.names), so a flat spec may name its layers as torchvision does
(`layer1.0.conv1`). Every layer, block use and repeat has a full name (the prefix of the block uses it sits in,
then its own name), and full names are unique across the network: a layer named `layer1.0.conv1` and a block use
`layer1` that makes one are a duplicate, reported at the second. `inputs` look a name up by its full name under
the current block's prefix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

from cnncalc.args import describe, did_you_mean, is_int, python_form
from cnncalc.errors import CnncalcError, LayerError, SpecError
from cnncalc.graph import NETWORK_INPUT, Graph, Group, Node, infer_shapes, topological_order
from cnncalc.layers import REGISTRY, lookup
from cnncalc.layers.base import Layer
from cnncalc.layers.registry import suggest_kind
from cnncalc.layout import LAYOUTS, to_chw
from cnncalc.names import BLOCK_RULE, RULE, canonical, is_block_name, is_layer_name
from cnncalc.speed import paused_gc
from cnncalc.yamlsource import YList, YMap, at, load_yaml

TOP_KEYS = ("name", "description", "input", "layout", "batch", "limits", "ignore", "blocks", "layers")
RESERVED = ("name", "inputs", "repeat", "trainable", "weights", "ignore")
BLOCK_KEYS = ("params", "layers", "description")
MAX_NODES = 2_000_000  # an expanded network larger than this is almost surely a runaway `repeat`


def read_spec_text(path: str) -> tuple[str, str]:
    """The spec's text and the name to show for it; '-' reads standard input."""
    if path == "-":
        import sys

        return sys.stdin.read(), "<stdin>"
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8"), path
    except FileNotFoundError:
        raise SpecError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a directory, not a spec file") from None
    except UnicodeDecodeError as error:
        raise SpecError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror}") from None


def load_spec(path: str, batch: int | None = None, input_shape: tuple[int, ...] | None = None) -> Graph:
    """Read, expand and shape-check the spec at `path` ('-' for standard input)."""
    text, file = read_spec_text(path)
    return parse_spec(text, file, batch=batch, input_shape=input_shape)


def parse_spec(
    text: str, file: str = "<spec>", batch: int | None = None, input_shape: tuple[int, ...] | None = None
) -> Graph:
    """Expand and shape-check a spec; `batch` and `input_shape` (one sample) override the spec's own."""
    with paused_gc():
        return graph_from_document(load_yaml(text, file), file, batch, input_shape)


def graph_from_document(
    document: Any, file: str, batch: int | None = None, input_shape: tuple[int, ...] | None = None
) -> Graph:
    """parse_spec after the YAML is loaded (`cnncalc check` looks at the document first)."""
    graph = _Expander(file).network(document)
    if batch is not None:
        graph.batch = batch
        graph.batch_given = True
    if input_shape is not None:
        graph.input_shape = input_shape
    infer_shapes(graph)
    return graph


class Entry(NamedTuple):
    """One layer entry as written, reserved keys taken out: what `place` needs for each copy of it."""

    block: Block | None
    cls: type[Layer] | None  # None for a block use
    args: dict[str, Any]
    marks: dict[str, Any]  # where each argument's value was written
    key_marks: dict[str, Any]  # where each argument's name was written
    mark: Any  # where the entry starts
    trainable: bool
    values: Any  # `weights`
    ignore: Any  # `ignore`, as written


class Block(NamedTuple):
    name: str
    params: dict[str, Any]  # name -> default (REQUIRED_PARAM when none)
    layers: YList
    mark: Any


REQUIRED_PARAM = object()


class CallerName(str):
    """Text passed to a block parameter; if it is used in `inputs`, it names a layer of the scope it was written in."""

    scope: _Scope

    def __new__(cls, text: str, scope: _Scope) -> CallerName:
        made = super().__new__(cls, text)
        made.scope = scope
        return made


Ref = tuple[tuple["_Scope", str], Any]  # ((scope, name as written), mark): an `inputs` entry awaiting resolution


class _Scope:
    """Names visible to `inputs` in one list of layers: the network's or one block instance's."""

    def __init__(
        self,
        prefix: str,
        input_ref: tuple[_Scope, str, Any] | None,
        params: dict[str, tuple[Any, Any]],
        block: str | None,
        expanded_from: tuple[tuple[str, Any], ...],
    ) -> None:
        self.prefix = prefix  # full-name prefix, "" at the top
        self.input_ref = input_ref  # what `input` means here; None at the top (the network input)
        self.params = params  # block parameters: name -> (value, mark of the value)
        self.block = block  # the block being expanded, for messages
        self.expanded_from = expanded_from
        self.counters: dict[str, int] = {}
        self.last: str | None = None  # local name of the last entry: the scope's output
        self.first_position = 0  # the positions of its first and last layers, once expanded (graph.Group)
        self.last_position = 0
        self.what = block or ""  # the block used or the kind repeated, for graph.Group

    def default_name(self, kind: str) -> str:
        count = self.counters.get(kind, 0) + 1
        self.counters[kind] = count
        return f"{kind}_{count}"


# What a full name names, where its name (or, unnamed, its kind) is written, and the top-level entry it comes
# from: (where that entry's name or kind is written, its kind or block). A plain tuple: one per layer.
_Made = tuple[Node | _Scope, Any, tuple[Any, str]]


class _Expander:
    def __init__(self, file: str) -> None:
        self.file = file
        self.blocks: dict[str, Block] = {}
        self.nodes: list[Node] = []
        self.pending: list[tuple[Node, list[Ref]]] = []  # inputs are resolved once every name exists
        self.active_blocks: list[str] = []
        self.shape: tuple[int, ...] = ()  # the network's input shape, for did-you-mean's input rank
        self.made: dict[str, _Made] = {}  # every full name: layers, block uses, repeats
        self.scopes: list[tuple[str, _Scope]] = []  # block uses and repeats, by full name
        self.top: tuple[Any, str] = (None, "")  # the top-level entry being expanded

    def error(self, message: str, mark: Any, hint: str | None = None, layer: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=layer)

    # -- the top level --------------------------------------------------------------------------------------

    def network(self, document: Any) -> Graph:
        if not isinstance(document, YMap):
            mark = getattr(document, "mark", None)
            raise SpecError(
                "a spec is a mapping with at least 'input' and 'layers'",
                location=at(self.file, mark) if mark else None,
                hint="see specs/lenet5.yaml for the form",
            )
        for key in document:
            if key not in TOP_KEYS:
                raise self.error(
                    f"unknown top-level key '{key}' (valid: {', '.join(TOP_KEYS)})",
                    document.key_marks[key],
                    hint=did_you_mean(str(key), TOP_KEYS),
                )
        for key in ("input", "layers"):
            if key not in document:
                raise self.error(f"the spec has no '{key}'", document.mark, hint=_TOP_HINTS[key])
        name = document.get("name", Path(self.file).stem if self.file != "<stdin>" else "network")
        if not isinstance(name, str):
            raise self.error(f"name: expected text, got {describe(name)}", document.value_marks["name"])
        layout = document.get("layout", "chw")
        if layout not in LAYOUTS:
            raise self.error(
                f"layout: expected one of {', '.join(LAYOUTS)}, got {describe(layout)}",
                document.value_marks["layout"],
                hint="chw: input: [C, H, W] (PyTorch's order); hwc: input: [H, W, C]",
            )
        input_shape = to_chw(self.input_shape(document["input"], document.value_marks["input"]), layout)
        self.shape = input_shape
        batch = document.get("batch", 1)
        if not is_int(batch) or batch < 1:
            raise self.error(
                f"batch: expected a positive integer, got {describe(batch)}", document.value_marks["batch"]
            )
        self.read_blocks(document.get("blocks"), document.value_marks.get("blocks"))
        layers = document["layers"]
        top = _Scope("", None, {}, None, ())
        self.expand_list(layers, document.value_marks["layers"], top)
        if not self.nodes:
            raise self.error("the network has no layers", document.value_marks["layers"])
        for node, refs in self.pending:
            node.inputs = [self.resolve(scope, ref, mark, node) for (scope, ref), mark in refs]
        output = self.nodes[-1].name
        nodes = topological_order(self.nodes, self.file)
        graph = Graph(name, self.file, input_shape, batch, nodes, output)
        graph.groups = self.groups()
        graph.layout = layout
        graph.batch_given = "batch" in document
        if "limits" in document:
            from cnncalc.limits import parse_limits

            graph.limits = parse_limits(document["limits"], document.value_marks["limits"], self.file)
        if "ignore" in document:
            graph.ignore = self.rule_names(document["ignore"], document.value_marks["ignore"])
        for node in self.nodes:
            if not isinstance(node.ignore, tuple):  # written in the spec (a name or a list), not the default ()
                node.ignore = self.rule_names(node.ignore, node.arg_marks["ignore"], node.label())
        return graph

    def rule_names(self, value: Any, mark: Any, layer: str | None = None) -> frozenset[str]:
        """Lint rules to silence, by id or name (`ignore: [bias-before-norm]`), checked against the rules."""
        from cnncalc.lint import RULES_BY_KEY

        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise self.error(
                f"ignore: expected a lint rule or a list of them, got {describe(value)}",
                mark,
                hint="for example ignore: [bias-before-norm]; `cnncalc lint --rules` lists them",
                layer=layer,
            )
        item_marks = getattr(names, "item_marks", [mark] * len(names))
        for name, item_mark in zip(names, item_marks, strict=True):
            if name.lower() not in RULES_BY_KEY:
                raise self.error(
                    f"ignore: no lint rule '{name}'",
                    item_mark,
                    hint=did_you_mean(name, [r.name for r in RULES_BY_KEY.values()])
                    or "`cnncalc lint --rules` lists the rules",
                    layer=layer,
                )
        return frozenset(RULES_BY_KEY[n.lower()].id for n in names)

    def input_shape(self, value: Any, mark: Any) -> tuple[int, ...]:
        value = python_form(value)  # (3, 224, 224), as PyTorch prints a shape
        if isinstance(value, str):
            parts = [p.strip() for p in re.split(r"[x,]", value)]
            value = [int(p) if re.fullmatch("[0-9]+", p) else p for p in parts]
        if not isinstance(value, list) or not value or not all(is_int(v) and v > 0 for v in value):
            raise self.error(
                f"input: expected the shape of one sample as a list of positive integers, got {describe(value)}",
                mark,
                hint="for example [3, 224, 224] (C, H, W) or '3x224x224'",
            )
        return tuple(value)

    def read_blocks(self, blocks: Any, mark: Any) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, YMap):
            raise self.error("blocks: expected a mapping of block names to {params, layers}", mark)
        for name, body in blocks.items():
            where = blocks.key_marks[name]
            if not is_block_name(name):
                raise self.error(f"block name {describe(name)} is not a plain name", where, hint=BLOCK_RULE)
            if name.lower() in REGISTRY:
                raise self.error(f"block '{name}' has the name of a layer kind", where, hint="rename the block")
            if not isinstance(body, YMap):
                raise self.error(f"block '{name}': expected a mapping with 'params' and 'layers'", where)
            for key in body:
                if key not in BLOCK_KEYS:
                    raise self.error(
                        f"block '{name}': unknown key '{key}' (valid: {', '.join(BLOCK_KEYS)})",
                        body.key_marks[key],
                        hint=did_you_mean(str(key), BLOCK_KEYS),
                    )
            params = body.get("params") or {}
            if not isinstance(params, dict):
                raise self.error(
                    f"block '{name}': params must be a mapping of name: default", body.value_marks["params"]
                )
            for param in params:
                if not isinstance(param, str) or param in RESERVED:
                    raise self.error(
                        f"block '{name}': {describe(param)} cannot be a parameter name"
                        + (" (it is reserved)" if param in RESERVED else ""),
                        params.key_marks[param],
                    )
            layers = body.get("layers")
            if not isinstance(layers, YList) or not layers:
                raise self.error(
                    f"block '{name}': expected a non-empty list of layers", body.value_marks.get("layers", where)
                )
            defaults = {p: (REQUIRED_PARAM if v is None else v) for p, v in params.items()}
            name = canonical(name)
            if name in self.blocks:
                raise self.error(f"duplicate block name '{name}'", where)
            self.blocks[name] = Block(name, defaults, layers, where)

    # -- expansion ------------------------------------------------------------------------------------------

    def expand_list(self, layers: Any, mark: Any, scope: _Scope) -> None:
        if not isinstance(layers, YList):
            raise self.error("layers: expected a list of layers", mark, hint="each item: '- relu' or '- conv2d: {...}'")
        for item, item_mark in zip(layers, layers.item_marks, strict=True):
            self.expand_entry(item, item_mark, scope)

    def split_entry(self, item: Any, mark: Any) -> tuple[str, YMap | dict[str, Any], Any]:
        """(kind or block name, arguments, where the kind is written)."""
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

    def expand_entry(self, item: Any, mark: Any, scope: _Scope) -> None:
        kind, raw, kind_mark = self.split_entry(item, mark)
        args, marks = self.substitute(raw, scope)
        repeat = args.pop("repeat", 1)
        if not is_int(repeat) or repeat < 1:
            raise self.error(f"repeat: expected a positive integer, got {describe(repeat)}", marks["repeat"])
        name = args.pop("name", None)
        if name is not None:
            name = self.layer_name(name, marks["name"])
        inputs = self.input_refs(args.pop("inputs", None), marks, scope)
        if inputs is None:  # default: the previous entry of the scope, or the scope's input
            inputs = [((scope, scope.last or NETWORK_INPUT), mark)]
        trainable = args.pop("trainable", True)
        if not isinstance(trainable, bool):
            raise self.error(f"trainable: expected true or false, got {describe(trainable)}", marks["trainable"])
        values = args.pop("weights", None)  # parameter values for the executor, by state_dict name
        ignore = args.pop("ignore", None)  # lint rules silenced here; checked once the network is built
        block = self.blocks.get(kind if kind.isascii() else canonical(kind))
        if values is not None and (block is not None or not isinstance(values, dict)):
            raise self.error(
                "weights: expected a mapping of state_dict names to nested lists, on a single layer",
                marks["weights"],
                hint="for example weights: {weight: [[[[0, 1, 0], [1, 0, 1], [0, 1, 0]]]], bias: [0]}",
            )
        if block is None:
            try:
                cls = lookup(kind)
            except LayerError as error:
                hint = suggest_kind(kind, self.input_rank(inputs)) or error.hint
                close = did_you_mean(kind, list(self.blocks))
                raise self.error(error.message, kind_mark, hint=close or hint) from None
        local = name or scope.default_name(block.name if block else cls.kind.lower())
        where = marks.get("name", kind_mark)
        if not scope.expanded_from:
            self.top = (where, block.name if block else cls.kind)
        key_marks = getattr(raw, "key_marks", {})
        entry = Entry(block, None if block else cls, args, marks, key_marks, mark, trainable, values, ignore)
        # Count before building: `repeat: 1000000000` is refused at once, not after 2 million layers.
        size = repeat * (1 if block is None else _block_size(block, args, self.blocks, {}, ()))
        if len(self.nodes) + size > MAX_NODES:
            raise self.error(
                f"the network expands to at least {len(self.nodes) + size:,} layers; cnncalc builds at most "
                f"{MAX_NODES:,}",
                marks.get("repeat", mark),
                hint="a smaller repeat" if repeat > 1 else None,
            )
        if "repeat" in marks:  # copies named name.0 ... name.N-1, even one (torchvision's layer4.0 of one block)
            container = _Scope(scope.prefix + local + ".", scope.input_ref, {}, scope.block, scope.expanded_from)
            container.what = block.name if block else cls.kind
            self.claim(scope.prefix + local, container, where)
            self.scopes.append((scope.prefix + local, container))
            container.first_position = len(self.nodes) + 1
            previous = inputs
            for index in range(repeat):
                self.place(str(index), entry, previous, container, scope, where)
                previous = [((container, str(index)), mark)]
            container.last = str(repeat - 1)
            container.last_position = len(self.nodes)
        else:
            self.place(local, entry, inputs, scope, scope, where)
        scope.last = local

    def layer_name(self, name: Any, mark: Any) -> str:
        """A `name:` value checked against the naming rule, in its canonical form."""
        if not is_layer_name(name) or name == NETWORK_INPUT:
            quote = f" (write name: '{name}': quoted, a number is text)" if is_int(name) and name >= 0 else ""
            raise self.error(
                f"name: {describe(name)} is not a valid layer name{quote}",
                mark,
                hint=f"{RULE}; 'input' is reserved for the network's input",
            )
        return canonical(name)

    def claim(self, full: str, what: Node | _Scope, where: Any) -> None:
        """Record a full name; a name already taken is a duplicate, reported where the second one is written."""
        first = self.made.get(full)
        if first is None:
            self.made[full] = (what, where, self.top)
            return
        first_what, first_mark, first_top = first
        noun = "layer" if isinstance(what, Node) else "block use"
        if first_top == self.top:  # both in what one top-level entry expands to: point inside it
            location, note = where, self.expansion_note(what)
        else:  # a block use making a name an earlier entry took: point at the use
            location, note = self.top[0], None
            if where is not self.top[0]:
                note = f"block '{self.top[1]}' used here makes a {noun} named '{full}'"
        earlier = "a layer" if isinstance(first_what, Node) else "a block use"
        if first_mark is first_top[0] or first_top == self.top:
            said = f"{earlier} at line {first_mark.line + 1} has this name"
        else:
            said = f"block '{first_top[1]}' used at line {first_top[0].line + 1} made {earlier} of this name"
        raise SpecError(
            f"duplicate {noun} name '{full}': {said}",
            location=at(self.file, location),
            hint="every layer, block use and repeat needs its own full name (block uses prefix their layers' names)",
            note=note,
        )

    def expansion_note(self, what: Node | _Scope) -> str | None:
        uses = what.expanded_from
        if not uses:
            return None
        return "expanded from " + ", ".join(f"block '{b}' used at line {m.line + 1}" for b, m in uses)

    def place(self, local: str, entry: Entry, inputs: list[Ref], scope: _Scope, outer: _Scope, where: Any) -> None:
        """Add one layer or one block instance named `local` to `scope`; `outer` resolves its input refs; `where`
        is where its name (or kind) is written."""
        block, cls, args, marks, key_marks, mark, trainable, values, ignore = entry
        if block is None:
            assert cls is not None
            node = Node(
                name=scope.prefix + local,
                cls=cls,
                arguments=args,
                mark=mark,
                arg_marks=marks,
                position=len(self.nodes) + 1,
                trainable=trainable,
                expanded_from=scope.expanded_from,
                values=values,
                key_marks=key_marks,
            )
            if ignore is not None:
                node.ignore = ignore
            if len(self.nodes) >= MAX_NODES:
                raise self.error(f"the network expands to more than {MAX_NODES:,} layers", mark)
            if node.name in self.made:
                self.claim(node.name, node, where)  # a duplicate: reported there
            self.made[node.name] = (node, where, self.top)
            self.nodes.append(node)
            self.pending.append((node, inputs))
            scope.last = local
            return
        if block.name in self.active_blocks:
            raise self.error(
                f"block '{block.name}' uses itself", mark, hint=" -> ".join(self.active_blocks + [block.name])
            )
        if len(inputs) != 1:
            raise self.error(f"block '{block.name}' takes one input, got {len(inputs)}", marks.get("inputs", mark))
        params = self.block_params(block, args, marks, key_marks, mark, outer)
        (ref_scope, ref_name), ref_mark = inputs[0]
        inner = _Scope(
            prefix=scope.prefix + local + ".",
            input_ref=(ref_scope, ref_name, ref_mark),
            params=params,
            block=block.name,
            expanded_from=scope.expanded_from + ((block.name, mark),),
        )
        self.claim(scope.prefix + local, inner, where)
        self.scopes.append((scope.prefix + local, inner))
        scope.last = local
        inner.first_position = len(self.nodes) + 1
        self.active_blocks.append(block.name)
        try:
            self.expand_list(block.layers, block.mark, inner)
        finally:
            self.active_blocks.pop()
        inner.last_position = len(self.nodes)
        if not trainable or ignore is not None:
            # The layers expanded just now (not every name under the prefix: a flat layer may be named layer1.x).
            for node in self.nodes[inner.first_position - 1 :]:
                node.trainable = node.trainable and trainable
                if ignore is not None:  # the block's layers are silenced too (both lists are checked later)
                    node.ignore = _joined(node.ignore, ignore)
                    node.arg_marks.setdefault("ignore", marks["ignore"])

    def block_params(
        self,
        block: Block,
        args: dict[str, Any],
        marks: dict[str, Any],
        key_marks: dict[str, Any],
        mark: Any,
        caller: _Scope,
    ) -> dict[str, tuple[Any, Any]]:
        values: dict[str, tuple[Any, Any]] = {}
        for key, value in args.items():
            if key not in block.params:
                valid = ", ".join(block.params) or "none"
                raise self.error(
                    f"block '{block.name}' has no parameter '{key}' (its parameters: {valid})",
                    key_marks.get(key, mark),
                    hint=did_you_mean(key, list(block.params)),
                )
            if isinstance(value, str) and not isinstance(value, CallerName):
                value = CallerName(value, caller)
            values[key] = (value, marks.get(key, mark))
        for key, default in block.params.items():
            if key not in values:
                if default is REQUIRED_PARAM:
                    raise self.error(f"block '{block.name}' needs the parameter '{key}'", mark)
                values[key] = (default, block.mark)
        return values

    def substitute(self, raw: YMap | dict[str, Any], scope: _Scope) -> tuple[dict[str, Any], dict[str, Any]]:
        """Arguments with `$param` values replaced, and where each value was written (the use site for params)."""
        value_marks = getattr(raw, "value_marks", {})
        args: dict[str, Any] = {}
        marks: dict[str, Any] = {}
        for key, value in raw.items():
            if not isinstance(key, str):
                raise self.error(f"an argument name must be text, got {describe(key)}", raw.key_marks[key])
            mark = value_marks.get(key)
            args[key], marks[key] = self.substitute_value(value, mark, scope)
        return args, marks

    def substitute_value(self, value: Any, mark: Any, scope: _Scope) -> tuple[Any, Any]:
        if isinstance(value, str) and value.startswith("$"):
            param = value[1:]
            if param not in scope.params:
                where = f"block '{scope.block}'" if scope.block else "the top level (parameters exist only in blocks)"
                valid = ", ".join(f"${p}" for p in scope.params)
                raise self.error(
                    f"unknown parameter {value} in {where}" + (f" (its parameters: {valid})" if valid else ""),
                    mark,
                    hint=did_you_mean(param, list(scope.params)),
                )
            return scope.params[param]
        if isinstance(value, list):
            item_marks = getattr(value, "item_marks", [mark] * len(value))
            items = YList(self.substitute_value(v, m, scope)[0] for v, m in zip(value, item_marks, strict=True))
            items.mark, items.item_marks = mark, item_marks
            return items, mark
        return value, mark

    def input_refs(self, value: Any, marks: dict[str, Any], scope: _Scope) -> list[Ref] | None:
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
        return [((getattr(n, "scope", scope), str(n)), m) for n, m in zip(names, item_marks, strict=True)]

    def input_rank(self, inputs: list[Ref]) -> int | None:
        """Best effort, for did-you-mean only: the rank of an entry's first input, from the layers built so far
        (None where that cannot be told: a forward reference, an error in an earlier layer)."""
        shapes: dict[str, tuple[int, ...]] = {NETWORK_INPUT: self.shape}
        try:
            for node, refs in self.pending:
                names = [self.resolve(scope, ref, mark, node) for (scope, ref), mark in refs]
                shapes[node.name] = node.cls(node.arguments, tuple(shapes[n] for n in names)).out_shape
            (scope, ref), mark = inputs[0]
            return len(shapes[self.resolve(scope, ref, mark, self.pending[-1][0] if self.pending else None)])
        except (CnncalcError, KeyError, AttributeError):
            return None

    # -- name resolution ------------------------------------------------------------------------------------

    def resolve(self, scope: _Scope, ref: str, mark: Any, node: Node) -> str:
        """The layer an `inputs` entry names: a layer's full name under the scope's prefix, `input`, or a block
        use or repeat, which stands for its last layer."""
        seen: set[tuple[int, str]] = set()
        current, name = scope, ref if ref.isascii() else canonical(ref)
        while True:
            if (id(current), name) in seen:
                raise self.error(f"the name '{ref}' refers to itself", mark, layer=node.label())
            seen.add((id(current), name))
            if name == NETWORK_INPUT:
                if current.input_ref is None:
                    return NETWORK_INPUT
                current, name, mark = current.input_ref
                continue
            made = self.made.get(current.prefix + name)
            if made is None:
                raise self.unknown_input(current, name, ref, mark, node)
            what = made[0]
            if isinstance(what, Node):
                return what.name
            current, name = what, str(what.last)

    def unknown_input(self, scope: _Scope, name: str, ref: str, mark: Any, node: Node) -> SpecError:
        """No layer of that name in the scope: say so, with the closest layer or block name there."""
        visible = [full[len(scope.prefix) :] for full in self.made if full.startswith(scope.prefix)]
        hint = did_you_mean(name, [*visible, NETWORK_INPUT])
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):  # `conv1.x` where conv1 is a layer: it has nothing inside
            made = self.made.get(scope.prefix + ".".join(parts[:end]))
            if hint is None and made is not None and isinstance(made[0], Node):
                hint = f"'{'.'.join(parts[:end])}' is a layer, not a block use: nothing is inside it"
        return self.error(
            f"inputs: no layer named '{ref}'" + (f" in block '{scope.block}'" if scope.block else ""),
            mark,
            layer=node.label(),
            hint=hint or "names are the layers' 'name' or kind_N defaults, like conv2d_1",
        )

    def groups(self) -> dict[str, Group]:
        """Every block use and repeat, as graph.Group: what `explain --layer NAME` selects."""
        groups: dict[str, Group] = {}
        for full, scope in self.scopes:
            if scope.last_position >= scope.first_position > 0:
                output: Node | _Scope = scope
                while isinstance(output, _Scope):
                    output = self.made[output.prefix + str(output.last)][0]
                groups[full] = Group(scope.what, output.name, scope.first_position, scope.last_position)
        return groups


_TOP_HINTS = {
    "input": "add 'input: [C, H, W]', the shape of one sample, e.g. [3, 224, 224]",
    "layers": "add 'layers:' with a list of layers, e.g. '- conv2d: {out_channels: 16, kernel_size: 3}'",
}


def _joined(first: Any, second: Any) -> Any:
    """Two `ignore` values (a name or a list) as one list, for a layer silenced inside a silenced block."""
    if not first:
        return second
    as_list = [first] if isinstance(first, str) else list(first)
    return as_list + ([second] if isinstance(second, str) else list(second))


def _block_size(block: Block, args: dict[str, Any], blocks: dict[str, Block], seen: dict[Any, int], using: Any) -> int:
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
        repeat = repeat if is_int(repeat) and repeat >= 1 else 1
        inner = blocks.get(kind) if isinstance(kind, str) else None
        used = {k: v for k, v in values.items() if k not in RESERVED}
        total += repeat * (1 if inner is None else _block_size(inner, used, blocks, seen, (*using, block.name)))
    seen[key] = total
    return total
