"""The model card: what a validator who did not build the model needs to follow the decision and sign it off.

Built from the spec (with its governing policy), the prepared data, the candidate's parameters and the
evaluation (pure: values in, sections out), and logged with every registered version twice: as the
self-contained HTML review page (`review_page.py`: charts embedded) and as Markdown. The sign-off block
(`governance_section.py`) is filled in by reviews, exceptions and recorded UI approvals.
"""

from __future__ import annotations

import pandas as pd

from features.spec import Spec
from pipelines.gates.fairness_gate import fairness_evidence
from pipelines.gates.registry import find
from pipelines.reports import card_evidence as ev
from pipelines.reports.card_context import (
    CardIdentity,
    candidates_line,
    hyperparameter_table,
    identity_items,
    limitations,
    lineage_table,
    monitoring_plan,
)
from pipelines.reports.card_evidence import Chart, Item, Section
from pipelines.reports.formats import number, percent, table_markdown
from pipelines.reports.governance_section import PENDING, governance_markdown
from pipelines.scoring.reasons import DEFAULT_REASON_TEXT, MAX_REASONS
from pipelines.training.evaluation import Evaluation
from pipelines.training.workflow import Prepared

__all__ = ["CardIdentity", "Chart", "Section", "card_sections", "to_markdown"]

OWN_SECTIONS = ("performance", "stability", "fairness")  # gates whose evidence has sections of its own below


def card_sections(identity: CardIdentity, prepared: Prepared, evaluation: Evaluation) -> list[Section]:
    """The sections in reading order: verdicts and limits first, sign-off last (rendered by the renderers)."""
    spec = prepared.spec
    return [
        ("Verdicts and limits", _verdicts(spec, evaluation, identity)),
        ("Identity and intended use", identity_items(identity, spec)),
        ("Data and lineage", [lineage_table(identity, prepared)]),
        ("Performance", _performance(spec, evaluation)),
        ("Calibration", _calibration(evaluation)),
        ("Stability", _stability(spec, evaluation)),
        ("Fairness", _fairness(spec, evaluation)),
        ("Less-discriminatory alternative", _alternative(spec, evaluation)),
        ("Leakage screen", _leakage(spec, evaluation)),
        *_other_gates(evaluation),
        ("Explanations and reason codes", _explanations(prepared, evaluation)),
        ("Hyperparameters", [hyperparameter_table(identity, spec, evaluation)]),
        ("Known limitations", limitations(prepared, evaluation)),
        ("Monitoring plan", monitoring_plan(spec, len(prepared.split.train))),
    ]


def refer_line(spec: Spec) -> str:
    """The refer band and rules the decisions are made under ('' for approve/decline only)."""
    policy = spec.policy
    if not policy.refers:
        return ""
    refer = policy.refer
    rules = [f"a probability of default in [{policy.cutoff - refer.below:g}, {policy.cutoff + refer.above:g})"]
    if refer.thin_file is not None:
        rules.append(f"a thin file ({refer.thin_file.feature} missing or below {refer.thin_file.below:g})")
    if refer.out_of_range:
        rules.append("a numeric feature outside its training range")
    return (
        "Three decisions: approve, refer, decline. Applicants with "
        + ", or ".join(rules)
        + " are referred to an underwriter (given reasons and a notice like declined ones); the fairness gate reports "
        f"refer rates by group (limit on their difference {refer.max_rate_difference:g})."
    )


def _verdicts(spec: Spec, evaluation: Evaluation, identity: CardIdentity) -> list[Item]:
    governing = spec.governing
    policy = f"`{governing.label}` (digest `{governing.digest}`)" if governing else "the spec's own limits"
    gates = pd.DataFrame(
        [[r.tag, r.status, ev.summary_line(r, criteria=True)] for r in evaluation.results],
        columns=["gate", "verdict", "why"],
    )
    return [
        f"Judged under policy {policy}; a spec may only make its limits stricter. Decision cutoff "
        f"{spec.policy.cutoff:g}: applicants with a probability of default at or above it are declined, and every "
        "gate is judged at that decision.",
        *[line for line in [refer_line(spec)] if line],
        gates,
        *[line for line in [candidates_line(identity)] if line],
        "Every limit beside the measured value (95% intervals: DeLong for AUC and Gini, percentile bootstrap for the "
        "others; performance minima are judged on "
        + (
            "the interval's lower bound, maxima on its upper bound"
            if spec.policy.performance.judge_on == "lower_bound"
            else "the point estimate"
        )
        + "; fairness on the point estimate):",
        ev.limit_rows(spec, evaluation),
    ]


def _performance(spec: Spec, evaluation: Evaluation) -> list[Item]:
    figures = evaluation.figures
    return [
        "XGBoost against an untuned logistic-regression benchmark on the same split. Each value is followed by its "
        "95% interval: DeLong's for AUC and Gini, a percentile bootstrap (200 resamples of at most 20,000 rows) for "
        "the others. The performance gate is judged "
        "on the holdouts (test, out-of-time); validation steered early stopping.",
        ev.metric_table(evaluation),
        ev.performance_chart(spec, evaluation),
        Chart("ROC curves", figures["plots/roc.png"], "plots/roc.png"),
        Chart("Kolmogorov-Smirnov separation", figures["plots/ks.png"], "plots/ks.png"),
        Chart("Cumulative gains", figures["plots/gains.png"], "plots/gains.png"),
    ]


def _calibration(evaluation: Evaluation) -> list[Item]:
    m, main = evaluation.metrics, evaluation.main
    table = evaluation.tables[f"evaluation/calibration_{main}.csv"][["bin", "n", "mean_pd", "observed_bad_rate"]]
    return [
        f"Expected calibration error on {main}: {number(m[f'{main}_ece'])} ({ev.interval(m, f'{main}_ece')}): the "
        "applicant-weighted gap between predicted and observed default rates over ten equal-count score bins.",
        table,
        Chart(
            "Predicted against observed default rate",
            evaluation.figures["plots/calibration.png"],
            "plots/calibration.png",
        ),
    ]


def _stability(spec: Spec, evaluation: Evaluation) -> list[Item]:
    stability, levels = evaluation.result("stability"), spec.policy.stability
    table = evaluation.tables[f"stability/stability_{evaluation.main}.csv"]
    flagged = table[table["status"] != "ok"]
    return [
        f"Score PSI and characteristic PSI (CSI) against the training sample on training-decile bins: at or above "
        f"{levels.alert:g} fails, at or above {levels.warn:g} is listed. Verdict: "
        f"{_verdict(stability.passed, stability.findings)}.",
        ev.stability_chart(spec, evaluation),
        flagged if len(flagged) else f"Every characteristic below the warn level {levels.warn:g}.",
        *stability.notes,
    ]


def _fairness(spec: Spec, evaluation: Evaluation) -> list[Item]:
    evidence = fairness_evidence(evaluation.result("fairness"))
    result, screen = evidence.result, _name_screen(evidence.watchlist)
    if result is None:
        return [
            "Not assessed: no sensitive attribute is declared in `data.sensitive`, so approval rates cannot be "
            "compared between groups. `validation.fairness` = not_assessed; promotion needs an accepted exception.",
            screen,
        ]
    items: list[Item] = [
        f"Policy: {result.policy.rationale}",
        f"Verdict on the {evaluation.main} sample at cutoff {result.cutoff:g}: "
        f"{_verdict(result.verdict.passed, result.verdict.reasons)}.",
        *(f"Note: {n}" for n in result.verdict.notes),
        *ev.evaluation_fairness_charts(evaluation),
        ev.gaps_table(result),
        ev.INTERVALS_NOTE,
    ]
    for grouping in result.groupings.values():
        items += [f"Groups by {grouping.name}:", ev.group_table(grouping)]
    proxies = evidence.proxies
    flagged = proxies[proxies["proxy"]] if proxies is not None else pd.DataFrame()
    items.append(
        f"Proxy screen: features that alone predict a sensitive attribute with an AUC of at least "
        f"{result.policy.proxy_auc:g} on the training rows: "
        + (", ".join(f"{r.feature} for {r.attribute} ({number(r.auc)})" for r in flagged.itertuples()) or "none")
        + ". Full tables: `fairness/report.html`."
    )
    return items + [screen]


def _name_screen(watchlist: list[tuple[str, str]]) -> str:
    hits = ", ".join(f"{feature} (pattern '{pattern}')" for feature, pattern in watchlist)
    return (
        "Proxy screen by name (the policy's watchlist of names that often stand in for a protected characteristic): "
        + (hits or "no declared feature matches")
        + "."
    )


def _alternative(spec: Spec, evaluation: Evaluation) -> list[Item]:
    report, settings = evaluation.challenger, spec.policy.fairness.mitigation
    if report is None:
        why = (
            "there is no sensitive attribute to mitigate for"
            if ev.fairness_result(evaluation) is None
            else "`policy.fairness.mitigation` is not enabled"
            if not settings.enabled
            else "the fairness gate passed and the spec asks for one only when it fails"
        )
        return [f"No less-discriminatory alternative was trained: {why}."]
    about, verdict = report.challenger.describe(), report.fairness.verdict
    summary = ev.fairness_summary("failed", verdict.reasons)
    return [
        f"fairlearn ExponentiatedGradient over XGBoost under {about['constraint']} (bound "
        f"{about['difference_bound']}) for {', '.join(report.challenger.attributes)}, a mixture of "
        f"{about['predictors_in_mixture']} predictors; {about['decision']}. It needs no sensitive attribute at "
        "scoring time. Judged on the same sample by the same policy; evidence for the reviewer, not the registered "
        f"model. Its fairness verdict: {'passed' if verdict.passed else 'failed: ' + summary}.",
        report.comparison.set_index("model").T.reset_index(names="measure"),
    ]


def _explanations(prepared: Prepared, evaluation: Evaluation) -> list[Item]:
    spec, m = prepared.spec, evaluation.metrics
    texts = spec.reasons
    table = evaluation.tables["evaluation/importance.csv"].copy()
    table["reason text"] = [texts.get(f, DEFAULT_REASON_TEXT.format(field=f)) for f in table["feature"]]
    table["own text"] = [f in texts for f in table["feature"]]
    return [
        f"Each declined applicant gets up to {MAX_REASONS} reasons: the characteristics whose XGBoost contributions "
        f"push the score most toward default, measured against the `{spec.policy.reason_baseline}` baseline "
        "applicant. `creditflow score` and the served model compute them by exact TreeSHAP, for declined "
        "applicants only (`--all-reasons` / `all_reasons` for everyone); the Saabas approximation is used only when "
        "asked (`--reasons approx` / `reason_method=approx`) and then prints its measured agreement. On "
        f"{int(m.get('reasons_fast_agreement_rows', 0))} declined holdout applicants it agreed with exact TreeSHAP "
        f"on the first reason for {percent(m.get('reasons_fast_agreement_reason_1', float('nan')))} and on the "
        f"whole set for {percent(m.get('reasons_fast_agreement_top_k_set', float('nan')))}.",
        Chart("Global importance", evaluation.figures["plots/importance.png"], "plots/importance.png"),
        table,
    ]


def _leakage(spec: Spec, evaluation: Evaluation) -> list[Item]:
    """What the leakage screen found, and the reason the spec gives for each reviewed feature."""
    leakage, limits = evaluation.result("performance").detail, spec.policy.leakage
    intro = (
        f"Run before training: a feature alone ranking defaults above AUC {limits.max_single_feature_auc}, or "
        f"constant within one outcome class (over {limits.max_within_class_share:.0%}); after training: one "
        f"feature carrying over {limits.max_contribution_share:.0%} of the model's contribution, or the model "
        f"beating the logistic baseline by over {spec.policy.performance.max_baseline_uplift} AUC. A finding fails "
        "`validation.performance` unless `features.reviewed` gives the reason the feature is known at application."
    )
    if leakage is None or not leakage.findings:
        return [intro, "No finding."]
    return [intro, leakage.findings_table()]


def _other_gates(evaluation: Evaluation) -> list[Section]:
    """A section for each registered gate this card has no section of its own for: its verdict, findings, notes,
    figures and tables, as the gate gave them."""
    sections: list[Section] = []
    for result in (r for r in evaluation.results if r.name not in OWN_SECTIONS):
        gate = find(result.name)
        items: list[Item] = [f"`{result.tag}`: {_verdict(result.passed, result.findings)}.", *result.notes]
        items += [Chart(path.rsplit("/", 1)[-1], figure, path) for path, figure in result.figures.items()]
        items += list(result.tables.values())
        sections.append((gate.title if gate else result.name, items))
    return sections


def _verdict(passed: bool, reasons: list[str]) -> str:
    return "passed" if passed else "failed (" + "; ".join(reasons) + ")"


def to_markdown(title: str, sections: list[Section], *, pending: str = PENDING) -> str:
    """The card as Markdown: charts named with the run artifact that holds them; the sign-off block last."""
    lines = [f"# {title}", ""]
    for heading, items in sections:
        lines += [f"## {heading}", ""]
        for item in items:
            if isinstance(item, pd.DataFrame):
                lines += [table_markdown(item), ""]
            elif isinstance(item, Chart):
                where = f" (`{item.source}` on the run)" if item.source else ""
                lines += [f"*Chart: {item.title}{where}; embedded in the review page.*", ""]
            else:
                lines += [item, ""]
    return "\n".join(lines) + "\n" + governance_markdown([], [], pending=pending)
