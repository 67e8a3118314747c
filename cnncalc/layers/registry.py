"""Kinds registered by name, matched case-insensitively (PyTorch's class names: conv2d, Conv2d, CONV2D)."""

from __future__ import annotations

from typing import Any, TypeVar

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


def lookup(kind: str, rank: int | None = None) -> type[Layer]:
    """The class for a kind name, or a LayerError with a did-you-mean (among kinds alike, one that takes an input
    of `rank` axes per sample, when known)."""
    cls = REGISTRY.get(kind.lower())
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

    kinds = {cls.kind.lower(): cls for cls in REGISTRY.values()}
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
