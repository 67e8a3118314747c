"""Test helper: a cnncalc Graph as a runnable PyTorch function, so tests can run the very same network in torch.

Every node becomes `getattr(torch.nn, layer.kind)(**arguments)`, the arguments being the layer's parsed values
with the sizes inferred from the graph filled in (in_channels, num_features, ...). cnncalc's merges, which have no
torch.nn class, are small torch functions: Add (sum), Concat (torch.cat along `dim`, PyTorch-counted) and Mul
(product with broadcasting), MatMul (torch.matmul); so are Chunk and Split (torch.chunk / torch.split, then the
piece `index`); CenterCrop follows torchvision's center_crop (torchvision itself is not needed). MultiheadAttention
gives its first output, the attention output, reading its one input three times (self-attention) or its three
inputs as query, key and value. LayerScale and StochasticDepth, which have no torch.nn class either, are small
modules here (StochasticDepth runs torchvision's where it imports).

For receptive-field measurement, `average_max_pools` swaps max pooling for averaging over the same windows, and
`fill_positive` sets weights that keep every gradient path positive. Import this module only after
`pytest.importorskip("torch")`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import reduce
from typing import Any

import torch

from cnncalc.graph import NETWORK_INPUT, Graph
from cnncalc.layers.base import Layer

Tensor = torch.Tensor
Op = Callable[[list[Tensor]], Tensor]


def layer_arguments(layer: Layer) -> dict[str, Any]:
    """The layer's arguments as parsed (defaults included), with inferred input sizes filled in."""
    return {arg.name: getattr(layer, arg.name) for arg in layer.arguments if arg.pytorch}


def center_crop(x: Tensor, size: tuple[int, ...]) -> Tensor:
    """torchvision.transforms.functional.center_crop on the trailing axes: zero-pad when the crop is larger
    (the odd pixel after), then cut at int(round((L - l) / 2)) (Python's round, half to even)."""
    axes = len(size)
    pads: list[int] = []
    for length, wanted in zip(reversed(x.shape[-axes:]), reversed(size), strict=True):
        missing = max(wanted - length, 0)
        pads += [missing // 2, (missing + 1) // 2]
    if any(pads):
        x = torch.nn.functional.pad(x, pads)
    for axis, wanted in enumerate(size, start=x.dim() - axes):
        start = int(round((x.shape[axis] - wanted) / 2.0))
        x = x.narrow(axis, start, wanted)
    return x


def _crop(layer: Layer) -> Op:
    """CenterCrop to `size`, or (no size, two inputs) to the second input's spatial size, as U-Net crops skips."""
    size = layer_arguments(layer)["size"]
    axes = len(layer.in_shape) - 1
    if size is None:
        return lambda xs: center_crop(xs[0], tuple(xs[1].shape[-axes:]))
    sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * axes
    return lambda xs: center_crop(xs[0], sizes)


def _merge_op(layer: Layer) -> Op | None:
    kind = layer.kind
    if kind == "Add":
        return lambda xs: reduce(torch.add, xs)
    if kind == "Mul":
        return lambda xs: reduce(torch.mul, xs)
    if kind == "Concat":
        dim = layer_arguments(layer).get("dim", 1)
        return lambda xs: torch.cat(xs, dim=dim)
    if kind == "CenterCrop":
        return _crop(layer)
    if kind in ("Chunk", "Split"):
        return _piece(layer)
    if kind == "MatMul":
        return lambda xs: torch.matmul(xs[0], xs[1])
    return _rearrange_op(layer)


def _rearrange_op(layer: Layer) -> Op | None:
    """Permute, Transpose, Reshape and View: tensor methods (no torch.nn class); the batch axis is kept."""
    args = layer_arguments(layer)
    if layer.kind == "Permute":
        return lambda xs: xs[0].permute(*args["dims"])
    if layer.kind == "Transpose":
        return lambda xs: xs[0].transpose(args["dim0"], args["dim1"])
    if layer.kind in ("Reshape", "View"):
        method = layer.kind.lower()
        return lambda xs: getattr(xs[0], method)(xs[0].shape[0], *args["shape"])
    return None


def _piece(layer: Layer) -> Op:
    """torch.chunk or torch.split along `dim`, then the piece `index` (the spec gives every piece its own)."""
    args = layer_arguments(layer)
    dim, index = args["dim"], getattr(layer, "index", None) or 0
    if layer.kind == "Chunk":
        return lambda xs: torch.chunk(xs[0], args["chunks"], dim)[index]
    cut = args["split_size_or_sections"]
    cut = list(cut) if isinstance(cut, tuple) else cut
    return lambda xs: torch.split(xs[0], cut, dim)[index]


class LayerScale(torch.nn.Module):
    """cnncalc's LayerScale as a module: `gamma` in the shape cnncalc gives it (C x 1 x 1 as torchvision's
    layer_scale, C as timm's gamma), multiplied on with broadcasting."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.ones(shape))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma


class StochasticDepth(torch.nn.Module):
    """torchvision.ops.StochasticDepth where torchvision imports; else a transcription of its stochastic_depth:
    the identity in eval or at p = 0, else a keep mask drawn per sample ('row') or once ('batch') with probability
    1 - p, divided by 1 - p unless that is 0."""

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: Tensor) -> Tensor:
        try:
            from torchvision.ops import stochastic_depth
        except ImportError:
            stochastic_depth = None
        if stochastic_depth is not None:
            return stochastic_depth(x, self.p, self.mode, self.training)
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(size, dtype=x.dtype).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise


def _cnncalc_module(layer: Layer) -> torch.nn.Module | None:
    """The module of a kind with learnable or mode-dependent state but no torch.nn class."""
    if layer.kind == "LayerScale":
        return LayerScale(layer.weights()["gamma"])
    if layer.kind == "StochasticDepth":
        return StochasticDepth(layer_arguments(layer)["p"], layer_arguments(layer)["mode"])
    return None


def _averaging_max_pool(module: torch.nn.Module, layer: Layer) -> Op:
    """A max pool's windows averaged instead of maximised: the same output positions reading the same inputs, but
    every read carries gradient (a max passes it to one element only). For receptive-field measurement."""
    args = layer_arguments(layer)
    dims = layer.dims
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    kernel, stride = _per_axis(args["kernel_size"], dims), _per_axis(args["stride"] or args["kernel_size"], dims)
    padding, dilation = _per_axis(args["padding"], dims), _per_axis(args["dilation"], dims)

    if set(dilation) == {1}:
        # Average pooling slides the same windows by the same rule (ceil_mode included), and is fast.
        average = getattr(torch.nn.functional, f"avg_pool{dims}d")
        return lambda xs: average(xs[0], kernel, stride, padding, ceil_mode=args["ceil_mode"])

    def run(xs: list[Tensor]) -> Tensor:
        x = xs[0]
        expected = module(x).shape  # the real pool's output shape, ceil_mode included
        lengths = x.shape[-dims:]
        # ceil_mode's extra window runs past the end: pad zeros there so a convolution makes as many outputs
        extra = [
            max((out - 1) * s + d * (k - 1) + 1 - length - 2 * p, 0)
            for out, s, d, k, length, p in zip(
                expected[-dims:], stride, dilation, kernel, lengths, padding, strict=True
            )
        ]
        pads = [amount for e in reversed(extra) for amount in (0, e)]
        x = torch.nn.functional.pad(x, pads)
        channels = x.shape[-dims - 1]
        weight = torch.full((channels, 1) + kernel, 1 / math.prod(kernel), dtype=x.dtype)
        out = conv(x, weight, stride=stride, padding=padding, dilation=dilation, groups=channels)
        assert out.shape == expected, (out.shape, expected)
        return out

    return run


def _per_axis(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def torch_op(layer: Layer, *, average_max_pools: bool = False) -> tuple[Op, torch.nn.Module | None]:
    """The torch function computing `layer` on a list of batched inputs, and its module (None for merges)."""
    merge = _merge_op(layer)
    if merge is not None:
        return merge, None
    own = _cnncalc_module(layer)
    if own is not None:
        return lambda xs: own(xs[0]), own
    cls = getattr(torch.nn, layer.kind)
    module = cls(**layer_arguments(layer))
    if average_max_pools and layer.kind.startswith("MaxPool"):
        return _averaging_max_pool(module, layer), module
    if average_max_pools and layer.kind.startswith("AdaptiveMaxPool"):
        average = getattr(torch.nn, layer.kind.replace("Max", "Avg"))(layer_arguments(layer)["output_size"])
        return lambda xs: average(xs[0]), module
    if layer.kind == "MultiheadAttention":  # one input is self-attention; the attention weights are not an output
        return lambda xs: module(*(xs * 3 if len(xs) == 1 else xs))[0], module
    if getattr(layer, "flip", False):  # cnncalc's true convolution: cross-correlation with the kernel mirrored
        spatial = tuple(range(2, 2 + layer.dims))
        return lambda xs: module._conv_forward(xs[0], module.weight.flip(spatial), module.bias), module
    return lambda xs: module(xs[0]), module


class TorchGraph:
    """The graph's network in torch (float64, eval mode). Calling it on a batch gives every node's output."""

    def __init__(self, graph: Graph, *, average_max_pools: bool = False, dtype: torch.dtype = torch.float64) -> None:
        self.graph = graph
        self.ops: dict[str, Op] = {}
        self.modules: dict[str, torch.nn.Module] = {}
        for node in graph.nodes:
            op, module = torch_op(node.bound(), average_max_pools=average_max_pools)
            self.ops[node.name] = op
            if module is not None:
                self.modules[node.name] = module.to(dtype).eval()

    def fill_positive(self) -> TorchGraph:
        """Every weight 1 / (its elements per first index: a conv's fan-in), biases 0, running mean 0 and
        variance 1. A conv's output is then the average of what it reads: every path carries a positive product
        (no gradient cancels), and a small constant input stays of that order through convolutions (residual sums
        double it), where no activation saturates (sigmoid(300) is 1.0 in float64, whose gradient is 0) or sits
        on a kink (hardtanh at 1). Weights of 1 would do for convolutions alone."""
        with torch.no_grad():
            for module in self.modules.values():
                for name, parameter in module.named_parameters():
                    if name.endswith("bias"):
                        parameter.fill_(0.0)
                    else:
                        parameter.fill_(parameter.shape[0] / parameter.numel() if parameter.dim() else 1.0)
                for name, buffer in module.named_buffers():
                    if name.endswith("running_mean"):
                        buffer.fill_(0.0)
                    elif name.endswith("running_var"):
                        buffer.fill_(1.0)
        return self

    def __call__(self, x: Tensor) -> dict[str, Tensor]:
        values = {NETWORK_INPUT: x}
        for node in self.graph.nodes:
            values[node.name] = self.ops[node.name]([values[name] for name in node.inputs])
        return values
