"""What `check` and `lint` share: their options, the run over the specs, the report and the exit code."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.commands.common import Dtype, lines_width, write, write_file


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


# Options check and lint share (typer builds each command's parameter from these declarations).
AUDIT_FORMAT = typer.Option(
    CheckFormat.text,
    "--format",
    "-f",
    help="text for terminals; json for machines; github for GitHub Actions annotations on the spec's lines; "
    "junit for CI systems that collect JUnit XML test reports.",
)
AUDIT_OUTPUT = typer.Option(
    None, "--output", "-o", help="Write the report to this file instead of standard output.", show_default=False
)
AUDIT_IGNORE = typer.Option(
    None, "--ignore", help="Silence a lint rule by id or name (repeatable).", show_default=False
)
AUDIT_SKIP = typer.Option(
    False,
    "--skip-non-specs",
    help="Skip named YAML files without 'layers' too (files found in directories are always skipped), for "
    "pre-commit hooks that pass every changed YAML file.",
)
AUDIT_QUIET = typer.Option(
    False,
    "--quiet",
    "-q",
    help="Show only what fails (unreadable specs, exceeded budgets, failing lint findings) and the one-line "
    "summary: no warnings, no skipped-file notices, no passing specs. Text and github formats.",
)


def audit(
    command: str,
    specs: list[str],
    limits: dict,  # type: ignore[type-arg]
    batch: int | None,
    dtype: Dtype | None,
    format: CheckFormat,
    output: str | None,
    linted: bool,
    strict: bool,
    ignore: list[str] | None,
    quiet: bool,
    skip_non_specs: bool,
    inputs: list[str] | None = None,
    width: int | None = None,
) -> None:
    """What check and lint share: run over the specs, render, write, and exit with the outcome's code. `width` (the
    --width option) wraps the text format's lines; the other formats are for machines and keep theirs whole."""
    from cnncalc.check import Options, check_paths, exit_code
    from cnncalc.lint import rule_ids
    from cnncalc.sizes import parse_sizes

    options = Options(
        limits=limits,
        batch=batch,
        dtype=dtype.value if dtype else None,
        ignore=rule_ids(ignore or []),
        lint=linted,
        budgets=command == "check",
        skip_non_specs=skip_non_specs,
        sizes=tuple(parse_sizes(inputs)),
    )
    results = check_paths(specs, options)
    if format is CheckFormat.json:
        import json

        from cnncalc.render.check import result_dict

        text = json.dumps(result_dict(results, strict, command), indent=2) + "\n"
    elif format is CheckFormat.github:
        from cnncalc.render.check import render_github

        text = render_github(results, strict, command, quiet)
    elif format is CheckFormat.junit:
        from cnncalc.render.check import render_junit

        text = render_junit(results, strict, command, linted)
    else:
        from cnncalc.render.check import render_text
        from cnncalc.render.screen import wrap_text

        text = wrap_text(render_text(results, strict, command, quiet), lines_width(width, output))
    if output is None:
        write(text)
    else:
        write_file(output, text)
    code = exit_code(results, strict)
    if code:
        raise typer.Exit(code)
