"""Four-eyes compares people, not strings: every look-alike of a login is that login (issue 12, item 5)."""

import pytest

from pipelines.governance.rules.identity import name_problem, person_key, same_person

AUTHOR = "risk-lead"


@pytest.mark.parametrize(
    "variant",
    [
        "risk\u200b-lead",  # zero-width space
        "\uff52isk-lead",  # full-width r
        "r\u0456sk-lead",  # Cyrillic і
        "risk\u00ad-lead",  # soft hyphen
        "R\u0130SK-LEAD",  # capital I with dot above
        " Risk-Lead ",
        "risk-l\u0435ad",  # Cyrillic е
        "\u202erisk-lead",  # a right-to-left override
    ],
)
def test_every_variant_of_a_login_is_the_same_person(variant):
    assert variant != AUTHOR
    assert same_person(variant, AUTHOR) and person_key(variant) == person_key(AUTHOR)


@pytest.mark.parametrize("mixed", ["r\u0456sk-lead", "risk-l\u0435ad", "\u03b1lice"])
def test_a_name_mixing_scripts_is_refused(mixed):
    assert "mixes" in name_problem(mixed)


@pytest.mark.parametrize("honest", ["risk-lead", "\u0438\u0432\u0430\u043d", "\u5c71\u7530\u305f\u308d\u3046", "Zoë"])
def test_single_script_names_are_accepted(honest):
    assert name_problem(honest) is None


def test_different_people_stay_different():
    assert not same_person("risk-lead", "risk-lead2")
    assert not same_person("bob", "rob")
    assert not same_person("", "") and name_problem("\u200b") == "is empty"
