"""`creditflow score` watches its input (issue 28, item 3): a feed that lost a column is refused under the
consumer-credit policy's limits, and scored with a warning under a policy that only warns."""

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import write_policy
from tests.pipelines.conftest import RELAXED, relaxed_german_spec


def invoke(*args, user=None):
    env = {"CREDITFLOW_USER": user} if user else None
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)


def test_a_feature_empty_in_every_row_is_refused_or_warned_as_the_policy_says(governed, tmp_path):
    frame = pd.read_csv("german_ids.csv").drop(columns=["creditability"]).head(300)
    frame.to_csv("healthy.csv", index=False)
    frame.assign(credit_amount=None).to_csv("broken.csv", index=False)

    # the governed versions are judged under a copy of the consumer-credit policy: refuse past 50% missing
    refused = invoke("score", "models:/german_credit/1", "broken.csv", "out.csv")
    assert refused.exit_code == 1, refused.output
    assert "refuse: credit_amount: 100.0% missing" in refused.output
    assert "input check: credit_amount past the refusal limits" in refused.output
    assert sorted(p.name for p in Path(".").glob("out.csv*")) == [] and not list(Path(".").glob(".out.csv*"))

    healthy = invoke("score", "models:/german_credit/1", "healthy.csv", "healthy_out.csv")
    assert healthy.exit_code == 0 and "every feature within the limits" in healthy.output, healthy.output

    limits = {f"input_check.{k}_refuse": None for k in ("missing", "unseen", "out_of_range")}
    warn_only = write_policy(tmp_path, "warn-only", **RELAXED, **limits)
    spec = relaxed_german_spec(tmp_path, **{"policy.file": str(warn_only)})
    assert invoke("run", spec, user="alice").exit_code == 0
    warned = invoke("score", "models:/german_credit/3", "broken.csv", "out.csv")
    assert warned.exit_code == 0, warned.output
    assert "warn: credit_amount: 100.0% missing" in warned.output
    sidecar = json.loads(Path("out.csv.input-check.json").read_text())
    assert {"feature": "credit_amount", "measure": "missing", "level": "warn"}.items() <= sidecar["findings"][0].items()
    assert len(pd.read_csv("out.csv")) == 300
