"""`creditflow spec init DATA --target COLUMN OUT.yaml`: a first spec drafted from a data file."""

from __future__ import annotations

import click


@click.group("spec")
def spec_group() -> None:
    """Draft a spec from a data file (spec init DATA --target COLUMN OUT.yaml)."""


@spec_group.command("init")
@click.argument("data", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--target", required=True, metavar="COLUMN", help="The outcome column.")
@click.option("--positive", default=None, metavar="VALUE", help="The outcome value that is a default.")
def init_command(data: str, out: str, target: str, positive: str | None) -> None:
    """Draft a spec for DATA (CSV or Parquet) into OUT: types inferred; identifier, date, PII and sensitive columns
    in their sections with the reason; an out-of-time split when a date column exists; the governed policy named;
    a reason-text stub per feature that `check` and `run` refuse until it is written."""
    from features.spec_init import init_spec

    click.echo(init_spec(data, target, positive, out))
