"""The sign-off part of a version's review page and card: every review decision and every exception.

Rendered at registration (pending) and again by every review, exception and recorded UI approval, which
replace only this block of the logged page. Kept apart from the card's evidence so that governance
commands re-render it without importing the training stack.
"""

from __future__ import annotations

import html

import pandas as pd

from pipelines.core.tags import VALIDATION_PREFIX
from pipelines.reports.formats import inline_code, table_html, table_markdown

HEADING = "Approvals and exceptions"
START, END = "<!-- creditflow:governance -->", "<!-- /creditflow:governance -->"
# the first screen's note of accepted exceptions, beside the verdicts they cover (filled by every re-render)
BANNER_START, BANNER_END = "<!-- creditflow:exceptions -->", "<!-- /creditflow:exceptions -->"
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


def exceptions_banner(exceptions: list[dict[str, str]]) -> str:
    """The first screen's line per accepted exception: the gate it covers, who accepted it, until when, why."""
    if not exceptions:
        return BANNER_START + BANNER_END
    rows = "".join(
        f"<li><strong>{VALIDATION_PREFIX}{html.escape(e['gate'])}</strong> did not pass and goes forward on an "
        f"accepted exception: granted by {html.escape(e['granted_by'])}, valid through {html.escape(e['expires'])}: "
        f"{html.escape(e['justification'])}</li>"
        for e in exceptions
    )
    note = f"<div class='exceptions'><p>Accepted exceptions (details under {HEADING}):</p><ul>{rows}</ul></div>"
    return BANNER_START + note + BANNER_END


def with_banner(card: str, exceptions: list[dict[str, str]]) -> str:
    """The page with its first-screen exceptions note replaced (inserted after the contents on an older page)."""
    banner = exceptions_banner(exceptions)
    if BANNER_START in card and BANNER_END in card:
        head, rest = card.split(BANNER_START, 1)
        return head + banner + rest.split(BANNER_END, 1)[1]
    return card.replace("</nav>", "</nav>" + banner, 1) if "</nav>" in card else card


def with_governance(card: str, reviews: list, exceptions: list[dict[str, str]], *, as_html: bool) -> str:
    """The card with its governance block replaced (a card logged before the block existed gets it appended)."""
    if as_html:
        card = with_banner(card, exceptions)
        block = governance_html(reviews, exceptions)
        if START in card and END in card:
            head, rest = card.split(START, 1)
            return head + block + rest.split(END, 1)[1]
        return card.replace("</body>", block + "</body>") if "</body>" in card else card + block
    head = card.split(f"## {HEADING}", 1)[0] if f"## {HEADING}" in card else card.rsplit("## Approvals", 1)[0]
    return head.rstrip("\n") + "\n\n" + governance_markdown(reviews, exceptions)
