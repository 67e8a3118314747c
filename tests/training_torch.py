"""Test helper: what PyTorch itself saves for backward and how many multiply-accumulates its backward pass takes,
to compare with cnncalc's training rules (cnncalc.training, Layer.saved, Layer.backward_macs).

Saved memory is seen by `torch.autograd.graph.saved_tensors_hooks` in train mode and told apart by storage
(`untyped_storage().data_ptr()`), so a memory saved twice counts once; parameters and buffers are left out.
Backward MACs are `FlopCounterMode`'s backward FLOPs / 2, with its convolution weight-gradient formula corrected
for `groups` (it forgets them: docs/tools-disagree.md). Import only after `pytest.importorskip("torch")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode, conv_backward_flop

from cnncalc.graph import NETWORK_INPUT, Graph

aten = torch.ops.aten
_conv_backward_formula = getattr(conv_backward_flop, "__wrapped__", conv_backward_flop)  # on shapes, not tensors


def _conv_backward_with_groups(
    grad_out_shape: Any,
    x_shape: Any,
    w_shape: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
    output_padding: Any,
    groups: int,
    output_mask: list[bool],
    out_shape: Any,
    **kwargs: Any,
) -> int:
    """FlopCounterMode's own convolution_backward formula, its weight-gradient term divided by groups: that term
    convolves the input with the output gradient as if every output channel read every input channel."""
    args = (grad_out_shape, x_shape, w_shape, bias, stride, padding, dilation, transposed, output_padding, groups)
    inputs = _conv_backward_formula(*args, [output_mask[0], False, False], out_shape)
    weights = _conv_backward_formula(*args, [False, output_mask[1], False], out_shape)
    assert weights % groups == 0
    return inputs + weights // groups


def counter(corrected: bool = True) -> FlopCounterMode:
    mapping = {aten.convolution_backward: _conv_backward_with_groups} if corrected else {}
    return FlopCounterMode(display=False, custom_mapping=mapping)


def backward_macs(run: Callable[[], Any], corrected: bool = True) -> int:
    """FlopCounterMode's count of the backward pass of `run()`'s output (summed against ones), / 2."""
    out = run()
    if not out.requires_grad:
        return 0
    with counter(corrected) as mode:
        out.backward(torch.ones_like(out))
    flops = mode.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


class SavedMemory:
    """Records every memory saved for backward while active, in the order first saved, with its size."""

    def __init__(self, excluded: set[int]) -> None:
        self.excluded = excluded  # parameters' and buffers' storages
        self.memories: dict[int, int] = {}  # data_ptr -> nbytes
        self.tensors: list[Any] = []  # kept alive so no storage is freed and its address reused

    def pack(self, tensor: Any) -> Any:
        storage = tensor.untyped_storage()
        self.tensors.append(tensor)
        pointer = storage.data_ptr()
        if pointer not in self.excluded and pointer not in self.memories:
            self.memories[pointer] = storage.nbytes()
        return tensor

    def hooks(self) -> Any:
        return torch.autograd.graph.saved_tensors_hooks(self.pack, lambda tensor: tensor)

    def total(self) -> int:
        return sum(self.memories.values())


def state_storages(modules: Any) -> set[int]:
    return {
        tensor.untyped_storage().data_ptr()
        for module in modules
        for tensor in (*module.parameters(), *module.buffers())
    }


def torchvision_ops() -> None:
    """StochasticDepth runs torchvision's where it imports (tests/torchvision_models.py makes it import)."""
    try:
        from torchvision_models import torchvision

        torchvision()
    except Exception:  # noqa: BLE001  (absent: torch_graph's transcription runs instead)
        pass


def train_graph(graph: Graph, dtype: Any = torch.float32) -> Any:
    """The graph in torch (TorchGraph) in train mode, frozen layers' parameters not requiring grad."""
    from torch_graph import TorchGraph

    if any(node.kind == "StochasticDepth" for node in graph.nodes):
        torchvision_ops()

    net = TorchGraph(graph, dtype=dtype)
    trainable = {node.name: node.trainable for node in graph.nodes}
    for name, module in net.modules.items():
        module.train()
        for parameter in module.parameters():
            parameter.requires_grad_(trainable[name])
    return net


def graph_figures(graph: Graph, seed: int = 0) -> tuple[dict[str, int], dict[str, int], int, int]:
    """Per layer and in total: the bytes PyTorch saves (each memory at the first layer saving it) and the
    backward MACs, the network in train mode, float32, batch graph.batch, the input not requiring grad.
    Per layer, a layer's backward MACs are measured on the layer alone, fed the values its inputs had, each
    requiring grad as it did in the network; the totals are measured on the whole network at once."""
    torch.manual_seed(seed)
    net = train_graph(graph)
    x = torch.randn((graph.batch, *graph.input_shape))
    saved = SavedMemory(state_storages(net.modules.values()))
    per_layer: dict[str, int] = {}
    values = {NETWORK_INPUT: x}
    with saved.hooks():
        for node in graph.nodes:
            before = saved.total()
            values[node.name] = net.ops[node.name]([values[name] for name in node.inputs])
            per_layer[node.name] = saved.total() - before
    output = values[graph.output]
    total_macs = 0
    if output.requires_grad:
        with counter() as mode:
            output.backward(torch.ones_like(output))
        total_macs = mode.get_total_flops() // 2
    macs = {}
    for node in graph.nodes:
        inputs = [values[name] for name in node.inputs]

        def run(node: Any = node, inputs: list[Any] = inputs) -> Any:
            fresh = [value.detach().clone().requires_grad_(value.requires_grad) for value in inputs]
            return net.ops[node.name]([value * 1 if value.requires_grad else value for value in fresh])

        macs[node.name] = backward_macs(run)
    return per_layer, macs, saved.total(), total_macs
