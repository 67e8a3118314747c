"""`cnncalc verify` on every shipped spec: the executor's shapes, counted multiplies and weights read agree with
the analyzers layer by layer (at a reduced input size where the full one would take minutes in pure Python)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnncalc.budget import Budget
from cnncalc.runner import verify
from cnncalc.spec import load_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"
REDUCED = {  # the smallest inputs that keep every layer valid, or near it
    "alexnet": (3, 63, 63),
    "vgg16": (3, 32, 32),
    "resnet18": (3, 32, 32),
    "resnet50": (3, 32, 32),
    "mobilenet_v2": (3, 32, 32),
    "mobilenet_v3_small": (3, 32, 32),
    "efficientnet_b0": (3, 32, 32),
    "shufflenet_v2_x1_0": (3, 32, 32),
    "convnext_tiny": (3, 32, 32),  # its four 2x downsamplings after a 4x stem end at 1 x 1: the smallest input
    "unet": (1, 16, 16),
}
TOO_LARGE = {
    # Unpadded convs lose 92 pixels per side: 188 x 188 is the smallest valid input, 6.1 G multiply-accumulates.
    "unet_original": "its smallest valid input (1 x 188 x 188) needs 6.1 G MACs: hours in pure Python",
}


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.stem)
def test_verify_agrees_on_every_spec(path: Path) -> None:
    reason = TOO_LARGE.get(path.stem)
    if reason:
        pytest.skip(reason)
    graph = load_spec(str(path), input_shape=REDUCED.get(path.stem))
    checks = verify(graph, seed=0, mode="eval", budget=Budget(max_macs=10**9, max_elements=10**9))
    differing = [check for check in checks if not check.ok]
    assert not differing, differing
    assert len(checks) == len(graph.nodes)
