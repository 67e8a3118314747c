"""What a change did to a network: two analyzed reports compared layer by layer and in total (`cnncalc diff`).

Layers are matched by name (names are unique; block layers have dotted names). A layer only in the old report is
"removed", only in the new one "added"; in both it is "changed" when its kind, output shape, a figure or its
receptive field differs, else "unchanged". A rename therefore reads as one layer removed and one added. The
arguments' short text (`summary`, "k5 p2") is shown but not compared: an argument that changes no figure (eps,
padding_mode) leaves a layer unchanged. Shapes are compared channels-first, whatever layout each spec prints in.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cnncalc.analyze import Report, Row, dtype_bytes

ADDED, REMOVED, CHANGED, UNCHANGED = "added", "removed", "changed", "unchanged"
STATUSES = (CHANGED, ADDED, REMOVED, UNCHANGED)

# A layer's compared figures, by the names of `cnncalc summary --format json` (param_bytes = params x dtype size).
LAYER_KEYS = (
    "type",
    "output_shape",
    "params",
    "trainable",
    "buffers",
    "macs",
    "other_ops",
    "flops",
    "activation_bytes",
    "param_bytes",
    "receptive_field",
)

# Totals with a numeric delta, then the shapes (compared only for equality).
COUNT_TOTALS = (
    "params",
    "trainable_params",
    "non_trainable_params",
    "buffers",
    "macs",
    "other_ops",
    "flops",
    "input_bytes",
    "activation_bytes",
    "param_bytes",
)
SHAPE_TOTALS = ("output_shape", "input_shape")


class LayerDiff(NamedTuple):
    name: str
    status: str
    old: Row | None
    new: Row | None
    changes: list[str]  # LAYER_KEYS that differ (empty unless changed)


class TotalDiff(NamedTuple):
    metric: str
    old: Any  # int, or a channels-first shape for SHAPE_TOTALS
    new: Any
    delta: int | None  # new - old; None for shapes

    @property
    def differs(self) -> bool:
        return self.old != self.new


class Diff(NamedTuple):
    old: Report
    new: Report
    layers: list[LayerDiff]  # every layer of both, in the new network's order, removed ones where they stood
    totals: list[TotalDiff]

    @property
    def differs(self) -> bool:
        return any(layer.status != UNCHANGED for layer in self.layers) or any(t.differs for t in self.totals)

    def counts(self) -> dict[str, int]:
        found = {status: 0 for status in STATUSES}
        for layer in self.layers:
            found[layer.status] += 1
        return found


def layer_value(row: Row, key: str, report: Report) -> Any:
    """One of LAYER_KEYS for `row` of `report` (shapes channels-first)."""
    if key == "type":
        return row.kind
    if key == "param_bytes":
        return row.params * dtype_bytes(report.dtype)
    return getattr(row, key)


def compare(old: Report, new: Report) -> Diff:
    """The layer-by-layer and total differences from `old` to `new`."""
    return Diff(old, new, _layers(old, new), _totals(old, new))


def _layers(old: Report, new: Report) -> list[LayerDiff]:
    old_rows = {row.name: row for row in old.rows}
    new_names = {row.name for row in new.rows}
    # A removed layer is shown after the last layer before it that both networks have (or first of all).
    removed_after: dict[str | None, list[Row]] = {}
    anchor: str | None = None
    for row in old.rows:
        if row.name in new_names:
            anchor = row.name
        else:
            removed_after.setdefault(anchor, []).append(row)
    layers = [LayerDiff(row.name, REMOVED, row, None, []) for row in removed_after.get(None, [])]
    for row in new.rows:
        before = old_rows.get(row.name)
        if before is None:
            layers.append(LayerDiff(row.name, ADDED, None, row, []))
        else:
            changes = [key for key in LAYER_KEYS if layer_value(before, key, old) != layer_value(row, key, new)]
            layers.append(LayerDiff(row.name, CHANGED if changes else UNCHANGED, before, row, changes))
        layers.extend(LayerDiff(gone.name, REMOVED, gone, None, []) for gone in removed_after.get(row.name, []))
    return layers


def _totals(old: Report, new: Report) -> list[TotalDiff]:
    totals = []
    for metric in COUNT_TOTALS:
        before, after = getattr(old.totals, metric), getattr(new.totals, metric)
        totals.append(TotalDiff(metric, before, after, after - before))
    totals.append(TotalDiff("output_shape", old.totals.output_shape, new.totals.output_shape, None))
    totals.append(TotalDiff("input_shape", old.input_shape, new.input_shape, None))
    return totals
