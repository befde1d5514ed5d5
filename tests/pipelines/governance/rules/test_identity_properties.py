"""One identity rule everywhere (issue 29, item 5): the look-alikes the issue found, and properties of the key
over generated names (Hypothesis) with the TS #39 confusables subset shipped in
pipelines/governance/rules/confusables.py."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.policy import ExceptionTerms
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.confusables import INVISIBLE, LOOK_ALIKES
from pipelines.governance.rules.exceptions import granter_problems
from pipelines.governance.rules.identity import name_problem, person_key, same_person
from pipelines.governance.rules.permissions import Actor

LISU_ALICE = "\ua4ee\ua4e1\ua4f2\ua4da\ua4f0"  # ꓮꓡꓲꓚꓰ
ISSUE_VARIANTS = [
    "alice\u034f",  # combining grapheme joiner
    "alice\ufe0f",  # variation selector 16
    "alice\u2800",  # Braille blank
    "al\u2800ice",
    LISU_ALICE,
    "\u1d00\u029f\u026a\u1d04\u1d07",  # small capitals ᴀʟɪᴄᴇ
    "\u0251lice",  # ɑlice
    "aIice",  # capital I for l
    "a1ice",
    "alice\u200b",  # zero-width space
    "alice\u3164",  # Hangul filler
    "\u13aa\u13de\u13a5\u13df\u13ac",  # Cherokee ᎪᏞᎥᏟᎬ
]


@pytest.mark.parametrize("variant", ISSUE_VARIANTS)
def test_look_alikes_of_alice_are_alice(variant):
    assert same_person(variant, "alice"), (variant, person_key(variant))


def test_a_granter_typed_with_a_zero_width_space_is_the_author():
    version = VersionInfo("m", "1", {tags.AUTHOR: "alice"}, (), "r", "runs:/r/model", 0)
    assert granter_problems(version, "alice\u200b", ExceptionTerms())
    assert granter_problems(version, "aIice", ExceptionTerms())
    assert not granter_problems(version, "bob", ExceptionTerms())


def test_a_team_login_is_compared_by_the_same_rule():
    assert Actor("alice", "reviewer").is_("\u0251lice")
    assert Actor(LISU_ALICE, "reviewer").is_("alice")
    assert not Actor("alice", "reviewer").is_("bob")


def test_honest_names_stay_apart():
    for first, second in [("alice", "alicia"), ("bob", "rob"), ("ana", "anna"), ("risk-lead", "risk-lead2")]:
        assert not same_person(first, second)


_LATIN = st.text(alphabet="abcdefghjkmnpqrstuvwxyz-", min_size=1, max_size=12)
_INVISIBLES = st.sampled_from(sorted(INVISIBLE) + ["\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u202e"])
_LOOK = st.sampled_from(sorted(c for c, latin in LOOK_ALIKES.items()))


@settings(max_examples=300, deadline=None)
@given(name=_LATIN, position=st.integers(min_value=0, max_value=12), filler=_INVISIBLES)
def test_an_invisible_code_point_anywhere_changes_nobody(name, position, filler):
    assert same_person(name[:position] + filler + name[position:], name)


@settings(max_examples=300, deadline=None)
@given(name=_LATIN, position=st.integers(min_value=0, max_value=11), look=_LOOK)
def test_replacing_a_letter_by_its_look_alike_is_the_same_person(name, position, look):
    position = min(position, len(name) - 1)
    latin = LOOK_ALIKES[look]
    original = name[:position] + latin + name[position + 1 :]
    assert same_person(name[:position] + look + name[position + 1 :], original)


@settings(max_examples=200, deadline=None)
@given(name=st.text(min_size=1, max_size=16))
def test_the_key_is_stable(name):
    """Idempotent under NFKC and case: keying the normalised or upper-cased name gives the same key."""
    key = person_key(name)
    assert person_key(unicodedata.normalize("NFKC", name)) == key
    assert person_key(name.upper()) == person_key(name.lower()) or not name.isascii()


@settings(max_examples=200, deadline=None)
@given(name=_LATIN)
def test_a_plain_latin_login_is_a_valid_name(name):
    assert name_problem(name) is None or not person_key(name)


def test_the_table_maps_to_latin_letters_and_digits_only():
    assert all(latin.isascii() and latin.isalnum() for latin in LOOK_ALIKES.values())
    assert len(LOOK_ALIKES) > 150
