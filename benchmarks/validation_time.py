"""Independent validation beside the run that produced the version, side by side in one run.

For German Credit (the shipped spec) and a generated consumer-loan book (default 1,000,000 rows, the shipped consumer
spec without tuning), each in a fresh folder and store:
  * run: `creditflow run SPEC` (the author's process: validate, train, evaluate, gates, card, register);
  * validate: `creditflow validate NAME 1` (the validator's process: the registered files checked against their
    hash, the data by digest, every gate recomputed under the governed policy, the review page rewritten);
  * bare: loading the registered model with `mlflow.pyfunc.load_model` and predicting the data once (what any
    re-check costs at least: reading the files and scoring the rows).
Prints the medians of `--repeats` validations, the ratios validate/run and validate/bare, and the load averages.

    python benchmarks/validation_time.py [--rows 1000000] [--repeats 3] [--data german|generated|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import yaml
from common import REPO, consumer_spec, creditflow, load, shipped_spec, timed, write_book

BARE = """
import sys, mlflow, pandas as pd
mlflow.set_tracking_uri(sys.argv[1])
model = mlflow.pyfunc.load_model(f"models:/{sys.argv[2]}/1")
path = sys.argv[3]
features = sys.argv[4].split(",")  # the model's inputs only: it refuses the target and sensitive columns
frame = pd.read_parquet(path, columns=features) if path.endswith(".parquet") else pd.read_csv(path)[features]
model.predict(frame)
"""


def german_spec(folder: Path) -> Path:
    spec = shipped_spec("german_credit")
    spec["data"]["source"] = str(REPO / "experiments" / "data" / "german_credit.csv")
    path = folder / "german.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def measure(label: str, spec: Path, data: Path, name: str, folder: Path, repeats: int) -> None:
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    ran = timed(creditflow("run", str(spec), "--tracking-uri", uri), cwd=folder)
    validated = [timed(creditflow("validate", name, "1", "--tracking-uri", uri), cwd=folder) for _ in range(repeats)]
    bare_script = folder / "bare.py"
    bare_script.write_text(BARE)
    features = yaml.safe_load(spec.read_text())["features"]
    inputs = ",".join([*features.get("numeric", []), *features.get("categorical", [])])
    command = [sys.executable, str(bare_script), uri, name, str(data), inputs]
    bare = [timed(command, cwd=folder) for _ in range(repeats)]
    v, b = statistics.median(validated), statistics.median(bare)
    print(
        f"{label}: run {ran:.1f} s | validate median {v:.1f} s ({v / ran:.2f}x the run) | "
        f"bare load+predict median {b:.1f} s (validate {v / b:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", choices=["german", "generated", "both"], default="both")
    args = parser.parse_args()
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.data in ("german", "both"):
            folder = root / "german"
            folder.mkdir()
            data = REPO / "experiments" / "data" / "german_credit.csv"
            measure("German Credit (1,000 rows)", german_spec(folder), data, "german_credit", folder, args.repeats)
        if args.data in ("generated", "both"):
            folder = root / "generated"
            folder.mkdir()
            book = write_book(folder / "book.parquet", args.rows)
            spec = consumer_spec(folder, book, nthread=2)
            name = yaml.safe_load(spec.read_text())["name"]
            measure(f"generated book ({args.rows:,} rows)", spec, book, name, folder, args.repeats)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
