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
import re
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext

from features.errors import DataError
from pipelines.core.records import FilesCheck
from pipelines.scoring.request_check import missing_required
from pipelines.scoring.scorer import ARTIFACT_FILES, BOOSTER, DEFAULT_PARAMS, SETTINGS, TRANSFORM, Scorer, load_scorer
from pipelines.tracking.logger import RunLogger
from pipelines.tracking.model_files import files_check
from pipelines.tracking.request_guard import refusal_message, refuse_columns

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
        # the signature names only the features, so MLflow would drop these silently before `predict`
        refuse_columns(self.scorer.transform.columns, self.refused)

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
                frame,
                reason_method=params["reason_method"],
                all_reasons=bool(params["all_reasons"]),
                refer_rows=self._lacking(frame),
            )
        except ValueError as exc:  # InputError is a ValueError; so is XGBoostError, whose text holds a native trace
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            refusal = MlflowException(message, error_code=INVALID_PARAMETER_VALUE)
            refusal.creditflow_answer = _without_values(message, frame)  # type: ignore[attr-defined]
            raise refusal from None

    def _lacking(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Rows missing a value the model needs: referred where the policy refers, else the request is refused
        naming the features (never a confident decline built on missing data)."""
        rows, named = missing_required(frame, list(self.scorer.required))
        if not named:
            return None
        if self.scorer.refer is None:
            raise ValueError(
                f"the request lacks values the model needs to decide: {', '.join(named)} (no decision is made on "
                "missing data; send the values, or refer the application to an underwriter)"
            )
        return rows


def run_serve_checks(model_dir: Path) -> None:
    """Run every installed serving check on the folder of the model being loaded (each raises to refuse it); with
    none installed, refuse: the operator asked for a check this process cannot make."""
    checks = entry_points(group=SERVE_CHECKS)
    if not checks:
        raise RuntimeError(f"{SERVE_VERIFY_ENV} is set but no serving check is installed ({SERVE_CHECKS} entry points)")
    for check in checks:
        check.load()(model_dir)


def _check_request(frame: pd.DataFrame, refused: dict[str, str]) -> None:
    """What only a JSON request can carry: a list or mapping as a value; and a column the model must not receive,
    which reaches `predict` only when it is called directly or the model was logged with those columns in its
    signature (before the request guard, pipelines/tracking/request_guard.py, refused them ahead of MLflow)."""
    message = refusal_message([str(c) for c in frame.columns], refused)
    if message is not None:
        raise ValueError(message)
    for name in frame.columns:
        if frame[name].dtype == object:
            nested = frame[name].map(lambda value: isinstance(value, (list, dict)))
            if nested.any():
                raise ValueError(f"column '{name}' must hold single values, not lists or mappings")


def _guard_request_parsing() -> None:
    """Make MLflow's scoring server answer bad requests with a 400 that names columns and reasons, never values.

    Two wraps of the already imported module, in the serving process, once each (if MLflow renames a function,
    nothing is wrapped: a test says so):
    - `_decode_json_input`: its decoder turns JSONDecodeError into a 400 but lets RecursionError through (a 500);
    - `invocations`: MLflow prefixes every refusal with the request itself ("Failed to predict data '...'"), and
      its own parsing and schema messages quote values, so every MlflowException leaving it is answered again:
      this model's own message (value-free, `_without_values`), or a reason naming the columns it mentions.
    """
    server = sys.modules.get("mlflow.pyfunc.scoring_server")
    decode, invocations = getattr(server, "_decode_json_input", None), getattr(server, "invocations", None)
    if decode is not None and not getattr(decode, "creditflow_guard", False):
        server._decode_json_input = _guarded_decode(decode)  # type: ignore[union-attr]
    if invocations is not None and not getattr(invocations, "creditflow_guard", False):
        server.invocations = _guarded_invocations(invocations)  # type: ignore[union-attr]


def _guarded_decode(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(decode)
    def guarded(json_input: Any) -> Any:
        try:
            return decode(json_input)
        except RecursionError:
            raise MlflowException(
                "the request body is nested too deeply to parse", error_code=INVALID_PARAMETER_VALUE
            ) from None

    guarded.creditflow_guard = True  # type: ignore[attr-defined]
    return guarded


def _guarded_invocations(invocations: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(invocations)
    def guarded(data: Any, content_type: str, model: Any, input_schema: Any) -> Any:
        try:
            return invocations(data, content_type, model, input_schema)
        except MlflowException as exc:
            answer = getattr(exc, "creditflow_answer", None) or refusal_reason(exc.message, _names(input_schema))
            refusal = MlflowException(answer)
            refusal.error_code = exc.error_code  # the name of the code, kept as MLflow stores it: same status
            raise refusal from None

    guarded.creditflow_guard = True  # type: ignore[attr-defined]
    return guarded


def _names(input_schema: Any) -> list[str]:
    return list(input_schema.input_names()) if input_schema is not None and input_schema.has_input_names() else []


_REASONS = (  # (words of MLflow's message, the reason given instead), first match wins
    (("missing inputs", "missing input", "missing column"), "the request lacks required column(s)"),
    (("nested too deeply",), "the request body is nested too deeply to parse"),
    (("parse", "json", "decode", "utf-8", "dataframe"), "the request body could not be parsed"),
    (("schema", "convert", "type", "incompatible"), "the request does not match the model's input types"),
)


def refusal_reason(message: str, columns: list[str]) -> str:
    """A value-free answer for an MLflow refusal: the reason its message gives, and the model's columns it names
    (never the message itself, which quotes the request)."""
    lowered = message.casefold()
    reason = next((text for words, text in _REASONS if any(w in lowered for w in words)), "the request was refused")
    named = [c for c in columns if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", message)]
    return f"{reason} (column(s): {', '.join(named)})" if named else reason


def _without_values(message: str, frame: pd.DataFrame) -> str:
    """This model's refusal as a client may see it. Its messages name a column and a reason, and some say what
    they got (", got ..."): that part is dropped; should a value of the request still appear (quoted, or 8
    characters or more: a short one like `none` is also a word), only the reason and the columns it names are given."""
    head, columns = message.split(", got ", 1)[0], [str(c) for c in frame.columns]
    values = {str(v) for v in frame.to_numpy().ravel() if v is not None and len(str(v).strip()) >= 3} - set(columns)
    quoted = any(f"'{v}'" in head or f'"{v}"' in head or (len(v) >= 8 and v in head) for v in values)
    return refusal_reason(head, columns) if quoted else head


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
) -> str:
    """Log the credit model (its three artifact files, the code its loader imports, signature and example) on
    `run`; its URI."""
    from pipelines.tracking.model_code import stage_model_code

    with tempfile.TemporaryDirectory() as folder:
        files = {key: Path(folder) / name for key, name in ARTIFACT_FILES.items()}
        files[BOOSTER].write_bytes(booster)
        files[TRANSFORM].write_text(transform_json)
        files[SETTINGS].write_text(json.dumps(settings, indent=2))
        return run.model(
            str(Path(__file__).with_name("credit_model_code.py")),  # from code: no CloudPickle in the artifact
            {k: str(v) for k, v in files.items()},
            stage_model_code(Path(folder) / "code", SERVE_CHECKS),
            example,
            output.reset_index(drop=True),
            params=DEFAULT_PARAMS,
        )
