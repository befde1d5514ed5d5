"""Synthetic consumer-loan book generator.

Why: the platform needs realistic, reproducible data for developing and testing
models, fairness checks and drift monitoring without touching real customer
data. Everything is vectorised numpy driven by ``np.random.default_rng(seed)``
(one spawned child stream per variable), so a seed always gives the same frame
and 1M rows take a few seconds.

The default target comes from a known logistic model (see ``_default_logit``),
so tests can check directions of effects, the injected gender bias and drift.
Pure functions only: no I/O and no side effects at import. The options and drift scenarios live in
`features/synthetic_options.py` (re-exported here), ids and fake PII in `features/synthetic_pii.py`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synthetic_options import SCENARIOS, BookOptions, scenario_options, validate_options
from features.synthetic_pii import applicant_ids, fake_pii

__all__ = ["BookOptions", "SCENARIOS", "generate_book", "scenario_options"]  # options re-exported

_GENDERS = np.array(["F", "M"], dtype=object)
_REGIONS = np.array(["north", "south", "east", "west", "central", "coastal"], dtype=object)
_CHANNELS = np.array(["branch", "online", "broker"], dtype=object)
_HOMES = np.array(["rent", "mortgage", "own"], dtype=object)
_PURPOSES = np.array(["debt_consolidation", "car", "home_improvement", "credit_card", "medical", "other"], dtype=object)
_TERMS = np.array([12, 24, 36, 48, 60], dtype=np.int64)

_REGION_P = np.array([0.20, 0.20, 0.15, 0.15, 0.18, 0.12])
_REGION_LOGINC = np.array([-0.08, 0.12, 0.0, -0.04, 0.10, -0.10])
# Channel shares differ by gender: channel is the mild gender proxy through which
# a model can pick up `bias`. Rows: F, M. Columns: branch, online, broker.
_CHANNEL_P = np.array([[0.48, 0.34, 0.18], [0.34, 0.42, 0.24]])
_CHANNEL_RISKY_P = np.array([0.0, 0.6, 0.4])  # where drift_mix moves the share to
_PURPOSE_P = np.array([0.34, 0.16, 0.12, 0.18, 0.05, 0.15])
# Logit effects (moderate) per category, same order as the arrays above.
_PURPOSE_LOGIT = np.array([0.20, -0.20, -0.15, 0.10, 0.30, 0.15])
_HOME_LOGIT = np.array([0.20, 0.0, -0.15])
_CHANNEL_LOGIT = np.array([0.0, 0.15, 0.35])
# Default-logit slopes: positive raises risk, negative lowers it.
# The features entering the default log-odds linearly (also what an underwriter sees: features/overrides.py).
_LINEAR = ("debt_to_income", "revolving_utilisation", "delinquencies_2y", "inquiries_6m", "credit_history_months")
_COEF = {
    "debt_to_income": 3.0,
    "revolving_utilisation": 2.2,
    "delinquencies_2y": 0.7,
    "inquiries_6m": 0.3,
    "log_income": -0.8,
    "log1p_employment_years": -0.4,
    "credit_history_months": -0.004,
    "unobserved": 0.7,
}
# Calibrated so the default rate is ~10% with no drift and no bias.
_INTERCEPT = -3.92
_MEDIAN_INCOME = 35_000.0


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Sample one category index per row from per-row probabilities (n, k)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _default_logit(f: dict[str, np.ndarray], u: np.ndarray, female: np.ndarray, bias: float) -> np.ndarray:
    """True default log-odds (see ``_COEF``). ``u`` is an unobserved factor that
    keeps achievable AUC realistic. Gender enters only via ``bias``."""
    c = _COEF
    linear = sum(c[k] * f[k] for k in _LINEAR)
    return (
        _INTERCEPT
        + linear
        + c["log_income"] * np.log(f["income"] / _MEDIAN_INCOME)
        + c["log1p_employment_years"] * np.log1p(f["employment_years"])
        + _PURPOSE_LOGIT[f["purpose"]]
        + _HOME_LOGIT[f["home"]]
        + _CHANNEL_LOGIT[f["channel"]]
        + c["unobserved"] * u
        + bias * female
    )


# One independent child stream per variable, in this order: changing one option (e.g. drift_mix)
# never shifts the random draws of unrelated variables, so books are paired.
_STREAMS = (
    "gender channel age region emp home income purpose loan term u dti util hist open delinq inq default missing pii"
    " leak design post"  # appended last: spawned children are numbered, so the streams before it are unchanged
)


def generate_book(options: BookOptions) -> pd.DataFrame:
    """Generate a synthetic loan book, deterministic for ``options.seed``.

    Rows are in application order (ids ascend with ``application_month``);
    months are filled evenly, so every month appears whenever rows >= months.
    Built in steps: applicants, their loans, their credit history, then the default outcome.
    """
    validate_options(options)
    o, n = options, options.rows
    names = _STREAMS.split()
    r = dict(zip(names, np.random.default_rng(o.seed).spawn(len(names))))
    month = np.arange(n, dtype=np.int64) * o.months // n
    t = month / (o.months - 1) if o.months > 1 else np.zeros(n)  # 0 -> 1 drift ramp
    v = _applicants(r, n, o, t)
    v.update(_loans(r, v))
    v.update(_credit_history(r, v, o.drift_utilisation * t))
    v["default"] = _outcome(r, v, o.bias, o.calibration_drift * t)
    frame = _frame(r, v, month, o.start_month)
    if o.leak:
        frame.insert(frame.columns.get_loc("default_12m"), LEAK_COLUMN, _arrears(r["leak"], v["default"]))
    if o.post_decision:
        for name, values in _repayments(r["post"], frame["loan_amount"].to_numpy(), v["default"]).items():
            frame.insert(frame.columns.get_loc("default_12m"), name, values)
    if o.proxy_of:
        name, values = _stand_in(frame, o.proxy_of, int(o.start_month[:4]))
        frame.insert(frame.columns.get_loc("default_12m"), name, values)
    return _design_flaws(frame, r["design"], o)


def _stand_in(frame: pd.DataFrame, attribute: str, year: int) -> tuple[str, np.ndarray]:
    """A column that is a sensitive attribute under another name: the salutation for gender, the birth year for age.
    Neither name matches a prohibited pattern; only the data shows what it is."""
    if attribute == "gender":
        return "salutation", np.where(frame["gender"].to_numpy() == "F", "Ms", "Mr").astype(object)
    return "birth_year", (year - frame["age"].to_numpy()).astype(np.int64)


def _repayments(rng: np.random.Generator, amount: np.ndarray, default: np.ndarray) -> dict[str, np.ndarray]:
    """What a servicing extract adds: principal repaid so far and late fees paid, recorded after the loan was granted.
    Each ranks defaults only moderately (AUC about 0.8 and 0.6), under the leakage screen's single-feature limit,
    the way Lending Club's `total_rec_prncp` and `total_rec_late_fee` do."""
    n = len(amount)
    share = np.where(default == 1, rng.beta(2.0, 3.0, n), rng.beta(3.0, 1.5, n))
    late = rng.random(n) < np.where(default == 1, 0.30, 0.08)
    return {
        "principal_paid": np.round(amount * share, 2),
        "late_fees_paid": np.where(late, np.round(rng.gamma(2.0, 15.0, n), 2), 0.0),
    }


LEAK_COLUMN = "months_in_arrears_12m"
ID_COLUMN = "file_number"
ID_SHIFT = 0.4  # a defaulter's file sorts this far later on a unit scale: P(later than a good payer's) = 0.82


def _design_flaws(frame: pd.DataFrame, rng: np.random.Generator, o: BookOptions) -> pd.DataFrame:
    """The data-design flaws a careless extract has: a file number assigned as outcomes came in (defaulters' files
    renumbered later, so the number ranks defaults with AUC about 0.82: under the leakage screen's 0.85), and rows
    appended again as exact copies."""
    if o.id_column:
        order = np.argsort(rng.random(len(frame)) + ID_SHIFT * frame["default_12m"].to_numpy(), kind="stable")
        numbers = np.empty(len(frame), dtype=np.int64)
        numbers[order] = 100_000 + np.arange(len(frame))
        frame.insert(frame.columns.get_loc("default_12m"), ID_COLUMN, numbers)
    copies = int(round(o.duplicate * len(frame)))
    if copies:
        again = np.sort(rng.choice(len(frame), copies, replace=False))
        frame = pd.concat([frame, frame.iloc[again]], ignore_index=True)
    return frame


def _arrears(rng: np.random.Generator, default: np.ndarray) -> np.ndarray:
    """Months in arrears in the 12 months after origination: known only once the outcome is. A default is 2+ months
    in arrears; most good payers never miss a payment, a few catch up after one or two."""
    n = len(default)
    cured = np.where(rng.random(n) < 0.06, rng.integers(1, 4, n), 0)
    return np.where(default == 1, np.minimum(2 + rng.poisson(2.5, n), 12), cured).astype(np.int64)


def _applicants(r: dict[str, np.random.Generator], n: int, o: BookOptions, t: np.ndarray) -> dict[str, np.ndarray]:
    """Who applies: gender, channel, age, region, employment, home and income (drift_mix and drift_income here)."""
    mix = o.drift_mix * t
    female = r["gender"].random(n) < 0.5
    channel_p = _CHANNEL_P[np.where(female, 0, 1)]
    channel = _pick(r["channel"], (1 - mix)[:, None] * channel_p + mix[:, None] * _CHANNEL_RISKY_P)
    young = r["age"].random(n) < 0.12 + 0.5 * mix
    age_raw = np.where(young, 18 + r["age"].gamma(2.0, 4.5, n), 18 + r["age"].gamma(2.6, 8.5, n))
    age = np.clip(np.floor(age_raw), 18, 85).astype(np.int64)
    a = (age - 18) / 10.0
    region = r["region"].choice(len(_REGIONS), size=n, p=_REGION_P)

    emp = np.minimum(
        (age - 18) * r["emp"].beta(1.5, 2.5, n) + r["emp"].exponential(0.6, n), np.minimum(age - 16.0, 50.0)
    )
    emp = np.round(emp, 1)
    home = _pick(r["home"], np.exp(np.column_stack([1.2 - 0.6 * a, 0.7 * a - 0.12 * a * a, -2.0 + 0.5 * a])))
    log_income = (
        np.log(_MEDIAN_INCOME)
        - 0.52
        + 0.35 * a
        - 0.06 * a * a
        + 0.02 * np.minimum(emp, 25)
        + _REGION_LOGINC[region]
        + r["income"].normal(0.0, 0.45, n)
    )
    base_income = np.exp(log_income)
    income = np.round(base_income * (1 + o.drift_income * t), 2)
    return {
        "female": female,
        "channel": channel,
        "young": young,
        "age": age,
        "region": region,
        "emp": emp,
        "home": home,
        "base_income": base_income,
        "income": income,
    }


def _loans(r: dict[str, np.random.Generator], v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What they borrow: purpose, an amount scaled to their (undrifted) income, and a term that grows with it."""
    n = len(v["age"])
    purpose = r["purpose"].choice(len(_PURPOSES), size=n, p=_PURPOSE_P)
    loan_amount = np.round(
        np.clip(v["base_income"] * np.exp(r["loan"].normal(np.log(0.22), 0.5, n)), 1_000, 50_000), -2
    )
    term_idx = np.floor(np.log(loan_amount / 1_000) / np.log(50) * 5 + r["term"].normal(0, 1, n))
    term = _TERMS[np.clip(term_idx, 0, 4).astype(np.int64)]
    return {"purpose": purpose, "loan_amount": loan_amount, "term": term}


def _credit_history(
    r: dict[str, np.random.Generator], v: dict[str, np.ndarray], util_drift: np.ndarray
) -> dict[str, np.ndarray]:
    """Bureau-style variables: debt-to-income, utilisation (drift_utilisation here), history, accounts, arrears."""
    n, age, base_income = len(v["age"]), v["age"], v["base_income"]
    dti = r["dti"].gamma(2.0, 0.09, n) + v["loan_amount"] * 1.08 / (v["term"] / 12) / v["income"]
    dti = np.round(np.clip(dti, 0, 1.5), 4)
    util = r["util"].beta(1.3, 2.2, n) * 1.1 - 0.08 * np.log(base_income / _MEDIAN_INCOME) + util_drift
    util = np.round(np.clip(util, 0, 1.5), 4)
    history = np.floor((age - 18) * 12 * r["hist"].beta(3.0, 1.5, n)).astype(np.int64)
    open_acc = r["open"].poisson(1.5 + history / 48).astype(np.int64)
    delinq = r["delinq"].poisson(0.14 * (base_income / _MEDIAN_INCOME) ** -0.4).astype(np.int64)
    inquiries = r["inq"].poisson(0.6 + 0.35 * (v["channel"] > 0) + 0.3 * v["young"]).astype(np.int64)
    return {
        "dti": dti,
        "util": util,
        "history": history,
        "open_acc": open_acc,
        "delinq": delinq,
        "inquiries": inquiries,
    }


def _outcome(
    r: dict[str, np.random.Generator], v: dict[str, np.ndarray], bias: float, shift: np.ndarray | float = 0.0
) -> np.ndarray:
    """Default within 12 months (0/1), drawn from the known logistic model of ``_default_logit`` (plus ``shift``,
    the calibration drift of the loan's month: the same applicants default more than they did)."""
    feats = {
        "debt_to_income": v["dti"],
        "revolving_utilisation": v["util"],
        "delinquencies_2y": v["delinq"],
        "inquiries_6m": v["inquiries"],
        "income": v["income"],
        "employment_years": v["emp"],
        "credit_history_months": v["history"],
        "purpose": v["purpose"],
        "home": v["home"],
        "channel": v["channel"],
    }
    n = len(v["age"])
    u = r["u"].normal(0.0, 1.0, n)  # unobserved risk factor, independent of all features
    logit = _default_logit(feats, u, v["female"], bias) + shift
    return (r["default"].random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)


def _frame(
    r: dict[str, np.random.Generator], v: dict[str, np.ndarray], month: np.ndarray, start_month: str
) -> pd.DataFrame:
    """The book as published: ids and fake PII first, category codes as labels, some employment gaps."""
    n = len(month)
    emp_observed = np.where(r["missing"].random(n) < 0.02, np.nan, v["emp"])  # real books have gaps
    start = np.datetime64(start_month, "M")
    return pd.DataFrame(
        {
            "applicant_id": applicant_ids(n),
            **fake_pii(r["pii"], v["female"]),
            "age": v["age"],
            "gender": _GENDERS[np.where(v["female"], 0, 1)],
            "region": _REGIONS[v["region"]],
            "channel": _CHANNELS[v["channel"]],
            "income": v["income"],
            "employment_years": emp_observed,
            "home_ownership": _HOMES[v["home"]],
            "loan_amount": v["loan_amount"],
            "term_months": v["term"],
            "purpose": _PURPOSES[v["purpose"]],
            "debt_to_income": v["dti"],
            "revolving_utilisation": v["util"],
            "open_accounts": v["open_acc"],
            "delinquencies_2y": v["delinq"],
            "inquiries_6m": v["inquiries"],
            "credit_history_months": v["history"],
            "application_month": (start + month).astype("datetime64[ns]"),
            "default_12m": v["default"],
        }
    )
