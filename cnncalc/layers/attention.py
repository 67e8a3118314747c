"""Matrix products and attention: MatMul (torch.matmul of two inputs) and MultiheadAttention.

Shapes are per sample, the batch axis kept first, so each kind is what PyTorch computes on the batched tensors
(N, ...) and nothing that would read one sample's values into another's output is accepted.

MatMul is torch.matmul(a, b) on the batched tensors. Both inputs need the same number of axes per sample, at
least two: per sample (..., n, k) @ (..., k, m) = (..., n, m), the leading axes broadcasting (sizes equal or 1,
aligned from the right). That is exactly where torch.matmul keeps the samples apart: the batch axis is then a
leading axis of both operands and meets itself. Every other rank torch accepts mixes samples: a vector per
sample is a batched N x k matrix whose rows are the samples (or, alone, a vector along the batch axis) and is
contracted or broadcast across them; operands of different ranks align the batch axis of the shorter with a
feature axis of the longer. Those are refused, with the shape to write instead.

MultiheadAttention is torch.nn.MultiheadAttention with batch_first=True: query L x E, key S x kdim, value S x vdim
per sample (1 input: self-attention, query = key = value; 3 inputs: query, key, value), output L x E. PyTorch's
default batch_first=False reads (L, N, E), the batch on axis 1, which no per-sample shape can express: it is
refused with the hint to write batch_first: true. The output is the attention output only; the attention weights
(the module's second output, need_weights) are not an output of the layer. No masks: key_padding_mask, attn_mask
and is_causal are forward() arguments the spec has no place for; every query attends to every key.

Counting (per sample; E = embed_dim, h = num_heads, d = E / h, S' = S + 1 with add_bias_kv + 1 with add_zero_attn):
- MACs: the projections L*E*E (queries) + S*kdim*E (keys) + S*vdim*E (values) + L*E*E (out_proj), the scores
  q . k (h*L*S' inner products of d) and the weighted sums of the values (h*L*d inner products of S'). That is what
  torch.utils.flop_counter.FlopCounterMode counts, halved, on the module's default call (need_weights=True: mm and
  addmm for the projections, two bmm for the attention), in train and eval mode alike. On the same CPU build it
  counts only the projections for need_weights=False (the fused scaled_dot_product_attention kernel has no
  formula there) and nothing at all on the inference fast path (eval mode under torch.no_grad():
  _native_multi_head_attention): the multiplies are the same, the counter does not see them.
- Other ops: one add per element of each projection for the biases, one multiply per query element for the
  1/sqrt(d) scaling, and softmax's 3 per score (Softmax's own rule) over h*L*S' scores. Dropout none (inference).
- Receptive field: none. Every output position reads every key and value position (and a projection reads every
  feature): the window is None, as for Linear, and the field stops here.

Execution: the projections are Linear's forward and backward on slices of the packed weights, so that their
multiplies are counted where performed; the scores and weighted sums go through ctx.dot. Everything is exact
except the softmax (Softmax's own forward and backward: exp at fixed precision) and the scale 1/sqrt(d), which is
exact where d is a perfect square (d = 64: 1/8) and otherwise a 50-digit rational folded into the softmax's
argument. Training applies Dropout's seeded mask to the attention weights (the same mask in backward).
"""

from __future__ import annotations

from math import isqrt, prod
from operator import mul
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc.args import Arg, Bool, Float, Int, Optional
from cnncalc.errors import LayerError
from cnncalc.formula import Term
from cnncalc.layers.activation import Softmax
from cnncalc.layers.base import Backprop, Layer, Saved, Shape, dim_name, fmt_shape, saved_input
from cnncalc.layers.dropout import Dropout
from cnncalc.layers.linear import Linear
from cnncalc.layers.merge import _broadcast_indices
from cnncalc.layers.norm import _divisors, product
from cnncalc.layers.registry import register
from cnncalc.tensor import Tensor, add, common

if TYPE_CHECKING:
    from cnncalc.compute import Context
    from cnncalc.layers.base import Gradients

Examples = list[tuple[dict[str, Any], tuple[Shape, ...]]]


def _shown(shape: Shape) -> str:
    return fmt_shape(shape) if shape else "a scalar"


# -- MatMul ------------------------------------------------------------------------------------------------------


def matmul_macs(leading: list[Any], n: Any, k: Any, m: Any) -> Any:
    """k multiply-accumulates for each of the n*m outputs of one matrix product, for every product along the
    broadcast leading axes."""
    return product([*leading, n, k, m])


def broadcast_leading(a: Shape, b: Shape) -> Shape | None:
    """The broadcast of two equally long shapes (sizes equal or 1), or None where they clash."""
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


def matrix_pairs(a: Shape, b: Shape, leading: Shape) -> list[tuple[int, int]]:
    """For every matrix product along the broadcast `leading` axes (row-major), the index of the matrix it reads in
    each input (inputs of shapes `a` and `b`, their last two axes the matrices)."""
    return list(zip(_broadcast_indices(a[:-2], leading), _broadcast_indices(b[:-2], leading), strict=True))


@register
class MatMul(Layer):
    """torch.matmul of two inputs with the same number of axes per sample (at least 2): (..., n, k) @ (..., k, m)."""

    kind = "MatMul"
    min_inputs = 2
    max_inputs = 2
    ops_rule = "none: the k products of each output and their sum are its k MACs"

    def saved(self, step: Backprop) -> list[Saved]:
        """Each factor is saved for the other's gradient: the input itself, or, where its leading axes broadcast,
        the expanded copy torch.matmul multiplies (new memory)."""
        kept = []
        for index, other in ((0, 1), (1, 0)):
            if not step.input_grads[other]:
                continue
            shape = self.in_shapes[index]
            # Broadcast axes have stride 0: folding the batch and leading axes into one is a view when they are all
            # broadcast or none is (among the axes longer than 1), else torch.matmul copies the expanded input.
            longer = [
                (size, size != own)
                for size, own in zip((step.batch, *self.leading), (step.batch, *shape[:-2]), strict=True)
                if size > 1
            ]
            if len({broadcast for _, broadcast in longer}) <= 1:
                kept.append(saved_input(index, shape, step.batch))
            else:
                kept.append(Saved(f"input {index + 1} expanded", (step.batch, *self.leading, *shape[-2:]), "own"))
        return kept

    def backward_macs(self, step: Backprop) -> list[tuple[str, int]]:
        """grad @ B^T for A and A^T @ grad for B: k MACs per output value each, the forward MACs."""
        names = ("gradient of input 1", "gradient of input 2")
        return [(name, self.macs()) for name, grad in zip(names, step.input_grads, strict=True) if grad]

    def setup(self) -> None:
        a, b = self.in_shapes
        for number, shape in enumerate(self.in_shapes, start=1):
            if len(shape) < 2:
                self.refuse_vector(number, shape)
        if len(a) != len(b):
            shorter = 1 if len(a) < len(b) else 2
            raise LayerError(
                f"MatMul needs inputs with the same number of axes per sample: input 1 is {_shown(a)} ({len(a)} "
                f"axes), input 2 is {_shown(b)} ({len(b)}); torch.matmul aligns shapes from the right, so the batch "
                f"axis of input {shorter} would meet an axis of the other input's samples",
                arg="inputs",
                hint=f"give input {shorter} size-1 leading axes (unflatten or reshape it to "
                f"{fmt_shape((1,) * abs(len(a) - len(b)) + (a if shorter == 1 else b))}): they broadcast",
            )
        if a[-1] != b[-2]:
            raise LayerError(
                f"MatMul multiplies {fmt_shape(a[-2:])} matrices (input 1, {_shown(a)}) by {fmt_shape(b[-2:])} "
                f"matrices (input 2, {_shown(b)}): input 1's last axis ({a[-1]}) must equal input 2's second-to-last "
                f"({b[-2]})",
                arg="inputs",
                hint="(n x k) @ (k x m): transpose one input, or swap the inputs",
            )
        leading = broadcast_leading(a[:-2], b[:-2])
        if leading is None:
            clash = next(i for i, (x, y) in enumerate(zip(a[:-2], b[:-2], strict=True)) if x != y and 1 not in (x, y))
            raise LayerError(
                f"MatMul cannot broadcast the leading axes of {_shown(a)} and {_shown(b)}: along "
                f"{dim_name(clash + 1, len(a))} input 1 has {a[clash]} and input 2 has {b[clash]}; leading sizes "
                "must be equal or 1",
                arg="inputs",
                hint="give both inputs the same size there, or size 1 to one of them (its matrix is then reused)",
            )
        self.leading = leading

    def refuse_vector(self, number: int, shape: Shape) -> None:
        read = (
            "a vector along the batch axis, contracted or broadcast across the samples"
            if not shape
            else f"an N x {shape[0]} matrix whose rows are the samples, multiplied across them"
        )
        raise LayerError(
            f"MatMul needs a matrix (at least 2 axes) per sample in each input; input {number} is {_shown(shape)}: "
            f"with the batch axis, torch.matmul would read it as {read}",
            arg="inputs",
            hint=f"write a vector as a 1 x k or k x 1 matrix (unflatten or reshape to "
            f"{fmt_shape((1, *shape)) if shape else '1 x 1'}); cnncalc keeps samples apart",
        )

    def output_shape(self) -> Shape:
        a, b = self.in_shapes
        return (*self.leading, a[-2], b[-1])

    def macs(self) -> int:
        a, b = self.in_shapes
        return matmul_macs(list(self.leading), a[-2], a[-1], b[-1])  # type: ignore[no-any-return]

    def leading_terms(self) -> list[Term]:
        return [Term.leaf(f"b{axis}", size) for axis, size in enumerate(self.leading, start=1)]

    def explain(self) -> list[tuple[str, Any]]:
        a, b = self.in_shapes
        n, k, m = Term.leaf("n", a[-2]), Term.leaf("k", a[-1]), Term.leaf("m", b[-1])
        return [("MACs", matmul_macs(self.leading_terms(), n, k, m))]

    def notes(self) -> list[str]:
        a, b = self.in_shapes
        n, k, m = a[-2], a[-1], b[-1]
        notes = [
            f"torch.matmul on the batched tensors: in each sample an n x k = {n} x {k} matrix times a k x m = "
            f"{k} x {m} matrix gives n x m = {n} x {m}; each output value is an inner product of k = {k} products"
        ]
        if self.leading:
            sizes = " x ".join(f"b{axis}" for axis in range(1, len(self.leading) + 1))
            notes.append(
                f"the leading axes {sizes} = {fmt_shape(self.leading)} hold {prod(self.leading):,} matrix products "
                "per sample, broadcast from the right as torch.matmul does (an input of size 1 there is reused)"
            )
            for number, shape in enumerate(self.in_shapes, start=1):
                pairs = zip(shape, self.leading, strict=False)  # the leading sizes, the matrix axes left out
                reused = [f"b{i}" for i, (s, o) in enumerate(pairs, start=1) if s == 1 and o != 1]
                if reused:
                    notes.append(f"input {number} ({_shown(shape)}) is reused along {', '.join(reused)}")
        notes.append("no receptive field: each output reads a whole row of input 1 and a whole column of input 2")
        return notes

    def window(self) -> None:
        return None

    def summary(self) -> str:
        a, b = self.in_shapes
        return f"{'x'.join(map(str, a))} @ {'x'.join(map(str, b))}"

    def scratch_elements(self) -> int:
        return prod(self.in_shapes[1])  # input 2's columns, copied once per matrix

    @classmethod
    def examples(cls) -> Examples:
        return [
            ({}, ((3, 4), (4, 2))),
            ({}, ((2, 3, 4), (2, 4, 3))),  # per head: scores q @ k^T
            ({}, ((1, 2, 3), (3, 3, 2))),  # input 1 broadcast along the leading axis
            ({}, ((2, 1, 2, 3), (1, 2, 3, 1))),  # both broadcast
            ({}, ((1, 5), (5, 1))),
        ]

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        a, b = inputs
        n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
        leading = broadcast_leading(a.shape[:-2], b.shape[:-2])
        if leading is None:
            raise LayerError(f"MatMul cannot broadcast {fmt_shape(a.shape)} with {fmt_shape(b.shape)}")
        out: list[int] = []
        columns: dict[int, list[list[int]]] = {}  # input 2's columns by matrix, built once each
        for ia, ib in matrix_pairs(a.shape, b.shape, leading):
            if ib not in columns:
                base = ib * k * m
                columns[ib] = [b.data[base + j : base + k * m : m] for j in range(m)]
            cols = columns[ib]
            base = ia * n * k
            for i in range(n):
                row = a.data[base + i * k : base + (i + 1) * k]
                out.extend(ctx.dot(row, col) for col in cols)
        return Tensor((*leading, n, m), out, a.denominator * b.denominator, a.approximate or b.approximate)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        # Y = A @ B per matrix: dA = dY @ B^T, dB = A^T @ dY, summed over the leading positions where an input
        # was reused (broadcast).
        a, b = inputs
        n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
        leading = grad.shape[:-2]
        g = grad.data
        grad_a, grad_b = [0] * len(a.data), [0] * len(b.data)
        for o, (ia, ib) in enumerate(matrix_pairs(a.shape, b.shape, leading)):
            base_a, base_b, base_g = ia * n * k, ib * k * m, o * n * m
            b_rows = [b.data[base_b + t * m : base_b + (t + 1) * m] for t in range(k)]
            for i in range(n):
                g_row = g[base_g + i * m : base_g + (i + 1) * m]
                at = base_a + i * k
                for t in range(k):
                    grad_a[at + t] += sum(map(mul, g_row, b_rows[t]))
                for t in range(k):
                    value = a.data[at + t]
                    if value:
                        start = base_b + t * m
                        for j, gj in enumerate(g_row):
                            grad_b[start + j] += value * gj
        approximate = grad.approximate or a.approximate or b.approximate
        return [
            Tensor(a.shape, grad_a, grad.denominator * b.denominator, approximate),
            Tensor(b.shape, grad_b, grad.denominator * a.denominator, approximate),
        ], {}


# -- MultiheadAttention ------------------------------------------------------------------------------------------


def attention_params(E: Any, kdim: Any, vdim: Any, bias: bool, add_bias_kv: bool) -> Any:
    """The in-projection weights (E x E for the queries, E x kdim, E x vdim), out_proj.weight E x E, and with
    bias in_proj_bias 3E and out_proj.bias E, with add_bias_kv bias_k and bias_v E each."""
    total = (E + kdim + vdim) * E + E * E
    if bias:
        total = total + 3 * E + E
    if add_bias_kv:
        total = total + 2 * E
    return total


def attention_macs(L: Any, S: Any, keys: Any, E: Any, kdim: Any, vdim: Any, h: Any, d: Any) -> Any:
    """The projections of the L queries, S keys and S values to E features, the h*L*keys scores (inner products
    of d), the h*L*d weighted sums of the values (inner products of `keys`), and out_proj on the L outputs."""
    return L * E * E + S * kdim * E + S * vdim * E + h * L * keys * d + h * L * d * keys + L * E * E


def attention_other_ops(L: Any, S: Any, keys: Any, E: Any, h: Any, bias: bool, softmax: Any) -> Any:
    """Bias adds of the four projections (with bias), the 1/sqrt(d) scaling of every query element, and the
    softmax's ops per score over h*L*keys scores."""
    total = L * E + softmax * h * L * keys
    return (L + S + S + L) * E + total if bias else total


class Attended(NamedTuple):
    """What the attention computes between its projections (forward keeps none of it; backward recomputes it)."""

    projected: tuple[Tensor, Tensor, Tensor]  # the query, key and value projected: N x L x E, N x S x E twice
    queries: Tensor  # N x L x E, projected
    keys: Tensor  # N x S' x E, projected, then bias_k and a zero row when asked
    values: Tensor  # N x S' x E
    scaled: Tensor  # N x h x L x S': the scores q . k times 1/sqrt(d)
    weights: Tensor  # softmax of `scaled` along S'
    dropped: Tensor  # the weights after dropout (the weights themselves in eval mode)
    heads: Tensor  # N x L x E: each head's weighted sum of the values, heads side by side
    scale: tuple[int, int, bool]  # 1/sqrt(d) as numerator, denominator, exact


def inverse_sqrt(d: int) -> tuple[int, int, bool]:
    """1/sqrt(d): exact when d is a perfect square, else to 50 significant digits (compute.sqrt_ratio)."""
    root = isqrt(d)
    if root * root == d:
        return 1, root, True
    from cnncalc.compute import sqrt_ratio

    p, q = sqrt_ratio(1, d)
    return p, q, False


def _rows(t: Tensor, start: int, count: int, width: int) -> list[list[int]]:
    return [t.data[start + r * width : start + (r + 1) * width] for r in range(count)]


@register
class MultiheadAttention(Layer):
    """torch.nn.MultiheadAttention (batch_first=True): 1 input (self-attention) or 3 (query, key, value)."""

    kind = "MultiheadAttention"
    min_inputs = 1
    max_inputs = 3
    arguments = (
        Arg("embed_dim", Optional(Int(min=1)), None, "features E of the query and the output", inferred=True),
        Arg("num_heads", Int(min=1), doc="heads; each attends with embed_dim / num_heads features"),
        Arg("dropout", Float(min=0, max=1), 0.0, "dropout probability on the attention weights (training only)"),
        Arg("bias", Bool(), True, "biases of the input and output projections"),
        Arg("add_bias_kv", Bool(), False, "append a learned key and value (bias_k, bias_v) to every sequence"),
        Arg("add_zero_attn", Bool(), False, "append a key and value of zeros to every sequence"),
        Arg("kdim", Optional(Int(min=1)), None, "features of the key (default embed_dim)", inferred=True),
        Arg("vdim", Optional(Int(min=1)), None, "features of the value (default embed_dim)", inferred=True),
        Arg("batch_first", Bool(), False, "inputs are N x L x E; cnncalc needs true (the batch axis first)"),
    )
    ops_rule = (
        "per sample, L queries, S keys, S' = S (+1 with add_bias_kv, +1 with add_zero_attn) keys attended, "
        "E = embed_dim: with bias one add per projected element ((2L + 2S) x E), one multiply per query element for "
        "the 1/sqrt(E / num_heads) scaling (L x E), and the softmax's 3 per score (exp, add, divide) over "
        "num_heads x L x S' scores; dropout none (inference)"
    )

    def saved(self, step: Backprop) -> list[Saved]:
        """F.multi_head_attention_forward with need_weights (the module's default), batch_first: each projection
        is a linear over the input transposed to L x N x E, which it copies to a contiguous matrix and saves when the
        weights are trainable (the input's own memory when N or L is 1); the keys and values are saved as views of
        the projections' output (packed q, k, v of self-attention: one 3 x L x N x E copy; k is v: a 2 x S x N x E
        copy; else two S x N x E outputs) or, with add_bias_kv or add_zero_attn, as the new tensors with the extra
        keys; the scaled queries, the softmax's output (and with dropout its noise and the dropped weights), and the
        heads' output copied for out_proj (trainable weights)."""
        n, length, keys, attended, e = step.batch, self.query_length, self.key_length, self.attended, self.embed_dim
        sources = self.sources_of(step)
        grads = [step.input_grads[i] or step.weight_grads for i in sources]
        kept: list[Saved] = []
        if step.weight_grads:
            for index in sorted(set(sources) if self.same_dims else sources):
                shape = self.in_shapes[index]
                if n == 1 or shape[0] == 1:
                    kept.append(saved_input(index, shape, n, f"input {index + 1} (projection)"))
                else:
                    kept.append(Saved(f"input {index + 1} as L x N x E (copy)", (shape[0], n, shape[1]), "own"))
        if self.add_bias_kv or self.add_zero_attn:
            kept += [
                Saved(f"{what} with the extra keys", (n * self.num_heads, attended, self.head_dim), "own")
                for what, grad in (("keys", grads[0]), ("values", grads[0] or grads[1]))
                if grad
            ]
        elif self.same_dims and sources[1] == sources[2]:
            parts = 3 if sources[0] == sources[1] else 2
            kept.append(Saved("projected keys and values (packed copy)", (parts, keys, n, e), "own"))
        else:
            if grads[0]:
                kept.append(Saved("projected keys", (keys, n, e), "own"))
            kept.append(Saved("projected values", (keys, n, e), "own"))
        scores = (n * self.num_heads, length, attended)
        if grads[1]:
            kept.append(Saved("scaled queries", (n * self.num_heads, length, self.head_dim), "own"))
        kept.append(Saved("attention weights (softmax output)", scores, "own"))
        if 0 < self.dropout < 1:
            kept += [Saved("dropout mask", scores, "own"), Saved("attention weights after dropout", scores, "own")]
        elif self.dropout == 1:
            kept += [
                Saved("zero scalar (dropout p = 1)", (), "own"),
                Saved("attention weights after dropout", scores, "own"),
            ]
        if step.weight_grads:
            kept.append(Saved("heads' output (out_proj input)", (length * n, e), "own"))
        return kept

    def sources_of(self, step: Backprop) -> tuple[int, int, int]:
        """Which input is the query, the key and the value, the same tensor given twice counted as one."""
        if len(self.in_shapes) == 1:
            return (0, 0, 0)
        same = step.same_as or (0, 1, 2)
        return (same[0], same[1], same[2])

    def backward_macs(self, step: Backprop) -> list[tuple[str, int]]:
        """Every product of the forward pass has one backward product per factor that requires grad, each with
        the forward's MACs: the projections (input and weight gradients), the scores q . k (queries and keys),
        the weighted sums of the values (weights and values), out_proj (its input, its weight)."""
        length, keys, attended, e = self.query_length, self.key_length, self.attended, self.embed_dim
        grads = [step.input_grads[i] for i in range(len(self.in_shapes))] * (3 if len(self.in_shapes) == 1 else 1)
        projections = (length * e * e, keys * self.kdim * e, keys * self.vdim * e)
        terms = [
            (f"{what} projection: input gradient", macs)
            for what, macs, grad in zip(("query", "key", "value"), projections, grads, strict=True)
            if grad
        ]
        trained = step.weight_grads
        if trained:
            terms.append(("projections: weight gradients", sum(projections)))
        products = length * attended * e
        terms.append(("scores q . k: query and key gradients", 2 * products))
        terms.append(("weighted values: weight and value gradients", 2 * products))
        terms.append(("out_proj: input gradient", length * e * e))
        if trained:
            terms.append(("out_proj: weight gradient", length * e * e))
        return terms

    def output_contiguous(self, step: Backprop) -> bool:
        return step.batch == 1 or self.query_length == 1  # out_proj's L x N x E output, transposed back

    def setup(self) -> None:
        count = len(self.in_shapes)
        if count == 2:
            raise LayerError(
                "MultiheadAttention takes 1 input (self-attention: query = key = value) or 3 (query, key, value), "
                "got 2",
                arg="inputs",
                hint="for a key that is also the value, list it twice: inputs: [query, memory, memory]",
            )
        if not self.batch_first:
            raise LayerError(
                "batch_first is false (PyTorch's default): the module then reads its inputs as L x N x E, the batch "
                "on the second axis, which cnncalc's shapes (the batch axis first, per-sample L x E) cannot express",
                arg="batch_first",
                hint="write batch_first: true (inputs N x L x E, per sample L x E)",
            )
        names = ("query", "key", "value") if count == 3 else ("input",)
        for name, shape in zip(names, self.in_shapes, strict=True):
            if len(shape) != 2:
                self.refuse_rank(name, shape)
        query = self.in_shape
        key, value = self.in_shapes[1:] if count == 3 else (query, query)
        given_embed = self.embed_dim
        if given_embed is not None and given_embed != query[1]:
            raise LayerError(
                f"embed_dim is {given_embed} but the {names[0]} has {query[1]} features (per sample {_shown(query)}, "
                "L x E)",
                arg="embed_dim",
                hint=f"remove embed_dim (it is inferred) or set it to {query[1]}",
            )
        self.embed_dim = query[1]
        if not self.embed_dim:
            raise LayerError(
                f"the {names[0]} has no features (per sample {_shown(query)}, L x E): PyTorch needs embed_dim > 0",
                arg="inputs",
            )
        if self.embed_dim % self.num_heads:
            raise LayerError(
                f"embed_dim ({self.embed_dim}) must be divisible by num_heads ({self.num_heads}): each head takes "
                "embed_dim / num_heads features",
                arg="num_heads",
                hint=f"num_heads that divide {self.embed_dim}: {_divisors_text(self.embed_dim)}",
            )
        self.head_dim = self.embed_dim // self.num_heads
        self.infer_size("kdim", key, "key", count)
        self.infer_size("vdim", value, "value", count)
        if key[0] != value[0]:
            raise LayerError(
                f"the key ({_shown(key)}) and the value ({_shown(value)}) must have the same length S (their first "
                f"axis per sample): {key[0]} vs {value[0]}",
                arg="inputs",
            )
        self.query_length, self.key_length = query[0], key[0]
        self.attended = self.key_length + self.add_bias_kv + self.add_zero_attn
        self.same_dims = self.kdim == self.embed_dim and self.vdim == self.embed_dim

    def refuse_rank(self, name: str, shape: Shape) -> None:
        if len(shape) == 1:
            read = (
                "with the batch axis that is an N x E matrix, which PyTorch reads as one unbatched sequence "
                "whose positions are the samples"
            )
            hint = f"give every sample a sequence axis: L x E (1 x {shape[0]} for one position)"
        else:
            read = "PyTorch takes a sequence L x E per sample (a batched N x L x E tensor)"
            hint = "flatten the positions into one axis first (e.g. C x H x W to H*W x C: flatten, then transpose)"
        raise LayerError(
            f"MultiheadAttention needs a sequence L x E per sample; the {name} is {_shown(shape)}: {read}",
            arg="inputs",
            hint=hint,
        )

    def infer_size(self, name: str, shape: Shape, what: str, count: int) -> None:
        """kdim or vdim from the key's or value's features; if the spec gave it, it must agree."""
        given = getattr(self, name)
        if not shape[1]:
            raise LayerError(
                f"the {what} has no features (per sample {_shown(shape)}): it has nothing to project",
                arg="inputs",
            )
        if given is not None and given != shape[1]:
            source = f"the {what}" if count == 3 else "the input (query = key = value)"
            raise LayerError(
                f"{name} is {given} but {source} has {shape[1]} features (per sample {_shown(shape)})",
                arg=name,
                hint=f"remove {name} (it is inferred) or set it to {shape[1]}",
            )
        setattr(self, name, shape[1])

    # -- analyzers --------------------------------------------------------------------------------------------

    def output_shape(self) -> Shape:
        return (self.query_length, self.embed_dim)

    def weights(self) -> dict[str, Shape]:
        E = self.embed_dim
        if self.same_dims:
            shapes = {"in_proj_weight": (3 * E, E)}
        else:
            shapes = {"q_proj_weight": (E, E), "k_proj_weight": (E, self.kdim), "v_proj_weight": (E, self.vdim)}
        if self.bias:
            shapes["in_proj_bias"] = (3 * E,)
        if self.add_bias_kv:
            shapes["bias_k"] = (1, 1, E)
            shapes["bias_v"] = (1, 1, E)
        shapes["out_proj.weight"] = (E, E)
        if self.bias:
            shapes["out_proj.bias"] = (E,)
        return shapes

    def terms(self) -> dict[str, Any]:
        """The sizes as formula Terms: S is L and kdim, vdim are E where they are the same sizes."""
        L, E = Term.leaf("L", self.query_length), Term.leaf("E", self.embed_dim)
        three = len(self.in_shapes) == 3
        S = Term.leaf("S", self.key_length) if three else L
        kdim = Term.leaf("kdim", self.kdim) if self.kdim != self.embed_dim else E
        vdim = Term.leaf("vdim", self.vdim) if self.vdim != self.embed_dim else E
        keys = S
        for extra in (self.add_bias_kv, self.add_zero_attn):
            if extra:
                keys = keys + 1
        h, d = Term.leaf("h", self.num_heads), Term.leaf("d", self.head_dim)
        return {"L": L, "S": S, "keys": keys, "E": E, "kdim": kdim, "vdim": vdim, "h": h, "d": d}

    def macs(self) -> int:
        return attention_macs(  # type: ignore[no-any-return]
            self.query_length,
            self.key_length,
            self.attended,
            self.embed_dim,
            self.kdim,
            self.vdim,
            self.num_heads,
            self.head_dim,
        )

    def other_ops(self) -> int:
        return attention_other_ops(  # type: ignore[no-any-return]
            self.query_length,
            self.key_length,
            self.attended,
            self.embed_dim,
            self.num_heads,
            self.bias,
            Softmax.ops_per_element,
        )

    def explain(self) -> list[tuple[str, Any]]:
        t = self.terms()
        return [
            ("params", attention_params(t["E"], t["kdim"], t["vdim"], self.bias, self.add_bias_kv)),
            ("MACs", attention_macs(t["L"], t["S"], t["keys"], t["E"], t["kdim"], t["vdim"], t["h"], t["d"])),
            (
                "other ops",
                attention_other_ops(t["L"], t["S"], t["keys"], t["E"], t["h"], self.bias, Softmax.ops_per_element),
            ),
        ]

    def notes(self) -> list[str]:
        E, h, d = self.embed_dim, self.num_heads, self.head_dim
        L, S, keys = self.query_length, self.key_length, self.attended
        three = len(self.in_shapes) == 3
        inputs = (
            f"query L x E = {L} x {E}, key S x kdim = {S} x {self.kdim}, value S x vdim = {S} x {self.vdim}"
            if three
            else f"self-attention: query = key = value, L x E = {L} x {E} (S = L, kdim = vdim = E)"
        )
        extra = []
        if self.add_bias_kv:
            extra.append("bias_k and bias_v")
        if self.add_zero_attn:
            extra.append("a key and value of zeros")
        appended = f", after the S projected ones, {' and '.join(extra)}" if extra else ""
        scale = isqrt(d) ** 2 == d
        notes = [
            inputs,
            f"h = {h} heads of d = E / h = {d} features; each query attends to S' = {keys} keys{appended}",
            "MACs: projections L*E*E + S*kdim*E + S*vdim*E, scores q . k h*L*S'*d, weighted sums of the values "
            "h*L*d*S', out_proj L*E*E; as FlopCounterMode counts the module's default call (need_weights=True)",
            f"scores are scaled by 1/sqrt(d) = 1/sqrt({d})"
            + (f" = 1/{isqrt(d)}" if scale else " (irrational: the executor takes it to 50 digits, inside the softmax)")
            + ", then softmax along the keys",
            "the output is the attention output only; the attention weights (PyTorch's second output) are not",
            "no masks (key_padding_mask, attn_mask, is_causal are forward() arguments): every query sees every key",
            "no receptive field: every output position reads every position of the key and value",
        ]
        if self.dropout:
            notes.append(
                f"train: dropout p = {self.dropout} on the attention weights (kept weights scaled by 1/(1 - p)); "
                "eval (the mode counted here): none"
            )
        return notes

    def window(self) -> None:
        return None

    def summary(self) -> str:
        parts = [f"E={self.embed_dim}", f"heads={self.num_heads}"]
        if self.kdim != self.embed_dim or self.vdim != self.embed_dim:
            parts.append(f"kdim={self.kdim} vdim={self.vdim}")
        for name, default in (("dropout", 0.0), ("bias", True), ("add_bias_kv", False), ("add_zero_attn", False)):
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={str(value).lower() if isinstance(value, bool) else value}")
        return " ".join(parts)

    def scratch_elements(self) -> int:
        E, L, keys = self.embed_dim, self.query_length, self.attended
        return 2 * L * E + 2 * keys * E + 4 * self.num_heads * L * keys

    @classmethod
    def examples(cls) -> Examples:
        first = {"num_heads": 2, "batch_first": True}
        return [
            (first, ((3, 4),)),  # self-attention (one input)
            ({"embed_dim": 4, "num_heads": 1, "batch_first": True}, ((2, 4), (3, 4), (3, 4))),
            ({"num_heads": 2, "batch_first": True, "kdim": 3, "vdim": 2}, ((2, 4), (3, 3), (3, 2))),
            ({"num_heads": 2, "batch_first": True, "add_bias_kv": True, "add_zero_attn": True}, ((3, 4),)),
            ({"num_heads": 3, "batch_first": True, "bias": False, "dropout": 0.5}, ((2, 6),)),
        ]

    # -- execution --------------------------------------------------------------------------------------------

    def projection(self, in_features: int, x: Tensor) -> Linear:
        return Linear({"out_features": self.embed_dim, "bias": self.bias}, ((*x.shape[1:-1], in_features),))

    def projection_params(self, params: dict[str, Tensor]) -> list[dict[str, Tensor]]:
        """The query, key and value projections' Linear parameters, sliced from the packed tensors."""
        E = self.embed_dim
        if "in_proj_weight" in self.weights():
            packed = params["in_proj_weight"]
            weights = [
                Tensor((E, E), packed.data[p * E * E : (p + 1) * E * E], packed.denominator, packed.approximate)
                for p in range(3)
            ]
        else:
            weights = [params[f"{name}_proj_weight"] for name in ("q", "k", "v")]
        out = [{"weight": w} for w in weights]
        if self.bias:
            packed = params["in_proj_bias"]
            for p, entry in enumerate(out):
                entry["bias"] = Tensor((E,), packed.data[p * E : (p + 1) * E], packed.denominator, packed.approximate)
        return out

    def out_params(self, params: dict[str, Tensor]) -> dict[str, Tensor]:
        out = {"weight": params["out_proj.weight"]}
        if self.bias:
            out["bias"] = params["out_proj.bias"]
        return out

    def sources(self, inputs: list[Tensor]) -> list[Tensor]:
        return inputs * 3 if len(inputs) == 1 else inputs

    def softmax(self, heads: int, length: int, keys: int) -> Softmax:
        return Softmax({"dim": -1}, ((heads, length, keys),))

    def dropout_layer(self, heads: int, length: int, keys: int) -> Dropout:
        return Dropout({"p": self.dropout}, ((heads, length, keys),))

    def extended(self, t: Tensor, extra: Tensor | None) -> Tensor:
        """N x S x E projected keys (or values) with the learned row `extra` (1 x 1 x E) and a row of zeros after
        each sequence, as add_bias_kv and add_zero_attn ask."""
        if extra is None and not self.add_zero_attn:
            return t
        batch, length, width = t.shape
        denominator, parts, approximate = common([t, extra] if extra is not None else [t])
        data: list[int] = []
        for n in range(batch):
            data.extend(parts[0][n * length * width : (n + 1) * length * width])
            if extra is not None:
                data.extend(parts[1])
            if self.add_zero_attn:
                data.extend([0] * width)
        rows = length + (extra is not None) + self.add_zero_attn
        return Tensor((batch, rows, width), data, denominator, approximate)

    def attend(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Attended:
        query, key, value = self.sources(inputs)
        projections = self.projection_params(params)
        q, k, v = (
            self.projection(x.shape[-1], x).forward([x], p, ctx)
            for x, p in zip((query, key, value), projections, strict=True)
        )
        projected = (q, k, v)
        bias_k, bias_v = (params["bias_k"], params["bias_v"]) if self.add_bias_kv else (None, None)
        k, v = self.extended(k, bias_k), self.extended(v, bias_v)
        batch, length, E = q.shape
        keys, heads, d = k.shape[1], self.num_heads, self.head_dim
        scores: list[int] = []
        for n in range(batch):
            q_rows = _rows(q, n * length * E, length, E)
            k_rows = _rows(k, n * keys * E, keys, E)
            for h in range(heads):
                span = slice(h * d, (h + 1) * d)
                k_head = [row[span] for row in k_rows]
                for q_row in q_rows:
                    q_head = q_row[span]
                    scores.extend(ctx.dot(q_head, k_row) for k_row in k_head)
        p, r, exact = scale = inverse_sqrt(d)
        scaled = Tensor(
            (batch, heads, length, keys),
            [s * p for s in scores],
            q.denominator * k.denominator * r,
            q.approximate or k.approximate or not exact,
        )
        # No scores (an empty sequence): nothing to normalize, and the weighted sums are empty sums.
        weights = self.softmax(heads, length, keys).forward([scaled], {}, ctx) if scores else scaled
        dropped = self.dropout_layer(heads, length, keys).masked(weights, ctx)
        out: list[int] = []
        for n in range(batch):
            v_columns = [v.data[n * keys * E + c : (n + 1) * keys * E : E] for c in range(E)]
            for i in range(length):
                for c in range(E):
                    at = ((n * heads + c // d) * length + i) * keys
                    out.append(ctx.dot(dropped.data[at : at + keys], v_columns[c]))
        mixed = Tensor(
            (batch, length, E), out, dropped.denominator * v.denominator, dropped.approximate or v.approximate
        )
        return Attended(projected, q, k, v, scaled, weights, dropped, mixed, scale)

    def forward(self, inputs: list[Tensor], params: dict[str, Tensor], ctx: Context) -> Tensor:
        attended = self.attend(inputs, params, ctx)
        mixed = attended.heads
        return self.projection(self.embed_dim, mixed).forward([mixed], self.out_params(params), ctx)

    def backward(
        self, inputs: list[Tensor], params: dict[str, Tensor], output: Tensor, grad: Tensor, ctx: Context
    ) -> Gradients:
        from cnncalc.compute import Context

        quiet = Context(ctx.mode, ctx.seed)  # recomputing forward's values counts no MACs of the run
        quiet.layer = ctx.layer
        att = self.attend(inputs, params, quiet)
        q, k, v = att.queries, att.keys, att.values
        batch, length, E = q.shape
        keys, heads, d = k.shape[1], self.num_heads, self.head_dim
        grads: dict[str, Tensor] = {}

        out_proj = self.projection(E, att.heads)
        (grad_mixed,), out_grads = out_proj.backward([att.heads], self.out_params(params), output, grad, quiet)
        grads["out_proj.weight"] = out_grads["weight"]
        if self.bias:
            grads["out_proj.bias"] = out_grads["bias"]
        assert grad_mixed is not None

        # mixed[n, i, c] = sum_j A[n, h(c), i, j] v[n, j, c]: dA = dmixed . v over each head's features,
        # dv[n, j, c] = sum_i A[n, h(c), i, j] dmixed[n, i, c].
        g, a = grad_mixed.data, att.dropped.data
        grad_a = [0] * len(a)
        grad_v = [0] * len(v.data)
        for n in range(batch):
            v_rows = _rows(v, n * keys * E, keys, E)
            for i in range(length):
                g_row = g[(n * length + i) * E : (n * length + i + 1) * E]
                for h in range(heads):
                    span = slice(h * d, (h + 1) * d)
                    g_head = g_row[span]
                    at = ((n * heads + h) * length + i) * keys
                    for j, v_row in enumerate(v_rows):
                        grad_a[at + j] = sum(map(mul, g_head, v_row[span]))
                        weight = a[at + j]
                        if weight:
                            start = (n * keys + j) * E + h * d
                            for t, gt in enumerate(g_head):
                                grad_v[start + t] += weight * gt
        approximate = grad_mixed.approximate or v.approximate or att.dropped.approximate
        shape = att.weights.shape
        grad_dropped = Tensor(shape, grad_a, grad_mixed.denominator * v.denominator, approximate)
        grad_values = Tensor(v.shape, grad_v, grad_mixed.denominator * att.dropped.denominator, approximate)

        grad_weights = self.dropout_layer(heads, length, keys).masked(grad_dropped, quiet)
        grad_scaled: Tensor | None = grad_weights
        if grad_weights.data:
            softmax = self.softmax(heads, length, keys)
            (grad_scaled,), _ = softmax.backward([att.scaled], {}, att.weights, grad_weights, quiet)
        assert grad_scaled is not None
        p, r, _ = att.scale
        s = grad_scaled.data
        s_den = grad_scaled.denominator * r

        # scores[n, h, i, j] = q[n, i, head h] . k[n, j, head h]: dq = ds @ k, dk = ds^T @ q per head.
        grad_q = [0] * len(q.data)
        grad_k = [0] * len(k.data)
        for n in range(batch):
            k_rows = _rows(k, n * keys * E, keys, E)
            q_rows = _rows(q, n * length * E, length, E)
            for h in range(heads):
                span = slice(h * d, (h + 1) * d)
                for i, q_row in enumerate(q_rows):
                    at = ((n * heads + h) * length + i) * keys
                    s_row = [value * p for value in s[at : at + keys]]
                    q_out = (n * length + i) * E + h * d
                    for t in range(d):
                        grad_q[q_out + t] = sum(sj * k_rows[j][h * d + t] for j, sj in enumerate(s_row))
                    q_head = q_row[span]
                    for j, sj in enumerate(s_row):
                        if sj:
                            start = (n * keys + j) * E + h * d
                            for t, qt in enumerate(q_head):
                                grad_k[start + t] += sj * qt
        approximate = grad_scaled.approximate or q.approximate or k.approximate
        grad_queries = Tensor(q.shape, grad_q, s_den * k.denominator, approximate)
        grad_keys = Tensor(k.shape, grad_k, s_den * q.denominator, approximate)

        grad_keys, grads_extra_k = self.unextended(grad_keys, inputs, 1)
        grad_values, grads_extra_v = self.unextended(grad_values, inputs, 2)
        if self.add_bias_kv:
            grads["bias_k"], grads["bias_v"] = grads_extra_k, grads_extra_v  # type: ignore[assignment]

        sources = self.sources(inputs)
        input_grads: list[Tensor] = []
        weight_grads: list[dict[str, Tensor]] = []
        for x, projected, projected_grad, p_params in zip(
            sources, att.projected, (grad_queries, grad_keys, grad_values), self.projection_params(params), strict=True
        ):
            projection = self.projection(x.shape[-1], x)
            (grad_x,), w_grads = projection.backward([x], p_params, projected, projected_grad, quiet)
            assert grad_x is not None
            input_grads.append(grad_x)
            weight_grads.append(w_grads)
        if "in_proj_weight" in self.weights():
            grads["in_proj_weight"] = _stacked([w["weight"] for w in weight_grads], (3 * E, E))
        else:
            for name, w in zip(("q", "k", "v"), weight_grads, strict=True):
                grads[f"{name}_proj_weight"] = w["weight"]
        if self.bias:
            grads["in_proj_bias"] = _stacked([w["bias"] for w in weight_grads], (3 * E,))
        ordered = {name: grads[name] for name in self.weights()}
        if len(inputs) == 1:
            return [add(add(input_grads[0], input_grads[1]), input_grads[2])], ordered
        return list(input_grads), ordered

    def unextended(self, t: Tensor, inputs: list[Tensor], which: int) -> tuple[Tensor, Tensor | None]:
        """The gradient of the S projected rows, and of the learned row (summed over the batch) when add_bias_kv
        appended one; the zero row's gradient goes nowhere."""
        batch, rows, width = t.shape
        length = self.sources(inputs)[which].shape[1]
        if rows == length:
            return t, None
        data: list[int] = []
        learned = [0] * width
        for n in range(batch):
            start = n * rows * width
            data.extend(t.data[start : start + length * width])
            if self.add_bias_kv:
                for c, value in enumerate(t.data[start + length * width : start + (length + 1) * width]):
                    learned[c] += value
        extra = Tensor((1, 1, width), learned, t.denominator, t.approximate) if self.add_bias_kv else None
        return Tensor((batch, length, width), data, t.denominator, t.approximate), extra


def _stacked(parts: list[Tensor], shape: Shape) -> Tensor:
    """Tensors joined one after another (the q, k, v slices of a packed weight), over a common denominator."""
    denominator, numerators, approximate = common(parts)
    return Tensor(shape, [value for data in numerators for value in data], denominator, approximate)


def _divisors_text(number: int, shown: int = 8) -> str:
    """The first divisors of `number` (GroupNorm's bounded search: a huge embed_dim costs what 64 costs)."""
    found, complete = _divisors(number)
    return ", ".join(map(str, found[:shown])) + (", ..." if len(found) > shown or not complete else "")
