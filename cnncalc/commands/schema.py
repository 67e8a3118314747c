"""`cnncalc schema`: a JSON Schema of spec files, for editors."""

from __future__ import annotations

import typer

from cnncalc.commands.common import write, write_file


def schema(
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the schema to this file ('-': standard output, the default).",
        show_default=False,
    ),
) -> None:
    """Print a JSON Schema of spec files, for editors: completion, hover help and checks as you type.

    Generated from the layer registry: every kind (in any case) with its arguments, types, ranges and defaults,
    the reserved keys (when, repeat: 0, ...), blocks, the language's forms (expressions holding $, `- if:` entries,
    kinds passed as $parameters inside blocks; docs/language.md) and limits. It checks a spec's form, not its
    shapes or what an expression computes; `cnncalc summary` checks everything.

    \b
    Examples:
      cnncalc schema -o cnncalc-spec.schema.json
      then, as the first line of a spec: # yaml-language-server: $schema=cnncalc-spec.schema.json
    """
    import json

    from cnncalc.schema import spec_schema

    text = json.dumps(spec_schema(), indent=2) + "\n"
    if output is None or output == "-":
        write(text)
        return
    write_file(output, text)
