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


HUGE = r"(?<![\d.])[1-9]\d{6,}(?![\d.])"  # an integer of 10^6 or more

KNOWN: list[Known] = [
    Known(
        id="yaml-tag-values",
        item="issue 9 item 3: explicit tags (!!float abc, !!int abc, !!timestamp abc, !!bool maybe) end in tracebacks",
        area="yaml loading (cnncalc/yamlsource.py; `layer` NAME=VALUE in cnncalc/commands/common.py)",
        signature=r"^traceback \w+ at cnncalc/(yamlsource\.py:build|commands/common\.py:named_values)"
        r" > constructor\.py:construct_yaml_(int|float|bool|timestamp)$",
        reproduce="printf 'input: [1, 4, 4]\\nlayers:\\n- conv2d: {out_channels: !!int abc, kernel_size: 1}\\n'"
        " > t.yaml"
        " && cnncalc summary t.yaml; cnncalc layer relu --input 3 'inplace=!!bool maybe'",
    ),
    Known(
        id="yaml-set-key",
        item="issue 9 item 3: every explicit tag works or gets a message (a !!set mapping key is unhashable)",
        area="yaml loading (cnncalc/yamlsource.py)",
        signature=r"^traceback TypeError at cnncalc/yamlsource\.py:build$",
        message=r"^unhashable type",
        reproduce="printf 'input: [1, 4, 4]\\nlayers:\\n- relu: {!!set name: x}\\n' > t.yaml && cnncalc summary t.yaml",
    ),
    Known(
        id="yaml-deep-nesting-recursion",
        item="issue 9 item 3: no traceback for any document (a value nested ~1000 deep: RecursionError)",
        area="yaml loading (cnncalc/yamlsource.py: _Builder.build recurses per level)",
        signature=r"^traceback RecursionError at cnncalc/yamlsource\.py:(build|<listcomp>)$",
        reproduce="python -c \"print('input: [1, 4, 4]\\nlayers:\\n- conv2d: {out_channels: 1, kernel_size: '"
        " + '['*1000 + '1' + ']'*1000 + '}')\" > t.yaml && cnncalc summary t.yaml",
    ),
    Known(
        id="yaml-deep-nesting-segfault",
        item="issue 9 item 3: no traceback for any document (nested ~30,000 deep: libyaml's composer segfaults"
        " after seconds)",
        area="yaml loading (cnncalc/yamlsource.py: CSafeLoader.get_single_node; bound the depth before composing)",
        signature=r"^(crash|timeout) at cnncalc/yamlsource\.py:load_yaml( > resolver\.py:\w+)?$",
        text=r"(\[|\{a: ){5000}",
        reproduce="python -c \"print('input: [1, 4, 4]\\nlayers:\\n- conv2d: {out_channels: 1, kernel_size: '"
        " + '['*30000 + '1' + ']'*30000 + '}')\" > t.yaml && cnncalc summary t.yaml   # exit -11 (SIGSEGV)",
    ),
    Known(
        id="non-finite-numbers",
        item="issue 9 item 3: non-finite eps, momentum, ConstantPad value, dropout p (.nan, .inf) crash"
        " run/verify/explain/fuse/layer",
        area="layer rules (argument checks) / executor",
        signature=r"^traceback (ValueError|OverflowError) at cnncalc/",
        message=r"(?i)(cannot convert (float )?(nan|infinity)|invalid literal for fraction: '[-+]?(nan|inf))",
        reproduce="cnncalc layer constantpad1d --input 1x4 padding=1 value=.nan; printf 'input: [2]\\nlayers:\\n"
        "- batchnorm1d: {eps: .nan}\\n' > t.yaml && cnncalc run t.yaml",
    ),
    Known(
        id="huge-repeat",
        item="issue 9 item 4: repeat: 1000000000 is refused only after 18 s and 3.6 GB",
        area="spec expansion (cnncalc/spec.py)",
        signature=r"^(timeout|memory MemoryError) at cnncalc/",
        text=rf"repeat: {HUGE}",
        reproduce="printf 'input: [2]\\nlayers:\\n- relu: {repeat: 1000000000}\\n' > t.yaml && cnncalc summary t.yaml",
    ),
    Known(
        id="huge-adaptive-output",
        item="issue 9 item 4: adaptive pooling with a huge output_size runs for minutes (all six adaptive kinds)",
        area="layer rules (cnncalc/layers/pooling.py: bins listed one by one)",
        signature=r"^(timeout|memory MemoryError) at cnncalc/(layers/pooling\.py|formula\.py:ceil_div)",
        text=rf"(?is)adaptive.*{HUGE}",
        reproduce="cnncalc layer adaptiveavgpool1d --input 1x3 output_size=100000000",
    ),
    Known(
        id="pooling-huge-axis",
        item="issue 9 item 4: pooling over a huge axis (maxpool1d over 10^8 takes 8 GB)",
        area="layer rules (cnncalc/layers/pooling.py: windows listed one by one)",
        signature=r"^(timeout|memory MemoryError) at cnncalc/layers/pooling\.py:"
        r"(_window_taps|sliding_taps|padding_only_windows|<listcomp>|<genexpr>)",
        text=HUGE,
        reproduce="cnncalc layer maxpool1d --input 1x100000000 kernel_size=2",
    ),
    Known(
        id="seed-weights-overflow",
        item="issue 9 item 4: fuse --seed-weights on a 10^30-channel conv overflows (huge seeded weights)",
        area="executor (cnncalc/layers/base.py initial_values; cnncalc/execute.py weights_for)",
        signature=r"^traceback OverflowError at cnncalc/layers/base\.py:initial_values > random\.py:choices$",
        reproduce="printf 'input: [1, 4, 4]\\nlayers:\\n- conv2d: {out_channels: 1000000000000000000000000000000,"
        " kernel_size: 1}\\n' > t.yaml && cnncalc fuse t.yaml -o out.yaml --seed-weights 1",
    ),
    Known(
        id="executor-budget-macs-only",
        item="issue 9 item 4: the executor's budget counts MACs only (not elements, exp/sqrt work); Sigmoid/SiLU"
        " exp() slow",
        area="executor (cnncalc/execute.py, runner.py, tensor.py, the kinds' forward, render/values.py)",
        signature=r"^(timeout|memory MemoryError) at cnncalc/(execute|runner|tensor|fuse|render/values|layers/\w+)\.py",
        commands=("run", "verify", "fuse"),
        reproduce="printf 'input: [16, 64, 64]\\nlayers:\\n- sigmoid\\n' > t.yaml && cnncalc run t.yaml --trace"
        " --backward --max-macs 1   # 0 MACs pass the budget, seconds of work",
    ),
]


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
