"""The review page as a validator sees it: opened offline in headless Chromium, every section and chart there.

Built from the German Credit run under the shipped policy (fairness fails honestly, with the less-discriminatory
alternative), through the CLI.
"""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import pytest

from tests.conftest import CARD_SECTIONS

CHROMIUM = Path("/usr/bin/chromium")
CHARTS = {
    "Discrimination with 95% intervals and the policy's minima",
    "ROC curves",
    "Kolmogorov-Smirnov separation",
    "Cumulative gains",
    "Predicted against observed default rate",
    "PSI on the test sample",
    "Approval rate per group (count in brackets)",
    "Gaps between groups with their intervals and limits",
    "Global importance",
}


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (test extra) is missing")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


def page_file(uri: str, version: str) -> Path:
    client = mlflow.MlflowClient(uri)
    run = client.get_run(client.get_model_version("german_credit", version).run_id)
    return Path(unquote(urlparse(run.info.artifact_uri).path)) / "model_card" / "model_card.html"


@pytest.mark.slow
def test_the_review_page_opens_offline_with_every_section_and_chart(honest, browser):
    version = mlflow.MlflowClient(honest).get_model_version("german_credit", "1")
    page = browser.new_page()
    requested = []

    def offline(route):
        requested.append(route.request.url)
        route.continue_() if route.request.url.startswith("file:") else route.abort()

    page.route("**/*", offline)
    page.goto(page_file(honest, "1").as_uri())
    assert requested == [page_file(honest, "1").as_uri()]  # charts are embedded: nothing else is fetched

    assert page.locator("h2").all_inner_texts() == CARD_SECTIONS
    for heading in CARD_SECTIONS[:-1]:
        text = page.locator("section", has=page.locator("h2", has_text=heading)).first.inner_text()
        assert len(text) > len(heading) + 80, f"section {heading!r} is nearly empty"
    images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert CHARTS <= {alt for alt, _, _ in images}
    assert all(complete and width > 100 for _, complete, width in images), images

    body = page.inner_text("body")
    assert not re.search(r"\b(NaN|nan|True|False|None)\b", body) and "`" not in body
    assert "validation.fairness\tfailed" in body and "consumer-credit v2" in body
    assert version.tags["lineage.data_digest"] in body and version.tags["validation.policy_digest"] in body
    assert "Small test sample: 200 applicants, 60 defaults" in body  # a limitation derived from the evidence
    assert "cron 0 6 2 * *" in body  # every feature has a reason text now (a missing one is a spec error)
    assert "challenger" in page.locator("section", has=page.locator("h2", has_text="Less-discriminatory")).inner_text()
    assert "Pending: no review decision yet." in body
