"""How much does `creditflow monitor` cost against Evidently's default `DataDriftPreset` on the same data?

Builds a 35-column book (the consumer-loan book's 14 model inputs plus 21 extra columns), registers a
model on `--train-rows` of it, then writes a reference and a current sample of `--rows` rows each (the
current one drifted: population-mix shift, lower incomes, a few extra columns moved). Then, `--repeats`
times each, in a fresh process whose wall time and peak RSS (wait4 ru_maxrss) are measured:
  * creditflow: the command `creditflow monitor bench/1 --current CUR --reference REF` (imports, reading
    both files, validation, scoring both samples with the version's booster, decile PSI on all rows,
    data quality, the Evidently HTML report on a sample, MLflow logging of run, artifacts and tags);
  * preset: read both files, `Report([DataDriftPreset()]).run(current, reference)` with a DataDefinition
    (Evidently's default per-column methods), no HTML.
Prints medians, the ratio, and whether the per-column drift verdicts agree (Evidently's "drift detected"
against creditflow's PSI status).

    python benchmarks/monitor_overhead.py [--rows 1000000] [--train-rows 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from common import shipped_spec  # noqa: E402

from features.synthetic import BookOptions, generate_book  # noqa: E402

EXTRA_NUMERIC = [f"x{i:02d}" for i in range(1, 16)]
EXTRA_CATEGORICAL = [f"k{i}" for i in range(1, 7)]
EXTRA = EXTRA_NUMERIC + EXTRA_CATEGORICAL
MOVED = {"x01": 0.5, "x02": 0.2, "k1": 0.3}  # extra columns the current sample shifts (sd / share)


def book(rows: int, seed: int, drifted: bool) -> pd.DataFrame:
    """The consumer-loan book plus 21 extra columns; `drifted` ramps mix and income drift and moves MOVED."""
    options = {"drift_mix": 0.6, "drift_income": -0.15} if drifted else {}
    frame = generate_book(BookOptions(rows=rows, seed=seed, **options))
    rng = np.random.default_rng(seed + 100)
    for name in EXTRA_NUMERIC:
        frame[name] = rng.gamma(2.0, 1.0, rows) + (MOVED.get(name, 0) * 1.4 if drifted else 0)
    for i, name in enumerate(EXTRA_CATEGORICAL):
        levels = np.array([f"L{j}" for j in range(3 + i)])
        p = np.full(len(levels), 1 / len(levels))
        if drifted and name in MOVED:
            p = np.r_[p[0] + MOVED[name], p[1:] - MOVED[name] / (len(p) - 1)]
        frame[name] = levels[rng.choice(len(levels), rows, p=p)]
    return frame


def setup(folder: Path, rows: int, train_rows: int) -> tuple[str, Path, Path, dict]:
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    book(train_rows, 1, False).to_parquet(folder / "train.parquet")
    spec = shipped_spec()
    spec["name"] = "bench"
    spec["data"].pop("synthetic")
    spec["data"]["source"] = str(folder / "train.parquet")
    spec["features"]["numeric"] += EXTRA_NUMERIC
    spec["features"]["categorical"] += EXTRA_CATEGORICAL
    spec["policy"]["fairness"]["mitigation"]["enabled"] = False  # not what is measured
    spec["tuning"].update({"trials": 0, "params": {**spec["tuning"]["params"], "max_rounds": 200, "nthread": 2}})
    spec["policy"]["fairness"] = {"n_boot": 20}
    spec["reasons"].update({name: f"Bank variable {name} is out of the usual range" for name in EXTRA})
    shutil.copytree(REPO / "experiments" / "policies", folder / "policies", dirs_exist_ok=True)  # the governed policy
    (folder / "bench.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", str(folder / "bench.yaml"), "--tracking-uri", uri],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    reference, current = folder / "reference.parquet", folder / "current.parquet"
    book(rows, 2, False).drop(columns="default_12m").to_parquet(reference)
    book(rows, 3, True).drop(columns="default_12m").to_parquet(current)
    return uri, reference, current, spec["features"]


def setup_in_child(folder: Path, rows: int, train_rows: int) -> tuple[str, Path, Path, dict]:
    """`setup` in a process of its own. Linux carries a parent's high-water RSS into a child it spawns (fork/vfork,
    then exec: the child's ru_maxrss starts at the parent's peak), so a parent that generated 2M rows would lend
    its ~1.5 GB to every measured command: the measuring process stays small."""
    subprocess.run(
        [sys.executable, __file__, "--setup-child", str(folder), str(rows), str(train_rows)], cwd=REPO, check=True
    )
    uri, reference, current, features = json.loads((folder / "setup.json").read_text())
    return uri, Path(reference), Path(current), features


def measure(command: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of a command in a fresh process (spawned by a small one)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1 is monitor's alert verdict
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[:4])} failed ({code}):\n{errors.read().decode()[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, code


def preset_child(reference: str, current: str, features: str, out: str) -> None:
    """The bare Evidently default: DataDriftPreset over the 35 columns; per-column verdicts to `out`."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    kinds = json.loads(features)
    definition = DataDefinition(numerical_columns=kinds["numeric"], categorical_columns=kinds["categorical"])
    columns = kinds["numeric"] + kinds["categorical"]
    frames = [
        Dataset.from_pandas(pd.read_parquet(p, columns=columns), data_definition=definition)
        for p in (current, reference)
    ]
    snapshot = Report([DataDriftPreset()]).run(*frames)
    verdicts = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            method, threshold, value = config["method"], config["threshold"], metric["value"]
            p_value = method in (
                "ks",
                "chisquare",
                "z",
                "t_test",
                "mannw",
                "anderson",
                "fisher_exact",
                "g_test",
                "cramer_von_mises",
                "es",
                "empirical_mmd",
            )
            verdicts[config["column"]] = {
                "method": method,
                "value": value,
                "drifted": bool(value < threshold if p_value else value >= threshold),
            }
    Path(out).write_text(json.dumps(verdicts))


def creditflow_verdicts(uri: str, window: str) -> dict[str, str]:
    from pipelines.tracking import Tracker

    tracker = Tracker(uri)
    [run] = tracker.find_runs("bench-monitoring", {"monitoring.window": window, "monitoring.role": "window"})
    with tempfile.TemporaryDirectory() as folder:
        table = pd.read_csv(tracker.download_artifacts(run.run_id, "monitoring/drift.csv", folder))
    return dict(zip(table["column"], table["status"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-preset", action="store_true", help="measure creditflow only (while developing)")
    parser.add_argument("--preset-child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--setup-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.preset_child:
        return preset_child(*args.preset_child)
    if args.setup_child:
        folder, rows, train_rows = Path(args.setup_child[0]), int(args.setup_child[1]), int(args.setup_child[2])
        uri, reference, current, features = setup(folder, rows, train_rows)
        (folder / "setup.json").write_text(json.dumps([uri, str(reference), str(current), features]))
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        uri, reference, current, features = setup_in_child(folder, args.rows, args.train_rows)
        print(
            f"{args.rows:,} reference and {args.rows:,} current rows, "
            f"{len(features['numeric']) + len(features['categorical'])} columns, {args.repeats} repeats"
        )
        results = {"creditflow": [], "preset": []}
        for repeat in range(args.repeats):
            command = [
                sys.executable,
                "-m",
                "pipelines.cli",
                "monitor",
                "bench/1",
                "--current",
                str(current),
                "--reference",
                str(reference),
                "--window",
                f"bench-{repeat}",
                "--tracking-uri",
                uri,
            ]
            results["creditflow"].append(measure(command))
            if args.skip_preset:
                continue
            preset = [
                sys.executable,
                __file__,
                "--preset-child",
                str(reference),
                str(current),
                json.dumps(features),
                str(folder / "preset.json"),
            ]
            results["preset"].append(measure(preset))
        if args.skip_preset:
            print("creditflow: %.1f s, peak %.0f MB" % results["creditflow"][0][:2])
            return
        report(results, json.loads((folder / "preset.json").read_text()), creditflow_verdicts(uri, "bench-0"))


def report(results: dict, preset: dict, ours: dict) -> None:
    medians = {}
    for name, runs in results.items():
        codes = {code for _, _, code in runs}
        medians[name] = (statistics.median(t for t, _, _ in runs), statistics.median(m for _, m, _ in runs))
        print(f"{name:>10}: {medians[name][0]:7.1f} s  peak {medians[name][1]:6.0f} MB  (exit codes {sorted(codes)})")
    print(
        f"speed-up: {medians['preset'][0] / medians['creditflow'][0]:.1f}x (goal >= 10x); "
        f"memory: {medians['creditflow'][1]:.0f} MB (goal <= 1536 MB)"
    )
    for level, drifted in (("alert", {"alert"}), ("warn or alert", {"warn", "alert"})):
        agree = [c for c in preset if preset[c]["drifted"] == (ours.get(c) in drifted)]
        differ = sorted(set(preset) - set(agree))
        details = [f"{c} ({preset[c]['method']} {preset[c]['value']:.3f}, ours {ours.get(c)})" for c in differ]
        print(
            f"verdicts (Evidently drift detected vs creditflow PSI {level}): {len(agree)}/{len(preset)} columns agree"
            + (f"; differ: {', '.join(details)}" if details else "")
        )


if __name__ == "__main__":
    main()
