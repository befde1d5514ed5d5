"""A version judged under a policy that is not the current governed version of its name is flagged."""

from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.policy_currency import policy_name, policy_problems

WHERE = "the team server's policy store"


def version(**values: str) -> VersionInfo:
    return VersionInfo("m", "3", dict(values), (), "run", "models:/m/3", 0)


JUDGED = version(**{tags.POLICY: "consumer-credit v1", tags.POLICY_DIGEST: "a" * 64})


def test_the_current_governed_version_has_no_problem():
    assert policy_name(JUDGED) == "consumer-credit"
    assert policy_problems(JUDGED, ("1", "a" * 64), WHERE) == []


def test_an_authors_own_document_of_the_same_name_and_version_is_flagged():
    """The issue's trick: a file named like the lender's policy, with min_air 0.5: same label, other digest."""
    (problem,) = policy_problems(JUDGED, ("1", "b" * 64), WHERE)
    assert (
        "judged under policy consumer-credit v1 (digest aaaaaaaaaaaa), not the governed consumer-credit v1" in problem
    )


def test_a_superseded_policy_and_an_ungoverned_name_are_flagged():
    assert "not the governed consumer-credit v2" in policy_problems(JUDGED, ("2", "c" * 64), WHERE)[0]
    assert f"which {WHERE} does not govern" in policy_problems(JUDGED, None, WHERE)[0]
    assert "records no governed policy" in policy_problems(version(), ("1", "a" * 64), WHERE)[0]
