"""Applicant notices (issue 25, item 3): declined and referred applicants only, the spec's reason words (at most
four, in order, never a generic one), the rights and the lender's contact, nothing else of the applicant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import POLICY, write_spec
from tests.pipelines.conftest import relaxed_german_spec

TEMPLATES = POLICY.parent / "notices"
BASE = {"approve": 0.1, "refer": 0.46, "decline": 0.6}  # German Credit's rule: refer in [0.45, 0.55)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def project(folder: Path, **changes) -> Path:
    """German Credit's spec with the shipped policy and its notice templates in the project's policy folder."""
    spec = write_spec(folder, **{"data.id": "applicant_id", **changes})
    shutil.copytree(TEMPLATES, folder / "policies" / "notices", dirs_exist_ok=True)
    return spec


def scored_book(spec_texts: dict[str, str], rows: int = 40) -> pd.DataFrame:
    """A scored file as a lender has it after joining applicant data back: ids, PD, decisions, reasons in the spec's
    words, and PII and sensitive columns with values distinctive enough to grep for."""
    texts = list(spec_texts.values())
    decisions = ["approve", "decline", "refer", "decline"] * (rows // 4)
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:04d}" for i in reversed(range(rows))],  # not in id order
            "probability_of_default": [BASE[d] + 0.001 * i for i, d in enumerate(decisions)],
            "decision": decisions,
        }
    )
    for k in range(4):
        frame[f"reason_{k + 1}"] = [
            None if d == "approve" else texts[(i + k) % len(texts)] for i, d in enumerate(decisions)
        ]
    frame["name"] = [f"Zelda Quuxworth {i}" for i in range(rows)]
    frame["phone"] = [f"+49-555-{i:06d}" for i in range(rows)]
    frame["personal_status_and_sex"] = ["female : divorced/separated/married", "male : single"] * (rows // 2)
    frame["foreign_worker"] = ["foreignyes", "foreignno"] * (rows // 2)
    frame["age_in_years"] = [f"age{20 + i}" for i in range(rows)]
    return frame


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_notices_for_declined_and_referred_only_in_id_order_and_nothing_sensitive(tmp_path, locale):
    spec = project(tmp_path)
    import yaml

    texts = yaml.safe_load(spec.read_text())["reasons"]
    book = scored_book(texts)
    book.to_csv(tmp_path / "scored.csv", index=False)
    out = tmp_path / "notices"
    result = invoke("notices", tmp_path / "scored.csv", out, "--spec", spec, "--locale", locale)
    assert result.exit_code == 0, result.output
    adverse = book[book["decision"] != "approve"]
    assert f"wrote {len(adverse)} notices" in result.output
    lines = [json.loads(line) for line in (out / "notices.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [n["id"] for n in lines] == sorted(adverse["applicant_id"])
    for notice in lines:
        row = book.set_index("applicant_id").loc[notice["id"]]
        assert notice["decision"] == row["decision"]
        assert notice["reasons"] == [row[f"reason_{k}"] for k in range(1, 5)]  # the spec's words, in order
        assert notice["contact"].startswith("Credit Review Team") and len(notice["rights"]) == 3
        text = (out / f"{notice['id']}.txt").read_text(encoding="utf-8")
        assert json.loads((out / f"{notice['id']}.json").read_text(encoding="utf-8")) == notice
        assert all(reason in text for reason in notice["reasons"]) and notice["contact"] in text
        assert ("人工" in text) if locale == "zh" else ("person to review" in text)
        assert "probability_of_default" not in notice and f"{row['probability_of_default']:.3f}" not in text
    approved = set(book.loc[book["decision"] == "approve", "applicant_id"])
    assert not approved & {p.stem for p in out.iterdir()}
    everything = "\n".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    for column in ("name", "phone", "personal_status_and_sex", "foreign_worker", "age_in_years"):
        for value in book[column].astype(str):
            assert value not in everything, (column, value)


def test_the_score_is_stated_only_when_the_policy_asks(tmp_path):
    spec = project(tmp_path)
    policy = tmp_path / "policies" / "consumer-credit.yaml"
    policy.write_text(policy.read_text().replace("show_score: false", "show_score: true"))
    import yaml

    book = scored_book(yaml.safe_load(spec.read_text())["reasons"], rows=8)
    book.to_csv(tmp_path / "scored.csv", index=False)
    assert invoke("notices", tmp_path / "scored.csv", tmp_path / "out", "--spec", spec).exit_code == 0
    first = json.loads((tmp_path / "out" / "notices.jsonl").read_text().splitlines()[0])
    assert "probability_of_default" in first
    assert f"{first['probability_of_default']:.3f}" in (tmp_path / "out" / f"{first['id']}.txt").read_text()


def _bad(tmp_path, book: pd.DataFrame, spec: Path, *extra) -> str:
    book.to_csv(tmp_path / "scored.csv", index=False)
    out = tmp_path / "out"
    result = invoke("notices", tmp_path / "scored.csv", out, "--spec", spec, *extra)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.*"))  # nothing partial
    return result.output


def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path):
    import yaml

    spec = project(tmp_path)
    texts = yaml.safe_load(spec.read_text())["reasons"]
    book = scored_book(texts, rows=8)
    assert "duplicate applicant_id" in _bad(tmp_path, book.assign(applicant_id="A1"), spec)
    assert "unknown decision(s): maybe" in _bad(tmp_path, book.assign(decision="maybe"), spec)
    assert "lacks column(s) reason_4" in _bad(tmp_path, book.drop(columns=["reason_4"]), spec)
    swapped = book.assign(decision=book["decision"].replace({"approve": "decline", "decline": "approve"}))
    assert "do not follow the spec's rule (approve below 0.45, decline from 0.55)" in _bad(tmp_path, swapped, spec)
    assert "not a reason text of the spec" in _bad(tmp_path, book.assign(reason_1="You are risky"), spec)
    assert "cannot name a notice file" in _bad(tmp_path, book.assign(applicant_id=[f"../x{i}" for i in range(8)]), spec)
    assert "no notice template for locale 'fr'" in _bad(tmp_path, book, spec, "--locale", "fr")
    (tmp_path / "policies" / "notices" / "zh.yaml").unlink()
    assert "no notice template for locale 'zh'" in _bad(tmp_path, book, spec, "--locale", "zh")
    generic = project(tmp_path, reasons_generic=["credit_history"])
    assert "reason text of credit_history is marked generic" in _bad(tmp_path, book, generic)


def test_an_existing_non_empty_output_folder_is_refused(tmp_path):
    import yaml

    spec = project(tmp_path)
    scored_book(yaml.safe_load(spec.read_text())["reasons"], rows=8).to_csv(tmp_path / "scored.csv", index=False)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = invoke("notices", tmp_path / "scored.csv", tmp_path / "out", "--spec", spec)
    assert result.exit_code == 2 and "exists and is not an empty folder" in result.output
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
    (tmp_path / "out" / "keep.txt").unlink()  # an empty folder is taken
    assert invoke("notices", tmp_path / "scored.csv", tmp_path / "out", "--spec", spec).exit_code == 0


def test_scored_then_noticed_end_to_end(governed, tmp_path, monkeypatch):
    spec = relaxed_german_spec(tmp_path)
    shutil.copytree(TEMPLATES, tmp_path / "policies" / "notices")
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(tmp_path / "policies"))
    pd.read_csv("german_ids.csv").drop(columns=["creditability"]).to_csv("batch.csv", index=False)
    assert invoke("score", "models:/german_credit/1", "batch.csv", "scored.csv").exit_code == 0
    result = invoke("notices", "scored.csv", "letters", "--spec", spec, "--locale", "zh")
    assert result.exit_code == 0, result.output
    scored = pd.read_csv("scored.csv")
    expected = sorted(scored.loc[scored["decision"] != "approve", "applicant_id"])
    ids = [json.loads(line)["id"] for line in Path("letters/notices.jsonl").read_text().splitlines()]
    assert ids == expected and len(list(Path("letters").glob("*.txt"))) == len(expected)
