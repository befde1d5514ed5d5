"""The README's main job against the script a data scientist would write instead, side by side in one run.

`--repeats` times (default 3), alternating which goes first, each in a fresh process and a fresh folder
(so each pays for its own new SQLite tracking store, as on a fresh clone):
  * creditflow: `creditflow run experiments/german_credit.yaml` (validate, 20 Optuna trials, train,
    evaluate with baseline, stability, fairness and the challenger the spec asks for, model card, register);
  * by hand: the script below (load the CSV, split, 20 Optuna trials of XGBoost with early stopping,
    retrain the best, test AUC, log and register the model with MLflow), XGBoost's defaults otherwise.
Prints both medians, the ratio (goal <= 1.3) and the machine's load averages before and after, since a
busy machine changes both sides (not necessarily equally).

    python benchmarks/main_job.py [--repeats 3] [--trials 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import CPU_SECONDS, REPO, creditflow, load, timed

# What a data scientist writes instead of creditflow: the same data, split, search space, trials and
# early stopping; MLflow logging and registration; no contract, evaluation, gates, card or evidence.
HAND_SCRIPT = """
import sys
import mlflow
import optuna
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

csv, trials = sys.argv[1], int(sys.argv[2])
df = pd.read_csv(csv)
y = (df["creditability"] == "bad").astype(int)
numeric = ["duration_in_month", "credit_amount", "installment_rate_in_percentage_of_disposable_income",
           "present_residence_since", "number_of_existing_credits_at_this_bank",
           "number_of_people_being_liable_to_provide_maintenance_for"]
categorical = ["status_of_existing_checking_account", "credit_history", "purpose", "savings_account_and_bonds",
               "present_employment_since", "other_debtors_or_guarantors", "property", "other_installment_plans",
               "housing", "job", "telephone"]
X = df[numeric + categorical].copy()
for c in categorical:
    X[c] = X[c].astype("category")
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=42)
X_train, X_valid, y_train, y_valid = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=42)
dtrain = xgb.DMatrix(X_train, y_train, enable_categorical=True)
dvalid = xgb.DMatrix(X_valid, y_valid, enable_categorical=True)
dtest = xgb.DMatrix(X_test, enable_categorical=True)

def params_of(trial):
    return {
        "objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "seed": 42,
        "max_depth": trial.suggest_int("max_depth", 2, 6),
        "eta": trial.suggest_float("eta", 0.01, 0.3, log=True),
        "min_child_weight": trial.suggest_float("min_child_weight", 1, 50, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "lambda": trial.suggest_float("lambda", 1e-3, 10, log=True),
        "alpha": trial.suggest_float("alpha", 1e-3, 10, log=True),
        "gamma": trial.suggest_float("gamma", 0, 5),
    }

def fit(params):
    return xgb.train(params, dtrain, 500, evals=[(dvalid, "valid")], early_stopping_rounds=50, verbose_eval=False)

def objective(trial):
    return fit(params_of(trial)).best_score

study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=42))
study.optimize(objective, n_trials=trials)
best = fit(params_of(optuna.trial.FixedTrial(study.best_params)))
auc = roc_auc_score(y_test, best.predict(dtest, iteration_range=(0, best.best_iteration + 1)))
mlflow.set_tracking_uri("sqlite:///mlflow.db")
mlflow.set_experiment("german_credit")
with mlflow.start_run():
    mlflow.log_params(study.best_params)
    mlflow.log_metrics({"test_auc": auc, "best_iteration": best.best_iteration})
    mlflow.xgboost.log_model(best, name="model", input_example=X_train.head(), registered_model_name="german_credit")
print(f"test AUC {auc:.3f}")
"""


def fresh_folder(root: Path, name: str) -> Path:
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(REPO / "experiments", folder / "experiments")
    return folder


def time_creditflow(root: Path, trials: int) -> float:
    folder = fresh_folder(root, "creditflow")
    spec = "experiments/german_credit.yaml"
    return timed(creditflow("run", spec, "--trials", str(trials)), folder)


def time_by_hand(root: Path, trials: int) -> float:
    folder = fresh_folder(root, "by_hand")
    script = folder / "by_hand.py"
    script.write_text(HAND_SCRIPT)
    return timed([sys.executable, str(script), "experiments/data/german_credit.csv", str(trials)], folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    print(f"load averages (1, 5, 15 min) before: {load()}", flush=True)
    creditflow, by_hand, cpu = [], [], {"creditflow": [], "by hand": []}
    with tempfile.TemporaryDirectory() as root:
        for repeat in range(args.repeats):
            runs = [(creditflow, time_creditflow, "creditflow"), (by_hand, time_by_hand, "by hand")]
            for seconds, run, name in runs if repeat % 2 == 0 else reversed(runs):
                seconds.append(run(Path(root), args.trials))
                cpu[name].append(CPU_SECONDS[-1])
            print(f"  repeat {repeat + 1}: creditflow {creditflow[-1]:.1f} s, by hand {by_hand[-1]:.1f} s", flush=True)
    ours, theirs = statistics.median(creditflow), statistics.median(by_hand)
    print(f"load averages after: {load()}")
    print(f"creditflow run (README main job)   median {ours:6.1f} s  {[round(s, 1) for s in creditflow]}")
    print(f"hand-written script                median {theirs:6.1f} s  {[round(s, 1) for s in by_hand]}")
    print(f"ratio creditflow / by hand         {ours / theirs:.2f} (goal <= 1.3)")
    cpu_ours, cpu_theirs = statistics.median(cpu["creditflow"]), statistics.median(cpu["by hand"])
    print(f"CPU seconds (user + system)        creditflow {cpu_ours:.1f}, by hand {cpu_theirs:.1f}", end="")
    print(f": ratio {cpu_ours / cpu_theirs:.2f} (less sensitive to a busy machine than wall time)")


if __name__ == "__main__":
    main()
