"""`cnncalc run --input FILE` (and --grad-output FILE) report a bad file at the bad value's line and column: the
value that is no number, the first list that is ragged, the first list of the wrong length; not at 1:1."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

SPEC = "input: [1, 3]\nlayers:\n  - conv1d: {out_channels: 1, kernel_size: 2}\n"

CASES = [
    ("[[1, two, 3]]", "1:6", "is not a number: expected a number or 'p/q', got 'two'"),
    ("# values\n[[1, 2, 3],\n [4, 5]]", "3:2", "ragged at index [1]"),
    ("[[1, 2, 1/0]]", "1:9", "got '1/0'"),
    ("[[1, 2, 3, 4]]", "1:2", "has shape 1 x 4"),
    ("[[[1, 2, 3]],\n [[1, 2]]]", "2:3", "ragged at index [1, 0]"),
    ("[[[1, 2, 3]],\n [[1, 2, true]]]", "2:10", "expected a number, got true"),
    ("[[[1], [2], [3]]]", "1:2", "has shape 1 x 3 x 1"),
    ("- - 1\n  - 2\n  - .nan\n", "3:5", "expected a finite number, got nan"),
    ("- - 1\n  - 2\n- - 3\n", "3:3", "ragged at index [1]"),
    ("- - 1\n  - 2\n- - 3\n  - 4\n", "1:1", "has shape 2 x 2"),
    ("# just one number\n\n  7\n", "3:3", "has shape a single number"),
]


@pytest.mark.parametrize(("values", "where", "message"), CASES)
def test_input_errors_point_at_the_value(tmp_path: Path, values: str, where: str, message: str) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "x.yaml").write_text(values)
    result = run_cli("run", str(tmp_path / "spec.yaml"), "--input", str(tmp_path / "x.yaml"))
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert f"x.yaml:{where}: error: the input " in result.err and message in result.err, result.err


def test_grad_output_errors_point_at_the_value(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "x.yaml").write_text("[[1, 2, 3]]")
    (tmp_path / "g.yaml").write_text("[[1,\n  x]]")
    files = [str(tmp_path / name) for name in ("spec.yaml", "x.yaml", "g.yaml")]
    result = run_cli("run", files[0], "--input", files[1], "--grad-output", files[2])
    assert result.code == 2 and "Traceback" not in result.err, result.err
    assert "g.yaml:2:3: error: --grad-output holds a value that is not a number" in result.err, result.err
