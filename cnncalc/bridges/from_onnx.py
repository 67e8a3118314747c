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
_BLOCKED = "#blocked"  # a tensor downstream of an unsupported node: already listed, not listed again
_SQRT2 = math.sqrt(2.0)
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
    model = _load(onnx, path)
    return _Importer(onnx, model, path).network()


# -- loading --------------------------------------------------------------------------------------------------


def _load(onnx: Any, path: str) -> Any:
    file = Path(path)
    if not file.exists():
        raise SpecError(f"no such file: {path}")
    if file.is_dir():
        raise SpecError(f"{path} is a directory, not an ONNX file")
    try:
        model = onnx.load(str(file), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends: the bytes are not a ModelProto
        raise SpecError(
            f"{path} is not an ONNX model: it does not parse as one ({type(error).__name__}: {_first_line(error)})",
            hint="an .onnx file is written by torch.onnx.export or onnx.save",
        ) from None
    if model.ir_version <= 0 or not model.graph.node:
        raise SpecError(
            f"{path} is not an ONNX model: it holds no graph nodes"
            + ("" if model.ir_version > 0 else " and no IR version"),
            hint="an .onnx file is written by torch.onnx.export or onnx.save",
        )
    _check_external_data(onnx, model, file)
    return model


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


class _Importer:
    def __init__(self, onnx: Any, model: Any, path: str) -> None:
        self.onnx = onnx
        self.model = model
        self.path = path
        self.base = str(Path(path).parent)
        self.graph = model.graph
        self.initializers = {tensor.name: tensor for tensor in self.graph.initializer}
        self.values: dict[str, Any] = {}  # folded constants (numpy arrays)
        self.alias: dict[str, str] = {}  # a constant tensor -> the initializer it is (through Identity nodes)
        self.producer: dict[str, _Pending | str] = {}  # an activation tensor -> its layer, NETWORK_INPUT, _BLOCKED
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

            self.values[name] = numpy_helper.to_array(self.initializers[name], base_dir=self.base)
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
            self.producer[output] = _BLOCKED  # keeps reading the rest, to list every unsupported operation

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
            start = _attribute(self.onnx, node, "start", 0)
            end = _attribute(self.onnx, node, "end", None)
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
        if any(self.producer[name] == _BLOCKED for name in inputs):
            for output in [*(outputs or []), *node.output]:
                self.producer[output] = _BLOCKED
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
        return _attribute(self.onnx, node, name, default)

    # -- convolution and linear --

    def op_Conv(self, node: Any) -> None:  # noqa: N802 (ONNX's op names)
        x, weight, bias = (list(node.input) + ["", ""])[:3]
        if not self.is_constant(weight) or (bias and not self.is_constant(bias)):
            self.refuse(node, "Conv (weights the network computes)")
            return
        dims = self.shape(weight)
        spatial = len(dims) - 2
        if spatial not in (1, 2, 3):
            self.refuse(node, f"Conv over {spatial} spatial axes")
            return
        kernel = list(dims[2:])
        strides = self.attr(node, "strides", [1] * spatial)
        dilations = self.attr(node, "dilations", [1] * spatial)
        group = self.attr(node, "group", 1)
        pads = self.pads(node, x, kernel, strides, dilations)
        arguments: dict[str, Any] = {"out_channels": int(dims[0]), "kernel_size": _short(kernel)}
        inputs = [x]
        if pads[:spatial] != pads[spatial:]:
            pad = self.emit(node, f"ZeroPad{spatial}d", {"padding": _torch_pads(pads)}, [x], suffix="pad",
                            outputs=[f"{node.output[0]}#pad"])  # fmt: skip
            inputs = [f"{node.output[0]}#pad"]
            if pad not in self.pending:
                return
            pads = [0] * (2 * spatial)
        _put(arguments, "stride", strides, 1)
        _put(arguments, "padding", pads[:spatial], 0)
        _put(arguments, "dilation", dilations, 1)
        if group != 1:
            arguments["groups"] = int(group)
        if not bias:
            arguments["bias"] = False
        self.emit(node, f"Conv{spatial}d", arguments, inputs, [weight, bias])

    def pads(self, node: Any, x: str, kernel: list[int], strides: list[int], dilations: list[int]) -> list[int]:
        """ONNX's pads (begin..., end...), auto_pad worked out from the input's size."""
        spatial = len(kernel)
        auto = self.attr(node, "auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("NOTSET", ""):
            return list(self.attr(node, "pads", [0] * (2 * spatial)))
        if auto == "VALID":
            return [0] * (2 * spatial)
        sizes = self.sample_shape(x)
        begins, ends = [], []
        for axis in range(spatial):
            size = sizes[1 + axis] if sizes else 0
            out = -(-size // strides[axis])
            total = max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - size)
            small, large = total // 2, total - total // 2
            begins.append(small if auto == "SAME_UPPER" else large)
            ends.append(large if auto == "SAME_UPPER" else small)
        return begins + ends

    def op_ConvTranspose(self, node: Any) -> None:  # noqa: N802
        x, weight, bias = (list(node.input) + ["", ""])[:3]
        dims = self.shape(weight)
        if not self.is_constant(weight) or dims is None:
            self.refuse(node, "ConvTranspose (weights the network computes)")
            return
        spatial = len(dims) - 2
        group = self.attr(node, "group", 1)
        strides = self.attr(node, "strides", [1] * spatial)
        dilations = self.attr(node, "dilations", [1] * spatial)
        pads = list(self.attr(node, "pads", [0] * (2 * spatial)))
        output_padding = list(self.attr(node, "output_padding", [0] * spatial))
        auto = self.attr(node, "auto_pad", "NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if (
            auto not in ("NOTSET", "")
            or self.attr(node, "output_shape") is not None
            or pads[:spatial] != pads[spatial:]
        ):
            self.refuse(node, "ConvTranspose with auto_pad, output_shape or uneven pads")
            return
        arguments: dict[str, Any] = {"out_channels": int(dims[1]) * group, "kernel_size": _short(list(dims[2:]))}
        _put(arguments, "stride", strides, 1)
        _put(arguments, "padding", pads[:spatial], 0)
        _put(arguments, "output_padding", output_padding, 0)
        if group != 1:
            arguments["groups"] = int(group)
        if not bias:
            arguments["bias"] = False
        _put(arguments, "dilation", dilations, 1)
        self.emit(node, f"ConvTranspose{spatial}d", arguments, [x], [weight, bias])

    def op_Gemm(self, node: Any) -> None:  # noqa: N802
        a, b, c = (list(node.input) + ["", ""])[:3]
        alpha, beta = self.attr(node, "alpha", 1.0), self.attr(node, "beta", 1.0)
        if self.attr(node, "transA", 0) or alpha != 1.0 or (c and beta != 1.0) or not self.is_constant(b):
            self.refuse(node, "Gemm (other than x @ W.T + b with constant weights)")
            return
        dims = self.shape(b)
        out = int(dims[0] if self.attr(node, "transB", 0) else dims[1])
        if c and (not self.is_constant(c) or math.prod(self.shape(c)) != out):
            self.refuse(node, "Gemm (a bias that is not one value per output)")
            return
        self.emit(node, "Linear", {"out_features": out, **({} if c else {"bias": False})}, [a], [b, c])

    def op_MatMul(self, node: Any) -> None:  # noqa: N802
        a, b = node.input[0], node.input[1]
        if self.activation(a) and self.activation(b):
            self.emit(node, "MatMul", {}, [a, b])
            return
        dims = self.shape(b)
        if not (self.activation(a) and self.is_constant(b)) or dims is None or len(dims) != 2:
            self.refuse(node, "MatMul (other than x @ W with a 2-D constant W)")
            return
        out = int(dims[1])
        add = self.single_consumer(node.output[0])
        if add is not None and add.op_type == "Add":
            bias = add.input[1] if add.input[0] == node.output[0] else add.input[0]
            shape = self.shape(bias)
            if self.is_constant(bias) and shape is not None and math.prod(shape) == out and shape[-1] == out:
                self.take(add)
                self.emit(node, "Linear", {"out_features": out}, [a], [b, bias], outputs=[add.output[0]])
                return
        self.emit(node, "Linear", {"out_features": out, "bias": False}, [a], [b])

    # -- normalization --

    def op_BatchNormalization(self, node: Any) -> None:  # noqa: N802
        x, scale, bias, mean, var = list(node.input)[:5]
        if (
            not all(self.is_constant(name) for name in (scale, bias, mean, var))
            or len(node.output) > 1
            and any(node.output[1:])
        ):
            self.refuse(node, "BatchNormalization (training mode or computed statistics)")
            return
        rank = len(self.shape(x) or ())
        if rank not in (2, 3, 4, 5):
            self.refuse(node, f"BatchNormalization on {rank} axes")
            return
        arguments = {}
        eps = self.attr(node, "epsilon", 1e-5)
        if not math.isclose(eps, 1e-5, rel_tol=1e-6):
            arguments["eps"] = _float(eps)
        self.emit(node, f"BatchNorm{max(rank - 2, 1)}d", arguments, [x], [scale, bias, mean, var])

    def op_LayerNormalization(self, node: Any) -> None:  # noqa: N802
        x, scale, bias = (list(node.input) + ["", ""])[:3]
        shape = self.sample_shape(x)
        if shape is None or not self.is_constant(scale) or (bias and not self.is_constant(bias)):
            self.refuse(node, "LayerNormalization (unknown shape or computed scale)")
            return
        axis = self.attr(node, "axis", -1)
        rank = len(shape) + 1
        axis = axis % rank
        if axis == 0:
            self.refuse(node, "LayerNormalization over the batch axis")
            return
        arguments: dict[str, Any] = {"normalized_shape": list(shape[axis - 1 :])}
        eps = self.attr(node, "epsilon", 1e-5)
        if not math.isclose(eps, 1e-5, rel_tol=1e-6):
            arguments["eps"] = _float(eps)
        if not bias:
            arguments["bias"] = False
        self.emit(node, "LayerNorm", arguments, [x], [scale, bias])

    def op_InstanceNormalization(self, node: Any) -> None:  # noqa: N802
        x, scale, bias = list(node.input)[:3]
        rank = len(self.shape(x) or ())
        arguments: dict[str, Any] = {"affine": True}
        eps = self.attr(node, "epsilon", 1e-5)
        if not math.isclose(eps, 1e-5, rel_tol=1e-6):
            arguments["eps"] = _float(eps)
        self.emit(node, f"InstanceNorm{max(rank - 2, 1)}d", arguments, [x], [scale, bias])

    # -- activations --

    def op_Relu(self, node: Any) -> None:  # noqa: N802
        self.emit(node, "ReLU", {}, [node.input[0]])

    def op_Tanh(self, node: Any) -> None:  # noqa: N802
        self.emit(node, "Tanh", {}, [node.input[0]])

    def op_Elu(self, node: Any) -> None:  # noqa: N802
        alpha = self.attr(node, "alpha", 1.0)
        self.emit(node, "ELU", {} if alpha == 1.0 else {"alpha": _float(alpha)}, [node.input[0]])

    def op_LeakyRelu(self, node: Any) -> None:  # noqa: N802
        slope = self.attr(node, "alpha", 0.01)
        arguments = {} if math.isclose(slope, 0.01, rel_tol=1e-6) else {"negative_slope": _float(slope)}
        self.emit(node, "LeakyReLU", arguments, [node.input[0]])

    def op_PRelu(self, node: Any) -> None:  # noqa: N802
        x, slope = node.input[0], node.input[1]
        shape = self.shape(slope)
        if not self.is_constant(slope) or shape is None:
            self.refuse(node, "PRelu (a computed slope)")
            return
        count = math.prod(shape)
        self.emit(node, "PReLU", {} if count == 1 else {"num_parameters": count}, [x], [slope])

    def op_Sigmoid(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        mul = self.single_consumer(node.output[0])
        if mul is not None and mul.op_type == "Mul" and x in mul.input and node.output[0] in mul.input:
            self.take(mul)  # x * sigmoid(x): SiLU as the exporter writes it
            self.emit(node, "SiLU", {}, [x], outputs=[mul.output[0]])
            return
        self.emit(node, "Sigmoid", {}, [x])

    def op_HardSigmoid(self, node: Any) -> None:  # noqa: N802
        alpha, beta = self.attr(node, "alpha", 0.2), self.attr(node, "beta", 0.5)
        if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)):
            self.refuse(node, f"HardSigmoid with alpha {alpha:g}, beta {beta:g} (PyTorch's is 1/6, 0.5)")
            return
        x = node.input[0]
        mul = self.single_consumer(node.output[0])
        if mul is not None and mul.op_type == "Mul" and x in mul.input and node.output[0] in mul.input:
            self.take(mul)
            self.emit(node, "Hardswish", {}, [x], outputs=[mul.output[0]])
            return
        self.emit(node, "Hardsigmoid", {}, [x])

    def op_HardSwish(self, node: Any) -> None:  # noqa: N802
        self.emit(node, "Hardswish", {}, [node.input[0]])

    def op_Gelu(self, node: Any) -> None:  # noqa: N802
        approximate = self.attr(node, "approximate", "none")
        approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
        self.emit(node, "GELU", {} if approximate == "none" else {"approximate": approximate}, [node.input[0]])

    def op_Clip(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        if self.opset < 11:
            low, high = self.attr(node, "min", None), self.attr(node, "max", None)
        else:
            bounds = (list(node.input) + ["", ""])[1:3]
            if any(name and not self.is_constant(name) for name in bounds):
                self.refuse(node, "Clip (computed bounds)")
                return
            low, high = (float(self.const(name)) if name else None for name in bounds)
        if low == 0.0 and high is None:
            self.emit(node, "ReLU", {}, [x])
        elif low == 0.0 and high == 6.0:
            self.emit(node, "ReLU6", {}, [x])
        elif low is not None and high is not None:
            arguments = {}
            if low != -1.0:
                arguments["min_val"] = _float(low)
            if high != 1.0:
                arguments["max_val"] = _float(high)
            self.emit(node, "Hardtanh", arguments, [x])
        else:
            self.refuse(node, "Clip with only an upper bound")

    def op_Softmax(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        rank = len(self.shape(x) or ())
        axis = self.attr(node, "axis", -1 if self.opset >= 13 else 1)
        if self.opset < 13 and axis % rank != rank - 1:
            self.refuse(node, "Softmax before opset 13 over more than the last axis")
            return
        self.emit(node, "Softmax", {"dim": int(axis)}, [x])

    def op_Div(self, node: Any) -> None:  # noqa: N802
        if not self.gelu_from_erf(node):
            self.refuse(node, "Div")

    def gelu_from_erf(self, div: Any) -> bool:
        """x * 0.5 * (1 + erf(x / sqrt(2))) as torch exports GELU before opset 20: Div, Erf, Add, Mul, Mul."""
        x, divisor = div.input[0], div.input[1]
        value = self.const(divisor)
        if value is None or value.size != 1 or not math.isclose(float(value), _SQRT2, rel_tol=1e-5):
            return False
        erf = self.single_consumer(div.output[0])
        add = erf is not None and erf.op_type == "Erf" and self.single_consumer(erf.output[0])
        if not add or add.op_type != "Add" or not self.is_one_of(add, erf.output[0], 1.0):
            return False
        mul = self.single_consumer(add.output[0])
        if mul is None or mul.op_type != "Mul" or x not in mul.input:
            return False
        half = self.single_consumer(mul.output[0])
        if half is None or half.op_type != "Mul" or not self.is_one_of(half, mul.output[0], 0.5):
            return False
        for node in (erf, add, mul, half):
            self.take(node)
        self.emit(div, "GELU", {}, [x], outputs=[half.output[0]])
        return True

    def is_one_of(self, node: Any, tensor: str, number: float) -> bool:
        """`node` combines `tensor` with the constant `number`."""
        other = node.input[1] if node.input[0] == tensor else node.input[0]
        value = self.const(other)
        return value is not None and value.size == 1 and math.isclose(float(value), number, rel_tol=1e-6)

    # -- element-wise merges and scales --

    def op_Add(self, node: Any) -> None:  # noqa: N802
        a, b = node.input[0], node.input[1]
        if self.activation(a) and self.activation(b):
            if self.shape(a) != self.shape(b):
                self.refuse(node, "Add of tensors of different shapes (broadcasting)")
                return
            self.emit(node, "Add", {}, [a, b])
            return
        self.refuse(node, "Add of a constant")

    def op_Mul(self, node: Any) -> None:  # noqa: N802
        a, b = node.input[0], node.input[1]
        if self.activation(a) and self.activation(b):
            self.emit(node, "Mul", {}, [a, b])
            return
        x, scale = (a, b) if self.activation(a) else (b, a)
        dim = self.scale_dim(x, scale)
        if dim is None:
            self.refuse(node, "Mul by a constant (other than one learned value per channel, LayerScale)")
            return
        self.emit(node, "LayerScale", {} if dim == 1 else {"dim": dim}, [x], [scale])

    def scale_dim(self, x: str, scale: str) -> int | None:
        """The dim of a LayerScale: `scale` holds one value per position along one axis of x (C x 1 x 1 or C)."""
        shape, sizes = self.shape(scale), self.sample_shape(x)
        if not self.is_constant(scale) or shape is None or sizes is None or len(shape) > len(sizes) + 1:
            return None
        if self.origin(scale) not in self.initializers:
            return None  # a number written in the graph (x * 0.5), not a learned weight
        shape = tuple(shape)
        while shape and shape[0] == 1 and len(shape) > 1:
            shape = shape[1:]
        axis = len(sizes) - len(shape)  # per-sample axis of scale's first entry
        if axis < 0 or shape[0] != sizes[axis] or any(size != 1 for size in shape[1:]) or sizes[axis] == 1:
            return None
        return -1 if axis == len(sizes) - 1 and len(sizes) > 1 else axis + 1

    def op_Concat(self, node: Any) -> None:  # noqa: N802
        if len([name for name in node.input if name]) == 1:  # torch.cat of one tensor (DenseNet): a copy
            self.op_Identity(node)
            return
        axis = self.attr(node, "axis", 1)
        rank = len(self.shape(node.input[0]) or ())
        if rank and axis % rank == 0:
            self.refuse(node, "Concat along the batch axis")
            return
        self.emit(node, "Concat", {} if axis == 1 else {"dim": int(axis)}, list(node.input))

    # -- pooling --

    def pool_arguments(self, node: Any, x: str) -> tuple[int, dict[str, Any]] | None:
        kernel = list(self.attr(node, "kernel_shape"))
        spatial = len(kernel)
        strides = list(self.attr(node, "strides", [1] * spatial))
        dilations = list(self.attr(node, "dilations", [1] * spatial))
        pads = self.pads(node, x, kernel, strides, dilations)
        if pads[:spatial] != pads[spatial:]:
            self.refuse(node, f"{node.op_type} with uneven pads")
            return None
        arguments: dict[str, Any] = {"kernel_size": _short(kernel)}
        if strides != kernel:
            arguments["stride"] = _short(strides)
        _put(arguments, "padding", pads[:spatial], 0)
        _put(arguments, "dilation", dilations, 1)
        if self.attr(node, "ceil_mode", 0):
            arguments["ceil_mode"] = True
        return spatial, arguments

    def op_MaxPool(self, node: Any) -> None:  # noqa: N802
        if len(node.output) > 1 and node.output[1]:
            self.refuse(node, "MaxPool returning indices")
            return
        read = self.pool_arguments(node, node.input[0])
        if read:
            self.emit(node, f"MaxPool{read[0]}d", read[1], [node.input[0]])

    def op_AveragePool(self, node: Any) -> None:  # noqa: N802
        read = self.pool_arguments(node, node.input[0])
        if not read:
            return
        spatial, arguments = read
        arguments.pop("dilation", None)
        if self.attr(node, "dilations") and any(d != 1 for d in self.attr(node, "dilations")):
            self.refuse(node, "AveragePool with dilations")
            return
        if not self.attr(node, "count_include_pad", 0) and "padding" in arguments:
            arguments["count_include_pad"] = False
        self.emit(node, f"AvgPool{spatial}d", arguments, [node.input[0]])

    def op_GlobalAveragePool(self, node: Any) -> None:  # noqa: N802
        spatial = len(self.shape(node.input[0]) or ()) - 2
        self.emit(node, f"AdaptiveAvgPool{spatial}d", {"output_size": 1}, [node.input[0]])

    def op_GlobalMaxPool(self, node: Any) -> None:  # noqa: N802
        spatial = len(self.shape(node.input[0]) or ()) - 2
        self.emit(node, f"AdaptiveMaxPool{spatial}d", {"output_size": 1}, [node.input[0]])

    def op_ReduceMean(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        rank = len(self.shape(x) or ())
        axes = self.attr(node, "axes", None)
        if axes is None and len(node.input) > 1 and node.input[1]:
            value = self.const(node.input[1])
            axes = None if value is None else [int(a) for a in value.reshape(-1)]
        spatial = rank - 2
        if axes is None or sorted(a % rank for a in axes) != list(range(2, rank)) or spatial not in (1, 2, 3):
            self.refuse(node, "ReduceMean (other than over every spatial axis)")
            return
        if self.attr(node, "keepdims", 1):
            self.emit(node, f"AdaptiveAvgPool{spatial}d", {"output_size": 1}, [x])
            return
        pooled = f"{node.output[0]}#pooled"
        pool = self.emit(node, f"AdaptiveAvgPool{spatial}d", {"output_size": 1}, [x], outputs=[pooled])
        if pool in self.pending:
            self.emit(node, "Flatten", {}, [pooled], suffix="flatten")

    # -- shapes --

    def op_Flatten(self, node: Any) -> None:  # noqa: N802
        axis = self.attr(node, "axis", 1)
        if axis % max(len(self.shape(node.input[0]) or ()), 1) == 0:
            self.refuse(node, "Flatten of the batch axis")
            return
        if axis != 1:
            self.reshape(node, node.input[0], "Flatten")
            return
        self.emit(node, "Flatten", {}, [node.input[0]])

    def op_Reshape(self, node: Any) -> None:  # noqa: N802
        self.reshape(node, node.input[0], "Reshape")

    def op_Squeeze(self, node: Any) -> None:  # noqa: N802
        self.squeeze(node, len(self.shape(node.input[0]) or ()))

    def op_Unsqueeze(self, node: Any) -> None:  # noqa: N802
        self.squeeze(node, len(self.shape(node.output[0]) or ()))

    def squeeze(self, node: Any, rank: int) -> None:
        """Squeeze and Unsqueeze as a Reshape, unless they remove or add the first axis (the batch axis)."""
        axes = self.attr(node, "axes", None)
        if axes is None and len(node.input) > 1 and node.input[1]:
            value = self.const(node.input[1])
            axes = None if value is None else [int(a) for a in value.reshape(-1)]
        if axes is None or not rank or any(axis % rank == 0 for axis in axes):
            self.refuse(node, f"{node.op_type} of the batch axis (or of axes the network computes)")
            return
        self.reshape(node, node.input[0], node.op_type)

    def reshape(self, node: Any, x: str, what: str) -> None:
        """A reshape that keeps the batch axis first as Reshape(the per-sample shape out of shape inference)."""
        before, after = self.shape(x), self.shape(node.output[0])
        if before is None or after is None or None in after or not after or after[0] != before[0]:
            self.refuse(node, f"{what} (of the batch axis, or to a shape that is not known)")
            return
        if what == "Reshape" and self.is_constant(node.input[1]):
            target = [int(size) for size in self.const(node.input[1]).reshape(-1)]
            if target and target[0] not in (0, 1, -1) or (target and target[0] == -1 and -1 in target[1:]):
                self.refuse(node, "Reshape that moves values across the batch axis")
                return
        self.emit(node, "Reshape", {"shape": [int(size) for size in after[1:]]}, [x])

    def op_Transpose(self, node: Any) -> None:  # noqa: N802
        perm = list(self.attr(node, "perm", []))
        rank = len(self.shape(node.input[0]) or ())
        perm = perm or list(reversed(range(rank)))
        if perm[0] != 0:
            self.refuse(node, "Transpose that moves the batch axis")
            return
        moved = [axis for axis, to in enumerate(perm) if axis != to]
        if len(moved) == 2:
            self.emit(node, "Transpose", {"dim0": moved[0], "dim1": moved[1]}, [node.input[0]])
        else:
            self.emit(node, "Permute", {"dims": perm}, [node.input[0]])

    def op_Split(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        shape = self.shape(x)
        axis = self.attr(node, "axis", 0)
        if shape is None or axis % len(shape) == 0:
            self.refuse(node, "Split along the batch axis or of an unknown shape")
            return
        sizes = self.attr(node, "split", None)
        if sizes is None and len(node.input) > 1 and node.input[1]:
            value = self.const(node.input[1])
            sizes = None if value is None else [int(s) for s in value.reshape(-1)]
        if sizes is None:
            sizes = [self.shape(output)[axis] for output in node.output]
        self.pieces(node, x, [int(s) for s in sizes], axis, list(node.output))

    def pieces(self, node: Any, x: str, sizes: list[int], axis: int, outputs: list[str]) -> None:
        arguments: dict[str, Any] = {"split_size_or_sections": sizes}
        if axis != 1:
            arguments["dim"] = int(axis)
        for index, output in enumerate(outputs):
            if output and (self.consumers.get(output) or output in self.outputs):
                self.emit(node, "Split", {**arguments, "index": index}, [x], outputs=[output])

    def op_Slice(self, node: Any) -> None:  # noqa: N802
        """x[:, a:b] along one axis (torch's chunk before opset 13... and after): a piece of a Split."""
        x = node.input[0]
        shape = self.shape(x)
        names = (list(node.input) + ["", "", "", ""])[1:5]
        values = [self.const(name) if name else None for name in names]
        if (
            shape is None
            or None in shape
            or values[0] is None
            or values[1] is None
            or any(name and value is None for name, value in zip(names, values, strict=True))
        ):
            self.refuse(node, "Slice (of an unknown shape, or computed bounds)")
            return
        starts, ends = [int(v) for v in values[0].reshape(-1)], [int(v) for v in values[1].reshape(-1)]
        axes = [int(v) for v in values[2].reshape(-1)] if values[2] is not None else list(range(len(starts)))
        steps = [int(v) for v in values[3].reshape(-1)] if values[3] is not None else [1] * len(starts)
        cuts = []
        for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
            size = shape[axis % len(shape)]
            begin, stop = slice(start, end, step).indices(size)[:2]
            if (begin, stop) != (0, size) or step != 1:
                cuts.append((axis % len(shape), begin, stop, step))
        if len(cuts) != 1 or cuts[0][3] != 1 or cuts[0][0] == 0 or cuts[0][1] >= cuts[0][2]:
            self.refuse(node, "Slice (other than a range of one non-batch axis)")
            return
        axis, begin, stop, _ = cuts[0]
        size = shape[axis]
        sizes = [piece for piece in (begin, stop - begin, size - stop) if piece]
        index = 1 if begin else 0
        arguments: dict[str, Any] = {"split_size_or_sections": sizes, "index": index}
        if axis != 1:
            arguments["dim"] = axis
        self.emit(node, "Split", arguments, [x])

    # -- the rest --

    def op_Identity(self, node: Any) -> None:  # noqa: N802
        self.producer[node.output[0]] = self.producer.get(node.input[0], _BLOCKED)

    def op_Dropout(self, node: Any) -> None:  # noqa: N802
        ratio = self.attr(node, "ratio", None)
        if ratio is None and len(node.input) > 1 and node.input[1]:
            value = self.const(node.input[1])
            ratio = None if value is None else float(value)
        arguments = {} if ratio is None or math.isclose(ratio, 0.5) else {"p": _float(ratio)}
        self.emit(node, "Dropout", arguments, [node.input[0]])

    def op_Pad(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        rank = len(self.shape(x) or ())
        mode = self.attr(node, "mode", "constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if self.opset < 11:
            pads, fill = list(self.attr(node, "pads")), self.attr(node, "value", 0.0)
        else:
            names = (list(node.input) + ["", "", ""])[1:4]
            if any(name and not self.is_constant(name) for name in names):
                self.refuse(node, "Pad (computed pads)")
                return
            pads = [int(v) for v in self.const(names[0]).reshape(-1)]
            fill = float(self.const(names[1]).reshape(-1)[0]) if names[1] else 0.0
            if names[2]:
                axes = [int(a) % rank for a in self.const(names[2]).reshape(-1)]
                full = [0] * (2 * rank)
                for at, axis in enumerate(axes):
                    full[axis], full[rank + axis] = pads[at], pads[len(axes) + at]
                pads = full
        spatial = rank - 2
        if any(pads[axis] or pads[rank + axis] for axis in (0, 1)) or spatial not in (1, 2, 3) or min(pads) < 0:
            self.refuse(node, "Pad of the batch or channel axis, or a crop")
            return
        kinds = {"constant": "ConstantPad", "reflect": "ReflectionPad", "edge": "ReplicationPad", "wrap": "CircularPad"}
        padding = _torch_pads(pads[2:rank] + pads[rank + 2 :])
        if mode == "constant" and fill == 0.0:
            self.emit(node, f"ZeroPad{spatial}d", {"padding": padding}, [x])
        elif mode in kinds:
            arguments: dict[str, Any] = {"padding": padding}
            if mode == "constant":
                arguments["value"] = _float(fill)
            self.emit(node, f"{kinds[mode]}{spatial}d", arguments, [x])
        else:
            self.refuse(node, f"Pad mode {mode}")

    def op_Resize(self, node: Any) -> None:  # noqa: N802
        x = node.input[0]
        shape, out = self.shape(x), self.shape(node.output[0])
        if shape is None or out is None or None in out or len(shape) < 3 or tuple(out[:2]) != tuple(shape[:2]):
            self.refuse(node, "Resize (of the batch or channel axis, or to an unknown size)")
            return
        spatial = len(shape) - 2
        mode = self.attr(node, "mode", "nearest")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        transform = self.attr(node, "coordinate_transformation_mode", "half_pixel")
        transform = transform.decode() if isinstance(transform, bytes) else transform
        names = (list(node.input) + ["", "", ""])[1:4]
        scales_input = names[0] if self.opset < 11 else names[1]  # opset 10: X, scales; later: X, roi, scales, sizes
        scales = self.const(scales_input) if scales_input else None
        arguments: dict[str, Any] = {}
        if scales is not None and scales.size == len(shape):
            factors = [float(f) for f in scales.reshape(-1)[2:]]
            factors_int = [int(f) if float(f).is_integer() else f for f in factors]
            arguments["scale_factor"] = factors_int[0] if len(set(factors_int)) == 1 else factors_int
        else:
            sizes = [int(s) for s in out[2:]]
            arguments["size"] = sizes[0] if len(set(sizes)) == 1 else sizes
        if mode == "nearest":
            nearest = self.attr(node, "nearest_mode", "round_prefer_floor")
            nearest = nearest.decode() if isinstance(nearest, bytes) else nearest
            if transform == "asymmetric" and nearest == "floor":
                pass
            elif transform in ("half_pixel", "pytorch_half_pixel") and nearest == "round_prefer_ceil":
                arguments["mode"] = "nearest-exact"
            else:
                self.refuse(node, f"Resize nearest with {transform} / {nearest}")
                return
        elif mode in ("linear", "cubic"):
            name = {
                ("linear", 1): "linear",
                ("linear", 2): "bilinear",
                ("linear", 3): "trilinear",
                ("cubic", 2): "bicubic",
            }
            if (mode, spatial) not in name or transform not in ("align_corners", "half_pixel", "pytorch_half_pixel"):
                self.refuse(node, f"Resize {mode} over {spatial} axes with {transform}")
                return
            arguments["mode"] = name[(mode, spatial)]
            if transform == "align_corners":
                arguments["align_corners"] = True
        else:
            self.refuse(node, f"Resize mode {mode}")
            return
        self.emit(node, "Upsample", arguments, [x])

    # -- finishing --

    def output_layer(self) -> _Pending | str:
        name = self.graph.output[0].name
        producer = self.producer.get(name)
        if producer is None or producer == _BLOCKED:
            raise SpecError(f"{self.path}: the graph's output {name} is a constant, not computed from the input")
        return producer

    def notes(self, layers: list[ImportedLayer]) -> list[str]:
        notes = []
        if len(self.graph.output) > 1:
            others = ", ".join(output.name for output in self.graph.output[1:])
            notes.append(
                f"the graph has {len(self.graph.output)} outputs; the spec follows the first ({others} left out)"
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

        return [a.astype(helper.tensor_dtype_to_np_dtype(_attribute(onnx, node, "to", 1)))]
    if op in ("Unsqueeze", "Squeeze"):
        axes = _attribute(onnx, node, "axes", None)
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
        return [np.take(a, arrays[1].astype(np.int64), axis=_attribute(onnx, node, "axis", 0))]
    if op == "Concat":
        return [
            np.concatenate([np.asarray(x) for x in arrays if x is not None], axis=_attribute(onnx, node, "axis", 0))
        ]
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


# -- small helpers ----------------------------------------------------------------------------------------------


def _attribute(onnx: Any, node: Any, name: str, default: Any) -> Any:
    for attribute in node.attribute:
        if attribute.name == name:
            value = onnx.helper.get_attribute_value(attribute)
            return list(value) if isinstance(value, (list, tuple)) else value
    return default


def _short(values: list[int]) -> int | list[int]:
    """PyTorch's form: one int where every axis has the same value."""
    values = [int(value) for value in values]
    return values[0] if len(set(values)) == 1 else values


def _put(arguments: dict[str, Any], key: str, values: list[int], default: int) -> None:
    if any(int(value) != default for value in values):
        arguments[key] = _short(values)


def _torch_pads(pads: list[int]) -> int | list[int]:
    """ONNX's (begin per axis..., end per axis...) as PyTorch's padding: last axis first, (begin, end) pairs."""
    spatial = len(pads) // 2
    flat = []
    for axis in reversed(range(spatial)):
        flat += [int(pads[axis]), int(pads[spatial + axis])]
    return flat[0] if len(set(flat)) == 1 else flat


def _float(value: float) -> float:
    """A float32 attribute as the shortest decimal that reads back to the same float32 (1e-05, not 9.99e-06)."""
    import numpy as np

    single = np.float32(value)
    for digits in range(1, 10):
        text = f"{float(single):.{digits}g}"
        if np.float32(float(text)) == single:
            return float(text)
    return float(single)
