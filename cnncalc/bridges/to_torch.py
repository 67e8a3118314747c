"""A spec's graph as readable PyTorch source (`cnncalc export`): one nn.Module class per block, no cnncalc needed.

The source is text: nothing here imports torch. The module tree follows the spec's names (PyTorch's module paths),
so the state_dict keys of the exported model are the spec's layer names plus cnncalc's weight names:
- each block use is an instance of its block's class; uses of one block that expand to different layers (a
  condition, a kind passed as a parameter) get one class per structure, named after the parameter that tells them
  apart where one does (`UnitStride1`, `UnitStride2`), else numbered;
- a class's constructor arguments are the values that differ between its uses, named after the block's parameter
  holding that value in every use (or `in_channels`, the block input's channels), else after the layer and
  argument (`branch2_0_out_channels`); values equal in every use are written as they are;
- dotted names become containers: nn.ModuleList where the parts are 0 ... N-1 (torchvision's `layer1[0]`), else
  nn.ModuleDict, whose entries read as attributes (`self.se.fc1`);
- a block use whose inner layers are read from outside it (other than its output) is written inline in the class
  around it, its layers in containers under its name; a layer inside a block reading a layer outside it (U-Net's
  skip connection) makes that value an argument of the block's forward.
`forward` follows the graph; merges are expressions (`a + b`, torch.cat, `x.permute(...)`), and the kinds with no
torch.nn class (LayerScale, StochasticDepth) and CenterCrop are small definitions written into the file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnncalc.bridges.module_tree import Class, Use, block_uses, nest
from cnncalc.errors import UsageError
from cnncalc.graph import Graph, Node
from cnncalc.layers.base import Layer

# Kinds computed by an expression in forward: no module, so no state_dict entry.
EXPRESSIONS = frozenset(
    {"Add", "Mul", "Concat", "MatMul", "CenterCrop", "Chunk", "Split", "Permute", "Transpose", "Reshape", "View"}
)
OWN_CLASSES = ("LayerScale", "StochasticDepth")  # kinds with state but no torch.nn class: defined in the file
DROPPED = frozenset({"inplace"})  # in-place ops would overwrite values the graph still reads elsewhere
LINE = 120

# nn.ModuleDict's attributes (and nn.Module's): a module may not take these names (torch refuses them).
MODULE_ATTRIBUTES = frozenset(
    "T_destination add_module apply bfloat16 buffers call_super_init children clear compile cpu cuda double "
    "dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter get_submodule half ipu "
    "items keys load_state_dict modules mtia named_buffers named_children named_modules named_parameters parameters "
    "pop register_backward_hook register_buffer register_forward_hook register_forward_pre_hook "
    "register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook "
    "register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook "
    "register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory smart_apply state_dict "
    "to to_empty train training type update values xpu zero_grad".split()
)


# -- classes: one per block and structure ---------------------------------------------------------------------------


def local(use: Use, name: str) -> str:
    return name[len(use.prefix) :]


def member_name(use: Use, member: Any) -> str:
    return local(use, member.name)


def references(use: Use) -> dict[str, Any]:
    """How the layers a use's members read are named in its forward: `x`, its external inputs `ext0`..., and the
    local name of the member computing each of its own layers (a nested use computes its output)."""
    refs: dict[str, Any] = {use.input: ("in",)}
    for k, source in enumerate(use.external):
        refs.setdefault(source, ("ext", k))
    for member in use.members:
        output = member.name if isinstance(member, Node) else member.output
        refs[output] = ("member", member_name(use, member))
    return refs


def member_sources(member: Any) -> list[str]:
    return member.inputs if isinstance(member, Node) else [member.input, *member.external]


def signature(use: Use, keys: dict[str, Any]) -> Any:
    """What a use's class must do the same for every use: its members, their kinds (or classes), what they read,
    and the arguments of expressions in forward; not the values constructors take."""
    refs = references(use)
    members = []
    for member in use.members:
        reads = tuple(refs[s] for s in member_sources(member))
        if isinstance(member, Node):
            layer = member.bound()
            shown = tuple(sorted((k, repr(v)) for k, v in expression_arguments(layer).items()))
            members.append((member_name(use, member), member.kind, reads, shown))
        else:
            members.append((member_name(use, member), keys[member.name], reads))
    return (use.block, tuple(members), len(use.external), refs.get(use.output))


def expression_arguments(layer: Layer) -> dict[str, Any]:
    """The arguments forward reads (an expression's), none for a module's."""
    if layer.kind not in EXPRESSIONS:
        return {}
    values = {arg.name: getattr(layer, arg.name) for arg in layer.arguments}
    if layer.kind == "CenterCrop":
        values["axes"] = len(layer.in_shape) - 1
    return values


def classes(root: Use, graph: Graph, network: str) -> list[Class]:
    """Group the uses into classes (inner classes first), and name each class and its constructor arguments."""
    uses = _post_order(root)
    keys: dict[str, Any] = {}
    grouped: dict[Any, Class] = {}
    for use in uses:
        key = signature(use, keys)
        keys[use.name] = key
        if key not in grouped:
            grouped[key] = Class("", use.block, [])
        grouped[key].uses.append(use)
        use.cls = grouped[key]
    made = list(grouped.values())
    _name_classes(made, network)
    for cls in made:  # post order: a class's inner classes have their constructor arguments already
        _constructor(cls, graph)
    return made


def _post_order(use: Use) -> list[Use]:
    order: list[Use] = []
    stack: list[tuple[Use, bool]] = [(use, False)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        stack.append((current, True))
        stack.extend((m, False) for m in reversed(current.members) if isinstance(m, Use))
    return order


def camel(name: str) -> str:
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Block"
    return text if text[0].isalpha() else "Net" + text


def _name_classes(made: list[Class], network: str) -> None:
    taken = {"LayerScale", "StochasticDepth", "Tensor"}
    by_block: dict[str | None, list[Class]] = {}
    for cls in made:
        by_block.setdefault(cls.block, []).append(cls)
    for block, forms in by_block.items():
        base = camel(network) if block is None else camel(block)
        names = [base] if len(forms) == 1 else _form_names(base, forms)
        for cls, name in zip(forms, names, strict=True):
            unique, k = name, 2
            while unique in taken:
                unique, k = f"{name}{k}", k + 1
            taken.add(unique)
            cls.name = unique


def _form_names(base: str, forms: list[Class]) -> list[str]:
    """Names for the forms of one block: after a parameter whose value tells them apart, where one does."""
    params = list(forms[0].uses[0].params)
    for param in params:
        values = [{literal(u.params.get(param)) for u in cls.uses} for cls in forms]
        if all(len(v) == 1 for v in values) and len({next(iter(v)) for v in values}) == len(forms):
            shown = [camel(f"{param}_{next(iter(v)).strip(chr(39) + chr(34))}") for v in values]
            if all(s.isidentifier() for s in shown):
                for cls, value in zip(forms, values, strict=True):
                    cls.distinct = f"{param} = {next(iter(value))}"
                return [base + s for s in shown]
    for k, cls in enumerate(forms, start=1):
        cls.distinct = f"form {k} of {len(forms)}"
    return [f"{base}{k}" for k in range(1, len(forms) + 1)]


# -- constructor arguments ------------------------------------------------------------------------------------------


def module_arguments(layer: Layer) -> list[tuple[str, Any, bool]]:
    """A module's constructor arguments as (name, value, positional), PyTorch's defaults left out."""
    kind = layer.kind
    if kind == "LayerScale":
        shape = layer.weights()["gamma"]
        trailing, init = len(shape) - 1, layer.init_values
        return [
            ("channels", shape[0], True),
            ("trailing", _Default(trailing) if trailing == 0 else trailing, False),
            ("init_values", _Default(init) if init == 1e-5 else init, False),
        ]
    if kind == "StochasticDepth":
        return [("p", layer.p, False), ("mode", layer.mode, False)]
    out: list[tuple[str, Any, bool]] = []
    leading = True
    from cnncalc.args import REQUIRED, positional_names

    positional = positional_names(layer.arguments)
    for arg in layer.arguments:
        if not arg.pytorch:
            if getattr(layer, arg.name) != arg.default:
                raise UsageError(
                    f"{kind} with {arg.name}: {getattr(layer, arg.name)!r} is cnncalc's own: torch.nn has no such "
                    "layer",
                    hint="export writes torch.nn layers only",
                )
            continue
        if arg.name in DROPPED:
            continue
        value = shown_value(arg, getattr(layer, arg.name), layer.dims)
        is_positional = (
            leading and arg.name in positional and (arg.inferred or arg.name in ("out_channels", "out_features"))
        )
        leading = is_positional
        default = arg.default
        if not is_positional and default is not REQUIRED:
            try:
                default = (
                    shown_value(arg, arg.type.parse(default, layer.dims), layer.dims) if default is not None else None
                )
            except Exception:  # a default the type does not parse (None meaning "like another argument")
                pass
            if default is None and arg.name == "stride" and hasattr(layer, "kernel_size"):  # pools: None is the kernel
                default = shown_value(arg, layer.kernel_size, layer.dims)
            if literal(default) == literal(value):  # left out of the call where every use has it
                out.append((arg.name, _Default(value), False))
                continue
        out.append((arg.name, value, is_positional))
    return out


class _Default:
    """A value equal to PyTorch's default: left out of the call where every use of a class has it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def shown_value(arg: Any, value: Any, dims: int) -> Any:
    """A per-axis value written once where it is the same on every axis and the argument takes one number."""
    if isinstance(value, tuple) and value and all(v == value[0] and type(v) is type(value[0]) for v in value):
        try:
            if arg.type.parse(value[0], dims) == value:
                return value[0]
        except Exception:  # the argument takes no single number
            pass
    return value


def literal(value: Any) -> str:
    """A value as Python source."""
    if isinstance(value, _Default):
        return literal(value.value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else _fraction(value)
    if isinstance(value, str):
        import json

        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise UsageError(f"cannot write {value!r} as Python")


def _fraction(value: Fraction) -> str:
    as_float = float(value)
    return repr(as_float) if Fraction(as_float) == value else f"{value.numerator} / {value.denominator}"


def _calls(use: Use) -> list[tuple[str, list[tuple[str, Any, bool]]] | None]:
    """Per member: the callee and its arguments for this use (None for an expression in forward)."""
    calls: list[tuple[str, list[tuple[str, Any, bool]]] | None] = []
    for member in use.members:
        if isinstance(member, Use):
            assert member.cls is not None
            calls.append((member.cls.name, [(p, member.values[p], False) for p in member.cls.params]))
            continue
        layer = member.bound()
        if layer.kind in EXPRESSIONS:
            calls.append(None)
        else:
            callee = layer.kind if layer.kind in OWN_CLASSES else f"nn.{layer.kind}"
            calls.append((callee, module_arguments(layer)))
    return calls


def _constructor(cls: Class, graph: Graph) -> None:
    """The class's constructor arguments: the values that differ between its uses, each named after the block
    parameter (or `in_channels`, the input's channels) holding it in every use, else after its layer and argument."""
    per_use = [_calls(use) for use in cls.uses]
    candidates: list[tuple[str, list[str]]] = []
    if cls.block is not None:
        for param in cls.uses[0].params:
            candidates.append((param, [literal_or_none(u.params.get(param)) for u in cls.uses]))
        channels = [graph.shape_of(u.input)[0] if graph.shape_of(u.input) else None for u in cls.uses]
        candidates.append(("in_channels", [literal(c) for c in channels]))
    chosen: dict[tuple[str, ...], str] = {}
    values: list[dict[str, Any]] = [{} for _ in cls.uses]
    slots: dict[tuple[int, str], str] = {}
    for index, call in enumerate(per_use[0]):
        if call is None:
            continue
        for position, (arg, _, _) in enumerate(call[1]):
            column = [calls[index][1][position][1] for calls in per_use]  # type: ignore[index]
            shown = tuple(literal(v) for v in column)
            if len(set(shown)) == 1:
                continue
            name = chosen.get(shown)
            if name is None:
                name = next((p for p, vs in candidates if tuple(vs) == shown), None)
                name = identifier(name or _slot_name(cls.uses[0], index, arg, chosen.values()), chosen.values())
                chosen[shown] = name
            slots[(index, arg)] = name
            for k, value in enumerate(column):
                values[k][name] = value.value if isinstance(value, _Default) else value
    order = [identifier(p, ()) for p, _ in candidates]
    cls.params = sorted(set(chosen.values()), key=lambda p: (order.index(p) if p in order else len(order), p))
    if "in_channels" in cls.params:  # PyTorch's order: the input's channels first
        cls.params.remove("in_channels")
        cls.params.insert(0, "in_channels")
    cls.slots = slots
    cls.calls = per_use[0]
    for use, given in zip(cls.uses, values, strict=True):
        use.values = given


def _slot_name(use: Use, index: int, arg: str, taken: Iterable[str]) -> str:
    """A constructor argument no block parameter gives: after its layer and argument (`se_fc1_out_channels`);
    after the argument alone for a layer named by a number (`padding` for the '0' of a Conv2dNormActivation)."""
    member = member_name(use, use.members[index])
    if member[:1].isdigit():
        return arg if arg not in taken else f"layer{member}_{arg}"
    return f"{member}_{arg}"


def literal_or_none(value: Any) -> str:
    try:
        return literal(value)
    except UsageError:
        return repr(value)


RESERVED_IDENTIFIERS = frozenset({"self", "x", "torch", "nn", "super", "ext"})


def identifier(name: str, taken: Iterable[str]) -> str:
    """`name` as a Python identifier not in `taken`."""
    text = re.sub(r"[^0-9A-Za-z_]", "_", name) or "value"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in RESERVED_IDENTIFIERS:
        text += "_"
    taken = set(taken)
    unique, k = text, 2
    while unique in taken:
        unique, k = f"{text}_{k}", k + 1
    return unique


# -- the source ---------------------------------------------------------------------------------------------------


class Group:
    """Text laid out on one line where it fits, else one item per line (as ruff format would)."""

    def __init__(self, opening: str, items: list[Any], closing: str) -> None:
        self.opening, self.items, self.closing = opening, items, closing

    def flat(self) -> str:
        inner = ", ".join(render_flat(i) for i in self.items)
        return self.opening + inner + self.closing

    def lines(self, indent: int, lead: str = "", tail: str = "") -> list[str]:
        pad = " " * indent
        one = pad + lead + self.flat() + tail
        if len(one) <= LINE or not self.items:
            return [one]
        out = [pad + lead + self.opening]
        for item in self.items:
            if not isinstance(item, str):
                out += item.lines(indent + 4, tail=",")
            else:
                out.append(" " * (indent + 4) + item + ",")
        out.append(pad + self.closing + tail)
        return out


def render_flat(item: Any) -> str:
    return item if isinstance(item, str) else item.flat()


@dataclass
class Tree:
    """The modules of one class by their dotted names: containers hold children by part."""

    children: dict[str, Any] = field(default_factory=dict)  # part -> Tree or leaf (a member index)
    listed: bool | None = None  # is_list(), once the tree is built

    def is_list(self) -> bool:
        if self.listed is None:
            keys = list(self.children)
            numbers = all(k.isascii() and k.isdigit() for k in keys)
            self.listed = bool(keys) and numbers and sorted(map(int, keys)) == list(range(len(keys)))
        return self.listed


def attribute(part: str) -> bool:
    return part.isascii() and part.isidentifier() and not keyword.iskeyword(part) and not part.startswith("_")


class Writer:
    def __init__(self, graph: Graph, spec: str, command: str) -> None:
        self.graph = graph
        self.spec = spec
        self.command = command
        self.helpers: set[str] = set()

    # one class

    def module_tree(self, cls: Class) -> Tree:
        use = cls.uses[0]
        tree = Tree()
        for index, member in enumerate(use.members):
            if isinstance(member, Node) and member.kind in EXPRESSIONS:
                continue
            parts = member_name(use, member).split(".")
            node = tree
            for part in parts[:-1]:
                child = node.children.setdefault(part, Tree())
                if not isinstance(child, Tree):
                    raise UsageError(
                        f"layer '{member.name}' sits inside layer '{use.prefix}{part}': PyTorch has no such module"
                    )
                node = child
            if parts[-1] in node.children:
                raise UsageError(f"'{member.name}' is a layer and holds layers: PyTorch has no such module")
            node.children[parts[-1]] = index
            for part in parts:
                if part in MODULE_ATTRIBUTES:
                    raise UsageError(
                        f"layer '{member.name}': PyTorch modules cannot be named '{part}' (an nn.Module attribute)",
                        hint="rename the layer in the spec",
                    )
        return tree

    def call(self, cls: Class, index: int) -> Group:
        callee, args = cls.calls[index]
        if callee.startswith("LayerScale") or callee.startswith("StochasticDepth"):
            self.helpers.add(callee)
        items = []
        for name, value, positional in args:
            param = cls.slots.get((index, name))
            if param is None and isinstance(value, _Default):
                continue
            shown = param or literal(value)
            items.append(shown if positional else f"{name}={shown}")
        return Group(f"{callee}(", items, ")")

    def tree_items(self, cls: Class, tree: Tree) -> Any:
        if tree.is_list():
            return Group(
                "nn.ModuleList([", [self.item(cls, tree.children[str(k)]) for k in range(len(tree.children))], "])"
            )
        items = [self.keyed(cls, k, v) for k, v in tree.children.items()]
        return Group("nn.ModuleDict({", items, "})")

    def keyed(self, cls: Class, key: str, value: Any) -> Any:
        inner = self.item(cls, value)
        return _Prefixed(literal(key) + ": ", inner)

    def item(self, cls: Class, value: Any) -> Any:
        return self.tree_items(cls, value) if isinstance(value, Tree) else self.call(cls, value)

    def access(self, cls: Class, tree: Tree, parts: list[str]) -> str:
        text, node = "self", tree
        for depth, part in enumerate(parts):
            if depth == 0 and tree.is_list():
                text += f"[{part}]"
            elif depth == 0:
                text += f".{part}" if attribute(part) else f'.get_submodule("{part}")'
            elif node.is_list():
                text += f"[{part}]"
            else:
                text += f".{part}" if attribute(part) else f"[{literal(part)}]"
            child = node.children[part]
            node = child if isinstance(child, Tree) else node
        return text

    def class_source(self, cls: Class) -> list[str]:
        tree = self.module_tree(cls)
        base = "nn.ModuleList" if tree.is_list() else "nn.Module"
        lines = [f"class {cls.name}({base}):"]
        lines += _wrapped_doc(['    """' + self.class_doc(cls) + '"""'], indent=4)
        lines.append("")
        params = [f"{p}{annotation([u.values[p] for u in cls.uses])}" for p in cls.params]
        lines += Group("def __init__(", ["self", *params], ") -> None:").lines(4)
        if tree.is_list():
            items = [self.item(cls, tree.children[str(k)]) for k in range(len(tree.children))]
            lines += Group("super().__init__([", items, "])").lines(8)
        else:
            lines.append("        super().__init__()")
            for part, value in tree.children.items():
                item = self.item(cls, value)
                if attribute(part):
                    lines += _lines(item, 8, f"self.{part} = ")
                else:
                    lines += _lines(Group("self.add_module(", [literal(part), item], ")"), 8)
        lines.append("")
        lines += self.forward(cls, tree)
        return lines

    def class_doc(self, cls: Class) -> str:
        uses = cls.uses
        if cls.block is None:
            count = len(self.graph.nodes)
            return f"The network of {self.spec} ({count} layer{'s' * (count != 1)})."
        names = ", ".join(u.name for u in uses[:3]) + (f" and {len(uses) - 3} more" if len(uses) > 3 else "")
        form = ""
        if cls.distinct:
            form = f", {cls.distinct}" if cls.distinct.startswith("form") else f", the form where {cls.distinct}"
        return f"Block '{cls.block}'{form}: {names}."

    # forward

    def forward(self, cls: Class, tree: Tree) -> list[str]:
        use = cls.uses[0]
        refs = references(use)
        member_of = {member_name(use, m): k for k, m in enumerate(use.members)}
        external = [self.external_name(cls, k) for k in range(len(use.external))]
        args = ["self", "x: torch.Tensor", *(f"{e}: torch.Tensor" for e in external)]
        lines = Group("def forward(", args, ") -> torch.Tensor:").lines(4)
        # which member reads each value last (values: "x", "ext0"..., member indices)

        def key(source: str) -> Any:
            ref = refs[source]
            return "x" if ref[0] == "in" else f"ext{ref[1]}" if ref[0] == "ext" else member_of[ref[1]]

        output = key(use.output)
        last_read: dict[Any, int] = {}
        for k, member in enumerate(use.members):
            for source in member_sources(member):
                last_read[key(source)] = k
        variables: dict[Any, str] = {"x": "x", **{f"ext{k}": e for k, e in enumerate(external)}}
        live: set[str] = set(variables.values())
        for k, member in enumerate(use.members):
            sources = [key(s) for s in member_sources(member)]
            inputs = [variables[s] for s in sources]
            expression = self.expression(cls, tree, member, inputs)
            for s in set(sources):
                if last_read.get(s) == k and s != output:
                    live.discard(variables[s])
            if k not in last_read and k != output:
                lines.append(f"        _ = {expression}")
                continue
            free = [variables[s] for s in sources if variables[s] not in live and variables[s] not in external]
            if free:  # a value read for the last time: its variable takes the result (x = self.conv(x))
                name = free[0]
            else:
                name = identifier(member_name(use, member).split(".")[0], live | set(external) | {"x"})
            live.add(name)
            variables[k] = name
            lines += _lines(_Text(expression), 8, f"{name} = ")
        lines.append(f"        return {variables[output]}")
        return lines

    def external_name(self, cls: Class, k: int) -> str:
        """A forward argument after x: named after the block parameter that passes that layer in every use."""
        for param in cls.uses[0].params:
            if all(self.names_layer(u.params.get(param), u.external[k]) for u in cls.uses):
                return identifier(param, ())
        return f"x{k + 2}"

    def names_layer(self, value: Any, layer: str) -> bool:
        if not isinstance(value, str):
            return False
        group = self.graph.groups.get(value)
        return value == layer or (group is not None and group.output == layer)

    def expression(self, cls: Class, tree: Tree, member: Any, inputs: list[str]) -> str:
        use = cls.uses[0]
        if isinstance(member, Use):
            return f"{self.access(cls, tree, member_name(use, member).split('.'))}({', '.join(inputs)})"
        layer = member.bound()
        kind = layer.kind
        if kind not in EXPRESSIONS:
            module = self.access(cls, tree, member_name(use, member).split("."))
            if kind == "MultiheadAttention":  # self-attention reads its one input three times; output 0
                qkv = inputs * 3 if len(inputs) == 1 else inputs
                return f"{module}({', '.join(qkv)})[0]"
            return f"{module}({', '.join(inputs)})"
        args = expression_arguments(layer)
        x = inputs[0]
        if kind == "Add":
            return " + ".join(inputs)
        if kind == "Mul":
            return " * ".join(inputs)
        if kind == "MatMul":
            return f"{inputs[0]} @ {inputs[1]}"
        if kind == "Concat":
            return f"torch.cat([{', '.join(inputs)}], dim={args['dim']})"
        if kind == "Chunk":
            return f"{x}.chunk({args['chunks']}, dim={args['dim']})[{args['index'] or 0}]"
        if kind == "Split":
            return f"{x}.split({literal(args['split_size_or_sections'])}, dim={args['dim']})[{args['index'] or 0}]"
        if kind == "Permute":
            return f"{x}.permute({', '.join(map(str, args['dims']))})"
        if kind == "Transpose":
            return f"{x}.transpose({args['dim0']}, {args['dim1']})"
        if kind in ("Reshape", "View"):
            return f"{x}.{kind.lower()}({x}.shape[0], {', '.join(map(str, args['shape']))})"
        assert kind == "CenterCrop"
        self.helpers.add("center_crop")
        axes = args["axes"]
        if args["size"] is None:
            return f"center_crop({x}, {inputs[1]}.shape[-{axes}:])"
        size = args["size"]
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * axes
        return f"center_crop({x}, {literal(sizes)})"


class _Prefixed:
    """`key: value` inside a ModuleDict's braces."""

    def __init__(self, prefix: str, item: Any) -> None:
        self.prefix, self.item = prefix, item

    def flat(self) -> str:
        return self.prefix + render_flat(self.item)

    def lines(self, indent: int, lead: str = "", tail: str = "") -> list[str]:
        if not isinstance(self.item, str):
            return self.item.lines(indent, lead + self.prefix, tail)
        return [" " * indent + lead + self.prefix + self.item + tail]


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text

    def flat(self) -> str:
        return self.text

    def lines(self, indent: int, lead: str = "", tail: str = "") -> list[str]:
        return [" " * indent + lead + self.text + tail]


def _lines(item: Any, indent: int, lead: str = "") -> list[str]:
    if isinstance(item, str):
        return [" " * indent + lead + item]
    return item.lines(indent, lead)


def annotation(values: list[Any]) -> str:
    kinds = {type(v) for v in values}
    if kinds == {bool}:
        return ": bool"
    if kinds <= {int} and kinds:
        return ": int"
    if kinds <= {int, float} and kinds:
        return ": float"
    if kinds == {str}:
        return ": str"
    if kinds == {tuple}:
        return ": tuple"
    return ""


HELPERS = {
    "LayerScale": '''
class LayerScale(nn.Module):
    """x * gamma: one learned scale per channel (ConvNeXt's layer scale), `gamma` shaped to broadcast over the
    `trailing` axes after the channels (C x 1 x 1 for C x H x W: torchvision's layer_scale; C: timm's gamma)."""

    def __init__(self, channels: int, trailing: int = 0, init_values: float = 1e-05) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,) + (1,) * trailing, init_values))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: in training, each sample ("row") or the whole batch ("batch") is dropped
    with probability p and the rest divided by 1 - p; the identity in eval."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise
''',
    "center_crop": '''
def center_crop(x: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """torchvision's center_crop on the trailing axes: zero-padded where the crop is larger (the odd one after),
    then cut from int(round((length - size) / 2))."""
    axes = len(size)
    pads: list[int] = []
    for length, wanted in zip(reversed(x.shape[-axes:]), reversed(size), strict=True):
        missing = max(wanted - length, 0)
        pads += [missing // 2, (missing + 1) // 2]
    if any(pads):
        x = nn.functional.pad(x, pads)
    for axis, wanted in enumerate(size, start=x.dim() - axes):
        x = x.narrow(axis, int(round((x.shape[axis] - wanted) / 2.0)), wanted)
    return x
''',
}


def export_source(graph: Graph, spec: str, command: str) -> str:
    """The spec's network as a Python module defining its classes, INPUT_SHAPE and build_model()."""
    from cnncalc import __version__

    root = nest(graph, block_uses(graph))
    made = classes(root, graph, graph.name)
    writer = Writer(graph, spec, command)
    bodies: list[str] = []
    for cls in made:
        bodies += ["", ""] + writer.class_source(cls)
    weights = _given_weights(graph)
    network = root.cls
    assert network is not None
    forms = [c for c in made if c.distinct]
    description = graph.document.get("description") if graph.document is not None else None
    title = f"{graph.name}: {description}" if isinstance(description, str) else graph.name
    lines = [
        f"# Generated by cnncalc {__version__} from {_one_line(spec)}; it needs PyTorch only.",
        f"# To rebuild it: {_one_line(command)}",
        '"""' + title.replace("\\", "\\\\").replace('"', '\\"'),
        "",
        "One nn.Module class per block of the spec, holding the layers the block makes under their names in the spec",
        "(dotted names are nested: nn.ModuleList for 0, 1, ..., else nn.ModuleDict). A class's constructor takes",
        "the values that differ between the block's uses, named after the block parameter that gives them.",
    ]
    if forms:
        lines += [
            "A block whose uses make different layers (a condition, a kind passed as a parameter) has one class per "
            "form, so that every class builds and runs the same layers in every use, with no condition left in "
            "__init__ or forward: " + ", ".join(f"{c.name} ({c.distinct})" for c in forms) + ".",
        ]
    lines += [
        "In-place activations are written out of place: forward may read a value again after one.",
        '"""',
        "",
        "import torch",
        "from torch import nn",
        "",
        f"INPUT_SHAPE = {literal(tuple(graph.input_shape))}  # one sample; forward takes a batch of them",
    ]
    lines = _wrapped_doc(lines)
    for helper in ("LayerScale", "StochasticDepth", "center_crop"):
        if helper in writer.helpers:
            lines += [""] + HELPERS[helper].rstrip("\n").split("\n")
    lines += bodies
    if weights:
        lines += ["", "", "# The spec's `weights`, by state_dict key: build_model() loads them."]
        lines += Group(
            "WEIGHTS = {", [_Prefixed(literal(k) + ": ", _nested(v)) for k, v in weights.items()], "}"
        ).lines(0)
    lines += ["", "", f"def build_model() -> {network.name}:"]
    loaded = " with the spec's weights loaded (the others as PyTorch initializes them)" if weights else ""
    lines.append(f'    """The network in eval mode{loaded}."""')
    lines.append(f"    model = {network.name}()")
    if weights:
        lines.append(
            "    model.load_state_dict({key: torch.tensor(value) for key, value in WEIGHTS.items()}, strict=False)"
        )
    lines.append("    return model.eval()")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return text if text.isprintable() else repr(text)


def _wrapped_doc(lines: list[str], indent: int = 0) -> list[str]:
    """Lines cut at spaces to the line length (comments continue as comments)."""
    out = []
    for line in lines:
        lead = "# " if line.startswith("# ") else " " * indent
        while len(line) > LINE and " " in line[len(lead) : LINE]:
            cut = line.rindex(" ", len(lead), LINE)
            out.append(line[:cut])
            line = lead + line[cut + 1 :]
        out.append(line)
    return out


def _given_weights(graph: Graph) -> dict[str, Any]:
    """The spec's `weights` as nested lists of exact values, by state_dict key."""
    from cnncalc.execute import weights_for

    given: dict[str, Any] = {}
    for layer, values in weights_for(graph, 0, generate=False).items():
        for name, tensor in values.items():
            denominator = tensor.denominator
            exact = tensor.data if denominator == 1 else [Fraction(v, denominator) for v in tensor.data]
            given[f"{layer}.{name}"] = _nest_values(exact, tensor.shape)
    return given


def _nest_values(data: list[Any], shape: tuple[int, ...]) -> Any:
    if not shape:
        return data[0]
    if len(shape) == 1:
        return list(data)
    step = len(data) // shape[0]
    return [_nest_values(data[k * step : (k + 1) * step], shape[1:]) for k in range(shape[0])]


def _nested(value: Any) -> Any:
    if isinstance(value, list):
        return Group("[", [_nested(v) for v in value], "]")
    return literal(value)
