"""The real-world test of `cnncalc import`: torchvision's classification models, which nobody here wrote.

Every model is built with weights=None on the meta device (no memory, no initialization time), imported at its
natural input size, written as a spec and read back; its params (those the traced forward reaches), buffers,
output shape and MACs (FlopCounterMode's total / 2) must equal PyTorch's, measured on the model itself: the
modules that run in a forward pass (hooks) and torch's own FLOP counter. Models that cannot be imported yet are
listed below with what is missing (strict xfail: one that starts to import must be moved out of the list).
"""

from __future__ import annotations

import pytest
from torch_reference import pytorch_figures
from torchvision_models import classification_models, torchvision

# The published input sizes (torchvision's weights' crop sizes); 224 elsewhere, a ViT's own image_size.
INPUT_SIZES = {
    "inception_v3": 299,
    "efficientnet_b1": 240,
    "efficientnet_b2": 260,
    "efficientnet_b3": 300,
    "efficientnet_b4": 380,
    "efficientnet_b5": 456,
    "efficientnet_b6": 528,
    "efficientnet_b7": 600,
    "efficientnet_v2_s": 384,
    "efficientnet_v2_m": 480,
    "efficientnet_v2_l": 480,
}

# What cnncalc cannot express yet, per model (the Unsupported message names each operation and place).
_VIT = "the class token (torch.cat with an expanded parameter), the position embedding (x + parameter), x[:, 0]"
_SWIN = "torchvision.models.swin_transformer's shifted_window_attention, _patch_merging_pad and relative position bias"
NOT_YET = {
    **{name: _VIT for name in ("vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32")},
    **{name: _SWIN for name in ("swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b")},
    "maxvit_t": "einsum, x[...] slicing, unsqueeze, the relative position bias (parameter indexing)",
}


def build(name: str):  # type: ignore[no-untyped-def]
    """The model with weights=None on the meta device; RegNet computes its widths with tensors (.tolist()), which
    the meta device cannot, so its parameters are moved to meta as they are registered instead."""
    tv = torchvision()
    import torch

    try:
        with torch.device("meta"):
            return tv.models.get_model(name, weights=None).eval()
    except NotImplementedError:
        register, register_buffer = torch.nn.Module.register_parameter, torch.nn.Module.register_buffer

        def parameter_on_meta(module, key, parameter):  # type: ignore[no-untyped-def]
            if parameter is not None:
                parameter = torch.nn.Parameter(parameter.to("meta"), parameter.requires_grad)
            register(module, key, parameter)

        def buffer_on_meta(module, key, buffer, persistent=True):  # type: ignore[no-untyped-def]
            register_buffer(module, key, None if buffer is None else buffer.to("meta"), persistent)

        torch.nn.Module.register_parameter = parameter_on_meta  # type: ignore[method-assign]
        torch.nn.Module.register_buffer = buffer_on_meta  # type: ignore[method-assign]
        try:
            return tv.models.get_model(name, weights=None).eval()
        finally:
            torch.nn.Module.register_parameter = register  # type: ignore[method-assign]
            torch.nn.Module.register_buffer = register_buffer  # type: ignore[method-assign]


def input_size(name: str, model) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    side = INPUT_SIZES.get(name, getattr(model, "image_size", 224))
    return (3, side, side)


def cnncalc_figures(model, name: str, shape: tuple[int, ...]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from cnncalc.analyze import analyze
    from cnncalc.bridges.from_torch import import_module
    from cnncalc.bridges.writer import write_spec
    from cnncalc.spec import parse_spec

    network, traced = import_module(model, shape, source=f"torchvision.models:{name}", name=name)
    totals = analyze(parse_spec(write_spec(network, fold=True), f"{name}.yaml")).totals
    assert list(traced) == list(totals.output_shape)
    return {
        "params": totals.params,
        "buffers": totals.buffers,
        "output_shape": list(totals.output_shape),
        "macs": totals.macs,
    }


def _cases() -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(reason=NOT_YET[name], strict=True)) if name in NOT_YET else name
        for name in classification_models()
    ]


@pytest.mark.parametrize("name", _cases())
def test_torchvision_model_imports_exactly(name: str) -> None:
    model = build(name)
    shape = input_size(name, model)
    assert cnncalc_figures(model, name, shape) == pytorch_figures(model, shape)


def test_every_model_is_tested() -> None:
    names = classification_models()
    if not names:
        pytest.skip("torchvision is not installed")
    assert len(names) == 80
    assert set(NOT_YET) <= set(names)
