"""YAML as people write it: YAML 1.2's core schema for scalars, explicit tags, tabs, non-finite numbers.

The oracles are independent of cnncalc's loader: the core schema's regular expressions as the YAML 1.2.2
specification writes them (section 10.3.2), JSON (every JSON text is YAML 1.2, and Python's json module writes and
reads it), and Python's own repr of floats (what PyTorch prints, `eps=1e-05`).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.analyze import analyze
from cnncalc.args import Float
from cnncalc.errors import CnncalcError, SpecError
from cnncalc.layers import REGISTRY
from cnncalc.spec import parse_spec
from cnncalc.yamlsource import load_yaml

# -- the specification's tag resolution, written out independently ----------------------------------------------

SPEC_NULL = re.compile(r"null|Null|NULL|~|")
SPEC_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
SPEC_INT = re.compile(r"[-+]?[0-9]+")
SPEC_OCT = re.compile(r"0o[0-7]+")
SPEC_HEX = re.compile(r"0x[0-9a-fA-F]+")
SPEC_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
SPEC_INF = re.compile(r"[-+]?(\.inf|\.Inf|\.INF)")
SPEC_NAN = re.compile(r"\.nan|\.NaN|\.NAN")


def by_the_spec(text: str) -> Any:
    """What YAML 1.2's core schema makes of a plain scalar (booleans in any case, as cnncalc documents)."""
    if SPEC_NULL.fullmatch(text):
        return None
    if SPEC_BOOL.fullmatch(text) or text.lower() in ("true", "false"):
        return text.lower() == "true"
    if SPEC_INT.fullmatch(text):
        return int(text)
    if SPEC_OCT.fullmatch(text):
        return int(text[2:], 8)
    if SPEC_HEX.fullmatch(text):
        return int(text[2:], 16)
    if SPEC_FLOAT.fullmatch(text):
        return float(text)
    if SPEC_INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if SPEC_NAN.fullmatch(text):
        return math.nan
    return text


def loaded(text: str) -> Any:
    """`text` as a plain scalar, through the whole loader, in block and in flow context (they must agree)."""
    block = load_yaml(f"value: {text}\n", "probe.yaml")["value"]
    if not text.startswith("("):  # in flow context, an unclosed tuple is an error (test_python_forms.py)
        flow = load_yaml(f"[{text}]\n", "probe.yaml")[0]
        assert same(block, flow), (text, block, flow)
    return block


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same type (True is not 1, 1.0 is not 1), NaN equal to itself."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, str) and isinstance(b, str):  # text holding '(' is a str subclass that knows its place
        return a == b
    if isinstance(a, (list, dict)) and isinstance(b, (list, dict)):  # YList, YMap: they know their places too
        return a == b
    return type(a) is type(b) and a == b


DIGITS = st.text("0123456789", min_size=1, max_size=12)
SIGN = st.sampled_from(["", "+", "-"])


@st.composite
def core_floats(draw: st.DrawFn) -> str:
    """Every shape of the core schema's float: 1., .5, 1.5, 1e5, 1.5E-3, -.5e+2, ..."""
    sign = draw(SIGN)
    whole = draw(st.one_of(st.just(""), DIGITS))
    fraction = draw(st.one_of(st.none(), st.text("0123456789", max_size=8)))
    if not whole:
        fraction = draw(DIGITS)
    mantissa = whole + ("" if fraction is None else "." + fraction)
    exponent = draw(st.one_of(st.just(""), st.builds(lambda e, s, d: e + s + d, st.sampled_from("eE"), SIGN, DIGITS)))
    return sign + mantissa + exponent


@settings(max_examples=300, deadline=None)
@given(st.one_of(core_floats(), st.builds(lambda s, d: s + d, SIGN, DIGITS)))
def test_core_schema_numbers_are_numbers(text: str) -> None:
    assert same(loaded(text), by_the_spec(text))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**80), st.sampled_from(["0x{:x}", "0x{:X}", "0o{:o}"]))
def test_hex_and_octal_are_integers(number: int, form: str) -> None:
    assert same(loaded(form.format(number)), number)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_python_and_json_floats_read_back_exactly(number: float) -> None:
    """What PyTorch prints (repr: 1e-05, 5e-324) and what JSON writes are YAML 1.2 numbers, to the last bit."""
    assert same(loaded(repr(number)), number)
    assert same(load_yaml(json.dumps({"v": number}), "probe.json")["v"], number)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="\n\r#:,[]{}&*!|>'\"%@`"),
        min_size=1,
        max_size=12,
    )
)
def test_any_plain_scalar_reads_as_the_core_schema_says(text: str) -> None:
    text = text.strip()
    if not text or text[0] in "-?" or text.startswith(("<<", "...")):  # YAML indicators, not scalars
        return
    assert same(loaded(text), by_the_spec(text))


YAML11_ONLY = [
    "yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "1_000", "0b101", "1:30", "190:20:30.15", "-0b1",
    "0x_1F", "+0x10", "-0o7", "1_0.5", ".5_0", "1e", "e5", ".", "+", "+.", "inf", "nan", "-inf", ".Nan", "0xG",
]  # fmt: skip


@pytest.mark.parametrize("text", YAML11_ONLY)
def test_yaml_11_only_forms_are_text(text: str) -> None:
    assert same(loaded(text), text)


def test_the_issue_examples() -> None:
    document = load_yaml(
        "a: [1e-05, 1E-5, 5e-1, .5, 1e9, 010, 0x1F, 0o17, on, off, yes, no, true, FALSE, tRuE, null, ~, '010']\n",
        "probe.yaml",
    )
    expected = [1e-05, 1e-05, 0.5, 0.5, 1e9, 10, 31, 15, "on", "off", "yes", "no", True, False, True, None, None, "010"]
    assert all(same(a, b) for a, b in zip(document["a"], expected, strict=True)), document["a"]


def test_a_layer_named_on_keeps_its_name_and_010_is_ten() -> None:
    text = "input: [3, 8, 8]\nlayers:\n  - conv2d: {out_channels: 010, kernel_size: 3, name: on}\n"
    row = analyze(parse_spec(text, "probe.yaml")).rows[0]
    assert (row.name, row.output_shape) == ("on", (10, 6, 6))


def test_pytorch_eps_forms_give_the_same_network() -> None:
    def figures(eps: str) -> Any:
        text = f"input: [3, 8, 8]\nlayers:\n  - batchnorm2d: {{eps: {eps}, momentum: 1e-1}}\n"
        graph = parse_spec(text, "probe.yaml")
        return graph.nodes[0].bound().eps, analyze(graph).totals

    assert figures("1e-05") == figures("1E-5") == figures("0.00001") == figures("1.0e-5")


def test_hints_for_yaml_11_habits() -> None:
    cases = {
        "bias: yes": "YAML 1.2 reads yes as text, not a boolean: write true",
        "out_channels: 1_000": "write the number in decimal",
        "out_channels: 1e3": "write 1000",
    }
    for argument, hint in cases.items():
        text = f"input: [3, 8, 8]\nlayers:\n  - conv2d: {{out_channels: 4, kernel_size: 3, {argument}}}\n"
        text = text.replace("out_channels: 4, ", "") if argument.startswith("out_channels") else text
        with pytest.raises(SpecError) as caught:
            parse_spec(text, "probe.yaml")
        assert hint in (caught.value.hint or ""), caught.value.render()
        assert caught.value.location is not None and caught.value.location.line == 3


def test_too_long_an_integer_is_an_error_not_a_crash() -> None:
    with pytest.raises(SpecError, match="digits is too long"):
        load_yaml("v: " + "7" * 5000, "probe.yaml")


# -- explicit tags -------------------------------------------------------------------------------------------------

TAGGED_VALUES = {
    "!!str 010": "010",
    "!!str true": "true",
    "!!int 010": 10,
    "!!int 0x1F": 31,
    "!!int -3": -3,
    "!!float 1": 1.0,
    "!!float 1e-05": 1e-05,
    "!!float .inf": math.inf,
    "!!float 1" + "0" * 400: math.inf,  # too large for a double: infinite (refused where a number is read)
    "!!bool true": True,
    "!!bool FALSE": False,
    "!!null null": None,
    "!!null": None,
    "!!seq [1, 2]": [1, 2],
    "!!map {a: 1}": {"a": 1},
}
TAGGED_ERRORS = {
    "!!float abc": "!!float 'abc' is not a number",
    "!!int abc": "!!int 'abc' is not an integer",
    "!!int 1.5": "!!int '1.5' is not an integer",
    "!!int " + "7" * 5000: "an integer of 5,000 digits is too long to read",
    "!!timestamp abc": "!!timestamp has no meaning",
    "!!timestamp 2001-12-14": "!!timestamp has no meaning",
    "!!bool maybe": "!!bool 'maybe' is not true or false",
    "!!bool yes": "!!bool 'yes' is not true or false",
    "!!null x": "!!null 'x' is not null",
    "!!seq 3": "!!seq needs a list",
    "!!map 3": "!!map needs a mapping",
    "!!binary aGVsbG8=": "!!binary has no meaning",
    "!!set {a, b}": "!!set is not used",
    "!!omap [{a: 1}]": "!!omap is not used",
    "!!pairs [{a: 1}]": "!!pairs is not used",
    "!!python/tuple [1, 2]": "unknown YAML tag !!python/tuple",
    "!!python/name:os.system x": "unknown YAML tag !!python/name:os.system",
    "!foo 3": "unsupported YAML tag !foo",
    "!foo [1]": "unsupported YAML tag !foo",
    "!foo {a: 1}": "unsupported YAML tag !foo",
    "!<tag:example.com,2000:x> 1": "unsupported YAML tag tag:example.com,2000:x",
}


@pytest.mark.parametrize("tagged", TAGGED_VALUES)
def test_explicit_tags_mean_what_yaml_says(tagged: str) -> None:
    assert same(load_yaml(f"top: 1\nvalue: {tagged}\n", "probe.yaml")["value"], TAGGED_VALUES[tagged])


@pytest.mark.parametrize("tagged", TAGGED_ERRORS)
def test_other_tags_are_refused_at_their_line(tagged: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_yaml(f"top: 1\nvalue: {tagged}\n", "probe.yaml")
    assert TAGGED_ERRORS[tagged] in caught.value.message
    assert caught.value.location == ("probe.yaml", 2, 8)


def test_a_tagged_stride_is_refused_in_every_command(tmp_path: Path) -> None:
    """`stride: !!seq 3` used to be read as [] silently (exit 0)."""
    spec = tmp_path / "tagged.yaml"
    line = "  - conv2d: {out_channels: 4, kernel_size: 3, stride: !!seq 3}"
    spec.write_text(f"input: [3, 8, 8]\nlayers:\n{line}\n")
    for command in (["summary"], ["check"], ["lint"], ["graph"], ["diff", str(SPECS / "lenet5.yaml")]):
        result = run_cli(*command, str(spec))
        assert result.code == 2 and "Traceback" not in result.err, (command, result.err)
        where = f"tagged.yaml:3:{line.index('!!seq') + 1}: error: !!seq needs a list"
        assert where in result.out + result.err, (command, result.out, result.err)


# -- tabs ----------------------------------------------------------------------------------------------------------

TABS = {
    "input: [1]\nlayers:\n\t- relu\n": (3, 1, "in the indentation"),
    "input: [1]\nlayers:\n  - conv2d:\n\t    out_channels: 3\n": (4, 1, "in the indentation"),
    "input: [1]\nlayers:\n  - relu\n  \t- relu\n": (4, 3, "in the indentation"),
    "input: [1]\nlayers:\n  -\trelu\n  - x\n": (3, 4, "where YAML needs a space"),
    "description: |\n\ttext\ninput: [1]\n": (2, 1, "in the indentation"),
}


@pytest.mark.parametrize("text", TABS)
def test_tabs_in_indentation_are_named(text: str) -> None:
    line, column, where = TABS[text]
    with pytest.raises(SpecError) as caught:
        load_yaml(text, "tabs.yaml")
    assert caught.value.message == f"a tab character {where} (YAML indents with spaces only)"
    assert caught.value.location == ("tabs.yaml", line, column)
    assert "spaces" in (caught.value.hint or "")


def test_a_tab_after_a_value_is_just_space() -> None:
    assert load_yaml("a: 1\t\nb: [1,\t2]\n", "probe.yaml") == {"a": 1, "b": [1, 2]}


# -- non-finite numbers --------------------------------------------------------------------------------------------

FLOAT_ARGUMENTS = sorted(
    (cls.kind, arg.name)
    for cls in REGISTRY.values()
    for arg in cls.arguments
    if isinstance(getattr(arg.type, "item", arg.type), Float)
)
NON_FINITE = [".nan", ".NaN", ".inf", "-.inf", "+.INF", "1e999", "-1e999", "!!float .nan"]


def float_spec(kind: str, argument: str, value: str) -> str:
    """A one-layer spec from the kind's first executor example, with `argument` written as `value`."""
    arguments, shapes = REGISTRY[kind.lower()].examples()[0]
    others = "".join(f"{k}: {json.dumps(v)}, " for k, v in arguments.items() if k != argument)
    return f"input: {list(shapes[0])}\nlayers:\n  - {kind}: {{{others}{argument}: {value}}}\n"


def test_every_float_argument_is_covered() -> None:
    assert len(FLOAT_ARGUMENTS) >= 25
    for kind, argument in FLOAT_ARGUMENTS:
        parse_spec(float_spec(kind, argument, "0.5"), "probe.yaml")  # the probe spec is valid with a finite value


def takes_infinity(kind: str, argument: str) -> bool:
    """Hardtanh's bounds take +-infinity (no clipping on that side), as PyTorch's do."""
    arg_type = next(a.type for a in REGISTRY[kind.lower()].arguments if a.name == argument)
    return getattr(arg_type, "item", arg_type).infinite


@pytest.mark.parametrize(("kind", "argument"), FLOAT_ARGUMENTS)
def test_non_finite_numbers_are_refused_at_the_argument(kind: str, argument: str) -> None:
    infinite = takes_infinity(kind, argument)
    for value in NON_FINITE:
        text = float_spec(kind, argument, value)
        if infinite and "nan" not in value.lower():
            try:  # the kind's own rule refuses an infinity on the wrong side (min_val: .inf)
                assert math.isinf(getattr(parse_spec(text, "probe.yaml").nodes[0].bound(), argument))
            except SpecError as error:
                assert "must be greater than" in error.message, error.render()
            continue
        with pytest.raises(SpecError) as caught:
            parse_spec(text, "probe.yaml")
        error = caught.value
        expected = "a non-NaN number" if infinite else "a finite number"
        assert f"{argument}: expected {expected}, got " in error.message, error.render()
        assert error.location is not None and error.location.line == 3
        assert text.splitlines()[2][error.location.column - 1 :].startswith(value), error.render()
        assert "infinity and NaN" in (error.hint or "")


COMMANDS = [
    ["summary"],
    ["explain"],
    ["run"],
    ["verify"],
    ["fuse", "-o", "-"],
    ["check"],
    ["lint"],
    ["graph"],
    ["diff", str(SPECS / "lenet5.yaml")],
]
NON_FINITE_SPECS = {
    "eps": "  - batchnorm2d: {eps: .nan}\n",
    "momentum": "  - batchnorm2d: {momentum: .inf}\n",
    "value": "  - constantpad2d: {padding: 1, value: -.inf}\n",
    "p": "  - dropout: {p: .nan}\n",
    "negative_slope": "  - leakyrelu: {negative_slope: 1e999}\n",
}


@pytest.mark.parametrize("argument", NON_FINITE_SPECS)
def test_non_finite_numbers_end_every_command_with_a_message(tmp_path: Path, argument: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [1, 6, 6]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 3}\n" + NON_FINITE_SPECS[argument]
    )
    for command in COMMANDS:
        result = run_cli(*command, str(spec))
        shown = result.out + result.err  # check and lint report on standard output
        assert result.code == 2 and "Traceback" not in shown, (command, shown)
        assert "net.yaml:4:" in shown and f"{argument}: expected a finite number" in shown, (command, shown)


def test_infinite_clip_values_work_in_every_command(tmp_path: Path) -> None:
    """Hardtanh(min_val=-inf) is PyTorch's one-sided clamp: accepted, because every command handles it."""
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [1, 6, 6]\nlayers:\n  - conv2d: {out_channels: 2, kernel_size: 3}\n"
        "  - hardtanh: {min_val: -.inf, max_val: 0.5}\n  - hardtanh: {max_value: 1e999}\n"
    )
    for command in [*COMMANDS, ["run", "--backward"]]:
        result = run_cli(*command, str(spec))
        assert result.code == 0 and "Traceback" not in result.err, (command, result.err)


def test_non_finite_numbers_in_the_layer_command() -> None:
    result = run_cli("layer", "batchnorm2d", "--input", "4x8x8", "eps=.nan")
    assert (
        result.code == 2 and "eps: expected a finite number, got .nan" in result.err and "Traceback" not in result.err
    )


# -- the command line, limits and input files ------------------------------------------------------------------------


def test_layer_values_are_read_as_in_specs() -> None:
    result = run_cli("layer", "batchnorm2d", "--input", "4x8x8", "eps=1e-5", "momentum=None", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["summary"] == "eps=1e-05"
    tuple_form = run_cli("layer", "conv2d", "--input", "3x8x8", "out_channels=4", "kernel_size=(3, 5)", "-f", "json")
    list_form = run_cli("layer", "conv2d", "--input", "3x8x8", "out_channels=4", "kernel_size=[3, 5]", "-f", "json")
    assert tuple_form.code == 0 and tuple_form.out == list_form.out
    bad = run_cli("layer", "batchnorm2d", "--input", "4x8x8", "eps=!!float abc")
    assert bad.code == 2 and "eps: cannot read the value '!!float abc': !!float 'abc' is not a number" in bad.err


def test_limits_take_yaml_12_numbers(tmp_path: Path) -> None:
    text = "input: [1, 4, 4]\nlayers:\n  - conv2d: {out_channels: 10, kernel_size: 4}\n  - flatten\n"  # 160 MACs
    for limits, code in [
        ("{max_macs: 1.6e2, max_params: 1.7e2}", 0),
        ("{max_macs: '1.6e2', max_params: '0.17e3'}", 0),
        ("{max_macs: 1.5e2}", 1),
        ("{expect_output: (10,)}", 0),
        ("{expect_output: '(10,)'}", 0),
        ("{expect_output: (11,)}", 1),
        ("{max_macs: .inf}", 2),
        ("{max_macs: 1e999}", 2),
    ]:
        spec = tmp_path / "limited.yaml"
        spec.write_text(text + f"limits: {limits}\n")
        result = run_cli("check", str(spec), "--no-lint")
        assert result.code == code and "Traceback" not in result.err, (limits, result.out, result.err)


def test_input_files_read_yaml_12_numbers(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: [1, 1, 3]\nlayers:\n  - identity\n")
    values = tmp_path / "x.yaml"
    values.write_text("[[[1e-1, 5E-1, 010]]]\n")
    result = run_cli("run", str(spec), "--input", str(values), "--format", "json")
    assert result.code == 0, result.err
    output = json.loads(result.out)["output"]
    assert output[0][0][2] == 10  # not eight
    assert output[0][0][1] == "1/2"
    values.write_text("[[[1, .nan, 3]]]\n")
    result = run_cli("run", str(spec), "--input", str(values))
    assert result.code == 2 and "finite" in result.err and "Traceback" not in result.err


def test_every_shipped_spec_reads_the_same_as_before() -> None:
    """The shipped specs mean what they meant under YAML 1.1 (their figures are pinned by the golden tests; here,
    no scalar in them is one whose meaning changed)."""
    import yaml

    for path in sorted(SPECS.glob("**/*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text, path.name) == yaml.safe_load(text), path


def test_cnncalc_errors_only(tmp_path: Path) -> None:
    """Odd documents end in a CnncalcError, never another exception."""
    for text in ["{", "- (", "[Conv2d(]", "a: (", "a: {b: (1, [2)]}", "\t", "!!", "a: !!float", "? (1, 2)\n: 3"]:
        try:
            load_yaml(text, "probe.yaml")
        except CnncalcError:
            pass
