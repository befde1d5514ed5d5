"""`creditflow notices SCORED OUT_DIR`: the notice of every declined or referred applicant of a scored file, in the
spec's reason words and the policy's templates (pipelines/notices/ composes and writes them)."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from features.data import read_table
from features.errors import DataError, SpecError
from features.hitl_policy import LOCALES
from features.policy import policy_folder
from features.spec import Spec, load_spec
from pipelines.core.clock import today
from pipelines.core.free_text import shown
from pipelines.notices.compose import Lender, NoticeTemplate, check_scored, compose
from pipelines.notices.write import check_folder, write_notices
from pipelines.scoring.scorer import REASON_COLUMNS


@click.command("notices")
@click.argument("scored", type=click.Path())
@click.argument("out_dir", type=click.Path())
@click.option("--spec", "spec_path", required=True, type=click.Path(), help="The model's spec (reasons, id, policy).")
@click.option("--locale", default="en", show_default=True, help=f"Notice language: {', '.join(LOCALES)}.")
def notices_command(scored: str, out_dir: str, spec_path: str, locale: str) -> None:
    """Write the notice of every declined or referred applicant of SCORED (from `creditflow score`) into OUT_DIR
    (a new folder): a text and a JSON file per applicant and notices.jsonl in id order."""
    out = Path(out_dir)
    check_folder(out)
    spec = load_spec(spec_path)
    template = load_template(spec, Path(spec_path), locale)
    lender = _lender(spec)
    id_column = spec.data.id
    if not id_column:
        raise SpecError(f"{spec_path}: data.id: notices need the applicant id column")
    wanted = [id_column, "decision", "probability_of_default", *REASON_COLUMNS]
    frame = read_table(scored, columns=wanted)  # nothing else of the applicant is read
    refer, cutoff = spec.policy.refer, spec.policy.cutoff
    band = (cutoff - refer.below, cutoff + refer.above)
    check_scored(frame, id_column, texts=dict(spec.reasons), generic=spec.reasons_generic, band=band)
    notices = compose(frame, id_column, template, lender, date=today())
    write_notices(out, notices)
    referred = sum(n["decision"] == "refer" for n in notices)
    click.echo(
        f"wrote {len(notices):,} notices ({len(notices) - referred:,} declined, {referred:,} referred; "
        f"{len(frame) - len(notices):,} approved applicants get none) to {out} ({template.locale})"
    )


def load_template(spec: Spec, spec_path: Path, locale: str) -> NoticeTemplate:
    """The locale's template from the policy folder (`<notices.templates>/<locale>.yaml`)."""
    terms = spec.governing.policy.notices if spec.governing else None
    folder = policy_folder(spec_path.parent) / (terms.templates if terms else "notices")
    path = folder / f"{locale}.yaml"
    if locale not in LOCALES or not path.is_file():
        raise DataError(f"no notice template for locale {shown(locale, limit=40)} in {folder} (expected {path.name})")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise DataError(f"{path}: cannot read a notice template there") from None
    return NoticeTemplate.of(locale, document, str(path))


def _lender(spec: Spec) -> Lender:
    terms = spec.governing.policy.notices if spec.governing else None
    if terms is None or not terms.contact.strip():
        raise DataError("the governed policy gives no notices.contact: a notice must say where to ask for review")
    return Lender(terms.lender, terms.contact, terms.show_score, terms.max_reasons)
