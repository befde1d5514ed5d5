"""How fast is `creditflow score` against bare `Booster.inplace_predict` on the same matrix?

Trains a consumer-loan model on a generated book (`--train-rows`, no tuning) through `creditflow run`
into a temporary SQLite store, generates a scoring book (`--rows`, default 1,000,000, Parquet), then
`--repeats` times each:
  * command: the whole `creditflow score MODEL BOOK OUT --reasons none` in a fresh process (imports,
    model resolution and download, chunked Parquet read, contract/transform, predict, Parquet write);
  * in-process: the same `score` function without interpreter start-up and imports (the file job);
  * in memory: `Scorer.score` on the book's raw columns already in memory (transform, PD, decision: what the
    served model, the Spark UDF and the file job run per chunk), reasons off;
  * bare: `Booster.inplace_predict` on the already transformed matrix of the whole book;
  * by hand: the bare libraries doing the whole job (read columns, transform, predict, write).
Prints throughput ratios of medians (bare seconds / creditflow seconds; goal >= 0.8 for the scoring path in
memory, >= 1.0 for the file job against the same job by hand) and rows per second with reason codes.

    python benchmarks/score_throughput.py [--rows 1000000] [--train-rows 100000] [--repeats 3]

Not part of the test suite (minutes at full size).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from common import REPO, creditflow, load, shipped_spec, timed

sys.path.insert(0, str(REPO))
ONE_ROW = Path(tempfile.gettempdir()) / "creditflow_one_row.parquet"
EXACT_ROWS = 20_000  # exact TreeSHAP costs ~0.5 ms per row and thread: measured on a slice

from features.synthetic import BookOptions, generate_book  # noqa: E402
from pipelines.commands.score import score  # noqa: E402
from pipelines.tracking import Tracker  # noqa: E402
from pipelines.tracking.pyfunc_model import load_model_scorer  # noqa: E402


def train_model(folder: Path, train_rows: int, uri: str) -> str:
    spec = shipped_spec()
    spec["data"]["synthetic"]["rows"] = train_rows
    spec["tuning"]["trials"] = 0
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


def time_command(model: str, book: Path, out: Path, uri: str, reasons: str, *extra: str) -> float:
    shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
    return timed(creditflow("score", model, str(book), str(out), "--reasons", reasons, "--tracking-uri", uri, *extra))


def time_start_up(model: str, uri: str) -> float:
    """The whole command on a one-row book: interpreter, imports, store, resolution, verification, model load."""
    return timed(
        creditflow("score", model, str(ONE_ROW), str(ONE_ROW.with_name("one_scored.parquet")), "--tracking-uri", uri)
    )


BY_HAND_START_UP = """
import json
import sys
import mlflow
import pandas as pd
import xgboost as xgb

uri, model, book, out = sys.argv[1:]
mlflow.set_tracking_uri(uri)  # the registry too
folder = mlflow.artifacts.download_artifacts(artifact_uri=model) + "/artifacts"
booster = xgb.Booster()
booster.load_model(folder + "/booster.ubj")
categories = json.load(open(folder + "/transform.json"))["categories"]  # the training encoding
raw = pd.read_parquet(book, columns=booster.feature_names)
frame = raw.assign(**{c: pd.Categorical(raw[c], categories=levels) for c, levels in categories.items()})
pd.DataFrame({"pd": booster.inplace_predict(frame)}).to_parquet(out)
"""


def time_start_up_by_hand(model: str, uri: str) -> float:
    """The same one-row job written by hand: import MLflow, XGBoost and pandas, resolve the version, download its
    booster, predict, write. What any scoring process on these libraries pays before its first row."""
    script = Path(tempfile.gettempdir()) / "creditflow_start_up_by_hand.py"
    script.write_text(BY_HAND_START_UP)
    return timed([sys.executable, str(script), uri, model, str(ONE_ROW), str(ONE_ROW.with_name("one_by_hand.parquet"))])


def time_in_process(model: str, book: Path, out: Path, uri: str, reasons: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        score(
            model,
            str(book),
            str(out),
            reason_method=reasons,
            chunk_rows=100_000,
            allow_unverified=True,
            tracking_uri=uri,
        )
    return time.perf_counter() - started


def time_in_memory(model: str, book: Path, uri: str) -> float:
    """`Scorer.score` (transform, PD, decision; no reasons) on the raw columns of the whole book, read outside the
    timing: creditflow's scoring path against `time_bare`'s predict alone, with no file on either side."""
    scorer, _ = load_model_scorer(Tracker(uri), Tracker(uri).resolve(model).source)
    raw = pd.read_parquet(book, columns=scorer.transform.columns)
    started = time.perf_counter()
    scorer.score(raw, reason_method="none")
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
    parser.add_argument("--spark", action="store_true", help="also time `score --engine spark` (pyspark extra)")
    args = parser.parse_args()
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    print(f"load averages before: {load()}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        mlflow.MlflowClient(uri).search_experiments()  # migrate once
        model = train_model(folder, args.train_rows, uri)
        book, out = folder / "book.parquet", folder / "scored.parquet"
        frame = generate_book(BookOptions(rows=args.rows, seed=11))
        frame.to_parquet(book, index=False, row_group_size=100_000)
        frame.head(1).to_parquet(ONE_ROW, index=False)
        frame.head(EXACT_ROWS).to_parquet(slice_ := folder / "slice.parquet", index=False)
        del frame
        t: dict[str, list[float]] = {
            k: [] for k in ("command", "in_process", "in_memory", "bare", "by_hand", "approx", "exact")
        }
        t.update(start_up=[], start_up_by_hand=[], spark=[])
        for _ in range(args.repeats):
            t["command"].append(time_command(model, book, out, uri, "none"))
            t["start_up"].append(time_start_up(model, uri))
            t["start_up_by_hand"].append(time_start_up_by_hand(model, uri))
            t["in_process"].append(time_in_process(model, book, out, uri, "none"))
            t["bare"].append(time_bare(model, book, uri))
            t["in_memory"].append(time_in_memory(model, book, uri))
            t["by_hand"].append(time_bare_pipeline(model, book, out, uri))
            t["approx"].append(time_in_process(model, book, out, uri, "approx"))
            t["exact"].append(time_in_process(model, slice_, folder / "exact.parquet", uri, "exact"))
            if args.spark:
                t["spark"].append(time_command(model, book, folder / "spark_out", uri, "none", "--engine", "spark"))
    report(args, {k: statistics.median(v) for k, v in t.items() if v}, t)


def report(args, m: dict[str, float], t: dict[str, list[float]]) -> None:
    print(f"load averages after: {load()}")
    print(f"rows {args.rows:,} (model trained on {args.train_rows:,}), repeats {args.repeats}")
    print(f"creditflow score --reasons none, whole command  median {m['command']:7.2f} s  {_fmt(t['command'])}")
    print(f"  of which start-up (one-row book, same command) median {m['start_up']:7.2f} s  (goal < 3 s)")
    print(
        f"  the same one-row job by hand (MLflow, XGBoost)  median {m['start_up_by_hand']:7.2f} s  "
        f"(ratio {m['start_up'] / m['start_up_by_hand']:.2f})"
    )
    print(f"creditflow score --reasons none, in-process     median {m['in_process']:7.2f} s  {_fmt(t['in_process'])}")
    print(f"Scorer.score in memory (transform, PD, decision) median {m['in_memory']:7.2f} s  {_fmt(t['in_memory'])}")
    print(f"bare Booster.inplace_predict                    median {m['bare']:7.2f} s  {_fmt(t['bare'])}")
    print(f"bare read + transform + predict + write         median {m['by_hand']:7.2f} s  {_fmt(t['by_hand'])}")
    print(f"throughput ratio in memory / bare predict       {m['bare'] / m['in_memory']:.3f} (goal >= 0.8)")
    print(f"throughput ratio in-process file job / bare     {m['bare'] / m['in_process']:.3f}")
    print(f"throughput ratio command / bare predict         {m['bare'] / m['command']:.3f}")
    print(f"throughput ratio in-process / bare by hand      {m['by_hand'] / m['in_process']:.3f} (goal >= 1.0)")
    print(f"with approx reason codes (Saabas): {args.rows / m['approx']:,.0f} rows/s (in-process)")
    print(
        f"with exact reason codes (TreeSHAP): {EXACT_ROWS / m['exact']:,.0f} rows/s (in-process, {EXACT_ROWS:,} rows)"
    )
    print(f"local engine, whole command: {args.rows / m['command']:,.0f} rows/s")
    if "spark" in m:
        print(f"spark engine (local[*]), whole command: {args.rows / m['spark']:,.0f} rows/s  {_fmt(t['spark'])}")


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    main()
