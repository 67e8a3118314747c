"""The exact executor's budget options, shared by run, verify and fuse (see cnncalc.budget)."""

from __future__ import annotations

import typer

from cnncalc.budget import DEFAULT_MAX_ELEMENTS, DEFAULT_MAX_MACS, Budget, parse_budget, units_up

MAX_MACS = typer.Option(
    units_up(DEFAULT_MAX_MACS),
    "--max-macs",
    metavar="COUNT",
    help="Refuse runs above this many multiply-accumulates, counted from the shapes before running (100M, 1.5G).",
)
MAX_ELEMENTS = typer.Option(
    units_up(DEFAULT_MAX_ELEMENTS),
    "--max-elements",
    metavar="COUNT",
    help="Refuse runs above this many values read and written by all layers (inputs, outputs, weights, other "
    "ops), counted before running (50M, 1G).",
)


def budget(max_macs: str, max_elements: str) -> Budget:
    return Budget(parse_budget("--max-macs", max_macs), parse_budget("--max-elements", max_elements))
