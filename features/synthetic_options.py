"""Options of the synthetic loan book and its named drift scenarios, validated on construction.

Why apart from the generator in `features/synthetic.py`: the spec (`data.synthetic`) and the
`creditflow generate` command need the options and scenarios, not the numeric model behind them.
`features.synthetic` re-exports them, so `from features.synthetic import BookOptions` still works.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

__all__ = ["BookOptions", "SCENARIOS", "scenario_options", "validate_options"]


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
    leak: bool = False  # add `months_in_arrears_12m`, a post-outcome column, so the leakage screen can be seen firing
    duplicate: float = 0.0  # share of the book appended again as exact copies (1.0: the file concatenated with itself)
    id_column: bool = False  # add `file_number`, unique and numbered by outcome (a file number left among features)
    post_decision: bool = False  # add `principal_paid`, `late_fees_paid`: repayment facts, moderate signal each
    proxy_of: str = ""  # `gender`: add `salutation` (Ms/Mr), `age`: add `birth_year`, each an exact stand-in
    calibration_drift: float = 0.0  # default log-odds added by the last month (0 at the first): PDs fall behind

    def __post_init__(self) -> None:
        validate_options(self)


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


PROXIES = ("", "gender", "age")  # attributes `proxy_of` can add a stand-in for
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def validate_options(o: BookOptions) -> None:
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
    if not is_real(o.calibration_drift) or o.calibration_drift < 0:
        raise ValueError(f"calibration_drift must be a finite number >= 0, got {o.calibration_drift!r}")
    if not isinstance(o.leak, bool):
        raise ValueError(f"leak must be true or false, got {o.leak!r}")
    if not is_real(o.duplicate) or not 0 <= o.duplicate <= 1:
        raise ValueError(f"duplicate must be in [0, 1], got {o.duplicate!r}")
    if o.proxy_of not in PROXIES:
        raise ValueError(f"proxy_of must be one of {', '.join(p for p in PROXIES if p)}, got {o.proxy_of!r}")
    if not isinstance(o.post_decision, bool):
        raise ValueError(f"post_decision must be true or false, got {o.post_decision!r}")
    if not isinstance(o.id_column, bool):
        raise ValueError(f"id_column must be true or false, got {o.id_column!r}")
