"""Mutants of the shipped specs, and the command each is run through; a case is a pure function of (seed, index).

Two kinds of edits, combined at random: on the YAML text (numbers, tags, tabs, unicode, truncation, lines moved,
Python literal forms, anchors) and on the parsed structure (an argument set to an edge value, kinds swapped, layers
dropped, duplicated or reordered, `inputs` broken, unknown arguments, names, `repeat`, blocks misused, top-level
keys). Values that plain YAML cannot express (tags, `010`, `(7, 7)`) go into the structure as placeholders and are
written into the dumped text verbatim.
"""

from __future__ import annotations

import copy
import math
import random
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
# Specs the executor runs in well under a second: most run/verify/fuse cases start from one of these.
SMALL = (
    "batch_mean",
    "conv_760",
    "conv_gradients",
    "cross_kernel",
    "global_avg_pool",
    "lenet5",
    "lenet5_bn",
    "pointwise",
    "pointwise_hwc",
    "stacked_convs",
)
VALUE_FILES = {  # the input values shipped for a spec (`cnncalc run --input FILE`)
    "cross_kernel": "cross_kernel_image.yaml",
    "global_avg_pool": "grid_4x4.yaml",
    "conv_gradients": "grid_4x4.yaml",
    "batch_mean": "batch_of_three.yaml",
}
# run, verify, fuse --seed-weights: tiny budgets keep them under a second or two; larger runs are refused at once.
# (The defaults admit runs that take a minute and gigabytes: large answers, not hangs.)
EXEC_BUDGET = "1000000"  # MACs
ELEMENTS_BUDGET = "200K"  # values read and written

# Command -> weight. Everything parses the spec; run, verify and fuse also execute it, so they get a smaller share.
COMMANDS = {
    "summary": 24,
    "explain": 9,
    "check": 9,
    "lint": 7,
    "graph": 7,
    "diff": 7,
    "layer": 12,
    "run": 10,
    "verify": 8,
    "fuse": 7,
    "report": 5,
}
EXECUTING = ("run", "verify", "fuse")
# --input sizes for summary: fitting, too small, the wrong rank, huge, malformed.
INPUT_SIZES = ["3x32x32", "1x28x28", "3x8x8", "1x1x1", "3x224x224", "8", "2x3", "3x100000x100000", "0x4x4", "abc"]


@dataclass
class Case:
    """One mutant and one command. '{dir}' in argv stands for the directory the files are written to."""

    seed: str
    index: int
    base: str
    mutations: list[str]
    files: dict[str, str]
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None

    @property
    def command(self) -> str:
        return self.argv[0]

    def resolved_argv(self, directory: str) -> list[str]:
        return [arg.replace("{dir}", directory) for arg in self.argv]

    def command_line(self, directory: str) -> str:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        line = shlex.join(["python", "-m", "cnncalc", *self.resolved_argv(directory)])
        if self.stdin is not None:
            line += f" < {shlex.quote(directory + '/stdin.yaml')}"
        return f"{env + ' ' if env else ''}{line}"

    @property
    def mutant(self) -> str:
        return self.files.get("mutant.yaml", "")


# -- values ---------------------------------------------------------------------------------------------------

NAN = float("nan")
INF = float("inf")
EDGE_INTS = [0, -1, 1, 2, 3, 5, 7, 64, 100, 10**8, 10**12, 10**30, -(10**12), 2**63, 2**31]
EDGE_FLOATS = [0.5, 2.5, -0.5, 1.0, 0.0, -0.0, 1e-300, 1e300, 0.1, NAN, INF, -INF]
EDGE_STRINGS = ["abc", "", " ", "same", "valid", "input", "3x3", "zeros", "circular", "nearest", "bilinear", "tanh"]
EDGE_STRINGS += ["none", "1e-5", "NaN", "true", "$out", "$nope", "x" * 300, "é", "名前", "\x1b[31mred", "<b>b</b>"]
# Written verbatim into the YAML text: YAML 1.1 oddities, explicit tags, Python literals, broken syntax.
RAW = [
    "010",
    "0x10",
    "0o17",
    "0b11",
    "1_000",
    "1:30",
    "1e-05",
    "1E-5",
    "5e-1",
    ".5",
    "1e9",
    "1e400",
    "+7",
    "-0",
    "0.",
    "(7, 7)",
    "(7,)",
    "(3, 3, 3)",
    "None",
    "True",
    "False",
    "yes",
    "on",
    "off",
    "~",
    ".nan",
    ".NaN",
    "-.inf",
    ".inf",
    "2001-12-14",
    "2001-12-14 21:59:43.10 -5",
    "!!float abc",
    "!!float 1e400",
    "!!float .nan",
    "!!int abc",
    "!!int 0x1F",
    "!!int 99999999999999999999999999999",
    "!!seq 3",
    "!!map 3",
    "!!binary aGVsbG8=",
    "!!timestamp abc",
    "!!timestamp 2001-12-14",
    "!!bool maybe",
    "!!bool yes",
    "!!null x",
    "!!str 5",
    "!foo 3",
    "!foo",
    "!<tag:example.com,2000:x> 1",
    "!!python/tuple [1, 2]",
    "!!python/object/apply:os.system [echo]",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!pairs [{a: 1}]",
    "!!merge x",
    "!!value x",
    "*undefined_alias",
    "&anchor 3",
    "[1, 2",
    "{a: 1",
    "'unterminated",
    '"\\x"',
    '"\\ud800"',
    "`x`",
    "@x",
    "%x",
    "? x",
    "[[[[[[[[1]]]]]]]]",
    "{a: [1, {b: [2]}]}",
    "[.nan, .inf]",
    "[1e-05, 1]",
    "[010, 3]",
    "[!!float abc]",
    "{!!int a: 1}",
    "[(7, 7)]",
    "None, None",
]
EDGE_COLLECTIONS: list[Any] = [[], {}, [1], [1, 2], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7], [None], [[1, 2]], {"a": 1}]
EDGE_COLLECTIONS += [[1, "a"], [0, 0], [-1, 1], [10**8, 10**8], [NAN], [1, None], [True, False], [0.5, 2]]
WEIRD_NAMES: list[Any] = ["", "input", "a.b", "layer1.0", "é", "名前", "x" * 5000, "a b", "a\nb", "\x1b[1mbold"]
WEIRD_NAMES += ["<b>x</b>", "|", "`", "$x", "0", 0, 5, None, True, [], {}, "features.0", "conv1", "relu", "end"]
WEIRD_NAMES += ["-x", "_", "a-b", "graph", "subgraph", "Ω", "\u200b", "a\tb", "NaN", "a:b", "a;b", 'a"b', "a'b"]
UNKNOWN_ARGS = ["kernal_size", "foo", "out_channel", "in_channels", "num_features", "in_features", "padding_mode"]
UNKNOWN_ARGS += ["bias", "dim", "weights", "trainable", "ignore", "name", "inputs", "repeat", "1", "KERNEL_SIZE"]
UNKNOWN_ARGS += ["$out", "out", "params", "layers", "input", "groups", "stride", "output_size", "scale_factor", "p"]


class Raw:
    """Text for the YAML verbatim, registered under a placeholder that the dumper writes as a plain scalar."""

    def __init__(self, registry: dict[str, str]) -> None:
        self.registry = registry

    def __call__(self, text: str) -> str:
        key = f"RAWPLACEHOLDER{len(self.registry)}X"
        self.registry[key] = text
        return key


def edge_value(rng: random.Random, raw: Raw) -> Any:
    roll = rng.random()
    if roll < 0.30:
        return rng.choice(EDGE_INTS)
    if roll < 0.40:
        return rng.randint(-3, 40)
    if roll < 0.52:
        return rng.choice(EDGE_FLOATS)
    if roll < 0.62:
        return rng.choice(EDGE_STRINGS)
    if roll < 0.72:
        return copy.deepcopy(rng.choice(EDGE_COLLECTIONS))
    if roll < 0.75:
        return rng.choice([None, True, False])
    return raw(rng.choice(RAW))


def plausible_value(rng: random.Random, argument: dict[str, Any], raw: Raw) -> Any:
    """A value of the argument's form (mostly valid, so that later layers are reached), sometimes an edge."""
    if rng.random() < 0.15:
        return edge_value(rng, raw)
    form = argument["type"]
    if "one of" in form:
        return rng.choice(re.findall(r"'([^']+)'", form) or ["x"])
    if form.startswith("true or false"):
        return rng.random() < 0.5
    if "list of" in form and rng.random() < 0.3:
        count = re.search(r"list of (?:1 or )?(\d+)", form)
        return [rng.randint(1, 4) for _ in range(int(count.group(1)) if count else rng.randint(1, 3))]
    if "integer" in form:
        low = 1 if "positive" in form else 0 if "non-negative" in form else -2
        return rng.randint(low, 5)
    if "number" in form:
        return rng.choice([0.0, 0.1, 0.5, 1.0, 2, 1e-5, 0.9])
    return argument["default"]


# -- the spec's structure ---------------------------------------------------------------------------------------


@dataclass
class Context:
    rng: random.Random
    kinds: list[dict[str, Any]]
    raw: Raw
    executing: bool

    def kind(self) -> dict[str, Any]:
        return self.rng.choice(self.kinds)

    def arguments_of(self, kind: str) -> list[dict[str, Any]]:
        for entry in self.kinds:
            if entry["kind"].lower() == str(kind).lower():
                return entry["arguments"]
        return []


def layer_lists(doc: Any) -> list[tuple[str, list[Any]]]:
    """The layer lists of a spec: the top level's and each block's, with a path for the description."""
    found: list[tuple[str, list[Any]]] = []
    if isinstance(doc, dict) and isinstance(doc.get("layers"), list):
        found.append(("layers", doc["layers"]))
    blocks = doc.get("blocks") if isinstance(doc, dict) else None
    if isinstance(blocks, dict):
        for name, block in blocks.items():
            if isinstance(block, dict) and isinstance(block.get("layers"), list):
                found.append((f"blocks.{name}.layers", block["layers"]))
    return found


def as_mapping(layers: list[Any], index: int) -> tuple[str, dict[str, Any]] | None:
    """Rewrite layers[index] to the `kind: {args}` form and return (kind, args); None if it is no layer entry."""
    entry = layers[index]
    if isinstance(entry, str):
        layers[index] = {entry: {}}
        return entry, layers[index][entry]
    if isinstance(entry, dict) and len(entry) == 1:
        kind = next(iter(entry))
        if entry[kind] is None:
            entry[kind] = {}
        if isinstance(entry[kind], dict):
            return str(kind), entry[kind]
    return None


def pick_layer(ctx: Context, doc: Any) -> tuple[str, list[Any], int] | None:
    lists = [(path, items) for path, items in layer_lists(doc) if items]
    if not lists:
        return None
    path, items = ctx.rng.choice(lists)
    return path, items, ctx.rng.randrange(len(items))


class Entry(NamedTuple):
    """A layer entry picked for a mutation, in the `kind: {args}` form: changing args changes the document."""

    path: str
    items: list[Any]
    index: int
    kind: str
    args: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.path}[{self.index}] {self.kind}"


def pick_entry(ctx: Context, doc: Any) -> Entry | str:
    """A random layer entry (see as_mapping), or why there is none to mutate: the mutation's description."""
    picked = pick_layer(ctx, doc)
    if picked is None:
        return "nothing to change"
    path, items, index = picked
    shape = as_mapping(items, index)
    if shape is None:
        return "no mapping"
    return Entry(path, items, index, *shape)


def layer_names(doc: Any) -> list[str]:
    names = []
    for _, items in layer_lists(doc):
        for entry in items:
            if isinstance(entry, dict) and len(entry) == 1:
                args = next(iter(entry.values()))
                if isinstance(args, dict) and isinstance(args.get("name"), str):
                    names.append(args["name"])
    return names


def new_layer(ctx: Context) -> dict[str, Any]:
    kind = ctx.kind()
    args = {a["name"]: plausible_value(ctx.rng, a, ctx.raw) for a in kind["arguments"] if ctx.rng.random() < 0.6}
    for a in kind["arguments"]:
        if a["required"] and not a["inferred"] and a["name"] not in args and ctx.rng.random() < 0.9:
            args[a["name"]] = plausible_value(ctx.rng, a, ctx.raw)
    return {kind["kind"].lower() if ctx.rng.random() < 0.7 else kind["kind"]: args}


def s_set_argument(ctx: Context, doc: Any) -> str:
    picked = pick_layer(ctx, doc)
    if picked is None:
        return s_top_level(ctx, doc)
    path, items, index = picked
    shape = as_mapping(items, index)
    if shape is None:
        items[index] = edge_value(ctx.rng, ctx.raw)
        return f"{path}[{index}] = an edge value"
    kind, args = shape
    names = list(args) + [a["name"] for a in ctx.arguments_of(kind)]
    if not names:
        names = ["out_channels"]
    name = ctx.rng.choice(names)
    args[name] = edge_value(ctx.rng, ctx.raw)
    return f"{path}[{index}] {kind}.{name} = {args[name]!r}"


def s_plausible_argument(ctx: Context, doc: Any) -> str:
    """Another valid-looking value for an argument: reaches the layer rules rather than the argument checks."""
    pick = pick_entry(ctx, doc)
    if pick == "nothing to change":
        return pick
    arguments = [] if isinstance(pick, str) else ctx.arguments_of(pick.kind)
    if isinstance(pick, str) or not arguments:
        return s_set_argument(ctx, doc)
    argument = ctx.rng.choice(arguments)
    pick.args[argument["name"]] = plausible_value(ctx.rng, argument, ctx.raw)
    return f"{pick.where}.{argument['name']} = {pick.args[argument['name']]!r}"


NUMBER_EDGES = [NAN, INF, -INF, 1e300, -1, 0, 1e-300, 2, 10**30, -0.5, 1.5, 0.999999, 1e-05]


def s_number_edge(ctx: Context, doc: Any) -> str:
    """A non-finite or extreme value for a real-number argument (eps, momentum, p, value, slopes, scale factors)."""
    lists = [(p, items) for p, items in layer_lists(doc) if items]
    spots = []
    for path, items in lists:
        for index in range(len(items)):
            shape = as_mapping(items, index)
            for argument in ctx.arguments_of(shape[0]) if shape else []:
                if "number" in argument["type"]:
                    spots.append((path, items, index, shape, argument["name"]))
    if not spots:
        return s_new_layer(ctx, doc)
    path, items, index, (kind, args), name = ctx.rng.choice(spots)
    args[name] = ctx.rng.choice(NUMBER_EDGES)
    return f"{path}[{index}] {kind}.{name} = {args[name]!r}"


def s_unknown_argument(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    name = ctx.rng.choice(UNKNOWN_ARGS)
    pick.args[name] = edge_value(ctx.rng, ctx.raw)
    return f"{pick.where}: added {name}"


def s_swap_kind(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    roll = ctx.rng.random()
    if roll < 0.75:
        kind = ctx.kind()["kind"]
        kind = kind.lower() if ctx.rng.random() < 0.6 else kind
    elif roll < 0.85 and isinstance(doc.get("blocks"), dict) and doc["blocks"]:
        kind = str(ctx.rng.choice(list(doc["blocks"])))
    else:
        kind = ctx.rng.choice(["conv", "Conv2D", "CONV2D", "nn.Conv2d", "torch.nn.ReLU", "batchnorm", "relu ", "é"])
    pick.items[pick.index] = {kind: pick.args}
    return f"{pick.where} -> {kind}"


def s_append_layer(ctx: Context, doc: Any) -> str:
    """A layer of a kind that fits the input's rank, after the others or late in the network: likely valid."""
    lists = [(p, items) for p, items in layer_lists(doc) if items]
    if not lists:
        return s_new_layer(ctx, doc)
    shape = doc.get("input") if isinstance(doc, dict) else None
    rank = f"{len(shape) - 1}d" if isinstance(shape, list) else "2d"
    fitting = [k for k in ctx.kinds if k["kind"][-2:].lower() == rank or not k["kind"][-2:-1].isdigit()]
    kind = ctx.rng.choice(fitting or ctx.kinds)
    layer = new_layer(Context(ctx.rng, [kind], ctx.raw, ctx.executing))
    path, items = ctx.rng.choice(lists)
    index = ctx.rng.randint(len(items) // 2, len(items))
    items.insert(index, layer)
    return f"{path}[{index}] inserted {layer!r}"


def s_empty_axis(ctx: Context, doc: Any) -> str:
    """A pad layer whose negative padding leaves an axis empty (PyTorch allows it), then a layer that reads it."""
    shape = doc.get("input") if isinstance(doc, dict) else None
    if not isinstance(shape, list) or not isinstance(doc.get("layers"), list) or len(shape) < 2:
        return s_append_layer(ctx, doc)
    rank = min(len(shape) - 1, 3)
    kind = ctx.rng.choice(["zeropad", "constantpad", "circularpad", "replicationpad", "reflectionpad"]) + f"{rank}d"
    size = min((v for v in shape[1:] if isinstance(v, int)), default=4)
    cut = -(size // 2) - ctx.rng.choice([0, 0, 1])  # both sides: exactly empty, or one past
    items = doc["layers"]
    index = ctx.rng.randint(0, min(2, len(items)))
    items.insert(index, {kind: {"padding": cut, **({"value": 1} if kind.startswith("constant") else {})}})
    return f"layers[{index}] inserted {kind} padding {cut}; " + s_append_layer(ctx, doc)


def s_new_layer(ctx: Context, doc: Any) -> str:
    lists = layer_lists(doc)
    if not lists:
        return s_top_level(ctx, doc)
    path, items = ctx.rng.choice(lists)
    layer = new_layer(ctx)
    index = ctx.rng.randint(0, len(items))
    if items and ctx.rng.random() < 0.5:
        index = min(index, len(items) - 1)
        items[index] = layer
        return f"{path}[{index}] replaced by {layer!r}"
    items.insert(index, layer)
    return f"{path}[{index}] inserted {layer!r}"


def s_reorder(ctx: Context, doc: Any) -> str:
    lists = [(p, items) for p, items in layer_lists(doc) if items]
    if not lists:
        return "no layers"
    path, items = ctx.rng.choice(lists)
    i, j = ctx.rng.randrange(len(items)), ctx.rng.randrange(len(items))
    action = ctx.rng.choice(["drop", "drop", "duplicate", "swap", "move", "reverse", "clear", "many"])
    if action == "drop":
        del items[i]
    elif action == "duplicate":
        items.insert(j, copy.deepcopy(items[i]))
    elif action == "swap":
        items[i], items[j] = items[j], items[i]
    elif action == "move":
        items.insert(j, items.pop(i))
    elif action == "reverse":
        items[min(i, j) : max(i, j) + 1] = items[min(i, j) : max(i, j) + 1][::-1]
    elif action == "clear":
        items.clear()
    else:  # a longer network (not much longer: a table costs milliseconds per row, which is not a hang)
        count = ctx.rng.choice([20, 200])
        items[i:i] = [copy.deepcopy(items[i]) for _ in range(count)]
        return f"{path}: {count} copies of [{i}]"
    return f"{path}: {action} [{i}] [{j}]"


def s_inputs(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    names = layer_names(doc) or ["conv1"]
    own = pick.args.get("name", "self")
    choices: list[Any] = ["nope", own, ["input", "input"], [], 5, {"a": 1}, "input", None, "layer1.0", "layer1.99.x"]
    choices += ["$skip", "$out", ctx.rng.choice(names), [ctx.rng.choice(names), ctx.rng.choice(names)], [own]]
    choices += [[ctx.rng.choice(names), "input"], [ctx.rng.choice(names)] * 3, ["input"] * 50, [[]], "input.x"]
    pick.args["inputs"] = copy.deepcopy(ctx.rng.choice(choices))
    return f"{pick.where}.inputs = {pick.args['inputs']!r}"


def s_name(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    names = layer_names(doc)
    choices = WEIRD_NAMES + ([ctx.rng.choice(names)] if names else [])
    pick.args["name"] = copy.deepcopy(ctx.rng.choice(choices))
    return f"{pick.where}.name = {str(pick.args['name'])[:40]!r}"


def s_repeat(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    # Sizes a network may really have, and numbers that must be refused at once (issue 9, item 4); none between,
    # where a long network's answer legitimately takes seconds to print.
    values: list[Any] = [0, -1, 1, 2, 3, 50, 10**7, 10**9, 10**30, 2.5, "3", True, None, NAN, "$more"]
    pick.args["repeat"] = ctx.rng.choice(values)
    return f"{pick.where}.repeat = {pick.args['repeat']!r}"


def s_weights(ctx: Context, doc: Any) -> str:
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    value = ctx.rng.choice([ctx.rng.choice([0, 1, -2, "1/3", "1/0", "a/b", NAN, INF, 10**30, 0.1, "-7/2", None, []])])
    depth = ctx.rng.randint(0, 5)
    for _ in range(depth):
        value = [value] * ctx.rng.choice([1, 1, 2, 3, 5])
    name = ctx.rng.choice(["weight", "bias", "running_mean", "running_var", "num_batches_tracked", "foo"])
    weights = pick.args.get("weights")
    if not isinstance(weights, dict) or ctx.rng.random() < 0.3:
        weights = {} if ctx.rng.random() < 0.9 else edge_value(ctx.rng, ctx.raw)
        pick.args["weights"] = weights
    if isinstance(weights, dict):
        weights[name] = value
    return f"{pick.where}.weights.{name} = {str(value)[:60]}"


INPUT_SHAPES: list[Any] = [[], [0], [-1, 28, 28], [1, 10**8], [1, 10**8, 10**8], [3, 224], [3, 224, 224, 224]]
INPUT_SHAPES += [[3, 2, 2, 2, 2], "3x224x224", "1x28x28", "axb", "3x", "x", 5, None, [1.5, 28, 28], [NAN], [1, 1, 1]]
INPUT_SHAPES += [[10**30, 1, 1], {"a": 1}, [[1, 2]], [1, 2, 2], [2], [1, 1], [3, 1, 1], [1, 10**12], [7, 7, 7, 7]]
INPUT_SHAPES += ["1x28x28x", " 1 x 28 x 28 ", "1,28,28", "1X28X28", [True, 2, 2], ["3", 4, 4], [2**63, 1]]


def s_top_level(ctx: Context, doc: Any) -> str:
    if not isinstance(doc, dict):
        return "not a mapping"
    key = ctx.rng.choice(["input", "input", "batch", "layout", "name", "limits", "ignore", "drop", "unknown", "layers"])
    if key == "input":
        doc["input"] = copy.deepcopy(ctx.rng.choice(INPUT_SHAPES))
    elif key == "batch":
        doc["batch"] = ctx.rng.choice([0, -1, 2, 7, 1000, 10**8, 10**30, 2.5, "2", None, NAN])
    elif key == "layout":
        doc["layout"] = ctx.rng.choice(["hwc", "chw", "HWC", "xyz", 5, None, ""])
    elif key == "name":
        doc["name"] = copy.deepcopy(ctx.rng.choice(WEIRD_NAMES))
    elif key == "limits":
        doc["limits"] = random_limits(ctx)
    elif key == "ignore":
        doc["ignore"] = copy.deepcopy(ctx.rng.choice([["CN001"], "bias-before-norm", ["nope"], 5, [[]], "CN999", []]))
    elif key == "drop":
        key = ctx.rng.choice(list(doc) or ["input"])
        doc.pop(key, None)
        return f"dropped top-level {key}"
    elif key == "unknown":
        doc[ctx.rng.choice(["inputs", "layer", "Layers", "foo", "params", "weights", "repeat"])] = edge_value(
            ctx.rng, ctx.raw
        )
    else:
        doc["layers"] = copy.deepcopy(ctx.rng.choice([None, {}, "relu", 5, [[]], [None], [{}], [{"a": 1, "b": 2}]]))
    return f"top-level {key} = {str(doc.get(key))[:60]}"


def random_limits(ctx: Context) -> Any:
    if ctx.rng.random() < 0.15:
        return edge_value(ctx.rng, ctx.raw)
    keys = ["max_params", "max_macs", "max_flops", "max_activation_bytes", "expect_output", "min_receptive_field"]
    keys += ["dtype", "foo"]
    values: list[Any] = [1, 0, -1, "3.6M", "310M", "1e9", "80MB", "512MiB", "1.5", "abc", "", 10**30, NAN, [1000]]
    values += ["1000", [1, 2], "1x1", 224, [224, 224], "float16", "int4", None, "4.1G", "0.5M", "1K", "1KiB", "9Z"]
    return {ctx.rng.choice(keys): ctx.rng.choice(values) for _ in range(ctx.rng.randint(1, 4))}


def s_blocks(ctx: Context, doc: Any) -> str:
    if not isinstance(doc, dict):
        return "not a mapping"
    blocks = doc.get("blocks")
    if not isinstance(blocks, dict) or not blocks:
        blocks = doc["blocks"] = {"unit": {"params": {"out": None}, "layers": [{"conv2d": {"out_channels": "$out"}}]}}
        if isinstance(doc.get("layers"), list):
            doc["layers"].append({"unit": {"out": ctx.rng.choice([4, None, "$out", 0, 10**12])}})
    name = ctx.rng.choice(list(blocks))
    block = blocks[name]
    if not isinstance(block, dict):
        blocks[name] = edge_value(ctx.rng, ctx.raw)
        return f"block {name} = an edge value"
    action = ctx.rng.choice(["self", "mutual", "empty", "params", "default", "undefined", "kindname", "use", "param"])
    layers = block.get("layers") if isinstance(block.get("layers"), list) else []
    if action == "self":
        layers.insert(ctx.rng.randint(0, len(layers)), {name: {}})
    elif action == "mutual":
        other = ctx.rng.choice(list(blocks))
        blocks[f"{name}_twin"] = {"layers": [{name: {}}]}
        if isinstance(blocks.get(other), dict) and isinstance(blocks[other].get("layers"), list):
            blocks[other]["layers"].append({f"{name}_twin": {}})
    elif action == "empty":
        block["layers"] = ctx.rng.choice([[], None, {}, "relu"])
    elif action == "params":
        block["params"] = edge_value(ctx.rng, ctx.raw)
    elif action == "default" and isinstance(block.get("params"), dict) and block["params"]:
        param = ctx.rng.choice(list(block["params"]))
        block["params"][param] = edge_value(ctx.rng, ctx.raw)
    elif action == "undefined" and layers:
        index = ctx.rng.randrange(len(layers))
        shape = as_mapping(layers, index)
        if shape:
            shape[1][ctx.rng.choice(list(shape[1]) or ["out_channels"])] = ctx.rng.choice(["$nope", "$", "$$out"])
    elif action == "kindname":
        blocks[ctx.rng.choice(["conv2d", "input", "relu", "Conv2d", "add", "blocks", "layers"])] = blocks.pop(name)
    elif action == "param":  # a $param as a kind, a name or a list item
        layers.append(ctx.rng.choice([{"$out": {}}, "$out", {"relu": {"name": "$out"}}, {"relu": ["$out"]}]))
    else:  # a use of the block with unknown or missing parameters
        if isinstance(doc.get("layers"), list):
            params: dict[str, Any] = {"nope": 1} if ctx.rng.random() < 0.5 else {}
            doc["layers"].insert(ctx.rng.randint(0, len(doc["layers"])), {name: params})
    return f"block {name}: {action}"


def s_deep(ctx: Context, doc: Any) -> str:
    """A value nested thousands of levels deep: written as text, since dumping it would recurse as deep."""
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    depth = ctx.rng.choice([10, 100, 1000, 5000, 30000])
    opener, closer = ctx.rng.choice([("[", "]"), ("{a: ", "}")])
    closed = ctx.rng.random() < 0.7
    text = opener * depth + "1" + (closer * depth if closed else "")
    pick.args[ctx.rng.choice(list(pick.args) or ["kernel_size"])] = ctx.raw(text)
    return f"{pick.where}: a value nested {depth} deep{'' if closed else ', never closed'}"


def s_long(ctx: Context, doc: Any) -> str:
    """Long values: a list of 10,000 sizes, an input of 1000 axes, a name of 100,000 letters."""
    pick = pick_entry(ctx, doc)
    if isinstance(pick, str):
        return pick
    roll = ctx.rng.random()
    if roll < 0.3 and isinstance(doc, dict):
        doc["input"] = [2] * ctx.rng.choice([8, 64, 1000])
        return f"input of {len(doc['input'])} axes"
    if roll < 0.6:
        name = ctx.rng.choice(list(pick.args) or ["kernel_size"])
        pick.args[name] = [ctx.rng.randint(1, 3)] * ctx.rng.choice([10, 1000, 10000])
        return f"{pick.where}.{name}: a list of {len(pick.args[name])}"
    pick.args["name"] = "n" * ctx.rng.choice([1000, 100000])
    return f"{pick.where}: a name of {len(pick.args['name'])} letters"


def s_shrink_input(ctx: Context, doc: Any) -> str:
    """Small spatial sizes, so the executor commands can run the network (and reach its later layers)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("input"), list) or len(doc["input"]) < 2:
        return "input not shrunk"
    shape = doc["input"]
    spatial = range(0, len(shape) - 1) if doc.get("layout") == "hwc" else range(1, len(shape))
    size = ctx.rng.choice([1, 2, 4, 8, 16])
    for axis in spatial:
        if isinstance(shape[axis], int):
            shape[axis] = size
    return f"input spatial sizes {size}"


STRUCTURE_OPS = [
    (s_set_argument, 14),
    (s_plausible_argument, 8),
    (s_number_edge, 5),
    (s_unknown_argument, 4),
    (s_swap_kind, 8),
    (s_new_layer, 8),
    (s_append_layer, 3),
    (s_reorder, 8),
    (s_inputs, 5),
    (s_name, 4),
    (s_repeat, 3),
    (s_weights, 3),
    (s_top_level, 6),
    (s_blocks, 5),
    (s_deep, 1),
    (s_long, 1),
]


GENTLE_OPS = [
    (s_plausible_argument, 10),
    (s_empty_axis, 2),
    (s_number_edge, 4),
    (s_append_layer, 10),
    (s_swap_kind, 2),
    (s_reorder, 2),
]


def dump(doc: Any, raw: Raw) -> str:
    text = yaml.safe_dump(doc, default_flow_style=None, sort_keys=False, allow_unicode=True, width=100000)
    for key, value in raw.registry.items():
        text = text.replace(key, value)
    return text


# -- the spec's text ----------------------------------------------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.$-])-?\d+(?:\.\d+)?(?![\w.])")
VALUE_START = re.compile(r"(?<=: )|(?<=\[)|(?<=, )|(?<=- )")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNICODE = ["é", "Ω", "ß", "名", "１", "\u200b", "\u0301", "\u202e", "🙂", "\u2028", "\x00", "\ufeff", "\x85", "\x1b"]
SPECIAL = list(":{}[]-#'\"&*!|>%@`,?\\\t\r\n ") + ["\u00a0"]
PYTHON_LAYER = [
    "Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
    "ReLU(inplace=True)",
    "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
    "Linear(in_features=512, out_features=1000, bias=True)",
    "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
]


def t_number(ctx: Context, text: str) -> tuple[str, str]:
    spots = list(NUMBER.finditer(text))
    if not spots:
        return text, "no number"
    spot = ctx.rng.choice(spots)
    value = ctx.rng.choice(RAW + [str(v) for v in EDGE_INTS] + ["1.0e-5", "2.5", "-0.0", "1e-05", "0.0"])
    return text[: spot.start()] + value + text[spot.end() :], f"line {line_of(text, spot.start())}: number -> {value}"


def t_tag(ctx: Context, text: str) -> tuple[str, str]:
    spots = [m.start() for m in VALUE_START.finditer(text)]
    if not spots:
        return text, "no value"
    spot = ctx.rng.choice(spots)
    tag = ctx.rng.choice(["!!float", "!!int", "!!str", "!!seq", "!!map", "!!binary", "!!timestamp", "!!bool"])
    tag = tag if ctx.rng.random() < 0.8 else ctx.rng.choice(["!foo", "!", "!!null", "!!set", "!!python/tuple"])
    return text[:spot] + tag + " " + text[spot:], f"line {line_of(text, spot)}: tag {tag}"


def t_lines(ctx: Context, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text, "empty"
    i, j = ctx.rng.randrange(len(lines)), ctx.rng.randrange(len(lines))
    action = ctx.rng.choice(["delete", "duplicate", "swap", "indent", "dedent", "splice"])
    if action == "delete":
        del lines[i]
    elif action == "duplicate":
        lines.insert(j, lines[i])
    elif action == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "indent":
        lines[i] = " " * ctx.rng.randint(1, 4) + lines[i]
    elif action == "dedent":
        lines[i] = lines[i][ctx.rng.randint(1, 4) :]
    else:
        other = spec_texts()[ctx.rng.choice(sorted(spec_texts()))].splitlines(keepends=True)
        lines.insert(j, ctx.rng.choice(other))
    return "".join(lines), f"line {i + 1}: {action} (and line {j + 1})"


def t_truncate(ctx: Context, text: str) -> tuple[str, str]:
    offset = ctx.rng.randint(0, len(text))
    return text[:offset], f"truncated at offset {offset}"


def t_character(ctx: Context, text: str) -> tuple[str, str]:
    offset = ctx.rng.randint(0, len(text))
    if ctx.rng.random() < 0.3:
        end = min(len(text), offset + ctx.rng.randint(1, 20))
        return text[:offset] + text[end:], f"deleted offsets {offset}..{end}"
    char = ctx.rng.choice(SPECIAL + UNICODE)
    return text[:offset] + char + text[offset:], f"inserted {char!r} at offset {offset}"


def t_tabs(ctx: Context, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    if ctx.rng.random() < 0.5:
        return re.sub(r"(?m)^( +)", "\t", text), "tabs for every indentation"
    candidates = [i for i, line in enumerate(lines) if line.startswith(" ")] or [0]
    i = ctx.rng.choice(candidates)
    if i < len(lines):
        lines[i] = "\t" + lines[i].lstrip(" ")
    return "".join(lines), f"line {i + 1}: tab indentation"


def t_unicode(ctx: Context, text: str) -> tuple[str, str]:
    words = list(WORD.finditer(text))
    char = ctx.rng.choice(UNICODE + ["ä", "Ł", "ǅ", "ﬁ", "Ⅻ", "ا", "ĳ", "K"])
    if not words:
        return char + text, f"prefixed {char!r}"
    word = ctx.rng.choice(words)
    at = ctx.rng.randint(word.start(), word.end())
    return text[:at] + char + text[at:], f"line {line_of(text, at)}: {char!r} in {word.group()!r}"


def t_python(ctx: Context, text: str) -> tuple[str, str]:
    """Forms copied from print(model): tuples, None, True, keyword=value, a whole printed layer."""
    action = ctx.rng.choice(["tuple", "none", "bool", "keyword", "layer", "layer"])
    if action == "tuple":
        return re.sub(r"\[([^\[\]]*)\]", r"(\1)", text, count=ctx.rng.randint(1, 3)), "lists as tuples"
    if action == "none":
        return text.replace("null", "None"), "null as None"
    if action == "bool":
        return text.replace("false", "False").replace("true", "True"), "booleans as True/False"
    if action == "keyword":
        return re.sub(r"(\w+): (\w+)", r"\1=\2", text, count=ctx.rng.randint(1, 4)), "key: value as key=value"
    lines = text.splitlines(keepends=True)
    entries = [i for i, line in enumerate(lines) if line.lstrip().startswith("- ")]
    layer = ctx.rng.choice(PYTHON_LAYER)
    if not entries:
        return text + f"  - {layer}\n", f"appended {layer}"
    i = ctx.rng.choice(entries)
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i] = f"{indent}- {layer}\n"
    return "".join(lines), f"line {i + 1}: {layer}"


def t_kind_word(ctx: Context, text: str) -> tuple[str, str]:
    kinds = [k["kind"] for k in ctx.kinds]
    spots = [m for m in WORD.finditer(text) if m.group().lower() in {k.lower() for k in kinds}]
    if not spots:
        return text, "no kind"
    spot = ctx.rng.choice(spots)
    kind = ctx.rng.choice(kinds)
    kind = kind.lower() if ctx.rng.random() < 0.6 else kind
    return text[: spot.start()] + kind + text[spot.end() :], f"line {line_of(text, spot.start())}: kind -> {kind}"


def t_document(ctx: Context, text: str) -> tuple[str, str]:
    forms = [
        ("%YAML 1.2\n---\n" + text, "a %YAML 1.2 directive"),
        ("%YAML 1.1\n---\n" + text, "a %YAML 1.1 directive"),
        ("%TAG ! tag:example.com,2000:\n---\n" + text, "a %TAG directive"),
        (text + "\n---\nname: second\n", "a second document"),
        (text + "\n...\n", "a document end marker"),
        ("\ufeff" + text, "a byte order mark"),
        (text.replace("\n", "\r\n"), "CRLF line ends"),
        (text.replace("\n", "\r"), "CR line ends"),
        ("", "empty"),
        ("# only a comment\n", "only a comment"),
        ("[]", "a list"),
        ("null", "null"),
        ("3", "a number"),
        ("- relu\n", "a list of layers"),
        ("input: [1, 4, 4]\nlayers: relu\n", "layers: a string"),
        (text.replace("\n", "\n\n"), "blank lines"),
        ("\x00" + text, "a NUL"),
        (text + "\x1a", "a DOS end of file"),
    ]
    return ctx.rng.choice(forms)


def t_anchor(ctx: Context, text: str) -> tuple[str, str]:
    roll = ctx.rng.random()
    if roll < 0.4:
        bomb = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
        return f"x-bomb:\n  l0: &l0 [relu]\n{bomb}" + text, "an alias bomb (9^9)"
    if roll < 0.6:
        return text.replace("layers:", "layers: &self", 1) + "\nloop: &loop [*loop]\n", "a recursive alias"
    spots = [m.start() for m in re.finditer(r"(?<=: )(?=[\w\[{])", text)]
    if len(spots) < 2:
        return text, "no values"
    first, second = sorted(ctx.rng.sample(spots, 2))
    end = text.find("\n", second)
    end = len(text) if end < 0 else end
    value_end = re.search(r"[,}\n]", text[second:])
    stop = second + (value_end.start() if value_end else 0)
    stop = stop if stop > second else end
    text = text[:second] + "*a" + text[stop:]
    return text[:first] + "&a " + text[first:], "an anchor and an alias"


TEXT_OPS = [
    (t_number, 16),
    (t_tag, 8),
    (t_lines, 8),
    (t_truncate, 6),
    (t_character, 8),
    (t_tabs, 3),
    (t_unicode, 5),
    (t_python, 5),
    (t_kind_word, 5),
    (t_document, 3),
    (t_anchor, 2),
]


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# -- cases --------------------------------------------------------------------------------------------------------


@cache
def spec_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.yaml"))}


@cache
def spec_documents() -> dict[str, Any]:
    return {name: yaml.safe_load(text) for name, text in spec_texts().items()}


def weighted(rng: random.Random, table: list[tuple[Any, int]] | dict[Any, int]) -> Any:
    items = list(table.items()) if isinstance(table, dict) else table
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def make_case(seed: str, index: int, kinds: list[dict[str, Any]]) -> Case:
    rng = random.Random(f"cnncalc-fuzz:{seed}:{index}")
    command = weighted(rng, COMMANDS)
    registry: dict[str, str] = {}
    ctx = Context(rng, kinds, Raw(registry), command in EXECUTING)
    if command == "layer":
        return layer_case(ctx, seed, index)
    names = sorted(spec_texts())
    if ctx.executing and rng.random() < 0.8:
        base = rng.choice(SMALL)
    else:
        base = rng.choice(names)
    text, mutations = mutant_text(ctx, base)
    for key, raw in registry.items():  # the descriptions show what the text holds
        mutations = [m.replace(repr(key), raw).replace(key, raw) for m in mutations]
    files = {"mutant.yaml": text}
    argv = command_argv(ctx, command, base, text, files)
    env = {"COLUMNS": rng.choice(["80", "80", "100", "0", "1", "20", "40", "60", "200"])} if rng.random() < 0.5 else {}
    stdin = None
    if command in ("summary", "graph", "explain") and rng.random() < 0.05:
        stdin, argv = text, [a if a != "{dir}/mutant.yaml" else "-" for a in argv]
    return Case(seed, index, f"specs/{base}.yaml", mutations, files, argv, env, stdin)


def mutant_text(ctx: Context, base: str) -> tuple[str, list[str]]:
    """Gentle mutants (mostly valid: they reach the layer rules and the executor), structure mutants (also
    invalid ones: the spec checks), text mutants (the YAML reader)."""
    rng = ctx.rng
    mutations: list[str] = []
    text = spec_texts()[base]
    gentle = rng.random() < (0.7 if ctx.executing else 0.3)
    if gentle or rng.random() < 0.5 or ctx.executing:
        doc = copy.deepcopy(spec_documents()[base])
        if ctx.executing and rng.random() < 0.8:
            mutations.append(s_shrink_input(ctx, doc))
        counts = {0: 1, 1: 10, 2: 6, 3: 3} if ctx.executing else {1: 8, 2: 4}
        for _ in range(weighted(rng, counts)):
            mutations.append(weighted(rng, GENTLE_OPS if gentle else STRUCTURE_OPS)(ctx, doc))
        text = dump(doc, ctx.raw)
        if not gentle and rng.random() < 0.25:
            text, what = weighted(rng, TEXT_OPS)(ctx, text)
            mutations.append(what)
    else:
        for _ in range(weighted(rng, {1: 8, 2: 3, 3: 1})):
            text, what = weighted(rng, TEXT_OPS)(ctx, text)
            mutations.append(what)
    return text, mutations


def maybe(rng: random.Random, probability: float, *args: str) -> list[str]:
    return list(args) if rng.random() < probability else []


def command_argv(ctx: Context, command: str, base: str, text: str, files: dict[str, str]) -> list[str]:
    rng = ctx.rng
    mutant = "{dir}/mutant.yaml"
    if command == "summary":
        fmt = rng.choice(["table", "table", "json", "csv", "markdown"])
        argv = ["summary", mutant, "--format", fmt]
        argv += maybe(rng, 0.15, "--batch", rng.choice(["2", "7", "1000000", str(10**12), str(10**30)]))
        argv += maybe(rng, 0.2, "--human") + maybe(rng, 0.1, "--layout", rng.choice(["hwc", "chw"]))
        argv += maybe(rng, 0.1, "--dtype", rng.choice(["float16", "int8", "float64", "bfloat16"]))
        argv += maybe(rng, 0.15, "--training") + maybe(rng, 0.05, "--optimizer", rng.choice(["sgd", "adamw", "x"]))
        argv += maybe(rng, 0.15, "--depth", rng.choice(["0", "1", "2", "9", "-1"]))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            argv += ["--input", rng.choice(INPUT_SIZES)]
        return argv + width(rng)
    if command == "report":
        argv = ["report", mutant, "-o", "{dir}/report.html"]
        argv += maybe(rng, 0.2, "--batch", rng.choice(["2", "7", str(10**12)]))
        return argv + maybe(rng, 0.1, "--optimizer", rng.choice(["sgd", "momentum", "adam"]))
    if command == "explain":
        argv = ["explain", mutant, "--format", rng.choice(["table", "json"])]
        names = re.findall(r"name: ([\w.\-]+)", text)
        if names and rng.random() < 0.3:
            argv += ["--layer", rng.choice(names + ["nope", "input"])]
        return argv + maybe(rng, 0.1, "--layout", "hwc")
    if command == "check":
        argv = ["check", mutant, "--format", rng.choice(["text", "text", "json", "github", "junit"])]
        for option, values in (
            ("--max-params", ["1", "10M", "abc", "-5", "1e9", "0", "3.6M", "1KiB", str(10**30)]),
            ("--max-macs", ["1", "4.5G", "1.5", "100M"]),
            ("--max-activation-bytes", ["512MiB", "1", "80MB"]),
            ("--expect-output", ["10", "1000", "2x256x256", "axb", "0"]),
            ("--min-receptive-field", ["3", "224", "1000000", "-1", "3x3"]),
        ):
            argv += maybe(rng, 0.15, option, rng.choice(values))
        return argv + maybe(rng, 0.1, "--no-lint") + maybe(rng, 0.1, "--batch", rng.choice(["1", "64"]))
    if command == "lint":
        argv = ["lint", mutant, "--format", rng.choice(["text", "json", "github", "junit"])]
        return argv + maybe(rng, 0.2, "--strict") + maybe(rng, 0.1, "--ignore", rng.choice(["CN001", "nope"]))
    if command == "graph":
        argv = ["graph", mutant, "--format", rng.choice(["mermaid", "dot", "json"])]
        argv += maybe(rng, 0.3, "--figures") + maybe(rng, 0.2, "--markdown") + maybe(rng, 0.2, "--direction", "lr")
        return argv + maybe(rng, 0.1, "--layout", "hwc")
    if command == "diff":
        files["original.yaml"] = spec_texts()[base]
        pair = ["{dir}/original.yaml", mutant] if rng.random() < 0.5 else [mutant, "{dir}/original.yaml"]
        argv = ["diff", *pair, "--format", rng.choice(["table", "json", "markdown"])]
        argv += maybe(rng, 0.3, "--all") + maybe(rng, 0.3, "--exit-code") + maybe(rng, 0.1, "--human")
        return argv + width(rng)
    if command == "run":
        argv = ["run", mutant, "--max-macs", EXEC_BUDGET, "--seed", str(rng.choice([0, 1, 7, 2**40]))]
        argv += ["--format", rng.choice(["table", "json"]), "--mode", rng.choice(["eval", "train"])]
        argv += maybe(rng, 0.3, "--trace") + maybe(rng, 0.3, "--backward") + max_elements(rng)
        if base in VALUE_FILES and rng.random() < 0.6:
            files["values.yaml"] = values_text(ctx, (SPECS / "inputs" / VALUE_FILES[base]).read_text())
            argv += ["--input", "{dir}/values.yaml"]
            if "--backward" in argv and rng.random() < 0.3:
                argv += ["--grad-output", "{dir}/values.yaml"]
        return argv
    if command == "verify":
        argv = ["verify", mutant, "--max-macs", EXEC_BUDGET, "--format", rng.choice(["table", "json"])]
        argv += maybe(rng, 0.3, "--mode", "train") + maybe(rng, 0.3, "--seed", str(rng.choice([0, 3, 99])))
        argv += max_elements(rng)
        argv += maybe(rng, 0.2, "--input", rng.choice(["1x8x8", "3x4x4", "8", "2x3", "1x1x1x1", "0x4x4"]))
        return argv + width(rng)
    # fuse: the spec to a file, the report to stdout
    argv = ["fuse", mutant, "-o", "{dir}/fused.yaml", "--format", rng.choice(["table", "json"])]
    if rng.random() < 0.4:
        argv += ["--seed-weights", str(rng.choice([0, 1, 5]))] + max_elements(rng)
    return argv + maybe(rng, 0.15, "--input", rng.choice(["1x8x8", "3x4x4", "2x2", "1x1x1"]))


def max_elements(rng: random.Random) -> list[str]:
    """The executor's second budget: tiny, or an odd value (refused, or smaller still)."""
    odd = ["1", "1K", "100000", "1e3", "0", "-1", "abc", "1.5", "200KiB"]
    return ["--max-elements", rng.choice(odd) if rng.random() < 0.1 else ELEMENTS_BUDGET]


def width(rng: random.Random) -> list[str]:
    """--width for the table commands (the COLUMNS variable is drawn apart)."""
    return maybe(rng, 0.15, "--width", rng.choice(["0", "1", "20", "40", "60", "80", "200", "100000"]))


def values_text(ctx: Context, text: str) -> str:
    """The input values for `run`, sometimes mutated too."""
    if ctx.rng.random() < 0.5:
        return text
    if ctx.rng.random() < 0.5:
        value = ctx.rng.choice(["1/3", "1/0", ".nan", ".inf", "1e-05", "0.1", "'-7/2'", "'1/0'", "10" * 40, "abc"])
        value = value if ctx.rng.random() < 0.7 else ctx.rng.choice(RAW)
        spots = list(NUMBER.finditer(text))
        spot = ctx.rng.choice(spots)
        return text[: spot.start()] + value + text[spot.end() :]
    return weighted(ctx.rng, TEXT_OPS)(ctx, text)[0]


# -- the layer command ------------------------------------------------------------------------------------------

LAYER_INPUTS = ["1x28x28", "3x8x8", "16", "2x10", "1x4x4x4", "64x64x16", "3", "0x4x4", "1x100000000", "axb", "3x"]
LAYER_INPUTS += ["1x1", "2x2x2", "3x224x224", "1x1x1x1x1", "[3, 8, 8]", "-1x4x4", "1e3x4", str(10**12) + "x2x2"]


def layer_case(ctx: Context, seed: str, index: int) -> Case:
    """One layer from the command line: a kind (sometimes misspelt) and NAME=VALUE arguments."""
    rng = ctx.rng
    kind = ctx.kind()
    name = kind["kind"] if rng.random() < 0.9 else rng.choice(["conv", "Conv2D", "nope", "add", "é", ""])
    arguments = []
    for argument in kind["arguments"]:
        if rng.random() < (0.9 if argument["required"] and not argument["inferred"] else 0.35):
            value = plausible_value(rng, argument, ctx.raw)
            arguments.append(f"{argument['name']}={value_text(ctx, value)}")
    if rng.random() < 0.2:
        arguments.append(f"{rng.choice(UNKNOWN_ARGS)}={value_text(ctx, edge_value(rng, ctx.raw))}")
    if rng.random() < 0.1:
        arguments.append(rng.choice(["noequals", "=5", "kernel_size=", "a=b=c", "kernel_size=[3,"]))
    spatial = {"1d": 1, "2d": 2, "3d": 3}.get(kind["kind"][-2:].lower(), rng.randint(0, 2))
    if rng.random() < 0.75:
        shape = "x".join(str(rng.choice([1, 2, 3, 4, 8, 16])) for _ in range(spatial + 1))
    else:
        shape = rng.choice(LAYER_INPUTS)
    argv = ["layer", name, "--input", shape, "--format", rng.choice(["table", "json"])]
    argv += maybe(rng, 0.1, "--layout", "hwc")
    argv += arguments
    env = {"COLUMNS": rng.choice(["80", "0", "20", "200"])} if rng.random() < 0.3 else {}
    mutations = [f"layer {name} --input {shape} " + " ".join(arguments)]
    return Case(seed, index, "(layer command)", mutations, {}, argv, env)


def value_text(ctx: Context, value: Any) -> str:
    """A value as the user types it after NAME=: flow YAML, placeholders replaced by their raw text."""
    if isinstance(value, str) and value in ctx.raw.registry:
        return ctx.raw.registry[value]
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    text = yaml.safe_dump(value, default_flow_style=True, width=100000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()
