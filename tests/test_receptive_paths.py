"""receptive_fields() does its common cases inline (one input through a layer that keeps the spatial axes in place,
merges of equal-shaped inputs whose fields agree); reference_fields() sends every node through the general
node_field(). Both must give the same fields (equal values, the same types: ints stay ints) and the same warnings
in the same order, on the shipped specs and on random graphs with branches, fractional windows, broadcasts, crops,
moved axes and fields that end."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.errors import CnncalcError
from cnncalc.graph import Graph
from cnncalc.receptive import ReceptiveField, receptive_fields, reference_fields
from cnncalc.spec import load_spec, parse_spec

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml"))


def typed(field: ReceptiveField | None) -> object:
    """A field with the type of every value: 2 and Fraction(2) are equal, but print differently."""
    if field is None:
        return None
    return tuple(tuple((type(v), v) for v in values) for values in field[:3]), field.axes


def assert_same_paths(graph: Graph) -> None:
    fast, fast_warnings = receptive_fields(graph)
    general, general_warnings = reference_fields(graph)
    assert list(fast) == list(general)
    assert {name: typed(field) for name, field in fast.items()} == {
        name: typed(field) for name, field in general.items()
    }
    assert fast_warnings == general_warnings
    in_order: list[ReceptiveField | None] = []
    receptive_fields(graph, in_order)  # the analyzer's way: each node's field, in the order of the nodes
    assert [typed(field) for field in in_order] == [typed(general[node.name]) for node in graph.nodes]


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_shipped_specs_take_the_same_fields_both_ways(path: Path) -> None:
    assert_same_paths(load_spec(str(path)))


# Fractions that become whole again (stride 1/2 then 2; padding 1/2 twice), a union of fractional fields, an
# axis moved and back, a crop, a broadcast gate.
HAND_MADE = [
    """
input: [2, 8, 8]
layers:
  - upsample: {scale_factor: 2}
  - conv2d: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, name: whole}
  - convtranspose2d: {out_channels: 2, kernel_size: 2, stride: 2, name: half}
  - conv2d: {out_channels: 2, kernel_size: 3, padding: 1, name: wider}
  - add: {inputs: [half, wider]}
  - maxpool2d: {kernel_size: 2}
  - permute: {dims: [0, 2, 3, 1]}
  - layernorm: {normalized_shape: [2]}
  - permute: {dims: [0, 3, 1, 2], name: back}
  - adaptiveavgpool2d: {output_size: 1, name: gate}
  - mul: {inputs: [back, gate]}
  - centercrop: {inputs: [back, gate]}
""",
    """
input: [2, 9]
layers:
  - upsample: {scale_factor: 2, mode: linear, name: up}
  - conv1d: {out_channels: 2, kernel_size: 2, stride: 2, name: down}
  - avgpool1d: {kernel_size: 3, stride: 1, padding: 1, inputs: down}
  - concat: {inputs: [down, avgpool1d_1]}
""",
]


@pytest.mark.parametrize("text", HAND_MADE, ids=["fractions-2d", "fractions-1d"])
def test_hand_made_graphs_take_the_same_fields_both_ways(text: str) -> None:
    assert_same_paths(parse_spec(text))


def test_a_fraction_that_becomes_whole_is_an_int() -> None:
    fields, _ = receptive_fields(parse_spec(HAND_MADE[0]))
    assert fields["whole"] is not None and all(type(v) is int for v in fields["whole"].stride)


def candidates(rng: random.Random, names: list[str], dims: int) -> str:
    """One random layer entry (it may not fit its input: the caller then draws another)."""
    d = f"{dims}d"
    k, s, p = rng.randint(1, 4), rng.randint(1, 3), rng.randint(0, 2)
    other = rng.choice(names)
    pick = rng.randrange(22)
    if pick == 0:
        return f"conv{d}: {{out_channels: {rng.choice([2, 4])}, kernel_size: {k}, stride: {s}, padding: {p}}}"
    if pick == 1:
        return f"conv{d}: {{out_channels: 4, kernel_size: {k}, dilation: {rng.randint(1, 2)}, padding: same}}"
    if pick == 2:
        return f"convtranspose{d}: {{out_channels: 4, kernel_size: {k}, stride: {s}, padding: {min(p, k - 1)}}}"
    if pick == 3:
        return f"{rng.choice(['max', 'avg'])}pool{d}: {{kernel_size: {k}, stride: {s}, padding: {min(p, k // 2)}}}"
    if pick == 4:
        return f"adaptive{rng.choice(['avg', 'max'])}pool{d}: {{output_size: {rng.randint(1, 5)}}}"
    if pick == 5:
        mode = rng.choice(["nearest", "nearest-exact", {1: "linear", 2: "bilinear", 3: "trilinear"}[dims]])
        return f"upsample: {{scale_factor: {rng.choice([2, 3, 1.5])}, mode: {mode}}}"
    if pick in (6, 7):
        return rng.choice(["relu", f"batchnorm{d}", "dropout", "sigmoid", "identity", f"instancenorm{d}"])
    if pick in (8, 9, 10):
        merged = rng.sample(names, min(len(names), rng.randint(2, 3)))
        return f"{rng.choice(['add', 'mul', 'concat'])}: {{inputs: [{', '.join(merged)}]}}"
    if pick == 11:
        return f"mul: {{inputs: [{names[-1]}, {other}]}}"
    if pick == 12:
        return f"centercrop: {{inputs: [{other}, {names[-1]}]}}"
    if pick == 13:
        return f"permute: {{dims: {[0, 1, *rng.sample(range(2, dims + 2), dims)]}}}"
    if pick == 14:
        return f"transpose: {{dim0: {rng.randint(1, dims + 1)}, dim1: {rng.randint(1, dims + 1)}}}"
    if pick == 15:
        return f"flatten: {{start_dim: {rng.randint(1, dims + 1)}}}"
    if pick == 16:
        return f"linear: {{out_features: {rng.randint(2, 5)}}}"
    if pick == 17:
        return f"channelshuffle: {{groups: {rng.choice([1, 2])}}}"
    if pick == 18:
        return f"zeropad{d}: {{padding: {p}}}"
    if pick == 19:
        return f"adaptiveavgpool{d}: {{output_size: 1, inputs: {other}}}"
    if pick == 20:
        return f"conv{d}: {{out_channels: 4, kernel_size: 1, inputs: {other}}}"
    return f"layernorm: {{normalized_shape: [{rng.randint(2, 9)}]}}"


def random_graph(seed: int) -> Graph:
    rng = random.Random(seed)
    dims = rng.choice([1, 2, 2, 2, 3])
    sizes = [rng.randint(5, 12) for _ in range(dims)]
    head = f"input: {[4, *sizes]}\nlayers:\n"
    entries: list[str] = []
    names = ["input"]
    graph = parse_spec(head + "  - relu: {name: n0}\n")
    names.append("n0")
    entries.append("  - relu: {name: n0}")
    for _ in range(rng.randint(4, 16)):
        for _attempt in range(8):
            name = f"n{len(names) - 1}"
            entry = candidates(rng, names, dims)
            entry = entry[:-1] + f", name: {name}}}" if entry.endswith("}") else f"{entry}: {{name: {name}}}"
            try:
                graph = parse_spec(head + "\n".join([*entries, f"  - {entry}"]) + "\n")
            except CnncalcError:
                continue
            entries.append(f"  - {entry}")
            names.append(name)
            break
    return graph


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32))
def test_random_graphs_take_the_same_fields_both_ways(seed: int) -> None:
    assert_same_paths(random_graph(seed))


def test_the_random_graphs_reach_every_path() -> None:
    """The generator makes what the paths are about: fractions, warnings, no field, moved axes."""
    seen = {"fraction": 0, "warning": 0, "none": 0, "axes": 0, "merge": 0}
    for seed in range(150):
        graph = random_graph(seed)
        fields, warnings = receptive_fields(graph)
        seen["warning"] += bool(warnings)
        seen["merge"] += any(len(node.inputs) > 1 for node in graph.nodes)
        for field in fields.values():
            if field is None:
                seen["none"] += 1
                continue
            seen["axes"] += bool(field.axes)
            seen["fraction"] += any(isinstance(v, Fraction) for values in field[:3] for v in values)
    assert all(count >= 5 for count in seen.values()), seen
