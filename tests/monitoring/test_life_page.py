"""The life page through the CLI: three monthly windows with outcomes arriving late, then `creditflow report`,
read in headless Chromium offline: charts render, verdicts match the window runs and `status`."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from tests.monitoring.conftest import MODEL, invoke, window_runs
from tests.pipelines.reports.test_review_page import browser  # noqa: F401  (the headless Chromium fixture)

pytestmark = pytest.mark.slow
MONTHS = ("2025-10", "2025-11", "2025-12")


@pytest.fixture
def lived(store, tmp_path) -> Path:
    """Version 1 monitored for three months on a calibration-drifted book, each month's outcomes as of that month."""
    book = tmp_path / "book.parquet"
    as_of = [a for m in MONTHS for a in ("--outcomes-as-of", m)]
    generated = invoke("generate", book, "--rows", 24_000, "--seed", 4, "--vintages", 24, "--calibration-drift", *as_of)
    assert generated.exit_code == 0, generated.output
    for month in MONTHS:
        outcomes = tmp_path / f"book.outcomes-{month}.csv"
        result = invoke("monitor", f"{MODEL}/1", "--current", book, "--window", month, "--outcomes", outcomes)
        assert result.exit_code in (0, 1), result.output
    return tmp_path


def test_report_refuses_to_overwrite_and_needs_a_monitored_version(lived, store):
    out = lived / "life.html"
    out.write_text("keep me")
    result = invoke("report", MODEL, out, "--version", 1)
    assert result.exit_code == 2 and "exists" in result.output and out.read_text() == "keep me"
    result = invoke("report", MODEL, lived / "book.parquet", "--version", 1)
    assert result.exit_code == 2 and "*.html" in result.output
    result = invoke("report", MODEL, lived / "other.html", "--version", 9)
    assert result.exit_code == 2 and not (lived / "other.html").exists()


def test_the_life_page_reads_offline_and_matches_status(lived, store, browser):  # noqa: F811
    out = lived / "life.html"
    result = invoke("report", MODEL, out, "--version", 1)
    assert result.exit_code == 0, result.output
    page = browser.new_page()
    requested = []

    def offline(route):
        requested.append(route.request.url)
        route.continue_() if route.request.url.startswith("file:") else route.abort()

    page.route("**/*", offline)
    page.goto(out.as_uri())
    assert requested == [out.as_uri()]  # nothing fetched: charts are inline SVG
    charts = page.evaluate(
        "Array.from(document.querySelectorAll('svg.chart')).map(s => [s.getAttribute('aria-label'), "
        "s.getBoundingClientRect().width, s.querySelectorAll('circle.point').length])"
    )
    titles = {title for title, _, _ in charts}
    assert {"Score PSI", "PSI per input column", "Verdict per window (0 ok, 1 warn, 2 alert)"} <= titles
    assert any(t.startswith("Vintage back-test at 12 months") for t in titles)
    assert any(t.startswith("Label-free estimate of the default rate") for t in titles)
    assert all(width > 500 and points > 0 for _, width, points in charts), charts
    assert page.locator("svg.chart line.limit").count() >= 4  # the policy's PSI levels drawn

    shown = dict(zip(page.locator("tr.window td:first-child").all_inner_texts(),
                     page.locator("tr.window td.verdict").all_inner_texts()))  # fmt: skip
    recorded = {r.data.tags["monitoring.window"]: r.data.tags["monitoring.status"] for r in window_runs(store)}
    assert shown == recorded and list(shown) == list(MONTHS)
    status = json.loads(invoke("status", MODEL, "--json").output)
    [row] = [v for v in status["versions"] if str(v["version"]) == "1"]
    assert page.inner_text("#status") == row["monitoring"] == shown[MONTHS[-1]]
    body = page.inner_text("body")
    assert "vintage back-test" in body.lower() and "Band-cohort cells that warned" in body

    version = mlflow.MlflowClient(store).get_model_version(MODEL, "1")
    assert "Life page:" in version.description and "monitoring/life.html" in version.description
