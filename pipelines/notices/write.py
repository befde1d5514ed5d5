"""Writing a folder of notices without leaving half of one: the folder is built under a new temporary name beside
OUT_DIR (created exclusively) and renamed onto it when every file is written; OUT_DIR may not exist, or be empty."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from features.errors import DataError

JSONL = "notices.jsonl"


def check_folder(out: Path) -> None:
    """A DataError when OUT_DIR cannot take the notices: it exists and is not an empty folder, or has no parent."""
    if not out.parent.is_dir():
        raise DataError(f"output folder's parent does not exist: {out.parent}")
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise DataError(f"output {out} exists and is not an empty folder: give a new folder for the notices")


def write_notices(out: Path, notices: list[dict[str, Any]]) -> None:
    """`<id>.txt` and `<id>.json` per notice and one `notices.jsonl` in id order, published at once."""
    check_folder(out)
    try:
        partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise DataError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        with open(partial / JSONL, "w", encoding="utf-8") as lines:
            for notice in notices:
                text = notice["text"]
                (partial / f"{notice['id']}.txt").write_text(text, encoding="utf-8")
                record = json.dumps(notice, ensure_ascii=False)
                (partial / f"{notice['id']}.json").write_text(record, encoding="utf-8")
                lines.write(record + "\n")
        os.chmod(partial, 0o755)  # mkdtemp makes it private to its creator; a notice folder is read by others too
        check_folder(out)  # nothing appeared meanwhile
        os.rename(partial, out)  # onto a missing or empty folder: atomic
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise DataError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
