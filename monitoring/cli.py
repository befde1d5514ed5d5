"""`creditflow monitor`: the verb's options; the work is in monitoring/command.py."""

from __future__ import annotations

import sys

import click

from pipelines.commands.options import tracking_option


@click.command("monitor")
@click.argument("model")
@click.option(
    "--current",
    type=click.Path(),
    default=None,
    help="Recent applications (CSV/Parquet); filtered to the window's month when it has the time column.",
)
@click.option(
    "--reference",
    type=click.Path(dir_okay=False),
    default=None,
    help="Reference data (default: the training sample stored with the version).",
)
@click.option("--window", default=None, metavar="LABEL", help="Window label, YYYY-MM (default: the previous month).")
@click.option(
    "--backfill",
    type=click.Path(dir_okay=False),
    default=None,
    help="Monitor every month of this data instead of one window (one run per month).",
)
@click.option("--by", type=click.Choice(["month"]), default="month", show_default=True, help="Backfill window size.")
@click.option("--force", is_flag=True, help="Replace a window that was already monitored (default: skip it).")
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="spark: count the window with Spark (Parquet of any size; pip install -e '.[spark]'); same verdict code.",
)
@click.option(
    "--decisions",
    type=click.Path(dir_okay=False),
    default=None,
    help="Underwriters' final decisions (id, final_decision, underwriter, reason): override rates and fairness.",
)
@click.option(
    "--outcomes",
    type=click.Path(dir_okay=False),
    default=None,
    help="Outcomes so far (id, defaulted, observed_at), joined by id to --current's loans up to the window: "
    "vintage back-test by score band and cohort, and the estimates' back-test.",
)
@click.option(
    "--challenger",
    default=None,
    metavar="VERSION",
    help="Score the same rows with this version of the model too: the swap set (decided differently) and its "
    "later default rates.",
)
@tracking_option
def monitor_command(
    model: str,
    current: str | None,
    reference: str | None,
    window: str | None,
    backfill: str | None,
    by: str,
    force: bool,
    engine: str,
    decisions: str | None,
    outcomes: str | None,
    challenger: str | None,
    tracking_uri: str | None,
) -> None:
    """Drift, score drift, data quality and (with labels) outcomes of MODEL (NAME = its champion, NAME@ALIAS or
    NAME/VERSION) on recent data; exits 1 on alert."""
    from monitoring.command import monitor

    sys.exit(
        monitor(
            model,
            current=current,
            reference=reference,
            window=window,
            backfill=backfill,
            force=force,
            tracking_uri=tracking_uri,
            engine=engine,
            decisions=decisions,
            outcomes=outcomes,
            challenger=challenger,
        )
    )
