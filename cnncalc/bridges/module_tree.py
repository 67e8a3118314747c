"""The module tree of a spec's export (cnncalc.bridges.to_torch): the block uses that made layers, found by
expanding the spec again, nested as the network's module instances, each with its members (layers and the uses
directly inside it) in an order its forward() can run.

A use whose inner layers are read from outside it (other than its output) is dissolved into the use around it, which
then writes its layers in containers under its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, NamedTuple

from cnncalc.errors import SpecError, UsageError
from cnncalc.graph import NETWORK_INPUT, Graph, Node, topological_order


@dataclass
class Use:
    """One block use (or the network itself, `block` None): the layers it made and the uses nested in it."""

    name: str  # full name ("layer1.0"); "" for the network
    block: str | None
    params: dict[str, Any]
    first: int  # positions (file order) of its first and last layers
    last: int
    input: str  # the layer its `input` is (NETWORK_INPUT for the network's)
    output: str
    members: list[Any] = field(default_factory=list)  # Node or Use, in forward order
    external: list[str] = field(default_factory=list)  # layers outside it that its layers read (forward arguments)
    cls: Class | None = None
    values: dict[str, Any] = field(default_factory=dict)  # its class's constructor arguments for this use

    @property
    def prefix(self) -> str:
        return self.name + "." if self.name else ""


@dataclass
class Class:
    name: str
    block: str | None
    uses: list[Use]
    params: list[str] = field(default_factory=list)  # constructor arguments, in order
    slots: dict[tuple[int, str], str] = field(default_factory=dict)  # (member index, argument) -> param name
    distinct: str = ""  # what tells this structure apart from the block's others, for the docstring
    calls: list[Any] = field(default_factory=list)  # per member of its first use: (callee, arguments) or None


def block_uses(graph: Graph) -> list[Use]:
    """Every block use that made layers, with its parameters, found by expanding the spec again (the graph keeps
    only names and positions; the parameters name the classes' constructor arguments)."""
    from cnncalc.spec.blocks import read_blocks
    from cnncalc.spec.expand import Expander

    document = graph.document
    blocks = read_blocks(document.get("blocks"), document.value_marks.get("blocks"), graph.file)
    expander = Expander(graph.file, blocks, graph.input_shape)
    expander.network(document["layers"], document.value_marks["layers"])
    names = expander.names
    uses = []
    for full, scope in names.scopes:
        is_use = scope.block is not None and scope.block == scope.what and not scope.outputs
        if not is_use or not scope.last_position >= scope.first_position > 0:
            continue
        output = names.output_of(scope)
        assert scope.input_ref is not None and output is not None
        ref_scope, ref_name, ref_mark = scope.input_ref
        source = names.resolve(ref_scope, ref_name, ref_mark, None)
        params = {key: value for key, (value, _) in scope.params.items()}
        uses.append(Use(full, scope.block, params, scope.first_position, scope.last_position, source, output))
    return uses


def nest(graph: Graph, uses: list[Use]) -> Use:
    """The network as a tree of uses: each layer in the innermost use around it. A use with a layer other than its
    output read from outside it is dissolved into the use around it (its layers are written there)."""
    root = Use("", None, {}, 1, len(graph.nodes), NETWORK_INPUT, graph.output)
    by_position = sorted(graph.nodes, key=lambda n: n.position)
    ordered = sorted(uses, key=lambda u: (u.first, -u.last))  # outer uses before the uses inside them
    owner, parents = _tree(root, ordered, by_position)
    dissolved: set[str] = set()
    for node in graph.nodes:
        for source in node.inputs:
            use = owner.get(source, root)
            while use is not root and not use.first <= node.position <= use.last:
                if source != use.output:
                    dissolved.add(use.name)
                use = parents[use.name]
    kept = [u for u in ordered if u.name not in dissolved]
    owner, parents = _tree(root, kept, by_position)
    _members(graph, root, kept, owner, parents)
    return root


def _tree(root: Use, ordered: list[Use], by_position: list[Node]) -> tuple[dict[str, Use], dict[str, Use]]:
    """The innermost use holding each layer, and the use around each use."""
    owner = {node.name: root for node in by_position}
    parents: dict[str, Use] = {}
    chain: list[Use] = [root]
    for use in ordered:
        while chain[-1] is not root and not chain[-1].first <= use.first <= use.last <= chain[-1].last:
            chain.pop()
        parents[use.name] = chain[-1]
        chain.append(use)
        for node in by_position[use.first - 1 : use.last]:
            owner[node.name] = use
    return owner, parents


def _members(graph: Graph, root: Use, uses: list[Use], owner: dict[str, Use], parents: dict[str, Use]) -> None:
    """Each use's members (its own layers and the uses directly inside it) in an order where every member comes
    after what it reads, and the layers outside it that it reads."""
    for use in [root, *uses]:
        use.members = []
    for node in graph.nodes:
        owner[node.name].members.append(node)
    for use in uses:
        parents[use.name].members.append(use)
    depth = {root.name: 0}
    for use in uses:  # outer uses come first
        depth[use.name] = depth[parents[use.name].name] + 1

    def member_within(name: str, use: Use) -> Any:
        """The member of `use` that computes layer `name`; None where it is outside `use`."""
        if name == NETWORK_INPUT:
            return None
        current: Any = graph.node(name)
        inner = owner[name]
        while inner is not use:
            if inner is root:
                return None
            current, inner = inner, parents[inner.name]
        return current

    for use in sorted([root, *uses], key=lambda u: -depth[u.name]):  # inner uses first: their reads are known
        reads: dict[int, list[str]] = {}
        for member in use.members:
            sources = member.inputs if isinstance(member, Node) else [member.input, *member.external]
            for source in sources:
                if source != use.input and member_within(source, use) is None and source not in use.external:
                    use.external.append(source)
            reads[id(member)] = sources
        use.members.sort(key=lambda m: m.position if isinstance(m, Node) else m.first)
        use.members = _ordered(use, reads, lambda name, u=use: member_within(name, u))


def _ordered(use: Use, reads: dict[int, list[str]], member_of: Any) -> list[Any]:
    """The members in file order where that is a valid order, else each as soon as what it reads is computed
    (the earliest in file order first): cnncalc.graph's topological order, of the members as nodes named by
    their index that read the members computing their sources."""
    members = use.members
    index = {id(m): k for k, m in enumerate(members)}
    nodes = []
    for k, member in enumerate(members):
        inside = [member_of(source) if source != use.input else None for source in reads[id(member)]]
        nodes.append(_Member(str(k), [str(index[id(m)]) for m in inside if m is not None]))
    try:
        order = topological_order(nodes, "")  # type: ignore[arg-type]
    except SpecError:  # a cycle between uses: the spec's layers have none, the grouping into modules does
        raise UsageError(f"cannot order the layers of '{use.name or 'the network'}' for forward()") from None
    return [members[int(node.name)] for node in order]


class _Member(NamedTuple):
    """A use's member as graph.topological_order reads a node (the position fields for its cycle message)."""

    name: str
    inputs: list[str]
    mark: Any = SimpleNamespace(line=0, column=0)
    arg_marks: dict[str, Any] = {}  # noqa: RUF012 - never written: read for the cycle message only

    def label(self) -> str:
        return self.name
