"""Phenotype side of SLDP (sldp 1.1.5 ``preprocesspheno``): ahat, heritability, GLS weights.

* **Heritability** (:func:`estimate_h2g`), LD-score regression through the origin with
  intercept 1, over the summary-statistics SNPs that are print SNPs, on *every* chromosome
  of the table (not only the analysed ones) and *before* allele reconciliation, as the
  reference: ``sigma2g = (mean(Z^2) - 1) / mean(N * L2)``, where ``mean(Z^2)`` runs over all
  those SNPs and ``mean(N * L2)`` over those with an LD score; ``h2g = max(sigma2g *
  M_5_50, 0.03)``. Only ``h2g`` is clamped; the unclamped ``sigma2g`` enters the weights.
* **ahat** (:func:`align_sumstats`): Z reconciled to the panel's alleles (NaN where missing,
  ambiguous or mismatched; sign flipped when swapped) at the print SNPs; ``ahat = Z /
  sqrt(N)``. A print SNP with a reconciled Z is *typed*.
* **GLS weights** (:func:`gls_weights`, :func:`apply_winv`): per block, with ``U_t`` the rows
  of the truncated eigenbasis at the typed SNPs (not re-orthogonalised) and ``N_b`` the mean
  N of the block's typed SNPs, ``W^{-1} x = U_t diag(1 / (sigma2g lam^2 + lam / N_b)) U_t' x``
  (the reference's default ``Winv_ahat_h``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.sumstats import ReconcileReport, reconcile

log = logging.getLogger(__name__)

MIN_H2G = 0.03


@dataclass
class Heritability:
    """Result of :func:`estimate_h2g`.

    Attributes:
        h2g: ``max(h2g_raw, min_h2g)`` (used in ``rf`` and ``h2v``).
        h2g_raw: ``sigma2g * m_5_50``.
        sigma2g: per-normalised-SNP heritability, not clamped (used in the weights).
        mean_chi2: mean Z^2 over the SNPs used; mean_nl2: mean N * L2 over those with L2.
        m_5_50: number of common SNPs from the LD-score source.
        n_bar: mean N over the SNPs used.
        n_snps: summary-statistics SNPs that are print SNPs; n_ldscore: of them with an LD score.
    """

    h2g: float
    h2g_raw: float
    sigma2g: float
    mean_chi2: float
    mean_nl2: float
    m_5_50: int
    n_bar: float
    n_snps: int
    n_ldscore: int


def estimate_h2g(sumstats: pd.DataFrame, print_snps, ldscores, *, min_h2g: float = MIN_H2G) -> Heritability:
    """Aggregate LD-score heritability estimate, as the reference (see module docstring).

    Args:
        sumstats: ``snp a1 a2 z n`` (:func:`crossreg.io.sumstats.read_sumstats`).
        print_snps: str [n] print-SNP ids (the panel cache's).
        ldscores: :class:`crossreg.sldp.ldscores.LDScores`.
        min_h2g: floor of ``h2g``.

    Raises:
        InputError: no summary-statistics SNP is a print SNP, or none has an LD score.
    """
    snp = sumstats["snp"].astype(str)
    ss = sumstats[snp.isin(np.asarray(print_snps, dtype=str)).to_numpy()]
    if ss.empty:
        raise InputError(f"summary statistics: none of the {len(sumstats)} SNPs is a print (regression) SNP of the panel")
    ld_snp = ldscores.table["snp"].astype(str)
    if ld_snp.duplicated().any():
        raise InputError(f"LD scores {ldscores.source}: SNP id {ld_snp[ld_snp.duplicated()].iloc[0]!r} appears more than once")
    l2 = ss["snp"].astype(str).map(pd.Series(ldscores.table["l2"].to_numpy(), index=ld_snp))
    have = l2.notna().to_numpy()
    if not have.any():
        raise InputError(f"summary statistics: none of the {len(ss)} SNPs at print SNPs has an LD score ({ldscores.source})")
    z = ss["z"].to_numpy(np.float64)
    n = ss["n"].to_numpy(np.float64)
    mean_chi2 = float(np.mean(z**2))
    mean_nl2 = float(np.mean(n[have] * l2.to_numpy(np.float64)[have]))
    sigma2g = (mean_chi2 - 1.0) / mean_nl2
    h2g_raw = sigma2g * ldscores.m_5_50
    h2 = Heritability(
        h2g=max(h2g_raw, min_h2g),
        h2g_raw=h2g_raw,
        sigma2g=sigma2g,
        mean_chi2=mean_chi2,
        mean_nl2=mean_nl2,
        m_5_50=int(ldscores.m_5_50),
        n_bar=float(np.mean(n)),
        n_snps=len(ss),
        n_ldscore=int(have.sum()),
    )
    log.info(
        "h2g %.4g (unclamped %.4g), sigma2g %.4g, mean chi2 %.4g over %d SNPs (%d with LD scores)",
        h2.h2g, h2.h2g_raw, h2.sigma2g, h2.mean_chi2, h2.n_snps, h2.n_ldscore,
    )
    return h2


@dataclass
class AlignedSumstats:
    """Summary statistics on the panel's rows, per chromosome.

    Attributes:
        z: chrom -> float64 [M_chrom] Z signed w.r.t. the bim's A1, NaN where untyped
            (not a print SNP, not in the table, ambiguous or mismatched alleles).
        n: chrom -> float64 [M_chrom] sample size (NaN where not in the table).
        report: the allele reconciliation, all chromosomes together.
    """

    z: dict[str, np.ndarray]
    n: dict[str, np.ndarray]
    report: ReconcileReport


def align_sumstats(cache, sumstats: pd.DataFrame, chroms, *, what: str = "summary statistics") -> AlignedSumstats:
    """Reconcile summary statistics to the panel at the print SNPs of ``chroms``.

    Args:
        cache: :class:`crossreg.sldp.panel.PanelCache`.
        sumstats: ``snp a1 a2 z n``.
        chroms: cache chromosome names.
        what: name for the report.

    Raises:
        InputError: no print SNP of ``chroms`` is typed.
    """
    from crossreg.sldp.profile import merge_reports

    print_set = np.asarray(cache.print_snps, dtype=str)
    ss = sumstats[sumstats["snp"].astype(str).isin(print_set).to_numpy()]
    zs, ns, reports = {}, {}, []
    for chrom in chroms:
        bim = cache.chrom(chrom).bim
        here = ss[ss["snp"].astype(str).isin(bim["snp"]).to_numpy()]
        z, report = reconcile(bim[["snp", "a1", "a2"]], here[["snp", "a1", "a2"]], here["z"].to_numpy(np.float64),
                              what=f"{what} on panel chromosome {chrom}")
        n = bim["snp"].map(pd.Series(here["n"].to_numpy(np.float64), index=here["snp"].astype(str))).to_numpy(np.float64)
        zs[chrom], ns[chrom] = z, n
        reports.append(report)
    merged = merge_reports(reports, what)
    log.info("%s", merged.text())
    if not any(np.isfinite(z).any() for z in zs.values()):
        raise InputError(f"{what}: no print SNP of chromosome(s) {', '.join(chroms)} has usable summary statistics ({merged.text()})")
    return AlignedSumstats(zs, ns, merged)


def gls_weights(lam: np.ndarray, sigma2g: float, n_b: float) -> np.ndarray:
    """Inverse variances of ahat along the eigenvectors: float64 [k] ``1 / (sigma2g lam^2 + lam / n_b)``."""
    return 1.0 / (sigma2g * lam**2 + lam / n_b)


def apply_winv(U_t: np.ndarray, lam: np.ndarray, sigma2g: float, n_b: float, x: np.ndarray) -> np.ndarray:
    """``W^{-1} x`` on a block's typed SNPs.

    Args:
        U_t: float64 [n_t, k] rows of U at the typed SNPs.
        lam: float64 [k]; sigma2g: float; n_b: mean N of the typed SNPs.
        x: float64 [n_t] or [n_t, K].

    Returns:
        float64 like ``x``: ``U_t diag(w) U_t' x``.
    """
    w = gls_weights(lam, sigma2g, n_b)
    proj = U_t.T @ x
    return U_t @ (w[:, None] * proj if proj.ndim == 2 else w * proj)
