"""`creditflow review`: record a reviewer's decision on one model version."""

from __future__ import annotations

import click

from pipelines.commands.options import tracking_option
from pipelines.governance.actions import review


@click.command("review")
@click.argument("model")
@click.argument("version")
@click.option("--approve/--reject", "approve", default=None, required=True, help="The decision.")
@click.option("--reviewer", required=True, help="Who decides (must not be the version's author to promote).")
@click.option("--comment", required=True, help="Why.")
@click.option("--new-review", is_flag=True, help="Needed to approve a version that was rejected.")
@tracking_option
def review_command(model, version, approve, reviewer, comment, new_review, tracking_uri) -> None:
    """Record a review decision on MODEL VERSION (approval.* tags, audit trail, model card)."""
    review(model, version, approve, reviewer, comment, new_review, tracking_uri)
