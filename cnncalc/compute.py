"""What a layer's `forward` may use: the run's context (mode, seeded randomness, the multiply counter, recorded
statistics) and exact or 40-digit arithmetic helpers. Kinds never call the analyzer rules from `forward`, so the
executor checks the analyzers instead of repeating them."""

from __future__ import annotations

from functools import lru_cache
from math import lcm, prod
from operator import lshift, mul
from typing import TYPE_CHECKING, Any

from cnncalc.tensor import DIGITS

if TYPE_CHECKING:
    import random
    from decimal import Context as DecimalContext
    from decimal import Decimal
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

    def dots(self, xs: list[int], rows: PackedRows) -> list[int]:
        """The inner products of `xs` with each of the packed rows (PackedRows), in order; every multiply of
        every inner product is counted as one MAC, as `dot` counts them."""
        self.macs += len(xs) * rows.count
        return rows.products(xs)

    def multiply(self, count: int) -> None:
        """Count multiplies an inner product performs outside `dot` (a transposed convolution's scatter)."""
        self.macs += count

    def random(self) -> random.Random:  # `random` is imported here: only runs need it, not a cold summary
        """A generator seeded by the run's seed and the layer's name: the same mask on every run."""
        import random

        return random.Random(f"{self.seed}:{self.layer}")

    def record(self, **stats: Any) -> None:
        self.stats.setdefault(self.layer, {}).update(stats)


class PackedRows:
    """Equally long rows of ints (a layer's weight rows) whose inner products with one list are taken together.

    Each row is a field of `bits` bits in one integer per position: packed[w] = sum over rows o of
    rows[o][w] * 2**(o * bits). Then sum(x[w] * packed[w]) = sum over o of dot(x, rows[o]) * 2**(o * bits): one
    pass over x does the inner products of every row (Kronecker substitution), its multiplies done by CPython's
    long integer arithmetic in C, row by row within each. `largest` bounds |x[w]|, so every inner product lies in
    (-2**(bits - 1), 2**(bits - 1)) and its field is read back exactly (`products`). The results are the exact
    integers the inner products are; only the work per multiply shrinks. Packing rows of values from -128 to 127
    (generated weights, most given ones) takes a few operations in C per row (_byte_columns); other rows cost a
    Python operation per value, worth it where the rows meet many lists (a convolution's positions)."""

    FIELDS = 64  # rows per packed integer, so that reading the fields back stays linear in their number

    def __init__(self, rows: list[list[int]], largest: int) -> None:
        self.count = len(rows)
        self.rows = rows  # the rows themselves, for a replay of the plain inner products (benchmarks/bench_executor)
        length = len(rows[0]) if rows else 0
        signed = _offset_bytes(rows) if length else None
        weight = 128 if signed is not None else max((max(map(abs, row)) for row in rows if row), default=0)
        self.bits = (largest * weight * length).bit_length() + 1  # > |any inner product|, with a sign
        if signed is not None:  # whole bytes per field: the columns are then laid out in C (_byte_columns)
            self.bits = -(-self.bits // 8) * 8
        self.half = half = 1 << (self.bits - 1)
        self.mask = (1 << self.bits) - 1
        self.packs: list[tuple[list[int], int, list[int]]] = []  # (packed columns, offset, field shifts)
        for first in range(0, self.count, self.FIELDS):
            chunk = rows[first : first + self.FIELDS]
            shifts = [o * self.bits for o in range(len(chunk))]
            if signed is not None:
                columns = _byte_columns(signed[first : first + self.FIELDS], self.bits // 8, length)
            else:
                columns = [sum(map(lshift, column, shifts)) for column in zip(*chunk, strict=True)]
            self.packs.append((columns, sum(half << shift for shift in shifts), shifts))

    def products(self, xs: list[int]) -> list[int]:
        """dot(xs, row) for each row, in order. Adding `offset` (half in every field) makes every field
        non-negative, so each is read with a shift and a mask, less half."""
        mask, half = self.mask, self.half
        results: list[int] = []
        for columns, offset, shifts in self.packs:
            total = sum(map(mul, xs, columns), offset)
            results.extend(((total >> shift) & mask) - half for shift in shifts)
        return results


_PLUS_128 = bytes((b + 128) & 0xFF for b in range(256))  # a signed byte v (two's complement) -> v + 128


def _offset_bytes(rows: list[list[int]]) -> list[bytes] | None:
    """Each row's values + 128, one byte each (struct packs them as signed bytes, translate adds 128); None when a
    value lies outside -128..127 (struct refuses it)."""
    import struct

    packer = struct.Struct(f"{len(rows[0])}b")
    try:
        return [packer.pack(*row).translate(_PLUS_128) for row in rows]
    except struct.error:
        return None


def _byte_columns(rows: list[bytes], width: int, length: int) -> list[int]:
    """PackedRows' columns from _offset_bytes' rows, fields of `width` bytes, without a Python operation per value:
    each row's bytes go into the low byte of its field in every column at once (a strided slice of one buffer);
    each column then is one int read from its bytes, less the 128 added to each of its fields."""
    count = len(rows)
    stride = count * width
    buffer = bytearray(stride * length)
    for o, row in enumerate(rows):
        buffer[o * width :: stride] = row
    added = int.from_bytes((b"\x80" + bytes(width - 1)) * count, "little")
    view = memoryview(buffer)
    return [int.from_bytes(view[w * stride : (w + 1) * stride], "little") - added for w in range(length)]


# -- 40-digit arithmetic ----------------------------------------------------------------------------------------
#
# Where a value leaves the rationals (exp, erf, square roots), it is computed with a fixed number of digits, exp in
# binary fixed point (exp_ratio), the rest in decimal floating point at WORKING_DIGITS, and handed back as a ratio
# of ints. The work is bounded whatever the argument: the argument is first read to a fixed number of digits (one
# integer division, linear in its length), exp reduces the range itself (exp(-1e6) costs what exp(-1) costs), and
# a result whose magnitude is below 10**-UNDERFLOW becomes 0 rather than a ratio of 434,294-digit integers. That is
# far below what an approximate tensor keeps anyway (layers/norm.py's ratio_tensor: 10**-400 absolute) and below
# float64's smallest value (5e-324), so no figure the executor prints changes.

WORKING_DIGITS = DIGITS + 10  # significant digits of the decimal arithmetic behind each approximate value
UNDERFLOW = 500  # an approximate result below 10**-UNDERFLOW in magnitude is 0
_LOG10_2 = 0.30102999566398120


@lru_cache
def working(extra: int = 0) -> DecimalContext:
    """A decimal context of WORKING_DIGITS + extra digits whose exponents never overflow or underflow (decimal's
    default range stops at 10**999999, below which exp would return 0 with no error)."""
    from decimal import MAX_EMAX, MIN_EMIN
    from decimal import Context as DecimalContext

    return DecimalContext(prec=WORKING_DIGITS + extra, Emax=MAX_EMAX, Emin=MIN_EMIN)


def decimal_exponent(numerator: int, denominator: int) -> int:
    """The decimal exponent of |numerator / denominator| (numerator != 0), within one: from bit lengths, O(1)."""
    return int((abs(numerator).bit_length() - denominator.bit_length()) * _LOG10_2)


def to_decimal(value: Fraction | int, digits: int = WORKING_DIGITS) -> Decimal:
    """value rounded toward zero to at least `digits` significant digits (see decimal_of)."""
    return decimal_of(value.numerator, value.denominator, digits)


def decimal_of(numerator: int, denominator: int, digits: int = WORKING_DIGITS) -> Decimal:
    """numerator / denominator (denominator > 0) rounded toward zero to at least `digits` significant digits. One
    integer division whose quotient has about `digits` digits, so the cost is linear in the operands' lengths
    (decimal's own conversion of a long int is quadratic: 0.2 s for 100,000 digits; so is a Fraction's gcd)."""
    from decimal import Decimal

    if numerator == 0:
        return Decimal(0)
    size = abs(numerator)
    if denominator == 1 and size.bit_length() < 3.3 * digits:
        return Decimal(numerator)  # exactly
    shift = digits + 2 - decimal_exponent(size, denominator)  # the quotient gets digits + 1 to digits + 3 digits
    mantissa = (size * 10**shift) // denominator if shift >= 0 else size // (denominator * 10**-shift)
    return Decimal(f"{'-' if numerator < 0 else ''}{mantissa}E{-shift}")


def argument(value: Fraction | int) -> Decimal:
    """value as the argument of exp or erf: WORKING_DIGITS + 5 significant digits and as many more as its integer
    part has, so that exp(value) keeps WORKING_DIGITS relative digits (the error of exp(x) is x's absolute one)."""
    numerator = value.numerator
    if numerator == 0:
        return to_decimal(value)
    whole = max(0, decimal_exponent(numerator, value.denominator) + 1)
    return to_decimal(value, WORKING_DIGITS + 5 + whole)


def to_ratio(value: Decimal, flush: bool = True) -> tuple[int, int]:
    """A finite decimal as a ratio of ints; with `flush`, 0 where |value| < 10**-UNDERFLOW (see above)."""
    if not value or (flush and value.adjusted() < -UNDERFLOW):
        return 0, 1
    return value.as_integer_ratio()


# Below this, exp is taken as 0 without computing it: e**EXP_FLOOR is 10**-(UNDERFLOW + 400), too small to count
# even multiplied by the largest float a spec can write (1.8e308, an ELU's alpha). Many values a deep stack of
# generated integer weights reaches lie beyond it.
EXP_FLOOR = -int((UNDERFLOW + 400) * 2.302585092994046)


EXP_BITS = 240  # binary digits of exp_ratio's fixed-point arithmetic: 72 decimal digits, 60 after the squarings
_HALVINGS = 10  # exp(r) as exp(r / 2**10) squared ten times: a short series


@lru_cache
def _ln2(bits: int) -> int:
    """ln(2) * 2**bits, rounded down."""
    context = working(bits // 3 - WORKING_DIGITS + 20)
    return int(context.multiply(context.ln(2), context.power(2, bits)))


def exp_ratio(value: Fraction | int) -> tuple[int, int]:
    """exp(value) as a ratio of ints (a power of two below), good to 60 significant digits; 0 below e**EXP_FLOOR.

    In binary fixed point with EXP_BITS digits after the point, three times faster than decimal's exp: value is
    read once (an integer division, linear in its length), reduced to r = value - k ln 2 with |r| <= ln(2) / 2,
    exp(r / 2**_HALVINGS) summed as a series of some ten terms and squared back; then exp(value) = 2**k exp(r).
    The error of the fixed point is absolute in value, hence relative in exp(value): 2**-200 or better for any
    value above EXP_FLOOR."""
    if value < EXP_FLOOR:
        return 0, 1
    if value == 0:
        return 1, 1  # the one rational value
    bits = EXP_BITS
    x = (value.numerator << bits) // value.denominator
    ln2 = _ln2(bits)
    k = (2 * x + ln2) // (2 * ln2)  # the nearest integer to value / ln 2
    r = (x - k * ln2) >> _HALVINGS
    term = total = 1 << bits
    n = 1
    while term:
        term = (term * r >> bits) // n
        total += term
        n += 1
    for _ in range(_HALVINGS):
        total = total * total >> bits
    return (total << (k - bits), 1) if k >= bits else (total, 1 << (bits - k))


def shortened(value: Fraction) -> Fraction:
    """value itself where its denominator is short (the executor's tensors keep theirs below 10**400 or so), else
    value rounded to WORKING_DIGITS + 10 significant digits (0 below 10**-UNDERFLOW): what an approximate function
    needs of the argument it multiplies by, so that results stay short ratios whatever the input was written with."""
    from fractions import Fraction

    if value.denominator.bit_length() <= 2048:
        return value
    rounded = to_decimal(value, WORKING_DIGITS + 10)
    return Fraction(*to_ratio(rounded)) if rounded.adjusted() >= -UNDERFLOW else Fraction(0)


def expm1_decimal(value: Fraction | int) -> Decimal:
    """exp(value) - 1 to WORKING_DIGITS significant digits. Near 0 the subtraction cancels as many leading digits
    as value has leading zeros, so exp is taken with that many more (at most WORKING_DIGITS more: below
    10**-WORKING_DIGITS, value + value**2 / 2 is exp(value) - 1 to twice the digits kept)."""
    numerator, denominator = value.numerator, value.denominator
    if numerator == 0:
        return to_decimal(0)
    if value < EXP_FLOOR:
        return to_decimal(-1)
    magnitude = decimal_exponent(numerator, denominator)
    if magnitude < -WORKING_DIGITS:
        context = working(5)
        x = to_decimal(value, WORKING_DIGITS + 5)
        return context.add(x, context.divide(context.multiply(x, x), 2))
    lost = max(0, -magnitude) + 2
    context = working(lost)
    whole = max(0, magnitude + 1)
    x = to_decimal(value, WORKING_DIGITS + lost + 5 + whole)
    return working().plus(context.subtract(context.exp(x), 1))


def expm1_ratio(value: Fraction | int) -> tuple[int, int]:
    """exp(value) - 1 as a ratio of ints, good to DIGITS significant digits (0 below 10**-UNDERFLOW)."""
    return to_ratio(expm1_decimal(value))


def sqrt_ratio(numerator: int, denominator: int) -> tuple[int, int]:
    """sqrt(numerator / denominator) as a ratio of ints, good to DIGITS significant digits, in time linear in
    the operands' lengths; a power of ten as the denominator (never flushed to 0: it is divided by)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("square root of a negative number")
    if numerator == 0:
        return 0, 1
    context = working()
    return to_ratio(context.sqrt(decimal_of(numerator, denominator, WORKING_DIGITS + 5)), flush=False)


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
    if mode != "zeros" and any(s == 0 and n > 0 for s, n in zip(spatial, padded, strict=True)):
        # The analyzers refuse this as PyTorch does; a message, not an IndexError, if a kind ever lets it through.
        from cnncalc.errors import LayerError

        axis = next(k for k, (s, n) in enumerate(zip(spatial, padded, strict=True)) if s == 0 and n > 0)
        raise LayerError(
            f"{mode} padding has no element to copy along spatial axis {axis + 1} of {len(spatial)}, which is empty",
            arg="padding",
            hint="keep at least one element along it, or pad with zeros",
        )
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
