"""Writing a command's output without destroying anything: never over an input, never over an existing file unless
asked, never through a name someone planted.

Why: `score X.csv X.csv` used to replace the applicants with their scores, and a predictable temporary name
(`.OUT.partial`) planted as a symlink made `score` write through it into the link's target. So an output is
refused when it is the same file as an input (by device and inode: a symlink or a hard link is the same file), and
when it exists unless the command was given `--overwrite`; the content goes to a new temporary file beside the
target, created exclusively (O_CREAT|O_EXCL under a random name: never an existing name or a link), renamed onto
the target only when complete. Without `--overwrite` the rename is a hard link, which fails if the target appeared
meanwhile.
"""

from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from features.errors import DataError

__all__ = ["check_output", "exclusive_temp", "publish", "written"]


def check_output(path: Path, *, inputs: Sequence[Path] = (), overwrite: bool) -> None:
    """DataError when `path` is one of `inputs` (same file), exists without `overwrite`, or has no folder."""
    if not path.parent.is_dir():
        raise DataError(f"output folder does not exist: {path.parent}")
    if not os.path.lexists(path):
        return
    for source in inputs:
        if source.exists() and path.exists() and os.path.samefile(path, source):
            raise DataError(f"output {path} is the input {source} (the same file): give another output name")
    if not overwrite:
        raise DataError(f"output {path} exists: give another name, or --overwrite to replace it")


def exclusive_temp(path: Path) -> Path:
    """A new, empty temporary file beside `path` (same folder, so the final rename is atomic), created exclusively."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(handle)
    return Path(name)


def publish(temporary: Path, path: Path, *, overwrite: bool) -> None:
    """Put the complete `temporary` file at `path`: replacing it only with `overwrite` (a symlink at `path` is
    replaced itself, never written through)."""
    try:
        if overwrite:
            os.replace(temporary, path)
            return
        os.link(temporary, path)  # fails when `path` appeared since the check: nothing is replaced
        temporary.unlink()
    except FileExistsError:
        temporary.unlink(missing_ok=True)
        raise DataError(f"output {path} appeared while it was being written: give another name, or --overwrite")
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENOTSUP) and not os.path.lexists(path):
            os.replace(temporary, path)  # a file system without hard links: the check above is what guards
            return
        temporary.unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None


@contextmanager
def written(path: Path, *, inputs: Sequence[Path] = (), overwrite: bool) -> Iterator[Path]:
    """Checked output, its exclusive temporary file for the caller to fill, published when the block ends well and
    removed when it does not."""
    check_output(path, inputs=inputs, overwrite=overwrite)
    temporary = exclusive_temp(path)
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    publish(temporary, path, overwrite=overwrite)
