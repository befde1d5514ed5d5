"""Human overrides judged (issue 25, items 4 and 5): do underwriters reintroduce the bias the model avoided?

For the applicants of a window with a final decision: the share whose final decision differs from the model's
(`refer` is not overridden: a person was asked), by PD band and by group; the adverse impact ratio (AIR: lowest
group approval rate over the highest) of final approvals against the model's own; the reasons given; requests for
human review and contests with their outcomes; and, where outcomes are known, the default rates of overridden
approvals and declines. Limits from the governed policy (`overrides`). Underwriters appear only as counts per id,
and only when the policy allows. Pure: frames in, findings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.hitl_policy import OverrideLimits
from pipelines.core.free_text import shown
from pipelines.scoring.decision import APPROVE, LABELS, REFER

BANDS = 5  # PD quintiles of the window


@dataclass
class OverrideResult:
    status: str = "ok"
    lines: list[str] = field(default_factory=list)  # "alert: ..." / "warn: ...", then "note: ..."
    metrics: dict[str, float] = field(default_factory=dict)


def assess_overrides(
    model_codes: np.ndarray,
    pd_values: np.ndarray,
    ids: pd.Series,
    groups: pd.DataFrame,
    decisions: pd.DataFrame,
    limits: OverrideLimits,
    outcome: pd.Series | None = None,
) -> OverrideResult:
    """Judge the window's final decisions (`decisions`, indexed by id) against the model's (`model_codes`)."""
    result = OverrideResult()
    aligned = decisions.reindex(ids.astype(str).to_numpy())  # one hash join; rows without a decision are NaN
    have = aligned["final_decision"].notna().to_numpy()
    if not have.any():
        result.lines.append("note: overrides: no final decision for an applicant of this window")
        return result
    aligned = aligned[have]
    model, final = np.asarray(LABELS, dtype=object)[model_codes][have], aligned["final_decision"].to_numpy()
    p, frame = pd_values[have], groups.loc[have].reset_index(drop=True)
    overridden = (model != REFER) & (model != final)
    rate = float(overridden.mean())
    result.metrics.update({"override_rows": float(have.sum()), "override_rate": rate})
    _judge(result, "override rate", rate, limits.rate_warn, limits.rate_alert, f"{rate:.1%} of {have.sum():,}")
    referred = model == REFER
    if referred.any():
        approved = float((final[referred] == APPROVE).mean())
        result.lines.append(f"note: referred: {referred.sum():,}, of whom underwriters approved {approved:.1%}")
    bands = pd.qcut(p, BANDS, labels=False, duplicates="drop") if len(p) >= BANDS else np.zeros(len(p), int)
    by_band = pd.Series(overridden).groupby(np.asarray(bands)).mean()
    result.lines.append("note: override rate by PD band (low to high): " + ", ".join(f"{v:.1%}" for v in by_band))
    for name in frame.columns:
        _group_fairness(result, name, frame[name], model, final, overridden, limits)
    _requests(result, aligned, final)
    _reasons(result, aligned[overridden], limits)
    if outcome is not None:
        _outcomes(result, outcome[have].to_numpy(dtype=np.float64), model, final)
    return result


def _group_fairness(
    result: OverrideResult,
    name: str,
    group: pd.Series,
    model: np.ndarray,
    final: np.ndarray,
    overridden: np.ndarray,
    limits: OverrideLimits,
) -> None:
    """AIR of final approvals against the model's, over the groups of at least `min_group_size`."""
    values = group.astype(str).to_numpy()
    sizes = pd.Series(values).value_counts()
    judged = [g for g in sizes.index if sizes[g] >= limits.min_group_size and g != "nan"]
    if len(judged) < 2:
        result.lines.append(f"note: overrides by {name}: fewer than two groups of {limits.min_group_size}")
        return
    rows = {g: values == g for g in judged}
    model_rates = {g: float((model[m] == APPROVE).mean()) for g, m in rows.items()}
    final_rates = {g: float((final[m] == APPROVE).mean()) for g, m in rows.items()}
    model_air, final_air = _air(model_rates), _air(final_rates)
    drop = model_air - final_air
    result.metrics.update({f"override_air_model_{name}": model_air, f"override_air_final_{name}": final_air})
    shown_rates = ", ".join(
        f"{g} {final_rates[g]:.1%} final / {model_rates[g]:.1%} model, {overridden[m].mean():.1%} overridden"
        for g, m in rows.items()
    )
    detail = f"AIR of final approvals {final_air:.2f} against the model's {model_air:.2f} ({shown_rates})"
    _judge(result, f"override fairness by {name}", drop, limits.air_drop_warn, limits.air_drop_alert, detail)


def _air(rates: dict[str, float]) -> float:
    top = max(rates.values())
    return min(rates.values()) / top if top > 0 else 1.0


def _requests(result: OverrideResult, decisions: pd.DataFrame, final: np.ndarray) -> None:
    for flag, what in (("requested_review", "requests for human review"), ("contested", "contests")):
        asked = decisions[flag].to_numpy(dtype=bool)
        result.metrics[f"override_{flag}"] = float(asked.sum())
        if asked.any():
            approved = int((final[asked] == APPROVE).sum())
            result.lines.append(f"note: {what}: {asked.sum():,} (final: {approved:,} approved)")


def _reasons(result: OverrideResult, overridden: pd.DataFrame, limits: OverrideLimits) -> None:
    if overridden.empty:
        return
    top = overridden["reason"].astype(str).value_counts().head(5)
    result.lines.append("note: override reasons: " + ", ".join(f"{shown(r, limit=60)} {n}" for r, n in top.items()))
    if limits.underwriter_counts and "underwriter" in overridden.columns:
        counts = overridden["underwriter"].astype(str).value_counts().head(10)
        result.lines.append(
            "note: overrides per underwriter id: " + ", ".join(f"{shown(u, limit=40)} {n}" for u, n in counts.items())
        )


def _outcomes(result: OverrideResult, y: np.ndarray, model: np.ndarray, final: np.ndarray) -> None:
    """Default rates, as labels mature, of approvals the model would have declined and the reverse."""
    for label, mask in (
        ("approvals the model declined", (final == APPROVE) & (model == "decline")),
        ("declines the model approved", (final == "decline") & (model == APPROVE)),
    ):
        known = mask & ~np.isnan(y)
        if known.any():
            result.lines.append(f"note: default rate of {label}: {np.mean(y[known]):.1%} of {known.sum():,}")


def _judge(result: OverrideResult, what: str, value: float, warn: float, alert: float, detail: str) -> None:
    level = "alert" if value > alert else "warn" if value > warn else None
    if level is None:
        result.lines.append(f"note: {what}: {detail}")
        return
    result.lines.insert(0, f"{level}: {what}: {detail}")
    if level == "alert" or result.status == "ok":
        result.status = level
