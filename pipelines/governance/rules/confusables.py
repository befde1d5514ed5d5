"""The look-alike table of the identity rule: characters that read as a Latin letter or digit, mapped to it.

Source: Unicode Technical Standard #39 (Unicode Security Mechanisms), data file `confusables.txt`
(https://www.unicode.org/Public/security/latest/confusables.txt, version 16.0.0): the subset whose prototype is
a Latin letter or digit, for the scripts a login is written in here (Cyrillic, Greek, Lisu, Cherokee, IPA and
Latin letter variants), lower-cased after the standard's mapping since names are compared without case. The
file cannot be downloaded when a command runs, so the subset ships here; Latin small capitals are generated
from the Unicode character names (`unicodedata`), since the standard maps each to its letter.
Digits and letters that the standard maps to one another (`0`/`o`, `1`/`l`/`I`) form one class: `aIice`,
`a1ice` and `alice` are one person.
"""

from __future__ import annotations

import unicodedata

__all__ = ["LOOK_ALIKES", "INVISIBLE"]

_CURATED = {
    # Cyrillic (lower case after case folding)
    "а": "a", "в": "b", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "х": "x", "ԝ": "w",
    "ь": "b", "с": "c", "ɡ": "g", "п": "n", "г": "r", "ѵ": "v", "ꙇ": "i",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "c", "ϳ": "j", "ϱ": "p", "ϐ": "b",
    # Latin letter variants and IPA
    "ɑ": "a", "ɒ": "a", "ı": "i", "ɩ": "i", "ɪ": "i", "ȷ": "j", "ʟ": "l", "ɭ": "l", "ɫ": "l", "ƚ": "l", "ɴ": "n",
    "ɵ": "o", "ʀ": "r", "ʏ": "y", "ʋ": "u", "ʊ": "u", "ſ": "f", "ƅ": "b", "ɓ": "b", "ꞵ": "b", "ɗ": "d",
    "ɛ": "e", "ɦ": "h", "ƙ": "k", "ɱ": "m", "ɲ": "n", "ƥ": "p", "ʠ": "q", "ʂ": "s", "ƭ": "t",
    # Lisu (capital-looking letters)
    "ꓮ": "a", "ꓐ": "b", "ꓚ": "c", "ꓓ": "d", "ꓰ": "e", "ꓝ": "f", "ꓖ": "g", "ꓧ": "h", "ꓲ": "l", "ꓙ": "j",
    "ꓗ": "k", "ꓡ": "l", "ꓟ": "m", "ꓠ": "n", "ꓳ": "o", "ꓑ": "p", "ꓣ": "r", "ꓢ": "s", "ꓔ": "t", "ꓴ": "u",
    "ꓦ": "v", "ꓪ": "w", "ꓫ": "x", "ꓬ": "y", "ꓜ": "z", "ꓒ": "d",
    # Cherokee capital letters (written as code points: the glyphs are the Latin capitals)
    **{chr(c): v for c, v in zip(
        (0x13AA, 0x13F4, 0x13DF, 0x13A0, 0x13AC, 0x13C0, 0x13BB, 0x13AB, 0x13E6, 0x13DE, 0x13B7, 0x13E2, 0x13A1,
         0x13DA, 0x13A2, 0x13D9, 0x13B3, 0x13C3, 0x13A9, 0x13A5),
        "abcdeghjklmprstvwzyi",
    )},
    # Digits and the letters the standard maps them to: one class each
    "0": "o", "1": "l", "i": "l",
}  # fmt: skip


_CLASSES = {"i": "l", "0": "o", "1": "l"}


def _small_capitals() -> dict[str, str]:
    """LATIN LETTER SMALL CAPITAL X -> x, for every such character Unicode names (ᴀ, ʙ, ᴄ, ...)."""
    found = {}
    for code in range(0x0250, 0x1E00):
        name = unicodedata.name(chr(code), "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name.rsplit(" ", 1)[1]) == 1:
            found[chr(code)] = name.rsplit(" ", 1)[1].lower()
    return found


def _table() -> dict[str, str]:
    """The curated and generated entries, each also under its case-folded and upper-case forms (case folding
    maps Cherokee to its capitals, so a lookup after folding must find them). Characters NFKC changes never reach
    the table (`ſ` is already `s`), so they are left out."""
    table: dict[str, str] = {}
    for char, latin in {**_small_capitals(), **_CURATED}.items():
        for form in (char, char.casefold(), char.upper()):
            if len(form) == 1 and not form.isascii() and unicodedata.normalize("NFKC", form) == form:
                table.setdefault(form, latin)
    table.update({char: latin for char, latin in _CURATED.items() if char.isascii()})  # the i, l, 0, 1 classes
    return {char: _CLASSES.get(latin, latin) for char, latin in table.items()}


LOOK_ALIKES: dict[str, str] = _table()

# Code points that show nothing, beyond format characters (category Cf) and marks (category M), which the
# identity rule drops by category: Default_Ignorable_Code_Point of Unicode's DerivedCoreProperties.txt that are
# neither, and blanks that draw as empty space (the Braille blank, the Hangul fillers).
INVISIBLE = frozenset(
    [chr(c) for c in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, 0x180E)]
    + [chr(c) for c in range(0x180B, 0x1810)]
    + [chr(c) for c in range(0xFE00, 0xFE10)]
    + [chr(c) for c in range(0xE0100, 0xE01F0)]
    + [chr(c) for c in range(0xFFF0, 0xFFF9)]
)
