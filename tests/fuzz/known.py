"""Failures known today, each filed under its item of issue 9; nothing else may fail.

TO THE LEAD: these are the fuzzer's only exclusions. Each entry names its issue item, its area and a minimal
reproduction; remove the entry when its fix is merged (the fuzzer then holds the fix: a failure that no entry
matches fails tests/test_fuzz.py). An entry matches a failure by its signature (kind, exception, innermost cnncalc
frame), and where that alone would be too wide, also by the message, the commands, or the case's text (the mutant
spec and the command line).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .mutate import Case
from .worker import Outcome


@dataclass(frozen=True)
class Known:
    id: str
    item: str  # the issue item it belongs to
    area: str  # yaml loading, layer rules, executor, rendering, spec expansion, CLI
    signature: str  # a regular expression searched in Outcome.signature
    reproduce: str  # a minimal reproduction
    message: str = ""  # ... and in Outcome.message
    text: str = ""  # ... and in the mutant spec plus the command line
    commands: tuple[str, ...] = ()  # only for these commands (empty: any)


KNOWN: list[Known] = []  # every failure the fuzzer found in issue 9 is fixed; add new ones here, each with its issue


def match(case: Case, outcome: Outcome) -> Known | None:
    if os.environ.get("CNNCALC_FUZZ_NO_KNOWN"):  # report the known failures as failures too
        return None
    text = case.mutant + "\n" + " ".join(case.argv)
    for known in KNOWN:
        if known.commands and case.command not in known.commands:
            continue
        if not re.search(known.signature, outcome.signature) or not re.search(known.message, outcome.message):
            continue
        if re.search(known.text, text):
            return known
    return None
