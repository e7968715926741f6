"""Report sections for the trait analyses: SLDP (``crossreg sldp-gather``) and de novo (``crossreg denovo``).

Each folder is loaded and checked before anything is written (its ``summary.json`` format
and version, the tables and plots the section shows); the sections embed the PNGs as data
URIs, like the rest of the page.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossreg.errors import InputError
from crossreg.report import html as h
from crossreg.report.inputs import read_json, read_tsv

SLDP_FORMAT, SLDP_VERSIONS = "crossreg-sldp", {1}
DENOVO_FORMAT, DENOVO_VERSIONS = "crossreg-denovo", {1}
#: rows of the top-tracks tables shown on the page
TOP_ROWS = 20


@dataclass
class TraitFolder:
    """A loaded SLDP or de novo folder.

    Attributes:
        kind: ``"sldp"`` or ``"denovo"``.
        path: the folder.
        data: its ``summary.json``.
        tables: file name -> (header, rows) of the TSVs shown.
        plots: file name -> PNG bytes (in display order).
    """

    kind: str
    path: Path
    data: dict
    tables: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
    plots: dict[str, bytes] = field(default_factory=dict)


def _summary(path: str | os.PathLike, fmt: str, versions: set[int], kind: str) -> tuple[Path, dict]:
    folder = Path(path)
    if folder.name == "summary.json":
        folder = folder.parent
    summary = folder / "summary.json"
    if not summary.is_file():
        raise InputError(f"{kind} folder {folder}: no summary.json")
    data = read_json(summary, f"{kind} summary")
    if not isinstance(data, dict) or data.get("format") != fmt:
        found = data.get("format") if isinstance(data, dict) else None
        raise InputError(f"{summary}: format is {found!r}, expected {fmt!r} (is this a {kind} folder?)")
    if data.get("format_version") not in versions:
        raise InputError(f"{summary}: unknown format_version {data.get('format_version')!r} (this crossreg reads "
                         f"{', '.join(map(str, sorted(versions)))})")
    return folder, data


def _png(folder: Path, name: str, required: bool) -> bytes | None:
    path = folder / name
    if not path.is_file():
        if required:
            raise InputError(f"{folder}: {name} is missing")
        return None
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InputError(f"{path}: not a PNG file")
    return data


def load_sldp(path: str | os.PathLike) -> TraitFolder:
    """An ``sldp-gather`` folder: summary, ``results.tsv``, the heat map and (when written) the clusters."""
    folder, data = _summary(path, SLDP_FORMAT, SLDP_VERSIONS, "SLDP")
    out = TraitFolder("sldp", folder, data)
    out.tables["results.tsv"] = read_tsv(folder / "results.tsv")
    for name, required in (("z_heatmap.png", True), ("z_clusters.png", False)):
        png = _png(folder, name, required)
        if png is not None:
            out.plots[name] = png
    return out


def load_denovo(path: str | os.PathLike) -> TraitFolder:
    """A ``denovo`` folder: summary, ``tracks.tsv``, ``groups.tsv``, its plots, and ``ism/`` when present."""
    folder, data = _summary(path, DENOVO_FORMAT, DENOVO_VERSIONS, "de novo")
    out = TraitFolder("denovo", folder, data)
    for name in ("tracks.tsv", "groups.tsv", "top_variants.tsv"):
        out.tables[name] = read_tsv(folder / name)
    for name in ("effect_vs_significance.png", "families.png"):
        png = _png(folder, name, False)
        if png is not None:
            out.plots[name] = png
    index = folder / "ism" / "index.tsv"
    if index.is_file():
        header, rows = read_tsv(index)
        out.tables["ism/index.tsv"] = (header, rows)
        if "ism_png" in header:
            k = header.index("ism_png")
            for row in rows:
                png = _png(folder / "ism", row[k], False)
                if png is not None:
                    out.plots[f"ism/{row[k]}"] = png
    return out


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _sorted_rows(header: list[str], rows: list[list[str]], key: str) -> list[list[str]]:
    k = header.index(key)

    def value(row: list[str]) -> float:
        try:
            return float(row[k])
        except ValueError:
            return math.inf

    return sorted(rows, key=value)


def _top_table(folder: TraitFolder, name: str, sort_by: str, columns: list[str], caption: str) -> list[str]:
    header, rows = folder.tables[name]
    missing = [c for c in [sort_by, *columns] if c not in header]
    if missing:
        raise InputError(f"{folder.path / name}: missing column(s) {', '.join(missing)}")
    picked = _sorted_rows(header, rows, sort_by)[:TOP_ROWS]
    idx = [header.index(c) for c in columns]
    body = []
    for row in picked:
        cells = []
        for c, i in zip(columns, idx):
            text, numeric = h.format_cell(row[i], c)
            cells.append(h.cell(text, numeric))
        body.append(cells)
    out = [h.table(columns, body, caption=caption)]
    if len(rows) > len(picked):
        out.append(h.note(f"The {len(picked)} rows with the smallest {sort_by} of {len(rows)} "
                          f"(full table: {name} in {folder.path})."))
    return out


def sldp_summary(label: str, anchor: str, f: TraitFolder) -> str:
    """Summary-section paragraph: tests, significant cells, the best track per phenotype."""
    d = f.data
    body = [h.paragraph(f"{d['tests']} tests ({d['tracks']} tracks x {len(d['phenotypes'])} phenotypes); "
                        f"{d['significant']} at FDR {_num(d['fdr'])}.")]
    rows = [[phen, b.get("annotation", ""), b.get("description", ""), _num(b.get("z")), _num(b.get("q")),
             _num(b.get("rf"))] for phen, b in sorted(d.get("best_track_per_phenotype", {}).items())]
    body.append(h.table(["phenotype", "best track", "description", "z", "q", "rf"], rows,
                        numeric=[False, False, False, True, True, True]))
    return h.section(None, f"SLDP: {label}", [f'<p class="meta"><a href="#{anchor}">details</a></p>', *body], level=3)


def denovo_summary(label: str, anchor: str, f: TraitFolder) -> str:
    """Summary-section paragraph: significant tracks, PC1, the family test."""
    d = f.data
    t, pca, fam, ch = d["tracks"], d["pca"], d["families"], d["chosen_track"]
    ve = pca["variance_explained"][0] if pca.get("variance_explained") else None
    items = [
        ("tracks lower in cases / higher (FDR)", f"{t['significant_case_lower']} / {t['significant_case_higher']} "
                                                 f"(q <= {_num(t.get('fdr'))}) of {d['counts']['tracks']}"),
        ("PC1", f"{_num(ve)} of the variance; cases vs controls MWU p {_num(pca['pc1_mwu']['p'])}"),
        ("families (case more negative)", f"{fam['case_more_negative']} of {fam['compared']} "
                                          f"({_num(fam['fraction_case_more_negative'])}) on {ch['identifier']}; "
                                          f"binomial p {_num(fam['binomial_p'])}"),
    ]
    for g in d.get("groups", {}).get("tests", []):
        items.append((f"group {g.get('group')}: p-values smaller than the rest", f"MWU p {_num(g.get('p_smaller'))}"))
    return h.section(None, f"De novo: {label}", [f'<p class="meta"><a href="#{anchor}">details</a></p>',
                                                 h.definitions(items)], level=3)


def sldp_section(label: str, anchor: str, f: TraitFolder) -> str:
    """Details: the strongest track x phenotype rows, the z heat map and the track clusters."""
    parts = [f'<p class="meta">folder <code>{h.escape(f.path)}</code></p>']
    parts += _top_table(f, "results.tsv", "p", ["phenotype", "annotation", "description", "mu", "se", "z", "p", "q",
                                                 "rf", "h2g"], "strongest track x phenotype tests")
    for name, png in f.plots.items():
        parts.append(h.figure(png, name, alt=name))
    return h.section(anchor, f"SLDP: {label}", parts, level=3)


def denovo_section(label: str, anchor: str, f: TraitFolder) -> str:
    """Details: top tracks, group tests, Figure 5a/5c, top variants and their ISM."""
    parts = [f'<p class="meta">folder <code>{h.escape(f.path)}</code></p>']
    parts += _top_table(f, "tracks.tsv", "p", ["identifier", "description", "group", "U", "p", "q", "effect",
                                                "direction"], "tracks with the smallest p")
    gh, grows = f.tables["groups.tsv"]
    parts.append(h.table(gh, grows, caption="track groups: MWU of each group's per-track p-values vs the rest"))
    for name in ("effect_vs_significance.png", "families.png"):
        if name in f.plots:
            parts.append(h.figure(f.plots[name], name, alt=name))
    th, trows = f.tables["top_variants.tsv"]
    parts.append(h.table(th, trows[:TOP_ROWS], caption="case variants with the most negative scores on the chosen track"))
    for name, png in f.plots.items():
        if name.startswith("ism/"):
            parts.append(h.figure(png, name, alt=name))
    return h.section(anchor, f"De novo: {label}", parts, level=3)
