"""The leakage screen: features that know the outcome, found before training and confirmed after it.

Post-decision fields (spend after approval, amounts repaid after origination, a field filled in only once a
loan defaults) make a model look excellent and decide on information no applicant has. Five checks:

* on the spec: a feature whose name or reason text uses a word of the policy's `post_decision_terms` ("Principal
  paid", `total_rec_late_fee`, `recoveries`): it describes the loan after the decision, whatever its numbers say;

* before training, on the data: a feature that alone ranks defaults above `max_single_feature_auc`
  (out of sample: categories' default rates are learnt on training rows and scored on validation rows),
  and a feature whose commonest value covers at least `max_within_class_share` of one outcome class but under
  half of the other (a field that is, say, always empty for good payers), and a feature that adds more than
  `max_incremental_auc` to all the others together, cross-validated (pipelines/gates/leakage_cv.py): a repayment
  field of moderate signal that the logistic baseline uses too;
* after training, on the model: one feature carrying more than `max_contribution_share` of the model's total
  |contribution|, and the boosted model beating the logistic baseline by more than `max_baseline_uplift` AUC
  (the suspect is then the feature the model leans on most).

Each finding fails `validation.performance` unless the spec acknowledges the feature in `features.reviewed`
with a reason, which the model card shows. Pure: frames in, findings out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.validation_spec import LeakagePolicy

SAMPLE_ROWS = 50_000  # rows per check: enough to see a leak, cheap at a million rows
OTHER_CLASS_SHARE = 0.5  # the within-class value must cover under half of the other class
CHECKS = {
    "single_feature_auc": "alone ranks defaults with AUC {value:.3f} (limit {limit:.2f})",
    "within_class_share": "{detail} (limit {limit:.2f})",
    "contribution_share": "carries {value:.0%} of the model's total contribution (limit {limit:.0%})",
    "baseline_uplift": "{detail}",
    "post_decision_name": "{detail}",
    "incremental_auc": "adds {detail} AUC to all the other features together, cross-validated (limit {limit:.2f}): "
    "more than an application field can know",
}


@dataclass(frozen=True)
class Finding:
    feature: str
    check: str  # a key of CHECKS
    value: float
    limit: float
    detail: str = ""
    reviewed: str | None = None  # the spec's reason, when `features.reviewed` acknowledges the feature

    def sentence(self) -> str:
        text = CHECKS[self.check].format(value=self.value, limit=self.limit, detail=self.detail)
        return f"'{self.feature}' {text}"


@dataclass
class LeakageResult:
    findings: list[Finding] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # per feature: single-feature AUC, within-class share

    @property
    def passed(self) -> bool:
        return not self.reasons()

    def reasons(self) -> list[str]:
        """Unacknowledged findings: each fails `validation.performance`."""
        return [
            f"leakage: {f.sentence()}; acknowledge it in features.reviewed if it is known at application time"
            for f in self.findings
            if f.reviewed is None
        ]

    def acknowledged(self) -> list[str]:
        return [f"leakage (reviewed): {f.sentence()}; reviewed: {f.reviewed}" for f in self.findings if f.reviewed]

    def metrics(self) -> dict[str, float]:
        out = {
            "leakage.findings": float(len(self.findings)),
            "leakage.unreviewed": float(sum(f.reviewed is None for f in self.findings)),
        }
        if not self.table.empty:
            out["leakage.max_single_feature_auc"] = float(self.table["single_feature_auc"].max())
        return out

    def findings_table(self) -> pd.DataFrame:
        columns = ["feature", "check", "value", "limit", "finding", "reviewed"]
        rows = [(f.feature, f.check, f.value, f.limit, f.sentence(), f.reviewed or "") for f in self.findings]
        return pd.DataFrame(rows, columns=columns)


def screen_data(
    train: pd.DataFrame,
    y_train: np.ndarray,
    valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    policy: LeakagePolicy,
    reviewed: dict[str, str],
    seed: int = 0,
    reasons: dict[str, str] | None = None,
) -> LeakageResult:
    """The checks that need no model: names and reason texts (`reasons`: feature -> text), single-feature AUC and
    within-class constancy, per feature."""
    findings = post_decision_names(list(train.columns), reasons or {}, policy.post_decision_terms)
    train, y_train = _sample(train, np.asarray(y_train), seed)
    valid, y_valid = _sample(valid, np.asarray(y_valid), seed)
    rows = []
    for name in train.columns:
        auc = single_feature_auc(train[name], y_train, valid[name], y_valid)
        share, detail = within_class_share(train[name], y_train)
        rows.append({"feature": name, "single_feature_auc": auc, "within_class_share": share})
        if auc > policy.max_single_feature_auc:
            findings.append(Finding(name, "single_feature_auc", auc, policy.max_single_feature_auc))
        if detail and share > policy.max_within_class_share:
            findings.append(Finding(name, "within_class_share", share, policy.max_within_class_share, detail))
    table = pd.DataFrame(rows, columns=["feature", "single_feature_auc", "within_class_share"])
    lost = _incremental(pd.concat([train, valid]), np.r_[y_train, y_valid], table, seed)
    table["incremental_auc"] = table["feature"].map({k: v[0] for k, v in lost.items()}).astype(float)
    table["incremental_auc_low"] = table["feature"].map({k: v[1] for k, v in lost.items()}).astype(float)
    for name, (value, low) in lost.items():
        if low > policy.max_incremental_auc:
            detail = f"{value:.3f} (one-sided 95% lower bound {low:.3f})"
            findings.append(Finding(name, "incremental_auc", value, policy.max_incremental_auc, detail))
    return LeakageResult(_acknowledge(findings, reviewed), table)


def _incremental(frame: pd.DataFrame, y: np.ndarray, table: pd.DataFrame, seed: int) -> dict[str, tuple[float, float]]:
    """Cross-validated AUC each of the strongest features adds, with its lower bound (pipelines/gates/leakage_cv.py)."""
    from pipelines.gates.leakage_cv import CANDIDATES, incremental_auc

    top = table.sort_values("single_feature_auc", ascending=False, kind="stable")["feature"].head(CANDIDATES)
    return incremental_auc(frame, y, list(top), seed=seed)


def screen_model(
    data: LeakageResult,
    importance: pd.DataFrame,
    *,
    uplift: float,
    max_uplift: float,
    policy: LeakagePolicy,
    reviewed: dict[str, str],
) -> LeakageResult:
    """The data screen plus the model's checks: `importance` holds feature and mean_abs_contribution;
    `uplift` is the boosted model's holdout AUC minus the logistic baseline's."""
    total = float(importance["mean_abs_contribution"].sum())
    ranked = importance.sort_values("mean_abs_contribution", ascending=False, kind="stable")
    findings = []
    if total > 0 and len(ranked):
        top, value = ranked["feature"].iloc[0], float(ranked["mean_abs_contribution"].iloc[0]) / total
        if value > policy.max_contribution_share:
            findings.append(Finding(top, "contribution_share", value, policy.max_contribution_share))
        if uplift > max_uplift + 1e-12:
            detail = (
                f"is the top feature of a model that beats the logistic baseline by {uplift:.3f} AUC "
                f"(limit {max_uplift:g})"
            )
            findings.append(Finding(top, "baseline_uplift", uplift, max_uplift, detail))
    return LeakageResult(data.findings + _acknowledge(findings, reviewed), data.table)


def post_decision_names(features: list[str], reasons: dict[str, str], terms: list[str]) -> list[Finding]:
    """A finding for each feature whose name or reason text contains a post-decision term as whole words
    (`late_fees_paid` and "Late fees paid" both contain `paid`; "unpaid" does not)."""
    wanted = [tuple(_words(term)) for term in terms if _words(term)]
    found = []
    for name in features:
        for label, text in (("name", name), ("reason text", reasons.get(name, ""))):
            words = _words(text)
            hit = next((" ".join(t) for t in wanted if _contains(words, t)), None)
            if hit:
                detail = (
                    f"has a {label} describing the loan after the decision ('{hit}' in '{text}'): not known at "
                    "application"
                )
                found.append(Finding(name, "post_decision_name", 1.0, 0.0, detail))
                break
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())


def _contains(words: list[str], term: tuple[str, ...]) -> bool:
    return any(tuple(words[i : i + len(term)]) == term for i in range(len(words) - len(term) + 1))


def single_feature_auc(train: pd.Series, y_train: np.ndarray, valid: pd.Series, y_valid: np.ndarray) -> float:
    """How well the feature alone ranks defaults on validation rows (max of AUC and 1 - AUC; 0.5 = no signal).

    Numeric: the value itself (missing as the training median). Categorical: each category's default rate on
    training rows (unseen or missing: the overall rate), so an id-like column cannot rank its own rows."""
    if len(np.unique(y_valid)) < 2:
        return 0.5
    if pd.api.types.is_numeric_dtype(train):
        fill = train.median() if train.notna().any() else 0.0
        score = valid.fillna(fill).to_numpy(dtype=float)
    else:
        rates = pd.Series(y_train, index=train.index).groupby(train.fillna("<missing>")).mean()
        score = valid.fillna("<missing>").map(rates).fillna(float(np.mean(y_train))).to_numpy(dtype=float)
    auc = float(roc_auc_score(y_valid, score))
    return max(auc, 1.0 - auc)


def within_class_share(values: pd.Series, y: np.ndarray) -> tuple[float, str]:
    """The largest share one value (missing counts as a value) takes within an outcome class, among values that
    cover under half of the other class; and a sentence saying which (empty when there is none).

    Values are counted by their codes (one factorize, then bincounts) rather than as strings; of values tied for
    the most frequent, the one whose text sorts first is taken."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    keys = np.array(["<missing>" if pd.isna(u) else str(u) for u in uniques], dtype=object)
    best, detail = 0.0, ""
    for cls, label, other_label in ((1, "defaulters", "good payers"), (0, "good payers", "defaulters")):
        inside, other = codes[y == cls], codes[y != cls]
        if not len(inside) or not len(other):
            continue
        counts = np.bincount(inside, minlength=len(keys))
        tied = np.flatnonzero(counts == counts.max())
        mode = tied[np.argmin(keys[tied])] if len(tied) > 1 else tied[0]
        share, other_share = counts[mode] / len(inside), float(np.mean(other == mode))
        if other_share < OTHER_CLASS_SHARE and share > best:
            best = float(share)
            detail = f"is '{keys[mode]}' for {share:.1%} of {label} but only {other_share:.1%} of {other_label}"
    return best, detail


def _acknowledge(findings: list[Finding], reviewed: dict[str, str]) -> list[Finding]:
    return [replace(f, reviewed=reviewed.get(f.feature)) for f in findings]


def _sample(frame: pd.DataFrame, y: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    if len(frame) <= SAMPLE_ROWS:
        return frame, y
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), SAMPLE_ROWS, replace=False))
    return frame.iloc[rows], y[rows]
