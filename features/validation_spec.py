"""Limits of the calibration check, the leakage screen and the data-design gate (`policy.calibration`,
`policy.leakage`, `policy.data_design`); the checks of reason texts and reviewed-feature reasons are in
`features/spec_rules.py`.

Names follow one convention so that a governed policy can tell a tighter value from a looser one by
the key alone: `min_*` is stricter when higher, `max_*` stricter when lower. A value exactly at a limit passes.
"""

from __future__ import annotations

from pydantic import Field

from features.fairness_spec import Strict


class CalibrationPolicy(Strict):
    """Calibration judged on each holdout (test, out-of-time) in `validation.performance`.

    Tests of observed against expected defaults are Jeffreys tests (the Beta(d + 1/2, n - d + 1/2) posterior
    of the default rate, two-sided), as used in PD back-testing: they account for the noise of small samples.
    """

    max_ece: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="expected calibration error over 10 equal-count score bands; judged only when the holdout "
        "is large enough that a perfectly calibrated model would stay under half of it",
    )
    max_citl_gap: float = Field(
        default=0.20,
        gt=0,
        description="calibration-in-the-large: |mean PD / observed default rate - 1|, judged when also significant",
    )
    min_p_value: float = Field(
        default=0.01, ge=0, lt=1, description="a Jeffreys test below this p-value rejects the PDs"
    )
    max_failed_bands: int = Field(default=1, ge=0, description="score bands whose Jeffreys test may reject")


# Words (and word pairs) that describe what happens to a loan after it is granted: repayments, arrears, collections,
# recoveries, write-offs. Lending-Club-style abbreviations included (`total_pymnt`, `total_rec_prncp`).
POST_DECISION_TERMS = (
    "paid", "repaid", "pymnt", "payoff", "prncp", "recoveries", "recovery", "recovered", "collection", "collections",
    "arrears", "late fee", "late fees", "charge off", "charged off", "chargeoff", "write off", "written off",
    "settlement", "hardship",
)  # fmt: skip


class LeakagePolicy(Strict):
    """Limits of the leakage screen; every limit lies in (0.5, 1] (the contribution share in [0.5, 1]: "most")."""

    max_single_feature_auc: float = Field(
        default=0.85, gt=0.5, le=1, description="a feature that alone ranks defaults this well is suspect"
    )
    max_contribution_share: float = Field(
        default=0.50,
        ge=0.5,
        le=1,
        description="share of the model's total |contribution| carried by one feature (most: at least half)",
    )
    max_within_class_share: float = Field(
        default=0.99,
        gt=0.5,
        le=1,
        description="a feature whose commonest value covers more than this share of one outcome class (and under "
        "half of the other) is suspect: e.g. a field filled in only after a default",
    )
    max_incremental_auc: float = Field(
        default=0.05,
        gt=0,
        le=0.5,
        description="a feature that adds this much cross-validated AUC to all the other features together knows "
        "more than an application can (a repayment or servicing field): judged for the strongest features, "
        "whatever the logistic baseline uses",
    )
    require_available_at: bool = Field(
        default=False,
        description="every feature must be declared `available_at: application` in the spec's data dictionary "
        "(features.available_at)",
    )
    post_decision_terms: list[str] = Field(
        default=list(POST_DECISION_TERMS),
        description="words of a feature's name or reason text that describe an event after the decision "
        "(repayment, arrears, collections, recoveries); such a feature is a finding unless features.reviewed "
        "explains it",
    )


class DataDesignPolicy(Strict):
    """Limits of the data-design gate (`validation.data_design`): how the rows were collected and split, judged
    before any model is trusted. A duplicated row or a file number among the features makes a holdout look better
    than the book will; a random split of dated applications judges the model on months it was trained on."""

    max_duplicate_share: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="share of training rows that repeat an earlier training row's features, and of holdout rows "
        "whose features appear among the training rows",
    )
    max_near_duplicate_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="share of training rows that nearly repeat another training row (numbers rounded to two "
        "significant digits, or equal in all features but one), and of holdout rows that nearly repeat a training row",
    )
    max_distinct_share: float = Field(
        default=0.99,
        gt=0.5,
        le=1,
        description="a whole-number or text feature with at least this share of distinct values is a row identifier",
    )
    max_order_correlation: float = Field(
        default=0.95,
        gt=0.5,
        le=1,
        description="a numeric feature whose rank correlation with row order or with data.time reaches this is a "
        "row identifier (a file or sequence number)",
    )
    require_out_of_time: bool = Field(
        default=False,
        description="a spec that declares data.time must split out of time (the lender judges models on later "
        "months); a random split of dated rows then fails the gate",
    )
