"""A spec document: reading its text, its top-level keys (name, input, layout, batch, limits, ignore), and the
graph its blocks and layers expand to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cnncalc.args import describe, did_you_mean, is_int, python_form
from cnncalc.errors import SpecError
from cnncalc.graph import Graph, infer_shapes, topological_order
from cnncalc.layout import LAYOUTS, to_chw
from cnncalc.spec.blocks import read_blocks
from cnncalc.spec.expand import Expander
from cnncalc.speed import paused_gc
from cnncalc.yamlsource import YMap, at, load_yaml

TOP_KEYS = ("name", "description", "input", "layout", "batch", "limits", "ignore", "blocks", "layers")

_TOP_HINTS = {
    "input": "add 'input: [C, H, W]', the shape of one sample, e.g. [3, 224, 224]",
    "layers": "add 'layers:' with a list of layers, e.g. '- conv2d: {out_channels: 16, kernel_size: 3}'",
}


def read_spec_text(path: str) -> tuple[str, str]:
    """The spec's text and the name to show for it; '-' reads standard input; an ONNX file (`.onnx`) is read
    as the spec `cnncalc import` writes for it (onnx is imported only then)."""
    if path == "-":
        import sys

        return sys.stdin.read(), "<stdin>"
    if path.lower().endswith(".onnx"):
        from cnncalc.bridges.from_onnx import onnx_spec_text

        return onnx_spec_text(path), path
    try:
        with open(path, encoding="utf-8") as file:  # as Path.read_text reads it, without pathlib's work per call
            return file.read(), path
    except FileNotFoundError:
        raise SpecError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a directory, not a spec file") from None
    except UnicodeDecodeError as error:
        raise SpecError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror}") from None


def load_spec(
    path: str, batch: int | None = None, input_shape: tuple[int, ...] | None = None, keep_document: bool = True
) -> Graph:
    """Read, expand and shape-check the spec at `path` ('-' for standard input); `keep_document` as parse_spec."""
    text, file = read_spec_text(path)
    return parse_spec(text, file, batch=batch, input_shape=input_shape, keep_document=keep_document)


def parse_spec(
    text: str,
    file: str = "<spec>",
    batch: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    keep_document: bool = True,
) -> Graph:
    """Expand and shape-check a spec; `batch` and `input_shape` (one sample) override the spec's own.
    `keep_document=False`: the caller will not read the spec again (at_input, export): see graph_from_document."""
    with paused_gc():
        document = load_yaml(text, file)
        return graph_from_document(
            document, file, batch, input_shape, keep_document=keep_document or not consumable(text)
        )


def consumable(text: str) -> bool:
    """Whether the document loaded from `text` may be consumed while it is expanded: without anchors no list or
    entry of it is shared (an alias could make the top-level `layers` a block's list too, read again later)."""
    return "&" not in text


def graph_from_document(
    document: Any,
    file: str,
    batch: int | None = None,
    input_shape: tuple[int, ...] | None = None,
    built: dict[Any, Any] | None = None,
    keep_document: bool = True,
) -> Graph:
    """parse_spec after the YAML is loaded (`cnncalc check` looks at the document first). The overrides go in
    before expansion: expressions may read the input's shape. `built`: layers by configuration to reuse and add
    to (cnncalc.graph.bind), shared by several specs; by default the spec's own.

    By default the graph keeps the document (graph.document: at_input expands it again, export reads it).
    `keep_document=False`, for a caller that needs neither and whose document has no anchors (`consumable`): each
    entry of the top-level `layers` is let go once expanded and graph.document is None, so a large spec's document
    and graph are not both held at the peak. The graph is the same either way; the document is left emptied."""
    built = {} if built is None else built
    return _Document(file, consume=not keep_document).graph(document, batch, input_shape, built)


def at_input(graph: Graph, input_shape: tuple[int, ...]) -> Graph:
    """The same spec at another input shape (one sample, C first), expanded again: expressions, conditions and the
    number of pieces may read shapes, so re-inferring the old graph's shapes is not enough."""
    batch = graph.batch if graph.batch_given else None
    return graph_from_document(graph.document, graph.file, batch, input_shape)


class _Document:
    def __init__(self, file: str, consume: bool = False) -> None:
        self.file = file
        self.consume = consume  # empty the top-level `layers` as it is expanded; keep no document (graph_from_document)

    def error(self, message: str, mark: Any, hint: str | None = None, layer: str | None = None) -> SpecError:
        return SpecError(message, location=at(self.file, mark), hint=hint, layer=layer)

    def graph(
        self, document: Any, batch: int | None, input_shape: tuple[int, ...] | None, built: dict[Any, Any]
    ) -> Graph:
        self.check_keys(document)
        if "name" in document:
            name = document["name"]
        else:  # the file's name (pathlib's work only then: `cnncalc check` reads thousands of named specs)
            name = Path(self.file).stem if self.file != "<stdin>" else "network"
        if not isinstance(name, str):
            raise self.error(f"name: expected text, got {describe(name)}", document.value_marks["name"])
        layout = document.get("layout", "chw")
        if layout not in LAYOUTS:
            raise self.error(
                f"layout: expected one of {', '.join(LAYOUTS)}, got {describe(layout)}",
                document.value_marks["layout"],
                hint="chw: input: [C, H, W] (PyTorch's order); hwc: input: [H, W, C]",
            )
        shape = to_chw(self.input_shape(document["input"], document.value_marks["input"]), layout)
        written_batch = document.get("batch", 1)
        if not is_int(written_batch) or written_batch < 1:
            raise self.error(
                f"batch: expected a positive integer, got {describe(written_batch)}", document.value_marks["batch"]
            )
        blocks = read_blocks(document.get("blocks"), document.value_marks.get("blocks"), self.file)
        shape = shape if input_shape is None else input_shape
        expander = Expander(self.file, blocks, shape, built)
        expander.consume = self.consume
        top = expander.network(document["layers"], document.value_marks["layers"])
        if not expander.nodes:
            raise self.error("the network has no layers", document.value_marks["layers"])
        last = expander.nodes[-1]
        output = last.name if top.last is None else expander.names.resolve(top, top.last, last.mark, None)
        in_order = expander.in_order and expander.shortcuts  # every layer reads earlier ones, and is built
        nodes = expander.nodes if in_order else topological_order(expander.nodes, self.file)
        graph = Graph(name, self.file, shape, written_batch if batch is None else batch, nodes, output)
        if not in_order:
            infer_shapes(graph, expander.built, unbound_only=True)
        graph.groups = expander.names.groups()
        graph.layout = layout
        graph.batch_given = "batch" in document or batch is not None
        self.read_lint_and_limits(document, graph, expander)
        graph.document = None if self.consume else document
        return graph

    def check_keys(self, document: Any) -> None:
        if not isinstance(document, YMap):
            mark = getattr(document, "mark", None)
            raise SpecError(
                "a spec is a mapping with at least 'input' and 'layers'",
                location=at(self.file, mark) if mark else None,
                hint="see specs/lenet5.yaml for the form",
            )
        for key in document:
            if key not in TOP_KEYS:
                raise self.error(
                    f"unknown top-level key '{key}' (valid: {', '.join(TOP_KEYS)})",
                    document.key_marks[key],
                    hint=did_you_mean(str(key), TOP_KEYS),
                )
        for key in ("input", "layers"):
            if key not in document:
                raise self.error(f"the spec has no '{key}'", document.mark, hint=_TOP_HINTS[key])

    def read_lint_and_limits(self, document: YMap, graph: Graph, expander: Expander) -> None:
        if "limits" in document:
            from cnncalc.limits import parse_limits

            graph.limits = parse_limits(document["limits"], document.value_marks["limits"], self.file)
        if "ignore" in document:
            graph.ignore = self.rule_names(document["ignore"], document.value_marks["ignore"])
        for node in expander.nodes:  # `ignore` written in the spec (a name or a list), not the default ()
            if node._rare is not None and not isinstance(node.ignore, tuple):  # _rare: None without values, ignore
                node.ignore = self.rule_names(node.ignore, node.arg_marks["ignore"], node.label())

    def rule_names(self, value: Any, mark: Any, layer: str | None = None) -> frozenset[str]:
        """Lint rules to silence, by id or name (`ignore: [bias-before-norm]`), checked against the rules."""
        from cnncalc.lint import RULES_BY_KEY

        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise self.error(
                f"ignore: expected a lint rule or a list of them, got {describe(value)}",
                mark,
                hint="for example ignore: [bias-before-norm]; `cnncalc lint --rules` lists them",
                layer=layer,
            )
        item_marks = getattr(names, "item_marks", [mark] * len(names))
        for name, item_mark in zip(names, item_marks, strict=True):
            if name.lower() not in RULES_BY_KEY:
                raise self.error(
                    f"ignore: no lint rule '{name}'",
                    item_mark,
                    hint=did_you_mean(name, [r.name for r in RULES_BY_KEY.values()])
                    or "`cnncalc lint --rules` lists the rules",
                    layer=layer,
                )
        return frozenset(RULES_BY_KEY[n.lower()].id for n in names)

    def input_shape(self, value: Any, mark: Any) -> tuple[int, ...]:
        value = python_form(value)  # (3, 224, 224), as PyTorch prints a shape
        if isinstance(value, str):
            parts = [p.strip() for p in re.split(r"[x,]", value)]
            value = [int(p) if re.fullmatch("[0-9]+", p) else p for p in parts]
        if not isinstance(value, list) or not value or not all(is_int(v) and v > 0 for v in value):
            raise self.error(
                f"input: expected the shape of one sample as a list of positive integers, got {describe(value)}",
                mark,
                hint="for example [3, 224, 224] (C, H, W) or '3x224x224'",
            )
        return tuple(value)
