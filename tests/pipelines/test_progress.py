"""Progress: a live line on a terminal with log lines above it, plain throttled lines elsewhere."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from pipelines import progress as progress_module
from pipelines.progress import Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    return clock


def test_plain_lines_at_start_at_most_every_five_seconds_and_at_the_end(clock, caplog):
    caplog.set_level(logging.INFO, logger="creditflow")
    with Progress("trials", 20, "trials", stream=io.StringIO()) as progress:
        for _ in range(10):
            clock.now += 1.0
            progress.update(1, "best 0.7800")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "trials: 0/20 trials (0 s)",
        "trials: 5/20 trials (5 s), best 0.7800",
        "trials: 10/20 trials (10 s), best 0.7800",
        "trials: 10/20 trials (10 s), done",
    ]


def test_a_terminal_gets_a_live_bar_and_log_lines_do_not_break_it(clock, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    root = logging.getLogger()
    handler = logging.StreamHandler(terminal)  # what logging.basicConfig(stream=sys.stderr) installs
    root.addHandler(handler)
    try:
        with Progress("scoring", 300, "rows", stream=terminal) as progress:
            progress.update(100)
            logging.getLogger("creditflow").warning("a log line while the bar runs")
            progress.update(200)
        restored = handler in root.handlers  # the console handler is back once the bar closed
    finally:
        root.removeHandler(handler)
    text = terminal.getvalue()
    assert "scoring" in text and "300/300" in text
    # the log line stands on a line of its own, not glued to a half-drawn bar
    assert "\na log line while the bar runs\n" in text.replace("\r", "\n")
    assert restored


def test_closing_twice_logs_once(clock, caplog):
    caplog.set_level(logging.INFO, logger="creditflow")
    progress = Progress("windows", 1, "windows", stream=io.StringIO())
    progress.update(1)
    progress.close()
    progress.close()
    assert [r.getMessage() for r in caplog.records][-1] == "windows: 1/1 windows (0 s), done"
    assert sum("done" in r.getMessage() for r in caplog.records) == 1


def test_two_live_bars_closed_in_any_order_restore_the_console_handler(clock, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    root = logging.getLogger()
    handler = logging.StreamHandler(terminal)
    root.addHandler(handler)
    try:
        challenger = Progress("challenger", unit="fits", stream=terminal)  # on its own thread in a run
        evaluating = Progress("evaluating", 5, "steps", stream=terminal)
        assert handler not in root.handlers  # log lines go above the bars meanwhile
        challenger.close()
        evaluating.close()
        restored = handler in root.handlers
    finally:
        root.removeHandler(handler)
    assert restored
