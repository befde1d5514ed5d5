"""Who is acting on a workbench: $CREDITFLOW_USER, else the operating-system user. A team server's
authenticated user replaces it (the governance store's `acting_user`); this is the local mode's answer."""

from __future__ import annotations

import getpass
import os

from features.errors import CreditflowError
from pipelines.core.free_text import NAME_LIMIT, text_problem

__all__ = ["USER_ENV", "current_user"]

USER_ENV = "CREDITFLOW_USER"


def current_user() -> str:
    """$CREDITFLOW_USER (set it to the person's directory login on shared machines and CI), else the OS user."""
    name = os.environ.get(USER_ENV, "").strip()
    problem = text_problem(USER_ENV, name, limit=NAME_LIMIT)
    if problem:
        raise CreditflowError(f"{problem}: set it to your login")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
