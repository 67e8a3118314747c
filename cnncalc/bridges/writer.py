"""An ImportedNetwork as spec text (docs/language.md), read back by cnncalc.spec like any hand-written spec.

`write_spec(network, fold=False)` writes one entry per layer, named with the layer's full name (PyTorch's module
path), `inputs` only where a layer does not read the entry before it.

`write_spec(network)` folds: module instances of one class with the same structure become uses of one block, so
an imported ResNet-50 reads like specs/resnet50.yaml (35 lines, not 179). The rules, and why:

- The module tree comes from the layers' `scopes`. An instance (module path) can be a block use when its layers
  are contiguous in the layer order (a use makes its layers one after the other); every layer and nested module
  inside it is named under its path (full name = use name + local name, so state_dict keys stay PyTorch's); its
  layers read exactly one tensor from outside, the block's `input`; and it holds more than one layer (a block of
  one layer is never shorter than the layer). The use stands for its last layer. Layers outside may still read an
  inner layer by its full name (`layer1.0.conv1` reaches inside the use `layer1.0`, docs/language.md), so that
  needs no rule. An instance reading two outside tensors is written inline: a second one could be passed as a
  parameter holding a layer name, but DenseNet's dense layers, the torchvision case, read a different number of
  them in every instance, which no block parameter expresses.
- Containers (Sequential, ModuleList, ModuleDict) are never blocks: their children go on with dotted names
  (`- bottleneck: {name: layer1.0}`). A Sequential subclass (torchvision's Conv2dNormActivation) has a class name
  of its own and is a block like any module.
- Instances of one class are grouped by structure: local names, kinds, what each layer reads, the argument keys
  that have no default (an argument left out is at its kind's default, so `stride: 2` in one instance and no
  stride in another is a parameter, not two structures), and the same for nested instances. A nested block use
  counts as "a use of block B" whatever its arguments, so its parents still group; grouping is repeated until it
  settles, since a parent's structure depends on which of its children became uses.
- Structures that differ only in which activation (without arguments) a layer is share a block, with the kind as
  a parameter (`- $activation`, docs/language.md "Kinds as parameters"): torchvision's Conv2dNormActivation.
- Two structures of one class that differ in one run of entries, with at least as many layers in common as in
  either run (ResNet's Bottleneck with and without `downsample`), become one block with an `if:` on a boolean
  parameter named after the run (`downsample`; `use_KIND` where its name is a number; `residual` where the run
  adds the block's input; an optional run of one entry is that entry's `when:`); the two branches keep
  their own parameters even where a layer has the same name in both. Anything else is a block of its own
  (`bottleneck_2`). A block is written only for a structure used at least twice; an instance that occurs once
  is written inline, flat.
- Argument values that agree in every instance are written literally; the others become parameters, named after
  the argument (`stride`) or, where two parameters would share that, after the layer too (`conv1_out_channels`).
  Arguments whose values agree in every instance share one parameter; one that is an integer multiple of an
  earlier parameter in every instance is written as that multiple (`4 * $conv1_out_channels`). A parameter's
  default is the value most uses share, if more than half do (uses then give only the values that differ);
  otherwise it has none and every use gives it (GoogLeNet's Inception widths read as the paper's table).
- Consecutive uses of one block named P.0 ... P.N-1, each reading the one before, become one entry with
  `repeat: N, name: P`, where every argument is one value or a simple function of `$index` (the first copy
  differs: `2 if $index == 0 else 1`; or `a + b * $index`). torchvision's ResNet stages are then one line each.
- Block names are the class names in snake_case, never a kind's name (torchvision's Permute: `permute_block`) nor
  `if`/`input`; further blocks of one class get `_2`, `_3`.

The folded text is checked before it is returned: loaded with cnncalc.spec, it must make the same layers (names,
kinds, arguments as the kinds read them, inputs) in the same order as the network. If it does not (a form this
writer did not foresee), the flat text is returned with a note saying so: correct and long beats short and wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cnncalc.bridges.network import NETWORK_INPUT, ImportedLayer, ImportedNetwork
from cnncalc.yamltext import flow_value


def yaml_mapping(items: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {flow_value(value)}" for key, value in items.items()) + "}"


def entry(kind: str, arguments: dict[str, Any]) -> str:
    """One list entry's text after '- ': a bare kind, or `kind: {arguments}`."""
    return f"{kind.lower()}: {yaml_mapping(arguments)}" if arguments else kind.lower()


def header(network: ImportedNetwork) -> list[str]:
    lines = [f"# imported by cnncalc import from {network.source}"]
    lines += [f"# note: {note}" for note in network.notes]
    lines += [f"name: {flow_value(network.name)}", f"input: {flow_value(list(network.input_shape))}"]
    return lines


def layer_entry(layer: ImportedLayer, previous: str, name: str | None = None) -> str:
    """The layer as a list entry: its arguments, then `name`, then `inputs` unless it reads `previous` alone."""
    arguments = dict(layer.arguments)
    arguments["name"] = name if name is not None else layer.name
    if layer.inputs != [previous]:
        arguments["inputs"] = layer.inputs[0] if len(layer.inputs) == 1 else list(layer.inputs)
    return entry(layer.kind, arguments)


def write_flat(network: ImportedNetwork) -> str:
    lines = [*header(network), "layers:"]
    previous = NETWORK_INPUT
    for layer in network.layers:
        lines.append(f"  - {layer_entry(layer, previous)}")
        previous = layer.name
    return "\n".join(lines) + "\n"


def write_spec(network: ImportedNetwork, *, fold: bool = True) -> str:
    """The network as spec text: with blocks for repeated modules (`fold`), or one entry per layer."""
    if not fold:
        return write_flat(network)
    try:
        text = write_folded(network)
    except Exception as error:  # a form folding did not foresee: the flat spec is still right (noted, not hidden)
        problem = f"{type(error).__name__}: {error}"
    else:
        problem = folding_problem(network, text)
        if problem is None:
            return text
    flat = write_flat(network).split("\n")
    note = f"# note: written flat: the folded spec did not check ({problem})"
    return "\n".join([flat[0], note, *flat[1:]])


# -- folding ------------------------------------------------------------------------------------------------------

CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
BRANCHES = ("@then", "@else")  # marks on the local names of a branch's layers, in slots only
KIND_SLOT = "@kind"  # the slot of a layer's kind, where it may be a parameter
_MISSING: Any = object()  # a slot an instance does not have (the other branch of an `if`)
_REQUIRED: Any = object()  # a parameter without a default: every use gives it
_RESERVED_PARAMS = frozenset(
    {"name", "inputs", "repeat", "when", "trainable", "weights", "ignore", "index", "in_channels", "in_length"}
    | {"in_height", "in_width", "in_depth", "in_features", "in_shape", "if", "then", "else", "input"}
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BARE_EXPRESSION = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9_$ .*+\-=!<>]*$")  # safe unquoted in a flow mapping


@dataclass(eq=False)
class _Node:
    """One module instance (or the root, path ""): its layers and nested instances in layer order."""

    path: str
    cls: str
    items: list[ImportedLayer | _Node] = field(default_factory=list)
    contiguous: bool = True
    members: list[str] = field(default_factory=list)  # every layer inside, in order
    external: list[str] = field(default_factory=list)  # distinct tensors read from outside, in order
    nested: list[str] = field(default_factory=list)  # paths of every instance inside
    foldable: bool = False
    sig: int = -1
    template: _Template | None = None  # set when the instance is written as a block use
    values: dict[str, Any] = field(default_factory=dict)  # its block's parameters, for this instance
    height: int = 0

    @property
    def last(self) -> str:
        return self.members[-1]

    def local(self, name: str) -> str:
        return name[len(self.path) + 1 :] if self.path else name


@dataclass(eq=False)
class _Template:
    """One block: the instances of one class with one structure, or two structures told apart by an `if`."""

    cls: str
    variants: list[list[int]]  # structure ids of each variant: the first is `then` when there are two
    instances: list[_Node] = field(default_factory=list)
    blind: tuple = ()  # the structure of variants[0], activation kinds left out
    split: tuple[int, int, int] | None = None  # (common prefix, run in variants[0], run in variants[1]) items
    flag: str = ""
    flag_text: str = ""
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # name -> default
    texts: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)  # slot -> (text, literal value)

    @property
    def key(self) -> tuple[str, tuple[int, ...]]:
        return self.cls, tuple(sorted(sig for variant in self.variants for sig in variant))


def build_tree(layers: list[ImportedLayer]) -> tuple[_Node, list[_Node]]:
    """The module tree: the root and every instance (post-order), each instance's items in layer order. An
    instance whose layers are interrupted by others appears as several pieces, all marked not contiguous."""
    root = _Node("", "")
    stack = [root]
    seen: dict[str, list[_Node]] = {}
    for layer in layers:
        chain = layer.scopes
        depth = 0
        while depth < len(chain) and depth + 1 < len(stack) and stack[depth + 1].path == chain[depth].path:
            depth += 1
        del stack[depth + 1 :]
        for scope in chain[depth:]:
            node = _Node(scope.path, scope.cls)
            pieces = seen.setdefault(scope.path, [])
            pieces.append(node)
            if len(pieces) > 1:
                for piece in pieces:
                    piece.contiguous = False
            stack[-1].items.append(node)
            stack.append(node)
        stack[-1].items.append(layer)
    order: list[_Node] = []
    _describe(root, order)
    return root, order


def _describe(node: _Node, order: list[_Node]) -> None:
    """Fill members, nested paths, external inputs, height and whether the instance may be a use; post-order."""
    for item in node.items:
        if isinstance(item, _Node):
            _describe(item, order)
            node.members += item.members
            node.nested += [item.path, *item.nested]
            node.height = max(node.height, item.height + 1)
        else:
            node.members.append(item.name)
    inside = set(node.members)
    external: dict[str, None] = {}
    for layer in _layers(node):
        for name in layer.inputs:
            if name not in inside:
                external.setdefault(name, None)
    node.external = list(external)
    prefix = node.path + "."
    node.foldable = bool(
        node.path
        and node.contiguous
        and node.cls not in CONTAINERS
        and len(node.external) == 1
        and len(node.members) > 1  # a block of one layer is never shorter than the layer
        and all(name.startswith(prefix) for name in [*node.members, *node.nested])
    )
    if node.path:
        order.append(node)


def _layers(node: _Node) -> list[ImportedLayer]:
    found: list[ImportedLayer] = []
    for item in node.items:
        found += _layers(item) if isinstance(item, _Node) else [item]
    return found


class _Structures:
    """Structure ids: equal ids mean equal structure (items, names, kinds, argument keys, what is read)."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}

    def of(self, node: _Node) -> int:
        items = tuple(self.item(item, node) for item in node.items)
        return self.ids.setdefault((node.cls, node.foldable, items), len(self.ids))

    def item(self, item: ImportedLayer | _Node, node: _Node) -> tuple:
        if isinstance(item, _Node):
            inner = ("use", item.template.key) if item.template is not None else ("inline", item.sig)
            return ("N", _relative(item.path, node), inner, tuple(_ref_shape(x, node) for x in item.external))
        reads = tuple(_ref_shape(x, node) for x in item.inputs)
        fixed = tuple(key for key in item.arguments if key not in kind_defaults(item.kind))
        return ("L", _relative(item.name, node), item.kind, fixed, reads)


_DEFAULTS: dict[str, dict[str, Any]] = {}
# Kinds one module class takes as a choice (torchvision's Conv2dNormActivation: activation_layer): where
# instances differ only in which of these a layer is, the kind is a block parameter (`- $activation`).
ACTIVATIONS = frozenset(
    {"ReLU", "ReLU6", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "Tanh", "GELU", "Mish", "Identity", "ELU"}
    | {"SELU", "CELU", "LeakyReLU", "Hardtanh", "Softplus", "Softsign", "LogSigmoid", "Tanhshrink", "Hardshrink"}
)
ACTIVATION = "activation"


def swappable(layer: ImportedLayer) -> bool:
    """An activation without arguments: which one it is may be a block parameter."""
    return layer.kind in ACTIVATIONS and not layer.arguments and len(layer.inputs) == 1


def kind_defaults(kind: str) -> dict[str, Any]:
    """The kind's arguments that have a default (not null), as PyTorch writes it (stride: 1): an argument an
    importer left out has that value, so instances differing only there can share a block."""
    if kind not in _DEFAULTS:
        import cnncalc.layers  # noqa: F401  (registers every kind)
        from cnncalc.args import REQUIRED
        from cnncalc.layers.registry import REGISTRY

        cls = REGISTRY.get(kind.lower())
        declared = cls.arguments if cls is not None else ()
        _DEFAULTS[kind] = {a.name: a.default for a in declared if a.default is not REQUIRED and a.default is not None}
    return _DEFAULTS[kind]


def _declared_order(kind: str, key: str) -> int:
    import cnncalc.layers  # noqa: F401
    from cnncalc.layers.registry import REGISTRY

    cls = REGISTRY.get(kind.lower())
    names = [a.name for a in cls.arguments] if cls is not None else []
    return names.index(key) if key in names else len(names)


def _relative(name: str, node: _Node) -> str | tuple[str, str]:
    return node.local(name) if not node.path or name.startswith(node.path + ".") else ("?", name)


def _ref_shape(name: str, node: _Node) -> Any:
    return ("external", node.external.index(name)) if name in node.external else _relative(name, node)


def plan(order: list[_Node]) -> list[_Template]:
    """Decide which instances are block uses, and of which block: group by structure until nothing changes."""
    structures = _Structures()
    decided: dict[int, Any] = {}
    templates: list[_Template] = []
    for _ in range(12):
        for node in order:
            node.sig = structures.of(node)
        templates = _templates(order, structures)
        now = {id(node): (node.template.key if node.template else None) for node in order}
        if now == decided:
            break
        decided = now
    return templates


def _templates(order: list[_Node], structures: _Structures) -> list[_Template]:
    by_class: dict[str, dict[tuple, dict[int, list[_Node]]]] = {}
    items = {sig: key[2] for key, sig in structures.ids.items()}
    for node in order:
        node.template = None
        if node.foldable:
            by_class.setdefault(node.cls, {}).setdefault(_blind(items[node.sig]), {}).setdefault(node.sig, [])
            by_class[node.cls][_blind(items[node.sig])][node.sig].append(node)
    chosen: list[_Template] = []
    for cls, blind_groups in by_class.items():
        units: list[tuple[list[int], list[_Node], tuple]] = []  # structures that differ only in activations
        for blind, groups in blind_groups.items():
            joined: list[tuple[list[int], list[_Node], tuple]] = []
            for sig, nodes in sorted(groups.items(), key=lambda pair: -len(pair[1])):
                unit = next((u for u in joined if _kinds_swap([u[1], nodes])), None)
                if unit is None:
                    joined.append(([sig], list(nodes), blind))
                else:
                    unit[0].append(sig)
                    unit[1].extend(nodes)
            units += joined
        made: list[_Template] = []
        for sigs, nodes, blind in sorted(units, key=lambda unit: -len(unit[1])):
            for template in made:
                if template.split is None and _merge(template, sigs, blind, nodes):
                    template.instances += nodes
                    break
            else:
                made.append(_Template(cls, [sigs], list(nodes), blind=blind))
        for template in made:
            if len(template.instances) >= 2:
                for node in template.instances:
                    node.template = template
                chosen.append(template)
    return chosen


def _blind(items: tuple) -> tuple:
    """A structure with the kinds of activations left out: where only those differ, the kind is a parameter."""
    return tuple((*i[:2], ACTIVATION, *i[3:]) if i[0] == "L" and i[2] in ACTIVATIONS else i for i in items)


def _kinds_swap(groups: list[list[_Node]]) -> bool:
    """Whether structures that differ only in activation kinds can share a block: every layer whose kind differs
    is given no arguments in any instance (so `- $activation` with no arguments writes each of them)."""
    nodes = [node for group in groups for node in group]
    return all(_swappable_column([node.items[i] for node in nodes]) for i in range(len(nodes[0].items)))


def _swappable_column(column: list[ImportedLayer | _Node]) -> bool:
    """Items at one position of instances: one kind, or activations without arguments."""
    layers = [item for item in column if isinstance(item, ImportedLayer)]
    return len({layer.kind for layer in layers}) <= 1 or not any(layer.arguments for layer in layers)


def _merge(template: _Template, sigs: list[int], blind: tuple, others: list[_Node]) -> bool:
    """Whether structures `sigs` (of `node`) join the template's structure as the other branch of an `if`: they
    differ in one run of items, and share at least as many layers as either run has."""
    first, second = template.blind, blind
    sizes = [[_size(item) for item in n.items] for n in (template.instances[0], others[0])]
    prefix = 0
    while prefix < min(len(first), len(second)) and first[prefix] == second[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(first), len(second)) - prefix
        and first[len(first) - 1 - suffix] == second[len(second) - 1 - suffix]
    ):
        suffix += 1
    runs = (len(first) - prefix - suffix, len(second) - prefix - suffix)
    common = sum(sizes[0][:prefix]) + sum(sizes[0][len(first) - suffix :])
    run_sizes = [sum(sizes[k][prefix : prefix + runs[k]]) for k in (0, 1)]
    if common < max(run_sizes) or common == 0 or max(runs) == 0:
        return False
    instances = [*template.instances, *others]
    if not all(_swappable_column([n.items[i] for n in instances]) for i in [*range(prefix), *range(-suffix, 0)]):
        return False
    if runs[1] > runs[0]:  # the longer run is `then`: the optional part (downsample) reads as the condition
        template.variants, runs = [sigs, template.variants[0]], (runs[1], runs[0])
    else:
        template.variants = [template.variants[0], sigs]
    template.split = (prefix, runs[0], runs[1])
    return True


def _size(item: ImportedLayer | _Node) -> int:
    return len(item.members) if isinstance(item, _Node) else 1


# -- block parameters ---------------------------------------------------------------------------------------------


def snake_case(name: str) -> str:
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words)
    return re.sub(r"[^0-9a-zA-Z_]+", "_", words).strip("_").lower() or "block"


def name_blocks(templates: list[_Template]) -> None:
    import cnncalc.layers  # noqa: F401  (registers every kind)
    from cnncalc.layers.registry import REGISTRY

    words = set(REGISTRY) | {"if", "input", "then", "else"}
    taken = set(words)
    for template in templates:
        base = snake_case(template.cls)
        if base[0].isdigit():
            base = "block_" + base
        if base in words:  # a kind's name: `linear` would be read as the kind
            base += "_block"
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        template.name = name
        taken.add(name)


def _variant(node: _Node, template: _Template) -> int:
    return next((index for index, sigs in enumerate(template.variants) if node.sig in sigs), 0)


def _slots(items: list, base: _Node, slots: dict[tuple[str, str], Any], kinds: dict[str, str], tag: str = "") -> None:
    """The values an instance gives: (local name of a layer or nested use, argument or parameter) -> value; and
    the kind of each of its layers by local name. `tag` sets apart the layers of one branch of an `if` (the other
    branch may have a layer of the same name that is another thing)."""
    for item in items:
        if isinstance(item, _Node):
            if item.template is not None:
                for param, value in item.values.items():
                    slots[(base.local(item.path) + tag, param)] = value
            else:
                _slots(item.items, base, slots, kinds, tag)
        else:
            local = base.local(item.name) + tag
            kinds[local] = item.kind
            if swappable(item):
                slots[(local, KIND_SLOT)] = item.kind.lower()
            for key, value in item.arguments.items():
                slots[(local, key)] = value


def _tagged(node: _Node, template: _Template) -> list[tuple[list, str]]:
    """The instance's items in parts: before an `if`, its branch (tagged), after it."""
    if template.split is None:
        return [(node.items, "")]
    prefix, *runs = template.split
    variant = _variant(node, template)
    end = prefix + runs[variant]
    return [(node.items[:prefix], ""), (node.items[prefix:end], BRANCHES[variant]), (node.items[end:], "")]


def _value(slot: tuple[str, str], slots: dict, kinds: dict[str, str]) -> Any:
    """The instance's value for a slot: given, the kind's default where its layer leaves it out, or _MISSING."""
    if slot in slots:
        return slots[slot]
    kind = kinds.get(slot[0])
    return kind_defaults(kind).get(slot[1], _MISSING) if kind is not None else _MISSING


def choose_params(template: _Template) -> None:
    """Literal texts for the slots that agree in every instance; parameters (shared where equal, multiples where
    they are) for the others; each instance's values for them."""
    instances = template.instances
    per_instance: list[tuple[dict[tuple[str, str], Any], dict[str, str]]] = []
    for node in instances:
        slots: dict[tuple[str, str], Any] = {}
        kinds: dict[str, str] = {}
        if template.flag:
            slots[("", template.flag)] = _variant(node, template) == 0
        for part, tag in _tagged(node, template):
            _slots(part, node, slots, kinds, tag)
        per_instance.append((slots, kinds))
    owners: dict[str, None] = {}  # local names in the order the block writes them
    for slots, _ in per_instance:
        owners.update(dict.fromkeys(local for local, _ in slots))
    rank = {local: index for index, local in enumerate(owners)}
    every: dict[tuple[str, str], str] = {}
    for slots, kinds in per_instance:
        every.update({slot: kinds.get(slot[0], "") for slot in slots})
    order = sorted(every, key=lambda slot: (rank[slot[0]], _declared_order(every[slot], slot[1])))
    vectors = {slot: [_value(slot, slots, kinds) for slots, kinds in per_instance] for slot in order}
    params: list[tuple[tuple[str, str], list[Any], str]] = []  # (first slot, vector, name)
    keys = Counter(ACTIVATION if slot[1] == KIND_SLOT else slot[1] for slot, v in vectors.items() if not _constant(v))
    taken: set[str] = set()
    for slot, vector in vectors.items():
        if _constant(vector):
            value = next(v for v in vector if v is not _MISSING)
            template.texts[slot] = (flow_value(value), value)
            continue
        text = _shared(slot, vector, params)
        if text is None:
            name = _param_name(slot, keys, taken)
            taken.add(name)
            params.append((slot, vector, name))
            text = f"${name}"
        template.texts[slot] = (text, _MISSING)
    for _, vector, name in params:
        present = [v for v in vector if v is not _MISSING]
        counts = Counter(_hashable(v) for v in present if v is not None)
        common, count = counts.most_common(1)[0] if counts else (None, 0)
        if count * 2 <= len(vector) and len(present) == len(vector):  # no value most uses share: given at each
            template.params[name] = _REQUIRED
        else:
            template.params[name] = next(v for v in present if _hashable(v) == common) if counts else None
        for node, value in zip(instances, vector, strict=True):
            if value is not _MISSING:
                node.values[name] = value


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else (type(value), value)


def _constant(vector: list[Any]) -> bool:
    present = [_hashable(v) for v in vector if v is not _MISSING]
    return len(set(present)) <= 1


def _shared(
    slot: tuple[str, str], vector: list[Any], params: list[tuple[tuple[str, str], list[Any], str]]
) -> str | None:
    """`$p` for a parameter of the same quantity with the same values wherever this slot has one, `k * $p` for a
    width that is an integer multiple of another in every instance (`4 * $conv1_out_channels`)."""
    for first, known, name in params:
        pairs = [(v, k) for v, k in zip(vector, known, strict=True) if v is not _MISSING]
        if any(k is _MISSING for _, k in pairs) or not _same_quantity(slot[1], first[1]):
            continue
        if all(_hashable(v) == _hashable(k) for v, k in pairs):
            return f"${name}"
    for first, known, name in params:
        pairs = [(v, k) for v, k in zip(vector, known, strict=True) if v is not _MISSING]
        if not (_width(slot[1]) and _width(first[1])):
            continue
        if any(k is _MISSING or not _is_int(k) or not _is_int(v) or k <= 0 for v, k in pairs):
            continue
        ratios = {v / k for v, k in pairs}
        if len(ratios) == 1 and (ratio := ratios.pop()) == int(ratio) and 2 <= ratio <= 64:
            return f"{int(ratio)} * ${name}"
    return None


def _width(key: str) -> bool:
    return key.endswith(("channels", "features"))


def _same_quantity(key: str, other: str) -> bool:
    """Whether two arguments (or parameters, `conv2_stride`) count the same thing, so that equal values in every
    instance are one parameter: a stride and a stride, a width and a width or a group count (depthwise)."""
    sizes = (key.endswith(("channels", "features", "groups")), other.endswith(("channels", "features", "groups")))
    return key == other or key.endswith("_" + other) or other.endswith("_" + key) or all(sizes)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _param_name(slot: tuple[str, str], keys: Counter, taken: set[str]) -> str:
    """The argument's own name where no other parameter would have it; else the layer's local name too."""
    local, key = slot[0].split("@")[0], slot[1]
    key = ACTIVATION if key == KIND_SLOT else key
    owner = re.sub(r"[^A-Za-z0-9_]", "_", local)
    candidates = [key] if keys[key] == 1 or not local else []
    candidates.append(f"{owner}_{key}" if owner and not owner[0].isdigit() else f"layer{owner}_{key}")
    for candidate in candidates:
        if _IDENTIFIER.match(candidate) and candidate not in _RESERVED_PARAMS and candidate not in taken:
            return candidate
    base = candidates[-1] if _IDENTIFIER.match(candidates[-1]) else "param"
    count = 2
    while f"{base}_{count}" in taken or f"{base}_{count}" in _RESERVED_PARAMS:
        count += 1
    return f"{base}_{count}"


def _flag_name(template: _Template, node: _Node) -> str:
    """The `if` parameter: `residual` where the run adds the block's input (MobileNetV2's InvertedResidual), else
    named after the run's first entry (`downsample` for downsample.0), or its kind where its name is a number
    (`use_activation` for torchvision's Conv2dNormActivation's "2")."""
    prefix, run, _ = template.split or (0, 0, 0)
    shortcut = [i for i in node.items[prefix : prefix + run] if isinstance(i, ImportedLayer) and i.kind == "Add"]
    if any(node.external[0] in layer.inputs for layer in shortcut):  # the sum with the block's input
        return "residual"
    for item in node.items[prefix : prefix + run]:
        local = node.local(item.path if isinstance(item, _Node) else item.name)
        word = re.sub(r"[^A-Za-z0-9_]", "_", local.split(".")[0])
        if not _IDENTIFIER.match(word):
            what = ACTIVATION if isinstance(item, ImportedLayer) and swappable(item) else None
            word = "use_" + (what or snake_case(item.cls if isinstance(item, _Node) else item.kind))
        if _IDENTIFIER.match(word) and word not in _RESERVED_PARAMS:
            return word
    return "variant"


# -- writing ------------------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One written entry: a layer or a block use, its arguments as text, its name and what it reads."""

    kind: str
    arguments: dict[str, tuple[str, Any]]  # key -> (text, literal value or _MISSING)
    name: str  # as written: the local name
    inputs: list[str]  # as written
    reads: list[str]  # local names of the layers read ("input": the block's or network's input)
    output: str  # local name of the layer it stands for
    template: _Template | None = None
    repeat: int = 0
    when: str = ""  # the condition of a one-entry `if` without `else`, written on the entry


class _Writer:
    def __init__(self, network: ImportedNetwork, order: list[_Node]) -> None:
        self.uses = {node.path for node in order if node.template is not None}
        self.taken = {layer.name for layer in network.layers} | self.uses
        self.outputs: dict[str, list[str]] = {}  # layer -> paths of the uses standing for it
        for node in order:
            if node.template is not None:
                self.outputs.setdefault(node.last, []).append(node.path)

    def ref(self, name: str, base: _Node) -> str:
        """How the layer `name` is written inside `base` (a block instance, or the root): the outermost use
        standing for it where there is one (`layer1.0` rather than `layer1.0.relu_2`)."""
        local = self.local(name, base)
        if local == NETWORK_INPUT:
            return local
        prefix = base.path + "." if base.path else ""
        uses = [path for path in self.outputs.get(name, []) if path.startswith(prefix) and path != base.path]
        return base.local(min(uses, key=len)) if uses else local

    @staticmethod
    def local(name: str, base: _Node) -> str:
        if name == NETWORK_INPUT or (base.path and name == base.external[0]):
            return NETWORK_INPUT
        return base.local(name)

    def entries(self, items: list, base: _Node, texts: dict | None, tag: str = "") -> list[_Entry]:
        """The entries for `items` written inside `base`; `texts` are a block's slot texts (None: literal)."""
        found: list[_Entry] = []
        for item in items:
            if isinstance(item, _Node) and item.template is None:
                found += self.entries(item.items, base, texts, tag)
            elif isinstance(item, _Node):
                found.append(self.use_entry(item, base, texts, tag))
            else:
                local = base.local(item.name)
                if texts is None:
                    arguments = {key: (flow_value(value), value) for key, value in item.arguments.items()}
                else:
                    known = kind_defaults(item.kind)
                    arguments = {
                        key: text
                        for (owner, key), text in texts.items()
                        if owner == local + tag
                        and (key in item.arguments or key in known or (key == KIND_SLOT and swappable(item)))
                    }
                reads = [self.local(name, base) for name in item.inputs]
                inputs = [self.ref(name, base) for name in item.inputs]
                kind = arguments.pop(KIND_SLOT, (item.kind.lower(), None))[0]
                if kind.startswith("$"):  # a kind parameter: its layers are given no arguments in any instance
                    arguments = {}
                found.append(_Entry(kind, arguments, local, inputs, reads, local))
        return found

    def use_entry(self, node: _Node, base: _Node, texts: dict | None, tag: str = "") -> _Entry:
        template = node.template
        assert template is not None
        local = base.local(node.path)
        arguments: dict[str, tuple[str, Any]] = {}
        for param, default in template.params.items():
            if texts is not None:
                slot = (local + tag, param)
                text, value = texts[slot] if slot in texts else ("null", None)  # (not reached: every use has them)
            else:
                value = node.values.get(param, default)
                text = flow_value(value)
            written = value is _MISSING or default is _REQUIRED or _hashable(value) != _hashable(default)
            arguments[param] = (text if written else "", value)  # at the default: not written, known for repeat
        reads = [self.local(name, base) for name in node.external]
        inputs = [self.ref(name, base) for name in node.external]
        return _Entry(template.name, arguments, local, inputs, reads, self.local(node.last, base), template)

    def lines(self, entries: list[_Entry], indent: str, previous: str) -> list[str]:
        """The entries as list lines; `previous` is the local name of what the first one reads by default."""
        out: list[str] = []
        for item in _repeats(entries, self.taken):
            shown = {key: text for key, (text, _) in item.arguments.items() if text}
            if item.repeat:
                shown["repeat"] = str(item.repeat)
            shown["name"] = flow_value(item.name)
            if item.reads != [previous]:
                written = [flow_value(name) for name in item.inputs]
                shown["inputs"] = written[0] if len(written) == 1 else "[" + ", ".join(written) + "]"
            if item.when:
                shown["when"] = item.when
            body = ", ".join(f"{key}: {_expression(text)}" for key, text in shown.items())
            out.append(f"{indent}- {item.kind}: {{{body}}}")
            previous = item.output
        return out

    def block(self, template: _Template) -> list[str]:
        lines = [f"  {template.name}:"]
        if template.params:
            declared = (f"{k}: {'null' if v is _REQUIRED else flow_value(v)}" for k, v in template.params.items())
            lines.append(f"    params: {{{', '.join(declared)}}}")
        lines.append("    layers:")
        first = _representative(template, 0)
        if template.split is None:
            return lines + self.lines(self.entries(first.items, first, template.texts), "      ", NETWORK_INPUT)
        other = _representative(template, 1)
        prefix, run, other_run = template.split
        head = self.entries(first.items[:prefix], first, template.texts)
        then = self.entries(first.items[prefix : prefix + run], first, template.texts, BRANCHES[0])
        otherwise = self.entries(other.items[prefix : prefix + other_run], other, template.texts, BRANCHES[1])
        tail = self.entries(first.items[prefix + run :], first, template.texts)
        before = head[-1].output if head else NETWORK_INPUT
        lines += self.lines(head, "      ", NETWORK_INPUT)
        if len(then) == 1 and not otherwise:  # one optional entry: `when` says it in place
            then[0].when = template.flag_text
            lines += self.lines(then, "      ", before)
        else:
            lines += [f"      - if: {template.flag_text}", "        then:"]
            lines += self.lines(then, "          ", before)
        if otherwise:
            lines += ["        else:", *self.lines(otherwise, "          ", before)]
        ends = {(part[-1].output if part else before) for part in (then, otherwise)}
        return lines + self.lines(tail, "      ", ends.pop() if len(ends) == 1 else "")


def _representative(template: _Template, variant: int) -> _Node:
    return next(node for node in template.instances if node.sig in template.variants[variant])


def _expression(text: str) -> str:
    """A written value: YAML text as it is, an expression bare where YAML reads it as text, else quoted."""
    if "$" not in text or _BARE_EXPRESSION.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _repeats(entries: list[_Entry], taken: set[str]) -> list[_Entry]:
    """Runs of uses of one block named P.0 ... P.N-1, each reading the one before, as one entry with `repeat`."""
    out: list[_Entry] = []
    position = 0
    while position < len(entries):
        run = _run(entries, position, taken)
        if run is None:
            out.append(entries[position])
            position += 1
            continue
        made, count = run
        out.append(made)
        position += count
    return out


def _run(entries: list[_Entry], start: int, taken: set[str]) -> tuple[_Entry, int] | None:
    first = entries[start]
    if first.template is None or not first.name.endswith(".0"):
        return None
    prefix = first.name[:-2]
    count = 1
    while start + count < len(entries):
        entry_, before = entries[start + count], entries[start + count - 1]
        if (
            entry_.template is not first.template
            or entry_.name != f"{prefix}.{count}"
            or entry_.reads != [before.output]
        ):
            break
        count += 1
    if count < 2 or prefix in taken:
        return None
    copies = entries[start : start + count]
    arguments: dict[str, tuple[str, Any]] = {}
    for key in first.arguments:
        texts = [copy.arguments[key] for copy in copies]
        if len({text for text, _ in texts}) == 1:
            arguments[key] = texts[0]
            continue
        values = [value for _, value in texts]
        expression = _by_index(values) if all(v is not _MISSING for v in values) else None
        if expression is None:
            return None
        arguments[key] = (expression, _MISSING)
    made = _Entry(first.kind, arguments, prefix, first.inputs, first.reads, copies[-1].output, repeat=count)
    return made, count


def _by_index(values: list[Any]) -> str | None:
    """An expression of $index giving `values` in turn: the first differs, or an arithmetic progression."""
    first, rest = values[0], values[1:]
    if any(not isinstance(v, (int, float)) for v in values):
        return None
    if len({(type(v), v) for v in rest}) == 1:
        if isinstance(first, bool) and isinstance(rest[0], bool):
            return "$index == 0" if first else "$index != 0"
        if not isinstance(first, bool) and not isinstance(rest[0], bool):
            return f"{flow_value(first)} if $index == 0 else {flow_value(rest[0])}"
        return None
    if all(_is_int(v) for v in values):
        step = values[1] - values[0]
        if all(values[i] == first + step * i for i in range(len(values))):
            return f"{first} + {step} * $index" if first else f"{step} * $index"
    return None


def write_folded(network: ImportedNetwork) -> str:
    """The folded spec text (unchecked; write_spec checks it)."""
    root, order = build_tree(network.layers)
    templates = plan(order)
    position = {id(node): index for index, node in enumerate(order)}
    for template in templates:
        template.instances.sort(key=lambda node: position[id(node)])
    heights = {id(t): max(n.height for n in t.instances) for t in templates}
    templates.sort(key=lambda t: (heights[id(t)], position[id(t.instances[0])]))
    name_blocks(templates)
    for template in templates:
        if template.split is not None:
            first = _representative(template, 0)
            template.flag = _flag_name(template, first)
        choose_params(template)
        if template.split is not None:  # the flag's parameter name, as chosen among the others
            template.flag_text = template.texts[("", template.flag)][0]
    writer = _Writer(network, order)
    lines = header(network)
    if templates:
        lines.append("blocks:")
        for template in templates:
            lines += writer.block(template)
    lines.append("layers:")
    lines += writer.lines(writer.entries(root.items, root, None), "  ", NETWORK_INPUT)
    return "\n".join(lines) + "\n"


def folding_problem(network: ImportedNetwork, text: str) -> str | None:
    """What the folded text makes differently from the network (None: the same layers, in the same order)."""
    from cnncalc.errors import CnncalcError
    from cnncalc.spec import parse_spec

    try:
        graph = parse_spec(text, "<folded>")
    except CnncalcError as error:
        return str(error).splitlines()[0]
    made = [(n.name, n.kind, _parsed(n.kind, n.arguments), list(n.inputs)) for n in graph.nodes]
    wanted = [(x.name, x.kind, _parsed(x.kind, x.arguments), list(x.inputs)) for x in network.layers]
    if len(made) != len(wanted):
        return f"{len(made)} layers instead of {len(wanted)}"
    for got, expected in zip(made, wanted, strict=True):
        if _hashable_tree(got) != _hashable_tree(expected):
            return f"layer {expected[0]} came out as {got[0]} ({got[1]}, {dict(got[2])}, {got[3]})"
    return None


def _parsed(kind: str, arguments: dict[str, Any]) -> Any:
    """The arguments as the kind reads them, defaults filled in: `stride: 1` written or left out is the same."""
    from cnncalc.args import parse_arguments
    from cnncalc.errors import CnncalcError
    from cnncalc.layers.registry import REGISTRY

    cls = REGISTRY.get(kind.lower())
    if cls is None:
        return arguments
    try:
        return parse_arguments(cls.arguments, dict(arguments), cls.dims, kind)
    except CnncalcError:
        return arguments


def _hashable_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable_tree(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable_tree(v) for v in value)
    return (type(value) if isinstance(value, bool) else "v", value)
