"""Output shapes from cnncalc's own layer kinds, for `cnncalc import`'s shape propagation (from_torch.propagate).

Running torch.nn modules and most functions on meta tensors runs torch's Python meta functions and
decompositions: a convolution's `torch._check` imports sympy, `x + y` and batch_norm's decompositions import
torch._dynamo, about a second of CPU in a cold `cnncalc import`, as much as importing torch. The import maps those
nodes to cnncalc layers anyway, and the kinds' shape rules are PyTorch's (tests/test_torch_*.py hold them to it),
so here a node's output is a meta tensor of the shape the layers it maps to give:

- a leaf module with a kind (Conv2d, BatchNorm2d, ReLU, ...): that kind, given every argument the module was built
  with, the sizes it expects included (in_channels, num_features), which the kind checks against its input as
  torch does;
- a function or method the mapper maps (F.relu, +, torch.cat, x.mean([2, 3]), ...): the mapper's own handler, run
  on this Mapper, whose `emit` computes the layers' shapes instead of keeping them.

torch runs the node instead (as before, and decides with its own message) wherever this is not plainly the same:
no kind or handler, a kind that refuses the input (cnncalc is stricter in places: InstanceNorm's num_features,
which torch only warns about), hooks or a forward of the module's own, outputs other than one tensor, parameters as
operands, inputs that are not contiguous floating-point meta tensors of one rank and one leading size, and views
(permute, transpose, chunk, view: cheap on torch, and their strides matter to later views).
"""

from __future__ import annotations

import operator
from typing import Any

from cnncalc.bridges import torch_ops
from cnncalc.bridges.torch_ops import (
    Const,
    Mapper,
    Param,
    Skip,
    _has_tensor,
    _is_shape,
    _without_defaults,
    load,
    module_kind,
    module_layer_arguments,
    node_handler,
)
from cnncalc.layers.registry import REGISTRY

Shape = tuple[int, ...]

# Modules whose torch forward returns something other than one tensor (the mapper reads their outputs itself).
_TUPLE_RESULTS = {"MultiheadAttention"}
# Kinds whose torch result is a view with strides of its own: torch computes them (cheaply, in C++).
_VIEWS = {"Permute", "Transpose", "Chunk", "Split", "Reshape", "View"}
# Functions that write into their first operand: the result is that tensor, and must keep its shape.
_IN_PLACE = {operator.iadd, operator.imul}


def leaf_output(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any | None:
    """The meta tensor `module(*args, **kwargs)` returns, from the module's cnncalc kind; None where torch must
    run it."""
    if kwargs or len(args) != 1 or not _plain_tensors(args) or not _plain_forward(module, args[0].dtype):
        return None
    kind_cls = module_kind(module)
    if kind_cls is None:
        return None
    value = args[0]
    try:
        layer = kind_cls(module_layer_arguments(module, kind_cls, inferred=True), (tuple(value.shape[1:]),))
    except Exception:  # noqa: BLE001 - cnncalc's kind refuses it: torch decides, and words the error
        return None
    return _meta(value, layer.out_shape)


def _plain_forward(module: Any, dtype: Any) -> bool:
    """Whether calling `module` runs its class's own forward and nothing else (no hooks, one tensor out), on
    weights of the input's dtype (torch refuses a float32 input to a float64 convolution)."""
    if type(module).__name__ in _TUPLE_RESULTS or getattr(module, "return_indices", False):
        return False
    tensors = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
    if any(t.is_floating_point() and t.dtype != dtype for t in tensors):
        return False
    if "forward" in vars(module) or module._forward_hooks or module._forward_pre_hooks:
        return False
    hooks = torch_ops.torch.nn.modules.module
    return not (hooks._global_forward_hooks or hooks._global_forward_pre_hooks)


def _plain_tensors(values: Any) -> bool:
    """Contiguous floating-point meta tensors of one rank (at least 1) and one leading (batch) size, at least one:
    where a kind's per-sample rule with that leading size in front is torch's result, layout included."""
    torch = torch_ops.torch
    tensors = [value for value in values if isinstance(value, torch.Tensor)]
    if not tensors or len({(t.dim(), t.shape[0] if t.dim() else None, t.dtype) for t in tensors}) != 1:
        return False
    first = tensors[0]
    return first.dim() >= 1 and all(
        t.device.type == "meta" and t.is_floating_point() and t.is_contiguous() for t in tensors
    )


def _meta(like: Any, sample_shape: Shape) -> Any:
    torch = torch_ops.torch
    return torch.empty((like.shape[0], *sample_shape), dtype=like.dtype, device="meta")


class KindShapes(Mapper):
    """A Mapper that keeps no layers: given a call_function or call_method node before torch runs it, its handler
    maps the node as the import will, and `emit` computes each layer's output shape with its kind."""

    def __post_init__(self) -> None:
        load()
        self.values: dict[Any, Any] = {}
        self.tensors: dict[str, Any] = {}  # a node's name (what the handlers read as a layer name) -> its tensor
        self.emitted: dict[str, Shape] = {}  # the layers emitted for the node at hand -> per-sample shape

    def record(self, node: Any, result: Any) -> None:
        """What the handlers read for a node once it has a value, as Mapper.visit classifies it."""
        torch = torch_ops.torch
        if node.op == "get_attr":
            self.values[node] = Param(node.target, result)
        elif isinstance(result, torch.Tensor):
            self.values[node] = node.name
            self.tensors[node.name] = result
        elif not _has_tensor(result) and not isinstance(result, (tuple, list)) or _is_shape(result):
            self.values[node] = Const(result)
        else:
            self.values[node] = f"<{node.name}>"  # tuples of tensors: nothing here reads them (lookups fail)

    def output(self, node: Any) -> Any | None:
        """The node's value from the layers it maps to, or None where torch must run it."""
        handler = node_handler(node)
        if handler is None:
            return None
        operands = [self.values[source] for source in node.all_input_nodes]
        if any(isinstance(value, Param) for value in operands):
            return None
        tensors = [self.tensors[value] for value in operands if isinstance(value, str) and value in self.tensors]
        if len(tensors) != sum(isinstance(value, str) for value in operands) or not _plain_tensors(tensors):
            return None
        self.emitted = {}
        try:
            token = handler(self, node)
        except Exception:  # noqa: BLE001 - Skip, a kind refusing it, a handler reading the node's own value
            return None
        if not isinstance(token, str):
            return None  # chunk's pieces, constants: not one tensor
        if token in self.tensors:
            return self.tensors[token]  # cat([x]), x.contiguous(): the operand itself
        shape = self.emitted[token]
        first = tensors[0]
        if node.target in _IN_PLACE or getattr(node.target, "__name__", str(node.target)).endswith("_"):
            return first if shape == tuple(first.shape[1:]) else None
        return _meta(first, shape)

    # -- the Mapper's emitting, keeping shapes only -----------------------------------------------------------
    def emit(self, name: str, kind: str, arguments: dict[str, Any], inputs: list[Any], scopes: tuple) -> str:
        if kind in _VIEWS:
            raise Skip(kind)
        shapes = tuple(self.sample_shape(value) for value in inputs)
        if kind == "MatMul" and any(len(shape) < 2 for shape in shapes):
            raise Skip("a matrix product of vectors")  # per-sample vectors: torch's rule is not the batched one
        layer = REGISTRY[kind.lower()](_without_defaults(kind, arguments), shapes)
        self.emitted[name] = layer.out_shape
        return name

    def sample_shape(self, value: Any) -> Shape:
        if not isinstance(value, str):
            raise Skip("an operand that is not a layer's output")
        if value in self.emitted:
            return self.emitted[value]
        return tuple(self.tensors[value].shape[1:])

    def functional(self, node: Any, kind: str, arguments: dict[str, Any], inputs: list[Any]) -> str:
        return self.emit(self.call_name(node)[0], kind, arguments, inputs, ())

    def call_name(self, node: Any, base: str | None = None) -> tuple[str, tuple]:
        return self.unique(f"{node.name}.{base or 'out'}"), ()

    def unique(self, name: str) -> str:
        candidate, number = f"<{name}>", 0
        while candidate in self.emitted:
            number += 1
            candidate = f"<{name}_{number}>"
        return candidate
