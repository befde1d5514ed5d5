"""The tag table: reviewers read tag names in the MLflow UI, so each one is written in one place and explained.

- docs/tags.md is what VOCABULARY in pipelines/core/tags.py renders to (`python -m tests.test_tags` rewrites it);
- every tag and alias named in pipelines/core/tags.py is in that vocabulary, and the vocabulary names nothing else;
- no other module of features/, pipelines/ or monitoring/ spells a tag name out: they use the constants. Docstrings
  and comments may; so may messages about spec keys (`monitoring.drift.columns: ...`: not a tag).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipelines.core import tags
from pipelines.gates.registry import gate_names
from tests.import_graph import sources

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "tags.md"
TAGS_MODULE = "pipelines/core/tags.py"
SCOPES = ("version", "registered model", "run", "alias", "experiment")
PREFIXES = "validation approval lineage exception monitoring model registration optuna creditflow".split()
DOTTED = re.compile(rf"(?:{'|'.join(PREFIXES)})\.[a-z0-9_.]*")  # a tag name, a tag prefix, or another dotted name
VALUES = {
    tags.PASSED,
    tags.FAILED,
    tags.NOT_ASSESSED,
    tags.WARN,
    tags.ABANDONED,
    tags.MODEL_DEVELOPMENT,
}  # what tags hold, not names
NOT_TAGS = {  # dotted names under a tag prefix that are no tag: (file, string) -> what they are
    ("pipelines/cli.py", "monitoring.cli"): "the module the `monitor` command is loaded from",
    ("pipelines/cli.py", "monitoring.report"): "the module the `report` command is loaded from",
    ("pipelines/server/gate.py", "creditflow.server"): "the team server's logger",
    ("pipelines/server/login_guard.py", "creditflow.server"): "the team server's logger",
    ("pipelines/tracking/pyfunc_model.py", "creditflow.serve_check"): "the serving checks' entry-point group",
    ("features/spec_rules.py", "monitoring.drift.columns"): "a spec key a problem names",
}
HEADER = f"""# Registry tags and aliases

Every tag and alias creditflow sets, where it lives (a model version, the registered model, a run, or an alias)
and what it means. Generated from `VOCABULARY` in `pipelines/core/tags.py` by `python -m tests.test_tags`, and
checked by `tests/test_tags.py`: edit the vocabulary, not this file. `<gate>` is a gate's short name
({", ".join(f"`{name}`" for name in gate_names())})."""


def render() -> str:
    """docs/tags.md: the header, then one table row per vocabulary entry, in the vocabulary's order."""
    rows = [f"| `{name}` | {scope} | {meaning} |" for name, scope, meaning in tags.VOCABULARY]
    return "\n".join([HEADER, "", "| Name | Where | Meaning |", "| --- | --- | --- |", *rows, ""])


def names() -> set[str]:
    """Every concrete name the vocabulary covers, its patterns expanded over the gates and the exception fields."""
    placeholders = {"<gate>": list(gate_names()), "<field>": list(tags.EXCEPTION_FIELDS)}
    found = set()
    for name, _, _ in tags.VOCABULARY:
        expanded = [name]
        for placeholder, values in placeholders.items():
            if placeholder in name:
                expanded = [e.replace(placeholder, v) for e in expanded for v in values]
        found.update(expanded)
    return found


def spelled_out(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, string) of every string constant outside tags.py, docstrings aside, that is a bare dotted name
    under a tag prefix (a tag, a prefix to build one, or a name listed in NOT_TAGS) or starts with a tag's name."""
    known, found = names(), []
    for rel, path in sources(root):
        if rel == TAGS_MODULE:
            continue
        tree = ast.parse(path.read_text(), str(path))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree) if _has_docstring(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                match = DOTTED.match(node.value)
                if match and (match.group() == node.value or match.group().rstrip(".") in known):
                    found.append((rel, node.lineno, node.value))
    return found


def _has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not body:
        return False
    return isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)


def test_docs_tags_md_is_the_rendered_vocabulary():
    assert DOC.is_file() and DOC.read_text() == render(), (
        "docs/tags.md differs from VOCABULARY in pipelines/core/tags.py: rewrite it with "
        "`PYTHONPATH=. python -m tests.test_tags`"
    )


def test_every_entry_has_a_known_scope_and_fits_a_table_row():
    for name, scope, meaning in tags.VOCABULARY:
        assert scope in SCOPES, (name, scope)
        assert meaning and not {"|", "\n"} & set(meaning + name), name
    entries = [(name, scope) for name, scope, _ in tags.VOCABULARY]
    assert len(entries) == len(set(entries)), "a name is listed twice for one scope"


def test_every_tag_and_alias_in_tags_py_is_in_the_vocabulary_and_nothing_else_is():
    constants = {value for key, value in vars(tags).items() if key.isupper() and isinstance(value, str)}
    prefixes = {c for c in constants if c.endswith(".")}
    missing = sorted(constants - names() - prefixes - VALUES)
    assert missing == [], f"add these to VOCABULARY in pipelines/core/tags.py (or VALUES here): {missing}"
    assert all(any(n.startswith(p) for n in names()) for p in prefixes), prefixes
    phantom = sorted(name for name, _, _ in tags.VOCABULARY if "<" not in name and name not in constants)
    assert phantom == [], f"VOCABULARY lists names with no constant in pipelines/core/tags.py: {phantom}"


def test_no_module_spells_a_tag_name_out():
    found = spelled_out(REPO)
    spelled = [f"{rel}:{line}: {text!r}" for rel, line, text in found if (rel, text) not in NOT_TAGS]
    assert spelled == [], "use the constants of pipelines/core/tags.py:\n" + "\n".join(spelled)
    stale = set(NOT_TAGS) - {(rel, text) for rel, _, text in found}
    assert not stale, f"no longer needed, remove from NOT_TAGS: {sorted(stale)}"


@pytest.mark.parametrize(
    "source, caught",
    [
        ('run.set_tag("approval.status", "approved")\n', True),
        ('key = f"exception.{gate}.status"\n', True),
        ('print(f"validation.fairness: {verdict}")\n', True),
        ('raise ValueError("monitoring.drift.columns: unknown feature(s)")\n', False),  # a spec key
        ('def f():\n    """Sets validation.fairness."""\n', False),
        ("x = tags.APPROVAL_STATUS  # approval.status\n", False),
    ],
)
def test_a_spelled_out_tag_is_caught(tmp_path, source, caught):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "module.py").write_text(source)
    assert bool(spelled_out(tmp_path)) == caught


if __name__ == "__main__":
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(render())
    print(f"wrote {DOC.relative_to(REPO)}")
