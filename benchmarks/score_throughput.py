"""How fast is `creditflow score` against bare `Booster.inplace_predict` on the same matrix?

Trains a consumer-loan model on a generated book (`--train-rows`, no tuning) through `creditflow run`
into a temporary SQLite store, generates a scoring book (`--rows`, default 1,000,000, Parquet), then
`--repeats` times each:
  * command: the whole `creditflow score MODEL BOOK OUT --reasons none` in a fresh process (imports,
    model resolution and download, chunked Parquet read, contract/transform, predict, Parquet write);
  * in-process: the same `score` function without interpreter start-up and imports;
  * bare: `Booster.inplace_predict` on the already transformed matrix of the whole book;
  * by hand: the bare libraries doing the whole job (read columns, transform, predict, write).
Prints throughput ratios of medians (bare seconds / creditflow seconds; goal >= 0.8 for the in-process
scoring path) and rows per second with approximate (Saabas) reason codes.

    python benchmarks/score_throughput.py [--rows 1000000] [--train-rows 100000] [--repeats 3]

Not part of the test suite (minutes at full size).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from features.synthetic import BookOptions, generate_book  # noqa: E402
from pipelines.commands.score import score  # noqa: E402
from pipelines.tracking import Tracker  # noqa: E402
from pipelines.tracking.pyfunc_model import load_model_scorer  # noqa: E402


def train_model(folder: Path, train_rows: int, uri: str) -> str:
    spec = yaml.safe_load((REPO / "experiments" / "consumer_loans.yaml").read_text())
    spec["data"]["synthetic"]["rows"] = train_rows
    spec["tuning"]["trials"] = 0
    spec["policy"]["file"] = str(REPO / "experiments" / "policies" / "consumer-credit.yaml")  # the copy lives elsewhere
    spec["policy"]["fairness"]["mitigation"]["enabled"] = False  # not what is measured
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", str(path), "--tracking-uri", uri],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return "models:/consumer_loans/1"


def time_command(model: str, book: Path, out: Path, uri: str, reasons: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "score",
            model,
            str(book),
            str(out),
            "--reasons",
            reasons,
            "--tracking-uri",
            uri,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def time_in_process(model: str, book: Path, out: Path, uri: str, reasons: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        score(model, str(book), str(out), reasons, 100_000, True, uri)
    return time.perf_counter() - started


def time_bare(model: str, book: Path, uri: str) -> float:
    """inplace_predict alone on the model-input matrix of the whole book (built outside the timing)."""
    scorer, _ = load_model_scorer(Tracker(uri), Tracker(uri).resolve(model).source)
    matrix = scorer.transform.transform(pd.read_parquet(book))
    started = time.perf_counter()
    scorer.booster.inplace_predict(matrix, validate_features=True)
    return time.perf_counter() - started


def time_bare_pipeline(model: str, book: Path, out: Path, uri: str) -> float:
    """What one writes by hand with the bare libraries: read the feature columns, transform,
    inplace_predict, write id + PD (no chunking, no contract messages, no decision)."""
    scorer, settings = load_model_scorer(Tracker(uri), Tracker(uri).resolve(model).source)
    started = time.perf_counter()
    raw = pd.read_parquet(book, columns=[settings["id_column"], *scorer.transform.columns])
    pd_values = scorer.booster.inplace_predict(scorer.transform.transform(raw), validate_features=True)
    pd.DataFrame({"id": raw[settings["id_column"]], "pd": pd_values}).to_parquet(out, index=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        mlflow.MlflowClient(uri).search_experiments()  # migrate once
        model = train_model(folder, args.train_rows, uri)
        book, out = folder / "book.parquet", folder / "scored.parquet"
        generate_book(BookOptions(rows=args.rows, seed=11)).to_parquet(book, index=False, row_group_size=100_000)
        command, in_process, bare, by_hand, approx = [], [], [], [], []
        for _ in range(args.repeats):
            command.append(time_command(model, book, out, uri, "none"))
            in_process.append(time_in_process(model, book, out, uri, "none"))
            bare.append(time_bare(model, book, uri))
            by_hand.append(time_bare_pipeline(model, book, out, uri))
            approx.append(time_in_process(model, book, out, uri, "approx"))
    median = statistics.median
    print(f"rows {args.rows:,} (model trained on {args.train_rows:,}), repeats {args.repeats}")
    print(f"creditflow score --reasons none, whole command  median {median(command):7.2f} s  {_fmt(command)}")
    print(f"creditflow score --reasons none, in-process     median {median(in_process):7.2f} s  {_fmt(in_process)}")
    print(f"bare Booster.inplace_predict                    median {median(bare):7.2f} s  {_fmt(bare)}")
    print(f"bare read + transform + predict + write         median {median(by_hand):7.2f} s  {_fmt(by_hand)}")
    print(f"throughput ratio in-process / bare predict      {median(bare) / median(in_process):.3f} (goal >= 0.8)")
    print(f"throughput ratio command / bare predict         {median(bare) / median(command):.3f}")
    print(f"throughput ratio in-process / bare by hand      {median(by_hand) / median(in_process):.3f}")
    print(
        f"with approx reason codes: {args.rows / median(approx):,.0f} rows/s "
        f"(in-process, median {median(approx):.2f} s)"
    )


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    main()
