"""`cnncalc import`: a PyTorch model (traced with torch.fx) or an ONNX file, written as a spec."""

from __future__ import annotations

import typer

from cnncalc.commands.common import write, write_file


def import_(
    source: str = typer.Argument(
        ...,
        help="package.module:callable that builds an nn.Module (torchvision.models:resnet50), or a file.onnx.",
        show_default=False,
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the spec here (default: standard output).", show_default=False
    ),
    input: str | None = typer.Option(
        None,
        "--input",
        "-i",
        help="The input size of one sample, e.g. 3x224x224 (required for a callable).",
        show_default=False,
    ),
    arg: list[str] = typer.Option(
        [],
        "--arg",
        "-a",
        metavar="NAME=VALUE",
        help="A keyword argument for the callable, its value read as YAML (num_classes=10, weights=null); repeat.",
    ),
    flat: bool = typer.Option(False, "--flat", help="One entry per layer: no blocks for repeated modules."),
) -> None:
    """Write a spec for a PyTorch model or an ONNX file, with PyTorch's module names.

    A callable is imported, called with the --arg values as keyword arguments, put in eval mode and traced with
    torch.fx at --input (one sample, as a spec's input). Leaf modules and functional calls (F.relu, torch.flatten,
    x.mean([2, 3]), torch.cat, +, *, chunk, permute, view, ...) become cnncalc layers named as in the model's
    state_dict; repeated submodules become uses of one block (unless --flat). Parameters the traced forward never
    reaches (auxiliary heads in eval) are left out and named in a comment. Anything cnncalc cannot express is
    listed once per operation with where it occurs, and nothing is written (exit 2). The spec is read back before
    it is written: its output shape is the traced one. A torchvision model: torchvision.models:resnet50.

    \b
    Examples:
      cnncalc import torch.nn:Conv2d --arg in_channels=3 --arg out_channels=8 --arg kernel_size=3 --input 3x32x32
      cnncalc import torch.nn:Linear -a in_features=512 -a out_features=10 --input 512 -o head.yaml
    """
    from cnncalc.bridges.writer import write_spec
    from cnncalc.errors import UsageError

    expected: tuple[int, ...] | None = None
    if source.lower().endswith(".onnx"):
        network = _read_onnx(source)
    else:
        from cnncalc.bridges.from_torch import import_callable
        from cnncalc.commands.common import named_values
        from cnncalc.runner import parse_shape

        if not input:
            raise UsageError(
                f"importing {source} needs the input size of one sample: --input",
                hint="for example --input 3x224x224",
            )
        network, expected = import_callable(source, named_values(arg), parse_shape(input))
    text = write_spec(network, fold=not flat)
    _check_reads_back(text, expected, output or "<stdout>")
    if output:
        write_file(output, text)
    else:
        write(text)


import_.__name__ = "import"  # the command's name (`import` is a Python keyword)


def _read_onnx(source: str) -> object:
    """The ONNX importer (cnncalc.bridges.from_onnx), or a clear message where it is not part of this cnncalc."""
    from cnncalc.errors import UsageError

    try:
        from cnncalc.bridges.from_onnx import read_onnx  # type: ignore[import-not-found, unused-ignore]
    except ImportError as error:
        if "from_onnx" not in str(error):
            raise
        raise UsageError("this cnncalc cannot read ONNX files yet (cnncalc.bridges.from_onnx is missing)") from None
    return read_onnx(source)


def _check_reads_back(text: str, expected: tuple[int, ...] | None, file: str) -> None:
    """The import never writes a spec that does not load, or whose output is not the traced model's."""
    from cnncalc.errors import CnncalcError, UsageError
    from cnncalc.spec import parse_spec

    try:
        graph = parse_spec(text, file)
    except CnncalcError as error:
        raise UsageError(
            f"the imported spec does not load, so nothing was written: {error.render()}",
            hint="this is a bug in cnncalc import: please report it with the model",
        ) from None
    got = tuple(graph.output_shape)
    if expected is not None and got != tuple(expected):
        raise UsageError(
            f"the imported spec's output shape {list(got)} is not the traced model's {list(expected)}; nothing was "
            "written",
            hint="this is a bug in cnncalc import: please report it with the model",
        )
