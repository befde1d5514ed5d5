"""Optional reproduction (policy `validation.reproduce: true`): the validator retrains the model from the version's
recorded spec, seed, data and hyper-parameters, and compares the retrained model's PDs on the holdout with the
registered model's.

No re-tuning: `run` trains the registered booster once with the parameters it logged (`xgb.*`: the spec's, or the
tuning's best), so those are what a reproduction trains with; the study's search is evidence of how they were found,
not part of the model. One XGBoost thread (CPU `hist` is deterministic for a seed; the tolerance absorbs the last
bits of a different thread count's sums).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from features.errors import CreditflowError
from features.tuning_spec import XGBoostParams
from pipelines.core import tags
from pipelines.training.train import predict_pd
from pipelines.training.workflow import Prepared, train_candidate

__all__ = ["TOLERANCE", "Reproduction", "recorded_training", "reproduce"]

TOLERANCE = 1e-6  # max absolute PD difference on the holdout a reproduction may show


@dataclass(frozen=True)
class Reproduction:
    max_difference: float
    rows: int
    sample: str

    @property
    def verdict(self) -> str:
        return tags.PASSED if self.max_difference <= TOLERANCE else tags.FAILED

    @property
    def message(self) -> str:
        return (
            f"reproducibility {self.verdict}: retrained from the recorded spec, seed and data, max |PD difference| "
            f"{self.max_difference:.3g} on {self.rows} {self.sample} rows (limit {TOLERANCE:g})"
        )


def recorded_training(params: dict[str, str], where: str) -> tuple[XGBoostParams, int]:
    """The hyper-parameters (`xgb.*`) and seed the author's run logged; exit 2 when they are missing or invalid."""
    values = {k.removeprefix("xgb."): v for k, v in params.items() if k.startswith("xgb.")}
    if not values or "seed" not in params:
        raise CreditflowError(f"{where}: its run logged no hyper-parameters or seed: it cannot be reproduced")
    try:
        return XGBoostParams.model_validate(values), int(params["seed"])
    except ValueError as exc:
        problem = str(exc).splitlines()[0]
        raise CreditflowError(f"{where}: its run's logged hyper-parameters are invalid ({problem})") from None


def reproduce(
    prepared: Prepared, registered: np.ndarray, sample: str, params: XGBoostParams, seed: int
) -> Reproduction:
    """Retrain with `params` and `seed` on the prepared data; compare its PDs on `sample` with `registered` (the
    registered model's PDs on the same rows)."""
    spec = prepared.spec
    seeded = replace(prepared, spec=spec.model_copy(update={"tuning": spec.tuning.model_copy(update={"seed": seed})}))
    candidate = train_candidate(seeded, params=params.model_copy(update={"nthread": 1}))
    rows = prepared.split.samples()[sample]
    retrained = predict_pd(candidate.booster, candidate.model_input.iloc[rows])
    if retrained.shape != registered.shape:
        raise CreditflowError(f"reproduction: {len(retrained)} {sample} rows retrained, {len(registered)} registered")
    difference = float(np.max(np.abs(retrained - registered))) if len(rows) else 0.0
    return Reproduction(difference, len(rows), sample)
