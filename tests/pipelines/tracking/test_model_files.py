"""The tree hash of a model folder: every file counts, except what a download or an import adds (issue 12, item 1)."""

import importlib.util
import py_compile
from pathlib import Path

from pipelines.tracking.model_files import folder_digest, tree_digest, unchecked_bytecode


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
    assert unchecked_bytecode(root) == []
    (root / "artifacts" / "registered_model_meta").write_text("not at the top: counted")
    assert folder_digest(root) != original


def test_compiled_code_python_would_run_unchecked_is_reported(tmp_path):
    root = model_folder(tmp_path / "m")
    source = root / "code" / "pipelines" / "scorer.py"
    py_compile.compile(str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    cached = importlib.util.cache_from_source(str(source))
    assert unchecked_bytecode(root) == [Path(cached).relative_to(root).as_posix()]


def test_the_pure_tree_digest_orders_its_entries():
    assert tree_digest([("b", "2"), ("a", "1")]) == tree_digest([("a", "1"), ("b", "2")])
    assert tree_digest([("a", "1")]) != tree_digest([("a", "2")])
