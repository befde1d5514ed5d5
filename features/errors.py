"""Errors the CLI turns into one line and an exit code: bad input (2), a verdict (1), a signal (128 + N)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class CreditflowError(Exception):
    """A problem the user can fix; `exit_code` follows DESIGN.md (2 = bad input or usage)."""

    exit_code = 2


class SpecError(CreditflowError):
    """The experiment spec is missing, unreadable or invalid."""


class DataError(CreditflowError):
    """The data is missing, empty or breaks the data contract."""


class Refused(CreditflowError):
    """A verdict said no (promotion refused, an unverified champion): exit 1."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT arrived while a command was working: unwinds like Ctrl-C (so runs end KILLED, locks
    are released, and Optuna fails the trial in progress); the CLI exits 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def describe_errors(exc: ValidationError) -> str:
    """A validation failure of a spec or a policy file as one line: 'key: problem' for each error, joined."""
    parts = []
    for err in exc.errors():
        # pydantic adds validator and union-branch names to locations; users never wrote those
        key = ".".join(str(p) for p in err["loc"] if "[" not in str(p) and p not in ("int", "str"))
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            parts.append(f"unknown key '{key}'")
        elif err["type"] == "missing":
            parts.append(f"missing required key '{key}'")
        else:
            message = err["msg"].removeprefix("Value error, ")
            parts.append(f"{key}: {message}" if key else message)
    return "; ".join(dict.fromkeys(parts))
