"""`creditflow run` in a process of its own, as a user starts it: the terminal shows creditflow's lines, and no
third-party warning (MLflow's CloudPickle notice, pandas' date-format guess, ...)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import CONSUMER_SPEC, GERMAN_SPEC, REPO, write_spec

WARNING = re.compile(r"warn(ing)?\b", re.IGNORECASE)


@pytest.mark.slow
@pytest.mark.parametrize(
    "shipped, smaller",
    [(GERMAN_SPEC, {}), (CONSUMER_SPEC, {"data.synthetic.rows": 6000, "data.synthetic.seed": 3})],
    ids=["german_credit", "consumer_loans"],
)
def test_a_normal_run_of_a_shipped_spec_prints_no_warning(tmp_path, store_template, shipped, smaller):
    """The shipped spec with a short study (3 trials) and its mitigation on: every step a normal run takes."""
    mitigation = yaml.safe_load(shipped.read_text())["policy"]["fairness"]["mitigation"]
    spec = write_spec(tmp_path, shipped, **{"tuning.trials": 3, "policy.fairness.mitigation": mitigation, **smaller})
    shutil.copy(store_template, tmp_path / "mlflow.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", str(spec)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if WARNING.search(line)] == []
    assert "registered model" in done.stdout
