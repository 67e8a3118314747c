"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d, with PyTorch's exact shape rules.

Conv output size per axis (PyTorch's form; the lectures' ceil((L + 2p - d(k-1)) / s) is the same number):
    floor((L + p_left + p_right - d*(k-1) - 1) / s) + 1
Transposed conv output size per axis:
    (L - 1)*s - 2p + d*(k-1) + output_padding + 1

Each rule is a function of the sizes (conv_size, conv_macs, ...): called with ints by the analyzer, and with
formula.Terms by `explain`, so a figure and the formula shown for it cannot drift apart.
"""

from __future__ import annotations

from math import gcd, prod
from operator import mul
from typing import TYPE_CHECKING, Any

from cnncalc.args import Arg, Bool, Choice, Int, Optional, Padding, PerAxis
from cnncalc.compute import PackedRows, fold_planes, pad_planes, with_channel_bias
from cnncalc.errors import LayerError
from cnncalc.formula import Term, ceil_div, shown
from cnncalc.layers.base import (
    Backprop,
    Layer,
    Saved,
    Shape,
    Window,
    fmt_shape,
    fraction,
    saved_input,
    spatial_names,
    volume_names,
)
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

AXES = {dims: volume_names(dims + 1) for dims in (1, 2, 3)}  # a dims-d kind's input: C x H x W
AXIS_LETTERS = {dims: spatial_names(dims) for dims in (1, 2, 3)}


def conv_size(size: Any, pad_left: Any, pad_right: Any, dilation: Any, kernel: Any, stride: Any) -> Any:
    """PyTorch's convolution output size along one axis. Ints give the figure; Terms also its formula."""
    return (size + pad_left + pad_right - dilation * (kernel - 1) - 1) // stride + 1


def dilation_symbol(dims: int) -> str:
    """D names the dilation, except in 3-D kinds, where D is the depth axis."""
    return "dil" if dims == 3 else "D"


def lecture_size(size: Any, kernel: Any, padding: Any, stride: Any) -> Any:
    """The lectures' output size ceil((W - K + 1 + 2P) / S): PyTorch's floor form when padding is symmetric and
    the kernel undilated (convolution and pooling alike, without ceil_mode)."""
    return ceil_div(size - kernel + 1 + 2 * padding, stride)


def conv_transpose_size(size: Any, stride: Any, padding: Any, dilation: Any, kernel: Any, output_padding: Any) -> Any:
    """PyTorch's transposed convolution output size along one axis: the full scatter, `padding` cropped from both
    ends, `output_padding` added at the end."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv_weight_shape(c_in: Any, c_out: Any, groups: Any, kernel: Any, in_out: bool) -> tuple[Any, ...]:
    """The weight tensor's shape: (C_out, C_in/g, *K) for a convolution, (C_in, C_out/g, *K) for a transposed one
    (in_out)."""
    if in_out:
        first = (c_in, c_out // groups if groups != 1 else c_out)
    else:
        first = (c_out, c_in // groups if groups != 1 else c_in)
    return (*first, *kernel)


def conv_transpose_macs(c_in: Any, in_sizes: Any, c_out: Any, groups: Any, kernel: Any) -> Any:
    """C_in * prod(input sizes) * (C_out / groups) * prod(kernel): the multiplies a transposed convolution really
    performs, every input element meeting every tap of its group's filters once."""
    total = c_in
    for size in in_sizes:
        total = total * size
    total = total * (c_out // groups if groups != 1 else c_out)
    for k in kernel:
        total = total * k
    return total


def conv_macs(c_out: Any, out_sizes: Any, c_in: Any, groups: Any, kernel: Any) -> Any:
    """C_out * prod(output sizes) * (C_in / groups) * prod(kernel): one multiply-accumulate per tap per output."""
    total = c_out
    for size in out_sizes:
        total = total * size
    total = total * (c_in // groups if groups != 1 else c_in)
    for k in kernel:
        total = total * k
    return total


def _axes(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


class _ConvCommon(Layer):
    """What Conv and ConvTranspose share: channels, groups, weight and bias shapes."""

    weight_in_out: bool = False  # ConvTranspose stores weights as (in, out/groups, *k)

    def check_channels(self) -> None:
        self.expect_rank(self.dims + 1, what=AXES[self.dims])
        self.infer("in_channels", self.in_shape[0], "channels")
        # PyTorch's convolutions take an empty batch or channel axis, never an empty spatial one, whatever the
        # padding ("Only zero batch or zero channel inputs are supported").
        for axis, size in enumerate(self.in_shape[1:]):
            if size == 0:
                raise LayerError(
                    f"{self.kind} cannot read an input that is empty along {AXIS_LETTERS[self.dims][axis]} "
                    f"(input {fmt_shape(self.in_shape)}): PyTorch's convolutions accept an empty batch or "
                    "channel axis only, whatever the padding",
                    hint="make the layer before it keep at least one element along every spatial axis",
                )
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                common = gcd(self.in_channels, self.out_channels)
                raise LayerError(
                    f"{name} ({getattr(self, name)}) must be divisible by groups ({self.groups})",
                    arg="groups",
                    hint=f"groups must divide both {self.in_channels} and {self.out_channels}, that is divide {common}",
                )

    def weights(self) -> dict[str, Shape]:
        shape = conv_weight_shape(
            self.in_channels, self.out_channels, self.groups, self.kernel_size, self.weight_in_out
        )
        shapes = {"weight": shape}
        if self.bias:
            shapes["bias"] = (self.out_channels,)
        return shapes

    def other_ops(self) -> int:
        return prod(self.out_shape) if self.bias else 0

    def backward_macs(self, step: Backprop) -> list[tuple[str, int]]:
        """Each forward tap pairs one input value with one weight: the input gradient takes one MAC per tap
        (grad x weight) and the weight gradient one (grad x input), so each is the forward MACs. groups divide
        both alike (FlopCounterMode's weight-gradient formula forgets them: docs/tools-disagree.md)."""
        terms = []
        if step.input_grads[0]:
            terms.append(("input gradient", self.macs()))
        if step.weight_grads:
            terms.append(("weight gradient", self.macs()))
        return terms

    def saved(self, step: Backprop) -> list[Saved]:
        """convolution saves its input (the weight gradient reads it) and its weight (a parameter, not listed)."""
        return [saved_input(0, self.in_shape, step.batch)]

    def channel_terms(self) -> tuple[Term, Term, Term]:
        return Term.leaf("C_in", self.in_channels), Term.leaf("C_out", self.out_channels), Term.leaf("g", self.groups)

    def kernel_terms(self) -> list[Term]:
        """The kernel's sizes as the lectures name them: K, or K_H, K_W, ... where the axes differ."""
        same = len(set(self.kernel_size)) == 1
        return [
            Term.leaf("K" if same else f"K_{a}", k)
            for a, k in zip(AXIS_LETTERS[self.dims], self.kernel_size, strict=True)
        ]


class ConvNd(_ConvCommon):
    ops_rule = "one add per output element for the bias"
    arguments = (
        Arg("in_channels", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("out_channels", Int(min=1), doc="number of filters"),
        Arg("kernel_size", PerAxis(Int(min=1)), doc="filter size per axis"),
        Arg("stride", PerAxis(Int(min=1)), 1),
        Arg("padding", Padding(), 0, "zeros added on both sides, or 'same' / 'valid'"),
        Arg("dilation", PerAxis(Int(min=1)), 1),
        Arg("groups", Int(min=1), 1),
        Arg("bias", Bool(), True),
        Arg("padding_mode", Choice(("zeros", "reflect", "replicate", "circular")), "zeros"),
        Arg(
            "flip",
            Bool(),
            False,
            "cnncalc only: a true convolution (kernel flipped), not cross-correlation",
            pytorch=False,
        ),
    )

    def setup(self) -> None:
        self.check_channels()
        dilated = tuple(d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True))
        if self.padding == "same":
            if any(s != 1 for s in self.stride):
                raise LayerError(
                    f"padding='same' needs stride 1 on every axis, got stride {_axes(self.stride)} "
                    "(PyTorch rejects strided 'same' too)",
                    arg="padding",
                    hint="use stride 1, or an explicit padding such as dilation * (kernel_size - 1) // 2",
                )
            # PyTorch puts the odd extra element on the right (end) of each axis.
            self.pad_left = tuple(t // 2 for t in dilated)
            self.pad_right = tuple(t - t // 2 for t in dilated)
            for axis, (left, right) in enumerate(zip(self.pad_left, self.pad_right, strict=True)):
                if left != right:
                    # Output j is then centred on input j + 1/2, not j (PyTorch warns too, with zero padding).
                    self.warn(
                        f"padding='same' pads {AXIS_LETTERS[self.dims][axis]} unevenly ({left} before, {right} after) "
                        "because "
                        f"dilation * (kernel_size - 1) = {dilated[axis]} is odd"
                    )
        elif self.padding == "valid":
            self.pad_left = self.pad_right = (0,) * self.dims
        else:
            self.pad_left = self.pad_right = self.padding
        spatial = self.in_shape[1:]
        if self.padding_mode in ("reflect", "circular"):
            # Reflection mirrors without repeating the edge (padding < size); circular wraps around at most once.
            for axis, (size, left, right) in enumerate(zip(spatial, self.pad_left, self.pad_right, strict=True)):
                limit = size - 1 if self.padding_mode == "reflect" else size
                if max(left, right) > limit:
                    raise LayerError(
                        f"padding_mode='{self.padding_mode}' allows padding up to {limit} along "
                        f"{AXIS_LETTERS[self.dims][axis]} "
                        f"(input size {size}), got {max(left, right)}",
                        arg="padding",
                        hint=f"use padding <= {limit} there, or padding_mode 'zeros' or 'replicate'",
                    )
        for axis, (size, left, right, extent) in enumerate(
            zip(spatial, self.pad_left, self.pad_right, dilated, strict=True)
        ):
            if size + left + right < extent + 1:
                raise LayerError(
                    f"a {extent + 1}-wide kernel does not fit a padded input of {size + left + right} along "
                    f"{AXIS_LETTERS[self.dims][axis]} (kernel: dilation {self.dilation[axis]} * "
                    f"(kernel_size {self.kernel_size[axis]} - 1) + 1 = {extent + 1}; padded input: "
                    f"{left} + {size} + {right} = {size + left + right})",
                    arg="kernel_size",
                    hint=f"input shape is {fmt_shape(self.in_shape)}; use a kernel spanning at most "
                    f"{size + left + right} or more padding",
                )

    def output_shape(self) -> Shape:
        return (self.out_channels,) + tuple(conv_size(*axis) for axis in self.size_terms(plain=True))

    def size_terms(self, plain: bool = False) -> list[tuple[Any, ...]]:
        """Per spatial axis, the arguments of conv_size: ints, or (plain=False) Terms named as the lectures do."""
        axes = AXIS_LETTERS[self.dims]
        rows = []
        for axis, values in enumerate(
            zip(
                self.in_shape[1:],
                self.pad_left,
                self.pad_right,
                self.dilation,
                self.kernel_size,
                self.stride,
                strict=True,
            )
        ):
            if plain:
                rows.append(values)
                continue
            size, left, right, d, k, s = values
            pads = (
                (Term.leaf("P", left), Term.leaf("P", right))
                if left == right
                else (Term.leaf("P_left", left), Term.leaf("P_right", right))
            )
            dilation = Term.leaf(dilation_symbol(self.dims), d)
            rows.append((Term.leaf(axes[axis], size), *pads, dilation, Term.leaf("K", k), Term.leaf("S", s)))
        return rows

    def macs(self) -> int:
        return conv_macs(self.out_channels, self.out_shape[1:], self.in_channels, self.groups, self.kernel_size)

    def explain(self) -> list[tuple[str, Any]]:
        """(what, Term) pairs: each figure of `summary` with its formula, from the same rules as the figures."""
        lines: list[tuple[str, Any]] = []
        for axis, terms in zip(AXIS_LETTERS[self.dims], self.size_terms(), strict=True):
            lines.append((f"output {axis} (PyTorch)", conv_size(*terms)))
            size, left, right, d, k, s = terms
            if left.value == right.value and d.value == 1:
                lines.append((f"output {axis} (lecture)", lecture_size(size, k, left, s)))
        c_in, c_out, g = self.channel_terms()
        kernel = self.kernel_terms()
        per_filter = c_in // g if self.groups != 1 else c_in
        for k in kernel:
            per_filter = per_filter * k
        lines.append(("params", (per_filter + 1) * c_out if self.bias else per_filter * c_out))
        outputs = [Term.leaf(f"{a}'", n) for a, n in zip(AXIS_LETTERS[self.dims], self.out_shape[1:], strict=True)]
        lines.append(("MACs", conv_macs(c_out, outputs, c_in, g, kernel)))
        return lines

    def window(self) -> tuple[Window, ...]:
        return tuple(
            Window(d * (k - 1), s, p)
            for d, k, s, p in zip(self.dilation, self.kernel_size, self.stride, self.pad_left, strict=True)
        )

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        d = cls.dims
        small = (5, 4, 3)[:d]
        return [
            ({"out_channels": 3, "kernel_size": 3, "padding": 1}, ((2, *small),)),
            ({"out_channels": 4, "kernel_size": 2, "stride": 2, "groups": 2, "bias": False}, ((2, *small),)),
            ({"out_channels": 2, "kernel_size": 2, "padding": "same", "dilation": 2}, ((1, *small),)),
            ({"out_channels": 2, "kernel_size": 3, "padding": 1, "padding_mode": "reflect"}, ((2, *small),)),
            ({"out_channels": 2, "kernel_size": 3, "padding": 2, "padding_mode": "circular"}, ((1, *small),)),
            (
                {"out_channels": 1, "kernel_size": 2, "padding": 1, "padding_mode": "replicate", "flip": True},
                ((1, *small),),
            ),
        ]

    def geometry(self, padded: tuple[int, ...]) -> tuple[list[int], list[int]]:
        """For a padded input plane: the offsets of one filter's taps (channel-major, like the weight's
        (C_in/g, *k) rows, relative to a group's first channel) and the offset where each output position's
        window starts. Shared by forward and backward, so both pair the same input with the same weight."""
        from itertools import product

        plane = prod(padded)
        strides = [prod(padded[a + 1 :]) for a in range(self.dims)]
        taps = [
            sum(k * d * st for k, d, st in zip(position, self.dilation, strides, strict=True))
            for position in product(*(range(k) for k in self.kernel_size))
        ]
        if self.flip:  # a true convolution pairs input tap t with the mirrored weight tap
            taps.reverse()
        window = [c * plane + tap for c in range(self.in_channels // self.groups) for tap in taps]
        starts = [
            sum(o * s * st for o, s, st in zip(position, self.stride, strides, strict=True))
            for position in product(*(range(n) for n in self.out_shape[1:]))
        ]
        return window, starts

    def saved(self, step: Backprop) -> list[Saved]:
        """With padding_mode 'zeros' the convolution saves its input. Other modes pad first (F.pad) and convolve
        the padded copy, which is saved: reflect and replicate padding also save their input when it requires
        grad; circular padding (slices and a cat) saves nothing. flip convolves a mirrored copy of the weight,
        which is saved too (new memory, unlike the weight itself)."""
        if self.padding_mode == "zeros":
            kept = [saved_input(0, self.in_shape, step.batch)]
        else:
            spatial = zip(self.in_shape[1:], self.pad_left, self.pad_right, strict=True)
            padded = (step.batch, self.in_shape[0], *(size + left + right for size, left, right in spatial))
            kept = [Saved(f"padded input ({self.padding_mode})", padded, "own")]
            if self.padding_mode != "circular" and step.input_grads[0]:
                kept.insert(0, saved_input(0, self.in_shape, step.batch, f"input (by the {self.padding_mode} pad)"))
        if self.flip:
            kept.append(Saved("mirrored weight", self.weights()["weight"], "own"))
        return kept

    def scratch_elements(self) -> int:
        """The padded input forward builds (compute.pad_planes): with a large stride, far more than the output."""
        spatial = zip(self.in_shape[1:], self.pad_left, self.pad_right, strict=True)
        return self.in_shape[0] * prod(s + left + right for s, left, right in spatial)

    def padded_input(self, x: Tensor) -> tuple[list[int], tuple[int, ...]]:
        planes = x.shape[0] * x.shape[1]
        return pad_planes(x.data, planes, x.shape[2:], self.pad_left, self.pad_right, self.padding_mode)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        batch, channels = x.shape[0], x.shape[1]
        data, padded = self.padded_input(x)
        window, starts = self.geometry(padded)
        weight = params["weight"]
        per_group_in, per_group_out = channels // self.groups, self.out_channels // self.groups
        plane, row = prod(padded), len(window)
        rows = [weight.data[o * row : (o + 1) * row] for o in range(self.out_channels)]
        out_plane = len(starts)
        out = [0] * (batch * self.out_channels * out_plane)
        packed = None
        if per_group_out > 1 and out_plane > 1:  # rows met at many positions: their inner products taken together
            largest = max(map(abs, data), default=0)
            groups = range(0, self.out_channels, per_group_out)
            packed = [PackedRows(rows[first : first + per_group_out], largest) for first in groups]
        for n in range(batch):
            for g in range(self.groups):
                base = (n * channels + g * per_group_in) * plane
                first = (n * self.out_channels + g * per_group_out) * out_plane
                for position, start in enumerate(starts):
                    patch = [data[base + start + w] for w in window]
                    if packed is not None:
                        out[first + position : first + per_group_out * out_plane : out_plane] = ctx.dots(
                            patch, packed[g]
                        )
                        continue
                    for o in range(g * per_group_out, (g + 1) * per_group_out):
                        out[(n * self.out_channels + o) * out_plane + position] = ctx.dot(patch, rows[o])
        denominator, inexact = x.denominator * weight.denominator, x.approximate or weight.approximate
        return with_channel_bias(out, denominator, params, self.bias, self.out_shape, batch, inexact)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Every output position's window is a patch of the padded input; each product x * w sends g * w back
        # to x and g * x to w ("sum the gradients from different patches"), then the padding folds back.
        (x,) = inputs
        batch, channels = x.shape[0], x.shape[1]
        data, padded = self.padded_input(x)
        window, starts = self.geometry(padded)
        weight = params["weight"]
        per_group_in, per_group_out = channels // self.groups, self.out_channels // self.groups
        plane, row = prod(padded), len(window)
        out_plane = len(starts)
        grad_padded = [0] * len(data)
        grad_weight = [0] * len(weight.data)
        for n in range(batch):
            for g in range(self.groups):
                base = (n * channels + g * per_group_in) * plane
                for position, start in enumerate(starts):
                    at = [base + start + w for w in window]
                    for o in range(g * per_group_out, (g + 1) * per_group_out):
                        go = grad.data[(n * self.out_channels + o) * out_plane + position]
                        if not go:
                            continue
                        w_row = o * row
                        for j, index in enumerate(at):
                            grad_padded[index] += go * weight.data[w_row + j]
                            grad_weight[w_row + j] += go * data[index]
        grad_x = fold_planes(
            grad_padded, batch * channels, x.shape[2:], self.pad_left, self.pad_right, self.padding_mode
        )
        approximate = grad.approximate or x.approximate or weight.approximate
        grads = {"weight": Tensor(weight.shape, grad_weight, grad.denominator * x.denominator, approximate)}
        if self.bias:
            sums = [0] * self.out_channels
            for n in range(batch):
                for o in range(self.out_channels):
                    start = (n * self.out_channels + o) * out_plane
                    sums[o] += sum(grad.data[start : start + out_plane])
            grads["bias"] = Tensor((self.out_channels,), sums, grad.denominator, grad.approximate)
        return [Tensor(x.shape, grad_x, grad.denominator * weight.denominator, approximate)], grads

    def summary(self) -> str:
        parts = [f"k{_axes(self.kernel_size)}"]
        if set(self.stride) != {1}:
            parts.append(f"s{_axes(self.stride)}")
        if self.padding == "same" or self.padding == "valid":
            parts.append(str(self.padding))
        elif set(self.padding) != {0}:
            parts.append(f"p{_axes(self.padding)}")
        if set(self.dilation) != {1}:
            parts.append(f"d{_axes(self.dilation)}")
        if self.groups != 1:
            parts.append("depthwise" if self.groups == self.in_channels == self.out_channels else f"g{self.groups}")
        return " ".join(parts)


class ConvTransposeNd(_ConvCommon):
    ops_rule = "one add per output element for the bias"
    weight_in_out = True
    arguments = (
        Arg("in_channels", Optional(Int(min=1)), None, "channels of the input", inferred=True),
        Arg("out_channels", Int(min=1)),
        Arg("kernel_size", PerAxis(Int(min=1))),
        Arg("stride", PerAxis(Int(min=1)), 1),
        Arg("padding", PerAxis(Int(min=0)), 0, "removed from both sides of the full output"),
        Arg("output_padding", PerAxis(Int(min=0)), 0, "added to one side of the output"),
        Arg("groups", Int(min=1), 1),
        Arg("bias", Bool(), True),
        Arg("dilation", PerAxis(Int(min=1)), 1),
        Arg("padding_mode", Choice(("zeros",)), "zeros", "PyTorch supports only 'zeros' here"),
    )

    def setup(self) -> None:
        self.check_channels()
        for axis, (op, s, d) in enumerate(zip(self.output_padding, self.stride, self.dilation, strict=True)):
            if op >= s and op >= d:
                raise LayerError(
                    f"output_padding ({op}) must be smaller than either stride ({s}) or dilation ({d}) "
                    f"along {AXIS_LETTERS[self.dims][axis]}",
                    arg="output_padding",
                )

    def output_shape(self) -> Shape:
        spatial = []
        for axis, values in enumerate(self.size_terms(plain=True)):
            out = conv_transpose_size(*values)
            if out < 1:
                letter = AXIS_LETTERS[self.dims][axis]
                raise LayerError(
                    f"the output collapses along {letter}: {shown(conv_transpose_size(*self.size_terms()[axis]))}",
                    arg="padding",
                    hint=f"use padding at most {(out - 1 + 2 * values[2]) // 2} along {letter}, or a larger kernel, "
                    "stride or input",
                )
            spatial.append(out)
        return (self.out_channels,) + tuple(spatial)

    def size_terms(self, plain: bool = False) -> list[tuple[Any, ...]]:
        """Per spatial axis, the arguments of conv_transpose_size: ints, or (plain=False) Terms."""
        per_axis = (
            self.in_shape[1:],
            self.stride,
            self.padding,
            self.dilation,
            self.kernel_size,
            self.output_padding,
        )
        rows = list(zip(*per_axis, strict=True))
        if plain:
            return rows
        names = ("S", "P", dilation_symbol(self.dims), "K", "output_padding")
        return [
            (Term.leaf(letter, row[0]), *(Term.leaf(name, v) for name, v in zip(names, row[1:], strict=True)))
            for letter, row in zip(AXIS_LETTERS[self.dims], rows, strict=True)
        ]

    def macs(self) -> int:
        return conv_transpose_macs(
            self.in_channels, self.in_shape[1:], self.out_channels, self.groups, self.kernel_size
        )

    def explain(self) -> list[tuple[str, Any]]:
        """(what, Term) pairs: output sizes, params from the weight's shape, MACs, from the rules that compute them."""
        lines: list[tuple[str, Any]] = [
            (f"output {axis} (PyTorch)", conv_transpose_size(*terms))
            for axis, terms in zip(AXIS_LETTERS[self.dims], self.size_terms(), strict=True)
        ]
        c_in, c_out, g = self.channel_terms()
        kernel = self.kernel_terms()
        weight = conv_weight_shape(c_in, c_out, g, kernel, in_out=True)
        params = weight[0]
        for size in weight[1:]:
            params = params * size
        lines.append(("params", params + c_out if self.bias else params))
        inputs = [Term.leaf(a, n) for a, n in zip(AXIS_LETTERS[self.dims], self.in_shape[1:], strict=True)]
        lines.append(("MACs", conv_transpose_macs(c_in, inputs, c_out, g, kernel)))
        return lines

    def notes(self) -> list[str]:
        c_in, c_out, g = self.channel_terms()
        outputs = [Term.leaf(f"{a}'", n) for a, n in zip(AXIS_LETTERS[self.dims], self.out_shape[1:], strict=True)]
        as_conv = conv_macs(c_out, outputs, c_in, g, self.kernel_terms())
        notes = [
            "MACs count the multiplies really performed: every input element meets every kernel tap of its "
            f"group once; counted like a convolution over the output, {shown(as_conv)}, most of them products "
            "with the zeros a stride inserts between inputs"
        ]
        for axis, op, s in zip(AXIS_LETTERS[self.dims], self.output_padding, self.stride, strict=True):
            if op:
                notes.append(
                    f"output_padding {op} along {axis} adds {op} at the end only: a convolution with stride {s} "
                    "maps several input sizes to one output size, and output_padding picks which one to rebuild"
                )
        return notes

    def window(self) -> tuple[Window, ...]:
        # Output o reads inputs i with i*s - p + d*m = o, m in [0, k): i in [(o + p - d(k-1))/s, (o + p)/s].
        return tuple(
            Window(fraction(d * (k - 1), s), fraction(1, s), fraction(d * (k - 1) - p, s))
            for d, k, s, p in zip(self.dilation, self.kernel_size, self.stride, self.padding, strict=True)
        )

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        d = cls.dims
        small = (3, 2, 2)[:d]
        return [
            ({"out_channels": 2, "kernel_size": 2, "stride": 2}, ((2, *small),)),
            ({"out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, ((1, *small),)),
            ({"out_channels": 4, "kernel_size": 2, "groups": 2, "bias": False}, ((2, *small),)),
            ({"out_channels": 1, "kernel_size": 2, "stride": 3, "dilation": 2, "output_padding": 1}, ((2, *small),)),
            ({"out_channels": 2, "kernel_size": 3, "padding": 2}, ((1, *(s + 1 for s in small)),)),
        ]

    def scatter_geometry(self, spatial: tuple[int, ...]) -> tuple[tuple[int, ...], list[int], list[int]]:
        """The full output plane before `padding` is cropped (input i meets tap m at i*s + m*d), the offset in it
        where each input position's scatter starts, and the offsets of the kernel's taps (the weight's row-major
        order). Shared by forward and backward, so both pair the same input and weight with the same output."""
        from itertools import product

        full = tuple(
            (n - 1) * s + d * (k - 1) + 1 + op
            for n, s, d, k, op in zip(
                spatial, self.stride, self.dilation, self.kernel_size, self.output_padding, strict=True
            )
        )
        strides = [prod(full[a + 1 :]) for a in range(self.dims)]
        starts = [
            sum(i * s * st for i, s, st in zip(position, self.stride, strides, strict=True))
            for position in product(*(range(n) for n in spatial))
        ]
        taps = [
            sum(m * d * st for m, d, st in zip(position, self.dilation, strides, strict=True))
            for position in product(*(range(k) for k in self.kernel_size))
        ]
        return full, starts, taps

    def scratch_elements(self) -> int:
        """The full output forward scatters into before `padding` is cropped from both ends."""
        return self.out_channels * prod(size + 2 * p for size, p in zip(self.out_shape[1:], self.padding, strict=True))

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        (x,) = inputs
        batch, channels = x.shape[0], x.shape[1]
        weight = params["weight"]
        per_group_in = channels // self.groups
        per_group_out = self.out_channels // self.groups
        full, starts, taps = self.scatter_geometry(x.shape[2:])
        in_plane, full_plane, tap_count = len(starts), prod(full), len(taps)
        out = [0] * (batch * self.out_channels * full_plane)
        for n in range(batch):
            for c in range(channels):
                first = (c // per_group_in) * per_group_out  # the group's first output channel
                plane = x.data[(n * channels + c) * in_plane : (n * channels + c + 1) * in_plane]
                for o in range(per_group_out):
                    row = weight.data[(c * per_group_out + o) * tap_count : (c * per_group_out + o + 1) * tap_count]
                    base = (n * self.out_channels + first + o) * full_plane
                    # The scatter: every input element times every tap of its group's filters.
                    for start, value in zip(starts, plane, strict=True):
                        at = base + start
                        for tap, w in zip(taps, row, strict=True):
                            out[at + tap] += value * w
                ctx.multiply(in_plane * per_group_out * tap_count)
        crop = tuple(-p for p in self.padding)  # `padding` is removed from both ends of the full output
        cropped, sizes = pad_planes(out, batch * self.out_channels, full, crop, crop, "zeros")
        denominator, inexact = x.denominator * weight.denominator, x.approximate or weight.approximate
        return with_channel_bias(cropped, denominator, params, self.bias, (self.out_channels, *sizes), batch, inexact)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # The crop's gradient goes back into the full output (zeros where `padding` cut); then each product
        # x * w that forward scattered to a full-output position sends g * w back to x and g * x to w.
        (x,) = inputs
        batch, channels = x.shape[0], x.shape[1]
        weight = params["weight"]
        per_group_in = channels // self.groups
        per_group_out = self.out_channels // self.groups
        full, starts, taps = self.scatter_geometry(x.shape[2:])
        crop = tuple(-p for p in self.padding)
        grad_full = fold_planes(grad.data, batch * self.out_channels, full, crop, crop, "zeros")
        in_plane, full_plane, tap_count = len(starts), prod(full), len(taps)
        grad_x = [0] * len(x.data)
        grad_weight = [0] * len(weight.data)
        for n in range(batch):
            for c in range(channels):
                first = (c // per_group_in) * per_group_out
                at_x = (n * channels + c) * in_plane
                plane = x.data[at_x : at_x + in_plane]
                for o in range(per_group_out):
                    at_w = (c * per_group_out + o) * tap_count
                    row = weight.data[at_w : at_w + tap_count]
                    base = (n * self.out_channels + first + o) * full_plane
                    for i, (start, value) in enumerate(zip(starts, plane, strict=True)):
                        gs = [grad_full[base + start + tap] for tap in taps]  # the gradients x_i was sent to
                        grad_x[at_x + i] += sum(map(mul, gs, row))
                        if value:
                            for m, g in enumerate(gs):
                                grad_weight[at_w + m] += g * value
        approximate = grad.approximate or x.approximate or weight.approximate
        grads = {"weight": Tensor(weight.shape, grad_weight, grad.denominator * x.denominator, approximate)}
        if self.bias:
            out_plane = prod(grad.shape[2:])
            sums = [0] * self.out_channels
            for n in range(batch):
                for o in range(self.out_channels):
                    start = (n * self.out_channels + o) * out_plane
                    sums[o] += sum(grad.data[start : start + out_plane])
            grads["bias"] = Tensor((self.out_channels,), sums, grad.denominator, grad.approximate)
        return [Tensor(x.shape, grad_x, grad.denominator * weight.denominator, approximate)], grads

    def summary(self) -> str:
        parts = [f"k{_axes(self.kernel_size)}", f"s{_axes(self.stride)}"]
        if set(self.padding) != {0}:
            parts.append(f"p{_axes(self.padding)}")
        if set(self.output_padding) != {0}:
            parts.append(f"op{_axes(self.output_padding)}")
        if set(self.dilation) != {1}:
            parts.append(f"d{_axes(self.dilation)}")
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        return " ".join(parts)


@register
class Conv1d(ConvNd):
    kind = "Conv1d"
    dims = 1


@register
class Conv2d(ConvNd):
    kind = "Conv2d"
    dims = 2


@register
class Conv3d(ConvNd):
    kind = "Conv3d"
    dims = 3


@register
class ConvTranspose1d(ConvTransposeNd):
    kind = "ConvTranspose1d"
    dims = 1


@register
class ConvTranspose2d(ConvTransposeNd):
    kind = "ConvTranspose2d"
    dims = 2


@register
class ConvTranspose3d(ConvTransposeNd):
    kind = "ConvTranspose3d"
    dims = 3
