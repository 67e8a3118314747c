"""`cnncalc kinds --format json`: every registered kind with its arguments exactly as declared."""

from __future__ import annotations

import json

from conftest import run_cli

from cnncalc import __version__
from cnncalc.args import REQUIRED
from cnncalc.layers import REGISTRY


def kinds_json() -> dict:  # type: ignore[type-arg]
    result = run_cli("kinds", "--format", "json")
    assert result.code == 0 and result.err == ""
    return json.loads(result.out)


def test_every_kind_with_its_declared_arguments() -> None:
    data = kinds_json()
    assert data["schema_version"] == 2 and data["cnncalc_version"] == __version__
    listed = {entry["kind"]: entry for entry in data["kinds"]}
    assert len(listed) == len(data["kinds"])
    assert set(listed) == {cls.kind for cls in REGISTRY.values()}
    for cls in REGISTRY.values():
        entry = listed[cls.kind]
        assert entry["other_ops"] == cls.ops_rule
        assert [a["name"] for a in entry["arguments"]] == [arg.name for arg in cls.arguments]
        for arg, shown in zip(cls.arguments, entry["arguments"], strict=True):
            assert shown["required"] is (arg.default is REQUIRED)
            assert shown["default"] == (None if arg.default is REQUIRED else arg.default)
            assert type(shown["default"]) is (type(None) if arg.default is REQUIRED else type(arg.default))
            assert shown["inferred"] is arg.inferred and shown["pytorch"] is arg.pytorch
            assert shown["doc"] == arg.doc
            assert shown["type"] == arg.type.expected(cls.dims)


def test_the_table_says_the_same_as_the_json() -> None:
    """The table is unchanged by the JSON option: rebuilt here from the JSON, line for line."""
    expected = []
    for entry in kinds_json()["kinds"]:
        args = []
        for arg in entry["arguments"]:
            if arg["inferred"]:
                args.append(f"{arg['name']}=(inferred)")
            elif arg["required"]:
                args.append(arg["name"])
            else:
                args.append(f"{arg['name']}={arg['default']!r}")
        expected += [f"{entry['kind']}({', '.join(args)})", f"    other ops: {entry['other_ops']}"]
    table = run_cli("kinds")
    assert table.code == 0
    assert table.out == "\n".join(expected) + "\n"
    assert run_cli("kinds", "--format", "yaml").code == 2
