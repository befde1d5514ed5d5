"""What the validation defaults say on the shipped data: early stopping on AUC against log loss, and the screens.

For German Credit (the shipped spec) and a generated consumer-loan book (the consumer_loans spec), with the spec's
parameters (no tuning) and with `--trials` Optuna trials, each under early stopping on `auc` and on `logloss`:
test AUC, ECE, calibration-in-the-large, trees, decline rate at the cutoff and the gate verdicts; then the
leakage screen's numbers (highest single-feature AUC, top feature's contribution share) on a clean book and on a
`--leak` book. In process, no MLflow; one XGBoost thread. Prints Markdown tables for the README.

    python benchmarks/validation_defaults.py [--rows 100000] [--trials 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import optuna
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.training.evaluation import evaluate_candidate  # noqa: E402
from pipelines.training.tune import best_params, make_objective  # noqa: E402
from pipelines.training.workflow import fit_transform, prepare, train_candidate, train_valid_matrices  # noqa: E402


def spec_file(folder: Path, name: str, metric: str, **data) -> Path:
    spec = yaml.safe_load((REPO / "experiments" / f"{name}.yaml").read_text())
    if "source" in spec["data"]:
        spec["data"]["source"] = str(REPO / "experiments" / spec["data"]["source"])
    spec["data"].get("synthetic", {}).update(data)
    if data.get("leak"):
        spec["features"]["numeric"].append("months_in_arrears_12m")
        spec["reasons"]["months_in_arrears_12m"] = "Months in arrears"
    spec["tuning"]["metric"] = metric
    spec["tuning"]["params"]["nthread"] = 1
    spec["policy"]["fairness"].pop("mitigation", None)
    path = folder / f"{name}-{metric}{'-leak' if data.get('leak') else ''}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def tuned_params(prepared, trials: int):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = prepared.spec
    _, model_input = fit_transform(prepared)
    train, valid = train_valid_matrices(prepared, model_input, nthread=1)
    study = optuna.create_study(
        direction=spec.tuning.direction, sampler=optuna.samplers.TPESampler(seed=spec.tuning.seed)
    )
    study.optimize(make_objective(spec, train, valid, nthread=1), n_trials=trials)
    return best_params(spec, study)


def row(label: str, spec_path: Path, trials: int) -> str:
    prepared = prepare(spec_path)
    params = tuned_params(prepared, trials) if trials else None
    candidate = train_candidate(prepared, params=params)
    evaluation = evaluate_candidate(prepared, candidate)
    m, s = evaluation.metrics, evaluation.main
    performance = evaluation.result("performance")
    verdict = "passed" if performance.passed else "failed: " + "; ".join(r[:90] for r in performance.findings)
    fairness = evaluation.result("fairness").status
    return (
        f"| {label} | {prepared.spec.tuning.metric} | {trials or '-'} | {m[f'{s}_auc']:.3f} | {m[f'{s}_ece']:.3f} "
        f"({m[f'{s}_ece_floor']:.3f}) | {m[f'{s}_citl']:+.3f} | {int(m['best_iteration'])} | "
        f"{m[f'{s}_decline_rate']:.1%} | {verdict} | {fairness} |"
    )


def leakage_row(label: str, spec_path: Path) -> str:
    prepared = prepare(spec_path)
    evaluation = evaluate_candidate(prepared, train_candidate(prepared))
    table = prepared.leakage.table.sort_values("single_feature_auc", ascending=False)
    importance = evaluation.tables["evaluation/importance.csv"]
    share = importance["mean_abs_contribution"].iloc[0] / importance["mean_abs_contribution"].sum()
    findings = "; ".join(f.sentence() for f in evaluation.result("performance").detail.findings) or "none"
    return (
        f"| {label} | {table['feature'].iloc[0]} {table['single_feature_auc'].iloc[0]:.3f} | "
        f"{importance['feature'].iloc[0]} {share:.0%} | {findings} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        print(
            "| data | early stopping | trials | test AUC | ECE (noise floor) | mean PD - default rate | trees "
            "| decline rate | validation.performance | validation.fairness |"
        )
        print("|" + "---|" * 10)
        for name, label in (("german_credit", "German Credit"), ("consumer_loans", f"book {args.rows:,}")):
            for trials in (0, args.trials):
                for metric in ("auc", "logloss"):
                    path = spec_file(folder, name, metric, rows=args.rows)
                    print(row(label, path, trials), flush=True)
        print("\n| data | highest single-feature AUC | top contribution share | findings |\n|---|---|---|---|")
        print(leakage_row("German Credit", spec_file(folder, "german_credit", "logloss")))
        for leak in (False, True):
            path = spec_file(folder, "consumer_loans", "logloss", rows=args.rows, leak=leak)
            print(leakage_row(f"book {args.rows:,}{' --leak' if leak else ''}", path), flush=True)


if __name__ == "__main__":
    main()
