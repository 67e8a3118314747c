"""Expansion: a spec's lists of layers -> graph nodes, one entry at a time (blocks, repeats), each layer built as
soon as it is placed so that later entries can read the shapes of what came before."""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.args import describe, did_you_mean, is_int
from cnncalc.errors import CnncalcError, LayerError, SpecError
from cnncalc.graph import NETWORK_INPUT, Node, argument_items, bind, frozen_value, layer_key, located
from cnncalc.layers import REGISTRY, lookup
from cnncalc.layers.base import Layer, Shape
from cnncalc.layers.registry import suggest_kind
from cnncalc.names import canonical
from cnncalc.spec.blocks import IF_KEYS, REQUIRED_PARAM, RESERVED, Block, block_size, static
from cnncalc.spec.entries import Entries, Entry, holds_expression
from cnncalc.spec.scope import Names, NotYet, Ref, Scope
from cnncalc.spec.values import Context, Values, caller_value
from cnncalc.yamlsource import YList, YMap, at

MAX_NODES = 2_000_000  # an expanded network larger than this is almost surely a runaway `repeat`
MAX_ENTRIES = 2_000_000  # entries read while expanding, whether they make layers or not (repeat: 0, when)
_RESERVED = frozenset(RESERVED)
_READ_ONCE = ("repeat", "name", "trainable", "weights", "ignore")  # reserved keys read once per entry (`reserved`)
_BUT_NAME = ("repeat", "trainable", "weights", "ignore")


class Known(NamedTuple):
    """What an entry of a block that reads nothing from its use makes the same at every use (`expand_known`)."""

    entry: Entry
    repeat: int
    name: str | None  # the checked `name`, None for the kind's default name
    written: Any  # `inputs` as written (no expression), or None
    where: Any  # where its name (or, unnamed, its kind) is written
    when: tuple[Any, Any, Any] | None  # (condition, where it is written, `name` as written), read at every use
    repeated: bool  # it has `repeat`
    items: tuple[Any, ...] | None  # its arguments as bind's key (cnncalc.graph.argument_items), None: made per layer


class Template(NamedTuple):
    """One copy of a repeated block use, to make the later copies from (Expander.copy_template). A copy of a block
    use whose arguments hold no expression has the same parameters as the others; on the same input shape its
    entries read the same values, so it makes the same layers, named under its own prefix, each reading the same
    layers of its copy or the copy's input. Kept only where that is all it depends on: no scope inside it (a
    block, a repeat, a chunk's outputs), every layer built in order, none left out by a condition (their names
    serve messages), no `inputs` read through a block parameter (read in the caller's scope, not renamed)."""

    scope: Scope
    nodes: list[Node]
    wheres: list[Any]  # where each layer's name (or kind) is written
    source: str  # the layer the copy reads (its `input`)
    shape: Shape  # and its shape
    read: int  # entries read expanding it (MAX_ENTRIES)


def _reads_nothing(kind: str, raw: dict[str, Any]) -> bool:
    """Whether an entry's kind, inputs and reserved keys hold no expression: their values are the same at every
    use of the block it is in (its arguments may still hold expressions: they are read per copy anyway)."""
    if kind.startswith("$"):
        return False
    return not any(key in raw and holds_expression(raw[key]) for key in ("inputs", *_READ_ONCE))


class Expander:
    shortcuts = True  # block entries read once (Known), layers in order not sorted again; tests compare without
    consume = False  # empty each slot of the spec's top-level `layers` once expanded (the caller keeps no document)

    def __init__(
        self, file: str, blocks: dict[str, Block], input_shape: Shape, built: dict[Any, Layer] | None = None
    ) -> None:
        self.file = file
        self.blocks = blocks
        self.names = Names(file)
        self.values = Values(file)
        self.entries = Entries(file, blocks)
        self.nodes: list[Node] = []
        self.deferred: list[tuple[Node, list[Ref]]] = []  # nodes reading a later layer: resolved at the end
        self.in_order = True  # every layer reads earlier ones only, and is built: nothing to sort or build after
        self.shapes: dict[str, Shape] = {NETWORK_INPUT: input_shape}  # every layer built so far
        self.built: dict[Any, Layer] = {} if built is None else built  # layers by configuration, shared (bind)
        self.active_blocks: list[str] = []
        self.sizes: dict[Any, tuple[int, bool]] = {}  # block sizes counted, by block and arguments (block_size)
        self.counted = False  # expanding a block use whose count bounds everything in it
        self.read = 0  # entries read so far (MAX_ENTRIES)
        self.classes: dict[str, type[Layer]] = {}  # kinds by name as written, looked up once
        self.known: dict[int, Known] = {}  # by id() of a block's entry (a YMap of the document, alive meanwhile)

    def error(self, message: str, mark: Any, hint: str | None = None, layer: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=layer)

    def network(self, layers: Any, mark: Any) -> Scope:
        """Expand the spec's `layers`; then resolve what read later layers. The top scope."""
        top = Scope("", None, {}, None, ())
        self.expand_list(layers, mark, top, consume=self.consume)
        top.done = True
        for node, refs in self.deferred:
            node.inputs = [self.names.resolve(scope, ref, mark, node) for (scope, ref), mark in refs]
        return top

    # -- entries ----------------------------------------------------------------------------------------------

    def expand_list(self, layers: Any, mark: Any, scope: Scope, what: str = "layers", consume: bool = False) -> None:
        """`consume`: each entry's slot is emptied once expanded, so that the document's memory goes to the graph
        as it is built instead of both being held at the peak (what a node keeps of its entry stays)."""
        if not isinstance(layers, YList):
            raise self.error(
                f"{what}: expected a list of layers", mark, hint="each item: '- relu' or '- conv2d: {...}'"
            )
        for index, (item, item_mark) in enumerate(zip(layers, layers.item_marks, strict=True)):
            if isinstance(item, YMap) and "if" in item:
                self.expand_if(item, item_mark, scope)
            else:
                self.expand_entry(item, item_mark, scope)
            if consume:
                layers[index] = None
        if consume:  # the emptied list and its marks (each node keeps its own entry's mark)
            del layers[:], layers.item_marks[:]

    def expand_if(self, item: YMap, mark: Any, scope: Scope) -> None:
        """`- if: COND` with `then:` and optional `else:` lists: their entries belong to the enclosing scope."""
        self.read += 1
        for key in item:
            if key not in IF_KEYS:
                raise self.error(
                    f"an 'if' entry has the keys if, then and else; not '{key}'",
                    item.key_marks[key],
                    hint=did_you_mean(str(key), IF_KEYS) or "a layer with a condition is written with when: COND",
                )
        if "then" not in item:
            raise self.error("an 'if' entry needs 'then:', a list of layers", mark, hint="- if: $use_se\n  then: [...]")
        previous: list[Ref] = [((scope, scope.last or NETWORK_INPUT), mark)]
        ctx = Context(scope, None, lambda: self.first_shape(previous))
        branch = "then" if self.condition("if", item["if"], item.value_marks["if"], ctx) else "else"
        if branch in item:
            self.expand_list(item[branch], item.value_marks[branch], scope, branch)

    def condition(self, key: str, value: Any, mark: Any, ctx: Context) -> bool:
        held, where = self.values.value(value, mark, ctx)
        if not isinstance(held, bool):
            raise self.error(
                f"{key}: expected a condition (true or false), got {describe(held)}",
                where,
                hint="for example $stride == 1 and $in_channels == $out",
                layer=ctx.layer(),
            )
        return held

    def expand_entry(self, item: Any, mark: Any, scope: Scope) -> None:
        if not scope.expanded_from and self.shortcuts and self.plain_entry(item, mark, scope):
            return
        self.read += 1
        if self.read > MAX_ENTRIES:  # where no count could bound it (a repeat read from a shape)
            raise self.error(f"the network's blocks expand to more than {MAX_ENTRIES:,} entries", mark)
        if scope.expanded_from and self.shortcuts:  # inside a block use: its entries are met at every use
            known = self.known.get(id(item))
            if known is not None:
                self.expand_known(known, mark, scope)
                return
        kind, raw, kind_mark = self.entries.split(item, mark)
        value_marks = raw.value_marks if type(raw) is YMap else getattr(raw, "value_marks", {})
        for key in raw:
            if not isinstance(key, str):
                raise self.error(f"an argument name must be text, got {describe(key)}", raw.key_marks[key])
        marks: dict[str, Any] = {}
        written = None
        if "inputs" in raw:  # read in the parameters only
            fixed = Context(scope, None, None)
            written, marks["inputs"] = self.values.value(raw["inputs"], value_marks.get("inputs"), fixed)
        inputs = None if written is None else self.entries.input_refs(written, marks, scope)
        if inputs is None:  # default: the previous entry of the scope, or the scope's input
            inputs = [((scope, scope.last or NETWORK_INPUT), mark)]

        def ctx() -> Context:  # where reserved keys are read: no $index
            return Context(scope, None, lambda: self.first_shape(inputs))

        if "when" in raw and not self.condition("when", raw["when"], value_marks.get("when"), ctx()):
            self.names.skip(scope, raw.get("name"), mark)
            return  # a skipped entry makes nothing: the next one reads what came before
        if raw.keys().isdisjoint(_READ_ONCE):  # nothing to read but the arguments
            repeat, name, trainable, values, ignore = 1, None, True, None, None
        elif raw.keys().isdisjoint(_BUT_NAME) and type(raw["name"]) is str and "$" not in raw["name"]:
            # only a name, written out (self.reserved's steps for it)
            marks["name"] = where_named = value_marks.get("name")
            name = self.names.layer_name(raw["name"], where_named)
            repeat, trainable, values, ignore = 1, True, None, None
        else:
            repeat, name, trainable, values, ignore = self.reserved(raw, value_marks, marks, ctx)
        lookup_mark = kind_mark
        written_kind = kind
        if kind.startswith("$"):  # a kind passed as a block parameter
            kind, lookup_mark = self.values.kind(kind, kind_mark, ctx())  # an unknown kind: where it was passed
        block = self.blocks.get(kind if kind.isascii() else canonical(kind)) if self.blocks else None
        if values is not None and (block is not None or not isinstance(values, dict)):
            raise self.error(
                "weights: expected a mapping of state_dict names to nested lists, on a single layer",
                marks["weights"],
                hint="for example weights: {weight: [[[[0, 1, 0], [1, 0, 1], [0, 1, 0]]]], bias: [0]}",
            )
        cls = None if block is not None else self.classes.get(kind) or self.kind(kind, lookup_mark, inputs)
        what = block.name if block else cls.kind
        local = name or scope.default_name(what if block else what.lower())
        where = marks.get("name", kind_mark)
        if not scope.expanded_from:
            self.names.top = (where, what)
        entry = self.entry(block, cls, raw, value_marks, marks, mark, trainable, values, ignore, what)
        if scope.expanded_from and self.shortcuts and type(item) is YMap and _reads_nothing(written_kind, raw):
            when = (raw["when"], value_marks.get("when"), raw.get("name")) if "when" in raw else None
            items = None if entry.dynamic or entry.block is not None else argument_items(entry.raw)
            self.known[id(item)] = Known(entry, repeat, name, written, where, when, "repeat" in raw, items)
        self.place_entry(entry, repeat, local, inputs, scope, where, "repeat" in raw)

    def plain_entry(self, item: YMap | str, mark: Any, scope: Scope) -> bool:
        """The most common entries outside blocks, a kind alone (`- relu`) or `kind: {arguments}` with at most a
        name and `inputs` written out and no expression, of a kind whose module is imported: expand_entry, entry
        and place_entry's steps for it in one pass, in their order. False, having done nothing, for any other entry
        (the long way takes it)."""
        if type(item) is not str and type(item) is not YMap:
            return False
        if type(item) is str:
            if "(" in item or not item.isascii():  # a layer as PyTorch prints it
                return False
            kind, raw = item, None
        elif len(item) == 1:
            ((kind, raw),) = item.items()
            if type(raw) is not YMap or type(kind) is not str or not kind.isascii():
                return False
        else:
            return False
        cls = self.classes.get(kind)
        if cls is None:  # lookup's first step: a kind of a module imported already (else the long way imports it)
            cls = REGISTRY.kinds.get(kind.lower())
            if cls is None:
                return False
            self.classes[kind] = cls
        if _many_outputs(cls) or (self.blocks and kind in self.blocks):
            return False
        nodes = self.nodes
        if self.read >= MAX_ENTRIES or len(nodes) >= MAX_NODES:  # the long way says so
            return False
        plain: dict[str, Any] = {}
        items: list[Any] | None = []  # the arguments as bind's key (cnncalc.graph.argument_items), made on the way
        name = written = None
        for key, value in raw.items() if raw is not None else ():
            kind_of = type(value)
            if kind_of is str:
                if "$" in value:
                    return False
            elif isinstance(value, (str, list)) and holds_expression(value):  # a list, or text holding '(' or '$'
                return False
            if key in _RESERVED:
                if key == "name":
                    if kind_of is not str or not value.isidentifier() or not value.isascii() or value == NETWORK_INPUT:
                        return False  # one ASCII word: valid as it is (Names.layer_name)
                    name = value
                elif key == "inputs":
                    written = value
                else:
                    return False
            elif type(key) is not str:
                return False
            else:
                plain[key] = value
                if items is None:  # an argument that cannot be hashed: the layer is built on its own
                    continue
                if kind_of is int or kind_of is str or kind_of is bool or value is None:  # argument_items' steps
                    items.append((key, kind_of, value))
                else:
                    frozen = frozen_value(value)
                    items = None if frozen is None else [*items, (key, kind_of, frozen)]
        self.read += 1
        value_marks = raw.value_marks if raw is not None else {}
        marks: dict[str, Any] = {}
        inputs = None
        if written is not None:
            marks["inputs"] = value_marks.get("inputs")
            inputs = self.entries.input_refs(written, marks, scope)
        if inputs is None:
            inputs = [((scope, scope.last or NETWORK_INPUT), mark)]
        kind_mark = item.key_marks[kind] if raw is not None else mark
        if name is not None:
            marks["name"] = where = value_marks.get("name")
            local = name
        else:
            where = kind_mark
            local = scope.default_name(cls.kind.lower())
        self.names.top = (where, cls.kind)
        if raw is None:
            written_marks, key_marks = value_marks, {}
        elif value_marks.keys() == raw.keys():
            written_marks, key_marks = value_marks, raw.key_marks  # as Expander.entry: shared, read where written
        else:
            written_marks, key_marks = {key: value_marks.get(key) for key in plain}, raw.key_marks
            written_marks.update(marks)
        node = Node(scope.prefix + local, cls, plain, mark, written_marks, len(nodes) + 1, True, (), None, key_marks)
        names = self.names
        if node.name in names.made:  # Names.add_node, written out
            names.claim(node.name, node, where)  # a duplicate: reported there
        names.made[node.name] = (node, where, names.top)
        nodes.append(node)
        self.build(node, inputs, None if items is None else tuple(items))
        scope.last = local
        return True

    def entry(
        self,
        block: Block | None,
        cls: type[Layer] | None,
        raw: YMap | dict[str, Any],
        value_marks: dict[str, Any],
        marks: dict[str, Any],
        mark: Any,
        trainable: bool,
        values: Any,
        ignore: Any,
        what: str,
    ) -> Entry:
        if raw.keys().isdisjoint(RESERVED):
            plain = dict(raw)
        else:
            plain = {k: v for k, v in raw.items() if k not in _RESERVED}
        dynamic: tuple[str, ...] = ()
        for key, value in plain.items():
            if type(value) is str:
                if "$" in value:
                    dynamic += (key,)
            elif isinstance(value, (str, list)) and holds_expression(value):
                dynamic += (key,)
        key_marks = getattr(raw, "key_marks", {})
        same = value_marks.keys() == raw.keys() and "when" not in raw
        for key, written in marks.items():
            same = same and value_marks[key] is written
        if same:  # the marks as written, shared: every key's value was read where it is written (never changed)
            written_marks = value_marks
        else:
            written_marks = {key: value_marks.get(key) for key in plain}
            written_marks.update(marks)
        return Entry(block, cls, plain, written_marks, marks, key_marks, mark, trainable, values, ignore, what, dynamic)

    def expand_known(self, known: Known, mark: Any, scope: Scope) -> None:
        """An entry of a block met at an earlier use, whose form reads nothing from the use (no expression in its
        kind, inputs or reserved keys): only what depends on the use is done again, in the same order."""
        entry = known.entry
        inputs = None
        if known.written is not None:
            inputs = self.entries.input_refs(known.written, entry.marks, scope)
        if inputs is None:
            inputs = [((scope, scope.last or NETWORK_INPUT), mark)]
        if known.when is not None:
            condition, condition_mark, written_name = known.when
            ctx = Context(scope, None, lambda: self.first_shape(inputs))
            if not self.condition("when", condition, condition_mark, ctx):
                self.names.skip(scope, written_name, mark)
                return
        what = entry.kind
        local = known.name or scope.default_name(what if entry.block else what.lower())
        if entry.mark is not mark:  # the same block entry reached through another list (an alias)
            entry = entry._replace(mark=mark)
        self.place_entry(entry, known.repeat, local, inputs, scope, known.where, known.repeated, known.items)

    def place_entry(
        self,
        entry: Entry,
        repeat: int,
        local: str,
        inputs: list[Ref],
        scope: Scope,
        where: Any,
        repeated: bool,
        items: tuple[Any, ...] | None = None,
    ) -> None:
        """Place an entry's layer, block use or repeat; `items`: its arguments as bind's key, made already."""
        if entry.block is None and not repeated:  # one layer: its count is 1, and nothing inside needs counting
            nodes = self.nodes
            if not self.counted and len(nodes) + 1 > MAX_NODES:
                self.check_size(entry, repeat, scope)  # says so
            cls = entry.cls
            if entry.dynamic or not self.shortcuts or _many_outputs(cls):  # type: ignore[arg-type]
                self.place(local, entry, inputs, scope, scope, where, 0)
                return
            # self.place, place_layer and add, written out for the most common entry: one layer, read as written
            if len(nodes) >= MAX_NODES:
                raise self.error(f"the network expands to more than {MAX_NODES:,} layers", entry.mark)
            node = self.node(scope.prefix + local, entry, entry.raw, entry.value_marks, scope)
            self.names.add_node(node, where)
            nodes.append(node)
            self.build(node, inputs, items)
            scope.last = local
            return
        counted = self.counted
        if not counted:  # inside a block use counted as a whole, nothing needs counting again
            self.counted = self.check_size(entry, repeat, scope)
        try:
            self.place_copies(entry, repeat, local, inputs, scope, where, repeated)
        finally:
            self.counted = counted
        scope.last = local

    def reserved(
        self, raw: YMap | dict[str, Any], value_marks: dict[str, Any], marks: dict[str, Any], ctx: Any
    ) -> tuple[int, str | None, bool, Any, Any]:
        """An entry's repeat, name, trainable, weights and ignore, read once (no $index); `marks` gets where each
        was written."""
        read: dict[str, Any] = {}
        for key in ("repeat", "name", "trainable", "weights", "ignore"):
            if key in raw:
                value = raw[key]
                if isinstance(value, (str, list)) and holds_expression(value):
                    read[key], marks[key] = self.values.value(value, value_marks.get(key), ctx)
                else:
                    read[key], marks[key] = value, value_marks.get(key)
        repeat = read.get("repeat", 1)
        if not (type(repeat) is int or is_int(repeat)) or repeat < 0:
            raise self.error(f"repeat: expected a whole number (0 or more), got {describe(repeat)}", marks["repeat"])
        name = read.get("name")
        if name is not None:
            name = self.names.layer_name(name, marks["name"])
        trainable = read.get("trainable", True)
        if not isinstance(trainable, bool):
            raise self.error(f"trainable: expected true or false, got {describe(trainable)}", marks["trainable"])
        # `weights`: parameter values for the executor, by state_dict name; `ignore`: lint rules silenced here,
        # checked once the network is built
        return repeat, name, trainable, read.get("weights"), read.get("ignore")

    def place_copies(
        self, entry: Entry, repeat: int, local: str, inputs: list[Ref], scope: Scope, where: Any, repeated: bool
    ) -> None:
        mark, what = entry.mark, entry.kind
        if repeated:  # copies named name.0 ... name.N-1, any count (torchvision's layer4.0 of one block)
            (ref_scope, ref_name), ref_mark = inputs[0]
            container = Scope(
                scope.prefix + local + ".", (ref_scope, ref_name, ref_mark), {}, scope.block, scope.expanded_from
            )
            container.what = what
            self.names.add_scope(scope.prefix + local, container, where)
            container.first_position = len(self.nodes) + 1
            previous = inputs
            # Copies of a block that reads nothing per copy, on the same input shape, expand alike but for their
            # names: the first is expanded, the others made from it (`Template`)
            alike = self.shortcuts and self.counted and entry.block is not None and not entry.dynamic
            template: Template | None = None
            for index in range(repeat):
                if template is not None and self.first_shape(previous)[0] == template.shape:
                    self.copy_template(template, index, container, previous, where)
                elif alike:
                    template = self.place_template(entry, index, container, scope, previous, where)
                else:
                    self.place(str(index), entry, previous, container, scope, where, index)
                previous = [((container, str(index)), mark)]
            container.last_position = len(self.nodes)
            container.done = True
        else:
            self.place(local, entry, inputs, scope, scope, where, 0)

    def place_template(
        self, entry: Entry, index: int, container: Scope, outer: Scope, inputs: list[Ref], where: Any
    ) -> Template | None:
        """Copy `index` of a repeated block use, expanded the long way; what it made as a Template, or None where
        a later copy could differ in more than its names (see Template)."""
        names, nodes = self.names, self.nodes
        first, scopes, read = len(nodes), len(names.scopes), self.read
        deferred, skipped, callers = len(self.deferred), len(names.skipped), self.entries.caller_refs
        try:
            shape, source = self.first_shape(inputs)
        except CnncalcError:  # reported the long way, where a layer reads it
            shape, source = None, ""
        self.place(str(index), entry, inputs, container, outer, where, index)
        made = nodes[first:]
        if (
            shape is None
            or not made
            or not self.in_order
            or len(names.scopes) != scopes + 1  # a block or chunk inside: its own scopes (not copied)
            or len(self.deferred) != deferred
            or len(names.skipped) != skipped
            or self.entries.caller_refs != callers  # inputs read through a parameter: read in the caller's scope
        ):
            return None
        inner = names.scopes[scopes][1]
        own = {node.name for node in made}
        for node in made:
            if node.layer is None or not all(name in own or name == source for name in node.inputs):
                return None
        if source.startswith(inner.prefix):
            return None
        wheres = [names.made[node.name][1] for node in made]
        return Template(inner, made, wheres, source, shape, self.read - read)

    def copy_template(self, template: Template, index: int, container: Scope, inputs: list[Ref], where: Any) -> None:
        """Copy `index` of a repeated block use made from the template: what place_block makes, in the same order
        (its scope, then each layer, a duplicate name reported as there), sharing the layers built."""
        (ref_scope, ref_name), ref_mark = inputs[0]
        source = self.names.resolve(ref_scope, ref_name, ref_mark, None, final=False)
        was = template.scope
        local = str(index)
        prefix = container.prefix + local + "."
        inner = Scope(prefix, (ref_scope, ref_name, ref_mark), was.params, was.block, was.expanded_from)
        names, nodes, shapes = self.names, self.nodes, self.shapes
        names.add_scope(container.prefix + local, inner, where)
        container.last = local
        inner.first_position = len(nodes) + 1
        made, top = names.made, names.top
        cut, old_source = len(was.prefix), template.source
        for node, node_where in zip(template.nodes, template.wheres, strict=True):
            name = prefix + node.name[cut:]
            reads = [source if read == old_source else prefix + read[cut:] for read in node.inputs]
            copy = node.renamed(name, len(nodes) + 1, reads)
            if name in made:
                names.claim(name, copy, node_where)  # a duplicate: reported there
            made[name] = (copy, node_where, top)
            nodes.append(copy)
            shapes[name] = copy.layer.out_shape  # type: ignore[union-attr]
        inner.counters = dict(was.counters)
        inner.last = was.last
        inner.last_position = len(nodes)
        inner.done = True
        self.read += template.read

    def kind(self, kind: str, mark: Any, inputs: list[Ref]) -> type[Layer]:
        cls = self.classes.get(kind)
        if cls is not None:
            return cls
        try:
            cls = self.classes[kind] = lookup(kind)
            return cls
        except LayerError as error:
            hint = suggest_kind(kind, self.input_rank(inputs)) or error.hint
            close = did_you_mean(kind, list(self.blocks))
            raise self.error(error.message, mark, hint=close or hint) from None

    def check_size(self, entry: Entry, repeat: int, scope: Scope) -> bool:
        """Count before building: `repeat: 1000000000` is refused at once, not after 2 million layers. True when
        the count bounds all this entry makes (nothing inside it needs counting again)."""
        block = entry.block
        size, bound, read = repeat, True, 0
        if block is not None and repeat:
            params = {name: value for name, (value, _) in scope.params.items()}
            args = {k: static(v, params) if isinstance(v, (str, list)) else v for k, v in entry.raw.items()}
            inner, bound, entries = block_size(block, args, self.blocks, self.sizes, ())
            size, read = size * inner, repeat * entries
        if len(self.nodes) + size > MAX_NODES:
            raise self.error(
                f"the network expands to at least {len(self.nodes) + size:,} layers; cnncalc builds at most "
                f"{MAX_NODES:,}",
                entry.marks.get("repeat", entry.mark),
                hint="a smaller repeat" if repeat > 1 else None,
            )
        if self.read + read > MAX_ENTRIES:
            raise self.error(
                f"the network's blocks expand to at least {self.read + read:,} entries; cnncalc reads at most "
                f"{MAX_ENTRIES:,}",
                entry.marks.get("repeat", entry.mark),
                hint="entries that make nothing (repeat: 0, conditions that do not hold) are work too",
            )
        return bound

    # -- placing layers and block instances ---------------------------------------------------------------------

    def place(
        self, local: str, entry: Entry, inputs: list[Ref], scope: Scope, outer: Scope, where: Any, index: int
    ) -> None:
        """Add one layer or one block instance named `local` to `scope`, copy `index` of its entry; `outer` is
        where its values are read and its input refs resolved; `where` is where its name (or kind) is written."""

        args, marks = entry.raw, entry.value_marks  # shared by the copies, as the layers built from them
        if entry.dynamic:
            args, marks = self.evaluated(local, entry, inputs, scope, outer, index)
        if entry.block is None:
            self.place_layer(local, entry, args, marks, inputs, scope, where)
        else:
            self.place_block(local, entry, args, marks, inputs, scope, outer, where)
        scope.last = local

    def evaluated(
        self, local: str, entry: Entry, inputs: list[Ref], scope: Scope, outer: Scope, index: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The arguments and their marks for copy `index` of an entry whose arguments hold expressions."""

        def ctx() -> Context:
            noun = "layer" if entry.block is None else "block use"
            label = f"{noun} '{scope.prefix}{local}' ({entry.kind})"
            return Context(outer, index, lambda: self.first_shape(inputs), label)

        args, marks = dict(entry.raw), dict(entry.value_marks)
        for key in entry.dynamic:
            args[key], marks[key] = self.values.value(entry.raw[key], entry.value_marks[key], ctx)
        return args, marks

    def place_layer(
        self,
        local: str,
        entry: Entry,
        args: dict[str, Any],
        marks: dict[str, Any],
        inputs: list[Ref],
        scope: Scope,
        where: Any,
    ) -> None:
        cls = entry.cls
        assert cls is not None
        node = self.node(scope.prefix + local, entry, args, marks, scope)
        if _many_outputs(cls):
            count = self.output_count(node, inputs)
            if count is not None:
                self.place_outputs(local, entry, args, marks, inputs, scope, where, count)
                return
        nodes = self.nodes  # self.add, written out: once per layer
        if len(nodes) >= MAX_NODES:
            raise self.error(f"the network expands to more than {MAX_NODES:,} layers", node.mark)
        self.names.add_node(node, where)
        nodes.append(node)
        self.build(node, inputs)

    def node(self, name: str, entry: Entry, args: dict[str, Any], marks: dict[str, Any], scope: Scope) -> Node:
        assert entry.cls is not None
        node = Node(  # name, kind, arguments, mark, arg_marks, position, trainable, expanded_from, values, key_marks
            name,
            entry.cls,
            args,
            entry.mark,
            marks,
            len(self.nodes) + 1,
            entry.trainable,
            scope.expanded_from,
            entry.values,
            entry.key_marks,
        )
        if entry.ignore is not None:
            node.ignore = entry.ignore
        return node

    def add(self, node: Node, inputs: list[Ref], where: Any) -> None:
        if len(self.nodes) >= MAX_NODES:
            raise self.error(f"the network expands to more than {MAX_NODES:,} layers", node.mark)
        self.names.add_node(node, where)
        self.nodes.append(node)
        self.build(node, inputs)

    def output_count(self, node: Node, inputs: list[Ref]) -> int | None:
        """How many outputs the layer makes (chunk, split without `index`), from its input shapes."""
        try:
            names = [self.names.resolve(scope, ref, mark, node, final=False) for (scope, ref), mark in inputs]
        except NotYet:
            names = []
        if not names or not all(name in self.shapes for name in names):
            if "index" in node.arguments:
                return None
            raise self.error(
                f"{node.kind.lower()} makes one layer per output, counted from its input's shape: its input must "
                "be written before it",
                node.arg_marks.get("inputs", node.mark),
                layer=node.label(),
                hint="give 'index' to take one output, or move the layer after its input",
            )
        try:
            return node.cls.output_count(node.arguments, tuple(self.shapes[name] for name in names))
        except LayerError as error:
            raise located(self.file, node, error) from None

    def place_outputs(
        self,
        local: str,
        entry: Entry,
        args: dict[str, Any],
        marks: dict[str, Any],
        inputs: list[Ref],
        scope: Scope,
        where: Any,
        count: int,
    ) -> None:
        """A kind with several outputs: a group NAME of layers NAME.0 ... NAME.K-1, each built with `index: k`."""
        if len(self.nodes) + count > MAX_NODES:
            raise self.error(f"the network expands to more than {MAX_NODES:,} layers", entry.mark)
        group = Scope(scope.prefix + local + ".", None, {}, scope.block, scope.expanded_from)
        group.what, group.outputs = entry.kind, count
        self.names.add_scope(scope.prefix + local, group, where)
        group.first_position = len(self.nodes) + 1
        for k in range(count):
            node = self.node(group.prefix + str(k), entry, {**args, "index": k}, {"index": entry.mark, **marks}, scope)
            self.add(node, inputs, where)
        group.last = str(count - 1)
        group.last_position = len(self.nodes)
        group.done = True

    def build(self, node: Node, inputs: list[Ref], items: tuple[Any, ...] | None = None) -> None:
        """Resolve the node's inputs and build its layer now, if every input is known and built already."""
        shapes = self.shapes
        if len(inputs) == 1:  # the common case, without building a list of shapes
            (scope, ref), mark = inputs[0]
            made = self.names.made.get(scope.prefix + ref) if ref != NETWORK_INPUT and ref.isascii() else None
            if made is not None and type(made[0]) is Node:  # Names.resolve's first step, written out
                name = made[0].name
            else:
                try:
                    name = self.names.resolve(scope, ref, mark, node, False)
                except NotYet:
                    self.deferred.append((node, inputs))  # a forward reference: resolved and built at the end
                    self.in_order = False
                    return
            node.inputs = [name]
            if name == node.name:  # it reads itself: a cycle, which topological_order reports
                self.in_order = False
            shape = shapes.get(name)
            if shape is not None:
                in_shapes = (shape,)
                key = layer_key(node, in_shapes) if items is None else (node.cls, items, in_shapes)
                layer = self.built.get(key)  # bind's look-up, written out
                if layer is None:
                    layer = bind(node, in_shapes, self.built, self.file)
                else:
                    node.layer = layer
                shapes[node.name] = layer.out_shape
            return
        resolve = self.names.resolve
        names: list[str] = []
        try:
            for (scope, ref), mark in inputs:
                names.append(resolve(scope, ref, mark, node, False))
        except NotYet:
            self.deferred.append((node, inputs))  # a forward reference: resolved and built at the end
            self.in_order = False
            return
        node.inputs = names
        if node.name in names:  # it reads itself: a cycle, which topological_order reports
            self.in_order = False
        if all(name in shapes for name in names):  # else it reads a layer that reads a later one: built at the end
            shapes[node.name] = bind(node, tuple(shapes[name] for name in names), self.built, self.file).out_shape

    def place_block(
        self,
        local: str,
        entry: Entry,
        args: dict[str, Any],
        marks: dict[str, Any],
        inputs: list[Ref],
        scope: Scope,
        outer: Scope,
        where: Any,
    ) -> None:
        block, mark = entry.block, entry.mark
        assert block is not None
        if block.name in self.active_blocks:
            raise self.error(
                f"block '{block.name}' uses itself", mark, hint=" -> ".join(self.active_blocks + [block.name])
            )
        if len(inputs) != 1:
            raise self.error(f"block '{block.name}' takes one input, got {len(inputs)}", marks.get("inputs", mark))
        (ref_scope, ref_name), ref_mark = inputs[0]
        inner = Scope(
            prefix=scope.prefix + local + ".",
            input_ref=(ref_scope, ref_name, ref_mark),
            params={},
            block=block.name,
            expanded_from=scope.expanded_from + ((block.name, mark),),
        )
        self.block_params(block, entry, args, marks, inner, outer, inputs)
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
                    if "ignore" not in node.arg_marks:  # a copy: its entry's marks serve every use of the block
                        node.arg_marks = {**node.arg_marks, "ignore": marks["ignore"]}

    def block_params(
        self,
        block: Block,
        entry: Entry,
        args: dict[str, Any],
        marks: dict[str, Any],
        inner: Scope,
        caller: Scope,
        inputs: list[Ref],
    ) -> None:
        """The block's parameters in `inner`: the arguments given, then the defaults in order (a default may read
        the parameters before it and the block's input shape)."""
        params = inner.params
        for key, value in args.items():
            if key not in block.params:
                valid = ", ".join(block.params) or "none"
                raise self.error(
                    f"block '{block.name}' has no parameter '{key}' (its parameters: {valid})",
                    entry.key_marks.get(key, entry.mark),
                    hint=did_you_mean(key, list(block.params)),
                )
            params[key] = (caller_value(value, caller), marks.get(key, entry.mark))
        ctx = Context(
            inner, None, lambda: self.first_shape(inputs), lambda: f"block use '{inner.prefix[:-1]}' ({block.name})"
        )
        for position, (key, default) in enumerate(block.params.items()):
            if key in params:
                continue
            if default is REQUIRED_PARAM:
                raise self.error(f"block '{block.name}' needs the parameter '{key}'", entry.mark)
            self.check_default_order(block, key, default, list(block.params)[position + 1 :], params)
            value, _ = self.values.value(default, block.default_marks.get(key, block.mark), ctx)
            params[key] = (value, block.mark)

    def check_default_order(self, block: Block, key: str, default: Any, later: list[str], given: dict) -> None:
        """A default reads the parameters given and those declared before it: one declared after it is refused."""
        if not (isinstance(default, str) and "$" in default):
            return
        from cnncalc.spec.expressions import ExpressionError, parse_expression

        try:
            read = parse_expression(default).names
        except ExpressionError:
            return  # reported where it is evaluated
        for name in sorted(read & set(later) - set(given)):
            raise self.error(
                f"block '{block.name}': the default of '{key}' reads ${name}, declared after it",
                block.default_marks.get(key, block.mark),
                hint=f"defaults are read in order: declare '{name}' before '{key}'",
            )

    # -- inputs -------------------------------------------------------------------------------------------------

    def first_shape(self, inputs: list[Ref]) -> tuple[Shape | None, str]:
        """The shape of an entry's first input (None where it is not built yet: a forward reference), its name."""
        (scope, ref), mark = inputs[0]
        try:
            name = self.names.resolve(scope, ref, mark, None, final=False)
        except NotYet:
            return None, ref
        return self.shapes.get(name), name

    def input_rank(self, inputs: list[Ref]) -> int | None:
        """For did-you-mean only: the rank of an entry's first input, None where that cannot be told."""
        try:
            shape, _ = self.first_shape(inputs)
        except CnncalcError:
            return None
        return None if shape is None else len(shape)


_MANY: dict[type[Layer], bool] = {}


def _many_outputs(cls: type[Layer]) -> bool:
    """Whether a kind may make several outputs (it has its own output_count), asked once per kind."""
    many = _MANY.get(cls)
    if many is None:
        many = _MANY[cls] = cls.output_count.__func__ is not Layer.output_count.__func__  # type: ignore[attr-defined]
    return many


def _joined(first: Any, second: Any) -> Any:
    """Two `ignore` values (a name or a list) as one list, for a layer silenced inside a silenced block."""
    if not first:
        return second
    as_list = [first] if isinstance(first, str) else list(first)
    return as_list + ([second] if isinstance(second, str) else list(second))
