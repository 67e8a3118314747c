"""Layer kinds: one module per kind or family, each class registered by its torch.nn name. A module is imported
when one of its kinds is first looked up (cnncalc.layers.registry), so that a spec loads only what it uses."""

from cnncalc.layers.base import POINTWISE, Layer, Shape, Window, fmt_shape
from cnncalc.layers.registry import REGISTRY, lookup, make_layer, register

__all__ = ["POINTWISE", "REGISTRY", "Layer", "Shape", "Window", "fmt_shape", "lookup", "make_layer", "register"]
