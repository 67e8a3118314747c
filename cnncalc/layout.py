"""Volume layouts: the lectures write C x H x W and also H x W x C (the quiz's 64 x 64 x 16). cnncalc computes in
PyTorch's channels-first order; a layout only changes how shapes are read from a spec or the command line and how
they are printed."""

from __future__ import annotations

from cnncalc.errors import UsageError

LAYOUTS = ("chw", "hwc")


def check(layout: str) -> str:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout '{layout}' (valid: {', '.join(LAYOUTS)})")
    return layout


def to_chw(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """A per-sample shape written in `layout` as channels-first (H x W x C -> C x H x W)."""
    if layout == "hwc" and len(shape) > 1:
        return (shape[-1], *shape[:-1])
    return shape


def shown(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """A channels-first per-sample shape in `layout` for printing (C x H x W -> H x W x C)."""
    if layout == "hwc" and len(shape) > 1:
        return (*shape[1:], shape[0])
    return shape
