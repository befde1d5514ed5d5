"""The monitoring page of one window: creditflow's verdict first, then the evidence behind it. Pure.

One self-contained HTML file (`monitoring/window_report.html` on the window run; no script, no external asset,
opens offline and in the MLflow artifact viewer). It states the same status and reasons as `creditflow monitor`
prints, in the same words: a column the CLI calls WARN or ALERT is WARN or ALERT here. Evidently's per-column
widgets stay in their own, much larger file beside it (`drift_report.html`), linked at the end.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

from features.fairness_spec import FairnessPolicy
from features.monitoring_spec import CREDIT_PSI, MonitoringSpec
from monitoring.assess import LEVELS, Assessment
from monitoring.drift import SCORE, row_quality_warnings
from monitoring.outcomes import BAND_CONFIDENCE, OutcomeResult

PAGE_PATH = "monitoring/window_report.html"
EVIDENTLY_FILE = "drift_report.html"
GAPS = {
    "air": "adverse impact ratio",
    "dp_difference": "approval-rate difference",
    "eo_difference": "equalized-odds difference",
}
COLOURS = {"ok": "#1e7b34", "warn": "#b36b00", "alert": "#b3261e"}
STYLE = (
    "body{font-family:sans-serif;max-width:1000px;margin:1em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 8px;border:1px solid #ccc;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}.note{color:#555}"
    ".badge{color:#fff;padding:2px 8px;border-radius:4px;font-weight:bold}"
    + "".join(f".{k}{{color:{v};font-weight:bold}}.bg-{k}{{background:{v}}}" for k, v in COLOURS.items())
)


@dataclass(frozen=True)
class PageContext:
    """What the page says about where the window comes from."""

    model: str
    version: str
    model_uri: str
    reference: str  # where the reference came from, e.g. "training sample stored at registration (50,000 rows)"
    fairness: FairnessPolicy
    holdout: str = "registered holdout"
    expected: dict = field(default_factory=dict)  # the holdout's performance at registration (expected.json)


def window_page(context: PageContext, result: Assessment, settings: MonitoringSpec) -> str:
    """The whole page, verdict first."""
    title = f"{context.model} version {context.version}: window {result.window}"
    parts = [
        _verdict(context, result),
        _limits(settings),
        _drift(result, settings),
        _quality(result, settings),
        _outcomes(result.outcome, context, settings),
        _fairness(result.outcome, context),
        _evidently(),
    ]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{STYLE}</style>"
        f"</head><body><h1>{_e(title)}</h1>{''.join(parts)}</body></html>"
    )


def _verdict(context: PageContext, result: Assessment) -> str:
    m = result.metrics
    reasons = "".join(f"<li class='{r.split(':', 1)[0]}'>{_e(r)}</li>" for r in result.reasons) or "<li>none</li>"
    notes = "".join(f"<li>note: {_e(n)}</li>" for n in result.notes)
    return (
        f"<h2>Status: {_badge(result.status)}</h2>"
        f"<p>{int(m['rows']):,} applications; score PSI {m['score_psi']:.3f}; max PSI {m['max_psi']:.3f}; "
        f"drift share {m['drift_share']:.0%}. Model <code>{_e(context.model_uri)}</code>; reference: "
        f"{_e(context.reference)}.</p><h3>Reasons</h3><ul>{reasons}{notes}</ul>"
    )


def _limits(settings: MonitoringSpec) -> str:
    psi, score, quality, outcomes = settings.psi, settings.score, settings.quality, settings.outcomes
    methods = {
        **{"numeric": settings.drift.numeric, "categorical": settings.drift.categorical},
        **settings.drift.columns,
    }
    rows = [
        ("input PSI (credit deciles)", f"WARN at {psi.warn:.2f}, ALERT at {psi.alert:.2f}, {psi.bins} bins"),
        ("score PSI", f"WARN at {score.warn:.2f}, ALERT at {score.alert:.2f}, {score.bins} bins"),
        ("drift methods", ", ".join(f"{k}: {v}" for k, v in methods.items())),
        (
            "data quality (WARN)",
            f"missing share up by more than {quality.max_missing_increase:.1%}; unseen categories above "
            f"{quality.max_new_category_share:.1%}; values outside the reference range above "
            f"{quality.max_out_of_range_share:.1%}",
        ),
        (
            "outcomes",
            f"AUC drop WARN {outcomes.auc_drop_warn:.2f} / ALERT {outcomes.auc_drop_alert:.2f}; KS drop WARN "
            f"{outcomes.ks_drop_warn:.2f} / ALERT {outcomes.ks_drop_alert:.2f}; judged from {outcomes.min_rows} "
            f"labelled rows; a score band WARNs when its bad rate's {BAND_CONFIDENCE:.0%} interval and the "
            f"holdout's do not overlap; fairness findings: {outcomes.fairness.upper()}",
        ),
    ]
    body = "".join(f"<tr><td>{_e(k)}</td><td style='text-align:left'>{_e(v)}</td></tr>" for k, v in rows)
    return f"<h2>Limits applied</h2><table>{body}</table>"


def _drift(result: Assessment, settings: MonitoringSpec) -> str:
    table = result.drift.assign(order=result.drift["status"].map(LEVELS)).sort_values(
        ["order", "value"], ascending=False, kind="stable"
    )
    rows = []
    for r in table.itertuples():
        name = f"{r.column} (score)" if r.column == SCORE else r.column
        levels = f"{r.warn:.2f} / {r.alert:.2f}" if r.method == CREDIT_PSI else f"threshold {r.alert:.3g}"
        rows.append(
            f"<tr><td>{_e(name)}</td><td>{_e(r.kind)}</td><td>{_e(r.method)}</td><td>{r.value:.3f}</td>"
            f"<td>{levels}</td><td class='{r.status}'>{r.status.upper()}</td></tr>"
        )
    return (
        "<h2>Drift per column</h2><p class='note'>PSI on the reference's deciles (numbers) or levels "
        f"(categories): below {settings.psi.warn:.2f} stable, up to {settings.psi.alert:.2f} investigate, above "
        "a material shift. Another method's score is judged against its threshold (ALERT when drifted).</p>"
        "<table><tr><th>column</th><th>kind</th><th>method</th><th>value</th><th>warn / alert</th>"
        f"<th>level</th></tr>{''.join(rows)}</table>"
    )


def _quality(result: Assessment, settings: MonitoringSpec) -> str:
    rows = []
    for r in result.quality.itertuples():
        broken = row_quality_warnings(r, settings.quality)
        level = "<td class='warn'>WARN</td>" if broken else "<td class='ok'>OK</td>"
        rows.append(
            f"<tr><td>{_e(r.column)}</td><td>{r.missing_reference:.1%}</td><td>{r.missing_current:.1%}</td>"
            f"<td>{r.new_category_share:.1%}</td><td>{r.out_of_range_share:.1%}</td>{level}</tr>"
        )
    return (
        "<h2>Data quality</h2><table><tr><th>column</th><th>missing (reference)</th><th>missing (window)</th>"
        f"<th>unseen categories</th><th>outside reference range</th><th>level</th></tr>{''.join(rows)}</table>"
    )


def _outcomes(outcome: OutcomeResult | None, context: PageContext, settings: MonitoringSpec) -> str:
    if outcome is None:
        return "<h2>Outcomes</h2><p>No labels in this window yet: outcomes and fairness are not measured.</p>"
    m = outcome.metrics
    names = [("auc", "AUC"), ("ks", "KS"), ("bad_rate", "bad rate"), ("mean_pd", "mean PD")]
    rows = "".join(
        f"<tr><td>{label}</td><td>{_num(m.get(f'outcome.{key}'))}</td><td>{_num(context.expected.get(key))}</td>"
        f"<td>{_num(m.get(f'outcome.{key}_drop'))}</td></tr>"
        for key, label in names
        if f"outcome.{key}" in m
    )
    return (
        f"<h2>Outcomes</h2><p>{int(m['outcome.n']):,} labelled applications, against the {_e(context.holdout)}."
        "</p><table><tr><th>measure</th><th>window</th><th>registered</th><th>drop</th></tr>"
        f"{rows}</table>{_bands(outcome, context)}"
    )


def _bands(outcome: OutcomeResult, context: PageContext) -> str:
    basis = (
        f"the {_e(context.holdout)} (its bad rate per band at registration)"
        if outcome.bands_judged
        else "the training sample's own bad rates: the version was registered before holdout bands were stored, "
        "so the bands are shown, not judged"
    )
    rows = []
    for r in outcome.bands.itertuples():
        flag = f"<td class='warn'>WARN: {r.flag}</td>" if r.flag else "<td></td>"
        rows.append(
            f"<tr><td>{_e(r.band)}</td><td>{r.expected_n:,}</td>"
            f"<td>{_rate(r.expected_bad_rate, r.expected_low, r.expected_high)}</td><td>{r.current_n:,}</td>"
            f"<td>{_rate(r.current_bad_rate, r.current_low, r.current_high)}</td>"
            f"<td>{_pct(r.current_mean_pd)}</td>{flag}</tr>"
        )
    return (
        f"<h3>Bad rate by score band</h3><p class='note'>Bands are the reference's score deciles; expected: {basis}. "
        f"Rates with {BAND_CONFIDENCE:.0%} Jeffreys intervals; a band is flagged only when the two intervals do "
        "not overlap (a difference larger than chance).</p><table><tr><th>PD band</th><th>expected n</th>"
        "<th>expected bad rate</th><th>window n</th><th>window bad rate</th><th>window mean PD</th><th>flag</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _fairness(outcome: OutcomeResult | None, context: PageContext) -> str:
    if outcome is None:
        return ""
    if outcome.fairness is None:
        return "<h2>Fairness</h2><p>Not measured on this window (see the notes above).</p>"
    result, policy = outcome.fairness, context.fairness
    parts = [
        f"<h2>Fairness: {'within' if result.verdict.passed else 'outside'} the policy</h2>",
        f"<p class='note'>Adverse impact ratio at least {policy.min_air:g}; approval-rate and equalized-odds "
        f"differences at most {policy.max_dp_difference:g} / {policy.max_eo_difference:g}; groups under "
        f"{policy.min_group_size} applicants are not judged. Cutoff {result.cutoff:g}.</p>",
    ]
    for grouping in result.groupings.values():
        gaps = "; ".join(
            f"{label} {_num(grouping.disparity[key])} ({policy.confidence:.0%} interval "
            f"{'-'.join(_num(v) for v in grouping.intervals.get(key, (None, None)))})"
            for key, label in GAPS.items()
            if _shown(grouping.disparity.get(key))
        )
        table = grouping.table
        rows = "".join(
            f"<tr><td>{_e(str(r.group))}</td><td>{int(r.n):,}</td><td>{_pct(r.approval_rate)}</td>"
            f"<td>{_pct(r.default_rate)}</td><td>{'too small' if r.too_small else ''}</td></tr>"
            for r in table.itertuples()
        )
        parts.append(
            f"<h3>{_e(grouping.name)}</h3><p>{_e(gaps)}</p><table><tr><th>group</th><th>n</th>"
            f"<th>approval rate</th><th>bad rate</th><th></th></tr>{rows}</table>"
        )
    return "".join(parts)


def _evidently() -> str:
    return (
        "<h2>Column detail (Evidently)</h2><p>Distributions per column: "
        f"<a href='{EVIDENTLY_FILE}'>{EVIDENTLY_FILE}</a>, beside this page (in the MLflow UI: the run's artifacts, "
        f"folder monitoring/; a large file, slow to open). Its widgets draw a seeded sample of the rows and say "
        '"drift detected" only at a column\'s ALERT level: a WARN column shows there as not detected. The levels '
        "above are creditflow's verdict on all rows, the same as the command line.</p>"
    )


def _shown(value: object) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _badge(status: str) -> str:
    return f"<span class='badge bg-{status}'>{status.upper()}</span>"


def _rate(rate: float, low: float, high: float) -> str:
    return "" if pd.isna(rate) else f"{rate:.1%} <span class='note'>({low:.1%}-{high:.1%})</span>"


def _pct(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1%}"


def _num(value: float | str | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.3f}"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
