"""How creditflow shares the machine: XGBoost's thread count and OpenMP's wait policy.

Two measured facts (2 cores, see README "Speed on a shared machine"):
- OpenMP threads that spin while they wait collapse when another busy process shares the cores: a
  600-row boosting round went from 0.8 ms to 23 ms beside other work, a 200,000-row one from 24 ms to
  60 ms. With `OMP_WAIT_POLICY=PASSIVE` idle threads sleep instead, and the collapse is gone.
- A second thread does not pay on small data: below ~50,000 training rows one thread was as fast or
  faster per round (the threads' start-up and barriers cost more than the split search they share; measured
  beside other work, load ~5; to re-check on a quiet machine).

Overrides, strongest first: the spec's `tuning.params.nthread`, then `CREDITFLOW_NTHREAD`, then the
automatic choice; `OMP_WAIT_POLICY` set in the environment is kept as it is.
"""

from __future__ import annotations

import os

THREADS_ENV = "CREDITFLOW_NTHREAD"
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
SMALL_DATA_ROWS = 50_000  # below this many training rows XGBoost gets one thread


def configure_process() -> None:
    """Call before XGBoost (and its OpenMP runtime) is loaded: OpenMP reads the policy once, at load time."""
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")


def cores() -> int:
    """Cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def xgboost_threads(rows: int, requested: int = 0, *, limit: int | None = None) -> int:
    """Threads for an XGBoost fit on `rows` training rows: `requested` (the spec's nthread) when set,
    else $CREDITFLOW_NTHREAD, else one thread for small data and every core otherwise; never above
    `limit` (a tuning worker's share of the cores)."""
    chosen = requested or _env_threads() or (1 if rows < SMALL_DATA_ROWS else cores())
    return max(1, min(chosen, limit)) if limit else chosen


def _env_threads() -> int:
    value = os.environ.get(THREADS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 0


def describe() -> dict[str, str]:
    """The settings a run records, so a slow run can be told from a slow machine."""
    return {
        "runtime.omp_wait_policy": os.environ.get(WAIT_POLICY_ENV, "(OpenMP default)"),
        "runtime.cores": str(cores()),
    }
