"""Prohibited names by meaning (issue 23.4): `married` passed the `*marital*` ban. The policy's short lexicon
(`prohibited_words`) matches synonyms and word forms by whole words, tested both ways: what it must refuse, and the
innocent names it must not (`email_domain` holds `male`, `manager_years` holds `man`, `grace_period` holds `race`)."""

from __future__ import annotations

import pytest
import yaml

from features.errors import SpecError
from features.lexicon import DEFAULT_WORDS, lexicon_matches, words
from features.spec import load_spec
from tests.conftest import GERMAN_SPEC, POLICY, write_spec

SHIPPED = yaml.safe_load(POLICY.read_text())["prohibited_words"]


def test_the_shipped_policy_carries_the_default_lexicon():
    assert SHIPPED == DEFAULT_WORDS


@pytest.mark.parametrize(
    ("name", "word", "means"),
    [
        ("married", "married", "marital status"),
        ("is_married", "married", "marital status"),
        ("spouse_income", "spouse", "marital status"),
        ("maritalStatus", "marital", "marital status"),
        ("maritalstatus", "maritalstatus", "marital status"),
        ("marital_unknown", "marital", "marital status"),  # an 'unknown' flag of marital status still encodes it
        ("widowed", "widowed", "marital status"),
        ("gender", "gender", "sex or gender"),
        ("applicantSex", "sex", "sex or gender"),
        ("is_female", "female", "sex or gender"),
        ("FEMALES", "females", "sex or gender"),
        ("ethnicity", "ethnicity", "race or ethnicity"),
        ("race_code", "race", "race or ethnicity"),
        ("religious_affiliation", "religious", "religion"),
        ("national_origin_code", "national origin", "national origin"),
        ("on_maternity_leave", "maternity", "pregnancy"),
    ],
)
def test_a_synonym_or_word_form_is_found(name, word, means):
    assert lexicon_matches([name], SHIPPED) == [(name, word, means)]


@pytest.mark.parametrize(
    "name",
    [
        "email_domain",  # holds 'male'
        "manager_years",  # holds 'man'
        "employment_years",  # holds 'men'
        "grace_period_days",  # holds 'race'
        "number_of_people_being_liable_to_provide_maintenance_for",  # holds 'man' and 'main'
        "sextant_reading",  # 'sex' is too short to match as a start of a word
        "nationality_watch",  # national, not national origin (the proxy watchlist lists it for the reviewer)
        "single_payment",
        "income",
    ],
)
def test_an_innocent_name_is_not_refused(name):
    assert lexicon_matches([name], SHIPPED) == []


def test_words_split_on_case_changes_and_separators():
    assert words("Applicant-GenderCode_2") == ["applicant", "gender", "code"]


def test_a_spec_with_married_among_its_features_is_refused_naming_the_word(tmp_path):
    raw = yaml.safe_load(GERMAN_SPEC.read_text())
    spec = write_spec(
        tmp_path,
        **{
            "features.categorical": raw["features"]["categorical"] + ["married"],
            "reasons.married": "Marriage",
        },
    )
    with pytest.raises(SpecError) as refused:
        load_spec(spec)
    assert (
        "feature(s) prohibited by policy consumer-credit v2: 'married' (the word 'married' means marital status)"
        in (str(refused.value))
    )


def test_the_shipped_specs_use_no_prohibited_word():
    for path in (GERMAN_SPEC, POLICY.parents[1] / "consumer_loans.yaml"):
        raw = yaml.safe_load(path.read_text())
        features = raw["features"]["numeric"] + raw["features"]["categorical"]
        assert lexicon_matches(features, SHIPPED) == []
