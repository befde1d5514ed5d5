"""`score`'s input check, wired: the version's reference sample, its governed policy's `input_check` limits and its
holdout's decline rate, read from the registry; the batch counted as it is scored; the verdict at the end, before
the output is committed (pipelines/scoring/input_check.py holds the rules)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click
import pandas as pd

from features.errors import CreditflowError, Refused
from features.outputs import written
from features.policy import InputLimits
from pipelines.governance.stored_policy import stored_policy
from pipelines.scoring.input_check import REFUSE, Finding, InputProfile, Reference, findings, reference_of
from pipelines.tracking import Tracker

__all__ = ["InputGuard", "load_guard"]


@dataclass
class InputGuard:
    """The reference and limits of one version, and the batch's counts so far."""

    label: str
    reference: Reference
    limits: InputLimits
    holdout_rate: float | None
    profile: InputProfile = field(default_factory=InputProfile)

    def add(self, raw: pd.DataFrame) -> None:
        self.profile.add(raw, self.reference)

    def verdict(self, *, declined: int) -> list[Finding]:
        """Every finding; a Refused naming the features when any is past a refusal limit (the caller discards the
        output it was writing, so a refused batch writes nothing)."""
        found = findings(self.profile, self.reference, self.limits, declined=declined, holdout_rate=self.holdout_rate)
        refused = sorted({f.feature for f in found if f.level == REFUSE})
        if refused:
            for finding in found:
                click.echo(finding.line())
            raise Refused(
                f"input check: {', '.join(refused)} past the refusal limits of {self.label}'s policy: nothing was "
                "scored or written (fix the feed, or score with a policy that only warns)"
            )
        return found

    def report(self, found: list[Finding], output: Path, *, overwrite: bool) -> None:
        """Say every warning, and keep them beside the scores (OUTPUT.input-check.json)."""
        if not found:
            click.echo(f"input check: every feature within the limits of {self.label}'s policy")
            return
        for finding in found:
            click.echo(finding.line())
        sidecar = output.with_name(f"{output.name}.input-check.json")
        document = {"model": self.label, "rows": self.profile.rows, "findings": [f.as_dict() for f in found]}
        with written(sidecar, overwrite=overwrite) as temporary:
            temporary.write_text(json.dumps(document, indent=2))
        click.echo(f"input check: {len(found)} warning(s), kept in {sidecar}")


def load_guard(
    tracker: Tracker, model_uri: str, *, numeric: list[str], categorical: list[str], stored: tuple[str, str]
) -> InputGuard | None:
    """The guard of a registered version with a stored reference sample; None for anything else (a `runs:/` URI,
    a version registered before reference samples were kept). `stored`: where a version's run keeps its reference
    sample and its expected performance (pipelines/evidence/reference.py, which governance does not import)."""
    reference_path, expected_path = stored
    if ":/" in model_uri and not model_uri.startswith("models:/"):
        return None
    version = tracker.resolve(model_uri)
    if not version.run_id:
        return None
    with tempfile.TemporaryDirectory() as folder:
        try:
            sample = pd.read_parquet(tracker.download_artifacts(version.run_id, reference_path, folder))
        except (CreditflowError, OSError):  # no reference stored with this version: nothing to compare with
            return None
    governing = stored_policy(tracker, version)
    limits = governing.policy.input_check if governing else InputLimits()
    label = f"{version.name} version {version.version}"
    reference = reference_of(sample, numeric=numeric, categorical=categorical)
    return InputGuard(label, reference, limits, _holdout_decline_rate(tracker, version.run_id, expected_path))


def _holdout_decline_rate(tracker: Tracker, run_id: str, expected_path: str) -> float | None:
    """The decline rate on the holdout the version was judged on (expected.json names it)."""
    text = tracker.read_text(run_id, expected_path)
    holdout = json.loads(text).get("holdout", "test") if text else "test"
    rate = tracker.run_metrics(run_id).get(f"{holdout}_decline_rate")
    return None if rate is None else float(rate)
