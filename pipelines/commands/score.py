"""`creditflow score`: resolve and verify the model, load it once, score the input chunk by chunk.

Verification (see pipelines/governance/rules/promotion.py): a URI through alias `champion` (`models:/NAME@champion`,
or a bare NAME) is scored only if the audit trail's hash chain is intact, the champion was put there by a
recorded promotion or rollback, still meets every rule, and the files about to be loaded hash to its
`lineage.model_sha256`; otherwise the command refuses (exit 1) unless --allow-unverified. Other references
(`NAME/VERSION`, another alias, `runs:/...`) are not governed: they are scored and the summary says
"unverified", but a registered version whose files no longer match its `lineage.model_sha256` is refused
all the same. The files are checked before any row is scored.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import click

from features.errors import DataError, Refused
from features.outputs import check_output
from pipelines.commands.options import tracking_option
from pipelines.core.records import FilesCheck, VersionInfo
from pipelines.core.tags import CHAMPION, MODEL_SHA256
from pipelines.evidence.reference import EXPECTED_PATH, REFERENCE_PATH
from pipelines.governance.input_guard import load_guard
from pipelines.governance.rules.promotion import champion_problems, files_problems
from pipelines.governance.store import store_of
from pipelines.progress import Progress
from pipelines.scoring.batch import (
    ChunkWriter,
    ScoreSummary,
    approx_agreement,
    count_rows,
    read_ahead,
    read_chunks,
    score_chunk,
)
from pipelines.tracking import Tracker, connect, parse_model_ref
from pipelines.tracking.pyfunc_model import load_model_scorer


@click.command("score")
@click.argument("model_uri")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.argument("output_path", metavar="OUTPUT", type=click.Path())
@click.option(
    "--reasons",
    type=click.Choice(["exact", "approx", "none"]),
    default="exact",
    show_default=True,
    help="Reason codes: exact (TreeSHAP), approx (Saabas: faster, its agreement with exact is measured and "
    "printed) or none.",
)
@click.option("--all-reasons", is_flag=True, help="Reason codes for approved applicants too (default: declined only).")
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Rows scored at a time (memory bound).",
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Score even when the champion was not put there by a recorded promotion or fails the rules.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: this process, in chunks; spark: the same model through MLflow's spark_udf on Spark "
    "(Parquet file or folder in, a folder of Parquet part files out; pip install -e '.[spark]').",
)
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists (never the input itself).")
@tracking_option
def score_command(
    model_uri: str,
    input_path: str,
    output_path: str,
    reasons: str,
    all_reasons: bool,
    chunk_rows: int,
    allow_unverified: bool,
    engine: str,
    overwrite: bool,
    tracking_uri: str | None,
) -> None:
    """Score INPUT (CSV/Parquet) with MODEL_URI (e.g. models:/NAME@champion) into OUTPUT: id, PD,
    decision and reason codes for declined applicants."""
    if engine == "spark":
        score_on_spark(
            model_uri,
            input_path,
            output_path,
            reason_method=reasons,
            all_reasons=all_reasons,
            allow_unverified=allow_unverified,
            tracking_uri=tracking_uri,
        )
    else:
        score(
            model_uri,
            input_path,
            output_path,
            reason_method=reasons,
            chunk_rows=chunk_rows,
            allow_unverified=allow_unverified,
            tracking_uri=tracking_uri,
            all_reasons=all_reasons,
            overwrite=overwrite,
        )


def score_on_spark(
    model_uri: str,
    input_path: str,
    output_path: str,
    *,
    reason_method: str,
    all_reasons: bool,
    allow_unverified: bool,
    tracking_uri: str | None,
) -> None:
    """The Spark engine: the same resolution and file verification, then the model as a Spark UDF over the input."""
    from pipelines.scoring import spark as engine
    from pipelines.tracking.spark_udf import model_udf

    started = time.perf_counter()
    engine.check_output(output_path)
    tracker = connect(tracking_uri)
    source, check = _resolve(tracker, model_uri, allow_unverified)
    scorer, settings = load_model_scorer(tracker, source, check=check)
    features = list(scorer.transform.columns)
    session = engine.spark_session()
    frame = engine.read_input(session, input_path, features)
    udf = model_udf(tracker, session, source, reason_method=reason_method, all_reasons=all_reasons)
    rows, declined, referred = engine.write_output(
        engine.score_frame(frame, udf, features, settings.get("id_column")), output_path
    )
    click.echo(f"model {check.provenance}")
    referrals = f", {referred:,} referred to an underwriter ({referred / max(rows, 1):.1%})" if referred else ""
    rate = declined / max(rows, 1)
    click.echo(f"scored {rows:,} applications on Spark: {declined:,} declined ({rate:.1%}){referrals}")
    scope = "every applicant" if all_reasons else "declined applicants"
    click.echo(f"wrote {output_path} ({time.perf_counter() - started:.1f} s, reasons: {reason_method}, for {scope})")


def score(
    model_uri: str,
    input_path: str,
    output_path: str,
    *,
    reason_method: str,
    chunk_rows: int,
    allow_unverified: bool,
    tracking_uri: str | None,
    all_reasons: bool = False,
    overwrite: bool = False,
) -> None:
    started = time.perf_counter()
    source_path = Path(input_path)
    check_output(Path(output_path), inputs=[source_path], overwrite=overwrite)  # before any model is loaded
    tracker = connect(tracking_uri)
    source, check = _resolve(tracker, model_uri, allow_unverified)
    scorer, settings = load_model_scorer(tracker, source, check=check)
    summary = ScoreSummary()
    categorical = list(scorer.transform.categorical)
    numeric = [c for c in scorer.transform.columns if c not in categorical]
    guard = load_guard(
        tracker, model_uri, numeric=numeric, categorical=categorical, stored=(REFERENCE_PATH, EXPECTED_PATH)
    )
    if guard is not None:
        check_output(guard.sidecar(Path(output_path)), inputs=[source_path], overwrite=overwrite)
    writer = ChunkWriter(Path(output_path), inputs=[source_path], overwrite=overwrite)
    try:
        total = count_rows(source_path) if source_path.is_file() else None
        with Progress("scoring", total, "rows") as progress:
            id_column = settings.get("id_column")
            wanted = [*([id_column] if id_column else []), *scorer.transform.columns]
            chunks = read_chunks(
                source_path, rows=chunk_rows, wanted=wanted, categorical=tuple(scorer.transform.categorical)
            )
            for raw in read_ahead(chunks):
                if raw.empty:  # a header-only CSV yields one empty chunk
                    continue
                scored, unseen = score_chunk(
                    scorer, raw, id_column=id_column, reason_method=reason_method, all_reasons=all_reasons
                )
                if guard is not None:
                    guard.add(raw)
                if reason_method == "approx" and not summary.agreement_rows:
                    summary.agreement, summary.agreement_rows = approx_agreement(scorer, raw)
                summary.add(scored, unseen)
                writer.write(scored)
                progress.update(len(raw))
        if summary.rows == 0:
            raise DataError(f"input has no rows: {input_path}")
        found = guard.verdict(declined=summary.declined) if guard is not None else []
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    click.echo(f"model {check.provenance}")
    for line in summary.lines():
        click.echo(line)
    if guard is not None:
        guard.report(found, Path(output_path), overwrite=overwrite)
    scope = "every applicant" if all_reasons else "declined applicants"
    click.echo(f"wrote {output_path} ({time.perf_counter() - started:.1f} s, reasons: {reason_method}, for {scope})")


class _Verification:
    """Judges the files `load_model_scorer` is about to load; keeps the provenance line for the summary."""

    def __init__(self, label: str, note: str, refusal: str, allow: bool, judge: Callable[[FilesCheck], list[str]]):
        self.label, self.provenance, self.refusal = label, f"{label} ({note})", refusal
        self.allow, self.judge = allow, judge

    def __call__(self, files: FilesCheck) -> None:
        problems = self.judge(files)
        if not problems:
            return
        if not self.allow:
            for problem in problems:
                click.echo(f"unverified: {problem}")
            raise Refused(f"{self.refusal}: {problems[0]} (--allow-unverified scores anyway)")
        self.provenance = f"{self.label} (UNVERIFIED, scored with --allow-unverified: {'; '.join(problems)})"


def _resolve(tracker: Tracker, model_uri: str, allow_unverified: bool) -> tuple[str, _Verification]:
    """The artifact URI to load and how to judge its files."""
    if ":/" in model_uri and not model_uri.startswith("models:/"):  # runs:/..., file:/..., s3://...
        note = "unverified: not a registered model's alias"
        return model_uri, _Verification(model_uri, note, "", True, lambda files: [])
    name, alias, _ = parse_model_ref(model_uri)
    version = tracker.resolve(model_uri)
    label = f"{name} version {version.version}" + (f" via alias {alias}" if alias else "")
    if alias != CHAMPION:
        note, refusal = f"unverified: only alias {CHAMPION} is governed", f"{label} has changed files"
        return version.source, _Verification(label, note, refusal, allow_unverified, lambda f: _files_only(version, f))
    trail = store_of(tracker).trail(name)

    def judge(files: FilesCheck) -> list[str]:
        return [f"the audit trail is untrusted: {p}" for p in trail.problems] + champion_problems(
            version, trail.records, files=files
        )

    refusal = f"{name}@{CHAMPION} is not a verified promotion"
    note = "verified against the audit trail and its files"
    return version.source, _Verification(label, note, refusal, allow_unverified, judge)


def _files_only(version: VersionInfo, files: FilesCheck) -> list[str]:
    """An ungoverned registered version is still refused when its files are not the files registered."""
    return files_problems(version, files) if version.tags.get(MODEL_SHA256) else []
