"""summary --training and explain --training from the command line, and the training-memory rule: optimizer state
as torch.optim keeps it, training_bytes = params + gradients + optimizer state + saved."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from cnncalc.spec import load_spec
from cnncalc.training import optimizer_state_bytes


def cnncalc(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, check=True)
    return done.stdout


def totals(*args: str) -> dict[str, Any]:
    return json.loads(cnncalc("summary", *args, "--format", "json"))["totals"]


def test_json_gains_training_keys_only_with_training() -> None:
    plain = json.loads(cnncalc("summary", "specs/lenet5.yaml", "--format", "json"))
    assert "saved_bytes" not in plain["totals"] and "backward_macs" not in plain["layers"][0]
    data = json.loads(cnncalc("summary", "specs/lenet5.yaml", "--training", "--format", "json"))
    rows, t = data["layers"], data["totals"]
    assert t["saved_bytes"] == sum(r["saved_bytes"] for r in rows)
    assert t["backward_macs"] == sum(r["backward_macs"] for r in rows)
    assert t["optimizer"] == "adam"
    # Adam: params, their gradients, exp_avg and exp_avg_sq (4 x the trainable bytes here), a float32 step per tensor
    tensors = sum(len(r["weight_shapes"]) for r in rows)
    assert t["training_bytes"] == 4 * t["param_bytes"] + 4 * tensors + t["saved_bytes"]


@pytest.mark.parametrize("optimizer, copies", [("sgd", 2), ("momentum", 3), ("adamw", 4)])
def test_training_bytes_per_optimizer(optimizer: str, copies: int) -> None:
    t = totals("specs/resnet18.yaml", "--training", "--optimizer", optimizer, "--batch", "4", "--dtype", "float16")
    steps = 62 * 4 if optimizer == "adamw" else 0  # ResNet-18 has 62 parameter tensors
    assert t["training_bytes"] == copies * t["param_bytes"] + steps + t["saved_bytes"]


def test_batch_and_dtype_scale_saved_bytes() -> None:
    one = totals("specs/resnet18.yaml", "--training")
    assert one["saved_bytes"] == 22_218_240 and one["backward_macs"] == 3_510_132_736  # PyTorch's (test_training_*)
    four = totals("specs/resnet18.yaml", "--training", "--batch", "4", "--dtype", "float16")
    # BatchNorm's per-channel statistics (2 x 4,800 values) do not grow with the batch, max-pooling's int64 indices
    # (64 x 56 x 56) keep 8 bytes whatever the dtype; everything else grows with the batch in the dtype's size
    stats, indices = 2 * 4_800, 64 * 56 * 56 * 8
    rest = one["saved_bytes"] - 4 * stats - indices
    assert four["saved_bytes"] == 2 * stats + 4 * indices + 4 * rest // 2
    assert four["backward_macs"] == 4 * one["backward_macs"]


def test_table_and_explain_show_the_derivation() -> None:
    table = cnncalc("summary", "specs/lenet5.yaml", "--training", "--width", "150")
    assert "Bwd MACs" in table and "Saved" in table
    assert "Backward MACs: 12,652,000; saved for backward: 183,496 B" in table
    text = cnncalc("explain", "specs/resnet18.yaml", "--layer", "maxpool", "--training")
    assert "saves indices of the maxima: 1 x 64 x 56 x 56 int64, own memory: 1,605,632 B" in text
    assert "saves input: 1 x 64 x 112 x 112 float32, the memory of 'relu': counted already" in text
    data = json.loads(cnncalc("explain", "specs/lenet5.yaml", "-l", "conv1", "--training", "-f", "json"))
    assert data["layers"][0]["training"]["backward_terms"] == [{"what": "weight gradient", "macs": 392_000}]


def test_optimizer_state_is_torch_optims() -> None:
    torch = pytest.importorskip("torch")
    from training_torch import train_graph

    graph = load_spec("specs/lenet5_bn.yaml", batch=2)
    for name, optimizer in (
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
        ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("adam", lambda p: torch.optim.Adam(p)),
        ("adamw", lambda p: torch.optim.AdamW(p)),
    ):
        net = train_graph(graph)
        parameters = [p for m in net.modules.values() for p in m.parameters() if p.requires_grad]
        step = optimizer(parameters)
        out = net(torch.randn((2, *graph.input_shape)))[graph.output]
        out.sum().backward()
        step.step()
        state = sum(t.numel() * t.element_size() for s in step.state.values() for t in s.values() if torch.is_tensor(t))
        count = sum(p.numel() for p in parameters)
        assert optimizer_state_bytes(name, count, len(parameters), 4) == state, name


def test_batchnorm_on_one_value_per_channel_cannot_train(tmp_path: Any) -> None:
    spec = tmp_path / "bn1d.yaml"
    spec.write_text("input: [4, 2, 2]\nlayers:\n  - flatten\n  - batchnorm1d\n")
    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", "summary", str(spec), "--training"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "PyTorch cannot train BatchNorm" in done.stderr and "--batch 2" in done.stderr
    assert "Traceback" not in done.stderr
    assert totals(str(spec), "--training", "--batch", "2")["saved_bytes"] > 0
