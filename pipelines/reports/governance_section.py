"""The sign-off part of a version's review page and card: every review decision and every exception.

Rendered at registration (pending) and again by every review, exception and recorded UI approval, which
replace only this block of the logged page. Kept apart from the card's evidence so that governance
commands re-render it without importing the training stack.
"""

from __future__ import annotations

import pandas as pd

from pipelines.core.tags import VALIDATION_PREFIX
from pipelines.reports.formats import inline_code, table_html, table_markdown

HEADING = "Approvals and exceptions"
START, END = "<!-- creditflow:governance -->", "<!-- /creditflow:governance -->"
_INTRO = (
    "Decisions recorded by `creditflow review` (the current one is the last, and the version's `approval.*` tags), "
    "and accepted exceptions to failed or not-assessed gates (`exception.<gate>.*` tags). Promotion needs an "
    "approval by someone other than the author, given after any exception it relies on, for unchanged evidence."
)
REVIEW_COLUMNS = ["time (UTC)", "reviewer", "decision and comment", "made in", "evidence digest"]
EXCEPTION_COLUMNS = ["gate", "granted by", "time (UTC)", "justification", "valid through", "alternative considered"]


def review_rows(reviews: list) -> pd.DataFrame:
    """`reviews` are audit records (pipelines.governance.rules.promotion.AuditRecord) of action `review`."""
    return pd.DataFrame(
        [[r.time, r.actor, r.reason, "MLflow UI" if r.source == "ui" else "creditflow", r.evidence] for r in reviews],
        columns=REVIEW_COLUMNS,
    )


def exception_table(exceptions: list[dict[str, str]]) -> pd.DataFrame:
    """`exceptions` are rows of `pipelines.governance.rules.exceptions.recorded_exceptions`."""
    return pd.DataFrame(
        [
            [
                f"{VALIDATION_PREFIX}{e['gate']}",
                e["granted_by"],
                e["time"],
                e["justification"],
                e["expires"],
                e["alternative"] or "n/a",
            ]
            for e in exceptions
        ],
        columns=EXCEPTION_COLUMNS,
    )


PENDING = "Pending: no review decision yet."
# A page frozen when written (the team server's validator): decisions come after it and live in the server's trail
ON_SERVER = (
    "Decisions come after this page, which the team server froze when the validation was recorded: read them in the "
    "version's approval.* and exception.* tags and in `creditflow status MODEL --audit` (the server's audit log)."
)


def governance_html(reviews: list, exceptions: list[dict[str, str]], *, pending: str = PENDING) -> str:
    parts = [f"<h2 id='governance'>{HEADING}</h2>", f"<p>{inline_code(_INTRO)}</p>", "<h3>Review decisions</h3>"]
    parts.append(table_html(review_rows(reviews)) if reviews else f"<p>{inline_code(pending)}</p>")
    parts.append("<h3>Exceptions</h3>")
    parts.append(table_html(exception_table(exceptions)) if exceptions else "<p>No exception granted.</p>")
    return START + "".join(parts) + END


def governance_markdown(reviews: list, exceptions: list[dict[str, str]], *, pending: str = PENDING) -> str:
    lines = [f"## {HEADING}", "", _INTRO, "", "### Review decisions", ""]
    lines.append(table_markdown(review_rows(reviews)) if reviews else pending)
    lines += ["", "### Exceptions", ""]
    lines.append(table_markdown(exception_table(exceptions)) if exceptions else "No exception granted.")
    return "\n".join(lines) + "\n"


def with_governance(card: str, reviews: list, exceptions: list[dict[str, str]], *, as_html: bool) -> str:
    """The card with its governance block replaced (a card logged before the block existed gets it appended)."""
    if as_html:
        block = governance_html(reviews, exceptions)
        if START in card and END in card:
            head, rest = card.split(START, 1)
            return head + block + rest.split(END, 1)[1]
        return card.replace("</body>", block + "</body>") if "</body>" in card else card + block
    head = card.split(f"## {HEADING}", 1)[0] if f"## {HEADING}" in card else card.rsplit("## Approvals", 1)[0]
    return head.rstrip("\n") + "\n\n" + governance_markdown(reviews, exceptions)
