"""The tree hash of a logged model's files: what `lineage.model_sha256` records at registration and what
`promote`, `score`, `status`, `audit verify` and the serving check compare the loaded files with. Apart from
pipelines/tracking/pyfunc_model.py so that checking files never imports the scorer (XGBoost).

Every file of the model folder counts (MLmodel, the pickled model class, the code under `code/`, the
booster, transform and settings under `artifacts/`, requirements and examples), except what appears
in a local copy without being part of the logged model:
- `registered_model_meta` at the top: MLflow writes it into every download of a `models:/` URI;
- `__pycache__/` folders: Python writes them when the model's code is imported (the serving process
  does, into its local copy; MLflow removes them before logging, so a logged model has none). What is
  there must be the exact compilation of a hashed source: Python runs a cached .pyc in place of its
  source after checking only the source's mtime and size (or nothing at all, for an unchecked hash-based
  .pyc), so a planted one runs other code under an unchanged tree hash. Each .pyc is therefore compiled
  again from its source and compared (code objects, nested ones included); anything else under
  `__pycache__/` (no source, another interpreter, other code, not bytecode) is a problem that refuses
  the model. Compiled files outside `__pycache__/` (which Python imports without any source) are
  ordinary files of the hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pipelines.core.records import FilesCheck

if TYPE_CHECKING:
    from pipelines.tracking.runs import Runs

__all__ = ["bytecode_problems", "files_check", "folder_digest", "model_files_check", "tree_digest"]

DOWNLOAD_ADDED = ("registered_model_meta",)
BYTECODE_FOLDER = "__pycache__"
_CHUNK = 1 << 20


def tree_digest(files: Iterable[tuple[str, str]]) -> str:
    """sha256 over (relative POSIX path, sha256 of the file's bytes) pairs, in path order: the pure part.

    Paths are part of the hash, so moving or renaming a file changes it, as does adding or removing one."""
    lines = "".join(f"{path}\0{digest}\n" for path, digest in sorted(files))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def model_files(folder: Path) -> list[Path]:
    """The files the tree hash covers, under a local copy of a model folder."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or BYTECODE_FOLDER in relative.parts:
            continue
        if len(relative.parts) == 1 and relative.name in DOWNLOAD_ADDED:
            continue
        found.append(path)
    return found


def folder_digest(folder: Path) -> str:
    """The tree hash of a local copy of a model folder."""
    folder = Path(folder)
    return tree_digest((p.relative_to(folder).as_posix(), file_sha256(p)) for p in model_files(folder))


def bytecode_problems(folder: Path) -> list[str]:
    """Every file under a `__pycache__/` folder that is not the exact compilation of its (hashed) source."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and BYTECODE_FOLDER in relative.parts[:-1]:
            problem = _bytecode_problem(path)
            if problem:
                found.append(f"{relative.as_posix()} {problem}")
    return found


def _bytecode_problem(path: Path) -> str | None:
    """Why a cached file is not its source compiled by this interpreter (None when it is)."""
    parts = path.name.split(".")
    if len(parts) not in (3, 4) or parts[-1] != "pyc" or path.parent.name != BYTECODE_FOLDER:
        return "is not compiled Python"
    if parts[1] != sys.implementation.cache_tag:
        return f"is compiled for another interpreter ({parts[1]})"
    level = parts[2].removeprefix("opt-") if len(parts) == 4 else "0"
    source = path.parent.parent / f"{parts[0]}.py"
    if not source.is_file():
        return "has no source file in the model"
    data = path.read_bytes()
    if not level.isdigit() or data[:4] != importlib.util.MAGIC_NUMBER:
        return "is not compiled Python"
    try:
        cached = marshal.loads(data[16:])
        expected = compile(source.read_bytes(), str(source), "exec", dont_inherit=True, optimize=int(level))
    except (ValueError, EOFError, TypeError, SyntaxError):
        return "is not the compiled form of its source"
    return None if cached == expected else "is not the compiled form of its source"


def model_files_check(tracker: Runs, source: str) -> FilesCheck:
    """The tree hash of a logged model's files as stored now (a fresh download)."""
    with tempfile.TemporaryDirectory() as folder:
        return files_check(Path(tracker.download_model(source, folder)))


def files_check(folder: Path) -> FilesCheck:
    """The tree hash of a local model folder and anything wrong with the folder itself."""
    return FilesCheck(folder_digest(folder), tuple(bytecode_problems(folder)))
