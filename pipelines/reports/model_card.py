"""The model card: what a reviewer who did not build the model needs to understand and sign it off.

Built from the spec, the prepared data and the evaluation (pure: values in, Markdown and HTML out)
and logged with every registered version; the approvals section is filled in by the review step.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from features.spec import Spec
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
        "Intended use: estimating the probability that an applicant defaults (`"
        f"{spec.data.target}` = `{spec.data.positive}`), and declining applications at or above the policy "
        f"cutoff {spec.policy.cutoff}. Not for pricing, collections or any population unlike the data below.",
    ]


def _performance(evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """How the booster compares with the logistic benchmark per sample, and the performance verdict."""
    return [
        f"XGBoost against an untuned logistic-regression benchmark on the same split; AUC intervals are "
        f"95% percentile bootstrap intervals (200 resamples of at most 20,000 rows). Verdict "
        f"`validation.performance`: {_verdict(evaluation.passed, evaluation.reasons)}.",
        _performance_table(evaluation.metrics),
    ]


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
        f"Each applicant gets up to {MAX_REASONS} reasons: the characteristics whose XGBoost contributions "
        f"(exact "
        f"TreeSHAP) push the score most toward default, measured against the `{spec.policy.reason_baseline}` "
        f"baseline applicant. The fast batch path (Saabas) agreed on the first reason for "
        f"{m.get('reasons_fast_agreement_reason_1', float('nan')):.0%} and on the whole set for "
        f"{m.get('reasons_fast_agreement_top_k_set', float('nan')):.0%} of sampled applicants.",
        _reason_table(prepared, evaluation),
    ]


def _limitations(prepared: Prepared, evaluation: Evaluation) -> list[str | pd.DataFrame]:
    """The population the model was trained on, then every warning and fairness note the evaluation raised."""
    return [
        f"Trained on {prepared.data.source}; performance outside that population is unknown.",
        *(
            evaluation.warnings
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
        ("target", f"{spec.data.target} = {spec.data.positive} (default)"),
        ("bad rate", f"{checked.target.mean():.1%}"),
        ("split", f"{spec.split.method}: " + ", ".join(f"{k} {len(v):,}" for k, v in prepared.split.samples().items())),
        ("excluded from features", ", ".join([*spec.data.pii, *spec.data.sensitive_sources()]) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _performance_table(metrics: dict[str, float]) -> pd.DataFrame:
    samples = [s for s in ("valid", "test", "oot") if f"{s}_auc" in metrics]
    names = ["auc", "gini", "ks", "brier", "log_loss", "ece", "bad_rate"]
    table = pd.DataFrame({s: [metrics.get(f"{s}_{n}") for n in names] for s in samples}, index=names)
    table.loc["auc 95% low"] = [metrics.get(f"{s}_auc_low") for s in samples]
    table.loc["auc 95% high"] = [metrics.get(f"{s}_auc_high") for s in samples]
    table.loc["baseline auc"] = [metrics.get(f"baseline_{s}_auc") for s in samples]
    return table.reset_index(names="metric")


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
