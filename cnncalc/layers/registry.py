"""Kinds registered by name, matched case-insensitively (PyTorch's class names: conv2d, Conv2d, CONV2D)."""

from __future__ import annotations

from typing import Any, TypeVar

from cnncalc.args import did_you_mean
from cnncalc.errors import LayerError
from cnncalc.layers.base import Layer, Shape

REGISTRY: dict[str, type[Layer]] = {}

L = TypeVar("L", bound=type[Layer])


def register(cls: L) -> L:
    key = cls.kind.lower()
    if key in REGISTRY:
        raise RuntimeError(f"layer kind {cls.kind} registered twice")
    REGISTRY[key] = cls
    return cls


def lookup(kind: str) -> type[Layer]:
    """The class for a kind name, or a LayerError with a did-you-mean."""
    cls = REGISTRY.get(kind.lower())
    if cls is None:
        hint = did_you_mean(kind, [c.kind for c in REGISTRY.values()])
        raise LayerError(
            f"unknown layer kind '{kind}'",
            hint=hint or "run 'cnncalc kinds' to list the layer kinds",
        )
    return cls


def make_layer(kind: str, arguments: dict[str, Any] | None, *in_shapes: Shape) -> Layer:
    """Build one layer outside any spec: handy in tests and the library API."""
    return lookup(kind)(dict(arguments or {}), tuple(tuple(s) for s in in_shapes))
