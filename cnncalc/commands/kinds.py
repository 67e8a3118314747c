"""`cnncalc kinds`: the layer kinds, their arguments and defaults."""

from __future__ import annotations

import typer

from cnncalc.commands.common import LINES_WIDTH, RunFormat, lines_width, write


def kinds(
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format.", case_sensitive=False),
    width: int | None = LINES_WIDTH,
) -> None:
    """List the layer kinds with their arguments, PyTorch defaults and how their other ops are counted.

    \b
    Examples:
      cnncalc kinds
      cnncalc kinds --format json | jq '.kinds[] | select(.kind == "Conv2d")'
    """
    from cnncalc.schema import kind_signature, kinds_dict

    if format is RunFormat.json:
        import json

        write(json.dumps(kinds_dict(), indent=2) + "\n")
        return
    from cnncalc.layers import REGISTRY
    from cnncalc.render.screen import wrap_text

    lines = []
    for cls in sorted(REGISTRY.values(), key=lambda c: c.kind.lower()):
        lines.append(kind_signature(cls))
        lines.append(f"    other ops: {cls.ops_rule}")
    write(wrap_text("\n".join(lines), lines_width(width)) + "\n")
