"""The tree hash of a logged model's files, as stored now: what `status`, `audit verify`, `promote`, `score` and
serving compare with `lineage.model_sha256`. Apart from pipelines/tracking/pyfunc_model.py so that checking
files never imports the scorer (XGBoost)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.evidence.model_files import folder_digest, unchecked_bytecode
from pipelines.gates.promotion import FilesCheck


def model_files_check(tracker, source: str) -> FilesCheck:
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
