"""When two names are the same person: the comparison behind four-eyes and "review as yourself".

A login typed with a zero-width space, in full-width letters, with a Cyrillic `і`, a soft hyphen or as
`RİSK-LEAD` is still `risk-lead`. Names are compared by a key: Unicode NFKC (full-width and other
compatibility forms), format characters removed (zero-width spaces and joiners, soft hyphen, bidi
marks), case folded, accents and other combining marks dropped, and Cyrillic and Greek letters that
look like Latin ones mapped to them. A name whose letters come from more than one script is refused
outright: no honest login mixes Latin with Cyrillic. Dropping marks errs on the side of "same person"
(`josé` and `jose` match), which is the safe side for four-eyes.
"""

from __future__ import annotations

import unicodedata

# Cyrillic and Greek lower-case letters (after case folding) that read as a Latin letter.
CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ь": "b", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ү": "y",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "c", "ϳ": "j",
    # Latin letters that read as another Latin letter
    "ɡ": "g", "ı": "i",
}  # fmt: skip
# Scripts that one name may legitimately combine (Japanese writes with all three).
_SCRIPT_FAMILIES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "CJK": "CJK"}


def _letters_only_form(name: str) -> str:
    """NFKC, format characters removed, case folded, combining marks dropped."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").strip().casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


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
