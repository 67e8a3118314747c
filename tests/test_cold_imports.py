"""A cold `cnncalc summary` imports only what it uses (issue 13): start-up time is a feature, and the speed goal
(within 1.3x of `python -c "import typer, yaml"`) holds only while no command, renderer, bridge or library the run
does not need is imported. This is a test of which modules are loaded, not of time, so it cannot be flaky.

Each case runs `python -m cnncalc ...` in a fresh interpreter that writes sorted(sys.modules) at exit, and compares
it with what `import typer, yaml` (the floor) loads. When a change makes one of these fail, import the module where
it is used (inside the function), not at the top of a module the summary path loads; add a module to the allowed
sets below only if the summary path really runs its code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Writes the modules loaded when the process ends, one per line: the program ends with os._exit (cli.console: no
# teardown, no exit handlers), so that is where they are written.
MODULES_AT_EXIT = r"""
import atexit, os, runpy, sys
path = sys.argv[1]
exit_now = os._exit
def written(code):
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(sorted(sys.modules)))
    exit_now(code)
os._exit = written
sys.argv = ["cnncalc", *sys.argv[2:]]
runpy.run_module("cnncalc", run_name="__main__", alter_sys=True)
"""

# The cnncalc modules a summary loads whatever its format: the command, the spec reader (at each size), the
# analyzers. Packages ending in "." are allowed whole: the registry imports every layer kind, the spec reader its parts.
CORE = {
    "cnncalc",
    "cnncalc.analyze",
    "cnncalc.args",
    "cnncalc.cli",
    "cnncalc.commands",
    "cnncalc.commands.common",
    "cnncalc.commands.summary",
    "cnncalc.compute",
    "cnncalc.errors",
    "cnncalc.formula",
    "cnncalc.graph",
    "cnncalc.layers.",
    "cnncalc.layout",
    "cnncalc.names",
    "cnncalc.receptive",
    "cnncalc.sizes",  # the spec read at each --input size (or its own)
    "cnncalc.spec.",
    "cnncalc.speed",
    "cnncalc.tensor",
    "cnncalc.units",
    "cnncalc.yamllines",  # the line reader, tried first (cnncalc.yamlsource.load_yaml)
    "cnncalc.yamlsource",
    "cnncalc.yamlvalues",
}
JSON = CORE | {"cnncalc.render", "cnncalc.render.json_report", "cnncalc.tree"}
TABLE = (
    CORE
    | {"cnncalc.render"}
    | {f"cnncalc.render.{name}" for name in ("cells", "grid", "screen", "summary_lines", "table")}
)

# Named so that a failure reads plainly; every one is also outside the allowed sets above.
NEVER = {
    "rich",  # typer's help and error boxes; a table in a pipe or without colour is plain text
    "click",  # typer vendors its own copy (typer._click)
    "shellingham",  # typer's shell completion
    "cnncalc.bridges",
    "cnncalc.execute",
    "cnncalc.runner",
    "cnncalc.lint",
    "cnncalc.check",
    "cnncalc.limits",
    "cnncalc.budget",
    "cnncalc.training",
    "cnncalc.fuse",
    "cnncalc.diff",
    "cnncalc.schema",
    "cnncalc.commands.run",
    "cnncalc.commands.check",
    "cnncalc.commands.lint",
    "cnncalc.commands.diff",
    "cnncalc.render.flat",
    "cnncalc.render.md",
    "cnncalc.render.explain",
    "cnncalc.render.check",
    "cnncalc.render.tree_cells",
    "torch",
    "onnx",
    "numpy",
    # standard modules the summary has no use for, some of them slow to import
    "difflib",
    "subprocess",
    "tempfile",
    "shutil",
    "zipfile",
    "multiprocessing",
    "concurrent",
    "asyncio",
    "csv",
    "random",
    "importlib.metadata",
    "cnncalc.layers.attention",  # kinds ResNet-50 does not use
    "cnncalc.layers.resize",
    "cnncalc.layers.pieces",
    "cnncalc.layers.scale",
    "fractions",  # ResNet-50's figures are all integers (its global pool's window too)
    "decimal",
}
THIRD_PARTY_ALLOWED = {"typer", "yaml", "_yaml"}
RESNET50 = "specs/resnet50.yaml"


def loaded(tmp_path: Path, code: str, arguments: list[str], env: dict[str, str] | None = None) -> set[str]:
    out = tmp_path / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out), *arguments],
        cwd=ROOT,
        env=env or child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,  # standard output a pipe, as in `cnncalc summary net.yaml | less`
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return set(out.read_text(encoding="utf-8").split())


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """What `import typer, yaml` loads: every run pays for it."""
    out = tmp_path_factory.mktemp("floor") / "modules.txt"
    code = "import sys, typer, yaml; open(sys.argv[1], 'w').write('\\n'.join(sorted(sys.modules)))"
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, env=child_env(), check=True)
    return set(out.read_text(encoding="utf-8").split())


def allowed(module: str, names: set[str]) -> bool:
    return module in names or any(name.endswith(".") and (module + ".").startswith(name) for name in names)


def assert_only(modules: set[str], floor: set[str], names: set[str]) -> None:
    extra = modules - floor
    never = sorted(m for m in extra if m in NEVER or m.split(".")[0] in NEVER or m.rsplit(".", 1)[0] in NEVER)
    assert not never, f"the summary path imports modules it does not use: {never}"
    ours = sorted(m for m in extra if m.split(".")[0] == "cnncalc" and not allowed(m, names))
    assert not ours, f"the summary path imports cnncalc modules it does not use: {ours}"
    standard = set(sys.stdlib_module_names)
    foreign = sorted(
        m for m in extra if m.split(".")[0] not in standard | {"cnncalc"} | THIRD_PARTY_ALLOWED and m != "__main__"
    )
    assert not foreign, f"the summary path imports third-party modules: {foreign}"


def test_json_summary_imports_only_what_it_uses(tmp_path: Path, floor: set[str]) -> None:
    modules = loaded(tmp_path, MODULES_AT_EXIT, ["summary", RESNET50, "--format", "json"])
    assert "cnncalc.render.json_report" in modules  # the case ran the JSON path
    assert_only(modules, floor, JSON)
    assert "cnncalc.render.table" not in modules


@pytest.mark.parametrize("no_color", [False, True], ids=["pipe", "pipe-no-color"])
def test_table_in_a_pipe_imports_only_what_it_uses(tmp_path: Path, floor: set[str], no_color: bool) -> None:
    env = child_env(NO_COLOR="1") if no_color else child_env()
    modules = loaded(tmp_path, MODULES_AT_EXIT, ["summary", RESNET50], env)
    assert "cnncalc.render.table" in modules  # the case ran the table path
    assert_only(modules, floor, TABLE)
    assert "cnncalc.render.json_report" not in modules and "json" not in modules - floor


def test_other_commands_are_not_built(tmp_path: Path, floor: set[str]) -> None:
    """`cnncalc summary` builds only its own command: no other command module is imported."""
    modules = loaded(tmp_path, MODULES_AT_EXIT, ["summary", "specs/lenet5.yaml", "--format", "json"])
    commands = sorted(m for m in modules if m.startswith("cnncalc.commands."))
    assert commands == ["cnncalc.commands.common", "cnncalc.commands.summary"]


def test_the_check_can_fail(tmp_path: Path, floor: set[str]) -> None:
    """The comparison sees a module the path does not use (here the executor, imported on purpose)."""
    code = MODULES_AT_EXIT.replace("import atexit,", "import cnncalc.execute, atexit,")
    modules = loaded(tmp_path, code, ["summary", RESNET50, "--format", "json"])
    with pytest.raises(AssertionError, match=r"cnncalc\.execute"):
        assert_only(modules, floor, JSON)


def test_kind_index_names_every_kind_where_it_is() -> None:
    """cnncalc.layers.registry.KIND_MODULES, which lets a spec import only its kinds' modules, is every module's
    own registrations: no kind missing, none in the wrong module, no module left out."""
    import pkgutil

    import cnncalc.layers
    from cnncalc.layers.registry import KIND_MODULES, REGISTRY

    REGISTRY.load_all()
    registered: dict[str, list[str]] = {}
    for cls in REGISTRY.kinds.values():  # each module's kinds in the order it registers them
        registered.setdefault(cls.__module__.rsplit(".", 1)[1], []).append(cls.kind)
    assert {module: list(kinds) for module, kinds in KIND_MODULES.items()} == registered
    modules = {info.name for info in pkgutil.iter_modules(cnncalc.layers.__path__)} - {"base", "registry"}
    assert modules == set(KIND_MODULES)


def test_the_registry_lists_kinds_in_one_order(tmp_path: Path) -> None:
    """Whatever kinds were looked up first, listing the registry gives the order of KIND_MODULES (`cnncalc schema`
    and `cnncalc kinds` do not depend on what ran before them in a process)."""
    code = (
        "from cnncalc.layers import REGISTRY, lookup\n"
        "lookup('LayerScale'), lookup('Conv2d')\n"
        "print(' '.join(cls.kind for cls in REGISTRY.values()))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    from cnncalc.layers.registry import KIND_MODULES

    assert done.stdout.split() == [kind for kinds in KIND_MODULES.values() for kind in kinds]


def test_a_spec_imports_only_its_kinds_modules(tmp_path: Path) -> None:
    code = MODULES_AT_EXIT
    modules = loaded(tmp_path, code, ["summary", "specs/lenet5.yaml", "--format", "json"])
    kinds = sorted(m.rsplit(".", 1)[1] for m in modules if m.startswith("cnncalc.layers."))
    assert "attention" not in kinds and "resize" not in kinds and "pieces" not in kinds, kinds
    assert "conv" in kinds and "pooling" in kinds
