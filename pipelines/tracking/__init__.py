"""The one adapter that talks to MLflow: tracking runs, logging evidence, logging and registering models.

Everything else in creditflow hands plain Python values to this package, so tracking and registry
behaviour can be read and tested in one place: `common` (errors, value types, the guarded connection),
`logger` (one run's params, metrics, artifacts and model), `runs` (experiments, runs, artifacts) and
`registry` (versions, tags, aliases, the alias lock).
"""

from __future__ import annotations

from pipelines.tracking.common import (
    DEFAULT_TRACKING_URI,
    RunSummary,
    TrackingError,
    UnknownModelError,
    parse_model_ref,
    resolve_tracking_uri,
)
from pipelines.tracking.logger import RunLogger, model_requirements
from pipelines.tracking.registry import Registry
from pipelines.tracking.runs import Runs

__all__ = [
    "DEFAULT_TRACKING_URI",
    "RunLogger",
    "RunSummary",
    "Tracker",
    "TrackingError",
    "UnknownModelError",
    "connect",
    "model_requirements",
    "parse_model_ref",
    "resolve_tracking_uri",
]


class Tracker(Runs, Registry):
    """A connection to one tracking store and model registry."""


def connect(tracking_uri: str | None) -> Tracker:
    """A tracker on an existing store whose HTTP server (if any) answered: commands fail in seconds when it is down,
    and a mistyped SQLite path is named, never created."""
    tracker = Tracker(tracking_uri, existing=True)
    tracker.probe()
    return tracker
