"""What does creditflow's tuning cost per trial, and what do pruning and early stopping buy?

1. Overhead: the same trials (same sampler, seed, pruner, data) run through creditflow's study
   runner (SQLite storage with heartbeats, one nested MLflow run per trial) and through a bare
   Optuna + XGBoost loop with no MLflow, once on in-memory storage (not resumable) and once on a
   SQLite storage like creditflow's (resumable). Prints per-trial time ratios (goal <= 1.10).
2. Pruning: bare loops with pruning + early stopping, with early stopping only, and with neither;
   for each, the wall time until the best value so far is within 0.002 AUC of the best value any
   loop found. Prints the speed-up of pruning + early stopping (goal >= 2x).

    python benchmarks/tune_overhead.py [--rows 100000] [--trials 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import optuna
import xgboost as xgb
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import shipped_spec  # noqa: E402

from pipelines.tracking import Tracker  # noqa: E402
from pipelines.tracking.trials import TrialSink  # noqa: E402
from pipelines.training.train import booster_params  # noqa: E402
from pipelines.training.tune import (  # noqa: E402
    StudyRef,
    load_or_create_study,
    make_pruner,
    make_sampler,
    suggest_params,
)
from pipelines.training.tuning_session import Budget, run_study  # noqa: E402
from pipelines.training.workflow import fit_transform, prepare, train_valid_matrices  # noqa: E402

TOLERANCE = 0.002


def bare_loop(
    prepared, train, valid, trials: int, prune: bool, early_stop: bool, storage: str | None = None
) -> list[tuple[float, float]]:
    """A plain Optuna + XGBoost loop; returns (elapsed seconds, best value so far) after each trial."""
    spec = prepared.spec
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler(spec, seed=spec.tuning.seed),
        storage=storage,
        pruner=make_pruner(spec) if prune else optuna.pruners.NopPruner(),
    )
    monotone = spec.features.monotone_vector()

    def objective(trial):
        params = suggest_params(trial, spec)

        class Report(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                if (epoch + 1) % spec.tuning.pruning.interval:
                    return False
                trial.report(evals_log["valid"]["auc"][-1], epoch)
                if prune and trial.should_prune():
                    raise optuna.TrialPruned()
                return False

        booster = xgb.train(
            booster_params(params, monotone=monotone, seed=spec.tuning.seed),
            train,
            params.max_rounds,
            evals=[(valid, "valid")],
            callbacks=[Report()],
            verbose_eval=False,
            early_stopping_rounds=params.early_stopping_rounds if early_stop else None,
        )
        return booster.best_score if early_stop else float(booster.eval(valid).split(":")[-1])

    progress, started = [], time.perf_counter()
    for _ in range(trials):
        study.optimize(objective, n_trials=1)
        best = study.best_value if study.best_trials else float("nan")
        progress.append((time.perf_counter() - started, best))
    return progress


def creditflow_loop(prepared, folder: Path, trials: int, attempt: int) -> float:
    tracker = Tracker(f"sqlite:///{folder / 'mlflow.db'}")
    ref = StudyRef(f"sqlite:///{folder / f'optuna-{attempt}.db'}", "bench", prepared.spec.tuning.heartbeat_seconds)
    with tracker.run("bench", run_name=f"tune-{attempt}") as run:
        sink = TrialSink(tracker.uri, tracker.experiment_of(run.run_id), run.run_id, "bench")
        started = time.perf_counter()
        run_study(prepared, load_or_create_study(prepared, ref), ref, Budget(trials, None, 1), sink)
        return time.perf_counter() - started


def time_to_target(progress: list[tuple[float, float]], target: float) -> float:
    return next((t for t, best in progress if best >= target - TOLERANCE), float("inf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        spec = shipped_spec()
        spec["data"]["synthetic"]["rows"] = args.rows
        (folder / "bench.yaml").write_text(yaml.safe_dump(spec))
        prepared = prepare(folder / "bench.yaml")
        _, model_input = fit_transform(prepared)
        nthread = 2
        train, valid = train_valid_matrices(prepared, model_input, nthread=nthread)
        mlflow.MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()  # migrate once

        per_trial: dict[str, list[float]] = {"creditflow": [], "bare, in-memory": [], "bare, SQLite": []}
        for attempt in range(args.repeats):
            per_trial["creditflow"].append(creditflow_loop(prepared, folder, args.trials, attempt) / args.trials)
            for name, storage in (("bare, in-memory", None), ("bare, SQLite", f"sqlite:///{folder}/bare-{attempt}.db")):
                seconds = bare_loop(prepared, train, valid, args.trials, True, True, storage)[-1][0]
                per_trial[name].append(seconds / args.trials)
        print(f"rows {args.rows:,}, trials {args.trials}, repeats {args.repeats}; seconds per trial (median):")
        medians = {name: statistics.median(values) for name, values in per_trial.items()}
        for name, values in per_trial.items():
            print(f"  {name:<16} {medians[name]:.3f} s  {[round(v, 3) for v in values]}")
        for name in ("bare, in-memory", "bare, SQLite"):
            print(f"overhead ratio creditflow / {name}: {medians['creditflow'] / medians[name]:.3f} (goal <= 1.10)")

        loops = {
            name: bare_loop(prepared, train, valid, args.trials, prune, stop)
            for name, prune, stop in (
                ("pruning+early stopping", True, True),
                ("early stopping only", False, True),
                ("neither", False, False),
            )
        }
    target = max(progress[-1][1] for progress in loops.values())
    print(f"best AUC found by any loop {target:.4f}; time to reach within {TOLERANCE}:")
    times = {name: time_to_target(progress, target) for name, progress in loops.items()}
    for name, progress in loops.items():
        print(f"  {name:<24} {times[name]:7.1f} s  (whole loop {progress[-1][0]:.1f} s, best {progress[-1][1]:.4f})")
    for other in ("early stopping only", "neither"):
        print(
            f"speed-up of pruning+early stopping over {other}: {times[other] / times['pruning+early stopping']:.2f}x "
            "(goal >= 2x)"
        )


if __name__ == "__main__":
    main()
