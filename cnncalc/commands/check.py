"""`cnncalc check`: budgets and lint rules over specs, for CI."""

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
from cnncalc.commands.common import LINES_WIDTH, Dtype, input_size


def check(
    specs: list[str] = typer.Argument(
        ...,
        help="Spec files, directories (their *.yaml and *.yml files, subfolders included; YAML files there that are "
        "not specs are skipped with a notice) or quoted glob patterns ('models/**/*.yaml'); '-' reads standard input.",
        show_default=False,
    ),
    max_params: str | None = typer.Option(
        None, "--max-params", help="Budget for parameters: 25000000, 25M.", show_default=False
    ),
    max_macs: str | None = typer.Option(None, "--max-macs", help="Budget for MACs: 4.1G.", show_default=False),
    max_flops: str | None = typer.Option(None, "--max-flops", help="Budget for FLOPs: 9G.", show_default=False),
    max_activation_bytes: str | None = typer.Option(
        None,
        "--max-activation-bytes",
        help="Budget for activation memory (all layer outputs, whole batch, --dtype): 512MiB, 1.5GB.",
        show_default=False,
    ),
    expect_output: str | None = typer.Option(
        None,
        "--expect-output",
        help="The output shape of one sample must be this: 1000, 2x256x256.",
        show_default=False,
    ),
    min_receptive_field: str | None = typer.Option(
        None,
        "--min-receptive-field",
        help="The receptive field of the last spatial features must reach this: 200, 200x100.",
        show_default=False,
    ),
    dtype: Dtype | None = typer.Option(
        None, "--dtype", help="Element type for activation memory (default: the spec's limits, else float32)."
    ),
    batch: int | None = typer.Option(
        None, "--batch", "-b", min=1, help="Batch size (default: the spec's `batch`, else 1)."
    ),
    input: list[str] = input_size(
        "Repeat it to check every spec at every size: budgets (and lint) per size, each result naming its size."
    ),
    format: CheckFormat = AUDIT_FORMAT,
    output: str | None = AUDIT_OUTPUT,
    no_lint: bool = typer.Option(False, "--no-lint", help="Check budgets only."),
    strict: bool = typer.Option(False, "--strict", help="Lint warnings fail the check too (exit 1)."),
    ignore: list[str] = AUDIT_IGNORE,
    quiet: bool = AUDIT_QUIET,
    skip_non_specs: bool = AUDIT_SKIP,
    width: int | None = LINES_WIDTH,
) -> None:
    """Hold specs to budgets and lint rules, for CI: exit 0 all hold, 1 a budget or lint error fails, 2 a spec
    cannot be read (or a usage error).

    Budgets come from the options or from the spec's own `limits:` section (the options win); numbers take units:
    25M, 4.1G (powers of 1000), 512MiB (1024). The lint rules (`cnncalc lint --rules`) run too; warnings fail
    only with --strict. Each failure names the spec, the budget, the measured figure and the limit.

    \b
    Examples:
      cnncalc check specs/mobilenet_v2.yaml          # its own limits: section
      cnncalc check specs/resnet50.yaml --max-params 30M --max-macs 4.5G
      cnncalc check models/ --format github          # annotations on PR lines
      cnncalc check 'models/**/*.yaml' --format junit -o cnncalc.xml
      cnncalc check specs/resnet50.yaml --max-macs 9G --input 3x224x224 --input 3x320x320
    """
    from cnncalc.limits import option_limit

    given = {
        "max_params": max_params,
        "max_macs": max_macs,
        "max_flops": max_flops,
        "max_activation_bytes": max_activation_bytes,
        "expect_output": expect_output,
        "min_receptive_field": min_receptive_field,
    }
    limits = {key: option_limit(key, text) for key, text in given.items() if text is not None}
    flags = (not no_lint, strict, ignore, quiet, skip_non_specs)
    audit("check", specs, limits, batch, dtype, format, output, *flags, input, width)
