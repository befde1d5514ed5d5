"""Issue 24.8: the caches in front of basic-auth's per-request look-ups keep answers for a bounded time, are
cleared by any write through the same store, and never keep an unknown run or a failed read."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipelines.server.auth_cache import CachedAuthStore, RunExperiments, TTLMemo, cache_seconds, install


class FakeAuthStore:
    def __init__(self):
        self.calls: list[str] = []
        self.admin = False
        self.hashes = {"ds1": "hash-of-right"}

    def get_user(self, username):
        self.calls.append(f"get_user {username}")
        if username not in self.hashes:
            raise LookupError(f"no user {username}")
        return SimpleNamespace(username=username, id=7, is_admin=self.admin, password_hash=self.hashes[username])

    def list_grants(self, user_id, workspace, types):
        self.calls.append(f"list_grants {user_id} {sorted(types)}")
        return ["grant"]

    def authenticate_user(self, username, password):
        self.calls.append("authenticate_user")
        return self.hashes.get(username) == f"hash-of-{password}"

    def update_user_password(self, username, password):
        self.calls.append("update_user_password")
        self.hashes[username] = f"hash-of-{password}"

    def update_user(self, username, is_admin=None):
        self.calls.append("update_user")
        self.admin = bool(is_admin)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_reads_are_kept_for_the_bound_and_then_read_again():
    store, clock = FakeAuthStore(), Clock()
    cached = CachedAuthStore(store, 10, clock)
    for _ in range(3):
        assert cached.get_user("ds1").username == "ds1"
        assert cached.list_grants(7, "default", {"experiment", "run"}) == ["grant"]
    assert store.calls == ["get_user ds1", "list_grants 7 ['experiment', 'run']"]
    clock.now += 10.5
    cached.get_user("ds1")
    assert store.calls[-1] == "get_user ds1" and len(store.calls) == 3


def test_a_write_through_the_store_clears_every_kept_answer_at_once():
    store = FakeAuthStore()
    cached = CachedAuthStore(store, 60, Clock())
    assert cached.get_user("ds1").is_admin is False
    cached.update_user("ds1", is_admin=True)  # what basic-auth's update-admin, role and password routes call
    assert cached.get_user("ds1").is_admin is True
    assert store.calls == ["get_user ds1", "update_user", "get_user ds1"]


def test_a_wrong_password_always_pays_the_hash_and_a_verified_one_is_rechecked_by_a_read():
    store = FakeAuthStore()
    cached = CachedAuthStore(store, 60, Clock())
    assert [cached.authenticate_user("ds1", p) for p in ("wrong", "wrong", "right")] == [False, False, True]
    assert store.calls.count("authenticate_user") == 3
    assert [cached.authenticate_user("ds1", "right") for _ in range(3)] == [True, True, True]
    assert store.calls.count("authenticate_user") == 3  # the stored hash is unchanged: no hash check again
    assert cached.authenticate_user("ds1", "wrong") is False and store.calls.count("authenticate_user") == 4


def test_a_changed_password_or_a_deleted_user_ends_a_verified_credential_even_in_another_process():
    store = FakeAuthStore()
    other_worker = CachedAuthStore(store, 60, Clock())
    assert other_worker.authenticate_user("ds1", "right")
    store.update_user_password("ds1", "new")  # through another process: this one's memo is not cleared
    assert other_worker.authenticate_user("ds1", "right") is False
    assert other_worker.authenticate_user("ds1", "new") is True
    del store.hashes["ds1"]
    assert other_worker.authenticate_user("ds1", "new") is False


def test_each_caller_gets_its_own_list_and_a_failed_read_is_not_kept():
    store = FakeAuthStore()
    cached = CachedAuthStore(store, 60, Clock())
    cached.list_grants(7, "default", {"run"}).append("forged")
    assert cached.list_grants(7, "default", {"run"}) == ["grant"]
    memo, attempts = TTLMemo(60, Clock()), []

    def failing():
        attempts.append(1)
        raise LookupError("no such user")

    for _ in range(2):
        with pytest.raises(LookupError):
            memo.get("x", failing)
    assert len(attempts) == 2


class FakeTracking:
    def __init__(self):
        self.asked: list[str] = []

    def get_run(self, run_id):
        self.asked.append(run_id)
        if run_id == "missing":
            raise LookupError("RESOURCE_DOES_NOT_EXIST")
        return SimpleNamespace(info=SimpleNamespace(experiment_id=4, lifecycle_stage="active"))

    def get_experiment(self, experiment_id):
        return f"experiment {experiment_id}"


def test_a_runs_experiment_is_read_once_and_an_unknown_run_every_time(monkeypatch):
    monkeypatch.setattr(RunExperiments, "_experiments", {})
    tracking = FakeTracking()
    for _ in range(3):
        run = RunExperiments(tracking).get_run("r1")
        assert run.info.experiment_id == "4" and run.info.run_id == "r1"
        with pytest.raises(LookupError):
            RunExperiments(tracking).get_run("missing")
    assert tracking.asked == ["r1", "missing", "missing", "missing"]
    with pytest.raises(AttributeError):  # nothing but the experiment: a new reader fails loudly, never reads stale
        _ = run.info.lifecycle_stage
    assert RunExperiments(tracking).get_experiment(4) == "experiment 4"


def test_install_wraps_basic_auths_store_and_tracking_store_once_and_zero_turns_it_off(monkeypatch):
    monkeypatch.setattr(RunExperiments, "_experiments", {})
    tracking = FakeTracking()
    module = SimpleNamespace(store=FakeAuthStore(), _get_tracking_store=lambda: tracking)
    assert install(SimpleNamespace(store=module.store), 0) is None
    first = install(module, 5)
    assert install(module, 5) is first and module.store is first
    module._get_tracking_store().get_run("r1")
    module._get_tracking_store().get_run("r1")
    assert tracking.asked == ["r1"]


@pytest.mark.parametrize("raw, seconds", [("", 10.0), ("0", 0.0), ("2.5", 2.5)])
def test_the_bound_comes_from_the_environment(raw, seconds):
    assert cache_seconds({"CREDITFLOW_AUTH_CACHE_SECONDS": raw}) == seconds


@pytest.mark.parametrize("raw", ["ten", "-1", "3600"])
def test_a_bad_bound_is_refused_in_one_line(raw):
    with pytest.raises(ValueError, match="CREDITFLOW_AUTH_CACHE_SECONDS"):
        cache_seconds({"CREDITFLOW_AUTH_CACHE_SECONDS": raw})
