"""An `.onnx` file as an ImportedNetwork, and as spec text wherever a spec is read (`cnncalc summary model.onnx`).

Read with the `onnx` package (imported only here, when a file is read): the graph and the weights' shapes, never
the weights' values except the few small constants that decide a layer (Clip's bounds, Reshape's shape, Pad's
pads, Resize's scales, Split's sizes). Weights in side files (external data) are checked to be there, not read.
Shapes come from onnx's shape inference with the batch axis fixed at 1; shape computations the exporter wrote as
nodes (Shape -> Gather -> Concat -> Reshape) are folded to constants, so what is left are the layers.

Names: torch.onnx.export names nodes by the module path they ran in, one path component per module
("/layer1/layer1.0/conv1/Conv"). A layer takes its module's path ("layer1.0.conv1") where that module ran only
this layer, or where the layer's weights are the module's state_dict entries ("features.0.1.weight"); otherwise
it is a functional call in that module, "<path>.<call>" ("layer1.0.add"), as the PyTorch importer names them.
Other exporters' node names are made valid cnncalc names. Scopes are the module paths around a layer; ONNX does
not keep the modules' classes, so each scope's class is a pseudo-class named after the first module with the same
structure (the same layers, by relative name and kind, wired alike): `Layer1_0` for layer1.0, layer1.1, ...

The operators themselves (ONNX op type -> cnncalc kind and arguments) are in cnncalc.bridges.onnx_ops.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.bridges import Unsupported, require
from cnncalc.bridges.network import NETWORK_INPUT, ImportedLayer, ImportedNetwork, Scope
from cnncalc.bridges.onnx_ops import BLOCKED, OnnxOperators, attribute
from cnncalc.errors import SpecError
from cnncalc.names import is_layer_name, is_word

# Nodes whose inputs are all constants are folded when they are one of these (shape arithmetic, weight aliases).
_FOLDABLE = {
    "Identity", "Cast", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Add", "Sub", "Mul", "Div",
    "Reshape", "Transpose", "ConstantOfShape", "Range", "Sqrt", "Floor", "Ceil", "Neg", "Equal", "Where", "Max",
    "Min", "Expand", "Tile", "ReduceProd", "Abs", "Pow", "Not", "Less", "Greater", "Size",
}  # fmt: skip
# A functional call's name in its module, by cnncalc kind (torch's function names: torch.cat, x.mean, ...).
_CALLS = {
    "Concat": "cat", "Add": "add", "Mul": "mul", "Split": "split", "Slice": "split", "ReduceMean": "mean",
    "GlobalAveragePool": "adaptive_avg_pool", "LayerNormalization": "layer_norm", "BatchNormalization": "batch_norm",
    "MatMul": "linear", "Gemm": "linear",
}  # fmt: skip
_SHARED_SHOWN = 5  # shared initializers named one note each; the rest summed in one
_SMALL = 1024  # initializers up to this many values are kept with their values for shape inference (shapes, scales)


def onnx_spec_text(path: str) -> str:
    """The ONNX file at `path` as spec text (what `read_spec_text` returns for a `.onnx` path). The notes (folded
    BatchNorms, shared initializers) are in its header comments, which a reader drops: they go to stderr too."""
    import sys

    from cnncalc.bridges.writer import write_spec

    network = read_onnx(path)
    for note in network.notes:
        print(f"note: {path}: {note}", file=sys.stderr)
    return write_spec(network)


def read_onnx(path: str) -> ImportedNetwork:
    """The network in the ONNX file at `path` (weights inside it or in side files next to it)."""
    onnx = require("onnx")
    model, left_out = _load(onnx, path)
    return _Importer(onnx, model, path, left_out).network()


# -- loading --------------------------------------------------------------------------------------------------


def _load(onnx: Any, path: str) -> tuple[Any, dict[str, tuple[int, int]]]:
    """The model, the values of its large initializers left out (read only if asked for: cnncalc needs their
    shapes), with where each is in the file (cnncalc.bridges.onnx_file)."""
    from cnncalc.bridges.onnx_file import read_without_large_data

    file = Path(path)
    if not file.exists():
        raise SpecError(f"no such file: {path}")
    if file.is_dir():
        raise SpecError(f"{path} is a directory, not an ONNX file")
    loaded = read_without_large_data(onnx, str(file), _SMALL)
    if loaded is None:
        loaded = _load_whole(onnx, path), {}
    model = loaded[0]
    if model.ir_version <= 0 or not model.graph.node:
        raise SpecError(
            f"{path} is not an ONNX model: it holds no graph nodes"
            + ("" if model.ir_version > 0 else " and no IR version"),
            hint="an .onnx file is written by torch.onnx.export or onnx.save",
        )
    _check_external_data(onnx, model, file)
    return loaded


def _load_whole(onnx: Any, path: str) -> Any:
    try:
        return onnx.load(path, load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends: the bytes are not a ModelProto
        raise SpecError(
            f"{path} is not an ONNX model: it does not parse as one ({type(error).__name__}: {_first_line(error)})",
            hint="an .onnx file is written by torch.onnx.export or onnx.save",
        ) from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no detail"


def _check_external_data(onnx: Any, model: Any, file: Path) -> None:
    """Weights kept in side files must be there (their values are not read: only their shapes count)."""
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    base = file.parent
    for tensor in model.graph.initializer:
        if not uses_external_data(tensor):
            continue
        info = ExternalDataInfo(tensor)
        side = base / info.location
        if os.path.isabs(info.location) or ".." in Path(info.location).parts:
            raise SpecError(f"{file}: the weights of {tensor.name} point outside the model's folder ({info.location})")
        if not side.is_file():
            raise SpecError(
                f"{file}: the weights of {tensor.name} are in a side file {info.location}, which is not next to it",
                hint=f"keep {info.location} in {base or '.'} with the .onnx file",
            )
        need = (info.offset or 0) + (info.length or 0)
        if need and side.stat().st_size < need:
            raise SpecError(f"{file}: the side file {info.location} is shorter than {tensor.name}'s weights need")


# -- the graph --------------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A layer before it is named: its kind, arguments, input tensors, the nodes it stands for, its weights."""

    kind: str
    arguments: dict[str, Any]
    inputs: list[str]
    node: Any
    weights: list[str] = field(default_factory=list)  # the initializers it uses (through aliases)
    weight_inputs: list[str] = field(default_factory=list)  # its weights as the node names them
    suffix: str = ""  # the second layer a node becomes ("pad" before a conv): named as a call in its module
    name: str = ""
    scope_path: tuple[str, ...] = ()


class _Importer(OnnxOperators):
    def __init__(self, onnx: Any, model: Any, path: str, left_out: dict[str, tuple[int, int]] | None = None) -> None:
        self.onnx = onnx
        self.model = model
        self.path = path
        self.left_out = left_out or {}  # initializers whose raw_data was not read: where it is in the file
        self.base = str(Path(path).parent)
        self.graph = model.graph
        self.initializers = {tensor.name: tensor for tensor in self.graph.initializer}
        self.values: dict[str, Any] = {}  # folded constants (numpy arrays)
        self.alias: dict[str, str] = {}  # a constant tensor -> the initializer it is (through Identity nodes)
        self.producer: dict[str, _Pending | str] = {}  # an activation tensor -> its layer, NETWORK_INPUT, BLOCKED
        self.pending: list[_Pending] = []
        self.unsupported: dict[str, list[str]] = {}
        self.done: set[int] = set()  # nodes already taken into a layer (fused patterns)
        self.nodes = list(self.graph.node)  # the same Python objects throughout (protobuf makes new ones per access)
        self.consumers: dict[str, list[Any]] = defaultdict(list)
        for node in self.nodes:
            for name in node.input:
                if name:
                    self.consumers[name].append(node)
        self.index = {id(node): index for index, node in enumerate(self.nodes)}
        self.outputs = {output.name for output in self.graph.output}
        self.opset = next((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), 1)

    # -- entry --

    def network(self) -> ImportedNetwork:
        self.input_name, input_shape = self.read_input()
        self.fold_constants()
        self.producer[self.input_name] = NETWORK_INPUT
        for index, node in enumerate(self.nodes):
            if index in self.done or index in self.folded:
                continue
            self.done.add(index)
            self.read_node(node)
        if self.unsupported:
            raise Unsupported(self.path, self.unsupported)
        output = self.output_layer()
        self.output_last(output)
        layers = _Namer(self.pending).layers()
        notes = self.notes(layers)
        return ImportedNetwork(
            name=_valid_name(Path(self.path).stem) or "network",
            source=self.path,
            input_shape=input_shape,
            layers=layers,
            output=output.name if isinstance(output, _Pending) else NETWORK_INPUT,
            notes=notes,
        )

    def output_last(self, output: _Pending | str) -> None:
        """The output layer goes last, where a spec's output is, when no layer after it reads it (a graph's
        other outputs, such as auxiliary heads, may come after it in node order)."""
        if not isinstance(output, _Pending) or self.pending[-1] is output:
            return
        after = self.pending[self.pending.index(output) + 1 :]
        if any(output in layer.inputs for layer in after):
            raise Unsupported(self.path, {"an output that later layers read": [output.node.name or "?"]})
        self.pending.remove(output)
        self.pending.append(output)

    def read_input(self) -> tuple[str, tuple[int, ...]]:
        inputs = [value for value in self.graph.input if value.name not in self.initializers]
        if not inputs:
            raise SpecError(f"{self.path}: the graph has no input (every graph input is an initializer)")
        if len(inputs) > 1:
            names = ", ".join(value.name for value in inputs)
            raise Unsupported(self.path, {f"a graph with {len(inputs)} inputs ({names})": [inputs[1].name]})
        value = inputs[0]
        dims = value.type.tensor_type.shape.dim
        if len(dims) < 2:
            raise SpecError(
                f"{self.path}: the input {value.name} has {len(dims)} axes; cnncalc needs a batch axis and at least "
                "one more"
            )
        sizes = []
        for axis, dim in enumerate(dims[1:], start=1):
            if not dim.HasField("dim_value") or dim.dim_value <= 0:
                symbol = dim.dim_param or "unknown"
                raise SpecError(
                    f"{self.path}: the input {value.name}'s axis {axis} has no fixed size ({symbol}); cnncalc needs "
                    "the sample's shape",
                    hint="export with a fixed input size (no dynamic_axes on anything but the batch axis)",
                )
            sizes.append(dim.dim_value)
        return value.name, tuple(sizes)

    def fold_constants(self) -> None:
        """Shape inference and constant folding, in turns: a Shape folded to a constant lets inference know the
        Reshape after it, whose shape another Shape may read (the exporter's x.view(x.size(0), -1) chains)."""
        from onnx import numpy_helper

        model = self.inference_model()
        self.folded: set[int] = set()
        for _ in range(16):
            self.shapes = self.infer_shapes(model)
            before = len(self.folded)
            for index, node in enumerate(self.nodes):
                if index not in self.folded and self.foldable(node):
                    self.fold(node)
                    self.folded.add(index)
            if len(self.folded) == before:
                return
            known = {tensor.name for tensor in model.graph.initializer}
            kept = []
            for index, node in enumerate(self.nodes):
                outputs = [self.values.get(name) for name in node.output if name]
                if index in self.folded and all(
                    value is not None and not isinstance(value, _Lazy) for value in outputs
                ):
                    for name in node.output:
                        if name and name not in known:
                            model.graph.initializer.append(numpy_helper.from_array(self.values[name], name))
                    continue
                kept.append(node)
            del model.graph.node[:]
            model.graph.node.extend(kept)

    def foldable(self, node: Any) -> bool:
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant":
            return True
        if node.op_type == "Shape":
            shape = self.shape(inputs[0])
            return shape is not None and None not in shape
        return bool(inputs) and node.op_type in _FOLDABLE and all(self.is_constant(name) for name in inputs)

    def inference_model(self) -> Any:
        """A model for shape inference: the batch axis fixed at 1 (a symbolic batch is fine), the weights as typed
        inputs rather than data (inference needs their shapes only, and copying them would cost more than the
        rest), small constants kept with their values (they may be shapes; read from side files if there)."""
        from onnx.external_data_helper import load_external_data_for_tensor, uses_external_data

        onnx = self.onnx
        model = onnx.ModelProto()
        model.ir_version = self.model.ir_version
        model.opset_import.extend(self.model.opset_import)
        model.functions.extend(self.model.functions)
        graph = model.graph
        graph.node.extend(self.graph.node)
        graph.output.extend(self.graph.output)
        declared = {value.name for value in self.graph.input}
        for value in self.graph.input:
            copy = graph.input.add()
            copy.CopyFrom(value)
            if value.name == self.input_name:
                first = copy.type.tensor_type.shape.dim[0]
                first.Clear()
                first.dim_value = 1
        for tensor in self.graph.initializer:
            if math.prod(tensor.dims) <= _SMALL:
                small = graph.initializer.add()
                small.CopyFrom(tensor)
                if uses_external_data(small):
                    load_external_data_for_tensor(small, self.base)
                    small.data_location = onnx.TensorProto.DEFAULT
                    del small.external_data[:]
                    self.initializers[tensor.name] = small
            elif tensor.name not in declared:
                graph.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims))
        return model

    def infer_shapes(self, model: Any) -> dict[str, tuple[int | None, ...]]:
        """Every tensor's shape, as onnx's shape inference (with data propagation) finds it."""
        try:
            inferred = self.onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        except Exception as error:
            raise SpecError(f"{self.path}: onnx's shape inference fails: {_first_line(error)}") from None
        shapes: dict[str, tuple[int | None, ...]] = {}
        graph = inferred.graph
        for value in [*graph.input, *graph.value_info, *graph.output]:
            tensor = value.type.tensor_type
            if tensor.HasField("shape"):
                shapes[value.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim)
        for tensor in graph.initializer:
            shapes[tensor.name] = tuple(tensor.dims)
        return shapes

    # -- tensors --

    def is_constant(self, name: str) -> bool:
        return name in self.initializers or name in self.values

    def value(self, name: str) -> Any:
        """A constant's value as a numpy array (an initializer's read from the file, side file or not)."""
        if name not in self.values:
            from onnx import numpy_helper

            tensor = self.initializers[name]
            if name in self.left_out and not tensor.raw_data:
                from cnncalc.bridges.onnx_file import read_left_out

                tensor.raw_data = read_left_out(self.path, self.left_out[name])
            self.values[name] = numpy_helper.to_array(tensor, base_dir=self.base)
        return self.values[name]

    def shape(self, name: str) -> tuple[int | None, ...] | None:
        if name in self.initializers:
            return tuple(self.initializers[name].dims)
        if name in self.values:
            return tuple(self.values[name].shape)
        return self.shapes.get(name)

    def sample_shape(self, name: str) -> tuple[int, ...] | None:
        """The per-sample shape of an activation, if every axis is known."""
        shape = self.shape(name)
        if shape is None or None in shape or not shape:
            return None
        return tuple(int(size) for size in shape[1:])  # type: ignore[arg-type]

    def origin(self, name: str) -> str:
        """The initializer a constant tensor is (through Identity aliases), else itself."""
        while name in self.alias:
            name = self.alias[name]
        return name

    def weight_names(self, names: list[str]) -> list[str]:
        return [self.origin(name) for name in names if name]

    # -- nodes --

    def read_node(self, node: Any) -> None:
        handler = getattr(self, f"op_{node.op_type}", None) if node.domain in ("", "ai.onnx") else None
        if handler is None:
            self.refuse(node, node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}")
            return
        handler(node)

    def refuse(self, node: Any, what: str) -> None:
        self.unsupported.setdefault(what, []).append(node.name or node.output[0])
        for output in node.output:
            self.producer[output] = BLOCKED  # keeps reading the rest, to list every unsupported operation

    def constant_node(self, node: Any) -> Any:
        import numpy as np
        from onnx import numpy_helper

        attribute = node.attribute[0]
        if attribute.name == "value":
            return numpy_helper.to_array(attribute.t)
        value = self.onnx.helper.get_attribute_value(attribute)
        return np.array(value)

    def fold(self, node: Any) -> None:
        """A node computing a constant from constants (shape arithmetic, weight aliases): evaluated here."""
        if node.op_type == "Constant":
            self.values[node.output[0]] = self.constant_node(node)
            return
        if node.op_type == "Identity" and node.input[0] in self.initializers:
            self.alias[node.output[0]] = node.input[0]
            self.values[node.output[0]] = _Lazy(self, node.input[0])
            return
        if node.op_type == "Identity" and node.input[0] in self.alias:
            self.alias[node.output[0]] = node.input[0]
            self.values[node.output[0]] = _Lazy(self, self.origin(node.input[0]))
            return
        if node.op_type == "Shape":
            import numpy as np

            shape = self.shape(node.input[0])
            start = attribute(self.onnx, node, "start", 0)
            end = attribute(self.onnx, node, "end", None)
            self.values[node.output[0]] = np.array(shape[start:end], dtype=np.int64)
            return
        arrays = [self.resolved(name) if name else None for name in node.input]
        try:
            results = _evaluate(self.onnx, node, arrays, self.opset)
        except Exception as error:
            raise SpecError(
                f"{self.path}: node {node.name}: cannot work out the constant {node.op_type}: {_first_line(error)}"
            ) from None
        for name, result in zip(node.output, results, strict=False):
            self.values[name] = result

    def resolved(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, _Lazy):
            return value.get()
        return self.value(name) if value is None else value

    def const(self, name: str) -> Any | None:
        """A constant input's value, or None where the input is computed by the network."""
        if not name or not self.is_constant(name):
            return None
        return self.resolved(name)

    def activation(self, name: str) -> bool:
        return name in self.producer

    def emit(self, node: Any, kind: str, arguments: dict[str, Any], inputs: list[str], weights: list[str] = (),
             outputs: list[str] | None = None, suffix: str = "") -> _Pending:  # fmt: skip
        weight_inputs = [name for name in weights if name]
        layer = _Pending(kind, arguments, [], node, self.weight_names(weight_inputs), weight_inputs, suffix)
        if any(not self.activation(name) for name in inputs):
            self.refuse(node, f"{node.op_type} of a constant")
            return layer
        if any(self.producer[name] == BLOCKED for name in inputs):
            for output in [*(outputs or []), *node.output]:
                self.producer[output] = BLOCKED
            return layer
        layer.inputs = [self.producer[name] for name in inputs]
        self.pending.append(layer)
        for output in outputs if outputs is not None else node.output[:1]:
            self.producer[output] = layer
        return layer

    def single_consumer(self, tensor: str) -> Any | None:
        """The one node that reads `tensor`, if exactly one does and it is not a graph output."""
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or tensor in self.outputs:
            return None
        return users[0]

    def take(self, node: Any) -> None:
        self.done.add(self.index[id(node)])

    def attr(self, node: Any, name: str, default: Any = None) -> Any:
        return attribute(self.onnx, node, name, default)

    # -- finishing --

    def output_layer(self) -> _Pending | str:
        name = self.graph.output[0].name
        producer = self.producer.get(name)
        if producer is None or producer == BLOCKED:
            raise SpecError(f"{self.path}: the graph's output {name} is a constant, not computed from the input")
        return producer

    def notes(self, layers: list[ImportedLayer]) -> list[str]:
        notes = []
        if len(self.graph.output) > 1:
            others = ", ".join(output.name for output in self.graph.output[1:])
            notes.append(
                f"the graph has {len(self.graph.output)} outputs; the spec's output is the first, "
                f"{self.graph.output[0].name} (the layers computing {others} stay, as branches that end nowhere)"
            )
        folded = [layer.name for layer, pending in zip(layers, self.pending, strict=True) if _folded_bn(pending)]
        if folded:
            notes.append(
                f"{len(folded)} BatchNorm{'s' * (len(folded) != 1)} folded into convolutions by the exporter (their "
                "weights are tensors the exporter made, onnx::Conv_*, not the module's .weight, and a bias appears): "
                f"{_listed(folded)}; their running statistics are not in the file"
            )
        users: dict[str, list[str]] = defaultdict(list)
        for layer, pending in zip(layers, self.pending, strict=True):
            for weight in dict.fromkeys(pending.weights):
                if weight in self.initializers:
                    users[weight].append(layer.name)
        shared = [(weight, names) for weight, names in users.items() if len(names) > 1]
        for weight, names in shared[:_SHARED_SHOWN]:
            count = math.prod(self.initializers[weight].dims)
            notes.append(
                f"initializer {weight} ({count:,} values) is shared by {len(names)} layers ({_listed(names)}); "
                f"cnncalc counts it once per use, {count * (len(names) - 1):,} values more than the file holds"
            )
        if len(shared) > _SHARED_SHOWN:
            rest = shared[_SHARED_SHOWN:]
            extra = sum(math.prod(self.initializers[weight].dims) * (len(names) - 1) for weight, names in rest)
            notes.append(
                f"{len(rest)} more initializers are shared by several layers ({_listed([w for w, _ in rest], 3)}): "
                f"{extra:,} values more counted than the file holds"
            )
        if shared:
            notes.append(
                "torch.onnx.export merges initializers with equal values (an untrained model's zero biases, say): "
                "equal values are shared in the file, whichever modules they came from"
            )
        return notes


class _Lazy:
    """An alias of an initializer whose value is read only if a layer needs it."""

    def __init__(self, importer: _Importer, name: str) -> None:
        self.importer, self.name = importer, name

    def get(self) -> Any:
        return self.importer.value(self.name)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.importer.initializers[self.name].dims)


def _folded_bn(layer: _Pending) -> bool:
    """A convolution whose weight the torch exporter made by folding a BatchNorm into it (eval-mode export)."""
    return layer.kind.startswith("Conv") and "Transpose" not in layer.kind and bool(layer.weights) and (
        layer.weights[0].startswith("onnx::Conv_") and len(layer.weights) > 1)  # fmt: skip


# -- names and scopes -------------------------------------------------------------------------------------------


class _Namer:
    """Layer names from node names (module paths where the torch exporter wrote them), unique; and scopes."""

    def __init__(self, pending: list[_Pending]) -> None:
        self.pending = pending

    def layers(self) -> list[ImportedLayer]:
        for layer in self.pending:
            layer.scope_path = _scope_path(layer.node.name)
        containers = {path for layer in self.pending for path in layer.scope_path[:-1]}
        per_leaf: dict[str, int] = defaultdict(int)
        for layer in self.pending:
            if layer.scope_path and not layer.suffix:
                per_leaf[layer.scope_path[-1]] += 1
        used: set[str] = {NETWORK_INPUT}
        for layer in self.pending:
            layer.name = _unique(self.base_name(layer, containers, per_leaf), used)
            used.add(layer.name)
        self.containers = containers
        return self.with_scopes()

    def base_name(self, layer: _Pending, containers: set[str], per_leaf: dict[str, int]) -> str:
        path = layer.scope_path[-1] if layer.scope_path else ""
        owner = self.weight_owner(layer)
        if path and not layer.suffix and path not in containers and (per_leaf[path] == 1 or owner == path):
            return path
        if owner and (not path or owner.startswith(path + ".")) and not layer.suffix:
            return owner
        call = layer.suffix or _CALLS.get(layer.node.op_type, layer.kind.lower())
        if layer.node.op_type in ("GlobalAveragePool", "ReduceMean") and not layer.suffix:
            call += layer.kind[-2:] if layer.node.op_type == "GlobalAveragePool" else ""
        if not layer.node.name.startswith("/") and layer.node.name and not layer.suffix:
            return _valid_name(layer.node.name) or call
        return f"{path}.{call}" if path else call

    @staticmethod
    def weight_owner(layer: _Pending) -> str:
        """The module a layer's weights belong to by their state_dict names ("features.0.weight" -> features.0);
        a LayerScale's parameter itself ("features.1.0.layer_scale")."""
        for weight in layer.weight_inputs:
            stem, _, last = weight.rpartition(".")
            if stem and last in ("weight", "bias") and is_layer_name(stem):
                return stem
            if layer.kind == "LayerScale" and is_layer_name(weight):
                return weight
        return ""

    def with_scopes(self) -> list[ImportedLayer]:
        """The layers with their scopes; a scope's class is a pseudo-class named after the first module with the
        same structure (its layers' names relative to it, kinds and wiring), as ONNX keeps no classes."""
        inside: dict[str, list[_Pending]] = defaultdict(list)
        for layer in self.pending:
            for path in self._scopes(layer):
                inside[path].append(layer)
        classes: dict[tuple[Any, ...], str] = {}
        cls: dict[str, str] = {}
        for path, members in inside.items():
            signature = tuple(_relative(layer, path) for layer in members)
            cls[path] = classes.setdefault(signature, _class_name(path))
        layers = []
        for layer in self.pending:
            scopes = tuple(Scope(path, cls[path]) for path in self._scopes(layer))
            inputs = [source.name if isinstance(source, _Pending) else source for source in layer.inputs]
            layers.append(ImportedLayer(layer.name, layer.kind, layer.arguments, inputs, scopes))
        return layers

    def _scopes(self, layer: _Pending) -> tuple[str, ...]:
        """The modules around a layer: its scope path without its own module (for a second layer a node became,
        such as the pad before a conv, without that conv's module)."""
        paths = layer.scope_path
        if paths and (paths[-1] == layer.name or (layer.suffix and paths[-1] not in self.containers)):
            paths = paths[:-1]
        return tuple(path for path in paths if path != layer.name)


def _relative(layer: _Pending, path: str) -> tuple[str, str, tuple[str, ...]]:
    def rel(name: str) -> str:
        return name[len(path) + 1 :] if name.startswith(path + ".") else "^"

    sources = tuple(rel(source.name) if isinstance(source, _Pending) else "^" for source in layer.inputs)
    return rel(layer.name), layer.kind, sources


def _class_name(path: str) -> str:
    name = path.replace(".", "_")
    name = name[:1].upper() + name[1:]
    return name if is_word(name) else "M" + name


def _scope_path(node_name: str) -> tuple[str, ...]:
    """The module paths a torch-exported node ran in, outermost first. The exporter names each module relative to
    its parent, a container's children with the container's name in front: "/features/features.7/features.7.1/
    block/block.1/Transpose" -> features, features.7, features.7.1, features.7.1.block, features.7.1.block.1.
    Other exporters' slash-separated names are read the same way, each part made a valid name."""
    if not node_name.startswith("/"):
        return ()
    parts = [part for part in node_name.split("/") if part][:-1]
    paths: list[str] = []
    previous = ""
    for part in parts:
        piece = part if is_layer_name(part) else _valid_name(part)
        if not piece:
            continue
        if previous and piece.startswith(previous + "."):
            full = paths[-1] + piece[len(previous) :]
        else:
            full = f"{paths[-1]}.{piece}" if paths else piece
        paths.append(full)
        previous = piece
    return tuple(paths)


def _valid_name(text: str) -> str:
    """`text` made a valid cnncalc layer name: parts joined by '.', other characters as '_'."""
    parts = []
    for part in text.replace("/", ".").replace(":", "_").split("."):
        if not part:
            continue
        if part.isascii() and part.isdigit():
            parts.append(part)
            continue
        word = "".join(c if (c.isalnum() or c in "_-") else "_" for c in part)
        if not is_word(word):
            word = "_" + word
        parts.append(word)
    name = ".".join(parts)
    return name if is_layer_name(name) and name != NETWORK_INPUT else ""


def _unique(name: str, used: set[str]) -> str:
    if name not in used:
        return name
    number = 1
    while f"{name}_{number}" in used:
        number += 1
    return f"{name}_{number}"


def _listed(names: list[str], shown: int = 6) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


# -- constant folding -------------------------------------------------------------------------------------------


def _evaluate(onnx: Any, node: Any, arrays: list[Any], opset: int) -> list[Any]:
    """The outputs of `node` on constant inputs: the shape arithmetic exporters write, in numpy; anything else
    through onnx's reference implementation at the model's opset."""
    import numpy as np

    op = node.op_type
    a = arrays[0]
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Max": np.maximum, "Min": np.minimum,
              "Equal": np.equal, "Less": np.less, "Greater": np.greater, "Pow": np.power}  # fmt: skip
    if op in binary:
        return [np.asarray(binary[op](a, arrays[1])).astype(np.result_type(a, arrays[1]) if op not in (
            "Equal", "Less", "Greater") else bool)]  # fmt: skip
    if op == "Div":
        b = arrays[1]
        if np.issubdtype(a.dtype, np.integer):
            return [np.asarray(np.trunc(a / b)).astype(a.dtype)]
        return [np.asarray(a / b)]
    if op == "Identity":
        return [a]
    if op == "Cast":
        from onnx import helper

        return [a.astype(helper.tensor_dtype_to_np_dtype(attribute(onnx, node, "to", 1)))]
    if op in ("Unsqueeze", "Squeeze"):
        axes = attribute(onnx, node, "axes", None)
        if axes is None and len(arrays) > 1 and arrays[1] is not None:
            axes = [int(v) for v in arrays[1].reshape(-1)]
        if op == "Squeeze":
            return [np.squeeze(a, axis=tuple(axes)) if axes is not None else np.squeeze(a)]
        rank = a.ndim + len(axes)
        out = a
        for axis in sorted(x % rank for x in axes):
            out = np.expand_dims(out, axis)
        return [out]
    if op == "Gather":
        return [np.take(a, arrays[1].astype(np.int64), axis=attribute(onnx, node, "axis", 0))]
    if op == "Concat":
        return [np.concatenate([np.asarray(x) for x in arrays if x is not None], axis=attribute(onnx, node, "axis", 0))]
    if op == "Reshape":
        shape = [int(v) for v in arrays[1].reshape(-1)]
        shape = [a.shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return [a.reshape(shape)]
    if op == "Slice" and opset >= 10:
        starts, ends = arrays[1].reshape(-1), arrays[2].reshape(-1)
        axes = arrays[3].reshape(-1) if len(arrays) > 3 and arrays[3] is not None else range(len(starts))
        steps = arrays[4].reshape(-1) if len(arrays) > 4 and arrays[4] is not None else [1] * len(starts)
        index = [slice(None)] * a.ndim
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=False):
            index[int(axis)] = slice(int(start), int(end), int(step))
        return [a[tuple(index)]]
    from onnx.reference import ReferenceEvaluator

    helper = onnx.helper
    names = [name for name in node.input if name]
    feeds = {name: array for name, array in zip(node.input, arrays, strict=True) if name}
    graph = helper.make_graph(
        [node],
        "fold",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(feeds[n].dtype), feeds[n].shape)
            for n in names
        ],
        [helper.make_empty_tensor_value_info(name) for name in node.output if name],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return list(ReferenceEvaluator(model).run(None, feeds))
