"""Helpers that keep large specs fast."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many long-lived objects.

    Building a 100,000-layer graph allocates millions of objects that all stay alive; the collector's repeated
    passes over them made loading quadratic-looking (2.5x slower per layer at 100k than at 1k). Reference
    counting still frees everything short-lived.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
