"""Test helper: torchvision's model definitions on the CPU build of torch, without torchvision's C++ operators.

torchvision 0.28.0's PyPI wheel links CUDA libraries: with torch 2.13.0's CPU build its `_C` extension fails to
load, and importing it then fails where it registers fake kernels for `torchvision::nms` and `torchvision::qnms`,
operators that extension would have defined. Declaring those two schemas first (their signatures as in
torchvision's csrc/ops/nms.cpp and quantized/cpu/qnms_kernel.cpp) lets the import finish; the classification
models use none of its C++ operators. CI installs it with `pip install --no-deps torchvision==0.28.0` (and Pillow).

`torchvision()` returns the module, or skips the calling test where torch or torchvision is absent.
"""

from __future__ import annotations

from types import ModuleType

import pytest

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library: object | None = None  # kept alive: a torch.library.Library's definitions go when it is collected


def torchvision() -> ModuleType:
    torch = pytest.importorskip("torch")
    global _library
    if _library is None and not _declared(torch, "torchvision::nms"):  # torchvision's _C did not load
        library = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            library.define(schema)
        _library = library
    return pytest.importorskip("torchvision")


def _declared(torch: ModuleType, operator: str) -> bool:
    try:
        torch._C._dispatch_find_schema_or_throw(operator, "")
    except RuntimeError:
        return False
    return True


def classification_models() -> list[str]:
    """The names of torchvision's classification models (80 in 0.28), or [] where torchvision is absent."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return []
    try:
        module = torchvision()
    except pytest.skip.Exception:
        return []
    return sorted(module.models.list_models(module=module.models))
