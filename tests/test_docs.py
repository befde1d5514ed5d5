"""The documentation site (docs/, mkdocs.yml): every page is in the nav, the strict build passes offline, and every
command block of every page runs as written in a fresh copy of the repository, after the steps shown earlier on the
same page (tests/doc_walk.py; one walk per page). Pages that need what a test machine lacks skip those lines, saying
why: a team server (tests/pipelines/server/ run that story against a real one), a Spark cluster.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.doc_walk import SKIPS, environment, examples, fresh_copy, walk

DOCS = REPO / "docs"
PAGE_SKIPS = SKIPS + [
    (r"--engine spark", "needs Spark and a Parquet folder of applications"),
    (
        r"^(creditflow server\b|export MLFLOW_TRACKING_|MLFLOW_TRACKING_USERNAME=)",
        "team mode: needs a team server (tests/pipelines/server/ run this story against a real one)",
    ),
    (
        r"^creditflow run experiments/consumer_loans\.yaml\b",
        "the copy's store already holds consumer_loans version 1, trained by the same spec on a smaller generated "
        "book (tests/conftest.py consumer_store); README.md's walk runs this line itself",
    ),
]


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in nav_pages(value)]
    return []


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    listed = set(nav_pages(config["nav"]))
    missing = sorted(str(p.relative_to(DOCS)) for p in pages() if str(p.relative_to(DOCS)) not in listed)
    assert not missing, f"add these pages to `nav` in mkdocs.yml (a guide under 'Guides'): {missing}"
    assert not [p for p in listed if not (DOCS / p).is_file()]


def test_pages_with_commands_parse_and_the_projects_page_names_its_experiment():
    found = {p.name: examples(p.read_text(), PAGE_SKIPS) for p in pages()}
    mlflow_runs = [e for e in found["mlflow-projects.md"] if e.command.startswith("mlflow run")]
    assert mlflow_runs and all("--experiment-name" in e.command for e in mlflow_runs)
    assert not [e for p in found.values() for e in p if "date -d" in e.command], "GNU-only date -d"


@pytest.mark.slow
def test_the_site_builds_strictly_offline(tmp_path):
    mkdocs = Path(sys.executable).with_name("mkdocs")
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert "fonts.googleapis.com" not in html  # no page needs the network to render


TEAM_TUTORIAL = DOCS / "tutorials" / "team-mode.md"  # walked against PostgreSQL below, every line
WALKED = [p for p in pages() if p != TEAM_TUTORIAL and any(e.skip is None for e in examples(p.read_text(), PAGE_SKIPS))]


@pytest.mark.slow
@pytest.mark.parametrize("page", WALKED, ids=[str(p.relative_to(DOCS)) for p in WALKED])
def test_every_command_of_the_page_runs_as_written(tmp_path, page, consumer_store):
    folder = fresh_copy(tmp_path / "clone")
    shutil.copy(consumer_store / "mlflow.db", folder / "mlflow.db")  # consumer_loans version 1, artifacts stay put
    env = environment(folder, tmp_path / "bin")
    name = str(page.relative_to(REPO))
    result = walk(name, (folder / name).read_text(), folder, env, PAGE_SKIPS)
    print("\n".join(result.skipped + result.timings))  # shown with -s
    assert not result.failures, "\n\n".join(result.failures)
    assert not (folder / "mlruns").exists()
    assert not re.search(r"\bmlruns\b", "".join(result.timings))


@pytest.mark.slow
def test_the_team_tutorial_runs_as_written_to_a_governed_promotion(tmp_path):
    """The team walk-through, every line but the install, against this machine's PostgreSQL: `server init` with
    PGPASSWORD, the server in the background, five people, a version validated by the server's worker, refused
    promotion, an exception, a second approval and a promotion the server records."""
    import psycopg2

    from tests.conftest import unavailable
    from tests.pipelines.server.conftest import connect, drop

    try:
        existing = _databases(connect(), "creditflow\\_%")
    except psycopg2.Error as exc:
        unavailable(f"the team tutorial needs PostgreSQL: {exc}")
    if (existing or _roles(connect(), "creditflow\\_%")) and _left_by_an_earlier_walk(existing):
        drop("creditflow")  # a walk killed before its clean-up (a CI time-out) on a machine whose PostgreSQL stays
        existing = _databases(connect(), "creditflow\\_%")
    assert not existing, f"the tutorial's databases already exist here ({existing}): the walk will not touch them"
    folder = fresh_copy(tmp_path / "clone")
    name = str(TEAM_TUTORIAL.relative_to(REPO))
    try:
        result = walk(name, (folder / name).read_text(), folder, environment(folder, tmp_path / "bin"))
        promotions = (
            _promotions(connect("creditflow_governance")) if _databases(connect(), "creditflow_governance") else []
        )
    finally:
        _stop_processes_in(folder)  # the server the tutorial started in the background, its worker
        drop("creditflow")
    print("\n".join(result.skipped + result.timings))  # shown with -s
    assert not result.failures, "\n\n".join(result.failures)
    assert all(line.endswith(tuple(why for _, why in SKIPS)) for line in result.skipped)  # installing only
    assert promotions == [("rob", "german_credit", "1")]


def _left_by_an_earlier_walk(databases: list[str]) -> bool:
    """Databases of an earlier walk of this tutorial whose test was killed before it dropped them (a CI time-out):
    nobody is connected to them (no server serves them) and their users, if `init` got as far as making any, are
    the tutorial's own and the two `init` makes. A real server's would have other users."""
    import psycopg2

    from pipelines.governance.rules.permissions import SERVICE_VALIDATOR
    from tests.pipelines.server.conftest import connect

    walk_users = {"admin", SERVICE_VALIDATOR, *re.findall(r"server user add (\w+)", TEAM_TUTORIAL.read_text())}
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s)", (databases,))
            if cur.fetchone()[0]:
                return False
    finally:
        conn.close()
    if "creditflow_auth" not in databases:
        return True  # `init` killed before it made the auth database: nothing anyone used
    conn = connect("creditflow_auth")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT username FROM users")
            return {row[0] for row in cur.fetchall()} <= walk_users
    except psycopg2.Error:  # `init` killed before MLflow made its tables
        return True
    finally:
        conn.close()


def _roles(conn, pattern: str) -> list[str]:
    return _names(conn, "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", pattern)


def _databases(conn, pattern: str) -> list[str]:
    return _names(conn, "SELECT datname FROM pg_database WHERE datname LIKE %s", pattern)


def _names(conn, query: str, pattern: str) -> list[str]:
    try:
        with conn.cursor() as cur:
            cur.execute(query, (pattern,))
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def _promotions(conn) -> list[tuple[str, str, str]]:
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT username, model, version FROM audit_log WHERE action = 'promote' AND decision = 'allowed'"
            )
            return [tuple(row) for row in cur.fetchall()]
    finally:
        conn.close()


def _stop_processes_in(folder: Path) -> None:
    """SIGTERM, then SIGKILL, every process working in `folder` or below it (a background line's process group is
    the test's own, so it is found by folder, not by group)."""
    import os
    import signal
    import time

    def running() -> list[int]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and Path(os.readlink(proc / "cwd")).is_relative_to(folder.resolve()):
                    found.append(int(proc.name))
            except OSError:
                continue
        return found

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in running():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 20
        while running() and time.monotonic() < deadline:
            time.sleep(0.5)
