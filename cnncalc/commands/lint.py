"""`cnncalc lint`: known mistakes PyTorch accepts silently."""

from __future__ import annotations

import typer

from cnncalc.commands.audit import (
    AUDIT_FORMAT,
    AUDIT_IGNORE,
    AUDIT_OUTPUT,
    AUDIT_QUIET,
    AUDIT_SKIP,
    CheckFormat,
    audit,
)
from cnncalc.commands.common import LINES_WIDTH, input_size, lines_width, write


def lint(
    specs: list[str] = typer.Argument(
        None,
        help="Spec files, directories (subfolders included; YAML files there that are not specs are skipped with a "
        "notice) or quoted glob patterns; '-' reads standard input.",
        show_default=False,
    ),
    rules: bool = typer.Option(False, "--rules", help="List the rules with their explanations and exit."),
    batch: int | None = typer.Option(
        None, "--batch", "-b", min=1, help="The training batch size (for small-batch-norm; default: the spec's)."
    ),
    input: list[str] = input_size("Repeat it to lint every spec at every size (findings per size)."),
    format: CheckFormat = AUDIT_FORMAT,
    output: str | None = AUDIT_OUTPUT,
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
    ignore: list[str] = AUDIT_IGNORE,
    quiet: bool = AUDIT_QUIET,
    skip_non_specs: bool = AUDIT_SKIP,
    width: int | None = LINES_WIDTH,
) -> None:
    """Find known mistakes PyTorch accepts silently: wasted biases, unreliable BatchNorm, data dropped by strides...

    Exit 0 when no finding is an error (warnings fail only with --strict), 1 otherwise, 2 when a spec cannot be
    read. Silence a rule for one layer with `ignore: RULE` in its arguments, for a whole spec with a top-level
    `ignore: RULE` (or a list of rules), or for a run with --ignore RULE.

    \b
    Examples:
      cnncalc lint specs/*.yaml
      cnncalc lint --rules
      cnncalc lint net.yaml --format github --strict
      cnncalc lint specs/vgg16.yaml --input 3x100x100
    """
    if rules:
        write(_rules_text(lines_width(width)))
        return
    if not specs:
        from cnncalc.errors import UsageError

        raise UsageError("no spec given", hint="cnncalc lint SPEC... (or --rules to list the rules)")
    audit("lint", specs, {}, batch, None, format, output, True, strict, ignore, quiet, skip_non_specs, input, width)


def _rules_text(width: int | None) -> str:
    """Each rule's line, then its explanation as a paragraph of at most 100 columns (fewer in a narrower width)."""
    from cnncalc.lint import RULES
    from cnncalc.render.screen import wrap, wrap_text

    lines = []
    for rule in RULES:
        lines.append(wrap_text(f"{rule.id} {rule.name} ({rule.severity}): {rule.summary}", width))
        lines += wrap(rule.explanation, min(width or 100, 100), "    ", "    ")
    return "\n".join(lines) + "\n"
