"""docs/language.md works as printed: every YAML example is a whole spec that cnncalc loads and `cnncalc schema`
accepts; an example followed by a `text` block starting with `spec.yaml:` is refused with exactly that message."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from jsonschema import Draft7Validator

from cnncalc.errors import SpecError
from cnncalc.layers import REGISTRY
from cnncalc.schema import spec_schema
from cnncalc.spec import parse_spec
from cnncalc.yamlsource import load_yaml

GUIDE = ROOT / "docs" / "language.md"
BLOCK = re.compile(
    r"(?:<!-- needs: (?P<needs>[\w, ]+) -->\n)?```yaml\n(?P<spec>.*?)```(?:\n\n```text\n(?P<error>.*?)```)?", re.S
)


def examples() -> list[tuple[int, str, str | None, list[str]]]:
    text = GUIDE.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text[: match.start("spec")].count("\n") + 1
        needs = [kind.strip() for kind in (match["needs"] or "").split(",") if kind.strip()]
        found.append((line, match["spec"], match["error"], needs))
    return found


def test_the_guide_has_examples_of_every_construct() -> None:
    text = "\n".join(spec for _, spec, _, _ in examples())
    for construct in ("blocks:", "$in_channels", "$index", "repeat: 0", "when:", "- if:", "then:"):
        assert construct in text, construct
    assert re.search(r"- \$\w+: \{", text) and re.search(r"- \$\w+\n", text)  # kinds as parameters, both forms
    assert "make_divisible" in text and "chunk" in text


@pytest.mark.parametrize(
    ("line", "spec", "error", "needs"), examples(), ids=lambda v: str(v) if isinstance(v, int) else ""
)
def test_guide_example(line: int, spec: str, error: str | None, needs: list[str]) -> None:
    missing = [kind for kind in needs if kind not in REGISTRY]
    if missing:
        pytest.skip(f"docs/language.md:{line} needs {', '.join(missing)}, not in this registry")
    if error is not None:
        with pytest.raises(SpecError) as caught:
            parse_spec(spec, "spec.yaml")
        assert caught.value.render() == error.rstrip("\n"), f"docs/language.md:{line}"
        return
    graph = parse_spec(spec, "spec.yaml")
    assert graph.nodes
    assert not graph.warnings, graph.warnings
    assert Draft7Validator(spec_schema()).is_valid(load_yaml(spec, "spec.yaml")), f"docs/language.md:{line}"
