"""Any input size: a shape written on the command line (`--input 3x320x320`), the spec read again at it, and the
figures that change with the size side by side (`cnncalc summary SPEC --input A --input B`).

A size on the command line is written as the spec's own `input:` is, in the spec's layout (H x W x C under
`layout: hwc`); the spec is expanded again at it (expressions, conditions and repeat counts may read the input's
shape), so the figures equal those of the spec with its `input:` edited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple
from weakref import WeakKeyDictionary

from cnncalc.errors import CnncalcError, UsageError

if TYPE_CHECKING:
    from cnncalc.analyze import Report
    from cnncalc.graph import Graph
    from cnncalc.receptive import ReceptiveField

SHAPE_EXAMPLE = "3x224x224"
_SIZE_NOTES: WeakKeyDictionary[Graph, str] = WeakKeyDictionary()  # graphs read at an --input size: the note
_BRACKETS = {"[": "]", "(": ")"}


def parse_shape(text: str) -> tuple[int, ...]:
    """A shape as a spec's `input:` may write it: '3x32x32', '3,32,32', '3 x 32 x 32', '[3, 32, 32]' or
    '(3, 32, 32)' -> (3, 32, 32). Every size a positive integer (no expression: a shape is data)."""
    body = text.strip()
    if body[:1] in _BRACKETS and body.endswith(_BRACKETS[body[:1]]):
        body = body[1:-1].rstrip().rstrip(",")  # (3,) is a one-axis tuple
    parts = [part.strip() for part in re.split(r"[x,]", body)] if body else []
    bad = [part for part in parts if not re.fullmatch("[0-9]+", part) or int(part) == 0]
    if not parts or bad:
        what = "it is empty" if not parts else f"{bad[0]!r} is not a positive integer"
        raise UsageError(
            f"expected a shape such as 3x32x32, got {text!r}: {what}",
            hint=f"the sizes of one sample's axes, as the spec's `input:` writes them: {SHAPE_EXAMPLE}, "
            "3,224,224 or [3, 224, 224]",
        )
    return tuple(int(part) for part in parts)


def shape_arg(shape: tuple[int, ...]) -> str:
    """A shape as --input takes it: 3x224x224."""
    return "x".join(map(str, shape))


def resized(graph: Graph, size: tuple[int, ...]) -> Graph:
    """`graph`'s spec read again at `size` (one sample, written in the spec's layout). A size with another number
    of axes than the spec's input is refused; a size some layer cannot take gets that layer's usual error, with a
    note naming the size."""
    from cnncalc.layout import shown, to_chw
    from cnncalc.spec import at_input

    own = shown(graph.input_shape, graph.layout)
    if len(size) != len(own):
        raise UsageError(
            f"--input {shape_arg(size)} has {len(size)} ax{'is' if len(size) == 1 else 'es'}; the input of "
            f"{graph.file} has {len(own)}: {shape_arg(own)}",
            hint=f"give a shape with {len(own)} sizes, in the spec's layout ({graph.layout}), e.g. "
            f"--input {shape_arg(own)}",
        )
    if size == own:
        return graph
    where = f"with --input {shape_arg(size)} (the spec's own input is {shape_arg(own)})"
    try:
        sized = at_input(graph, to_chw(size, graph.layout))
    except CnncalcError as error:
        raise _noted(error, where) from None
    _SIZE_NOTES[sized] = where
    return sized


def _noted(error: CnncalcError, where: str) -> CnncalcError:
    error.note = f"{error.note}; {where}" if error.note else where  # one line: JSON reports carry it too
    return error


@contextmanager
def size_noted(graph: Graph) -> Iterator[None]:
    """Errors raised while analyzing a graph read at an --input size (training figures a batch cannot have at that
    size, ...) name the size, as errors reading it do."""
    try:
        yield
    except CnncalcError as error:
        where = _SIZE_NOTES.get(graph)
        if where is not None:
            _noted(error, where)
        raise


def analyzed(graph: Graph, **options: Any) -> Report:
    """cnncalc.analyze.analyze, its errors naming the --input size the graph was read at."""
    from cnncalc.analyze import analyze

    with size_noted(graph):
        return analyze(graph, **options)


def graphs_at(path: str, sizes: list[tuple[int, ...]], batch: int | None = None) -> list[Graph]:
    """The spec at `path` ('-': standard input, read once) at each of `sizes`, in order; at its own input when
    no size is given."""
    from cnncalc.spec import load_spec

    graph = load_spec(path, batch=batch)
    return [resized(graph, size) for size in sizes] if sizes else [graph]


def parse_sizes(texts: list[str] | None) -> list[tuple[int, ...]]:
    """Each --input given, parsed; a size given twice counts once (the comparison has a row per size)."""
    return list(dict.fromkeys(parse_shape(text) for text in texts or []))


def one_size(texts: list[str] | None, command: str) -> tuple[int, ...] | None:
    """The size for a command that analyzes one network at one size (explain, graph): several are
    refused, with the command that compares sizes."""
    sizes = parse_sizes(texts)
    if len(sizes) > 1:
        raise UsageError(
            f"{command} takes one --input (got {len(sizes)}: {', '.join(shape_arg(s) for s in sizes)})",
            hint="to compare sizes side by side: cnncalc summary SPEC --input A --input B",
        )
    return sizes[0] if sizes else None


# -- the comparison ---------------------------------------------------------------------------------------------


class SizeFigures(NamedTuple):
    """What changes with the input size, for one size (whole-batch figures, as summary's totals)."""

    report: Report
    field_layer: str | None  # the layer whose receptive field is the network's (the last spatial features)
    field: ReceptiveField | None


def size_figures(graph: Graph, report: Report) -> SizeFigures:
    """The figures of one size: the report's totals and the network's final receptive field, that of the last
    layer with spatial extent before any global pool (what `check --min-receptive-field` holds)."""
    from cnncalc.check import feature_field

    name, field = feature_field(graph, report)
    return SizeFigures(report, name, field)
