"""The model version `creditflow monitor` watches: its spec, its policy as stored at registration, its monitoring
reference (stored with the run, or `--reference`) scored by its own booster, and what registration expected."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.data import read_table
from features.errors import DataError
from features.policy import FolderPolicySource, StoredPolicySource, policy_folder
from features.spec import Spec, load_spec
from monitoring.inputs import read_columns, validate
from pipelines.core.records import VersionInfo
from pipelines.evidence.reference import EXPECTED_PATH, REFERENCE_PATH
from pipelines.governance.stored_policy import stored_policy
from pipelines.scoring.scorer import Scorer
from pipelines.tracking import Tracker, UnknownModelError, parse_model_ref
from pipelines.tracking.pyfunc_model import load_model_scorer
from pipelines.training.train import predict_pd


class MissingReferenceError(DataError):
    """A model version without a usable monitoring reference."""


@dataclass
class Target:
    """The model version watched, with what monitoring needs from the registry."""

    version: VersionInfo
    spec: Spec
    reference: pd.DataFrame
    reference_scores: np.ndarray
    expected: dict
    scorer: Scorer
    reference_label: str  # where the reference comes from, as the monitoring page states it


def load_target(tracker: Tracker, model: str, reference: str | None) -> Target:
    name, alias, _ = parse_model_ref(model)
    try:
        version = tracker.resolve(model)
    except UnknownModelError as exc:
        if alias == "champion" and "@" not in model and "has no alias" in str(exc):
            raise UnknownModelError(
                f"model {name!r} has no champion: promote a version, or monitor {name}/VERSION or {name}@ALIAS"
            ) from None
        raise
    if not version.run_id:  # its spec and reference are artifacts of the run it came from
        raise MissingReferenceError(f"model {name!r} version {version.version} was registered without a run")
    stored = set(tracker.list_artifacts(version.run_id, "monitoring"))
    with tempfile.TemporaryDirectory() as folder:
        specs = [p for p in tracker.list_artifacts(version.run_id, "spec") if p.endswith((".yaml", ".yml"))]
        if not specs:
            raise MissingReferenceError(f"model {name!r} version {version.version}: its run has no logged spec")
        governing = stored_policy(tracker, version)  # the policy it was judged under, not today's file
        # a version registered before policies were stored: its policy by name from the project's policy folder (a
        # downloaded spec has no folder beside it)
        policies = StoredPolicySource(governing.document) if governing else FolderPolicySource(policy_folder())
        spec = load_spec(tracker.download_artifacts(version.run_id, specs[0], folder), policies)
        if reference is None and REFERENCE_PATH not in stored:
            raise MissingReferenceError(
                f"model {name!r} version {version.version} has no stored monitoring reference "
                "(registered before monitoring existed): pass --reference PATH"
            )
        frame = read_table(
            reference or tracker.download_artifacts(version.run_id, REFERENCE_PATH, folder),
            columns=read_columns(spec),
            dictionary=spec.features.categorical,
        )
        expected = (
            json.loads(Path(tracker.download_artifacts(version.run_id, EXPECTED_PATH, folder)).read_text())
            if EXPECTED_PATH in stored
            else {}
        )
    frame = validate(frame, spec, "reference")
    scorer, _ = load_model_scorer(tracker, version.source)
    label = (
        f"{Path(reference).name} (--reference, {len(frame):,} rows)"
        if reference
        else f"training sample stored at registration ({len(frame):,} rows)"
    )
    return Target(version, spec, frame, score(scorer, frame), expected, scorer, label)


SCORE_CHUNK = 200_000  # rows transformed and predicted at a time: the transformed copy of a 1M-row window is 300 MB


def score(scorer: Scorer, frame: pd.DataFrame) -> np.ndarray:
    """Probability of default from the version's own booster and transform (no reason codes: not needed here),
    chunk by chunk so the transformed copy never holds the whole window."""
    parts = [
        predict_pd(scorer.booster, scorer.transform.transform(frame.iloc[start : start + SCORE_CHUNK]))
        for start in range(0, len(frame), SCORE_CHUNK)
    ]
    return np.concatenate(parts) if parts else np.array([], dtype=np.float64)
