"""Refusing a request that carries a column the credit model must not receive (the target, PII, a sensitive
attribute), although the model's signature names only the features it takes.

MLflow enforces a pyfunc signature before the model sees its input (`mlflow.pyfunc._validate_prediction_input`,
on every path: `load_model(...).predict`, `mlflow models serve`, `spark_udf`) and silently drops every column the
signature does not name (`mlflow.models.utils._enforce_named_col_schema`, MLflow 3.17). A request with `sex` would
be scored as if it had not been sent: the lender's system would never learn it sends what it must not. Naming the
refused columns in the signature as optional inputs kept them, but told every reader of the signature (the MLflow
UI's model page) that the model takes them.

So the signature names only the features, and a loaded credit model registers, for its own signature (the set of
its feature names), the columns it refuses; one wrap of `_validate_prediction_input`, made once per process when
the first credit model loads, looks at the request's columns before MLflow drops any and refuses it naming them.
Requests to any other model (another signature) pass through untouched. If MLflow renames the function, nothing
is wrapped and `guard_installed()` says so (a test checks it).
"""

from __future__ import annotations

import functools
import importlib
import threading
from typing import Any, Callable

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

__all__ = ["guard_installed", "refuse_columns", "refusal_message"]

_REFUSED: dict[frozenset[str], dict[str, str]] = {}  # a model's feature names -> {refused column: its role}
_LOCK = threading.Lock()


def refuse_columns(features: list[str], refused: dict[str, str]) -> None:
    """From now on in this process, a prediction request to a model whose signature names exactly `features` is
    refused when it carries any column of `refused` (column -> role, e.g. `sex` -> `sensitive attribute`)."""
    pyfunc = importlib.import_module("mlflow.pyfunc")
    with _LOCK:  # two loaded models with the same features: each one's refusals hold (refusing more is safe)
        _REFUSED.setdefault(frozenset(features), {}).update(refused)
        validate = getattr(pyfunc, "_validate_prediction_input", None)
        if validate is not None and not getattr(validate, "creditflow_guard", False):
            setattr(pyfunc, "_validate_prediction_input", _guarded(validate))


def guard_installed() -> bool:
    validate = getattr(importlib.import_module("mlflow.pyfunc"), "_validate_prediction_input", None)
    return bool(getattr(validate, "creditflow_guard", False))


def refusal_message(columns: list[str], refused: dict[str, str]) -> str | None:
    """The one-line refusal naming each refused column the request carries with its role (never a value); None
    when it carries none."""
    carried = [f"{name} ({refused[name]})" for name in columns if name in refused]
    if not carried:
        return None
    return f"the request carries column(s) the model must not receive: {', '.join(carried)}"


def _guarded(validate: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(validate)
    def guarded(data: Any, params: Any, input_schema: Any, *args: Any, **kwargs: Any) -> Any:
        refused = _refused_for(input_schema)
        message = refusal_message(_columns(data), refused) if refused else None
        if message is not None:
            refusal = MlflowException(message, error_code=INVALID_PARAMETER_VALUE)
            refusal.creditflow_answer = message  # type: ignore[attr-defined]  # value-free: the server answers it
            raise refusal
        return validate(data, params, input_schema, *args, **kwargs)

    guarded.creditflow_guard = True  # type: ignore[attr-defined]
    return guarded


def _refused_for(input_schema: Any) -> dict[str, str] | None:
    if input_schema is None or not input_schema.has_input_names():
        return None
    return _REFUSED.get(frozenset(input_schema.input_names()))


def _columns(data: Any) -> list[str]:
    """The column names of a request as MLflow hands it over: a DataFrame (pandas or Spark), a mapping of
    columns, or a list of records."""
    if isinstance(data, dict):
        return [str(k) for k in data]
    if isinstance(data, list):
        return list(dict.fromkeys(str(k) for row in data if isinstance(row, dict) for k in row))
    columns = getattr(data, "columns", None)
    return [str(c) for c in columns] if columns is not None else []
