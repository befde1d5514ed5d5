"""Walking the command blocks of a Markdown page: every line of every ```bash block, in order, in a fresh copy of the
repository, as a reader would type it (tests/test_readme.py, tests/test_docs.py).

The copy holds the files git would commit (tracked, and new ones not ignored), so nothing left in the working
folder (a store, a study, generated data) helps an example pass. Commands run through bash with `creditflow` and
`mlflow` on the PATH (as in an activated environment), on the default local store `./mlflow.db`, one OpenMP thread.
A `# exit N` comment on a line states its expected exit code (default 0); an `export` line sets its variables
for the lines after it, as in the reader's shell. A line that starts a server (`mlflow ui`,
`mlflow models serve`) runs where it stands: it must answer its health check, then it is stopped (as a reader
stops it with Ctrl-C). Lines that install packages or run this suite are skipped with their reason; a page may
skip more (team mode needs a team server, Spark a cluster).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

SKIPS = [
    (r"^python3 -m venv|\bpip install\b", "installs packages: the test runs in the installed environment"),
    (r"-m pytest\b", "runs this test suite"),
    (r"^source \.venv/bin/activate$", "activates the environment the test already runs in"),
]
SERVER = re.compile(r"^(CREDITFLOW_SERVE_VERIFY=\S+ )?mlflow (ui|server|models serve)\b")
WARNING = re.compile(r"warn(ing)?\b", re.IGNORECASE)
# creditflow's own plain progress line (pipelines/progress.py), whose note may name a verdict ("window 2026-03: warn")
PROGRESS = re.compile(r"^[\w ]+: [\d,]+(/[\d,]+)? [\w ]*\(\d+ s\)(, |$)")


def warning_lines(stderr: str) -> list[str]:
    """Lines of stderr that warn (Python warnings, log warnings), apart from creditflow's own progress lines."""
    return [line for line in stderr.splitlines() if WARNING.search(line) and not PROGRESS.match(line)]


@dataclass
class Example:
    line: int
    command: str
    exit_code: int
    skip: str | None


def examples(text: str, skips: list[tuple[str, str]] = SKIPS) -> list[Example]:
    """The commands of every ```bash block, in order: one per line (or per `&&` segment), with expected exit code."""
    found = []
    for block in re.finditer(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        first = text[: block.start()].count("\n") + 2
        for offset, raw in enumerate(block.group(1).splitlines()):
            command, _, comment = raw.partition("  #")
            if not command.strip() or command.lstrip().startswith("#"):
                continue
            expected = re.search(r"exit (\d)", comment)
            segments = [s.strip().removeprefix(".venv/bin/") for s in command.split("&&")]
            for i, segment in enumerate(segments):
                skip = next((why for pattern, why in skips if re.search(pattern, segment)), None)
                code = int(expected.group(1)) if expected and i == len(segments) - 1 else 0
                found.append(Example(first + offset, segment, code, skip))
    return found


def fresh_copy(destination: Path) -> Path:
    """The files a clone would have: tracked ones, and new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)
    return destination


def environment(folder: Path, shims: Path) -> dict[str, str]:
    shims.mkdir(exist_ok=True)
    for tool, module in (("creditflow", "pipelines.cli"), ("mlflow", "mlflow")):
        (shims / tool).write_text(f'#!/bin/sh\nexec "{sys.executable}" -m {module} "$@"\n')
        (shims / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_") and k != "PYTHONPATH"}
    return {
        **env,
        # the shims first (the copy's code), then the environment's own tools (`mlflow models serve` runs uvicorn)
        "PATH": os.pathsep.join([str(shims), str(Path(sys.executable).parent), env.get("PATH", "")]),
        "PYTHONPATH": str(folder),  # the copy's code, not the checkout's
        "CREDITFLOW_USER": "alice",
        "OMP_NUM_THREADS": "1",  # tests never run XGBoost on more than one thread
        "DO_NOT_TRACK": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


@dataclass
class Walk:
    failures: list[str]
    skipped: list[str]
    timings: list[str]


def walk(page: str, text: str, folder: Path, env: dict[str, str], skips: list[tuple[str, str]] = SKIPS) -> Walk:
    """Run every example of `text` (the page `page`) in `folder`, in order; what failed, was skipped, took how long."""
    result, env = Walk([], [], []), dict(env)
    for example in examples(text, skips):
        where = f"{page}:{example.line} {example.command}"
        if example.skip:
            result.skipped.append(f"{where}: {example.skip}")
            continue
        started = time.perf_counter()
        if SERVER.match(example.command):
            problem = serve(example.command, folder, env)
        elif example.command.startswith("export "):
            problem = export(example.command, folder, env)
        else:
            done = subprocess.run(
                ["bash", "-c", example.command], cwd=folder, env=env, capture_output=True, text=True, timeout=1200
            )
            warnings = warning_lines(done.stderr)
            problem = None
            if done.returncode != example.exit_code or warnings:
                problem = (
                    f"exit {done.returncode}, expected {example.exit_code}\n  warnings: {warnings}"
                    f"\n  stdout: {done.stdout[-1500:]}\n  stderr: {done.stderr[-1500:]}"
                )
        result.timings.append(f"{time.perf_counter() - started:6.1f} s  {page}:{example.line} {example.command[:80]}")
        if problem:
            result.failures.append(f"{where}\n  {problem}")
    return result


def export(command: str, folder: Path, env: dict[str, str]) -> str | None:
    """Carry out an `export` line: its variables, as bash expands them, join `env`; a problem, or None."""
    done = subprocess.run(["bash", "-c", f"{command} && env -0"], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr[-1500:]}"
    for line in done.stdout.split("\0"):
        name, equals, value = line.partition("=")
        if equals:
            env[name] = value
    return None


def serve(command: str, folder: Path, env: dict[str, str], timeout: float = 300) -> str | None:
    """Start a server line where it stands, wait for its health check, stop it; a problem, or None."""
    port = re.search(r"(?:-p|--port)[ =](\d+)", command)
    url = f"http://127.0.0.1:{port.group(1) if port else 5000}"
    url += "/ping" if "models serve" in command else "/health"
    log = folder / f".server-{time.monotonic_ns()}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return f"the server exited ({process.returncode}) before answering {url}:\n{log.read_text()[-2000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a local server)
                    if response.status == 200:
                        return None
            except OSError:
                time.sleep(1)
        return f"no answer from {url} within {timeout:.0f} s:\n{log.read_text()[-2000:]}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.unlink(missing_ok=True)
