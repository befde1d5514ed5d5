"""Identifiers and fake PII for the synthetic loan book: applicant ids, names, phone numbers, national ids.

Why a module of its own: these columns identify an applicant but carry no credit signal (the spec
lists them as id and pii, never as features), so they sit apart from the risk model in
`features/synthetic.py`. All text is built as fixed-width uint8 ASCII matrices and viewed as strings:
for a million rows that is far faster than formatting one Python string per row.
"""

from __future__ import annotations

import numpy as np

__all__ = ["applicant_ids", "fake_pii"]

# Small built-in name lists (first names split by gender so names look plausible).
_FIRST_F = (
    "Olivia Amelia Isla Ava Emily Sophie Grace Mia Poppy Ella Lily Evie Chloe Jessica "
    "Ruby Hannah Sarah Laura Emma Rachel Priya Aisha Zara Megan Lucy"
).split()
_FIRST_M = (
    "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie "
    "Henry Joshua Daniel David Samuel Adam Ryan Mohammed Arjun Ethan Lewis Liam"
).split()
_LAST = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Khan"
).split()


def applicant_ids(rows: int) -> np.ndarray:
    """Ids 'A0000001', 'A0000002', ... in row order, wide enough to stay unique for `rows`."""
    return _zero_padded_ids(np.arange(1, rows + 1), _id_width(rows))


def _id_width(rows: int) -> int:
    """Digits in applicant ids: at least 7, more when rows needs them (keeps ids unique)."""
    return max(7, len(str(rows)))


def _fixed_width_strings(codes: np.ndarray) -> np.ndarray:
    """Turn an (n, w) uint8 matrix of ASCII codes into an object array of str, fast."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    width = codes.shape[1]
    return codes.view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def _zero_padded_ids(values: np.ndarray, width: int) -> np.ndarray:
    """'A' followed by ``values`` zero-padded to ``width`` digits."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    codes = np.empty((len(values), width + 1), dtype=np.uint8)
    codes[:, 0] = ord("A")
    codes[:, 1:] = values.astype(np.int64)[:, None] // powers % 10 + 48
    return _fixed_width_strings(codes)


def fake_pii(rng: np.random.Generator, female: np.ndarray) -> dict[str, np.ndarray]:
    """Fake names ("First Last"), UK-style mobile numbers and national ids."""
    n = len(female)
    nf, nm, nl = len(_FIRST_F), len(_FIRST_M), len(_LAST)
    combos = np.array(
        [f"{f} {s}" for f in _FIRST_F for s in _LAST] + [f"{f} {s}" for f in _FIRST_M for s in _LAST], dtype=object
    )
    first = (rng.random(n) * np.where(female, nf, nm)).astype(np.int64)
    last = rng.integers(0, nl, n)
    name = combos[np.where(female, 0, nf * nl) + first * nl + last]

    phone = np.empty((n, 15), dtype=np.uint8)
    phone[:] = np.frombuffer(b"+44 7000 000000", dtype=np.uint8)
    phone[:, [5, 6, 7, 9, 10, 11, 12, 13, 14]] = rng.integers(48, 58, (n, 9), dtype=np.uint8)

    letters1 = np.frombuffer(b"ABCEGHJKLMNOPRSTWXYZ", dtype=np.uint8)
    letters2 = np.frombuffer(b"ABCEGHJKLMNPRSTWXYZ", dtype=np.uint8)
    nid = np.empty((n, 9), dtype=np.uint8)
    nid[:, 0] = letters1[rng.integers(0, len(letters1), n)]
    nid[:, 1] = letters2[rng.integers(0, len(letters2), n)]
    nid[:, 2:8] = rng.integers(48, 58, (n, 6), dtype=np.uint8)
    nid[:, 8] = rng.integers(ord("A"), ord("D") + 1, n, dtype=np.uint8)
    return {"name": name, "phone": _fixed_width_strings(phone), "national_id": _fixed_width_strings(nid)}
