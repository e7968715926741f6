"""A self-contained HTML report of evaluations, comparisons and training runs.

:func:`render_report` writes one HTML file that references nothing outside itself (inline
CSS, images as ``data:`` URIs, no JavaScript), so it opens offline and can be mailed.

Modules: ``inputs`` (loading and validating the inputs), ``curves`` (learning curves with
matplotlib), ``html`` (escaping, formatting, tables, figures), ``core`` (the page).
"""

from crossreg.report.core import render_report

__all__ = ["render_report"]
