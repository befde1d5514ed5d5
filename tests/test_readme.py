"""Every command block of README.md runs as written, in order, in a fresh copy of the repository.

The copy holds the files git would commit (tracked, and new ones not ignored), so nothing left in the working
folder (a store, a study, generated data) helps an example pass. Commands run through bash with `creditflow` and
`mlflow` on the PATH (as in an activated environment), on the default local store `./mlflow.db`, one OpenMP thread.
A `# exit N` comment on a line states its expected exit code (default 0). Lines that install packages, start a
server, talk to a team server or run this suite are skipped with their reason; so is the shipped consumer-loan run
(about 3 minutes on 100,000 rows): the copy starts from a store already holding `consumer_loans` version 1, trained
by the same spec on a smaller generated book (tests/conftest.py `consumer_store`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

SKIPS = [
    (r"^python3 -m venv|\bpip install\b", "installs packages: the test runs in the installed environment"),
    (r"-m pytest\b", "runs this test suite"),
    (r"^(mlflow (ui|server|models serve)|optuna-dashboard)\b", "starts a server"),
    (r"--engine spark", "needs Spark"),
    (r"^source \.venv/bin/activate$", "activates the environment the test already runs in"),
    (
        r"^(creditflow server\b|export MLFLOW_TRACKING_|MLFLOW_TRACKING_USERNAME=)",
        "team mode: needs a team server (tests/pipelines/server/ run this story against a real one)",
    ),
    (
        r"^creditflow run experiments/consumer_loans\.yaml$",
        "the copy's store already holds consumer_loans version 1 (tests/conftest.py consumer_store)",
    ),
]
WARNING = re.compile(r"warn(ing)?\b", re.IGNORECASE)
# creditflow's own plain progress line (pipelines/progress.py), whose note may name a verdict ("window 2026-03: warn")
PROGRESS = re.compile(r"^[\w ]+: [\d,]+(/[\d,]+)? [\w ]*\(\d+ s\)(, |$)")


def warning_lines(stderr: str) -> list[str]:
    """Lines of stderr that warn (Python warnings, log warnings), apart from creditflow's own progress lines."""
    return [line for line in stderr.splitlines() if WARNING.search(line) and not PROGRESS.match(line)]


def test_a_progress_line_naming_a_warn_verdict_is_not_a_warning():
    """CI saw a monitoring window take over 5 s, so its progress note, the window's verdict 'warn', was flagged."""
    stderr = (
        "monitoring windows: 1/1 windows (6 s), window 2026-03: warn\n"
        "monitoring windows: 1/1 windows (6 s), done\n"
        "/x/site-packages/mlflow/a.py:3: FutureWarning: something changes\n"
        "2026/12/06 WARNING mlflow.models: input example could not be inferred\n"
    )
    assert warning_lines(stderr) == stderr.splitlines()[2:]


@dataclass
class Example:
    line: int
    command: str
    exit_code: int
    skip: str | None


def examples(readme: str) -> list[Example]:
    """The commands of every ```bash block, in order: one per line (or per `&&` segment), with expected exit code."""
    found = []
    for block in re.finditer(r"^```bash\n(.*?)^```", readme, re.MULTILINE | re.DOTALL):
        first = readme[: block.start()].count("\n") + 2
        for offset, raw in enumerate(block.group(1).splitlines()):
            command, _, comment = raw.partition("  #")
            if not command.strip():
                continue
            expected = re.search(r"exit (\d)", comment)
            segments = [s.strip().removeprefix(".venv/bin/") for s in command.split("&&")]
            for i, segment in enumerate(segments):
                skip = next((why for pattern, why in SKIPS if re.search(pattern, segment)), None)
                code = int(expected.group(1)) if expected and i == len(segments) - 1 else 0
                found.append(Example(first + offset, segment, code, skip))
    return found


def fresh_copy(destination: Path) -> Path:
    """The files a clone would have: tracked ones, and new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)
    return destination


def environment(folder: Path, shims: Path) -> dict[str, str]:
    for tool, module in (("creditflow", "pipelines.cli"), ("mlflow", "mlflow")):
        (shims / tool).write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        (shims / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and k != "PYTHONPATH"}
    return {
        **env,
        "PATH": f"{shims}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(folder),  # the copy's code, not the checkout's
        "CREDITFLOW_USER": "alice",
        "OMP_NUM_THREADS": "1",  # tests never run XGBoost on more than one thread
        "DO_NOT_TRACK": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


def test_readme_blocks_parse_into_runnable_commands():
    found = examples((REPO / "README.md").read_text())
    run = [e for e in found if e.skip is None]
    assert run and all("[" not in e.command and "|" not in e.command.split("#")[0] for e in run), run
    assert any(e.command.startswith("creditflow run experiments/german_credit.yaml") for e in run)
    mlflow_runs = [e for e in run if e.command.startswith("mlflow run")]
    assert mlflow_runs and all("--experiment-name" in e.command for e in mlflow_runs)


@pytest.mark.slow
def test_every_readme_example_runs_as_written_from_a_fresh_clone(tmp_path, consumer_store):
    folder = fresh_copy(tmp_path / "clone")
    shutil.copy(consumer_store / "mlflow.db", folder / "mlflow.db")  # consumer_loans version 1, artifacts stay put
    (tmp_path / "bin").mkdir()
    env = environment(folder, tmp_path / "bin")
    failures, skipped, timings = [], [], []
    for example in examples((folder / "README.md").read_text()):
        if example.skip:
            skipped.append(f"README.md:{example.line} {example.command}: {example.skip}")
            continue
        started = time.perf_counter()
        done = subprocess.run(
            ["bash", "-c", example.command], cwd=folder, env=env, capture_output=True, text=True, timeout=900
        )
        timings.append(f"{time.perf_counter() - started:6.1f} s  README.md:{example.line} {example.command[:80]}")
        warnings = warning_lines(done.stderr)
        if done.returncode != example.exit_code or warnings:
            failures.append(
                f"README.md:{example.line} {example.command}\n  exit {done.returncode}, expected {example.exit_code}"
                f"\n  warnings: {warnings}\n  stdout: {done.stdout[-1500:]}\n  stderr: {done.stderr[-1500:]}"
            )
    print("\n".join(skipped + timings))  # shown with -s
    assert not failures, "\n\n".join(failures)
    assert not (folder / "mlruns").exists()  # every example stayed on the local SQLite store and ./mlartifacts
