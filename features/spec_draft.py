"""`creditflow spec init`: a first spec drafted from a data file, for a person to finish.

Each column is given a role from its name and its values: the target; identifiers, dates, personal data (PII) and
sensitive attributes, each listed in its section with a comment saying why; the rest numeric or categorical
features. A date column makes the split out of time; the governed policy is named; every feature gets a reason-text
stub that `check` and `run` refuse until a person writes what an applicant reads (features/spec_rules.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import pandas as pd
import yaml

from features.contract import parse_dates
from features.errors import DataError
from features.spec_rules import REASON_STUB

ID_WORDS = {"id", "identifier", "uuid", "guid", "key", "number", "no", "nr", "ref", "reference"}
PII_WORDS = {
    "name", "firstname", "surname", "lastname", "email", "mail", "phone", "mobile", "address", "street", "ssn",
    "passport", "national", "dob", "birth", "birthday", "tax", "iban", "ip",
}  # fmt: skip
SENSITIVE_WORDS = {
    "sex", "gender", "age", "marital", "race", "ethnic", "ethnicity", "religion", "religious", "foreign",
    "nationality", "citizenship", "disability", "pregnancy", "orientation",
}  # fmt: skip
DATE_WORDS = {"date", "month", "time", "day", "dt", "timestamp", "period", "year_month"}
POSITIVE_WORDS = {"1", "bad", "default", "defaulted", "yes", "y", "true", "charged off", "charged_off", "1.0"}
AGE_EDGES = (25, 35, 50, 65)


@dataclass
class Draft:
    """What the drafter decided about each column, with the reason shown beside it in the spec."""

    target: str
    positive: object
    positive_why: str
    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    pii: dict[str, str] = field(default_factory=dict)
    sensitive: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    bins: dict[str, list[int]] = field(default_factory=dict)
    oot_months: int = 6


def words(name: str) -> set[str]:
    """The words of a column name (`applicantID`, `date_of_birth`, `Loan-Amount`), lower case."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


def draft(frame: pd.DataFrame, target: str, positive: str | None, prohibited: list[str]) -> Draft:
    """Roles for every column of `frame`; a DataError (exit 2) for a target the drafter cannot read."""
    if target not in frame.columns:
        raise DataError(f"no column {target!r} in the data (columns: {', '.join(map(str, frame.columns[:12]))})")
    value, why = _positive(frame[target], positive)
    result = Draft(target, value, why)
    for name in (str(c) for c in frame.columns if c != target):
        _place(result, name, frame[name], prohibited)
    if result.dates:
        months = parse_dates(frame[next(iter(result.dates))]).dt.to_period("M").nunique()
        result.oot_months = max(1, min(6, months // 4))
    return result


def _positive(values: pd.Series, given: str | None) -> tuple[object, str]:
    distinct = list(values.dropna().unique())
    if given is not None:
        match = next((v for v in distinct if str(v) == given), None)
        if match is None:
            shown = ", ".join(map(str, distinct[:8]))
            raise DataError(f"--positive {given!r} is not a value of {values.name!r} (values: {shown})")
        return _plain(match), "given with --positive"
    if len(distinct) != 2:
        shown = ", ".join(map(str, distinct[:8]))
        raise DataError(
            f"target {values.name!r} has {len(distinct)} value(s) ({shown}): say which one is a default with "
            "--positive VALUE"
        )
    named = [v for v in distinct if str(v).strip().lower() in POSITIVE_WORDS]
    if len(named) == 1:
        return _plain(named[0]), "its name says default"
    rarer = values.value_counts().idxmin()
    return _plain(rarer), "the rarer value: CHECK that it is the default (or pass --positive)"


def _plain(value: object) -> object:
    """A numpy scalar as the plain Python value YAML writes."""
    return value.item() if hasattr(value, "item") else value


def _place(d: Draft, name: str, column: pd.Series, prohibited: list[str]) -> None:
    found, distinct = words(name), column.nunique(dropna=True)
    share = distinct / max(1, column.notna().sum())
    text = not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column)
    banned = next((p for p in prohibited if fnmatchcase(name.casefold(), p.casefold())), None)
    if found & PII_WORDS:
        d.pii[name] = f"personal data ({', '.join(sorted(found & PII_WORDS))} in its name): never read"
    elif pd.api.types.is_datetime64_any_dtype(column) or (text and _dates(column, bool(found & DATE_WORDS))):
        d.dates[name] = "holds dates"
    elif found & ID_WORDS and share > 0.9 or (text and share > 0.99):
        d.ids[name] = f"identifies a row ({share:.0%} distinct values)"
    elif found & SENSITIVE_WORDS or banned:
        why = f"prohibited by the policy (pattern {banned!r})" if banned else "a protected characteristic"
        d.sensitive[name] = f"{why}: measured for fairness, never a feature"
        if pd.api.types.is_numeric_dtype(column) and distinct > 10:
            d.bins[name] = _bins(column)
    elif distinct <= 1:
        d.left_out[name] = "a single value: tells the model nothing"
    elif text and share > 0.5:
        d.pii[name] = f"free text ({share:.0%} distinct values): may hold personal data, never read"
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        d.numeric.append(name)
    else:
        d.categorical.append(name)


DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def _dates(column: pd.Series, named: bool) -> bool:
    """Text whose values parse as dates: any such column named like a date, else one whose values look like dates
    (2024-01-31, 31/01/2024), so codes and numbers are never taken for dates."""
    sample = column.dropna().head(1000).astype(str)
    if len(sample) == 0 or not (named or sample.str.match(DATE_LIKE).mean() > 0.95):
        return False
    return bool(parse_dates(sample).notna().mean() > 0.95)


def _bins(column: pd.Series) -> list[int]:
    low, high = int(column.min()) - 1, int(column.max()) + 1
    inner = [e for e in AGE_EDGES if low < e < high] if "age" in words(str(column.name)) else []
    if not inner:
        inner = sorted({int(q) for q in column.quantile([0.25, 0.5, 0.75]) if low < int(q) < high})
    return [low, *inner, high]


def render(d: Draft, name: str, source: str, policy: str | None, others: list[str]) -> str:
    """The drafted spec as YAML, with a comment beside every decision."""
    q = _scalar
    lines = [
        f"# Drafted by `creditflow spec init` from {source}. Read every comment, then run `creditflow check` on it.",
        f"name: {q(name)}",
        "data:",
        f"  source: {q(source)}          # relative to this file",
        f"  target: {q(d.target)}",
        f"  positive: {q(d.positive)}          # the default label: {d.positive_why}",
    ]
    if d.dates:
        time, why = next(iter(d.dates.items()))
        lines.append(f"  time: {q(time)}          # {why}: the split is out of time")
    if d.ids:
        key, why = next(iter(d.ids.items()))
        lines.append(f"  id: {q(key)}          # {why}")
    if d.pii:
        lines.append("  pii:                # never read by creditflow, never in an artifact")
        lines += [f"    - {q(c)}          # {why}" for c, why in d.pii.items()]
    if d.sensitive:
        lines.append("  sensitive:          # fairness is measured by these; they and their columns are never features")
        for column, why in d.sensitive.items():
            if column in d.bins:
                lines += [f"    - name: {q(column + '_band')}          # {why}", f"      column: {q(column)}"]
                lines.append(f"      bins: [{', '.join(map(str, d.bins[column]))}]")
            else:
                lines.append(f"    - {q(column)}          # {why}")
    lines += _leftovers(d)
    lines.append("features:")
    for kind, names in (("numeric", d.numeric), ("categorical", d.categorical)):
        lines += [f"  {kind}:", *(f"    - {q(c)}" for c in names)] if names else [f"  {kind}: []"]
    lines.append("  monotone: {}        # e.g. debt_to_income: increasing, where the risk can only rise with it")
    if d.dates:
        lines += ["split:", "  method: out_of_time", f"  oot_months: {d.oot_months}          # the latest months"]
    else:
        lines += ["split:", "  method: random      # no date column: an out-of-time split needs data.time"]
    lines += ["  seed: 42", "tuning:", "  trials: 20", "  timeout: 1800", "  seed: 42", "policy:"]
    if policy is not None:
        also = f"; also in the folder: {', '.join(others)}" if others else ""
        lines.append(f"  name: {q(policy)}          # the governed policy (creditflow policy list{also})")
    else:
        lines.append("  {}                  # no governed policy in the folder: judged under creditflow-default")
    lines.append(f"# Every feature can be a decline reason: replace each {REASON_STUB} with what an applicant reads.")
    lines.append("reasons:")
    lines += [f"  {q(c)}: {q(f'{REASON_STUB}: why {c} counts against the applicant')}" for c in _features(d)]
    return "\n".join(lines) + "\n"


def _features(d: Draft) -> list[str]:
    return [*d.numeric, *d.categorical]


def _leftovers(d: Draft) -> list[str]:
    rest = {**dict(list(d.dates.items())[1:]), **dict(list(d.ids.items())[1:]), **d.left_out}
    return [f"  # not used: {c} ({why})" for c, why in rest.items()]


def _scalar(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()
