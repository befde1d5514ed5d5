"""The reviewer's day in a real browser: Debian's headless Chromium, driven by Playwright, against the team
server. The UI shows a generic toast or an inline message on failure, and the tags table scrolls, so each
step asserts on the HTTP status of the save request itself. A screenshot per step lands in the test's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MODEL, VERSION = "german_credit", "1"  # registered by ds1 through `creditflow run` (the session's server)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Reviewer:
    """One person's browser session, logged in with basic auth."""

    def __init__(self, browser, server, user: str, shots: Path):
        self.context = browser.new_context(
            http_credentials={"username": user, "password": server.passwords[user]},
            viewport={"width": 1400, "height": 1000},
        )
        self.page, self.server, self.user, self.shots = self.context.new_page(), server, user, shots

    def open_version(self, model: str = MODEL, version: str = VERSION) -> None:
        self.page.goto(f"{self.server.uri}/#/models/{model}/versions/{version}")
        self.page.reload()  # a hash route alone would show what the single-page app already fetched
        self.page.get_by_placeholder("Name", exact=True).wait_for(timeout=30_000)

    def edit_tag(self, key: str, value: str) -> int:
        """Edit an existing tag in the tags table; the HTTP status of the save."""
        row = self.page.get_by_role("row").filter(has_text=key)
        row.get_by_test_id("editable-table-button-edit").click()
        self.page.get_by_test_id("editable-table-edited-input").fill(value)
        with self.page.expect_response(lambda r: "/model-versions/set-tag" in r.url) as saved:
            self.page.get_by_test_id("editable-table-button-save").click()
        return saved.value.status

    def add_tag(self, key: str, value: str) -> int:
        self.page.get_by_placeholder("Name", exact=True).fill(key)
        self.page.get_by_placeholder("Value", exact=True).fill(value)
        with self.page.expect_response(lambda r: "/model-versions/set-tag" in r.url) as saved:
            self.page.get_by_test_id("add-tag-button").click()
        return saved.value.status

    def set_alias(self, alias: str) -> tuple[int, str]:
        self.page.get_by_title("Add aliases").click()
        dialog = self.page.get_by_role("dialog")
        dialog.get_by_role("combobox").fill(alias)
        dialog.get_by_role("combobox").press("Enter")
        with self.page.expect_response(lambda r: "/registered-models/alias" in r.url) as saved:
            dialog.get_by_role("button", name="Save aliases").click()
        return saved.value.status, saved.value.text()

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(300)  # let the UI render the answer
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def test_the_reviewers_day(team_server, browser, tmp_path):
    server = team_server
    rev1, ds1 = Reviewer(browser, server, "rev1", tmp_path), Reviewer(browser, server, "ds1", tmp_path)

    rev1.open_version()
    rev1.shot("01-rev1-opens-the-version")
    run = server.client("rev1").get_model_version(MODEL, VERSION).tags["validation.review_run"]  # the validator's
    experiment = server.client("rev1").get_run(run).info.experiment_id
    rev1.page.goto(f"{server.uri}/#/experiments/{experiment}/runs/{run}/artifacts")
    rev1.page.get_by_text("model_card", exact=True).first.click()
    rev1.page.get_by_text("model_card.html", exact=True).first.click()
    rev1.page.wait_for_timeout(1500)
    rev1.shot("02-rev1-reads-the-evidence")

    ds1.open_version()
    assert ds1.edit_tag("approval.status", "approved") == 403  # the author approving their own version
    ds1.shot("03-ds1-self-approval-refused")

    rev1.open_version()
    assert rev1.edit_tag("approval.status", "approved") == 200
    assert rev1.add_tag("approval.comment", "evidence read in the UI, gates fine") == 200
    rev1.shot("04-rev1-approves")
    tags = server.client("rev1").get_model_version(MODEL, VERSION).tags
    assert tags["approval.reviewer"] == "rev1" and tags["approval.evidence"]  # recorded by the server

    ds1.open_version()
    status, body = ds1.set_alias("champion")
    assert status == 403 and "may not move champion" in json.loads(body)["message"]
    ds1.shot("05-ds1-champion-refused")

    promoted = server.cli("rev2", "promote", MODEL, VERSION)
    assert promoted.exit_code == 0, promoted.output
    rev1.open_version()
    rev1.shot("06-champion-after-rev2-promotes")

    forged = server.rest(
        "ds2",
        "POST",
        "/api/2.0/mlflow/model-versions/set-tag",
        json={"name": MODEL, "version": VERSION, "key": "approval.reviewer", "value": "rev2"},
    )
    assert forged.status_code == 403

    steps = [(r["username"], r["action"], r["target"], r["decision"]) for r in server.audit(MODEL)]
    for step in [
        ("ds1", "register", "", "allowed"),
        ("ds1", "set_version_tag", "approval.status", "refused"),
        ("rev1", "review", "approval.status", "allowed"),
        ("rev1", "review", "approval.comment", "allowed"),
        ("ds1", "promote", "champion", "refused"),
        ("rev2", "promote", "champion", "allowed"),
        ("ds2", "set_version_tag", "approval.reviewer", "refused"),
    ]:
        assert step in steps, step
    assert server.client("rev1").get_registered_model(MODEL).aliases == {"champion": VERSION}
    assert len(list(tmp_path.glob("*.png"))) == 6
