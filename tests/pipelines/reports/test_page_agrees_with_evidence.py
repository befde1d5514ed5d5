"""What the reviewer reads agrees with the evidence it comes from (issue 27, item 6), end to end: a version is
generated (`creditflow run` on a small generated book, a private SQLite store), then its review page, its version
description and its tags are read back as a reviewer gets them and every number they show is compared with the
evidence objects on the run (metrics, fairness/fairness.json, policy/applied_limits.json, the monitoring
reference) and with the version's tags."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from features.monitoring_spec import MonitoringSpec
from pipelines.core import tags
from pipelines.evidence.reference import REFERENCE_PATH
from pipelines.reports.card_evidence import CARD_METRICS
from pipelines.reports.formats import number
from pipelines.reports.review_page import CARD_PATH, PAGE_PATH

pytestmark = pytest.mark.slow  # the session's consumer_loans store (one `creditflow run`)
MODEL = "consumer_loans"


class _Page(HTMLParser):
    """Sections of the review page by heading: each a list of ('p', text) and ('table', [[cell, ...], ...])."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[tuple[str, object]]] = {}
        self._heading: str | None = None
        self._text: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("h2", "p", "td", "th"):
            self._text, self._tag = [], tag
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag != self._tag and tag != "table":
            return
        text = "".join(self._text or []).strip()
        if tag == "h2":
            self._heading = text
            self.sections[text] = []
        elif tag == "p" and self._heading is not None:
            self.sections[self._heading].append(("p", text))
        elif tag in ("td", "th") and self._rows is not None:
            self._rows[-1].append(text)
        elif tag == "table" and self._heading is not None and self._rows is not None:
            self.sections[self._heading].append(("table", self._rows))
            self._rows = None
        self._text, self._tag = None, ""

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def tables(page: _Page, heading: str) -> list[pd.DataFrame]:
    found = [rows for kind, rows in page.sections[heading] if kind == "table"]
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in found]  # type: ignore[index]


def paragraphs(page: _Page, heading: str) -> list[str]:
    return [str(text) for kind, text in page.sections[heading] if kind == "p"]


@pytest.fixture(scope="module")
def version(consumer_store, tmp_path_factory):
    """consumer_loans version 1 (`creditflow run` on 8,000 generated applicants: out-of-time split, fairness by
    gender and age; the session's store, read only), with what a reviewer reads (page, card, description, tags) and
    the evidence on its run."""
    uri = f"sqlite:///{consumer_store / 'mlflow.db'}"
    downloads = tmp_path_factory.mktemp("downloads")
    client = mlflow.MlflowClient(uri)
    found = client.get_model_version(MODEL, "1")
    run = found.run_id

    def artifact(path: str) -> Path:
        local = mlflow.artifacts.download_artifacts(
            run_id=run, artifact_path=path, tracking_uri=uri, dst_path=str(downloads)
        )
        return Path(local)

    page = _Page()
    page.feed(artifact(PAGE_PATH).read_text())
    return {
        "page": page,
        "card": artifact(CARD_PATH).read_text(),
        "description": found.description,
        "tags": found.tags,
        "metrics": client.get_run(run).data.metrics,
        "fairness": json.loads(artifact("fairness/fairness.json").read_text()),
        "limits": json.loads(artifact("policy/applied_limits.json").read_text()),
        "reference_rows": len(pd.read_parquet(artifact(REFERENCE_PATH))),
        "monitoring": MonitoringSpec.model_validate(
            yaml.safe_load(artifact(f"spec/{MODEL}.yaml").read_text()).get("monitoring", {})
        ).model_dump(),
    }


def shown(value: float, low: float | None = None, high: float | None = None) -> str:
    """A value as the page shows it, with its interval when it has one."""
    if low is None or high is None:  # no interval is computed for this metric
        return number(value)
    span = " (n/a)" if math.isnan(low) else f" ({number(low)} – {number(high)})"
    return number(value) + span


def test_every_verdict_on_the_page_and_in_the_description_is_the_tag(version):
    gates = {k.removeprefix(tags.VALIDATION_PREFIX): v for k, v in version["tags"].items() if _is_gate(k)}
    verdicts = tables(version["page"], "Verdicts and limits")[0]
    assert dict(zip(verdicts["gate"], verdicts["verdict"])) == {f"validation.{g}": v for g, v in gates.items()}
    listed = re.search(r"Gates: (.*) \(policy (.*)\)\.", version["description"])
    assert listed is not None, version["description"]
    assert dict(item.rsplit(" ", 1) for item in listed.group(1).split(", ")) == gates
    assert listed.group(2) == version["tags"][tags.POLICY]
    judged = paragraphs(version["page"], "Verdicts and limits")[0]
    assert f"Judged under policy {version['tags'][tags.POLICY]} (digest {version['tags'][tags.POLICY_DIGEST]})" in (
        judged
    )


def _is_gate(key: str) -> bool:
    return key.startswith(tags.VALIDATION_PREFIX) and key not in (tags.POLICY, tags.POLICY_DIGEST)


def test_every_metric_and_interval_is_the_logged_one(version):
    m = version["metrics"]
    table = tables(version["page"], "Performance")[0].set_index("metric")
    samples = [c for c in table.columns if f"{c}_auc" in m]
    assert samples == ["valid", "test", "oot"]
    for sample in samples:
        for metric in CARD_METRICS:
            key = f"{sample}_{metric}"
            expected = shown(m[key], m.get(f"{key}_low"), m.get(f"{key}_high")) if key in m else "n/a"
            assert table.loc[metric, sample] == expected, key
        assert table.loc["applicants", sample] == number(int(m[f"{sample}_n"]))
    card = version["card"]
    for metric in ("auc", "gini", "ks", "log_loss"):  # the Markdown card shows the same cells
        assert f"| {metric} | {' | '.join(table.loc[metric, s] for s in samples)} |" in card


def test_intervals_are_labelled_by_their_method(version):
    """AUC and Gini by DeLong (Gini's interval is the AUC's, 2 x AUC - 1), the others by a bootstrap."""
    m = version["metrics"]
    for sample in ("test", "oot"):
        assert m[f"{sample}_gini_low"] == pytest.approx(2 * m[f"{sample}_auc_low"] - 1)
        assert m[f"{sample}_gini_high"] == pytest.approx(2 * m[f"{sample}_auc_high"] - 1)
    text = " ".join(paragraphs(version["page"], "Performance") + paragraphs(version["page"], "Verdicts and limits"))
    assert "DeLong's for AUC and Gini" in text and "DeLong for AUC and Gini" in text
    assert not re.search(r"bootstrap[^.]*\b(AUC|Gini)\b", text.replace("DeLong for AUC and Gini, percentile ", ""))


def limit_rows(version) -> pd.DataFrame:
    return tables(version["page"], "Verdicts and limits")[1]


def test_every_performance_and_stability_limit_is_the_applied_one_beside_the_logged_value(version):
    m, limits, rows = version["metrics"], version["limits"], limit_rows(version)
    performance = rows[rows["gate"] == "performance"]
    for metric, bound in limits["performance"]["minimum"].items():
        for sample in ("test", "oot"):
            row = performance[(performance["measure"] == metric) & (performance["sample"] == sample)].iloc[0]
            key = f"{sample}_{metric}"
            assert row["measured"] == number(m[key])
            assert row["95% interval"] == f"{number(m[f'{key}_low'])} – {number(m[f'{key}_high'])}"
            assert row["limit"].startswith(f">= {bound:g}")
    stability = rows[rows["gate"] == "stability"]
    levels = limits["stability"]
    assert len(stability) == 4
    for row in stability.itertuples():
        key = "score_psi" if row.measure == "score PSI" else "max_csi"
        assert row.measured == number(m[f"{row.sample}_{key}"])
        assert row.limit == f"< {levels['alert']:g} (warn {levels['warn']:g})"


def test_the_decline_rate_and_calibration_rows_are_the_logged_values_under_the_applied_limits(version):
    m, limits, rows = version["metrics"], version["limits"], limit_rows(version)
    performance, calibration = limits["performance"], limits["calibration"]
    for sample in ("test", "oot"):
        mine = rows[rows["sample"] == sample].set_index("measure")
        decline = mine.loc["decline rate at the cutoff"]
        assert decline["measured"] == number(m[f"{sample}_decline_rate"])
        assert decline["limit"] == f"{performance['min_decline_rate']:.0%} – {performance['max_decline_rate']:.0%}"
        gap = mine.loc["|mean PD / default rate - 1|"]
        assert gap["measured"] == number(m[f"{sample}_citl_gap"])
        assert gap["limit"] == (
            f"<= {calibration['max_citl_gap']:g} unless p >= {calibration['min_p_value']:g} "
            f"(p = {number(m[f'{sample}_citl_p_value'])})"
        )
        bands = mine.loc["score bands rejected"]
        assert bands["measured"] == number(m[f"{sample}_bands_rejected"])


def test_every_fairness_ratio_is_the_gate_s(version):
    fairness, rows = version["fairness"], limit_rows(version)
    shown_rows = rows[rows["gate"] == "fairness"]
    groupings = fairness["groupings"]
    assert groupings
    names = {"adverse impact ratio": "air", "approval-rate gap": "dp_difference", "equalized-odds gap": "eo_difference"}
    checked = 0
    for row in shown_rows.itertuples():
        grouping, what = row.measure.split(": ", 1)
        found = groupings[grouping]
        key = names[what]
        assert row.measured == number(found["disparity"][key]), row.measure
        low, high = found["intervals"].get(key, [math.nan, math.nan])
        assert row._5 == ("n/a" if low is None or math.isnan(low) else f"{number(low)} – {number(high)}")
        checked += 1
    assert checked == 3 * len(groupings)


def test_the_monitoring_plan_states_the_stored_reference_and_the_spec_s_limits(version):
    plan = tables(version["page"], "Monitoring plan")[0].set_index("what")["plan"]
    monitoring = version["monitoring"]  # the spec logged on the run, with its defaults
    stored, most = version["reference_rows"], monitoring["reference_rows"]
    assert plan["reference"].startswith(f"{stored:,} training rows stored") and f"= {most:,};" in plan["reference"]
    psi, score = monitoring["psi"], monitoring["score"]
    assert f"PSI warn {psi['warn']:g}, alert {psi['alert']:g}" in plan["input drift"]
    assert plan["score drift"] == f"PSI warn {score['warn']:g}, alert {score['alert']:g}"
