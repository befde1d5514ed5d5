"""`creditflow train` against the script a data scientist would write for the same job, side by side in one run.

Generates a consumer-loan book (default 1,000,000 rows, Parquet), then `--repeats` times (default 3),
alternating which goes first, each in a fresh process on one migrated SQLite store:
  * creditflow: `creditflow train SPEC` (experiments/consumer_loans.yaml on that book, no tuning): contract,
    out-of-time split, transform, training, evaluation with intervals, baseline, stability, fairness, the
    challenger the policy asks for, explanations, plots, reference sample and model logged;
  * by hand: the script below: read the Parquet, out-of-time split, `xgboost.train` with the same parameters
    and early stopping, test and out-of-time AUC, `mlflow.xgboost.log_model` with registration.
Prints both medians and the ratio (goal <= 1.5), with the load averages before and after.

    python benchmarks/train_vs_script.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from common import consumer_spec, creditflow, load, migrated_store, timed, write_book

HAND_SCRIPT = """
import sys
import mlflow
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

book, uri = sys.argv[1], sys.argv[2]
numeric = ["income", "employment_years", "loan_amount", "term_months", "debt_to_income", "revolving_utilisation",
           "open_accounts", "delinquencies_2y", "inquiries_6m", "credit_history_months"]
categorical = ["region", "channel", "home_ownership", "purpose"]
monotone = {"debt_to_income": 1, "revolving_utilisation": 1, "delinquencies_2y": 1, "inquiries_6m": 1, "income": -1}
df = pd.read_parquet(book, columns=numeric + categorical + ["default_12m", "application_month"])
X = df[numeric + categorical].astype({c: "category" for c in categorical})
y = df["default_12m"]
month = pd.to_datetime(df["application_month"]).dt.to_period("M")
oot = month >= sorted(month.unique())[-6]
X_rest, X_test, y_rest, y_test = train_test_split(X[~oot], y[~oot], test_size=0.2, stratify=y[~oot], random_state=7)
X_train, X_valid, y_train, y_valid = train_test_split(X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=7)
dtrain = xgb.DMatrix(X_train, y_train, enable_categorical=True)
dvalid = xgb.DMatrix(X_valid, y_valid, enable_categorical=True)
params = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "max_depth": 4, "eta": 0.1,
          "subsample": 0.8, "colsample_bytree": 0.8, "seed": 7,
          "monotone_constraints": "(" + ",".join(str(monotone.get(c, 0)) for c in X.columns) + ")"}
booster = xgb.train(params, dtrain, 600, evals=[(dvalid, "valid")], early_stopping_rounds=30, verbose_eval=False)
best = (0, booster.best_iteration + 1)
auc = {name: roc_auc_score(labels, booster.inplace_predict(features, iteration_range=best))
       for name, features, labels in (("test", X_test, y_test), ("oot", X[oot], y[oot]))}
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("consumer_loans_by_hand")
with mlflow.start_run():
    mlflow.log_params(params)
    mlflow.log_metrics({f"{name}_auc": value for name, value in auc.items()})
    mlflow.xgboost.log_model(booster, name="model", input_example=X_train.head(),
                             registered_model_name="consumer_loans_by_hand")
print(auc)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load averages before: {load()}", flush=True)
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        book = write_book(folder / "book.parquet", args.rows)
        spec, uri = consumer_spec(folder, book), migrated_store(folder)
        script = folder / "by_hand.py"
        script.write_text(HAND_SCRIPT)
        sides = {
            "creditflow": lambda: timed(creditflow("train", str(spec), "--tracking-uri", uri)),
            "by hand": lambda: timed([sys.executable, str(script), str(book), uri]),
        }
        times: dict[str, list[float]] = {name: [] for name in sides}
        for repeat in range(args.repeats):
            for name in sides if repeat % 2 == 0 else reversed(list(sides)):
                times[name].append(sides[name]())
            print(f"  repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    ours, theirs = statistics.median(times["creditflow"]), statistics.median(times["by hand"])
    print(f"load averages after: {load()}")
    print(f"rows {args.rows:,}, repeats {args.repeats}")
    print(f"creditflow train (whole command)   median {ours:6.1f} s  {[round(s, 1) for s in times['creditflow']]}")
    print(f"hand-written script                median {theirs:6.1f} s  {[round(s, 1) for s in times['by hand']]}")
    print(f"ratio creditflow / by hand         {ours / theirs:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
