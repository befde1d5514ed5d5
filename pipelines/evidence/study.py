"""Recording an Optuna study on its MLflow parent run: settings, trial counts, best trial, history and
importance plots."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import TYPE_CHECKING, Callable

import optuna
from sqlalchemy.engine import make_url

from features.spec import Spec
from pipelines.reports.render import png_bytes
from pipelines.tracking import RunLogger

if TYPE_CHECKING:
    from matplotlib.axes import Axes
from pipelines.training.study_storage import StudyRef
from pipelines.training.tuning_session import Budget

log = logging.getLogger("creditflow")


def record_study(run: RunLogger, study: optuna.Study, spec: Spec, ref: StudyRef, budget: Budget) -> None:
    """The study on its parent run: settings, counts and best trial (its plots: `record_study_plots`)."""
    states = Counter(t.state.name.lower() for t in study.get_trials(deepcopy=False))
    storage = make_url(ref.storage_url).render_as_string(hide_password=True)
    run.params(
        {
            "tuning.study": ref.name,
            "tuning.storage": storage,
            "tuning.metric": spec.tuning.metric,
            "tuning.trials": budget.trials,
            "tuning.timeout": budget.timeout,
            "tuning.workers": budget.workers,
            "tuning.sampler": json.dumps(study.user_attrs.get("sampler"), sort_keys=True),
            "tuning.pruning": json.dumps(spec.tuning.pruning.model_dump(), sort_keys=True),
            "tuning.space": json.dumps({k: v.model_dump() for k, v in spec.tuning.space.items()}, sort_keys=True),
        }
    )
    run.metrics({f"trials_{state}": float(states.get(state, 0)) for state in ("complete", "pruned", "fail")})
    if not study.best_trials:
        return
    best = study.best_trial
    assert best.value is not None  # the best trial is a completed one: it has its value
    run.metrics({f"best_valid_{spec.tuning.metric}": best.value, "best_trial": float(best.number)})
    run.text(
        json.dumps({"trial": best.number, "value": best.value, "params": best.params}, indent=2),
        "tuning/best_params.json",
    )


def record_study_plots(run: RunLogger, study: optuna.Study) -> None:
    """Optuna's history and importance plots (pyplot, imported only here; each figure closed once logged).
    Drawn apart from `record_study`, while the challenger trains: fANOVA importance takes most of a second."""
    if not study.best_trials:
        return
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances

    plots: list[tuple[str, Callable[[optuna.Study], Axes]]] = [("optimization_history.png", plot_optimization_history)]
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(completed) >= 2:  # with one, Optuna warns and draws every parameter as equally important
        plots.append(("param_importances.png", plot_param_importances))
    else:
        log.info("skipped param_importances.png: importances need at least two completed trials")
    for name, plot in plots:
        # Optuna's plots switch pyplot's global style; keep that change inside this block.
        with plt.style.context("default"):
            try:
                axes = plot(study)
            except (ValueError, RuntimeError) as exc:  # e.g. importances need two completed trials
                log.info("skipped %s: %s", name, exc)
                continue
            figure = axes.figure
            assert isinstance(figure, Figure)  # typed Figure | SubFigure; Optuna draws on a Figure of its own
            run.image(png_bytes(figure), f"tuning/{name}")
            plt.close(figure)
