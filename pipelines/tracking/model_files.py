"""The tree hash of a logged model's files: what `lineage.model_sha256` records at registration and what
`promote`, `score`, `status`, `audit verify` and the serving check compare the loaded files with. Apart from
pipelines/tracking/pyfunc_model.py so that checking files never imports the scorer (XGBoost).

Every file of the model folder counts (MLmodel, the pickled model class, the code under `code/`, the
booster, transform and settings under `artifacts/`, requirements and examples), except what appears
in a local copy without being part of the logged model:
- `registered_model_meta` at the top: MLflow writes it into every download of a `models:/` URI;
- `__pycache__/` folders: Python writes them when the model's code is imported (the serving process
  does). A compiled file there that Python would run without checking it against its source (an
  unchecked hash-based .pyc) is reported as a problem, since the hash does not cover it.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from pipelines.core.records import FilesCheck

if TYPE_CHECKING:
    from pipelines.tracking.runs import Runs

__all__ = ["files_check", "folder_digest", "model_files_check", "tree_digest", "unchecked_bytecode"]

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


def unchecked_bytecode(folder: Path) -> list[str]:
    """Compiled files under `__pycache__/` that Python would run without comparing them with their source."""
    found = []
    for path in sorted(Path(folder).rglob(f"{BYTECODE_FOLDER}/*.pyc")):
        with path.open("rb") as handle:
            header = handle.read(8)
        flags = int.from_bytes(header[4:8], "little") if len(header) == 8 else 0
        if flags & 0b01 and not flags & 0b10:  # hash-based, not checked against the source
            found.append(path.relative_to(folder).as_posix())
    return found


def model_files_check(tracker: Runs, source: str) -> FilesCheck:
    """The tree hash of a logged model's files as stored now (a fresh download)."""
    with tempfile.TemporaryDirectory() as folder:
        return files_check(Path(tracker.download_model(source, folder)))


def files_check(folder: Path) -> FilesCheck:
    """The tree hash of a local model folder and anything wrong with the folder itself."""
    problems = tuple(
        f"{path} is compiled code that Python runs without checking it against its source"
        for path in unchecked_bytecode(folder)
    )
    return FilesCheck(folder_digest(folder), problems)
