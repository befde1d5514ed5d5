"""`creditflow audit verify` and `audit rebuild`: check a model's hash-chained trail and every version's evidence;
re-establish lost registration records, recorded as a rebuild by the acting user."""

from __future__ import annotations

import click

from pipelines.commands.options import tracking_option


@click.group("audit")
def audit_group() -> None:
    """Check or rebuild a model's governance audit trail."""


@audit_group.command("verify")
@click.argument("model")
@tracking_option
def verify_command(model: str, tracking_uri: str | None) -> None:
    """Check MODEL's hash chain and every version's evidence: registration record, tags against the training run,
    model files against lineage.model_sha256. Exit 1 naming every problem."""
    from pipelines.governance.verify import verify

    verify(model, tracking_uri=tracking_uri)


@audit_group.command("rebuild")
@click.argument("model")
@click.option(
    "--new-trail",
    is_flag=True,
    help="Start a new trail when the hash chain is broken (the old one is kept, renamed); versions whose run and "
    "files still match their tags get registration records again.",
)
@tracking_option
def rebuild_command(model: str, new_trail: bool, tracking_uri: str | None) -> None:
    """Re-establish MODEL's trail: restore a deleted governance experiment, anchor records written before the hash
    chain, and re-establish registration records of versions whose run and files still match their tags. On a team
    server (a reviewer or an admin): make approval tags say what the server's audit log records (a half-written
    decision)."""
    from pipelines.governance.store import open_store

    open_store(tracking_uri).rebuild(model, new_trail=new_trail)
