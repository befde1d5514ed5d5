"""The life page of a model version: every monitored window's verdict, PSI per feature, score drift, outcome
metrics, the label-free estimates beside what was realised, the vintage back-test and the challenger, as time
series with the policy's limits drawn. One self-contained HTML file (inline SVG, no script). Pure: data in, HTML out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

import pandas as pd

from monitoring.svg_chart import Chart, render

STYLE = (
    "body{font-family:sans-serif;margin:24px;max-width:1000px;color:#222}table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}.ok{color:#2a7a2a}"
    ".warn{color:#b36b00;font-weight:bold}.alert{color:#c00;font-weight:bold}section{margin-bottom:28px}"
    "p.note{font-size:13px;color:#555}"
)


@dataclass
class Window:
    label: str
    status: str
    metrics: dict[str, float]
    reasons: list[str]


@dataclass
class LifeData:
    name: str
    version: str
    status: str  # the version's monitoring.status tag (what `creditflow status` shows)
    windows: list[Window]
    settings: dict  # the spec's monitoring settings of the latest window
    counts_backtest: pd.DataFrame = field(default_factory=pd.DataFrame)  # monitoring/vintage.backtest output
    estimates: pd.DataFrame = field(default_factory=pd.DataFrame)
    challenger: pd.DataFrame = field(default_factory=pd.DataFrame)
    challenger_window: str = ""


def _series(windows: list[Window], key: str) -> list[float]:
    return [w.metrics.get(key, math.nan) for w in windows]


def _levels(settings: dict, key: str) -> list[tuple[str, float]]:
    levels = settings.get(key, {})
    return [(f"{key} {name}", float(levels[name])) for name in ("warn", "alert") if name in levels]


def charts(data: LifeData) -> list[Chart]:
    """Every chart of the page, in order (those with nothing to draw left out)."""
    ws, x = data.windows, [w.label for w in data.windows]
    out = [
        Chart(
            "Verdict per window (0 ok, 1 warn, 2 alert)",
            x,
            [("status", _series(ws, "status_level"))],
            [("warn", 1.0), ("alert", 2.0)],
        ),
        Chart("Score PSI", x, [("score PSI", _series(ws, "score_psi"))], _levels(data.settings, "score")),
    ]
    columns = sorted({k.removeprefix("drift.") for w in ws for k in w.metrics if k.startswith("drift.")})
    columns = [c for c in columns if c != "probability_of_default"]
    out.append(
        Chart(
            "PSI per input column", x, [(c, _series(ws, f"drift.{c}")) for c in columns], _levels(data.settings, "psi")
        )
    )
    rates = sorted({k for w in ws for k in w.metrics if k.endswith(("refer_rate", "override_rate"))})
    if rates:
        out.append(Chart("Refer and override rates", x, [(k, _series(ws, k)) for k in rates], percent=True))
    if any("outcome.auc" in w.metrics for w in ws):
        out.append(
            Chart(
                "Outcome AUC and KS of labelled windows",
                x,
                [("AUC", _series(ws, "outcome.auc")), ("KS", _series(ws, "outcome.ks"))],
            )
        )
    out += _estimate_charts(data, x)
    out += _vintage_charts(data.counts_backtest)
    return [c for c in out if any(not math.isnan(v) for _, s in c.series for v in s)]


def _estimate_charts(data: LifeData, x: list[str]) -> list[Chart]:
    ws, estimates = data.windows, data.estimates
    realised = {"realised_rate": [math.nan] * len(x), "realised_auc": [math.nan] * len(x)}
    if not estimates.empty and "realised_rate" in estimates.columns:
        by_cohort = estimates.set_index(estimates["cohort"].astype(str))
        for i, label in enumerate(x):
            if label in by_cohort.index:
                for key in realised:
                    realised[key][i] = float(by_cohort.loc[label, key])
    return [
        Chart("Label-free estimate of the default rate (interval shaded) and the realised rate", x,
              [("estimate", _series(ws, "estimate.default_rate")), ("realised", realised["realised_rate"])],
              band=(_series(ws, "estimate.default_rate_low"), _series(ws, "estimate.default_rate_high")),
              percent=True),
        Chart("Label-free estimate of the AUC (interval shaded) and the realised AUC", x,
              [("estimate", _series(ws, "estimate.auc")), ("realised", realised["realised_auc"])],
              band=(_series(ws, "estimate.auc_low"), _series(ws, "estimate.auc_high"))),
    ]  # fmt: skip


def _vintage_charts(table: pd.DataFrame) -> list[Chart]:
    out: list[Chart] = []
    if table.empty:
        return out
    for horizon, group in table.groupby("horizon", sort=True):
        sums = group.groupby("cohort", sort=True)[["n", "defaults", "expected"]].sum()
        cohorts = [str(c) for c in sums.index]
        observed = (sums["defaults"] / sums["n"]).tolist()
        expected = (sums["expected"] / sums["n"]).tolist()
        out.append(Chart(f"Vintage back-test at {int(horizon)} months on book: default rate by cohort", cohorts,
                         [("observed", observed), ("expected from PDs", expected)], percent=True))  # fmt: skip
    return out


def _table(frame: pd.DataFrame, columns: list[str], caption: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = []
    for record in frame[columns].to_dict(orient="records"):
        cells = []
        for c in columns:
            value = record[c]
            text = (
                f"{value:.4g}" if isinstance(value, float) and math.isfinite(value) else "" if value != value else value
            )
            cells.append(f"<td>{escape(str(text))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><caption>{escape(caption)}</caption><tr>{head}</tr>{''.join(rows)}</table>"


def _verdicts(data: LifeData) -> str:
    rows = []
    for w in data.windows:
        m = w.metrics
        rows.append(
            f'<tr class="window"><td>{escape(w.label)}</td><td class="{escape(w.status)} verdict">{escape(w.status)}'
            f"</td><td>{int(m.get('rows', 0)):,}</td><td>{m.get('score_psi', math.nan):.3f}</td>"
            f"<td>{m.get('max_psi', math.nan):.3f}</td><td>{escape('; '.join(w.reasons[:3]))}</td></tr>"
        )
    return (
        '<table id="verdicts"><tr><th>window</th><th>verdict</th><th>rows</th><th>score PSI</th><th>max PSI</th>'
        f"<th>reasons (first three)</th></tr>{''.join(rows)}</table>"
    )


def life_page(data: LifeData) -> str:
    """The whole page."""
    sections = [
        f"<h1>{escape(data.name)} version {escape(data.version)}: life after go-live</h1>",
        f'<p>Monitoring status: <span id="status" class="{escape(data.status)}">{escape(data.status)}</span>, '
        f"{len(data.windows)} window(s) monitored.</p>",
        "<section><h2>Verdict of every window</h2>" + _verdicts(data) + "</section>",
        "<section><h2>Time series</h2>" + "".join(render(c) for c in charts(data)) + "</section>",
        '<section><h2>Method</h2><p class="note">Drift: PSI on the reference\'s deciles (credit definition). '
        "Label-free estimate: expected default rate = mean PD (interval: Poisson-binomial), expected AUC by "
        "confidence-based performance estimation (labels drawn as Bernoulli(PD), anchored to the registered holdout "
        "AUC); both assume the PDs are calibrated. Vintage back-test: default rate by score band per origination "
        "cohort at months on book, against the PDs spread evenly over the first year, with Jeffreys intervals; a "
        "band out of its interval for consecutive cohorts warns.</p></section>",
    ]
    table = data.counts_backtest
    if not table.empty:
        warned = table[table["warn"].astype(bool)]
        body = (
            _table(warned, ["horizon", "band", "cohort", "n", "rate", "low", "high", "expected_rate", "side"],
                   "Band-cohort cells that warned")
            if len(warned) else "<p>No band left its interval for consecutive cohorts.</p>"
        )  # fmt: skip
        sections.append(f"<section><h2>Vintage back-test</h2>{body}</section>")
    estimates = data.estimates
    if not estimates.empty and "realised_rate" in estimates.columns:
        matured = estimates.dropna(subset=["realised_rate"])
        columns = [c for c in ("cohort", "n", "expected_rate", "rate_low", "rate_high", "realised_rate",
                               "expected_auc", "realised_auc", "contradicted") if c in matured.columns]  # fmt: skip
        sections.append(
            "<section><h2>Estimates back-tested</h2>"
            + _table(matured, columns, "Matured cohorts: the estimate beside what was realised")
            + "</section>"
        )
    if not data.challenger.empty:
        sections.append(
            "<section><h2>Challenger</h2>"
            + _table(data.challenger, list(data.challenger.columns), data.challenger_window)
            + "</section>"
        )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(data.name)} v{escape(data.version)}'
        f" life</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
