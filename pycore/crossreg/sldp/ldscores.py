"""LD scores for SLDP's heritability estimate: read ldsc files, or compute them from the panel.

SLDP (as sldp 1.1.5 ``preprocesspheno``) needs per-SNP LD scores ``L2`` at the typed SNPs and
the number of common SNPs ``M_5_50`` to estimate ``sigma2g`` and ``h2g``
(:mod:`crossreg.sldp.pheno`).

ldsc format (what the reference reads, one pair of files per chromosome):

* ``{prefix}{chrom}.l2.ldscore.gz``: gzip text, whitespace-separated, header with at least
  ``SNP`` and ``L2`` (ldsc writes ``CHR SNP BP L2``);
* ``{prefix}{chrom}.l2.M_5_50`` (or ``.l2.M``): one line, the number of SNPs with
  MAF >= 5 % (or of all SNPs) in the panel the scores were computed on.

Computed from the panel (:func:`ld_scores`), the ldsc estimator: with ``X`` the standardised
genotypes (missing -> mean, unit variance over all N people; the panel cache's matrix) and
``r_jk = x_j' x_k / N``, ``L2_j = sum_k (r_jk^2 - (1 - r_jk^2) / (N - 2))`` over the panel
SNPs ``k`` (``j`` included) with ``|cM_j - cM_k| <= window_cm`` (ldsc's ``--ld-wind-cm 1``
default). When a chromosome's cM column is all 0 or not sorted, the window is
``|bp_j - bp_k| <= window_bp`` (1 Mb) instead. ``M_5_50`` = panel SNPs with MAF >= 0.05.
A monomorphic SNP has ``X`` all 0, hence ``L2 = -1/(N-2)`` summed over its window.
"""

from __future__ import annotations

import gzip
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open

log = logging.getLogger(__name__)

ALL_AUTOSOMES = tuple(str(c) for c in range(1, 23))


@dataclass
class LDScores:
    """LD scores of a set of SNPs.

    Attributes:
        table: DataFrame ``snp`` str, ``l2`` float64 (one row per SNP, unique ids).
        m_5_50: number of panel SNPs with MAF >= 5 % (summed over chromosomes); or the
            total number of SNPs when read with ``m_5_50=False``.
        source: where they came from (for logs).
    """

    table: pd.DataFrame
    m_5_50: int
    source: str


def _window_coordinate(cm: np.ndarray, bp: np.ndarray, window_cm: float, window_bp: int) -> tuple[np.ndarray, float]:
    if len(cm) and np.any(cm != 0) and np.all(np.diff(cm) >= 0):
        return cm.astype(np.float64), float(window_cm)
    return bp.astype(np.float64), float(window_bp)


def ld_scores(
    x: np.ndarray,
    cm: np.ndarray,
    bp: np.ndarray,
    *,
    window_cm: float = 1.0,
    window_bp: int = 1_000_000,
    chunk: int = 1024,
) -> np.ndarray:
    """ldsc LD scores of every SNP of one chromosome against the others in its window.

    Args:
        x: float64 [N, M] standardised genotypes (columns mean 0, variance 1 or all 0).
        cm: float64 [M] genetic positions (cM); bp: int64 [M] base positions, sorted.
        window_cm: window half-width in cM; window_bp: in bp, used when ``cm`` is unusable.
        chunk: SNPs per block of the computation.

    Returns:
        float64 [M] ``L2``.
    """
    n, m = x.shape
    coord, width = _window_coordinate(np.asarray(cm), np.asarray(bp), window_cm, window_bp)
    out = np.zeros(m, dtype=np.float64)
    if m == 0:
        return out
    denom = max(n - 2, 1)
    for lo in range(0, m, chunk):
        hi = min(m, lo + chunk)
        w0 = int(np.searchsorted(coord, coord[lo] - width, side="left"))
        w1 = int(np.searchsorted(coord, coord[hi - 1] + width, side="right"))
        r = x[:, lo:hi].T @ x[:, w0:w1] / n
        r2 = r * r
        adj = r2 - (1.0 - r2) / denom
        inside = np.abs(coord[lo:hi, None] - coord[None, w0:w1]) <= width
        out[lo:hi] = np.where(inside, adj, 0.0).sum(axis=1)
    return out


def write_ldscores(
    prefix: str | os.PathLike,
    chrom: str,
    table: pd.DataFrame,
    *,
    m: int,
    m_5_50: int,
) -> None:
    """Write one chromosome in ldsc format (``.l2.ldscore.gz``, ``.l2.M``, ``.l2.M_5_50``).

    Args:
        prefix: path prefix (``{prefix}{chrom}.l2.ldscore.gz``).
        chrom: chromosome name as written in the file names and the CHR column.
        table: columns ``snp bp l2`` (may be empty: a header-only file).
        m, m_5_50: SNP counts for the ``.M`` files.
    """
    prefix = os.fspath(prefix)
    frame = pd.DataFrame(
        {"CHR": chrom, "SNP": table["snp"].astype(str), "BP": table["bp"].astype(np.int64), "L2": table["l2"].astype(float)}
    )
    with atomic_open(f"{prefix}{chrom}.l2.ldscore.gz", "wb") as raw:
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(frame.to_csv(sep="\t", index=False, float_format="%.10g").encode())
    for suffix, value in ((".l2.M", m), (".l2.M_5_50", m_5_50)):
        with atomic_open(f"{prefix}{chrom}{suffix}", "w") as handle:
            handle.write(f"{int(value)}\n")


def _read_count(path: Path) -> int:
    try:
        token = path.read_text().split()[0]
        value = float(token)
    except (IndexError, ValueError):
        raise InputError(f"{path}:1: expected a SNP count (one integer), got {path.read_text()[:40]!r}") from None
    if value != int(value) or value < 0:
        raise InputError(f"{path}:1: expected a non-negative integer SNP count, got {token!r}")
    return int(value)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep=r"\s+", dtype={"SNP": str})
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file; expected a header with SNP and L2") from None
    missing = [c for c in ("SNP", "L2") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}:1: missing column(s) {', '.join(missing)}; header is {list(frame.columns)}")
    l2 = pd.to_numeric(frame["L2"], errors="coerce")
    bad = l2.isna().to_numpy() | ~np.isfinite(l2.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{path}:{i + 2}: L2 must be a finite number, got {frame['L2'].iloc[i]!r}")
    return pd.DataFrame({"snp": frame["SNP"].astype(str).to_numpy(dtype=object), "l2": l2.to_numpy(np.float64)})


def read_ldscores(
    prefix: str | os.PathLike,
    chroms: Sequence[str] = ALL_AUTOSOMES,
    *,
    m_5_50: bool = True,
) -> LDScores:
    """Read ldsc LD scores for ``chroms`` (by default 1..22, as the reference always does).

    Args:
        prefix: ``{prefix}{chrom}.l2.ldscore.gz`` (or the uncompressed ``.l2.ldscore``).
        chroms: chromosome names in the file names.
        m_5_50: count from ``.l2.M_5_50`` (True) or ``.l2.M`` (the reference's ``-no-M-5-50``).

    Raises:
        InputError: one error naming every chromosome whose files are missing; a file
            without ``SNP``/``L2``; a non-numeric L2 (line named); a bad count file; a SNP
            id on two lines.
    """
    prefix = os.fspath(prefix)
    suffix = ".l2.M_5_50" if m_5_50 else ".l2.M"
    missing, tables, total = [], [], 0
    for c in chroms:
        path = Path(f"{prefix}{c}.l2.ldscore.gz")
        if not path.is_file():
            path = Path(f"{prefix}{c}.l2.ldscore")
        count = Path(f"{prefix}{c}{suffix}")
        lacking = [p.name for p in (path, count) if not p.is_file()]
        if lacking:
            missing.append(f"{c} ({', '.join(lacking)})")
            continue
        tables.append(_read_table(path))
        total += _read_count(count)
    if missing:
        raise InputError(f"LD scores {prefix}{{chrom}}: files missing for chromosome(s) {'; '.join(missing)}")
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame({"snp": [], "l2": []})
    dup = table["snp"].duplicated()
    if dup.any():
        raise InputError(f"LD scores {prefix}{{chrom}}: SNP id {table['snp'][dup].iloc[0]!r} appears more than once")
    return LDScores(table=table, m_5_50=total, source=f"{prefix}{{{','.join(map(str, chroms))}}}")


def cache_ldscores(cache) -> LDScores:
    """LD scores computed at preprocessing, over every chromosome of a panel cache.

    Args:
        cache: a :class:`crossreg.sldp.panel.PanelCache`.

    Returns:
        :class:`LDScores` of every panel SNP; ``m_5_50`` counts panel SNPs with MAF >= 0.05.
    """
    tables, total = [], 0
    for c in cache.chroms:
        data = cache.chrom(c)
        tables.append(pd.DataFrame({"snp": data.bim["snp"].to_numpy(), "l2": data.l2}))
        total += int(np.sum(data.maf >= 0.05))
    return LDScores(table=pd.concat(tables, ignore_index=True), m_5_50=total, source=f"panel cache {cache.cache_dir}")


def write_cache_ldscores(cache, prefix: str | os.PathLike) -> list[str]:
    """Write a panel cache's LD scores in ldsc format, one chromosome each (returns the names)."""
    names = []
    for c in cache.chroms:
        data = cache.chrom(c)
        table = pd.DataFrame({"snp": data.bim["snp"], "bp": data.bim["bp"], "l2": data.l2})
        write_ldscores(prefix, c, table, m=data.n_snps, m_5_50=int(np.sum(data.maf >= 0.05)))
        names.append(c)
    return names
