"""crossreg.sldp against the recorded outputs of the reference sldp 1.1.5 on the same small case.

The case and the reference outputs live in ``tests/data/sldp_reference`` (see its README:
``make_case.py`` built the inputs, ``run_reference.sh`` ran the patched reference). The
reference itself is not needed here: its outputs were recorded once.

Runs compared (all on chromosomes 1, 2, 21, 22 of the real 1000 Genomes panel, T = 1e6):
``A`` background + 4 targets, 30 jackknife chunks, seed 0; ``B`` no background, default 300
chunks (every block its own chunk but for the reference's merging rule), seed 7; ``C`` as A
with ``-fastp``. Required: mu, se(mu), rf, h2g, sigma2g, h2v/h2g, h2v, supp/M, z_fast,
p_fast, the per-chunk q and r and the background coefficients within 1e-6 relative; the
sign-flip p exactly equal and z within 1e-9 (the reference RNG stream is reproduced).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossreg.io.plink import read_panel
from crossreg.io.sumstats import read_sumstats
from crossreg.sldp import compute_profiles, preprocess_panel, read_ldscores, read_print_snps, run_sldp
from crossreg.sldp import regression as reg
from crossreg.sldp.core import chunk_stats
from crossreg.sldp.pheno import align_sumstats, estimate_h2g

CASE = Path(__file__).parent / "data" / "sldp_reference"
EXPECTED = CASE / "expected"
CHROMS = ["1", "2", "21", "22"]
RTOL = 1e-6


def read_sannot(stem: str) -> pd.DataFrame:
    frames = [pd.read_csv(CASE / "annot" / f"{stem}.{c}.sannot.gz", sep="\t", dtype={"SNP": str}) for c in CHROMS]
    frame = pd.concat(frames, ignore_index=True).drop(columns=["CHR", "BP"])
    return frame.rename(columns={"SNP": "snp", "A1": "a1", "A2": "a2"})


def read_gwresults(name: str) -> pd.DataFrame:
    frame = pd.read_csv(EXPECTED / f"{name}.gwresults", sep="\t")
    frame["annotation"] = frame["annot"].str.removesuffix(".R")
    return frame.set_index("annotation")


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    panels = read_panel(CASE / "panel" / "reference.", CHROMS)
    cache = preprocess_panel(panels, CASE / "blocks.bed", print_snps=read_print_snps(CASE / "print_snps.txt"),
                             cache_dir=tmp_path_factory.mktemp("sldp_ref_cache"))
    targets, background = read_sannot("targets"), read_sannot("background")
    return {
        "cache": cache,
        "targets": targets,
        "background": background,
        "sumstats": read_sumstats(CASE / "pheno.sumstats.gz"),
        "ldscores": read_ldscores(CASE / "ldscores" / "ld."),
        "with_bg": compute_profiles(cache, targets, background=background),
        "no_bg": compute_profiles(cache, targets),
    }


@pytest.fixture(scope="module")
def run_a(case):
    return run_sldp(case["cache"], None, case["sumstats"], profiles=case["with_bg"], ldscores=case["ldscores"],
                    T=1_000_000, seed=0, jk_blocks=30, rng="reference")


@pytest.fixture(scope="module")
def run_b(case):
    return run_sldp(case["cache"], None, case["sumstats"], profiles=case["no_bg"], ldscores=case["ldscores"],
                    T=1_000_000, seed=7, jk_blocks=300, rng="reference")


def compare(ours: pd.DataFrame, ref: pd.DataFrame, *, signflip: bool) -> None:
    ours = ours.set_index("annotation").loc[ref.index]
    pairs = {"mu": "mu", "se": "se(mu)", "rf": "rf", "h2g": "h2g", "h2v_h2g": "h2v/h2g", "h2v": "h2v",
             "supp_over_M": "supp(v)/M"}
    if signflip:
        pairs.update(z_fast="z_fast", p_fast="p_fast")
    for mine, theirs in pairs.items():
        np.testing.assert_allclose(ours[mine].to_numpy(), ref[theirs].to_numpy(), rtol=RTOL, atol=0, err_msg=mine)
    if signflip:
        np.testing.assert_array_equal(ours["p"].to_numpy(), ref["p"].to_numpy())
        np.testing.assert_allclose(ours["z"].to_numpy(), ref["z"].to_numpy(), rtol=1e-9, atol=0)


def test_heritability_matches_reference_info(case):
    info = pd.read_csv(EXPECTED / "pheno.info", sep="\t").iloc[0]
    h2 = estimate_h2g(case["sumstats"], case["cache"].print_snps, case["ldscores"])
    np.testing.assert_allclose([h2.h2g, h2.sigma2g, h2.n_bar], [info["h2g"], info["sigma2g"], info["Nbar"]], rtol=RTOL)


def test_run_a_background_matches_reference(run_a):
    compare(run_a, read_gwresults("A"), signflip=True)
    info = pd.read_csv(EXPECTED / "pheno.info", sep="\t").iloc[0]
    np.testing.assert_allclose(run_a["sigma2g"], info["sigma2g"], rtol=RTOL)
    # the case exercises both early stopping and the full 1e6 draws with counts > 1
    assert set(run_a["draws"]) == {100_000, 1_000_000}
    assert (run_a["p"] * 1e6).max() > 1 and run_a["p"].min() < 1e-4


def test_run_b_no_background_matches_reference(run_b):
    compare(run_b, read_gwresults("B"), signflip=True)


def test_run_c_fastp_matches_reference(case):
    ours = run_sldp(case["cache"], None, case["sumstats"], profiles=case["with_bg"], ldscores=case["ldscores"],
                    jk_blocks=30, fastp=True)
    ref = read_gwresults("C")
    compare(ours, ref, signflip=False)
    ours = ours.set_index("annotation").loc[ref.index]
    np.testing.assert_allclose(ours["z"], ref["z"], rtol=RTOL)
    np.testing.assert_allclose(ours["p"], ref["p"], rtol=RTOL)


@pytest.mark.parametrize("run, profiles_key, jk", [("A", "with_bg", 30), ("B", "no_bg", 300)])
def test_chunks_q_r_and_coefficients_match_reference(case, run, profiles_key, jk):
    cache, profiles = case["cache"], case[profiles_key]
    h2 = estimate_h2g(case["sumstats"], cache.print_snps, case["ldscores"])
    aligned = align_sumstats(cache, case["sumstats"], cache.chroms)
    stats, use = chunk_stats(cache, profiles, aligned, h2.sigma2g, jk_blocks=jk)
    res = reg.residualize(stats)
    for t, name in enumerate(profiles.target_names):
        chunks = pd.read_csv(EXPECTED / f"{run}.pheno.{name}.R.chunks", sep="\t")
        assert len(chunks) == stats.n_chunks
        begin = [int(use.block[(use.chunk == c)].min()) for c in range(stats.n_chunks)]
        end = [int(use.block[(use.chunk == c)].max()) + 1 for c in range(stats.n_chunks)]
        size = [float(use.m_h[use.chunk == c].sum()) for c in range(stats.n_chunks)]
        np.testing.assert_array_equal(chunks["ldblock_begin"], begin)
        np.testing.assert_array_equal(chunks["ldblock_end"], end)
        np.testing.assert_array_equal(chunks["numsnps"], size)
        np.testing.assert_allclose(res.q[:, t], chunks["q"], rtol=RTOL, atol=1e-12 * np.abs(chunks["q"]).max())
        np.testing.assert_allclose(res.r[:, t], chunks["r"], rtol=RTOL)
        coeffs = pd.read_csv(EXPECTED / f"{run}.pheno.{name}.R.coeffs", sep="\t")
        assert list(coeffs["annot"].astype(str).str.removesuffix(".R")) == profiles.background_names
        if profiles.n_background:
            np.testing.assert_allclose(res.mux[:, t], coeffs["mux"], rtol=RTOL)
            np.testing.assert_allclose(res.muy, coeffs["muy"], rtol=RTOL)


def test_fast_stream_p_agrees_with_reference_within_monte_carlo_error(case, run_a):
    ours = run_sldp(case["cache"], None, case["sumstats"], profiles=case["with_bg"], ldscores=case["ldscores"],
                    T=1_000_000, seed=0, jk_blocks=30, rng="fast")
    ref = read_gwresults("A")
    ours = ours.set_index("annotation").loc[ref.index]
    p_ref = ref["p"].to_numpy()
    draws = ours["draws"].to_numpy()
    tol = 5 * np.sqrt(p_ref * (1 - p_ref) / draws) + 2 / draws
    assert np.all(np.abs(ours["p"].to_numpy() - p_ref) <= tol)
    np.testing.assert_allclose(ours["mu"], ref["mu"], rtol=RTOL)


def test_allele_reports_are_returned(run_a):
    reports = run_a.attrs["reports"]
    assert [r.what for r in reports] == ["background annotations", "target annotations", "summary statistics"]
    ss = reports[-1]
    assert ss.flipped > 0 and ss.strand_flipped > 0 and ss.mismatched == 2 and ss.missing > 0
    assert ss.matched + ss.flipped + ss.missing + ss.mismatched + ss.ambiguous == ss.total == 707
