"""The challenger in a process of its own: the same challenger as on a thread, errors as one line, and no
re-run of the caller's script (a script without a main guard)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from features.errors import CreditflowError
from features.fairness_spec import MitigationSpec
from features.spec import load_spec
from features.synthetic import BookOptions, generate_book
from features.tuning_spec import XGBoostParams
from pipelines.training import challenger_process
from pipelines.training.challenger_process import ChallengerWorker, wants_process
from pipelines.training.challenger_process import challenger_process as started
from pipelines.training.mitigation import ChallengerJob, train_challenger
from tests.conftest import GERMAN_SPEC, REPO


def _job(rows=1500, max_iter=4):
    book = generate_book(BookOptions(rows=rows, seed=5, bias=1.5))
    numeric = ["income", "debt_to_income", "revolving_utilisation"]
    model_input = book[numeric + ["channel"]].assign(channel=book["channel"].astype("category"))
    settings = MitigationSpec(enabled=True, difference_bound=0.02, max_iter=max_iter)
    params = XGBoostParams(max_depth=3, learning_rate=0.1, nthread=1)
    target = book["default_12m"].to_numpy()
    return ChallengerJob(
        model_input=model_input,
        target=target,
        sensitive=book[["gender"]],
        params=params,
        trees=20,
        monotone=[0] * 4,
        cutoff=0.25,
        settings=settings,
        seed=0,
    )


def test_the_process_trains_the_challenger_the_thread_would():
    job = _job()
    worker = ChallengerWorker()
    try:
        in_process = worker.train("challenger", job)
    finally:
        worker.close()
    on_thread = train_challenger(**job)
    assert in_process.oracle_calls == on_thread.oracle_calls
    np.testing.assert_allclose(in_process.weights, on_thread.weights)
    model_input = job["model_input"]
    np.testing.assert_allclose(in_process.decline_share(model_input), on_thread.decline_share(model_input))


def test_a_bad_job_is_one_line_error_from_the_process():
    job = _job()
    worker = ChallengerWorker()
    try:
        with pytest.raises(ValueError, match="single class"):
            worker.train("challenger", {**job, "target": np.zeros_like(job["target"])})
    finally:
        worker.close()


def test_a_process_that_dies_is_a_clear_error_not_a_hang():
    worker = ChallengerWorker()
    worker._process.kill()
    worker._process.wait()
    try:
        with pytest.raises(CreditflowError, match="challenger's process ended without a result"):
            worker.train("challenger", _job())
    finally:
        worker.close()


def test_a_script_without_a_main_guard_is_not_run_again(tmp_path):
    """multiprocessing's spawn would re-import the caller's script in the child: a script that calls creditflow at
    module level would run twice (or fail). The child is a plain interpreter that imports only creditflow."""
    script = tmp_path / "no_guard.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(REPO)!r})
            from tests.pipelines.training.test_challenger_process import _job
            from pipelines.training.challenger_process import ChallengerWorker
            print("script body ran", flush=True)
            worker = ChallengerWorker()
            challenger = worker.train("challenger", _job(rows=600, max_iter=2))
            worker.close()
            print("oracle calls", challenger.oracle_calls)
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("script body ran") == 1
    assert "oracle calls" in done.stdout


def test_a_process_only_when_it_pays(monkeypatch):
    spec = load_spec(GERMAN_SPEC)  # mitigation on, 50 iterations, sex and age as sensitive attributes
    monkeypatch.setattr(challenger_process, "cores", lambda: 2)
    assert wants_process(spec, 600)  # German Credit: ~90 fits of a few hundred rows
    assert not wants_process(spec, 100)  # a few milliseconds of fits: the process would cost more
    monkeypatch.setattr(challenger_process, "cores", lambda: 1)
    assert not wants_process(spec, 600)  # one core: nothing runs beside the evaluation anyway
    monkeypatch.setattr(challenger_process, "cores", lambda: 2)
    off = spec.model_copy(deep=True)
    off.policy.fairness.mitigation.enabled = False
    assert not wants_process(off, 600)
    with started(off, 600) as worker:
        assert worker is None
