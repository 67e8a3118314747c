"""Failures known today, each filed under its item of issue 9; nothing else may fail.

TO THE LEAD: these are the only exclusions. Each entry names its issue item and the area being fixed; remove an
entry when its fix is merged (the fuzzer then holds the fix). An entry matches a failure by its signature (kind,
exception and innermost cnncalc frame), optionally narrowed by the message and the command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .mutate import Case
from .worker import Outcome


@dataclass(frozen=True)
class Known:
    id: str
    item: str  # the issue item it belongs to
    area: str  # yaml loading, layer rules, executor, rendering, spec expansion, CLI
    signature: str  # a regular expression over Outcome.signature (re.search)
    message: str = ""  # and over Outcome.message
    commands: tuple[str, ...] = ()  # only for these commands (empty: any)
    reproduce: str = ""  # a minimal reproduction


KNOWN: list[Known] = []


def match(case: Case, outcome: Outcome) -> Known | None:
    for known in KNOWN:
        if known.commands and case.command not in known.commands:
            continue
        if re.search(known.signature, outcome.signature) and re.search(known.message, outcome.message):
            return known
    return None
