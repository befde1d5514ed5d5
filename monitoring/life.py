"""After go-live, wired into one monitored window: the label-free estimate, the outcomes joined by id and the
vintage back-test over the version's outcome history, and a challenger scored on the same rows.

`prepare` reads and checks everything that can be refused (the outcomes file, the challenger version, the
window) before the monitor opens a run; `apply` adds the findings, metrics and count tables to the window's
assessment; `persist` writes the outcome history once the window is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from features.data import read_table
from features.errors import DataError
from features.monitoring_spec import BacktestLimits
from features.spec import Spec
from monitoring.assess import LEVELS, Assessment
from monitoring.challenger import swap_metrics, swap_table
from monitoring.estimate import contradicted, estimate, realised_auc
from monitoring.inputs import read_columns, validate
from monitoring.life_store import BACKTEST_PATH, COUNTS_PATH, ESTIMATES_PATH, load_history, save_history
from monitoring.outcome_feed import Joined, check_outcomes, join_outcomes, label_number, month_label, month_number
from monitoring.vintage import backtest, backtest_findings, merge_counts, vintage_counts
from monitoring.windows import is_month
from pipelines.core.records import VersionInfo
from pipelines.evidence.reference import band_codes, band_labels
from pipelines.gates.stability import fit_bins
from pipelines.scoring.scorer import Scorer
from pipelines.tracking import Tracker
from pipelines.training.train import predict_pd

METHOD_NOTE = (
    "estimate: expected default rate = mean PD, expected AUC by confidence-based performance estimation; both "
    "assume the PDs are calibrated on this window (the AUC anchored to the registered holdout AUC)"
)


@dataclass
class Shadow:
    """The challenger version and its scorer."""

    version: VersionInfo
    scorer: Scorer


@dataclass
class Life:
    window: str
    limits: BacktestLimits
    edges: list[float]
    cutoff: float
    joined: Joined | None = None
    book_pd: np.ndarray | None = None  # PDs of the joined loans by the challenger (same order as `joined`)
    shadow: Shadow | None = None
    auc_offset: float = 0.0  # the registered holdout AUC minus the estimate on the reference (see auc_anchor)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # the history to persist


def load_shadow(version: VersionInfo, spec: Spec, challenger: str, load: Callable[[str], Any]) -> Shadow:
    """The challenger version of the same model (`load`: NAME/VERSION -> the monitor's Target), trained on the same
    features; DataError otherwise (an unknown version is the registry's own one-line refusal)."""
    name = version.name
    if not challenger.isdigit():
        raise DataError(f"--challenger {challenger[:40]!r}: give a version number of {name}")
    if challenger == version.version:
        raise DataError(f"--challenger {challenger} is the version being monitored: name another version")
    other = load(f"{name}/{challenger}")
    ours, theirs = spec.features, other.spec.features
    if (ours.numeric, ours.categorical) != (theirs.numeric, theirs.categorical):
        raise DataError(f"--challenger {challenger} was trained on other features than version {version.version}")
    return Shadow(other.version, other.scorer)


def limits_of(spec: Spec) -> BacktestLimits:
    """The governed policy's back-test limits (the policy the version's spec was loaded under)."""
    return spec.governing.policy.backtest if spec.governing is not None else BacktestLimits()


def auc_anchor(expected: dict, reference_scores: np.ndarray) -> float:
    """How far the estimate's AUC overstates the registered holdout's: PDs with estimation error rank worse than
    their spread suggests, so the estimate on the reference sample minus the holdout AUC is subtracted from every
    window's estimate (0 for a version registered without its holdout AUC)."""
    if "auc" not in expected or len(reference_scores) < 2:
        return 0.0
    return float(expected["auc"]) - estimate(reference_scores, confidence=0.95, draws=50).auc


def band_edges(expected: dict, reference_scores: np.ndarray, bins: int) -> list[float]:
    """The holdout's score bands kept at registration, else the reference's score deciles."""
    stored = expected.get("bands") or {}
    if stored.get("edges"):
        return list(stored["edges"])
    return list(fit_bins(pd.Series(reference_scores, name="score"), "numeric", n_bins=bins).edges or [])


def pd_of(scorer: Scorer, frame: pd.DataFrame) -> np.ndarray:
    return predict_pd(scorer.booster, scorer.transform.transform(frame))


@dataclass(frozen=True)
class Watched:
    """What of the watched version `prepare` needs (monitoring/target.py's Target)."""

    spec: Spec
    expected: dict
    reference_scores: np.ndarray
    scorer: Scorer


def prepare(watched: Watched, current: str, window: str, outcomes: str | None, shadow: Shadow | None) -> Life:
    """Everything `--outcomes`/`--challenger` need, checked (DataError with one line otherwise)."""
    spec = watched.spec
    edges = band_edges(watched.expected, watched.reference_scores, spec.monitoring.score.bins)
    life = Life(window, limits_of(spec), edges, spec.policy.cutoff, shadow=shadow)
    life.auc_offset = auc_anchor(watched.expected, watched.reference_scores)
    if outcomes is None:
        return life
    if not is_month(window):
        raise DataError(f"--outcomes needs a month window (YYYY-MM), got {window!r}")
    if not spec.data.id or not spec.data.time:
        raise DataError("--outcomes needs data.id and data.time in the model's spec (to join and date each loan)")
    checked = check_outcomes(read_table(outcomes), outcomes)
    frame = read_table(current, columns={*read_columns(spec), spec.data.id})
    for column in (spec.data.id, spec.data.time):
        if column not in frame.columns:
            raise DataError(f"--outcomes: the current data has no column '{column}' to join outcomes by")
    decided = pd.to_datetime(frame[spec.data.time], errors="coerce")
    if decided.isna().any():
        raise DataError(f"time column '{spec.data.time}' has missing or unparseable dates")
    booked = month_number(decided) <= label_number(window)
    ids = frame.loc[booked, spec.data.id].reset_index(drop=True)
    kept = [c for c in frame.columns if c in read_columns(spec)]
    book = validate(frame.loc[booked, kept].reset_index(drop=True), spec, "current data")
    scores = pd_of(watched.scorer, book)
    life.joined = join_outcomes(checked, ids, pd.to_datetime(book[spec.data.time]), scores, window, outcomes)
    if shadow is not None:
        at = pd.Index(ids.astype(str)).get_indexer(checked["id"])
        life.book_pd = pd_of(shadow.scorer, book.iloc[at])
    return life


def apply(
    life: Life, tracker: Tracker, version: VersionInfo, result: Assessment, scores: np.ndarray, rows: pd.DataFrame
) -> None:
    """The window's estimate, back-test and challenger comparison, added to `result`."""
    found = estimate(scores, confidence=life.limits.estimate_confidence, auc_offset=life.auc_offset)
    result.metrics.update(found.metrics())
    result.notes.append(
        f"{METHOD_NOTE}: default rate {found.default_rate:.1%} ({found.rate_low:.1%}-{found.rate_high:.1%}), "
        f"AUC {found.auc:.3f} ({found.auc_low:.3f}-{found.auc_high:.3f})"
    )
    findings: list[tuple[str, str]] = []
    if life.joined is not None:
        findings += _backtest(life, tracker, version, result, found)
    if life.shadow is not None:
        challenger = pd_of(life.shadow.scorer, rows)
        table = swap_table(scores, challenger, life.cutoff, None)
        table.insert(0, "rows", f"window {life.window}")
        if life.joined is not None and life.book_pd is not None:
            later = swap_table(life.joined.pd_12m, life.book_pd, life.cutoff, life.joined.defaulted)
            later.insert(0, "rows", "loans with outcomes")
            table = pd.concat([table, later], ignore_index=True)
        result.tables["monitoring/challenger.csv"] = table
        result.metrics.update(swap_metrics(table))
        result.notes.append(
            f"challenger v{life.shadow.version.version}: {result.metrics['challenger.swap_share']:.1%} of the window "
            "decided differently (monitoring/challenger.csv)"
        )
    _add(result, findings)


def _backtest(life: Life, tracker: Tracker, version: VersionInfo, result: Assessment, found: object) -> list:
    joined = life.joined
    assert joined is not None
    band = band_codes(life.edges, joined.pd_12m)
    latest = vintage_counts(
        joined.cohort,
        band,
        joined.pd_12m,
        joined.defaulted,
        joined.months_observed,
        joined.months_on_book,
        life.limits.horizons,
    )
    history = load_history(tracker, version)
    counts = merge_counts(history[COUNTS_PATH], latest)
    table = backtest(counts, life.limits)
    estimates = _estimates(history[ESTIMATES_PATH], life, result, found)
    life.tables = {COUNTS_PATH: counts, ESTIMATES_PATH: estimates, BACKTEST_PATH: table}
    result.tables[BACKTEST_PATH] = table
    result.metrics["backtest.cells_out"] = float((table["side"] != "").sum())
    result.metrics["backtest.warnings"] = float(table["warn"].sum())
    findings = backtest_findings(table, band_labels(life.edges), life.limits)
    return findings + _contradictions(estimates, life.limits.consecutive)


def _contradictions(estimates: pd.DataFrame, consecutive: int) -> list[tuple[str, str]]:
    """A warning while the realised figure of the latest `consecutive` matured cohorts left the estimate's interval
    on the same measure (one cohort alone is within what a 95% interval allows: 1 in 20)."""
    if "contradicted" not in estimates.columns:
        return []
    matured = estimates.dropna(subset=["realised_rate"]).to_dict(orient="records")
    runs = {"default rate": 0, "AUC": 0}
    for row in matured:
        text = row["contradicted"] if isinstance(row["contradicted"], str) else ""
        for measure in runs:
            runs[measure] = runs[measure] + 1 if text.startswith(measure) or f"; {measure}" in text else 0
    return [
        (
            "warn",
            f"estimate contradicted: the realised {measure} of the latest {run} matured cohorts, up to "
            f"{matured[-1]['cohort']}, left the label-free estimate's interval ({matured[-1]['contradicted']}): the "
            "calibration assumption does not hold, read the vintage back-test",
        )
        for measure, run in runs.items()
        if run >= consecutive
    ]


def _estimates(stored: pd.DataFrame, life: Life, result: Assessment, found: object) -> pd.DataFrame:
    """Per cohort: the window's estimate when it was monitored, and for cohorts matured to 12 months the
    estimate on the matured loans beside the realised rate and AUC."""
    joined = life.joined
    assert joined is not None
    rows = {str(r["cohort"]): r for r in stored.to_dict(orient="records")} if not stored.empty else {}
    rows.setdefault(life.window, {"cohort": life.window})
    rows[life.window].update({f"window_{k}": v for k, v in vars(found).items()})
    horizon = max(life.limits.horizons)
    order = np.argsort(joined.cohort, kind="stable")
    cohorts, starts = np.unique(joined.cohort[order], return_index=True)
    for number, members in zip(cohorts, np.split(order, starts[1:])):
        cohort = month_label(int(number))
        if label_number(life.window) - int(number) < horizon:
            continue  # not matured: its estimate stands
        mask = members[(joined.months_observed[members] >= horizon) | (joined.defaulted[members] == 1)]
        if len(mask) < life.limits.min_loans:
            continue
        y = (joined.defaulted[mask] == 1) & (joined.months_observed[mask] <= horizon)
        matured = estimate(joined.pd_12m[mask], confidence=life.limits.estimate_confidence, auc_offset=life.auc_offset)
        row = {
            "cohort": str(cohort),
            "n": len(mask),
            "rate_low": matured.rate_low,
            "rate_high": matured.rate_high,
            "expected_rate": matured.default_rate,
            "auc_low": matured.auc_low,
            "auc_high": matured.auc_high,
            "expected_auc": matured.auc,
            "realised_rate": float(y.mean()),
            "realised_auc": realised_auc(joined.pd_12m[mask], y),
        }
        row["contradicted"] = "; ".join(contradicted(row))
        rows.setdefault(str(cohort), {"cohort": str(cohort)}).update(row)
    return pd.DataFrame(sorted(rows.values(), key=lambda r: str(r["cohort"])))


def _add(result: Assessment, findings: list[tuple[str, str]]) -> None:
    for level, text in findings:
        result.reasons.append(f"{level}: {text}")
        if LEVELS[level] > LEVELS[result.status]:
            result.status = level
    result.reasons.sort(key=lambda r: -LEVELS[r.split(":", 1)[0]])
    result.metrics["status_level"] = float(LEVELS[result.status])


def persist(life: Life, tracker: Tracker, version: VersionInfo) -> None:
    if life.tables:
        save_history(tracker, version, life.tables)
