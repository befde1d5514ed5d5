"""How much does `creditflow train` cost over bare `xgboost.train` on the same matrix?

Generates a consumer-loan book (default 1,000,000 rows), then, `--repeats` times each:
  * creditflow: the whole `creditflow train SPEC` command in a fresh process (imports, load, contract,
    split, transform, train, evaluation, baseline, plots, MLflow logging of run and model);
  * bare: `xgboost.train` with the same parameters, the same train/validation matrices and the same
    early stopping, in-process, timing only the training call.
Prints two ratios of medians: the training path (creditflow's transform + train step against bare
`xgboost.train`; goal at most 1.15) and the whole command against bare `xgboost.train` (which also pays
for imports, the data contract, evaluation with plots, the logistic baseline and MLflow logging), plus
the in-process time of each creditflow step.

    python benchmarks/train_overhead.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import xgboost as xgb
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import shipped_spec  # noqa: E402

from features.synthetic import BookOptions, generate_book  # noqa: E402
from pipelines.training.evaluation import evaluate_candidate  # noqa: E402
from pipelines.training.train import booster_params, to_dmatrix  # noqa: E402
from pipelines.training.workflow import prepare, train_candidate  # noqa: E402


def write_spec(folder: Path, book: Path) -> Path:
    spec = shipped_spec()
    spec["data"].pop("synthetic")
    spec["data"]["source"] = str(book)
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def time_command(spec: Path, uri: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", str(spec), "--tracking-uri", uri],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def time_bare(spec: Path) -> tuple[float, dict[str, float]]:
    """Bare xgboost.train on creditflow's own matrices; also times creditflow's steps in-process."""
    steps, started = {}, time.perf_counter()
    prepared = prepare(spec)
    steps["load+contract+split"] = time.perf_counter() - started
    started = time.perf_counter()
    candidate = train_candidate(prepared)
    steps["transform+train"] = time.perf_counter() - started
    started = time.perf_counter()
    evaluate_candidate(prepared, candidate)
    steps["evaluate+baseline+plots"] = time.perf_counter() - started

    split, target, params = prepared.split, prepared.checked.target, prepared.spec.tuning.params
    train = to_dmatrix(candidate.model_input.iloc[split.train], target[split.train])
    valid = to_dmatrix(candidate.model_input.iloc[split.valid], target[split.valid])
    started = time.perf_counter()
    native = booster_params(params, monotone=prepared.spec.features.monotone_vector(), seed=prepared.spec.tuning.seed)
    booster = xgb.train(
        native,
        train,
        num_boost_round=params.max_rounds,
        evals=[(valid, "valid")],
        early_stopping_rounds=params.early_stopping_rounds,
        verbose_eval=False,
    )
    bare = time.perf_counter() - started
    steps["trees"] = booster.num_boosted_rounds()
    return bare, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        book = folder / "book.parquet"
        generate_book(BookOptions(rows=args.rows, seed=7)).to_parquet(book, index=False)
        spec = write_spec(folder, book)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        mlflow.MlflowClient(uri).search_experiments()  # migrate once; a store is created once, not per run
        command, bare, steps = [], [], []
        for _ in range(args.repeats):
            command.append(time_command(spec, uri))
            seconds, breakdown = time_bare(spec)
            bare.append(seconds)
            steps.append(breakdown)
    print(f"rows {args.rows:,}, repeats {args.repeats}, trees {steps[0]['trees']}")
    for name in steps[0]:
        if name != "trees":
            print(f"  creditflow step {name:<24} median {statistics.median(s[name] for s in steps):6.2f} s")
    print(f"creditflow train (whole command)   median {statistics.median(command):6.2f} s  {command}")
    print(f"bare xgboost.train                 median {statistics.median(bare):6.2f} s  {bare}")
    train_path = statistics.median(s["transform+train"] for s in steps)
    print(f"ratio training path / bare         {train_path / statistics.median(bare):.3f} (goal <= 1.15)")
    print(f"ratio whole command / bare         {statistics.median(command) / statistics.median(bare):.3f}")


if __name__ == "__main__":
    main()
