"""The Layer base class: one subclass per kind holds all of that kind's rules.

A Layer is built from validated arguments and the per-sample shapes of its inputs (batch axis excluded), and
answers, per sample: its output shape, the shapes of its learnable weights and buffers (state_dict names),
its multiply-accumulates, its other arithmetic operations, and its receptive-field window along each spatial axis.
Whole-graph work (loading, walking, totals, rendering) lives outside `layers/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from cnncalc.args import Arg, parse_arguments
from cnncalc.errors import LayerError

Shape = tuple[int, ...]
if TYPE_CHECKING:  # fractions (and decimal with it) is imported only where a fractional window is built:
    from fractions import Fraction  # most networks never need it, and start-up time counts
    from random import Random

    from cnncalc.compute import Context
    from cnncalc.tensor import Tensor

    Rational = int | Fraction


Gradients = tuple[list["Tensor | None"], dict[str, "Tensor"]]  # per input, per learnable weight
SMALL = range(-2, 3)  # generated weights: small integers keep exact results short


def draw(rng: Random, values: Sequence[int], count: int) -> list[int]:
    """`count` values drawn uniformly and independently from `values` (integers from -128 to 127), in bulk.

    One byte of rng.randbytes per value: a byte below the largest multiple of len(values) that fits in 256 picks
    values[byte % len(values)], the others are dropped (so every value is equally likely), all in C
    (bytes.translate, then array('b') reads the kept bytes as signed integers). rng.choices draws a float and
    calls floor() per value: 10 to 20 times slower, and VGG-16 has 138 million weights."""
    from array import array

    size = len(values)
    limit = 256 - 256 % size
    table = bytes((values[b % size] if b < limit else 0) & 0xFF for b in range(256))
    dropped = bytes(range(limit, 256))
    kept = b""
    while len(kept) < count:
        wanted = count - len(kept)
        kept += rng.randbytes(wanted + wanted * (256 - limit) // limit + 8).translate(table, dropped)
    return array("b", kept[:count]).tolist()


def fraction(numerator: int, denominator: int = 1) -> Fraction:
    """An exact rational (fractional receptive-field windows)."""
    from fractions import Fraction

    return Fraction(numerator, denominator)


# How every message names the axes of a per-sample shape: the letters of the volumes cnncalc prints.
AXIS_NAMES = {1: ("C",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "D", "H", "W")}


def axis_names(rank: int) -> tuple[str, ...]:
    """The names of a sample's axes, as the tables write volumes: C; C x L; C x H x W; C x D x H x W. Beyond four
    axes there is no convention: C, then d2, d3, ... by PyTorch's dim (which counts the batch axis as 0)."""
    return AXIS_NAMES.get(rank) or ("C", *(f"d{dim}" for dim in range(2, rank + 1)))


def spatial_names(dims: int) -> tuple[str, ...]:
    """The names of the spatial axes of a `dims`-d kind (Conv2d: H, W)."""
    return axis_names(dims + 1)[1:]


def volume_names(rank: int) -> str:
    """'C x H x W': a per-sample shape's axes by name."""
    return " x ".join(axis_names(rank))


def dim_name(dim: int, rank: int) -> str:
    """A PyTorch `dim` argument (the batch axis is dim 0) with the name of the axis it picks, for a per-sample
    rank: 'dim 2 (H)'; dim 0 is 'dim 0 (the batch axis)'."""
    return f"dim {dim} ({'the batch axis' if dim == 0 else axis_names(rank)[dim - 1]})"


def fmt_shape(shape: Shape) -> str:
    """'20 x 28 x 28', as the lecture tables write volumes."""
    return " x ".join(str(d) for d in shape)


class Window(NamedTuple):
    """How one spatial axis of the output reads the input (Distill 2019's per-layer kernel, stride, padding).

    Output position j reads input positions j*stride - padding ... j*stride - padding + extent, where
    extent = dilation * (kernel - 1). Transposed convolutions and upsampling have fractional strides and
    paddings; values stay exact as Fractions.
    """

    extent: Rational
    stride: Rational
    padding: Rational


POINTWISE = Window(0, 1, 0)


class Backprop(NamedTuple):
    """What a layer's training rules (saved, backward_macs) need to know about the step around it: PyTorch's
    autograd saves and computes only what the gradients that are asked for need."""

    batch: int
    input_grads: tuple[bool, ...]  # per input: whether it requires grad (the network input does not)
    weight_grads: bool  # the layer has learnable weights and is trainable
    contiguous: tuple[bool, ...] = ()  # per input: whether its memory is contiguous (views of permutes are not)
    same_as: tuple[int, ...] = ()  # per input: the index of the first input that is the very same tensor


class Saved(NamedTuple):
    """One tensor a layer keeps for its backward pass, as PyTorch's autograd saves it (train mode, CPU)."""

    what: str  # what it is: "input", "indices", "mean", ...
    shape: Shape  # batch axis included
    storage: str  # whose memory: "input" (input 0), "input1", ..., "output", or "own" (new memory)
    dtype: str | None = None  # None: the network's dtype (--dtype); else its own ("int64")


def saved_input(index: int, shape: Shape, batch: int, what: str = "input") -> Saved:
    """Input `index` saved as it is (its memory: counted once however many layers keep it)."""
    return Saved(what if index == 0 or what != "input" else f"input {index}", (batch, *shape), input_storage(index))


def box_contiguous(full: Shape, kept: Shape) -> bool:
    """Whether a box of `kept` sizes cut out of a contiguous tensor of `full` sizes (a chunk, a crop: a view) is
    contiguous: every axis longer than 1 must keep the stride its own sizes would give it."""
    return all(prod(full[axis + 1 :]) == prod(kept[axis + 1 :]) for axis, size in enumerate(kept) if size > 1)


def input_storage(index: int) -> str:
    return "input" if index == 0 else f"input{index}"


# How an output's axes read the input's (receptive fields that follow the axes, cnncalc/receptive.py): per
# per-sample output axis, (the input axis it reads position by position, the window along it), or None for an axis
# whose positions are not the input's (a convolution's output channels, Linear's out_features).
AxisMap = tuple["tuple[int, Window] | None", ...]


class Layer:
    """Base of every layer kind. Subclasses set `kind` and `arguments` and override the rules they need."""

    kind: ClassVar[str] = ""  # the torch.nn class name (or cnncalc's name for merges), e.g. "Conv2d"
    arguments: ClassVar[tuple[Arg, ...]] = ()
    dims: ClassVar[int] = 0  # number of spatial axes for Nd kinds (Conv2d: 2); 0 when not per-axis
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    ops_rule: ClassVar[str] = "none"  # how `other_ops` counts, in words (README, `explain`)
    value_inputs: ClassVar[int | None] = None  # how many leading inputs' values are read; later ones give only a size
    # Whether output axis 0 (the channels) reads input axis 0 position by position (activations, dropout, per-channel
    # normalization, element-wise merges). False for kinds that mix or reorder the channels (convolutions, Softmax
    # over channels, ChannelShuffle): what the channel axis then holds is lost (see axis_map).
    keeps_channels: ClassVar[bool] = False

    def __init__(self, arguments: dict[str, Any], in_shapes: tuple[Shape, ...]) -> None:
        count = len(in_shapes)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            wanted = (
                str(self.min_inputs)
                if self.min_inputs == self.max_inputs
                else f"at least {self.min_inputs}"
                if self.max_inputs is None
                else f"{self.min_inputs} to {self.max_inputs}"
            )
            raise LayerError(f"{self.kind} takes {wanted} input(s), got {count}", arg="inputs")
        self.in_shapes = in_shapes
        self.given = arguments
        self.warnings: list[str] = []
        values = parse_arguments(self.arguments, arguments, self.dims, self.kind)
        self.__dict__.update(values)
        self.setup()
        self.out_shape: Shape = self.output_shape()

    # -- hooks for subclasses -------------------------------------------------------------------------------

    def setup(self) -> None:
        """Check the arguments against each other and the input shapes; infer input sizes."""

    def output_shape(self) -> Shape:
        return self.in_shape

    def weights(self) -> dict[str, Shape]:
        """Learnable parameters, by PyTorch state_dict name."""
        return {}

    def buffers(self) -> dict[str, Shape]:
        """Non-learnable state (running statistics), by PyTorch state_dict name."""
        return {}

    def macs(self) -> int:
        """Multiply-accumulates of inner products per sample (conv, transposed conv, linear); bias excluded."""
        return 0

    def other_ops(self) -> int:
        """Every other arithmetic operation per sample, counted by the rule in `ops_rule`."""
        return 0

    def window(self) -> tuple[Window, ...] | None:
        """Receptive-field window per spatial axis of the output; None when the output has no spatial
        axes that map to the input's (Flatten, Linear on features)."""
        return (POINTWISE,) * (len(self.out_shape) - 1) if len(self.out_shape) > 1 else None

    def axis_map(self) -> AxisMap | None:
        """How each output axis reads the input's axes, for receptive fields that follow the axes when values move
        between them (Permute, Reshape, channels-last blocks): per per-sample output axis, (input axis, window) or
        None (the axis holds no input positions). An input axis that no output axis reads is mixed away. None: no
        field at all. The default follows window(): output axis k >= 1 reads input axis k through window()[k - 1];
        axis 0 reads input axis 0 pointwise when the kind keeps_channels, else it is mixed."""
        window = self.window()
        rank = len(self.out_shape)
        if window is None or len(self.in_shapes[0]) != rank or len(window) != rank - 1:
            return None
        channels = (0, POINTWISE) if self.keeps_channels else None
        return (channels, *zip(range(1, rank), window, strict=True))  # (axis, its window) per spatial axis

    # -- training (cnncalc.training): what the backward pass keeps and computes -----------------------------

    def saved(self, step: Backprop) -> list[Saved]:
        """The tensors PyTorch's autograd saves for this layer's backward pass in train mode (parameters and
        buffers are not listed: they are the model's memory). Called only when some gradient flows through the
        layer (an input requires grad, or it has trainable weights)."""
        return []

    def backward_macs(self, step: Backprop) -> list[tuple[str, int]]:
        """The backward pass's multiply-accumulates per sample, by term ("input gradient", "weight gradient"):
        only the gradients autograd computes (inputs that require grad, trainable weights)."""
        return []

    def check_training_batch(self, batch: int) -> None:
        """Refuse, with a LayerError, a batch size PyTorch cannot train with (BatchNorm on one value per channel);
        the training figures call it (check_batch_size covers what every mode refuses)."""

    def output_storage(self, step: Backprop) -> str:
        """Whose memory the output is: "new", or "input" when it is a view of input 0 or computed in place
        into it (Flatten, Permute, ReLU with inplace): then saving either saves the same memory."""
        return "new"

    def output_contiguous(self, step: Backprop) -> bool:
        """Whether the output's memory is contiguous; a layer that reshapes a non-contiguous input copies it."""
        return True

    def check_batch_size(self, batch: int) -> None:
        """Refuse, with a LayerError, a batch size that PyTorch refuses in every mode (BatchNorm without running
        statistics on one value per channel). The analyzers call it with the batch they count for: shapes are per
        sample, so this is the one rule that needs the batch."""

    def summary(self) -> str:
        """A short description of the arguments for tables, e.g. 'k5 s1 p2'."""
        return ""

    def explain(self) -> list[tuple[str, Any]]:
        """(what, formula.Term) pairs deriving this layer's figures from the same rules that compute them
        (`cnncalc layer`, `cnncalc explain`); kinds without derivations yet show their figures alone."""
        return []

    def notes(self) -> list[str]:
        """Facts about this layer that are not figures (statistics axes, train vs eval), built from the same
        attributes its forward uses."""
        return []

    # -- execution (cnncalc run / verify) -------------------------------------------------------------------

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        """The exact output for a batch (tensors include the batch axis), as PyTorch computes it in ctx.mode.

        `params` holds this layer's weights and buffers by state_dict name. Inner products go through
        ctx.dot so their multiplies are counted; forward never calls the analyzer rules above (macs, ...),
        so that the executor checks them."""
        raise LayerError(f"the executor cannot run {self.kind} yet", hint="cnncalc summary analyzes it")

    def scratch_elements(self) -> int:
        """Values forward holds per sample besides its inputs, output and weights (a convolution's padded copy of
        its input): counted, with those, in the executor's budget before anything runs."""
        return 0

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        """Exact gradients of a scalar loss L, given grad = dL/d(output) (the output's shape).

        Returns dL/d(input) for each input (None for an input whose values are not read, such as CenterCrop's
        second) and dL/d(weight) for each learnable weight by state_dict name. `inputs`, `params` and `output` are
        those of the forward pass; anything else forward used (batch statistics, a dropout mask from
        ctx.random()) is recomputed, never kept."""
        raise LayerError(f"the executor cannot differentiate {self.kind} yet")

    @classmethod
    def fits_rank(cls, rank: int) -> bool:
        """Whether the kind takes a per-sample input with `rank` axes, for did-you-mean: an Nd kind takes C and
        its N spatial axes; kinds that take any rank say yes."""
        return not cls.dims or rank == cls.dims + 1

    @classmethod
    def output_count(cls, arguments: dict[str, Any], in_shapes: tuple[Shape, ...]) -> int | None:
        """How many outputs an entry of this kind makes when it does not pick one with `index`, for kinds with
        several outputs (torch.chunk, torch.split); None for every kind with one output. The spec expands such an
        entry into one layer per output, NAME.0 ... NAME.K-1, each built with `index: k`, so every layer of the
        graph still has one output (cnncalc.spec). Bad arguments raise the LayerError the layer itself would."""
        return None

    @classmethod
    def examples(cls) -> list[tuple[dict[str, Any], tuple[Shape, ...]]]:
        """Small configurations (arguments, per-sample input shapes) that the generic executor test runs through
        `forward` to check it against this kind's rules: shape, MACs, weights read, receptive-field window."""
        return []

    def initial_values(self, name: str, count: int, rng: Random) -> list[int]:
        """Generated values for weight or buffer `name`: small integers drawn from `rng` in bulk (`draw`).
        Kinds override this where a value must be positive (BatchNorm's running_var) or fixed
        (num_batches_tracked)."""
        return draw(rng, SMALL, count)

    # -- helpers for subclasses -----------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        """Something valid but probably unintended (PyTorch would warn); shown beside the results."""
        self.warnings.append(message)

    @property
    def in_shape(self) -> Shape:
        return self.in_shapes[0]

    def params(self) -> int:
        return sum(prod(shape) for shape in self.weights().values())

    def buffer_count(self) -> int:
        return sum(prod(shape) for shape in self.buffers().values())

    def expect_rank(self, *ranks: int, what: str = "") -> None:
        """Require the per-sample input rank to be one of `ranks`; `what` names the axes, e.g. 'C x H x W'."""
        rank = len(self.in_shape)
        if rank not in ranks:
            shown = " or ".join(str(r) for r in ranks)
            axes = f" ({what})" if what else ""
            raise LayerError(
                f"{self.kind} expects an input with {shown} axes per sample{axes}, "
                f"got {rank}: {fmt_shape(self.in_shape)}",
                arg="inputs",
            )

    def infer(self, name: str, actual: int, what: str) -> int:
        """Fill in an input size (in_channels, ...) from the graph; if the spec gave it, it must agree."""
        given = getattr(self, name)
        if given is not None and given != actual:
            raise LayerError(
                f"{name} is {given} but the input has {actual} {what} (input shape {fmt_shape(self.in_shape)})",
                arg=name,
                hint=f"remove {name} (it is inferred) or set it to {actual}",
            )
        setattr(self, name, actual)
        return actual
