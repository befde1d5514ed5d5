"""Progress a person can read: one live line on an interactive terminal, plain log lines everywhere else.

Every long step (tuning trials, boosting rounds on large data, the mitigated challenger's fits, scoring chunks,
monitoring windows) reports through `Progress`, so a user never waits more than ~5 s without a sign of life:

- on a terminal (stderr is a TTY) a tqdm bar redraws in place, and log lines (creditflow's, MLflow's) are
  printed above it instead of breaking it;
- otherwise (CI, cron, a pipe) a plain line `label: 40/100 trials (12 s)` is logged when the step starts, at
  most every `PLAIN_EVERY` seconds while it runs, and when it ends.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from typing import Any, TextIO, TypedDict

log = logging.getLogger("creditflow")
PLAIN_EVERY = 5.0  # seconds between plain progress lines
LOGGERS = ("", "mlflow")  # loggers whose console lines are routed above a live bar (root, MLflow's own)


# Log lines are routed above the bars while at least one bar is live (the challenger's bar runs on its own thread
# beside the evaluation's): the first bar to open swaps the console handlers, the last to close puts them back.
class _Live(TypedDict):
    bars: int  # live bars
    redirect: contextlib.ExitStack  # the console handlers' swap, undone when the last bar closes


_live: _Live = {"bars": 0, "redirect": contextlib.ExitStack()}
_live_lock = threading.Lock()


def interactive(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Progress of one step: `update(n)` as work is done, `close()` (or leave the `with` block) at the end."""

    def __init__(
        self, label: str, total: int | None = None, unit: str = "", *, initial: int = 0, stream: TextIO | None = None
    ) -> None:
        self.label, self.total, self.unit, self.done = label, total, unit, initial
        self.started = self.last = time.monotonic()
        self.closed = False
        self._bar: Any = None
        stream = stream or sys.stderr
        if interactive(stream):
            self._bar = self._live_bar(stream, initial)
        else:
            log.info("%s: %s", label, self._count())

    def _live_bar(self, stream: TextIO, initial: int) -> Any:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        with _live_lock:
            if _live["bars"] == 0:
                _live["redirect"].enter_context(logging_redirect_tqdm([logging.getLogger(name) for name in LOGGERS]))
            _live["bars"] += 1
        return tqdm(total=self.total, initial=initial, desc=self.label, unit=f" {self.unit}", file=stream, leave=True)

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            if note:
                self._bar.set_postfix_str(note, refresh=False)
        elif time.monotonic() - self.last >= PLAIN_EVERY:
            self.last = time.monotonic()
            log.info("%s: %s%s", self.label, self._count(), f", {note}" if note else "")

    def set(self, done: int, note: str = "") -> None:
        """Set the count (e.g. finished trials of a shared study) rather than add to it."""
        self.update(done - self.done, note)

    def close(self, note: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.close()
            with _live_lock:
                _live["bars"] -= 1
                if _live["bars"] == 0:
                    _live["redirect"].close()
        else:
            log.info("%s: %s, done%s", self.label, self._count(), f", {note}" if note else "")

    def _count(self) -> str:
        total = f"/{self.total:,}" if self.total else ""
        seconds = time.monotonic() - self.started
        return f"{self.done:,}{total} {self.unit} ({seconds:.0f} s)".replace("  ", " ")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
