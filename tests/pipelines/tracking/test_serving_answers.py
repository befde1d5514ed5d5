"""What a refused scoring request is answered with (issue 29, item 7): columns and reasons, never values."""

import pandas as pd

from pipelines.tracking.pyfunc_model import _without_values, refusal_reason

COLUMNS = ["credit_amount", "purpose", "duration_in_month"]


def test_mlflow_refusals_are_answered_with_the_reason_and_the_columns_only():
    prefixed = "Failed to predict data '  applicant_name\n0  Jane Quinlan-Doe'. \nError: Model is missing inputs"
    assert refusal_reason(prefixed + " ['credit_amount'].", COLUMNS) == (
        "the request lacks required column(s) (column(s): credit_amount)"
    )
    schema = "Failed to enforce schema of data 'Jane' with schema ... Incompatible input types for column purpose."
    assert refusal_reason(schema, COLUMNS) == "the request does not match the model's input types (column(s): purpose)"
    assert refusal_reason("Invalid input. Error: Expecting value", COLUMNS) == "the request was refused"
    assert refusal_reason("Failed to parse input as JSON: 'Jane'", []) == "the request body could not be parsed"


def test_the_models_own_messages_drop_what_they_got():
    frame = pd.DataFrame({"credit_amount": ["Jane Quinlan-Doe"], "purpose": ["none"]})
    assert _without_values("column 'credit_amount' must be numeric, got 'Jane Quinlan-Doe'", frame) == (
        "column 'credit_amount' must be numeric"
    )
    assert _without_values("reason_method must be one of exact, approx, none", frame) == (
        "reason_method must be one of exact, approx, none"
    )
    leaking = _without_values("column credit_amount holds 'Jane Quinlan-Doe' which is not a number", frame)
    assert "Jane" not in leaking and "credit_amount" in leaking
