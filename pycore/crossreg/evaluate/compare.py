"""``compare_models``: two evaluations of the same tracks, track by track (Kelley 2020, Fig. 2).

The paper's joint-vs-single experiment: a model trained jointly on human and mouse against
models trained on one genome, compared by the per-track Pearson R of each on the same test
windows. Tracks are matched by (genome, identifier); per genome and assay (and over all
assays, ``ALL``) the comparison reports how many tracks improved and a two-sided binomial
(sign) test of "improved" against "worse" with p = 0.5; ties and tracks with a NaN R in
either evaluation are left out of the test and counted separately.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import numpy as np

from crossreg.errors import InputError
from crossreg.evaluate import plots
from crossreg.evaluate.core import EVALUATION_FORMAT, versions
from crossreg.evaluate.tables import json_safe, parse_float, read_tsv, write_json, write_tsv

log = logging.getLogger(__name__)

COMPARISON_FORMAT = "crossreg-comparison"
COMPARISON_FORMAT_VERSION = 1
SUMMARY_COLUMNS = (
    "genome", "assay", "tracks", "improved", "fraction_improved", "mean_difference", "binomial_p",
    "worse", "ties", "missing",
)
ALL_ASSAYS = "ALL"
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_]+$")


def _read_evaluation(path: Path) -> dict[tuple[str, str], tuple[str, float]]:
    """(genome, identifier) -> (assay, pearson_r) of an evaluation directory, in file order."""
    import json

    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise InputError(f"evaluation {path}: no summary.json (expected a directory written by evaluate_model)")
    try:
        summary = json.loads(summary_path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{summary_path}: not valid JSON ({err})") from None
    found = summary.get("format") if isinstance(summary, dict) else None
    if found != EVALUATION_FORMAT:
        raise InputError(f"{summary_path}: not a crossreg evaluation (format {found!r}, expected {EVALUATION_FORMAT!r})")
    tracks_path = path / "tracks.tsv"
    rows = read_tsv(tracks_path, ("genome", "identifier", "assay", "pearson_r"))
    out: dict[tuple[str, str], tuple[str, float]] = {}
    for line_no, row in enumerate(rows, start=2):
        key = (row["genome"], row["identifier"])
        if key in out:
            raise InputError(f"{tracks_path}:{line_no}: track {key[1]!r} of genome {key[0]!r} is listed twice")
        out[key] = (row["assay"], parse_float(row["pearson_r"], f"{tracks_path}:{line_no}"))
    return out


def sign_test(r_a, r_b) -> dict:
    """Counts and the two-sided binomial test of ``r_a > r_b`` across tracks.

    Args:
        r_a, r_b: float [tracks] Pearson R of the two models for the same tracks.

    Returns:
        ``tracks`` (all), ``improved`` (a > b), ``worse`` (a < b), ``ties`` (equal),
        ``missing`` (NaN in either), ``fraction_improved`` = improved / (improved + worse),
        ``mean_difference`` = mean of a - b over tracks without NaN (ties included),
        ``binomial_p`` = ``scipy.stats.binomtest(improved, improved + worse, 0.5).pvalue``;
        NaN where no track decides.
    """
    from scipy.stats import binomtest

    r_a = np.asarray(r_a, dtype=np.float64)
    r_b = np.asarray(r_b, dtype=np.float64)
    valid = np.isfinite(r_a) & np.isfinite(r_b)
    improved = int(np.count_nonzero(valid & (r_a > r_b)))
    worse = int(np.count_nonzero(valid & (r_a < r_b)))
    decided = improved + worse
    return {
        "tracks": int(len(r_a)),
        "improved": improved,
        "worse": worse,
        "ties": int(np.count_nonzero(valid & (r_a == r_b))),
        "missing": int(np.count_nonzero(~valid)),
        "fraction_improved": improved / decided if decided else float("nan"),
        "mean_difference": float(np.mean(r_a[valid] - r_b[valid])) if valid.any() else float("nan"),
        "binomial_p": float(binomtest(improved, decided, 0.5, alternative="two-sided").pvalue) if decided else float("nan"),
    }


def compare_models(
    eval_a: str | os.PathLike,
    eval_b: str | os.PathLike,
    out_dir: str | os.PathLike,
    label_a: str = "joint",
    label_b: str = "single",
) -> dict:
    """Compare two evaluations (directories written by :func:`evaluate_model`) track by track.

    Args:
        eval_a: evaluation of model a (e.g. joint training).
        eval_b: evaluation of model b (e.g. single-genome training).
        out_dir: output folder (created).
        label_a, label_b: names of the two models in column names and plots; distinct,
            ``[A-Za-z0-9_]+``.

    Returns:
        The summary also written to ``summary.json``: ``format`` (``crossreg-comparison``),
        ``format_version``, ``label_a``, ``label_b``, ``eval_a``, ``eval_b``, ``rows`` (the
        rows of ``comparison_summary.tsv``), ``tables``, ``plots``, ``versions``, ``seconds``
        (NaN as null).

    Output files: ``comparison.tsv`` (genome, identifier, assay, r_<label_a>, r_<label_b>,
    difference = a - b), ``comparison_summary.tsv`` (genome, assay, tracks, improved,
    fraction_improved, mean_difference, binomial_p, worse, ties, missing; one row per genome
    and assay plus ``ALL`` per genome; see :func:`sign_test`), ``compare_<genome>.png``
    (R of b on x, R of a on y, coloured by assay), ``summary.json``.

    Raises:
        InputError: a bad or repeated label; a directory that is not an evaluation; a
            malformed ``tracks.tsv``; no (genome, identifier) in both evaluations.
    """
    t0 = time.perf_counter()
    for label in (label_a, label_b):
        if not isinstance(label, str) or not _SAFE_LABEL.match(label):
            raise InputError(f"comparison label {label!r}: use letters, digits and '_' only")
    if label_a == label_b:
        raise InputError(f"comparison labels must differ (both are {label_a!r})")
    eval_a, eval_b, out_dir = Path(eval_a), Path(eval_b), Path(out_dir)
    tracks_a = _read_evaluation(eval_a)
    tracks_b = _read_evaluation(eval_b)
    shared = [k for k in tracks_a if k in tracks_b]
    if not shared:
        raise InputError(
            f"evaluations {eval_a} and {eval_b} share no track: no (genome, identifier) of "
            f"{eval_a / 'tracks.tsv'} is in {eval_b / 'tracks.tsv'}"
        )
    only = len(tracks_a) + len(tracks_b) - 2 * len(shared)
    if only:
        log.warning("compare: %d track(s) are in only one of the evaluations and are left out", only)

    col_a, col_b = f"r_{label_a}", f"r_{label_b}"
    rows = []
    for genome, ident in shared:
        assay, ra = tracks_a[(genome, ident)]
        rb = tracks_b[(genome, ident)][1]
        rows.append({"genome": genome, "identifier": ident, "assay": assay, col_a: ra, col_b: rb, "difference": ra - rb})

    summary_rows = []
    genomes = list(dict.fromkeys(r["genome"] for r in rows))
    for genome in genomes:
        mine = [r for r in rows if r["genome"] == genome]
        for assay in sorted({r["assay"] for r in mine}) + [ALL_ASSAYS]:
            sel = [r for r in mine if assay == ALL_ASSAYS or r["assay"] == assay]
            test = sign_test([r[col_a] for r in sel], [r[col_b] for r in sel])
            summary_rows.append({"genome": genome, "assay": assay, **test})

    tables, figures = [], []
    write_tsv(out_dir / "comparison.tsv", ("genome", "identifier", "assay", col_a, col_b, "difference"), rows)
    tables.append({"file": "comparison.tsv", "title": f"Per-track Pearson R, {label_a} vs {label_b}"})
    write_tsv(out_dir / "comparison_summary.tsv", SUMMARY_COLUMNS, summary_rows)
    tables.append({"file": "comparison_summary.tsv", "title": f"Tracks improved by {label_a} over {label_b}, binomial test"})
    for genome in genomes:
        mine = [r for r in rows if r["genome"] == genome]
        name = f"compare_{genome}.png"
        plots.compare_scatter(out_dir / name, genome, label_a, label_b, [r[col_a] for r in mine],
                              [r[col_b] for r in mine], [r["assay"] for r in mine])
        figures.append({"file": name, "title": f"{genome}: per-track R, {label_a} vs {label_b}"})

    summary = {
        "format": COMPARISON_FORMAT,
        "format_version": COMPARISON_FORMAT_VERSION,
        "label_a": label_a,
        "label_b": label_b,
        "eval_a": str(eval_a),
        "eval_b": str(eval_b),
        "rows": summary_rows,
        "tables": tables,
        "plots": figures,
        "versions": versions(with_keras=False),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    write_json(out_dir / "summary.json", summary)
    return json_safe(summary)
