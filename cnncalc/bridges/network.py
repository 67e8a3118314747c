"""The importers' common form: a network as cnncalc layers, named as PyTorch names its modules, with the module
tree each layer sits in, before it is written as a spec (cnncalc.bridges.writer).

Framework-free: the PyTorch and ONNX importers build it; the writer and the tests read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NETWORK_INPUT = "input"


@dataclass(frozen=True)
class Scope:
    """One module instance a layer sits in: its path in the model ("layer1.0") and its class ("Bottleneck")."""

    path: str
    cls: str


@dataclass
class ImportedLayer:
    """One cnncalc layer.

    `name` is unique and is the state_dict prefix of the layer's weights: a module's path ("layer1.0.conv1"); for
    a functional call, the path of the module it is called in plus the call's own name ("layer1.0.add"); a module
    called more than once gets "_1", "_2", ... after its path from the second call on ("layer1.0.relu_1").
    `kind` is cnncalc's kind as registered ("Conv2d"); `arguments` are cnncalc's arguments for it as plain YAML
    values (int, float, str, bool, None, lists), defaults and inferred sizes (in_channels, num_features, ...)
    left out. `inputs` are earlier layers' names or NETWORK_INPUT. `scopes` are the module instances the layer sits
    in, outermost first, neither the root model nor the layer's own module (for "layer1.0.downsample.0":
    layer1 (Sequential), layer1.0 (Bottleneck), layer1.0.downsample (Sequential)).
    """

    name: str
    kind: str
    arguments: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=lambda: [NETWORK_INPUT])
    scopes: tuple[Scope, ...] = ()


@dataclass
class ImportedNetwork:
    """A whole imported network, its layers in an order where every layer comes after its inputs.

    `notes` are facts the user must know and the spec cannot say (parameters the traced graph never reaches, with
    their count; BatchNorms an ONNX exporter folded into convolutions; initializers shared by several nodes).
    `unsupported` maps each operation cnncalc cannot express to where it occurs (module paths or node names), in
    order of first occurrence; an importer that fills it raises `Unsupported` rather than returning.
    """

    name: str
    source: str
    input_shape: tuple[int, ...]
    layers: list[ImportedLayer]
    output: str
    notes: list[str] = field(default_factory=list)
