"""Bridges between cnncalc's specs and the frameworks: PyTorch modules and ONNX files in, PyTorch source out.

The core never imports a framework: torch and onnx are imported only inside the functions that need them, through
`require`, which turns a missing package into one line saying what to install (exit 2).

- `network`: the importers' common form (`ImportedNetwork`: cnncalc layers with PyTorch's module names and module
  tree), framework-free.
- `writer`: an ImportedNetwork as spec text; repeated modules of one class become uses of one block.
- `from_torch`: an `nn.Module` traced with torch.fx (its MetaTracer where control flow reads sizes) ->
  ImportedNetwork; its nodes mapped by `torch_ops`, their shapes taken from cnncalc's kinds where they map to
  layers (`kind_shapes`).
- `from_onnx`: an `.onnx` file -> ImportedNetwork; also what lets every command read `.onnx` files as specs. Its
  nodes are mapped by `onnx_ops`; `onnx_file` reads the file without the bytes of its large weights.
- `to_torch`: a spec's graph -> readable PyTorch source with no dependency on cnncalc; `module_tree` finds the
  module instances (block uses) and the order of their members.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from cnncalc.errors import CnncalcError

EXTRAS = {"torch": "torch", "onnx": "onnx"}  # module -> the cnncalc extra that installs it


class MissingDependency(CnncalcError):
    """A bridge needs a framework that is not installed."""


def require(module: str) -> ModuleType:
    """Import `module` (torch, onnx) or raise a one-line MissingDependency naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module.split(".")[0], module)
        raise MissingDependency(
            f"this needs {module.split('.')[0]}, which is not installed: pip install 'cnncalc[{extra}]'"
        ) from None


class Unsupported(CnncalcError):
    """A network uses operations cnncalc cannot express: each listed once, with every place it occurs."""

    def __init__(self, source: str, operations: dict[str, list[str]]) -> None:
        self.operations = operations
        lines = [f"{operation}: {_places(where)}" for operation, where in operations.items()]
        count = len(operations)
        super().__init__(
            f"{source} uses {count} operation{'s' * (count != 1)} cnncalc cannot express (nothing was written):\n  "
            + "\n  ".join(lines),
            hint="run 'cnncalc kinds' for what cnncalc can express",
        )


def _places(where: list[str], shown: int = 5) -> str:
    more = len(where) - shown
    return ", ".join(where[:shown]) + (f" and {more} more" if more > 0 else "")
