"""The map from a traced PyTorch graph's nodes to cnncalc layers (used by cnncalc.bridges.from_torch).

Leaf modules map by class: every torch.nn class with a cnncalc kind of the same name, its arguments read from the
module's attributes and written only where they differ from cnncalc's defaults (inferred sizes left out).
Functional calls and tensor methods map by name, with the shapes the trace propagated (`x.mean([2, 3])` is a global
average pool and a flatten; `x.view(x.size(0), -1)` a View to the per-sample shape the trace computed).
Integers computed from shapes (`x.size(0) // 2`) are constants here, not layers.

Names (ImportedLayer's docstring): a module's path; a functional call's enclosing module path plus the call's name,
numbered within that module ("layer1.0.add", "layer1.0.add_1"), so that repeated blocks name their layers alike;
a module called again gets "_1", "_2", ...; a call that reads a module's parameters (F.layer_norm with a
LayerNorm2d's weight) is named after that module, so the state_dict keys stay PyTorch's.

torch is imported by `load()` (through `require`), never when this module is imported.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.args import REQUIRED, parse_value
from cnncalc.bridges import require
from cnncalc.bridges.network import NETWORK_INPUT, ImportedLayer, Scope
from cnncalc.errors import LayerError
from cnncalc.layers.registry import REGISTRY


@dataclass(frozen=True)
class Const:
    """A value computed from shapes alone (x.size(0), c // 2, x.shape): no layer."""

    value: Any


@dataclass(frozen=True)
class Param:
    """A parameter or buffer read with get_attr (ConvNeXt's layer_scale, LayerNorm2d's weight)."""

    path: str
    tensor: Any


@dataclass
class Pieces:
    """chunk/split before its pieces are taken (one cnncalc layer per piece used, with `index`)."""

    kind: str
    arguments: dict[str, Any]
    input: str
    node: Any


@dataclass
class Outputs:
    """A module returning a tuple whose first item is the tensor (MultiheadAttention's output, weights)."""

    first: str
    node: Any


@dataclass
class Place:
    """Where a node sits: its enclosing module instances (outermost first) and the name its call gets."""

    scopes: tuple[Scope, ...]
    enclosing: str


class Skip(Exception):
    """A node cnncalc cannot express: the operation's name, for the Unsupported listing."""

    def __init__(self, operation: str) -> None:
        super().__init__(operation)
        self.operation = operation


@dataclass
class Mapper:
    """Walks a traced GraphModule's nodes in order and builds cnncalc layers."""

    model: Any
    graph_module: Any
    results: dict[Any, Any]
    unsupported: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        load()
        self.modules = dict(self.model.named_modules())  # all of them: the graph module keeps only called ones
        self.values: dict[Any, Any] = {}
        self.out: list[ImportedLayer] = []
        self.names: set[str] = {NETWORK_INPUT}  # the spec's name for the network input
        self.module_calls: dict[str, int] = {}
        self.reached_modules: list[Any] = []
        self.reached_params: list[Any] = []

    # -- the walk ---------------------------------------------------------------------------------------------
    def layers(self) -> tuple[list[ImportedLayer], str]:
        output = NETWORK_INPUT
        for node in self.graph_module.graph.nodes:
            if node.op == "output":
                output = self.output_of(node)
                continue
            try:
                self.values[node] = self.visit(node)
            except Skip as skip:
                self.unsupported.setdefault(skip.operation, []).append(self.where(node))
                self.values[node] = f"<{node.name}>"  # later nodes still map, so every problem is listed at once
        return self.out, output

    def output_of(self, node: Any) -> str:
        value = self.arg(node.args[0])
        if isinstance(value, str):
            return value
        if isinstance(value, Outputs):
            return value.first
        self.unsupported.setdefault("returning several outputs (a tuple or dict)", []).append("output")
        return NETWORK_INPUT

    def visit(self, node: Any) -> Any:
        if node.op == "placeholder":
            return NETWORK_INPUT
        if node.op == "get_attr":
            tensor = self.results.get(node)
            self.reached_params.append(_attr(self.graph_module, node.target))
            return Param(node.target, tensor)
        result = self.results.get(node)
        if not _has_tensor(result) and not isinstance(result, (tuple, list)) or _is_shape(result):
            return Const(result)  # x.size(0), c // 2, x.dim(), torch._assert(...)
        if node.op == "call_module":
            return self.call_module(node)
        handler = node_handler(node)
        if handler is not None:
            return handler(self, node)
        if node.op == "call_function":
            raise Skip(f"{_function_name(node.target)}()")
        if node.op == "call_method":
            raise Skip(f"Tensor.{node.target}()")
        raise Skip(node.op)

    # -- naming and emitting ----------------------------------------------------------------------------------
    def place(self, node: Any, own_module: bool) -> Place:
        stack = list((node.meta.get("nn_module_stack") or {}).values())
        if own_module and stack:
            stack = stack[:-1]
        scopes = tuple(Scope(path, _class_name(cls)) for path, cls in stack)
        return Place(scopes, scopes[-1].path if scopes else "")

    def where(self, node: Any) -> str:
        if node.op == "call_module":
            return str(node.target)
        place = self.place(node, own_module=False)
        return f"{place.enclosing}.{node.name}" if place.enclosing else node.name

    def unique(self, name: str) -> str:
        """`name`, or name_1, name_2, ... if taken (layer names and module paths are kept apart)."""
        candidate, number = name, 0
        while candidate in self.names or (candidate != name and candidate in self.modules):
            number += 1
            candidate = f"{name}_{number}"
        self.names.add(candidate)
        return candidate

    def call_name(self, node: Any, base: str | None = None) -> tuple[str, tuple[Scope, ...]]:
        """A functional call's name: the enclosing module's path plus the call's own name, numbered within it."""
        place = self.place(node, own_module=False)
        if base is None and self.single_call(place.enclosing) and place.enclosing not in self.names:
            self.names.add(place.enclosing)  # torchvision's Permute module: its one call is the module
            return place.enclosing, place.scopes[:-1]
        base = base or re.sub(r"_\d+$", "", node.name)
        full = f"{place.enclosing}.{base}" if place.enclosing else base
        if full in self.modules and full not in self.names:  # a module of that name exists: keep its name free
            full = f"{full}_call"
        return self.unique(full), place.scopes

    def single_call(self, path: str) -> bool:
        """Whether the module at `path` holds no tensors and its forward is one call (torchvision's Permute)."""
        if not path:
            return False
        if not hasattr(self, "_calls_in"):
            self._calls_in: dict[str, int] = {}
            for node in self.graph_module.graph.nodes:
                stack = list((node.meta.get("nn_module_stack") or {}).values())
                if node.op in ("call_function", "call_method", "call_module", "get_attr"):
                    for scope_path, _ in stack:
                        self._calls_in[scope_path] = self._calls_in.get(scope_path, 0) + 1
        module = self.modules.get(path)
        if module is None or next(iter(module.parameters()), None) is not None:
            return False
        return self._calls_in.get(path, 0) == 1 and next(iter(module.buffers()), None) is None

    def emit(self, name: str, kind: str, arguments: dict[str, Any], inputs: list[Any], scopes: tuple) -> str:
        names = []
        for value in inputs:
            if not isinstance(value, str):
                raise Skip(f"{kind} of a {_describe(value)}")
            names.append(value)
        self.out.append(ImportedLayer(name, kind, _without_defaults(kind, arguments), names, scopes))
        return name

    def functional(self, node: Any, kind: str, arguments: dict[str, Any], inputs: list[Any]) -> str:
        name, scopes = self.call_name(node)
        return self.emit(name, kind, arguments, inputs, scopes)

    # -- argument access --------------------------------------------------------------------------------------
    def arg(self, value: Any) -> Any:
        """A node argument as this mapper sees it: layer names, Const, Param, ...; lists element-wise."""
        if isinstance(value, torch.fx.Node):
            return self.values[value]
        if isinstance(value, (list, tuple)):
            return type(value)(self.arg(item) for item in value)
        return value

    def const(self, value: Any) -> Any:
        """A plain Python value (ints, strings, lists of them), constants computed from shapes resolved."""
        if isinstance(value, torch.fx.Node):
            seen = self.values[value]
            if isinstance(seen, Const):
                return _plain(seen.value)
            raise Skip("a tensor used where a constant is expected")
        if isinstance(value, (list, tuple)):
            return [self.const(item) for item in value]
        return _plain(value)

    def params(self, node: Any, signature: tuple[str, ...]) -> dict[str, Any]:
        """The call's positional and keyword arguments by name, after the input (signature's first name)."""
        values = dict(zip(signature, node.args, strict=False))
        values.update(node.kwargs)
        return values

    def shape(self, node: Any) -> tuple[int, ...]:
        result = self.results[node]
        return tuple(result.shape)

    # -- modules ----------------------------------------------------------------------------------------------
    def call_module(self, node: Any) -> Any:
        module = self.modules[node.target]
        path = str(node.target)
        self.reached_modules.append(module)
        calls = self.module_calls.get(path, 0)
        self.module_calls[path] = calls + 1
        name = self.unique(path if calls == 0 else f"{path}_{calls}")
        scopes = self.place(node, own_module=True).scopes
        cls = type(module).__name__
        inputs = [self.arg(a) for a in node.args]
        if cls == "MultiheadAttention":
            return Outputs(self.attention(node, module, name, scopes), node)
        kind_cls = module_kind(module)
        if kind_cls is None:
            raise Skip(f"{cls} (module)")
        if len(inputs) != 1 and kind_cls.max_inputs is not None and len(inputs) > kind_cls.max_inputs:
            raise Skip(f"{cls} called with {len(inputs)} arguments")
        return self.emit(name, kind_cls.kind, module_layer_arguments(module, kind_cls), inputs, scopes)

    def attention(self, node: Any, module: Any, name: str, scopes: tuple) -> str:
        if not module.batch_first:
            raise Skip("MultiheadAttention with batch_first=False (cnncalc's batch axis comes first)")
        values = self.params(node, ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask"))
        if values.get("key_padding_mask") is not None or values.get("attn_mask") is not None:
            raise Skip("MultiheadAttention with a mask")
        inputs = [self.arg(values[k]) for k in ("query", "key", "value")]
        if inputs[0] == inputs[1] == inputs[2]:
            inputs = inputs[:1]
        arguments = module_arguments(module, REGISTRY["multiheadattention"])
        arguments["bias"] = module.in_proj_bias is not None
        arguments["add_bias_kv"] = module.bias_k is not None
        return self.emit(name, "MultiheadAttention", arguments, inputs, scopes)

    # -- what the nodes reached (unreached parameters are reported) -------------------------------------------
    def reached_tensors(self) -> set[int]:
        reached = {id(t) for module in self.reached_modules for t in module.parameters()}
        reached |= {id(t) for t in self.reached_params if isinstance(t, torch.Tensor)}
        reached |= {id(t) for m in self.reached_params if isinstance(m, torch.nn.Module) for t in m.parameters()}
        return reached


def module_kind(module: Any) -> Any:
    """The cnncalc kind (a Layer class) a leaf module maps to, or None: torch.nn's own classes (and torchvision's
    StochasticDepth) whose class name is a kind's (ZeroPad2d is ConstantPad2d)."""
    cls = type(module).__name__
    kind_cls = REGISTRY.get(_ALIASES.get(cls, cls).lower())
    if kind_cls is None or not is_library_module(module):
        return None
    return kind_cls


def module_layer_arguments(module: Any, kind_cls: Any, inferred: bool = False) -> dict[str, Any]:
    """The arguments of the layer a leaf module maps to; `inferred`: with the input sizes it was built for
    (in_channels, num_features, ...), which a kind checks against its input as torch does."""
    arguments = module_arguments(module, kind_cls, inferred)
    if type(module).__name__.startswith("ZeroPad"):
        arguments["value"] = 0.0
    return arguments


def node_handler(node: Any) -> Handler | None:
    """The handler that maps a call_function or call_method node, or None (cnncalc cannot express it)."""
    if node.op == "call_function":
        handler = FUNCTIONS.get(node.target)
        if handler is None and _from_torch(node.target):
            handler = FUNCTIONS_BY_NAME.get(getattr(node.target, "__name__", str(node.target)))
        return handler
    if node.op == "call_method":
        return METHODS.get(node.target)
    return None


def is_library_module(module: Any) -> bool:
    """torch.nn's classes (fx's default leaves) and torchvision's StochasticDepth: modules with a cnncalc kind of
    the same name and the same arguments; a user's subclass is traced through instead."""
    return type(module).__module__.startswith("torch.nn") or type(module) is _stochastic_depth_class()


def _stochastic_depth_class() -> Any:
    import sys

    ops = sys.modules.get("torchvision.ops")  # only where the model itself imported torchvision
    return getattr(ops, "StochasticDepth", None)


def make_tracer(on_meta: bool = False) -> Any:
    """fx's tracer with torchvision's StochasticDepth as a leaf, so it maps to one layer named as its module.
    `on_meta`: fx's MetaTracer, whose proxies carry meta tensors, so that control flow on shapes (`if x.size(1) >
    3`) is followed (its `trace` then takes the input as `meta_args`)."""
    load()
    from torch.fx.experimental.meta_tracer import MetaTracer

    class Tracer(MetaTracer if on_meta else torch.fx.Tracer):  # type: ignore[misc]
        failed_in: str | None = None  # the innermost module whose forward fx could not follow

        def is_leaf_module(self, module: Any, qualified_name: str) -> bool:
            if type(module) is _stochastic_depth_class() and module is not None:
                return True
            return super().is_leaf_module(module, qualified_name)

        def call_module(self, module: Any, forward: Any, args: Any, kwargs: Any) -> Any:
            try:
                return super().call_module(module, forward, args, kwargs)
            except Exception:
                if self.failed_in is None:
                    self.failed_in = f"{self.path_of_module(module)} ({type(module).__name__})"
                raise

    return Tracer()


# torch.nn classes that are another kind with a fixed argument (ZeroPad2d is ConstantPad2d with value 0).
_ALIASES = {f"ZeroPad{dims}d": f"ConstantPad{dims}d" for dims in (1, 2, 3)}


# -- module arguments ---------------------------------------------------------------------------------------------
_PARAMETER_FLAGS = {"bias"}  # Bool arguments PyTorch keeps as a Parameter or None (conv.bias, linear.bias)


def module_arguments(module: Any, kind_cls: Any, inferred: bool = False) -> dict[str, Any]:
    """cnncalc's arguments of `kind_cls` read from the module's attributes of the same names (`inferred`: the
    input sizes too)."""
    arguments: dict[str, Any] = {}
    for arg in kind_cls.arguments:
        if arg.inferred and not inferred or not arg.pytorch or not hasattr(module, arg.name):
            continue
        value = getattr(module, arg.name)
        if arg.name in _PARAMETER_FLAGS and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
            if not value and not _affine(module):
                continue  # BatchNorm(affine=False): no bias because no affine at all
        arguments[arg.name] = _plain(value)
    return arguments


def _affine(module: Any) -> bool:
    return bool(getattr(module, "affine", getattr(module, "elementwise_affine", True)))


def _without_defaults(kind: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments equal to cnncalc's defaults (as parsed: stride 1 = [1, 1]) and inferred sizes left out."""
    kind_cls = REGISTRY[kind.lower()]
    declared = {arg.name: arg for arg in kind_cls.arguments}
    kept: dict[str, Any] = {}
    for name, value in arguments.items():
        arg = declared.get(name)
        if arg is None or name == "index":
            kept[name] = value
            continue
        if arg.inferred or name in _NOT_WRITTEN:
            continue
        value = _compact(arg, value, kind_cls.dims)
        dims = kind_cls.dims
        if arg.default is not REQUIRED and _parsed(arg, value, dims) == _parsed(arg, arg.default, dims):
            continue
        kept[name] = value
    return kept


# In-place evaluation changes no shape, count or value cnncalc reports (torchvision's ReLU(inplace=True)).
_NOT_WRITTEN = {"inplace"}


def _compact(arg: Any, value: Any, dims: int) -> Any:
    """[3, 3] as 3 where the argument reads one int for every axis the same (kernel_size, stride, padding)."""
    if isinstance(value, list) and len(value) > 1 and all(type(v) is int and v == value[0] for v in value):
        if _parsed(arg, value[0], dims) == _parsed(arg, value, dims):
            return value[0]
    return value


def _parsed(arg: Any, value: Any, dims: int) -> Any:
    try:
        return parse_value(arg.type, value, dims)
    except LayerError:
        return ("unparsed", repr(value))  # the spec check reports it with cnncalc's message


def _plain(value: Any) -> Any:
    """torch values as plain YAML values: tuples and torch.Size as lists, 0-d tensors as numbers."""
    if isinstance(value, torch.Size):
        return list(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, torch.Tensor) and value.dim() == 0 and value.device.type != "meta":
        return value.item()
    if isinstance(value, torch.dtype):
        return str(value)
    return value


def _attr(module: Any, target: str) -> Any:
    for part in target.split("."):
        module = getattr(module, part)
    return module


def _has_tensor(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_tensor(item) for item in value)
    return False


def _is_shape(value: Any) -> bool:
    return isinstance(value, torch.Size) or (
        isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, int) for v in value)
    )


def _from_torch(target: Any) -> bool:
    """torch's and torchvision's own functions (a user's function named 'add' is not torch.add)."""
    module = getattr(target, "__module__", None) or ""
    return module.split(".")[0] in ("torch", "torchvision", "_operator", "operator") or module == "builtins"


def _class_name(cls: Any) -> str:
    return cls.__name__ if isinstance(cls, type) else str(cls).rpartition(".")[2]


def _function_name(target: Any) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", str(target))
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module.startswith("torch") or module == "builtins" and hasattr(torch, name):
        return f"torch.{name}"
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def _describe(value: Any) -> str:
    if isinstance(value, Param):
        return "parameter"
    if isinstance(value, Const):
        return "constant"
    return type(value).__name__


# -- functions and methods ----------------------------------------------------------------------------------------
Handler = Callable[[Mapper, Any], Any]


def activation(kind: str, *names: str) -> Handler:
    """F.relu(x), torch.sigmoid(x), x.relu(), F.gelu(x, approximate='tanh'), ...: `names` are the arguments after
    the input that the kind takes, by position and keyword."""

    def handle(mapper: Mapper, node: Any) -> str:
        values = mapper.params(node, ("input", *names))
        arguments = {name: mapper.const(values[name]) for name in names if name in values}
        return mapper.functional(node, kind, arguments, [mapper.arg(values.get("input", node.args[0]))])

    return handle


def softmax(mapper: Mapper, node: Any) -> str:
    values = mapper.params(node, ("input", "dim"))
    if values.get("dtype") is not None:
        raise Skip("softmax with a dtype")
    return mapper.functional(node, "Softmax", {"dim": mapper.const(values.get("dim"))}, [mapper.arg(values["input"])])


def dropout(kind: str) -> Handler:
    def handle(mapper: Mapper, node: Any) -> str:
        values = mapper.params(node, ("input", "p", "training", "inplace"))
        arguments = {"p": mapper.const(values.get("p", 0.5))}
        return mapper.functional(node, kind, arguments, [mapper.arg(values["input"])])

    return handle


def stochastic_depth(mapper: Mapper, node: Any) -> str:
    values = mapper.params(node, ("input", "p", "mode", "training"))
    arguments = {"p": mapper.const(values["p"]), "mode": mapper.const(values["mode"])}
    return mapper.functional(node, "StochasticDepth", arguments, [mapper.arg(values["input"])])


def pool(kind: str, *names: str) -> Handler:
    """F.max_pool2d(x, 3, 2, 1), F.avg_pool2d(x, kernel_size=3, ...), F.adaptive_avg_pool2d(x, 1)."""

    def handle(mapper: Mapper, node: Any) -> str:
        values = mapper.params(node, ("input", *names))
        unknown = set(values) - {"input", *names}
        if unknown:
            raise Skip(f"{_function_name(node.target)}() with {', '.join(sorted(unknown))}")
        arguments = {name: mapper.const(values[name]) for name in names if name in values}
        if arguments.get("stride") in (None, []):
            arguments.pop("stride", None)  # torch: stride None or [] means the kernel size, as cnncalc's default
        return mapper.functional(node, kind, arguments, [mapper.arg(values["input"])])

    return handle


def interpolate(mapper: Mapper, node: Any) -> str:
    """F.interpolate(x, size=..., scale_factor=..., mode=...): Upsample, which takes the same arguments."""
    names = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor")
    values = mapper.params(node, ("input", *names, "antialias"))
    if mapper.const(values.get("antialias", False)):
        raise Skip("F.interpolate with antialias")
    arguments = {name: mapper.const(values[name]) for name in names if name in values}
    return mapper.functional(node, "Upsample", arguments, [mapper.arg(values["input"])])


def pad(mapper: Mapper, node: Any) -> str:
    """F.pad(x, (left, right, top, bottom), mode, value): the Pad kind of that mode and as many axes as padded."""
    values = mapper.params(node, ("input", "pad", "mode", "value"))
    padding = mapper.const(values["pad"])
    mode = mapper.const(values.get("mode", "constant"))
    kinds = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}
    kinds["circular"] = "CircularPad"
    dims = len(padding) // 2
    rank = len(mapper.shape(node.args[0]))
    if mode not in kinds or len(padding) % 2 or dims not in (1, 2, 3) or rank != dims + 2:
        raise Skip(f"F.pad of {len(padding)} values, mode {mode}, on a {rank}-axis tensor")
    arguments: dict[str, Any] = {"padding": padding}
    if mode == "constant":
        value = mapper.const(values.get("value"))
        arguments["value"] = 0.0 if value is None else value
    return mapper.functional(node, f"{kinds[mode]}{dims}d", arguments, [mapper.arg(values["input"])])


def matmul(mapper: Mapper, node: Any) -> str:
    """a @ b, torch.matmul(a, b), torch.bmm(a, b) of two layers' outputs: MatMul."""
    left, right = mapper.arg(node.args[0]), mapper.arg(node.args[1])
    if not (isinstance(left, str) and isinstance(right, str)):
        raise Skip("a matrix product with a parameter or constant")
    return mapper.functional(node, "MatMul", {}, [left, right])


def flatten(mapper: Mapper, node: Any) -> str:
    values = mapper.params(node, ("input", "start_dim", "end_dim"))
    start = mapper.const(values.get("start_dim", 0))
    end = mapper.const(values.get("end_dim", -1))
    if start == 0 or start == -len(mapper.shape(node.args[0])):
        raise Skip("flatten across the batch axis (start_dim=0)")
    return mapper.functional(node, "Flatten", {"start_dim": start, "end_dim": end}, [mapper.arg(values["input"])])


def mean(mapper: Mapper, node: Any) -> str:
    """x.mean([2, 3]) over every spatial axis: a global average pool (AdaptiveAvgPool with output_size 1, the same
    sums and divides), and a flatten unless keepdim."""
    values = mapper.params(node, ("input", "dim", "keepdim"))
    rank = len(mapper.shape(node.args[0]))
    dims = mapper.const(values.get("dim"))
    dims = [dims] if isinstance(dims, int) else dims
    if values.get("dtype") is not None or not dims or not 3 <= rank <= 5:
        raise Skip("mean() other than over every spatial axis")
    if sorted(d % rank for d in dims) != list(range(2, rank)):
        raise Skip("mean() other than over every spatial axis")
    source = mapper.arg(values["input"])
    pooled = mapper.functional(node, f"AdaptiveAvgPool{rank - 2}d", {"output_size": 1}, [source])
    if mapper.const(values.get("keepdim", False)):
        return pooled
    name, scopes = mapper.call_name(node, base=re.sub(r"_\d+$", "", node.name) + "_flatten")
    return mapper.emit(name, "Flatten", {}, [pooled], scopes)


def cat(mapper: Mapper, node: Any) -> str:
    values = mapper.params(node, ("tensors", "dim"))
    dim = mapper.const(values.get("dim", 0))
    if dim == 0 or dim == -len(mapper.shape(node)):
        raise Skip("torch.cat along the batch axis")
    inputs = list(mapper.arg(values["tensors"]))
    if len(inputs) == 1:
        return inputs[0]  # DenseNet's first layer: torch.cat([x], 1) is x
    return mapper.functional(node, "Concat", {"dim": dim}, inputs)


def binary(kind: str) -> Handler:
    """a + b, torch.add(a, b), a * b, x.mul(s), a += b: two tensors of one shape (Add) or broadcasting (Mul);
    a tensor times a parameter shaped like ConvNeXt's layer_scale (C x 1 x 1, or C on the last axis): LayerScale."""

    def handle(mapper: Mapper, node: Any) -> str:
        values = mapper.params(node, ("input", "other"))
        if values.get("alpha", 1) != 1 or values.get("out") is not None:
            raise Skip(f"{_function_name(node.target)}() with alpha or out")
        left, right = mapper.arg(values["input"]), mapper.arg(values["other"])
        if kind == "Mul" and isinstance(left, Param) != isinstance(right, Param):
            return layer_scale(mapper, node, left, right)
        if not (isinstance(left, str) and isinstance(right, str)):
            operand = right if isinstance(left, str) else left
            word = "adding" if kind == "Add" else "multiplying by"
            raise Skip(f"{word} a {_operand_word(operand)} ({_function_name(node.target)})")
        if kind == "Add" and mapper.shape(node.args[0]) != mapper.shape(node.args[1]):
            raise Skip("adding tensors of different shapes (broadcasting)")
        return mapper.functional(node, kind, {}, [left, right])

    return handle


def _operand_word(value: Any) -> str:
    if isinstance(value, Param):
        return "parameter"
    return "constant"


def layer_scale(mapper: Mapper, node: Any, left: Any, right: Any) -> str:
    param, tensor = (left, right) if isinstance(left, Param) else (right, left)
    out = mapper.shape(node)
    shape = tuple(param.tensor.shape)
    rank = len(out)
    if len(shape) == rank - 1 and shape[1:] == (1,) * (rank - 2) and shape[0] == out[1]:
        dim = 1
    elif len(shape) == 1 and shape[0] == out[-1]:
        dim = -1
    else:
        raise Skip(f"multiplying by a parameter of shape {list(shape)} (cnncalc's LayerScale is C x 1 x 1 or C)")
    name = mapper.unique(param.path)
    scopes = tuple(s for s in mapper.place(node, own_module=False).scopes)
    return mapper.emit(name, "LayerScale", {"dim": dim}, [tensor], scopes)


def pieces(kind: str) -> Handler:
    """x.chunk(2, dim=1), torch.split(x, [a, b], 1): the pieces come with getitem, one layer each."""

    def handle(mapper: Mapper, node: Any) -> Pieces:
        if kind == "Chunk":
            values = mapper.params(node, ("input", "chunks", "dim"))
            arguments = {"chunks": mapper.const(values["chunks"])}
        else:
            values = mapper.params(node, ("input", "split_size_or_sections", "dim"))
            size = values.get("split_size_or_sections", values.get("split_size"))
            arguments = {"split_size_or_sections": mapper.const(size)}
        dim = mapper.const(values.get("dim", 0))
        if dim == 0 or dim == -len(mapper.shape(node.args[0])):
            raise Skip(f"{kind.lower()} along the batch axis")
        arguments["dim"] = dim
        source = mapper.arg(values["input"])
        if not isinstance(source, str):
            raise Skip(f"{kind.lower()} of a {_describe(source)}")
        return Pieces(kind, arguments, source, node)

    return handle


def getitem(mapper: Mapper, node: Any) -> Any:
    container, index = mapper.arg(node.args[0]), node.args[1]
    if isinstance(container, Pieces):
        if not isinstance(index, int):
            raise Skip(f"{container.kind.lower()} pieces taken by a slice")
        count = len(mapper.results[container.node])
        arguments = {**container.arguments, "index": index % count}
        name, scopes = mapper.call_name(container.node)
        return mapper.emit(name, container.kind, arguments, [container.input], scopes)
    if isinstance(container, Outputs):
        if index == 0:
            return container.first
        raise Skip("the attention weights of MultiheadAttention")
    raise Skip("indexing or slicing a tensor (x[...])")


def permute(mapper: Mapper, node: Any) -> str:
    dims = _varargs(mapper, node, "dims")
    return mapper.functional(node, "Permute", {"dims": dims}, [mapper.arg(node.args[0])])


def transpose(mapper: Mapper, node: Any) -> str:
    values = mapper.params(node, ("input", "dim0", "dim1"))
    arguments = {"dim0": mapper.const(values["dim0"]), "dim1": mapper.const(values["dim1"])}
    return mapper.functional(node, "Transpose", arguments, [mapper.arg(values["input"])])


def reshape(kind: str) -> Handler:
    """x.view(x.size(0), -1), torch.reshape(x, (n, c, -1)): the per-sample shape the trace computed, as long as the
    batch axis stays first and whole."""

    def handle(mapper: Mapper, node: Any) -> str:
        out = mapper.shape(node)
        if not out or out[0] != 1:
            raise Skip(f"{kind.lower()} that moves the batch axis")
        _varargs(mapper, node, "shape")  # resolves x.size(0) // 2 and the like, or says what it cannot
        return mapper.functional(node, kind, {"shape": list(out[1:])}, [mapper.arg(node.args[0])])

    return handle


def passthrough(mapper: Mapper, node: Any) -> Any:
    """x.contiguous(), F.dropout in eval... that change nothing cnncalc counts: the input itself."""
    return mapper.arg(node.args[0])


def layer_norm(mapper: Mapper, node: Any) -> str:
    """F.layer_norm(x, shape, self.weight, self.bias, eps) in a module (torchvision's LayerNorm2d): a LayerNorm
    named after that module, so its weights keep their state_dict keys."""
    values = mapper.params(node, ("input", "normalized_shape", "weight", "bias", "eps"))
    weight, bias = mapper.arg(values.get("weight")), mapper.arg(values.get("bias"))
    arguments = {"normalized_shape": mapper.const(values["normalized_shape"])}
    arguments["eps"] = mapper.const(values.get("eps", 1e-5))
    arguments["elementwise_affine"] = weight is not None
    if weight is not None:
        arguments["bias"] = bias is not None
    owners = {p.path.rpartition(".")[0] for p in (weight, bias) if isinstance(p, Param)}
    if any(p is not None and not isinstance(p, Param) for p in (weight, bias)):
        raise Skip("F.layer_norm with computed weights")
    if len(owners) == 1 and all(
        p is None or p.path.rpartition(".")[2] == n for p, n in ((weight, "weight"), (bias, "bias"))
    ):
        owner = owners.pop()
        name = mapper.unique(owner) if owner else mapper.call_name(node)[0]
        scopes = tuple(s for s in mapper.place(node, own_module=False).scopes if s.path != owner)
        scopes = tuple(s for s in scopes if not owner or not s.path.startswith(owner + "."))
        return mapper.emit(name, "LayerNorm", arguments, [mapper.arg(values["input"])], scopes)
    if owners:
        raise Skip("F.layer_norm with weights not named weight and bias of one module")
    return mapper.functional(node, "LayerNorm", arguments, [mapper.arg(values["input"])])


def _varargs(mapper: Mapper, node: Any, name: str) -> list[Any]:
    """x.permute(0, 2, 3, 1) or x.permute([0, 2, 3, 1]) or torch.permute(x, dims=...): the list."""
    rest = list(node.args[1:])
    if name in node.kwargs:
        rest = [node.kwargs[name]]
    if len(rest) == 1 and isinstance(rest[0], (list, tuple, torch.fx.Node)):
        value = mapper.const(rest[0])
        return list(value) if isinstance(value, (list, tuple)) else [value]
    return [mapper.const(item) for item in rest]


_ACTIVATIONS: dict[str, Handler] = {
    "relu": activation("ReLU"),
    "relu_": activation("ReLU"),
    "relu6": activation("ReLU6"),
    "sigmoid": activation("Sigmoid"),
    "sigmoid_": activation("Sigmoid"),
    "tanh": activation("Tanh"),
    "hardswish": activation("Hardswish"),
    "hardsigmoid": activation("Hardsigmoid"),
    "silu": activation("SiLU"),
    "gelu": activation("GELU", "approximate"),
    "elu": activation("ELU", "alpha"),
    "leaky_relu": activation("LeakyReLU", "negative_slope"),
    "hardtanh": activation("Hardtanh", "min_val", "max_val"),
    "softmax": softmax,
}

FUNCTIONS_BY_NAME: dict[str, Handler] = {
    **_ACTIVATIONS,
    "dropout": dropout("Dropout"),
    "dropout1d": dropout("Dropout1d"),
    "dropout2d": dropout("Dropout2d"),
    "dropout3d": dropout("Dropout3d"),
    "stochastic_depth": stochastic_depth,
    "flatten": flatten,
    "interpolate": interpolate,
    "pad": pad,
    "matmul": matmul,
    "bmm": matmul,
    "mean": mean,
    "cat": cat,
    "concat": cat,
    "add": binary("Add"),
    "iadd": binary("Add"),
    "mul": binary("Mul"),
    "imul": binary("Mul"),
    "chunk": pieces("Chunk"),
    "split": pieces("Split"),
    "getitem": getitem,
    "permute": permute,
    "transpose": transpose,
    "swapaxes": transpose,
    "reshape": reshape("Reshape"),
    "layer_norm": layer_norm,
    "channel_shuffle": activation("ChannelShuffle", "groups"),
}
for _dims in (1, 2, 3):
    FUNCTIONS_BY_NAME[f"max_pool{_dims}d"] = pool(
        f"MaxPool{_dims}d", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"
    )
    FUNCTIONS_BY_NAME[f"avg_pool{_dims}d"] = pool(
        f"AvgPool{_dims}d",
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        *(("divisor_override",) if _dims > 1 else ()),
    )
    FUNCTIONS_BY_NAME[f"adaptive_avg_pool{_dims}d"] = pool(f"AdaptiveAvgPool{_dims}d", "output_size")
    FUNCTIONS_BY_NAME[f"adaptive_max_pool{_dims}d"] = pool(f"AdaptiveMaxPool{_dims}d", "output_size", "return_indices")

# Targets matched by identity first (names alone are ambiguous across modules): filled by load().
FUNCTIONS: dict[Any, Handler] = {}
torch: Any = None  # the torch module, once load() has imported it


def load() -> None:
    """Import torch (or say what to install) and fill the tables that hold its functions."""
    global torch
    if torch is not None:
        return
    torch = require("torch")
    functional = torch.nn.functional
    FUNCTIONS.update(
        {
            operator.add: binary("Add"),
            operator.iadd: binary("Add"),
            operator.mul: binary("Mul"),
            operator.imul: binary("Mul"),
            operator.getitem: getitem,
            operator.matmul: matmul,
            functional.dropout: dropout("Dropout"),
            functional.layer_norm: layer_norm,
        }
    )


METHODS: dict[str, Handler] = {
    **_ACTIVATIONS,
    "matmul": matmul,
    "bmm": matmul,
    "flatten": flatten,
    "mean": mean,
    "add": binary("Add"),
    "add_": binary("Add"),
    "mul": binary("Mul"),
    "mul_": binary("Mul"),
    "chunk": pieces("Chunk"),
    "split": pieces("Split"),
    "permute": permute,
    "transpose": transpose,
    "swapaxes": transpose,
    "reshape": reshape("Reshape"),
    "view": reshape("View"),
    "contiguous": passthrough,
}
