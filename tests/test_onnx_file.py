"""Reading an .onnx file without the bytes of its large weights (cnncalc.bridges.onnx_file, issue 13): the model
protobuf parses is the file's, less the raw_data of initializers of more than 1024 values, whose places in the file
give back exactly those bytes; anything the walk does not expect goes to onnx.load, so broken files get the same
message as before; and an import reads the same network either way, the values of left-out weights included."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")

from cnncalc.bridges import from_onnx  # noqa: E402
from cnncalc.bridges.onnx_file import read_left_out, read_without_large_data  # noqa: E402
from cnncalc.errors import SpecError  # noqa: E402

LARGE = from_onnx._SMALL


def _random_tensor(rng: random.Random, name: str) -> Any:
    rank = rng.randint(0, 4)
    dims = [rng.choice([0, 1, 2, 3, 7, 16, 33, 64]) for _ in range(rank)]
    count = math.prod(dims)
    kind = rng.choice(["float", "int64", "double", "uint8"])
    data_type = {"float": 1, "int64": 7, "double": 11, "uint8": 2}[kind]
    values = [rng.randint(-5, 5) if kind != "uint8" else rng.randint(0, 255) for _ in range(count)]
    raw = rng.random() < 0.8
    dtypes = {"float": np.float32, "int64": np.int64, "double": np.float64, "uint8": np.uint8}
    array = np.array(values, dtype=dtypes[kind])
    tensor = onnx.helper.make_tensor(name, data_type, dims, array if raw else values, raw=raw)
    if rng.random() < 0.2:
        tensor.doc_string = "a weight " * rng.randint(0, 3)
    if rng.random() < 0.1:  # a value in a side file: no raw_data at all
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "side.bin"
    return tensor


def _random_model(rng: random.Random) -> Any:
    helper = onnx.helper
    names = [rng.choice(["w", "conv.weight", "é_bias", "onnx::Conv_1"]) + str(i) for i in range(rng.randint(0, 12))]
    initializers = [_random_tensor(rng, name) for name in names]
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializers,
        doc_string="graph " * rng.randint(0, 2),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tests")
    if rng.random() < 0.3:
        entry = model.metadata_props.add()
        entry.key, entry.value = "k", "v" * rng.randint(0, 300)
    return model


def _less_large_raw_data(model: Any) -> Any:
    """The model as read_without_large_data should give it."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for tensor in copy.graph.initializer:
        if tensor.raw_data and math.prod(tensor.dims) > LARGE:
            tensor.ClearField("raw_data")
    return copy


def test_random_models_read_as_the_file_less_the_large_raw_data(tmp_path: Path) -> None:
    rng = random.Random(7)
    left_out_seen = 0
    for case in range(60):
        model = _random_model(rng)
        path = tmp_path / f"m{case}.onnx"
        onnx.save(model, str(path))
        loaded = read_without_large_data(onnx, str(path), LARGE)
        assert loaded is not None
        read, places = loaded
        assert read == _less_large_raw_data(onnx.load(str(path), load_external_data=False))
        originals = {tensor.name: tensor for tensor in model.graph.initializer}
        assert set(places) == {t.name for t in read.graph.initializer if t.name in originals and not t.raw_data
                               and originals[t.name].raw_data}  # fmt: skip
        for name, place in places.items():
            assert read_left_out(str(path), place) == originals[name].raw_data
        left_out_seen += len(places)
    assert left_out_seen > 20


def _tiny_file(tmp_path: Path) -> Path:
    helper = onnx.helper
    weight = helper.make_tensor("w", 1, [8, 3, 7, 7], np.arange(8 * 3 * 49, dtype=np.float32), raw=True)
    bias = helper.make_tensor("b", 1, [8], np.full(8, 0.5, dtype=np.float32), raw=True)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", kernel_shape=[7, 7])],
        "g",
        [helper.make_tensor_value_info("x", 1, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", 1, None)],
        [weight, bias],
    )
    path = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _outcome(load: Any) -> Any:
    try:
        model = load()
    except SpecError as error:
        return ("error", error.render())
    return ("model", _less_large_raw_data(model[0] if isinstance(model, tuple) else model))


def test_cut_files_fail_as_onnx_load_says_or_read_alike(tmp_path: Path) -> None:
    whole = _tiny_file(tmp_path).read_bytes()
    rng = random.Random(3)
    cut = tmp_path / "cut.onnx"
    errors = 0
    for end in sorted({0, 1, 2, len(whole) - 1, *(rng.randrange(len(whole)) for _ in range(40))}):
        cut.write_bytes(whole[:end] + bytes(rng.randrange(3)) * (end % 2))
        fast = _outcome(lambda: from_onnx._load(onnx, str(cut)))
        general = _outcome(lambda: (from_onnx._load_whole(onnx, str(cut)), {}))
        if general[0] == "model":  # the general path's own checks (no nodes, no IR version) come after loading
            try:
                from_onnx._check_external_data(onnx, general[1], cut)
                if general[1].ir_version <= 0 or not general[1].graph.node:
                    continue  # both raise _load's own "holds no graph nodes": compared by the CLI tests
            except SpecError:
                continue
        assert fast == general, end
        errors += general[0] == "error"
    assert errors > 5


def test_an_import_reads_the_same_network_and_values_either_way(tmp_path: Path) -> None:
    path = str(_tiny_file(tmp_path))
    model, left_out = from_onnx._load(onnx, path)
    assert set(left_out) == {"w"}  # 1,176 values; the bias's 8 are read
    fast = from_onnx._Importer(onnx, model, path, left_out)
    general = from_onnx._Importer(onnx, from_onnx._load_whole(onnx, path), path)
    assert fast.network() == general.network()
    assert (fast.value("w") == general.value("w")).all() and fast.value("w").shape == (8, 3, 7, 7)
