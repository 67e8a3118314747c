"""Test helper: what PyTorch itself says of a module, the reference `cnncalc import` is held to.

One forward pass (on meta tensors when the input is on the meta device): the params and buffers of the modules
that ran (their own, not their children's: a child that never runs, GoogLeNet's auxiliary heads in eval, is not
counted), the output shape per sample, and FlopCounterMode's total / 2 (attention on its math kernel, whose
products FlopCounterMode sees). Import only after `pytest.importorskip("torch")`.
"""

from __future__ import annotations


def pytorch_figures(model, shape: tuple[int, ...], device: str = "meta") -> dict[str, object]:  # type: ignore[no-untyped-def]
    """PyTorch's params, buffers, output shape and FLOPs / 2 of `model` (put in eval mode) on one sample of
    `shape`, on `device` (meta: nothing computed; a model built on the meta device needs it)."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    ran: list[torch.nn.Module] = []
    hooks = [m.register_forward_pre_hook(lambda m, _: ran.append(m)) for m in model.modules()]
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # its fused kernel is invisible to FlopCounterMode
    try:
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
            out = model.eval()(torch.zeros(1, *shape, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        torch.backends.mha.set_fastpath_enabled(fastpath)
    # A torch.nn module's own children need not run as modules (MultiheadAttention's out_proj): all its weights.
    params = {id(p): p.numel() for m in set(ran) for p in m.parameters(recurse=_torch_nn(m))}
    buffers = {id(b): b.numel() for m in set(ran) for b in m.buffers(recurse=_torch_nn(m))}
    return {
        "params": sum(params.values()),
        "buffers": sum(buffers.values()),
        "output_shape": list(out.shape[1:]),
        "macs": counter.get_total_flops() // 2,
    }


def _torch_nn(module) -> bool:  # type: ignore[no-untyped-def]
    return type(module).__module__.startswith("torch.nn")
