"""The model registry: versions, tags, aliases, and the lock that serialises alias moves."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import mlflow
from mlflow.exceptions import MlflowException

from pipelines.core.records import VersionInfo
from pipelines.owner import describe, owner_is_dead, owner_token
from pipelines.tracking.common import Connection, T, TrackingError, UnknownModelError, _now_ms, parse_model_ref

log = logging.getLogger("creditflow")
_LOCK_OWNER = re.compile(r"owner (\S+),")


class Registry(Connection):
    """Registered models and their versions."""

    def register(self, model_name: str, model_uri: str, tags: dict[str, str]) -> str:
        """Create a new model version with all its tags in one call; return the version number."""
        version = self._guard(lambda: mlflow.register_model(model_uri, model_name, tags=tags))
        return str(version.version)

    def describe_version(self, model_name: str, version: str, description: str) -> None:
        self._guard(lambda: self.client.update_model_version(model_name, version, description=description))

    def describe_version_part(
        self, model_name: str, version: str, label: str, text: str, *, first: bool = False
    ) -> None:
        """Set one labelled paragraph of a version's description (`label` starts it, e.g. "Monitoring:"),
        keeping every other paragraph: several steps each own a part of the description (`first`: it opens it)."""
        current = self._guard(lambda: self.client.get_model_version(model_name, str(version))).description
        self.describe_version(model_name, version, replace_part(current or "", label, text, first=first))

    def describe_model(self, name: str, description: str, tags: dict[str, str]) -> None:
        """The registered model's own description and tags (what it predicts, under which spec and policy)."""
        self._guard(lambda: self.client.update_registered_model(name, description=description))
        for key, value in tags.items():
            self._guard(lambda: self.client.set_registered_model_tag(name, key, str(value)))

    def set_model_tags(self, name: str, tags: dict[str, str]) -> None:
        """Tags on the registered model itself (unknown model: UnknownModelError)."""
        self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        for key, value in tags.items():
            self._guard(lambda: self.client.set_registered_model_tag(name, key, value))

    def model_details(self, name: str) -> tuple[str, dict[str, str]]:
        """The registered model's description and tags."""
        model = self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        return model.description or "", dict(model.tags or {})

    def model_version(self, name: str, version: str) -> VersionInfo:
        found = self._registry(
            lambda: self.client.get_model_version(name, str(version)), name, f"model {name!r} has no version {version}"
        )
        return self._version_info(found)

    def version_by_alias(self, name: str, alias: str) -> VersionInfo:
        found = self._registry(
            lambda: self.client.get_model_version_by_alias(name, alias), name, f"model {name!r} has no alias {alias!r}"
        )
        return self._version_info(found)

    def resolve(self, ref: str, *, default_alias: str = "champion") -> VersionInfo:
        """The version a model reference (see `parse_model_ref`) points at, or a one-line error."""
        name, alias, version = parse_model_ref(ref, default_alias=default_alias)
        if alias:
            return self.version_by_alias(name, alias)
        assert version is not None  # a reference names an alias or a version
        return self.model_version(name, version)

    def model_versions(self, name: str) -> list[VersionInfo]:
        """Every version of a registered model, oldest first, with aliases (search omits them, mlflow 16734)."""
        model = self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        aliases: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        found = self._guard(lambda: self.client.search_model_versions(f"name = '{name}'"))
        infos = [self._version_info(v, tuple(sorted(aliases.get(str(v.version), [])))) for v in found]
        return sorted(infos, key=lambda v: int(v.version))

    def model_exists(self, name: str) -> bool:
        return self._known_model(name)

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self._guard(lambda: self.client.set_model_version_tag(name, str(version), key, str(value)))

    def aliases(self, name: str) -> dict[str, str]:
        """alias -> version of a registered model."""
        model = self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._guard(lambda: self.client.set_registered_model_alias(name, alias, str(version)))

    def delete_alias(self, name: str, alias: str) -> None:
        self._guard(lambda: self.client.delete_registered_model_alias(name, alias))

    @contextmanager
    def registry_lock(self, name: str, *, wait_s: float = 60.0, stale_s: float = 300.0) -> Iterator[None]:
        """Mutual exclusion between creditflow processes changing model `name` (aliases, approval tags, the
        audit trail). Re-entrant within one tracker.

        The lock is a registered model named `<name>.lock`: its creation is atomic in every tracking
        store (unique name), so exactly one process holds it. Its description names the owner (pid, host,
        start time): a lock whose owner is dead is taken over at once; one whose owner cannot be checked
        (another host) is broken once older than `stale_s`.

        A creditflow team server serialises every registry change itself: its governance store takes no client
        lock (pipelines/governance/remote/store.py).
        """
        held = self.__dict__.setdefault("_held_locks", {})
        if held.get(name):
            held[name] += 1
            try:
                yield
            finally:
                held[name] -= 1
            return
        lock = f"{name}.lock"
        token = f"creditflow lock on {name}, owner {owner_token()}, token {uuid.uuid4().hex}"
        self._acquire(name, lock, token, wait_s, stale_s)
        held[name] = 1
        try:
            yield
        finally:
            held[name] = 0
            self._release(lock, token)

    def _acquire(self, name: str, lock: str, token: str, wait_s: float, stale_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.client.create_registered_model(lock, description=token)
                return
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST" and time.monotonic() <= deadline:
                    # The SQL store words a refused creation by looking the holder's lock up: it was released
                    # in between, so the lock is free now
                    continue
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise self._error(exc) from None
            if self._break_abandoned_lock(lock, stale_s):
                continue
            if time.monotonic() > deadline:
                raise TrackingError(
                    f"model {name!r} is locked by another creditflow command (registered model {lock!r})"
                )
            time.sleep(0.2)

    def _release(self, lock: str, token: str) -> None:
        """Delete the lock if it is still ours (it is not if it was broken as stale and taken again)."""
        try:
            if self.client.get_registered_model(lock).description == token:
                self.client.delete_registered_model(lock)
        except MlflowException:
            pass  # broken as stale meanwhile: nothing of ours to release

    def _break_abandoned_lock(self, lock: str, stale_s: float) -> bool:
        """Delete a lock whose owner is dead, or that is older than `stale_s`; whether it was deleted."""
        try:
            held = self.client.get_registered_model(lock)
            owner = _LOCK_OWNER.search(held.description or "")
            dead = owner is not None and owner_is_dead(owner.group(1))
            if dead or _now_ms() - int(held.creation_timestamp or 0) > stale_s * 1000:
                if self.client.get_registered_model(lock).description == held.description:  # still that holder's
                    self.client.delete_registered_model(lock)
                    reason = f"its owner, {describe(owner.group(1))}, is gone" if dead and owner else "it is stale"
                    log.info("took over lock %s: %s", lock, reason)
                    return True
        except MlflowException:
            pass  # released meanwhile
        return False

    def _registry(self, call: Callable[[], T], name: str, missing: str) -> T:
        try:
            return call()
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc.message).lower():
                known = self._known_model(name)
                raise UnknownModelError(missing if known else f"unknown model {name!r}") from None
            raise self._error(exc) from None

    def _known_model(self, name: str) -> bool:
        try:
            self.client.get_registered_model(name)
            return True
        except MlflowException:
            return False

    @staticmethod
    def _version_info(found: Any, aliases: tuple[str, ...] | None = None) -> VersionInfo:
        return VersionInfo(
            name=found.name,
            version=str(found.version),
            tags=dict(found.tags or {}),
            aliases=tuple(found.aliases or ()) if aliases is None else aliases,
            run_id=found.run_id,
            source=found.source,
            created_ms=int(found.creation_timestamp or 0),
        )


def replace_part(description: str, label: str, text: str, *, first: bool = False) -> str:
    """`description` with its paragraph starting with `label` replaced, in place, by `label text` (appended when
    there is none; with `first`, moved to the top); other paragraphs are kept as they are."""
    parts = [p for p in description.split("\n\n") if p.strip()]
    mine = [i for i, p in enumerate(parts) if p.lstrip().startswith(label)]
    if first:
        return "\n\n".join([f"{label} {text}", *(p for i, p in enumerate(parts) if i not in mine)])
    if mine:
        parts[mine[0]] = f"{label} {text}"
        parts = [p for i, p in enumerate(parts) if i not in mine[1:]]
    else:
        parts.append(f"{label} {text}")
    return "\n\n".join(parts)
