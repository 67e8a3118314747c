"""The layer registry as data: a JSON Schema of spec files for editors (`cnncalc schema`) and the kinds as JSON
(`cnncalc kinds --format json`).

Everything is generated: the kinds and their arguments from the registry (each ArgType gives its own fragment), the
keys from cnncalc.spec's tables, budgets from limits.py, rule names from lint.py. The schema checks a spec's form: keys,
kinds, argument names, types and ranges. What needs the network (shapes, arguments checked against each other or the
input, layer and block names) stays with cnncalc, which checks everything.
"""

from __future__ import annotations

from typing import Any

from cnncalc import __version__
from cnncalc.args import REQUIRED, Arg
from cnncalc.layers import REGISTRY, Layer
from cnncalc.spec.values import RESERVED_NAMES

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
PARAM = {"$ref": "#/definitions/expression.in_block"}  # inside a block: any expression
EXPRESSION = {"$ref": "#/definitions/expression"}  # outside blocks: only the names every entry has
KIND_PARAM = r"^\$[A-Za-z_][A-Za-z0-9_]*$"  # an entry's kind passed as a block parameter: $act
RULE = {"$ref": "#/definitions/lint_rule"}
POSITIVE = {"type": "integer", "minimum": 1}
SIZES_TEXT = r"^\s*0*[1-9][0-9]*\s*(?:[x,]\s*0*[1-9][0-9]*\s*)*$"  # '3x224x224', '3, 224, 224' (as cnncalc.spec splits)

LIMITATIONS = (
    "The schema checks a spec's form: keys, layer kinds, argument names, types and ranges. It does not check what "
    "needs the network or more than one value: shapes (a kernel larger than its input), arguments against each "
    "other or the input (groups that divide the channels, padding at most half a pool's kernel), the few values a "
    "kind refuses outright (return_indices: true, the batch axis as a dim), layer names in `inputs`, block names "
    "and their parameters (a layer entry whose key is not a layer kind is taken as a use of one of the spec's "
    "blocks, with any parameters), whether a budget with a unit is a whole number, and the arguments of a layer "
    "written as PyTorch prints it (Conv2d(3, 64, kernel_size=3): only its form is checked), what an expression "
    "computes (text holding $ passes where a value is expected: outside blocks, if its $names are those every entry "
    "has; inside, any), and what conditions leave out. A number like 2.0 "
    "passes where an integer is expected (JSON Schema counts it as one), and .inf, .nan or 1e999 where a number is; "
    "cnncalc refuses them. `cnncalc summary` checks everything."
)


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of spec files."""
    from cnncalc.analyze import SCHEMA_VERSION

    kinds = sorted(REGISTRY.values(), key=lambda cls: cls.kind.lower())
    definitions: dict[str, Any] = {
        "expression.in_block": {
            "type": "string",
            "pattern": r"\$",
            "description": "an expression (docs/language.md): text holding $names, such as $width * 4, "
            "make_divisible($in_channels // 4, 8) or '2 if $index == 0 else 1'; inside a block the names are its "
            "parameters, $index and the input's shape names; `$name` alone passes the parameter's value unchanged",
        },
        "expression": {
            "type": "string",
            "pattern": _top_level_expression(),
            "description": "an expression (docs/language.md) outside blocks: text holding only the names every entry "
            f"has ({', '.join('$' + n for n in RESERVED_NAMES)}), such as $in_channels * 2",
        },
        "plain_value": {
            "description": "any value; text holding $ is an expression of the names every entry has (parameters "
            "exist only inside blocks)",
            "anyOf": [
                {"type": ["null", "boolean", "number", "object"]},
                {"type": "string", "not": {"pattern": r"\$"}},
                EXPRESSION,
                {"type": "array", "items": {"$ref": "#/definitions/plain_value"}},
            ],
        },
        "if": _if_entry(in_block=False),
        "if.in_block": _if_entry(in_block=True),
        "lint_rule": _rule(),
        "limits": _limits(),
        "block": _block(),
        "bare_layer": _bare_layer(kinds),
        "bare_layer.in_block": {
            "anyOf": [
                {"$ref": "#/definitions/bare_layer"},
                {"type": "string", "pattern": KIND_PARAM, "description": "a kind or block passed as a parameter"},
            ]
        },
        "layer": _layer_entry(kinds, in_block=False),
        "layer.in_block": _layer_entry(kinds, in_block=True),
        "block_use": _block_use(in_block=False),
        "block_use.in_block": _block_use(in_block=True),
    }
    for in_block in (False, True):
        for block_use in (False, True):
            for key, fragment in _reserved(in_block, block_use).items():
                definitions[_reserved_name(key, in_block, block_use)] = fragment
    for cls in kinds:
        definitions[f"kind.{cls.kind}"] = _kind_arguments(cls, in_block=False)
        definitions[f"kind.{cls.kind}.in_block"] = _kind_arguments(cls, in_block=True)
    return {
        "$schema": DRAFT_07,
        "title": "cnncalc spec",
        "description": f"A cnncalc {__version__} spec file: a network as a list of layers (generated by `cnncalc "
        f"schema` from cnncalc's layer registry). {LIMITATIONS}",
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": _top_level(),
        "definitions": definitions,
    }


def kind_signature(cls: type[Layer]) -> str:
    """'Conv2d(in_channels=(inferred), out_channels, kernel_size, stride=1, ...)', as `cnncalc kinds` prints it."""
    args = []
    for arg in cls.arguments:
        if arg.inferred:
            args.append(f"{arg.name}=(inferred)")
        elif arg.default is REQUIRED:
            args.append(arg.name)
        else:
            args.append(f"{arg.name}={arg.default!r}")
    return f"{cls.kind}({', '.join(args)})"


def kinds_dict() -> dict[str, Any]:
    """Every kind with its arguments (as declared), for `cnncalc kinds --format json`."""
    from cnncalc.analyze import SCHEMA_VERSION

    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "kinds": [
            {
                "kind": cls.kind,
                "arguments": [
                    {
                        "name": arg.name,
                        "type": arg.type.expected(cls.dims),
                        "default": None if arg.default is REQUIRED else _json_value(arg.default),
                        "required": arg.default is REQUIRED,
                        "inferred": arg.inferred,
                        "pytorch": arg.pytorch,
                        "doc": arg.doc,
                    }
                    for arg in cls.arguments
                ],
                "other_ops": cls.ops_rule,
            }
            for cls in sorted(REGISTRY.values(), key=lambda cls: cls.kind.lower())
        ],
    }


# -- fragments of the values ---------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """A declared default as JSON (tuples as lists); ValueError when JSON cannot hold it."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    raise ValueError(f"{value!r} has no JSON form")


def _with_params(schema: dict[str, Any], in_block: bool = True) -> dict[str, Any]:
    """`schema` where expressions may be written: the value, or any item of a list in it, may also be one (inside
    a block of any names; outside, of the names every entry has)."""
    annotations = {k: v for k, v in schema.items() if k in ("description", "default")}
    rest = {k: v for k, v in schema.items() if k not in annotations}
    return {**annotations, "anyOf": [PARAM if in_block else EXPRESSION, _items_with_params(rest, in_block)]}


def _items_with_params(schema: dict[str, Any], in_block: bool) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "items":
            changed[key] = _with_params(value, in_block)
        elif key in ("anyOf", "oneOf"):
            changed[key] = [_items_with_params(v, in_block) for v in value]
        else:
            changed[key] = value
    return changed


def _top_level_expression() -> str:
    """Text holding $, each $name one that every entry has ($in_channels, $index): JSON Schema cannot parse an
    expression, but it can tell a parameter (which exists only inside blocks) from those."""
    given = "|".join(RESERVED_NAMES)
    return rf"^(?=[\s\S]*\$)(?:[^$]|\$(?:{given})(?![A-Za-z0-9_]))*$"


def _escaped(text: str) -> str:
    """`text` as a literal in a regex that Python and ECMA 262 with the u flag (editors) read alike; there,
    needless escapes such as Python's escaped '-' are errors."""
    return "".join("\\" + c if c in r".^$*+?()[]{}|\/" else c for c in text)


def _any_case(word: str) -> str:
    """A regex matching `word` in any letter case, without flags (JSON Schema's ECMA 262 patterns have none)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.lower() != c.upper() else _escaped(c) for c in word)


def _one_of_words(words: list[str]) -> str:
    return "^(?:" + "|".join(_any_case(w) for w in words) + ")$"


def _name_pattern() -> str:
    """A block's name (or a kind's, where either is written); cnncalc.names says where it is looser than cnncalc."""
    from cnncalc.names import BLOCK_NAME_PATTERN

    return BLOCK_NAME_PATTERN


# -- Python forms: (7, 7) for a list, None for null ---------------------------------------------------------------

_SPACE = "[ \\t\\r\\n]*"  # cnncalc.pyliteral.WHITESPACE
_NULL_TEXT = "None|null"
_FINITE_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"


def python_forms(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the text forms cnncalc.args.parse_value also reads: where it takes a list, a Python tuple
    `(7, 7)` of the same items; where it takes null, `None`. (YAML editors see both as text.)"""
    forms = _flat_forms(schema)
    alternatives = [_tuple_text(f) for f in forms if f.get("type") == "array"]
    if any(f.get("type") == "null" for f in forms):
        alternatives.append("None")
    if not alternatives:
        return schema
    text = {"type": "string", "pattern": f"^{_SPACE}(?:{'|'.join(alternatives)}){_SPACE}$"}
    return {"anyOf": [schema, text]}


def _flat_forms(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "anyOf" in schema:
        return [form for nested in schema["anyOf"] for form in _flat_forms(nested)]
    return [schema]


def _tuple_text(array: dict[str, Any]) -> str:
    """A regex of the Python tuples (as cnncalc.pyliteral writes them) holding what `array` allows."""
    low, high = array.get("minItems", 0), array.get("maxItems")
    if high == 0:
        return rf"\({_SPACE}\)"
    item = f"(?:{_item_text(array['items'])})"
    forms = []
    if low == 0:
        forms.append(rf"\({_SPACE}\)")
    if low <= 1 and (high is None or high >= 1):
        forms.append(rf"\({_SPACE}{item}{_SPACE},{_SPACE}\)")  # (7,): a tuple of one needs its comma
    if high is None or high >= 2:
        more = f"{{{max(low, 2) - 1},{'' if high is None else high - 1}}}"
        forms.append(rf"\({_SPACE}{item}{_SPACE}(?:,{_SPACE}{item}{_SPACE}){more}(?:,{_SPACE})?\)")
    return "|".join(forms)


def _item_text(item: dict[str, Any]) -> str:
    """A regex of the literals cnncalc.pyliteral reads as a value `item` allows; only the item forms kinds use."""
    if "anyOf" in item:
        return "|".join(_item_text(form) for form in item["anyOf"])
    if item == {"type": "null"}:
        return _NULL_TEXT
    if item == {"type": "number"}:
        return _FINITE_NUMBER
    if item.get("type") == "integer" and set(item) <= {"type", "minimum"}:
        minimum = item.get("minimum")
        if minimum is None:
            return "[-+]?[0-9]+"
        if minimum == 0:
            return r"\+?[0-9]+|-0+"
        if minimum == 1:
            return r"\+?0*[1-9][0-9]*"
    raise RuntimeError(f"no Python-tuple pattern for the item schema {item}")


# -- the spec's parts ----------------------------------------------------------------------------------------------


def _top_level() -> dict[str, Any]:
    from cnncalc.layout import LAYOUTS
    from cnncalc.spec import TOP_KEYS

    kind_names = [cls.kind for cls in REGISTRY.values()]
    fragments: dict[str, dict[str, Any]] = {
        "name": {"type": "string", "description": "the network's name (default: the file name)"},
        "description": {"description": "free text about the network (cnncalc does not read it)"},
        "input": {
            "description": "the shape of one sample: [C, H, W] (C, L for 1-D; C, D, H, W for 3-D) or "
            "'3x224x224', in the spec's layout",
            **_sizes(single_int=False),
        },
        "layout": {
            "type": "string",
            "enum": list(LAYOUTS),
            "default": LAYOUTS[0],
            "description": "how `input` and printed volumes are written: chw (PyTorch's C x H x W) or hwc",
        },
        "batch": {**POSITIVE, "default": 1, "description": "batch size: multiplies MACs, FLOPs and activations"},
        "limits": {"$ref": "#/definitions/limits"},
        "ignore": {
            "description": "lint rules (id or name) silenced for the whole spec",
            "anyOf": [RULE, {"type": "array", "items": RULE}],
        },
        "blocks": {
            "description": "reusable blocks: name -> {params, layers}; used like a layer kind",
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "propertyNames": {"pattern": _name_pattern(), "not": {"pattern": _one_of_words(kind_names)}},
                    "additionalProperties": {"$ref": "#/definitions/block"},
                },
            ],
        },
        "layers": {
            "description": "the network: each layer reads the previous one unless `inputs` says otherwise",
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/definitions/layer"},
        },
    }
    return _in_order(fragments, TOP_KEYS, "top-level key")


def _in_order(fragments: dict[str, Any], keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """`fragments` in the order of cnncalc.spec's table; a key on one side only means the schema has drifted."""
    if set(fragments) != set(keys):
        raise RuntimeError(f"schema and spec disagree on the {what}s: {sorted(set(fragments) ^ set(keys))}")
    return {key: fragments[key] for key in keys}


def _sizes(single_int: bool) -> dict[str, Any]:
    forms: list[dict[str, Any]] = [
        {"type": "array", "minItems": 1, "items": POSITIVE},
        {"type": "string", "pattern": SIZES_TEXT},
    ]
    return python_forms({"anyOf": [POSITIVE, *forms] if single_int else forms})


def _rule() -> dict[str, Any]:
    from cnncalc.lint import RULES, RULES_BY_KEY

    listed = "; ".join(f"{r.id} {r.name}: {r.summary}" for r in RULES)
    return {
        "type": "string",
        "description": f"a lint rule, by id or name, in any case ({listed})",
        "anyOf": [
            {"enum": [r.name for r in RULES] + [r.id for r in RULES]},
            {"pattern": _one_of_words(list(RULES_BY_KEY))},
        ],
    }


def _limits() -> dict[str, Any]:
    from cnncalc import limits
    from cnncalc.units import DTYPE_BYTES

    properties: dict[str, Any] = {}
    for key in limits.LIMIT_KEYS:
        if key in limits.COUNTS:
            properties[key] = {
                "description": f"at most this many {limits.COUNTS[key]} (25000000, '25M', '4.1G'; units "
                "K, M, G, T, P are powers of 1000)",
                **_amount(limits.COUNT_UNITS),
            }
        elif key == "max_activation_bytes":
            properties[key] = {
                "description": "at most this many bytes of activations ('300MB', '1.5GiB'; KB, MB, GB: 1000s, "
                "KiB, MiB, GiB: 1024s)",
                **_amount(limits.BYTE_UNITS),
            }
        elif key == "dtype":
            properties[key] = {
                "type": "string",
                "enum": list(DTYPE_BYTES),
                "description": "element type for max_activation_bytes (default float32)",
            }
        elif key == "expect_output":
            properties[key] = {"description": "the output shape of one sample: [1000] or '2x256x256'", **_sizes(True)}
        elif key == "min_receptive_field":
            properties[key] = {
                "description": "the smallest receptive field allowed: one size for every spatial axis, or one per "
                "axis ([200, 100] or '200x100')",
                **_sizes(True),
            }
        else:
            raise RuntimeError(f"the schema does not know the budget '{key}'")
    return {
        "description": "budgets `cnncalc check` enforces",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


def _amount(units: dict[str, int]) -> dict[str, Any]:
    """A non-negative integer, or text as limits.parse_amount reads it: commas and underscores anywhere are
    dropped, then a decimal number and a unit (a one-letter unit in either case)."""
    spelled = [u for u in units if u] + [u.lower() for u in units if len(u) == 1 and u.lower() not in units]
    gap = "[,_]*"
    unit = "|".join(gap.join(_escaped(c) for c in u) for u in sorted(spelled, key=lambda u: (-len(u), u)))
    number = rf"(?:[0-9][0-9,_]*(?:\.[0-9,_]*)?|\.{gap}[0-9][0-9,_]*)"
    exponent = rf"(?:[eE]{gap}[-+]?{gap}[0-9]{gap}(?:[0-9]{gap})?)?"  # 1e9; two digits at most, as limits.py
    text = rf"^[\s,_]*{number}{exponent}[\s,_]*(?:{unit})?[\s,_]*$"
    return {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": text}]}


def _block() -> dict[str, Any]:
    from cnncalc.spec import BLOCK_KEYS, RESERVED

    fragments = {
        "params": {
            "description": "parameters and their defaults (null: required); used as $name in the block's layers",
            "anyOf": [
                {"type": "object", "propertyNames": {"not": {"enum": [*RESERVED, *RESERVED_NAMES]}}},
                {"type": "null"},
                {"enum": [[], "", 0, False], "description": "empty: no parameters"},
            ],
        },
        "layers": {
            "description": "the block's layers; `input` is the block's input, names are local",
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/definitions/layer.in_block"},
        },
        "description": {"description": "free text about the block (cnncalc does not read it)"},
    }
    return {
        "description": "a block: parameters and layers, used like a layer kind (its layers read the parameters "
        "as $name in expressions; a default may read the parameters before it)",
        "type": "object",
        "required": ["layers"],
        "additionalProperties": False,
        "properties": _in_order(fragments, BLOCK_KEYS, "block key"),
    }


def _reserved(in_block: bool, block_use: bool) -> dict[str, Any]:
    """The reserved keys every layer entry takes besides its arguments."""
    from cnncalc.graph import NETWORK_INPUT
    from cnncalc.names import LAYER_NAME_PATTERN
    from cnncalc.spec import RESERVED

    layer_name = {"type": "string", "minLength": 1, "not": {"pattern": r"^\$"}}
    fragments: dict[str, dict[str, Any]] = {
        "name": {
            "description": "a unique layer name (default: kind plus index, conv2d_1): PyTorch's module path, parts "
            "of letters, digits, '_' and '-' joined by '.' (layer2.0.conv1, features.0)",
            "anyOf": [
                {"type": "null"},
                {"type": "string", "pattern": LAYER_NAME_PATTERN, "not": {"enum": [NETWORK_INPUT]}},
            ],
        },
        "inputs": {
            "description": f"the layers it reads ('{NETWORK_INPUT}' is the network's or the block's input; "
            "default: the previous layer)",
            "anyOf": [{"type": "null"}, layer_name, {"type": "array", "minItems": 1, "items": layer_name}],
        },
        "repeat": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "chain this many copies, named name.0 ... name.N-1 (0: none; the name stands for the "
            "input); $index is the copy number in the entry's arguments",
        },
        "when": {
            "description": "a condition ($stride == 1 and $in_channels == $out): the entry is made only when it holds",
            "type": "boolean",
        },
        "trainable": {"type": "boolean", "default": True, "description": "false: its parameters are frozen"},
        "weights": (
            {"type": "null", "description": "weights go on single layers, not on block uses"}
            if block_use
            else {
                "description": "parameter values for `cnncalc run`, by PyTorch state_dict name (nested lists)",
                "type": ["object", "null"],
            }
        ),
        "ignore": {
            "description": "lint rules (id or name) silenced for this layer (on a block use: its layers)",
            "anyOf": [{"type": "null"}, RULE, {"type": "array", "items": RULE}],
        },
    }
    ordered = _in_order(fragments, RESERVED, "reserved key")
    return {key: _with_params(value, in_block) for key, value in ordered.items()}


def _reserved_name(key: str, in_block: bool, block_use: bool) -> str:
    return (
        f"reserved.{key}" + (".block_use" if block_use and key == "weights" else "") + (".in_block" if in_block else "")
    )


def _reserved_refs(in_block: bool, block_use: bool) -> dict[str, Any]:
    from cnncalc.spec import RESERVED

    return {key: {"$ref": f"#/definitions/{_reserved_name(key, in_block, block_use)}"} for key in RESERVED}


def _kind_arguments(cls: type[Layer], in_block: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for arg in cls.arguments:
        fragment = {"description": _arg_description(arg, cls.dims), **python_forms(arg.type.json_schema(cls.dims))}
        if arg.default is not REQUIRED:
            try:
                fragment["default"] = _json_value(arg.default)
            except ValueError:
                pass  # described in words only
        properties[arg.name] = _with_params(fragment, in_block)
    reserved = _reserved_refs(in_block, block_use=False)
    clash = set(properties) & set(reserved)
    if clash:
        raise RuntimeError(f"{cls.kind} declares reserved names as arguments: {sorted(clash)}")
    required = [arg.name for arg in cls.arguments if arg.default is REQUIRED]
    doc = (cls.__dict__.get("__doc__") or "").strip()
    schema: dict[str, Any] = {
        "title": cls.kind,
        "description": "\n".join(p for p in (kind_signature(cls), doc, f"other ops: {cls.ops_rule}") if p),
        "type": "object" if required else ["object", "null"],
        "additionalProperties": False,
        "properties": {**properties, **reserved},
    }
    if required:
        schema["required"] = required
    return schema


def _arg_description(arg: Arg, dims: int) -> str:
    parts = [arg.doc] if arg.doc else []
    parts.append(arg.type.expected(dims))
    if arg.inferred:
        parts.append("inferred from the input; when given, it must match")
    if not arg.pytorch:
        parts.append("cnncalc's own, not a torch.nn argument")
    return "; ".join(parts)


def _layer_entry(kinds: list[type[Layer]], in_block: bool) -> dict[str, Any]:
    suffix = ".in_block" if in_block else ""
    spellings: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    for cls in kinds:
        ref = {"$ref": f"#/definitions/kind.{cls.kind}{suffix}"}
        listed = list(dict.fromkeys((cls.kind.lower(), cls.kind)))  # the usual spellings, for completion
        spellings.update((spelling, ref) for spelling in listed)
        # Every other spelling; the listed ones are left out so that no key is checked twice.
        others = "(?!(?:" + "|".join(_escaped(s) for s in listed) + ")$)"
        patterns[_one_of_words([cls.kind]).replace("^", "^" + others, 1)] = ref
    mapping = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"pattern": _name_pattern()},
        "properties": spellings,
        "patternProperties": patterns,
        "additionalProperties": {"$ref": f"#/definitions/block_use{suffix}"},
    }
    named_printed = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": {"type": "string", **PRINTED_LAYER},
        "description": "(name): Kind(...), a named layer as print(model) shows it",
    }
    if in_block:  # `- $act: {inplace: true}`: a kind or block passed as a parameter
        mapping["propertyNames"] = {"anyOf": [mapping["propertyNames"], {"pattern": KIND_PARAM}]}
        mapping["patternProperties"] = {**patterns, KIND_PARAM: {"$ref": "#/definitions/block_use.in_block"}}
    return {
        "description": "a layer: a kind name (relu), a one-key mapping 'kind: {arguments}', or a layer as PyTorch "
        "prints it (Conv2d(3, 64, kernel_size=3)); kinds are torch.nn class names in any case. A key that is not a "
        "kind is a use of one of the spec's blocks. Or '- if: CONDITION' with 'then:' and 'else:' lists"
        + (", and inside a block a kind passed as a parameter ($act)." if in_block else "."),
        "anyOf": [
            {"$ref": f"#/definitions/bare_layer{suffix}"},
            mapping,
            named_printed,
            {"$ref": f"#/definitions/if{suffix}"},
        ],
    }


def _if_entry(in_block: bool) -> dict[str, Any]:
    """`- if: COND` with `then:` and optional `else:` lists of layers (of the enclosing scope)."""
    layers = {"type": "array", "items": {"$ref": "#/definitions/layer" + (".in_block" if in_block else "")}}
    return {
        "type": "object",
        "description": "layers made only when a condition holds: if: CONDITION, then: [layers], else: [layers]",
        "required": ["if", "then"],
        "additionalProperties": False,
        "properties": {
            "if": _with_params({"type": "boolean", "description": "the condition, e.g. $expand != 1"}, in_block),
            "then": {**layers, "description": "the layers made when the condition holds"},
            "else": {**layers, "description": "the layers made when it does not (optional)"},
        },
    }


def _bare_layer(kinds: list[type[Layer]]) -> dict[str, Any]:
    """A layer written as a bare name: a kind that needs no arguments (in any case), or a block's name."""
    bare_kinds = [s for cls in kinds if not _required(cls) for s in dict.fromkeys((cls.kind.lower(), cls.kind))]
    needs_arguments = [cls.kind for cls in kinds if _required(cls)]
    return {
        "type": "string",
        "anyOf": [
            {"enum": bare_kinds, "description": "a layer kind that needs no arguments"},
            {
                "pattern": _name_pattern(),
                "not": {"pattern": _one_of_words(needs_arguments)},
                "description": "a layer kind in any case, or the name of one of the spec's blocks",
            },
            PRINTED_LAYER,
        ],
    }


def _printed_layer_pattern() -> str:
    from cnncalc.pyliteral import CALL_START

    return f"^{CALL_START.pattern}[\\s\\S]*\\)[ \\t\\r\\n]*$"


PRINTED_LAYER = {
    "pattern": _printed_layer_pattern(),
    "description": "a layer as PyTorch prints it, Conv2d(3, 64, kernel_size=(7, 7), bias=False): the same as the "
    "mapping form, positional values in torch.nn's order (the schema checks only its form Kind(...))",
}


def _required(cls: type[Layer]) -> bool:
    return any(arg.default is REQUIRED for arg in cls.arguments)


def _block_use(in_block: bool) -> dict[str, Any]:
    return {
        "description": "a use of one of the spec's blocks, with its parameters (the schema cannot know the spec's "
        "blocks: cnncalc checks the block's name and parameters)",
        "type": ["object", "null"],
        "properties": _reserved_refs(in_block, block_use=True),
        "additionalProperties": {} if in_block else {"$ref": "#/definitions/plain_value"},
    }
