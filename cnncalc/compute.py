"""What a layer's `forward` may use: the run's context (mode, seeded randomness, the multiply counter, recorded
statistics) and exact or 40-digit arithmetic helpers. Kinds never call the analyzer rules from `forward`, so the
executor checks the analyzers instead of repeating them."""

from __future__ import annotations

import random
from math import gcd, isqrt, lcm, prod
from operator import mul
from typing import TYPE_CHECKING, Any

from cnncalc.tensor import DIGITS

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.tensor import Tensor

MODES = ("eval", "train")


class Context:
    """One forward pass: PyTorch's train or eval mode, the seed for dropout masks, and what was counted."""

    def __init__(self, mode: str = "eval", seed: int = 0) -> None:
        self.mode = mode
        self.seed = seed
        self.macs = 0  # multiplies of inner products (conv, transposed conv, linear), counted where performed
        self.layer = ""  # the node being run, for seeding and recording
        self.stats: dict[str, dict[str, Any]] = {}  # per node: the statistics a normalization used

    @property
    def training(self) -> bool:
        return self.mode == "train"

    def dot(self, xs: list[int], ws: list[int]) -> int:
        """The inner product of two equally long lists of ints; every multiply is counted as one MAC."""
        self.macs += len(xs)
        return sum(map(mul, xs, ws))

    def multiply(self, count: int) -> None:
        """Count multiplies an inner product performs outside `dot` (a transposed convolution's scatter)."""
        self.macs += count

    def random(self) -> random.Random:
        """A generator seeded by the run's seed and the layer's name: the same mask on every run."""
        return random.Random(f"{self.seed}:{self.layer}")

    def record(self, **stats: Any) -> None:
        self.stats.setdefault(self.layer, {}).update(stats)


def sqrt_ratio(numerator: int, denominator: int) -> tuple[int, int]:
    """sqrt(numerator / denominator) as a ratio of ints, good to DIGITS significant digits (rounded down)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("square root of a negative number")
    if numerator == 0:
        return 0, 1
    # Scale so the integer square root has at least DIGITS digits whatever the magnitude.
    shift = DIGITS + max(0, len(str(denominator)) - len(str(numerator))) // 2 + 1
    scale = 10**shift
    root = isqrt(numerator * denominator * scale * scale)
    out_den = denominator * scale
    common = gcd(root, out_den)
    return root // common, out_den // common


def exp_ratio(value: Fraction | int) -> tuple[int, int]:
    """exp(value) as a ratio of ints, good to DIGITS significant digits."""
    from decimal import Context as DecimalContext
    from decimal import Decimal

    context = DecimalContext(prec=DIGITS + 10)
    numerator = getattr(value, "numerator", value)
    denominator = getattr(value, "denominator", 1)
    result = context.divide(Decimal(numerator), Decimal(denominator)).exp(context)
    return result.as_integer_ratio()


def tanh_ratio(value: Fraction | int) -> tuple[int, int]:
    """tanh(value) = (e^2x - 1) / (e^2x + 1) as a ratio of ints, good to DIGITS significant digits."""
    p, q = exp_ratio(2 * value)
    return p - q, p + q


def source_index(i: int, size: int, mode: str) -> int | None:
    """The input index that padded position i (0 <= i < size is inside) reads, in PyTorch's padding modes;
    None where the value is the constant (zeros) padding."""
    if 0 <= i < size:
        return i
    if mode == "reflect":  # mirror without repeating the edge
        period = 2 * (size - 1)
        i = abs(i) % period if period else 0
        return period - i if i >= size else i
    if mode == "replicate":
        return 0 if i < 0 else size - 1
    if mode == "circular":
        return i % size
    return None


def plane_sources(
    spatial: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...], mode: str
) -> tuple[list[int], tuple[int, ...]]:
    """For every position of a padded plane, the flat offset it reads in the unpadded plane (-1: a zero), and
    the padded sizes. Padding by before/after per axis in `mode` ('zeros', 'reflect', 'replicate', 'circular');
    negative amounts crop."""
    from itertools import product

    padded = tuple(s + b + a for s, b, a in zip(spatial, before, after, strict=True))
    in_strides = [prod(spatial[k + 1 :]) for k in range(len(spatial))]
    per_axis = [
        [source_index(p - b, s, mode) for p in range(n)] for s, b, n in zip(spatial, before, padded, strict=True)
    ]
    sources = [
        -1 if None in position else sum(i * st for i, st in zip(position, in_strides, strict=True))  # type: ignore[misc]
        for position in product(*per_axis)
    ]
    return sources, padded


def pad_planes(
    data: list[int], planes: int, spatial: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...], mode: str
) -> tuple[list[int], tuple[int, ...]]:
    """Pad every plane (the last len(spatial) axes) of `data`; returns the data and the padded sizes."""
    sources, padded = plane_sources(spatial, before, after, mode)
    size = prod(spatial)
    out: list[int] = []
    for plane in range(planes):
        base = plane * size
        out.extend(data[base + o] if o >= 0 else 0 for o in sources)
    return out, padded


def fold_planes(
    grad: list[int], planes: int, spatial: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...], mode: str
) -> list[int]:
    """The gradient of pad_planes: each padded position's gradient goes back to the input position it read
    (summed where reflect, replicate or circular read one position several times); zeros padding drops it."""
    sources, padded = plane_sources(spatial, before, after, mode)
    size, padded_size = prod(spatial), prod(padded)
    out = [0] * (planes * size)
    for plane in range(planes):
        base, padded_base = plane * size, plane * padded_size
        for offset, source in enumerate(sources):
            if source >= 0:
                out[base + source] += grad[padded_base + offset]
    return out


def with_channel_bias(
    numerators: list[int],
    denominator: int,
    params: dict[str, Tensor],
    bias: bool,
    out_shape: tuple[int, ...],
    batch: int,
    approximate: bool = False,
) -> Tensor:
    """The output tensor (batch, *out_shape) of numerators over `denominator`, plus params['bias'] per channel
    (axis 1) when `bias`; both brought over their least common denominator."""
    from cnncalc.tensor import Tensor

    shape = (batch, *out_shape)
    if not bias:
        return Tensor(shape, numerators, denominator, approximate)
    b = params["bias"]
    common = lcm(denominator, b.denominator)
    scale, b_scale = common // denominator, common // b.denominator
    channels = out_shape[0]
    plane = prod(out_shape[1:])
    out = []
    for n in range(batch):
        for c in range(channels):
            add = b.data[c] * b_scale
            start = (n * channels + c) * plane
            out.extend(v * scale + add for v in numerators[start : start + plane])
    return Tensor(shape, out, common, approximate or b.approximate)
