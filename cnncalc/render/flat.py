"""CSV (exact integers, one row per layer) and Markdown (a pipe table for READMEs and pull requests)."""

from __future__ import annotations

import csv
import io

from cnncalc.analyze import Report
from cnncalc.layers import fmt_shape
from cnncalc.layout import shown
from cnncalc.render.cells import Style, columns, input_cells, rf_cell, row_cells, weight_cell
from cnncalc.render.md import md_text
from cnncalc.render.summary_lines import totals_lines
from cnncalc.render.table import NUMERIC, training_columns
from cnncalc.render.tree_cells import (
    TREE_CAPTION,
    TREE_NUMERIC,
    depth_line,
    tree_cell,
    tree_headers,
    tree_input_cells,
    tree_rows,
)
from cnncalc.tree import Block, max_depth


def render_csv(reports: list[Report], trees: list[Block] | None = None, depth: int | None = None) -> str:
    """One row per layer and a TOTAL row per report; with a `depth` (and the block `trees`), the tree's rows."""
    if depth is not None and trees is not None:
        return _tree_csv(reports, trees, depth)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["spec", "layer", "type", "summary", "inputs", "output_shape", "weight_shape", "params", "buffers"]
    header += ["macs", "other_ops", "flops", "activation_elements", "activation_bytes", "receptive_field"]
    training = any(report.totals.saved_bytes is not None for report in reports)
    writer.writerow(header + (["backward_macs", "saved_bytes"] if training else []))
    for report in reports:
        for r in report.rows:
            writer.writerow(
                [
                    report.name,
                    r.name,
                    r.kind,
                    r.summary,
                    " ".join(r.inputs),
                    fmt_shape(shown(r.output_shape, report.layout)),
                ]
                + [weight_cell(r), r.params, r.buffers, r.macs, r.other_ops, r.flops]
                + [r.activation_elements, r.activation_bytes, rf_cell(r.receptive_field)]
                + ([r.backward_macs, r.saved_bytes] if training else [])
            )
        t = report.totals
        writer.writerow(
            [report.name, "TOTAL", "", "", "", fmt_shape(shown(t.output_shape, report.layout)), "", t.params, t.buffers]
            + [t.macs, t.other_ops, t.flops, t.activation_elements, t.activation_bytes, ""]
            + ([t.backward_macs, t.saved_bytes] if training else [])
        )
    return out.getvalue()


def _tree_csv(reports: list[Report], trees: list[Block], depth: int) -> str:
    """The rows of `summary --depth N`, exact: `depth` (0 the network, 1 a top-level entry), `name` (full),
    `block` (the block used, or the kind repeated; empty for a layer), `repeat` (copies; empty unless a repeat),
    `type` (a layer's kind), then the figures (a block's: the sums of all its layers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["spec", "depth", "name", "block", "repeat", "type", "layer_count", "output_shape", "params"]
    header += ["buffers", "macs", "other_ops", "flops", "activation_elements", "activation_bytes", "receptive_field"]
    training = any(report.totals.saved_bytes is not None for report in reports)
    writer.writerow(header + (["backward_macs", "saved_bytes"] if training else []))
    for report, tree in zip(reports, trees, strict=True):
        for row in tree_rows(tree, depth):
            node = row.node
            if isinstance(node, Block):
                what = [node.block or "", "" if node.repeat is None else node.repeat, "", node.layer_count]
            else:
                what = ["", "", node.kind, 1]
            writer.writerow(
                [report.name, row.depth, node.name, *what, fmt_shape(shown(node.output_shape, report.layout))]
                + [node.params, node.buffers, node.macs, node.other_ops, node.flops, node.activation_elements]
                + [node.activation_bytes, rf_cell(node.receptive_field)]
                + ([node.backward_macs, node.saved_bytes] if training else [])
            )
    return out.getvalue()


def render_markdown(
    reports: list[Report], human_units: bool, trees: list[Block] | None = None, depth: int | None = None
) -> str:
    """A pipe table per report, totals and warnings under it; with a `depth`, the block tree's rows (a block's
    name in bold, the rows under it indented)."""
    if depth is not None and trees is not None:
        return "\n\n".join(_tree_markdown(r, t, depth, human_units) for r, t in zip(reports, trees, strict=True)) + "\n"
    parts: list[str] = []
    for report in reports:
        style = Style(human=human_units, layout=report.layout)
        extra = training_columns(report)
        headers = [header for header, _ in columns(style) + extra]
        lines = [f"### {md_text(report.name)}", ""]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join("---:" if h in NUMERIC else "---" for h in headers) + "|")
        first = [input_cells(report, style) + [""] * len(extra)]
        for cells in first + [row_cells(r, style) + [cell(r, style) for _, cell in extra] for r in report.rows]:
            lines.append("| " + " | ".join(md_text(c) for c in cells) + " |")
        lines.append("")
        lines.extend(f"- {md_text(line)}" for line in totals_lines(report, human_units))
        lines.extend(f"- warning: {md_text(w)}" for w in report.warnings)
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _tree_markdown(report: Report, tree: Block, depth: int, human_units: bool) -> str:
    style = Style(human=human_units, layout=report.layout)
    lines = [f"### {md_text(report.name)}", ""]
    headers = tree_headers(report)
    lines.append("| " + " | ".join(headers) + " |")
    lines.append("|" + "|".join("---:" if h in TREE_NUMERIC else "---" for h in headers) + "|")
    lines.append("| " + " | ".join(md_text(c) for c in tree_input_cells(report, style, headers)) + " |")
    for row in tree_rows(tree, depth):
        cells = [md_text(tree_cell(h, row, style)) for h in headers[1:]]
        name = md_text(row.label)
        if row.is_block:
            name = f"**{name}**"
        lines.append("| " + "&nbsp;&nbsp;" * max(row.depth - 1, 0) + name + " | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {md_text(line)}" for line in [depth_line(depth, max_depth(tree)), TREE_CAPTION]]
    lines.extend(f"- {md_text(line)}" for line in totals_lines(report, human_units))
    lines.extend(f"- warning: {md_text(w)}" for w in report.warnings)
    return "\n".join(lines)
