"""The fairness evidence a reviewer reads: a self-contained HTML report (its chart of group approval rates is the
fairness gate's figure, pipelines/gates/figures.py)."""

from __future__ import annotations

import html

import pandas as pd

from pipelines.gates.fairness import INTERVAL_METHOD, TPR_FPR_WORDS, FairnessResult
from pipelines.reports.formats import number, table_html
from pipelines.training.mitigation import ChallengerReport


def fairness_html(
    result: FairnessResult, proxies: pd.DataFrame, sample: str, *, challenger: ChallengerReport | None = None
) -> str:
    """One HTML page: verdict, policy and rationale, per-group tables, gaps with intervals, proxies."""
    verdict = result.verdict
    parts = [
        f"<p>Sample: <b>{html.escape(sample)}</b>; decision cutoff "
        f"{result.cutoff:.3f} (declined when PD &ge; cutoff); approval = selection.</p>",
        f"<h2>Verdict: {'passed' if verdict.passed else 'failed'}</h2>",
        _list(verdict.reasons),
        "<h3>Notes</h3>" + _list(verdict.notes) if verdict.notes else "",
        f"<h2>Policy</h2><p>{html.escape(result.policy.rationale)}</p>",
        f"<p>Adverse impact ratio &ge; {result.policy.min_air}; approval-rate difference &le; "
        f"{result.policy.max_dp_difference}; equalized-odds difference &le; {result.policy.max_eo_difference}; "
        f"groups under {result.policy.min_group_size} applicants are too small to judge; TPR and FPR gaps are judged "
        f"only between groups holding at least {result.policy.min_group_size} defaulters and "
        f"{result.policy.min_group_size} good payers (columns defaulters, good_payers, too_few_outcomes).</p>",
        f"<p>{html.escape(TPR_FPR_WORDS)}.</p>",
        f"<p>Intervals ({result.policy.confidence:.0%}): {html.escape(INTERVAL_METHOD)}</p>",
    ]
    for grouping in result.groupings.values():
        gaps = pd.DataFrame(
            [
                {"measure": k, "value": _value(k, v), "interval": _interval(grouping.intervals.get(k))}
                for k, v in grouping.disparity.items()
            ]
        )
        table = grouping.table.assign(judged=~grouping.table["too_small"]).drop(columns="too_small")
        parts += [f"<h2>{html.escape(grouping.name)}</h2>", table_html(table), table_html(gaps)]
    parts += [
        "<h2>Proxy candidates</h2><p>Features that alone predict a sensitive attribute (AUC); a reviewer "
        "may challenge those flagged.</p>",
        table_html(proxies),
    ]
    if challenger is not None:
        parts += _challenger_section(challenger)
    return html_page("Fairness report", parts)


def _challenger_section(report: ChallengerReport) -> list[str]:
    about = report.challenger.describe()
    settings = "; ".join(f"{k}: {v}" for k, v in about.items())
    return [
        "<h2>Less-discriminatory alternative</h2>",
        "<p>A mitigated challenger (fairlearn ExponentiatedGradient over XGBoost, trained on the training rows; "
        "it needs no sensitive attribute at scoring time) judged on the same sample by the same policy. Its "
        "score is the weighted share of its predictors that decline an applicant.</p>",
        f"<p>{html.escape(settings)}</p>",
        table_html(report.comparison),
        f"<h3>Challenger verdict: {'passed' if report.fairness.verdict.passed else 'failed'}</h3>",
        _list(report.fairness.verdict.reasons),
    ]


def html_page(title: str, parts: list[str]) -> str:
    """A self-contained page (opens offline in the MLflow artifact viewer) with the title as heading."""
    style = (
        "body{font-family:sans-serif;max-width:960px;margin:auto}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;border:1px solid #ccc}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(parts)}</body></html>"
    )


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>" if items else "<p>none</p>"


def _interval(bounds: tuple[float, float] | None) -> str:
    return "" if bounds is None or any(pd.isna(b) for b in bounds) else f"{number(bounds[0])} – {number(bounds[1])}"


def _value(key: str, value: object) -> str:
    """Counts (n_groups, n_groups_judged) as integers, the rest as numbers for people."""
    return f"{int(value):,}" if key.startswith("n_") and isinstance(value, float) and value == value else number(value)
