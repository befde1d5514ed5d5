"""`creditflow policy push FILE` / `policy show NAME [--version V]` / `policy list`: the governed policies.

On a workbench they live in the project's policy folder ($CREDITFLOW_POLICY_DIR, else experiments/policies); on a
team server in its policy store, where only the risk role stores a version and every version is kept and audited.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from features.errors import CreditflowError
from features.policy import PolicyStore, PolicyVersion, read_policy_file
from pipelines.commands.options import tracking_option


@click.group("policy")
def policy_group() -> None:
    """The lender's governed policies: store a version, show one, list them."""


@policy_group.command("push")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@tracking_option
def push_command(file: Path, tracking_uri: str | None) -> None:
    """Store FILE as a new version of the policy it names (team mode: risk only; a changed document needs a new
    `version`)."""
    if not file.is_file():
        raise CreditflowError(f"policy file not found: {file}")
    found = read_policy_file(file)  # an invalid file: exit 2 before the store is opened
    click.echo(_policies(tracking_uri).push(found))


@policy_group.command("show")
@click.argument("name")
@click.option("--version", "wanted", default=None, help="A kept version (default: the current one).")
@tracking_option
def show_command(name: str, wanted: str | None, tracking_uri: str | None) -> None:
    """Print policy NAME as stored (its version, digest, who stored it and when, then the document)."""
    chosen = pick(_policies(tracking_uri), name, wanted)
    click.echo(f"# policy {chosen.name} v{chosen.version}, digest {chosen.digest}")
    if chosen.stored_by or chosen.time:
        click.echo(f"# stored by {chosen.stored_by or '?'}{f' at {chosen.time}' if chosen.time else ''}")
    click.echo(yaml.safe_dump(chosen.document, sort_keys=False).rstrip())


@policy_group.command("list")
@tracking_option
def list_command(tracking_uri: str | None) -> None:
    """Every governed policy with its current version and digest."""
    policies = _policies(tracking_uri)
    names = policies.names()
    if not names:
        click.echo(f"no governed policy in {policies.where}")
    for name in names:
        kept = policies.versions(name)
        current = kept[-1]
        click.echo(f"{name}  v{current.version}  {current.digest[:12]}  ({len(kept)} version(s) kept)")


def pick(policies: PolicyStore, name: str, wanted: str | None) -> PolicyVersion:
    """The current version of `name`, or the kept version `wanted`; one line when there is none."""
    kept = policies.versions(name)
    if not kept:
        raise CreditflowError(f"no governed policy {name!r} in {policies.where}")
    if wanted is None:
        return kept[-1]
    found = [v for v in kept if v.version == wanted]
    if not found:
        listed = ", ".join(v.version for v in kept)
        raise CreditflowError(f"policy {name} has no version {wanted!r} in {policies.where} (kept: {listed})")
    return found[-1]


def _policies(tracking_uri: str | None) -> PolicyStore:
    from pipelines.governance.store import open_store

    return open_store(tracking_uri).policies()
