"""Free text that people type into governance (a review's comment, an exception's justification, a rollback's
reason, a login): the stated limits, and the one-line problem past them.

Why limits at all: an audit record is stored as MLflow run params (at most 6,000 characters each) or as a row of
the team server's table, and a record that is cut to fit can no longer be read back or verified (a review's
approval field is JSON: cut, it bricks every later command). So text is checked before anything is written,
and refused whole rather than stored in part. Text that is not Unicode (a lone surrogate, which an undecodable
byte in a command-line argument or an environment variable becomes) and NUL characters (PostgreSQL cannot store
them) are refused too. Long texts belong in a document; give its reference.
"""

from __future__ import annotations

__all__ = ["NAME_LIMIT", "SHOWN_LIMIT", "TEXT_LIMIT", "shown", "text_problem"]

TEXT_LIMIT = 2000  # characters of a comment, justification or reason
NAME_LIMIT = 200  # characters of a login (CREDITFLOW_USER, --reviewer)
SHOWN_LIMIT = 200  # characters of a value echoed in an error message


def text_problem(label: str, value: str, *, limit: int = TEXT_LIMIT) -> str | None:
    """Why `value` cannot be recorded as `label` (too long, not Unicode text, a NUL), or None when it can."""
    if len(value) > limit:
        return (
            f"{label} is {len(value):,} characters long; the limit is {limit:,} "
            "(keep a longer text in a document and give its reference)"
        )
    for position, char in enumerate(value):
        if "\ud800" <= char <= "\udfff":
            return f"{label} is not valid Unicode text (an undecodable byte at character {position + 1})"
        if char == "\x00":
            return f"{label} holds a NUL character (at character {position + 1}), which cannot be stored"
    return None


def shown(value: object, *, limit: int = SHOWN_LIMIT) -> str:
    """`value` as echoed in a message: its repr, cut at `limit` characters with how much was left out."""
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"
