"""The adapter's registry reads: model references, versions, aliases and their one-line errors."""

import pytest

from pipelines.commands.run import run_pipeline
from pipelines.tracking import Tracker, UnknownModelError, parse_model_ref


def test_parse_model_ref_forms():
    assert parse_model_ref("credit") == ("credit", "champion", None)
    assert parse_model_ref("models:/credit@challenger") == ("credit", "challenger", None)
    assert parse_model_ref("credit/3") == ("credit", None, "3")
    assert parse_model_ref("credit", default_alias="previous") == ("credit", "previous", None)
    for bad in ["", "credit@", "credit/x", "@champion"]:
        with pytest.raises(UnknownModelError):
            parse_model_ref(bad)


def test_versions_aliases_and_unknowns(tracking_uri, german_spec):
    run_pipeline(str(german_spec), tracking_uri=tracking_uri, register=True, tune=None)
    tracker = Tracker(tracking_uri)
    name = "german_credit"
    tracker.client.set_registered_model_alias(name, "champion", "1")
    tracker.set_version_tags(name, "1", {"monitoring.status": "ok"})
    version = tracker.resolve(name)
    assert (version.version, version.aliases, version.tags["monitoring.status"]) == ("1", ("champion",), "ok")
    assert version.run_id == version.tags["lineage.run_id"]
    assert [v.aliases for v in tracker.model_versions(name)] == [("champion",)]
    with pytest.raises(UnknownModelError, match="unknown model 'nope'"):
        tracker.resolve("nope/1")
    with pytest.raises(UnknownModelError, match="has no version 7"):
        tracker.resolve(f"{name}/7")
    with pytest.raises(UnknownModelError, match="has no alias 'previous'"):
        tracker.resolve(f"{name}@previous")
    with pytest.raises(UnknownModelError, match="unknown model"):
        tracker.model_versions("nope")


def test_registry_lock_excludes_a_second_holder_and_breaks_a_stale_one(tracking_uri):
    from pipelines.tracking import TrackingError

    tracker = Tracker(tracking_uri)
    with tracker.registry_lock("credit"):
        with pytest.raises(TrackingError, match="locked by another creditflow command"):
            with Tracker(tracking_uri).registry_lock("credit", wait_s=0.5):
                pass
        with Tracker(tracking_uri).registry_lock("credit", wait_s=5, stale_s=0):  # holder presumed dead
            pass
    assert [m.name for m in tracker.client.search_registered_models()] == []


def test_a_lock_released_while_its_creation_is_refused_is_taken_not_reported(tracking_uri, monkeypatch):
    """MLflow's SQL store answers a refused creation (the name exists) by looking the model up to word its error; if
    the holder releases the lock between the two, creation raises 'not found'. CI saw the second of two concurrent
    promotions exit 2 with "Registered Model with name=german_credit.lock not found"."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    tracker = Tracker(tracking_uri)
    tracker.client.create_registered_model("credit.lock", description="held by another command")
    lookup = SqlAlchemyStore.get_registered_model
    releases = []

    def holder_releases_first(store, name):
        if name == "credit.lock" and not releases:
            releases.append(name)
            store.delete_registered_model(name)
        return lookup(store, name)

    monkeypatch.setattr(SqlAlchemyStore, "get_registered_model", holder_releases_first)
    with tracker.registry_lock("credit", wait_s=5):
        held = tracker.client.get_registered_model("credit.lock").description
    assert releases == ["credit.lock"] and "creditflow lock on credit" in held
    assert [m.name for m in tracker.client.search_registered_models()] == []


def test_records_are_immutable_params_read_back_in_order(tracking_uri):
    from mlflow.exceptions import MlflowException

    tracker = Tracker(tracking_uri)
    first = tracker.log_record("credit-governance", "one", {"action": "review", "time": "1"})
    tracker.log_record("credit-governance", "two", {"action": "promote", "time": "2"})
    assert [r.params["action"] for r in tracker.records("credit-governance")] == ["review", "promote"]
    with pytest.raises(MlflowException):
        tracker.client.log_param(first, "action", "rewritten")
    tracker.client.delete_run(first)
    assert [r.deleted for r in tracker.records("credit-governance")] == [True, False]
    assert all(r.start_ms > 0 and r.run_id for r in tracker.records("credit-governance"))
    assert tracker.records("nothing-governance") == []
