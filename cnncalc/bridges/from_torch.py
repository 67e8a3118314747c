"""PyTorch in: an `nn.Module` traced with torch.fx -> ImportedNetwork (cnncalc.bridges.network).

The module is traced symbolically (torch.fx.symbolic_trace; torch.export where fx cannot follow data-dependent
control flow), then run once on meta or fake tensors of one sample (batch 1), so that every node's shape and every
integer it computes (`x.size(0)`, `c // 2`) are known without computing a single value. Each node then maps to a
cnncalc layer (cnncalc.bridges.torch_ops): leaf modules by their class and attributes, functional calls by their
arguments and shapes. Anything that has no cnncalc kind is collected, once per operation with every place it
occurs, and raised as `Unsupported`: nothing is dropped silently.

torch is imported only inside these functions (through `require`): the core stays framework-free.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from cnncalc.bridges import Unsupported, require
from cnncalc.bridges.network import ImportedNetwork
from cnncalc.errors import UsageError


def import_callable(
    source: str, arguments: dict[str, Any], input_shape: tuple[int, ...]
) -> tuple[ImportedNetwork, tuple[int, ...]]:
    """`package.module:callable` called with `arguments`, its module traced at `input_shape` (one sample); with the
    traced output shape of one sample."""
    require("torch")
    model = build_model(source, arguments)
    name = source.rpartition(":")[2].rpartition(".")[2]
    return import_module(model, input_shape, source=source, name=name)


def build_model(source: str, arguments: dict[str, Any]) -> Any:
    """Import `package.module:callable`, call it with `arguments` and return the nn.Module, in eval mode."""
    torch = require("torch")
    target = load_callable(source)
    try:
        model = target(**arguments)
    except TypeError as error:  # a keyword it does not take, a missing argument
        raise UsageError(f"{source}: {error}", hint="pass its arguments with --arg NAME=VALUE") from None
    except Exception as error:  # noqa: BLE001 - the builder's own error (a width it refuses, a missing file)
        raise UsageError(f"calling {source} failed: {_first_line(error)}") from None
    if not isinstance(model, torch.nn.Module):
        raise UsageError(
            f"{source} returned {type(model).__name__}, not a torch.nn.Module",
            hint="SOURCE names a function or class that builds the model, e.g. torchvision.models:resnet50",
        )
    return model.eval()


def load_callable(source: str) -> Any:
    """The object `package.module:callable` names (a dotted path after ':' reaches into classes or modules)."""
    module_name, sep, attribute = source.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(
            f"expected SOURCE as package.module:callable or a file.onnx, got {source!r}",
            hint="for example torchvision.models:resnet50",
        )
    # The current directory first, as `python -m` has it: the `cnncalc` script's own path starts at its bin
    # directory, where a user's model.py next to them would not be found.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or module_name
        raise UsageError(
            f"{source}: no module named {missing!r}",
            hint=_module_hint(missing) or "is the package installed, or its directory on PYTHONPATH?",
        ) from None
    except Exception as error:  # noqa: BLE001 - the module's own code failed while importing
        raise UsageError(f"{source}: importing {module_name} failed: {_first_line(error)}") from None
    target: Any = module
    reached = module_name
    for part in attribute.split("."):
        if not hasattr(target, part):
            from cnncalc.args import did_you_mean

            names = [name for name in dir(target) if not name.startswith("_")]
            raise UsageError(
                f"{source}: {reached} has no attribute {part!r}",
                hint=did_you_mean(part, names) or f"see dir({reached})",
            )
        target = getattr(target, part)
        reached = f"{reached}.{part}"
    if not callable(target):
        raise UsageError(f"{source} is a {type(target).__name__}, not a function or class that builds a model")
    return target


def _module_hint(missing: str) -> str | None:
    """did-you-mean among the modules beside the missing one (torchvision.model -> torchvision.models)."""
    parent, _, last = missing.rpartition(".")
    if not parent:
        return None
    try:
        package = importlib.import_module(parent)
    except ImportError:
        return None
    import pkgutil

    from cnncalc.args import did_you_mean

    names = [info.name for info in pkgutil.iter_modules(getattr(package, "__path__", []))]
    names += [name for name in dir(package) if not name.startswith("_")]
    hint = did_you_mean(last, sorted(set(names)))
    return hint


def import_module(
    model: Any, input_shape: tuple[int, ...], source: str = "", name: str | None = None
) -> tuple[ImportedNetwork, tuple[int, ...]]:
    """An nn.Module (put in eval mode) as an ImportedNetwork: traced, its shapes propagated at one sample of
    `input_shape`, every node mapped to cnncalc layers; with the traced output shape of one sample. Raises
    Unsupported listing what cannot be expressed."""
    require("torch")
    from cnncalc.bridges.torch_ops import Mapper

    model.eval()
    source = source or type(model).__name__
    name = name or type(model).__name__.lower()
    model = _wrapped_if_leaf(model)
    graph_module = trace(model, source, tuple(input_shape))
    results = propagate(graph_module, input_shape, source)
    mapper = Mapper(model, graph_module, results)
    network = ImportedNetwork(
        name=name,
        source=source,
        input_shape=tuple(input_shape),
        layers=[],
        output="",
    )
    network.layers, network.output = mapper.layers()
    if mapper.unsupported:
        raise Unsupported(network.source, mapper.unsupported)
    network.notes = unreached_notes(model, mapper)
    return network, output_shape(graph_module, results)


def output_shape(graph_module: Any, results: dict[Any, Any]) -> tuple[int, ...]:
    torch = require("torch")
    output = next(node for node in graph_module.graph.nodes if node.op == "output")
    value = results.get(output)
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        value = value[0]
    return tuple(value.shape[1:]) if isinstance(value, torch.Tensor) else ()


def _wrapped_if_leaf(model: Any) -> Any:
    """A bare torch.nn layer (torch.nn:Conv2d) in a module holding it as `conv2d`: fx traces the root's own
    forward, and a layer needs a name (its state_dict keys, weight and bias, get that prefix)."""
    torch = require("torch")
    from cnncalc.bridges.torch_ops import is_library_module

    if not is_library_module(model) or isinstance(model, torch.nn.Sequential):
        return model

    class Layer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module(type(model).__name__.lower(), model)

        def forward(self, x: Any) -> Any:
            return getattr(self, type(model).__name__.lower())(x)

    return Layer()


def trace(model: Any, source: str, input_shape: tuple[int, ...]) -> Any:
    """torch.fx's symbolic trace of `model`; where plain fx cannot follow the code (control flow on shapes), fx's
    MetaTracer, which traces with meta tensors of `input_shape`; where neither can, a clear error."""
    torch = require("torch")
    from cnncalc.bridges.torch_ops import make_tracer

    tracer = make_tracer()
    try:
        graph = tracer.trace(model)
    except Exception:  # noqa: BLE001 - fx raises TraceError, TypeError, NotImplementedError, ...
        tracer = make_tracer(on_meta=True)
        try:
            import inspect

            first = next(iter(inspect.signature(model.forward).parameters))
            graph = tracer.trace(_on_meta(model), meta_args={first: torch.empty(1, *input_shape, device="meta")})
        except Exception as error:  # noqa: BLE001
            where = f" in {tracer.failed_in}" if tracer.failed_in else ""
            raise UsageError(
                f"{source}: torch.fx cannot trace the model{where}: {_first_line(error)}",
                hint="fx follows control flow on sizes, not on tensor values (if x.sum() > 0)",
            ) from None
    return torch.fx.GraphModule(model, graph, type(model).__name__)


def _on_meta(model: Any) -> Any:
    """A copy of `model` on the meta device for MetaTracer (whose leaf modules run on its meta tensors): the graph
    it records names modules by path, so it applies to `model` itself."""
    import copy

    try:
        return copy.deepcopy(model).to("meta")
    except Exception:  # noqa: BLE001 - a module that cannot be copied: trace the model itself
        return model


def propagate(
    graph_module: Any, input_shape: tuple[int, ...], source: str, shapes_from_kinds: bool = True
) -> dict[Any, Any]:
    """Every node's value for one sample of `input_shape`, computed on meta tensors: the model's weights are
    swapped for meta tensors of their shapes for the run (torch.func.functional_call), so tensors carry only
    shapes, integers computed from shapes (`x.size(0) // 2`) are exact, and no value is computed. Leaf modules
    with a cnncalc kind give the meta tensor of their kind's output shape (cnncalc.bridges.kind_shapes), unless
    `shapes_from_kinds` is False (every node then runs on torch: the tests compare the two)."""
    torch = require("torch")
    from cnncalc.bridges.kind_shapes import KindShapes, leaf_output

    results: dict[Any, Any] = {}
    kinds = KindShapes(None, graph_module, results) if shapes_from_kinds else None

    class Recorder(torch.fx.Interpreter):
        # Nodes that map to cnncalc layers take their kinds' shapes, not torch's Python meta functions (which
        # import sympy and torch._dynamo: a second of CPU); anything else runs on torch.
        def run_node(self, node: Any) -> Any:
            result = kinds.output(node) if kinds and node.op in ("call_function", "call_method") else None
            if result is None:
                result = super().run_node(node)
            results[node] = result
            if kinds:
                kinds.record(node, result)
            return result

        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            output = leaf_output(self.fetch_attr(target), args, kwargs) if kinds else None
            return super().call_module(target, args, kwargs) if output is None else output

    class Run(torch.nn.Module):  # functional_call swaps a module's tensors: this one runs the recorder
        def __init__(self) -> None:
            super().__init__()
            self.model = graph_module

        def forward(self, x: Any) -> Any:
            return Recorder(self.model).run(x)

    runner = Run()
    # empty_strided, not empty_like: on tensors already on meta, empty_like runs torch's Python reference.
    on_meta = {
        name: torch.empty_strided(tensor.shape, tensor.stride(), dtype=tensor.dtype, device="meta")
        for name, tensor in [*runner.named_parameters(), *runner.named_buffers()]
    }
    try:
        torch.func.functional_call(runner, on_meta, (torch.empty(1, *input_shape, device="meta"),))
    except Exception as error:  # noqa: BLE001 - the model's own error on this input (shapes that do not fit)
        shape = "x".join(map(str, input_shape))
        raise UsageError(
            f"{source} does not run on an input of {shape} (one sample): {_first_line(error)}",
            hint="give the input size the model expects with --input, e.g. --input 3x224x224",
        ) from None
    return results


def unreached_notes(model: Any, mapper: Any) -> list[str]:
    """A note on the parameters the traced graph never reaches (GoogLeNet's auxiliary heads in eval), with their
    count and the outermost modules holding them; the spec leaves them out."""
    reached = mapper.reached_tensors()
    unreached = {
        path: tensor for path, tensor in model.named_parameters() if id(tensor) not in reached and tensor.numel()
    }
    if not unreached:
        return []
    owners = sorted({_outermost_owner(model, path, unreached) for path in unreached})
    count = sum(t.numel() for t in unreached.values())
    places = ", ".join(owners[:8]) + (f" and {len(owners) - 8} more" if len(owners) > 8 else "")
    return [
        f"{count:,} parameters ({len(unreached)} tensors) are never reached by the traced forward in eval mode and "
        f"are left out (figures are of the reachable network): {places}"
    ]


def _outermost_owner(model: Any, path: str, unreached: dict[str, Any]) -> str:
    """The outermost module on `path` all of whose parameters are unreached (aux1 for aux1.conv.weight)."""
    parts = path.split(".")
    for end in range(1, len(parts)):
        prefix = ".".join(parts[:end])
        module = model.get_submodule(prefix)
        names = [f"{prefix}.{name}" for name, _ in module.named_parameters()]
        if names and all(name in unreached for name in names):
            return prefix
    return path


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
