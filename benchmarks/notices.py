"""What do applicant notices cost, and what does a decisions file add to monitoring?

1. Notices for `--rows` scored applications (about a quarter declined or referred), in process, median of
   `--repeats`, each into a new folder:
   * creditflow: read the scored Parquet (id, decision, PD and reason columns only), check it (ids, decisions, the
     spec's reason words, generic reasons), compose every notice from the locale's template and write `<id>.txt`,
     `<id>.json` and `notices.jsonl`, published by one rename;
   * bare library: pandas reads the file, keeps adverse rows and writes one JSON Lines file (`to_json(lines=True)`);
   * script: what a data scientist would write: read, filter, and an f-string letter per applicant to `<id>.txt`.
2. The decisions file in monitoring: on a window of `--rows` applicants with a final decision each, reading and
   checking the decisions file and judging the overrides (rates by band and group, AIR, reasons, requests), against
   scoring the same window with an XGBoost model (what every monitored window pays anyway).

    python benchmarks/notices.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import load  # noqa: E402

from features.data import read_table  # noqa: E402
from features.hitl_policy import OverrideLimits  # noqa: E402
from features.overrides import underwriter_decisions  # noqa: E402
from features.synthetic import BookOptions, generate_book  # noqa: E402
from monitoring.decisions import read_decisions  # noqa: E402
from monitoring.overrides import assess_overrides  # noqa: E402
from pipelines.notices.compose import Lender, NoticeTemplate, check_scored, compose  # noqa: E402
from pipelines.notices.write import write_notices  # noqa: E402
from pipelines.scoring.decision import decision_codes, decision_labels, refer_rule  # noqa: E402
from pipelines.scoring.scorer import REASON_COLUMNS  # noqa: E402

SPEC = yaml.safe_load((REPO / "experiments" / "consumer_loans.yaml").read_text())
TEMPLATE = yaml.safe_load((REPO / "experiments" / "policies" / "notices" / "en.yaml").read_text())


def scored_file(path: Path, rows: int) -> None:
    rng = np.random.default_rng(5)
    p = rng.beta(2, 9, rows)
    rule = refer_rule(0.25, below=0.03, above=0.03)
    decision = decision_labels(p, 0.25, rule)
    texts = np.array(list(SPEC["reasons"].values()), dtype=object)
    picks = np.argsort(rng.random((rows, len(texts))), axis=1)[:, :4]
    reasons = np.where((decision != "approve")[:, None], texts[picks], None)
    frame = pd.DataFrame({"applicant_id": [f"A{i:07d}" for i in range(rows)], "probability_of_default": p})
    frame["decision"] = decision
    for k, column in enumerate(REASON_COLUMNS):
        frame[column] = reasons[:, k]
    frame.to_parquet(path)


def creditflow(scored: Path, out: Path) -> None:
    wanted = ["applicant_id", "decision", "probability_of_default", *REASON_COLUMNS]
    frame = read_table(scored, columns=wanted)
    check_scored(frame, "applicant_id", texts=SPEC["reasons"], generic=[])
    template = NoticeTemplate.of("en", TEMPLATE, "en.yaml")
    notices = compose(frame, "applicant_id", template, Lender("Lender", "Contact", False, 4), date=dt.date.today())
    write_notices(out, notices)


def bare(scored: Path, out: Path) -> None:
    frame = pd.read_parquet(scored)
    out.mkdir()
    frame[frame["decision"] != "approve"].to_json(out / "notices.jsonl", orient="records", lines=True)


def script(scored: Path, out: Path) -> None:
    frame = pd.read_parquet(scored)
    out.mkdir()
    for row in frame[frame["decision"] != "approve"].itertuples(index=False):
        reasons = "\n".join(f"  - {r}" for r in (row.reason_1, row.reason_2, row.reason_3, row.reason_4) if r)
        letter = f"Application {row.applicant_id}\n\nWe are unable to approve your application.\n\n{reasons}\n"
        (out / f"{row.applicant_id}.txt").write_text(letter)


def timed(action, repeats: int, folder: Path, *args) -> float:
    times = []
    for i in range(repeats):
        out = folder / f"out-{action.__name__}-{i}"
        started = time.perf_counter()
        action(*args, out)
        times.append(time.perf_counter() - started)
        shutil.rmtree(out)
    return statistics.median(times)


def monitoring(folder: Path, rows: int, repeats: int) -> tuple[float, float]:
    """(seconds to read, check and judge the decisions file; seconds to score the window) on `rows` applicants."""
    book = generate_book(BookOptions(rows=rows, seed=11, months=1))
    underwriter_decisions(book, bias=0.0, seed=11).to_csv(folder / "decisions.csv", index=False)
    numeric = SPEC["features"]["numeric"]
    train = book.sample(min(rows, 100_000), random_state=1)
    model = xgb.train(
        {"max_depth": 4, "nthread": 2, "objective": "binary:logistic"},
        xgb.DMatrix(train[numeric], label=train["default_12m"]),
        100,
    )
    score_times, judge_times = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        pd_values = model.inplace_predict(book[numeric])
        score_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        limits = OverrideLimits()
        found = read_decisions(
            str(folder / "decisions.csv"), id_column="applicant_id", known=book["applicant_id"], limits=limits
        )
        codes = decision_codes(pd_values, 0.25, refer_rule(0.25, below=0.03, above=0.03))
        groups = pd.DataFrame({"gender": book["gender"]})
        assess_overrides(codes, pd_values, book["applicant_id"], groups, found, limits)
        judge_times.append(time.perf_counter() - started)
    return statistics.median(judge_times), statistics.median(score_times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        scored_file(folder / "scored.parquet", args.rows)
        adverse = int((pd.read_parquet(folder / "scored.parquet", columns=["decision"])["decision"] != "approve").sum())
        ours = timed(creditflow, args.repeats, folder, folder / "scored.parquet")
        library = timed(bare, args.repeats, folder, folder / "scored.parquet")
        hand = timed(script, args.repeats, folder, folder / "scored.parquet")
        print(f"notices for {args.rows:,} scored rows ({adverse:,} declined or referred), median of {args.repeats}:")
        print(f"  {'':<12} {'seconds':>8} {'rows/s':>10} {'notices/s':>10} {'ratio':>7}")
        for label, seconds in (("creditflow", ours), ("bare pandas", library), ("script", hand)):
            print(
                f"  {label:<12} {seconds:8.2f} {args.rows / seconds:10,.0f} {adverse / seconds:10,.0f} "
                f"{seconds / ours:7.2f}"
            )
        print("  (ratio: the row's time over creditflow's; bare pandas writes one JSONL, the script text files only)")
        judge, scoring = monitoring(folder, args.rows, args.repeats)
        print(f"monitoring a window of {args.rows:,} applicants with a decisions file, median of {args.repeats}:")
        print(f"  decisions read, checked and judged: {judge:.2f} s; scoring the window: {scoring:.2f} s")
        print(f"  the decisions file adds {judge / scoring:.1f}x the window's scoring time")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
