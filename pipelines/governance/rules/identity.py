"""When two names are the same person: the one comparison behind four-eyes, exception granters, "review as
yourself" and team logins.

A login typed with a zero-width space, a combining grapheme joiner, a variation selector or a Braille blank, in
full-width letters or small capitals, with a Cyrillic `і`, a Lisu `ꓮ`, a Latin `ɑ`, as `aIice` or as `RİSK-LEAD`
is still the person it looks like. Names are compared by a key close to the skeleton of Unicode TS #39: NFKC
(full-width and other compatibility forms), invisible code points removed (format characters, marks, the
default-ignorable and blank characters of pipelines/governance/rules/confusables.py), case folded, then every
character mapped to the Latin letter it reads as (the TS #39 confusables subset shipped in confusables.py). A name
whose letters come from more than one script is refused outright: no honest login mixes Latin with Cyrillic.
Dropping marks errs on the side of "same person" (`josé` and `jose` match), which is the safe side for four-eyes.
"""

from __future__ import annotations

import unicodedata

from pipelines.governance.rules.confusables import INVISIBLE, LOOK_ALIKES

__all__ = ["CONFUSABLES", "name_problem", "person_key", "same_person", "scripts"]

CONFUSABLES = LOOK_ALIKES
# Scripts that one name may legitimately combine (Japanese writes with all three).
_SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "CJK": "CJK"}


def _visible(text: str) -> str:
    return "".join(c for c in text if c not in INVISIBLE and unicodedata.category(c)[0] not in "MCZ")


def _letters_only_form(name: str) -> str:
    """NFKC, invisible code points, marks and spaces removed, case folded (and normalised again: folding and
    decomposing can expose more marks)."""
    text = _visible(unicodedata.normalize("NFKC", name)).casefold()
    return unicodedata.normalize("NFC", _visible(unicodedata.normalize("NFKD", text)))


def scripts(name: str) -> list[str]:
    """The scripts of the letters of `name` (LATIN, CYRILLIC, GREEK, CJK, ...), sorted."""
    found = set()
    for char in _letters_only_form(name):
        if unicodedata.category(char).startswith("L"):
            script = unicodedata.name(char, "UNKNOWN").split(" ")[0]
            found.add(_SCRIPT_FAMILIES.get(script, script))
    return sorted(found)


def name_problem(name: str) -> str | None:
    """Why `name` cannot identify a person (empty, or letters from several scripts); None when it can."""
    if not person_key(name):
        return "is empty"
    found = scripts(name)
    if len(found) > 1:
        return f"mixes {' and '.join(s.title() for s in found)} letters"
    return None


def person_key(name: str | None) -> str:
    """The comparison key of a name: equal keys are the same person."""
    return "".join(CONFUSABLES.get(c, c) for c in _letters_only_form(name or ""))


def same_person(first: str | None, second: str | None) -> bool:
    """Whether two non-empty names are the same person under the key above."""
    key = person_key(first)
    return bool(key) and key == person_key(second)
