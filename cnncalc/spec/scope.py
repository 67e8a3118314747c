"""Names in a spec: scopes (the network's list of layers, one block instance, one repeat), the full name of every
layer and group, duplicates, and what an `inputs` entry (or the default, the previous entry) names.

Full names are PyTorch's module paths: the prefix of the block uses and repeats an entry sits in, then its own
name. A block use or a repeat stands for what it made last; one that made nothing stands for its input.
"""

from __future__ import annotations

from typing import Any

from cnncalc.args import describe, did_you_mean, is_int
from cnncalc.errors import SpecError
from cnncalc.graph import NETWORK_INPUT, Group, Node
from cnncalc.names import RULE, canonical, is_layer_name
from cnncalc.yamlsource import at


class Scope:
    """Names visible to `inputs` in one list of layers: the network's, one block instance's or one repeat's."""

    __slots__ = ("prefix", "input_ref", "params", "block", "expanded_from", "counters", "last", "first_position")
    __slots__ += ("last_position", "what", "done", "outputs")

    def __init__(
        self,
        prefix: str,
        input_ref: tuple[Scope, str, Any] | None,
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
        self.last: str | None = None  # local name of the last entry made: the scope's output (None: its input)
        self.first_position = 0  # the positions of its first and last layers, once expanded (graph.Group)
        self.last_position = 0
        self.what = block or ""  # the block used or the kind repeated, for graph.Group
        self.done = False  # expanded: what it stands for is final
        self.outputs = 0  # a kind with several outputs (chunk): its name cannot be read, only NAME.k

    def default_name(self, kind: str) -> str:
        count = self.counters.get(kind, 0) + 1
        self.counters[kind] = count
        return f"{kind}_{count}"


class CallerName(str):
    """Text passed to a block parameter; if it is used in `inputs`, it names a layer of the scope it was written in."""

    scope: Scope

    def __new__(cls, text: str, scope: Scope) -> CallerName:
        made = super().__new__(cls, text)
        made.scope = scope
        return made


Ref = tuple[tuple[Scope, str], Any]  # ((scope, name as written), mark): an `inputs` entry awaiting resolution

# What a full name names, where its name (or, unnamed, its kind) is written, and the top-level entry it comes
# from: (where that entry's name or kind is written, its kind or block). A plain tuple: one per layer.
Made = tuple[Node | Scope, Any, tuple[Any, str]]


class NotYet(Exception):
    """A name that may still be made later in the spec (a forward reference): resolved once expansion is done."""


class Names:
    """Every full name made so far (layers, block uses, repeats), and what a name read in a scope stands for."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.made: dict[str, Made] = {}
        self.scopes: list[tuple[str, Scope]] = []  # block uses and repeats, by full name
        self.top: tuple[Any, str] = (None, "")  # the top-level entry being expanded
        self.skipped: dict[str, Any] = {}  # names of entries a condition left out, for messages

    def skip(self, scope: Scope, name: Any, mark: Any) -> None:
        """An entry left out by `when`: a later read of its name says so."""
        if isinstance(name, str) and "$" not in name:
            self.skipped.setdefault(scope.prefix + canonical(name), mark)

    def error(self, message: str, mark: Any, hint: str | None = None, layer: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=layer)

    def layer_name(self, name: Any, mark: Any) -> str:
        """A `name:` value checked against the naming rule, in its canonical form."""
        if type(name) is str and name.isidentifier() and name.isascii() and name != NETWORK_INPUT:
            return name  # one ASCII word: valid, and canonical as it is
        if not is_layer_name(name) or name == NETWORK_INPUT:
            quote = f" (write name: '{name}': quoted, a number is text)" if is_int(name) and name >= 0 else ""
            raise self.error(
                f"name: {describe(name)} is not a valid layer name{quote}",
                mark,
                hint=f"{RULE}; 'input' is reserved for the network's input",
            )
        return canonical(name)

    def add_node(self, node: Node, where: Any) -> None:
        if node.name in self.made:
            self.claim(node.name, node, where)  # a duplicate: reported there
        self.made[node.name] = (node, where, self.top)

    def add_scope(self, full: str, scope: Scope, where: Any) -> None:
        self.claim(full, scope, where)
        self.scopes.append((full, scope))

    def claim(self, full: str, what: Node | Scope, where: Any) -> None:
        """Record a full name; a name already taken is a duplicate, reported where the second one is written."""
        first = self.made.get(full)
        if first is None:
            self.made[full] = (what, where, self.top)
            return
        first_what, first_mark, first_top = first
        noun = "layer" if isinstance(what, Node) else "block use"
        if first_top == self.top:  # both in what one top-level entry expands to: point inside it
            location, note = where, expansion_note(what)
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

    def resolve(self, scope: Scope, ref: str, mark: Any, node: Node | None, final: bool = True) -> str:
        """The layer an `inputs` entry names: a layer's full name under the scope's prefix, `input`, or a block
        use or repeat, which stands for its last layer. Not `final` (during expansion): NotYet where the answer
        may still change (a name not made yet, a scope still being expanded)."""
        if ref != NETWORK_INPUT and ref.isascii():  # the common case: a layer of this scope, at once
            made = self.made.get(scope.prefix + ref)
            if made is not None and type(made[0]) is Node:
                return made[0].name
        seen: set[tuple[int, str]] = set()
        current, name = scope, ref if ref.isascii() else canonical(ref)
        while True:
            if (id(current), name) in seen:
                raise self.error(f"the name '{ref}' refers to itself", mark, layer=_label(node))
            seen.add((id(current), name))
            if name == NETWORK_INPUT:
                if current.input_ref is None:
                    return NETWORK_INPUT
                current, name, mark = current.input_ref
                continue
            made = self.made.get(current.prefix + name)
            if made is None:
                if not final:
                    raise NotYet(name)
                raise self.unknown_input(current, name, ref, mark, _label(node))
            what = made[0]
            if isinstance(what, Node):
                return what.name
            if not what.done and not final:
                raise NotYet(name)
            if what.outputs:
                full = current.prefix + name
                reads = " or ".join(f"{full}.{k}" for k in range(what.outputs)) if what.outputs < 5 else f"{full}.0"
                raise self.error(
                    f"{what.what.lower()} '{full}' has {what.outputs} outputs: read {reads}",
                    mark,
                    layer=_label(node),
                    hint=f"its outputs are {full}.0 ... {full}.{what.outputs - 1}; write inputs: [{full}.0]",
                )
            current, name = what, str(what.last or NETWORK_INPUT)

    def unknown_input(self, scope: Scope, name: str, ref: str, mark: Any, label: str | None) -> SpecError:
        """No layer of that name in the scope: say so, with the closest layer or block name there."""
        visible = [full[len(scope.prefix) :] for full in self.made if full.startswith(scope.prefix)]
        hint = did_you_mean(name, [*visible, NETWORK_INPUT])
        skipped = self.skipped.get(scope.prefix + name)
        if skipped is not None:
            hint = f"'{name}' is left out: its condition (when, line {skipped.line + 1}) is false"
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):  # `conv1.x` where conv1 is a layer: it has nothing inside
            made = self.made.get(scope.prefix + ".".join(parts[:end]))
            if hint is None and made is not None and isinstance(made[0], Node):
                hint = f"'{'.'.join(parts[:end])}' is a layer, not a block use: nothing is inside it"
        return self.error(
            f"inputs: no layer named '{ref}'" + (f" in block '{scope.block}'" if scope.block else ""),
            mark,
            layer=label,
            hint=hint or "names are the layers' 'name' or kind_N defaults, like conv2d_1",
        )

    def groups(self) -> dict[str, Group]:
        """Every block use and repeat that made layers, as graph.Group: what `explain --layer NAME` selects."""
        groups: dict[str, Group] = {}
        for full, scope in self.scopes:
            if scope.last_position >= scope.first_position > 0:
                output = self.output_of(scope)
                if output is not None:
                    groups[full] = Group(scope.what, output, scope.first_position, scope.last_position)
        return groups

    def output_of(self, scope: Scope) -> str | None:
        """The layer a group stands for (its last one made; for a chunk, its last output), None for none."""
        what: Node | Scope = scope
        while isinstance(what, Scope):
            last = what.last if not what.outputs else str(what.outputs - 1)
            if last is None:
                return None
            what = self.made[what.prefix + last][0]
        return what.name


def _label(node: Node | None) -> str | None:
    return node.label() if node is not None else None


def expansion_note(what: Node | Scope) -> str | None:
    uses = what.expanded_from
    if not uses:
        return None
    return "expanded from " + ", ".join(f"block '{b}' used at line {m.line + 1}" for b, m in uses)
