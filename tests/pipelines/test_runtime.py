"""XGBoost threads by data size and OpenMP's wait policy, with their overrides."""

from __future__ import annotations

import os

from pipelines import runtime
from pipelines.runtime import SMALL_DATA_ROWS, configure_process, xgboost_threads


def test_small_data_gets_one_thread_large_data_every_core(monkeypatch):
    monkeypatch.delenv("CREDITFLOW_NTHREAD", raising=False)
    monkeypatch.setattr(runtime, "cores", lambda: 4)
    assert xgboost_threads(600) == 1
    assert xgboost_threads(SMALL_DATA_ROWS) == 4
    assert xgboost_threads(1_000_000, limit=2) == 2  # a tuning worker's share


def test_the_spec_then_the_environment_override_the_automatic_choice(monkeypatch):
    monkeypatch.setattr(runtime, "cores", lambda: 4)
    monkeypatch.setenv("CREDITFLOW_NTHREAD", "3")
    assert xgboost_threads(600) == 3
    assert xgboost_threads(600, requested=2) == 2
    monkeypatch.setenv("CREDITFLOW_NTHREAD", "not a number")
    assert xgboost_threads(600) == 1


def test_wait_policy_is_passive_unless_the_user_set_one(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    configure_process()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    configure_process()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
