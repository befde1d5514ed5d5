"""The mitigated challenger in a process of its own, beside the rest of the run.

Measured on German Credit (2 cores): the challenger's ~90 fits are half XGBoost, which releases the GIL, and half
Python (fairlearn's Lagrangian in pandas, its HiGHS linear programs). On a thread beside the evaluation's plotting
both queued for the one GIL: 4 s for 2.7 s of work, the longest step of the run. A process has a GIL of its own.

The process is a new interpreter (a fork of a process that runs MLflow's and Optuna's threads is not safe), started
as soon as the run knows a challenger may be wanted, so that its imports (XGBoost, pandas, fairlearn: ~1.5 s) overlap
the data checks and the tuning; the job is sent when the fairness verdict asks for it; the process is stopped either
way when the run ends. Small jobs, and machines with one core, keep the thread: there the process costs more than it
saves.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from features.errors import CreditflowError
from features.spec import Spec
from pipelines.progress import Progress
from pipelines.runtime import cores
from pipelines.training.mitigation import Challenger, ChallengerJob, train_challenger

# rows x iterations below which the fits take about what the process's start-up costs (~1.5 s of imports)
PROCESS_MIN_WORK = 10_000
POLL_SECONDS = 0.25


def wants_process(spec: Spec, training_rows: int) -> bool:
    """Whether the challenger, if the policy ends up asking for it, is trained in a process of its own."""
    settings = spec.policy.fairness.mitigation
    if not settings.enabled or not spec.data.sensitive or cores() < 2 or os.name != "posix":  # pipes by fd number
        return False
    return min(training_rows, settings.max_rows) * settings.max_iter >= PROCESS_MIN_WORK


class ChallengerWorker:
    """One child interpreter that imports what the challenger needs now and trains it when `train` is called.

    A plain `python -c` child on two pipes rather than multiprocessing's spawn: spawn re-imports the parent's
    `__main__`, which breaks (or re-runs) a user's script that calls creditflow without a main guard.
    """

    def __init__(self) -> None:
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        root = str(Path(__file__).resolve().parents[2])  # the checkout or install holding `pipelines`
        code = f"import sys; sys.path.insert(0, {root!r}); import {__name__} as m; m.serve({job_read}, {result_write})"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=(job_read, result_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its errors come back through the pipe; it prints nothing of its own
        )
        os.close(job_read)
        os.close(result_write)
        self._jobs = Connection(job_write, readable=False)
        self._results = Connection(result_read, writable=False)
        self.submitted = False

    def submit(self, job: ChallengerJob) -> None:
        """Send `train_challenger`'s arguments: the child starts at once. The run sends the job as soon as the
        candidate is trained, before the fairness verdict; `close` discards it when the verdict does not ask."""
        try:
            self._jobs.send(job)
        except (BrokenPipeError, OSError):
            pass  # the child is gone: `result` says so
        self.submitted = True

    def result(self, label: str) -> Challenger:
        """The submitted job's challenger, its fits counted on a progress line; the child's errors re-raised."""
        try:
            with Progress(label, unit="fits") as progress:
                while True:
                    if not self._results.poll(POLL_SECONDS):
                        if self._process.poll() is not None:
                            raise EOFError
                        continue
                    kind, value = self._results.recv()
                    if kind == "fit":
                        progress.update(value)
                    elif kind == "error":
                        raise value
                    else:
                        return value
        except (EOFError, BrokenPipeError):
            code = self._process.poll()
            raise CreditflowError(f"the challenger's process ended without a result (exit code {code})") from None

    def train(self, label: str, job: ChallengerJob) -> Challenger:
        """`train_challenger(**job)` in the child (submit, then wait for the result)."""
        self.submit(job)
        return self.result(label)

    def close(self) -> None:
        """Stop the child (whether or not it trained anything); called on every way out of the evaluation."""
        if self._process.poll() is None:
            self._process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        self._jobs.close()
        self._results.close()


@contextlib.contextmanager
def challenger_process(spec: Spec, training_rows: int) -> Iterator[ChallengerWorker | None]:
    """A started worker when `wants_process`, else None (the challenger then trains on a thread)."""
    worker = ChallengerWorker() if wants_process(spec, training_rows) else None
    try:
        yield worker
    finally:
        if worker is not None:
            worker.close()


def serve(job_fd: int, result_fd: int) -> None:
    """The child: import the reduction now (the parent is still tuning), then train the one job it is sent."""
    import fairlearn.reductions  # noqa: F401  the slowest import, paid while waiting

    jobs, results = Connection(job_fd, writable=False), Connection(result_fd, readable=False)
    with contextlib.suppress(EOFError, KeyboardInterrupt, BrokenPipeError):  # the parent stopped or was interrupted
        job: ChallengerJob = jobs.recv()
        try:
            challenger = train_challenger(**job, report=lambda n: results.send(("fit", n)))
        except Exception as exc:  # re-raised in the parent, where the command turns it into a message
            results.send(("error", _picklable(exc)))
        else:
            results.send(("ok", challenger))


def _picklable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
