"""The model card: what a reviewer who did not build the model needs to understand and sign it off.

Built from the spec, the prepared data and the evaluation (pure: values in, Markdown and HTML out)
and logged with every registered version; the approvals section is filled in by the review step.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from features.spec import Spec
from features.target import as_list
from pipelines.gates.intervals import METHOD as INTERVALS
from pipelines.reports.fairness_report import html_page
from pipelines.scoring.reasons import DEFAULT_REASON_TEXT, MAX_REASONS
from pipelines.training.evaluation import Evaluation
from pipelines.training.workflow import Prepared


@dataclass(frozen=True)
class CardIdentity:
    model_name: str
    version: str
    run_id: str
    git_commit: str
    data_digest: str


Section = tuple[str, list[str | pd.DataFrame]]  # heading, then paragraphs and tables


def card_sections(identity: CardIdentity, prepared: Prepared, evaluation: Evaluation) -> list[Section]:
    """The card's sections in reading order; one helper per section keeps each reviewer question in one place."""
    spec = prepared.spec
    return [
        ("Identity and intended use", _identity(identity, spec)),
        ("Data", [_data_table(prepared)]),
        ("Performance", _performance(evaluation)),
        ("Leakage screen", _leakage(spec, evaluation)),
        ("Stability", _stability(spec, evaluation)),
        ("Fairness", _fairness(evaluation, spec.policy.fairness.rationale)),
        ("Explanations and reason codes", _explanations(prepared, evaluation)),
        ("Known limitations", _limitations(prepared, evaluation)),
        ("Monitoring plan", _monitoring_plan(spec)),
        (
            "Approvals",
            [
                "Pending: `approval.status=pending`. The review step records the reviewer, decision, comment "
                "and time here and in the version's `approval.*` tags."
            ],
        ),
    ]


def _identity(identity: CardIdentity, spec: Spec) -> list[str | pd.DataFrame]:
    """Which run and commit the version comes from, and what it may (and may not) be used for."""
    return [
        f"Registered model `{identity.model_name}` version {identity.version}, trained in MLflow run "
        f"`{identity.run_id}` from commit `{identity.git_commit}`.",
        f"Intended use: estimating the probability that an applicant defaults (`{spec.data.target}` in "
        f"{', '.join(map(str, as_list(spec.data.positive)))}), and declining applications at or above the policy "
        f"cutoff {spec.policy.cutoff}. Not for pricing, collections or any population unlike the data below.",
    ]


def _performance(evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """How the booster compares with the logistic benchmark per sample, calibration, and the performance verdict."""
    return [
        f"XGBoost against an untuned logistic-regression benchmark on the same split. {INTERVALS}. Calibration: "
        "mean PD against the observed default rate (calibration-in-the-large), a Jeffreys test per score band "
        "(bands rejected), ECE (judged only when the holdout is large enough: its noise floor is shown). Verdict "
        f"`validation.performance`: {_verdict(evaluation.passed, evaluation.reasons)}.",
        _performance_table(evaluation.metrics),
        *evaluation.notes,
    ]


def _leakage(spec: Spec, evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """What the leakage screen found, and the reason the spec gives for each reviewed feature."""
    leakage, limits = evaluation.leakage, spec.policy.leakage
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


def _stability(spec: Spec, evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """Score PSI and characteristic CSI on the main holdout, and the stability verdict."""
    stability = evaluation.stability
    return [
        f"Score PSI and characteristic CSI against the training sample on training-decile bins (warn "
        f"{spec.policy.stability.warn}, alert {spec.policy.stability.alert}). Verdict `validation.stability`: "
        f"{_verdict(stability.passed, stability.reasons)}.",
        stability.tables[f"stability_{evaluation.main}"].head(12),
    ]


def _explanations(prepared: Prepared, evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """How reason codes are made, how far the fast path agrees with the exact one, and the reason texts."""
    spec, m = prepared.spec, evaluation.metrics
    return [
        f"Each declined applicant gets up to {MAX_REASONS} reasons: the characteristics whose XGBoost contributions "
        f"push the score most toward default, measured against the `{spec.policy.reason_baseline}` baseline "
        "applicant. `creditflow score` and the served model compute them by exact TreeSHAP, for declined "
        "applicants only (`--all-reasons` / `all_reasons` for everyone); the Saabas approximation is used only when "
        "asked (`--reasons approx` / `reason_method=approx`) and then prints its measured agreement. On "
        f"{int(m.get('reasons_fast_agreement_rows', 0))} declined holdout applicants it agreed with exact TreeSHAP "
        f"on the first reason for {m.get('reasons_fast_agreement_reason_1', float('nan')):.0%} and on the whole set "
        f"for {m.get('reasons_fast_agreement_top_k_set', float('nan')):.0%}.",
        _reason_table(prepared, evaluation),
    ]


def _limitations(prepared: Prepared, evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """The population the model was trained on, then every warning and fairness note the evaluation raised."""
    return [
        f"Trained on {prepared.data.source}; performance outside that population is unknown.",
        *(
            evaluation.notes
            + evaluation.stability.warnings
            + (evaluation.fairness.verdict.notes if evaluation.fairness else [])
        ),
    ]


def _monitoring_plan(spec: Spec) -> list[str | pd.DataFrame]:
    return [
        "Scheduled drift monitoring (`creditflow monitor`) is not configured in this spec yet; "
        f"stability limits that apply: PSI warn {spec.policy.stability.warn}, alert "
        f"{spec.policy.stability.alert}."
    ]


def _data_table(prepared: Prepared) -> pd.DataFrame:
    spec, checked = prepared.spec, prepared.checked
    period = "n/a (no time column)"
    if checked.time is not None:
        period = f"{checked.time.min():%Y-%m} to {checked.time.max():%Y-%m}"
    rows = [
        ("source", prepared.data.source),
        ("sha256", prepared.data.digest[:16] + "..."),
        ("applicants", f"{len(checked.target):,}"),
        ("period", period),
        ("target", _target(spec)),
        ("rows dropped (outcome neither positive nor negative)", _dropped(prepared.dropped)),
        ("bad rate", f"{checked.target.mean():.1%}"),
        ("split", f"{spec.split.method}: " + ", ".join(f"{k} {len(v):,}" for k, v in prepared.split.samples().items())),
        ("excluded from features", ", ".join([*spec.data.pii, *spec.data.sensitive_sources()]) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _target(spec: Spec) -> str:
    data = spec.data
    negative = ", ".join(map(str, data.negative)) if data.negative is not None else "every other value"
    return f"{data.target}: default = {', '.join(map(str, as_list(data.positive)))}; good payer = {negative}"


def _dropped(dropped: dict[str, int]) -> str:
    return ", ".join(f"{value} {n:,}" for value, n in dropped.items()) or "none"


def _performance_table(metrics: dict[str, float]) -> pd.DataFrame:
    """Each metric per sample, with its 95% interval where there is one."""
    samples = [s for s in ("valid", "test", "oot") if f"{s}_auc" in metrics]
    names = ["auc", "gini", "ks", "brier", "log_loss", "ece", "ece_floor", "citl", "bands_rejected"]
    rows = {}
    for n in names + ["bad_rate", "decline_rate"]:
        rows[n] = [_with_interval(metrics, f"{s}_{n}") for s in samples]
    rows["baseline auc"] = [_with_interval(metrics, f"baseline_{s}_auc") for s in samples]
    return pd.DataFrame(rows, index=samples).T.reset_index(names="metric")


def _with_interval(metrics: dict[str, float], key: str) -> str:
    value = metrics.get(key)
    if value is None or pd.isna(value):
        return ""
    low, high = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
    interval = "" if low is None or pd.isna(low) else f" ({low:.3f} to {high:.3f})"
    return f"{value:.3f}{interval}"


def _fairness(evaluation: Evaluation, rationale: str) -> list[str | pd.DataFrame]:
    if evaluation.fairness is None:
        return ["No sensitive attribute is declared: fairness cannot be shown; `validation.fairness` = failed."]
    fairness = evaluation.fairness
    gaps = pd.DataFrame(
        [
            {"grouping": g.name, **{k: g.disparity.get(k) for k in ("air", "dp_difference", "eo_difference")}}
            for g in fairness.groupings.values()
        ]
    )
    proxies = evaluation.proxies[evaluation.proxies["proxy"]]
    return [
        f"Policy: {rationale}",
        f"Verdict `validation.fairness`: {_verdict(fairness.verdict.passed, fairness.verdict.reasons)}.",
        gaps,
        "Proxy candidates: "
        + (
            ", ".join(f"{r.feature} for {r.attribute} (AUC {r.auc:.2f})" for r in proxies.itertuples())
            or "none above the threshold"
        )
        + ". Full report: `fairness/report.html`.",
    ] + _challenger(evaluation)


def _challenger(evaluation: Evaluation) -> list[str | pd.DataFrame]:
    report = evaluation.challenger
    if report is None:
        return []
    about = report.challenger.describe()
    return [
        f"Less-discriminatory alternative: fairlearn ExponentiatedGradient over XGBoost under "
        f"{about['constraint']} (bound {about['difference_bound']}) for {', '.join(about['attributes'])}, "
        f"a mixture of {about['predictors_in_mixture']} predictors; {about['decision']}. "
        "It is evidence for the reviewer, not the registered model:",
        report.comparison,
    ]


def _reason_table(prepared: Prepared, evaluation: Evaluation) -> pd.DataFrame:
    texts = prepared.spec.reasons
    table = evaluation.tables["importance"].copy()
    table["reason text"] = [texts.get(f, DEFAULT_REASON_TEXT.format(field=f)) for f in table["feature"]]
    return table


def _verdict(passed: bool, reasons: list[str]) -> str:
    return "passed" if passed else "failed (" + "; ".join(reasons) + ")"


def to_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for heading, items in sections:
        lines += [f"## {heading}", ""]
        for item in items:
            lines += [_markdown_table(item) if isinstance(item, pd.DataFrame) else item, ""]
    return "\n".join(lines)


def to_html(title: str, sections: list[Section]) -> str:
    body = []
    for heading, items in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body += [
            item.to_html(index=False, float_format=_fmt, na_rep="")
            if isinstance(item, pd.DataFrame)
            else f"<p>{html.escape(item)}</p>"
            for item in items
        ]
    return html_page(title, body)


def _markdown_table(frame: pd.DataFrame) -> str:
    cells = [
        [_fmt(v) if isinstance(v, float) else ("" if v is None else str(v)) for v in row]
        for row in frame.itertuples(index=False)
    ]
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    return "\n".join([header, rule] + ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells])


def _fmt(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def with_approvals(card: str, reviews: list, as_html: bool) -> str:
    """The card with its (last) Approvals section replaced by every review decision, oldest first.

    `reviews` are audit records (pipelines.gates.promotion.AuditRecord) of action "review".
    """
    rows = pd.DataFrame(
        [
            {
                "time (UTC)": r.time,
                "reviewer": r.actor,
                "decision and comment": r.reason,
                "evidence digest": r.evidence[:16],
            }
            for r in reviews
        ],
        columns=["time (UTC)", "reviewer", "decision and comment", "evidence digest"],
    )
    intro = (
        "Decisions recorded by `creditflow review` (the current decision is the last one and the version's "
        "`approval.*` tags). Promotion also requires the reviewer to differ from the author and the evidence "
        "to match the digest."
    )
    if as_html:
        head = card.rsplit("<h2>Approvals</h2>", 1)[0]
        return (
            f"{head}<h2>Approvals</h2><p>{html.escape(intro)}</p>{rows.to_html(index=False, na_rep='')}</body></html>"
        )
    head = card.rsplit("## Approvals", 1)[0]
    return f"{head}## Approvals\n\n{intro}\n\n{_markdown_table(rows)}\n"
