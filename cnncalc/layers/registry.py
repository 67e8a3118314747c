"""Kinds registered by name, matched case-insensitively (PyTorch's class names: conv2d, Conv2d, CONV2D).

A kind's module is imported when the kind is first looked up, so that a spec loads only the modules of the kinds
it uses (start-up time is a feature; tests/test_cold_imports.py). `KIND_MODULES` says where each kind is; listing
the registry (iterating, len) imports every module.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from importlib import import_module
from typing import Any, TypeVar

from cnncalc.errors import LayerError
from cnncalc.layers.base import Layer, Shape

# Each module under cnncalc.layers and the kinds it registers, in the order an import of every module registers
# them (the registry lists kinds in this order whatever was looked up first: `cnncalc schema` stays the same).
# tests/test_cold_imports.py checks it against the modules' own registrations (a kind missing here would still be
# looked up, by importing every module, but `in` would not see it until then).
KIND_MODULES: dict[str, tuple[str, ...]] = {
    "norm": (
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "InstanceNorm1d",
        "InstanceNorm2d",
        "InstanceNorm3d",
        "LayerNorm",
        "RMSNorm",
        "GroupNorm",
    ),
    "activation": (
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Tanh",
        "Hardtanh",
        "Hardswish",
        "Hardsigmoid",
        "Softmax",
    ),
    "dropout": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "StochasticDepth"),
    "rearrange": ("Permute", "Transpose", "Reshape", "View", "Unflatten", "ChannelShuffle"),
    "linear": ("Linear", "Flatten", "Identity"),
    "merge": ("Add", "Concat", "Mul"),
    "attention": ("MatMul", "MultiheadAttention"),
    "conv": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "pieces": ("Chunk", "Split"),
    "pooling": (
        "MaxPool1d",
        "MaxPool2d",
        "MaxPool3d",
        "AvgPool1d",
        "AvgPool2d",
        "AvgPool3d",
        "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d",
        "AdaptiveMaxPool3d",
        "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d",
        "AdaptiveAvgPool3d",
    ),
    "resize": (
        "Upsample",
        "ZeroPad1d",
        "ZeroPad2d",
        "ZeroPad3d",
        "ConstantPad1d",
        "ConstantPad2d",
        "ConstantPad3d",
        "ReflectionPad1d",
        "ReflectionPad2d",
        "ReflectionPad3d",
        "ReplicationPad1d",
        "ReplicationPad2d",
        "ReplicationPad3d",
        "CircularPad1d",
        "CircularPad2d",
        "CircularPad3d",
        "CenterCrop",
    ),
    "scale": ("LayerScale",),
}
_MODULE_OF = {kind.lower(): module for module, kinds in KIND_MODULES.items() for kind in kinds}


class Registry(MutableMapping[str, type[Layer]]):
    """The kinds by lower-case name, each module imported on first need."""

    def __init__(self) -> None:
        self.kinds: dict[str, type[Layer]] = {}
        self.complete = False

    def load_all(self) -> None:
        if not self.complete:
            for module in KIND_MODULES:
                import_module(f"cnncalc.layers.{module}")
            self.complete = True

    def __getitem__(self, key: str) -> type[Layer]:
        found = self.kinds.get(key)
        if found is None:
            module = _MODULE_OF.get(key)
            if module is not None:
                import_module(f"cnncalc.layers.{module}")
            if key not in self.kinds:
                self.load_all()  # a kind not in KIND_MODULES, or not a kind: every module has had its say
            found = self.kinds[key]
        return found

    def __contains__(self, key: object) -> bool:
        """Whether `key` names a kind, from the index (a block named like a kind is refused without loading)."""
        return key in self.kinds or key in _MODULE_OF

    def __setitem__(self, key: str, cls: type[Layer]) -> None:
        self.kinds[key] = cls

    def __delitem__(self, key: str) -> None:
        del self.kinds[key]

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        listed = [key for key in _MODULE_OF if key in self.kinds]
        return iter(listed + [key for key in self.kinds if key not in _MODULE_OF])  # then any registered later

    def __len__(self) -> int:
        self.load_all()
        return len(self.kinds)


REGISTRY = Registry()

L = TypeVar("L", bound=type[Layer])


def register(cls: L) -> L:
    key = cls.kind.lower()
    if key in REGISTRY.kinds:
        raise RuntimeError(f"layer kind {cls.kind} registered twice")
    REGISTRY[key] = cls
    return cls


def lookup(kind: str, rank: int | None = None) -> type[Layer]:
    """The class for a kind name, or a LayerError with a did-you-mean (among kinds alike, one that takes an input
    of `rank` axes per sample, when known)."""
    key = kind.lower()
    cls = REGISTRY.kinds.get(key) or REGISTRY.get(key)  # the dict first: Mapping.get is Python code
    if cls is None:
        raise LayerError(
            f"unknown layer kind '{kind}'",
            hint=suggest_kind(kind, rank) or "run 'cnncalc kinds' to list the layer kinds",
        )
    return cls


def suggest_kind(word: str, rank: int | None = None) -> str | None:
    """'did you mean ...?' with the kind closest to `word`; among kinds about as close (conv: Conv1d, Conv2d,
    Conv3d), one that fits an input of `rank` axes per sample (a C x H x W input: Conv2d)."""
    import difflib  # only on the error path: keeps start-up fast

    kinds = {cls.kind.lower(): cls for cls in REGISTRY.values()}  # every kind (imports every module)
    lowered = word.lower()
    scores = {name: difflib.SequenceMatcher(None, lowered, name).ratio() for name in kinds}
    close = [name for name in scores if scores[name] >= 0.6]
    if not close:
        return None
    best = max(scores[name] for name in close)
    alike = [name for name in close if scores[name] >= best - 0.1]  # 'conv2' stays Conv2d even on a 3-D input
    fits = [name for name in alike if rank is not None and kinds[name].fits_rank(rank)]
    chosen = max(fits or [name for name in close if scores[name] == best], key=lambda name: (scores[name], name))
    return f"did you mean '{kinds[chosen].kind}'?"


def make_layer(kind: str, arguments: dict[str, Any] | None, *in_shapes: Shape) -> Layer:
    """Build one layer outside any spec: handy in tests and the library API."""
    rank = len(in_shapes[0]) if in_shapes else None
    return lookup(kind, rank)(dict(arguments or {}), tuple(tuple(s) for s in in_shapes))
