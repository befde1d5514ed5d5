"""Tuning end to end through the CLI: nested runs, resume after SIGKILL, reproducibility, workers."""

import os
import signal
import subprocess
import sys
import time

import mlflow
import optuna
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, REPO, postgres_database, write_spec


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def trial_runs(uri, experiment="german_credit"):
    client = mlflow.MlflowClient(uri)
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([experiment_id])
    parents = [r for r in runs if r.data.tags.get("optuna.role") == "study"]
    children = [r for r in runs if "optuna.trial_number" in r.data.tags]
    return parents, children


def load_study(tmp_path, name="german_credit"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path}/optuna.db")


@pytest.mark.slow
def test_tune_leaves_a_parent_with_one_nested_run_per_trial(tracking_uri, german_spec, tmp_path):
    result = invoke("tune", german_spec, "--trials", 8)
    assert result.exit_code == 0, result.output
    (parent,), children = trial_runs(tracking_uri)
    assert len(children) == 8
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == list(range(8))
    for child in children:
        assert child.data.tags["optuna.state"] in {"COMPLETE", "PRUNED"}
        assert "auc" in child.data.metrics and "n_trees" in child.data.metrics
        assert set(child.data.params) >= {"max_depth", "learning_rate"}
    study = load_study(tmp_path)
    assert parent.data.metrics["best_valid_auc"] == pytest.approx(study.best_value)
    assert parent.data.params["xgb.max_depth"] == str(study.best_params["max_depth"])
    assert (
        parent.data.params["tuning.sampler"] == '{"constant_liar": true, "multivariate": true, "n_startup_trials": 10}'
    )
    artifacts = {a.path for a in mlflow.MlflowClient(tracking_uri).list_artifacts(parent.info.run_id, "tuning")}
    assert {"tuning/best_params.json", "tuning/optimization_history.png", "tuning/param_importances.png"} <= artifacts
    assert mlflow.MlflowClient(tracking_uri).search_registered_models() == []


@pytest.mark.slow
def test_run_registers_the_tuned_candidate(tracking_uri, tmp_path):
    spec = write_spec(tmp_path, **{"tuning.trials": 5})
    result = invoke("run", spec)
    assert result.exit_code == 0, result.output
    client = mlflow.MlflowClient(tracking_uri)
    version = client.get_model_version("german_credit", "1")
    run = client.get_run(version.run_id)
    best = load_study(tmp_path).best_params
    assert run.data.params["xgb.learning_rate"] == str(best["learning_rate"])
    assert run.data.metrics["trials_complete"] + run.data.metrics["trials_pruned"] == 5


@pytest.mark.slow
def test_same_seed_gives_the_same_trials(tmp_path, tracking_uri, monkeypatch):
    spec = write_spec(tmp_path)
    outcomes = []
    for attempt in ("a", "b"):
        storage = f"sqlite:///{tmp_path}/{attempt}.db"
        assert invoke("tune", spec, "--trials", 6, "--storage", storage).exit_code == 0
        study = optuna.load_study(study_name="german_credit", storage=storage)
        outcomes.append([(t.params, t.value, t.state) for t in study.trials])
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--trials", "0"], "--trials must be at least 1"),
        (["--trials", "-3"], "--trials must be at least 1"),
        (["--trials", "2", "--workers", "99"], "--workers must be between 1 and the"),
        (["--trials", "2", "--storage", "::bad::"], "malformed storage URL"),
        (["--trials", "2", "--storage", "sqlite:////no/such/dir/o.db"], "storage folder does not exist"),
        (["--trials", "2", "--timeout", "-1"], "--timeout must be positive"),
    ],
)
def test_bad_tuning_input_exits_2_and_writes_nothing(tracking_uri, german_spec, args, message):
    result = CliRunner().invoke(cli, ["tune", str(german_spec), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert mlflow.MlflowClient(tracking_uri).search_experiments(filter_string="name = 'german_credit'") == []


def test_tune_without_a_budget_is_refused(tracking_uri, german_spec):
    result = CliRunner().invoke(cli, ["tune", str(german_spec)])
    assert result.exit_code == 2 and "no trial budget" in result.output


@pytest.mark.slow
def test_study_of_another_search_space_is_left_untouched(tracking_uri, tmp_path):
    assert invoke("tune", write_spec(tmp_path), "--trials", 3).exit_code == 0
    narrowed = write_spec(tmp_path, **{"tuning.space": {"max_depth": {"low": 2, "high": 3}}})
    result = CliRunner().invoke(cli, ["tune", str(narrowed), "--trials", 3])
    assert result.exit_code == 2 and "different spec or search space" in result.output
    assert len(load_study(tmp_path).trials) == 3


def _consumer_spec(tmp_path, **changes):
    return write_spec(
        tmp_path,
        GERMAN_SPEC.parent / "consumer_loans.yaml",
        **{
            "data.synthetic.rows": 20000,
            "tuning.heartbeat_seconds": 1,
            "tuning.pruning": {"enabled": False},
            **changes,
        },
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def study_storage(request, tmp_path):
    """The study on one machine's SQLite file, or on a PostgreSQL database that workers on several machines share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/optuna.db"
        return
    with postgres_database("cft_optuna") as url:
        yield url


@pytest.mark.slow
def test_killed_study_resumes_to_the_requested_total(tracking_uri, tmp_path, study_storage):
    storage = study_storage
    # the same guarantee on PostgreSQL, on a smaller book to keep CI quick
    spec = _consumer_spec(tmp_path, **({"data.synthetic.rows": 6000} if storage.startswith("postgresql") else {}))
    command = [sys.executable, "-m", "pipelines.cli", "tune", str(spec), "--trials", "6", "--storage", storage]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill in the middle of a trial once two have finished
        try:
            trials = optuna.load_study(study_name="consumer_loans", storage=storage).trials
        except (KeyError, Exception):
            trials = []
        states = [t.state for t in trials]
        if states.count(optuna.trial.TrialState.COMPLETE) >= 2 and states[-1] == optuna.trial.TrialState.RUNNING:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert optuna.trial.TrialState.RUNNING in [
        t.state for t in optuna.load_study(study_name="consumer_loans", storage=storage).trials
    ]

    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="consumer_loans", storage=storage)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 6
    assert optuna.trial.TrialState.RUNNING not in states
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    retried = [t for t in study.trials if "failed_trial" in t.system_attrs]  # the killed trial's parameters, again
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    parents, children = trial_runs(tracking_uri, "consumer_loans")
    numbers = sorted(int(c.data.tags["optuna.trial_number"]) for c in children)
    assert numbers == list(range(len(study.trials)))  # every trial, the killed one included, has one run
    failed = [c for c in children if c.data.tags["optuna.state"] == "FAIL"]
    assert len(failed) == 1 and failed[0].info.status == "FAILED"
    assert sorted(p.info.status for p in parents) == ["FINISHED", "KILLED"]


@pytest.mark.slow
def test_two_workers_share_one_study(tracking_uri, tmp_path):
    spec = write_spec(tmp_path)
    result = invoke("tune", spec, "--trials", 20, "--workers", 2)
    assert result.exit_code == 0, result.output
    study = load_study(tmp_path)
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == 20 and all(t.state != optuna.trial.TrialState.FAIL for t in finished)
    assert len({tuple(sorted(t.params.items())) for t in finished}) == 20
    _, children = trial_runs(tracking_uri)
    assert len(children) == 20
