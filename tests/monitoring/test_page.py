"""The monitoring page of a window (monitoring/page.py) through `creditflow monitor`: the same verdict and words as
the command line, offline, linked both ways with the model version; and outcome bands against the holdout."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.fairness_spec import FairnessPolicy
from features.spec import load_spec
from features.synthetic import BookOptions, generate_book
from monitoring.assess import assess
from monitoring.page import PageContext, window_page
from tests.conftest import CONSUMER_SPEC, REPO
from tests.monitoring.conftest import LAST, MODEL, book, invoke, window_runs

PAGE = "monitoring/window_report.html"


class Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by the heading before it."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heading, self._in_heading, self._cell = "", False, None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            self.heading, self._in_heading = "", True
        elif tag == "table":
            self.tables[self.heading.strip()] = []
        elif tag == "tr":
            self.tables[list(self.tables)[-1]].append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("h2", "h3"):
            self._in_heading = False
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[list(self.tables)[-1]][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_heading:
            self.heading += data
        if self._cell is not None:
            self._cell += data


def page_of(run) -> str:
    return Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=PAGE)).read_text()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def cli_findings(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if re.match(r"\s+(alert|warn|note): ", line)]


def assert_offline(page: str) -> None:
    assert "<script" not in page and not re.search(r"(src|href)=['\"]?(https?:)?//", page)


@pytest.mark.slow
def test_a_drift_scenario_page_states_the_cli_verdict_in_the_same_words(store, tmp_path):
    result = invoke(
        "monitor", f"{MODEL}/1", "--current", book(tmp_path / "b.parquet", "income_shock"), "--window", LAST
    )
    assert result.exit_code == 1, result.output
    [run] = window_runs(store, window=LAST)
    page = page_of(run)
    assert_offline(page)
    assert len(page) < 200_000  # the verdict opens at once; Evidently's megabytes stay in their own file
    text = text_of(page)
    assert "Status: ALERT" in text and text.index("Status: ALERT") < text.index("Drift per column")
    findings = cli_findings(result.output)
    assert findings and all(f in text for f in findings)
    drift = Tables()
    drift.feed(page)
    levels = {row[0]: row[-1] for row in drift.tables["Drift per column"][1:]}
    said = {m.group(2): m.group(1).upper() for m in re.finditer(r"(alert|warn): PSI of (\w+) ", result.output)}
    assert said["income"] == "ALERT" and all(levels[column] == level for column, level in said.items())
    assert all(level == "OK" for column, level in levels.items() if column not in said and "(score)" not in column)
    assert "Limits applied" in drift.tables and "drift_report.html" in page  # Evidently's detail, linked


@pytest.mark.slow
def test_a_same_distribution_window_is_ok_on_the_page_and_links_back_to_its_version(store, tmp_path):
    result = invoke("monitor", f"{MODEL}/1", "--current", book(tmp_path / "b.parquet"), "--window", LAST)
    assert result.exit_code == 0, result.output
    [run] = window_runs(store, window=LAST)
    text = text_of(page_of(run))
    assert "Status: OK" in text and "No labels in this window yet" in text
    assert run.data.tags["monitoring.model_uri"] == f"models:/{MODEL}/1"
    assert f"(#/models/{MODEL}/versions/1)" in run.data.tags["mlflow.note.content"]
    version = mlflow.MlflowClient(store).get_model_version(MODEL, "1")
    review, gates, monitoring = version.description.split("\n\n")
    assert review.startswith("**Review page**") and gates.startswith("Gates: ")  # registration's paragraphs are kept
    assert monitoring.startswith(f"Monitoring: latest window {LAST} is OK") and run.info.run_id in monitoring
    assert f"/runs/{run.info.run_id}/artifactPath/{PAGE}" in monitoring
    drifted = book(tmp_path / "c.parquet", "income_shock")
    assert invoke("monitor", f"{MODEL}/1", "--current", drifted, "--window", LAST, "--force").exit_code == 1
    described = mlflow.MlflowClient(store).get_model_version(MODEL, "1").description.split("\n\n")
    assert len(described) == 3 and described[2].startswith(f"Monitoring: latest window {LAST} is ALERT")


@pytest.mark.slow
def test_a_same_distribution_labelled_window_flags_no_score_band(store, tmp_path):
    result = invoke("monitor", f"{MODEL}/1", "--current", book(tmp_path / "b.parquet", labelled=True), "--window", LAST)
    assert result.exit_code in (0, 1), result.output  # fairness findings on the biased generated book may warn
    assert "score band" not in result.output
    [run] = window_runs(store, window=LAST)
    assert run.data.metrics["outcome.bands_flagged"] == 0
    page = page_of(run)
    tables = Tables()
    tables.feed(page)
    bands = tables.tables["Bad rate by score band"]
    assert len(bands) == 11 and all(row[-1] == "" for row in bands[1:])
    expected = [float(row[2].split("%")[0]) for row in bands[1:]]
    assert sum(rate == 0 for rate in expected) <= 1  # the holdout's rates, not in-sample zeros
    assert "oot holdout at registration" in text_of(page) and "gender" in tables.tables


@pytest.mark.slow
def test_a_band_far_worse_than_the_holdout_is_flagged_on_the_cli_and_the_page(store, tmp_path):
    path = book(tmp_path / "b.parquet", labelled=True)
    frame = pd.read_parquet(path)
    frame.loc[frame.index % 2 == 0, "default_12m"] = 1  # half the window defaults: every band is worse
    frame.to_parquet(path)
    result = invoke("monitor", f"{MODEL}/1", "--current", path, "--window", LAST)
    assert "warn: outcomes: score band" in result.output and "higher than the" in result.output
    [run] = window_runs(store, window=LAST)
    assert run.data.metrics["outcome.bands_flagged"] >= 8
    assert "WARN: higher" in text_of(page_of(run))


@pytest.mark.slow
def test_a_version_registered_without_holdout_bands_shows_them_not_judged(store, tmp_path, monkeypatch):
    # its run stores no policy: the spec's policy comes by name from the project's policy folder
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(REPO / "experiments" / "policies"))
    client = mlflow.MlflowClient(store)
    first = client.get_model_version(MODEL, "1")
    expected = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(run_id=first.run_id, artifact_path="monitoring/expected.json")
        ).read_text()
    )
    assert set(expected["bands"]) == {"edges", "n", "bads", "mean_pd"} and sum(expected["bands"]["n"]) > 1000
    old = client.create_run(client.get_run(first.run_id).info.experiment_id)  # a version as registered before
    folder = mlflow.artifacts.download_artifacts(run_id=first.run_id, artifact_path="spec", dst_path=str(tmp_path))
    client.log_artifacts(old.info.run_id, folder, "spec")
    folder = mlflow.artifacts.download_artifacts(
        run_id=first.run_id, artifact_path="monitoring", dst_path=str(tmp_path / "m")
    )
    legacy = {k: v for k, v in expected.items() if k != "bands"}
    Path(folder, "expected.json").write_text(json.dumps(legacy))
    client.log_artifacts(old.info.run_id, folder, "monitoring")
    client.set_terminated(old.info.run_id)
    client.create_model_version(MODEL, first.source, run_id=old.info.run_id)
    path = book(tmp_path / "b.parquet", labelled=True)
    result = invoke("monitor", f"{MODEL}/2", "--current", path, "--window", LAST)
    assert "score bands compared with the training sample's own bad rates" in result.output
    [run] = window_runs(store, version="2")
    assert "shown, not judged" in text_of(page_of(run)) and run.data.metrics["outcome.bands_flagged"] == 0


@pytest.mark.parametrize("labelled", [False, True])
def test_the_page_renders_from_an_assessment_alone(labelled):
    """Pure: every section present, no NaN or Python literals shown, nothing fetched from elsewhere."""
    spec = load_spec(CONSUMER_SPEC)
    reference, current = (generate_book(BookOptions(rows=3000, seed=s)) for s in (1, 2))
    if not labelled:
        current = current.drop(columns="default_12m")
    rng = np.random.default_rng(0)
    scores = rng.beta(2, 8, 3000), rng.beta(2, 8, 3000)
    result = assess(spec, reference, current, *scores, {"holdout": "oot", "auc": 0.8, "ks": 0.45}, LAST)
    context = PageContext(MODEL, "1", f"models:/{MODEL}/1", "a sample", FairnessPolicy(), "oot holdout")
    page = window_page(context, result, spec.monitoring)
    assert_offline(page)
    text = text_of(page)
    assert not re.search(r"\b(nan|NaN|None|True|False)\b", text)
    assert ("Bad rate by score band" in text) == labelled and "Data quality" in text and "Limits applied" in text
