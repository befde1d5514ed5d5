"""Facts known only after the decision, in the spec (issue 23.2): the data dictionary (`features.available_at`)
declares when each feature is known, a policy can require every feature declared `application`, and a reason text
that describes an event after the decision is a spec error (it would tell a declined applicant "Principal paid")."""

from __future__ import annotations

import pytest
import yaml

from features.errors import SpecError
from features.spec import load_spec
from tests.conftest import GERMAN_SPEC, write_policy, write_spec

RAW = yaml.safe_load(GERMAN_SPEC.read_text())
FEATURES = RAW["features"]["numeric"] + RAW["features"]["categorical"]


def test_a_reason_text_describing_an_event_after_the_decision_is_a_spec_error(tmp_path):
    spec = write_spec(tmp_path, **{"reasons.credit_amount": "Sent to collections"})
    with pytest.raises(SpecError, match="reasons.credit_amount: the reason text 'Sent to collections' describes an"):
        load_spec(spec)


def test_a_reviewed_feature_may_keep_its_reason_text(tmp_path):
    why = "collections by other lenders before the application, reported by the bureau"
    changes = {"reasons.credit_amount": "Sent to collections", "features.reviewed": {"credit_amount": why}}
    assert load_spec(write_spec(tmp_path, **changes))


def test_a_reason_text_with_a_term_inside_a_word_is_not_refused(tmp_path):
    assert load_spec(write_spec(tmp_path, **{"reasons.credit_amount": "Unpaid balances at other lenders"}))


def test_a_policy_that_requires_the_data_dictionary_refuses_a_spec_without_it(tmp_path):
    write_policy(tmp_path, "strict-dictionary", **{"limits.leakage.require_available_at": True})
    declared = {name: "application" for name in FEATURES}
    missing = write_spec(tmp_path, **{"policy.name": "strict-dictionary"})
    with pytest.raises(SpecError, match="features.available_at: the policy requires every feature declared"):
        load_spec(missing)
    partly = write_spec(
        tmp_path, **{"policy.name": "strict-dictionary", "features.available_at": {"credit_amount": "application"}}
    )
    with pytest.raises(SpecError, match="not declared: duration_in_month"):
        load_spec(partly)
    assert load_spec(write_spec(tmp_path, **{"policy.name": "strict-dictionary", "features.available_at": declared}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"features.available_at": {"credit_amount": "after_decision"}}, "features.available_at.credit_amount"),
        ({"features.available_at": {"no_such": "application"}}, "features.available_at: unknown feature"),
        ({"policy.leakage.require_available_at": False, "policy.name": "dict"}, "is looser than"),
    ],
)
def test_only_application_features_and_no_loosening(tmp_path, changes, message):
    write_policy(tmp_path, "dict", **{"limits.leakage.require_available_at": True})
    with pytest.raises(SpecError, match=message):
        load_spec(write_spec(tmp_path, **changes))
