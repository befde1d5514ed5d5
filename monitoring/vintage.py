"""The vintage back-test: default rate by score band per origination cohort against the model's PDs, as each
cohort matures (3, 6, 12 months on book by default). Pure: arrays in, count tables and findings out.

Counts only leave this module (cohort, band, months on book: loans, defaults, sum of expected PD): no id, no
row. A loan counts at `h` months on book when it defaulted by then or was observed performing through `h`.
The expected rate at `h` is the 12-month PD x h / 12 (`timing: linear`, defaults spread evenly over the first
year, the policy's stated assumption). A cell is out when that expectation lies outside the Jeffreys interval of
the observed rate (Beta(d + 1/2, n - d + 1/2) quantiles, as gates/calibration.py tests); a band out on the same
side for `consecutive` cohorts in a row at the same horizon warns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.monitoring_spec import BacktestLimits
from monitoring.outcomes import jeffreys_interval

COUNT_COLUMNS = ["cohort", "band", "horizon", "n", "defaults", "expected"]


def expected_by(pd_12m: np.ndarray, horizon: int) -> np.ndarray:
    """The probability of default by `horizon` months on book from the 12-month PD (linear timing)."""
    return np.clip(np.asarray(pd_12m, dtype=np.float64) * min(horizon, 12) / 12, 0.0, 1.0)


def vintage_counts(
    cohort: np.ndarray,
    band: np.ndarray,
    pd_12m: np.ndarray,
    defaulted: np.ndarray,
    months_observed: np.ndarray,
    months_on_book: np.ndarray,
    horizons: list[int],
) -> pd.DataFrame:
    """Loans, defaults and summed expected PD per (cohort: YYYY-MM, or a month number year * 12 + month - 1,
    labelled in the table; band; horizon); `months_observed` is the months on book
    at the outcome's `observed_at` (the default's month for a default, the last month seen performing otherwise),
    `months_on_book` the loan's months on book at the window: a cohort younger than h is not counted at h (its
    early defaults alone would read as a default rate)."""
    cohort = np.asarray(cohort)
    defaulted = np.asarray(defaulted).astype(bool)
    months = np.asarray(months_observed, dtype=np.int64)
    old_enough = np.asarray(months_on_book, dtype=np.int64)
    tables = []
    for h in horizons:
        bad = defaulted & (months <= h)
        seen = (old_enough >= h) & (
            bad | (months >= h)
        )  # matured to h: defaulted by then, or seen performing through h
        if not seen.any():
            continue
        frame = pd.DataFrame(
            {
                "cohort": cohort[seen],
                "band": np.asarray(band)[seen],
                "defaults": bad[seen].astype(np.int64),
                "expected": expected_by(np.asarray(pd_12m)[seen], h),
            }
        )
        grouped = frame.groupby(["cohort", "band"], sort=True).agg(
            n=("defaults", "size"), defaults=("defaults", "sum"), expected=("expected", "sum")
        )
        grouped["horizon"] = h
        tables.append(grouped.reset_index())
    if not tables:
        return pd.DataFrame(columns=COUNT_COLUMNS)
    out = pd.concat(tables, ignore_index=True)[COUNT_COLUMNS]
    if np.issubdtype(out["cohort"].dtype, np.integer):  # month numbers (year * 12 + month - 1): labelled once grouped
        out["cohort"] = [f"{c // 12:04d}-{c % 12 + 1:02d}" for c in out["cohort"]]
    return out


def merge_counts(history: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """The history with the latest snapshot's cohorts replaced (outcomes only accumulate: a later snapshot of a
    cohort supersedes an earlier one)."""
    if history.empty:
        return latest.reset_index(drop=True)
    kept = history[~history["cohort"].astype(str).isin(set(latest["cohort"].astype(str)))]
    merged = pd.concat([kept, latest], ignore_index=True)
    return merged.sort_values(["horizon", "band", "cohort"], kind="stable").reset_index(drop=True)


def backtest(counts: pd.DataFrame, limits: BacktestLimits) -> pd.DataFrame:
    """Per (horizon, band, cohort): observed rate, its Jeffreys interval, the expected rate, `side` (higher /
    lower / '' when inside or not judged) and `warn` (out on the same side for `consecutive` cohorts in a row)."""
    if counts.empty:
        return pd.DataFrame(columns=[*COUNT_COLUMNS, "rate", "low", "high", "expected_rate", "side", "warn"])
    out = counts.sort_values(["horizon", "band", "cohort"], kind="stable").reset_index(drop=True).copy()
    n = out["n"].to_numpy(np.float64)
    d = out["defaults"].to_numpy(np.float64)
    out["rate"] = d / np.maximum(n, 1)
    out["low"], out["high"] = jeffreys_interval(d, n, confidence=limits.confidence)
    out["expected_rate"] = out["expected"].to_numpy(np.float64) / np.maximum(n, 1)
    judged = n >= limits.min_loans
    higher = judged & (out["expected_rate"] < out["low"])
    lower = judged & (out["expected_rate"] > out["high"])
    out["side"] = np.where(higher, "higher", np.where(lower, "lower", ""))
    out["warn"] = _runs(out, limits.consecutive)
    return out


def _runs(table: pd.DataFrame, consecutive: int) -> np.ndarray:
    """True where the cell ends a run of `consecutive` same-side cells of consecutive cohorts of one band."""
    warn = np.zeros(len(table), dtype=bool)
    for _, group in table.groupby(["horizon", "band"], sort=False):
        run, side, previous = 0, "", None
        for index, row in zip(group.index, group.itertuples()):
            adjacent = previous is not None and _next_month(previous) == str(row.cohort)
            run = run + 1 if row.side and row.side == side and adjacent else (1 if row.side else 0)
            side, previous = row.side, str(row.cohort)
            warn[index] = bool(row.side) and run >= consecutive
    return warn


def _next_month(label: str) -> str:
    try:
        year, month = map(int, label.split("-"))
    except ValueError:
        return ""
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def backtest_findings(table: pd.DataFrame, band_names: list[str], limits: BacktestLimits) -> list[tuple[str, str]]:
    """One warning per (horizon, band) still out: its latest judged cohort ends a run of `consecutive` out-of-interval
    cohorts (an older run that ended is history: the page shows it, the window does not warn again)."""
    findings = []
    for (horizon, band), group in table.groupby(["horizon", "band"], sort=True):
        last = group.iloc[-1]
        if not last["warn"]:
            continue
        name = band_names[int(band)] if 0 <= int(band) < len(band_names) else str(band)
        findings.append(
            (
                "warn",
                f"vintage back-test: score band {name} at {int(horizon)} months on book defaulted {last.side} than its "
                f"PDs for {limits.consecutive}+ cohorts in a row (cohort {last.cohort}: {last.rate:.1%} observed, "
                f"{limits.confidence:.0%} interval {last.low:.1%}-{last.high:.1%}, {last.expected_rate:.1%} expected, "
                f"{int(last.n)} loans)",
            )
        )
    return findings
