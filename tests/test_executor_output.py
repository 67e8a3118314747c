"""`cnncalc run` prints exact results of any length: integers beyond the 4,300 digits Python's str() allows by
default (its guard against slow parsing of untrusted text) are printed whole, in the table and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

# Fifty 1x1 convs, each multiplying by 10**100: the output is 10**5000 times the input.
SPEC = """name: long_integers
input: [1, 1, 1]
layers:
  - conv2d: {out_channels: 1, kernel_size: 1, bias: false, weights: {weight: [[[[1%s]]]]}, repeat: 50}
""" % ("0" * 100)


def test_results_longer_than_4300_digits_print_whole(tmp_path: Path) -> None:
    spec, given = tmp_path / "long.yaml", tmp_path / "x.yaml"
    spec.write_text(SPEC)
    given.write_text("[[[7]]]\n")
    table = run_cli("run", str(spec), "--input", str(given), "--backward")
    assert table.code == 0 and "Traceback" not in table.err, table.err
    assert "7" + "0" * 5000 in table.out
    text = run_cli("run", str(spec), "--input", str(given), "--format", "json").out
    data = json.loads(text, parse_int=lambda digits: digits)  # the digits as text: this process keeps the guard
    assert data["output"] == [[["7" + "0" * 5000]]]
