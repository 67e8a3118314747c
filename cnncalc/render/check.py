"""Results of `cnncalc check` / `cnncalc lint` as text, JSON, GitHub Actions annotations and JUnit XML."""

from __future__ import annotations

from typing import Any

from cnncalc import __version__
from cnncalc.analyze import SCHEMA_VERSION
from cnncalc.check import BudgetResult, SpecResult, budget_location, exit_code, fails
from cnncalc.errors import CnncalcError, Location
from cnncalc.lint import Finding


def counts(results: list[SpecResult], strict: bool) -> dict[str, int]:
    statuses = [r.status(strict) for r in results]
    findings = [f for r in results for f in r.findings]
    return {
        "specs": len(results),
        "passed": statuses.count("passed"),
        "failed": statuses.count("failed"),
        "errors": statuses.count("error"),
        "skipped": statuses.count("skipped"),
        "budgets_checked": sum(len(r.budgets) for r in results),
        "budgets_failed": sum(not b.ok for r in results for b in r.budgets),
        "lint_errors": sum(f.severity == "error" for f in findings),
        "lint_warnings": sum(f.severity == "warning" for f in findings),
    }


def summary_line(results: list[SpecResult], strict: bool, command: str) -> str:
    n = counts(results, strict)
    parts = [f"{n['passed']} passed"]
    for key, word in (("failed", "failed"), ("errors", "could not be read")):
        if n[key]:
            parts.append(f"{n[key]} {word}")
    specs = n["specs"] - n["skipped"]  # files that are not specs are not counted as specs
    line = f"{command}: {specs} spec{'s' if specs != 1 else ''}, " + ", ".join(parts)
    if n["skipped"]:
        line += f"; {n['skipped']} YAML file{'s' if n['skipped'] != 1 else ''} skipped (not specs)"
    if command == "check" and n["budgets_checked"]:
        line += f"; budgets: {n['budgets_checked'] - n['budgets_failed']} held, {n['budgets_failed']} exceeded"
    line += f"; lint: {n['lint_errors']} error(s), {n['lint_warnings']} warning(s)"
    return line + (" (--strict: warnings fail)" if strict and n["lint_warnings"] else "")


# -- text -----------------------------------------------------------------------------------------------------


def finding_text(finding: Finding) -> str:
    where = f"{finding.location}: " if finding.location else ""
    text = f"{where}{finding.severity}: [{finding.rule} {finding.name}] {finding.label}: {finding.message}"
    return text + (f"\n  hint: {finding.hint}" if finding.hint else "")


def render_text(results: list[SpecResult], strict: bool, command: str, quiet: bool = False) -> str:
    """The report for terminals and logs; `quiet` keeps only what fails (unreadable specs, exceeded budgets, lint
    findings that fail) and the summary line: no notices, no warnings, no passing specs."""
    lines: list[str] = []
    for result in results:
        status = result.status(strict)
        if status == "error":
            assert result.error is not None
            lines.append(result.error.render())
            continue
        if status == "skipped":
            if not quiet:
                lines.append(f"{result.file}: skipped, {result.skipped}")
            continue
        sized = result.input_shape is not None  # lint too names the size each finding was made at
        if (command == "check" or sized) and (status == "failed" or not quiet):
            lines.append(f"{result.file} ({result.label}): {'FAIL' if status == 'failed' else 'ok'}")
            for budget in result.budgets:
                if not budget.ok or not quiet:
                    lines.append(f"  {'ok  ' if budget.ok else 'FAIL'} {budget_text(budget)}")
        lines.extend(finding_text(f) for f in result.findings if fails(f, strict) or not quiet)
    lines.append(summary_line(results, strict, command))
    return "\n".join(lines) + "\n"


def budget_text(budget: BudgetResult) -> str:
    source = "spec" if budget.limit.source == "spec" else budget.limit.source
    where = f", line {budget.limit.location.line}" if budget.limit.location else ""
    return f"{budget.limit.budget}: {budget.message} [{source}{where}]"


# -- JSON -----------------------------------------------------------------------------------------------------


def location_dict(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line, "column": location.column}


def error_dict(error: CnncalcError) -> dict[str, Any]:
    return {
        "message": error.message,
        "location": location_dict(error.location),
        "layer": error.layer,
        "hint": error.hint,
        "note": error.note,
    }


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "name": finding.name,
        "severity": finding.severity,
        "layer": finding.layer,
        "message": finding.message,
        "hint": finding.hint,
        "location": location_dict(finding.location),
    }


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def budget_dict(budget: BudgetResult) -> dict[str, Any]:
    return {
        "budget": budget.limit.budget,
        "ok": budget.ok,
        "measured": _json_value(budget.measured),
        "limit": _json_value(budget.limit.value),
        "limit_written": budget.limit.written,
        "source": budget.limit.source,
        "location": location_dict(budget.limit.location),
        "layer": budget.layer,
        "message": budget.message,
    }


def result_dict(results: list[SpecResult], strict: bool, command: str) -> dict[str, Any]:
    code = exit_code(results, strict)
    return {
        "schema_version": SCHEMA_VERSION,
        "cnncalc_version": __version__,
        "command": command,
        "ok": code == 0,
        "exit_code": code,
        "strict": strict,
        "counts": counts(results, strict),
        "specs": [
            {
                "file": r.file,
                "name": r.name,
                "status": r.status(strict),
                "skipped": r.skipped,
                "error": error_dict(r.error) if r.error else None,
                "budgets": [budget_dict(b) for b in r.budgets],
                "findings": [finding_dict(f) for f in r.findings],
                **({} if r.input_shape is None else {"input_shape": list(r.input_shape)}),
            }
            for r in results
        ],
    }


# -- GitHub Actions -------------------------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, location: Location | None, title: str, message: str, file: str | None = None) -> str:
    """One workflow command: ::error file=F,line=L,col=C,title=T::message (GitHub's escaping)."""
    properties = []
    if location is not None:
        properties += [f"file={_escape_property(location.file)}", f"line={location.line}", f"col={location.column}"]
    elif file is not None:
        properties.append(f"file={_escape_property(file)}")
    properties.append(f"title={_escape_property(title)}")
    return f"::{level} {','.join(properties)}::{_escape_data(message)}"


def render_github(results: list[SpecResult], strict: bool, command: str, quiet: bool = False) -> str:
    """Annotations that GitHub shows on the spec's lines in a pull request, then the summary as plain log text;
    `quiet` leaves out the warnings that do not fail."""
    lines: list[str] = []
    for result in results:
        if result.error is not None:
            error = result.error
            message = (f"{error.layer}: " if error.layer else "") + error.message
            if result.at_size:  # the note naming the size is not shown: say it first
                message = f"{result.at_size}: {message}"
            if error.hint:
                message += f"\nhint: {error.hint}"
            lines.append(annotation("error", error.location, "cnncalc: invalid spec", message, result.file))
            continue
        for budget in result.budgets:
            if not budget.ok:
                title = f"cnncalc: {budget.limit.budget} ({budget.limit.source})"
                message = f"{result.label}: {budget.message}"
                lines.append(annotation("error", budget_location(result, budget), title, message))
        for finding in result.findings:
            level = "error" if fails(finding, strict) else "warning"
            if quiet and level == "warning":
                continue
            message = f"{finding.label}: {finding.message}" + (f"\nhint: {finding.hint}" if finding.hint else "")
            if result.at_size:
                message = f"{result.at_size}: {message}"
            lines.append(annotation(level, finding.location, f"cnncalc {finding.rule} {finding.name}", message))
    lines.append(summary_line(results, strict, command))
    return "\n".join(lines) + "\n"


# -- JUnit XML ------------------------------------------------------------------------------------------------


def render_junit(results: list[SpecResult], strict: bool, command: str, linted: bool = True) -> str:
    """One <testsuite> per spec; a <testcase> per budget and one for lint (failing on lint errors, or on any
    finding with --strict; warnings otherwise go to its <system-out>); an unreadable spec is an <error>."""
    import xml.etree.ElementTree as ET

    n = counts(results, strict)
    root = ET.Element("testsuites", name=f"cnncalc {command}")
    total_tests = total_failures = total_errors = total_skipped = 0
    for result in results:
        suite = ET.SubElement(root, "testsuite", name=result.file)
        tests = failures = errors = skipped = 0
        classname = result.label or result.file
        if result.error is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="load", file=result.file)
            error = ET.SubElement(case, "error", message=result.error.message, type="invalid spec")
            error.text = result.error.render()
            tests, errors = 1, 1
        elif result.skipped is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="load", file=result.file)
            ET.SubElement(case, "skipped", message=result.skipped)
            tests, skipped = 1, 1
        else:
            for budget in result.budgets:
                location = budget_location(result, budget)
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=classname,
                    name=budget.limit.budget,
                    file=result.file,
                    line=str(location.line),
                )
                tests += 1
                if budget.ok:
                    ET.SubElement(case, "system-out").text = budget.message
                else:
                    failure = ET.SubElement(case, "failure", message=budget.message, type="budget")
                    failure.text = budget_text(budget)
                    failures += 1
            if linted:
                case = ET.SubElement(suite, "testcase", classname=classname, name="lint", file=result.file)
                tests += 1
                failing = [f for f in result.findings if fails(f, strict)]
                if failing:
                    message = f"{len(failing)} lint finding(s) fail: " + ", ".join(
                        sorted({f"{f.rule} {f.name}" for f in failing})
                    )
                    failure = ET.SubElement(case, "failure", message=message, type="lint")
                    failure.text = "\n".join(finding_text(f) for f in failing)
                    failures += 1
                passing = [f for f in result.findings if not fails(f, strict)]
                if passing:
                    ET.SubElement(case, "system-out").text = "\n".join(finding_text(f) for f in passing)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        total_tests += tests
        total_failures += failures
        total_errors += errors
        total_skipped += skipped
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    root.set("skipped", str(total_skipped))
    assert n["errors"] == total_errors
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
