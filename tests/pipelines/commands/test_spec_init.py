"""`creditflow spec init`: a spec drafted from a data file, refused until its reason texts are written, then run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from features.spec_draft import draft, words
from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC

GERMAN_DATA = GERMAN_SPEC.parent / "data" / "german_credit.csv"
POLICY = GERMAN_SPEC.parent / "policies" / "consumer-credit.yaml"


def project(tmp_path: Path) -> Path:
    """A project folder with the governed policy beside where the spec goes."""
    (tmp_path / "experiments" / "policies").mkdir(parents=True)
    shutil.copy(POLICY, tmp_path / "experiments" / "policies")
    return tmp_path / "experiments"


def init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["spec", "init", *args])
    return result.exit_code, result.output


def test_german_credit_is_drafted_with_its_sensitive_columns_out_of_the_features(tmp_path):
    folder = project(tmp_path)
    code, output = init(str(GERMAN_DATA), "--target", "creditability", str(folder / "german.yaml"))
    assert code == 0, output
    spec = yaml.safe_load((folder / "german.yaml").read_text())
    assert spec["data"]["positive"] == "bad" and spec["policy"]["name"] == "consumer-credit"
    sensitive = [s if isinstance(s, str) else s["column"] for s in spec["data"]["sensitive"]]
    assert sensitive == ["personal_status_and_sex", "age_in_years", "foreign_worker"]
    features = spec["features"]["numeric"] + spec["features"]["categorical"]
    assert not set(sensitive) & set(features) and "credit_amount" in spec["features"]["numeric"]
    assert set(spec["reasons"]) == set(features) and all(v.startswith("TODO") for v in spec["reasons"].values())
    assert spec["split"]["method"] == "random"
    text = (folder / "german.yaml").read_text()
    assert "# prohibited by the policy (pattern '*personal_status*')" in text  # each decision says why


def test_a_generated_book_gets_its_id_pii_and_an_out_of_time_split(tmp_path):
    folder = project(tmp_path)
    assert (
        CliRunner().invoke(cli, ["generate", "--rows", "1500", "--seed", "3", str(tmp_path / "book.csv")]).exit_code
        == 0
    )
    code, output = init(str(tmp_path / "book.csv"), "--target", "default_12m", str(folder / "book.yaml"))
    assert code == 0, output
    spec = yaml.safe_load((folder / "book.yaml").read_text())
    data = spec["data"]
    assert (data["id"], data["time"], data["positive"]) == ("applicant_id", "application_month", 1)
    assert data["pii"] == ["name", "phone", "national_id"]
    assert spec["split"]["method"] == "out_of_time" and data["source"] == "../book.csv"
    assert {"gender", "age"} <= {s if isinstance(s, str) else s["column"] for s in data["sensitive"]}


def test_the_draft_is_refused_until_every_stub_is_written(tmp_path):
    folder = project(tmp_path)
    init(str(GERMAN_DATA), "--target", "creditability", str(folder / "german.yaml"))
    result = CliRunner().invoke(cli, ["check", str(folder / "german.yaml")])
    assert result.exit_code == 2 and "17 drafted placeholder(s) still to write" in result.output
    result = CliRunner().invoke(
        cli, ["run", str(folder / "german.yaml"), "--tracking-uri", f"sqlite:///{tmp_path}/m.db"]
    )
    assert result.exit_code == 2 and "drafted placeholder" in result.output
    assert not (tmp_path / "m.db").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "nope"], "no column 'nope' in the data"),
        (["--target", "purpose"], "has 10 value(s)"),
        (["--target", "creditability", "--positive", "terrible"], "--positive 'terrible' is not a value"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    folder = project(tmp_path)
    code, output = init(str(GERMAN_DATA), *args, str(folder / "x.yaml"))
    assert code == 2 and message in output and "Traceback" not in output, output
    assert not list(folder.glob("*.yaml")) and not list(folder.glob(".*partial"))


def test_an_existing_spec_is_never_overwritten(tmp_path):
    folder = project(tmp_path)
    (folder / "mine.yaml").write_text("name: mine\n")
    code, output = init(str(GERMAN_DATA), "--target", "creditability", str(folder / "mine.yaml"))
    assert code == 2 and "never overwrites" in output and (folder / "mine.yaml").read_text() == "name: mine\n"


def test_column_words_and_an_unclear_label_is_flagged():
    assert words("applicantID") == {"applicant", "id"} and words("Date-of-Birth") == {"date", "of", "birth"}
    import pandas as pd

    frame = pd.DataFrame({"status": ["A"] * 8 + ["B"] * 2, "x": range(10)})
    drafted = draft(frame, "status", None, [])
    assert drafted.positive == "B" and "CHECK" in drafted.positive_why


def fill_stubs(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    spec["reasons"] = {f: f"Your {f.replace('_', ' ')}" for f in spec["reasons"]}
    spec["tuning"] = {"trials": 0, "params": {"nthread": 1, "max_rounds": 60}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


@pytest.mark.slow
def test_drafts_from_german_credit_and_a_generated_book_run_once_their_stubs_are_written(tmp_path):
    folder = project(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["generate", "--rows", "4000", "--seed", "5", str(tmp_path / "book.csv")]).exit_code == 0
    drafts = {"german": (GERMAN_DATA, "creditability"), "book": (tmp_path / "book.csv", "default_12m")}
    for name, (data, target) in drafts.items():
        out = folder / f"{name}.yaml"
        assert init(str(data), "--target", target, str(out))[0] == 0
        fill_stubs(out)
        checked = runner.invoke(cli, ["check", str(out)])
        assert checked.exit_code == 0, checked.output
        result = runner.invoke(cli, ["run", str(out), "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db"])
        assert result.exit_code == 0, result.output
        assert f"registered {name} version 1" in result.output or "version 1" in result.output, result.output


def test_awkward_column_names_are_quoted_and_dates_read_from_their_values(tmp_path):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "Loan ID": [1, 2, 3, 4],
            "yes": ["a", "b", "a", "b"],
            "null": ["x", "y", "x", "x"],
            "Monthly Income": [100, 200, 150, 120],
            "Default?": ["Y", "N", "N", "Y"],
            "applied on": ["2024-01-03", "2024-02-03", "2024-03-03", "2024-04-03"],
            "branch code": ["0101", "0202", "0303", "0404"],
        }
    )
    frame.to_csv(tmp_path / "odd.csv", index=False)
    code, output = init(str(tmp_path / "odd.csv"), "--target", "Default?", str(tmp_path / "odd.yaml"))
    assert code == 0, output
    spec = yaml.safe_load((tmp_path / "odd.yaml").read_text())
    assert spec["data"]["time"] == "applied on" and spec["data"]["id"] == "Loan ID"
    assert spec["data"]["positive"] == "Y" and "yes" in spec["features"]["categorical"]
    assert "null" in spec["features"]["categorical"] and set(spec["reasons"]) >= {"yes", "null"}
