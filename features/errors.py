"""Errors the CLI turns into one line and an exit code: bad input (2), a verdict (1), a signal (128 + N)."""


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
