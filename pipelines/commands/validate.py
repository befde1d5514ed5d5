"""`creditflow validate MODEL VERSION`: recompute a version's evidence as the acting validator."""

from __future__ import annotations

import click

from features.errors import Refused
from pipelines.commands.options import tracking_option


@click.command("validate")
@click.argument("model")
@click.argument("version")
@click.option(
    "--data",
    default=None,
    metavar="PATH",
    help="Where the version's data is now (default: the source its spec names); its sha256 must be the version's "
    "lineage.data_digest.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when a gate did not pass.")
@tracking_option
def validate_command(model: str, version: str, data: str | None, strict: bool, tracking_uri: str | None) -> None:
    """Recompute every gate of MODEL VERSION from its registered model files, its data (by digest) and the governed
    policy, as the acting validator: validation.* tags, the audit trail, the review page beside the author's."""
    from pipelines.evidence.validation import validate_version

    evaluation = validate_version(model, version, tracking_uri=tracking_uri, data=data)
    if strict and not evaluation.all_passed:
        raise Refused(f"{model} version {version}: a gate did not pass under the validator's evidence")
