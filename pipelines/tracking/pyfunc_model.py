"""The MLflow side of the credit model: the pyfunc wrapper that is logged and served, and the one loader
that `score`, `monitor` and serving use to get a `Scorer` from a logged model's files.

The xgboost flavour's pyfunc predicts class labels, not probabilities, so creditflow logs this
PythonModel instead, with the `features` and `pipelines` packages as code paths: it loads and scores
without the repository checked out.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext

from features.errors import DataError
from pipelines.core.records import FilesCheck
from pipelines.scoring.scorer import ARTIFACT_FILES, BOOSTER, DEFAULT_PARAMS, SETTINGS, TRANSFORM, Scorer, load_scorer
from pipelines.tracking.logger import RunLogger
from pipelines.tracking.model_files import files_check

if TYPE_CHECKING:  # the serving process loads only what the model needs
    from pipelines.tracking.runs import Runs

SERVE_VERIFY_ENV = "CREDITFLOW_SERVE_VERIFY"  # opt-in for servers: see pipelines/governance/serve_check.py
# Serving checks are plugins (pyproject's `creditflow.serve_check` entry points: governance declares its own), so
# this adapter runs them without importing governance; MLflow finds its server apps the same way (`mlflow.app`).
SERVE_CHECKS = "creditflow.serve_check"


class CreditModel(PythonModel):
    """Loads the booster, transform, cutoff and reason settings saved as artifacts at logging time."""

    def load_context(self, context: PythonModelContext) -> None:
        _guard_request_parsing()
        if os.environ.get(SERVE_VERIFY_ENV, "").strip():
            run_serve_checks(Path(context.artifacts[BOOSTER]).resolve().parents[1])
        self.scorer, settings = load_scorer(
            context.artifacts[BOOSTER], context.artifacts[TRANSFORM], context.artifacts[SETTINGS]
        )
        self.refused: dict[str, str] = settings.get("refused_columns", {})  # absent in models logged before

    # MLflow reads these hints at run time (get_type_hints): every name in them is imported at run time
    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Bad input (missing column, wrong type, unknown reason_method, a target, PII or sensitive column)
        raises MlflowException INVALID_PARAMETER_VALUE: the scoring server answers it with 400 and the
        message, never 500."""
        params = {**DEFAULT_PARAMS, **(params or {})}
        frame = pd.DataFrame(model_input)
        try:
            _check_request(frame, self.refused)
            return self.scorer.score(
                frame, reason_method=params["reason_method"], all_reasons=bool(params["all_reasons"])
            )
        except ValueError as exc:  # InputError is a ValueError; so is XGBoostError, whose text holds a native trace
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MlflowException(message, error_code=INVALID_PARAMETER_VALUE) from None


def run_serve_checks(model_dir: Path) -> None:
    """Run every installed serving check on the folder of the model being loaded (each raises to refuse it); with
    none installed, refuse: the operator asked for a check this process cannot make."""
    checks = entry_points(group=SERVE_CHECKS)
    if not checks:
        raise RuntimeError(f"{SERVE_VERIFY_ENV} is set but no serving check is installed ({SERVE_CHECKS} entry points)")
    for check in checks:
        check.load()(model_dir)


def _check_request(frame: pd.DataFrame, refused: dict[str, str]) -> None:
    """What only a JSON request can carry: a column the model must not receive (the signature names them as
    optional, so MLflow passes them on instead of dropping them), or a list or mapping as a value."""
    carried = [f"{name} ({refused[name]})" for name in frame.columns if name in refused]
    if carried:
        raise ValueError(f"the request carries column(s) the model must not receive: {', '.join(carried)}")
    for name in frame.columns:
        if frame[name].dtype == object:
            nested = frame[name].map(lambda value: isinstance(value, (list, dict)))
            if nested.any():
                raise ValueError(f"column '{name}' must hold single values, got {frame[name][nested].iloc[0]!r}")


def _guard_request_parsing() -> None:
    """Make MLflow's scoring server answer a JSON body nested deeper than Python's recursion limit with a 400.

    The server decodes the body before the model sees it; its decoder turns JSONDecodeError into a 400 but lets
    RecursionError through, which becomes a 500. The fix belongs in MLflow (`_decode_json_input` of
    mlflow.pyfunc.scoring_server); until then, the loaded model wraps that function in the serving process
    (where the module is already imported), once. If MLflow renames it, nothing is wrapped (a test says so).
    """
    server = sys.modules.get("mlflow.pyfunc.scoring_server")
    decode = getattr(server, "_decode_json_input", None)
    if decode is None or getattr(decode, "creditflow_guard", False):
        return

    @functools.wraps(decode)
    def guarded(json_input: Any) -> Any:
        try:
            return decode(json_input)
        except RecursionError:
            raise MlflowException(
                "the request body is nested too deeply to parse", error_code=INVALID_PARAMETER_VALUE
            ) from None

    guarded.creditflow_guard = True  # type: ignore[attr-defined]
    server._decode_json_input = guarded  # type: ignore[union-attr]


def load_model_scorer(
    tracker: Runs, source: str, *, check: Callable[[FilesCheck], None] | None = None
) -> tuple[Scorer, dict]:
    """The scorer and settings of a logged creditflow model (a `models:/`, `runs:/` or artifact URI),
    straight from its artifact files: ~0.06 s, against ~0.6 s for mlflow.pyfunc.load_model of the same
    model (German Credit, medians of 3 fresh processes, store connection already open).

    `check` is shown the tree hash of exactly the files about to be loaded, before any is read as a
    model: it raises to refuse them (a file swapped after registration)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(tracker.download_model(source, folder))
        if check is not None:
            check(files_check(root))
        local = root / "artifacts"
        paths = {key: local / name for key, name in ARTIFACT_FILES.items()}
        missing = [str(p.name) for p in paths.values() if not p.is_file()]
        if missing:
            raise DataError(f"{source} is not a creditflow model (missing artifacts: {', '.join(missing)})")
        return load_scorer(str(paths[BOOSTER]), str(paths[TRANSFORM]), str(paths[SETTINGS]))


def log_credit_model(
    run: RunLogger,
    booster: bytes,
    transform_json: str,
    settings: dict,
    example: pd.DataFrame,
    output: pd.DataFrame,
    code_paths: list[str],
) -> str:
    """Log the credit model (its three artifact files, code, signature and example) on `run`; its URI."""
    with tempfile.TemporaryDirectory() as folder:
        files = {key: Path(folder) / name for key, name in ARTIFACT_FILES.items()}
        files[BOOSTER].write_bytes(booster)
        files[TRANSFORM].write_text(transform_json)
        files[SETTINGS].write_text(json.dumps(settings, indent=2))
        return run.model(
            str(Path(__file__).with_name("credit_model_code.py")),  # from code: no CloudPickle in the artifact
            {k: str(v) for k, v in files.items()},
            code_paths,
            example,
            output.reset_index(drop=True),
            params=DEFAULT_PARAMS,
            optional_inputs=list(settings.get("refused_columns", {})),
        )
