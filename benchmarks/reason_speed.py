"""How fast are exact (TreeSHAP) and approximate (Saabas) reason codes, by batch size: where is the crossover?

Trains the consumer-loan model in process (the shipped spec's parameters, no tuning, no MLflow), then scores
batches of a freshly generated book through `Scorer.score` (transform, PD, decision, reasons for declined
applicants only, as `creditflow score` and the served model do) with `reason_method` exact, approx and none.
Prints rows per second (median of `--repeats`, one XGBoost thread) and the ratio approx / exact per batch size,
and the same for reasons computed for every applicant (`all_reasons`).

    python benchmarks/reason_speed.py [--rows 100000] [--repeats 3]
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

from common import shipped_spec  # noqa: E402

from features.synthetic import BookOptions, generate_book  # noqa: E402
from pipelines.training.workflow import prepare, train_candidate  # noqa: E402

BATCHES = (1, 10, 100, 1_000, 10_000, 100_000)


def trained_scorer(rows: int):
    spec = shipped_spec()
    spec["data"]["synthetic"]["rows"] = rows
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
        prepared = prepare(path)
        return train_candidate(prepared).scorer(prepared.spec)


def rows_per_second(scorer, batch, method: str, all_reasons: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        scorer.score(batch, reason_method=method, all_reasons=all_reasons)
        times.append(time.perf_counter() - started)
    return len(batch) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scorer = trained_scorer(args.rows)
    # one thread: OpenMP threads collapse when another process shares the cores (STACK-NOTES), which made
    # small batches 30x slower and the table noise; one thread per scoring process is also how a server scales
    scorer.booster.set_param({"nthread": 1})
    book = generate_book(BookOptions(rows=max(BATCHES), seed=11))[list(scorer.transform.columns)]
    trees = scorer.booster.num_boosted_rounds()
    print(f"consumer-loan model: {trees} trees; rows per second (median of {args.repeats})\n")
    print("| batch | reasons for | exact | approx | none | approx / exact |\n|---|---|---|---|---|---|")
    for all_reasons in (False, True):
        for size in BATCHES:
            batch = book.head(size)
            speed = {
                m: rows_per_second(scorer, batch, m, all_reasons, args.repeats) for m in ("exact", "approx", "none")
            }
            print(
                f"| {size:,} | {'everyone' if all_reasons else 'declined'} | {speed['exact']:,.0f} | "
                f"{speed['approx']:,.0f} | {speed['none']:,.0f} | {speed['approx'] / speed['exact']:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
