"""An applicant's notice, composed from a scored row: the decision, the principal reasons in the spec's words, the
applicant's rights and the lender's contact, and nothing else about the applicant but the id.

Why so narrow: the notice leaves the lender. US Regulation B wants the specific principal reasons of an adverse
action (a checklist reason that does not describe the model's factor is not enough, CFPB Circular 2023-03); the EU
CCD2 (art. 18) and China's PIPL (art. 24) give the right to human intervention, an explanation and to contest. A
sensitive attribute, a PII column or (unless the policy asks) the score has no place in it, so the notice is built
from an allow-list of fields, never from the row. Pure: rows and templates in, notices out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from features.errors import DataError
from pipelines.scoring.decision import LABELS, adverse
from pipelines.scoring.scorer import REASON_COLUMNS

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")  # an id names two files: no path, no leading dot
TEMPLATE_KEYS = ("decision", "score", "reason_line", "rights", "body")


@dataclass(frozen=True)
class NoticeTemplate:
    """One locale's texts (the policy folder's `<templates>/<locale>.yaml`)."""

    locale: str
    decision: dict[str, str]
    score: str
    reason_line: str
    rights: list[str]
    body: str

    @classmethod
    def of(cls, locale: str, document: Any, where: str) -> NoticeTemplate:
        if not isinstance(document, dict) or any(k not in document for k in TEMPLATE_KEYS):
            raise DataError(f"{where}: a notice template needs the keys {', '.join(TEMPLATE_KEYS)}")
        decision = document["decision"]
        if not isinstance(decision, dict) or not {"decline", "refer"} <= set(decision):
            raise DataError(f"{where}: decision: give a text for decline and for refer")
        rights = document["rights"]
        if not isinstance(rights, list) or len(rights) < 3:
            raise DataError(f"{where}: rights: list the rights to human review, an explanation and to contest")
        return cls(locale, decision, str(document["score"]), str(document["reason_line"]), rights, document["body"])


@dataclass(frozen=True)
class Lender:
    name: str
    contact: str
    show_score: bool
    max_reasons: int


def check_scored(
    frame: pd.DataFrame,
    id_column: str,
    *,
    texts: dict[str, str],
    generic: list[str],
    band: tuple[float, float] | None = None,
) -> None:
    """One DataError naming the first problem of a scored file: columns, ids, decisions (against the spec's decision
    rule: an approval at or above the band, a decline below it), reasons not the spec's words, a generic reason."""
    needed = [id_column, "decision", *REASON_COLUMNS]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"the scored file lacks column(s) {', '.join(missing)} (score it with `creditflow score`)")
    ids = frame[id_column].astype(str)
    if frame[id_column].isna().any():
        raise DataError(f"the scored file has rows without an {id_column}")
    twice = ids[ids.duplicated()]
    if len(twice):
        raise DataError(f"the scored file has duplicate {id_column} values ({len(twice)}, first {twice.iloc[0][:60]})")
    bad_ids = ids[~ids.str.match(SAFE_ID)]
    if len(bad_ids):
        raise DataError(f"{id_column} {bad_ids.iloc[0][:60]!r} cannot name a notice file (letters, digits, '_.-')")
    unknown = sorted(set(frame["decision"].astype(str)) - set(LABELS))
    if unknown:
        raise DataError(f"the scored file has unknown decision(s): {', '.join(u[:40] for u in unknown[:3])}")
    if band is not None and "probability_of_default" in frame.columns:
        _check_rule(frame, band)
    given = adverse(frame["decision"].astype(str).to_numpy())
    words = {text: feature for feature, text in texts.items()}
    for column in REASON_COLUMNS:
        used = set(frame.loc[given, column].dropna().astype(str))
        foreign = sorted(used - set(words))
        if foreign:
            raise DataError(f"{column}: {foreign[0][:80]!r} is not a reason text of the spec (another model's file?)")
        flagged = sorted(words[t] for t in used if words[t] in generic)
        if flagged:
            raise DataError(
                f"the reason text of {flagged[0]} is marked generic in the spec (reasons_generic): a notice must give "
                "the specific reason; rewrite the text and re-score"
            )


def _check_rule(frame: pd.DataFrame, band: tuple[float, float]) -> None:
    """The scored file's decisions follow the spec's rule (uncertainty rules only ever refer): else it was scored by
    another model or policy, or edited, and its notices would tell applicants something untrue."""
    p = pd.to_numeric(frame["probability_of_default"], errors="coerce").to_numpy(dtype=np.float64)
    decision = frame["decision"].astype(str).to_numpy()
    wrong = ((decision == "approve") & (p >= band[1])) | ((decision == "decline") & (p < band[0]))
    if wrong.any():
        raise DataError(
            f"{int(wrong.sum())} decision(s) of the scored file do not follow the spec's rule (approve below "
            f"{band[0]:g}, decline from {band[1]:g}): scored by another model or policy, or edited"
        )


def compose(
    frame: pd.DataFrame, id_column: str, template: NoticeTemplate, lender: Lender, *, date: dt.date
) -> list[dict[str, Any]]:
    """The notice of every declined or referred row (never an approved one), in id order: a JSON-ready mapping with
    the text under `text`."""
    decisions = frame["decision"].astype(str).to_numpy()
    rows = frame.loc[adverse(decisions)]
    rows = rows.iloc[np.argsort(rows[id_column].astype(str).to_numpy(), kind="stable")]
    reasons = rows[REASON_COLUMNS[: lender.max_reasons]].to_numpy(dtype=object)
    scores = rows["probability_of_default"].to_numpy() if lender.show_score else None
    body, line = Template(template.body), Template(template.reason_line)
    rights = "\n".join(f"  - {r}" for r in template.rights)
    notices = []
    for i, (applicant, decision) in enumerate(zip(rows[id_column].astype(str), rows["decision"].astype(str))):
        given = [str(r) for r in reasons[i] if isinstance(r, str) and r]
        listed = "\n".join(line.safe_substitute(number=n, text=t) for n, t in enumerate(given, 1))
        score = Template(template.score).safe_substitute(value=f"{scores[i]:.3f}") if scores is not None else ""
        text = body.safe_substitute(
            lender=lender.name,
            id=applicant,
            date=date.isoformat(),
            decision=template.decision[decision],
            reasons=listed.lstrip(),
            score=f"{score}\n" if score else "",
            rights=rights.lstrip(),
            contact=lender.contact,
        )
        notice: dict[str, Any] = {
            "id": applicant,
            "decision": decision,
            "reasons": given,
            "rights": list(template.rights),
            "contact": lender.contact,
            "locale": template.locale,
            "date": date.isoformat(),
        }
        if scores is not None:
            notice["probability_of_default"] = round(float(scores[i]), 6)
        notices.append({**notice, "text": text})
    return notices
