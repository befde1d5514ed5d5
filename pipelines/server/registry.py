"""The server's own view of the model registry: it reads versions and aliases straight from the backend store
(the same database the MLflow handlers use) and makes the changes the gate itself decides on (the author tag,
the recorded reviewer, moving `champion` and `previous`), bypassing the gate it is part of."""

from __future__ import annotations

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from pipelines.core.records import VersionInfo
from pipelines.tracking.registry import Registry


class ServerRegistry:
    def __init__(self, store_uri: str):
        self.client = MlflowClient(tracking_uri=store_uri, registry_uri=store_uri)

    def version(self, name: str, version: str) -> VersionInfo | None:
        try:
            found = self.client.get_model_version(name, str(version))
        except MlflowException:
            return None
        return Registry._version_info(found, tuple(self._aliases_of(name, str(found.version))))

    def description(self, name: str, version: str) -> str:
        try:
            return self.client.get_model_version(name, str(version)).description or ""
        except MlflowException:
            return ""

    def aliases(self, name: str) -> dict[str, str]:
        try:
            model = self.client.get_registered_model(name)
        except MlflowException:
            return {}
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def version_count(self, name: str) -> int:
        try:
            return len(self.client.search_model_versions(f"name = '{_quoted(name)}'"))
        except MlflowException:
            return 0

    def set_tags(self, name: str, version: str, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.client.set_model_version_tag(name, version, key, value)

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        self.client.delete_registered_model_alias(name, alias)

    def versions_of_run(self, run_id: str) -> str:
        """The registered versions made from run `run_id` ('' when none), as `NAME version N, ...`."""
        found = self.client.search_model_versions(f"run_id = '{_quoted(run_id)}'")
        return ", ".join(f"{v.name} version {v.version}" for v in found)

    def _aliases_of(self, name: str, version: str) -> list[str]:
        return sorted(alias for alias, v in self.aliases(name).items() if v == version)


def _quoted(value: str) -> str:
    return value.replace("'", "\\'")
