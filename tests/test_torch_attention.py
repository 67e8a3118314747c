"""MatMul and MultiheadAttention against PyTorch, on drawn configurations valid and invalid.

Shapes, refusals and counts: for every drawn configuration cnncalc's layer (`make_layer`) and PyTorch run on
batched float64 tensors (batch 2 and 3, the batch axis first). Valid: the same output shape, torch's parameters
and state_dict (names, shapes, order; no buffers), and MACs = FlopCounterMode / 2 per sample. A configuration
torch rejects must raise LayerError naming an argument. Where cnncalc refuses what torch runs, the test asserts
the configuration lies in a documented region and nothing else:
- MatMul of inputs whose ranks per sample differ or are below 2: torch runs some of these, and then (checked by
  autograd) an output of sample 0 reads another sample's values, or the batch axis is not first any more;
- MultiheadAttention with batch_first false (torch reads L x N x E), with a vector per sample (torch reads the
  N x E batch as one unbatched sequence), or with dropout outside [0, 1] (nn.MultiheadAttention does not check it;
  nn.Dropout would refuse it).
Where cnncalc accepts what torch refuses: kdim or vdim not given while the key or value has other features than
embed_dim; cnncalc infers them (as it infers Linear's in_features), and torch given the inferred values agrees.

Values and gradients: the executor's exact forward and backward on drawn rational inputs and weights against
torch's float64 forward and autograd (eval mode, and train mode with dropout 0). Train mode with dropout: p = 1
against torch exactly (every attention weight dropped), 0 < p < 1 by the mask's properties. FlopCounterMode's
documented gaps (need_weights=False, the inference fast path) are pinned on one configuration. Last, the CLI:
`layer`, `summary`, `explain`, `run` and `verify` on small specs, self- and cross-attention and a matmul.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import warnings
from math import prod
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from conftest import run_cli  # noqa: E402
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_layer_cli import check_formulas  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from cnncalc.compute import Context  # noqa: E402
from cnncalc.errors import LayerError  # noqa: E402
from cnncalc.layers import Layer, Shape, make_layer  # noqa: E402
from cnncalc.render.layer import layer_dict  # noqa: E402
from cnncalc.tensor import Tensor  # noqa: E402

nn = torch.nn
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
BATCHES = (2, 3)
TORCH_REJECTS = (AssertionError, ValueError, RuntimeError, TypeError, IndexError)
Args = dict[str, Any]
Shapes = tuple[Shape, ...]


def mostly(valid: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid values four times in five, else a wider range that includes invalid ones."""
    return st.integers(0, 4).flatmap(lambda pick: anything if pick == 0 else valid)


def flops(run: Any) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        run()
    return int(counter.get_total_flops())


def zeros(batch: int, shape: Shape) -> Any:
    return torch.zeros((batch, *shape), dtype=torch.float64)


def as_torch(t: Tensor, grad: bool = False) -> Any:
    return torch.tensor([float(v) for v in t.values()], dtype=torch.float64).reshape(t.shape).requires_grad_(grad)


def assert_close(ours: Tensor, theirs: Any, what: str) -> None:
    mine = torch.tensor([float(v) for v in ours.values()], dtype=torch.float64).reshape(ours.shape)
    assert theirs is not None, f"{what}: torch computed no gradient"
    scale = max(1.0, float(theirs.abs().max())) if theirs.numel() else 1.0
    assert torch.allclose(mine, theirs.reshape(mine.shape), rtol=1e-9, atol=1e-9 * scale), f"{what}: {mine} != {theirs}"


def drawn_tensor(data: st.DataObject, shape: Shape, label: str, limit: int = 6) -> Tensor:
    denominator = data.draw(st.sampled_from([1, 2, 3]), label=f"{label} denominator")
    count = prod(shape)
    numerators = data.draw(
        st.lists(st.integers(-limit, limit), min_size=count, max_size=count), label=f"{label} numerators"
    )
    return Tensor(shape, numerators, denominator)


def params_for(layer: Layer, seed: int, denominator: int) -> dict[str, Tensor]:
    """The weights as the executor generates them (small integers), over `denominator`."""
    params = {}
    for name, shape in layer.weights().items():
        values = layer.initial_values(name, prod(shape), random.Random(f"{seed}:{name}"))
        params[name] = Tensor(shape, values, denominator)
    return params


def loaded(module: Any, params: dict[str, Tensor]) -> Any:
    module.load_state_dict({name: as_torch(t) for name, t in params.items()})
    return module


# -- MatMul: shapes, refusals, MACs -------------------------------------------------------------------------------


@st.composite
def matmul_shapes(draw: st.DrawFn) -> tuple[Shape, Shape]:
    """Two shapes of 0 to 4 axes per sample: mostly matrices of the same rank whose inner sizes agree and whose
    leading sizes are equal or 1; else any ranks, inner sizes and leading sizes."""
    size = st.integers(1, 4)
    rank_a = draw(mostly(st.integers(2, 4), st.integers(0, 4)))
    rank_b = draw(mostly(st.just(rank_a), st.integers(0, 4)))
    a = tuple(draw(st.lists(size, min_size=rank_a, max_size=rank_a)))
    b = list(draw(st.lists(size, min_size=rank_b, max_size=rank_b)))
    if rank_a >= 2 and rank_b >= 2:
        b[-2] = draw(mostly(st.just(a[-1]), size))
        for offset in range(3, min(rank_a, rank_b) + 1):  # leading axes, aligned from the right
            b[-offset] = draw(mostly(st.sampled_from([a[-offset], 1]), size))
    return a, tuple(b)


def torch_matmul_shape(a: Shape, b: Shape, batch: int) -> Shape | Exception:
    try:
        return tuple(torch.matmul(zeros(batch, a), zeros(batch, b)).shape)
    except TORCH_REJECTS as error:
        return error


def mixes_samples(a: Shape, b: Shape, batch: int) -> bool:
    """Whether torch.matmul on the batched tensors lets an output of sample 0 read another sample's values (or
    moves the batch axis away from the front)."""
    x = torch.randn((batch, *a), dtype=torch.float64, requires_grad=True)
    y = torch.randn((batch, *b), dtype=torch.float64, requires_grad=True)
    out = torch.matmul(x, y)
    if out.dim() == 0 or out.shape[0] != batch:
        return True
    out[0].sum().backward()
    return any(t.grad is not None and bool(t.grad[1:].abs().sum() > 0) for t in (x, y))


@settings(**SETTINGS, max_examples=300)
@given(matmul_shapes())
def test_matmul_shapes_macs_and_refusals_agree_with_torch(shapes: tuple[Shape, Shape]) -> None:
    a, b = shapes
    theirs = {batch: torch_matmul_shape(a, b, batch) for batch in BATCHES}
    try:
        ours = make_layer("matmul", {}, a, b)
    except LayerError as error:
        assert error.arg == "inputs", error.message
        runs = [batch for batch, shape in theirs.items() if not isinstance(shape, Exception)]
        if runs:
            assert len(a) != len(b) or min(len(a), len(b)) < 2, f"{a} @ {b}: torch runs it, cnncalc refuses"
            assert all(mixes_samples(a, b, batch) for batch in runs), f"{a} @ {b} keeps samples apart in torch"
            event("refused: torch would mix samples")
        else:
            event("invalid")
        return
    for batch, shape in theirs.items():
        assert shape == (batch, *ours.out_shape), f"{a} @ {b}: cnncalc {ours.out_shape}, torch {shape}"
        counted = flops(lambda: torch.matmul(zeros(batch, a), zeros(batch, b)))  # noqa: B023
        assert counted == 2 * batch * ours.macs(), f"{a} @ {b}: FlopCounterMode {counted}, MACs {ours.macs()}"
    assert not mixes_samples(a, b, 2)
    assert (ours.params(), ours.buffer_count(), ours.other_ops(), ours.window()) == (0, 0, 0, None)
    event("valid")


@pytest.mark.parametrize(
    ("a", "b", "says"),
    [
        ((4,), (4, 3), "input 1 is 4: with the batch axis, torch.matmul would read it as an N x 4 matrix"),
        ((2, 3), (3,), "input 2 is 3"),
        ((), (2, 3), "a vector along the batch axis"),
        ((2, 3, 4), (4, 5), "the batch axis of input 2 would meet"),
        ((2, 3), (4, 5), "input 1's last axis (3) must equal input 2's second-to-last (4)"),
        ((2, 3, 4), (3, 4, 5), "along dim 1 (C) input 1 has 2 and input 2 has 3"),
    ],
)
def test_matmul_refusals_say_why(a: Shape, b: Shape, says: str) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("matmul", {}, a, b)
    assert says in caught.value.message and caught.value.arg == "inputs"
    assert caught.value.hint


def test_matmul_figures_by_hand() -> None:
    layer = make_layer("MatMul", {}, (4, 1, 5, 3), (1, 2, 3, 6))
    assert layer.out_shape == (4, 2, 5, 6) and layer.macs() == 4 * 2 * 5 * 3 * 6
    (what, term), *_ = layer.explain()
    assert what == "MACs" and term.symbols == "b1*b2*n*k*m" and term.numbers == "4*2*5*3*6"
    assert any("input 1 (4 x 1 x 5 x 3) is reused along b2" in note for note in layer.notes())
    assert any("input 2 (1 x 2 x 3 x 6) is reused along b1" in note for note in layer.notes())


@settings(**SETTINGS, max_examples=60)
@given(st.data())
def test_matmul_values_and_gradients_agree_with_torch(data: st.DataObject) -> None:
    a, b = data.draw(matmul_shapes().filter(lambda s: _matmul_valid(*s)), label="shapes")
    layer = make_layer("matmul", {}, a, b)
    batch = data.draw(st.sampled_from(BATCHES), label="batch")
    xs = [drawn_tensor(data, (batch, *shape), f"input {n}") for n, shape in enumerate((a, b), start=1)]
    ctx = Context()
    out = layer.forward(xs, {}, ctx)
    assert ctx.macs == batch * layer.macs() and not out.approximate
    inputs = [as_torch(x, grad=True) for x in xs]
    expected = torch.matmul(*inputs)
    assert_close(out, expected.detach(), "output")
    grad = drawn_tensor(data, out.shape, "grad")
    (expected * as_torch(grad)).sum().backward()
    grads, weights = layer.backward(xs, {}, out, grad, ctx)
    assert weights == {}
    for n, (ours, theirs) in enumerate(zip(grads, inputs, strict=True), start=1):
        assert ours is not None
        assert_close(ours, theirs.grad, f"input {n}")


def _matmul_valid(a: Shape, b: Shape) -> bool:
    try:
        make_layer("matmul", {}, a, b)
    except LayerError:
        return False
    return True


# -- MultiheadAttention: shapes, parameters, refusals, MACs --------------------------------------------------------


@st.composite
def attention_configs(draw: st.DrawFn) -> tuple[Args, Shapes]:
    """nn.MultiheadAttention's arguments and 1 to 3 per-sample input shapes: mostly what torch runs with
    batch_first=True, else a wrong rank, a mismatched size, heads that do not divide embed_dim, 2 inputs,
    batch_first false, or dropout out of range."""
    heads = draw(mostly(st.integers(1, 3), st.integers(-1, 4)))
    head_dim = draw(st.integers(1, 3))
    E = draw(mostly(st.just(heads * head_dim if heads > 0 else 2), st.integers(1, 7)))
    count = draw(mostly(st.sampled_from([1, 3]), st.integers(1, 3)))
    L, S = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kdim = draw(st.sampled_from([E, E, 2, 3]))
    vdim = draw(st.sampled_from([E, E, 1, 4]))
    args: Args = {"num_heads": heads, "batch_first": draw(mostly(st.just(True), st.booleans()))}
    if draw(st.booleans()):
        args["embed_dim"] = draw(mostly(st.just(E), st.integers(-1, 7)))
    for name, values in (
        ("dropout", mostly(st.sampled_from([0.0, 0.1, 0.5, 1.0]), st.sampled_from([-0.5, 1.5]))),
        ("bias", st.booleans()),
        ("add_bias_kv", st.booleans()),
        ("add_zero_attn", st.booleans()),
        ("kdim", mostly(st.sampled_from([None, kdim]), st.integers(1, 5))),
        ("vdim", mostly(st.sampled_from([None, vdim]), st.integers(1, 5))),
    ):
        if draw(st.booleans()):
            args[name] = draw(values)
    query: Shape = (L, E)
    shapes: list[Shape] = [query, (S, kdim), (draw(mostly(st.just(S), st.integers(1, 4))), vdim)][:count]
    if draw(st.integers(0, 5)) == 0:  # one input of another rank per sample
        which = draw(st.integers(0, count - 1))
        shapes[which] = (shapes[which][-1],) if draw(st.booleans()) else (1, *shapes[which])
    return args, tuple(shapes)


def torch_attention(args: Args, shapes: Shapes) -> Any:
    """nn.MultiheadAttention from the spec's arguments; embed_dim, when the spec leaves it to inference, is the
    query's last axis (as cnncalc infers it)."""
    given = dict(args)
    given.setdefault("embed_dim", shapes[0][-1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.MultiheadAttention(**given).double()


def call(module: Any, tensors: list[Any], **options: Any) -> Any:
    """The module on one input read three times (self-attention) or on query, key and value: its first output."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return module(*(tensors * 3 if len(tensors) == 1 else tensors), **options)[0]


def run_torch_attention(args: Args, shapes: Shapes, batch: int) -> Shape | Exception:
    try:
        module = torch_attention(args, shapes).eval()
        return tuple(call(module, [zeros(batch, shape) for shape in shapes]).shape)
    except TORCH_REJECTS as error:
        return error


def refused_on_purpose(args: Args, shapes: Shapes) -> str | None:
    """The documented reason cnncalc refuses a configuration that torch runs, if it has one."""
    if not args.get("batch_first", False):
        return "batch_first false"
    if any(len(shape) == 1 for shape in shapes):
        return "a vector per sample"
    if not 0 <= args.get("dropout", 0.0) <= 1:
        return "dropout outside [0, 1]"
    return None


def attention_macs_counted(module: Any, shapes: Shapes, batch: int, **options: Any) -> int:
    tensors = [torch.randn((batch, *shape), dtype=torch.float64) for shape in shapes]
    return flops(lambda: call(module, tensors, **options))


@settings(**SETTINGS, max_examples=400)
@given(attention_configs())
def test_attention_shapes_parameters_macs_and_refusals_agree_with_torch(config: tuple[Args, Shapes]) -> None:
    args, shapes = config
    theirs = {batch: run_torch_attention(args, shapes, batch) for batch in BATCHES}
    try:
        ours = make_layer("multiheadattention", args, *shapes)
    except LayerError as error:
        assert error.arg, f"the error should name its argument: {error.message}"
        if all(isinstance(shape, Exception) for shape in theirs.values()):
            event(f"invalid: {error.arg}")
            return
        reason = refused_on_purpose(args, shapes)
        assert reason, f"cnncalc refuses {args} on {shapes}, which torch runs: {error.message}"
        event(f"refused on purpose: {reason}")
        return
    if any(isinstance(shape, Exception) for shape in theirs.values()):
        # Only kdim and vdim inferred from the key and value, where torch wants them given: torch given them agrees.
        assert (args.get("kdim") is None and ours.kdim != ours.embed_dim) or (
            args.get("vdim") is None and ours.vdim != ours.embed_dim
        ), f"torch rejects {args} on {shapes}: {theirs}"
        args = {**args, "kdim": ours.kdim, "vdim": ours.vdim}
        theirs = {batch: run_torch_attention(args, shapes, batch) for batch in BATCHES}
        event("kdim or vdim inferred")
    else:
        event("valid")
    for batch, shape in theirs.items():
        assert shape == (batch, *ours.out_shape), f"{args} on {shapes}: cnncalc {ours.out_shape}, torch {shape}"
    module = torch_attention(args, shapes)
    state = [(name, tuple(value.shape)) for name, value in module.state_dict().items()]
    assert state == list(ours.weights().items())
    assert [name for name, _ in module.named_parameters()] == [name for name, _ in state]
    assert ours.params() == sum(p.numel() for p in module.parameters())
    assert ours.buffers() == {} and list(module.buffers()) == []
    for mode in ("train", "eval"):  # the default call, need_weights=True; grad enabled: no fast path
        counted = attention_macs_counted(module.train(mode == "train"), shapes, 2)
        assert counted == 2 * 2 * ours.macs(), f"{args} on {shapes} in {mode}: {counted} vs MACs {ours.macs()}"
    assert ours.window() is None


def test_flop_counter_mode_counts_the_default_call_and_misses_the_fused_paths() -> None:
    """What docs/conventions.md says of FlopCounterMode (torch 2.13, CPU): the default call counts the projections
    and both attention products; need_weights=False only the projections (the fused scaled_dot_product_attention
    kernel has no formula on the CPU); the inference fast path (eval mode, no grad) nothing at all."""
    layer = make_layer("multiheadattention", {"num_heads": 4, "batch_first": True}, (10, 64))
    module = torch_attention({"num_heads": 4, "batch_first": True}, ((10, 64),)).eval()
    shapes = ((10, 64),)
    projections = 4 * 10 * 64 * 64
    assert layer.macs() == projections + 2 * 10 * 10 * 64 == 176_640
    assert attention_macs_counted(module, shapes, 1) == 2 * layer.macs()
    assert attention_macs_counted(module.train(), shapes, 1) == 2 * layer.macs()
    assert attention_macs_counted(module, shapes, 1, need_weights=False) == 2 * projections
    module.eval()
    with torch.no_grad():
        assert attention_macs_counted(module, shapes, 1) == 0


@pytest.mark.parametrize(
    ("args", "shapes", "arg", "says"),
    [
        ({"num_heads": 2}, ((3, 4),), "batch_first", "write batch_first: true"),
        ({"num_heads": 3, "batch_first": True}, ((3, 4),), "num_heads", "num_heads that divide 4: 1, 2, 4"),
        ({"num_heads": 1, "batch_first": True}, ((3, 4), (3, 4)), "inputs", "inputs: [query, memory, memory]"),
        ({"num_heads": 1, "batch_first": True}, ((4,),), "inputs", "1 x 4 for one position"),
        ({"num_heads": 1, "batch_first": True}, ((2, 3, 4),), "inputs", "flatten"),
        ({"num_heads": 1, "batch_first": True, "embed_dim": 8}, ((3, 4),), "embed_dim", "set it to 4"),
        ({"num_heads": 1, "batch_first": True, "kdim": 3}, ((3, 4),), "kdim", "set it to 4"),
        ({"num_heads": 1, "batch_first": True, "vdim": 2}, ((3, 4), (5, 3), (5, 6)), "vdim", "set it to 6"),
        ({"num_heads": 1, "batch_first": True}, ((3, 4), (5, 4), (6, 4)), "inputs", "5 vs 6"),
    ],
)
def test_attention_refusals_say_why(args: Args, shapes: Shapes, arg: str, says: str) -> None:
    with pytest.raises(LayerError) as caught:
        make_layer("multiheadattention", args, *shapes)
    error = caught.value
    assert error.arg == arg and says in f"{error.message} {error.hint}", (error.message, error.hint)


def test_attention_figures_and_formulas_by_hand() -> None:
    args = {"num_heads": 2, "batch_first": True, "add_bias_kv": True, "add_zero_attn": True}
    layer = make_layer("MultiheadAttention", args, (5, 8), (7, 3), (7, 6))
    E, L, S, keys = 8, 5, 7, 9
    assert layer.kdim == 3 and layer.vdim == 6 and layer.out_shape == (5, 8)
    assert layer.params() == (E + 3 + 6) * E + E * E + 3 * E + E + 2 * E
    assert layer.macs() == L * E * E + S * 3 * E + S * 6 * E + 2 * 2 * L * keys * 4 + L * E * E
    assert layer.other_ops() == (2 * L + 2 * S) * E + L * E + 3 * 2 * L * keys
    formulas = dict(layer.explain())
    assert formulas["MACs"].symbols == "L*E*E + S*kdim*E + S*vdim*E + h*L*(S + 1 + 1)*d + h*L*d*(S + 1 + 1) + L*E*E"
    check_formulas(layer_dict(layer, "chw"))
    assert any("scaled by 1/sqrt(d) = 1/sqrt(4) = 1/2" in note for note in layer.notes())


# -- MultiheadAttention: values and gradients through the executor -------------------------------------------------


@st.composite
def runnable_attention(draw: st.DrawFn) -> tuple[Args, Shapes]:
    heads = draw(st.integers(1, 2))
    E = heads * draw(st.integers(1, 4))  # head widths 1 and 4 scale exactly, 2 and 3 by an irrational 1/sqrt(d)
    args: Args = {
        "num_heads": heads,
        "batch_first": True,
        "bias": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
    }
    L = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return args, ((L, E),)
    S = draw(st.integers(1, 3))
    return args, ((L, E), (S, draw(st.sampled_from([E, 1, 3]))), (S, draw(st.sampled_from([E, 2]))))


def torch_module_for(layer: Layer, params: dict[str, Tensor], mode: str) -> Any:
    args = {name: getattr(layer, name) for name in ("embed_dim", "num_heads", "dropout", "bias", "add_bias_kv")}
    args.update(add_zero_attn=layer.add_zero_attn, kdim=layer.kdim, vdim=layer.vdim, batch_first=True)
    module = nn.MultiheadAttention(**args).double()
    return loaded(module, params).train(mode == "train")


@settings(**SETTINGS, max_examples=60)
@given(runnable_attention(), st.sampled_from(["eval", "train"]), st.data())
def test_attention_values_and_gradients_agree_with_torch(config: tuple[Args, Shapes], mode: str, data: Any) -> None:
    args, shapes = config
    layer = make_layer("multiheadattention", args, *shapes)
    batch = data.draw(st.sampled_from(BATCHES), label="batch")
    xs = [drawn_tensor(data, (batch, *shape), f"input {n}", limit=4) for n, shape in enumerate(shapes)]
    params = params_for(layer, data.draw(st.integers(0, 99), label="seed"), data.draw(st.sampled_from([1, 2])))
    ctx = Context(mode=mode, seed=5)
    ctx.layer = "attention"
    out = layer.forward(xs, params, ctx)
    assert out.shape == (batch, *layer.out_shape) and ctx.macs == batch * layer.macs()

    module = torch_module_for(layer, params, mode)
    inputs = [as_torch(x, grad=True) for x in xs]
    expected = call(module, inputs)
    assert_close(out, expected.detach(), "output")
    grad = drawn_tensor(data, out.shape, "grad", limit=3)
    (expected * as_torch(grad)).sum().backward()
    input_grads, weight_grads = layer.backward(xs, params, out, grad, ctx)
    assert list(weight_grads) == list(layer.weights())
    for n, (ours, theirs) in enumerate(zip(input_grads, inputs, strict=True)):
        assert ours is not None and ours.shape == xs[n].shape
        assert_close(ours, theirs.grad, f"input {n}")
    named = dict(module.named_parameters())
    for name, ours in weight_grads.items():
        assert_close(ours, named[name].grad, name)
    event(f"{len(shapes)} input(s), head width {layer.head_dim}, {mode}")


def test_exact_where_the_scale_is_rational_and_every_score_equal() -> None:
    """Head width 4 scales by exactly 1/2; rows of equal scores give softmax's exact 1/S': the output is then
    exact, as PyTorch's would be in exact arithmetic (here: the mean of the values, projected)."""
    layer = make_layer("multiheadattention", {"num_heads": 1, "batch_first": True}, (2, 4), (3, 4), (3, 4))
    params = {name: Tensor(shape, [1] * prod(shape)) for name, shape in layer.weights().items()}
    query = Tensor((1, 2, 4), [1, 0, -1, 2, 0, 0, 0, 0])
    key = value = Tensor((1, 3, 4), [1, 2, 3, 4] * 3)  # equal keys: equal scores, weights 1/3 each
    ctx = Context()
    out = layer.forward([query, key, value], params, ctx)
    module = torch_module_for(layer, params, "eval")
    expected = call(module, [as_torch(query), as_torch(key), as_torch(value)])
    assert_close(out, expected.detach(), "output")
    # Each value row projects to 1 + 2 + 3 + 4 + 1 = 11 per feature, their mean is 11, out_proj gives 4*11 + 1.
    assert out.values() == [45] * 8 and not out.approximate


def test_train_mode_dropout_one_leaves_only_the_output_bias_as_torch_does() -> None:
    args = {"num_heads": 2, "batch_first": True, "dropout": 1.0}
    layer = make_layer("multiheadattention", args, (3, 4))
    params = params_for(layer, 1, 1)
    x = Tensor((2, 3, 4), [random.Random(i).randint(-3, 3) for i in range(24)])
    ctx = Context(mode="train", seed=2)
    ctx.layer = "attention"
    out = layer.forward([x], params, ctx)
    bias = params["out_proj.bias"].values()
    assert out.values() == bias * 6  # exactly, though marked approximate (the weights dropped were)
    module = torch_module_for(layer, params, "train")
    assert_close(out, call(module, [as_torch(x)]).detach(), "output")


def test_train_mode_dropout_masks_the_attention_weights_reproducibly() -> None:
    layer = make_layer("multiheadattention", {"num_heads": 2, "batch_first": True, "dropout": 0.5}, (4, 4))
    params = params_for(layer, 3, 1)
    x = Tensor((2, 4, 4), [random.Random(i).randint(-3, 3) for i in range(32)])

    def attended(seed: int) -> Any:
        contexts = [Context(mode="train", seed=seed) for _ in range(2)]
        for ctx in contexts:
            ctx.layer = "attention"
        return layer.attend([x], params, contexts[0]), layer.forward([x], params, contexts[1]), contexts[1]

    first, out, ctx = attended(7)
    again, out_again, _ = attended(7)
    assert out.values() == out_again.values() and ctx.macs == 2 * layer.macs()
    weights, dropped = first.weights.values(), first.dropped.values()
    kept = [d != 0 for d in dropped]
    assert all(d == 0 or d == 2 * w for w, d in zip(weights, dropped, strict=True))
    assert 0 < sum(kept) < len(kept)
    assert attended(8)[0].dropped.values() != dropped  # another seed, another mask
    eval_ctx = Context(mode="eval")
    assert layer.attend([x], params, eval_ctx).dropped.values() == weights


# -- the command line ----------------------------------------------------------------------------------------------

SELF_ATTENTION = """\
name: self_attention
input: [10, 8]
layers:
  - linear: {out_features: 8}
  - multiheadattention: {num_heads: 2, batch_first: true}
  - add: {inputs: [linear_1, multiheadattention_1]}
"""

CROSS_ATTENTION = """\
name: cross_attention
input: [6, 8]
layers:
  - linear: {out_features: 8, name: query}
  - linear: {out_features: 3, name: memory, inputs: [input]}
  - linear: {out_features: 5, name: value, inputs: [input]}
  - multiheadattention: {num_heads: 4, batch_first: true, add_bias_kv: true, inputs: [query, memory, value]}
"""

SCORES = """\
name: scores
input: [8, 8]
layers:
  - linear: {out_features: 8, name: q}
  - linear: {out_features: 4, name: k, inputs: [input]}
  - matmul: {inputs: [q, k]}
  - softmax: {dim: -1}
"""


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, text in (("self", SELF_ATTENTION), ("cross", CROSS_ATTENTION), ("scores", SCORES)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths[name] = str(path)
    return paths


def test_layer_command_for_multiheadattention() -> None:
    args = ("layer", "multiheadattention", "embed_dim=64", "num_heads=4", "batch_first=true", "--input", "10x64")
    result = run_cli(*args)
    assert result.code == 0, result.err
    assert "params           16,640" in result.out and "MACs             176,640" in result.out
    data = json.loads(run_cli(*args, "--format", "json").out)
    assert data["weight_shapes"] == {
        "in_proj_weight": [192, 64],
        "in_proj_bias": [192],
        "out_proj.weight": [64, 64],
        "out_proj.bias": [64],
    }
    assert data["receptive_field"] is None
    check_formulas(data)


def test_layer_command_refuses_batch_first_false() -> None:
    result = run_cli("layer", "multiheadattention", "num_heads=4", "--input", "10x64")
    assert result.code == 2 and "Traceback" not in result.err
    assert "batch_first" in result.err and "write batch_first: true" in result.err


def test_summary_explain_run_and_verify_on_attention_specs(specs: dict[str, str]) -> None:
    expected = {
        "self": make_layer("multiheadattention", {"num_heads": 2, "batch_first": True}, (10, 8)),
        "cross": make_layer(
            "multiheadattention",
            {"num_heads": 4, "batch_first": True, "add_bias_kv": True},
            (6, 8),
            (6, 3),
            (6, 5),
        ),
        "scores": make_layer("matmul", {}, (8, 8), (8, 4)),
    }
    for name, path in specs.items():
        summary = run_cli("summary", path, "--format", "json")
        assert summary.code == 0, summary.err
        layers = {layer["type"]: layer for layer in json.loads(summary.out)["layers"]}
        ours = expected[name]
        row = layers[ours.kind]
        assert (row["params"], row["macs"], row["output_shape"]) == (ours.params(), ours.macs(), list(ours.out_shape))
        assert row["receptive_field"] is None
        explained = run_cli("explain", path)
        assert explained.code == 0 and f"MACs: {dict(ours.explain())['MACs'].symbols} = " in explained.out
        ran = run_cli("run", path, "--seed", "3")
        assert ran.code == 0, ran.err
        verified = run_cli("verify", path)
        assert verified.code == 0, verified.out + verified.err
        assert "agree" in verified.out


def test_a_spec_error_points_at_the_layer(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "input: [6, 8]\nlayers:\n  - linear: {out_features: 4}\n  - matmul: {inputs: [input, linear_1]}\n",
        encoding="utf-8",
    )
    result = run_cli("summary", str(path))
    assert result.code == 2 and "Traceback" not in result.err
    assert "bad.yaml:4:" in result.err and "(#2, MatMul)" in result.err and "hint:" in result.err


# -- docs/tools-disagree.md's attention table, measured --------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "tools-disagree.md"
PEER_MODULES = {"fvcore": "fvcore.nn", "torchinfo": "torchinfo", "ptflops": "ptflops", "thop": "thop"}
E, HEADS, POSITIONS = 64, 4, 10


class Attention(nn.Module):  # type: ignore[misc]
    """The measured modules: self-attention on x, or cross-attention with a narrower key and value cut from x."""

    def __init__(self, kdim: int | None, need_weights: bool) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(E, HEADS, batch_first=True, kdim=kdim, vdim=kdim and kdim // 2)
        self.kdim, self.need_weights = kdim, need_weights

    def forward(self, x: Any) -> Any:
        if self.kdim is None:
            return self.mha(x, x, x, need_weights=self.need_weights)[0]
        key, value = x[..., : self.kdim], x[..., : self.kdim // 2]
        return self.mha(x, key, value, need_weights=self.need_weights)[0]


class MatrixProduct(nn.Module):  # type: ignore[misc]
    def forward(self, x: Any) -> Any:
        return torch.matmul(x, x.transpose(1, 2))


def documented_cases() -> dict[str, tuple[Any, Layer]]:
    """The table's rows: the torch module measured, and cnncalc's layer for it."""
    sample = (POSITIONS, E)
    mha = {"num_heads": HEADS, "batch_first": True}
    cross = ((POSITIONS, E), (POSITIONS, 32), (POSITIONS, 16))
    return {
        "self-attention": (Attention(None, True), make_layer("multiheadattention", mha, sample)),
        "self-attention, `need_weights=False`": (Attention(None, False), make_layer("multiheadattention", mha, sample)),
        "cross-attention, kdim 32, vdim 16": (Attention(32, True), make_layer("multiheadattention", mha, *cross)),
        "cross-attention, kdim 32, vdim 16, `need_weights=False`": (
            Attention(32, False),
            make_layer("multiheadattention", mha, *cross),
        ),
        "`torch.matmul`": (MatrixProduct(), make_layer("matmul", {}, sample, sample[::-1])),
    }


def documented_rows() -> dict[str, dict[str, int]]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Attention and matrix products") :]
    section = section[: section.index("\n## ")]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = {name: int(cell.replace(",", "")) for name, cell in zip(header[1:], cells[1:], strict=True)}
    return rows


def measured(peer: str, model: Any, x: Any) -> int:
    """The peer's MAC figure for the model on x, the peers' printing and warnings silenced."""
    with contextlib.ExitStack() as quiet:
        quiet.enter_context(warnings.catch_warnings())
        quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
        quiet.enter_context(contextlib.redirect_stderr(io.StringIO()))
        warnings.simplefilter("ignore")
        if peer == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(model, (x,))
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            return int(analysis.total())
        if peer == "torchinfo":
            from torchinfo import summary

            return int(summary(model, input_data=x, verbose=0).total_mult_adds)
        if peer == "ptflops":
            from ptflops import get_model_complexity_info

            macs, _ = get_model_complexity_info(
                model, tuple(x.shape[1:]), as_strings=False, backend="pytorch", print_per_layer_stat=False
            )
            return int(macs)
        from thop import profile

        return int(profile(model, inputs=(x,), verbose=False)[0])


def test_documented_attention_figures_are_cnncalcs_and_flop_counter_modes() -> None:
    rows, cases = documented_rows(), documented_cases()
    assert list(rows) == list(cases)
    for label, (model, layer) in cases.items():
        x = torch.randn(1, POSITIONS, E)
        assert rows[label]["cnncalc `macs`"] == layer.macs(), label
        assert rows[label]["FlopCounterMode / 2"] * 2 == flops(lambda: model.eval()(x)), label  # noqa: B023


@pytest.mark.parametrize("peer", list(PEER_MODULES))
def test_documented_attention_figures_of_the_peers_are_measured(peer: str) -> None:
    pytest.importorskip(PEER_MODULES[peer])
    rows = documented_rows()
    for label, (model, _) in documented_cases().items():
        assert rows[label][peer] == measured(peer, model.eval(), torch.randn(1, POSITIONS, E)), (peer, label)
