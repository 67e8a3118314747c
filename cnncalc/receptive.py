"""Receptive fields through the layer graph (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks", Distill 2019).

Per spatial axis, in input pixels, output position j of a node sees the input positions

    j*S - P  ...  j*S - P + r - 1          (size r, effective stride S, effective padding P)

The network input has r = 1, S = 1, P = 0. A layer's `window()` (extent e, stride s, padding p: output j reads
its input's positions j*s - p ... j*s - p + e) composes onto its input's field as

    r = r_in + e*S_in        P = P_in + p*S_in        S = S_in*s

Transposed convolutions, upsampling and uneven adaptive pooling have fractional strides and paddings: values stay
exact Fractions, and a Fraction that is a whole number is given back as an int. One convention holds for every
fractional window: it covers every input position its output reads (the whole numbers inside it), widened where
PyTorch floors a source coordinate (nearest x2: output 3 reads pixel 1, its window is 1 ... 3/2). So a field is
exact where strides are whole (inside the input: at its edges, padding hides part of it), and after fractional
strides it is the smallest interval covering every output position's reads (positions differ there).

Rules on graphs:
- No field (None): a layer whose `axis_map()` is None (Flatten that merges axes: its outputs mix positions of
  several axes), a layer that mixes away an axis holding an input spatial axis (below), and every node reading an
  input without a field: such an input influences every output position, in a way no (r, S, P) describes.
- Several inputs (Add, Concat, Mul, ...), per axis: when their strides agree, the field is the union of theirs,
  the smallest interval holding every input's field for every j: P = max P_i, r = max(r_i - P_i) + P. A warning
  names the node when their centres (r_i - 1)/2 - P_i differ (the branches look at shifted places). When their
  strides differ, no single (r, S, P) is exact for every j: the field is that of the input with the largest size
  (the first such input on a tie), with a warning.
- Inputs beyond a kind's `value_inputs` (CenterCrop's second) only give a size: their values are not read.
- Broadcast inputs of a merge (an axis of size 1 stretched over the output's, as squeeze-and-excitation's C x 1 x 1
  gate in a Mul) carry no position: they scale every output alike. They are left out of the field (their own
  field is, through global pooling, the whole input), and one warning lists them.

Fields follow the axes. A field is kept per spatial axis of the network input (its sizes, strides and paddings are
always in input pixels along the input's H, W, ...), and it records which per-sample axis of the current tensor
holds each of them (`axes`: per axis of the tensor, the input spatial axis it holds, or None; the channels hold
none). At the network input, axis k >= 1 holds input axis k - 1. Each layer says how its output's axes read its
input's (Layer.axis_map): per output axis, the input axis it reads position by position and the window along it,
or None where its positions are new (a convolution's output channels, Linear's out_features). So:
- Permute and Transpose move what each axis holds; ChannelShuffle reorders the channels and keeps the rest;
- Reshape, View and Unflatten keep the axes that survive unchanged (same size and as many elements after them:
  every element keeps its index there) and drop the others;
- Linear mixes its last axis into new features; LayerNorm and RMSNorm read their normalized (trailing) axes whole
  (a spanning window, as every normalization over an axis) and the others position by position;
- element-wise kinds (activations, dropout, Add, Mul, per-channel normalization) keep every axis, the channels too;
  other kinds mix the channel axis (convolutions; by default, any kind that does not say it keeps it).
An input spatial axis that no axis of the output holds any more (mixed into new channels or features, or spread
over several axes by a reshape) leaves the output without a field (None). ConvNeXt's block (permute to
N x H x W x C, LayerNorm and Linear along C, permute back) keeps the depthwise convolution's field: H and W are
only moved. Inputs of a merge must hold the same axes in the same places, else the merge has no field.

The walk visits every node once and every input edge once: linear in the size of the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain, repeat
from operator import add, ge, itemgetter, mul, sub
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc.graph import NETWORK_INPUT, Graph, Node
from cnncalc.layers.base import POINTWISE, AxisMap, Layer, Shape, Window, fraction, spatial_names
from cnncalc.units import rational_text

if TYPE_CHECKING:
    from cnncalc.layers.base import Rational

LISTED = 5  # names shown in a warning before "and N more"


def exact(value: Rational) -> Rational:
    """A Fraction that is a whole number, as an int (the JSON writes ints plainly, other values as 'p/q')."""
    if type(value) is not int and value.denominator == 1:  # type(): exact() runs per axis per node
        return value.numerator
    return value


class ReceptiveField(NamedTuple):
    """Per spatial axis of the network input, in input pixels (Distill 2019): size r, effective stride S, effective
    padding P; and `axes`: per per-sample axis of the tensor, the input spatial axis it holds (None: none). An empty
    `axes` is the input's own layout (the channels, then the spatial axes in order), which most fields keep."""

    size: tuple[Rational, ...]
    stride: tuple[Rational, ...]
    padding: tuple[Rational, ...]
    axes: tuple[int | None, ...] = ()

    def centre(self, axis: int) -> Rational:
        """Where the field of output 0 is centred along `axis` (output j's is centred at j*S plus this)."""
        return exact(fraction(self.size[axis] - 1, 2) - self.padding[axis])

    def span(self, axis: int, j: int) -> tuple[Rational, Rational]:
        """First and last input position (inclusive, possibly outside the input) seen by output j along `axis`."""
        start = exact(j * self.stride[axis] - self.padding[axis])
        return start, exact(start + self.size[axis] - 1)


def network_input_field(shape: Shape) -> ReceptiveField | None:
    """Size 1, stride 1, padding 0 on each spatial axis (shape[1:]); None when the input has no spatial axis."""
    axes = len(shape) - 1
    if axes < 1:
        return None
    return ReceptiveField((1,) * axes, (1,) * axes, (0,) * axes)


def compose_axis(size: Any, stride: Any, padding: Any, extent: Any, step: Any, pad: Any) -> tuple[Any, Any, Any]:
    """One axis of one layer: (r, S, P) of the output from the input's and the layer's window (extent, stride,
    padding). Ints and Fractions give the figures; formula Terms give `cnncalc explain`'s derivation."""
    return size + extent * stride, stride * step, padding + pad * stride


def compose(field: ReceptiveField, window: tuple[Window, ...]) -> ReceptiveField:
    """The field of a layer's output from its input's field and its window (same number of axes)."""
    if all(w == POINTWISE for w in window):
        return field  # element-wise layers, the most common kind: nothing changes
    axes = [
        compose_axis(r, s, p, w.extent, w.stride, w.padding)
        for r, s, p, w in zip(field.size, field.stride, field.padding, window, strict=True)
    ]
    return ReceptiveField(*(tuple(exact(axis[k]) for axis in axes) for k in range(3)))


def own_layout(rank: int) -> tuple[int | None, ...]:
    """The network input's layout for a tensor of `rank` axes per sample: the channels hold no spatial axis, axis
    k >= 1 holds input axis k - 1."""
    return (None, *range(rank - 1))


def layout(field: ReceptiveField) -> tuple[int | None, ...]:
    """Which input spatial axis each per-sample axis of the field's tensor holds."""
    return field.axes or own_layout(len(field.size) + 1)


def follow(field: ReceptiveField, amap: AxisMap) -> ReceptiveField | None:
    """The field of a layer's output from its input's field and its axis map (see the module's docstring): each
    output axis takes what the input axis it reads holds, composed with its window; None when an input spatial
    axis is held by no output axis any more."""
    held = layout(field)
    rank = len(held)
    if not field.axes and len(amap) == rank and all(amap[k] is not None and amap[k][0] == k for k in range(1, rank)):
        if amap[0] is None or amap[0][0] == 0:  # the common case: every spatial axis stays where it is
            return compose(field, tuple(entry[1] for entry in amap[1:]))  # type: ignore[index]
    size, stride, padding = list(field.size), list(field.stride), list(field.padding)
    axes: list[int | None] = []
    taken: set[int] = set()
    for entry in amap:
        holds = held[entry[0]] if entry is not None and 0 <= entry[0] < rank else None
        if entry is None or holds is None or holds in taken:
            axes.append(None)
            continue
        taken.add(holds)
        window = entry[1]
        if window != POINTWISE:
            new = compose_axis(size[holds], stride[holds], padding[holds], *window)
            size[holds], stride[holds], padding[holds] = (exact(value) for value in new)
        axes.append(holds)
    if len(taken) != len(field.size):
        return None  # an input spatial axis was mixed away or spread over several axes
    kept = tuple(axes)
    return ReceptiveField(tuple(size), tuple(stride), tuple(padding), () if kept == own_layout(len(kept)) else kept)


def _axis_name(axis: int, axes: int) -> str:
    return spatial_names(axes)[axis]


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _listing_and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def merge(node: str, sources: list[tuple[str, ReceptiveField]], warnings: list[str]) -> ReceptiveField:
    """One field for a node reading several inputs' fields (all with the same number of axes), per axis."""
    first = sources[0][1]
    if all(field == first for _, field in sources):
        return first  # the common case (one input, or branches built alike): nothing to decide
    axes = len(first.size)
    size: list[Rational] = []
    stride: list[Rational] = []
    padding: list[Rational] = []
    problems: dict[str, list[str]] = {}  # what is wrong -> the axes it is wrong along
    for axis in range(axes):
        name = _axis_name(axis, axes)
        strides = [field.stride[axis] for _, field in sources]
        if all(s == strides[0] for s in strides):
            P = max(field.padding[axis] for _, field in sources)
            size.append(exact(max(field.size[axis] - field.padding[axis] for _, field in sources) + P))
            stride.append(strides[0])
            padding.append(P)
            # Twice the centres, to compare without building Fractions (this runs for every residual add).
            doubled = [field.size[axis] - 1 - 2 * field.padding[axis] for _, field in sources]
            if any(c != doubled[0] for c in doubled):
                centres = [field.centre(axis) for _, field in sources]
                shown = ", ".join(
                    f"'{src}' at {rational_text(c)}" for (src, _), c in zip(sources, centres, strict=True)
                )
                problems.setdefault(
                    f"their fields are centred at different places ({shown}, plus j*S): the field is their union", []
                ).append(name)
        else:
            chosen, field = max(sources, key=lambda source: source[1].size[axis])
            size.append(field.size[axis])
            stride.append(field.stride[axis])
            padding.append(field.padding[axis])
            shown = ", ".join(f"'{src}' {rational_text(s)}" for (src, _), s in zip(sources, strides, strict=True))
            problems.setdefault(
                f"their effective strides differ ({shown}): no single field fits every position; "
                f"shown is the largest, that of '{chosen}' (size {rational_text(field.size[axis])})",
                [],
            ).append(name)
    if problems:
        said = "; ".join(f"along {_listing_and(names)} {problem}" for problem, names in problems.items())
        warnings.append(f"receptive field of '{node}': its inputs disagree; {said}")
    return ReceptiveField(tuple(size), tuple(stride), tuple(padding), first.axes)


def is_broadcast(in_shape: Shape, out_shape: Shape) -> bool:
    """An input stretched over the output along some spatial axis (size 1 against a larger size)."""
    return len(in_shape) == len(out_shape) and any(
        i == 1 and o > 1 for i, o in zip(in_shape[1:], out_shape[1:], strict=True)
    )


def node_field(
    node: Node,
    fields: dict[str, ReceptiveField | None],
    shapes: Mapping[str, Shape] | _Shapes,
    warnings: list[str],
    broadcast: list[str],
    maps: dict[int, AxisMap | None],
) -> ReceptiveField | None:
    """One node's field from its inputs' (see the rules above); appends to `warnings` and `broadcast`.
    `maps` caches each Layer's axis map (nodes built alike share their Layer)."""
    layer = node.bound()
    key = id(layer)
    if key not in maps:
        maps[key] = layer.axis_map()
    amap = maps[key]
    if not amap:
        return None
    inputs = node.inputs[: layer.value_inputs]  # later inputs give only a size (CenterCrop's second)
    if len(inputs) == 1:  # the common case, without a merge
        field = fields[inputs[0]]
        return None if field is None or len(layout(field)) != len(shapes[inputs[0]]) else follow(field, amap)
    sources: list[tuple[str, ReceptiveField]] = []
    for name in inputs:
        if len(inputs) > 1 and is_broadcast(shapes[name], layer.out_shape):
            broadcast.append(f"'{name}' into '{node.name}'")
            continue
        field = fields[name]
        if field is None or len(layout(field)) != len(shapes[name]):
            return None
        sources.append((name, field))
    if not sources:
        return None  # every input is broadcast (say C x H x 1 times C x 1 x W): no input position lines up
    if any(layout(field) != layout(sources[0][1]) for _, field in sources):
        return None  # the inputs hold the input's axes in different places: no position lines up
    return follow(merge(node.name, sources, warnings), amap)


# How a node's field is made, per Layer (its _Plan's `how`): no field; its one input's field, unchanged or composed
# with its windows (ints only, or with exact()); or node_field()'s general rules.
NO_FIELD, SAME, INTS, EXACT, GENERAL = range(5)


class _Plan(NamedTuple):
    """What a Layer does to fields, worked out once per Layer (nodes built alike share theirs)."""

    how: int  # for a field of one input in the network input's layout with len(windows) axes; else GENERAL
    windows: tuple[Window, ...]  # per spatial axis, when each stays in place (the channels kept or mixed)
    columns: tuple[tuple[Rational, ...], ...]  # the windows' extents, strides and paddings (INTS)
    value_inputs: int | None
    amap: AxisMap | None
    integral: bool  # every window in amap is whole: follow() and compose() of int fields give ints
    # Two or more inputs whose values are read, each of the output's shape (so none is broadcast): a merge whose
    # inputs' fields usually agree (_agreed).
    aligned: bool
    rank: int  # of the output, per sample
    # INTS: whether a window's stride is not 1, a padding not 0 (else the field's own tuple is kept)
    strided: bool = False
    padded: bool = False


def _plan(layer: Layer) -> _Plan:
    amap = layer.axis_map()
    rank = len(layer.out_shape)
    if not amap:
        return _Plan(NO_FIELD, (), (), layer.value_inputs, amap, True, False, rank)
    read = layer.in_shapes[: layer.value_inputs]
    aligned = len(read) > 1 and read.count(layer.out_shape) == len(read)
    spatial = amap[1:]
    if (
        (amap[0] is not None and amap[0][0] != 0)
        or None in spatial
        or tuple(map(_FIRST, spatial)) != tuple(range(1, len(amap)))  # type: ignore[arg-type]
        or len(layer.in_shapes[0]) != len(amap)  # the input's rank: that of a field with len(windows) axes
    ):
        integral = _whole(entry[1] for entry in amap if entry is not None)
        return _Plan(GENERAL, (), (), layer.value_inputs, amap, integral, aligned, rank)  # an axis moves: follow()
    windows: tuple[Window, ...] = tuple(map(_SECOND, spatial))  # type: ignore[arg-type]
    integral = _whole(windows)  # the channels' entry is never composed (they hold no input axis)
    how = SAME if windows == (POINTWISE,) * len(windows) else INTS if integral else EXACT
    columns = tuple(zip(*windows, strict=True)) if windows else ((), (), ())
    strided = columns[1].count(1) != len(windows)
    padded = columns[2].count(0) != len(windows)
    return _Plan(how, windows, columns, layer.value_inputs, amap, integral, aligned, rank, strided, padded)


# Plans by Layer, kept across graphs: `cnncalc check` walks many specs whose layers are shared by configuration
# (cnncalc.graph.bind). Each entry keeps its Layer alive, so an id is never that of another object; at most
# KEPT_PLANS layers are kept (then it starts again). shortcuts=False: a plan per graph (the tests' long way).
_PLANS: dict[int, tuple[Layer, _Plan]] = {}
KEPT_PLANS = 10_000
shortcuts = True


def _kept_plan(layer: Layer) -> _Plan:
    kept = _PLANS.get(id(layer)) if shortcuts else None
    if kept is not None:
        return kept[1]
    plan = _plan(layer)
    if len(_PLANS) >= KEPT_PLANS:
        _PLANS.clear()
    _PLANS[id(layer)] = (layer, plan)
    return plan


def _whole(windows: Iterable[Window]) -> bool:
    """Whether every value of these windows is an int."""
    return set(map(type, chain.from_iterable(windows))) <= {int}


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


_new_field = tuple.__new__  # ReceptiveField(...) without NamedTuple's Python-level __new__


class _Shapes:
    """The output shape of a node (or the network input) by name, from the graph: node_field()'s `shapes` for the
    nodes that take the general path (the common cases read their input's shape from their Layer)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def __getitem__(self, name: str) -> Shape:
        return self.graph.shape_of(name)


def _agreed(inputs: list[str], fields: dict[str, ReceptiveField | None], rank: int) -> ReceptiveField | None:
    """node_field()'s common case for a node reading several inputs of its own shape (none is broadcast) and rank:
    when each input's field is in the network input's layout and they agree (all the same, or _union()), their
    field; else None (node_field() decides)."""
    if len(inputs) == 2:  # the most common merge (a residual add): compared at once
        first, second = fields[inputs[0]], fields[inputs[1]]
        if first is None or second is None or first.axes or second.axes or len(first.size) + 1 != rank:
            return None
        if first == second:
            return first
        return _union_of_two(first, second)
    if len(inputs) < 2:
        return None
    sources = [fields[name] for name in inputs]
    first = sources[0]
    if first is None or first.axes or len(first.size) + 1 != rank:
        return None
    same = True
    for field in sources:
        if field is not first and field != first:
            if field is None or field.axes or len(field.size) != len(first.size):
                return None
            same = False
    return first if same else _union(sources)  # type: ignore[arg-type]


def _union_of_two(first: ReceptiveField, second: ReceptiveField) -> ReceptiveField | None:
    """_union([first, second]) (both in the network input's layout) where one of them has the larger padding
    along every axis (a residual add: the branch's field holds the shortcut's), axis by axis in C (map)."""
    if first.stride != second.stride or len(first.size) != len(second.size):
        return None
    # Their centres (r - 1)/2 - P agree: r - 2P is the same, i.e. r2 - r1 == 2 (P2 - P1) on every axis.
    if tuple(map(sub, second.size, first.size)) != tuple(map(mul, map(sub, second.padding, first.padding), _TWOS)):
        return None
    if all(map(ge, second.padding, first.padding)):  # where the paddings are equal, so are the sizes
        return second
    if all(map(ge, first.padding, second.padding)):
        return first
    return _union([first, second])


_TWOS = repeat(2)


def _union(sources: list[ReceptiveField]) -> ReceptiveField | None:
    """merge()'s field where it has nothing to warn about: the inputs' strides agree and so do their centres
    (r - 1)/2 - P. Then along each axis the union is the field of the input with the largest padding (r_i - P_i is
    largest where P_i is), and when one input has it along every axis, its very field. None: merge() decides."""
    first = sources[0]
    widest = first
    for field in sources[1:]:
        if field.stride != first.stride or field.axes != first.axes or len(field.size) != len(first.size):
            return None
        for r, p, r0, p0 in zip(field.size, field.padding, first.size, first.padding, strict=True):
            if r - 2 * p != r0 - 2 * p0:
                return None
        if widest is not field and all(p > q for p, q in zip(field.padding, widest.padding, strict=True)):
            widest = field
    if all(all(p <= q for p, q in zip(field.padding, widest.padding, strict=True)) for field in sources):
        return widest
    size, padding = list(first.size), list(first.padding)
    for field in sources[1:]:
        for axis, p in enumerate(field.padding):
            if p > padding[axis]:
                size[axis], padding[axis] = field.size[axis], p
    return ReceptiveField(tuple(size), first.stride, tuple(padding), first.axes)


def receptive_fields(
    graph: Graph, in_order: list[ReceptiveField | None] | None = None
) -> tuple[dict[str, ReceptiveField | None], list[str]]:
    """The field of the network input ("input") and of every node, by name; and the warnings found on the way.
    `in_order`: a list to which each node's field is also appended, in the order of graph.nodes (the analyzer
    reads them so, without a lookup by name per node).

    node_field() per node, with its common cases done inline (one input whose field keeps the input's layout,
    through a layer that keeps every spatial axis in place; merges of inputs whose fields agree): the same fields,
    tests/test_receptive_paths.py."""
    start = network_input_field(graph.input_shape)
    fields: dict[str, ReceptiveField | None] = {NETWORK_INPUT: start}
    shapes = _Shapes(graph)
    warnings: list[str] = []
    broadcast: list[str] = []
    plans: dict[int, _Plan] = {}
    maps: dict[int, AxisMap | None] = {}
    ints = True  # every field so far is made of ints (the input's is), until a Fraction is composed
    ordered = [] if in_order is None else in_order
    keep = ordered.append
    for node in graph.nodes:
        layer = node.layer or node.bound()
        plan = plans.get(id(layer))
        if plan is None:
            plan = plans[id(layer)] = _kept_plan(layer)
            maps[id(layer)] = plan.amap
        how, windows, columns, value_inputs, amap, integral, aligned, rank, strided, padded = plan
        inputs = node.inputs
        field: ReceptiveField | None = None
        if how == NO_FIELD:
            fields[node.name] = None
            keep(None)
            continue
        if len(inputs) == 1 or (value_inputs == 1 and inputs):
            field = fields[inputs[0]]
        else:
            field = _agreed(inputs[:value_inputs], fields, rank) if aligned else None
            if field is None:  # not the common case: the general path
                field = fields[node.name] = node_field(node, fields, shapes, warnings, broadcast, maps)
                keep(field)
                ints = ints and (field is None or integral)
                continue
        if field is None:
            pass
        elif how == GENERAL or field.axes or len(field.size) != len(windows):
            field = None if len(layout(field)) != len(shapes[inputs[0]]) else follow(field, amap)  # type: ignore
            ints = ints and (field is None or integral)
        elif how == SAME:  # element-wise layers, the most common kind: nothing changes
            pass
        elif how == INTS and ints:  # compose() for ints only, axis by axis in C (map): no exact() to do
            size, stride, padding, axes = field
            extents, steps, pads = columns
            size = tuple(map(add, size, map(mul, extents, stride)))
            if padded:
                padding = tuple(map(add, padding, map(mul, pads, stride)))
            if strided:
                stride = tuple(map(mul, stride, steps))
            field = _new_field(ReceptiveField, (size, stride, padding, axes))
        else:  # EXACT (fractional windows), or INTS onto a field that holds a Fraction
            field = compose(field, windows)
            ints = ints and integral
        fields[node.name] = field
        keep(field)
    _broadcast_warning(broadcast, warnings)
    return fields, warnings


def reference_fields(graph: Graph) -> tuple[dict[str, ReceptiveField | None], list[str]]:
    """receptive_fields() with node_field() on every node, without its inline common cases (the general path,
    which tests compare it with)."""
    fields: dict[str, ReceptiveField | None] = {NETWORK_INPUT: network_input_field(graph.input_shape)}
    shapes: dict[str, Shape] = {NETWORK_INPUT: graph.input_shape}
    warnings: list[str] = []
    broadcast: list[str] = []
    maps: dict[int, AxisMap | None] = {}
    for node in graph.nodes:
        fields[node.name] = node_field(node, fields, shapes, warnings, broadcast, maps)
        shapes[node.name] = node.bound().out_shape
    _broadcast_warning(broadcast, warnings)
    return fields, warnings


def _broadcast_warning(broadcast: list[str], warnings: list[str]) -> None:
    if broadcast:
        warnings.append(
            f"receptive field: {len(broadcast)} broadcast input(s) of merges left out (global context such as "
            f"squeeze-and-excitation gates, which see the whole input): {_listing(broadcast)}"
        )
