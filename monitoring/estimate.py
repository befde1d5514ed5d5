"""The label-free estimate of a window's outcomes, before they are known, and its back-test once they are. Pure.

Method: confidence-based performance estimation (CBPE, as NannyML names it). Assumption: the model is calibrated
on the window, i.e. each loan defaults with probability equal to its PD, independently. Then
* the expected default rate is the mean PD; its interval is the normal one of a Poisson-binomial count
  (variance sum p(1 - p));
* the expected AUC and its interval are the mean and quantiles of the AUC over `draws` label sets drawn as
  Bernoulli(PD) (ranks of the scores fixed, so each draw costs one pass).
When the realised rate or AUC of a matured cohort falls outside the interval, the assumption is contradicted
(the vintage back-test then usually shows which bands miscalibrate): the estimate says so instead of standing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata

DRAWS = 200
SAMPLE = 50_000  # rows the AUC draws use: beyond it a seeded sample, the spread scaled to the window's size


@dataclass(frozen=True)
class Estimate:
    n: int
    default_rate: float
    rate_low: float
    rate_high: float
    auc: float
    auc_low: float
    auc_high: float

    def metrics(self) -> dict[str, float]:
        return {
            "estimate.default_rate": self.default_rate,
            "estimate.default_rate_low": self.rate_low,
            "estimate.default_rate_high": self.rate_high,
            "estimate.auc": self.auc,
            "estimate.auc_low": self.auc_low,
            "estimate.auc_high": self.auc_high,
        }


def estimate(
    pd_values: np.ndarray, *, confidence: float, seed: int = 0, draws: int = DRAWS, auc_offset: float = 0.0
) -> Estimate:
    """Expected default rate and AUC of loans scored `pd_values`, if the PDs are calibrated; `auc_offset` (the
    registered holdout's AUC minus the estimate on the reference sample) anchors the AUC to what was measured."""
    p = np.clip(np.asarray(pd_values, dtype=np.float64), 0.0, 1.0)
    n = len(p)
    mean = float(p.mean())
    z = float(norm.ppf(0.5 + confidence / 2))
    spread = z * float(np.sqrt(np.sum(p * (1 - p)))) / max(n, 1)
    aucs = _window_aucs(p, seed=seed, draws=draws) + auc_offset
    tail = (1 - confidence) / 2
    low, high = (float(v) for v in np.nanquantile(aucs, [tail, 1 - tail])) if len(aucs) else (np.nan, np.nan)
    return Estimate(
        n,
        mean,
        max(mean - spread, 0.0),
        min(mean + spread, 1.0),
        float(np.nanmean(aucs)) if len(aucs) else np.nan,
        low,
        high,
    )


def _window_aucs(p: np.ndarray, *, seed: int, draws: int) -> np.ndarray:
    """The simulated AUCs of the window: on a seeded sample of SAMPLE rows for a larger window, their spread
    around the mean narrowed by sqrt(SAMPLE / n) (the AUC's standard error falls with the square root of n)."""
    if len(p) <= SAMPLE:
        return simulated_aucs(p, seed=seed, draws=draws)
    rows = np.random.default_rng(seed).choice(len(p), SAMPLE, replace=False)
    aucs = simulated_aucs(p[rows], seed=seed, draws=draws)
    centre = float(aucs.mean()) if len(aucs) else np.nan
    return centre + (aucs - centre) * np.sqrt(SAMPLE / len(p))


def simulated_aucs(p: np.ndarray, *, seed: int, draws: int) -> np.ndarray:
    """The AUC of the scores `p` against `draws` label sets drawn Bernoulli(p)."""
    if len(p) < 2:
        return np.array([])
    ranks = rankdata(p)  # ties share their mean rank, as the Mann-Whitney AUC counts them as half
    rng = np.random.default_rng(seed)
    out = np.empty(draws)
    for i in range(draws):
        y = rng.random(len(p)) < p
        out[i] = auc_from_ranks(ranks, y)
    return out[~np.isnan(out)]


def auc_from_ranks(ranks: np.ndarray, y: np.ndarray) -> float:
    positives = int(np.count_nonzero(y))
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def realised_auc(scores: np.ndarray, y: np.ndarray) -> float:
    return auc_from_ranks(rankdata(scores), np.asarray(y).astype(bool))


def contradicted(row: dict) -> list[str]:
    """Which of a matured cohort's realised figures fall outside its estimate's interval."""
    out = []
    if not row["rate_low"] <= row["realised_rate"] <= row["rate_high"]:
        out.append(
            f"default rate {row['realised_rate']:.1%} outside the estimate's "
            f"{row['rate_low']:.1%}-{row['rate_high']:.1%}"
        )
    realised = row.get("realised_auc")
    if realised == realised and realised is not None and not row["auc_low"] <= realised <= row["auc_high"]:
        out.append(f"AUC {realised:.3f} outside the estimate's {row['auc_low']:.3f}-{row['auc_high']:.3f}")
    return out
