"""A model logged and registered by the layout before the package split (commit 5609f74) still loads and scores:
its pickle names `pipelines.pyfunc_model.CreditModel` and its artifact files keep their format."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "legacy_model_5609f74.tar.gz"


@pytest.fixture
def legacy_model(tmp_path) -> Path:
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path / "old", filter="data")
    return tmp_path / "old" / "legacy_model"


def example_rows(model: Path) -> pd.DataFrame:
    example = json.loads((model / "input_example.json").read_text())
    return pd.DataFrame(example["data"], columns=example["columns"])


def test_the_old_pickle_loads_in_a_process_that_already_imported_the_new_layout(legacy_model):
    loaded = mlflow.pyfunc.load_model(str(legacy_model))
    scored = loaded.predict(example_rows(legacy_model))
    assert list(scored.columns[:2]) == ["probability_of_default", "decision"]
    assert scored["probability_of_default"].between(0, 1).all()
    declined = scored["decision"] == "decline"  # reasons for declined applicants only (the current scorer)
    assert scored.loc[declined, "reason_1"].notna().all() and scored.loc[~declined, "reason_1"].isna().all()


@pytest.mark.slow
def test_the_old_model_loads_in_a_fresh_process_from_its_own_code(legacy_model, tmp_path):
    code = (
        "import sys, json, mlflow, pandas as pd; m = mlflow.pyfunc.load_model(sys.argv[1]); "
        "e = json.load(open(sys.argv[1] + '/input_example.json')); "
        "print(m.predict(pd.DataFrame(e['data'], columns=e['columns']))['decision'].tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(legacy_model)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert set(eval(out.stdout.strip().splitlines()[-1])) <= {"approve", "decline"}


def test_a_registered_old_version_scores_through_the_cli(legacy_model, tracking_uri, tmp_path):
    client = mlflow.MlflowClient(tracking_uri)
    client.create_registered_model("legacy")
    client.create_model_version("legacy", legacy_model.as_uri())
    example_rows(legacy_model).to_csv(tmp_path / "applicants.csv", index=False)
    result = CliRunner().invoke(
        cli, ["score", "models:/legacy/1", "applicants.csv", "scored.csv", "--tracking-uri", tracking_uri]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "scored.csv")
    expected = mlflow.pyfunc.load_model(str(legacy_model)).predict(example_rows(legacy_model))
    assert scored["probability_of_default"].tolist() == pytest.approx(expected["probability_of_default"].tolist())
    assert scored["decision"].tolist() == expected["decision"].tolist()
