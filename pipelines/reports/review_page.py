"""The review page: one self-contained HTML file per version, the model card grown up.

Charts are embedded as base64 PNG and the style is inline, so the page opens offline, from the MLflow
artifact viewer or a downloaded file, with nothing beside it. Verdict words are coloured; inline `code`
is rendered as code (no raw Markdown backticks).
"""

from __future__ import annotations

import html

import pandas as pd

from pipelines.reports.card_evidence import Chart, Section
from pipelines.reports.charts import png_base64
from pipelines.reports.formats import inline_code, table_html
from pipelines.reports.governance_section import HEADING, PENDING, exceptions_banner, governance_html

PAGE_PATH = "model_card/model_card.html"  # on the version's run; the version description links to it
CARD_PATH = "model_card/model_card.md"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{padding:3px 8px;border:1px solid #ccc;"
    "vertical-align:top}th{background:#f3f3f3;text-align:left}figure{margin:1em 0}img{max-width:100%}"
    "figcaption{font-size:.85em;color:#555}nav a{margin-right:.8em}code{background:#f3f3f3;padding:0 3px}"
    ".table{overflow-x:auto}"
    ".good{background:#e3f4e1}.bad{background:#fbe1de}.doubt{background:#fdf1d8}"
)
_CLASSES = {
    "passed": "good",
    "met": "good",
    "failed": "bad",
    "broken": "bad",
    "not_assessed": "doubt",
    "not assessed": "doubt",
    "cannot judge": "doubt",
    "warning": "doubt",
    "undefined": "doubt",
}


def review_page(title: str, sections: list[Section], *, pending: str = PENDING) -> str:
    """The whole page: a table of contents, every section, and the (pending) sign-off block."""
    anchors = [(f"s{i}", heading) for i, (heading, _) in enumerate(sections)]
    nav = "".join(f"<a href='#{a}'>{html.escape(h)}</a>" for a, h in [*anchors, ("governance", HEADING)])
    body = [f"<nav>{nav}</nav>", exceptions_banner([])]
    for (anchor, heading), (_, items) in zip(anchors, sections):
        body.append(f"<section id='{anchor}'><h2>{html.escape(heading)}</h2>")
        body += [_item(item) for item in items]
        body.append("</section>")
    body.append(governance_html([], [], pending=pending))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>"
    )


def _item(item: object) -> str:
    if isinstance(item, pd.DataFrame):
        return _coloured(table_html(item))
    if isinstance(item, Chart):
        where = f" (also <code>{html.escape(item.source)}</code> on the run)" if item.source else ""
        return (
            f"<figure><img alt='{html.escape(item.title)}' src='data:image/png;base64,{png_base64(item.figure)}'>"
            f"<figcaption>{html.escape(item.title)}{where}</figcaption></figure>"
        )
    return f"<p>{inline_code(str(item))}</p>"


def _coloured(table: str) -> str:
    for word, css in _CLASSES.items():
        table = table.replace(f"<td>{word}</td>", f"<td class='{css}'>{word}</td>")
    return table
