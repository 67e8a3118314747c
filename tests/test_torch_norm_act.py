"""The normalization, activation and dropout kinds against torch.nn, on thousands of drawn configurations.

For each configuration, valid or not, ours is `make_layer(kind, args, in_shape)` and torch's is the torch.nn class
of the same name with the same arguments (the inferred num_features / num_channels filled in from the input when
not given), run in eval mode (the analyzers count inference) on a float64 tensor of shape (1, *in_shape). Then:
- ours raises LayerError if and only if torch raises, at construction or at forward;
- when valid: the output shapes are equal, the parameter and buffer counts are torch's (sum of numel; the 0-d
  num_batches_tracked counts 1), the state_dict names and shapes are our weights() and buffers(), and the module
  built from our parsed arguments (tests/torch_graph.py, as the zoo tests build networks) has the same state;
- a warning from torch is matched by a warning of ours;
- the receptive-field window: the input gradient of one output position lies inside the window, and covers
  the whole axis where the window says so.

Deliberate divergences, each recognized below and checked for what it claims:
- a given num_features / num_channels that differs from the input's is an error here, as the contract says,
  while torch, where it allocates nothing of that size (no affine weights, no running statistics), only warns
  (InstanceNorm) or ignores it (BatchNorm, GroupNorm); the rest of such a configuration must still agree;
- InstanceNormNd on a per-sample input of N axes: torch reads the batched (1, ...) tensor as one unbatched sample
  whose channels are the batch; cnncalc has no such reading and rejects it;
- batch-dependent validity, which per-sample rules cannot mirror at batch 1: BatchNorm without running statistics
  on one value per channel (torch rejects batch 1, accepts 2: we warn and compare at batch 2), and LayerNorm /
  RMSNorm over the batch axis (torch accepts it only for the one batch size equal to normalized_shape[0]: we reject
  it and compare at another batch size).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from math import prod
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_kinds_norm_act import CASES, ERRORS, KINDS, Bad, Case  # noqa: E402
from torch_graph import layer_arguments  # noqa: E402

from cnncalc.errors import LayerError  # noqa: E402
from cnncalc.layers import Shape, make_layer  # noqa: E402
from cnncalc.layers.base import Layer  # noqa: E402

nn = torch.nn
INFERRED = ("num_features", "num_channels")  # input sizes: filled in from the channel axis for torch
SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@dataclass
class Outcome:
    """What a configuration gives: an error, or shapes and state; and the warnings on the way."""

    error: str | None = None
    arg: str | None = None  # ours only: the argument the LayerError names
    out_shape: Shape = ()
    params: int = 0
    buffers: int = 0
    state: dict[str, Shape] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    layer: Layer | None = None


def ours(kind: str, args: dict[str, Any], in_shape: Shape) -> Outcome:
    try:
        layer = make_layer(kind, args, in_shape)
    except LayerError as error:
        return Outcome(error=error.render(), arg=error.arg)
    return Outcome(
        out_shape=layer.out_shape,
        params=layer.params(),
        buffers=layer.buffer_count(),
        state={**layer.weights(), **layer.buffers()},
        warnings=layer.warnings,
        layer=layer,
    )


def torch_arguments(kind: str, args: dict[str, Any], in_shape: Shape) -> dict[str, Any]:
    """Our arguments as torch's constructor takes them: the input size filled in where torch requires it."""
    accepted = inspect.signature(getattr(nn, kind)).parameters
    filled = dict(args)
    for name in INFERRED:
        if name in accepted and filled.get(name) is None:
            filled[name] = in_shape[0]
    return filled


def state_of(module: Any) -> dict[str, Shape]:
    return {name: tuple(value.shape) for name, value in module.state_dict().items()}


def theirs(kind: str, args: dict[str, Any], in_shape: Shape, batch: int = 1) -> Outcome:
    """torch.nn's module in eval mode, on a zero float64 tensor of shape (batch, *in_shape)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            module = getattr(nn, kind)(**torch_arguments(kind, args, in_shape)).double().eval()
            with torch.no_grad():
                output = module(torch.zeros((batch, *in_shape), dtype=torch.float64))
        except Exception as error:  # torch raises ValueError, RuntimeError, IndexError, AssertionError, ...
            return Outcome(error=f"{type(error).__name__}: {error}", warnings=[str(w.message) for w in caught])
    assert output.shape[0] == batch
    return Outcome(
        out_shape=tuple(output.shape[1:]),
        params=sum(p.numel() for p in module.parameters()),
        buffers=sum(b.numel() for b in module.buffers()),
        state=state_of(module),
        warnings=[str(w.message) for w in caught],
    )


def agree(mine: Outcome, torch_says: Outcome, what: str) -> None:
    """The same verdict; when valid, the same shapes, counts and state; torch's warnings matched by ours."""
    assert (mine.error is None) == (torch_says.error is None), (
        f"{what}: ours {mine.error or 'accepts it'}; torch {torch_says.error or 'accepts it'}"
    )
    if mine.error is not None:
        return
    assert mine.out_shape == torch_says.out_shape, what
    assert mine.params == torch_says.params, what
    assert mine.buffers == torch_says.buffers, what
    assert mine.state == torch_says.state, what
    assert mine.layer is not None
    # The zoo tests build torch modules from our parsed arguments: they must give the very same module.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # those of the first construction, seen above
        rebuilt = getattr(nn, mine.layer.kind)(**layer_arguments(mine.layer))
    assert state_of(rebuilt) == mine.state, what
    if torch_says.warnings:
        assert mine.warnings, f"{what}: torch warns {torch_says.warnings}, we do not"


def check(kind: str, args: dict[str, Any], in_shape: Shape) -> str:
    """Ours against torch for one configuration, valid or invalid, minding the deliberate divergences.
    Returns what the configuration exercised, for hypothesis's statistics."""
    what = f"{kind}({args}) on {in_shape}"
    mine = ours(kind, args, in_shape)
    dims = int(kind[-2]) if kind.startswith("InstanceNorm") else 0
    if dims and len(in_shape) == dims:
        # torch would read (1, *in_shape) as one unbatched sample: we reject the input (if nothing else first).
        assert mine.error is not None, what
        return "divergence: unbatched reading"
    wrong_size = [n for n in INFERRED if args.get(n) is not None and args[n] != in_shape[0]]
    torch_says = theirs(kind, args, in_shape)
    if wrong_size and mine.arg in wrong_size and torch_says.error is None:
        # torch tolerates a wrong input size only where it allocates nothing of that size: no affine weights
        # and no running statistics. It warns about it for InstanceNorm, and says nothing otherwise.
        assert not args.get("affine", kind.startswith(("BatchNorm", "GroupNorm"))), what
        assert not args.get("track_running_stats", kind.startswith("BatchNorm")), what
        assert torch_says.warnings or not kind.startswith("InstanceNorm"), what
        check(kind, {k: v for k, v in args.items() if k not in wrong_size}, in_shape)
        return "divergence: unused input size"
    if kind.startswith("BatchNorm") and mine.layer is not None and mine.layer.input_stats:
        if prod(in_shape[1:]) == 1:
            # One value per channel per sample, from batch statistics: torch rejects batch 1 only.
            assert torch_says.error is not None and "more than 1 value" in torch_says.error, what
            assert mine.warnings, what
            torch_says = theirs(kind, args, in_shape, batch=2)
            agree(mine, torch_says, what)
            return "divergence: batch statistics of one value"
    if kind in ("LayerNorm", "RMSNorm"):
        shape = args.get("normalized_shape")
        if isinstance(shape, list) and len(shape) == len(in_shape) + 1 and mine.error is not None:
            # Over the batch axis: torch accepts only a batch of normalized_shape[0]; any other batch fails.
            assert mine.arg == "normalized_shape", what
            batch = shape[0] + 1 if shape[0] >= 1 else 1
            agree(mine, theirs(kind, args, in_shape, batch=batch), what)
            return "divergence: over the batch axis"
    agree(mine, torch_says, what)
    return "invalid" if mine.error else "valid, warned" if mine.warnings else "valid"


# -- the tables of tests/test_kinds_norm_act.py, against torch --------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_table_case(case: Case) -> None:
    kind = make_layer(case.kind, case.args, case.in_shape).kind  # the torch.nn name, whatever the case
    assert ours(kind, case.args, case.in_shape).error is None
    check(kind, case.args, case.in_shape)


# The table's errors that torch accepts, and why (each a deliberate divergence, or spec typing).
TORCH_ACCEPTS = {
    "bn-affine-type": "Python takes any truthy value for a bool; the spec wants true or false",
    "relu-inplace-type": "Python takes any truthy value for a bool; the spec wants true or false",
    "in1d-num-features": "torch only warns about num_features when affine is false",
    "gn-num-channels": "torch does not use num_channels when affine is false",
    "bn-num-features-unused": "torch does not use num_features without affine and running statistics",
    "in2d-unbatched-reading": "torch reads the batched tensor as one unbatched sample",
    "ln-batch-axis": "torch normalizes over the batch axis when the batch size is normalized_shape[0]",
}


@pytest.mark.parametrize("bad", ERRORS, ids=[b.id for b in ERRORS])
def test_table_error(bad: Bad) -> None:
    kind = next(k for k in KINDS if k.lower() == bad.kind.lower())
    torch_says = theirs(kind, bad.args, bad.in_shape)
    if bad.id in TORCH_ACCEPTS:
        assert torch_says.error is None, f"torch now rejects it too: drop '{bad.id}' from TORCH_ACCEPTS"
    else:
        assert torch_says.error is not None, f"{bad.id}: torch accepts {bad.kind}({bad.args}) on {bad.in_shape}"


# -- drawn configurations -------------------------------------------------------------------------------------------

CHANNEL_RANKS = {
    "BatchNorm1d": (1, 2),
    "BatchNorm2d": (3,),
    "BatchNorm3d": (4,),
    "InstanceNorm1d": (2,),
    "InstanceNorm2d": (3,),
    "InstanceNorm3d": (4,),
    "Dropout1d": (2,),
    "Dropout2d": (3,),
    "Dropout3d": (4,),
}

EPS = st.sampled_from([1e-5, 1e-3, 0.1, 0, 0.0, -1e-5, -1.0])
REAL = st.floats(-10, 10, allow_nan=False) | st.sampled_from([0, 1, -1, 0.25])
P = st.floats(-0.5, 1.5, allow_nan=False) | st.sampled_from([0, 1, 0.0, 1.0, 0.5, 1.0000001, -0.0])
INPLACE = {"inplace": st.booleans()}


@st.composite
def shapes(draw: st.DrawFn, kind: str) -> Shape:
    """Mostly of a rank the kind takes, often with axes of 1 (the edge cases), sometimes of any rank."""
    ranks = CHANNEL_RANKS.get(kind, (1, 2, 3, 4))
    rank = draw(st.sampled_from(ranks) | st.integers(1, 5))
    return tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))


def input_size(in_shape: Shape) -> st.SearchStrategy[Any]:
    """num_features / num_channels: right, wrong, or nonsense."""
    return st.sampled_from([None, in_shape[0]]) | st.integers(-1, 6)


def normalized_shapes(in_shape: Shape) -> st.SearchStrategy[Any]:
    rank = len(in_shape)
    suffix = st.integers(1, rank).map(lambda k: list(in_shape[rank - k :]))
    same_length = suffix.flatmap(lambda s: st.lists(st.integers(1, 4), min_size=len(s), max_size=len(s)))
    over_batch = st.integers(1, 3).map(lambda lead: [lead, *in_shape])
    return st.one_of(
        suffix,
        suffix,
        st.just(in_shape[-1]),
        same_length,
        over_batch,
        st.lists(st.integers(-1, 4), max_size=4),
        st.integers(-1, 5),
    )


def group_counts(in_shape: Shape) -> st.SearchStrategy[int]:
    divisors = [g for g in range(1, in_shape[0] + 1) if in_shape[0] % g == 0]
    return st.sampled_from(divisors) | st.integers(-1, 6)


def channel_norm(in_shape: Shape) -> dict[str, st.SearchStrategy[Any]]:
    return {
        "num_features": input_size(in_shape),
        "eps": EPS,
        "momentum": st.sampled_from([0.1, 0.0, 1.0, None, 0.5]),
        "affine": st.booleans(),
        "track_running_stats": st.booleans(),
        "bias": st.booleans(),
    }


def optional_arguments(kind: str, in_shape: Shape) -> dict[str, st.SearchStrategy[Any]]:
    if kind.startswith(("BatchNorm", "InstanceNorm")):
        return channel_norm(in_shape)
    return {
        "LayerNorm": {"eps": EPS, "elementwise_affine": st.booleans(), "bias": st.booleans()},
        "RMSNorm": {"eps": EPS | st.none(), "elementwise_affine": st.booleans()},
        "GroupNorm": {"num_channels": input_size(in_shape), "eps": EPS, "affine": st.booleans(), "bias": st.booleans()},
        "Dropout": {"p": P, **INPLACE},
        "Dropout1d": {"p": P, **INPLACE},
        "Dropout2d": {"p": P, **INPLACE},
        "Dropout3d": {"p": P, **INPLACE},
        "ReLU": INPLACE,
        "ReLU6": INPLACE,
        "LeakyReLU": {"negative_slope": REAL, **INPLACE},
        "PReLU": {"num_parameters": st.sampled_from([1, in_shape[0]]) | st.integers(-1, 6), "init": REAL},
        "ELU": {"alpha": REAL, **INPLACE},
        "GELU": {"approximate": st.sampled_from(["none", "tanh", "Tanh", "exact", ""])},
        "SiLU": INPLACE,
        "Sigmoid": {},
        "Tanh": {},
        "Hardtanh": {
            "min_val": REAL,
            "max_val": REAL,
            "min_value": REAL | st.none(),
            "max_value": REAL | st.none(),
            **INPLACE,
        },
        "Hardswish": INPLACE,
        "Hardsigmoid": INPLACE,
        "Softmax": {"dim": st.none() | st.integers(-7, 7)},
    }[kind]


def required_arguments(kind: str, in_shape: Shape) -> dict[str, st.SearchStrategy[Any]]:
    if kind in ("LayerNorm", "RMSNorm"):
        return {"normalized_shape": normalized_shapes(in_shape)}
    if kind == "GroupNorm":
        return {"num_groups": group_counts(in_shape)}
    return {}


@st.composite
def configurations(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], Shape]:
    in_shape = draw(shapes(kind))
    args = draw(st.fixed_dictionaries(required_arguments(kind, in_shape), optional=optional_arguments(kind, in_shape)))
    return args, in_shape


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=200, **SETTINGS)
@given(data=st.data())
def test_drawn_configurations(kind: str, data: st.DataObject) -> None:
    args, in_shape = data.draw(configurations(kind))
    event(check(kind, args, in_shape))


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=30, **SETTINGS)
@given(data=st.data())
def test_window_against_input_gradients(kind: str, data: st.DataObject) -> None:
    """One output position's input gradient (random input, random channel weights, batch 2 so that batch
    statistics exist) lies within the window along every spatial axis, and fills the axes the window spans."""
    args, in_shape = data.draw(configurations(kind))
    mine = ours(kind, args, in_shape)
    eps = args.get("eps")
    if mine.layer is None or len(in_shape) < 2 or (eps is not None and eps <= 0):
        return  # no window; or an eps that can divide by zero and spread NaN
    window = mine.layer.window()
    assert window is not None and len(window) == len(in_shape) - 1
    seed = data.draw(st.integers(0, 2**31))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((2, *in_shape), dtype=torch.float64, generator=generator, requires_grad=True)
    position = tuple(data.draw(st.integers(0, size - 1)) for size in in_shape[1:])
    weights = torch.randn(in_shape[0], dtype=torch.float64, generator=generator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # checked by the test above
        # Out of place: torch cannot differentiate some in-place kinds (ELU, LeakyReLU with a negative slope).
        arguments = {**layer_arguments(mine.layer), **({"inplace": False} if "inplace" in args else {})}
        module = getattr(nn, kind)(**arguments).double().eval()
        output = module(x)
    (output[(0, slice(None), *position)] * weights).sum().backward()
    gradient = x.grad[0]
    assert gradient is not None
    for axis, (j, w) in enumerate(zip(position, window, strict=True), start=1):
        others = tuple(a for a in range(len(in_shape)) if a != axis)
        reached = gradient.ne(0).any(dim=others) if others else gradient.ne(0)
        seen = {int(i) for i in reached.nonzero().flatten()}
        low = j * w.stride - w.padding
        assert all(low <= i <= low + w.extent for i in seen), f"{kind}({args}) on {in_shape}: {seen} vs {w}"
        size = in_shape[axis]
        if size > 1 and w.extent == 2 * (size - 1):
            assert seen == set(range(size)), f"{kind}({args}) on {in_shape}: the window spans axis {axis}"
