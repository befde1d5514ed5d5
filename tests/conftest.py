"""Shared fixtures: a private SQLite tracking store per test, and small specs on tiny data."""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import mlflow
import pytest
import yaml
from mlflow.tracking._tracking_service import utils as tracking_utils

REPO = Path(__file__).resolve().parents[1]
# A role that may create databases and roles (team mode; .ci/run starts PostgreSQL on this machine kind).
POSTGRES = os.environ.get("CREDITFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
GERMAN_SPEC = REPO / "experiments" / "german_credit.yaml"
CONSUMER_SPEC = REPO / "experiments" / "consumer_loans.yaml"
POLICY = REPO / "experiments" / "policies" / "consumer-credit.yaml"

# The sections of a model card and review page, in order (the page adds a sign-off block after them).
CARD_SECTIONS = [
    "Verdicts and limits",
    "Identity and intended use",
    "Data and lineage",
    "Performance",
    "Calibration",
    "Stability",
    "Fairness",
    "Less-discriminatory alternative",
    "Leakage screen",
    "Data design (duplicates, row identifiers, time order)",  # a registered gate's own section (card's generic one)
    "Explanations and reason codes",
    "Hyperparameters",
    "Known limitations",
    "Monitoring plan",
    "Approvals and exceptions",
]


@pytest.fixture(scope="session")
def store_template(tmp_path_factory) -> Path:
    """An empty, migrated SQLite store: migrating costs ~7 s, copying the file costs nothing."""
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture(autouse=True)
def _tracking_uri_stays_with_its_test():
    """A command run in process with `--tracking-uri` leaves the URI behind: MLflow's `set_tracking_uri` keeps it in
    a module global and exports MLFLOW_TRACKING_URI for child processes. A team server's URI left so turned a later
    test's `check` on the same worker into a team-mode check against that server. Each test gets both back."""
    saved = tracking_utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    yield
    restore_tracking_uri(*saved)


def restore_tracking_uri(default: str | None, exported: str | None) -> None:
    """MLflow's default tracking URI and the MLFLOW_TRACKING_URI it exports, as they were."""
    tracking_utils._tracking_uri = default
    if exported is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = exported


def use_store(database: Path, folder: Path, monkeypatch, artifacts: bool = False) -> str:
    """A copy of a tracking store in `folder`, made the default for anything the test runs; its URI.

    With `artifacts`, its `mlartifacts/` are copied too and every path to them rewritten, so a test that
    re-logs artifacts (a review page) does not change what other tests read."""
    shutil.copy(database, folder / "mlflow.db")
    if artifacts:
        shutil.copytree(database.parent / "mlartifacts", folder / "mlartifacts")
        _move_artifact_paths(folder / "mlflow.db", database.parent / "mlartifacts", folder / "mlartifacts")
        # MLflow caches each run's artifact location by run id for the process; the copy keeps the run ids
        monkeypatch.setattr(tracking_utils, "_artifact_repos_cache", type(tracking_utils._artifact_repos_cache)())
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # as `creditflow` itself sets it
    monkeypatch.chdir(folder)
    return uri


def _move_artifact_paths(database: Path, old: Path, new: Path) -> None:
    """Rewrite every text column of an MLflow SQLite store that names a path under `old`."""
    with sqlite3.connect(database) as connection:
        tables = [row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            for column in connection.execute(f"pragma table_info('{table}')").fetchall():
                if column[2].upper().startswith(("VARCHAR", "TEXT")):
                    connection.execute(
                        f'update "{table}" set "{column[1]}" = replace("{column[1]}", ?, ?) where "{column[1]}" like ?',
                        (str(old), str(new), f"%{old}%"),
                    )


@pytest.fixture
def tracking_uri(tmp_path, store_template, monkeypatch) -> str:
    """A fresh tracking store for this test, also the default for anything it runs."""
    yield use_store(store_template, tmp_path, monkeypatch)
    mlflow.set_tracking_uri(None)


def write_spec(folder: Path, base: Path | dict = GERMAN_SPEC, **changes) -> Path:
    """A copy of a spec with `changes` merged in (dotted keys), single-threaded XGBoost, absolute data path."""
    spec = yaml.safe_load(base.read_text()) if isinstance(base, Path) else dict(base)
    source = spec["data"].get("source")
    if isinstance(base, Path) and source and not Path(source).is_absolute():
        spec["data"]["source"] = str((base.parent / source).resolve())
    policy_name = spec.get("policy", {}).get("name")
    shipped = base.parent / "policies" / f"{policy_name}.yaml" if isinstance(base, Path) and policy_name else None
    if shipped is not None and shipped.is_file() and not (folder / "policies" / shipped.name).exists():
        (folder / "policies").mkdir(exist_ok=True)  # the project's policy folder beside the spec
        shutil.copy(shipped, folder / "policies" / shipped.name)
    spec.setdefault("tuning", {}).setdefault("params", {})["nthread"] = 1
    spec["tuning"]["trials"] = 0  # tests tune only where they say so (tuning.trials=N in changes)
    # The mitigated challenger costs dozens of XGBoost fits: only where a test says so.
    spec.get("policy", {}).get("fairness", {}).pop("mitigation", None)
    for dotted, value in changes.items():
        node = spec
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    path = folder / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def write_policy(folder: Path, name: str = "test-policy", **changes) -> Path:
    """A copy of the shipped policy file with `changes` merged in (dotted keys, e.g. `limits.fairness.min_air`), in
    the policy folder of specs written to `folder` (`folder/policies/NAME.yaml`)."""
    policy = yaml.safe_load(POLICY.read_text())
    policy["name"] = name
    for dotted, value in changes.items():
        node = policy
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    (folder / "policies").mkdir(exist_ok=True)
    path = folder / "policies" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


@pytest.fixture
def german_spec(tmp_path) -> Path:
    return write_spec(tmp_path)


@pytest.fixture(scope="session")
def consumer_store(tmp_path_factory, store_template) -> Path:
    """A folder whose store holds `consumer_loans` version 1, trained through `creditflow run` on 8,000 generated
    applicants (seed 3) with the shipped spec's settings: the model monitoring tests and the README walk watch."""
    from click.testing import CliRunner

    from features.synthetic import BookOptions, generate_book
    from pipelines.cli import cli

    folder = tmp_path_factory.mktemp("consumer")
    shutil.copy(store_template, folder / "mlflow.db")
    generate_book(BookOptions(rows=8000, seed=3)).to_parquet(folder / "train.parquet")
    spec = write_spec(
        folder,
        CONSUMER_SPEC,
        **{"data.synthetic": None, "data.source": str(folder / "train.parquet"), "policy.fairness.n_boot": 20},
    )
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    result = CliRunner().invoke(cli, ["run", str(spec), "--tracking-uri", uri], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    mlflow.set_tracking_uri(None)
    return folder


@pytest.fixture(scope="module")
def spark():
    """One small local Spark session (2 cores) per test module; skipped with the reason when Spark cannot run."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: the Spark engine needs Java 17 (.ci/run installs it)")
    import os
    import sys

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("creditflow-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
        .getOrCreate()
    )
    yield session
    session.stop()


def unavailable(reason: str) -> None:
    """Skip a test that needs PostgreSQL or Chromium when they are missing; fail it where CI says they are
    part of the machine (CREDITFLOW_TEAM_TESTS=required, set by .ci/run)."""
    if os.environ.get("CREDITFLOW_TEAM_TESTS") == "required":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database for one test (its SQLAlchemy URL), dropped afterwards;
    the test is skipped when PostgreSQL cannot be reached."""
    import psycopg2
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin = psycopg2.connect(POSTGRES, connect_timeout=5)
    except psycopg2.Error as exc:
        unavailable(f"needs PostgreSQL at {POSTGRES}: {exc}")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES).set(drivername="postgresql+psycopg2", database=name).render_as_string(False)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# Tests that share something outside their temporary folder run on one pytest-xdist worker (`--dist loadgroup`):
# the walks that start servers on the documented fixed ports, and the team tests (PostgreSQL roles are cluster-wide).
SHARED_GROUPS = (
    ("tests/test_readme.py", "fixed-ports"),
    ("tests/test_docs.py::test_every_command_of_the_page_runs_as_written[tutorials/first-model.md]", "fixed-ports"),
    ("tests/test_docs.py::test_the_team_tutorial_runs_as_written", "fixed-ports"),
    ("tests/pipelines/server/", "postgres-server"),
    ("tests/pipelines/commands/test_server.py", "postgres-server"),
)


# Files whose tests take longest (measured: docs/benchmarks.md, "Test suite time"), longest first. They start
# first, so that no long test begins near the end and finishes the run alone on one worker while the other idles.
LONG_FIRST = (
    "tests/test_docs.py",
    "tests/test_readme.py",
)


def shared_group(nodeid: str) -> str | None:
    return next((group for prefix, group in SHARED_GROUPS if nodeid.startswith(prefix)), None)


def pytest_collection_modifyitems(items):
    for item in items:
        group = shared_group(item.nodeid)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    items[:] = start_order(items)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: a run with -p no:xdist has none
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` grouping by SHARED_GROUPS itself. pytest-xdist 3.8 passes a test's group to its scheduler by
    appending `@group` to the worker's node id, which pytest 9.2's structured node ids ignore (pytest-xdist issue
    1386): the groups were silently spread over both workers, each starting a team server of its own and the fixed
    ports shared. The scheduler runs in the controlling process and sees node ids only, so it groups them here."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedGroupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_group(nodeid) or super()._split_scope(nodeid)

    return SharedGroupScheduling(config, log)


def start_order(items: list) -> list:
    """The items with the longest files first: LONG_FIRST in its order, then every file holding a slow test, then
    the rest; a file's tests stay together and in order (module fixtures are set up once).

    Under `--dist loadgroup`, pytest-xdist hands out its groups first (largest first) and then single tests in this
    order, so the quick tests fill both workers at the end of the run."""
    slow = {_file(item) for item in items if item.get_closest_marker("slow")}

    def rank(item) -> tuple[int, int]:
        path = _file(item)
        if path in LONG_FIRST:
            return 0, LONG_FIRST.index(path)
        return (1 if path in slow else 2), 0

    return sorted(items, key=rank)  # stable: collection order within a rank


def _file(item) -> str:
    return item.nodeid.split("::", 1)[0]
