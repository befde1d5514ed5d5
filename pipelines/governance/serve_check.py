"""Opt-in check when a server loads the model: refuse to serve a champion that is not verified.

The pyfunc loader does not know which URI it was loaded through, so the operator names the model:
`CREDITFLOW_SERVE_VERIFY=NAME mlflow models serve -m models:/NAME@champion ...`. The loader then
checks that the model it loaded is NAME@champion, that the audit trail's hash chain is intact, that the
champion is verified against it (pipelines/governance/rules/promotion.py), and that the files it is loading hash to
the champion's `lineage.model_sha256`; otherwise loading fails before a row is scored and the server does
not start. Set the variable on the serving process only (MLflow also loads the model while logging it).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from pipelines.tracking.pyfunc_model import SERVE_VERIFY_ENV


def verify_served(model_dir: Path) -> None:
    """Raise RuntimeError naming every problem if the served model is not the verified champion."""
    name = os.environ.get(SERVE_VERIFY_ENV, "").strip()
    if not name:
        return
    from pipelines.core.tags import CHAMPION
    from pipelines.governance.rules.promotion import champion_problems
    from pipelines.governance.store import store_of
    from pipelines.tracking import Tracker
    from pipelines.tracking.model_files import files_check

    tracker = Tracker(None)
    champion = tracker.version_by_alias(name, CHAMPION)
    trail = store_of(tracker).trail(name)
    problems = [f"the audit trail is untrusted: {p}" for p in trail.problems]
    problems += champion_problems(champion, trail.records, files=files_check(model_dir))
    model_id = (yaml.safe_load((model_dir / "MLmodel").read_text()) or {}).get("model_id")
    if champion.source != f"models:/{model_id}":
        problems.insert(0, f"the loaded model ({model_id}) is not {name}@{CHAMPION} (version {champion.version})")
    if problems:
        raise RuntimeError(f"refusing to serve {name}@{CHAMPION}: " + "; ".join(problems))
