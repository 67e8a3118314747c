"""Python forms copied from `print(model)`: tuples and None as values, whole printed layers as entries.

Values are read by cnncalc.pyliteral (parsed, never evaluated). The oracles: Python's own repr (every value it
prints reads back as itself, tuples as lists), the mapping form of the same layer, and PyTorch (modules built with
random arguments, their repr fed to cnncalc as a spec entry: same output shape, parameters and buffers).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.analyze import analyze
from cnncalc.args import positional_names
from cnncalc.errors import SpecError
from cnncalc.layers import REGISTRY
from cnncalc.pyliteral import LiteralError, parse_call, parse_tuple_or_none
from cnncalc.schema import spec_schema
from cnncalc.spec import parse_spec
from cnncalc.yamlsource import load_yaml

try:
    import torch
    from torch import nn
except ImportError:  # the PyTorch oracle tests skip
    torch = None  # type: ignore[assignment]
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


def as_lists(value: Any) -> Any:
    """What cnncalc makes of a Python value: tuples become lists (YAML has no tuples)."""
    if isinstance(value, (list, tuple)):
        return [as_lists(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# -- values, by repr ------------------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.tuples(inner, inner), st.lists(inner, max_size=4), st.tuples(inner)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_every_value_python_prints_reads_back(value: Any) -> None:
    call = parse_call(f"Kind({value!r}, name={value!r})")
    assert call.name == "Kind"
    assert [a.keyword for a in call.arguments] == [None, "name"]
    for argument in call.arguments:
        assert same(argument.value, as_lists(value)), (value, argument.value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(), st.none()), max_size=6).map(tuple))
def test_tuples_read_as_lists(value: tuple[Any, ...]) -> None:
    assert same(parse_tuple_or_none(repr(value)), list(value))
    assert same(parse_tuple_or_none(" " + repr(value).replace(", ", " ,\t") + "\n"), list(value))


def test_what_is_not_a_tuple() -> None:
    assert parse_tuple_or_none("None") is None
    for text, problem in [
        ("(7)", "is 7 in Python, not a tuple"),
        ("(7, 7", "expected ',' or ')', found the end of the text"),
        ("(a, b)", "'a' is a name, not a value"),
        ("(1, 2)x", "unexpected 'x' after the value"),
        ("(0x10,)", "cannot read the number"),
        ("(1_000,)", "cannot read the number"),
        ("(- 1,)", "expected a number after '-'"),
        ("('open,)", "never ends"),
        ("(" * 100 + ")" * 100, "nested more than"),
        ("(" + "9" * 5000 + ",)", "digits is too long"),
    ]:
        with pytest.raises(LiteralError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            parse_tuple_or_none(text)


# -- tuples and None in specs ---------------------------------------------------------------------------------------


def figures(text: str) -> list[Any]:
    """Every row of the analysis (bar the layer names, which default by position) and the parsed arguments."""
    graph = parse_spec(text, "probe.yaml")
    rows = [row._replace(name="", inputs=[]) for row in analyze(graph).rows]
    arguments = [{a.name: getattr(n.bound(), a.name) for a in n.cls.arguments} for n in graph.nodes]
    return [rows, arguments]


def net(*layers: str, shape: str = "[3, 16, 16]") -> str:
    return f"input: {shape}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)


def test_tuples_in_flow_mappings_are_read_whole() -> None:
    """YAML splits `{kernel_size: (7, 7)}` at the comma; the pieces are joined back from the text."""
    pad = "zeropad2d: {padding: (1, 1, 1, 1)}"
    expected = figures(
        net("conv2d: {out_channels: 4, kernel_size: [3, 5], stride: [2, 1]}", pad.replace("(", "[").replace(")", "]"))
    )
    for conv in [
        "conv2d: {out_channels: 4, kernel_size: (3, 5), stride: (2, 1)}",
        "conv2d: {out_channels: 4, kernel_size: (3,5), stride: ( 2 , 1 , )}",
        "conv2d: {out_channels: 4,\n      kernel_size: (3,\n        5), stride: (2, 1)}",
        "conv2d:\n      out_channels: 4\n      kernel_size: (3, 5)\n      stride: (2, 1)",
        "conv2d: {out_channels: 4, kernel_size: '(3, 5)', stride: \"(2, 1)\"}",
    ]:
        assert figures(net(conv, pad)) == expected, conv
        assert figures(net(conv, pad.replace(", ", ","))) == expected, conv


def test_tuples_in_flow_lists_and_single_values() -> None:
    assert figures(net("layernorm: {normalized_shape: (16,)}")) == figures(net("layernorm: {normalized_shape: [16]}"))
    assert figures(net("adaptiveavgpool2d: {output_size: (None, 7)}")) == figures(
        net("adaptiveavgpool2d: {output_size: [null, 7]}")
    )
    assert figures(net("maxpool2d: {kernel_size: 2, stride: ()}")) == figures(net("maxpool2d: {kernel_size: 2}"))
    assert load_yaml("a: [(1, 2), (3, 4)]\n", "probe.yaml")["a"] == ["(1, 2)", "(3, 4)"]


def test_none_is_null() -> None:
    null = figures(net("batchnorm2d: {momentum: null}"))
    assert figures(net("batchnorm2d: {momentum: None}")) == null
    assert figures(net("batchnorm2d:\n      momentum: None")) == null
    assert figures(net("batchnorm2d: {momentum: 'None'}")) == null


def test_shapes_and_limits_take_tuples() -> None:
    graph = parse_spec("input: (3, 16, 16)\nlayers: [relu]\nlimits: {expect_output: (3, 16, 16)}\n", "probe.yaml")
    assert graph.input_shape == (3, 16, 16)
    assert graph.limits["expect_output"].value == (3, 16, 16)


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "probe.yaml")
    assert caught.value.location is not None, caught.value.render()
    return caught.value


def test_a_broken_tuple_is_named_never_split() -> None:
    entry = "conv2d: {out_channels: 4, kernel_size: (7, 7, stride: 2}"
    error = error_of(net(entry))
    assert "'(' in '(7' is never closed" in error.message and "[7, 7]" in (error.hint or "")
    assert error.location == ("probe.yaml", 3, len("  - ") + entry.index("(") + 1)
    for text in [
        net("conv2d: {out_channels: 4, kernel_size: (7, 7}"),
        net("conv2d: {out_channels: 4, kernel_size: (7)}"),
        net("conv2d:\n      out_channels: 4\n      kernel_size: (7, 7"),
        net("conv2d: {out_channels: 4, kernel_size: (7, 'x')}"),
        net("conv2d: {out_channels: 4, kernel_size: (7, 7, 7)}"),
    ]:
        error = error_of(text)
        assert "no argument" not in error.message and "'7)'" not in error.message, error.render()


def test_a_broken_tuple_gets_a_hint_with_the_reason() -> None:
    error = error_of(net("conv2d:\n      out_channels: 4\n      kernel_size: (7, 7"))
    assert error.message.endswith(
        "kernel_size: expected a positive integer or a list of 2 positive integers, got '(7, 7'"
    )
    assert "not a Python tuple: expected ',' or ')', found the end of the text" in (error.hint or "")
    error = error_of(net("conv2d: {out_channels: 4, kernel_size: (7)}"))
    assert error.hint == "(7) is 7 in Python, not a tuple: write 7, or (7,) for a tuple of one"


# -- printed layers ---------------------------------------------------------------------------------------------------

RESNET_STEM = [
    "Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
    "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
    "ReLU(inplace=True)",
    "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
    "AdaptiveAvgPool2d(output_size=(1, 1))",
    "Flatten(start_dim=1, end_dim=-1)",
    "Dropout(p=0.5, inplace=False)",
    "Linear(in_features=64, out_features=1000, bias=True)",
]
RESNET_STEM_MAPPED = [
    "conv2d: {in_channels: 3, out_channels: 64, kernel_size: [7, 7], stride: [2, 2], padding: [3, 3], bias: false}",
    "batchnorm2d: {num_features: 64, eps: 1.0e-5, momentum: 0.1, affine: true, track_running_stats: true}",
    "relu: {inplace: true}",
    "maxpool2d: {kernel_size: 3, stride: 2, padding: 1, dilation: 1, ceil_mode: false}",
    "adaptiveavgpool2d: {output_size: [1, 1]}",
    "flatten: {start_dim: 1, end_dim: -1}",
    "dropout: {p: 0.5, inplace: false}",
    "linear: {in_features: 64, out_features: 1000, bias: true}",
]


def test_a_printed_network_means_its_mapping_form() -> None:
    shape = "[3, 224, 224]"
    assert figures(net(*RESNET_STEM, shape=shape)) == figures(net(*RESNET_STEM_MAPPED, shape=shape))
    named = [f"(layer{i}): {entry}" for i, entry in enumerate(RESNET_STEM)]
    graph = parse_spec(net(*named, shape=shape), "probe.yaml")
    assert [n.name for n in graph.nodes] == [f"layer{i}" for i in range(len(RESNET_STEM))]
    assert figures(net(*named, shape=shape)) == figures(net(*RESNET_STEM_MAPPED, shape=shape))
    prefixed = [f"nn.{e}" if i % 2 else f"torch.nn.{e}" for i, e in enumerate(RESNET_STEM)]
    assert figures(net(*prefixed, shape=shape)) == figures(net(*RESNET_STEM_MAPPED, shape=shape))
    flow = "input: [3, 224, 224]\nlayers: [" + ", ".join(RESNET_STEM) + "]\n"
    assert figures(flow) == figures(net(*RESNET_STEM_MAPPED, shape=shape))


def test_printed_layers_with_reserved_keys_and_blocks() -> None:
    text = (
        "input: [3, 16, 16]\n"
        "blocks:\n"
        "  unit:\n"
        "    params: {width: null, k: 3}\n"
        "    layers:\n"
        "      - Conv2d($width, $width, $k, padding=1, bias=False, name='conv')\n"
        "      - BatchNorm2d($width)\n"
        "      - add: {inputs: [input, batchnorm2d_1]}\n"
        "layers:\n"
        "  - Conv2d(3, 8, 1, name='stem')\n"
        "  - unit(8, k=3, name='u')\n"
        "  - Conv2d(8, 8, 1, inputs=['stem'], trainable=False)\n"
    )
    graph = parse_spec(text, "probe.yaml")
    assert [n.name for n in graph.nodes] == ["stem", "u.conv", "u.batchnorm2d_1", "u.add_1", "conv2d_1"]
    assert graph.nodes[-1].inputs == ["stem"] and not graph.nodes[-1].trainable


def test_positional_values_are_checked_against_the_graph() -> None:
    error = error_of(net("Conv2d(4, 64, 3)"))
    assert "in_channels is 4 but the input has 3 channels" in error.message
    assert error.location == ("probe.yaml", 3, 12)


PRINTED_ERRORS = {
    "Conv2d(3, 64, kernel_size=(7, 7, stride=2)": (44, "expected ',' or ')', found '='"),
    "Conv2d(3, 64, 3, 1, 1, 1, 1, True, 'zeros', 5)": (49, "Conv2d takes 9 arguments by position"),
    "Conv2d(3, 64, kernel_size=3, kernel_size=5)": (34, "the argument 'kernel_size' is given twice"),
    "Conv2d(3, 64, 3, out_channels=5)": (22, "Conv2d got the argument 'out_channels' twice"),
    "Conv2d(3, kernel_size=3, 64)": (30, "a positional argument after keyword arguments"),
    "BatchNorm2d(64, 1e-05, 0.1, True, True, False)": (45, "BatchNorm2d takes 5 arguments by position"),
    "Conv2x(3, 64, 3)": (5, "unknown layer kind 'Conv2x'"),
    "foo.Conv2d(3, 8, 3)": (5, "expected a layer kind such as Conv2d or nn.Conv2d"),
    "Conv2d(3, 8, 0x10)": (18, "cannot read the number '0x'"),
    "Conv2d(3, 8, (3, 3)": (24, "expected ',' or ')', found the end of the text"),
    "Conv2d(3, 8, 3) extra": (21, "unexpected 'e' after the value"),
    "ConstantPad2d(padding=(1, 1, 1, 1), value=nan)": (47, "value: expected a number, got 'nan'"),
    "ConstantPad2d(padding=(1, 1, 1, 1), value=1e999)": (47, "value: expected a finite number, got .inf"),
    "Linear(16, out_features=7, bias=yes)": (37, "bias: expected true or false, got 'yes'"),
    "GELU(approximate='tanh\\q')": (27, "unknown escape"),
    "(7, 7)": (5, "expected a layer kind such as Conv2d, found '('"),
}


@pytest.mark.parametrize("entry", PRINTED_ERRORS)
def test_printed_layer_errors_point_into_the_text(entry: str) -> None:
    column, problem = PRINTED_ERRORS[entry]
    error = error_of(net(entry, shape="[3, 16, 16]" if "Linear" not in entry else "[16]"))
    assert problem in error.message, error.render()
    assert error.location == ("probe.yaml", 3, column), error.render()


def test_printed_entries_follow_the_schema() -> None:
    from jsonschema import Draft7Validator

    validator = Draft7Validator(spec_schema())
    good = net(
        *RESNET_STEM, "(fc): Linear(1000, 10)", "conv2d: {out_channels: 4, kernel_size: (1, 1)}", shape="[3, 64, 64]"
    )
    assert validator.is_valid(load_yaml(good, "probe.yaml"))
    for bad in ["Conv2d(", "(7, 7)", "foo.Conv2d(3)", "Conv2d 3"]:
        assert not validator.is_valid(load_yaml(net(bad), "probe.yaml")), bad


# -- PyTorch's positional order, and its printed modules as the oracle -------------------------------------------------


@needs_torch
@pytest.mark.parametrize("cls", sorted(REGISTRY.values(), key=lambda c: c.kind), ids=lambda c: c.kind)
def test_positional_order_is_pytorchs(cls: Any) -> None:
    module = getattr(nn, cls.kind, None)
    if module is None:
        no_class = ("Add", "Concat", "Mul", "CenterCrop", "Chunk", "Split", "MatMul", "LayerScale", "StochasticDepth")
        assert cls.kind in no_class  # no torch.nn class
        return
    parameters = list(inspect.signature(module.__init__).parameters.values())[1:]
    by_position = [
        p.name for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD and p.name not in ("device", "dtype")
    ]
    assert positional_names(cls.arguments) == by_position


def sizes(draw: st.DrawFn, dims: int, low: int, high: int) -> int | tuple[int, ...]:
    values = tuple(draw(st.integers(low, high)) for _ in range(dims))
    return values[0] if draw(st.booleans()) and len(set(values)) == 1 else values


@st.composite
def modules(draw: st.DrawFn) -> tuple[Any, tuple[int, ...], str, dict[str, Any]]:
    """(module, per-sample input shape, cnncalc kind, the arguments it was built with)."""
    kind = draw(st.sampled_from(sorted(MAKERS)))
    arguments, shape = MAKERS[kind](draw)
    try:
        module = getattr(nn, kind)(**arguments).eval()
    except (ValueError, TypeError, RuntimeError):
        assume(False)
    return module, shape, kind, arguments


def _conv(dims: int, transposed: bool) -> Any:
    def make(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
        groups = draw(st.sampled_from([1, 1, 2]))
        arguments: dict[str, Any] = {
            "in_channels": groups * draw(st.integers(1, 2)),
            "out_channels": groups * draw(st.integers(1, 3)),
            "kernel_size": sizes(draw, dims, 1, 3),
            "stride": sizes(draw, dims, 1, 2),
            "dilation": sizes(draw, dims, 1, 2),
            "groups": groups,
            "bias": draw(st.booleans()),
        }
        if transposed:
            arguments["padding"] = sizes(draw, dims, 0, 1)
            arguments["output_padding"] = draw(st.integers(0, 1))
        else:
            arguments["padding"] = draw(st.one_of(st.just("valid"), st.integers(0, 2)))
            if arguments["stride"] in (1, (1,) * dims):
                arguments["padding"] = draw(st.sampled_from([arguments["padding"], "same"]))
            arguments["padding_mode"] = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
        return arguments, (arguments["in_channels"], *[draw(st.integers(5, 8)) for _ in range(dims)])

    return make


def _norm(kind: str, dims: int) -> Any:
    def make(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
        channels = draw(st.integers(1, 4))
        arguments = {
            "num_features": channels,
            "eps": draw(st.floats(1e-8, 1.0)),
            "momentum": draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
            "affine": draw(st.booleans()),
            "track_running_stats": draw(st.booleans()) if kind.startswith("Instance") else True,
        }
        return arguments, (channels, *[draw(st.integers(2, 5)) for _ in range(dims)])

    return make


def _pool(dims: int, maximum: bool) -> Any:
    def make(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
        kernel = draw(st.integers(1, 3))
        arguments: dict[str, Any] = {
            "kernel_size": kernel,
            "stride": draw(st.one_of(st.none(), st.integers(1, 3))),
            "padding": draw(st.integers(0, kernel // 2)),
        }
        if maximum:
            arguments["dilation"] = draw(st.integers(1, 2))
            arguments["ceil_mode"] = draw(st.booleans())
        return arguments, (2, *[draw(st.integers(6, 9)) for _ in range(dims)])

    return make


def _simple(shape: tuple[int, ...], **strategies: Any) -> Any:
    def make(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
        return {name: draw(strategy) for name, strategy in strategies.items()}, shape

    return make


def _pad(kind: str, dims: int) -> Any:
    def make(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[int, ...]]:
        padding = draw(st.one_of(st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * (2 * dims))))
        arguments: dict[str, Any] = {"padding": padding}
        if kind.startswith("Constant"):
            arguments["value"] = draw(st.floats(-10, 10))
        return arguments, (2, *[draw(st.integers(3, 5)) for _ in range(dims)])

    return make


FLOATS = st.floats(-3, 3)
EPS = st.floats(1e-8, 1.0)
OUTPUT_SIZE = st.one_of(st.integers(1, 4), st.tuples(st.one_of(st.none(), st.integers(1, 4)), st.integers(1, 4)))
SCALES = st.sampled_from([2, 2.0, 1.5, (2, 3), (2.0, 1.5)])
MODES = st.sampled_from(["nearest", "bilinear", "bicubic", "nearest-exact"])
MAKERS: dict[str, Any] = {
    "Conv1d": _conv(1, False),
    "Conv2d": _conv(2, False),
    "Conv3d": _conv(3, False),
    "ConvTranspose1d": _conv(1, True),
    "ConvTranspose2d": _conv(2, True),
    "BatchNorm1d": _norm("BatchNorm1d", 1),
    "BatchNorm2d": _norm("BatchNorm2d", 2),
    "BatchNorm3d": _norm("BatchNorm3d", 3),
    "InstanceNorm2d": _norm("InstanceNorm2d", 2),
    "MaxPool1d": _pool(1, True),
    "MaxPool2d": _pool(2, True),
    "AvgPool2d": _pool(2, False),
    "AdaptiveAvgPool2d": _simple((2, 7, 9), output_size=OUTPUT_SIZE),
    "AdaptiveMaxPool1d": _simple((2, 9), output_size=st.integers(1, 4)),
    "Linear": _simple((7,), in_features=st.just(7), out_features=st.integers(1, 9), bias=st.booleans()),
    "LayerNorm": _simple(
        (3, 6),
        normalized_shape=st.sampled_from([6, (6,), (3, 6)]),
        eps=EPS,
        elementwise_affine=st.booleans(),
        bias=st.booleans(),
    ),
    "GroupNorm": _simple(
        (6, 4), num_groups=st.sampled_from([1, 2, 3, 6]), num_channels=st.just(6), eps=EPS, affine=st.booleans()
    ),
    "RMSNorm": _simple((3, 6), normalized_shape=st.sampled_from([6, (3, 6)]), eps=st.one_of(st.none(), EPS)),
    "Dropout": _simple((3, 4), p=st.floats(0, 1), inplace=st.booleans()),
    "Dropout2d": _simple((3, 4, 4), p=st.floats(0, 1)),
    "ReLU": _simple((3, 4), inplace=st.booleans()),
    "LeakyReLU": _simple((3, 4), negative_slope=FLOATS, inplace=st.booleans()),
    "ELU": _simple((3, 4), alpha=FLOATS),
    "Hardtanh": _simple((3, 4), min_val=st.floats(-3, -1), max_val=st.floats(0, 3)),
    "PReLU": _simple((3, 4), num_parameters=st.sampled_from([1, 3])),
    "GELU": _simple((3, 4), approximate=st.sampled_from(["none", "tanh"])),
    "Softmax": _simple((3, 4), dim=st.sampled_from([1, 2, -1])),
    "Flatten": _simple((2, 3, 4), start_dim=st.sampled_from([1, 2]), end_dim=st.sampled_from([-1, 3])),
    "Identity": _simple((3,)),
    "SiLU": _simple((3,)),
    "Sigmoid": _simple((3,)),
    "Hardswish": _simple((3,)),
    "ZeroPad2d": _pad("ZeroPad2d", 2),
    "ConstantPad1d": _pad("ConstantPad1d", 1),
    "ReflectionPad2d": _pad("ReflectionPad2d", 2),
    "ReplicationPad3d": _pad("ReplicationPad3d", 3),
    "CircularPad2d": _pad("CircularPad2d", 2),
    "Upsample": _simple((2, 3, 4), scale_factor=SCALES, mode=MODES),
}


def mapping_form(kind: str, arguments: dict[str, Any]) -> str:
    return f"{kind.lower()}: {json.dumps(as_lists(arguments))}"


@needs_torch
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(modules())
def test_printed_torch_modules_mean_what_torch_built(example: tuple[Any, tuple[int, ...], str, dict[str, Any]]) -> None:
    module, shape, kind, arguments = example
    try:
        with torch.no_grad():
            output = module(torch.zeros(2, *shape))
    except (RuntimeError, ValueError):
        assume(False)
    printed = repr(module)
    spec = net(printed, shape=json.dumps(list(shape)))
    # The figures, not the arguments: torch prints some arguments as it normalized them (GroupNorm(affine=False)
    # prints bias=False), which changes no figure.
    mapped = net(mapping_form(kind, arguments), shape=json.dumps(list(shape)))
    assert figures(spec)[0] == figures(mapped)[0], printed
    row = analyze(parse_spec(spec, "probe.yaml")).rows[0]
    assert row.output_shape == tuple(output.shape[1:]), printed
    assert row.params == sum(p.numel() for p in module.parameters()), printed
    assert row.buffers == sum(b.numel() for b in module.buffers()), printed
    named = net(f"(block_0): {printed}", shape=json.dumps(list(shape)))
    assert parse_spec(named, "probe.yaml").nodes[0].name == "block_0"


def test_the_readme_example_means_its_mapping_form() -> None:
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Values as people write them") :]
    example = section[section.index("```yaml\n") + len("```yaml\n") : section.index("```\n", section.index("```yaml"))]
    mapped = [
        "conv2d: {in_channels: 3, out_channels: 64, kernel_size: [7, 7], stride: [2, 2], padding: [3, 3], bias: false,"
        " name: conv1}",
        "batchnorm2d: {num_features: 64, eps: 0.00001, momentum: 0.1, name: bn1}",
        "relu",
        "maxpool2d: {kernel_size: 3, stride: 2, padding: 1}",
        "conv2d: {out_channels: 128, kernel_size: 3, stride: 2, padding: 1, bias: false}",
        "batchnorm2d: {momentum: null}",
        "adaptiveavgpool2d: {output_size: 1}",
        "flatten",
        "dropout",
        "linear: {out_features: 1000}",
    ]
    assert figures(example)[0] == figures(net(*mapped, shape="[3, 224, 224]"))[0]  # figures; inplace is not one
    assert [n.name for n in parse_spec(example, "README.md").nodes][:2] == ["conv1", "bn1"]


def test_printed_layers_in_quotes_and_in_flow_lists() -> None:
    quoted = net('"Conv2d(3, 8, kernel_size=(3, 3, x=1)"')
    error = error_of(quoted)
    assert error.location == ("probe.yaml", 3, quoted.splitlines()[2].rindex("=") + 1)
    brackets = "input: [3, 8, 8]\nlayers: [Conv2d(3, 8, kernel_size=[3, 3]), ReLU()]\n"
    error = error_of(brackets)
    assert "put a printed layer in quotes or write it in block style" in (error.hint or "")
    fixed = "input: [3, 8, 8]\nlayers: ['Conv2d(3, 8, kernel_size=[3, 3])', ReLU()]\n"
    assert figures(fixed) == figures(
        net("conv2d: {in_channels: 3, out_channels: 8, kernel_size: 3}", "relu", shape="[3, 8, 8]")
    )
