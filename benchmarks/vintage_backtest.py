"""How long does the vintage back-test of `monitor --outcomes` take on a large book?

36 monthly cohorts of `--loans` loans each (default 100,000: 3.6M loans), PDs from a beta distribution, defaults
drawn from a calibrated model except in the last 12 cohorts (+0.5 log-odds), an outcomes snapshot as of the month
after the last cohort. Measured in process, `--repeats` times (median):
  * creditflow: the steps `monitor --outcomes` runs after scoring: check the outcomes file (ids unique, flags,
    dates), join by id, count by cohort x band x horizon, the back-test with its intervals and two-in-a-row rule,
    and the estimates' back-test of the matured cohorts (label-free estimate with 200 AUC draws each);
  * script: what a data scientist would write in pandas: merge on id, then for each horizon a groupby of defaults
    and mean PD by cohort and band, and a Jeffreys interval per cell (no estimate, no checks);
  * bare: one pandas groupby of the merged frame (the floor of any implementation).
Scoring the book with the version's booster is not included (XGBoost's inplace_predict: ~1.5 s per 1M rows).

    python benchmarks/vintage_backtest.py [--loans 100000] [--cohorts 36] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from features.monitoring_spec import BacktestLimits  # noqa: E402
from monitoring.estimate import estimate, realised_auc  # noqa: E402
from monitoring.outcome_feed import check_outcomes, join_outcomes  # noqa: E402
from monitoring.outcomes import jeffreys_interval  # noqa: E402
from monitoring.vintage import backtest, vintage_counts  # noqa: E402
from pipelines.evidence.reference import band_codes  # noqa: E402


def book(loans: int, cohorts: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    n = loans * cohorts
    month = np.repeat(np.arange(cohorts), loans)
    p = rng.beta(1.3, 11, n)
    shift = np.where(month >= cohorts - 12, 0.5, 0.0)
    true = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift)))
    defaulted = rng.random(n) < true
    default_month = rng.integers(1, 13, n)
    start = np.datetime64("2023-01", "M")
    decided = (start + month).astype("datetime64[ns]")
    as_of = cohorts  # the month after the last cohort, as months from the start
    known = defaulted & (month + default_month <= as_of)
    observed = np.where(known, month + default_month, np.minimum(as_of, month + 12))
    frame = pd.DataFrame({"id": np.char.add("L", np.arange(n).astype(str)), "decided": decided, "pd": p})
    outcomes = pd.DataFrame(
        {
            "id": frame["id"],
            "defaulted": known.astype(int),
            "observed_at": (start + observed).astype("datetime64[ns]"),
        }
    )
    window = str(start + as_of)
    return frame, outcomes.sample(frac=1, random_state=seed).reset_index(drop=True), window


def creditflow(frame: pd.DataFrame, outcomes: pd.DataFrame, window: str) -> int:
    limits = BacktestLimits()
    checked = check_outcomes(outcomes, "bench")
    joined = join_outcomes(checked, frame["id"], frame["decided"], frame["pd"].to_numpy(), window, "bench")
    edges = list(np.quantile(frame["pd"], np.linspace(0.1, 0.9, 9)))
    band = band_codes(edges, joined.pd_12m)
    counts = vintage_counts(
        joined.cohort, band, joined.pd_12m, joined.defaulted, joined.months_observed, joined.months_on_book, [3, 6, 12]
    )
    table = backtest(counts, limits)
    for cohort in np.unique(joined.cohort):
        mask = (joined.cohort == cohort) & (joined.months_on_book >= 12)
        if mask.any():
            y = (joined.defaulted[mask] == 1) & (joined.months_observed[mask] <= 12)
            estimate(joined.pd_12m[mask], confidence=0.95)
            realised_auc(joined.pd_12m[mask], y)
    return int(table["warn"].sum())


def script(frame: pd.DataFrame, outcomes: pd.DataFrame, window: str) -> int:
    merged = frame.merge(outcomes, on="id")
    merged["cohort"] = merged["decided"].dt.strftime("%Y-%m")
    merged["band"] = pd.qcut(merged["pd"], 10, labels=False)
    mob = (merged["observed_at"].dt.year - merged["decided"].dt.year) * 12 + (
        merged["observed_at"].dt.month - merged["decided"].dt.month
    )
    cells = 0
    for h in (3, 6, 12):
        bad = (merged["defaulted"] == 1) & (mob <= h)
        seen = merged[bad | (mob >= h)].assign(bad=bad)
        g = seen.groupby(["cohort", "band"]).agg(n=("bad", "size"), d=("bad", "sum"), pd=("pd", "mean"))
        low, high = jeffreys_interval(g["d"].to_numpy(), g["n"].to_numpy(), confidence=0.99)
        cells += int(((g["pd"] * h / 12 < low) | (g["pd"] * h / 12 > high)).sum())
    return cells


def bare(frame: pd.DataFrame, outcomes: pd.DataFrame, window: str) -> int:
    merged = frame.merge(outcomes, on="id")
    return len(merged.groupby([merged["decided"], pd.qcut(merged["pd"], 10, labels=False)])["defaulted"].mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--cohorts", type=int, default=36)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frame, outcomes, window = book(args.loans, args.cohorts)
    print(f"{args.cohorts} cohorts x {args.loans:,} loans = {len(frame):,} loans, outcomes as of {window}")
    medians = {}
    for name, step in (("creditflow", creditflow), ("script", script), ("bare", bare)):
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = step(frame, outcomes, window)
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times)
        print(f"{name:>10}: {medians[name]:6.1f} s  (result {result})")
    print(
        f"creditflow / script: {medians['creditflow'] / medians['script']:.2f}x, creditflow / bare: "
        f"{medians['creditflow'] / medians['bare']:.2f}x; goal: creditflow < 60 s "
        f"({'met' if medians['creditflow'] < 60 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
