"""The one clock of governance: record times (ISO 8601, UTC, microseconds), the day an exception's expiry is
judged on, and the parser that reads a stored time back (a time without a zone is UTC). The CLI, the team
server and the hash chain all read times through these three functions."""

from __future__ import annotations

import datetime as dt

__all__ = ["now_iso", "parse_time", "today"]


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def today() -> dt.date:
    """Today in UTC: exceptions are valid through their expiry day."""
    return dt.datetime.now(dt.timezone.utc).date()


def parse_time(text: str) -> dt.datetime | None:
    """A stored ISO 8601 time as an aware datetime (UTC when it names no zone), or None when it is not one."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
