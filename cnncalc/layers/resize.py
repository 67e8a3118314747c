"""Resizing and padding: Upsample, the Zero/Constant/Reflection/Replication/Circular padding layers, CenterCrop.

Upsample output size per spatial axis (PyTorch's rule, in double precision as PyTorch computes it):
    size given:          size
    scale_factor given:  floor(L * scale_factor)      (5 * 1.5 = 7.5 -> 7; 100 * 0.29 = 28.999999999999996 -> 28)

Receptive-field windows of Upsample follow PyTorch's source-index formulas with an exact factor f per axis (output
length over input length when `size` is given or recompute_scale_factor is true, else the scale factor itself):
    nearest          reads floor(o / f)                          extent 0, stride 1/f, padding 0
    nearest-exact    reads floor((o + 1/2) / f)                  extent 0, stride 1/f, padding -1/(2f)
    linear family    reads floor(src), floor(src) + 1            extent 1, stride 1/f, padding (f - 1)/(2f)
    bicubic          reads floor(src) - 1 ... floor(src) + 2     extent 3, stride 1/f, padding (3f - 1)/(2f)
with src = (o + 1/2)/f - 1/2. The window starts at the exact o / f or src where PyTorch reads its floor (at most
1 lower), and ignores the clamping to the input's ends (as a convolution's window ignores padding). With
align_corners=True src = o * (L_in - 1)/(L_out - 1) (0 when L_out = 1, as in PyTorch), so the stride is that ratio
and the padding 0 (1 for bicubic). Like PyTorch's gradient (and its forward on 2-D outputs with H + W <= 128),
nearest copies index o when L_out = L_in and o // 2 when L_out = 2 * L_in, whatever the scale factor.

Scale factors arrive as doubles from YAML. To keep a decimal such as 1.1 or 0.29 exact, f is the closest fraction
with a denominator up to 1000 when that fraction rounds to the same double (so 0.3333333333333333 is 1/3 and 0.29 is
29/100), else the exact decimal of the double's shortest repr, Fraction(str(x)) (1.2345678901 stays that decimal).
Only the window uses f; the output size is PyTorch's double-precision floor above.

The executor (`forward`) computes what PyTorch's CPU kernels compute. Nearest and nearest-exact read the input
indices PyTorch reads, reproduced in its own single- and double-precision arithmetic (see `nearest_sources`: the
2-D kernel for small outputs special-cases equal and doubled sizes, the others do not, and rounding may read one
index lower than exact arithmetic would). Linear, bilinear, trilinear and bicubic weights are exact rationals from
PyTorch's formulas (`interpolation_taps`), with the exact factor f above where PyTorch uses 1 / scale_factor.
Constant padding writes its value as the decimal written, Fraction(str(value)) (0.1 is 1/10), whose nearest double
is the value PyTorch writes.

Backward is the exact transpose of forward: Upsample scatters each output's gradient through forward's indices and
weights, padding sends each copied element's gradient back to its source (the fill value takes none), CenterCrop
puts the gradient back where it was cut. PyTorch's CPU backward differs where it is not the transpose of its own
forward: nearest and bicubic along an axis whose size a scale factor leaves unchanged (or, nearest, doubles), where
its backward copies while its forward reads through the scale factor; and an empty ReflectionPad3d output, whose
input gradient PyTorch leaves uninitialised.
"""

from __future__ import annotations

import math
from math import lcm, prod
from operator import mul
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.args import REQUIRED, Arg, ArgType, Bool, Choice, Float, Optional, is_int, is_number
from cnncalc.compute import fold_planes, pad_planes
from cnncalc.errors import LayerError
from cnncalc.formula import ATOM, PRODUCT, Term
from cnncalc.layers.base import (
    Backprop,
    Layer,
    Saved,
    Shape,
    Window,
    box_contiguous,
    fmt_shape,
    saved_input,
    spatial_names,
)
from cnncalc.layers.norm import axis_names, decimal_text, named, product
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from fractions import Fraction  # imported where used: most networks never need it

    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Factor = int | float
Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


def exact_factor(value: Factor) -> Fraction:
    """The rational a user meant by a scale factor written as a decimal (see the module docstring)."""
    from fractions import Fraction

    if isinstance(value, int):
        return Fraction(value)
    simple = Fraction(value).limit_denominator(1000)
    return simple if float(simple) == value else Fraction(str(value))


def _fmt_number(value: Factor) -> str:
    return f"{value:g}"


def floor_of(value: Any) -> Any:
    """floor() of a number, or of a Term with its formula (formula.py has floor only as a // b)."""
    if not isinstance(value, Term):
        return math.floor(value)
    return Term(math.floor(value.value), f"floor({value.symbols})", f"floor({value.numbers})")


def scaled_size(length: Any, factor: Any) -> Any:
    """Upsample's output size along one axis, floor(L * scale_factor), the product taken as PyTorch takes it: in
    double precision (the factor a float). Ints and floats give the figure; Terms also its formula."""
    return floor_of(length * factor)


def interpolation_ops(taps: Any, elements: Any) -> Any:
    """(2*taps - 1) * output elements: each output is a weighted sum of `taps` inputs (taps multiplies and
    taps - 1 adds)."""
    return (2 * taps - 1) * elements


def padded_size(length: Any, sides: list[tuple[Any, bool]]) -> Any:
    """A padding layer's output size along one axis, L + before + after; a negative side (a crop) is subtracted as
    its size, (amount, True), so that formulas show L - crop rather than L + -crop."""
    total = length
    for amount, crops in sides:
        total = total - amount if crops else total + amount
    return total


def _sides(before: int, after: int) -> list[tuple[int, bool]]:
    return [(abs(before), before < 0), (abs(after), after < 0)]


def _ratio_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


class Sizes(ArgType):
    """A positive int for every spatial axis, or a list with one per axis; the length is checked against the
    input (the kind's rank is only known from its input), so an int stays an int here."""

    def expected(self, dims: int) -> str:
        return "a positive integer or a list of them, one per spatial axis"

    def parse(self, value: Any, dims: int) -> int | tuple[int, ...]:
        if isinstance(value, list):
            if not value or not all(is_int(v) and v >= 1 for v in value):
                raise self.fail(value, dims)
            return tuple(value)
        if is_int(value) and value >= 1:
            return value
        raise self.fail(value, dims)

    def json_schema(self, dims: int) -> dict[str, Any]:  # the length is checked against the input
        positive = {"type": "integer", "minimum": 1}
        return {"anyOf": [positive, {"type": "array", "items": positive, "minItems": 1}]}


class Modes(Choice):
    """Upsample's modes; F.interpolate's 'area' is adaptive average pooling, which has its own kinds."""

    def parse(self, value: Any, dims: int) -> str:
        try:
            return super().parse(value, dims)
        except LayerError as error:
            if value == "area":
                error.hint = "mode 'area' is adaptive average pooling: use AdaptiveAvgPool1d/2d/3d with output_size"
            raise


class Factors(ArgType):
    """A finite number for every spatial axis, or a list with one per axis (signs are checked by the kind)."""

    def expected(self, dims: int) -> str:
        return "a number or a list of numbers, one per spatial axis"

    def parse(self, value: Any, dims: int) -> Factor | tuple[Factor, ...]:
        def ok(v: Any) -> bool:
            return is_number(v) and math.isfinite(v)

        if isinstance(value, list):
            if not value or not all(ok(v) for v in value):
                raise self.fail(value, dims)
            return tuple(value)
        if ok(value):
            return value
        raise self.fail(value, dims)

    def json_schema(self, dims: int) -> dict[str, Any]:  # signs are checked by Upsample
        number = {"type": "number"}
        return {"anyOf": [number, {"type": "array", "items": number, "minItems": 1}]}


PAD_NAMES = ("left", "right", "top", "bottom", "front", "back")  # PyTorch's order: last axis first


class Pads(ArgType):
    """Padding layers' `padding`: an int for every side, or 2*dims ints in PyTorch's order (negative crops)."""

    def expected(self, dims: int) -> str:
        return f"an integer or a list of {2 * dims} integers ({', '.join(PAD_NAMES[: 2 * dims])})"

    def parse(self, value: Any, dims: int) -> tuple[int, ...]:
        if isinstance(value, list):
            if len(value) != 2 * dims or not all(is_int(v) for v in value):
                error = self.fail(value, dims)
                axes = len(value) // 2
                if len(value) in (2, 4, 6) and len(value) != 2 * dims:
                    error.hint = f"{len(value)} values pad {_count(axes, 'axis', 'axes')}: use the {axes}d layer"
                raise error
            return tuple(value)
        if is_int(value):
            return (value,) * (2 * dims)
        raise self.fail(value, dims)

    def json_schema(self, dims: int) -> dict[str, Any]:
        integer = {"type": "integer"}
        return {"anyOf": [integer, {"type": "array", "items": integer, "minItems": 2 * dims, "maxItems": 2 * dims}]}


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _per_axis(value: int | tuple[int, ...] | Factor | tuple[Factor, ...], count: int) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,) * count


def _spatial_names(count: int) -> tuple[str, ...]:
    return spatial_names(count)


# -- Upsample -------------------------------------------------------------------------------------------------------

UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "nearest-exact")
INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")
RANK_OF_MODE = {"linear": 2, "bilinear": 3, "bicubic": 3, "trilinear": 4}  # per sample: C + spatial axes
AXES = {2: "C x L", 3: "C x H x W", 4: "C x D x H x W"}
INT64_MAX = 2**63 - 1


@register
class Upsample(Layer):
    kind = "Upsample"
    ops_rule = (
        "nearest, nearest-exact: none (copies); linear, bilinear, trilinear: a weighted sum of 2^k inputs per "
        "output element (k spatial axes), 2^k multiplies + 2^k - 1 adds; bicubic: 16 multiplies + 15 adds"
    )
    arguments = (
        Arg("size", Optional(Sizes()), None, "output size per spatial axis (give size or scale_factor)"),
        Arg("scale_factor", Optional(Factors()), None, "multiplier per spatial axis (give size or scale_factor)"),
        Arg("mode", Modes(UPSAMPLE_MODES), "nearest"),
        Arg("align_corners", Optional(Bool()), None, "interpolating modes only; null means false"),
        Arg("recompute_scale_factor", Optional(Bool()), None, "interpolate with output/input, not scale_factor"),
    )

    def setup(self) -> None:
        zero_scale = not isinstance(self.scale_factor, tuple) and self.scale_factor == 0
        if zero_scale:
            self.scale_factor = None  # torch.nn.Upsample stores `float(scale_factor) if scale_factor else None`
        if self.align_corners is not None and self.mode not in INTERPOLATING:
            raise LayerError(
                f"align_corners can only be set with the interpolating modes ({', '.join(INTERPOLATING)}), "
                f"not with mode '{self.mode}'",
                arg="align_corners",
                hint="remove align_corners (PyTorch raises even for false)",
            )
        if self.size is not None and self.scale_factor is not None:
            raise LayerError("give only one of size and scale_factor", arg="scale_factor")
        if self.size is None and self.scale_factor is None:
            zero = " (a scale_factor of 0 counts as not given, as in torch.nn.Upsample)" if zero_scale else ""
            raise LayerError(f"Upsample needs size or scale_factor{zero}", arg="scale_factor")
        if self.recompute_scale_factor and self.size is not None:
            raise LayerError(
                "recompute_scale_factor is not meaningful with an explicit size",
                arg="recompute_scale_factor",
                hint="remove recompute_scale_factor, or give scale_factor instead of size",
            )
        rank = len(self.in_shape)
        wanted = (RANK_OF_MODE[self.mode],) if self.mode in RANK_OF_MODE else (2, 3, 4)
        if rank not in wanted:
            suited = [m for m, r in RANK_OF_MODE.items() if r == rank]
            hint = f"for {AXES[rank]} use mode {' or '.join(repr(m) for m in suited)}" if suited else None
            shown = " or ".join(f"{r} ({AXES[r]})" for r in wanted)
            raise LayerError(
                f"mode '{self.mode}' needs an input with {shown} axes per sample, got {rank}: "
                f"{fmt_shape(self.in_shape)}",
                arg="mode" if rank in AXES else "inputs",
                hint=hint,
            )
        spatial = self.in_shape[1:]
        for name in ("size", "scale_factor"):
            value = getattr(self, name)
            if isinstance(value, tuple) and len(value) != len(spatial):
                raise LayerError(
                    f"{name} has {_count(len(value), 'value', 'values')} but the input ({fmt_shape(self.in_shape)}) "
                    f"has {_count(len(spatial), 'spatial axis', 'spatial axes')}",
                    arg=name,
                    hint="give one value per spatial axis, or a single number for all",
                )

    def output_shape(self) -> Shape:
        spatial = self.in_shape[1:]
        if self.size is not None:
            return self.in_shape[:1] + _per_axis(self.size, len(spatial))
        out = []
        for axis, (length, factor) in enumerate(zip(spatial, _per_axis(self.scale_factor, len(spatial)), strict=True)):
            # In double precision, exactly as PyTorch multiplies; a product past float's range overflows too.
            product = length * float(factor)
            size = scaled_size(length, float(factor)) if math.isfinite(product) else INT64_MAX + 1
            if size < 1 or size > INT64_MAX:
                problem = "must be at least 1" if size < 1 else "overflows a 64-bit integer"
                raise LayerError(
                    f"the output size along {spatial_names(len(spatial))[axis]} would be "
                    f"floor({length} * {_fmt_number(factor)}) = "
                    f"{size if math.isfinite(product) else 'inf'}, which {problem}",
                    arg="scale_factor",
                )
            out.append(size)
        return self.in_shape[:1] + tuple(out)

    def _factor(self, length: int, out: int, factor: Factor | None) -> Fraction:
        """The exact f with which PyTorch maps output o to input o / f along one axis."""
        from fractions import Fraction

        if factor is not None and not self.recompute_scale_factor:
            return exact_factor(factor)
        return Fraction(out, length)

    def window(self) -> tuple[Window, ...]:
        from fractions import Fraction

        spatial_in = self.in_shape[1:]
        spatial_out = self.out_shape[1:]
        factors = _per_axis(self.scale_factor, len(spatial_in)) if self.scale_factor is not None else None
        windows = []
        for axis, (length, out) in enumerate(zip(spatial_in, spatial_out, strict=True)):
            factor = self._factor(length, out, factors[axis] if factors else None)
            if self.mode == "nearest":
                # PyTorch's nearest_idx special-cases equal and doubled sizes before using the factor.
                f = Fraction(1) if out == length else Fraction(2) if out == 2 * length else factor
                windows.append(_covering(0, 1 / f, 0))
            elif self.mode == "nearest-exact":
                windows.append(_covering(0, 1 / factor, -1 / (2 * factor)))
            else:
                extent, lead = (3, 1) if self.mode == "bicubic" else (1, 0)
                if self.align_corners:
                    stride = Fraction(length - 1, out - 1) if out > 1 else Fraction(0)
                    windows.append(_covering(extent, stride, lead))
                else:
                    windows.append(_covering(extent, 1 / factor, lead + (factor - 1) / (2 * factor)))
        return tuple(_simplest(w) for w in windows)

    def taps_per_axis(self) -> int:
        """Inputs weighted along each spatial axis: 2 in the linear family, 4 in bicubic; 0 when the output copies
        one input (nearest)."""
        if self.mode not in INTERPOLATING:
            return 0
        return 4 if self.mode == "bicubic" else 2

    def taps(self) -> int:
        """Inputs weighted into each output: the taps of every spatial axis combined (bilinear 2 x 2)."""
        return self.taps_per_axis() ** (len(self.in_shape) - 1) if self.taps_per_axis() else 0

    def other_ops(self) -> int:
        return interpolation_ops(self.taps(), prod(self.out_shape)) if self.taps() else 0

    def size_terms(self) -> list[tuple[str, Term, str]]:
        """Per spatial axis with a scale factor: its name, scaled_size with Terms, and, where the decimal the spec
        wrote gives another size than PyTorch's double-precision product, a sentence saying so (the formula's
        numbers then carry the double's exact value, so that they evaluate to the figure)."""
        from fractions import Fraction

        if self.scale_factor is None:
            return []
        names = axis_names(len(self.in_shape))[1:]
        rows = []
        for name, length, factor in zip(
            names, self.in_shape[1:], _per_axis(self.scale_factor, len(names)), strict=True
        ):
            figure = scaled_size(length, float(factor))
            size = Term.leaf(name, length)
            written, double = exact_factor(factor), Fraction(float(factor))
            for text in (_ratio_text(written), _ratio_text(double)):
                # The factor's value stays the float, so that the Term's arithmetic is PyTorch's.
                term = scaled_size(size, Term(float(factor), "s", text, PRODUCT if "/" in text else ATOM))
                if math.floor(length * Fraction(text)) == figure:
                    break
            else:  # the double product itself rounds across a whole number: show it as it is
                exact = Fraction(length * float(factor))
                term = floor_of(Term(length * float(factor), f"{name}*s", _ratio_text(exact), PRODUCT))
            exactly = math.floor(length * written)
            as_written = decimal_text(written).split(" ~ ")[0]  # 0.29, or 1/3 for 0.3333333333333333
            differs = (
                f"PyTorch multiplies in double precision: {length} * {factor!r} = {length * float(factor)!r}, so "
                f"the output {name} is {figure}, not floor({length} * {as_written}) = {exactly}"
                if exactly != figure
                else ""
            )
            rows.append((name, term, differs))
        return rows

    def explain(self) -> list[tuple[str, Any]]:
        lines: list[tuple[str, Any]] = [(f"output {name} (PyTorch)", term) for name, term, _ in self.size_terms()]
        if self.taps():
            names = axis_names(len(self.out_shape))
            volume = product(named((names[0], *(f"{n}'" for n in names[1:])), self.out_shape))
            lines.append(("other ops", interpolation_ops(Term.leaf("taps", self.taps()), volume)))
        return lines

    def notes(self) -> list[str]:
        notes = [differs for _, _, differs in self.size_terms() if differs]
        taps = self.taps()
        if taps:
            spatial = axis_names(len(self.in_shape))[1:]
            axes = f"each of {', '.join(spatial)}" if len(spatial) > 1 else spatial[0]
            along = f"{self.taps_per_axis()} along {axes}"
            adds = f"{taps - 1} add{'s' if taps > 2 else ''}"
            notes.append(
                f"{self.mode}: each output weighs taps = {taps} inputs ({along}): 2*taps - 1 = {2 * taps - 1} ops, "
                f"{taps} multiplies and {adds}"
            )
        else:
            notes.append(f"{self.mode}: each output copies one input, no arithmetic")
        return notes

    def summary(self) -> str:
        if self.size is not None:
            what = "to " + "x".join(str(s) for s in _per_axis(self.size, len(self.in_shape) - 1))
        else:
            factors = _per_axis(self.scale_factor, 1)
            what = "x" + ",".join(_fmt_number(f) for f in factors)
        return f"{what} {self.mode}" + (" align_corners" if self.align_corners else "")

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"scale_factor": 2}, ((2, 3),)),
            ({"scale_factor": 1.5, "mode": "nearest-exact"}, ((1, 3, 4),)),
            ({"size": [5, 3], "mode": "bilinear", "align_corners": True}, ((2, 3, 4),)),
            ({"scale_factor": 1.7, "mode": "bicubic"}, ((1, 3, 3),)),
            ({"scale_factor": [2, 1.5, 1], "mode": "trilinear"}, ((1, 2, 2, 3),)),
            ({"scale_factor": 0.6, "mode": "linear", "recompute_scale_factor": True}, ((2, 5),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        reads, denominators = self.sampling(x.shape[2:])
        # Interpolation is separable: resampling one axis at a time gives the very same exact sums.
        data = x.data
        sizes = list(x.shape)
        for axis, axis_reads in enumerate(reads):
            full_axis = axis + 2
            outer, inner = prod(sizes[:full_axis]), prod(sizes[full_axis + 1 :])
            data = _resample(data, outer, sizes[full_axis], inner, axis_reads)
            sizes[full_axis] = len(axis_reads)
        return Tensor(tuple(sizes), data, x.denominator * prod(denominators), x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # The transpose of forward's reads, axis by axis: every output's gradient times each weight goes back to the
        # input index it read. This is the exact gradient of forward (PyTorch's own forward indices); PyTorch's CPU
        # backward for nearest and nearest-exact always computes its indices as the single-precision kernel does
        # (nearest_idx), so where its forward used the other kernel and the indices differ, so does its gradient.
        (x,) = inputs
        reads, denominators = self.sampling(x.shape[2:])
        data = grad.data
        sizes = list(grad.shape)
        for axis, axis_reads in enumerate(reads):
            full_axis = axis + 2
            outer, inner = prod(sizes[:full_axis]), prod(sizes[full_axis + 1 :])
            data = _scatter(data, outer, x.shape[full_axis], inner, axis_reads)
            sizes[full_axis] = x.shape[full_axis]
        return [Tensor(x.shape, data, grad.denominator * prod(denominators), grad.approximate)], {}

    def sampling(self, spatial_in: tuple[int, ...]) -> tuple[list[list[list[tuple[int, int]]]], list[int]]:
        """Per spatial axis: for each output index, the (input index, weight numerator) pairs it sums, and the
        weights' common denominator. Shared by forward and backward."""
        spatial_out = self.out_shape[1:]
        count = len(spatial_in)
        # PyTorch maps output to input with the scale factor itself unless it recomputes it from the sizes.
        factors = (
            _per_axis(self.scale_factor, count)
            if self.scale_factor is not None and not self.recompute_scale_factor
            else (None,) * count
        )
        if self.mode in ("nearest", "nearest-exact"):
            single = count == 2 and sum(spatial_out) <= 128  # which of PyTorch's CPU kernels runs (see nearest_sources)
            reads = [
                [[(i, 1)] for i in nearest_sources(n, m, f, self.mode == "nearest-exact", single)]
                for n, m, f in zip(spatial_in, spatial_out, factors, strict=True)
            ]
            denominators = [1] * count
        else:
            reads, denominators = [], []
            for n, m, f in zip(spatial_in, spatial_out, factors, strict=True):
                taps, denominator = interpolation_taps(
                    n, m, None if f is None else 1 / exact_factor(f), bool(self.align_corners), self.mode == "bicubic"
                )
                reads.append(taps)
                denominators.append(denominator)
        return reads, denominators


# -- Upsample's source indices and weights, as PyTorch's CPU kernels compute them -------------------------------------


def _single(value: float) -> float:
    """`value` rounded to single precision, as C converts the double argument of floorf."""
    import struct

    return struct.unpack("f", struct.pack("f", value))[0]


def nearest_sources(length: int, out: int, factor: float | None, exact: bool, single: bool) -> list[int]:
    """For each output index, the input index PyTorch reads in mode nearest (exact=False) or nearest-exact.

    PyTorch computes these in floating point, and its results are not always those of exact arithmetic (at scale
    factor 2.3, 2-D nearest-exact reads input 14 for output 34, where (34 + 1/2) / 2.3 is exactly 15), so they are
    reproduced operation by operation. The scale is 1 / factor when the scale factor is used, else length / out;
    the index is clamped to length - 1. Two CPU kernels differ (PyTorch 2.x, UpSampleKernel.cpp):
    - the generic kernel (1-D, 3-D, and 2-D with output H + W > 128): the scale in double precision; nearest reads
      floorf(scale * o), nearest-exact floorf(max(scale * (o + 0.5) - 0.5, 0) + 0.5), floorf rounding its double
      argument to single precision first;
    - the channels-last kernel, which PyTorch also picks for 2-D outputs with H + W <= 128 (`single`): the scale in
      single precision; nearest copies o when out == length, reads o >> 1 when out == 2 * length, else
      floorf(o * scale) in single precision; nearest-exact floorf((o + 0.5) * scale), a double product.
    (Channels-last 3-D, or 2-D with C > 3, needs a 1 x 1 (x 1) input per channel here: every index is 0 anyway.)
    """
    if single:
        if not exact and out == length:
            return list(range(out))
        if not exact and out == 2 * length:
            return [o >> 1 for o in range(out)]
        scale = _single(1.0 / factor) if factor else _single(_single(length) / _single(out))
        if exact:
            return [min(math.floor(_single((o + 0.5) * scale)), length - 1) for o in range(out)]
        return [min(math.floor(_single(o * scale)), length - 1) for o in range(out)]
    scale = 1.0 / factor if factor else length / out
    if exact:
        return [min(math.floor(_single(max(scale * (o + 0.5) - 0.5, 0.0) + 0.5)), length - 1) for o in range(out)]
    return [min(math.floor(_single(scale * o)), length - 1) for o in range(out)]


CUBIC_A = (-3, 4)  # Keys' parameter a = -3/4, as in PyTorch (and OpenCV) without antialiasing


def _cubic_near(x: Fraction, a: Fraction) -> Fraction:
    """Keys' cubic convolution kernel for |x| <= 1."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x: Fraction, a: Fraction) -> Fraction:
    """Keys' cubic convolution kernel for 1 <= |x| <= 2."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def interpolation_taps(
    length: int, out: int, scale: Fraction | None, align_corners: bool, cubic: bool
) -> tuple[list[list[tuple[int, int]]], int]:
    """For each output index, the (input index, weight numerator) pairs it sums in the linear family (2 taps) or
    bicubic (4 taps), with the weights' common denominator: PyTorch's formulas in exact rationals.

    `scale` is input per output (1 / scale factor), or None for length / out. The source position is
    src = scale * o with align_corners ((length - 1) / (out - 1), 0 for out = 1), else scale * (o + 1/2) - 1/2,
    clamped at 0 in the linear family; the taps start at min(floor(src), length - 1), with t = src - that start
    clamped to [0, 1], and indices clamped to the input. The linear family copies an axis whose size is unchanged
    (whatever the scale factor); bicubic does not. PyTorch computes src in floating point: its floor may differ by
    one where src is a whole number, but the interpolant is continuous there, so the values agree to rounding.
    """
    from fractions import Fraction

    if not cubic and out == length:
        return [[(o, 1)] for o in range(out)], 1
    if align_corners:
        step = Fraction(length - 1, out - 1) if out > 1 else Fraction(0)
        sources = [step * o for o in range(out)]
    else:
        step = Fraction(length, out) if scale is None else scale
        sources = [step * (2 * o + 1) / 2 - Fraction(1, 2) for o in range(out)]
        if not cubic:
            sources = [max(src, Fraction(0)) for src in sources]
    a = Fraction(*CUBIC_A)
    rows: list[dict[int, Fraction]] = []
    for src in sources:
        start = min(math.floor(src), length - 1)
        t = min(max(src - start, Fraction(0)), Fraction(1))
        if cubic:
            weights = [_cubic_far(t + 1, a), _cubic_near(t, a), _cubic_near(1 - t, a), _cubic_far(2 - t, a)]
            indices = [min(max(start - 1 + j, 0), length - 1) for j in range(4)]
        else:
            weights = [1 - t, t]
            indices = [start, start + 1 if start < length - 1 else start]
        row: dict[int, Fraction] = {}
        for index, weight in zip(indices, weights, strict=True):
            row[index] = row.get(index, Fraction(0)) + weight
        rows.append({i: w for i, w in row.items() if w})
    denominator = lcm(*(w.denominator for row in rows for w in row.values()))
    return [[(i, int(w * denominator)) for i, w in row.items()] for row in rows], denominator


def _resample(data: list[int], outer: int, length: int, inner: int, taps: list[list[tuple[int, int]]]) -> list[int]:
    """Resample the middle axis of data shaped (outer, length, inner): output o sums weight * input[index]."""
    out: list[int] = []
    size = length * inner
    for block in range(0, outer * size, size):
        for reads in taps:
            if len(reads) == 1:
                index, weight = reads[0]
                row = data[block + index * inner : block + (index + 1) * inner]
                out.extend(row if weight == 1 else [weight * v for v in row])
                continue
            weights = [w for _, w in reads]
            rows = [data[block + i * inner : block + (i + 1) * inner] for i, _ in reads]
            out.extend(sum(map(mul, weights, column)) for column in zip(*rows, strict=True))
    return out


def _scatter(grad: list[int], outer: int, length: int, inner: int, taps: list[list[tuple[int, int]]]) -> list[int]:
    """The transpose of _resample: grad shaped (outer, len(taps), inner) back to (outer, length, inner), output o's
    gradient times each weight added to the input index it read."""
    out = [0] * (outer * length * inner)
    out_size = len(taps) * inner
    for block in range(outer):
        source, target = block * out_size, block * length * inner
        for o, reads in enumerate(taps):
            row = grad[source + o * inner : source + (o + 1) * inner]
            for index, weight in reads:
                at = target + index * inner
                for k, value in enumerate(row):
                    out[at + k] += weight * value
    return out


def _covering(extent: Fraction | int, stride: Fraction | int, padding: Fraction | int) -> Window:
    """A window that covers every input an output reads, although PyTorch floors the source position.

    Output j's source position is x = j*stride - padding, and PyTorch reads from floor(x). Every x is a multiple
    of 1/D, D the common denominator of stride and padding, so floor(x) >= x - (1 - 1/D): widening the window by
    that much to the left covers every read, exactly as a transposed convolution's window does. This is the one
    convention for fractional windows: receptive fields through them are the smallest interval covering every
    output position's field (exact where strides are whole).
    """
    from fractions import Fraction

    stride, padding = Fraction(stride), Fraction(padding)
    slack = 1 - Fraction(1, lcm(stride.denominator, padding.denominator))
    return Window(extent + slack, stride, padding + slack)


def _simplest(window: Window) -> Window:
    """Whole Fractions become ints, so that windows print and compare like the other kinds' windows."""
    from fractions import Fraction

    def plain(value: int | Fraction) -> int | Fraction:
        return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value

    return Window(plain(window.extent), plain(window.stride), plain(window.padding))


# -- Padding layers -------------------------------------------------------------------------------------------------


class PadNd(Layer):
    """F.pad with a fixed mode along the last `dims` axes; `padding` in PyTorch's order, last axis first."""

    mode: ClassVar[str] = "constant"  # F.pad's mode: constant, reflect, replicate or circular
    ops_rule = "none (copies)"
    arguments: ClassVar[tuple[Arg, ...]] = (
        Arg("padding", Pads(), REQUIRED, "an int for every side, or (left, right, top, bottom, front, back)"),
    )

    def setup(self) -> None:
        self.check_rank()
        self.check_input_axes()
        rank = len(self.in_shape)
        self.pads: dict[int, tuple[int, int]] = {}  # per-sample axis -> (before, after)
        for k in range(self.dims):  # k counts from the last axis, as the padding tuple does
            axis = rank - 1 - k
            before, after = self.padding[2 * k], self.padding[2 * k + 1]
            where = self.axis_name(axis)
            sides = f"({PAD_NAMES[2 * k]}, {PAD_NAMES[2 * k + 1]}) = ({before}, {after})"
            self.check_axis(self.in_shape[axis], before, after, where, sides)
            self.pads[axis] = (before, after)
        empty = [
            axis for axis, (before, after) in sorted(self.pads.items()) if self.in_shape[axis] + before + after == 0
        ]
        self.check_empty(empty)

    def check_rank(self) -> None:
        # PyTorch's reflection, replication and circular padding take (N, C, *spatial) or unbatched
        # (C, *spatial); per sample that is C x spatial or the spatial axes alone.
        axes = " x ".join(_spatial_names(self.dims))
        self.expect_rank(self.dims, self.dims + 1, what=f"{axes} or C x {axes}")

    def check_input_axes(self) -> None:
        """Reflection and replication need every axis of a sample non-empty, whatever the padding (PyTorch:
        "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions"): they
        copy edge values, and an empty axis has none. Constant and circular padding take empty axes."""
        empty = [axis for axis, length in enumerate(self.in_shape) if length == 0]
        if not empty or self.mode not in ("reflect", "replicate"):
            return
        named = [self.axis_name(axis) for axis in empty]
        names = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
        one = len(empty) == 1
        family = "reflection" if self.mode == "reflect" else "replication"
        raise LayerError(
            f"every axis of the input must be non-empty, but {names} of {fmt_shape(self.in_shape)} "
            f"{'is' if one else 'are'} 0: {family} padding copies edge values, and PyTorch refuses an empty input "
            "whatever the padding",
            arg="inputs",
            hint=f"keep at least one element along {names} (an earlier layer emptied {'it' if one else 'them'}), or "
            f"use ZeroPad{self.dims}d, which pads an empty axis with zeros",
        )

    def check_axis(self, length: int, before: int, after: int, where: str, sides: str) -> None:
        out = length + before + after
        if out < 0:
            raise LayerError(
                f"negative padding {sides} leaves {length} + {before} + {after} = {out} along {where}",
                arg="padding",
                hint=f"negative values may crop at most {length} in total along this axis",
            )

    def check_empty(self, empty: list[int]) -> None:
        """Reflection and replication check `output_w >= 1 || output_h >= 1 ...` in PyTorch: some padded axis
        must keep an element, the others may end up empty."""
        if len(empty) == self.dims:
            sums = "; ".join(
                f"{self.axis_name(axis)}: {self.in_shape[axis]} + {self.pads[axis][0]} + {self.pads[axis][1]} = 0"
                for axis in empty
            )
            raise LayerError(
                f"padding {self.padding_text()} leaves nothing of {fmt_shape(self.in_shape)} ({sums}); at least "
                "one padded axis must keep an element",
                arg="padding",
            )
        self.warn_empty(empty)

    def warn_empty(self, empty: list[int]) -> None:
        for axis in empty:
            self.warn(f"padding {self.padding_text()} leaves nothing of {self.axis_name(axis)}: the output is empty")

    def axis_name(self, axis: int) -> str:
        """The name of per-sample axis `axis`: C x H x W's letters, or H x W's for an input without channels."""
        rank = len(self.in_shape)
        return (axis_names(rank) if rank > self.dims else _spatial_names(self.dims))[axis]

    def padding_text(self) -> str:
        return ",".join(str(p) for p in self.padding)

    def output_shape(self) -> Shape:
        return tuple(
            padded_size(length, _sides(*self.pads[axis])) if axis in self.pads else length
            for axis, length in enumerate(self.in_shape)
        )

    def explain(self) -> list[tuple[str, Any]]:
        lines = []
        rank = len(self.in_shape)
        # The padded axes by the names of the input's own axes (ZeroPad1d pads W of a C x H x W input); without a
        # channel axis they are the padding's spatial axes.
        names = axis_names(rank)[1:] if rank > self.dims else _spatial_names(self.dims)
        for k in reversed(range(self.dims)):  # k counts from the last axis, as the padding tuple does
            axis, name = rank - 1 - k, names[len(names) - 1 - k]
            sides = [
                (Term.leaf(f"{'crop' if crops else 'P'}_{side}", amount), crops)
                for side, (amount, crops) in zip(PAD_NAMES[2 * k : 2 * k + 2], _sides(*self.pads[axis]), strict=True)
            ]
            lines.append((f"output {name} (PyTorch)", padded_size(Term.leaf(name, self.in_shape[axis]), sides)))
        return lines

    def notes(self) -> list[str]:
        fill = decimal_text(self.fill())
        fills = {
            "constant": f"writes {fill} in the new positions",
            "reflect": "mirrors the input at its edges, the edge value itself not repeated",
            "replicate": "repeats the edge values",
            "circular": "wraps around: past one edge the input continues from the other",
        }
        # What forward's reads make of a row 1 2 3 padded by 2 on both sides.
        reads, _ = self.plane_reads((3,), (2,), (2,))
        example = " ".join(str(read) if read else fill for read in reads)
        notes = [f"{self.mode} padding {fills[self.mode]}: a row 1 2 3 padded by 2 on both sides is {example}"]
        if any(p < 0 for p in self.padding):
            notes.append("a negative padding crops that many positions from its side instead")
        return notes

    def window(self) -> tuple[Window, ...] | None:
        if len(self.out_shape) < 2:
            return None
        return tuple(Window(0, 1, self.pads.get(axis, (0, 0))[0]) for axis in range(1, len(self.out_shape)))

    def summary(self) -> str:
        return "pad " + self.padding_text()

    @classmethod
    def examples(cls) -> Examples:
        d = cls.dims
        small = (4, 3, 3)[:d]
        return [
            ({"padding": 1}, ((2, *small),)),
            ({"padding": [2, -1, 0, 1, 1, 0][: 2 * d]}, ((1, *small),)),  # a negative side crops
            ({"padding": [1, 2, 2, 1, 0, 1][: 2 * d]}, (small,)),  # no channel axis per sample
            ({"padding": [-1, 1, 1, -1, 1, 1][: 2 * d]}, ((2, *(s + 1 for s in small)),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        rank = len(x.shape)
        spatial = x.shape[rank - self.dims :]
        reads, sizes = self.reads(spatial)
        fill = self.fill()
        denominator = lcm(x.denominator, fill.denominator)
        scale, fill_numerator = denominator // x.denominator, fill.numerator * (denominator // fill.denominator)
        plane = prod(spatial)  # may be 0: circular and constant padding take an empty axis
        out: list[int] = []
        for index in range(prod(x.shape[: rank - self.dims])):
            data = x.data[index * plane : (index + 1) * plane]
            out.extend(data[r - 1] * scale if r else fill_numerator for r in reads)
        return Tensor(x.shape[: rank - self.dims] + sizes, out, denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Every padded position's gradient goes back to the input element it copied (summed where reflection,
        # replication or wrapping copied one element several times); the fill value is a constant: nothing.
        (x,) = inputs
        spatial = x.shape[len(x.shape) - self.dims :]
        reads, _ = self.reads(spatial)
        plane, padded = prod(spatial), len(reads)
        out = [0] * len(x.data)
        for index in range(prod(x.shape[: len(x.shape) - self.dims])):  # plane may be 0 (an empty axis)
            base, padded_base = index * plane, index * padded  # padded may be 0: an axis padded away
            for offset, read in enumerate(reads):
                if read:
                    out[base + read - 1] += grad.data[padded_base + offset]
        return [Tensor(x.shape, out, grad.denominator, grad.approximate)], {}

    def reads(self, spatial: tuple[int, ...]) -> tuple[list[int], tuple[int, ...]]:
        """plane_reads for this layer's padding, which lists (before, after) from the last axis backwards."""
        before = tuple(self.padding[2 * k] for k in reversed(range(self.dims)))
        after = tuple(self.padding[2 * k + 1] for k in reversed(range(self.dims)))
        return self.plane_reads(spatial, before, after)

    def plane_reads(
        self, spatial: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...]
    ) -> tuple[list[int], tuple[int, ...]]:
        """For every padded position of a plane, 1 + the flat input offset it copies, or 0 for the fill value."""
        mode = "zeros" if self.mode == "constant" else self.mode
        return pad_planes(list(range(1, prod(spatial) + 1)), 1, spatial, before, after, mode)

    def fill(self) -> Fraction:
        """What constant padding writes outside the input (reflection and the others never write it)."""
        from fractions import Fraction

        return Fraction(0)


class ConstantPadNd(PadNd):
    mode = "constant"

    def check_rank(self) -> None:
        # F.pad in constant mode pads the last axes of a tensor of any rank; fewer than `dims` axes per sample
        # would pad the batch axis.
        if len(self.in_shape) < self.dims:
            raise LayerError(
                f"{self.kind} pads {self.dims} axes but the input has {len(self.in_shape)} per sample "
                f"({fmt_shape(self.in_shape)}); PyTorch would pad the batch axis",
                arg="inputs",
                hint=f"use a {len(self.in_shape)}d padding layer" if 1 <= len(self.in_shape) <= 3 else None,
            )

    def check_axis(self, length: int, before: int, after: int, where: str, sides: str) -> None:
        cropped = length + min(before, 0) + min(after, 0)
        if cropped < 0:
            raise LayerError(
                f"negative padding {sides} crops {length - cropped} from {where}, which has only {length}",
                arg="padding",
                hint=f"negative values may crop at most {length} in total along this axis",
            )

    def check_empty(self, empty: list[int]) -> None:
        self.warn_empty(empty)  # F.pad's constant mode makes empty tensors without complaint


class ReflectionPadNd(PadNd):
    mode = "reflect"

    def saved(self, step: Backprop) -> list[Saved]:
        """The backward pass reads the input (which values the border copied), kept when it requires grad."""
        return [saved_input(0, self.in_shape, step.batch)] if step.input_grads[0] else []

    def check_axis(self, length: int, before: int, after: int, where: str, sides: str) -> None:
        if before >= length or after >= length:
            raise LayerError(
                f"reflection padding {sides} must be smaller than the size of {where}, {length} (the edge "
                "itself is not repeated)",
                arg="padding",
                hint=(
                    f"pad each side of {where} by at most {length - 1}, or use replication padding"
                    if length > 1
                    else f"{where} has a single element, nothing to mirror: pad it by 0, or use replication padding"
                ),
            )
        super().check_axis(length, before, after, where, sides)


class ReplicationPadNd(PadNd):
    mode = "replicate"

    def saved(self, step: Backprop) -> list[Saved]:
        """The backward pass reads the input (which values the border copied), kept when it requires grad."""
        return [saved_input(0, self.in_shape, step.batch)] if step.input_grads[0] else []


class CircularPadNd(PadNd):
    mode = "circular"

    def check_axis(self, length: int, before: int, after: int, where: str, sides: str) -> None:
        if before > length or after > length:
            raise LayerError(
                f"circular padding {sides} wraps around {where} more than once: it has only {length}",
                arg="padding",
                hint=(
                    f"pad each side of {where} by at most {length}"
                    if length
                    else f"{where} is empty, nothing to wrap: pad it by 0, or use ZeroPad{self.dims}d"
                ),
            )
        super().check_axis(length, before, after, where, sides)
        # A negative side crops first; the other side then wraps from what is left. PyTorch does not check
        # this and copies uninitialised memory (or fails in its copy, depending on the memory layout).
        kept = length + min(before, 0) + min(after, 0)
        if max(before, after) > kept:
            raise LayerError(
                f"circular padding {sides} crops {where} from {length} to {kept} and then wraps "
                f"{max(before, after)} from what is left: it may wrap at most {kept}",
                arg="padding",
            )

    def check_empty(self, empty: list[int]) -> None:
        self.warn_empty(empty)  # PyTorch's circular padding checks only for negative sizes

    def plane_reads(
        self, spatial: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...]
    ) -> tuple[list[int], tuple[int, ...]]:
        # PyTorch crops the negative sides first and then wraps around what is left (reflection and replication
        # mirror and repeat the edges of the whole input instead, as compute.pad_planes does).
        crops_before = tuple(min(b, 0) for b in before)
        crops_after = tuple(min(a, 0) for a in after)
        kept, kept_sizes = pad_planes(list(range(1, prod(spatial) + 1)), 1, spatial, crops_before, crops_after, "zeros")
        grows_before = tuple(max(b, 0) for b in before)
        grows_after = tuple(max(a, 0) for a in after)
        return pad_planes(kept, 1, kept_sizes, grows_before, grows_after, "circular")


_VALUE = Arg("value", Float(), REQUIRED, "the fill value")


@register
class ZeroPad1d(ConstantPadNd):
    kind = "ZeroPad1d"
    dims = 1


@register
class ZeroPad2d(ConstantPadNd):
    kind = "ZeroPad2d"
    dims = 2


@register
class ZeroPad3d(ConstantPadNd):
    kind = "ZeroPad3d"
    dims = 3


class _WithValue(ConstantPadNd):
    arguments = PadNd.arguments + (_VALUE,)

    def summary(self) -> str:
        return f"{super().summary()} value {_fmt_number(self.value)}"

    @classmethod
    def examples(cls) -> Examples:
        values = (0.5, -2, 0.1, 3.25)
        return [
            ({**args, "value": value}, shapes) for (args, shapes), value in zip(super().examples(), values, strict=True)
        ]

    def fill(self) -> Fraction:
        """The value as written: a decimal such as 0.1 is exactly 1/10 (the closest double differs by 5.5e-18).

        PyTorch pads with the double nearest the decimal; converted back to a double, the two are the same."""
        from fractions import Fraction

        return Fraction(str(self.value)) if isinstance(self.value, float) else Fraction(self.value)


@register
class ConstantPad1d(_WithValue):
    kind = "ConstantPad1d"
    dims = 1


@register
class ConstantPad2d(_WithValue):
    kind = "ConstantPad2d"
    dims = 2


@register
class ConstantPad3d(_WithValue):
    kind = "ConstantPad3d"
    dims = 3


@register
class ReflectionPad1d(ReflectionPadNd):
    kind = "ReflectionPad1d"
    dims = 1


@register
class ReflectionPad2d(ReflectionPadNd):
    kind = "ReflectionPad2d"
    dims = 2


@register
class ReflectionPad3d(ReflectionPadNd):
    kind = "ReflectionPad3d"
    dims = 3


@register
class ReplicationPad1d(ReplicationPadNd):
    kind = "ReplicationPad1d"
    dims = 1


@register
class ReplicationPad2d(ReplicationPadNd):
    kind = "ReplicationPad2d"
    dims = 2


@register
class ReplicationPad3d(ReplicationPadNd):
    kind = "ReplicationPad3d"
    dims = 3


@register
class CircularPad1d(CircularPadNd):
    kind = "CircularPad1d"
    dims = 1


@register
class CircularPad2d(CircularPadNd):
    kind = "CircularPad2d"
    dims = 2


@register
class CircularPad3d(CircularPadNd):
    kind = "CircularPad3d"
    dims = 3


# -- CenterCrop -----------------------------------------------------------------------------------------------------


@register
class CenterCrop(Layer):
    """Crop the spatial axes around the centre (torchvision.transforms.CenterCrop's offsets), keeping the channels.

    Either `size` with one input, or no size and two inputs: the first is cropped to the spatial size of the
    second, as the original U-Net crops its skip connections.
    """

    kind = "CenterCrop"
    max_inputs = 2
    value_inputs = 1  # the second input only gives the size to crop to
    ops_rule = "none (copies)"
    arguments = (Arg("size", Optional(Sizes()), None, "output size per spatial axis; omit to match a 2nd input"),)

    def output_storage(self, step: Backprop) -> str:
        return "input"  # a view of the input (narrow along each axis)

    def output_contiguous(self, step: Backprop) -> bool:
        full = (step.batch, *self.in_shape)
        return step.contiguous[0] and box_contiguous(full, (step.batch, *self.out_shape))

    def setup(self) -> None:
        rank = len(self.in_shape)
        if rank < 2:
            raise LayerError(
                f"CenterCrop needs channels and at least one spatial axis, got {fmt_shape(self.in_shape)}",
                arg="inputs",
            )
        spatial = self.in_shape[1:]
        if len(self.in_shapes) == 2:
            reference = self.in_shapes[1]
            if self.size is not None:
                raise LayerError(
                    "CenterCrop takes size or a second input to match, not both", arg="size", hint="remove size"
                )
            if len(reference) != rank:
                raise LayerError(
                    f"CenterCrop crops input 1 ({fmt_shape(self.in_shape)}) to the spatial size of input 2 "
                    f"({fmt_shape(reference)}), but they have different numbers of axes",
                    arg="inputs",
                )
            target = reference[1:]
        else:
            if self.size is None:
                raise LayerError("CenterCrop needs size, or a second input whose spatial size to crop to", arg="size")
            if isinstance(self.size, tuple) and len(self.size) != len(spatial):
                raise LayerError(
                    f"size has {_count(len(self.size), 'value', 'values')} but the input "
                    f"({fmt_shape(self.in_shape)}) has {_count(len(spatial), 'spatial axis', 'spatial axes')}",
                    arg="size",
                    hint="give one value per spatial axis, or a single number for all",
                )
            target = _per_axis(self.size, len(spatial))
        for axis, (length, wanted) in enumerate(zip(spatial, target, strict=True)):
            if wanted > length:
                raise LayerError(
                    f"CenterCrop to {fmt_shape(tuple(target))} does not fit the input {fmt_shape(self.in_shape)}: "
                    f"{spatial_names(len(spatial))[axis]} has {length}, fewer than {wanted}",
                    arg="size" if len(self.in_shapes) == 1 else "inputs",
                    hint="a crop cannot pad; pad first or crop less",
                )
        self.target: tuple[int, ...] = tuple(target)
        # torchvision: int(round((L - out) / 2.0)); round() halves to even, so an odd surplus of 1 keeps the start.
        self.offsets = tuple(
            int(round((length - wanted) / 2.0)) for length, wanted in zip(spatial, self.target, strict=True)
        )

    def output_shape(self) -> Shape:
        return self.in_shape[:1] + self.target

    def window(self) -> tuple[Window, ...]:
        return tuple(Window(0, 1, -offset) for offset in self.offsets)

    def summary(self) -> str:
        return "crop " + "x".join(str(t) for t in self.target)

    def notes(self) -> list[str]:
        """Where each axis is cut, from the offsets forward's window and crop use."""
        names = axis_names(len(self.in_shape))[1:]
        notes = []
        for name, length, wanted, offset in zip(names, self.in_shape[1:], self.target, self.offsets, strict=True):
            text = f"{name}: keeps {wanted} of {length}, positions {offset} to {offset + wanted - 1}"
            if wanted < length:
                text += f" (offset round(({length} - {wanted}) / 2) = {offset}, as torchvision centres"
                text += ", Python's round taking halves to even)" if (length - wanted) % 2 else ")"
            notes.append(text)
        return notes

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({"size": 2}, ((2, 5, 5),)),
            ({"size": [3, 2]}, ((1, 4, 5),)),
            ({}, ((2, 6, 5), (1, 3, 3))),  # to the size of a second input, as U-Net crops its skips
            ({"size": 4}, ((2, 7),)),
            ({"size": [1, 2, 2]}, ((1, 3, 4, 3),)),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        x = inputs[0]
        spatial = x.shape[2:]
        target = inputs[1].shape[2:] if len(inputs) == 2 else _per_axis(self.size, len(spatial))
        # torchvision's start, int(round((L - l) / 2.0)): Python's round halves to even.
        starts = tuple(int(round((n - t) / 2.0)) for n, t in zip(spatial, target, strict=True))
        ends = tuple(n - t - s for n, t, s in zip(spatial, target, starts, strict=True))
        data, sizes = pad_planes(
            x.data, x.shape[0] * x.shape[1], spatial, tuple(-s for s in starts), tuple(-e for e in ends), "zeros"
        )
        return Tensor(x.shape[:2] + sizes, data, x.denominator, x.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # The crop's gradient placed back where it was cut from, zeros around; the second input gives only a size.
        x = inputs[0]
        spatial, target = x.shape[2:], grad.shape[2:]
        starts = tuple(int(round((n - t) / 2.0)) for n, t in zip(spatial, target, strict=True))
        ends = tuple(n - t - s for n, t, s in zip(spatial, target, starts, strict=True))
        data = fold_planes(
            grad.data, x.shape[0] * x.shape[1], spatial, tuple(-s for s in starts), tuple(-e for e in ends), "zeros"
        )
        grads: list[Tensor | None] = [Tensor(x.shape, data, grad.denominator, grad.approximate)]
        return grads + [None] * (len(inputs) - 1), {}
