"""The code a logged model carries: the modules of creditflow its loader imports, not all of creditflow.

MLflow puts a model's `code/` folder first on the path of whatever process loads it (a validator, `score`, a
serving process) and downloads every file of it, one request each from a tracking server. The whole of `features/`
and `pipelines/` (CLI, server, reports, gates: ~190 files) was logged with every version though the loader imports
about a third of them. The modules logged are found by reading imports (every `import` statement, also those inside
functions), from the model's loader and the serving checks that run inside it, closed over the packages' own
`__init__` files. A module imported under a computed name would be missed: only the CLI imports so (its verbs), and
no model loads the CLI (tests/pipelines/tracking/test_model_code.py keeps it so).
"""

from __future__ import annotations

import ast
import shutil
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["CODE_PACKAGES", "MODEL_LOADER", "import_closure", "stage_model_code"]

CODE_PACKAGES = ("features", "pipelines")
MODEL_LOADER = "pipelines.tracking.credit_model_code"
# the serving check pyproject declares (`creditflow.serve_check`): the model's loader imports it from `code/` too
DECLARED_SERVE_CHECK = "pipelines.governance.serve_check"


def import_closure(roots: Iterable[str], base: Path, packages: tuple[str, ...] = CODE_PACKAGES) -> list[Path]:
    """The source files, relative to `base`, of the modules `roots` import under `packages`, transitively, with the
    `__init__.py` of every package on the way (importing a module runs its parents first)."""
    found: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in found or module.split(".")[0] not in packages:
            continue
        path = _source(base, module)
        if path is None:  # a name imported from a module, not a module itself
            continue
        found[module] = path
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += list(_imported(base / path))
    return sorted(found.values())


def stage_model_code(folder: Path, check_group: str, base: Path | None = None) -> list[str]:
    """Copy the model's code (the closure of its loader and of the serving checks installed under the entry-point
    group `check_group`) into `folder`, package folders kept; the folders to log as MLflow `code_paths`."""
    base = base or Path(__file__).resolve().parents[2]
    for relative in import_closure(_roots(check_group), base):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(base / relative, target)
    return [str(folder / package) for package in CODE_PACKAGES if (folder / package).is_dir()]


def _roots(check_group: str) -> list[str]:
    declared = {check.module for check in entry_points(group=check_group)}
    return [MODEL_LOADER, DECLARED_SERVE_CHECK, *sorted(declared)]


def _source(base: Path, module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (relative / "__init__.py", relative.with_suffix(".py")):
        if (base / candidate).is_file():
            return candidate
    return None


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)  # `from package import module`
