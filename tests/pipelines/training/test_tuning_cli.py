"""Tuning end to end through the CLI: nested runs, resume after SIGKILL, reproducibility, workers."""

import logging
import os
import signal
import subprocess
import sys
import time

import mlflow
import optuna
import pytest
from click.testing import CliRunner

from features.spec import load_spec
from pipelines.cli import cli
from pipelines.training.study_storage import default_storage_url
from pipelines.training.tune import fingerprint, study_identity
from pipelines.training.workflow import prepare
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
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path}/mlflow-optuna.db")


@pytest.mark.slow
def test_tune_leaves_a_parent_with_one_nested_run_per_trial(tracking_uri, german_spec, tmp_path, monkeypatch):
    opened, original = [], optuna.storages.RDBStorage.__init__

    def counted(self, *args, **kwargs):
        opened.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(optuna.storages.RDBStorage, "__init__", counted)
    result = invoke("tune", german_spec, "--trials", 8)
    assert result.exit_code == 0, result.output
    assert len(opened) == 1  # the study's storage is set up once per command
    (parent,), children = trial_runs(tracking_uri)
    assert len(children) == 8
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == list(range(8))
    for child in children:
        assert child.data.tags["optuna.state"] in {"COMPLETE", "PRUNED"}
        assert "logloss" in child.data.metrics and "n_trees" in child.data.metrics
        assert set(child.data.params) >= {"max_depth", "learning_rate"}
    study = load_study(tmp_path)
    assert parent.data.metrics["best_valid_logloss"] == pytest.approx(study.best_value)
    assert study.user_attrs["mlflow_parent_run_ids"] == [parent.info.run_id]
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
def test_a_changed_spec_trains_a_fresh_study_and_says_so(tracking_uri, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="creditflow")
    assert invoke("tune", write_spec(tmp_path), "--trials", 3).exit_code == 0
    spec = load_spec(write_spec(tmp_path))
    dropped = {  # one feature removed: before, no trial ran and the old best params were retrained
        "features.numeric": [f for f in spec.features.numeric if f != "credit_amount"],
        "reasons": {k: v for k, v in spec.reasons.items() if k != "credit_amount"},
    }
    changed = write_spec(tmp_path, **dropped)
    result = invoke("tune", changed, "--trials", 3)
    assert result.exit_code == 0, result.output
    fresh = f"german_credit-{fingerprint(study_identity(prepare(changed)))[:8]}"
    assert f"study 'german_credit' was made for a different features: starting study '{fresh}'" in caplog.text
    assert len(load_study(tmp_path, fresh).trials) == 3 and len(load_study(tmp_path).trials) == 3
    parents, _ = trial_runs(tracking_uri)
    assert sorted(p.data.tags["optuna.study"] for p in parents) == sorted(["german_credit", fresh])
    refused = CliRunner().invoke(cli, ["tune", str(changed), "--trials", 3, "--study", "german_credit"])
    assert refused.exit_code == 2 and "was made for a different features" in refused.output
    assert len(load_study(tmp_path).trials) == 3 and len(trial_runs(tracking_uri)[0]) == 2  # nothing written


@pytest.mark.slow
def test_a_complete_study_says_nothing_to_run_and_links_every_parent_run(tracking_uri, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="creditflow")
    spec = write_spec(tmp_path)
    assert invoke("tune", spec, "--trials", 3).exit_code == 0
    assert invoke("tune", spec, "--trials", 2).exit_code == 0
    assert "study 'german_credit': 3 of 2 trials done; nothing to run (--trials 13 adds 10 more)" in caplog.text
    study = load_study(tmp_path)
    assert len(study.trials) == 3
    parents, _ = trial_runs(tracking_uri)
    assert sorted(study.user_attrs["mlflow_parent_run_ids"]) == sorted(p.info.run_id for p in parents)
    assert study.user_attrs["mlflow_tracking_uri"] == tracking_uri


@pytest.mark.slow
def test_two_tracking_stores_in_one_folder_keep_their_studies_apart(tracking_uri, tmp_path):
    spec = write_spec(tmp_path)
    assert invoke("tune", spec, "--trials", 2).exit_code == 0
    other = f"sqlite:///{tmp_path}/other.db"
    assert invoke("tune", spec, "--trials", 2, "--tracking-uri", other).exit_code == 0
    for store in ("mlflow", "other"):
        study = optuna.load_study(study_name="german_credit", storage=f"sqlite:///{tmp_path}/{store}-optuna.db")
        assert len(study.trials) == 2


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


@pytest.fixture
def study_storage(request, tmp_path):
    """The study on one machine's SQLite file, or on a PostgreSQL database that workers on several machines share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/optuna.db"
        return
    with postgres_database("cft_optuna") as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize(
    "heartbeat, study_storage",
    [(1, "sqlite"), (60, "sqlite"), (1, "postgresql")],
    ids=["after-heartbeat-grace", "within-heartbeat-grace", "postgresql"],
    indirect=["study_storage"],
)
def test_killed_study_resumes_to_the_requested_total(tracking_uri, tmp_path, heartbeat, study_storage):
    """Re-run right after a kill -9: within the grace period the killed trial is failed because its process is
    gone (its owner is on the trial), so the study reaches the requested total and the killed parent run is closed.
    The same guarantee holds on PostgreSQL (a study shared by workers on several machines)."""
    storage = study_storage
    spec = _consumer_spec(tmp_path, **{"tuning.heartbeat_seconds": heartbeat})
    command = [sys.executable, "-m", "pipelines.cli", "tune", str(spec), "--trials", "6", "--storage", storage]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    # one storage object for all the polling: each `load_study` with a URL opens a new connection pool
    # (on PostgreSQL 40 idle connections within a few seconds, against a server limit of 100)
    polled = optuna.storages.RDBStorage(storage)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill in the middle of a trial once two have finished
        try:
            trials = optuna.load_study(study_name="consumer_loans", storage=polled).trials
        except (KeyError, Exception):
            trials = []
        states = [t.state for t in trials]
        running = states and states[-1] == optuna.trial.TrialState.RUNNING
        if (
            states.count(optuna.trial.TrialState.COMPLETE) >= 2
            and running
            and "creditflow.owner" in trials[-1].user_attrs
        ):
            break  # in the middle of a trial: its objective has started (and named its process)
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert optuna.trial.TrialState.RUNNING in [
        t.state for t in optuna.load_study(study_name="consumer_loans", storage=polled).trials
    ]
    polled.engine.dispose()

    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert done.returncode == 0, done.stderr
    study = optuna.load_study(study_name="consumer_loans", storage=storage)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == 6
    assert optuna.trial.TrialState.RUNNING not in states
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    # the killed trial's parameters run again when Optuna's heartbeat check failed it (after the grace period);
    # failed as dead on this host first, it is not retried
    retried = [t for t in study.trials if "failed_trial" in t.system_attrs]
    assert len(retried) <= 1 and all(t.state == optuna.trial.TrialState.COMPLETE for t in retried)
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


@pytest.mark.slow
def test_run_with_trials_0_trains_the_specs_params_without_a_study(tmp_path, tracking_uri):
    """`run --trials 0` means what `tuning.trials: 0` means (a documented page used it): no study, the spec's
    params as they are; `tune --trials 0` stays refused above."""
    spec = write_spec(tmp_path, **{"tuning.trials": 5})
    result = CliRunner().invoke(cli, ["run", str(spec), "--trials", "0"])
    assert result.exit_code == 0, result.output
    assert optuna.get_all_study_summaries(default_storage_url(tracking_uri)) == []
