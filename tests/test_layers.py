"""The layering rules, checked on every import statement (module level, inside functions, under TYPE_CHECKING):

- features/ (spec, data, contract, transform) imports neither pipelines/ nor monitoring/;
- only pipelines/tracking/ (the client adapter) and pipelines/server/ (the team server's plugin, which runs inside
  the MLflow server) import mlflow; this is also what keeps mlflow out of pipelines/core/;
- the pure rules, pipelines/gates/ and pipelines/governance/rules/, import no mlflow, click, optuna or the
  tracking adapter, and open no files;
- the scorer (pipelines/scoring/ scorer, reasons, decision) runs inside the logged model: it imports only
  features.transform and pipelines.scoring (plus libraries);
- pipelines/ imports monitoring/ only in the composition root, pipelines/cli.py (monitoring depends on pipelines);
- pipelines/commands/ verbs import no other verb (the shared options module aside);
- pipelines/core/ is the bottom of pipelines/: it imports nothing of pipelines outside pipelines.core;
- pipelines/tracking/ (the MLflow adapter) is a leaf: it imports no governance, evidence, server, training,
  reports, commands or cli module (monitoring is the rule above's);
- pipelines/governance/rules/ imports, of pipelines, only pipelines.core, its own rules and the gate interface
  (pipelines.gates.registry, pipelines.gates.gate) (the tracking adapter is the pure rules' rule);
- pipelines/training/ imports no pipelines.reports (reports render what training produced);
- the packages of pipelines/ (`pipelines.<x>`; a top-level module such as pipelines/cli.py is its own node)
  import each other without a cycle;
- no file of features/, pipelines/ or monitoring/ imports itself through others.

A cycle is reported once, as its strongly connected component, at its first import, with every arrow in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.import_graph import cycles, describe, imports_of, module_edges, module_name, package_edges, sources

REPO = Path(__file__).resolve().parents[1]
IN_THE_MODEL = {f"pipelines/scoring/{name}.py" for name in ("scorer", "reasons", "decision")}
PURE = ("pipelines/gates/", "pipelines/governance/rules/")
ABOVE_TRACKING = tuple(
    f"pipelines.{package}" for package in ("governance", "evidence", "server", "training", "reports", "commands", "cli")
)
RULES_MAY_USE = ("pipelines.core", "pipelines.governance.rules", "pipelines.gates.registry", "pipelines.gates.gate")

FEATURES = "features/ imports neither pipelines nor monitoring"
MLFLOW = "only pipelines/tracking/ and pipelines/server/ import mlflow"
PURE_IMPORTS = "pure rules (pipelines/gates/, pipelines/governance/rules/) import no mlflow, click, optuna or tracking"
PURE_IO = "pure rules (pipelines/gates/, pipelines/governance/rules/) do no file I/O"
SCORER = "the scorer imports only features.transform and pipelines.scoring (it runs inside the logged model)"
MONITORING = "pipelines/ imports monitoring only in the composition root pipelines/cli.py"
VERB = "a verb in pipelines/commands/ imports no other verb"
CORE = "pipelines/core/ is the bottom: it imports nothing of pipelines outside pipelines.core"
LEAF = "pipelines/tracking/ is a leaf: it imports no governance, evidence, server, training, reports, commands or cli"
RULES = "pipelines/governance/rules/ imports of pipelines only core, its own rules and pipelines.gates.registry/gate"
TRAINING = "pipelines/training/ imports no pipelines.reports"
PACKAGE_CYCLE = "no cycle between the packages of pipelines/"
FILE_CYCLE = "no cycle between files"


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
    """Every broken layering rule under `root` (a checkout), once each, as 'file:line: rule (module)'."""
    found: dict[str, str] = {}  # one entry per file, line and rule: the first name imported there
    for rel, path in sources(root):
        for line, name in imports_of(path, module_name(rel)):
            for rule in _broken(rel, name):
                found.setdefault(f"{rel}:{line}: {rule}", name)
        if rel.startswith(PURE):
            found.update({f"{rel}:{line}: {PURE_IO}": "I/O" for line in opens_files(path)})
    edges = module_edges(root)
    for rule, graph in ((FILE_CYCLE, edges), (PACKAGE_CYCLE, package_edges(edges))):
        for component in cycles(graph):
            where, arrows = describe(component, graph)
            found[f"{where}: {rule}"] = arrows
    return [f"{where} ({detail})" for where, detail in sorted(found.items())]


def _broken(rel: str, name: str) -> list[str]:
    """The import rules that importing `name` from the file `rel` breaks."""
    verb = Path(rel).stem
    checks = [
        (rel.startswith("features/") and _under(name, "pipelines", "monitoring"), FEATURES),
        (_under(name, "mlflow") and not rel.startswith(("pipelines/tracking/", "pipelines/server/")), MLFLOW),
        (rel.startswith(PURE) and _under(name, "mlflow", "click", "optuna", "pipelines.tracking"), PURE_IMPORTS),
        (
            rel in IN_THE_MODEL
            and _under(name, "features", "pipelines", "monitoring")
            and not _under(name, "features.transform", "pipelines.scoring"),
            SCORER,
        ),
        (rel.startswith("pipelines/") and rel != "pipelines/cli.py" and _under(name, "monitoring"), MONITORING),
        (
            rel.startswith("pipelines/commands/")
            and _under(name, "pipelines.commands")
            and not _under(name, "pipelines.commands.options", f"pipelines.commands.{verb}"),
            VERB,
        ),
        (rel.startswith("pipelines/core/") and _under(name, "pipelines") and not _under(name, "pipelines.core"), CORE),
        (rel.startswith("pipelines/tracking/") and _under(name, *ABOVE_TRACKING), LEAF),
        (
            rel.startswith("pipelines/governance/rules/")
            and _under(name, "pipelines")
            and not _under(name, *RULES_MAY_USE, "pipelines.tracking"),
            RULES,
        ),
        (rel.startswith("pipelines/training/") and _under(name, "pipelines.reports"), TRAINING),
    ]
    return [rule for broken, rule in checks if broken]


def test_the_repository_keeps_its_layers():
    found = violations(REPO)
    assert found == [], "\n".join(found)


@pytest.mark.slow
def test_gates_load_without_mlflow_click_or_optuna():
    import subprocess
    import sys

    code = (
        "import sys, pipelines.governance.rules.promotion, pipelines.gates.fairness, pipelines.gates.performance, "
        "pipelines.gates.stability; print(sorted(m for m in ('mlflow', 'click', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Imports every checkout below makes and no rule forbids: the composition root reads monitoring, and a pure rule
# uses the gate interface (`from pkg import module` is that module), the core and features.
ALLOWED = {
    "pipelines/cli.py": "from monitoring.cli import monitor_command\n",
    "pipelines/governance/rules/identity.py": (
        "from features.policy import ExceptionTerms\nfrom pipelines.core import tags\n"
        "from pipelines.gates import registry\nfrom pipelines.gates.gate import Gate\n"
    ),
}


def _checkout(root: Path, files: dict[str, str]) -> Path:
    for rel, source in {**ALLOWED, **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(source)
    return root


@pytest.mark.parametrize(
    "file, source, rule",
    [
        ("features/spec.py", "from pipelines.gates import performance\n", FEATURES),
        ("features/data.py", "def f():\n    import monitoring.drift\n", FEATURES),
        ("monitoring/drift.py", "import mlflow\n", MLFLOW),
        ("pipelines/training/train.py", "from mlflow import MlflowClient\n", MLFLOW),
        ("pipelines/core/tags.py", "import mlflow\n", MLFLOW),
        ("pipelines/gates/fairness.py", "import optuna\n", PURE_IMPORTS),
        ("pipelines/governance/rules/promotion.py", "from pipelines.tracking import Tracker\n", PURE_IMPORTS),
        ("pipelines/gates/stability.py", "def f(p):\n    return open(p).read()\n", PURE_IO),
        ("pipelines/governance/rules/chain.py", "def f(p, text):\n    p.write_text(text)\n", PURE_IO),
        ("pipelines/scoring/scorer.py", "from pipelines.gates import fairness\n", SCORER),
        ("pipelines/evidence/record.py", "from monitoring.drift import Columns\n", MONITORING),
        ("pipelines/commands/score.py", "from pipelines.commands.run import run_pipeline\n", VERB),
        ("pipelines/core/records.py", "from pipelines.tracking.model_files import files_check\n", CORE),
        ("pipelines/core/audit_rows.py", "def rows():\n    from pipelines.server.store import TeamStore\n", CORE),
        ("pipelines/tracking/pyfunc_model.py", "from pipelines.governance.serve_check import verify\n", LEAF),
        ("pipelines/tracking/model_files.py", "from pipelines.evidence.record import files_check\n", LEAF),
        ("pipelines/tracking/registry.py", "def f():\n    from pipelines.server import store\n", LEAF),
        ("pipelines/governance/rules/promotion.py", "from pipelines.governance.store import store_of\n", RULES),
        ("pipelines/governance/rules/exceptions.py", "from pipelines.gates.stability import fit_bins\n", RULES),
        (
            "pipelines/training/evaluation.py",
            "from pipelines.reports.fairness_report import fairness_figure\n",
            TRAINING,
        ),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path, file, source, rule):
    found = violations(_checkout(tmp_path, {file: source}))
    assert len(found) == 1 and rule in found[0], found


TYPE_CHECKING_ONLY = (
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from features.policy import GoverningPolicy\n"
)


@pytest.mark.parametrize(
    "files, rules",
    [
        (
            {
                "features/policy.py": "from features.spec import PolicySpec\n",
                "features/spec.py": "def load_spec():\n    from features.policy import govern\n",
            },
            [FILE_CYCLE],
        ),
        (
            {"features/policy.py": "from features.spec import Spec\n", "features/spec.py": TYPE_CHECKING_ONLY},
            [FILE_CYCLE],
        ),
        (
            {
                "monitoring/command.py": "def monitor():\n    from monitoring.spark import monitor_window\n",
                "monitoring/spark.py": "def monitor_window():\n    from monitoring import command\n",
            },
            [FILE_CYCLE],
        ),
        (
            {
                "pipelines/governance/rules/exceptions.py": "from pipelines.governance.rules.promotion import x\n",
                "pipelines/governance/rules/promotion.py": "from pipelines.governance.rules.exceptions import y\n",
            },
            [FILE_CYCLE],
        ),
        (
            {
                "pipelines/evidence/policy.py": "from pipelines.governance.stored_policy import POLICY_PATH\n",
                "pipelines/governance/stored_policy.py": "POLICY_PATH = 'policy'\n",
                "pipelines/governance/card.py": "from pipelines.evidence.record import x\n",
                "pipelines/evidence/record.py": "x = 1\n",
            },
            [PACKAGE_CYCLE],
        ),
        (
            {
                "pipelines/training/evaluation.py": "from pipelines.reports import plots\n",
                "pipelines/reports/plots.py": "",
                "pipelines/reports/card_context.py": "from pipelines.training.evaluation import Evaluation\n",
            },
            [TRAINING, PACKAGE_CYCLE],
        ),
        (  # a top-level module is a package node of its own; `from pkg import Name` imports pkg/__init__.py
            {
                "pipelines/owner.py": "from pipelines.tracking import Tracker\n",
                "pipelines/tracking/__init__.py": "from pipelines.tracking.runs import Runs\n",
                "pipelines/tracking/runs.py": "from pipelines.owner import owner_token\n",
            },
            [FILE_CYCLE, PACKAGE_CYCLE],
        ),
    ],
)
def test_a_cycle_is_caught_once(tmp_path, files, rules):
    found = violations(_checkout(tmp_path, files))
    assert len(found) == len(rules) and all(any(rule in f for f in found) for rule in rules), found
