"""The context of a version's card: who made it from what, how it was trained, what it cannot do, how it is watched.

Pure, like `card_evidence.py`: the spec, the prepared data and the evaluation in, paragraphs and tables out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from features.spec import Spec
from features.target import as_list
from pipelines.core.records import VersionInfo
from pipelines.core.tags import DATA_DIGEST
from pipelines.gates.performance_gate import HOLDOUTS
from pipelines.reports import card_evidence as ev
from pipelines.reports.card_evidence import Item
from pipelines.reports.formats import number, percent
from pipelines.training.evaluation import Evaluation
from pipelines.training.workflow import Prepared

SMALL_SAMPLE, FEW_DEFAULTS = 1_000, 100  # below either, a holdout's intervals are wide


@dataclass(frozen=True)
class CardIdentity:
    model_name: str
    version: str
    run_id: str
    git_commit: str
    data_digest: str
    hyperparameters: dict[str, object] = field(default_factory=dict)
    earlier_candidates: int | None = None  # earlier versions of this model on the same data (None: not counted)


def earlier_candidates(versions: list[VersionInfo], version: str, data_digest: str) -> int:
    """Versions of the same model registered before `version` from the same data (`lineage.data_digest`): how many
    candidates the author tried on this data before this one (seed shopping shows as a count)."""
    return sum(
        1
        for v in versions
        if v.version.isdigit()
        and version.isdigit()
        and int(v.version) < int(version)
        and v.tags.get(DATA_DIGEST) == data_digest
    )


def candidates_line(identity: CardIdentity) -> str | None:
    """How many candidates were tried on this data before this one: the reviewer's guard against seed shopping
    (a model that passed on its fourth split seed)."""
    n = identity.earlier_candidates
    if n is None:
        return None
    if n == 0:
        return "No earlier candidates on this data (first version of this model registered from this data digest)."
    return (
        f"{n} earlier candidate{'s' if n != 1 else ''} on this data (versions of `{identity.model_name}` registered "
        "from the same data digest): a verdict that passed after several tries may owe its pass to the split."
    )


def identity_items(identity: CardIdentity, spec: Spec) -> list[Item]:
    return [
        f"Registered model `{identity.model_name}` version {identity.version}, trained in MLflow run "
        f"`{identity.run_id}` from commit `{identity.git_commit}`.",
        f"Intended use: estimating the probability that an applicant defaults (`{spec.data.target}` in "
        f"{', '.join(map(str, as_list(spec.data.positive)))}), and declining applications at or above the policy "
        f"cutoff {spec.policy.cutoff:g}. Not for pricing, collections or any population unlike the data below.",
    ]


def lineage_table(identity: CardIdentity, prepared: Prepared) -> pd.DataFrame:
    spec, checked = prepared.spec, prepared.checked
    period = "n/a (no time column)"
    if checked.time is not None:
        period = f"{checked.time.min():%Y-%m} to {checked.time.max():%Y-%m}"
    governing = spec.governing
    rows = [
        ("source", prepared.data.source),
        ("data sha256", identity.data_digest),
        ("spec", f"{prepared.spec_path.name} (sha256 {prepared.spec_digest})"),
        ("policy", f"{governing.label}, from {governing.origin} (sha256 {governing.digest})" if governing else "none"),
        ("code", identity.git_commit),
        ("training run", identity.run_id),
        ("applicants", number(len(checked.target))),
        ("period", period),
        ("target", _target(spec)),
        ("rows dropped (outcome neither positive nor negative)", _dropped(prepared.dropped)),
        ("bad rate", percent(float(checked.target.mean()))),
        ("split", f"{spec.split.method}: " + ", ".join(f"{k} {len(v):,}" for k, v in prepared.split.samples().items())),
        ("never features", ", ".join([*spec.data.pii, *spec.data.sensitive_sources()]) or "none"),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _target(spec: Spec) -> str:
    data = spec.data
    negative = ", ".join(map(str, data.negative)) if data.negative is not None else "every other value"
    return f"{data.target}: default = {', '.join(map(str, as_list(data.positive)))}; good payer = {negative}"


def _dropped(dropped: dict[str, int]) -> str:
    return ", ".join(f"{value} {n:,}" for value, n in dropped.items()) or "none"


def hyperparameter_table(identity: CardIdentity, spec: Spec, evaluation: Evaluation) -> pd.DataFrame:
    rows = [(k, v) for k, v in identity.hyperparameters.items()]
    rows += [
        ("trees (early stopping)", int(evaluation.metrics["best_iteration"])),
        (
            "tuning",
            f"spec: {spec.tuning.trials} Optuna trials on validation {spec.tuning.metric} "
            "(the values above are the trained ones)"
            if spec.tuning.trials
            else "none: the spec's parameters",
        ),
        ("monotone constraints", ", ".join(f"{k}: {v}" for k, v in spec.features.monotone.items()) or "none"),
        ("seed", spec.tuning.seed),
    ]
    return pd.DataFrame(rows, columns=["parameter", "value"])


def limitations(prepared: Prepared, evaluation: Evaluation) -> list[Item]:
    """Derived from the evidence: small holdouts, groups not judged, features without reason text, warnings."""
    m, spec = evaluation.metrics, prepared.spec
    found: list[Item] = [f"Trained on {prepared.data.source}; performance outside that population is unknown."]
    for sample in (s for s in HOLDOUTS if f"{s}_n" in m):
        n, bads = int(m[f"{sample}_n"]), round(m[f"{sample}_n"] * m[f"{sample}_bad_rate"])
        if n < SMALL_SAMPLE or bads < FEW_DEFAULTS:
            found.append(
                f"Small {sample} sample: {n:,} applicants, {bads:,} defaults. Its AUC interval spans "
                f"{ev.interval(m, f'{sample}_auc')}; differences narrower than that are noise."
            )
    fairness = ev.fairness_result(evaluation)
    if fairness is None:
        found.append("Fairness not assessed: no sensitive attribute declared.")
    else:
        found += [r for r in fairness.verdict.reasons if "cannot judge" in r]
        found += [n for n in fairness.verdict.notes if "not judged" in n or "undefined" in n]
    missing = [f for f in spec.features.all() if f not in spec.reasons]
    if missing:
        found.append(
            f"{len(missing)} of {len(spec.features.all())} features have no reason text; an applicant declined on "
            f"them reads '<feature>: value increased the estimated risk': {', '.join(missing)}."
        )
    gate_notes = [n for r in evaluation.results if r.name != "fairness" for n in r.notes]  # fairness's: above
    return found + evaluation.notes + gate_notes


def monitoring_plan(spec: Spec, training_rows: int) -> list[Item]:
    mon = spec.monitoring
    quality, outcomes = mon.quality, mon.outcomes
    rows = [
        ("schedule", f"one window per {mon.schedule.window}; cron {mon.schedule.cron}"),
        ("command", f"creditflow monitor {spec.name} --current PATH (exit 1 on alert)"),
        (
            "input drift",
            f"numeric: {mon.drift.numeric}, categorical: {mon.drift.categorical}; "
            f"PSI warn {mon.psi.warn:g}, alert {mon.psi.alert:g}",
        ),
        ("column methods", ", ".join(f"{k}: {v}" for k, v in mon.drift.columns.items()) or "none beyond the defaults"),
        ("score drift", f"PSI warn {mon.score.warn:g}, alert {mon.score.alert:g}"),
        (
            "data quality",
            f"missing share +{quality.max_missing_increase:g}, new categories {quality.max_new_category_share:g}, "
            f"out of range {quality.max_out_of_range_share:g}",
        ),
        (
            "outcomes (when labels arrive)",
            f"AUC drop warn {outcomes.auc_drop_warn:g} / alert {outcomes.auc_drop_alert:g}; KS drop warn "
            f"{outcomes.ks_drop_warn:g} / alert {outcomes.ks_drop_alert:g}; "
            f"at least {outcomes.min_rows:,} labelled rows",
        ),
        (
            "outcome fairness",
            f"the policy's fairness limits on each labelled window ({outcomes.fairness} when broken)",
        ),
        (
            "reference",
            f"{min(mon.reference_rows, training_rows):,} training rows stored with the version (a seeded sample of "
            f"at most monitoring.reference_rows = {mon.reference_rows:,}; no PII, no ids)",
        ),
        ("exceptions", "a window warns while an accepted exception of the version has expired"),
    ]
    return [
        "From the spec's `monitoring` section (`creditflow monitor`; see the documentation's monitoring guide):",
        pd.DataFrame(rows, columns=["what", "plan"]),
    ]
