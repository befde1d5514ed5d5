"""Every command block of README.md runs as written, in order, in a fresh copy of the repository (tests/doc_walk.py):
the three journeys included, the served champion answering where the serve line stands. Only the set-up's package
installs, this suite itself and the activation of the environment the test already runs in are skipped.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.doc_walk import PROGRESS, environment, examples, fresh_copy, walk, warning_lines

README = REPO / "README.md"


def test_a_progress_line_naming_a_warn_verdict_is_not_a_warning():
    """CI saw a monitoring window take over 5 s, so its progress note, the window's verdict 'warn', was flagged."""
    stderr = (
        "monitoring windows: 1/1 windows (6 s), window 2026-03: warn\n"
        "monitoring windows: 1/1 windows (6 s), done\n"
        "/x/site-packages/mlflow/a.py:3: FutureWarning: something changes\n"
        "2026/12/06 WARNING mlflow.models: input example could not be inferred\n"
    )
    assert warning_lines(stderr) == stderr.splitlines()[2:]
    assert PROGRESS.match("monitoring windows: 1/1 windows (6 s), done")


def test_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    for page in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (REPO / page).is_file(), f"README links a missing page: {page}"
    found = examples(text)
    run = [e for e in found if e.skip is None]
    assert run and all("|" not in e.command.split("#")[0] for e in run), run
    assert any(e.command.startswith("creditflow run experiments/german_credit.yaml") for e in run)
    assert any(e.command.startswith("mlflow models serve -m models:/german_credit@champion") for e in run)
    assert [e.skip for e in found if e.skip] and all(
        "installs" in s or "suite" in s or "activates" in s for e in found if (s := e.skip)
    )


def test_ci_runs_the_readme_test_command_verbatim():
    commands = [e.command for e in examples(README.read_text()) if e.skip and "suite" in e.skip]
    ci = (REPO / ".ci" / "run").read_text()
    readme_line = next(line for line in README.read_text().splitlines() if "-m pytest -q -n 2" in line)
    assert commands and readme_line in ci


@pytest.mark.slow
def test_every_readme_example_runs_as_written_from_a_fresh_clone(tmp_path):
    folder = fresh_copy(tmp_path / "clone")
    env = environment(folder, tmp_path / "bin")
    result = walk("README.md", (folder / "README.md").read_text(), folder, env)
    print("\n".join(result.skipped + result.timings))  # shown with -s
    assert not result.failures, "\n\n".join(result.failures)
    assert not (folder / "mlruns").exists()  # every example stayed on the local SQLite store and ./mlartifacts
