"""The layering rules, checked on every import statement (module level and inside functions):

- features/ (spec, data, contract, transform) imports neither pipelines/ nor monitoring/;
- only pipelines/tracking/ (the client adapter) and pipelines/server/ (the team server's plugin, which runs inside
  the MLflow server) import mlflow;
- pipelines/gates/ (pure rules) imports no mlflow, click, optuna or the tracking adapter, and opens no files;
- the scorer (pipelines/scoring/ scorer, reasons, decision) runs inside the logged model: it imports only
  features.transform and pipelines.scoring (plus libraries);
- pipelines/ imports monitoring/ only in the composition root, pipelines/cli.py (monitoring depends on pipelines);
- pipelines/commands/ verbs import no other verb (the shared options module aside).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "pipelines", "monitoring")
IN_THE_MODEL = {f"pipelines/scoring/{name}.py" for name in ("scorer", "reasons", "decision")}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import in a file; `from X import Y` yields X and X.Y."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def opens_files(path: Path) -> list[int]:
    """Lines that call open() or a pathlib/pandas reader or writer: file I/O."""
    io_names = {
        "open",
        "read_text",
        "write_text",
        "read_bytes",
        "write_bytes",
        "read_csv",
        "read_parquet",
        "to_csv",
        "to_parquet",
        "savefig",
    }
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in io_names:
                lines.append(node.lineno)
    return lines


def _under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(root: Path) -> list[str]:
    """Every broken layering rule under `root` (a checkout), as 'file:line: rule'."""
    found: dict[str, str] = {}  # one entry per file, line and rule: the first module named there
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for line, module in imports_of(path):
                for broken, rule in _rules(rel, module):
                    if broken:
                        found.setdefault(f"{rel}:{line}: {rule}", module)
            if rel.startswith("pipelines/gates/"):
                found.update({f"{rel}:{line}: pipelines/gates/ does no file I/O": "I/O" for line in opens_files(path)})
    return [f"{where} ({module})" for where, module in sorted(found.items())]


def _rules(rel: str, module: str) -> list[tuple[bool, str]]:
    verb = Path(rel).stem
    return [
        (
            rel.startswith("features/") and _under(module, "pipelines", "monitoring"),
            "features/ imports neither pipelines nor monitoring",
        ),
        (
            _under(module, "mlflow") and not rel.startswith(("pipelines/tracking/", "pipelines/server/")),
            "only pipelines/tracking/ and pipelines/server/ import mlflow",
        ),
        (
            rel.startswith("pipelines/gates/") and _under(module, "mlflow", "click", "optuna", "pipelines.tracking"),
            "pipelines/gates/ imports no mlflow, click, optuna or the tracking adapter",
        ),
        (
            rel in IN_THE_MODEL
            and _under(module, "features", "pipelines", "monitoring")
            and not _under(module, "features.transform", "pipelines.scoring"),
            "the scorer imports only features.transform and pipelines.scoring (it runs inside the logged model)",
        ),
        (
            rel.startswith("pipelines/") and rel != "pipelines/cli.py" and _under(module, "monitoring"),
            "pipelines/ imports monitoring only in the composition root pipelines/cli.py",
        ),
        (
            rel.startswith("pipelines/commands/")
            and _under(module, "pipelines.commands")
            and not _under(module, "pipelines.commands.options", f"pipelines.commands.{verb}"),
            "a verb in pipelines/commands/ imports no other verb",
        ),
    ]


def test_the_repository_keeps_its_layers():
    assert violations(REPO) == []


@pytest.mark.slow
def test_gates_load_without_mlflow_click_or_optuna():
    import subprocess
    import sys

    code = (
        "import sys, pipelines.gates.promotion, pipelines.gates.fairness, pipelines.gates.performance, "
        "pipelines.gates.stability; print(sorted(m for m in ('mlflow', 'click', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "file, source, rule",
    [
        ("features/spec.py", "from pipelines.gates import performance\n", "features/ imports neither"),
        ("features/data.py", "def f():\n    import monitoring.drift\n", "features/ imports neither"),
        ("monitoring/drift.py", "import mlflow\n", "only pipelines/tracking/ and pipelines/server/ import mlflow"),
        (
            "pipelines/training/train.py",
            "from mlflow import MlflowClient\n",
            "only pipelines/tracking/ and pipelines/server",
        ),
        ("pipelines/gates/fairness.py", "import optuna\n", "pipelines/gates/ imports no"),
        (
            "pipelines/governance/rules/promotion.py",
            "from pipelines.tracking import Tracker\n",
            "pipelines/gates/ imports no",
        ),
        ("pipelines/gates/stability.py", "def f(p):\n    return open(p).read()\n", "pipelines/gates/ does no file I/O"),
        ("pipelines/scoring/scorer.py", "from pipelines.gates import fairness\n", "the scorer imports only"),
        ("pipelines/evidence/record.py", "from monitoring.drift import Columns\n", "imports monitoring only in"),
        ("pipelines/commands/score.py", "from pipelines.commands.run import run_pipeline\n", "imports no other verb"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path, file, source, rule):
    target = tmp_path / file
    target.parent.mkdir(parents=True)
    target.write_text(source)
    (tmp_path / "pipelines").mkdir(exist_ok=True)
    (tmp_path / "pipelines" / "cli.py").write_text("from monitoring.cli import monitor_command\n")  # allowed
    found = violations(tmp_path)
    assert len(found) == 1 and rule in found[0], found
