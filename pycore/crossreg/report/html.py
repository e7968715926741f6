"""Tiny HTML helpers for the report: escaping, number formatting, tables, figures, sections.

Everything here returns strings of HTML. Text that comes from a file is always passed
through :func:`escape` (directly or via :func:`table`); only :class:`Markup` values, built
by these helpers themselves, are inserted as they are.
"""

from __future__ import annotations

import base64
import html
import math
import re
from typing import Any, Iterable, Sequence

#: Shown for a missing value: NaN, None/null or an empty cell.
MISSING = "\u2013"

#: Columns whose values are p-values (or q-values) and are shown as ``3.2e-05``.
_P_COLUMN = re.compile(r"(^|_)(p|pval|pvalue|p_value|q|qval|qvalue|q_value|fdr|padj)$", re.IGNORECASE)
_INT = re.compile(r"[+-]?\d+")
_NAN_TEXT = {"", "nan", "-nan", "+nan", "null", "none"}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1d1d1f; background: #fff; margin: 0; line-height: 1.45; }
.container { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #d0d7de; padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.6rem; }
h4 { font-size: 1rem; margin-top: 1.2rem; }
.meta { color: #57606a; margin: 0; }
nav ul { padding-left: 1.2rem; margin: .4rem 0; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .88rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #c8ced6; padding: .22rem .5rem; vertical-align: top; }
th { background: #f1f3f5; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.diff { background: #fff4d6; }
.scroll { overflow-x: auto; max-width: 100%; }
.note { color: #8a4b00; background: #fff8e6; border-left: 4px solid #e0a100; padding: .3rem .6rem; }
figure { margin: .8rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e1e4e8; }
figcaption { color: #57606a; font-size: .9rem; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .6rem; overflow-x: auto; font-size: .82rem; }
code { font-size: .88em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-all; }
""".strip()


class Markup(str):
    """A string of HTML built by these helpers: inserted without escaping."""


def escape(value: Any) -> str:
    """HTML-escape ``value`` (converted with ``str``), quotes included; :class:`Markup` passes unchanged."""
    if isinstance(value, Markup):
        return value
    return html.escape(str(value), quote=True)


def is_missing(value: Any) -> bool:
    """True for None and float NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_r(value: Any, decimals: int = 3) -> str:
    """A correlation (or any real number) with ``decimals`` decimals; missing values as an en dash.

    Booleans and non-numbers are returned as text; integers keep no decimals.
    """
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def format_p(value: Any) -> str:
    """A p-value: ``3.2e-05`` below 0.001, three decimals otherwise; missing values as an en dash."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    value = float(value)
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3f}"


def is_p_column(column: str) -> bool:
    """Whether a column name denotes p-values (``p``, ``binomial_p``, ``p_value``, ``fdr``, ...)."""
    return bool(_P_COLUMN.search(column.strip()))


def format_cell(text: str, column: str = "") -> tuple[str, bool]:
    """Format one cell of a TSV/CSV table read as text.

    Missing values (empty, ``nan``, ``null``, ``None``) become an en dash, integers stay as
    written, other numbers get three decimals (``3.2e-05`` style in p-value columns, see
    :func:`is_p_column`); anything else is returned unchanged.

    Returns:
        ``(text, numeric)``: the shown text and whether the cell is numeric (right-aligned).
    """
    stripped = text.strip()
    if stripped.lower() in _NAN_TEXT:
        return MISSING, True
    if _INT.fullmatch(stripped):
        return stripped, True
    try:
        value = float(stripped)
    except ValueError:
        return text, False
    if is_p_column(column):
        return format_p(value), True
    return format_r(value), True


def cell(text: Any, numeric: bool = False, css_class: str = "") -> Markup:
    """One ``<td>``; ``numeric`` right-aligns it."""
    classes = " ".join(c for c in ("num" if numeric else "", css_class) if c)
    attr = f' class="{classes}"' if classes else ""
    return Markup(f"<td{attr}>{escape(text)}</td>")


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], caption: str | None = None,
          numeric: Sequence[bool] | None = None) -> Markup:
    """An HTML table (wrapped in a horizontally scrolling ``div``).

    Args:
        header: column names (escaped).
        rows: rows of cells; a cell is text (escaped, in a ``<td>``, right-aligned where
            ``numeric`` says so) or a :class:`Markup` ``<td>`` from :func:`cell`.
        caption: optional caption (escaped).
        numeric: per column, whether plain-text cells are right-aligned.
    """
    out = ['<div class="scroll"><table>']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if isinstance(value, Markup) and value.startswith("<td"):
                cells.append(value)
            else:
                cells.append(cell(value, bool(numeric and i < len(numeric) and numeric[i])))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return Markup("".join(out))


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure(png: bytes, caption: str, alt: str | None = None) -> Markup:
    """A ``<figure>`` embedding PNG bytes as a data URI, with an escaped caption."""
    return Markup(
        f'<figure><img src="{png_data_uri(png)}" alt="{escape(alt if alt is not None else caption)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def note(text: str) -> Markup:
    """A highlighted paragraph (escaped)."""
    return Markup(f'<p class="note">{escape(text)}</p>')


def paragraph(text: str) -> Markup:
    """A plain paragraph (escaped)."""
    return Markup(f"<p>{escape(text)}</p>")


def pre(text: str) -> Markup:
    """Preformatted text (escaped)."""
    return Markup(f"<pre>{escape(text)}</pre>")


def definitions(items: Iterable[tuple[Any, Any]]) -> Markup:
    """A definition list of ``(term, value)`` pairs (both escaped)."""
    body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return Markup(f"<dl>{body}</dl>")


def section(anchor: str | None, title: str, body: Iterable[str] | str, level: int = 2) -> Markup:
    """A ``<section>`` with a heading of ``level`` (2-4); ``anchor`` becomes its ``id``.

    ``body`` is HTML (a :class:`Markup` string or an iterable of them).
    """
    content = body if isinstance(body, str) else "\n".join(body)
    ident = f' id="{escape(anchor)}"' if anchor else ""
    return Markup(f"<section{ident}>\n<h{level}>{escape(title)}</h{level}>\n{content}\n</section>")


def page(title: str, body: Iterable[str] | str) -> Markup:
    """A complete HTML5 document with the inline stylesheet :data:`CSS`; no external resources."""
    content = body if isinstance(body, str) else "\n".join(body)
    return Markup(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n"
        f'<body>\n<div class="container">\n{content}\n</div>\n</body>\n</html>\n'
    )
