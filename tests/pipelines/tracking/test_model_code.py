"""The code a logged model carries (pipelines/tracking/model_code.py): what its loader imports, found by reading."""

from __future__ import annotations

import ast
from pathlib import Path

from pipelines.tracking.model_code import DECLARED_SERVE_CHECK, MODEL_LOADER, import_closure, stage_model_code
from pipelines.tracking.pyfunc_model import SERVE_CHECKS
from tests.conftest import REPO


def write(base: Path, relative: str, text: str = "") -> None:
    (base / relative).parent.mkdir(parents=True, exist_ok=True)
    (base / relative).write_text(text)


def test_the_closure_follows_every_import_and_the_packages_on_the_way(tmp_path):
    write(tmp_path, "pipelines/__init__.py")
    write(tmp_path, "pipelines/a/__init__.py", "from pipelines.core import tags\n")
    write(tmp_path, "pipelines/a/loader.py", "import numpy\nfrom pipelines.b import helper\n")
    write(tmp_path, "pipelines/b/__init__.py")
    write(tmp_path, "pipelines/b/helper.py", "def late():\n    from features.errors import DataError\n")
    write(tmp_path, "pipelines/core/__init__.py")
    write(tmp_path, "pipelines/core/tags.py", "CHAMPION = 'champion'\n")
    write(tmp_path, "pipelines/cli.py", "import pipelines.a.loader\n")  # imports the loader; the loader not it
    write(tmp_path, "features/__init__.py")
    write(tmp_path, "features/errors.py", "class DataError(Exception): ...\n")
    write(tmp_path, "features/unused.py")
    found = {str(p) for p in import_closure(["pipelines.a.loader"], tmp_path)}
    assert found == {
        "pipelines/__init__.py",
        "pipelines/a/__init__.py",
        "pipelines/a/loader.py",
        "pipelines/b/__init__.py",
        "pipelines/b/helper.py",  # `from pipelines.b import helper`: a module
        "features/__init__.py",
        "features/errors.py",  # imported inside a function
        "pipelines/core/__init__.py",
        "pipelines/core/tags.py",  # imported by a parent package's __init__
    }


def test_the_model_carries_its_loader_and_the_serving_check_not_the_cli_or_the_server(tmp_path):
    folders = stage_model_code(tmp_path / "code", SERVE_CHECKS)
    assert folders == [str(tmp_path / "code" / "features"), str(tmp_path / "code" / "pipelines")]
    files = {str(p.relative_to(tmp_path / "code")) for p in (tmp_path / "code").rglob("*.py")}
    assert {"pipelines/tracking/credit_model_code.py", "pipelines/governance/serve_check.py"} <= files
    assert "pipelines/scoring/scorer.py" in files and "features/transform.py" in files
    assert not {f for f in files if f.startswith(("pipelines/server/", "pipelines/commands/"))}
    assert "pipelines/cli.py" not in files
    everything = {
        str(p.relative_to(REPO)) for package in ("features", "pipelines") for p in (REPO / package).rglob("*.py")
    }
    assert len(files) < len(everything) / 1.5


def test_no_module_the_model_carries_imports_under_a_computed_name():
    """What the closure cannot see: a module imported by a name computed at run time."""
    computed = []
    for relative in import_closure([MODEL_LOADER, DECLARED_SERVE_CHECK], REPO):
        for node in ast.walk(ast.parse((REPO / relative).read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            name = getattr(called, "attr", None) or getattr(called, "id", None)
            if name in ("import_module", "__import__") and not (
                node.args and isinstance(node.args[0], ast.Constant) and not node.args[0].value.startswith("pipelines")
            ):
                computed.append(f"{relative}:{node.lineno}")
    assert not computed, f"a computed import the model's code closure cannot follow: {computed}"
