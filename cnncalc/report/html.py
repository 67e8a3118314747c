"""The report page: one HTML file with its style, data, script and the vendored layout library inlined (no
address is fetched: the page's Content-Security-Policy forbids it).

Every number is written here as `<data value="EXACT" data-k="PATH">shown</data>`: PATH is where the number is in the
embedded JSON (`report.totals.macs`, `report.layers.3.params`, `report.blocks.children.4.macs`), EXACT its value
there (a list's items joined by commas), `shown` the same in human units. tests/test_report.py checks each one."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from cnncalc.units import human, human_bytes

HERE = Path(__file__).parent
# A page lists at most this many layers in its table (beyond, the first ones; the embedded JSON, like `summary`, has
# them all); and beyond it the tree's long lists are cut into closed groups (TREE_GROUP). A browser then still opens
# the page of a 20,000-layer network in seconds; ResNet-50 (175 layers) is listed whole, nothing grouped.
ROWS_MAX = 2000
# In a tree of more than ROWS_MAX layers, a block (or the network) with more than this many entries shows them in
# closed groups of this many: a flat chain of 20,000 layers opens as 200 lines, each group drawn when opened.
TREE_GROUP = 100
# Tree entries open when the page loads: the network and its top-level entries; deeper blocks are closed.
OPEN_DEPTH = 1
# (key, title, bytes?) of the layer table's columns with a bar.
BARS = (
    ("macs", "MACs", False),
    ("params", "Params", False),
    ("activation_bytes", "Activation", True),
    ("saved_bytes", "Saved for backward", True),
)


def render_page(data: dict[str, Any]) -> str:
    report = data["report"]
    parts = [
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n",
        # Offline by construction: nothing may be loaded from anywhere, inline script and style only.
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; img-src data:\">\n",
        f"<title>{escape(report['name'])}: cnncalc report</title>\n",
        "<script>",
        _read("errors.js"),
        "</script>\n",
        "<style>",
        _read("page.css"),
        "</style>\n</head>\n<body>\n",
        _header(report),
        _section("findings", "Warnings and lint findings", _findings(report["warnings"], data["lint"])),
        _section("tree", "Blocks", _tree(report["blocks"])),
        _section("graph", "Graph", _graph_frame(data["graph"])),
        _section("layers", "Layers", _layer_table(report)),
        '<script type="application/json" id=cnncalc-data>',
        _json_in_script(data),
        "</script>\n",
        "<script>",
        _read("vendor/dagre.min.js"),
        "</script>\n",
        "<script>",
        _read("page.js"),
        "</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def _json_in_script(data: dict[str, Any]) -> str:
    """JSON that cannot end its <script> element: '<' only occurs in strings, where \\u003c means the same."""
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def number(path: str, value: Any, size: bool = False) -> str:
    """One number (or shape) of the JSON at `path`, shown in human units (bytes in binary ones)."""
    if isinstance(value, list):
        exact = ",".join(map(str, value))
        shown = "x".join(map(str, value)) if value else "scalar"
    else:
        exact = str(value)
        shown = human_bytes(value) if size else human(value) if isinstance(value, int) else str(value)
    return f'<data value="{escape(exact)}" data-k="{path}">{escape(shown)}</data>'


def _section(key: str, title: str, body: str) -> str:
    return f"<section id={key}>\n<h2>{title}</h2>\n{body}</section>\n"


# -- the header: totals ---------------------------------------------------------------------------------------


def _header(report: dict[str, Any]) -> str:
    t = report["totals"]

    def cell(key: str, title: str, size: bool = False) -> str:
        return f"<div><dt>{title}</dt><dd>{number('report.totals.' + key, t[key], size)}</dd></div>"

    cells = [
        cell("params", "Parameters"),
        cell("trainable_params", "Trainable"),
        cell("macs", "MACs"),
        cell("flops", "FLOPs"),
        cell("param_bytes", "Parameter memory", True),
        cell("activation_bytes", "Activations", True),
    ]
    if "saved_bytes" in t:
        cells += [
            cell("backward_macs", "Backward MACs"),
            cell("saved_bytes", "Saved for backward", True),
            cell("training_bytes", f"Training step ({escape(t['optimizer'])})", True),
        ]
    source = f" &middot; {escape(report['file'])}" if report.get("file") else ""
    return (
        f"<header>\n<h1>{escape(report['name'])}</h1>\n"
        f"<p class=meta>input {number('report.input_shape', report['input_shape'])} ({escape(report['layout'])})"
        f" &middot; batch {number('report.batch', report['batch'])} &middot; {escape(report['dtype'])}"
        f" &middot; {number('report.totals.output_shape', t['output_shape'])} out{source}"
        f" &middot; cnncalc {escape(report['cnncalc_version'])}</p>\n"
        f"<dl class=totals>{''.join(cells)}</dl>\n</header>\n"
    )


# -- the block tree -------------------------------------------------------------------------------------------


def _tree(top: dict[str, Any]) -> str:
    """Nested <details>, one per block (and the network), a line per layer; in a tree of more than ROWS_MAX layers,
    long lists of entries in closed groups (`_grouped`). Walked with a list, not recursion: nesting is unbounded;
    the list holds (node, path) pairs and the HTML that closes or opens a group or a block."""
    grouping = top["layer_count"] > ROWS_MAX
    note = (
        f"<p class=note>More than {ROWS_MAX:,} layers: long lists are shown in groups of {TREE_GROUP}; "
        "open a group to see its entries.</p>\n"
        if grouping
        else ""
    )
    out = [
        "<p class=tools><button type=button data-tree=open>Expand all</button> "
        f"<button type=button data-tree=close>Collapse all</button></p>\n{note}<div class=tree>\n"
    ]
    pending: list[tuple[dict[str, Any], str] | str] = [(top, "report.blocks")]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        node, path = item
        line = _tree_line(node, path)
        if node["type"] is not None:  # a layer
            out.append(f"<div class=leaf>{line}</div>\n")
            continue
        opened = " open" if node["depth"] <= OPEN_DEPTH else ""
        out.append(f"<details{opened}><summary>{line}</summary>\n")
        children = node["children"]
        entries = [(child, f"{path}.children.{i}") for i, child in enumerate(children)]
        if grouping and len(children) > TREE_GROUP:
            entries = _grouped(entries)
        pending.append("</details>\n")
        pending.extend(reversed(entries))
    out.append("</div>\n")
    return "".join(out)


def _grouped(entries: list[tuple[dict[str, Any], str]]) -> list[tuple[dict[str, Any], str] | str]:
    """The entries in closed <details class=group> of TREE_GROUP each, named by their first and last entries and
    their positions ('relu_100 ... relu_199', '101-200 of 20,000 entries'): no figures, which are the JSON's alone."""
    grouped: list[tuple[dict[str, Any], str] | str] = []
    total = len(entries)
    for start in range(0, total, TREE_GROUP):
        chunk = entries[start : start + TREE_GROUP]
        first, last = escape(chunk[0][0]["name"]), escape(chunk[-1][0]["name"])
        grouped.append(
            f"<details class=group><summary><span class=name>{first} &hellip; {last}</span> "
            f"<span class=count>{start + 1:,}&ndash;{start + len(chunk):,} of {total:,} entries</span></summary>\n"
        )
        grouped += chunk
        grouped.append("</details>\n")
    return grouped


def _tree_line(node: dict[str, Any], path: str) -> str:
    if node["type"] is not None:
        kind = node["type"]
    elif node["block"] is None:
        kind = "network"
    else:
        kind = node["block"] + (f" x {node['repeat']}" if node["repeat"] is not None else "")
    count = "" if node["type"] is not None else f" <span class=count>{node['layer_count']} layers</span>"
    saved = (
        f"<span>{number(path + '.saved_bytes', node['saved_bytes'], True)} saved</span>"
        if "saved_bytes" in node
        else ""
    )
    return (
        f"<span class=name>{escape(node['name'])}</span> <span class=kind>{escape(kind)}</span>{count}"
        f"<span class=figs><span>{number(path + '.output_shape', node['output_shape'])}</span>"
        f"<span>{number(path + '.params', node['params'])} params</span>"
        f"<span>{number(path + '.macs', node['macs'])} MACs</span>"
        f"<span>{number(path + '.activation_bytes', node['activation_bytes'], True)} act.</span>{saved}</span>"
    )


# -- the layer table with bars --------------------------------------------------------------------------------


def _layer_table(report: dict[str, Any]) -> str:
    layers = report["layers"]
    bars = [(key, title, size) for key, title, size in BARS if not layers or key in layers[0]]
    peaks = {key: max((layer[key] for layer in layers), default=0) or 1 for key, _, _ in bars}
    head = "".join(f"<th class=bar>{title}</th>" for _, title, _ in bars)
    out = [
        "<div class=scroll><table class=layers>\n<thead><tr><th>#</th><th>Layer</th><th>Kind</th><th>Output</th>"
        f"{head}<th>RF size</th><th>RF stride</th></tr></thead>\n<tbody>\n"
    ]
    for i, layer in enumerate(layers[:ROWS_MAX]):
        path = f"report.layers.{i}"
        cells = []
        for key, _, size in bars:
            width = 100 * layer[key] / peaks[key]
            cells.append(
                f'<td class=bar><i style="width:{width:.1f}%"></i>{number(f"{path}.{key}", layer[key], size)}</td>'
            )
        field = layer["receptive_field"]
        rf = (
            f"<td>{number(path + '.receptive_field.size', field['size'])}</td>"
            f"<td>{number(path + '.receptive_field.stride', field['stride'])}</td>"
            if field
            else "<td></td><td></td>"
        )
        kind = f"{layer['type']} {layer['summary']}".strip()
        out.append(
            f'<tr id="layer-{escape(layer["name"])}"><td>{i + 1}</td><td>{escape(layer["name"])}</td>'
            f"<td>{escape(kind)}</td><td>{number(path + '.output_shape', layer['output_shape'])}</td>"
            f"{''.join(cells)}{rf}</tr>\n"
        )
    out.append("</tbody>\n</table></div>\n")
    if len(layers) > ROWS_MAX:
        out.append(
            f"<p class=note>The first {ROWS_MAX:,} of {len(layers):,} layers; `cnncalc summary` lists them all, "
            "and the JSON embedded in this page has them.</p>\n"
        )
    return "".join(out)


# -- the graph (drawn by page.js) and the findings ------------------------------------------------------------


def _graph_frame(model: dict[str, Any]) -> str:
    if model.get("omitted"):
        return f"<p class=note>Not drawn: {escape(model['omitted'])}.</p>\n"
    level = model["level"]
    note = (
        "One node per layer; each edge is labelled with the per-sample shape of the tensor it carries."
        if level is None
        else f"Blocks at depth {level} drawn closed (more than a page of layers); edges labelled with shapes."
    )
    direction = (
        "<p class=tools>Direction: <button type=button data-rankdir-button=TB aria-pressed=true>Top to bottom"
        "</button> <button type=button data-rankdir-button=LR aria-pressed=false>Left to right</button></p>\n"
    )
    return f"<p class=note>{note}</p>\n{direction}<div class=graph id=graph-box><p class=note>Drawing...</p></div>\n"


def _findings(warnings: list[str], findings: list[dict[str, Any]]) -> str:
    if not warnings and not findings:
        return "<p class=none>No warnings, no lint findings.</p>\n"
    out = ["<ul class=findings>\n"]
    out.extend(f"<li class=warning><b>warning</b> {escape(text)}</li>\n" for text in warnings)
    for f in findings:
        hint = f" <span class=hint>{escape(f['hint'])}</span>" if f.get("hint") else ""
        where = f" <span class=layer>{escape(f['layer'])}</span>:" if f.get("layer") else ""
        out.append(
            f"<li class={escape(f['severity'])}><b>{escape(f['rule'])} {escape(f['name'])}</b>{where} "
            f"{escape(f['message'])}{hint}</li>\n"
        )
    out.append("</ul>\n")
    return "".join(out)
