"""Test helper: torchvision's model definitions on the CPU build of torch, without torchvision's C++ operators.

torchvision 0.28.0's PyPI wheel links CUDA libraries: with torch 2.13.0's CPU build its `_C` extension fails to
load, and importing it then fails where it registers fake kernels for `torchvision::nms` and `torchvision::qnms`,
operators that extension would have defined. Declaring those two schemas first (their signatures as in
torchvision's csrc/ops/nms.cpp and quantized/cpu/qnms_kernel.cpp) lets the import finish; the classification
models use none of its C++ operators. CI installs it with `pip install --no-deps torchvision==0.28.0` (and Pillow).

`torchvision()` returns the module, or skips the calling test where torch or torchvision is absent. conftest.py
calls `import_torchvision()` once at start-up where torchvision is installed, so that a plain `import torchvision`
anywhere in the tests (torch_graph's StochasticDepth, peers that import it) works too.
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
    pytest.importorskip("torch")
    module = import_torchvision()
    if module is None:
        pytest.skip("torchvision is not installed")
    return module


def import_torchvision() -> ModuleType | None:
    """torchvision, imported; its two operators declared first where its `_C` does not load; None where absent.

    Where `_C` does load (a torchvision built for this torch), declaring them first would clash with its own
    definitions, so the plain import is tried first; a failed import leaves half-imported modules behind, which
    are dropped before the second try."""
    import importlib
    import importlib.util
    import sys

    if importlib.util.find_spec("torchvision") is None:
        return None
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
    for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
        del sys.modules[name]
    import torch

    global _library
    if _library is None:
        library = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            library.define(schema)
        _library = library
    return importlib.import_module("torchvision")


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
