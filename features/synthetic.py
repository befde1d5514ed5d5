"""Synthetic consumer-loan book generator.

Why: the platform needs realistic, reproducible data for developing and testing
models, fairness checks and drift monitoring without touching real customer
data. Everything is vectorised numpy driven by ``np.random.default_rng(seed)``
(one spawned child stream per variable), so a seed always gives the same frame
and 1M rows take a few seconds.

The default target comes from a known logistic model (see ``_default_logit``),
so tests can check directions of effects, the injected gender bias and drift.
Pure functions only: no I/O and no side effects at import.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BookOptions", "SCENARIOS", "generate_book", "scenario_options"]


@dataclass(frozen=True)
class BookOptions:
    """Options for :func:`generate_book`; validated on construction.

    ``bias`` adds to the default logit of gender "F" (historical bias).
    ``drift_*`` give the change reached by the last application month, ramping
    linearly from 0 at the first month (no drift when ``months == 1``).
    """

    rows: int
    seed: int = 0
    start_month: str = "2024-01"
    months: int = 24
    bias: float = 0.0
    drift_income: float = 0.0
    drift_utilisation: float = 0.0
    drift_mix: float = 0.0

    def __post_init__(self) -> None:
        _validate(self)


# Named drift scenarios (`creditflow generate --scenario`): the drift knobs they turn, reached by the last month.
SCENARIOS: dict[str, dict[str, float]] = {
    "income_shock": {"drift_income": -0.3},  # incomes fall 30%: income, and debt-to-income through it
    "utilisation_rise": {"drift_utilisation": 0.25},  # revolving utilisation up 25 points
    "mix_shift": {"drift_mix": 0.8},  # applications move to online/broker channels and younger applicants
}


def scenario_options(name: str) -> dict[str, float]:
    """The drift knobs of a named scenario; ValueError naming the known ones otherwise."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario '{name}' (known: {', '.join(SCENARIOS)})")
    return dict(SCENARIOS[name])


_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _validate(o: BookOptions) -> None:
    """Raise ValueError with a one-line message naming the first bad option."""

    def is_int(v: object) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    def is_real(v: object) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)

    if not is_int(o.rows) or o.rows < 1:
        raise ValueError(f"rows must be an integer >= 1, got {o.rows!r}")
    if not is_int(o.seed) or o.seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {o.seed!r}")
    if not isinstance(o.start_month, str) or not _MONTH_RE.match(o.start_month):
        raise ValueError(f"start_month must be 'YYYY-MM', got {o.start_month!r}")
    if not is_int(o.months) or o.months < 1:
        raise ValueError(f"months must be an integer >= 1, got {o.months!r}")
    if not is_real(o.bias) or o.bias < 0:
        raise ValueError(f"bias must be a finite number >= 0, got {o.bias!r}")
    if not is_real(o.drift_income) or o.drift_income <= -1:
        raise ValueError(f"drift_income must be a finite number > -1, got {o.drift_income!r}")
    if not is_real(o.drift_utilisation):
        raise ValueError(f"drift_utilisation must be a finite number, got {o.drift_utilisation!r}")
    if not is_real(o.drift_mix) or not 0 <= o.drift_mix <= 1:
        raise ValueError(f"drift_mix must be in [0, 1], got {o.drift_mix!r}")


# Small built-in name lists (first names split by gender so names look plausible).
_FIRST_F = (
    "Olivia Amelia Isla Ava Emily Sophie Grace Mia Poppy Ella Lily Evie Chloe Jessica "
    "Ruby Hannah Sarah Laura Emma Rachel Priya Aisha Zara Megan Lucy"
).split()
_FIRST_M = (
    "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie "
    "Henry Joshua Daniel David Samuel Adam Ryan Mohammed Arjun Ethan Lewis Liam"
).split()
_LAST = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Khan"
).split()

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


def _id_width(rows: int) -> int:
    """Digits in applicant ids: at least 7, more when rows needs them (keeps ids unique)."""
    return max(7, len(str(rows)))


def _fixed_width_strings(codes: np.ndarray) -> np.ndarray:
    """Turn an (n, w) uint8 matrix of ASCII codes into an object array of str, fast."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    width = codes.shape[1]
    return codes.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _zero_padded_ids(values: np.ndarray, width: int) -> np.ndarray:
    """'A' followed by ``values`` zero-padded to ``width`` digits."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    codes = np.empty((len(values), width + 1), dtype=np.uint8)
    codes[:, 0] = ord("A")
    codes[:, 1:] = values.astype(np.int64)[:, None] // powers % 10 + 48
    return _fixed_width_strings(codes)


def _fake_pii(rng: np.random.Generator, female: np.ndarray) -> dict[str, np.ndarray]:
    """Fake names ("First Last"), UK-style mobile numbers and national ids."""
    n = len(female)
    nf, nm, nl = len(_FIRST_F), len(_FIRST_M), len(_LAST)
    combos = np.array(
        [f"{f} {s}" for f in _FIRST_F for s in _LAST] + [f"{f} {s}" for f in _FIRST_M for s in _LAST], dtype=object
    )
    first = (rng.random(n) * np.where(female, nf, nm)).astype(np.int64)
    last = rng.integers(0, nl, n)
    name = combos[np.where(female, 0, nf * nl) + first * nl + last]

    phone = np.empty((n, 15), dtype=np.uint8)
    phone[:] = np.frombuffer(b"+44 7000 000000", dtype=np.uint8)
    phone[:, [5, 6, 7, 9, 10, 11, 12, 13, 14]] = rng.integers(48, 58, (n, 9), dtype=np.uint8)

    letters1 = np.frombuffer(b"ABCEGHJKLMNOPRSTWXYZ", dtype=np.uint8)
    letters2 = np.frombuffer(b"ABCEGHJKLMNPRSTWXYZ", dtype=np.uint8)
    nid = np.empty((n, 9), dtype=np.uint8)
    nid[:, 0] = letters1[rng.integers(0, len(letters1), n)]
    nid[:, 1] = letters2[rng.integers(0, len(letters2), n)]
    nid[:, 2:8] = rng.integers(48, 58, (n, 6), dtype=np.uint8)
    nid[:, 8] = rng.integers(ord("A"), ord("D") + 1, n, dtype=np.uint8)
    return {"name": name, "phone": _fixed_width_strings(phone), "national_id": _fixed_width_strings(nid)}


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Sample one category index per row from per-row probabilities (n, k)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _default_logit(f: dict[str, np.ndarray], u: np.ndarray, female: np.ndarray, bias: float) -> np.ndarray:
    """True default log-odds (see ``_COEF``). ``u`` is an unobserved factor that
    keeps achievable AUC realistic. Gender enters only via ``bias``."""
    c = _COEF
    linear = sum(
        c[k] * f[k]
        for k in (
            "debt_to_income",
            "revolving_utilisation",
            "delinquencies_2y",
            "inquiries_6m",
            "credit_history_months",
        )
    )
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


def generate_book(options: BookOptions) -> pd.DataFrame:
    """Generate a synthetic loan book, deterministic for ``options.seed``.

    Rows are in application order (ids ascend with ``application_month``);
    months are filled evenly, so every month appears whenever rows >= months.
    """
    _validate(options)
    o, n = options, options.rows
    # One independent child stream per variable: changing one option (e.g. drift_mix)
    # never shifts the random draws of unrelated variables, so books are paired.
    (
        r_gender,
        r_channel,
        r_age,
        r_region,
        r_emp,
        r_home,
        r_income,
        r_purpose,
        r_loan,
        r_term,
        r_u,
        r_dti,
        r_util,
        r_hist,
        r_open,
        r_delinq,
        r_inq,
        r_default,
        r_missing,
        r_pii,
    ) = np.random.default_rng(o.seed).spawn(20)

    month = np.arange(n, dtype=np.int64) * o.months // n
    t = month / (o.months - 1) if o.months > 1 else np.zeros(n)  # 0 -> 1 drift ramp
    mix = o.drift_mix * t

    female = r_gender.random(n) < 0.5
    channel_p = _CHANNEL_P[np.where(female, 0, 1)]
    channel = _pick(r_channel, (1 - mix)[:, None] * channel_p + mix[:, None] * _CHANNEL_RISKY_P)
    young = r_age.random(n) < 0.12 + 0.5 * mix
    age_raw = np.where(young, 18 + r_age.gamma(2.0, 4.5, n), 18 + r_age.gamma(2.6, 8.5, n))
    age = np.clip(np.floor(age_raw), 18, 85).astype(np.int64)
    a = (age - 18) / 10.0
    region = r_region.choice(len(_REGIONS), size=n, p=_REGION_P)

    emp = np.minimum((age - 18) * r_emp.beta(1.5, 2.5, n) + r_emp.exponential(0.6, n), np.minimum(age - 16.0, 50.0))
    emp = np.round(emp, 1)
    home = _pick(r_home, np.exp(np.column_stack([1.2 - 0.6 * a, 0.7 * a - 0.12 * a * a, -2.0 + 0.5 * a])))
    log_income = (
        np.log(_MEDIAN_INCOME)
        - 0.52
        + 0.35 * a
        - 0.06 * a * a
        + 0.02 * np.minimum(emp, 25)
        + _REGION_LOGINC[region]
        + r_income.normal(0.0, 0.45, n)
    )
    base_income = np.exp(log_income)
    income = np.round(base_income * (1 + o.drift_income * t), 2)

    purpose = r_purpose.choice(len(_PURPOSES), size=n, p=_PURPOSE_P)
    loan_amount = np.round(np.clip(base_income * np.exp(r_loan.normal(np.log(0.22), 0.5, n)), 1_000, 50_000), -2)
    term_idx = np.floor(np.log(loan_amount / 1_000) / np.log(50) * 5 + r_term.normal(0, 1, n))
    term = _TERMS[np.clip(term_idx, 0, 4).astype(np.int64)]

    dti = r_dti.gamma(2.0, 0.09, n) + loan_amount * 1.08 / (term / 12) / income
    dti = np.round(np.clip(dti, 0, 1.5), 4)
    util = r_util.beta(1.3, 2.2, n) * 1.1 - 0.08 * np.log(base_income / _MEDIAN_INCOME) + o.drift_utilisation * t
    util = np.round(np.clip(util, 0, 1.5), 4)
    history = np.floor((age - 18) * 12 * r_hist.beta(3.0, 1.5, n)).astype(np.int64)
    open_acc = r_open.poisson(1.5 + history / 48).astype(np.int64)
    delinq = r_delinq.poisson(0.14 * (base_income / _MEDIAN_INCOME) ** -0.4).astype(np.int64)
    inquiries = r_inq.poisson(0.6 + 0.35 * (channel > 0) + 0.3 * young).astype(np.int64)

    feats = {
        "debt_to_income": dti,
        "revolving_utilisation": util,
        "delinquencies_2y": delinq,
        "inquiries_6m": inquiries,
        "income": income,
        "employment_years": emp,
        "credit_history_months": history,
        "purpose": purpose,
        "home": home,
        "channel": channel,
    }
    u = r_u.normal(0.0, 1.0, n)  # unobserved risk factor, independent of all features
    logit = _default_logit(feats, u, female, o.bias)
    default = (r_default.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    emp_observed = np.where(r_missing.random(n) < 0.02, np.nan, emp)  # real books have gaps
    pii = _fake_pii(r_pii, female)
    start = np.datetime64(o.start_month, "M")
    return pd.DataFrame(
        {
            "applicant_id": _zero_padded_ids(np.arange(1, n + 1), _id_width(n)),
            **pii,
            "age": age,
            "gender": _GENDERS[np.where(female, 0, 1)],
            "region": _REGIONS[region],
            "channel": _CHANNELS[channel],
            "income": income,
            "employment_years": emp_observed,
            "home_ownership": _HOMES[home],
            "loan_amount": loan_amount,
            "term_months": term,
            "purpose": _PURPOSES[purpose],
            "debt_to_income": dti,
            "revolving_utilisation": util,
            "open_accounts": open_acc,
            "delinquencies_2y": delinq,
            "inquiries_6m": inquiries,
            "credit_history_months": history,
            "application_month": (start + month).astype("datetime64[ns]"),
            "default_12m": default,
        }
    )
