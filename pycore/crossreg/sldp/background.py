"""Background annotations for SLDP: signed MAF bins and gene-structure annotations.

SLDP (Reshef et al. 2018) tests a signed annotation conditional on a *signed background*;
Kelley 2020 conditioned on MAF bins and on coding, 5'UTR, 3'UTR (each extended by 500 bp)
and intron annotations. Every background annotation here is signed by the minor allele:

    value = +1  where the annotation applies and A1 (the bim's allele 5) is the minor allele,
            -1  where it applies and A1 is the major allele,
             0  elsewhere.

Sign convention, checked against sldp 1.1.5 / gprim 0.23: those packages ship no code that
builds a background; they read ready-made ``.sannot.gz`` files whose values are signed w.r.t.
the file's A1 and reconcile them to the panel with ``reconciled_to`` (a swapped SNP gets the
opposite sign). The published background ("minor allele" annotations in MAF bins and in
functional categories) puts +1 on the minor allele; expressed w.r.t. the panel's A1 that is
exactly the rule above, and since every value is already w.r.t. the panel's own A1 no
reconciliation is needed. (The published files themselves could not be inspected offline.)

MAF comes from the panel genotypes: with ``c1``/``c2`` the copies of A1/A2 among the
non-missing people, ``MAF = min(c1, c2) / (c1 + c2)`` (computed from the integer counts, so
a MAF that equals a bin edge, e.g. 1/20 = 0.05, is not pushed over it by rounding).
Bins are ``(lo, hi]`` over consecutive ``maf_edges``, named
``maf_<100 lo>_<100 hi>`` (``maf_0_5 maf_5_10 maf_10_20 maf_20_30 maf_30_40 maf_40_50``
for the default edges; a non-integer percentage is written with ``p``, e.g. ``maf_0p5_1``).
Edge cases:

* MAF = 0 (monomorphic in the panel) or all genotypes missing: no minor allele, so the SNP
  is 0 in every column (MAF 0 lies in no ``(lo, hi]`` bin).
* MAF = 0.5 exactly (as many copies of A1 as of A2): the SNP falls in the last bin but neither allele is minor,
  so its sign is undefined and it is 0 in every column (counted in the log).

Gene regions (:func:`gene_regions`), from a GTF read by :func:`crossreg.io.gtf.read_gtf`:

* ``coding``: ``CDS`` features (stop codons are not CDS in GENCODE/Ensembl GTFs but lie
  within the extension).
* ``utr5``/``utr3``: Ensembl ``five_prime_utr``/``three_prime_utr`` (or UCSC
  ``5UTR``/``3UTR``) as given; GENCODE ``UTR`` features are classified per transcript by
  position relative to the transcript's CDS and strand (on ``+``, a UTR ending at or
  before the first CDS base is 5', one starting at or after the last CDS base is 3'; the
  reverse on ``-``).
* ``coding``, ``utr5``, ``utr3`` are each extended by ``extension_bp`` on both sides
  (clipped at 0).
* ``intron``: per transcript, its span (the ``transcript`` line, else its exons' extent)
  minus its exons; not extended. Transcripts without exons give no introns.
* A transcript with exons but no CDS is non-coding: its exons count for none of coding,
  5'UTR or 3'UTR (its introns do count as intron).

Annotations overlap (as in the LDSC baseline model): a SNP can be both intron and UTR.
A SNP at 1-based ``bp`` is inside a 0-based half-open interval ``[s, e)`` when
``s <= bp - 1 < e``. Chromosome names of the GTF and the bim are compared without a
leading ``chr``.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.bed import IntervalSet, merge_intervals
from crossreg.io.gtf import read_gtf
from crossreg.io.plink import PlinkPanel

log = logging.getLogger(__name__)

DEFAULT_MAF_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
REGION_NAMES = ("coding", "utr5", "utr3", "intron")
_UTR5 = ("five_prime_utr", "5UTR")
_UTR3 = ("three_prime_utr", "3UTR")


def _strip_chr(name: str) -> str:
    return name[3:] if name.lower().startswith("chr") else name


def a1_counts(panel: PlinkPanel, *, chunk_snps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Copies of allele A1 and number of called (non-missing) people per SNP.

    Args:
        panel: the PLINK panel.
        chunk_snps: SNPs decoded at a time (default: about 128 MB of float64 genotypes).

    Returns:
        (a1_copies, called): int64 [n_snps] each.
    """
    n, m = panel.n_people, panel.n_snps
    copies = np.zeros(m, dtype=np.int64)
    called = np.zeros(m, dtype=np.int64)
    if n == 0 or m == 0:
        return copies, called
    step = chunk_snps or max(1, (1 << 24) // n)
    for lo in range(0, m, step):
        idx = np.arange(lo, min(m, lo + step), dtype=np.int64)
        g = panel.genotypes(idx)
        called[idx] = np.sum(~np.isnan(g), axis=0)
        copies[idx] = np.rint(np.nansum(g, axis=0)).astype(np.int64)
    return copies, called


def a1_frequency(panel: PlinkPanel, *, chunk_snps: int | None = None) -> np.ndarray:
    """Frequency of allele A1 per SNP over the non-missing genotypes.

    Returns:
        float64 [n_snps]: ``copies of A1 / (2 * called people)``; NaN where every genotype
        is missing.
    """
    copies, called = a1_counts(panel, chunk_snps=chunk_snps)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(called > 0, copies / (2.0 * called), np.nan)


def _percent(x: float) -> str:
    p = round(100.0 * x, 6)
    return str(int(p)) if float(p).is_integer() else f"{p:g}".replace(".", "p")


def maf_bin_names(maf_edges: Sequence[float] = DEFAULT_MAF_EDGES) -> list[str]:
    """Column names of the MAF bins, e.g. ``maf_0_5`` for ``(0, 0.05]``."""
    edges = [float(e) for e in maf_edges]
    return [f"maf_{_percent(lo)}_{_percent(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]


def _check_edges(maf_edges: Sequence[float]) -> np.ndarray:
    edges = np.asarray([float(e) for e in maf_edges], dtype=np.float64)
    if len(edges) < 2 or edges[0] < 0 or edges[-1] > 0.5 or np.any(np.diff(edges) <= 0):
        raise InputError(
            f"MAF bin edges must be at least two increasing numbers within [0, 0.5], got {list(maf_edges)}"
        )
    return edges


def _extend(frame: pd.DataFrame, extension_bp: int) -> IntervalSet:
    out: IntervalSet = {}
    for chrom, part in frame.groupby("chrom", sort=True):
        iv = np.stack(
            [
                np.maximum(part["start"].to_numpy(np.int64) - extension_bp, 0),
                part["end"].to_numpy(np.int64) + extension_bp,
            ],
            axis=1,
        )
        out[str(chrom)] = merge_intervals(iv)
    return out


def _classify_utr(gtf: pd.DataFrame, path_label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split GENCODE-style ``UTR`` rows into 5' and 3' by the transcript's CDS and strand."""
    utr = gtf[gtf["feature"] == "UTR"]
    if utr.empty:
        return utr, utr
    cds = gtf[gtf["feature"] == "CDS"]
    extent = cds.groupby(["chrom", "transcript_id"], sort=False).agg(cds_start=("start", "min"), cds_end=("end", "max"))
    utr = utr.join(extent, on=["chrom", "transcript_id"])
    no_cds = utr["cds_start"].isna().to_numpy()
    if no_cds.any():
        row = utr.iloc[int(np.flatnonzero(no_cds)[0])]
        raise InputError(
            f"{path_label}:{row['line']}: UTR of transcript {row['transcript_id']!r} whose transcript has no CDS line "
            f"in the file, so 5' and 3' cannot be told apart"
        )
    plus = (utr["strand"] == "+").to_numpy()
    minus = (utr["strand"] == "-").to_numpy()
    if not (plus | minus).all():
        row = utr.iloc[int(np.flatnonzero(~(plus | minus))[0])]
        raise InputError(f"{path_label}:{row['line']}: UTR line with strand {row['strand']!r}; expected '+' or '-'")
    before = (utr["end"] <= utr["cds_start"]).to_numpy()
    after = (utr["start"] >= utr["cds_end"]).to_numpy()
    five = (plus & before) | (minus & after)
    three = (plus & after) | (minus & before)
    inside = ~(five | three)
    if inside.any():
        row = utr.iloc[int(np.flatnonzero(inside)[0])]
        raise InputError(
            f"{path_label}:{row['line']}: UTR {row['chrom']}:{row['start'] + 1}-{row['end']} of transcript "
            f"{row['transcript_id']!r} overlaps the span of its CDS ({int(row['cds_start']) + 1}-{int(row['cds_end'])})"
        )
    return utr[five], utr[three]


def _introns(gtf: pd.DataFrame) -> IntervalSet:
    exons = gtf[gtf["feature"] == "exon"][["chrom", "transcript_id", "start", "end"]]
    if exons.empty:
        return {}
    key = ["chrom", "transcript_id"]
    spans = gtf[gtf["feature"] == "transcript"].groupby(key, sort=False).agg(t_start=("start", "min"), t_end=("end", "max"))
    exon_extent = exons.groupby(key, sort=False).agg(e_start=("start", "min"), e_end=("end", "max"))
    spans = exon_extent.join(spans, how="left")
    spans["t_start"] = spans["t_start"].fillna(spans["e_start"]).astype(np.int64)
    spans["t_end"] = spans["t_end"].fillna(spans["e_end"]).astype(np.int64)
    exons = exons.sort_values(key + ["start", "end"], kind="stable").reset_index(drop=True)
    run_end = exons.groupby(key, sort=False)["end"].cummax().to_numpy(np.int64)
    first = (~exons.duplicated(key, keep="first")).to_numpy()
    prev_end = np.empty(len(exons), dtype=np.int64)
    prev_end[1:] = run_end[:-1]
    prev_end[0] = 0
    starts = exons["start"].to_numpy(np.int64)
    gap = ~first & (starts > prev_end)
    pieces = [
        pd.DataFrame({"chrom": exons["chrom"][gap].to_numpy(), "start": prev_end[gap], "end": starts[gap]}),
    ]
    spans = spans.reset_index()
    lead = spans["t_start"] < spans["e_start"]
    trail = spans["t_end"] > spans["e_end"]
    pieces.append(pd.DataFrame({"chrom": spans["chrom"][lead], "start": spans["t_start"][lead], "end": spans["e_start"][lead]}))
    pieces.append(pd.DataFrame({"chrom": spans["chrom"][trail], "start": spans["e_end"][trail], "end": spans["t_end"][trail]}))
    return _extend(pd.concat(pieces, ignore_index=True), 0)


def gene_regions(gtf: str | os.PathLike | pd.DataFrame, *, extension_bp: int = 500) -> dict[str, IntervalSet]:
    """Coding, 5'UTR, 3'UTR and intron regions of a GTF (see module docstring).

    Args:
        gtf: a GTF path, or the frame :func:`crossreg.io.gtf.read_gtf` returns.
        extension_bp: bp added on both sides of coding and UTR intervals.

    Returns:
        ``{"coding", "utr5", "utr3", "intron"}`` -> IntervalSet (GTF chromosome name ->
        int64 [n, 2] sorted, merged, 0-based half-open).

    Raises:
        InputError: from :func:`read_gtf`; a ``UTR`` whose transcript has no CDS or that
            overlaps the span of its CDS; a UTR on strand ``.``.
    """
    if extension_bp < 0:
        raise InputError(f"extension_bp must be >= 0, got {extension_bp}")
    if isinstance(gtf, pd.DataFrame):
        frame, label = gtf, "GTF"
    else:
        frame, label = read_gtf(gtf), os.fspath(gtf)
    utr5_gencode, utr3_gencode = _classify_utr(frame, label)
    utr5 = pd.concat([frame[frame["feature"].isin(_UTR5)], utr5_gencode], ignore_index=True)
    utr3 = pd.concat([frame[frame["feature"].isin(_UTR3)], utr3_gencode], ignore_index=True)
    return {
        "coding": _extend(frame[frame["feature"] == "CDS"], extension_bp),
        "utr5": _extend(utr5, extension_bp),
        "utr3": _extend(utr3, extension_bp),
        "intron": _introns(frame),
    }


def in_regions(regions: IntervalSet, chrom: str, bp: np.ndarray) -> np.ndarray:
    """Whether 1-based positions ``bp`` on ``chrom`` fall in ``regions`` (names compared without ``chr``).

    Args:
        regions: chrom -> int64 [n, 2] sorted, merged, 0-based half-open.
        chrom: chromosome of the positions.
        bp: int [m] 1-based positions.

    Returns:
        bool [m].
    """
    bp = np.asarray(bp, dtype=np.int64)
    wanted = _strip_chr(str(chrom))
    parts = [iv for name, iv in regions.items() if _strip_chr(name) == wanted and len(iv)]
    if not parts:
        return np.zeros(len(bp), dtype=bool)
    iv = merge_intervals(np.concatenate(parts)) if len(parts) > 1 else parts[0]
    pos = bp - 1
    k = np.searchsorted(iv[:, 0], pos, side="right") - 1
    return (k >= 0) & (pos < iv[np.maximum(k, 0), 1])


def background_annotations(
    panel: PlinkPanel,
    gtf: str | os.PathLike | None,
    *,
    maf_edges: Sequence[float] = DEFAULT_MAF_EDGES,
    extension_bp: int = 500,
) -> pd.DataFrame:
    """Signed background annotations for every SNP of one panel (see module docstring).

    Args:
        panel: one chromosome's PLINK panel (MAF from its genotypes).
        gtf: GTF for the gene-structure annotations, or ``None`` for MAF bins only.
        maf_edges: increasing MAF bin edges within [0, 0.5]; bins are ``(lo, hi]``.
        extension_bp: bp added on both sides of coding and UTR intervals.

    Returns:
        DataFrame, one row per bim SNP in bim order: ``snp a1 a2`` (from the bim), then one
        float64 column per MAF bin (:func:`maf_bin_names`) and, with a GTF, ``coding utr5
        utr3 intron``; values +1 (A1 minor), -1 (A1 major) or 0.

    Raises:
        InputError: bad ``maf_edges``; anything :func:`gene_regions` raises.
    """
    edges = _check_edges(maf_edges)
    bim = panel.bim
    copies, called = a1_counts(panel)
    other = 2 * called - copies  # copies of A2
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = np.where(called > 0, copies / (2.0 * called), np.nan)
        maf = np.where(called > 0, np.minimum(copies, other) / (2.0 * called), np.nan)  # exact at bin edges
    sign = np.where(copies < other, 1.0, np.where(copies > other, -1.0, 0.0))
    sign[~np.isfinite(maf) | (maf <= 0)] = 0.0
    out = pd.DataFrame({"snp": bim["snp"].to_numpy(), "a1": bim["a1"].to_numpy(), "a2": bim["a2"].to_numpy()})
    for name, lo, hi in zip(maf_bin_names(edges), edges[:-1], edges[1:]):
        in_bin = np.isfinite(maf) & (maf > lo) & (maf <= hi)
        out[name] = np.where(in_bin, sign, 0.0)
    n_missing = int((~np.isfinite(freq)).sum())
    n_mono = int((np.isfinite(freq) & (maf <= 0)).sum())
    n_half = int(((copies == other) & (called > 0)).sum())
    log.info(
        "%s: %d SNPs; %d monomorphic, %d without genotypes, %d at MAF 0.5 (all set to 0); %d with A1 minor",
        panel.stem, panel.n_snps, n_mono, n_missing, n_half, int((sign > 0).sum()),
    )
    if gtf is not None:
        regions = gene_regions(gtf, extension_bp=extension_bp)
        chroms = bim["chrom"].to_numpy(dtype=object)
        bp = bim["bp"].to_numpy(np.int64)
        for name in REGION_NAMES:
            hit = np.zeros(len(bim), dtype=bool)
            for chrom in pd.unique(chroms):
                rows = np.flatnonzero(chroms == chrom)
                hit[rows] = in_regions(regions[name], str(chrom), bp[rows])
            out[name] = np.where(hit, sign, 0.0)
            log.info("%s: %d SNPs in %s", panel.stem, int(hit.sum()), name)
    return out
