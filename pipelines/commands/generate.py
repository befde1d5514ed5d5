"""`creditflow generate`: write a synthetic consumer-loan book."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from features.data import write_table
from features.errors import CreditflowError
from features.outputs import check_output

CALIBRATION_DRIFT = 1.0  # default log-odds added by the last cohort (0 at the first)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@click.command("generate")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--rows", type=click.IntRange(min=1), required=True, help="Number of applicants.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--start-month", default="2024-01", show_default=True, help="First application month, YYYY-MM.")
@click.option("--months", type=click.IntRange(min=1), default=24, show_default=True)
@click.option(
    "--bias",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Historical-bias strength against one group (added to its default log-odds).",
)
@click.option(
    "--drift-income",
    type=float,
    default=0.0,
    show_default=True,
    help="Relative income change by the last month (e.g. -0.2).",
)
@click.option(
    "--drift-utilisation",
    type=float,
    default=0.0,
    show_default=True,
    help="Absolute revolving-utilisation change by the last month (e.g. 0.15).",
)
@click.option(
    "--drift-mix",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Population-mix shift toward riskier channels and younger applicants by the last month.",
)
@click.option(
    "--scenario",
    type=click.Choice(["income_shock", "utilisation_rise", "mix_shift"]),
    default=None,
    help="A named drift scenario (sets the drift knobs it names; see features/synthetic_options.py SCENARIOS).",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (default: refuse).")
@click.option(
    "--leak",
    is_flag=True,
    help="Add months_in_arrears_12m, a column known only after the outcome, to see the leakage screen fire.",
)
@click.option(
    "--duplicate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of the book appended again as exact copies (1: the file concatenated with itself).",
)
@click.option(
    "--id-column",
    is_flag=True,
    help="Add file_number, unique and numbered by outcome, to see the data-design gate refuse an identifier.",
)
@click.option(
    "--post-decision",
    is_flag=True,
    help="Add principal_paid and late_fees_paid, repayment facts recorded after the decision (each only a moderate "
    "signal), to see the leakage screen name them.",
)
@click.option(
    "--proxy-of",
    type=click.Choice(["gender", "age"]),
    default=None,
    help="Add a stand-in for a sensitive attribute under an innocent name (gender: salutation; age: birth_year).",
)
@click.option(
    "--overrides",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write underwriters' final decisions for the book to this file (for `monitor --decisions`).",
)
@click.option(
    "--override-bias",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of gender-F applicants the underwriters would approve whom they decline all the same.",
)
@click.option(
    "--vintages",
    type=click.IntRange(min=2),
    default=None,
    help="A book of N monthly origination cohorts for monitoring (sets --months N); the default flag leaves the "
    "book and arrives in the --outcomes-as-of snapshots.",
)
@click.option(
    "--outcomes-as-of",
    "as_of",
    multiple=True,
    metavar="YYYY-MM",
    help="With --vintages: also write OUT's outcomes as of this month (id, defaulted, observed_at) beside it, "
    "as <OUT name>.outcomes-YYYY-MM.csv; repeat for several months.",
)
@click.option(
    "--calibration-drift",
    is_flag=True,
    help="Later cohorts default more than the same applicants did before (+1 log-odds by the last month): the PDs "
    "fall behind, and the vintage back-test should say so.",
)
def generate_command(out: str, **options: Any) -> None:
    """Write a synthetic consumer-loan book to OUT (.parquet or .csv)."""
    generate(out, options)


def generate(out: str, options: dict) -> None:
    """Write a synthetic consumer-loan book."""
    from features.synthetic import BookOptions, generate_book, scenario_options

    options = dict(options)
    options["proxy_of"] = options.get("proxy_of") or ""
    overwrite = bool(options.pop("overwrite", False))
    overrides, override_bias = options.pop("overrides", None), float(options.pop("override_bias", 0.0) or 0.0)
    scenario = options.pop("scenario", None)
    vintages, as_of = options.pop("vintages", None), tuple(options.pop("as_of", ()) or ())
    options["calibration_drift"] = CALIBRATION_DRIFT if options.pop("calibration_drift", False) else 0.0
    if as_of and not vintages:
        raise CreditflowError("--outcomes-as-of needs --vintages N (a book whose outcomes arrive later)")
    if vintages:
        options["months"] = vintages
    try:
        if scenario:
            knobs = scenario_options(scenario)
            clash = [k for k in knobs if options.get(k)]
            if clash:
                raise ValueError(f"--scenario {scenario} sets {', '.join(clash)}; give one or the other")
            options.update(knobs)
        book = generate_book(BookOptions(**options))
    except ValueError as exc:
        raise CreditflowError(str(exc)) from None
    if overrides is not None and Path(overrides).resolve() == Path(out).resolve():
        raise CreditflowError(f"--overrides {overrides} is OUT itself: give another file")
    if overrides is not None:
        check_output(Path(overrides), overwrite=overwrite)  # before the book is written: both or neither
    rate = book["default_12m"].mean()
    if vintages:
        outputs = _snapshots(book, out, as_of, int(options.get("seed") or 0), overwrite)
        write_table(book.drop(columns="default_12m"), out, overwrite=overwrite)
        for path, frame in outputs.items():
            write_table(frame, path, overwrite=overwrite)
            click.echo(f"wrote outcomes of {len(frame)} loans to {path} ({frame['defaulted'].mean():.1%} defaulted)")
    else:
        write_table(book, out, overwrite=overwrite)
    click.echo(f"wrote {len(book)} applicants to {out} (default rate {rate:.1%})")
    if overrides is not None:
        _write_overrides(book, overrides, override_bias, int(options.get("seed") or 0), overwrite)


def _write_overrides(book: Any, path: str, bias: float, seed: int, overwrite: bool) -> None:
    from features.overrides import underwriter_decisions

    decisions = underwriter_decisions(book, bias=bias, seed=seed)
    write_table(decisions, path, overwrite=overwrite)
    share = (decisions["final_decision"] == "decline").mean()
    click.echo(f"wrote {len(decisions)} final decisions to {path} ({share:.1%} declined by underwriters)")


def _snapshots(book: Any, out: str, months: tuple[str, ...], seed: int, overwrite: bool) -> dict[Path, Any]:
    """Every outcomes snapshot, built and its path checked before anything is written."""
    from features.synthetic_vintage import snapshot

    outputs = {}
    for month in months:
        if not MONTH.match(month):
            raise CreditflowError(f"--outcomes-as-of {month!r}: use YYYY-MM")
        path = Path(out).with_name(f"{Path(out).stem}.outcomes-{month}.csv")
        outputs[path] = snapshot(
            book,
            id_column="applicant_id",
            time_column="application_month",
            target="default_12m",
            seed=seed,
            as_of=month,
        )
    for path in [Path(out), *outputs]:
        check_output(path, overwrite=overwrite)
    return outputs
