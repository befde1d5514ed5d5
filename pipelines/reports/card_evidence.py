"""The evidence sections of a version's card and review page: every limit beside every measured value.

Pure: the spec (with its governing policy) and the evaluation in; paragraphs, tables and charts out
(`pipelines/reports/model_card.py` orders them, `review_page.py` and `to_markdown` render them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import pandas as pd

from features.spec import Spec
from pipelines.gates.fairness import EO_METHOD, INTERVAL_METHOD, JUDGED, FairnessResult, GroupingResult
from pipelines.gates.fairness_gate import fairness_evidence
from pipelines.gates.figures import fairness_figure
from pipelines.gates.gate import GateResult
from pipelines.gates.performance_gate import HOLDOUTS
from pipelines.reports.charts import interval_figure, psi_figure
from pipelines.reports.first_screen import decision_rows
from pipelines.reports.formats import number
from pipelines.reports.render import png_bytes
from pipelines.training.evaluation import Evaluation

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn
    from matplotlib.figure import Figure

T = TypeVar("T")
_TOL = 1e-12  # a value exactly at a limit passes (as in the gates)


@dataclass(frozen=True)
class Chart:
    """A figure for the page (embedded as PNG); `source` names the same plot among the run's artifacts."""

    title: str
    figure: Figure
    source: str = ""


Item: TypeAlias = str | pd.DataFrame | Chart  # what a section holds: a paragraph, a table or a chart
Section: TypeAlias = tuple[str, list[Item]]  # (heading, items)
FAIRNESS_LIMITS = (
    ("air", "min_air", "adverse impact ratio"),
    ("dp_difference", "max_dp_difference", "approval-rate gap"),
)
EO_LIMIT = ("eo_difference", "max_eo_difference", "equalized-odds gap")


# Holdout metrics on the card; those with an interval (pipelines/gates/intervals.py) show it.
CARD_METRICS = ("auc", "gini", "ks", "brier", "log_loss", "ece", "citl", "bad_rate")


def interval(metrics: dict[str, float], key: str) -> str:
    low, high = metrics.get(f"{key}_low", math.nan), metrics.get(f"{key}_high", math.nan)
    return "n/a" if math.isnan(low) or math.isnan(high) else f"{number(low)} – {number(high)}"


def limit_rows(spec: Spec, evaluation: Evaluation) -> pd.DataFrame:
    """One row per limit and sample: gate, measure, sample, measured, interval, limit, result."""
    rows = _performance_limits(spec, evaluation) + _stability_limits(spec, evaluation) + _fairness_limits(evaluation)
    return pd.DataFrame(rows, columns=["gate", "measure", "sample", "measured", "95% interval", "limit", "result"])


def _performance_limits(spec: Spec, evaluation: Evaluation) -> list[list[object]]:
    m, rows = evaluation.metrics, []
    holdouts = [s for s in HOLDOUTS if f"{s}_auc" in m]
    policy = spec.policy.performance
    for sample in holdouts:
        for metric, bound in policy.minimum.items():
            value, judged, on = _judged(m, f"{sample}_{metric}", policy.judge_on, "low")
            ok = not math.isnan(judged) and judged >= bound - _TOL
            span = interval(m, f"{sample}_{metric}")
            rows.append(["performance", metric, sample, value, span, f">= {bound:g}{on}", _result(ok)])
        for metric, bound in policy.maximum.items():
            value, judged, on = _judged(m, f"{sample}_{metric}", policy.judge_on, "high")
            ok = not math.isnan(judged) and judged <= bound + _TOL
            span = interval(m, f"{sample}_{metric}")
            rows.append(["performance", metric, sample, value, span, f"<= {bound:g}{on}", _result(ok)])
        uplift = m[f"{sample}_auc"] - m[f"baseline_{sample}_auc"]
        ok = uplift <= policy.max_baseline_uplift + _TOL
        rows.append(
            [
                "leakage screen",
                "AUC over logistic baseline",
                sample,
                uplift,
                "",
                f"<= {policy.max_baseline_uplift:g}",
                "met" if ok else "warning",
            ]
        )
        rows += decision_rows(spec, m, sample, main=evaluation.main)
    return rows


def _judged(m: dict[str, float], key: str, judge_on: str, side: str) -> tuple[float, float, str]:
    """(point, value judged, what the limit was judged on) as pipelines/gates/performance.py `judged_values`."""
    value = m.get(key, math.nan)
    bound = m.get(f"{key}_{side}")
    if judge_on != "lower_bound" or bound is None:
        return value, value, ""
    return value, bound, f" ({'lower' if side == 'low' else 'upper'} bound judged)"


def _stability_limits(spec: Spec, evaluation: Evaluation) -> list[list[object]]:
    m, levels, rows = evaluation.metrics, spec.policy.stability, []
    for sample in (s for s in HOLDOUTS if f"{s}_score_psi" in m):
        for key, what in (("score_psi", "score PSI"), ("max_csi", "largest characteristic PSI")):
            value = m[f"{sample}_{key}"]
            result = "broken" if value >= levels.alert else "warning" if value >= levels.warn else "met"
            rows.append(["stability", what, sample, value, "", f"< {levels.alert:g} (warn {levels.warn:g})", result])
    return rows


def fairness_result(evaluation: Evaluation) -> FairnessResult | None:
    """The fairness gate's group verdict, None when no sensitive attribute was declared."""
    return fairness_evidence(evaluation.result("fairness")).result


def _fairness_limits(evaluation: Evaluation) -> list[list[object]]:
    result = fairness_result(evaluation)
    if result is None:
        return [["fairness", "every limit", "", None, "", "a declared sensitive attribute", "not assessed"]]
    rows, policy = [], result.policy
    for grouping in result.groupings.values():
        judged = int((~grouping.table["too_small"]).sum())
        for key, limit_key, what in (*FAIRNESS_LIMITS, EO_LIMIT):
            value, bound = float(grouping.disparity[key]), float(getattr(policy, limit_key))
            low, high = grouping.intervals.get(key, (math.nan, math.nan))
            span = "n/a" if math.isnan(low) else f"{number(low)} – {number(high)}"
            sign = ">=" if limit_key.startswith("min_") else "<="
            if judged < 2 or math.isnan(value):
                outcome = "cannot judge" if judged < 2 else "undefined"
            else:
                ok = value >= bound - _TOL if sign == ">=" else value <= bound + _TOL
                outcome = _result(ok)
            rows.append(
                [
                    "fairness",
                    f"{grouping.name}: {what}",
                    evaluation.main,
                    value,
                    span,
                    f"{sign} {bound:g}",
                    outcome,
                ]
            )
    return rows


def _result(ok: bool | str) -> str:
    return ok if isinstance(ok, str) else ("met" if ok else "broken")


def metric_table(evaluation: Evaluation) -> pd.DataFrame:
    """Every metric per sample as 'value (low – high)', and the logistic baseline's AUC."""
    m = evaluation.metrics
    samples = [s for s in ("valid", "test", "oot") if f"{s}_auc" in m]
    rows = []
    for metric in CARD_METRICS:
        rows.append([metric, *(_with_interval(m, f"{s}_{metric}") for s in samples)])
    rows.append(["applicants", *(number(int(m.get(f"{s}_n", 0))) for s in samples)])
    fitted = m.get("baseline_training_rows")
    label = "logistic baseline auc" + (f" (fitted on {number(int(fitted))} training rows)" if fitted else "")
    rows.append([label, *(number(m.get(f"baseline_{s}_auc")) for s in samples)])
    return pd.DataFrame(rows, columns=["metric", *samples])


def _with_interval(m: dict[str, float], key: str) -> str:
    """'value (low – high)'; a metric no interval is computed for (log loss, bad rate) shows its value alone, not
    an 'n/a' interval that reads as if one had failed."""
    return number(m.get(key)) + (f" ({interval(m, key)})" if f"{key}_low" in m else "")


def draw_review_charts(spec: Spec, evaluation: Evaluation) -> None:
    """Draw the review page's own charts now and keep them on the evaluation (the run calls this while the
    challenger trains; the page, written after registration, then only embeds the PNG bytes)."""
    charts = [performance_chart(spec, evaluation), stability_chart(spec, evaluation)]
    if fairness_result(evaluation) is not None:
        charts += evaluation_fairness_charts(evaluation)
    for chart in charts:
        png_bytes(chart.figure)


def _kept(evaluation: Evaluation, key: str, draw: Callable[[], T]) -> T:
    """A chart drawn once per evaluation: none of them depends on the challenger, which may be added later."""
    if key not in evaluation.charts:
        evaluation.charts[key] = draw()
    return evaluation.charts[key]


def performance_chart(spec: Spec, evaluation: Evaluation) -> Chart:
    return _kept(evaluation, "performance", lambda: _performance_chart(spec, evaluation))


def stability_chart(spec: Spec, evaluation: Evaluation) -> Chart:
    return _kept(evaluation, "stability", lambda: _stability_chart(spec, evaluation))


def evaluation_fairness_charts(evaluation: Evaluation) -> list[Chart]:
    result, figure = fairness_result(evaluation), evaluation.figures.get("fairness/approval_rates.png")
    assert result is not None
    return _kept(evaluation, "fairness", lambda: fairness_charts(result, approval_figure=figure))


def _performance_chart(spec: Spec, evaluation: Evaluation) -> Chart:
    m, limits = evaluation.metrics, spec.policy.performance
    rows = []
    for sample in (s for s in ("valid", "test", "oot") if f"{s}_auc" in m):
        for metric in ("auc", "gini", "ks"):
            bound = limits.minimum.get(metric, math.nan) if sample in HOLDOUTS else math.nan
            value = m[f"{sample}_{metric}"]
            rows.append(
                [
                    f"{sample} {metric}",
                    value,
                    m.get(f"{sample}_{metric}_low"),
                    m.get(f"{sample}_{metric}_high"),
                    bound,
                    not math.isnan(bound) and value < bound - _TOL,
                ]
            )
    frame = pd.DataFrame(rows, columns=["label", "value", "low", "high", "limit", "breached"])
    return Chart("Discrimination with 95% intervals and the policy's minima", interval_figure(frame, "AUC, Gini, KS"))


def _stability_chart(spec: Spec, evaluation: Evaluation) -> Chart:
    table = evaluation.tables[f"stability/stability_{evaluation.main}.csv"]
    levels = spec.policy.stability
    title = f"PSI on the {evaluation.main} sample"
    return Chart(
        title,
        psi_figure(table, warn=levels.warn, alert=levels.alert, title=title),
        f"stability/stability_{evaluation.main}.csv",
    )


def fairness_charts(result: FairnessResult, *, approval_figure: Figure | None = None) -> list[Chart]:
    """The approval rates per group (`approval_figure` when already drawn for the run) and the gaps chart."""
    rows = []
    for grouping in result.groupings.values():
        for key, limit_key, what in (*FAIRNESS_LIMITS, EO_LIMIT):
            value, bound = float(grouping.disparity[key]), float(getattr(result.policy, limit_key))
            low, high = grouping.intervals.get(key, (math.nan, math.nan))
            broken = value < bound - _TOL if limit_key.startswith("min_") else value > bound + _TOL
            rows.append([f"{grouping.name}: {what}", value, low, high, bound, broken])
    gaps = pd.DataFrame(rows, columns=["label", "value", "low", "high", "limit", "breached"])
    return [
        Chart(
            "Approval rate per group (count in brackets)",
            approval_figure or fairness_figure(result),
            "fairness/approval_rates.png",
        ),
        Chart("Gaps between groups with their intervals and limits", interval_figure(gaps, "Fairness measures")),
    ]


def group_table(grouping: GroupingResult) -> pd.DataFrame:
    table = grouping.table[["group", "n", "approval_rate", "default_rate", "tpr", "fpr", "auc", "too_small"]]
    return table.assign(judged=~table["too_small"]).drop(columns="too_small")


def gaps_table(result: FairnessResult) -> pd.DataFrame:
    rows = []
    for grouping in result.groupings.values():
        d = grouping.disparity
        for key in ("air", "dp_difference", "eo_difference", "tpr_difference", "fpr_difference"):
            low, high = grouping.intervals.get(key, (math.nan, math.nan))
            span = "n/a" if math.isnan(low) else f"{number(low)} – {number(high)}"
            rows.append([grouping.name, key, d[key], span])
        rows.append(
            [grouping.name, "groups judged / reported", f"{int(d['n_groups_judged'])} / {int(d['n_groups'])}", ""]
        )
    return pd.DataFrame(rows, columns=["grouping", "measure", "value", "interval"])


INTERVALS_NOTE = (
    f"Intervals: {INTERVAL_METHOD} A gap is judged on its point estimate; its interval shows how much the "
    f"sample could move it. Where the policy sets min_eo_outcomes: {EO_METHOD}."
)


def summary_line(result: GateResult, *, criteria: bool = False) -> str:
    """Why a gate did not pass, in one line: the fairness gate condenses its reasons (the numbers are in its
    tables), followed with `criteria` by which criteria it judged per grouping (the page's verdict row; the run's
    output prints them as notes); any other gate lists its findings."""
    if result.name == "fairness":
        judged = [note.replace(f": {JUDGED}: ", " ") for note in result.notes if f": {JUDGED}: " in note]
        return "; ".join([fairness_summary(result.status, result.findings), *(judged if criteria else [])])
    return "; ".join(result.findings) or "every limit met"


def fairness_summary(verdict: str, reasons: list[str]) -> str:
    """One short line: which attributes broke a limit, which could not be judged (the numbers are in the tables)."""
    if verdict == "passed":
        return "every limit met"
    if verdict == "not_assessed":
        return "no sensitive attribute declared (promotion needs an accepted exception)"
    unassessable = [r for r in reasons if r.startswith("not assessable")]
    if unassessable:  # the decision itself is degenerate: say so as the gate said it
        return unassessable[0]
    proxies = [r.split(" (refused", 1)[0] for r in reasons if r.startswith("proxy: ")]
    reasons = [r for r in reasons if not r.startswith("proxy: ")]
    unjudged = [r.split(": ", 1)[0] for r in reasons if "cannot judge" in r]
    broken = list(dict.fromkeys(r.split(": ", 1)[0] for r in reasons if "cannot judge" not in r))
    parts = [f"{len(reasons) - len(unjudged)} limit(s) broken ({', '.join(broken)})"] if broken else []
    parts += [f"{p} (refused)" for p in proxies]
    parts += [f"cannot judge {', '.join(unjudged)} (groups too small)"] if unjudged else []
    return "; ".join(parts)
