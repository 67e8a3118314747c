"""Pooling: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d and AdaptiveMaxPool1d/2d/3d.

Output size per axis (PyTorch's pooling_output_shape; AvgPool has dilation 1):
    floor((L + 2p - d*(k-1) - 1) / s) + 1
and with ceil_mode, ceil instead of floor, minus one when the last window would start past the input and the
left padding ((out-1)*s >= L + p). PyTorch also requires p <= k // 2 (the kernel size, even when dilated) and an
output of at least 1 along every axis; AvgPool3d alone also requires the unpadded input to hold the kernel.
Without dilation or ceil_mode the size is the lectures' ceil((L - k + 1 + 2p) / s).

The rules (pooled_size, max_pool_ops, bin_bounds, ...) are written once over the sizes: the analyzer calls them
with ints, `explain` and `notes` with formula.Terms, so a figure and the formula shown for it come from one code.

Adaptive pools split an axis of L into `out` bins [floor(i*L/out), ceil((i+1)*L/out)), which overlap or differ
in size unless out divides L.

The executor's forward is PyTorch's: max pools pad with -inf (a padded tap never wins), average pools pad with
zeros and divide by the window over the input and its padding (count_include_pad, the default; the part of a
ceil_mode window past the padding is not counted), by the input elements alone, or by divisor_override.
Averages stay exact: one common denominator per tensor, the input's times the lcm of the divisors.

Backward reuses forward's windows: a max pool sends each output's gradient to the first maximal element of its
window in PyTorch's scan order (row-major; a tie goes to the first), an average pool spreads it over the window's
input elements divided by the same divisor; overlapping windows add up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from itertools import product
from math import gcd, lcm, prod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients
    from cnncalc.tensor import Tensor

from cnncalc.args import Arg, ArgType, Bool, Int, Optional, PerAxis, is_int
from cnncalc.errors import LayerError
from cnncalc.formula import Term, ceil_div, shown
from cnncalc.layers.base import Backprop, Layer, Saved, Shape, Window, fmt_shape, fraction, saved_input, spatial_names
from cnncalc.layers.conv import AXES, dilation_symbol, lecture_size
from cnncalc.layers.registry import register


def _axes(values: tuple[int, ...]) -> str:
    """'2' when every axis agrees, else '2x3'."""
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def _axis_names(dims: int) -> list[str]:
    return list(spatial_names(dims))


def last_start(count: Any, stride: Any) -> Any:
    """Where the last of `count` windows starts, counted from the start of the padded input."""
    return (count - 1) * stride


def pool_span(size: Any, kernel: Any, padding: Any, dilation: Any) -> Any:
    """How far a window can slide over the padded input: L + 2P - D*(K - 1) - 1. Ints give the figure, Terms
    also its formula; dilation None is a kind without one (AvgPool), written as PyTorch documents it: L + 2P - K."""
    if dilation is None:
        return size + 2 * padding - kernel
    return size + 2 * padding - dilation * (kernel - 1) - 1


def ceil_count(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any) -> Any:
    """ceil_mode's window count before the last-window rule."""
    return ceil_div(pool_span(size, kernel, padding, dilation), stride) + 1


def pooled_size(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool) -> Any:
    """PyTorch's output size of a pooling window sliding over one axis (may be < 1: the caller rejects that)."""
    if not ceil_mode:
        # floor division rounds towards -inf, like PyTorch's div_rtn
        return pool_span(size, kernel, padding, dilation) // stride + 1
    out = ceil_count(size, kernel, stride, padding, dilation)
    # The last window must start inside the input or the left padding, never in the right padding alone.
    if last_start(out, stride) >= size + padding:
        out = out - 1
    return out


def _product(values: Sequence[Any]) -> Any:
    """The product of ints or Terms, written without a leading 1*."""
    total = values[0]
    for value in values[1:]:
        total = total * value
    return total


def max_pool_ops(channels: Any, out_sizes: Sequence[Any], kernel: Sequence[Any]) -> Any:
    """kernel elements - 1 compares per output element (taps over padding counted, as the kernel is fixed)."""
    return _product([channels, *out_sizes]) * (_product(kernel) - 1)


def avg_pool_ops(channels: Any, out_sizes: Sequence[Any], kernel: Sequence[Any]) -> Any:
    """kernel elements - 1 adds and 1 divide per output element."""
    return _product([channels, *out_sizes]) * _product(kernel)


def adaptive_avg_ops(channels: Any, bin_totals: Sequence[Any], out_sizes: Sequence[Any]) -> Any:
    """bin elements - 1 adds and 1 divide per output element: one operation per element read, that is per channel
    the product over axes of the summed bin sizes (bins overlap, so an element can be read more than once)."""
    return _product([channels, *bin_totals])


def adaptive_max_ops(channels: Any, bin_totals: Sequence[Any], out_sizes: Sequence[Any]) -> Any:
    """bin elements - 1 compares per output element: the elements read, less one per output."""
    return adaptive_avg_ops(channels, bin_totals, out_sizes) - _product([channels, *out_sizes])


def bin_bounds(size: Any, count: Any, index: Any) -> tuple[Any, Any]:
    """Adaptive bin `index` of `count` along an axis of `size`: [floor(i*L/out), ceil((i+1)*L/out))."""
    return index * size // count, ceil_div((index + 1) * size, count)


class PoolAxes(PerAxis):
    """PerAxis as PyTorch's pooling functions take it: a one-element list also stands for every axis."""

    def expected(self, dims: int) -> str:
        return super().expected(dims).replace(f"a list of {dims} ", f"a list of 1 or {dims} ")

    def parse(self, value: Any, dims: int) -> tuple[int, ...]:
        if isinstance(value, list) and len(value) == 1 and dims > 1:
            try:
                return super().parse(value[0], dims)
            except LayerError:
                raise self.fail(value, dims) from None
        return super().parse(value, dims)

    def json_schema(self, dims: int) -> dict[str, Any]:  # a one-element list stands for every axis
        item = self.item.json_schema(dims)
        lists = [{"type": "array", "items": item, "minItems": n, "maxItems": n} for n in sorted({1, dims})]
        return {"anyOf": [item, *lists]}


POSITIVE = PoolAxes(Int(min=1))
NON_NEGATIVE = PoolAxes(Int(min=0))


class PoolStride(ArgType):
    """A pool's stride: null or an empty list (PyTorch's "omitted") mean the kernel size."""

    def expected(self, dims: int) -> str:
        return POSITIVE.expected(dims) + " or null (the kernel size)"

    def parse(self, value: Any, dims: int) -> tuple[int, ...] | None:
        if value is None or value == []:
            return None
        try:
            return POSITIVE.parse(value, dims)
        except LayerError:
            raise self.fail(value, dims) from None

    def json_schema(self, dims: int) -> dict[str, Any]:  # null or [] mean the kernel size
        return {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}, POSITIVE.json_schema(dims)]}


def _progression(start: int, step: int, count: int) -> str:
    """The taps start, start + step, ... (count of them) as a list, with '...' in place of the middle of a long
    one: a kernel may be 10^8 wide."""
    if count <= 6:
        return "[" + ", ".join(str(start + m * step) for m in range(count)) + "]"
    return f"[{start}, {start + step}, {start + 2 * step}, ..., {start + (count - 1) * step}]"


def _reject_indices(layer: MaxPoolNd | AdaptiveMaxPoolNd) -> None:
    if layer.return_indices:
        raise LayerError(
            "return_indices=true makes PyTorch return a (values, indices) tuple, which a layer graph cannot carry",
            arg="return_indices",
            hint="remove return_indices (the indices only feed MaxUnpool)",
        )


# -- execution: windows as lists of input indices, reduced plane by plane ------------------------------------------

Taps = list[list[int]]  # along one axis, per output index: the input indices its window reads


def _window_taps(size: int, kernel: int, stride: int, padding: int, dilation: int, count: int) -> Taps:
    """The input indices each of `count` sliding windows reads along one axis: taps j*stride - padding + m*dilation
    that fall inside the input (taps over padding, or past it in ceil_mode, read nothing)."""
    taps = []
    for j in range(count):
        start = j * stride - padding
        taps.append([i for i in range(start, start + dilation * (kernel - 1) + 1, dilation) if 0 <= i < size])
    return taps


def _padded_counts(size: int, kernel: int, stride: int, padding: int, count: int) -> list[int]:
    """PyTorch's count_include_pad divisor along one axis: a window's elements over the input and its padding;
    the part of a ceil_mode window that runs past the right padding is not counted."""
    return [min(j * stride - padding + kernel, size + padding) - (j * stride - padding) for j in range(count)]


def _bin_taps(size: int, count: int) -> Taps:
    """Adaptive bins along one axis: [floor(i*L/out), ceil((i+1)*L/out))."""
    return [list(range(*bin_bounds(size, count, i))) for i in range(count)]


def _plane_windows(taps: Sequence[Taps], spatial: tuple[int, ...]) -> list[list[int]]:
    """For every output position of a plane (row-major), the flat input offsets it reads: the product of the
    axes' taps."""
    strides = [prod(spatial[axis + 1 :]) for axis in range(len(spatial))]
    windows: list[list[int]] = [[0]]
    for axis_taps, stride in zip(taps, strides, strict=True):
        windows = [
            [base + i * stride for base in window for i in indices] for window in windows for indices in axis_taps
        ]
    return windows


def _max_planes(x: Tensor, windows: list[list[int]], out_spatial: tuple[int, ...]) -> Tensor:
    """The largest value of every window in every (sample, channel) plane; numerators compare as values do
    because they share the positive denominator."""
    from cnncalc.tensor import Tensor

    batch, channels = x.shape[:2]
    size = prod(x.shape[2:])
    out: list[int] = []
    for start in range(0, batch * channels * size, size):
        plane = x.data[start : start + size]
        out.extend(max(map(plane.__getitem__, window)) for window in windows)
    return Tensor((batch, channels, *out_spatial), out, x.denominator, x.approximate)


def _average_planes(x: Tensor, windows: list[list[int]], divisors: list[int], out_spatial: tuple[int, ...]) -> Tensor:
    """Every window's sum divided by its divisor, exactly: over the common denominator x.denominator * lcm of the
    divisors, each sum scaled by lcm / divisor (exact for a negative divisor_override too)."""
    from cnncalc.tensor import Tensor

    if 0 in divisors:  # only an empty input leaves a window empty (adaptive pooling after negative padding)
        raise LayerError(
            "an average over an empty window: PyTorch gives NaN here, which exact arithmetic has no value for",
            hint="give the layer a non-empty input (check the padding or crop before it)",
        )
    common = lcm(*(abs(d) for d in divisors))
    scales = [common // d for d in divisors]
    batch, channels = x.shape[:2]
    size = prod(x.shape[2:])
    out: list[int] = []
    for start in range(0, batch * channels * size, size):
        plane = x.data[start : start + size]
        out.extend(sum(map(plane.__getitem__, window)) * scale for window, scale in zip(windows, scales, strict=True))
    return Tensor((batch, channels, *out_spatial), out, x.denominator * common, x.approximate)


def _max_grad(x: Tensor, windows: list[list[int]], grad: Tensor) -> Tensor:
    """The gradient of _max_planes: each output's gradient goes to the FIRST maximal element of its window in
    PyTorch's scan order (row-major over the window, as _plane_windows lists it: PyTorch replaces its running
    maximum only on a strictly larger value), summed where overlapping windows pick the same element."""
    from cnncalc.tensor import Tensor

    size = prod(x.shape[2:])
    out = [0] * len(x.data)
    g = grad.data
    at = 0  # the flat index of the current output in grad
    for start in range(0, len(x.data), size):
        plane = x.data[start : start + size]
        for window in windows:
            if g[at]:
                best = window[0]
                for index in window:
                    if plane[index] > plane[best]:
                        best = index
                out[start + best] += g[at]
            at += 1
    return Tensor(x.shape, out, grad.denominator, grad.approximate or x.approximate)


def _average_grad(x: Tensor, windows: list[list[int]], divisors: list[int], grad: Tensor) -> Tensor:
    """The gradient of _average_planes: each output's gradient divided by its divisor goes to every element its
    window summed (taps over padding sum nothing and get nothing), over grad.denominator * lcm of the divisors."""
    from cnncalc.tensor import Tensor

    if 0 in divisors:  # only an empty input leaves a window empty (adaptive pooling after negative padding)
        raise LayerError(
            "an average over an empty window: PyTorch gives NaN here, which exact arithmetic has no value for",
            hint="give the layer a non-empty input (check the padding or crop before it)",
        )
    common = lcm(*(abs(d) for d in divisors))
    scales = [common // d for d in divisors]
    size = prod(x.shape[2:])
    out = [0] * len(x.data)
    g = grad.data
    at = 0
    for start in range(0, len(x.data), size):
        for window, scale in zip(windows, scales, strict=True):
            share = g[at] * scale
            at += 1
            if share:
                for index in window:
                    out[start + index] += share
    return Tensor(x.shape, out, grad.denominator * common, grad.approximate)


DIVISORS_LISTED = 8  # an average pool's note lists this many divisors, then their range
EDGE_LISTED = 64  # per axis, edge windows whose divisors a note counts one by one


class _AxisDivisors:
    """An average pool's divisors along one axis, without listing its windows (the axis may be 10^8 long).

    Window j starts at a = j*S - P; its divisor is min(a + K, end) - max(a, start): the part of the window
    inside [start, end), which is [-P, L + P) with count_include_pad and [0, L) without. Only the windows at the
    edges differ from K: on the left those starting before `start` (none with count_include_pad), on the right
    those ending past `end` (with count_include_pad, at most ceil_mode's extra window)."""

    def __init__(self, size: int, kernel: int, stride: int, padding: int, count: int, include_pad: bool) -> None:
        self.kernel, self.stride, self.padding, self.count = kernel, stride, padding, count
        self.start, self.end = (-padding, size + padding) if include_pad else (0, size)
        self.left = min(count, ceil_div(self.start + padding, stride))  # windows 0 ... left-1 start too early
        # window j ends too late when j*S - P + K > end, from j = floor((end + P - K) / S) + 1 on
        self.right = min(count, max(self.left, (self.end + padding - kernel) // stride + 1))
        self.interior = self.right - self.left  # windows wholly inside: divisor K

    def divisor(self, j: int) -> int:
        start = j * self.stride - self.padding
        return min(start + self.kernel, self.end) - max(start, self.start)

    def edges(self) -> list[int]:
        return [*range(self.left), *range(self.right, self.count)]

    def tally(self) -> Counter[int] | None:
        """Outputs per divisor along this axis, or None where the edge windows are too many to count one by one."""
        if self.left + self.count - self.right > EDGE_LISTED:
            return None
        tally = Counter(self.divisor(j) for j in self.edges())
        if self.interior:
            tally[self.kernel] += self.interior
        return tally

    def candidates(self) -> list[int]:
        """The divisor is concave in j (a minimum of rising lines less a maximum of rising lines), linear between
        these windows: its smallest value is at an end of the axis, its largest at one of these."""
        points = {0, self.left - 1, self.left, self.right - 1, self.right, self.count - 1}
        return [self.divisor(j) for j in points if 0 <= j < self.count]

    def smallest(self) -> int:
        return min(self.candidates())

    def largest(self) -> int:
        return max(self.candidates())


class _WindowPoolNd(Layer):
    """What MaxPool and AvgPool share: a kernel sliding with stride (default: the kernel), padding, ceil_mode."""

    dilated: ClassVar[bool] = False  # the kind takes a dilation argument (MaxPool)
    count_ops: ClassVar[Callable[..., Any]]  # the other-ops rule over (channels, output sizes, kernel)

    def pool_dilation(self) -> tuple[int, ...]:
        return (1,) * self.dims

    def setup(self) -> None:
        self.expect_rank(self.dims + 1, what=AXES[self.dims])
        if self.stride is None:
            self.stride = self.kernel_size
        self.check_padding()
        self.check_kernel_fits()
        self.spatial = self.pooled_spatial()

    def check_padding(self) -> None:
        for axis, k, p in zip(_axis_names(self.dims), self.kernel_size, self.padding, strict=True):
            if p > k // 2:
                dilated = (
                    " (the kernel size itself, dilation does not count)" if set(self.pool_dilation()) != {1} else ""
                )
                raise LayerError(
                    f"padding {p} along {axis} is more than half the kernel: PyTorch allows at most "
                    f"kernel_size // 2 = {k} // 2 = {k // 2}{dilated}",
                    arg="padding",
                    hint=f"use padding from 0 to {k // 2} along {axis}",
                )

    def check_kernel_fits(self) -> None:
        """A further input-size rule of some kinds (AvgPool3d); the output-size rule applies to all."""

    def pooled_spatial(self) -> tuple[int, ...]:
        spatial = []
        rule = "ceil" if self.ceil_mode else "floor"
        per_axis = (self.in_shape[1:], self.kernel_size, self.stride, self.padding, self.pool_dilation())
        for axis, size, k, s, p, d in zip(_axis_names(self.dims), *per_axis, strict=True):
            out = pooled_size(size, k, s, p, d, self.ceil_mode)
            formula = f"{rule}(({size} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = {out}"
            kernel = f"{k}-wide kernel" if d == 1 else f"{k}-wide kernel dilated by {d} (spanning {d * (k - 1) + 1})"
            if out < 1:
                raise LayerError(
                    f"the output would be empty along {axis}: a {kernel} does not fit the padded input of "
                    f"{size} + 2*{p} = {size + 2 * p}; output size {formula}",
                    arg="kernel_size",
                    hint=f"input shape is {fmt_shape(self.in_shape)}; use a smaller kernel"
                    + (f", more padding (at most {k // 2})" if p < k // 2 else "")
                    + " or a larger input",
                )
            if size + 2 * p < d * (k - 1) + 1:
                self.warn(
                    f"the {kernel} is wider than the padded input of {size + 2 * p} along {axis}: "
                    f"ceil_mode keeps one partial window ({formula})"
                )
            spatial.append(out)
        return tuple(spatial)

    def output_shape(self) -> Shape:
        return (self.in_shape[0],) + self.spatial

    def other_ops(self) -> int:
        return self.count_ops(self.out_shape[0], self.out_shape[1:], self.kernel_size)

    def size_terms(self) -> list[tuple[Any, ...]]:
        """Per spatial axis, the arguments of pooled_size as Terms named as the lectures do: (L, K, S, P, D), D
        None where the kind has no dilation."""
        per_axis = (self.in_shape[1:], self.kernel_size, self.stride, self.padding, self.pool_dilation())
        return [
            (
                Term.leaf(axis, size),
                Term.leaf("K", k),
                Term.leaf("S", s),
                Term.leaf("P", p),
                Term.leaf(dilation_symbol(self.dims), d) if self.dilated else None,
            )
            for axis, size, k, s, p, d in zip(_axis_names(self.dims), *per_axis, strict=True)
        ]

    def explain(self) -> list[tuple[str, Any]]:
        """(what, Term) pairs: each output size in PyTorch's form (and the lectures' where it applies) and the other
        ops, from the same rules as the figures."""
        lines: list[tuple[str, Any]] = []
        for axis, (size, k, s, p, d) in zip(_axis_names(self.dims), self.size_terms(), strict=True):
            lines.append((f"output {axis} (PyTorch)", pooled_size(size, k, s, p, d, self.ceil_mode)))
            if not self.ceil_mode and (d is None or d.value == 1):
                lines.append((f"output {axis} (lecture)", lecture_size(size, k, p, s)))
        names = _axis_names(self.dims)
        same = len(set(self.kernel_size)) == 1
        kernel = [Term.leaf("K" if same else f"K_{a}", k) for a, k in zip(names, self.kernel_size, strict=True)]
        outputs = [Term.leaf(f"{a}'", n) for a, n in zip(names, self.spatial, strict=True)]
        lines.append(("other ops", self.count_ops(Term.leaf("C", self.in_shape[0]), outputs, kernel)))
        return lines

    def notes(self) -> list[str]:
        """What ceil_mode did along each axis: a window added past the edge, or the last one dropped."""
        if not self.ceil_mode:
            return []
        notes = []
        per_axis = (_axis_names(self.dims), self.size_terms(), self.spatial)
        for axis, (size, k, s, p, d), out in zip(*per_axis, strict=True):
            count = ceil_count(size, k, s, p, d)
            start, edge = last_start(Term.leaf("n", count.value), s), size + p
            floor_out = pooled_size(size.value, k.value, s.value, p.value, 1 if d is None else d.value, False)
            if start >= edge:
                notes.append(
                    f"ceil_mode along {axis} gives n = {count.value} windows, but the last would start at "
                    f"{shown(start)} of the padded input, at or past {shown(edge)} where the right padding "
                    f"begins, so PyTorch drops it (the final - 1 of output {axis}): {out}"
                )
            elif out > floor_out:
                notes.append(
                    f"ceil_mode along {axis} keeps a last window that runs past the end of the padded input: "
                    f"{out} outputs where floor would give {floor_out}"
                )
        return notes

    def window(self) -> tuple[Window, ...]:
        return tuple(
            Window(d * (k - 1), s, p)
            for k, s, p, d in zip(self.kernel_size, self.stride, self.padding, self.pool_dilation(), strict=True)
        )

    def sliding_taps(self, spatial: tuple[int, ...]) -> list[Taps]:
        """Per axis, per output index: the input indices the window reads."""
        per_axis = (spatial, self.kernel_size, self.stride, self.padding, self.pool_dilation(), self.spatial)
        return [_window_taps(*axis) for axis in zip(*per_axis, strict=True)]

    def summary(self) -> str:
        parts = [f"k{_axes(self.kernel_size)}", f"s{_axes(self.stride)}"]
        if set(self.padding) != {0}:
            parts.append(f"p{_axes(self.padding)}")
        if set(self.pool_dilation()) != {1}:
            parts.append(f"d{_axes(self.pool_dilation())}")
        if self.ceil_mode:
            parts.append("ceil")
        return " ".join(parts)


class MaxPoolNd(_WindowPoolNd):
    ops_rule = (
        "kernel elements - 1 compares per output element; every output counts the full kernel, "
        "including taps over padding or past the edge in ceil_mode"
    )
    dilated = True
    count_ops = staticmethod(max_pool_ops)
    arguments = (
        Arg("kernel_size", POSITIVE, doc="window size per axis"),
        Arg("stride", PoolStride(), None, "step per axis; null means kernel_size"),
        Arg("padding", NON_NEGATIVE, 0, "implicit -inf added on both sides, at most kernel_size // 2"),
        Arg("dilation", POSITIVE, 1, "spacing between window elements"),
        Arg("return_indices", Bool(), False, "not supported: PyTorch would return a tuple"),
        Arg("ceil_mode", Bool(), False, "round the output size up instead of down"),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """max_pool saves its input and the int64 index of each output's maximum."""
        indices = Saved("indices of the maxima", (step.batch, *self.out_shape), "own", "int64")
        return [saved_input(0, self.in_shape, step.batch), indices]

    def pool_dilation(self) -> tuple[int, ...]:
        return self.dilation

    def setup(self) -> None:
        _reject_indices(self)
        super().setup()
        for axis, j, taps in self.padding_only_windows(self.in_shape[1:]):
            self.warn(
                f"output {j} along {axis} reads only padding (its dilated taps {taps} miss the input), "
                "so PyTorch outputs -inf there"
            )

    def padding_only_windows(self, spatial: tuple[int, ...]) -> list[tuple[str, int, str]]:
        """(axis, output index, its taps as text) of every window whose taps all miss the input: dilation can step
        over the whole input, and PyTorch's max over no element is -inf.

        Found without listing any window's taps (kernel and axis may be 10^8 long). Window j's taps are
        a + m*D (m < K, a = j*S - P). PyTorch's rules put a inside the input or the left padding (a < L) and, as
        P <= K // 2, the last tap at 0 or later; so the window misses the input exactly when a < 0 and its first
        tap at or past 0, a mod D, is already past it (>= L). That needs D > L, and then the padded input is
        shorter than the dilated kernel (L + 2P <= L + K <= D*(K - 1) + 1 for K >= 2): there is one window."""
        found = []
        per_axis = (_axis_names(self.dims), spatial, self.kernel_size, self.stride, self.padding, self.dilation)
        for axis, size, k, s, p, d, out in zip(*per_axis, self.spatial, strict=True):
            if d <= size:
                continue
            for j in range(min(out, ceil_div(p, s))):  # the windows that start in the left padding (a < 0)
                start = j * s - p
                if start % d >= size:
                    found.append((axis, j, _progression(start, d, k)))
        return found

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        small = (5, 4, 3)[: cls.dims]
        return [
            ({"kernel_size": 2}, ((2, *small),)),
            ({"kernel_size": 3, "stride": 2, "padding": 1}, ((2, *small),)),
            ({"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}, ((1, *small),)),
            ({"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2}, ((2, *small),)),
            ({"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}, ((1, *(s + 2 for s in small)),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return _max_planes(x, self.max_windows(x.shape[2:]), self.out_shape[1:])

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [_max_grad(x, self.max_windows(x.shape[2:]), grad)], {}

    def max_windows(self, spatial: tuple[int, ...]) -> list[list[int]]:
        """The flat input offsets every output's window reads (shared by forward and backward); a window over
        padding alone is refused, as PyTorch's -inf there has no exact value."""
        empty = self.padding_only_windows(spatial)
        if empty:
            axis, j, taps = empty[0]
            raise LayerError(
                f"output {j} along {axis} reads only padding (its dilated taps {taps} miss the input of "
                f"{spatial[_axis_names(self.dims).index(axis)]}): PyTorch outputs -inf there, which the exact "
                "executor cannot represent",
                arg="dilation",
                hint="use a smaller dilation or less padding, so that every window reaches the input",
            )
        return _plane_windows(self.sliding_taps(spatial), spatial)


class AvgPoolNd(_WindowPoolNd):
    divisor_override: int | None = None  # stays None in AvgPool1d, which lacks the argument
    ops_rule = (
        "kernel elements - 1 adds + 1 divide per output element; every output counts the full kernel, "
        "including taps over padding or past the edge in ceil_mode"
    )
    count_ops = staticmethod(avg_pool_ops)
    arguments = (
        Arg("kernel_size", POSITIVE, doc="window size per axis"),
        Arg("stride", PoolStride(), None, "step per axis; null means kernel_size"),
        Arg("padding", NON_NEGATIVE, 0, "implicit zeros added on both sides, at most kernel_size // 2"),
        Arg("ceil_mode", Bool(), False, "round the output size up instead of down"),
        Arg("count_include_pad", Bool(), True, "divide by the full window, padding included"),
        Arg("divisor_override", Optional(Int()), None, "divide by this instead of the window size"),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """avg_pool's backward reads its input (PyTorch saves it)."""
        return [saved_input(0, self.in_shape, step.batch)]

    def setup(self) -> None:
        if self.divisor_override == 0:
            raise LayerError(
                "divisor_override must not be zero (PyTorch divides every window sum by it)",
                arg="divisor_override",
                hint="remove divisor_override to divide by the window size",
            )
        super().setup()

    def notes(self) -> list[str]:
        """ceil_mode's effect, and what each window's sum is divided by: the divisors forward uses."""
        notes = super().notes()
        if self.divisor_override is not None:
            notes.append(f"every window's sum is divided by divisor_override = {self.divisor_override}")
        elif self.ceil_mode or set(self.padding) != {0}:
            covered = (
                "the elements of the input and its padding under it (count_include_pad)"
                if self.count_include_pad
                else "the input elements under it, padding excluded (count_include_pad false)"
            )
            notes.append(f"each window's sum is divided by {covered}: {self.divisor_counts()}")
        return notes

    def divisor_counts(self) -> str:
        """How many outputs divide by each divisor, largest divisor first: '9 for 1 output, 6 for 4, 4 for 4'.
        Counted per axis from the edge windows alone (the others divide by the kernel), as the product over the
        axes; where the edges are too many to list, the divisors' range instead."""
        sizes = (self.in_shape[1:], self.kernel_size, self.stride, self.padding, self.spatial)
        per_axis = [_AxisDivisors(*axis, self.count_include_pad) for axis in zip(*sizes, strict=True)]
        tallies = [axis.tally() for axis in per_axis]
        if all(tallies) and prod(len(t) for t in tallies) <= 4096:  # type: ignore[arg-type]
            tally: Counter[int] = Counter()
            for combination in product(*(t.items() for t in tallies)):  # type: ignore[union-attr]
                tally[prod(d for d, _ in combination)] += prod(n for _, n in combination)
            ordered = sorted(tally.items(), reverse=True)
            if len(ordered) == 1:
                return f"{ordered[0][0]:,} for every output"
            first, many = ordered[0]
            counts = f"{first:,} for {many:,} output{'s' if many > 1 else ''}, "
            listed = ordered[1:DIVISORS_LISTED]
            counts += ", ".join(f"{d:,} for {n:,}" for d, n in listed)
            if len(ordered) > DIVISORS_LISTED:
                counts += f" and {len(ordered) - DIVISORS_LISTED:,} more from {ordered[-1][0]:,} up"
            return counts + " (per channel)"
        low = prod(axis.smallest() for axis in per_axis)
        high = prod(axis.largest() for axis in per_axis)
        inner = prod(axis.interior for axis in per_axis)
        kernel = prod(self.kernel_size)
        most = f"{kernel:,} for the {inner:,} outputs whose windows lie inside the input, " if inner else ""
        return f"{most}from {low:,} to {high:,} near its edges (per channel)"

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        small = (5, 4, 3)[: cls.dims]
        examples: list[tuple[dict[str, Any], tuple[Shape, ...]]] = [
            ({"kernel_size": 2}, ((2, *small),)),
            ({"kernel_size": 3, "stride": 2, "padding": 1}, ((2, *small),)),
            ({"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, ((1, *(s + 1 for s in small)),)),
            (
                {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
                ((2, *small),),
            ),
        ]
        if cls.dims > 1:  # AvgPool1d has no divisor_override
            examples.append(({"kernel_size": 2, "stride": 1, "padding": 1, "divisor_override": -3}, ((1, *small),)))
        return examples

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        windows, divisors = self.averaging(x.shape[2:])
        return _average_planes(x, windows, divisors, self.out_shape[1:])

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        windows, divisors = self.averaging(x.shape[2:])
        return [_average_grad(x, windows, divisors, grad)], {}

    def averaging(self, spatial: tuple[int, ...]) -> tuple[list[list[int]], list[int]]:
        """Every output's window (flat input offsets) and the divisor of its sum, shared by forward and backward."""
        windows = _plane_windows(self.sliding_taps(spatial), spatial)
        if self.divisor_override is not None:
            divisors = [self.divisor_override] * len(windows)
        elif self.count_include_pad:
            per_axis = (spatial, self.kernel_size, self.stride, self.padding, self.out_shape[1:])
            counts = [_padded_counts(*axis) for axis in zip(*per_axis, strict=True)]
            divisors = [prod(position) for position in product(*counts)]  # row-major, as the windows
        else:
            divisors = [len(window) for window in windows]
        return windows, divisors

    def summary(self) -> str:
        parts = [super().summary()]
        if not self.count_include_pad and set(self.padding) != {0}:
            parts.append("excl-pad")
        if self.divisor_override is not None:
            parts.append(f"div{self.divisor_override}")
        return " ".join(parts)


class OutputSize(ArgType):
    """Adaptive pools' output_size: a positive int for every axis, or a list with one per axis where null keeps
    that axis's input size (PyTorch takes null only in the 2-D and 3-D pools)."""

    def expected(self, dims: int) -> str:
        if dims == 1:
            return "a positive integer"
        return f"a positive integer or a list of {dims} positive integers or nulls (null keeps the input's size)"

    def parse(self, value: Any, dims: int) -> tuple[int | None, ...]:
        size = Int(min=1)
        try:
            if isinstance(value, list):
                if len(value) != dims:
                    raise self.fail(value, dims)
                return tuple(None if v is None and dims > 1 else size.parse(v, dims) for v in value)
            return (size.parse(value, dims),) * dims
        except LayerError:
            error = self.fail(value, dims)
            if any(is_int(v) and v == 0 for v in (value if isinstance(value, list) else [value])):
                # PyTorch accepts 0 and returns an empty tensor; no later layer can use one.
                error.hint = "an output size of 0 would make an empty tensor (PyTorch allows it); use 1 or more"
            raise error from None

    def json_schema(self, dims: int) -> dict[str, Any]:  # null keeps an axis (2-D and 3-D)
        size = Int(min=1).json_schema(dims)
        item = size if dims == 1 else {"anyOf": [size, {"type": "null"}]}
        return {"anyOf": [size, {"type": "array", "items": item, "minItems": dims, "maxItems": dims}]}


def bin_total(size: int, out: int) -> int:
    """The summed sizes of the `out` adaptive bins along an axis of `size`, L + out - gcd(L, out), in closed form
    (a sum over the bins would take as long as `out` is large).

    Bin i's size is L/out + e(i+1) + f(i), where f(i) = (i*L mod out)/out is what floor removes and e(j) what ceil
    adds, (out - j*L mod out)/out or 0. Over i = 0 ... out-1 the residues i*L mod out are the multiples of g =
    gcd(L, out), each g times, so the f(i) sum to (out - g)/2, and by symmetry so do the e(j): L + out - g."""
    return size + out - gcd(size, out)


def bins_overlap(size: int, out: int) -> bool:
    """Whether neighbouring bins share elements: bin i+1 starts at floor((i+1)*L/out), bin i ends at its ceil,
    so they overlap exactly where out does not divide (i+1)*L, at i = 0 when it does not divide L."""
    return out > 1 and size % out != 0


def bins_uneven(size: int, out: int) -> bool:
    """Whether the bins differ in size. Bin 0 has ceil(L/out); bin i > 0 one more exactly when
    frac(i*L/out) + frac(L/out) > 1, and the largest frac(i*L/out) is (out - g)/out (g = gcd(L, out)), so the
    sizes differ exactly when L mod out > g."""
    return size % out > gcd(size, out)


class _AdaptivePoolNd(Layer):
    """What AdaptiveAvgPool and AdaptiveMaxPool share: bins from output_size."""

    count_ops: ClassVar[Callable[..., Any]]  # the other-ops rule over (channels, summed bin sizes, output sizes)

    def setup(self) -> None:
        self.expect_rank(self.dims + 1, what=AXES[self.dims])
        spatial = self.in_shape[1:]
        self.spatial = tuple(
            size if want is None else want for size, want in zip(spatial, self.output_size, strict=True)
        )
        # Per axis, the bin sizes summed (B_H in `explain`), in closed form: output_size may be 10^8 or more.
        self.bin_totals = tuple(bin_total(size, out) for size, out in zip(spatial, self.spatial, strict=True))

    def output_shape(self) -> Shape:
        return (self.in_shape[0],) + self.spatial

    def other_ops(self) -> int:
        return self.count_ops(self.in_shape[0], self.bin_totals, self.spatial)

    def explain(self) -> list[tuple[str, Any]]:
        """The other ops from the same rule as the figure; B_H is the sum of the bin sizes along H (see notes)."""
        names = _axis_names(self.dims)
        totals = [Term.leaf(f"B_{a}", total) for a, total in zip(names, self.bin_totals, strict=True)]
        outputs = [Term.leaf(f"{a}'", n) for a, n in zip(names, self.spatial, strict=True)]
        return [("other ops", self.count_ops(Term.leaf("C", self.in_shape[0]), totals, outputs))]

    def notes(self) -> list[str]:
        """Per axis, the bins that forward reads, from the rule that makes them, with their sizes and sum B: all of
        them on a short axis, the first three and the last on a long one (so the note's length is bounded)."""
        notes = []
        per_axis = (_axis_names(self.dims), self.in_shape[1:], self.spatial, self.bin_totals)
        for axis, size, count, total_size in zip(*per_axis, strict=True):
            start, end = bin_bounds(Term.leaf(axis, size), Term.leaf(f"{axis}'", count), Term.leaf("i", 0))
            listed = list(range(count)) if count <= 8 else [0, 1, 2, count - 1]
            bounds = [bin_bounds(size, count, i) for i in listed]
            shown_bounds = [f"[{a}, {b})" for a, b in bounds]
            sizes = [str(b - a) for a, b in bounds]
            if count > 8:  # a long axis: its first bins and its last
                shown_bounds[3:-1], sizes[3:-1] = ["..."], ["..."]
            total = f"{' + '.join(sizes)} = {total_size}" if count > 1 else str(total_size)
            overlap, uneven = bins_overlap(size, count), bins_uneven(size, count)
            how = " and ".join(w for w, on in (("overlap", overlap), ("differ in size", uneven)) if on)
            if size % count == 0:
                layout = f"{axis}' = {count} divides {axis} = {size}: equal bins of {size // count}, no overlap"
            else:
                layout = f"{axis}' = {count} does not divide {axis} = {size}: the bins {how}"
            notes.append(
                f"bins along {axis}, [{start.symbols}, {end.symbols}) for i from 0 to {axis}' - 1 = {count - 1}: "
                f"{' '.join(shown_bounds)}; B_{axis} = {total} elements ({layout})"
            )
        return notes

    def window(self) -> tuple[Window, ...]:
        windows = []
        for size, out in zip(self.in_shape[1:], self.spatial, strict=True):
            # Bin i is [floor(i*s), ceil((i+1)*s)) with s = L/out, a multiple of 1/D: floor and ceil move each end
            # by at most 1 - 1/D, so this window covers every bin (the convention of every fractional window,
            # see resize.py) and is exact when out divides L (D = 1: extent s - 1, padding 0).
            if size % out == 0:  # integer bins (global pooling): the same window, without loading fractions
                windows.append(Window(size // out - 1, size // out, 0))
                continue
            stride = fraction(size, out)
            slack = 1 - fraction(1, stride.denominator)
            extent = stride - 1 + 2 * slack
            windows.append(Window(_plain(extent), _plain(stride), _plain(slack)))
        return tuple(windows)

    def summary(self) -> str:
        return "-> " + "x".join(str(s) for s in self.spatial)

    def bin_windows(self, spatial: tuple[int, ...]) -> list[list[int]]:
        """For every output position of a plane, the flat input offsets of its bin (for forward)."""
        taps = [_bin_taps(size, count) for size, count in zip(spatial, self.out_shape[1:], strict=True)]
        return _plane_windows(taps, spatial)


def _adaptive_examples(dims: int) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
    """Global pooling, overlapping bins (out does not divide L), more outputs than inputs, and null (2-D, 3-D)."""
    small = (7, 5, 4)[:dims]
    examples: list[tuple[dict[str, Any], tuple[Shape, ...]]] = [
        ({"output_size": 1}, ((2, *small),)),
        ({"output_size": 3}, ((2, *small),)),
        ({"output_size": [2, 6, 3][:dims] if dims > 1 else 9}, ((1, *small),)),
    ]
    if dims > 1:
        examples.append(({"output_size": [None, *(2,) * (dims - 1)]}, ((2, *small),)))
    return examples


def _plain(value: Fraction) -> int | Fraction:
    return value.numerator if value.denominator == 1 else value


_BINS = "bins [floor(i*L/out), ceil((i+1)*L/out)) per axis, summed exactly"


class AdaptiveMaxPoolNd(_AdaptivePoolNd):
    ops_rule = f"bin elements - 1 compares per output element; {_BINS}"
    count_ops = staticmethod(adaptive_max_ops)
    arguments = (
        Arg("output_size", OutputSize(), doc="output size per axis; null keeps the input's size"),
        Arg("return_indices", Bool(), False, "not supported: PyTorch would return a tuple"),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """adaptive_max_pool saves its input and the int64 index of each output's maximum."""
        indices = Saved("indices of the maxima", (step.batch, *self.out_shape), "own", "int64")
        return [saved_input(0, self.in_shape, step.batch), indices]

    def setup(self) -> None:
        _reject_indices(self)
        super().setup()

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return _adaptive_examples(cls.dims)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        return _max_planes(x, self.bin_windows(x.shape[2:]), self.out_shape[1:])

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        return [_max_grad(x, self.bin_windows(x.shape[2:]), grad)], {}


class AdaptiveAvgPoolNd(_AdaptivePoolNd):
    ops_rule = f"bin elements - 1 adds + 1 divide per output element; {_BINS}"
    count_ops = staticmethod(adaptive_avg_ops)
    arguments = (Arg("output_size", OutputSize(), doc="output size per axis; null keeps the input's size"),)

    def saved(self, step: Backprop) -> list[Saved]:
        """An output of 1 per axis is a mean (nothing saved); other sizes save the input."""
        if all(size == 1 for size in self.out_shape[1:]):
            return []
        return [saved_input(0, self.in_shape, step.batch)]

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return _adaptive_examples(cls.dims)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        windows = self.bin_windows(x.shape[2:])
        return _average_planes(x, windows, [len(window) for window in windows], self.out_shape[1:])

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        (x,) = inputs
        windows = self.bin_windows(x.shape[2:])
        return [_average_grad(x, windows, [len(window) for window in windows], grad)], {}


@register
class MaxPool1d(MaxPoolNd):
    kind = "MaxPool1d"
    dims = 1


@register
class MaxPool2d(MaxPoolNd):
    kind = "MaxPool2d"
    dims = 2


@register
class MaxPool3d(MaxPoolNd):
    kind = "MaxPool3d"
    dims = 3


@register
class AvgPool1d(AvgPoolNd):
    kind = "AvgPool1d"
    dims = 1
    # PyTorch's AvgPool1d has no divisor_override.
    arguments = tuple(a for a in AvgPoolNd.arguments if a.name != "divisor_override")


@register
class AvgPool2d(AvgPoolNd):
    kind = "AvgPool2d"
    dims = 2


@register
class AvgPool3d(AvgPoolNd):
    kind = "AvgPool3d"
    dims = 3

    def check_kernel_fits(self) -> None:
        # PyTorch's 3-D average pooling alone requires the unpadded input to hold the kernel.
        for axis, size, k in zip(_axis_names(self.dims), self.in_shape[1:], self.kernel_size, strict=True):
            if size < k:
                raise LayerError(
                    f"AvgPool3d needs every input axis to be at least the kernel, padding not counted "
                    f"(PyTorch's rule for 3-D average pooling): {axis} is {size} but kernel_size is {k}",
                    arg="kernel_size",
                    hint=f"input shape is {fmt_shape(self.in_shape)}; use kernel_size at most {size} along {axis}",
                )


@register
class AdaptiveMaxPool1d(AdaptiveMaxPoolNd):
    kind = "AdaptiveMaxPool1d"
    dims = 1


@register
class AdaptiveMaxPool2d(AdaptiveMaxPoolNd):
    kind = "AdaptiveMaxPool2d"
    dims = 2


@register
class AdaptiveMaxPool3d(AdaptiveMaxPoolNd):
    kind = "AdaptiveMaxPool3d"
    dims = 3


@register
class AdaptiveAvgPool1d(AdaptiveAvgPoolNd):
    kind = "AdaptiveAvgPool1d"
    dims = 1


@register
class AdaptiveAvgPool2d(AdaptiveAvgPoolNd):
    kind = "AdaptiveAvgPool2d"
    dims = 2


@register
class AdaptiveAvgPool3d(AdaptiveAvgPoolNd):
    kind = "AdaptiveAvgPool3d"
    dims = 3
