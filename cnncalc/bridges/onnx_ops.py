"""The ONNX operators cnncalc reads, each as the cnncalc kind and arguments it is (PyTorch's names and defaults).

A mixin of the importer (cnncalc.bridges.from_onnx): each `op_<OpType>` reads one node (or a pattern starting
at it, such as x * sigmoid(x) -> SiLU) through the importer's `emit` (a layer) or `refuse` (listed as
unsupported, with the node's name). Shapes are the importer's (onnx's shape inference with the batch axis at 1);
constants are its folded values.
"""

from __future__ import annotations

import math
from typing import Any

_SQRT2 = math.sqrt(2.0)
BLOCKED = "#blocked"  # a tensor downstream of an unsupported node: already listed, not listed again


class OnnxOperators:
    """ONNX op type -> cnncalc layer(s); the importer supplies emit, refuse, attr, shape, const and the graph."""

    # Supplied by the importer (cnncalc.bridges.from_onnx._Importer).
    opset: int
    outputs: set[str]
    consumers: dict[str, list[Any]]
    pending: list[Any]

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
        self.producer[node.output[0]] = self.producer.get(node.input[0], BLOCKED)

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
        transform = self.attr(node, "coordinate_transformation_mode", "half_pixel")
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


# -- helpers ----------------------------------------------------------------------------------------------


def attribute(onnx: Any, node: Any, name: str, default: Any) -> Any:
    """A node's attribute by name (its default where absent): lists as lists, strings as str (onnx gives bytes)."""
    for attribute in node.attribute:
        if attribute.name == name:
            value = onnx.helper.get_attribute_value(attribute)
            if isinstance(value, (list, tuple)):
                return [_text(item) for item in value]
            return _text(value)
    return default


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


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
