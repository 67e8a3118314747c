"""Spec loading: YAML text -> expanded layer graph with inferred shapes (the language: docs/language.md).

The basic form is docs/design.md's: `input`, `layers` (a kind name or a one-key mapping `kind: {arguments}`),
reserved argument keys `name` and `inputs`, and `batch`. On top of it, reusable blocks:

    blocks:
      bottleneck:                       # a block: parameters with defaults (null = required) and layers
        params: {width: null, out: null, stride: 1}
        layers:
          - conv2d: {out_channels: $width, kernel_size: 1, bias: false}
          ...
    layers:
      - bottleneck: {width: 64, out: 256, repeat: 3, name: layer1}

A block is used like a layer kind; values holding `$` are expressions (docs/language.md). Inside a block,
`input` is the block's input and names are local; outside, the block's name stands for its last layer and
`name.local` reaches inside. `repeat: N` (any entry, N >= 0) chains N copies named name.0 ... name.N-1, like
torchvision's layer1.0. `when:` and `- if:` make entries only when a condition holds. `trainable: false` freezes
a layer's parameters.

Names are PyTorch's module paths (cnncalc.names), so a flat spec may name its layers as torchvision does
(`layer1.0.conv1`). Every layer, block use and repeat has a full name (the prefix of the block uses it sits in,
then its own name), and full names are unique across the network.

The modules: `document` (text and top-level keys), `blocks` (reading and counting blocks), `entries` (the forms
of an entry), `expand` (entries -> nodes, each layer built when placed: conditions, repeats, several outputs),
`scope` (names and what they stand for), `values` (arguments through cnncalc.spec.expressions).
"""

from cnncalc.spec.blocks import BLOCK_KEYS, RESERVED
from cnncalc.spec.document import TOP_KEYS, at_input, graph_from_document, load_spec, parse_spec, read_spec_text
from cnncalc.spec.expand import MAX_NODES

__all__ = [
    "BLOCK_KEYS",
    "MAX_NODES",
    "RESERVED",
    "TOP_KEYS",
    "at_input",
    "graph_from_document",
    "load_spec",
    "parse_spec",
    "read_spec_text",
]
