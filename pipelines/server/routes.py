"""Which requests the team server's gate judges: registry changes, permission changes, and writes that would
change the files or records of a registered version. Paths are matched under both MLflow API prefixes
(`/api/2.0` for clients, `/ajax-api/2.0` for the UI)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIX = re.compile(r"^(?:/[^/]+)?/(?:ajax-)?api/[23]\.0")
CREDITFLOW_API = re.compile(r"^(?:/[^/]+)?/(?:ajax-)?api/2\.0/creditflow/(?P<endpoint>[a-z-]+)$")

REGISTRY = {
    ("POST", "/mlflow/registered-models/create"): "create_model",
    ("POST", "/mlflow/registered-models/rename"): "rename_model",
    ("PATCH", "/mlflow/registered-models/update"): "update_model",
    ("DELETE", "/mlflow/registered-models/delete"): "delete_model",
    ("POST", "/mlflow/registered-models/set-tag"): "set_model_tag",
    ("DELETE", "/mlflow/registered-models/delete-tag"): "delete_model_tag",
    ("POST", "/mlflow/registered-models/alias"): "set_alias",
    ("DELETE", "/mlflow/registered-models/alias"): "delete_alias",
    ("POST", "/mlflow/model-versions/create"): "create_version",
    ("PATCH", "/mlflow/model-versions/update"): "update_version",
    ("POST", "/mlflow/model-versions/transition-stage"): "transition_stage",
    ("DELETE", "/mlflow/model-versions/delete"): "delete_version",
    ("POST", "/mlflow/model-versions/set-tag"): "set_version_tag",
    ("DELETE", "/mlflow/model-versions/delete-tag"): "delete_version_tag",
}
# Writes to stored files: `<experiment>/<run>/artifacts/...` or `<experiment>/models/<model id>/artifacts/...`
_ARTIFACT_WRITE = re.compile(r"^/mlflow-artifacts/(?:artifacts|mpu/(?:create|complete|abort))/(?P<path>.+)$")
# a registered logged model may not be finalised again, deleted or given params; its tags stay free (MLflow
# itself tags it with the versions registered from it)
_LOGGED_MODEL_WRITE = re.compile(r"^/mlflow/logged-models/(?P<model_id>m-[0-9a-f]+)(?:/params)?$")
_MODEL_PATH = re.compile(r"^(?:workspaces/[^/]+/)?\d+/models/(?P<model_id>m-[0-9a-f]+)/")
_RUN_PATH = re.compile(r"^(?:workspaces/[^/]+/)?\d+/(?P<run_id>[0-9a-f]{32})/artifacts/")
UPLOAD_ARTIFACT = "/mlflow/upload-artifact"  # the UI's upload to a run (run_id and path in the query)
DELETE_RUN = "/mlflow/runs/delete"  # the run of a registered version is its evidence


@dataclass(frozen=True)
class Route:
    """A judged request: `kind` is registry, permissions or frozen; `action` names what it does."""

    kind: str
    action: str
    path: str = ""  # the artifact path, for frozen writes
    model_id: str = ""  # a logged model the request writes to
    run_id: str = ""  # a run whose artifacts the request writes to


def unprefixed(path: str) -> str | None:
    found = _PREFIX.match(path)
    return path[found.end() :] if found else None


def classify(method: str, path: str, run_id: str = "") -> Route | None:
    """The gate's view of a request, or None for requests it lets through untouched (reads, run logging)."""
    rest = unprefixed(path)
    if rest is None or method in ("GET", "HEAD", "OPTIONS"):
        return None
    if "/permissions/" in rest or rest.startswith("/mlflow/roles/") or rest.startswith("/mlflow/users/"):
        if rest in ("/mlflow/users/update-password",):
            return None  # a user changing their own password: basic-auth checks it
        return Route("permissions", rest.removeprefix("/mlflow/"))
    if (method, rest) in REGISTRY:
        return Route("registry", REGISTRY[(method, rest)])
    if rest == UPLOAD_ARTIFACT:
        return Route("frozen", "upload_artifact", run_id=run_id)
    if rest == DELETE_RUN and method == "POST":
        return Route("frozen", "delete_run", run_id=run_id)
    found = _ARTIFACT_WRITE.match(rest)
    if found:
        return artifact_route(method, found.group("path"))
    found = _LOGGED_MODEL_WRITE.match(rest)
    if found and method in ("PATCH", "DELETE", "POST"):
        return Route("frozen", f"{method.lower()}_logged_model", model_id=found.group("model_id"))
    return None


def artifact_route(method: str, artifact_path: str) -> Route | None:
    """A write to a stored artifact path: judged when it falls under a run or a logged model."""
    model = _MODEL_PATH.match(artifact_path)
    if model:
        return Route("frozen", f"{method.lower()}_artifact", path=artifact_path, model_id=model.group("model_id"))
    run = _RUN_PATH.match(artifact_path)
    if run:
        return Route("frozen", f"{method.lower()}_artifact", path=artifact_path, run_id=run.group("run_id"))
    return None
