"""The de novo analysis's files (tab-separated, UTF-8, one header line; atomic, deterministic).

=================================  ==========================================================
file                               contents
=================================  ==========================================================
``tracks.tsv``                     per track: identifier, description, group, n_case,
                                   n_control, U, p, q, effect, direction, significant
``groups.tsv``                     per group: group, n_tracks, n_other, median_p,
                                   median_p_other, U, p_smaller, p_two_sided
``pca.tsv``                        per variant (table row with a score): chrom, pos, ref,
                                   alt, individual, family, role, PC1, PC2
``families.tsv``                   per paired family: family, case, controls, case_sum,
                                   control_sum, case_more_negative, tie, log_ratio
``top_variants.tsv``               chrom, pos, ref, alt, individual, family, score,
                                   ism_region
``exclusions.tsv``                 reason, unit, excluded_from, count, examples
``summary.json``                   format ``crossreg-denovo`` version 1 (see :func:`summary`)
``effect_vs_significance.png``     Figure 5a
``families.png``                   Figure 5c
=================================  ==========================================================

Numbers are written with 10 significant digits (``%.10g``); booleans as ``true``/``false``;
missing values (NaN) as ``NA``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg import __version__
from crossreg.io.atomic import atomic_open
from crossreg.io.denovo import ExclusionReport

DENOVO_FORMAT = "crossreg-denovo"
DENOVO_FORMAT_VERSION = 1
_FLOAT = "%.10g"


def _write_tsv(frame: pd.DataFrame, path: Path) -> Path:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == bool:
            frame[col] = np.where(frame[col], "true", "false")
    with atomic_open(path, "w", newline="") as out:
        frame.to_csv(out, sep="\t", index=False, float_format=_FLOAT, na_rep="NA", lineterminator="\n")
    return path


def write_exclusions(report: ExclusionReport, path: str | os.PathLike) -> Path:
    """``exclusions.tsv``: reason, unit (records/families), excluded_from (all_tests/paired_test), count, examples."""
    rows = report.rows()
    frame = pd.DataFrame(rows, columns=["reason", "unit", "excluded_from", "count", "examples"])
    return _write_tsv(frame, Path(path))


def tracks_frame(result) -> pd.DataFrame:
    """The ``tracks.tsv`` table, in score-file track order."""
    t = result.tests
    return pd.DataFrame({
        "identifier": result.track_ids, "description": result.track_labels, "group": result.groups.groups,
        "n_case": result.table.n_case, "n_control": result.table.n_control,
        "U": t.U, "p": t.p, "q": result.q, "effect": t.effect, "direction": result.direction,
        "significant": result.significant.astype(bool),
    })


def groups_frame(result) -> pd.DataFrame:
    cols = ["group", "n_tracks", "n_other", "median_p", "median_p_other", "U", "p_smaller", "p_two_sided"]
    return pd.DataFrame([[getattr(g, c) for c in cols] for g in result.group_tests], columns=cols)


def pca_frame(result) -> pd.DataFrame:
    tb = result.table
    frame = pd.DataFrame({"chrom": tb.chrom, "pos": tb.pos, "ref": tb.ref, "alt": tb.alt, "individual": tb.individual,
                          "family": tb.family, "role": np.where(tb.is_case, "case", "control")})
    for j in range(result.pca.scores.shape[1]):
        frame[f"PC{j + 1}"] = result.pca.scores[:, j]
    return frame


def families_frame(result) -> pd.DataFrame:
    f = result.families
    return pd.DataFrame({"family": f.family, "case": f.case_id, "controls": f.control_ids, "case_sum": f.case_sum,
                         "control_sum": f.control_sum, "case_more_negative": f.case_more_negative.astype(bool),
                         "tie": f.tie.astype(bool), "log_ratio": f.log_ratio})


def _clean(value):
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def summary(result) -> dict:
    """The ``summary.json`` object.

    Keys: ``format``, ``format_version``, ``crossreg_version``, ``inputs``, ``settings``;
    ``counts`` (variants = scored SNP rows, case/control variants, individuals, case/control
    individuals, paired families, tracks, tracks tested, excluded records); ``tracks``
    (``significant_case_lower``, ``significant_case_higher``, ``significant``,
    ``min_p``, ``mwu_method``); ``pca`` (method, scale, ``variance_explained`` [PC1, PC2],
    ``pc1_mwu`` {U, p}); ``groups`` (source, tracks defaulted to other, unknown identifiers,
    ``tests`` as in groups.tsv); ``chosen_track`` (index, identifier, description,
    ``chosen_by``); ``families`` (paired, compared, case_more_negative, ties,
    ``fraction_case_more_negative``, ``binomial_p``, ``eps``); ``exclusions`` (reason ->
    count).
    """
    tb, t, fam = result.table, result.tests, result.families
    sig = result.significant
    members_case = int(np.count_nonzero(tb.member_is_case))
    finite_p = t.p[np.isfinite(t.p)]
    out = {
        "format": DENOVO_FORMAT,
        "format_version": DENOVO_FORMAT_VERSION,
        "crossreg_version": __version__,
        "inputs": result.inputs,
        "settings": result.settings,
        "counts": {
            "variants": len(tb), "case_variants": tb.n_case, "control_variants": tb.n_control,
            "individuals": len(tb.member_ids), "case_individuals": members_case,
            "control_individuals": len(tb.member_ids) - members_case,
            "families": len(set(tb.member_family.tolist())), "paired_families": len(tb.paired_families),
            "tracks": len(result.track_ids), "tracks_tested": int(len(finite_p)),
            "excluded_records": result.exclusions.n_records,
        },
        "tracks": {
            "significant_case_lower": int(np.sum(sig & (result.direction == "case_lower"))),
            "significant_case_higher": int(np.sum(sig & (result.direction == "case_higher"))),
            "significant": int(sig.sum()),
            "fdr": result.settings.get("fdr"),
            "min_p": float(finite_p.min()) if len(finite_p) else None,
            "mwu_method": t.method,
        },
        "pca": {
            "method": result.pca.method, "scale": result.pca.scale,
            "variance_explained": result.pca.explained.tolist(),
            "pc1_mwu": {"U": result.pc1_test[0], "p": result.pc1_test[1]},
        },
        "groups": {
            "source": result.groups.source, "tracks_defaulted_to_other": result.groups.n_defaulted,
            "unknown_identifiers": result.groups.n_unknown,
            "tests": groups_frame(result).to_dict(orient="records"),
        },
        "chosen_track": {
            "index": result.chosen, "identifier": result.track_ids[result.chosen],
            "description": result.track_labels[result.chosen], "chosen_by": result.chosen_by,
        },
        "families": {
            "paired": len(fam.family), "compared": fam.test.n_families,
            "case_more_negative": fam.test.n_case_lower, "ties": fam.test.n_ties,
            "fraction_case_more_negative": fam.test.fraction, "binomial_p": fam.test.p, "eps": fam.eps,
        },
        "exclusions": dict(result.exclusions.counts),
    }
    return _clean(out)


def write_outputs(result, out_dir: str | os.PathLike, *, plots: bool = True) -> dict[str, Path]:
    """Write every file of the analysis into ``out_dir`` (created); returns name -> path."""
    from crossreg.denovo import plots as figures

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "tracks": _write_tsv(tracks_frame(result), out_dir / "tracks.tsv"),
        "groups": _write_tsv(groups_frame(result), out_dir / "groups.tsv"),
        "pca": _write_tsv(pca_frame(result), out_dir / "pca.tsv"),
        "families": _write_tsv(families_frame(result), out_dir / "families.tsv"),
        "top_variants": _write_tsv(result.top_variants, out_dir / "top_variants.tsv"),
        "exclusions": write_exclusions(result.exclusions, out_dir / "exclusions.tsv"),
    }
    if plots:
        fdr = float(result.settings.get("fdr", 0.1))
        paths["effect_vs_significance"] = figures.effect_vs_significance(
            out_dir / "effect_vs_significance.png", result.tests.effect, result.tests.p, result.q,
            result.groups.groups, fdr)
        chosen = result.track_ids[result.chosen]
        paths["families_plot"] = figures.family_ratios(
            out_dir / "families.png", result.families.log_ratio,
            title=(f"{chosen}: case more negative in {result.families.test.n_case_lower} of "
                   f"{result.families.test.n_families} families (p = {result.families.test.p:.2g})"))
    with atomic_open(out_dir / "summary.json", "w") as out:
        json.dump(summary(result), out, indent=2, allow_nan=False)
        out.write("\n")
    paths["summary"] = out_dir / "summary.json"
    return paths
