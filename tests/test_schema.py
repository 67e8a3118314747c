"""`cnncalc schema`: the JSON Schema of spec files agrees with cnncalc on what a spec may say.

cnncalc is the oracle throughout: every value is put to both the schema (jsonschema's Draft7Validator) and cnncalc
(parse_spec, make_layer, parse_arguments), and they must agree. The schema checks form only: where cnncalc refuses a
value for a reason the schema documents it cannot see (shapes, arguments against each other), the probe is left out
below with that reason, and `test_documented_limitations` pins the documented differences.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS, run_cli
from jsonschema import Draft7Validator

from cnncalc.args import Choice, parse_arguments
from cnncalc.errors import CnncalcError, LayerError
from cnncalc.layers import REGISTRY, lookup, make_layer
from cnncalc.schema import spec_schema
from cnncalc.spec import BLOCK_KEYS, RESERVED, TOP_KEYS, parse_spec
from cnncalc.yamlsource import load_yaml

SCHEMA = spec_schema()
VALIDATOR = Draft7Validator(SCHEMA)


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def cnncalc_accepts(document: Any) -> bool:
    """parse_spec on the document written as JSON (YAML 1.2, as editors read it: text stays text, whatever it
    spells); anything but a CnncalcError is a bug and propagates."""
    try:
        parse_spec(json.dumps(document), "probe.yaml")
    except CnncalcError:
        return False
    return True


def spec(**keys: Any) -> dict[str, Any]:
    """A small valid spec with some keys replaced (a key set to ... is removed)."""
    document: dict[str, Any] = {"input": [3, 8, 8], "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3}}]}
    document.update(keys)
    return {k: v for k, v in document.items() if v is not ...}


def with_conv_key(key: str, value: Any) -> dict[str, Any]:
    """The key on a conv after an identity (a conv that `when` or `repeat: 0` leaves out leaves a network)."""
    return spec(layers=["identity", {"conv2d": {"out_channels": 4, "kernel_size": 3, key: value}}])


# -- the schema itself ---------------------------------------------------------------------------------------------


def test_is_valid_draft_07_and_deterministic() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert json.dumps(spec_schema()) == json.dumps(SCHEMA)


def test_follows_the_registry_and_the_spec_tables() -> None:
    definitions = SCHEMA["definitions"]
    assert list(SCHEMA["properties"]) == list(TOP_KEYS)
    assert SCHEMA["required"] == ["input", "layers"]
    assert list(definitions["block"]["properties"]) == list(BLOCK_KEYS)
    entry = next(form for form in definitions["layer"]["anyOf"] if form.get("type") == "object")
    for cls in REGISTRY.values():
        arguments = definitions[f"kind.{cls.kind}"]
        assert list(arguments["properties"]) == [a.name for a in cls.arguments] + list(RESERVED)
        assert arguments["additionalProperties"] is False
        assert cls.kind in entry["properties"] and cls.kind.lower() in entry["properties"]
        assert cls.kind in arguments["description"]  # the signature, for hover help


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_spec_is_valid(path: Path) -> None:
    document = load_yaml(path.read_text(encoding="utf-8"), path.name)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in VALIDATOR.iter_errors(document)]
    assert errors == []


# -- whole specs: both refuse, both accept -------------------------------------------------------------------------

CONV = {"conv2d": {"out_channels": 4, "kernel_size": 3}}
BLOCK = {
    "unit": {
        "params": {"width": None, "k": 3},
        "layers": [{"conv2d": {"out_channels": "$width", "kernel_size": "$k"}}, "relu"],
    }
}

BROKEN = {
    "unknown top-level key": spec(optimizer="adam"),
    "misspelt top-level key": spec(layer=[CONV]),
    "missing input": spec(input=...),
    "missing layers": spec(layers=...),
    "no layers": spec(layers=[]),
    "unknown argument to conv2d": spec(layers=[{"conv2d": {"out_channels": 4, "kernal_size": 3}}]),
    "kernel_size: five": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": "five"}}]),
    "kernel_size: three per axis in 2-D": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": [3, 3, 3]}}]),
    "padding: sometimes": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 3, "padding": "sometimes"}}]),
    "bias: 1 (not a boolean)": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 3, "bias": 1}}]),
    "out_channels: true (a boolean is not an integer)": spec(
        layers=[{"conv2d": {"out_channels": True, "kernel_size": 3}}]
    ),
    "a required argument missing": spec(layers=[{"conv2d": {"out_channels": 4}}]),
    "a kind that needs arguments, bare": spec(layers=["conv2d"]),
    "a kind that needs arguments, null": spec(layers=[{"Conv2d": None}]),
    "two keys in a layer entry": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 3}, "relu": None}]),
    "arguments not a mapping": spec(layers=[{"relu": 5}]),
    "$param at the top level": spec(layers=[{"conv2d": {"out_channels": "$width", "kernel_size": 3}}]),
    "$param in a list at the top level": spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": [3, "$k"]}}]),
    "$param to a block at the top level": spec(blocks=BLOCK, layers=[{"unit": {"width": "$w"}}]),
    "bad limits key": spec(limits={"max_param": "25M"}),
    "bad limits unit": spec(limits={"max_macs": "25X"}),
    "negative budget": spec(limits={"max_params": -1}),
    "limits dtype": spec(limits={"dtype": "float"}),
    "limits not a mapping": spec(limits=["max_macs"]),
    "unknown lint rule": spec(ignore=["no-such-rule"]),
    "top-level ignore null": spec(ignore=None),
    "unknown lint rule on a layer": with_conv_key("ignore", "no-such-rule"),
    "batch: 0": spec(batch=0),
    "layout: whc": spec(layout="whc"),
    "input: 3x0x8": spec(input="3x0x8"),
    "input: an empty list": spec(input=[]),
    "a layer named input": with_conv_key("name", "input"),
    "a layer name with an empty part": with_conv_key("name", "a..b"),
    "a layer name ending in a dot": with_conv_key("name", "features."),
    "repeat: -1": with_conv_key("repeat", -1),
    "a $parameter in an expression at the top level": spec(
        layers=[{"conv2d": {"out_channels": "$in_channels * $w", "kernel_size": 3}}]
    ),
    "when: 3": with_conv_key("when", 3),
    "when: 'yes' (text is no condition)": with_conv_key("when", "yes"),
    "an if without then": spec(layers=[CONV, {"if": True}]),
    "an if with an unknown key": spec(layers=[CONV, {"if": True, "then": ["relu"], "than": ["relu"]}]),
    "an if whose then is no list": spec(layers=[CONV, {"if": True, "then": "relu"}]),
    "a kind as a parameter at the top level": spec(layers=[CONV, "$act"]),
    "a kind key as a parameter at the top level": spec(layers=[CONV, {"$act": {"inplace": True}}]),
    "a block parameter named like a shape name": spec(
        blocks={"unit": {"params": {"in_channels": 2}, "layers": ["relu"]}}, layers=["unit"]
    ),
    "a block parameter named index": spec(
        blocks={"unit": {"params": {"index": 2}, "layers": ["relu"]}}, layers=["unit"]
    ),
    "trainable: 'no'": with_conv_key("trainable", "no"),
    "weights as a list": with_conv_key("weights", [1, 2]),
    "weights on a block use": spec(blocks=BLOCK, layers=[{"unit": {"width": 4, "weights": {"weight": [1]}}}]),
    "a block named like a kind": spec(blocks={"ReLU": BLOCK["unit"]}, layers=[CONV]),
    "a block parameter named like a reserved key": spec(
        blocks={"unit": {"params": {"repeat": 2}, "layers": ["relu"]}}, layers=["unit"]
    ),
    "a block without layers": spec(blocks={"unit": {"params": {"w": 1}}}, layers=[CONV]),
    "an unknown block key": spec(blocks={"unit": {"layers": ["relu"], "args": {}}}, layers=["unit"]),
    "a layer key that is no name": spec(layers=[{"conv 2d": {"out_channels": 4, "kernel_size": 3}}]),
}


@pytest.mark.parametrize("document", BROKEN.values(), ids=BROKEN.keys())
def test_broken_specs_are_refused_by_both(document: dict[str, Any]) -> None:
    assert not cnncalc_accepts(document)
    assert not schema_accepts(document)


GOOD = {
    "kinds in any case": spec(
        layers=[
            {"Conv2d": {"out_channels": 4, "kernel_size": 3}},
            "RELU",
            {"MaxPool2d": {"kernel_size": 2}},
            "Flatten",
            {"LINEAR": {"out_features": 2}},
        ]
    ),
    "null and empty arguments": spec(layers=[CONV, {"relu": None}, {"batchnorm2d": {}}]),
    "reserved keys": spec(
        layers=[
            {"conv2d": {"out_channels": 4, "kernel_size": 3, "name": "c-1", "inputs": "input", "trainable": False}},
            {"conv2d": {"out_channels": 4, "kernel_size": 1, "name": "c2", "repeat": 2, "ignore": ["CN001"]}},
            {"add": {"inputs": ["c-1", "c2"], "name": None}},
        ]
    ),
    "weights": spec(
        layers=[
            {
                "conv2d": {
                    "out_channels": 1,
                    "kernel_size": 3,
                    "bias": False,
                    "weights": {"weight": [[[[0] * 3] * 3] * 3]},
                }
            }
        ]
    ),
    "blocks with parameters everywhere": spec(
        blocks={
            "unit": {
                "params": {"width": None, "k": 3, "skip": "input", "n": 1, "rules": "CN001"},
                "description": "conv, relu",
                "layers": [
                    {"conv2d": {"out_channels": "$width", "kernel_size": ["$k", 3], "padding": 1, "repeat": "$n"}},
                    {"relu": {"name": "act", "ignore": "$rules"}},
                    {"concat": {"inputs": ["$skip", "act"]}},
                ],
            },
            "twice": {"params": [], "layers": [{"unit": {"width": 2, "repeat": 2}}]},
        },
        layers=[
            {"unit": {"width": 4, "k": 3, "name": "u", "trainable": False, "ignore": ["small-batch-norm"]}},
            "twice",
        ],
    ),
    "the language: expressions, conditions, kinds as parameters, repeat 0": spec(
        blocks={
            "unit": {
                "params": {"out": None, "stride": 1, "act": "relu", "hidden": "$out * 2", "skip": True},
                "layers": [
                    {
                        "if": "$in_channels != $hidden",
                        "then": [{"conv2d": {"out_channels": "$hidden", "kernel_size": 1}}],
                    },
                    {
                        "conv2d": {
                            "out_channels": "$in_channels",
                            "kernel_size": 3,
                            "groups": "$in_channels",
                            "padding": 1,
                            "stride": "$stride",
                        }
                    },
                    "$act",
                    {"$act": {"inplace": True}},
                    {"conv2d": {"out_channels": "$out", "kernel_size": [1, "max(1, $stride - 1)"], "name": "last"}},
                    {"add": {"inputs": ["input", "last"], "when": "$skip and $stride == 1 and $in_channels == $out"}},
                ],
            }
        },
        layers=[
            {"conv2d": {"out_channels": "$in_channels * 2 + $index", "kernel_size": 1, "repeat": 2, "when": True}},
            {"unit": {"out": 6, "stride": "2 if $index == 0 else 1", "repeat": 2, "name": "stage"}},
            {"unit": {"out": 6, "repeat": 0, "name": "none", "act": "hardswish"}},
            {"if": "$in_channels > 4", "then": ["relu"], "else": [{"conv2d": {"out_channels": 8, "kernel_size": 1}}]},
            {"relu": {"when": "$in_width == 4"}},
        ],
    ),  # fmt: skip
    "a block use with null arguments": spec(blocks={"unit": {"layers": ["relu"]}}, layers=[{"unit": None}, "unit"]),
    "limits in every form": spec(
        limits={
            "max_params": "25M",
            "max_macs": 4_100_000_000,
            "max_flops": "9.5 g",
            "max_activation_bytes": "1.5GiB",
            "dtype": "float16",
            "expect_output": "4x6x6",
            "min_receptive_field": [3, 3],
        }
    ),
    "ignore as one rule, in any case": spec(ignore="BIAS-before-norm"),
    "everything at the top": spec(name="net", description="a test", layout="hwc", input="8x8x3", batch=16, blocks=None),
}


@pytest.mark.parametrize("document", GOOD.values(), ids=GOOD.keys())
def test_good_specs_are_accepted_by_both(document: dict[str, Any]) -> None:
    assert cnncalc_accepts(document)
    assert schema_accepts(document)


def test_documented_limitations() -> None:
    """What the schema's description says it cannot check: each passes the schema, and cnncalc refuses it."""
    cases = [
        spec(layers=[{"conv2": {"out_channels": 4, "kernel_size": 3}}]),  # an unknown kind reads as a block use
        spec(layers=["rleu"]),  # likewise a bare name
        spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 9}}]),  # a kernel larger than the input
        spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 3}}, {"add": {"inputs": ["input", "nowhere"]}}]),
        spec(layers=[{"conv2d": {"out_channels": 4, "kernel_size": 2.0}}]),  # JSON Schema counts 2.0 as an integer
        spec(limits={"max_params": "1.0005K"}),  # not a whole number
        spec(limits={"max_params": "1e-1"}),  # likewise
        with_conv_key("when", "$index == 0"),  # what an expression reads or computes: $index is not read in when
        with_conv_key("when", "$in_channels"),  # likewise: a number is no condition
        spec(layers=[{"conv2d": {"out_channels": "$in_channels // 0", "kernel_size": 3}}]),  # division by zero
        spec(layers=[{"relu": {"repeat": 0}}]),  # a network that makes nothing
    ]
    for document in cases:
        assert schema_accepts(document), document
        assert not cnncalc_accepts(document), document


# -- every argument of every kind, value by value ------------------------------------------------------------------

# Integral floats (2.0) are left out: JSON Schema cannot tell them from integers (test_documented_limitations).
PROBES: list[Any] = [
    -2, -1, 0, 1, 2, 3, 0.5, -0.5, 1.5, 1e-05, True, False, None,
    "five", "same", "valid", "", "3", "$x",
    [], [1], [2], [1, 2], [2, 3], [1, 2, 3], [2, 2, 2, 2], [1, 1, 1, 1, 1, 1], [0, 1], [-1, 1], [1, "a"],
    [True, 1], [None, 2], [None], [None, None, None], [1.5, 2], [[1]], {"a": 1},
    # Python forms, as print(model) writes them (cnncalc.args.parse_value), and near misses
    "(1, 2)", "(2,)", "(2, 3)", "(1, 2, 3)", "()", "(None, 2)", "(null, 2)", "(None,)", "(1.5, 2)", "(2, 2, 2, 2)",
    "(1, 1, 1, 1, 1, 1)", "(0, 1)", "(-1, 1)", "(-0, 2)", "(+2, 3)", "( 2 ,\t3 , )", "(02, 3)", "None", " None ",
    "(7)", "(1, 2", "(2,,)", "(True, 1)", "('a', 1)", "(1e1, 2)", "(1_0, 2)", "[1, 2]", "(- 1, 2)", "((1, 2))",
    "none", "NULL",
]  # fmt: skip


def probes_for(arg_type: Any) -> list[Any]:
    return PROBES + (list(arg_type.choices) if isinstance(arg_type, Choice) else [])


def spelled(kind: str, index: int) -> str:
    """The kind in one of its spellings, so that the case-insensitive patterns are exercised too."""
    return (kind.lower(), kind, kind.upper())[index % 3]


@pytest.mark.parametrize("cls", sorted(REGISTRY.values(), key=lambda c: c.kind), ids=lambda c: c.kind)
def test_argument_forms_agree_for_every_kind(cls: Any) -> None:
    """The schema accepts a value exactly when cnncalc's argument check (parse_arguments, which make_layer runs
    before any shape rule) does; the other arguments come from the kind's first executor example."""
    base = cls.examples()[0][0]
    disagreements = []
    for index, arg in enumerate(cls.arguments):
        for probe in probes_for(arg.type):
            arguments = {**base, arg.name: probe}
            try:
                parse_arguments(cls.arguments, arguments, cls.dims, cls.kind)
                accepted = True
            except LayerError:
                accepted = False
            document = {"input": [1], "layers": [{spelled(cls.kind, index): arguments}]}
            if schema_accepts(document) != accepted:
                disagreements.append((arg.name, probe, "cnncalc accepts" if accepted else "cnncalc refuses"))
    assert disagreements == []


@pytest.mark.parametrize("cls", sorted(REGISTRY.values(), key=lambda c: c.kind), ids=lambda c: c.kind)
def test_inside_a_block_parameters_are_added_and_nothing_else(cls: Any) -> None:
    base = cls.examples()[0][0]
    for arg in cls.arguments:
        for probe in [*probes_for(arg.type), "$p", ["$p", 1], "$"]:
            arguments = {**base, arg.name: probe}
            top = spec(layers=[{cls.kind: arguments}])
            in_block = spec(blocks={"b": {"params": {"p": 1}, "layers": [{cls.kind: arguments}]}}, layers=["b"])
            is_param = isinstance(probe, str) and probe.startswith("$")
            has_param = is_param or (isinstance(probe, list) and any(str(v).startswith("$") for v in probe))
            if has_param:
                assert not schema_accepts(top), (arg.name, probe)
            if is_param:
                assert schema_accepts(in_block), (arg.name, probe)
            elif not has_param:
                assert schema_accepts(in_block) == schema_accepts(top), (arg.name, probe)


# Layers built with make_layer on a roomy input, so that shape rules stay out of the way; NOT_FORM leaves out the
# values cnncalc refuses for what the schema cannot see (the input's size, other arguments, rules of the kind).
SAMPLE: dict[str, tuple[dict[str, Any], list[tuple[int, ...]]]] = {
    "conv2d": ({"out_channels": 4, "kernel_size": 3}, [(4, 16, 16)]),
    "convtranspose1d": ({"out_channels": 4, "kernel_size": 3, "stride": 3}, [(4, 16)]),
    "maxpool2d": ({"kernel_size": 4}, [(4, 16, 16)]),
    "avgpool3d": ({"kernel_size": 4}, [(2, 8, 8, 8)]),
    "adaptiveavgpool2d": ({"output_size": 2}, [(4, 16, 16)]),
    "adaptivemaxpool1d": ({"output_size": 2}, [(4, 16)]),
    "linear": ({"out_features": 4}, [(4,)]),
    "batchnorm2d": ({}, [(4, 8, 8)]),
    "groupnorm": ({"num_groups": 1}, [(4, 8, 8)]),
    "dropout": ({}, [(4, 8, 8)]),
    "softmax": ({"dim": 1}, [(4, 8, 8)]),
    "flatten": ({}, [(4, 8, 8)]),
    "upsample": ({"scale_factor": 2}, [(4, 8, 8)]),
    "zeropad2d": ({"padding": 1}, [(4, 8, 8)]),
    "constantpad1d": ({"padding": 1, "value": 0}, [(4, 8)]),
    "gelu": ({}, [(4, 8)]),
    "leakyrelu": ({}, [(4, 8)]),
}
NOT_FORM: dict[tuple[str, str], list[Any] | None] = {  # None: every value (the argument depends on the input)
    ("conv2d", "in_channels"): None,  # must equal the input's channels
    ("conv2d", "groups"): [3],  # must divide the channels
    ("convtranspose1d", "in_channels"): None,
    ("convtranspose1d", "groups"): [3],
    ("convtranspose1d", "output_padding"): [3],  # must be smaller than stride or dilation
    ("maxpool2d", "padding"): [3, [2, 3], "(2, 3)", "( 2 ,\t3 , )", "(02, 3)", "(+2, 3)"],  # at most half the kernel
    ("maxpool2d", "return_indices"): [True],  # refused: a layer graph cannot carry PyTorch's tuple
    ("adaptivemaxpool1d", "return_indices"): [True],
    ("avgpool3d", "padding"): [3, [1, 2, 3], "(1, 2, 3)"],
    ("avgpool3d", "divisor_override"): [0],  # PyTorch divides by it
    ("linear", "in_features"): None,
    ("batchnorm2d", "num_features"): None,
    ("groupnorm", "num_groups"): [3],  # must divide the channels
    ("groupnorm", "num_channels"): None,
    ("flatten", "start_dim"): [0],  # the batch axis
    ("flatten", "end_dim"): [0],  # before start_dim
    ("upsample", "size"): None,  # not together with scale_factor
    ("upsample", "scale_factor"): None,  # positive, one per spatial axis of the input
    ("upsample", "align_corners"): None,  # only with interpolating modes
    ("upsample", "mode"): ["linear", "trilinear"],  # the mode's rank must be the input's
}


@pytest.mark.parametrize("kind", SAMPLE)
def test_make_layer_agrees_on_a_sample_of_kinds(kind: str) -> None:
    base, shapes = SAMPLE[kind]
    cls = lookup(kind)
    disagreements = []
    for arg in cls.arguments:
        skipped = NOT_FORM.get((kind, arg.name), [])
        if skipped is None:
            continue
        for probe in probes_for(arg.type):
            if any(type(s) is type(probe) and s == probe for s in skipped):  # True is not 1 here
                continue
            arguments = {**base, arg.name: probe}
            try:
                make_layer(kind, arguments, *shapes)
                accepted = True
            except CnncalcError:
                accepted = False
            if schema_accepts({"input": [1], "layers": [{kind: arguments}]}) != accepted:
                disagreements.append((arg.name, probe, "cnncalc accepts" if accepted else "cnncalc refuses"))
    assert disagreements == []


# -- the spec's own keys, value by value, through parse_spec --------------------------------------------------------

AMOUNTS: list[Any] = [
    0, 25, -1, True, 2.5, None, [1], "25M", "4.1G", "1.5GiB", "300MB", "25m", "1,000", "25_000_000", "1.5 GiB",
    " 7 ", ".5K", "5.", "25X", "MB", "-5", "1e9", "1.5gib", "2 5M", "", "K", "1..5K", "1_000K", "5b", "5B", "5kB",
    "5KB", "5 KiB", "2T", "3P", "4E", 1e9, 1.5e3, 2.5, 1e300, "4.1e9", "1E3K", "1e+9", "1_e9", "1e100", "1e",
    "e9",
]  # fmt: skip
SIZES: list[Any] = [
    10, [2, 3], "2x256x256", "10", "0", [0], [], -1, True, "2X3", "2,3", " 2 x 3 ", "a", None, 1.5, "2x", "x2",
    [2, "3"], "(2, 3)", "(2,)", "(2)", "(0, 2)", "()", "None",
]  # fmt: skip
TOP_PROBES: dict[str, list[Any]] = {
    "name": ["net", 3, None, ""],
    "description": ["text", 3, None, [1]],
    "input": [[3, 8, 8], "3x8x8", "3, 8, 8", " 3 x 8 x 8 ", "3X8X8", "0x8x8", "3x8x", [], [0, 8, 8], [True, 8, 8], 3,
              None, "abc", "08x8x8", [3, 8, -8], "(3, 8, 8)", "(3, 8, 8,)", "(3, 8, 0)", "(3)", "None"],
    "layout": ["chw", "hwc", "CHW", None, 1],
    "batch": [1, 2, 0, -1, True, "2", None, 1.5],
    "ignore": ["CN001", "cn001", "bias-before-norm", "BIAS-BEFORE-NORM", ["CN001", "small-batch-norm"], [], "nope",
               [1], None, "", 1],
    "blocks": [None, {}, [], "x"],
    "layers": [[], "relu", None, ["relu"], [None], [1]],
}  # fmt: skip
LIMIT_PROBES: dict[str, list[Any]] = {
    "max_params": AMOUNTS,
    "max_macs": AMOUNTS,
    "max_flops": AMOUNTS,
    "max_activation_bytes": AMOUNTS,
    "dtype": ["float16", "bfloat16", "int8", "FLOAT16", "float", 16, None],  # a list crashes cnncalc (reported)
    "expect_output": SIZES,
    "min_receptive_field": SIZES,
}
LAYER_NAMES: list[Any] = [
    "conv", "ok-name", "_x", "input", "1abc", "a.b", None, 3, "$x", "", "layer2.0.conv1", "features.0", "0", "a..b",
    "a.", ".a", "-a", "a.-b", "a.1b", "input.0", "Schicht_ä", "слой.0", "层1",
]  # fmt: skip
RESERVED_PROBES: dict[str, list[Any]] = {
    "name": LAYER_NAMES,
    "inputs": ["input", ["input"], [], "", "$x", 3, None, ["input", 3], [None]],
    "repeat": [1, 2, 0, -1, True, None, "2", 2.5, "$in_channels", "$n"],
    "when": [True, False, None, "yes", 1, "true", "$in_channels == 3", "$in_width > $n", "$index > 0 and $n"],
    "trainable": [True, False, None, "no", 0],
    "weights": [None, {}, [], "w", 3],
    "ignore": [None, "CN001", ["cn001", "bias-before-norm"], "nope", [1], [], 1, ["CN001", None]],  # "": see report
}


def disagreements(documents: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, str]]:
    found = []
    for probe, document in documents:
        accepted = cnncalc_accepts(document)
        if schema_accepts(document) != accepted:
            found.append((probe, "cnncalc accepts" if accepted else "cnncalc refuses"))
    return found


def test_probe_tables_cover_the_spec_tables() -> None:
    from cnncalc.limits import LIMIT_KEYS

    assert set(TOP_PROBES) | {"limits"} == set(TOP_KEYS)
    assert set(LIMIT_PROBES) == set(LIMIT_KEYS)
    assert set(RESERVED_PROBES) == set(RESERVED)


@pytest.mark.parametrize("key", TOP_PROBES)
def test_top_level_values_agree(key: str) -> None:
    identity = {"layers": ["identity"]} if key != "layers" else {}
    assert disagreements([(p, spec(**{**identity, key: p})) for p in TOP_PROBES[key]]) == []


@pytest.mark.parametrize("key", LIMIT_PROBES)
def test_limits_agree(key: str) -> None:
    assert disagreements([(p, spec(limits={key: p})) for p in LIMIT_PROBES[key]]) == []


@pytest.mark.parametrize("key", RESERVED_PROBES)
def test_reserved_keys_agree(key: str) -> None:
    assert disagreements([(p, with_conv_key(key, p)) for p in RESERVED_PROBES[key]]) == []


def test_block_definitions_agree() -> None:
    def block(body: Any, name: str = "unit") -> dict[str, Any]:
        return spec(blocks={name: body}, layers=[name])

    documents = [
        (params, block({"params": params, "layers": ["relu"]}))
        for params in [None, {}, [], "", 0, False, {"w": 1}, {"w": [1]}, {"name": 1}, {"ignore": 1}, [1], "x", 1]
    ]
    documents += [(layers, block({"layers": layers})) for layers in [[], None, "relu", ["relu"], [{"relu": None}]]]
    names = ["my-block", "_b", "1block", "relu", "Conv2D", "a.b", "0", "Block_ä"]
    documents += [(name, block({"layers": ["relu"]}, name)) for name in names]
    documents += [(body, block(body)) for body in [None, [], "relu", {"layers": ["relu"], "description": 3}]]
    assert disagreements(documents) == []


# -- the command -----------------------------------------------------------------------------------------------------


def test_cli_prints_the_schema_and_writes_it_to_a_file(tmp_path: Path) -> None:
    printed = run_cli("schema")
    assert printed.code == 0 and printed.err == ""
    assert json.loads(printed.out) == SCHEMA
    again = run_cli("schema", env={"PYTHONHASHSEED": "12345"})
    assert again.out == printed.out  # deterministic across processes
    assert run_cli("schema", "-o", "-").out == printed.out
    target = tmp_path / "cnncalc-spec.schema.json"
    written = run_cli("schema", "-o", str(target))
    assert written.code == 0 and written.out == ""
    assert target.read_text(encoding="utf-8") == printed.out


def test_cli_reports_an_unwritable_output(tmp_path: Path) -> None:
    result = run_cli("schema", "--output", str(tmp_path / "missing" / "schema.json"))
    assert result.code == 2
    assert "cannot write" in result.err and "Traceback" not in result.err


def test_readme_modeline_form_validates_a_spec(tmp_path: Path) -> None:
    """A spec carrying the editor modeline is still a valid spec for cnncalc (the modeline is a comment)."""
    text = "# yaml-language-server: $schema=cnncalc-spec.schema.json\n" + (SPECS / "lenet5.yaml").read_text()
    assert schema_accepts(load_yaml(text, "lenet5.yaml"))
    parse_spec(text, "lenet5.yaml")


def schema_patterns(node: Any) -> set[str]:
    """Every regular expression in the schema: `pattern` values and `patternProperties` keys."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern":
                found.add(value)
            elif key == "patternProperties":
                found.update(value)
            found |= schema_patterns(value)
    elif isinstance(node, list):
        for value in node:
            found |= schema_patterns(value)
    return found


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node, for JavaScript's regular expressions")
def test_patterns_mean_the_same_to_editors() -> None:
    """Editors (yaml-language-server) compile patterns as ECMA 262 with the u flag; Python's re must agree."""
    import re
    import subprocess

    patterns = sorted(schema_patterns(SCHEMA))
    words = ["conv2d", "Conv2d", "CONV2D", "conv2", "my-block", "$w", "", "3x224x224", " 3, 8 ", "4.1G", "1.5GiB",
             "1,000", "25X", "CN001", "bias-before-norm", "input", "a.b", "_x", "layer2.0.conv1", "features.0", "a..b",
             "0", "-a", "Schicht_ä", "слой.0", "𝔞.0", "(7, 7)", "(768,)", "None", "()", "( 1 ,\t2 , )", "(None, 7)",
             "(1.5, 2e-3)", "(-0, +1)", "(7)", "1e9", "4.1e9", "1e_9K", "Conv2d(3, 64, kernel_size=(7, 7))",
             "nn.ReLU()", "(conv1)"]  # fmt: skip
    script = (
        "const [patterns, words] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(patterns.map(p => words.map(w => new RegExp(p, 'u').test(w)))));"
    )
    done = subprocess.run(
        ["node", "-e", script], input=json.dumps([patterns, words]), capture_output=True, text=True, check=True
    )
    in_javascript = json.loads(done.stdout)
    in_python = [[re.search(p, w) is not None for w in words] for p in patterns]
    assert in_javascript == in_python
