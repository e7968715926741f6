"""Signed LD profile regression (Reshef et al. 2018), reproducing sldp 1.1.5's numbers.

Public API::

    preprocess_panel(panels, blocks_bed, *, print_snps, cache_dir, window_cm=1.0,
                     window_bp=1_000_000, rebuild=False) -> PanelCache   # once per panel
    load_panel_cache(cache_dir, panels=None) -> PanelCache
    read_ld_blocks(path) -> DataFrame; read_print_snps(path) -> list[str]
    compute_profiles(cache, annotations, *, background=None, chroms=None, alpha=-1.0) -> Profiles
    load_profiles(path, cache=None) -> Profiles                         # Profiles.save(path)
    run_sldp(cache, annotations, sumstats, *, background=None, ldscores=None, T=1_000_000,
             seed=0, jk_blocks=300, chroms=None, rng="fast", fastp=False, profiles=None,
             min_h2g=0.03, sumstats_name=..., alpha=-1.0) -> DataFrame   # one row per target
    write_results(result, path); result_summary(result) -> dict        # TSV; h2g, settings, reports
    read_ldscores(prefix, chroms=1..22, *, m_5_50=True) -> LDScores; write_ldscores(...)
    estimate_h2g(sumstats, print_snps, ldscores, *, min_h2g=0.03) -> Heritability
    annotations_from_scores(h5_path, tracks=None) -> DataFrame          # SAD as annotations

Modules: :mod:`.panel` (blocks, standardisation, truncated eigenbases, the cache),
:mod:`.ldscores`, :mod:`.profile` (Rv), :mod:`.pheno` (h2g, ahat, GLS weights),
:mod:`.regression` (chunks, estimate, FWL, jackknife, sign flips, scalings), :mod:`.core`
(orchestration), :mod:`.scores`; the inputs side lives in :mod:`.background`,
:mod:`.aggregate` and :mod:`.plots` (import them directly).

Where this differs from the reference, and the reference quirks kept, are listed in the
docstrings of :mod:`.panel`, :mod:`.pheno` and :mod:`.regression`. In short, kept: the
double ``Unit`` standardisation, the 95 % truncation with its off-by-one ``k``, untyped rows
of U dropped without re-orthogonalising, per-block mean N, unclamped sigma2g in the
weights but clamped h2g (>= 0.03) in rf, h2g over all print SNPs of the summary statistics
before allele checks, the chunking rule, block use decided by the whole annotation set,
early-stopping sign flips with floor 1/T, the reference RNG stream on request
(``rng="reference"``). Different: ``rng="fast"`` is the default (shared sign matrices, one
matrix product for all targets); ``T`` need not be a multiple of 100,000; ``S == 0`` gives
``p = 1``; all-zero background columns are left out (the reference crashes); errors
instead of crashes for bad input.
"""

from crossreg.sldp.core import RESULT_COLUMNS, result_summary, run_sldp, write_results
from crossreg.sldp.ldscores import LDScores, read_ldscores, write_ldscores
from crossreg.sldp.panel import PanelCache, load_panel_cache, preprocess_panel, read_ld_blocks, read_print_snps
from crossreg.sldp.pheno import Heritability, estimate_h2g
from crossreg.sldp.profile import Profiles, compute_profiles, load_profiles
from crossreg.sldp.scores import annotations_from_scores

__all__ = [
    "RESULT_COLUMNS",
    "Heritability",
    "LDScores",
    "PanelCache",
    "Profiles",
    "annotations_from_scores",
    "compute_profiles",
    "estimate_h2g",
    "load_panel_cache",
    "load_profiles",
    "preprocess_panel",
    "read_ld_blocks",
    "read_ldscores",
    "read_print_snps",
    "result_summary",
    "run_sldp",
    "write_ldscores",
    "write_results",
]
