"""Prohibited characteristics by meaning, not spelling: a short lexicon in the governed policy
(`prohibited_words`: characteristic -> words) matched against the words of a feature's name.

A name is split into words (`isMarried`, `spouse_income`, `Applicant-Gender` -> is married / spouse income /
applicant gender); a word matches a lexicon word when equal, a plural of it (`females`, `races`), or, for lexicon
words of five letters or more, when it begins with it (`maritalstatus`, `ethnicity`, `widowed`). Matching is by
whole words so that `email_domain` is not `male`, `manager_years` is not `man` and `grace_period` is not `race`.
Pure: names and a lexicon in, matches out."""

from __future__ import annotations

import re
from collections.abc import Mapping

PREFIX_LENGTH = 5  # a lexicon word this long also matches words that begin with it

# The consumer-credit lexicon (experiments/policies/consumer-credit.yaml carries the same as `prohibited_words`).
DEFAULT_WORDS: dict[str, list[str]] = {
    "marital status": ["marital", "married", "marriage", "unmarried", "spouse", "spousal", "divorced", "widow"],
    "sex or gender": ["sex", "gender", "female", "male", "woman", "women", "man", "men", "feminine", "masculine"],
    "race or ethnicity": ["race", "racial", "ethnic", "ethnicity", "ethnicities"],
    "religion": ["religion", "religious", "faith"],
    "national origin": ["national_origin", "birthplace"],
    "pregnancy": ["pregnant", "pregnancy", "maternity"],
    "disability": ["disability", "disabled", "handicap"],
}


def words(name: str) -> list[str]:
    """The lower-case words of a name: split at anything not a letter and at lower-to-upper case changes."""
    return re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())


def _matches(word: str, entry: str) -> bool:
    if word == entry or word in (f"{entry}s", f"{entry}es"):
        return True
    return len(entry) >= PREFIX_LENGTH and word.startswith(entry)


def lexicon_matches(names: list[str], lexicon: Mapping[str, list[str]]) -> list[tuple[str, str, str]]:
    """(feature, word found, characteristic) for each name one of whose words (or word sequences, for a lexicon
    entry of several words such as `national_origin`) means a prohibited characteristic."""
    found = []
    for name in names:
        have = words(name)
        hit = next(
            (
                (" ".join(have[i : i + len(entry)]), what)
                for what, entries in lexicon.items()
                for entry in (words(e) for e in entries)
                if entry
                for i in range(len(have) - len(entry) + 1)
                if all(_matches(w, e) for w, e in zip(have[i : i + len(entry)], entry))
            ),
            None,
        )
        if hit:
            found.append((name, hit[0], hit[1]))
    return found
