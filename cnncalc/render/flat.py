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


def render_csv(reports: list[Report]) -> str:
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


def render_markdown(reports: list[Report], human_units: bool) -> str:
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
