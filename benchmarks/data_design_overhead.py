"""What do the data-design checks (`validation.data_design`) add to `creditflow run`?

For German Credit (the shipped spec) and a generated consumer-loan book (default 1,000,000 rows, the shipped
consumer spec without tuning, so the run is short and the ratio errs high):
  * run: the whole `creditflow run SPEC` in a fresh process, `--repeats` times (median);
  * checks: the data-design gate's work in process on the same prepared data (hash every row, the duplicate
    shares, each feature's distinct share and rank correlations, the split's design), `--repeats` times (median).
  * new checks (issue 23, this round): the near-duplicate shares (rounded rows and every leave-one-column-out
    key) and the cross-validated leakage check (the AUC each of the 3 strongest features adds), in process;
  * the script a data scientist would write for the near duplicates: pandas `round(2 significant digits)` then
    `duplicated()` on the rounded frame and on the frame without each column in turn.
Prints the medians side by side and the ratios checks / run (goal: under 10%), with the machine's load.

    python benchmarks/data_design_overhead.py [--rows 1000000] [--repeats 3] [--data german|generated|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import consumer_spec, creditflow, load, migrated_store, shipped_spec, timed, write_book  # noqa: E402

from pipelines.gates.data_design_gate import DataDesignGate  # noqa: E402
from pipelines.training.workflow import prepare  # noqa: E402


def german_spec(folder: Path) -> Path:
    spec = shipped_spec("german_credit")
    spec["data"]["source"] = str(REPO / "experiments" / spec["data"]["source"])
    spec["tuning"]["trials"] = 0
    spec["policy"]["fairness"].pop("mitigation", None)
    path = folder / "german.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


class _Context:
    """The parts of the gates' context the data-design gate reads."""

    def __init__(self, prepared):
        self.spec, self.checked, self.split = prepared.spec, prepared.checked, prepared.split


def checks_seconds(spec: Path, repeats: int) -> float:
    context, gate, seconds = _Context(prepare(spec)), DataDesignGate(), []
    for _ in range(repeats):
        started = time.perf_counter()
        gate.evaluate(context)  # type: ignore[arg-type]
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def new_checks_seconds(spec: Path, repeats: int) -> tuple[float, float, float]:
    """(near duplicates, cross-validated leakage, the pandas script's near duplicates), medians in seconds."""
    import numpy as np

    from pipelines.gates.leakage import _incremental
    from pipelines.gates.near_duplicates import near_duplicate_shares, rounded

    prepared = prepare(spec)
    features, samples = prepared.checked.features, prepared.split.samples()
    holdout = np.concatenate([rows for name, rows in samples.items() if name != "train"])
    train = samples["train"]
    table = prepared.leakage.table
    y = prepared.checked.target
    near, cv, script = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        near_duplicate_shares(features, train, holdout)
        near.append(time.perf_counter() - started)
        started = time.perf_counter()
        _incremental(features.iloc[np.r_[train, samples["valid"]]], y[np.r_[train, samples["valid"]]], table, 0)
        cv.append(time.perf_counter() - started)
        started = time.perf_counter()
        frame = features.iloc[train].apply(lambda c: rounded(c))  # what a data scientist would write
        frame.duplicated(keep=False).mean()
        for column in frame.columns:
            frame.drop(columns=[column]).duplicated(keep=False).mean()
        script.append(time.perf_counter() - started)
    return statistics.median(near), statistics.median(cv), statistics.median(script)


def run_seconds(spec: Path, folder: Path, repeats: int) -> float:
    uri = migrated_store(folder)
    return statistics.median(timed(creditflow("run", str(spec), "--tracking-uri", uri)) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", choices=["german", "generated", "both"], default="both")
    args = parser.parse_args()
    print(f"load before: {load()}")
    print(
        "| data | run (median s) | data-design gate (s) | gate / run | near duplicates (s) | pandas script (s) "
        "| cross-validated leakage (s) | new checks / run |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        books = {}
        if args.data in ("german", "both"):
            books["German Credit (1,000 rows)"] = german_spec(folder)
        if args.data in ("generated", "both"):
            book = write_book(folder / "book.parquet", args.rows)
            books[f"generated book ({args.rows:,} rows)"] = consumer_spec(folder, book, nthread=2)
        for label, spec in books.items():
            store = folder / label.split()[0]
            store.mkdir()
            run, checks = run_seconds(spec, store, args.repeats), checks_seconds(spec, args.repeats)
            near, cv, script = new_checks_seconds(spec, args.repeats)
            print(
                f"| {label} | {run:.1f} | {checks:.2f} | {checks / run:.1%} | {near:.2f} | {script:.2f} | {cv:.2f} "
                f"| {(near + cv) / run:.1%} |",
                flush=True,
            )
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
