"""Unit tests of crossreg.sldp's numerical core against direct dense computations.

Most tests use chromosomes 21 and 22 of the small real case in ``tests/data/sldp_reference``
(98 SNPs of the 1000 Genomes panel with some missing genotypes, its blocks, print SNPs,
simulated summary statistics and annotations); the rest use synthetic arrays.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from crossreg.errors import InputError, IntegrityError
from crossreg.io.plink import read_panel
from crossreg.io.sumstats import read_sumstats
from crossreg.sldp import (
    LDScores,
    compute_profiles,
    estimate_h2g,
    load_panel_cache,
    load_profiles,
    preprocess_panel,
    read_ld_blocks,
    read_ldscores,
    read_print_snps,
    run_sldp,
    write_ldscores,
)
from crossreg.sldp import regression as reg
from crossreg.sldp.core import chunk_stats
from crossreg.sldp.ldscores import ld_scores
from crossreg.sldp.panel import double_unit, truncated_eigen
from crossreg.sldp.pheno import align_sumstats, gls_weights

CASE = Path(__file__).parent / "data" / "sldp_reference"
CHROMS = ["21", "22"]


def read_sannot(stem: str) -> pd.DataFrame:
    frames = [pd.read_csv(CASE / "annot" / f"{stem}.{c}.sannot.gz", sep="\t", dtype={"SNP": str}) for c in CHROMS]
    return pd.concat(frames, ignore_index=True).drop(columns=["CHR", "BP"]).rename(columns={"SNP": "snp", "A1": "a1", "A2": "a2"})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    panels = read_panel(CASE / "panel" / "reference.", CHROMS)
    cache_dir = tmp_path_factory.mktemp("sldp_core_cache")
    cache = preprocess_panel(panels, CASE / "blocks.bed", print_snps=read_print_snps(CASE / "print_snps.txt"),
                             cache_dir=cache_dir)
    return {
        "panels": panels,
        "cache": cache,
        "cache_dir": cache_dir,
        "targets": read_sannot("targets"),
        "background": read_sannot("background"),
        "sumstats": read_sumstats(CASE / "pheno.sumstats.gz"),
        "ldscores": read_ldscores(CASE / "ldscores" / "ld."),
    }


# ------------------------------------------------------------------ standardisation


def test_double_unit_is_mean_imputation_then_unit_variance():
    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, size=(40, 6)).astype(float)
    g[rng.random(g.shape) < 0.1] = np.nan
    g[:, 2] = 1.0  # monomorphic
    g[:5, 4] = np.nan
    x = double_unit(g)
    mean = np.nanmean(g, axis=0)
    expected = np.where(np.isnan(g), 0.0, g - mean)
    sd = expected.std(axis=0)
    expected = np.divide(expected, sd, out=np.zeros_like(expected), where=sd > 0)
    np.testing.assert_allclose(x, expected, atol=1e-12)
    assert np.all(x[:, 2] == 0)
    np.testing.assert_allclose(x[:, [0, 1, 3, 4, 5]].var(axis=0), 1.0)


@pytest.mark.parametrize("n, p", [(60, 12), (15, 25)])
def test_truncated_eigen_matches_reference_svd(n, p):
    rng = np.random.default_rng(n)
    x = double_unit(rng.normal(size=(n, p)) @ rng.normal(size=(p, p)))
    # the reference: svd of X_P', svs = s^2 / N, k = argmax(cumsum / sum >= 0.95)
    u_ref, s, _ = np.linalg.svd(x.T)
    svs = s**2 / n
    k = int(np.argmax(np.cumsum(svs) / svs.sum() >= 0.95))
    U, lam = truncated_eigen(x)
    assert U.shape == (p, k) and len(lam) == k
    np.testing.assert_allclose(lam, svs[:k], rtol=1e-10)
    w = 1 / (0.01 * lam**2 + lam / 1000)
    np.testing.assert_allclose((U * w) @ U.T, (u_ref[:, :k] * w) @ u_ref[:, :k].T, atol=1e-8 * w.max())
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-12)


def test_truncated_eigen_single_snp_keeps_nothing():
    U, lam = truncated_eigen(double_unit(np.random.default_rng(1).integers(0, 3, (30, 1)).astype(float)))
    assert U.shape == (1, 0) and lam.shape == (0,)


# ------------------------------------------------------------------ LD blocks


def test_read_ld_blocks_formats_and_mhc(tmp_path):
    path = tmp_path / "blocks.txt.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("chr start stop\nchr6 1 25000000\nchr6 25000000 30000000\nchr6 30000000 40000000\nchr7 0 10\n")
    table = read_ld_blocks(path)
    assert table["block"].tolist() == [0, 3] and table["key"].tolist() == ["6", "7"]
    assert table["start"].tolist() == [1, 0] and table["end"].tolist() == [25000000, 10]


@pytest.mark.parametrize(
    "text, message",
    [
        ("chr1\t0\t100\nchr1\t50\t200\n", ":2: block chr1:50-200 starts before"),
        ("chr1\t0\t100\nchr1\tx\t200\n", ":2: start and end must be integers"),
        ("chr1\t100\t50\n", ":1: invalid block"),
        ("chr1\t100\n", ":1: expected at least 3 fields"),
    ],
)
def test_read_ld_blocks_errors(tmp_path, text, message):
    path = tmp_path / "b.bed"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_ld_blocks(path)


# ------------------------------------------------------------------ panel cache


def test_panel_cache_reused_refused_and_rebuilt(small, tmp_path):
    panels = small["panels"]
    print_snps = read_print_snps(CASE / "print_snps.txt")
    d = tmp_path / "cache"
    cache = preprocess_panel(panels, CASE / "blocks.bed", print_snps=print_snps, cache_dir=d)
    stamp = {p.name: p.stat().st_mtime_ns for p in d.iterdir()}
    again = preprocess_panel(panels, CASE / "blocks.bed", print_snps=print_snps, cache_dir=d)
    assert again.digest == cache.digest
    assert {p.name: p.stat().st_mtime_ns for p in d.iterdir()} == stamp  # reused, not rewritten
    assert load_panel_cache(d, panels).digest == cache.digest
    # an altered cache file is refused, then rebuilt
    target = d / "chr21.npz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="chr21.npz is missing or altered"):
        load_panel_cache(d)
    lazy = load_panel_cache(d, verify=False)
    lazy.chrom("22")  # intact
    with pytest.raises(IntegrityError, match="chr21.npz is missing or altered"):
        lazy.chrom("21")
    rebuilt = preprocess_panel(panels, CASE / "blocks.bed", print_snps=print_snps, cache_dir=d)
    assert rebuilt.digest == cache.digest
    assert load_panel_cache(d).digest == cache.digest
    # other inputs (print SNPs) -> rebuilt with a different digest
    fewer = preprocess_panel(panels, CASE / "blocks.bed", print_snps=print_snps[::2], cache_dir=d)
    assert fewer.digest != cache.digest and len(fewer.print_snps) == len(set(print_snps[::2]))
    # other panel files than recorded are refused
    other = read_panel(CASE / "panel" / "reference.", ["1"])
    with pytest.raises(IntegrityError, match="other panel files"):
        load_panel_cache(d, other)
    with pytest.raises(InputError, match="no index.json"):
        load_panel_cache(tmp_path / "nothing")


def test_cache_blocks_and_eigen_match_direct_computation(small):
    cache, panels = small["cache"], small["panels"]
    blocks = read_ld_blocks(CASE / "blocks.bed")
    print_set = set(read_print_snps(CASE / "print_snps.txt"))
    for chrom in CHROMS:
        data = cache.chrom(chrom)
        bim = panels[chrom].bim
        x = double_unit(panels[chrom].genotypes())
        np.testing.assert_array_equal(data.standardised(0, data.n_snps), x)
        seen = 0
        for _, row in blocks[blocks["key"] == chrom].iterrows():
            inside = np.flatnonzero((bim["bp"] >= row["start"]) & (bim["bp"] < row["end"]))
            prints = [i for i in inside if bim["snp"][i] in print_set]
            found = [b for b in data.blocks if b.block == row["block"]]
            if not prints:
                assert not found
                continue
            (b,) = found
            seen += 1
            np.testing.assert_array_equal(data.print_rows(b), prints)
            U, lam = truncated_eigen(x[:, prints])
            np.testing.assert_allclose(b.lam, lam)
            np.testing.assert_allclose(b.U @ b.U.T, U @ U.T, atol=1e-10)
        assert seen == len(data.blocks)
    # chromosome 21 has the block with a single print SNP: k = 0 there
    assert any(b.U.shape[1] == 0 for b in cache.chrom("21").blocks)


# ------------------------------------------------------------------ profiles


def test_profiles_equal_dense_ld_times_reconciled_annotation(small):
    cache, panels = small["cache"], small["panels"]
    targets = small["targets"]
    prof = compute_profiles(cache, targets)
    names = ["planted", "weak", "sparse", "random"]
    for chrom in CHROMS:
        bim = panels[chrom].bim
        x = double_unit(panels[chrom].genotypes())
        # reconcile by hand: same alleles (or strand complement) keep, swapped negate
        comp = {"A": "T", "T": "A", "C": "G", "G": "C"}
        by_snp = targets.set_index("snp")
        v = np.zeros((len(bim), len(names)))
        for i, (snp, a1, a2) in enumerate(zip(bim["snp"], bim["a1"], bim["a2"])):
            if snp not in by_snp.index:
                continue
            r = by_snp.loc[snp]
            if (r["a1"], r["a2"]) in ((a1, a2), (comp[a1], comp[a2])):
                v[i] = r[names].to_numpy(float)
            elif (r["a1"], r["a2"]) in ((a2, a1), (comp[a2], comp[a1])):
                v[i] = -r[names].to_numpy(float)
        for b in cache.chrom(chrom).blocks:
            xb = x[:, b.lo : b.hi]
            R = xb.T @ xb / x.shape[0]
            np.testing.assert_allclose(prof.rv[b.block], R[b.print_idx] @ v[b.lo : b.hi], atol=1e-12)
    info = prof.info.loc[names]
    all_v = []
    for chrom in CHROMS:
        ref = panels[chrom].bim
        sel = targets[targets["snp"].isin(ref["snp"])]
        all_v.append(sel)
    assert (info["M"] == 98).all()
    # the table's squared norm over panel SNPs (sign flips do not change it)
    sq = pd.concat(all_v)[names].pow(2).sum()
    np.testing.assert_allclose(info["sqnorm"], sq.to_numpy())
    assert (info["supp"] == (pd.concat(all_v)[names] != 0).sum().to_numpy()).all()


def test_profiles_save_load_and_reuse(small, tmp_path):
    cache = small["cache"]
    prof = compute_profiles(cache, small["targets"], background=small["background"])
    prof.save(tmp_path / "p.npz")
    loaded = load_profiles(tmp_path / "p.npz", cache)
    assert loaded.names == prof.names and loaded.digest == prof.digest
    kw = dict(ldscores=small["ldscores"], T=20_000, seed=3, jk_blocks=5)
    a = run_sldp(cache, small["targets"], small["sumstats"], background=small["background"], **kw)
    b = run_sldp(cache, None, small["sumstats"], profiles=loaded, **kw)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ regression vs dense algebra


def dense_problem(small, background=True):
    """Dense A (typed x K), W^-1 (block diagonal) and ahat over the used blocks, built independently."""
    cache = small["cache"]
    prof = compute_profiles(cache, small["targets"], background=small["background"] if background else None)
    h2 = estimate_h2g(small["sumstats"], cache.print_snps, small["ldscores"])
    aligned = align_sumstats(cache, small["sumstats"], cache.chroms)
    As, ys, Ws = [], [], []
    for chrom in cache.chroms:
        data = cache.chrom(chrom)
        for b in data.blocks:
            rows = data.print_rows(b)
            z, n = aligned.z[chrom][rows], aligned.n[chrom][rows]
            t = np.isfinite(z)
            rv = prof.rv[b.block]
            if not t.any() or not np.any(rv != 0):
                continue
            Ut = b.U[t]
            Ws.append(Ut @ np.diag(1 / (h2.sigma2g * b.lam**2 + b.lam / n[t].mean())) @ Ut.T)
            As.append(rv[t])
            ys.append(z[t] / np.sqrt(n[t]))
    W = np.zeros((sum(len(w) for w in Ws),) * 2)
    o = 0
    for w in Ws:
        W[o : o + len(w), o : o + len(w)] = w
        o += len(w)
    return prof, h2, aligned, np.vstack(As), W, np.concatenate(ys)


@pytest.mark.parametrize("background", [True, False])
def test_gls_estimate_equals_dense_solve(small, background):
    prof, h2, aligned, A, W, ahat = dense_problem(small, background)
    nb = prof.n_background
    out = run_sldp(small["cache"], None, small["sumstats"], profiles=prof, ldscores=small["ldscores"], fastp=True, jk_blocks=6)
    for t in range(len(prof.target_names)):
        idx = list(range(nb)) + [nb + t]
        AI = A[:, idx]
        mu = np.linalg.solve(AI.T @ W @ AI, AI.T @ W @ ahat)[-1]
        np.testing.assert_allclose(out["mu"].iloc[t], mu, rtol=1e-9)
    assert out["n_typed"].iloc[0] == len(ahat)


def test_fwl_chunk_sums_and_jackknife_against_brute_force(small):
    prof, h2, aligned, *_ = dense_problem(small)
    stats, use = chunk_stats(small["cache"], prof, aligned, h2.sigma2g, jk_blocks=6)
    res = reg.residualize(stats)
    mu = reg.estimate(stats)
    np.testing.assert_allclose(res.q.sum(axis=0), mu * res.r.sum(axis=0), rtol=1e-10)
    # brute force: rebuild each chunk's dense (B+1) system, refit without it
    nb, C = stats.n_background, stats.n_chunks
    for t in range(stats.n_targets):
        def system(chunks):
            num = np.concatenate([stats.num_a[chunks].sum(0), [stats.num_t[chunks, t].sum()]])
            den = np.zeros((nb + 1, nb + 1))
            den[:nb, :nb] = stats.den_aa[chunks].sum(0)
            den[:nb, nb] = den[nb, :nb] = stats.den_at[chunks, :, t].sum(0)
            den[nb, nb] = stats.den_tt[chunks, t].sum()
            return np.linalg.solve(den, num)[-1]
        full = system(list(range(C)))
        theta = np.array([system([c for c in range(C) if c != j]) for j in range(C)])
        se = np.sqrt((C - 1) / C * np.sum((theta - theta.mean()) ** 2))
        np.testing.assert_allclose(mu[t], full, rtol=1e-10)
        np.testing.assert_allclose(reg.jackknife_se(stats)[t], se, rtol=1e-8)
        np.testing.assert_allclose(reg.leave_one_out(stats)[:, t], theta, rtol=1e-9)


def test_jackknife_singular_refit_gives_nan():
    s = reg.ChunkStats.zeros(3, 1, 1)
    s.num_a[0] = 1.0
    s.den_aa[0] = 1.0  # the background lives in chunk 0 only: deleting it is singular
    s.den_at[:, 0, 0] = [0.5, 0.0, 0.0]
    s.num_t[:, 0] = [1.0, 2.0, 3.0]
    s.den_tt[:, 0] = [2.0, 1.0, 1.0]
    assert np.isfinite(reg.estimate(s)).all()
    theta = reg.leave_one_out(s)
    assert np.isnan(theta[0, 0]) and np.isfinite(theta[1:, 0]).all()
    assert np.isnan(reg.jackknife_se(s)[0])


def test_chunk_endpoints_hand_examples():
    # total 18, cs 6, avg 3.6 -> limit 4.2; a chunk closes once its size exceeds 4.2
    assert reg.chunk_endpoints(np.array([5, 0, 3, 1, 0, 7, 2]), 3) == [(0, 1), (1, 6), (6, 7)]
    # limit max(1, ...) = 1: a block with one SNP absorbs the next block
    assert reg.chunk_endpoints(np.array([1, 1, 1]), 300) == [(0, 2), (2, 3)]
    assert reg.chunk_endpoints(np.array([2, 3, 4]), 300) == [(0, 1), (1, 2), (2, 3)]
    chunk, n = reg.chunk_of_blocks(np.array([2.0, 0, 3, 0, 4]), np.array([True, False, True, False, True]), 300)
    assert n == 3 and chunk.tolist() == [0, -1, 1, -1, 2]


# ------------------------------------------------------------------ sign flips


def reference_signflip(q, T, batch):
    """The reference's chunkstats.signflip, transcribed (global numpy RNG)."""
    score = q.sum()
    null = np.zeros(T)
    current = 0
    p = 1.0
    while current < len(null):
        s = (-1) ** np.random.binomial(1, 0.5, size=(batch, len(q)))
        null[current : current + batch] = s.dot(q)
        current += batch
        p = max(1, (np.abs(null) >= np.abs(score)).sum()) / float(current)
        if p >= 0.01:
            break
    return p, np.sign(score) * np.sqrt(st.chi2.isf(p, 1))


def test_reference_stream_reproduces_legacy_binomial_sign_flips():
    rng = np.random.default_rng(11)
    q = rng.normal(size=(37, 6)) + np.array([0.0, 0.25, 0.45, 0.7, -0.55, 2.0])
    np.random.seed(123)
    expected = [reference_signflip(q[:, t], 40_000, 4_000) for t in range(q.shape[1])]
    state = np.random.get_state()
    p, z, draws = reg.signflip_test(q, T=40_000, seed=123, rng="reference", batch=4_000)
    assert np.array_equal(p, [e[0] for e in expected])
    np.testing.assert_allclose(z, [e[1] for e in expected], rtol=1e-12)
    assert {4_000, 40_000} <= set(draws.tolist())  # early stops and full runs
    after = np.random.get_state()
    assert after[2] == state[2] and np.array_equal(after[1], state[1])  # global RNG untouched


def test_signflip_floor_zero_score_and_partial_batch():
    q = np.column_stack([np.full(30, 1.0), np.zeros(30), np.random.default_rng(0).normal(size=30)])
    for rng in ("fast", "reference"):
        p, z, draws = reg.signflip_test(q, T=25_000, seed=1, rng=rng, batch=10_000)
        assert p[0] == 1 / 25_000 and draws[0] == 25_000  # floor 1/T, T not a multiple of the batch
        np.testing.assert_allclose(z[0], np.sqrt(st.chi2.isf(1 / 25_000, 1)))
        assert p[1] == 1.0 and z[1] == 0.0 and draws[1] == 10_000  # S == 0
        assert draws[2] == 10_000 and p[2] >= 0.01  # early stop


def test_fast_stream_is_deterministic_and_subset_invariant():
    rng = np.random.default_rng(5)
    q = rng.normal(size=(50, 8)) + 0.35
    p, z, _ = reg.signflip_test(q, T=200_000, seed=9)
    p_again, _, _ = reg.signflip_test(q, T=200_000, seed=9)
    assert np.array_equal(p, p_again)
    for t in (0, 3, 7):
        p_one, _, _ = reg.signflip_test(q[:, [t]], T=200_000, seed=9)
        assert p_one[0] == p[t]
    # agrees with the exact permutation distribution's normal approximation within Monte Carlo error
    zf, pf = reg.fast_test(q)
    ok = pf > 1e-3
    assert np.all(np.abs(p[ok] - pf[ok]) < 0.25 * pf[ok] + 0.01)


def test_fast_test_and_scalings_formulas():
    q = np.array([[1.0, 0.0], [2.0, 0.0], [-0.5, 0.0]])
    z, p = reg.fast_test(q)
    np.testing.assert_allclose(z[0], 2.5 / np.sqrt(1 + 4 + 0.25))
    np.testing.assert_allclose(p[0], 2 * st.norm.sf(abs(z[0])))
    assert np.isnan(z[1])
    d = reg.scalings(mu=[0.1], se=[0.02], sqnorm=[50.0], supp=[10], m=[100], h2g=0.2, sigma2g=0.001)
    rf = 0.1 * np.sqrt(50 / 0.2)
    np.testing.assert_allclose(d["rf"], rf)
    np.testing.assert_allclose(d["h2v_h2g"], rf**2 - 0.02**2 * 50 / (100 * 0.001))
    np.testing.assert_allclose(d["h2v"], d["h2v_h2g"] * 0.2)
    np.testing.assert_allclose(d["supp_over_M"], 0.1)


# ------------------------------------------------------------------ phenotype pieces


def test_estimate_h2g_formula_subset_and_clamp():
    ss = pd.DataFrame({"snp": ["a", "b", "c", "d"], "a1": "A", "a2": "G", "z": [3.0, -1.0, 2.0, 5.0], "n": [100.0, 200, 100, 100]})
    ld = LDScores(pd.DataFrame({"snp": ["a", "b"], "l2": [2.0, 4.0]}), m_5_50=1000, source="test")
    h2 = estimate_h2g(ss, ["a", "b", "c"], ld)  # d is not a print SNP; c has no LD score
    mean_chi2 = (9 + 1 + 4) / 3
    sigma2g = (mean_chi2 - 1) / ((100 * 2 + 200 * 4) / 2)
    np.testing.assert_allclose([h2.sigma2g, h2.h2g_raw, h2.n_bar], [sigma2g, sigma2g * 1000, 400 / 3])
    assert h2.h2g == max(sigma2g * 1000, 0.03) and (h2.n_snps, h2.n_ldscore) == (3, 2)
    low = estimate_h2g(ss.assign(z=[0.1, 0.2, 0.1, 0.0]), ["a", "b", "c"], ld)
    assert low.sigma2g < 0 and low.h2g == 0.03
    with pytest.raises(InputError, match="none of the 4 SNPs is a print"):
        estimate_h2g(ss, ["x"], ld)


def test_gls_weights_formula():
    lam = np.array([3.0, 1.0, 0.5])
    np.testing.assert_allclose(gls_weights(lam, 0.01, 1000.0), 1 / (0.01 * lam**2 + lam / 1000))


# ------------------------------------------------------------------ LD scores


def test_ld_scores_brute_force_and_ldsc_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    g = rng.integers(0, 3, size=(30, 25)).astype(float)
    x = double_unit(g)
    cm = np.sort(rng.uniform(0, 3, 25))
    bp = np.arange(25) * 400_000
    l2 = ld_scores(x, cm, bp, window_cm=1.0, chunk=7)
    r = x.T @ x / 30
    adj = r**2 - (1 - r**2) / 28
    expected = [adj[j, np.abs(cm - cm[j]) <= 1.0].sum() for j in range(25)]
    np.testing.assert_allclose(l2, expected)
    by_bp = ld_scores(x, np.zeros(25), bp, window_bp=1_000_000, chunk=4)  # no cM -> bp window
    np.testing.assert_allclose(by_bp, [adj[j, np.abs(bp - bp[j]) <= 1_000_000].sum() for j in range(25)])
    table = pd.DataFrame({"snp": [f"s{i}" for i in range(25)], "bp": bp, "l2": l2})
    write_ldscores(tmp_path / "ld.", "5", table, m=25, m_5_50=20)
    write_ldscores(tmp_path / "ld.", "6", table.iloc[:0], m=0, m_5_50=0)
    back = read_ldscores(tmp_path / "ld.", ["5", "6"])
    assert back.m_5_50 == 20 and back.table["snp"].tolist() == table["snp"].tolist()
    np.testing.assert_allclose(back.table["l2"], l2, rtol=1e-9)
    with pytest.raises(InputError, match=r"chromosome\(s\) 7 \(ld.7.l2.ldscore, ld.7.l2.M_5_50\); 8"):
        read_ldscores(tmp_path / "ld.", ["5", "7", "8"])


# ------------------------------------------------------------------ invariances and errors


def test_allele_flip_invariance(small):
    kw = dict(ldscores=small["ldscores"], T=20_000, seed=2, jk_blocks=5, background=small["background"])
    base = run_sldp(small["cache"], small["targets"], small["sumstats"], **kw)
    ss = small["sumstats"].copy()
    ss["a1"], ss["a2"], ss["z"] = small["sumstats"]["a2"], small["sumstats"]["a1"], -small["sumstats"]["z"]
    ann = small["targets"].copy()
    cols = ["planted", "weak", "sparse", "random"]
    ann["a1"], ann["a2"] = small["targets"]["a2"], small["targets"]["a1"]
    ann[cols] = -ann[cols]
    flipped = run_sldp(small["cache"], ann, ss, **kw)
    cols = ["mu", "se", "z", "p", "z_fast", "p_fast", "rf"]
    np.testing.assert_allclose(flipped[cols].to_numpy(), base[cols].to_numpy(), rtol=1e-9)


def test_all_zero_background_column_is_left_out(small):
    kw = dict(ldscores=small["ldscores"], T=20_000, seed=2, jk_blocks=5)
    base = run_sldp(small["cache"], small["targets"], small["sumstats"], background=small["background"], **kw)
    more = run_sldp(small["cache"], small["targets"], small["sumstats"], background=small["background"].assign(empty=0.0), **kw)
    pd.testing.assert_frame_equal(base.drop(columns="draws"), more.drop(columns="draws"), check_exact=False, rtol=1e-12)
    assert more.attrs["settings"]["background"] == ["maf_lo", "maf_hi", "bg_rand"]


def test_bad_inputs_raise_input_errors(small, tmp_path):
    cache, ss, ld = small["cache"], small["sumstats"], small["ldscores"]
    tg, bg = small["targets"], small["background"]
    kw = dict(ldscores=ld, T=1000, fastp=True)
    stranger = tg.assign(snp=[f"x{i}" for i in range(len(tg))])
    with pytest.raises(InputError, match="target annotations .*no SNP in common with the panel"):
        run_sldp(cache, stranger, ss, **kw)
    with pytest.raises(InputError, match=r"chromosome\(s\) 3, chrX requested but not in the panel cache"):
        run_sldp(cache, tg, ss, chroms=["21", "3", "chrX"], **kw)
    with pytest.raises(InputError, match="annotation 'weak' has 1 NaN"):
        run_sldp(cache, tg.assign(weak=np.where(np.arange(len(tg)) == 3, np.nan, tg["weak"])), ss, **kw)
    with pytest.raises(InputError, match="maf_lo are both target and background"):
        run_sldp(cache, tg.assign(maf_lo=1.0), ss, background=bg, **kw)
    with pytest.raises(InputError, match="column name.*a1.*more than once"):
        run_sldp(cache, pd.concat([tg, tg[["a1"]]], axis=1), ss, **kw)
    with pytest.raises(InputError, match="none of the .* SNPs is a print"):
        run_sldp(cache, tg, ss.assign(snp=[f"x{i}" for i in range(len(ss))]), **kw)
    with pytest.raises(InputError, match="linearly dependent"):
        run_sldp(cache, tg, ss, background=bg.assign(twin=bg["maf_lo"]), **kw)
    with pytest.raises(InputError, match="rng must be one of"):
        run_sldp(cache, tg, ss, ldscores=ld, rng="numpy")
    with pytest.raises(InputError, match="must be >= 1"):
        run_sldp(cache, tg, ss, ldscores=ld, T=0)
    other = compute_profiles(cache, tg, chroms=["21"])
    with pytest.raises(InputError, match="profiles cover chromosome"):
        run_sldp(cache, None, ss, profiles=other, **kw)
    elsewhere = preprocess_panel({"22": small["panels"]["22"]}, CASE / "blocks.bed", print_snps=None, cache_dir=tmp_path / "c")
    with pytest.raises(InputError, match="another panel cache"):
        run_sldp(elsewhere, None, ss, profiles=compute_profiles(cache, tg, chroms=["22"]), **kw)


# ------------------------------------------------------------------ variant scores as annotations


def write_scores(path: Path) -> np.ndarray:
    from crossreg.variants.output import SCORES_FORMAT, SCORES_FORMAT_VERSION, ScoreWriter, SnpTable

    table = SnpTable(snp=["rs1", "rs2", "rs3"], chr=["1"] * 3, pos=[10, 20, 30], ref_allele=["A", "c", "G"],
                     alt_allele=["G", "T", "a"], flipped=[False] * 3)
    sad = np.array([[0.5, -1.25, 3.0], [2.0, 0.0, -0.75], [-3.5, 1.5, 0.125]], dtype=np.float32)
    with h5py.File(path, "w") as h5:
        w = ScoreWriter(h5, table, ["t0", "t1", "t2"], ["a", "b", "c"], ["SAD"],
                        {"format": SCORES_FORMAT, "format_version": SCORES_FORMAT_VERSION})
        w.add({"SAD": sad})
        w.close()
    return sad


def test_annotations_from_scores(tmp_path):
    from crossreg.sldp import annotations_from_scores

    sad = write_scores(tmp_path / "s.h5")
    frame = annotations_from_scores(tmp_path / "s.h5")
    assert frame.columns.tolist() == ["snp", "a1", "a2", "t0", "t1", "t2"]
    assert frame["a1"].tolist() == ["G", "T", "A"] and frame["a2"].tolist() == ["A", "C", "G"]
    np.testing.assert_array_equal(frame[["t0", "t1", "t2"]].to_numpy(), sad.astype(np.float16).astype(np.float64))
    assert all(frame[c].dtype == np.float64 for c in ("t0", "t1", "t2"))
    picked = annotations_from_scores(tmp_path / "s.h5", tracks=["t2", "t0"])
    assert picked.columns.tolist() == ["snp", "a1", "a2", "t2", "t0"]
    np.testing.assert_array_equal(picked["t2"], sad[:, 2].astype(np.float16))
    with pytest.raises(InputError, match="unknown track.*'t9'"):
        annotations_from_scores(tmp_path / "s.h5", tracks=["t0", "t9"])


def test_importing_sldp_loads_no_keras_or_tensorflow(tmp_path):
    write_scores(tmp_path / "s.h5")
    code = (
        "import sys, json\n"
        "import crossreg.sldp\n"
        "from crossreg.sldp import annotations_from_scores\n"
        f"annotations_from_scores({str(tmp_path / 's.h5')!r})\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'jax') "
        "or m.startswith('crossreg.model'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_alpha_scales_annotations_by_heterozygosity(small):
    cache, tg = small["cache"], small["targets"]
    maf = pd.concat([pd.Series(cache.chrom(c).maf, index=cache.chrom(c).bim["snp"]) for c in CHROMS])
    scale = np.sqrt(2 * maf * (1 - maf)).reindex(tg["snp"]).fillna(0.0).to_numpy()
    cols = ["planted", "weak", "sparse", "random"]
    manual = tg.copy()
    manual[cols] = tg[cols].to_numpy() * scale[:, None]
    a = compute_profiles(cache, tg, alpha=0.0)
    b = compute_profiles(cache, manual)
    for block, rv in a.rv.items():
        np.testing.assert_allclose(rv, b.rv[block], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.info.to_numpy(), b.info.to_numpy(), rtol=1e-12)
    assert a.digest != compute_profiles(cache, tg).digest


def test_write_results_and_summary(small, tmp_path):
    from crossreg.sldp import result_summary, write_results

    res = run_sldp(small["cache"], small["targets"], small["sumstats"], ldscores=small["ldscores"], T=10_000, jk_blocks=5)
    write_results(res, tmp_path / "r.tsv")
    back = pd.read_csv(tmp_path / "r.tsv", sep="\t")
    assert back.columns.tolist() == list(res.columns)
    np.testing.assert_allclose(back[["mu", "se", "p", "z_fast"]], res[["mu", "se", "p", "z_fast"]], rtol=1e-9)
    summary = json.loads(json.dumps(result_summary(res)))
    assert summary["heritability"]["sigma2g"] == res["sigma2g"].iloc[0]
    assert [r["what"] for r in summary["reports"]] == ["target annotations", "summary statistics"]
    assert "swapped alleles" in summary["reports"][1]["text"]
