"""What does a password-guessing attack cost the team server, with and without the failed-login throttle?

One team server (one uvicorn worker) per setting: the shipped limits (5 failures per user / 20 per address per
5 minutes) and, for comparison, limits no attack reaches (the throttle's read still paid on every login). In each:
50 wrong passwords for one user, sent one after the other, while a legitimate user (cached login) searches the
registry every 0.2 s. Printed side by side: the server's CPU seconds for the 50 guesses (all its processes, from
/proc), how many were checked (401) or refused unchecked (429), and the legitimate request's median latency before
and during the attack.

    python benchmarks/login_throttle.py [--postgres postgresql://postgres@127.0.0.1:5432/postgres] [--guesses 50]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from team_overhead import drop, free_port, mock_env, start_server, stop_server  # noqa: E402

from pipelines.server.setup import init_server  # noqa: E402
from pipelines.server.throttle import LoginLimits  # noqa: E402
from pipelines.tracking.http import add_user  # noqa: E402

PASSWORDS = {"admin": f"admin-{secrets.token_hex(8)}", "ds1": f"ds1-{secrets.token_hex(8)}"}
SETTINGS = {"throttle (shipped limits)": LoginLimits(), "no throttle (limits never reached)": LoginLimits(10**6, 10**6)}
SEARCH = "/api/2.0/mlflow/registered-models/search"


def cpu_seconds(group: int) -> float:
    """User + system CPU seconds of every live process in process group `group`."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def clear_counts(postgres: str, database: str) -> None:
    conn = psycopg2.connect(postgres, dbname=database)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM login_failures")
    conn.close()


def legit_latencies(uri: str, stop: threading.Event, found: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        requests.get(f"{uri}{SEARCH}", auth=("ds1", PASSWORDS["ds1"]), timeout=120)
        found.append(time.perf_counter() - started)
        time.sleep(0.2)


def attack(uri: str, group: int, guesses: int) -> dict[str, float]:
    quiet: list[float] = []
    for _ in range(10):
        started = time.perf_counter()
        requests.get(f"{uri}{SEARCH}", auth=("ds1", PASSWORDS["ds1"]), timeout=120)
        quiet.append(time.perf_counter() - started)
    during: list[float] = []
    stop = threading.Event()
    watcher = threading.Thread(target=legit_latencies, args=(uri, stop, during))
    before, started = cpu_seconds(group), time.perf_counter()
    watcher.start()
    codes = [
        requests.get(f"{uri}{SEARCH}", auth=("victim", f"guess-{i}"), timeout=120).status_code for i in range(guesses)
    ]
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(group) - before
    stop.set()
    watcher.join()
    return {
        "server CPU s": cpu,
        "wall s": elapsed,
        "checked (401)": codes.count(401),
        "refused unchecked (429)": codes.count(429),
        "legit ms quiet": statistics.median(quiet) * 1000,
        "legit ms under attack": statistics.median(during) * 1000 if during else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--guesses", type=int, default=50)
    args = parser.parse_args()
    prefix = f"cfbench_{secrets.token_hex(3)}"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "server"
        init_server(
            args.postgres,
            folder,
            prefix=prefix,
            host="127.0.0.1",
            port=free_port(),
            admin="admin",
            admin_password=PASSWORDS["admin"],
        )
        env = folder / "server.env"
        shipped = env.read_text()
        try:
            for name, limits in SETTINGS.items():
                kept = [line for line in shipped.splitlines() if not line.startswith("CREDITFLOW_LOGIN_")]
                env.write_text("\n".join([*kept, *(f"{k}={v}" for k, v in limits.environment().items())]) + "\n")
                port = free_port()
                process = start_server(folder, "team", 1, port)
                uri = f"http://127.0.0.1:{port}"
                try:
                    if name == next(iter(SETTINGS)):
                        with mock_env(MLFLOW_TRACKING_USERNAME="admin", MLFLOW_TRACKING_PASSWORD=PASSWORDS["admin"]):
                            add_user(uri, "ds1", "creditflow-data-scientist", PASSWORDS["ds1"])
                            add_user(uri, "victim", "creditflow-reviewer", f"victim-{secrets.token_hex(8)}")
                    results[name] = attack(uri, process.pid, args.guesses)
                finally:
                    stop_server(process)
                clear_counts(args.postgres, f"{prefix}_governance")  # the next setting starts with no counts
        finally:
            drop(args.postgres, prefix)
    print(f"{args.guesses} wrong passwords for one user, one after the other (one uvicorn worker)")
    names = list(SETTINGS)
    print(f"  {'':<26}" + "".join(f"{n:>38}" for n in names))
    for measure in results[names[0]]:
        print(f"  {measure:<26}" + "".join(f"{results[n][measure]:>38.2f}" for n in names))
    base, throttled = results[names[1]]["server CPU s"], results[names[0]]["server CPU s"]
    print(f"  server CPU for the attack, throttled / unthrottled: {throttled / base:.2f}")


if __name__ == "__main__":
    main()
