"""SLDP end to end: panel cache + annotations + summary statistics -> one row per target.

The steps (each in its module) are those of sldp 1.1.5; ``run_sldp`` strings them together:

1. profiles ``Rv`` of background + targets (:func:`crossreg.sldp.profile.compute_profiles`,
   reusable across phenotypes: pass ``profiles=``);
2. heritability from LD scores (:func:`crossreg.sldp.pheno.estimate_h2g`) and ahat
   reconciled to the panel (:func:`crossreg.sldp.pheno.align_sumstats`);
3. per used block, GLS products in the block's eigenbasis, summed into jackknife chunks
   (:func:`chunk_stats`); a block is used when it has typed print SNPs and some annotation
   (background or any target) is non-zero in its profile;
4. estimate, background removal, jackknife, sign-flip and fast tests, scalings
   (:mod:`crossreg.sldp.regression`).

Result columns (one row per target, in the order of the annotation table):

==============  =====================================================================
``annotation``  target name
``mu``          GLS estimate (per normalised genotype, ahat = Z / sqrt(N))
``se``          delete-one-chunk jackknife standard error of ``mu``
``z``, ``p``    sign-flip test (``p >= 1/T``); with ``fastp=True`` copies of the fast test
``z_fast``      ``sum q / ||q||``; ``p_fast = chi2_1.sf(z_fast^2)``
``rf``          functional correlation ``mu sqrt(sqnorm / h2g)``
``h2g``         clamped heritability (>= 0.03); ``sigma2g`` unclamped per-SNP heritability
``h2v_h2g``     ``rf^2 - se^2 sqnorm / (M sigma2g)``; ``h2v = h2v_h2g * h2g``
``supp_over_M`` fraction of panel SNPs where the annotation is non-zero
``sqnorm``, M   ``sum v^2`` and panel SNP count over the analysed chromosomes
``n_typed``     typed print SNPs in the used blocks; ``n_blocks``, ``n_chunks``
``draws``       sign flips drawn for this target (0 with ``fastp``)
==============  =====================================================================

``result.attrs`` holds ``reports`` (list of :class:`crossreg.io.sumstats.ReconcileReport`:
one per annotation table, then the summary statistics), ``heritability`` (dict of
:class:`crossreg.sldp.pheno.Heritability`) and ``settings``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.sldp import regression as reg
from crossreg.sldp.ldscores import LDScores, cache_ldscores, read_ldscores
from crossreg.sldp.pheno import MIN_H2G, AlignedSumstats, Heritability, align_sumstats, estimate_h2g, gls_weights
from crossreg.sldp.profile import Profiles, compute_profiles

log = logging.getLogger(__name__)

RESULT_COLUMNS = (
    "annotation", "mu", "se", "z", "p", "z_fast", "p_fast", "rf", "h2g", "sigma2g", "h2v_h2g", "h2v",
    "supp_over_M", "sqnorm", "M", "n_typed", "n_blocks", "n_chunks", "draws",
)


@dataclass
class BlockUse:
    """Which blocks entered the regression.

    Attributes:
        block: int64 [n] block ids of the cache's block table (file order).
        m_h: float64 [n] typed SNPs of used blocks (0 otherwise).
        used: bool [n].
        chunk: int64 [n] chunk of each used block (-1 otherwise).
        n_chunks: number of chunks.
    """

    block: np.ndarray
    m_h: np.ndarray
    used: np.ndarray
    chunk: np.ndarray
    n_chunks: int


@dataclass
class SldpFit:
    """Everything :func:`fit` computes (arrays [T] unless said otherwise)."""

    names: list[str]
    stats: reg.ChunkStats
    residual: reg.Residualized
    mu: np.ndarray
    se: np.ndarray
    z: np.ndarray
    p: np.ndarray
    z_fast: np.ndarray
    p_fast: np.ndarray
    draws: np.ndarray


def resolve_ldscores(cache, ldscores) -> LDScores:
    """``None`` -> the cache's own LD scores; a path prefix -> ldsc files for 1..22; an :class:`LDScores` as is."""
    if ldscores is None:
        return cache_ldscores(cache)
    if isinstance(ldscores, LDScores):
        return ldscores
    if isinstance(ldscores, (str, os.PathLike)):
        return read_ldscores(ldscores)
    raise InputError(f"ldscores must be None, an ldsc path prefix or LDScores, got {type(ldscores).__name__}")


def chunk_stats(cache, profiles: Profiles, aligned: AlignedSumstats, sigma2g: float, *, jk_blocks: int = 300) -> tuple[reg.ChunkStats, BlockUse]:
    """Per-chunk regression sums (see :mod:`crossreg.sldp.regression`).

    Args:
        cache: the panel cache.
        profiles: profiles on ``cache`` (their chromosomes are analysed).
        aligned: ahat inputs from :func:`crossreg.sldp.pheno.align_sumstats` for the same chromosomes.
        sigma2g: unclamped per-SNP heritability.
        jk_blocks: ``--jk-blocks``.

    Raises:
        InputError: no block is usable (no typed print SNP where an annotation is non-zero).
    """
    table = cache.block_table
    position = {int(b): i for i, b in enumerate(table["block"])}
    m_h = np.zeros(len(table))
    used = np.zeros(len(table), dtype=bool)
    todo = []
    for chrom in profiles.chroms:
        data = cache.chrom(chrom)
        z_all, n_all = aligned.z[chrom], aligned.n[chrom]
        for block in data.blocks:
            rows = data.print_rows(block)
            z = z_all[rows]
            typed = np.isfinite(z)
            rv = profiles.rv[block.block]
            if not typed.any() or not np.any(rv != 0):
                continue
            i = position[block.block]
            m_h[i] = typed.sum()
            used[i] = True
            todo.append((i, block, typed, z[typed], n_all[rows][typed], rv[typed]))
    if not used.any():
        raise InputError(
            "no LD block has both typed print SNPs and a non-zero annotation profile; check that the summary "
            "statistics, the annotations and the panel share SNPs"
        )
    chunk, n_chunks = reg.chunk_of_blocks(m_h, used, jk_blocks)
    stats = reg.ChunkStats.zeros(n_chunks, profiles.n_background, len(profiles.target_names))
    for i, block, typed, z, n, rv in todo:
        U_t = block.U[typed]
        ahat = z / np.sqrt(n)
        w = gls_weights(block.lam, sigma2g, float(np.mean(n)))
        stats.add_eigen_block(int(chunk[i]), U_t.T @ rv, w, U_t.T @ ahat, profiles.n_background)
    use = BlockUse(table["block"].to_numpy(np.int64), m_h, used, chunk, n_chunks)
    return stats, use


def fit(stats: reg.ChunkStats, names: list[str], *, T: int = 1_000_000, seed: int = 0, rng: str = "fast", fastp: bool = False) -> SldpFit:
    """Estimate, jackknife and test every target from chunk sums.

    Raises:
        InputError: the background annotations are collinear over the used SNPs.
    """
    try:
        residual = reg.residualize(stats)
    except np.linalg.LinAlgError:
        raise InputError(
            "background annotations are linearly dependent over the used SNPs (their profile matrix is singular); "
            "drop redundant background columns"
        ) from None
    mu = reg.estimate(stats)
    se = reg.jackknife_se(stats, mu)
    z_fast, p_fast = reg.fast_test(residual.q)
    if fastp:
        z, p, draws = z_fast.copy(), p_fast.copy(), np.zeros(len(mu), dtype=np.int64)
    else:
        p, z, draws = reg.signflip_test(residual.q, T=T, seed=seed, rng=rng)
    return SldpFit(names, stats, residual, mu, se, z, p, z_fast, p_fast, draws)


def _drop_zero_background(profiles: Profiles) -> Profiles:
    """Remove background columns that are 0 in every block profile (logged); they make D_aa singular."""
    b = profiles.n_background
    if b == 0:
        return profiles
    nonzero = np.zeros(b, dtype=bool)
    for rv in profiles.rv.values():
        nonzero |= np.any(rv[:, :b] != 0, axis=0)
    if nonzero.all():
        return profiles
    dropped = [n for n, k in zip(profiles.background_names, nonzero) if not k]
    log.warning("background annotation(s) %s are 0 everywhere on the analysed chromosomes; left out", ", ".join(dropped))
    keep = np.concatenate([np.flatnonzero(nonzero), np.arange(b, len(profiles.names))])
    return Profiles(
        [profiles.names[i] for i in keep], int(nonzero.sum()), profiles.chroms,
        {k: v[:, keep] for k, v in profiles.rv.items()}, profiles.info.iloc[keep], profiles.reports,
        profiles.cache_digest, profiles.digest,
    )


def run_sldp(
    cache,
    annotations: pd.DataFrame | None,
    sumstats: pd.DataFrame,
    *,
    background: pd.DataFrame | None = None,
    ldscores=None,
    T: int = 1_000_000,
    seed: int = 0,
    jk_blocks: int = 300,
    chroms=None,
    rng: str = "fast",
    fastp: bool = False,
    profiles: Profiles | None = None,
    min_h2g: float = MIN_H2G,
    sumstats_name: str = "summary statistics",
    alpha: float = -1.0,
) -> pd.DataFrame:
    """Signed LD profile regression of every target annotation on one phenotype.

    Args:
        cache: :class:`crossreg.sldp.panel.PanelCache`.
        annotations: ``snp a1 a2`` + one float column per target (signed w.r.t. a1); may be
            None when ``profiles`` is given.
        sumstats: ``snp a1 a2 z n`` (:func:`crossreg.io.sumstats.read_sumstats`).
        background: ``snp a1 a2`` + background columns
            (:func:`crossreg.sldp.background.background_annotations`), or None.
        ldscores: None (computed from the panel at preprocessing), an ldsc prefix (files for
            chromosomes 1..22, as the reference reads), or :class:`LDScores`.
        T: maximum sign flips; seed: random seed; rng: ``"fast"`` or ``"reference"``
            (:func:`crossreg.sldp.regression.signflip_test`); fastp: skip sign flips.
        jk_blocks: target number of jackknife chunks (300).
        chroms: chromosomes to analyse (default: all in the cache).
        profiles: precomputed :class:`Profiles` (from :func:`compute_profiles` on this cache
            and these chromosomes) to reuse across phenotypes.
        min_h2g: floor of h2g (0.03).
        sumstats_name: name of the phenotype in reports.
        alpha: annotation scaling (:func:`crossreg.sldp.profile.compute_profiles`); ignored
            with ``profiles``.

    Returns:
        DataFrame with :data:`RESULT_COLUMNS` (see the module docstring).

    Raises:
        InputError: requested chromosomes not in the cache; annotations, summary statistics
            or LD scores that share no SNP with the panel; profiles made on another cache or
            other chromosomes; collinear background; ``T`` or ``jk_blocks`` < 1; unknown ``rng``.
    """
    if rng not in reg.RNG_MODES:
        raise InputError(f"rng must be one of {', '.join(reg.RNG_MODES)}, got {rng!r}")
    if int(T) < 1 or int(jk_blocks) < 1:
        raise InputError(f"T (sign flips) and jk_blocks must be >= 1, got T={T}, jk_blocks={jk_blocks}")
    chroms = cache.resolve_chroms(chroms)
    if profiles is None:
        if annotations is None:
            raise InputError("run_sldp: give target annotations or precomputed profiles")
        profiles = compute_profiles(cache, annotations, background=background, chroms=chroms, alpha=alpha)
    else:
        if profiles.cache_digest != cache.digest:
            raise InputError(f"run_sldp: the profiles were computed on another panel cache than {cache.cache_dir}")
        if list(profiles.chroms) != chroms:
            raise InputError(
                f"run_sldp: the profiles cover chromosome(s) {', '.join(profiles.chroms)}, not the requested "
                f"{', '.join(chroms)}"
            )
    profiles = _drop_zero_background(profiles)
    ld = resolve_ldscores(cache, ldscores)
    h2: Heritability = estimate_h2g(sumstats, cache.print_snps, ld, min_h2g=min_h2g)
    aligned = align_sumstats(cache, sumstats, chroms, what=sumstats_name)
    stats, use = chunk_stats(cache, profiles, aligned, h2.sigma2g, jk_blocks=jk_blocks)
    targets = profiles.target_names
    result = fit(stats, targets, T=T, seed=seed, rng=rng, fastp=fastp)
    info = profiles.info.loc[targets]
    derived = reg.scalings(result.mu, result.se, info["sqnorm"], info["supp"], info["M"], h2.h2g, h2.sigma2g)
    out = pd.DataFrame(
        {
            "annotation": targets,
            "mu": result.mu,
            "se": result.se,
            "z": result.z,
            "p": result.p,
            "z_fast": result.z_fast,
            "p_fast": result.p_fast,
            "rf": derived["rf"],
            "h2g": h2.h2g,
            "sigma2g": h2.sigma2g,
            "h2v_h2g": derived["h2v_h2g"],
            "h2v": derived["h2v"],
            "supp_over_M": derived["supp_over_M"],
            "sqnorm": info["sqnorm"].to_numpy(),
            "M": info["M"].to_numpy(np.int64),
            "n_typed": int(use.m_h.sum()),
            "n_blocks": int(use.used.sum()),
            "n_chunks": use.n_chunks,
            "draws": result.draws,
        },
        columns=list(RESULT_COLUMNS),
    )
    out.attrs["reports"] = list(profiles.reports) + [aligned.report]
    out.attrs["heritability"] = asdict(h2)
    out.attrs["settings"] = {
        "T": T, "seed": seed, "rng": rng, "fastp": fastp, "jk_blocks": jk_blocks, "chroms": chroms,
        "background": profiles.background_names, "ldscores": ld.source,
    }
    log.info("SLDP: %d targets, %d used blocks in %d chunks, %d typed SNPs", len(targets), int(use.used.sum()),
             use.n_chunks, int(use.m_h.sum()))
    return out


def write_results(result: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a :func:`run_sldp` table as TSV (atomic; floats with 10 significant digits, NaN as ``nan``)."""
    from crossreg.io.atomic import atomic_open

    with atomic_open(path, "w") as handle:
        result.to_csv(handle, sep="\t", index=False, float_format="%.10g", na_rep="nan")


def result_summary(result: pd.DataFrame) -> dict:
    """JSON-ready side information of a :func:`run_sldp` table: heritability, settings, allele reports."""
    return {
        "heritability": result.attrs.get("heritability", {}),
        "settings": result.attrs.get("settings", {}),
        "reports": [asdict(r) | {"text": r.text()} for r in result.attrs.get("reports", [])],
    }
