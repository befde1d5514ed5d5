"""What the benchmark scripts share: a generated book, a spec pointing at it, timed fresh processes, load averages.

Every benchmark prints the machine's load averages before and after: a busy machine changes both sides of a
ratio (not necessarily equally), so a figure is quoted together with the load it was measured under.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def load() -> str:
    """The 1, 5 and 15 minute load averages and the core count, for the printout."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" ({os.cpu_count()} cores)"


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", **extra}
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


CPU_SECONDS: list[float] = []  # CPU time (user + system) of each `timed` command, in call order


def timed(command: list[str], cwd: Path = REPO, **extra_env: str) -> float:
    """Wall seconds of a command in a fresh process (its CPU seconds appended to CPU_SECONDS: on a busy machine
    they move less than wall time); exits with its stderr when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=environment(**extra_env), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def creditflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def write_book(path: Path, rows: int, seed: int = 7) -> Path:
    """A generated consumer-loan book (Parquet) of `rows` rows over 24 months."""
    sys.path.insert(0, str(REPO))
    from features.synthetic import BookOptions, generate_book

    generate_book(BookOptions(rows=rows, seed=seed)).to_parquet(path, index=False)
    return path


def shipped_spec(name: str = "consumer_loans") -> dict:
    """experiments/NAME.yaml as a dict to edit and write elsewhere; the policy it names resolves from the
    project's policy folder (CREDITFLOW_POLICY_DIR, set here for this process and the commands it starts: a copy
    written elsewhere has no policies/ beside it)."""
    os.environ.setdefault("CREDITFLOW_POLICY_DIR", str(REPO / "experiments" / "policies"))
    return yaml.safe_load((REPO / "experiments" / f"{name}.yaml").read_text())


def consumer_spec(folder: Path, book: Path, **tuning_params) -> Path:
    """experiments/consumer_loans.yaml read from `book`, no tuning, with `tuning_params` merged in."""
    spec = shipped_spec()
    spec["data"].pop("synthetic")
    spec["data"]["source"] = str(book)
    spec["tuning"]["trials"] = 0
    spec["tuning"]["params"].update(tuning_params)
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def migrated_store(folder: Path) -> str:
    """A tracking store migrated once (~7 s), so no timed command pays for creating it."""
    import mlflow

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.MlflowClient(uri).search_experiments()
    return uri
