"""Does `creditflow train` hold up when another CPU-bound process shares the machine?

Generates a consumer-loan book (default 1,000,000 rows), then `--repeats` times (default 3), alternating:
  * quiet: `creditflow train SPEC` alone;
  * busy: the same command beside one CPU hog (a process spinning on one core, started just before the
    command and killed as soon as it ends; never longer than `--hog-limit` seconds).
Prints the medians and the busy/quiet ratio (goal <= 2.5; before OMP_WAIT_POLICY=PASSIVE and the data-size
thread rule it was 3-8x). `--active` also runs both with OpenMP's spinning wait policy and every core
(`OMP_WAIT_POLICY=ACTIVE`, nthread = cores: what creditflow did before) for comparison.

    python benchmarks/busy_machine.py [--rows 1000000] [--repeats 3] [--active]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import consumer_spec, creditflow, load, migrated_store, timed, write_book

HOG = "import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"


def run(spec: Path, uri: str, busy: bool, limit: float, env: dict[str, str]) -> float:
    hog = subprocess.Popen([sys.executable, "-c", HOG.format(limit=limit)]) if busy else None
    try:
        return timed(creditflow("train", str(spec), "--tracking-uri", uri), **env)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()


def measure(spec: Path, uri: str, repeats: int, limit: float, env: dict[str, str], label: str) -> dict[str, float]:
    times: dict[str, list[float]] = {"quiet": [], "busy": []}
    for repeat in range(repeats):
        for kind in ("quiet", "busy") if repeat % 2 == 0 else ("busy", "quiet"):
            times[kind].append(run(spec, uri, kind == "busy", limit, env))
        print(f"  {label} repeat {repeat + 1}: quiet {times['quiet'][-1]:.1f} s, busy {times['busy'][-1]:.1f} s")
    return {kind: statistics.median(values) for kind, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hog-limit", type=float, default=900.0, help="seconds a hog may run at most")
    parser.add_argument("--active", action="store_true", help="also measure the spinning wait policy, all cores")
    args = parser.parse_args()
    print(f"load averages before: {load()}", flush=True)
    variants = {"creditflow (PASSIVE, threads by data size)": {}}
    if args.active:
        variants["spinning (ACTIVE, every core)"] = {
            "OMP_WAIT_POLICY": "ACTIVE",
            "CREDITFLOW_NTHREAD": str(os.cpu_count()),
        }
    results = {}
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root)
        spec = consumer_spec(folder, write_book(folder / "book.parquet", args.rows))
        uri = migrated_store(folder)
        for label, env in variants.items():
            results[label] = measure(spec, uri, args.repeats, args.hog_limit, env, label)
    print(f"load averages after: {load()}")
    print(f"rows {args.rows:,}, repeats {args.repeats}, one CPU hog beside the busy runs")
    for label, medians in results.items():
        ratio = medians["busy"] / medians["quiet"]
        print(f"{label:<45} quiet {medians['quiet']:6.1f} s  busy {medians['busy']:6.1f} s  busy/quiet {ratio:.2f}")
    print("goal: busy/quiet <= 2.5")


if __name__ == "__main__":
    main()
