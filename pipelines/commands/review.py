"""`creditflow review`: record a reviewer's decision, or an accepted exception, on one model version."""

from __future__ import annotations

import click

from features.errors import CreditflowError
from pipelines.commands.options import tracking_option
from pipelines.gates.registry import gate_names
from pipelines.governance.actions import review
from pipelines.governance.grant import grant_exception


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
@click.option("--comment", default=None, help="Why (required with --approve/--reject).")
@click.option("--new-review", is_flag=True, help="Needed to approve a version that was rejected.")
@click.option(
    "--exception",
    "gate",
    default=None,
    metavar="GATE",
    help="Accept an exception to a failed or not-assessed gate, granted by the acting user: one of the registered "
    f"gates ({', '.join(gate_names())}).",
)
@click.option("--justification", default=None, help="Why the exception is accepted (with --exception).")
@click.option("--expires", default=None, metavar="YYYY-MM-DD", help="Last day the exception is valid.")
@tracking_option
def review_command(
    model: str,
    version: str,
    approve: bool,
    reject: bool,
    reviewer: str | None,
    comment: str | None,
    new_review: bool,
    gate: str | None,
    justification: str | None,
    expires: str | None,
    tracking_uri: str | None,
) -> None:
    """Record the acting user's review of MODEL VERSION (audit trail, then approval.* tags, then review page), or
    with --exception an accepted, time-limited exception to one gate (exception.<gate>.* tags)."""
    if gate is not None:
        if approve or reject or new_review:
            raise CreditflowError("--exception is recorded on its own: give the decision in a separate review")
        if expires is None:
            raise CreditflowError("--exception needs --expires YYYY-MM-DD (the last day it is valid)")
        grant_exception(
            model, version, gate=gate, justification=justification or "", expires=expires, tracking_uri=tracking_uri
        )
        return
    if approve == reject:
        raise CreditflowError("give exactly one of --approve or --reject (a decision), or --exception GATE")
    if justification is not None or expires is not None:
        raise CreditflowError("--justification and --expires belong to --exception")
    review(
        model,
        version,
        approve=approve,
        reviewer=reviewer,
        comment=comment or "",
        new_review=new_review,
        tracking_uri=tracking_uri,
    )
