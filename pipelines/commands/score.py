"""`creditflow score`: resolve and verify the model, load it once, score the input chunk by chunk.

Verification (see pipelines/governance.py): a URI through alias `champion` (`models:/NAME@champion`,
or a bare NAME) is scored only if the champion was put there by a recorded promotion or rollback
and still meets every rule; otherwise the command refuses (exit 1) unless --allow-unverified. Other
references (`NAME/VERSION`, another alias, `runs:/...`) are not governed: they are scored and the
summary says "unverified".
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from features.errors import DataError, Refused
from pipelines.commands.options import tracking_option
from pipelines.gates.promotion import CHAMPION, champion_problems
from pipelines.governance.audit import read_trail
from pipelines.progress import Progress
from pipelines.scoring.batch import ChunkWriter, ScoreSummary, count_rows, read_chunks, score_chunk
from pipelines.tracking import Tracker, connect, parse_model_ref
from pipelines.tracking.pyfunc_model import load_model_scorer


@click.command("score")
@click.argument("model_uri")
@click.argument("input_path", metavar="INPUT", type=click.Path())
@click.argument("output_path", metavar="OUTPUT", type=click.Path())
@click.option(
    "--reasons",
    type=click.Choice(["approx", "exact", "none"]),
    default="approx",
    show_default=True,
    help="Reason codes: approx (Saabas, fast), exact (TreeSHAP, ~30x slower) or none.",
)
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
@tracking_option
def score_command(model_uri, input_path, output_path, reasons, chunk_rows, allow_unverified, engine, tracking_uri):
    """Score INPUT (CSV/Parquet) with MODEL_URI (e.g. models:/NAME@champion) into OUTPUT: id, PD,
    decision and reason codes."""
    if engine == "spark":
        score_on_spark(model_uri, input_path, output_path, reasons, allow_unverified, tracking_uri)
    else:
        score(model_uri, input_path, output_path, reasons, chunk_rows, allow_unverified, tracking_uri)


def score_on_spark(
    model_uri: str, input_path: str, output_path: str, reason_method: str, allow_unverified: bool, tracking_uri
) -> None:
    """The Spark engine: the same resolution and verification, then the model as a Spark UDF over the input."""
    from pipelines.scoring import spark as engine
    from pipelines.tracking.spark_udf import model_udf

    started = time.perf_counter()
    engine.check_output(output_path)
    tracker = connect(tracking_uri)
    source, provenance = _resolve(tracker, model_uri, allow_unverified)
    scorer, settings = load_model_scorer(tracker, source)
    features = list(scorer.transform.columns)
    session = engine.spark_session()
    frame = engine.read_input(session, input_path, features)
    udf = model_udf(tracker, session, source, reason_method)
    rows, declined = engine.write_output(
        engine.score_frame(frame, udf, features, settings.get("id_column")), output_path
    )
    click.echo(f"model {provenance}")
    click.echo(f"scored {rows:,} applications on Spark: {declined:,} declined ({declined / max(rows, 1):.1%})")
    click.echo(f"wrote {output_path} ({time.perf_counter() - started:.1f} s, reasons: {reason_method})")


def score(
    model_uri: str,
    input_path: str,
    output_path: str,
    reason_method: str,
    chunk_rows: int,
    allow_unverified: bool,
    tracking_uri: str | None,
) -> None:
    started = time.perf_counter()
    tracker = connect(tracking_uri)
    source, provenance = _resolve(tracker, model_uri, allow_unverified)
    scorer, settings = load_model_scorer(tracker, source)
    summary = ScoreSummary()
    writer = ChunkWriter(Path(output_path))
    source_path = Path(input_path)
    try:
        total = count_rows(source_path) if source_path.is_file() else None
        with Progress("scoring", total, "rows") as progress:
            id_column = settings.get("id_column")
            wanted = [*([id_column] if id_column else []), *scorer.transform.columns]
            for raw in read_chunks(source_path, chunk_rows, wanted, tuple(scorer.transform.categorical)):
                if raw.empty:  # a header-only CSV yields one empty chunk
                    continue
                scored, unseen = score_chunk(scorer, raw, id_column, reason_method)
                summary.add(scored, unseen)
                writer.write(scored)
                progress.update(len(raw))
        if summary.rows == 0:
            raise DataError(f"input has no rows: {input_path}")
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    click.echo(f"model {provenance}")
    for line in summary.lines():
        click.echo(line)
    click.echo(f"wrote {output_path} ({time.perf_counter() - started:.1f} s, reasons: {reason_method})")


def _resolve(tracker: Tracker, model_uri: str, allow_unverified: bool) -> tuple[str, str]:
    """The artifact URI to load and a provenance line; refuses an unverified champion."""
    if ":/" in model_uri and not model_uri.startswith("models:/"):  # runs:/..., file:/..., s3://...
        return model_uri, f"{model_uri} (unverified: not a registered model's alias)"
    name, alias, _ = parse_model_ref(model_uri)
    version = tracker.resolve(model_uri)
    label = f"{name} version {version.version}" + (f" via alias {alias}" if alias else "")
    if alias != CHAMPION:
        return version.source, f"{label} (unverified: only alias {CHAMPION} is governed)"
    problems = champion_problems(version, read_trail(tracker, name))
    if not problems:
        return version.source, f"{label} (verified against the audit trail)"
    if not allow_unverified:
        for problem in problems:
            click.echo(f"unverified: {problem}")
        raise Refused(
            f"{name}@{CHAMPION} is not a verified promotion: {problems[0]} (--allow-unverified scores anyway)"
        )
    return version.source, f"{label} (UNVERIFIED, scored with --allow-unverified: {'; '.join(problems)})"
