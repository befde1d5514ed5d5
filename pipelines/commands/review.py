"""`creditflow review`: record the acting user's decision on one model version."""

from __future__ import annotations

import click

from features.errors import CreditflowError
from pipelines.commands.options import tracking_option
from pipelines.governance.actions import review


@click.command("review")
@click.argument("model")
@click.argument("version")
@click.option("--approve", is_flag=True, help="Approve the version (exactly one of --approve/--reject).")
@click.option("--reject", is_flag=True, help="Reject the version (exactly one of --approve/--reject).")
@click.option(
    "--reviewer",
    default=None,
    help="Optional: who you are. The reviewer recorded is always the acting user (CREDITFLOW_USER, else the OS "
    "user); a different name is refused.",
)
@click.option("--comment", default="", help="Why (required).")
@click.option("--new-review", is_flag=True, help="Needed to approve a version that was rejected.")
@tracking_option
def review_command(model, version, approve, reject, reviewer, comment, new_review, tracking_uri) -> None:
    """Record the acting user's review of MODEL VERSION (audit trail, then approval.* tags, then model card)."""
    if approve == reject:
        raise CreditflowError("give exactly one of --approve or --reject")
    review(model, version, approve, reviewer, comment, new_review, tracking_uri)
