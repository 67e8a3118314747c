"""docs/teaching.md shows real output: every `$ cnncalc ...` block in it is run here and must print exactly what
the guide shows (rewrite the guide's blocks with `pytest --update-golden`)."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT, run_cli

GUIDE = ROOT / "docs" / "teaching.md"
BLOCK = re.compile(r"```console\n\$ cnncalc (?P<command>[^\n]*)\n(?P<output>.*?)```", re.S)


def test_every_command_in_the_guide_prints_what_the_guide_shows(request) -> None:  # type: ignore[no-untyped-def]
    text = GUIDE.read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 8, "the guide works the lecture examples through cnncalc"
    update = request.config.getoption("--update-golden")
    rewritten, position = [], 0
    for block in blocks:
        result = run_cli(*shlex.split(block["command"]))
        shown = result.out + result.err
        if update:
            rewritten.append(text[position : block.start("output")] + shown)
            position = block.end("output")
        else:
            assert shown == block["output"], f"docs/teaching.md: `cnncalc {block['command']}` prints otherwise"
    if update:
        GUIDE.write_text("".join(rewritten) + text[position:], encoding="utf-8")
