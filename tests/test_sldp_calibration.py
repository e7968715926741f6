"""SLDP is calibrated under the null: random signed annotations on a real panel, no annotation effect.

Panel: the real 1000 Genomes chr1 panel of ``tests/data/ld_panel_1kg_eur`` (966 SNPs, 489
people), LD blocks of 8 consecutive SNPs (121 blocks, so 121 jackknife chunks). Summary
statistics are simulated from the panel's own LD with a polygenic effect independent of the
annotations: ``z = sqrt(N) R beta + e``, ``beta ~ N(0, h2 / M)``, ``e ~ N(0, R)`` drawn as
``X' g / sqrt(N_ref)``. 100 annotations ``v ~ N(0, 1)`` per SNP are tested jointly against
each phenotype, conditional on the signed MAF-bin background of
:func:`crossreg.sldp.background.background_annotations`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossreg.io.plink import read_panel
from crossreg.sldp import compute_profiles, preprocess_panel, run_sldp
from crossreg.sldp.background import background_annotations
from crossreg.sldp.panel import double_unit

PANEL = Path(__file__).parent / "data" / "ld_panel_1kg_eur" / "chr"
N_GWAS = 50_000
H2 = 0.3
N_ANNOT = 100


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("sldp_calibration")
    panel = read_panel(PANEL, ["1"])["1"]
    bp = panel.bim["bp"].to_numpy()
    edges = [0] + [int((bp[i - 1] + bp[i]) // 2) for i in range(8, len(bp), 8)] + [int(bp[-1]) + 1]
    pd.DataFrame({"c": "chr1", "s": edges[:-1], "e": edges[1:]}).to_csv(d / "blocks.bed", sep="\t", header=False, index=False)
    cache = preprocess_panel({"1": panel}, d / "blocks.bed", print_snps=None, cache_dir=d / "cache")
    rng = np.random.default_rng(2024)
    keys = panel.bim[["snp", "a1", "a2"]].reset_index(drop=True)
    annotations = pd.concat(
        [keys, pd.DataFrame(rng.normal(size=(panel.n_snps, N_ANNOT)), columns=[f"v{i}" for i in range(N_ANNOT)])], axis=1
    )
    background = background_annotations(panel, None)
    profiles = compute_profiles(cache, annotations, background=background)
    return cache, profiles, double_unit(panel.genotypes()), keys


def simulate(x: np.ndarray, keys: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_ref, m = x.shape
    beta = rng.normal(0.0, np.sqrt(H2 / m), m)
    z = np.sqrt(N_GWAS) * (x.T @ (x @ beta)) / n_ref + x.T @ rng.normal(size=n_ref) / np.sqrt(n_ref)
    return keys.assign(z=z, n=float(N_GWAS))


def test_null_p_values_are_calibrated(setup):
    cache, profiles, x, keys = setup
    results = [run_sldp(cache, None, simulate(x, keys, seed), profiles=profiles, seed=seed) for seed in range(5)]
    first = results[0]
    assert len(first) == N_ANNOT and first["n_chunks"].iloc[0] == 121
    assert np.all((first["p"] > 0) & (first["p"] <= 1))
    # the brief's criterion, on the first phenotype
    assert (first["p"] < 0.05).sum() <= 7
    # pooled over 5 phenotypes (500 tests): neither anti-conservative nor grossly conservative
    p = np.concatenate([r["p"].to_numpy() for r in results])
    p_fast = np.concatenate([r["p_fast"].to_numpy() for r in results])
    assert 10 <= (p < 0.05).sum() <= 35
    assert 10 <= (p_fast < 0.05).sum() <= 35
    assert abs(np.mean(np.concatenate([r["z"].to_numpy() for r in results]))) < 0.15
    # early stopping: most null targets stop after one batch of 100,000 flips
    draws = np.concatenate([r["draws"].to_numpy() for r in results])
    assert np.mean(draws == 100_000) > 0.9 and draws.max() <= 1_000_000
