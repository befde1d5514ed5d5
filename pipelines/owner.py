"""Which process owns something (a run, a lock, a trial), and whether that process is dead.

A killed process (kill -9, a lost machine) leaves its MLflow run RUNNING, its registry lock held and
its Optuna trial RUNNING. Each of those carries an owner token, `pid@host/start`, where `start` is the
process's start time in clock ticks since boot (Linux), so a recycled pid is not mistaken for the owner.
The next command closes, takes over or fails what a dead owner left. An owner on another host cannot
be checked from here: it counts as alive (a lock then ages out; a trial fails after Optuna's heartbeat
grace period).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Iterator

from features.errors import Interrupted


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' where /proc is not available)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the command name in parentheses may hold spaces


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def owner_token() -> str:
    """This process as an owner: pid@host/start."""
    pid = os.getpid()
    return f"{pid}@{socket.gethostname()}/{_start_ticks(pid)}"


def owner_is_dead(token: str | None) -> bool:
    """True only when the owner is known to be gone: same host, and its pid is not running (or is a zombie,
    or now belongs to a process started at another time). Unknown or foreign owners are not dead."""
    if not token or "@" not in token:
        return False
    pid_text, _, rest = token.partition("@")
    host, _, start = rest.partition("/")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by someone else
    if _state(pid) in ("Z", "X"):  # killed, not yet reaped by its parent
        return True
    current = _start_ticks(pid)
    return bool(start and current and current != start)


def describe(token: str) -> str:
    pid, _, rest = token.partition("@")
    return f"pid {pid} on {rest.partition('/')[0]}"


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM (and SIGINT) raise `Interrupted` in the main thread while the body runs, so that context
    managers close what they opened (runs end KILLED) instead of the process vanishing mid-write."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    pending: list[int] = []  # a signal whose Interrupted a finalizer swallowed

    def _raise(signum: int, frame: FrameType | None) -> None:
        if signum != signal.SIGALRM:
            raise Interrupted(signum)
        if pending:
            raise Interrupted(pending.pop())

    # A signal that arrives while a finalizer or weakref callback runs (the garbage collector at work) raises there,
    # and Python ignores exceptions raised there (it hands them to sys.unraisablehook). Raise it again 10 ms later
    # (a one-shot timer), in the command's own code once the finalizer has returned.
    previous_hook = sys.unraisablehook

    def _redeliver(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            pending.append(unraisable.exc_value.signum)
            signal.setitimer(signal.ITIMER_REAL, 0.01)
        else:
            previous_hook(unraisable)

    signals = (signal.SIGTERM, signal.SIGINT, signal.SIGALRM)
    previous = {sig: signal.signal(sig, _raise) for sig in signals}
    sys.unraisablehook = _redeliver
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler)
