"""The tree hash of a model folder: every file counts, except what a download or an import adds (issue 12, item 1);
bytecode counts only as the exact compilation of a hashed source (issue 29, item 1)."""

import importlib
import importlib.util
import py_compile
import sys
from pathlib import Path

from pipelines.tracking.model_files import bytecode_problems, files_check, folder_digest, tree_digest


def model_folder(root):
    (root / "artifacts").mkdir(parents=True)
    (root / "code" / "pipelines").mkdir(parents=True)
    (root / "MLmodel").write_text("flavors: {}\n")
    (root / "artifacts" / "booster.ubj").write_bytes(b"\x00booster")
    (root / "artifacts" / "settings.json").write_text('{"cutoff": 0.5}')
    (root / "code" / "pipelines" / "scorer.py").write_text("CUTOFF = 0.5\n")
    return root


def test_any_change_of_content_name_or_set_of_files_changes_the_hash(tmp_path):
    root = model_folder(tmp_path / "m")
    original = folder_digest(root)
    (root / "artifacts" / "settings.json").write_text('{"cutoff": 0.999}')
    assert folder_digest(root) != original
    (root / "artifacts" / "settings.json").write_text('{"cutoff": 0.5}')
    assert folder_digest(root) == original
    (root / "artifacts" / "settings.json").rename(root / "artifacts" / "other.json")
    assert folder_digest(root) != original
    (root / "artifacts" / "other.json").rename(root / "artifacts" / "settings.json")
    (root / "code" / "pipelines" / "extra.py").write_text("")
    assert folder_digest(root) != original


def test_what_mlflow_and_python_add_locally_is_left_out(tmp_path):
    root = model_folder(tmp_path / "m")
    original = folder_digest(root)
    (root / "registered_model_meta").write_text("model_name: m\nmodel_version: 1\n")
    py_compile.compile(str(root / "code" / "pipelines" / "scorer.py"), doraise=True)  # __pycache__/...pyc
    assert folder_digest(root) == original
    assert bytecode_problems(root) == []
    (root / "artifacts" / "registered_model_meta").write_text("not at the top: counted")
    assert folder_digest(root) != original


def test_compiled_code_python_would_run_unchecked_is_reported(tmp_path):
    root = model_folder(tmp_path / "m")
    source = root / "code" / "pipelines" / "scorer.py"
    py_compile.compile(str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    cached = importlib.util.cache_from_source(str(source))
    assert bytecode_problems(root) == []  # the exact compilation of its source: harmless however it is checked
    evil = tmp_path / "evil.py"
    evil.write_text("CUTOFF = 0.9\n")
    py_compile.compile(str(evil), cfile=cached, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert bytecode_problems(root) == [
        f"{Path(cached).relative_to(root).as_posix()} is not the compiled form of its source"
    ]


def plant_matching_timestamp_pyc(source: Path, evil_text: str) -> Path:
    """A checked (timestamp-based) .pyc of other code, whose header names the real source's mtime and size: Python
    runs it in place of the source. What a hostile author plants in the logged model's code."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    py_compile.compile(str(source), doraise=True)
    header = cached.read_bytes()[:16]
    evil = source.with_name("evil_tmp.py")
    evil.write_text(evil_text)
    body = Path(py_compile.compile(str(evil), cfile=str(cached) + ".tmp", doraise=True)).read_bytes()[16:]
    evil.unlink()
    Path(str(cached) + ".tmp").unlink()
    cached.write_bytes(header + body)
    return cached


def test_a_planted_bytecode_file_python_would_run_is_refused(tmp_path, monkeypatch):
    root = model_folder(tmp_path / "m")
    original = folder_digest(root)
    planted = plant_matching_timestamp_pyc(root / "code" / "pipelines" / "scorer.py", "CUTOFF = 0.0\n")
    monkeypatch.syspath_prepend(str(root / "code" / "pipelines"))
    sys.modules.pop("scorer", None)
    assert importlib.import_module("scorer").CUTOFF == 0.0  # Python runs the planted code, not the source
    sys.modules.pop("scorer", None)
    check = files_check(root)
    assert check.sha256 == original  # the tree hash is unchanged ...
    assert check.problems == (f"{planted.relative_to(root).as_posix()} is not the compiled form of its source",)


def test_bytecode_without_its_source_or_for_another_interpreter_is_refused(tmp_path):
    root = model_folder(tmp_path / "m")
    cache = root / "code" / "pipelines" / "__pycache__"
    cache.mkdir()
    (cache / f"gone.{sys.implementation.cache_tag}.pyc").write_bytes(b"x" * 20)
    (cache / "scorer.cpython-99.pyc").write_bytes(b"x" * 20)
    (cache / "notes.txt").write_text("")
    assert bytecode_problems(root) == [
        "code/pipelines/__pycache__/gone.%s.pyc has no source file in the model" % sys.implementation.cache_tag,
        "code/pipelines/__pycache__/notes.txt is not compiled Python",
        "code/pipelines/__pycache__/scorer.cpython-99.pyc is compiled for another interpreter (cpython-99)",
    ]


def test_the_pure_tree_digest_orders_its_entries():
    assert tree_digest([("b", "2"), ("a", "1")]) == tree_digest([("a", "1"), ("b", "2")])
    assert tree_digest([("a", "1")]) != tree_digest([("a", "2")])
