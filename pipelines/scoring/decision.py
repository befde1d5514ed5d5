"""The decision rule, written once: an applicant is declined when the probability of default is at or
above the policy cutoff, approved below it. Scoring, the fairness gate, the mitigated challenger and
monitoring all decide through these two functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

DECLINE, APPROVE = "decline", "approve"


def declined(p_default: ArrayLike, cutoff: float) -> np.ndarray:
    """True where the applicant is declined (PD >= cutoff)."""
    return np.asarray(p_default, dtype=np.float64) >= cutoff


_LABELS = np.array([APPROVE, DECLINE], dtype=object)


def decision_labels(p_default: ArrayLike, cutoff: float) -> np.ndarray:
    """ "decline" / "approve" per applicant (an object array of the two strings: pandas keeps it as it is, where
    a fixed-width text array would be converted string by string)."""
    return _LABELS[declined(p_default, cutoff).view(np.int8)]
