"""Normalization: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm and RMSNorm.

Every kind here computes y = (x - mean) * inv_std, then optionally scales by a weight and shifts by a bias.
They differ in where mean and inv_std come from, and the counts follow from that (inference, i.e. eval mode):
- running statistics (BatchNorm, and InstanceNorm with track_running_stats): mean and inv_std are per-channel
  constants, so the layer is element-wise;
- statistics of the input itself (LayerNorm, GroupNorm, RMSNorm, InstanceNorm without running statistics, and
  BatchNorm without them, over the batch): every output depends on every input of its group, so along each
  spatial axis that is averaged over, the receptive-field window spans the whole axis.

Other ops per element: 2 to normalize ((x - mean) * inv_std), +3 when the statistics come from the input (add to
the sum; square and add to the sum of squares), +1 for the scale and +1 for the shift when present. Per-channel or
per-group constants (1/n, + eps, the square root) are not counted: they do not grow with the elements.
RMSNorm does not centre: 2 per element for its statistic (square, add) and 1 to normalize (x * inv_rms).

Execution (`forward`) follows PyTorch in both modes: BatchNorm uses the batch's statistics in training (and
without running statistics), its running ones in eval; InstanceNorm its running ones only in eval with
track_running_stats; the others always the input's. Variances are the biased ones PyTorch normalizes with.
Means and variances are exact rationals, recorded per group (ctx.record(mean=..., var=...); RMSNorm records
mean_square); the square root of var + eps leaves the rationals unless it is a perfect square, so it is taken to
DIGITS significant digits and the output is marked approximate. eps is taken as the exact binary value of the
double PyTorch adds (Fraction(1e-05), not 1/100000): that is the number torch's float64 computation uses.
RMSNorm's eps=None is float64's machine epsilon 2**-52 (torch.finfo(x.dtype).eps, the executor reading values as
float64).

Gradients (`backward`) recompute the same statistics and the same 40-digit inverse roots. With running statistics
the layer is affine per channel (dx = g * weight * r); with the input's statistics the gradient goes through the
mean and the variance of each group too (the closed form is in `backward`), computed from the exact centred
values, so that sums which must cancel do (the input gradient of sum(output) with weight 1 is exactly 0) and each
element is rounded once. dweight = sum(g * xh) and dbias = sum(g) over the elements each affine entry touches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import isqrt, lcm, log10, prod
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from cnncalc.args import Arg, Bool, Float, Int, IntList, Optional
from cnncalc.compute import MODES, Context, sqrt_ratio
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers.base import (
    POINTWISE,
    AxisMap,
    Backprop,
    Layer,
    Saved,
    Shape,
    Window,
    axis_names,
    draw,
    fmt_shape,
    saved_input,
    volume_names,
)
from cnncalc.layers.registry import register
from cnncalc.tensor import DIGITS, Tensor

if TYPE_CHECKING:
    from fractions import Fraction
    from random import Random

    from cnncalc.layers.base import Gradients

AXES = {dims: volume_names(dims + 1) for dims in (1, 2, 3)}  # a dims-d kind's input: C x H x W


def named(names: Sequence[str], sizes: Sequence[int]) -> tuple[Term, ...]:
    """One Term per axis: its name and its size."""
    return tuple(Term.leaf(name, size) for name, size in zip(names, sizes, strict=True))


def product(sizes: Iterable[Any]) -> Any:
    """The product of ints or Terms (1 for none: a 0-d tensor holds one element)."""
    total: Any = None
    for size in sizes:
        total = size if total is None else total * size
    return 1 if total is None else total


def element_count(shapes: Iterable[Sequence[Any]]) -> Any:
    """Elements in tensors of `shapes`, tensors of one shape counted together: weight C and bias C give 2*C.
    The rule behind params and buffers of the kinds here, for ints (the figure) and Terms (its formula)."""
    groups: dict[tuple[Any, ...], list[Sequence[Any]]] = {}
    for shape in shapes:
        key = tuple(size.symbols if isinstance(size, Term) else size for size in shape)
        groups.setdefault(key, []).append(shape)
    terms = [product(same[0]) if len(same) == 1 else len(same) * product(same[0]) for same in groups.values()]
    total: Any = 0
    for number, term in enumerate(terms):
        total = term if number == 0 else total + term
    return total


def per_element_ops(elements: Any, parts: Sequence[Any]) -> Any:
    """elements * (sum of the ops each element costs): other ops of element-wise work."""
    each = parts[0]
    for part in parts[1:]:
        each = each + part
    return elements * each


def spanning_window(size: int) -> Window:
    """The window of an output that reads every position of an axis of `size`: output j reads j - (size - 1)
    ... j + (size - 1), which holds the whole axis for every j and keeps the field centred."""
    return Window(2 * (size - 1), 1, size - 1)


def _flag(name: str, value: object, default: object) -> list[str]:
    """'name=value' for a summary, only when it differs from PyTorch's default."""
    shown = str(value).lower() if isinstance(value, bool) else value  # as written in YAML
    return [] if value == default else [f"{name}={shown}"]


FLOAT64_EPS = 2.0**-52  # torch.finfo(torch.float64).eps: RMSNorm's eps when none is given


def ratio_tensor(shape: tuple[int, ...], ratios: Sequence[tuple[int, int]], rounded: bool) -> Tensor:
    """A tensor from elements given as ratios of ints (numerator, positive denominator).

    Exact values go over their least common denominator. Values already rounded (`rounded`: square roots,
    exponentials) are each rounded once more, to SIGNIFICANT digits, and go over one power of ten: the elements'
    own denominators (each a different 40-digit number) would multiply into thousands of digits. Each element is
    rounded on its own, so its value never depends on the other elements (another sample, say)."""
    if not rounded:
        denominator = lcm(*(q for _, q in ratios)) if ratios else 1
        return Tensor(shape, [p * (denominator // q) for p, q in ratios], denominator)
    mantissas = [_significant(p, q) for p, q in ratios]
    places = min(max(0, *(-exponent for _, exponent in mantissas)), MAX_PLACES)
    data = []
    for mantissa, exponent in mantissas:
        shift = places + exponent
        if shift >= 0:
            data.append(mantissa * 10**shift)
        else:  # below 10**-MAX_PLACES: rounded to a multiple of it
            unit = 10**-shift
            data.append((2 * mantissa + unit) // (2 * unit))
    return Tensor(shape, data, 10**places, approximate=True)


SIGNIFICANT = DIGITS + 3  # digits an approximate element keeps: DIGITS and a guard against double rounding
# Decimal places an approximate tensor keeps at most: an element below 10**(SIGNIFICANT - MAX_PLACES), such as
# sigmoid(-1000) = 5e-435 (float64 flushes anything below 5e-324 to 0), keeps an absolute 10**-MAX_PLACES rather
# than SIGNIFICANT digits, so that one tiny element cannot lengthen every numerator of its tensor.
MAX_PLACES = 400


def _significant(p: int, q: int) -> tuple[int, int]:
    """p/q rounded to SIGNIFICANT digits, as (mantissa, exponent): p/q ~ mantissa * 10**exponent."""
    if p == 0:
        return 0, 0
    size = abs(p)
    # The decimal exponent of |p/q| from bit lengths (within one), then made exact by comparing integers.
    exponent = int((size.bit_length() - q.bit_length()) * log10(2)) - SIGNIFICANT + 1
    while True:
        top, bottom = (size, q * 10**exponent) if exponent >= 0 else (size * 10**-exponent, q)
        if top < bottom * 10 ** (SIGNIFICANT - 1):
            exponent -= 1
        elif top >= bottom * 10**SIGNIFICANT:
            exponent += 1
        else:
            break
    mantissa = (2 * top + bottom) // (2 * bottom)  # to nearest
    return (mantissa if p > 0 else -mantissa), exponent


def _inverse_root(total: Fraction) -> tuple[int, int, bool]:
    """1 / sqrt(total) as (numerator, denominator, exact): exact when total is the square of a rational, else to
    DIGITS significant digits (compute.sqrt_ratio)."""
    top, bottom = total.numerator, total.denominator
    top_root, bottom_root = isqrt(top), isqrt(bottom)
    if top_root * top_root == top and bottom_root * bottom_root == bottom:
        return bottom_root, top_root, True
    root_top, root_bottom = sqrt_ratio(top, bottom)
    return root_bottom, root_top, False


class StatisticsAxes(NamedTuple):
    """The axes of a batch (named, with their sizes) in three runs: the statistics are averaged over `before`
    and `after`, and there is one mean and variance per position along `groups`. GroupNorm splits the channels
    into its groups (G) and the channels of a group (C/G)."""

    before: tuple[tuple[str, int], ...]  # BatchNorm's batch axis
    groups: tuple[tuple[str, int], ...]
    after: tuple[tuple[str, int], ...]


_ROLE_OF_AXIS = {"C": "channel", "G": "group"}
_ROLE_OF_WEIGHT = {"weight": "scale", "bias": "shift"}


def decimal_text(value: Fraction) -> str:
    """An exact rational as a decimal where it has one (0.9, 2), else as a fraction with its value (10/7 ~ 1.4286)."""
    denominator = value.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    if denominator == 1:
        from decimal import Decimal, localcontext

        with localcontext() as context:
            context.prec = 60  # enough for any decimal a spec writes: the division is exact
            text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value.numerator}/{value.denominator} ~ {float(value):.6g}"


def _batch_axes(shape: Shape) -> tuple[tuple[str, int], ...]:
    """The axes of a batch of `shape` by name: N, then the sample's (C, H, W)."""
    return tuple(zip(("N", *axis_names(len(shape) - 1)), shape, strict=True))


class Statistics(NamedTuple):
    """What a normalization divides by in one pass: element i belongs to group (i // size) % period."""

    layout: tuple[int, int]  # (size, period)
    means: list[Fraction]  # per group (RMSNorm: 0)
    variances: list[Fraction]  # per group, biased (RMSNorm: the mean square)
    roots: list[tuple[int, int, bool]]  # per group, 1 / sqrt(variance + eps) as (numerator, denominator, exact)
    running: bool  # taken from the running_mean / running_var buffers
    approximate: bool  # the input or a buffer was approximate


def _plain(value: Fraction) -> int | Fraction:
    """A recorded statistic as an int where it is whole, else the Fraction."""
    return value.numerator if value.denominator == 1 else value


class _Normalization(Layer):
    """What every normalization shares: the ops rule and the receptive-field window.

    Subclasses set, in setup(): `input_stats` (the statistics are computed from the input rather than taken
    from running buffers), `stats_axes` (the per-sample spatial axes they are taken over, which the window
    then spans) and `scaled` / `shifted` (learnable weight / bias present).
    """

    stats_ops: ClassVar[int] = 3  # per element, statistics taken from the input: mean and sum of squares
    normalize_ops: ClassVar[int] = 2  # per element: (x - mean) * inv_std
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std), +3 when the statistics come from the input "
        "(sum, square, sum of squares), +1 for the scale (weight) and +1 for the shift (bias) when present; "
        "per-channel constants (1/n, eps, square root) not counted"
    )

    input_stats: bool = False
    stats_axes: tuple[int, ...] = ()
    scaled: bool = False
    shifted: bool = False

    def affine_shape(self) -> Shape:
        """The shape of the weight and bias."""
        raise NotImplementedError

    def affine_names(self) -> tuple[str, ...]:
        """The input axes the weight and bias run along, by name (C; LayerNorm's last axes)."""
        raise NotImplementedError

    def affine_tensors(self, shape: Sequence[Any]) -> dict[str, Sequence[Any]]:
        """The learnable tensors by state_dict name, each of `shape` (ints, or Terms for `explain`)."""
        tensors: dict[str, Sequence[Any]] = {}
        if self.scaled:
            tensors["weight"] = shape
        if self.shifted:
            tensors["bias"] = shape
        return tensors

    def weights(self) -> dict[str, Shape]:
        return self.affine_tensors(self.affine_shape())  # type: ignore[return-value]

    def buffer_tensors(self, channels: Any) -> dict[str, Sequence[Any]]:
        """The running-statistics buffers by state_dict name, for `channels` (an int, or a Term for `explain`)."""
        return {}

    def params(self) -> int:
        return element_count(self.weights().values())  # type: ignore[no-any-return]

    def buffer_count(self) -> int:
        return element_count(self.buffers().values())  # type: ignore[no-any-return]

    def check_eps(self) -> None:
        if self.eps is not None and self.eps < 0:
            # PyTorch accepts it here, but var + eps can reach 0 or below: division by zero or NaN.
            self.warn(f"eps is negative ({self.eps:g}): var + eps can be 0 or negative, giving inf or NaN")

    def op_parts(self) -> list[tuple[str, int]]:
        """The ops each element costs, by what they do (the `ops_rule`)."""
        parts = [("statistics", self.stats_ops)] if self.input_stats else []
        parts.append(("normalize", self.normalize_ops))
        if self.scaled:
            parts.append(("scale", 1))
        if self.shifted:
            parts.append(("shift", 1))
        return parts

    def other_ops(self) -> int:
        return per_element_ops(prod(self.in_shape), [count for _, count in self.op_parts()])  # type: ignore[no-any-return]

    def explain(self) -> list[tuple[str, Any]]:
        """params, buffers and other ops from the rules that compute them (element_count, per_element_ops)."""
        lines: list[tuple[str, Any]] = []
        names = axis_names(len(self.in_shape))
        affine = named(self.affine_names(), self.affine_shape())
        if self.weights():
            lines.append(("params", element_count(self.affine_tensors(affine).values())))
        if self.buffers():
            lines.append(("buffers", element_count(self.buffer_tensors(affine[0]).values())))
        parts = [Term.leaf(what, count) for what, count in self.op_parts()]
        lines.append(("other ops", per_element_ops(product(named(names, self.in_shape)), parts)))
        return lines

    def notes(self) -> list[str]:
        """Which axes the statistics are taken over (from `statistics_axes`, which forward's layout comes from),
        train vs eval (from `uses_running_stats`, which forward asks), and what is learned and what is kept."""
        axes = self.statistics_axes((1, *self.in_shape))  # the batch is named N: its size plays no part
        reduced = ", ".join(name for name, _ in axes.before + axes.after)
        batch = " x ".join(name for name, _ in _batch_axes((1, *self.in_shape)))
        kept = [(name, size) for name, size in axes.groups if name != "N"]
        per_sample = prod(size for _, size in kept)
        shape = " x ".join(name for name, _ in axes.groups)
        if len(kept) < len(axes.groups):  # one statistic per sample (and per group or channel)
            sizes = " x ".join(name if name == "N" else str(size) for name, size in axes.groups)
            count = f"{shape} = {sizes} entries, {per_sample} per sample" if kept else "N entries, one per sample"
        else:  # BatchNorm: shared by the whole batch
            count = f"{shape} = {per_sample} entries, one per {' x '.join(_ROLE_OF_AXIS.get(n, n) for n, _ in kept)}"
        if self.centred:
            statistic, holder = "mean and variance", "statistics over {}: the mean and the variance each have"
        else:
            statistic, holder = "mean square", "statistic over {}: the mean square (RMSNorm subtracts no mean) has"
        where = f"{reduced} of the {batch} batch{self.split_text()}"
        notes = [f"{holder.format(where)} {count}"]
        source = "the batch's" if axes.before else "each sample's own"
        running = {mode: self.uses_running_stats(Context(mode)) for mode in MODES}
        if running["eval"] and not running["train"]:
            notes.append(
                f"train: normalizes with {source} {statistic}, and updates running_mean and running_var: "
                f"{self.update_rule()}"
            )
            notes.append(
                "eval (the mode counted here): normalizes with the running averages running_mean and running_var, "
                "fixed numbers per channel, so each channel is only scaled and shifted"
            )
        else:
            depends = ", so at test time each output depends on the other samples of the batch" if axes.before else ""
            notes.append(f"train and eval alike: normalizes with {source} {statistic}{depends}; no running averages")
        learned = self.weights()
        if learned:
            shown = ", ".join(f"{name} ({_ROLE_OF_WEIGHT[name]}) {fmt_shape(shape)}" for name, shape in learned.items())
            notes.append(f"learned: {shown}")
        else:
            notes.append("nothing learned: no weight (scale) or bias (shift)")
        state = self.buffers()
        if state:
            shown = ", ".join(f"{name} {fmt_shape(shape) or 1}" for name, shape in state.items())
            notes.append(f"buffers (in the state_dict, not learned): {shown}")
        return notes

    def split_text(self) -> str:
        """How the channels are split where the statistics axes are not whole axes of the batch (GroupNorm)."""
        return ""

    def update_rule(self) -> str:
        """How training updates the running statistics, in words with this layer's momentum."""
        return ""

    def window(self) -> tuple[Window, ...] | None:
        if len(self.in_shape) < 2:
            return None
        return tuple(
            spanning_window(size) if axis in self.stats_axes else POINTWISE
            for axis, size in enumerate(self.in_shape[1:], start=1)
        )

    # -- execution --------------------------------------------------------------------------------------------
    # Both layouts below say how the flat elements of a batch of `shape` (batch axis included) fall into groups:
    # element i belongs to group (i // size) % period, returned as (size, period).

    centred: ClassVar[bool] = True  # RMSNorm divides by the root mean square without subtracting a mean

    def statistics_axes(self, shape: Shape) -> StatisticsAxes:
        """For a batch of `shape`, the axes the statistics are taken over and those they are kept along."""
        raise NotImplementedError

    def statistics_layout(self, shape: Shape) -> tuple[int, int]:
        """The groups that share one mean and variance when they are taken from the input: the reduced axes
        behind the kept ones make up a group's runs of consecutive elements, the kept axes the period."""
        axes = self.statistics_axes(shape)
        return prod(size for _, size in axes.after), prod(size for _, size in axes.groups)

    def affine_layout(self, shape: Shape) -> tuple[int, int]:
        """Which weight and bias element each element is scaled and shifted by."""
        raise NotImplementedError

    def uses_running_stats(self, ctx: Context) -> bool:
        """True where PyTorch normalizes with the running_mean / running_var buffers in ctx's mode."""
        return False

    def check_batch(self, shape: Shape, ctx: Context) -> None:
        """PyTorch's checks that depend on the batch and the mode (the per-sample ones are in setup)."""

    def epsilon(self) -> Fraction:
        from fractions import Fraction

        return Fraction(FLOAT64_EPS if self.eps is None else self.eps)

    def initial_values(self, name: str, count: int, rng: Random) -> list[int]:
        if name == "running_var":
            return draw(rng, range(1, 5), count)  # a variance: positive
        if name == "num_batches_tracked":
            return [0] * count  # a fresh module's
        if name == "weight":
            return draw(rng, (-2, -1, 1, 2), count)  # a zero scale would hide the normalization
        return super().initial_values(name, count, rng)

    def group_name(self, group: int, shape: Shape, running: bool) -> str:
        """Statistics group `group` of a batch of `shape` in words, for messages."""
        per_sample = self.statistics_layout(shape)[1] // shape[0]
        return f"sample {group // per_sample}" + (f", group {group % per_sample}" if per_sample > 1 else "")

    def statistics(self, x: Tensor, params: dict[str, Tensor], ctx: Context) -> Statistics:
        """The statistics PyTorch normalizes `x` with in ctx's mode, and each group's inverse root. Shared by
        forward and backward, so that both use the same mean and the same 40-digit root."""
        from fractions import Fraction

        shape = x.shape
        running = self.uses_running_stats(ctx)
        if running:
            size, period = self.affine_layout(shape)  # per channel, as the buffers are
            mean_buffer, var_buffer = params["running_mean"], params["running_var"]
            means = [Fraction(mean_buffer.value(c)) for c in range(period)]
            variances = [Fraction(var_buffer.value(c)) for c in range(period)]
            approximate = x.approximate or mean_buffer.approximate or var_buffer.approximate
        else:
            self.check_batch(shape, ctx)
            size, period = self.statistics_layout(shape)
            means, variances = self.input_statistics(x, size, period)
            approximate = x.approximate
        eps = self.epsilon()
        roots = []
        for group, variance in enumerate(variances):
            total = variance + eps
            if total <= 0:
                raise LayerError(
                    f"the {'variance' if self.centred else 'mean square'} plus eps is {float(total):g} for "
                    f"{self.group_name(group, shape, running)}: PyTorch divides by its square root and outputs "
                    "inf or NaN, which exact arithmetic cannot represent",
                    arg="eps",
                    hint="use a positive eps, e.g. 1e-05",
                )
            roots.append(_inverse_root(total))
        return Statistics((size, period), means, variances, roots, running, approximate)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        stats = self.statistics(x, params, ctx)
        if self.centred:
            ctx.record(mean=[_plain(m) for m in stats.means], var=[_plain(v) for v in stats.variances])
        else:
            ctx.record(mean_square=[_plain(v) for v in stats.variances])
        out = self.normalized(x, params, stats.layout, stats.means, stats.roots)
        out.approximate = out.approximate or stats.approximate
        return out

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # With xh = (x - mean) * r, r = 1 / sqrt(var + eps), and gh = g * weight (the gradient reaching xh):
        # - running statistics are constants: dx = gh * r;
        # - statistics of a group of n inputs depend on every one of them ("the full gradient through mean and
        #   variance"): dx = r / n * (n * gh - sum(gh) - xh * sum(gh * xh)), without the sum(gh) term for
        #   RMSNorm, which does not subtract a mean;
        # and per affine element dweight = sum(g * xh), dbias = sum(g).
        (x,) = inputs
        stats = self.statistics(x, params, ctx)
        exact = all(root_exact for _, _, root_exact in stats.roots)
        a_size, a_period = self.affine_layout(x.shape)
        e = grad.denominator
        weight = params["weight"] if self.scaled else None
        weight_grads: dict[str, Tensor] = {}
        if weight is None:
            gh, gh_den = grad.data, e
        else:
            slopes = weight.data
            gh = [g * slopes[(i // a_size) % a_period] for i, g in enumerate(grad.data)]
            gh_den = e * weight.denominator
            # xh as forward computes it before the affine step (to SIGNIFICANT digits where r is approximate).
            xh = self.normalized(x, {}, stats.layout, stats.means, stats.roots, affine=False)
            sums = [0] * a_period
            for i, (g, value) in enumerate(zip(grad.data, xh.data, strict=True)):
                sums[(i // a_size) % a_period] += g * value
            approximate = grad.approximate or xh.approximate or stats.approximate
            weight_grads["weight"] = Tensor(self.affine_shape(), sums, e * xh.denominator, approximate)
        if self.shifted:
            sums = [0] * a_period
            for i, g in enumerate(grad.data):
                sums[(i // a_size) % a_period] += g
            weight_grads["bias"] = Tensor(self.affine_shape(), sums, e, grad.approximate)
        size, period = stats.layout
        ratios: list[tuple[int, int]] = []
        if stats.running:
            for i, g in enumerate(gh):
                s, t, _ = stats.roots[(i // size) % period]
                ratios.append((g * s, gh_den * t))
        else:
            # Exact centred values c_i = x_i * b - a * d (mean a / b, x_i over d), so xh_i = c_i * s / (d b t) with
            # r = s / t: the sums below cancel exactly where they should (sum(c) = 0 in every group), and the
            # element is rounded once, at the end.
            d = x.denominator
            centred = [(m.denominator, m.numerator * d) for m in stats.means]
            n = len(x.data) // period
            plain_sums, cross_sums = [0] * period, [0] * period
            for i, (g, value) in enumerate(zip(gh, x.data, strict=True)):
                group = (i // size) % period
                b, ad = centred[group]
                plain_sums[group] += g
                cross_sums[group] += g * (value * b - ad)
            if not self.centred:  # RMSNorm: no mean, so no sum(gh) term
                plain_sums = [0] * period
            # dx_i = s * ((n gh_i - sum(gh)) (d b t)^2 - c_i sum(gh c) s^2) / (t n gh_den (d b t)^2)
            constants = []
            for (b, _), (s, t, _) in zip(centred, stats.roots, strict=True):
                square = (d * b * t) ** 2
                constants.append((square, s * s, t * n * gh_den * square))
            for i, (g, value) in enumerate(zip(gh, x.data, strict=True)):
                group = (i // size) % period
                b, ad = centred[group]
                s = stats.roots[group][0]
                square, s_square, denominator = constants[group]
                numerator = (n * g - plain_sums[group]) * square - (value * b - ad) * cross_sums[group] * s_square
                ratios.append((s * numerator, denominator))
        grad_x = ratio_tensor(x.shape, ratios, rounded=not exact)
        if exact:  # over the least common denominator of the groups': often much shorter once reduced
            grad_x = grad_x.reduced()
        grad_x.approximate = grad_x.approximate or grad.approximate or stats.approximate
        if weight is not None:
            grad_x.approximate = grad_x.approximate or weight.approximate
        return [grad_x], weight_grads

    def normalized(
        self,
        x: Tensor,
        params: dict[str, Tensor],
        layout: tuple[int, int],
        means: list[Fraction],
        roots: list[tuple[int, int, bool]],
        affine: bool = True,
    ) -> Tensor:
        """(x - mean) / sqrt(var + eps) * weight + bias, given each group's mean and inverse root; without
        `affine`, the standardized values (x - mean) / sqrt(var + eps) alone."""
        weight = params["weight"] if self.scaled and affine else None
        bias = params["bias"] if self.shifted and affine else None
        w_den = 1 if weight is None else weight.denominator
        b_den = 1 if bias is None else bias.denominator
        # y = (x/d - a/b) * (s/t) * (W/w_den) + B/b_den with mean a/b and inverse root s/t per group:
        #   = ((x*b - a*d) * s*b_den * W + B * d*b*t*w_den) / (d*b*t*w_den*b_den)
        d = x.denominator
        constants = []
        for mean, (s, t, _) in zip(means, roots, strict=True):
            a, b = mean.numerator, mean.denominator
            shift_factor = d * b * t * w_den
            constants.append((b, a * d, s * b_den, shift_factor, shift_factor * b_den))
        size, period = layout
        a_size, a_period = self.affine_layout(x.shape)
        ratios = []
        for i, value in enumerate(x.data):
            b, ad, scale, shift_factor, denominator = constants[(i // size) % period]
            numerator = (value * b - ad) * scale
            if weight is not None:
                numerator *= weight.data[(i // a_size) % a_period]
            if bias is not None:
                numerator += bias.data[(i // a_size) % a_period] * shift_factor
            ratios.append((numerator, denominator))
        out = ratio_tensor(x.shape, ratios, rounded=not all(exact for _, _, exact in roots))
        out.approximate = out.approximate or any(p.approximate for p in (weight, bias) if p is not None)
        return out

    def input_statistics(self, x: Tensor, size: int, period: int) -> tuple[list[Fraction], list[Fraction]]:
        """Per group, the mean and the biased variance (RMSNorm: 0 and the mean square), exactly."""
        from fractions import Fraction

        sums, squares = [0] * period, [0] * period
        for i, value in enumerate(x.data):
            group = (i // size) % period
            sums[group] += value
            squares[group] += value * value
        n, d = len(x.data) // period, x.denominator
        if not self.centred:
            return [Fraction(0)] * period, [Fraction(q, n * d * d) for q in squares]
        means = [Fraction(s, n * d) for s in sums]
        variances = [Fraction(n * q - s * s, n * n * d * d) for s, q in zip(sums, squares, strict=True)]
        return means, variances


def _planes(shape: Shape) -> int:
    """Elements per (sample, channel) of a batch of `shape`: the product of the axes after the channels."""
    return prod(shape[2:])


class _ChannelNorm(_Normalization):
    """PyTorch's _NormBase: BatchNorm and InstanceNorm, one mean and variance per channel (axis 0 per sample)."""

    keeps_channels = True  # statistics per channel: each channel is its own

    # Per-sample ranks accepted, and how the axes are named in messages.
    ranks: ClassVar[tuple[int, ...]] = ()

    @classmethod
    def fits_rank(cls, rank: int) -> bool:
        return rank in cls.ranks

    axes_text: ClassVar[str] = ""
    # PyTorch's defaults, so that summaries show only what differs.
    affine_default: ClassVar[bool] = True
    track_default: ClassVar[bool] = True

    def check_channels(self) -> None:
        self.expect_rank(*self.ranks, what=self.axes_text)
        self.infer("num_features", self.in_shape[0], "channels")
        self.check_eps()
        self.scaled = self.affine
        self.shifted = self.affine and self.bias

    @property
    def spatial(self) -> int:
        return prod(self.in_shape[1:])

    def affine_shape(self) -> Shape:
        return (self.num_features,)

    def affine_names(self) -> tuple[str, ...]:
        return ("C",)

    def affine_layout(self, shape: Shape) -> tuple[int, int]:
        return _planes(shape), shape[1]

    def uses_running_stats(self, ctx: Context) -> bool:
        return self.track_running_stats and not ctx.training

    def group_name(self, group: int, shape: Shape, running: bool) -> str:
        # Running statistics are per channel; InstanceNorm's own per sample and channel (BatchNorm overrides).
        return f"channel {group}" if running else f"sample {group // shape[1]}, channel {group % shape[1]}"

    def buffer_tensors(self, channels: Any) -> dict[str, Sequence[Any]]:
        if not self.track_running_stats:
            return {}
        # num_batches_tracked is a 0-d tensor: one element, as in the state_dict.
        return {"running_mean": (channels,), "running_var": (channels,), "num_batches_tracked": ()}

    def buffers(self) -> dict[str, Shape]:
        return self.buffer_tensors(self.num_features)  # type: ignore[return-value]

    def update_rule(self) -> str:
        from fractions import Fraction

        if self.momentum is None:
            average = "the average of every batch so far (momentum null; num_batches_tracked counts them)"
        else:
            momentum = decimal_text(Fraction(str(self.momentum)))
            kept = decimal_text(1 - Fraction(str(self.momentum)))
            average = f"running = {kept}*running + {momentum}*batch value (momentum {momentum})"
        return average + "; running_var averages the unbiased variance, n/(n - 1) times the one normalized with"

    def summary(self) -> str:
        parts = [f"eps={self.eps:g}"]
        parts += _flag("affine", self.affine, self.affine_default)
        parts += _flag("track_running_stats", self.track_running_stats, self.track_default)
        return " ".join(parts)


def _channel_norm_arguments(affine: bool, track_running_stats: bool, eps: Float) -> tuple[Arg, ...]:
    return (
        Arg("num_features", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("eps", eps, 1e-5, "added to the variance before the square root"),
        Arg("momentum", Optional(Float()), 0.1, "running-statistics update factor; null: cumulative average"),
        Arg("affine", Bool(), affine, "learn a per-channel weight (scale) and bias (shift)"),
        Arg("track_running_stats", Bool(), track_running_stats, "keep running mean and variance buffers"),
        Arg("bias", Bool(), True, "with affine: learn the bias too", keyword_only=True),
    )


class _BatchNormNd(_ChannelNorm):
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std with the running statistics), +1 scale and +1 shift "
        "when affine; +3 (sum, square, sum of squares) when track_running_stats is false, as eval mode then "
        "normalizes with the batch's statistics"
    )
    # PyTorch rejects eps < 0 in eval mode (and eps <= 0 in training mode).
    arguments = _channel_norm_arguments(True, True, Float(min=0))

    def saved(self, step: Backprop) -> list[Saved]:
        """native_batch_norm in training saves its input and the batch's per-channel mean and 1/std (and the
        weight and running statistics, which are the model's own memory)."""
        channels = (self.in_shape[0],)
        return [
            saved_input(0, self.in_shape, step.batch),
            Saved("batch mean per channel", channels, "own"),
            Saved("batch 1/std per channel", channels, "own"),
        ]

    def setup(self) -> None:
        self.check_channels()
        if self.track_running_stats:
            if self.eps == 0:
                self.warn("eps=0: fine at inference with running statistics, but PyTorch rejects it in training")
            return
        # Without running statistics, eval mode normalizes with the batch's statistics, per channel over the
        # batch and the spatial axes (PyTorch takes its training path here).
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        if self.eps == 0:
            raise LayerError(
                "eps must be positive when track_running_stats is false: the batch statistics are used even at "
                "inference, and PyTorch rejects eps=0 there",
                arg="eps",
                hint="use eps > 0, e.g. 1e-05 (the default)",
            )
        if self.spatial == 1:
            # Batch-dependent: cnncalc's shapes are per sample, so this is a warning rather than an error.
            self.warn(
                f"each channel holds one value per sample ({fmt_shape(self.in_shape)}) and track_running_stats "
                "is false: the statistics come from the batch alone, so a batch of 1 normalizes every value to 0 "
                "and PyTorch rejects it ('Expected more than 1 value per channel'); it needs a batch of 2 or more"
            )

    def check_batch_size(self, batch: int) -> None:
        """Without running statistics, BatchNorm normalizes with the batch's statistics in eval mode too, so one
        value per channel (batch 1, one position) is refused in every mode, as PyTorch refuses it."""
        if not self.track_running_stats and batch * self.spatial == 1:
            raise LayerError(
                f"a batch of 1 with one value per channel ({fmt_shape(self.in_shape)} per sample) and "
                "track_running_stats false: BatchNorm then normalizes with the batch's own statistics in training "
                "and in eval mode, every value would become 0, and PyTorch refuses it in every mode ('Expected "
                "more than 1 value per channel when training')",
                arg="track_running_stats" if "track_running_stats" in self.given else "inputs",
                hint="set batch: 2 or more (or --batch 2), or keep running statistics (track_running_stats: true)",
            )

    def check_training_batch(self, batch: int) -> None:
        """Training normalizes with the batch's statistics: one value per channel is refused."""
        if batch * self.spatial == 1:
            raise LayerError(
                f"a batch of 1 with one value per channel ({fmt_shape(self.in_shape)} per sample): PyTorch cannot "
                "train BatchNorm on it ('Expected more than 1 value per channel when training')",
                arg="inputs",
                hint="train with --batch 2 or more",
            )

    def statistics_axes(self, shape: Shape) -> StatisticsAxes:
        axes = _batch_axes(shape)  # per channel, over the batch and the spatial axes
        return StatisticsAxes(axes[:1], axes[1:2], axes[2:])

    def group_name(self, group: int, shape: Shape, running: bool) -> str:
        return f"channel {group}"

    def check_batch(self, shape: Shape, ctx: Context) -> None:
        if shape[0] * _planes(shape) == 1:
            raise LayerError(
                f"a batch of 1 with one value per channel ({fmt_shape(shape)} with the batch axis): the batch "
                "statistics would normalize every value to 0, and PyTorch rejects it ('Expected more than 1 value "
                "per channel when training')",
                arg="inputs",
                hint="use a batch of 2 or more, or eval mode with running statistics",
            )
        if self.eps == 0:
            raise LayerError(
                "eps is 0: PyTorch rejects it when normalizing with batch statistics ('batch_norm eps must be "
                "positive during training')",
                arg="eps",
                hint="use eps > 0, e.g. 1e-05 (the default)",
            )

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        sample = {1: (3, 4), 2: (2, 3, 3), 3: (2, 2, 2, 3)}[cls.dims]
        cases: list[tuple[dict[str, Any], tuple[Shape, ...]]] = [
            ({}, (sample,)),
            ({"affine": False, "eps": 1e-3}, (sample,)),
            ({"bias": False, "momentum": None}, (sample,)),
        ]
        if cls.dims == 1:
            # Batch statistics in eval mode mix the samples, so only a per-sample vector (no window) fits the
            # generic test's check that a change in one sample stays in that sample.
            cases += [({"track_running_stats": False}, ((4,),)), ({"num_features": 5}, ((5,),))]
        return cases


@register
class BatchNorm1d(_BatchNormNd):
    kind = "BatchNorm1d"
    dims = 1
    ranks = (1, 2)
    axes_text = "C or C x L"


@register
class BatchNorm2d(_BatchNormNd):
    kind = "BatchNorm2d"
    dims = 2
    ranks = (3,)
    axes_text = AXES[2]


@register
class BatchNorm3d(_BatchNormNd):
    kind = "BatchNorm3d"
    dims = 3
    ranks = (4,)
    axes_text = AXES[3]


class _InstanceNormNd(_ChannelNorm):
    ops_rule = (
        "per element: 2 to normalize ((x - mean) * inv_std), +3 (sum, square, sum of squares) for the "
        "per-sample, per-channel statistics unless track_running_stats uses running ones, +1 scale and "
        "+1 shift when affine"
    )
    # PyTorch accepts any eps here (a negative one only risks NaN: see check_eps).
    arguments = _channel_norm_arguments(False, False, Float())
    affine_default = False
    track_default = False

    def saved(self, step: Backprop) -> list[Saved]:
        """instance_norm is batch_norm over the batch seen as one sample of N x C channels: it saves the input,
        the mean and 1/std per sample and channel, and the per-channel tensors it repeats N times: the weight
        (affine) and the running statistics (track_running_stats), new memory unlike the originals."""
        stats = (step.batch * self.in_shape[0],)
        kept = [
            saved_input(0, self.in_shape, step.batch),
            Saved("mean per sample and channel", stats, "own"),
            Saved("1/std per sample and channel", stats, "own"),
        ]
        if self.affine:
            kept.append(Saved("weight repeated per sample", stats, "own"))
        if self.track_running_stats:
            kept.append(Saved("running_mean repeated per sample", stats, "own"))
            kept.append(Saved("running_var repeated per sample", stats, "own"))
        return kept

    def setup(self) -> None:
        if len(self.in_shape) == self.dims:
            # PyTorch would read the batched tensor as one unbatched sample, its batch axis as the channels.
            raise LayerError(
                f"{self.kind} expects {self.dims + 1} axes per sample ({self.axes_text}), got {self.dims}: "
                f"{fmt_shape(self.in_shape)}. PyTorch would read such a batch as one unbatched sample whose "
                "channels are the batch",
                arg="inputs",
                hint="add a channel axis of size 1 in front, or use LayerNorm over the last axes",
            )
        # PyTorch only warns on a wrong num_features when affine is false; the contract makes it an error.
        self.check_channels()
        if self.track_running_stats:
            if self.spatial == 1:
                self.warn(
                    f"one spatial position per channel ({fmt_shape(self.in_shape)}): fine at inference with "
                    "running statistics, but PyTorch rejects it in training ('Expected more than 1 spatial element')"
                )
            return
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        if self.spatial == 1:
            raise LayerError(
                f"{self.kind} normalizes each channel over its spatial positions, but the input "
                f"({fmt_shape(self.in_shape)}) has one per channel: every output would be 0 (plus bias), and "
                "PyTorch rejects it ('Expected more than 1 spatial element')",
                arg="inputs",
                hint="set track_running_stats: true to normalize with running statistics, or use a larger input",
            )

    def statistics_axes(self, shape: Shape) -> StatisticsAxes:
        axes = _batch_axes(shape)  # per sample and channel, over the spatial axes
        return StatisticsAxes((), axes[:2], axes[2:])

    def check_batch(self, shape: Shape, ctx: Context) -> None:
        if _planes(shape) == 1:  # reached in training with running statistics (setup rejects the rest)
            raise LayerError(
                f"training normalizes each channel over its spatial positions, but the input "
                f"({fmt_shape(shape[1:])}) has one per channel, and PyTorch rejects it ('Expected more than 1 "
                "spatial element when training')",
                arg="inputs",
                hint="run in eval mode (running statistics), or use a larger input",
            )

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        sample = {1: (2, 5), 2: (2, 3, 3), 3: (2, 2, 2, 3)}[cls.dims]
        return [
            ({}, (sample,)),
            ({"affine": True}, (sample,)),
            ({"affine": True, "bias": False, "eps": 0.5}, (sample,)),
            ({"track_running_stats": True}, (sample,)),
            ({"track_running_stats": True, "affine": True, "momentum": None}, (sample,)),
        ]


@register
class InstanceNorm1d(_InstanceNormNd):
    kind = "InstanceNorm1d"
    dims = 1
    ranks = (2,)
    axes_text = AXES[1]


@register
class InstanceNorm2d(_InstanceNormNd):
    kind = "InstanceNorm2d"
    dims = 2
    ranks = (3,)
    axes_text = AXES[2]


@register
class InstanceNorm3d(_InstanceNormNd):
    kind = "InstanceNorm3d"
    dims = 3
    ranks = (4,)
    axes_text = AXES[3]


class _TrailingNorm(_Normalization):
    """LayerNorm and RMSNorm: statistics over the input's last len(normalized_shape) axes, per sample."""

    def check_normalized_shape(self) -> None:
        self.expect_rank(*range(1, 9))
        shape, rank = self.normalized_shape, len(self.in_shape)
        suffixes = [self.in_shape[start:] for start in range(rank - 1, -1, -1)]
        valid = ", ".join(str(s[0]) if len(s) == 1 else str(list(s)) for s in suffixes)
        if len(shape) > rank:
            raise LayerError(
                f"normalized_shape {list(shape)} has {len(shape)} axes but the input has {rank} per sample "
                f"({fmt_shape(self.in_shape)}); normalizing across the batch axis is not supported",
                arg="normalized_shape",
                hint=f"use the input's last axes: {valid}",
            )
        if self.in_shape[rank - len(shape) :] != shape:
            raise LayerError(
                f"normalized_shape {list(shape)} must equal the input's "
                f"{'last axis' if len(shape) == 1 else f'last {len(shape)} axes'}, "
                f"got {list(self.in_shape[rank - len(shape) :])} (input shape {fmt_shape(self.in_shape)})",
                arg="normalized_shape",
                hint=f"use the input's last axes: {valid}",
            )
        self.input_stats = True
        self.stats_axes = tuple(range(max(rank - len(shape), 1), rank))  # axis 0 (channels) has no window
        self.check_eps()

    def axis_map(self) -> AxisMap:
        # Every axis keeps its positions; the normalized (trailing) ones are read whole for the statistics, the
        # channel axis too when it is normalized (in a channels-last block, the channels are the last axis).
        first = len(self.in_shape) - len(self.normalized_shape)
        return tuple(
            (axis, spanning_window(size) if axis >= first else POINTWISE) for axis, size in enumerate(self.in_shape)
        )

    def affine_shape(self) -> Shape:
        return self.normalized_shape

    def affine_names(self) -> tuple[str, ...]:
        return axis_names(len(self.in_shape))[len(self.in_shape) - len(self.normalized_shape) :]

    def statistics_axes(self, shape: Shape) -> StatisticsAxes:
        axes = _batch_axes(shape)  # per sample and leading position, over the trailing axes
        split = len(shape) - len(self.normalized_shape)
        return StatisticsAxes((), axes[:split], axes[split:])

    def affine_layout(self, shape: Shape) -> tuple[int, int]:
        size = prod(self.normalized_shape)
        return 1, size  # element-wise over the trailing axes

    def summary(self) -> str:
        parts = [f"over {fmt_shape(self.normalized_shape)}"]
        if self.eps is not None:
            parts.append(f"eps={self.eps:g}")
        return " ".join(parts)


@register
class LayerNorm(_TrailingNorm):
    kind = "LayerNorm"
    ops_rule = (
        "per element: 3 for the statistics (sum, square, sum of squares), 2 to normalize ((x - mean) * inv_std), "
        "+1 scale and +1 shift with elementwise_affine (the shift only with bias)"
    )
    arguments = (
        Arg("normalized_shape", IntList(Int(min=1)), doc="the input's last axes to normalize over"),
        Arg("eps", Float(), 1e-5, "added to the variance before the square root"),
        Arg("elementwise_affine", Bool(), True, "learn a weight (and bias) of normalized_shape"),
        Arg("bias", Bool(), True, "with elementwise_affine: learn the bias too"),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """native_layer_norm saves its input and the mean and 1/std of each normalized slice (and the weight and
        bias, parameters)."""
        stats = (step.batch, *self.in_shape[: len(self.in_shape) - len(self.normalized_shape)])
        stats += (1,) * len(self.normalized_shape)
        return [
            saved_input(0, self.in_shape, step.batch),
            Saved("mean per slice", stats, "own"),
            Saved("1/std per slice", stats, "own"),
        ]

    def setup(self) -> None:
        self.check_normalized_shape()
        self.scaled = self.elementwise_affine
        self.shifted = self.elementwise_affine and self.bias

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({"normalized_shape": 4}, ((3, 4),)),
            ({"normalized_shape": [3, 3]}, ((2, 3, 3),)),
            ({"normalized_shape": [2, 2, 3], "bias": False}, ((2, 2, 3),)),
            ({"normalized_shape": 5, "elementwise_affine": False, "eps": 0.25}, ((5,),)),
        ]


@register
class RMSNorm(_TrailingNorm):
    kind = "RMSNorm"
    stats_ops = 2  # square, add to the sum of squares: no mean
    normalize_ops = 1  # x * inv_rms: nothing to subtract
    ops_rule = (
        "per element: 2 for the statistic (square, sum of squares), 1 to normalize (x * inv_rms), "
        "+1 scale with elementwise_affine"
    )
    arguments = (
        Arg("normalized_shape", IntList(Int(min=1)), doc="the input's last axes to normalize over"),
        Arg("eps", Optional(Float()), None, "added to the mean square; null: the dtype's machine epsilon"),
        Arg("elementwise_affine", Bool(), True, "learn a weight of normalized_shape"),
    )

    centred = False

    def saved(self, step: Backprop) -> list[Saved]:
        """rms_norm (CPU) is x * rsqrt(mean(x^2) + eps), then * weight: the input and 1/rms of each slice are
        saved for the input gradient, and the normalized x * 1/rms (new memory, the input's size) for the weight
        gradient."""
        stats = (step.batch, *self.in_shape[: len(self.in_shape) - len(self.normalized_shape)])
        stats += (1,) * len(self.normalized_shape)
        kept = []
        if step.input_grads[0]:
            kept += [saved_input(0, self.in_shape, step.batch), Saved("1/rms per slice", stats, "own")]
        if step.weight_grads:
            kept.append(Saved("normalized input", (step.batch, *self.in_shape), "own"))
        return kept

    def setup(self) -> None:
        self.check_normalized_shape()
        self.scaled = self.elementwise_affine  # no bias: RMSNorm does not shift

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({"normalized_shape": 4}, ((3, 4),)),
            ({"normalized_shape": [3, 3], "eps": 1e-6}, ((2, 3, 3),)),
            ({"normalized_shape": 5, "elementwise_affine": False}, ((5,),)),
        ]


def _divisors(number: int, tried: int = 10_000) -> tuple[list[int], bool]:
    """The divisors of `number` in order, by trial division up to `tried` (so a hint about 10^30 channels takes
    no longer than one about 64), and whether the list is complete (number <= tried^2)."""
    small = [g for g in range(1, min(isqrt(number), tried) + 1) if number % g == 0]
    complete = isqrt(number) <= tried
    large = sorted({number // g for g in small} - set(small)) if complete else []
    return small + large, complete


@register
class GroupNorm(_Normalization):
    kind = "GroupNorm"
    ops_rule = (
        "per element: 3 for the per-group statistics (sum, square, sum of squares), 2 to normalize "
        "((x - mean) * inv_std), +1 scale and +1 shift when affine (the shift only with bias)"
    )
    arguments = (
        Arg("num_groups", Int(min=1), doc="groups the channels are split into; must divide the channels"),
        Arg("num_channels", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("eps", Float(), 1e-5, "added to the variance before the square root"),
        Arg("affine", Bool(), True, "learn a per-channel weight (scale) and bias (shift)"),
        Arg("bias", Bool(), True, "with affine: learn the bias too", keyword_only=True),
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """native_group_norm saves its input and the mean and 1/std per sample and group."""
        stats = (step.batch, self.num_groups)
        return [
            saved_input(0, self.in_shape, step.batch),
            Saved("mean per sample and group", stats, "own"),
            Saved("1/std per sample and group", stats, "own"),
        ]

    def setup(self) -> None:
        self.expect_rank(*range(1, 9))
        channels = self.infer("num_channels", self.in_shape[0], "channels")
        if channels % self.num_groups:
            divisors, complete = _divisors(channels)
            more = len(divisors) > 12 or not complete
            shown = ", ".join(str(g) for g in divisors[:12]) + (", ..." if more else "")
            raise LayerError(
                f"num_channels ({channels}) must be divisible by num_groups ({self.num_groups})",
                arg="num_groups",
                hint=f"num_groups must divide {channels}: {shown}",
            )
        per_group = channels // self.num_groups * prod(self.in_shape[1:])
        if per_group == 1:
            raise LayerError(
                f"each of the {self.num_groups} groups holds a single value ({channels} channels / "
                f"{self.num_groups} groups x {prod(self.in_shape[1:])} positions): every output would be 0 "
                "(plus bias), and PyTorch rejects it ('Expected more than 1 value per channel')",
                arg="num_groups",
                hint="use fewer groups, so that each group has several channels or positions",
            )
        self.check_eps()
        self.input_stats = True
        self.stats_axes = tuple(range(1, len(self.in_shape)))
        self.scaled = self.affine
        self.shifted = self.affine and self.bias

    def affine_shape(self) -> Shape:
        return (self.num_channels,)

    def affine_names(self) -> tuple[str, ...]:
        return ("C",)

    def split_text(self) -> str:
        per_group = self.num_channels // self.num_groups
        return f", its C = {self.num_channels} channels split into G = {self.num_groups} groups of C/G = {per_group}"

    def statistics_axes(self, shape: Shape) -> StatisticsAxes:
        # Per sample and group, over the group's channels and the spatial axes.
        axes = _batch_axes(shape)
        groups = (axes[0], ("G", self.num_groups))
        return StatisticsAxes((), groups, (("C/G", shape[1] // self.num_groups), *axes[2:]))

    def affine_layout(self, shape: Shape) -> tuple[int, int]:
        return _planes(shape), shape[1]

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        return [
            ({"num_groups": 2}, ((4, 3),)),
            ({"num_groups": 3, "eps": 1e-3}, ((6, 2, 2),)),
            ({"num_groups": 1, "affine": False}, ((2, 3, 3),)),
            ({"num_groups": 2, "bias": False}, ((2, 2, 2, 2),)),
            ({"num_groups": 2}, ((4,),)),
        ]

    def summary(self) -> str:
        return " ".join([f"groups={self.num_groups}", f"eps={self.eps:g}", *_flag("affine", self.affine, True)])
