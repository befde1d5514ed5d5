"""What does team mode cost? The same client on a team server (PostgreSQL, basic-auth, creditflow's gate) and
on the local SQLite store.

1. Run logging: N runs, each with 10 params, 10 metrics, 3 tags and a small text artifact, logged by a data
   scientist; seconds per run against a local SQLite store (goal: at most 2x). Measured with one uvicorn worker
   and with two gunicorn workers, and on a plain `mlflow server` on the same PostgreSQL (no authentication, no
   gate), which separates the cost of HTTP + PostgreSQL from that of basic-auth + the gate.
   The team server against the plain one is the overhead of basic-auth + the gate (goal: at most 1.3x, issue 24.8).
2. Tuning: a 20-trial study through creditflow's study runner (one nested MLflow run per trial), on the team
   server with the Optuna study on PostgreSQL, against local SQLite for both (goal: at most 1.15x per trial).
3. Start-up: seconds from `creditflow server start` (with its validation worker) to the first 200 on /health,
   beside a plain `mlflow server` on the same stores (goal: under 15 s, issue 24.6).

It creates its own uniquely named databases and roles on POSTGRES (a role that may create both) and drops
them afterwards. Medians of --repeats.

    python benchmarks/team_overhead.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--runs 30] [--rows 100000] [--trials 20] [--repeats 3] [--parts logging,tuning,startup]

Setups are measured interleaved (each repeat runs every setup, in a rotated order), so machine load hits them alike;
the load average is printed beside the results.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import mlflow
import optuna
import psycopg2
import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import shipped_spec  # noqa: E402

from pipelines.server.setup import ServerConfig, init_server, server_command, server_environment  # noqa: E402
from pipelines.tracking import Tracker  # noqa: E402
from pipelines.tracking.http import add_user  # noqa: E402
from pipelines.tracking.trials import TrialSink  # noqa: E402
from pipelines.training.study_storage import StudyRef  # noqa: E402
from pipelines.training.tune import load_or_create_study  # noqa: E402
from pipelines.training.tuning_session import Budget, run_study  # noqa: E402
from pipelines.training.workflow import prepare  # noqa: E402

PASSWORDS = {"admin": f"admin-{secrets.token_hex(8)}", "ds1": f"ds1-{secrets.token_hex(8)}"}


def log_runs(uri: str, experiment: str, runs: int) -> float:
    """Seconds per logged run (params, metrics, tags, one artifact), through MLflow's fluent client."""
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    started = time.perf_counter()
    for index in range(runs):
        with mlflow.start_run(run_name=f"run-{index}"):
            mlflow.log_params({f"param_{i}": i * index for i in range(10)})
            mlflow.log_metrics({f"metric_{i}": i / (index + 1) for i in range(10)})
            mlflow.set_tags({"optuna.role": "bench", "stage": "logging", "index": str(index)})
            mlflow.log_text(f"run {index}\n", "notes/run.txt")
    return (time.perf_counter() - started) / runs


def tune(uri: str, storage: str, prepared, trials: int, attempt: int) -> float:
    """Seconds per trial of creditflow's study runner."""
    tracker = Tracker(uri)
    ref = StudyRef(storage, f"bench-{attempt}", prepared.spec.tuning.heartbeat_seconds)
    with tracker.run("tune-bench", run_name=f"tune-{attempt}") as run:
        sink = TrialSink(tracker.uri, tracker.experiment_of(run.run_id), run.run_id, ref.name)
        started = time.perf_counter()
        run_study(prepared, load_or_create_study(prepared, ref), ref, Budget(trials, None, 1), sink)
        return (time.perf_counter() - started) / trials


PLAIN, TEAM_GOAL = "plain mlflow server, PostgreSQL", 1.3
SETUPS = {  # name -> (command kind, workers); all run at once on the same databases, each on its own port
    "plain mlflow server, PostgreSQL": ("plain", 1),
    "team server, uvicorn 1 worker": ("team", 1),
    "team server, gunicorn 2 workers": ("team", 2),
}


def start_server(folder: Path, kind: str, workers: int, port: int) -> subprocess.Popen:
    """The team server (`mlflow server --app-name creditflow`), `creditflow server start` (`cli`: the same with
    its checks and validation worker), or a plain `mlflow server` on the same stores."""
    config = replace(ServerConfig.load(folder), port=port)
    command = server_command(config, workers=workers)
    if kind == "cli":
        command = [sys.executable, "-m", "pipelines.cli", "server", "start", "--folder", str(folder)]
    if kind == "plain":
        command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", config.backend_store_uri]
        command += ["--artifacts-destination", str(folder / "plain"), "--port", str(port), "--workers", "1"]
    log = (folder / f"server-{port}.log").open("w")
    process = subprocess.Popen(
        command,
        env={
            **server_environment(folder),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with its workers
    )
    log.close()  # the child holds its own copy
    for _ in range(300):
        try:
            if requests.get(f"{config.tracking_uri}/health", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError((folder / f"server-{port}.log").read_text()[-2000:])


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def drop(postgres: str, prefix: str) -> None:
    conn = psycopg2.connect(postgres)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in ("mlflow", "auth", "governance", "optuna"):
            cur.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')
        for name in ("server", "optuna", "owner"):
            cur.execute(f'DROP ROLE IF EXISTS "{prefix}_{name}"')
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(label: str, values: dict[str, list[float]], base: str, goal: float) -> None:
    medians = {name: statistics.median(v) for name, v in values.items()}
    print(label)
    for name, found in values.items():
        ratio = f"  {medians[name] / medians[base]:.2f}x {base} (goal <= {goal}x)" if name != base else ""
        print(f"  {name:<34} {medians[name] * 1000:8.1f} ms  {[round(v * 1000, 1) for v in found]}{ratio}")


def report_against_plain(values: dict[str, list[float]]) -> None:
    """The team server's cost over a plain `mlflow server` on the same PostgreSQL: basic-auth and the gate."""
    plain = statistics.median(values[PLAIN])
    print(f"team server against {PLAIN} (issue 24.8 goal: at most {TEAM_GOAL}x):")
    for name in (n for n in values if n.startswith("team")):
        ratio = statistics.median(values[name]) / plain
        verdict = "meets" if ratio <= TEAM_GOAL else "misses"
        print(f"  {name:<34} {ratio:5.2f}x  ({verdict} the {TEAM_GOAL}x goal)")


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="logging,tuning,startup", help="comma-separated: logging,tuning,startup")
    args = parser.parse_args()
    args.parts = set(args.parts.split(","))
    if not args.parts <= {"logging", "tuning", "startup"}:
        parser.error(f"--parts {','.join(sorted(args.parts))}: choose from logging, tuning, startup")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.update(
        MLFLOW_TRACKING_USERNAME="ds1",
        MLFLOW_TRACKING_PASSWORD=PASSWORDS["ds1"],
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true",
    )
    prefix = f"cfbench_{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = init_server(
            args.postgres,
            folder / "server",
            prefix=prefix,
            host="127.0.0.1",
            port=free_port(),
            admin="admin",
            admin_password=PASSWORDS["admin"],
        )
        local = f"sqlite:///{folder / 'mlflow.db'}"
        try:
            print(f"before: {load()}")
            if args.parts & {"logging", "tuning"}:
                measure(args, folder, config, local)
            if "startup" in args.parts:
                startup(args, folder / "server")
            print(f"after: {load()}")
        finally:
            drop(args.postgres, prefix)


def measure(args, folder: Path, config: ServerConfig, local: str) -> None:
    """Every setup is measured in each repeat, one after the other, so a change in machine load between
    repeats hits them all alike."""
    prepared = None
    if "tuning" in args.parts:
        spec = shipped_spec()
        spec["data"]["synthetic"]["rows"] = args.rows
        (folder / "bench.yaml").write_text(yaml.safe_dump(spec))
        prepared = prepare(folder / "bench.yaml")
    uris = {"local SQLite": local}
    processes = []
    try:
        for name, (kind, workers) in SETUPS.items():
            port = config.port if name == "team server, uvicorn 1 worker" else free_port()
            processes.append(start_server(folder / "server", kind, workers, port))
            uris[name] = f"http://127.0.0.1:{port}"
        with mock_env(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=PASSWORDS["admin"]):
            add_user(config.tracking_uri, "ds1", "creditflow-data-scientist", PASSWORDS["ds1"])
        logging = {name: [] for name in uris}
        tuning = {"local SQLite (store and study)": [], "team server + PostgreSQL study": []}
        for name, uri in uris.items():
            log_runs(uri, f"warm-up-{name}", 2)
        for attempt in range(args.repeats):
            order = list(uris)[attempt % len(uris) :] + list(uris)[: attempt % len(uris)]  # rotated each repeat
            for name in order if "logging" in args.parts else ():
                logging[name].append(log_runs(uris[name], f"logging-{attempt}-{name}", args.runs))
            if "tuning" not in args.parts:
                continue
            storage = f"sqlite:///{folder / f'optuna-{attempt}.db'}"
            tuning["local SQLite (store and study)"].append(tune(local, storage, prepared, args.trials, attempt))
            team = tune(config.tracking_uri, config.optuna_storage_uri, prepared, args.trials, attempt)
            tuning["team server + PostgreSQL study"].append(team)
    finally:
        for process in processes:
            stop_server(process)
    print(f"{args.runs} runs per repeat, {args.trials} trials on {args.rows:,} rows, {args.repeats} repeats (medians)")
    if "logging" in args.parts:
        report("per logged run:", logging, "local SQLite", 2.0)
        report_against_plain(logging)
    if "tuning" in args.parts:
        report("per tuning trial:", tuning, "local SQLite (store and study)", 1.15)


def startup(args, folder: Path) -> None:
    """Seconds from launching each server to its first 200 on /health, interleaved, --repeats times."""
    kinds = {PLAIN: "plain", "creditflow server start": "cli"}
    seconds: dict[str, list[float]] = {name: [] for name in kinds}
    for attempt in range(args.repeats):
        for name in list(kinds)[attempt % 2 :] + list(kinds)[: attempt % 2]:
            started = time.perf_counter()
            port = ServerConfig.load(folder).port if kinds[name] == "cli" else free_port()  # the worker's port
            process = start_server(folder, kinds[name], 1, port)
            seconds[name].append(time.perf_counter() - started)
            stop_server(process)
    print(f"start-up to the first 200 on /health ({args.repeats} repeats, medians; goal under 15 s):")
    for name, found in seconds.items():
        print(f"  {name:<34} {statistics.median(found):6.1f} s  {[round(v, 1) for v in found]}")


class mock_env:
    """Environment variables set for a block."""

    def __init__(self, **values: str):
        self.values, self.saved = values, {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc):
        for key, value in self.saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


if __name__ == "__main__":
    main()
