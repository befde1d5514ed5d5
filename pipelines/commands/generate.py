"""`creditflow generate`: write a synthetic consumer-loan book."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from features.data import write_table
from features.errors import CreditflowError
from features.outputs import check_output


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
    write_table(book, out, overwrite=overwrite)
    click.echo(f"wrote {len(book)} applicants to {out} (default rate {book['default_12m'].mean():.1%})")
    if overrides is not None:
        from features.overrides import underwriter_decisions

        decisions = underwriter_decisions(book, bias=override_bias, seed=int(options["seed"]))
        write_table(decisions, overrides, overwrite=overwrite)
        share = (decisions["final_decision"] == "decline").mean()
        click.echo(f"wrote {len(decisions)} final decisions to {overrides} ({share:.1%} declined by underwriters)")
