"""The de novo analysis: cases vs sibling controls on every track (paper Figure 5).

``run_denovo`` takes the valid SNPs, their scores and the track groups and returns a
:class:`DenovoResult`; :func:`crossreg.denovo.output.write_outputs` writes it. The two
file-level steps the CLI calls are :func:`denovo_sites` (``crossreg denovo-vcf``: table ->
sites VCF for ``crossreg score-variants``) and :func:`denovo_analysis` (``crossreg denovo``:
table + score file -> tables, summary and plots).

Rows: a "variant" is one table row (one de novo SNP of one individual); a site carried by
two individuals counts twice, once in each individual's group.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crossreg.denovo.families import FamilyComparison, compare_families
from crossreg.denovo.groups import TrackGroups, assign_groups
from crossreg.denovo.pca import PcaResult, pca
from crossreg.denovo.stats import ColumnTests, GroupTest, bh_qvalues, case_control_columns, direction, group_tests
from crossreg.errors import InputError
from crossreg.io.denovo import DenovoTable, ExclusionReport
from crossreg.io.track_select import resolve_tracks

log = logging.getLogger(__name__)

DEFAULT_FDR = 0.1
DEFAULT_TOP_N = 20
DEFAULT_ISM_WIDTH = 200


@dataclass
class DenovoResult:
    """Everything the outputs are made of.

    Attributes:
        table: the analysed SNPs (rows with a score).
        track_ids, track_labels: per track.
        groups: :class:`~crossreg.denovo.groups.TrackGroups`.
        tests: per-track :class:`~crossreg.denovo.stats.ColumnTests`.
        q: float64 [tracks] BH q-values.
        direction: object [tracks] ``case_lower`` / ``case_higher`` / ``none``.
        significant: bool [tracks] q <= fdr.
        pca: :class:`~crossreg.denovo.pca.PcaResult`.
        pc1_test: scipy MWU result (U of cases, two-sided p) on PC1 scores.
        group_tests: list of :class:`~crossreg.denovo.stats.GroupTest`.
        chosen: index of the chosen track; chosen_by: ``smallest p`` or ``given``.
        families: :class:`~crossreg.denovo.families.FamilyComparison`.
        top_variants: DataFrame (see :func:`top_case_variants`).
        exclusions: the table's report plus ``missing_score``.
        settings: the options used; inputs: file names (for the summary).
    """

    table: DenovoTable
    track_ids: list[str]
    track_labels: list[str]
    groups: TrackGroups
    tests: ColumnTests
    q: np.ndarray
    direction: np.ndarray
    significant: np.ndarray
    pca: PcaResult
    pc1_test: tuple[float, float]
    group_tests: list[GroupTest]
    chosen: int
    chosen_by: str
    families: FamilyComparison
    top_variants: pd.DataFrame
    exclusions: ExclusionReport
    settings: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)


def ism_region(chrom: str, pos: int, width: int, chrom_size: int | None = None) -> str:
    """``chrom:start-end`` (1-based, inclusive; ``crossreg ism --region``) of ``width`` bp centred on ``pos``.

    The window starts ``width // 2`` bases before the variant; it is shifted (not shrunk) to
    stay within 1..``chrom_size`` when the chromosome is shorter than that allows.
    """
    start = pos - width // 2
    if chrom_size is not None:
        start = min(start, chrom_size - width + 1)
    start = max(1, start)
    end = start + width - 1
    if chrom_size is not None:
        end = min(end, chrom_size)
    return f"{chrom}:{start}-{end}"


def top_case_variants(table: DenovoTable, track_scores: np.ndarray, top_n: int, width: int) -> pd.DataFrame:
    """The ``top_n`` case variants with the most negative scores on one track.

    Returns:
        DataFrame with columns chrom, pos, ref, alt, individual, family, score (float64, score
        units), ism_region; only negative scores, most negative first (ties by chrom, pos,
        ref, alt, individual).
    """
    s = np.asarray(track_scores, dtype=np.float64)
    sel = np.flatnonzero(table.is_case & (s < 0))
    frame = pd.DataFrame({
        "chrom": table.chrom[sel], "pos": table.pos[sel], "ref": table.ref[sel], "alt": table.alt[sel],
        "individual": table.individual[sel], "family": table.family[sel], "score": s[sel],
    })
    frame = frame.sort_values(["score", "chrom", "pos", "ref", "alt", "individual"], kind="mergesort").head(top_n)
    sizes = table.chrom_sizes or {}
    frame["ism_region"] = [ism_region(c, int(p), width, sizes.get(c)) for c, p in zip(frame["chrom"], frame["pos"])]
    return frame.reset_index(drop=True)


def _drop_missing(table: DenovoTable, scores: np.ndarray, exclusions: ExclusionReport
                  ) -> tuple[DenovoTable, np.ndarray]:
    """Remove rows with no score (all NaN), counting them as ``missing_score``."""
    finite = np.isfinite(scores)
    missing = ~finite.any(axis=1)
    partial = ~finite.all(axis=1) & ~missing
    if partial.any():
        i = int(np.flatnonzero(partial)[0])
        raise ValueError(f"scores: row {i} ({table.describe(i)}) has some non-finite values")
    if not missing.any():
        return table, scores
    for i in np.flatnonzero(missing):
        exclusions.add("missing_score", table.describe(int(i)))
    keep = ~missing
    return table.subset(keep), scores[keep]


def run_denovo(table: DenovoTable, scores: np.ndarray, track_ids: Sequence[str], track_labels: Sequence[str],
               groups: TrackGroups | Sequence[str] | None = None, *, fdr: float = DEFAULT_FDR,
               chosen_track: str | int | None = None, top_n: int = DEFAULT_TOP_N, ism_width: int = DEFAULT_ISM_WIDTH,
               pca_scale: bool = False, eps: float | None = None, method: str = "auto",
               exclusions: ExclusionReport | None = None, threads: int | None = None, seed: int = 0) -> DenovoResult:
    """Cases vs controls on every track, PCA, group tests and the paired family test.

    Args:
        table: valid SNPs (:func:`crossreg.io.denovo.read_denovo_table`).
        scores: float32/float64 [rows, tracks] aligned with ``table`` (score units, e.g. SAD);
            a row that is all NaN has no score (excluded as ``missing_score``).
        track_ids, track_labels: per column of ``scores``.
        groups: :class:`TrackGroups`, a group name per track, or None (default keyword rules).
        fdr: BH level for ``significant``.
        chosen_track: identifier or index of the track of the family test and the top
            variants (default: the track with the smallest p; the first on ties).
        top_n: case variants in ``top_variants``.
        ism_width: bp of each top variant's ``ism_region``.
        pca_scale: scale tracks to unit variance before PCA (default: centre only).
        eps: the family log-ratio constant (default: data-derived, see
            :mod:`crossreg.denovo.families`).
        method: Mann-Whitney method (``auto``, ``asymptotic``, ``exact``).
        exclusions: the table's exclusion report (copied, then ``missing_score`` added).
        threads: worker threads of the per-track tests.
        seed: seed of the randomized PCA (used with more than 2,048 tracks).

    Raises:
        InputError: no case or no control variant with a score, or a bad ``chosen_track``.
    """
    track_ids, track_labels = [str(t) for t in track_ids], [str(t) for t in track_labels]
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape != (len(table), len(track_ids)) or len(track_labels) != len(track_ids):
        raise ValueError(f"scores of shape {scores.shape}, expected ({len(table)}, {len(track_ids)}) "
                         f"with {len(track_labels)} labels")
    if not 0 < fdr < 1:
        raise InputError(f"--fdr must be between 0 and 1, got {fdr}")
    if top_n < 0 or ism_width < 1:
        raise InputError(f"--top-n must be >= 0 and --ism-width >= 1 (got {top_n}, {ism_width})")
    exclusions = exclusions.copy() if exclusions is not None else ExclusionReport()
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    table, scores = _drop_missing(table, scores, exclusions)
    if table.n_case == 0 or table.n_control == 0:
        raise InputError(f"de novo table {table.path}: {table.n_case} case and {table.n_control} control SNPs with "
                         "scores; need at least one of each")
    if groups is None:
        groups = assign_groups(track_ids, track_labels)
    elif not isinstance(groups, TrackGroups):
        groups = TrackGroups([str(g) for g in groups], "given")
    if len(groups.groups) != len(track_ids):
        raise ValueError(f"{len(groups.groups)} track groups for {len(track_ids)} tracks")

    case, control = scores[table.is_case], scores[~table.is_case]
    tests = case_control_columns(case, control, method=method, threads=threads)
    del case, control
    q = bh_qvalues(tests.p)
    dirs = direction(tests.U, table.n_case, table.n_control)
    significant = np.isfinite(q) & (q <= fdr)
    log.info("per-track MWU (%s): %d of %d tracks at FDR %g (%d case lower, %d case higher)", tests.method,
             int(significant.sum()), len(track_ids), fdr, int(np.sum(significant & (dirs == "case_lower"))),
             int(np.sum(significant & (dirs == "case_higher"))))

    components = pca(scores, k=2, scale=pca_scale, seed=seed)
    pc1 = components.scores[:, 0]
    pc1_res = stats.mannwhitneyu(pc1[table.is_case], pc1[~table.is_case], alternative="two-sided")
    g_tests = group_tests(tests.p, groups.groups)

    if chosen_track is None:
        if not np.isfinite(tests.p).any():
            raise InputError("no track has a finite p-value; give the chosen track explicitly")
        chosen, chosen_by = int(np.nanargmin(tests.p)), "smallest p"
    else:
        chosen, chosen_by = resolve_tracks([chosen_track], track_ids, "chosen track")[0], "given"
    fam = compare_families(table, scores[:, chosen], eps=eps)
    top = top_case_variants(table, scores[:, chosen], top_n, ism_width)
    settings = {"fdr": fdr, "chosen_track": chosen_track, "top_n": top_n, "ism_width": ism_width,
                "pca_scale": pca_scale, "eps": eps, "mwu_method": method, "seed": seed}
    return DenovoResult(table, track_ids, track_labels, groups, tests, q, dirs, significant, components,
                        (float(pc1_res.statistic), float(pc1_res.pvalue)), g_tests, chosen, chosen_by, fam, top,
                        exclusions, settings)


# ---------------------------------------------------------------------- the file-level steps
def denovo_sites(table_path: str | os.PathLike, fasta: str | os.PathLike, out_vcf: str | os.PathLike, *,
                 exclusions_out: str | os.PathLike | None = None) -> dict:
    """``crossreg denovo-vcf``: the table's distinct SNP sites as a VCF to score.

    Args:
        table_path: the de novo table.
        fasta: the reference FASTA (REF alleles checked; chromosome order of the VCF).
        out_vcf: output ``.vcf.gz`` (with ``.tbi``).
        exclusions_out: optional ``exclusions.tsv`` of the table.

    Returns:
        dict: rows kept, sites written, case/control SNPs, paired families, exclusion counts.
    """
    from crossreg.denovo.output import write_exclusions
    from crossreg.io.denovo import read_denovo_table, write_sites_vcf

    table, report = read_denovo_table(table_path, fasta=fasta)
    n_sites = write_sites_vcf(table, out_vcf, table.chrom_sizes)
    if exclusions_out is not None:
        write_exclusions(report, exclusions_out)
    return {"snps": len(table), "sites": n_sites, "case_snps": table.n_case, "control_snps": table.n_control,
            "individuals": len(table.member_ids), "paired_families": len(table.paired_families),
            "exclusions": dict(report.counts), "vcf": str(out_vcf)}


def denovo_analysis(table_path: str | os.PathLike, scores_path: str | os.PathLike, out_dir: str | os.PathLike, *,
                    fasta: str | os.PathLike | None = None, tracks: Sequence[str | int] | None = None,
                    group_table: str | os.PathLike | None = None, group_rules: Sequence[str] | None = None,
                    stat: str = "SAD", max_missing_fraction: float | None = None, plots: bool = True,
                    **options) -> DenovoResult:
    """``crossreg denovo``: table + score file -> the tables, summary and plots in ``out_dir``.

    Args:
        table_path: the de novo table.
        scores_path: the ``crossreg score-variants`` HDF5 of the table's sites VCF.
        out_dir: output directory (created).
        fasta: optional FASTA to check REF alleles again (and bound ISM regions).
        tracks: track identifiers/indices to analyse (default all).
        group_table, group_rules: track groups (:func:`crossreg.denovo.groups.assign_groups`).
        stat: score matrix (``SAD``).
        max_missing_fraction: rows allowed without a score (default
            :data:`crossreg.denovo.scores.MAX_MISSING_FRACTION`).
        plots: write the PNG figures.
        **options: passed to :func:`run_denovo` (fdr, chosen_track, top_n, ism_width,
            pca_scale, eps, method, threads, seed).
    """
    from crossreg.denovo.output import write_outputs
    from crossreg.denovo.scores import MAX_MISSING_FRACTION, scores_for_table
    from crossreg.io.denovo import read_denovo_table

    table, report = read_denovo_table(table_path, fasta=fasta)
    scores, ids, labels = scores_for_table(
        table, scores_path, tracks, stat=stat,
        max_missing_fraction=MAX_MISSING_FRACTION if max_missing_fraction is None else max_missing_fraction)
    groups = assign_groups(ids, labels, table=group_table, rules=group_rules)
    result = run_denovo(table, scores, ids, labels, groups, exclusions=report, **options)
    result.inputs = {"table": str(table_path), "scores": str(scores_path), "stat": stat,
                     "fasta": None if fasta is None else str(fasta),
                     "group_table": None if group_table is None else str(group_table),
                     "group_rules": list(group_rules) if group_rules else None}
    write_outputs(result, Path(out_dir), plots=plots)
    return result
