"""Expansion: a spec's lists of layers -> graph nodes, one entry at a time (blocks, repeats), each layer built as
soon as it is placed so that later entries can read the shapes of what came before."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.args import describe, did_you_mean, is_int
from cnncalc.errors import CnncalcError, LayerError, SpecError
from cnncalc.graph import NETWORK_INPUT, Node, bind
from cnncalc.layers import lookup
from cnncalc.layers.base import Layer, Shape
from cnncalc.layers.registry import suggest_kind
from cnncalc.names import canonical
from cnncalc.spec.blocks import REQUIRED_PARAM, Block, block_size
from cnncalc.spec.scope import Names, NotYet, Ref, Scope
from cnncalc.spec.values import Values, caller_value
from cnncalc.yamlsource import YList, YMap, at

MAX_NODES = 2_000_000  # an expanded network larger than this is almost surely a runaway `repeat`


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


class Expander:
    def __init__(self, file: str, blocks: dict[str, Block], input_shape: Shape) -> None:
        self.file = file
        self.blocks = blocks
        self.names = Names(file)
        self.values = Values(file)
        self.nodes: list[Node] = []
        self.deferred: list[tuple[Node, list[Ref]]] = []  # nodes reading a later layer: resolved at the end
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: input_shape}  # every layer built so far
        self.built: dict[Any, Layer] = {}  # layers by configuration, shared (graph.bind)
        self.active_blocks: list[str] = []

    def error(self, message: str, mark: Any, hint: str | None = None, layer: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=layer)

    def network(self, layers: Any, mark: Any) -> Scope:
        """Expand the spec's `layers`; then resolve what read later layers. The top scope."""
        top = Scope("", None, {}, None, ())
        self.expand_list(layers, mark, top)
        top.done = True
        for node, refs in self.deferred:
            node.inputs = [self.names.resolve(scope, ref, mark, node) for (scope, ref), mark in refs]
        return top

    # -- entries ----------------------------------------------------------------------------------------------

    def expand_list(self, layers: Any, mark: Any, scope: Scope) -> None:
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

    def expand_entry(self, item: Any, mark: Any, scope: Scope) -> None:
        kind, raw, kind_mark = self.split_entry(item, mark)
        args, marks = self.values.arguments(raw, scope)
        repeat = args.pop("repeat", 1)
        if not is_int(repeat) or repeat < 1:
            raise self.error(f"repeat: expected a positive integer, got {describe(repeat)}", marks["repeat"])
        name = args.pop("name", None)
        if name is not None:
            name = self.names.layer_name(name, marks["name"])
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
        cls = None if block is not None else self.kind(kind, kind_mark, inputs)
        local = name or scope.default_name(block.name if block else cls.kind.lower())
        where = marks.get("name", kind_mark)
        if not scope.expanded_from:
            self.names.top = (where, block.name if block else cls.kind)
        key_marks = getattr(raw, "key_marks", {})
        entry = Entry(block, cls, args, marks, key_marks, mark, trainable, values, ignore)
        self.check_size(entry, repeat)
        if "repeat" in marks:  # copies named name.0 ... name.N-1, even one (torchvision's layer4.0 of one block)
            container = Scope(scope.prefix + local + ".", scope.input_ref, {}, scope.block, scope.expanded_from)
            container.what = block.name if block else cls.kind
            self.names.add_scope(scope.prefix + local, container, where)
            container.first_position = len(self.nodes) + 1
            previous = inputs
            for index in range(repeat):
                self.place(str(index), entry, previous, container, scope, where)
                previous = [((container, str(index)), mark)]
            container.last = str(repeat - 1)
            container.last_position = len(self.nodes)
            container.done = True
        else:
            self.place(local, entry, inputs, scope, scope, where)
        scope.last = local

    def kind(self, kind: str, mark: Any, inputs: list[Ref]) -> type[Layer]:
        try:
            return lookup(kind)
        except LayerError as error:
            hint = suggest_kind(kind, self.input_rank(inputs)) or error.hint
            close = did_you_mean(kind, list(self.blocks))
            raise self.error(error.message, mark, hint=close or hint) from None

    def check_size(self, entry: Entry, repeat: int) -> None:
        """Count before building: `repeat: 1000000000` is refused at once, not after 2 million layers."""
        block = entry.block
        size = repeat * (1 if block is None else block_size(block, entry.args, self.blocks, {}, ()))
        if len(self.nodes) + size > MAX_NODES:
            raise self.error(
                f"the network expands to at least {len(self.nodes) + size:,} layers; cnncalc builds at most "
                f"{MAX_NODES:,}",
                entry.marks.get("repeat", entry.mark),
                hint="a smaller repeat" if repeat > 1 else None,
            )

    # -- placing layers and block instances ---------------------------------------------------------------------

    def place(self, local: str, entry: Entry, inputs: list[Ref], scope: Scope, outer: Scope, where: Any) -> None:
        """Add one layer or one block instance named `local` to `scope`; `outer` resolves its input refs; `where`
        is where its name (or kind) is written."""
        if entry.block is None:
            self.place_layer(local, entry, inputs, scope, where)
        else:
            self.place_block(local, entry, inputs, scope, outer, where)
        scope.last = local

    def place_layer(self, local: str, entry: Entry, inputs: list[Ref], scope: Scope, where: Any) -> Node:
        assert entry.cls is not None
        node = Node(
            name=scope.prefix + local,
            cls=entry.cls,
            arguments=entry.args,
            mark=entry.mark,
            arg_marks=entry.marks,
            position=len(self.nodes) + 1,
            trainable=entry.trainable,
            expanded_from=scope.expanded_from,
            values=entry.values,
            key_marks=entry.key_marks,
        )
        if entry.ignore is not None:
            node.ignore = entry.ignore
        if len(self.nodes) >= MAX_NODES:
            raise self.error(f"the network expands to more than {MAX_NODES:,} layers", entry.mark)
        self.names.add_node(node, where)
        self.nodes.append(node)
        self.build(node, inputs)
        return node

    def build(self, node: Node, inputs: list[Ref]) -> None:
        """Resolve the node's inputs and build its layer now, if every input is known and built already."""
        try:
            node.inputs = [self.names.resolve(scope, ref, mark, node, final=False) for (scope, ref), mark in inputs]
        except NotYet:
            self.deferred.append((node, inputs))  # a forward reference: resolved and built at the end
            return
        shapes = self.shapes
        if all(name in shapes for name in node.inputs):
            layer = bind(node, tuple(shapes[name] for name in node.inputs), self.built, self.file)
            shapes[node.name] = layer.out_shape

    def place_block(self, local: str, entry: Entry, inputs: list[Ref], scope: Scope, outer: Scope, where: Any) -> None:
        block, mark, marks = entry.block, entry.mark, entry.marks
        assert block is not None
        if block.name in self.active_blocks:
            raise self.error(
                f"block '{block.name}' uses itself", mark, hint=" -> ".join(self.active_blocks + [block.name])
            )
        if len(inputs) != 1:
            raise self.error(f"block '{block.name}' takes one input, got {len(inputs)}", marks.get("inputs", mark))
        params = self.block_params(block, entry, outer)
        (ref_scope, ref_name), ref_mark = inputs[0]
        inner = Scope(
            prefix=scope.prefix + local + ".",
            input_ref=(ref_scope, ref_name, ref_mark),
            params=params,
            block=block.name,
            expanded_from=scope.expanded_from + ((block.name, mark),),
        )
        self.names.add_scope(scope.prefix + local, inner, where)
        scope.last = local
        inner.first_position = len(self.nodes) + 1
        self.active_blocks.append(block.name)
        try:
            self.expand_list(block.layers, block.mark, inner)
        finally:
            self.active_blocks.pop()
        inner.last_position = len(self.nodes)
        inner.done = True
        if not entry.trainable or entry.ignore is not None:
            # The layers expanded just now (not every name under the prefix: a flat layer may be named layer1.x).
            for node in self.nodes[inner.first_position - 1 :]:
                node.trainable = node.trainable and entry.trainable
                if entry.ignore is not None:  # the block's layers are silenced too (both lists are checked later)
                    node.ignore = _joined(node.ignore, entry.ignore)
                    node.arg_marks.setdefault("ignore", marks["ignore"])

    def block_params(self, block: Block, entry: Entry, caller: Scope) -> dict[str, tuple[Any, Any]]:
        values: dict[str, tuple[Any, Any]] = {}
        for key, value in entry.args.items():
            if key not in block.params:
                valid = ", ".join(block.params) or "none"
                raise self.error(
                    f"block '{block.name}' has no parameter '{key}' (its parameters: {valid})",
                    entry.key_marks.get(key, entry.mark),
                    hint=did_you_mean(key, list(block.params)),
                )
            values[key] = (caller_value(value, caller), entry.marks.get(key, entry.mark))
        for key, default in block.params.items():
            if key not in values:
                if default is REQUIRED_PARAM:
                    raise self.error(f"block '{block.name}' needs the parameter '{key}'", entry.mark)
                values[key] = (default, block.mark)
        return values

    # -- inputs -------------------------------------------------------------------------------------------------

    def input_refs(self, value: Any, marks: dict[str, Any], scope: Scope) -> list[Ref] | None:
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

    def input_shape(self, inputs: list[Ref]) -> Shape | None:
        """The shape of an entry's first input, None where it is not known yet (a forward reference)."""
        (scope, ref), mark = inputs[0]
        try:
            return self.shapes.get(self.names.resolve(scope, ref, mark, None, final=False))
        except NotYet:
            return None

    def input_rank(self, inputs: list[Ref]) -> int | None:
        """For did-you-mean only: the rank of an entry's first input, None where that cannot be told."""
        try:
            shape = self.input_shape(inputs)
        except CnncalcError:
            return None
        return None if shape is None else len(shape)


def _joined(first: Any, second: Any) -> Any:
    """Two `ignore` values (a name or a list) as one list, for a layer silenced inside a silenced block."""
    if not first:
        return second
    as_list = [first] if isinstance(first, str) else list(first)
    return as_list + ([second] if isinstance(second, str) else list(second))
