"""Layer kinds: one module per kind or family, each class registered by its torch.nn name."""

from cnncalc.layers import (  # noqa: F401  (imported to register their kinds)
    activation,
    attention,
    conv,
    dropout,
    linear,
    merge,
    norm,
    pieces,
    pooling,
    rearrange,
    resize,
    scale,
)
from cnncalc.layers.base import POINTWISE, Layer, Shape, Window, fmt_shape
from cnncalc.layers.registry import REGISTRY, lookup, make_layer, register

__all__ = ["POINTWISE", "REGISTRY", "Layer", "Shape", "Window", "fmt_shape", "lookup", "make_layer", "register"]
