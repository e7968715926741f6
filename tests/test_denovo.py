"""crossreg.denovo: de novo variants of cases vs sibling controls (paper Figure 5).

Checks: a hand-checked 3-family table (U, p, q, effects, binomial p against scipy/statsmodels
called directly and by hand); the fast per-track Mann-Whitney U against scipy (ties, constant
columns, float32); a planted brain signal found where it was planted; calibration under
permuted labels; PCA against numpy's SVD; every exclusion reason and every error; missing
scores; track groups; the whole chain through the real scorer (sites VCF -> read_vcf ->
score-variants in 2 chunks -> gather -> denovo), deterministic outputs; and that importing
the package loads neither Keras nor the model code.
"""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crossreg.denovo import (
    assign_groups,
    denovo_analysis,
    denovo_sites,
    read_denovo_table,
    run_denovo,
    scores_for_table,
    write_outputs,
    write_sites_vcf,
)
from crossreg.denovo.core import ism_region
from crossreg.denovo.families import compare_families
from crossreg.denovo.groups import groups_from_labels, parse_group_rules, read_group_table
from crossreg.denovo.pca import pca
from crossreg.denovo.stats import bh_qvalues, case_control_columns, paired_sign_test
from crossreg.errors import InputError

from conftest import random_sequence, write_fasta

HEADER = "family_id\tindividual_id\trole\tchrom\tpos\tref\talt\n"


def write_table(path: Path, rows, header: str = HEADER) -> Path:
    text = header + "".join("\t".join(str(x) for x in r) + "\n" for r in rows)
    if str(path).endswith(".gz"):
        with gzip.open(path, "wt") as out:
            out.write(text)
    else:
        path.write_text(text)
    return path


def cohort_rows(rng, n_families: int, per_individual: int, chroms=("chr1", "chr2"), span=1_000_000):
    """One case and one control per family, ``per_individual`` SNPs each (random positions)."""
    rows = []
    for f in range(n_families):
        for role, tag in (("case", "p1"), ("control", "s1")):
            for _ in range(per_individual):
                ref, alt = rng.choice(list("ACGT"), 2, replace=False)
                rows.append((f"F{f:03d}", f"F{f:03d}.{tag}", role, chroms[int(rng.integers(len(chroms)))],
                             int(rng.integers(1, span)), ref, alt))
    return rows


def planted_scores(rng, table, n_brain=10, n_heart=10, n_other=10, shift=3.0, hit=0.3):
    """Correlated heavy-tailed scores; case variants hit (prob ``hit``) get -shift on brain tracks only."""
    n, t = len(table), n_brain + n_heart + n_other
    latent = rng.standard_t(4, size=(n, 1))
    scores = 0.6 * latent + rng.standard_t(4, size=(n, t))
    hits = table.is_case & (rng.random(n) < hit)
    scores[np.ix_(hits, np.arange(n_brain))] -= shift * (1 + np.abs(rng.standard_normal((int(hits.sum()), 1))))
    ids = [f"T{i:02d}" for i in range(t)]
    labels = ([f"CAGE:brain region {i}" for i in range(n_brain)] + [f"CAGE:heart part {i}" for i in range(n_heart)]
              + [f"CAGE:liver sample {i}" for i in range(n_other)])
    return scores, ids, labels


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("denovo_planted")
    table, report = read_denovo_table(write_table(root / "t.tsv.gz", cohort_rows(rng, 60, 20)))
    scores, ids, labels = planted_scores(rng, table)
    return table, report, scores, ids, labels


# ---------------------------------------------------------------------- hand-checked statistics
def test_hand_checked_three_families(tmp_path):
    # F1: case c1 (2 SNPs), control s1 (1); F2: c2 (1), s2 (2); F3: c3 (1), s3 (1): 4 + 4 variants
    rows = [("F1", "c1", "case", "chr1", 100, "A", "G"), ("F1", "c1", "case", "chr1", 200, "C", "T"),
            ("F1", "s1", "control", "chr1", 300, "G", "A"),
            ("F2", "c2", "case", "chr2", 100, "T", "C"),
            ("F2", "s2", "control", "chr2", 200, "A", "C"), ("F2", "s2", "control", "chr2", 300, "A", "T"),
            ("F3", "c3", "CASE", "chr1", 400, "g", "t"), ("F3", "s3", "Control", "chr2", 400, "C", "G")]
    table, report = read_denovo_table(write_table(tmp_path / "t.tsv", rows))
    assert len(table) == 8 and table.n_case == 4 and report.counts == {}
    assert table.paired_families == ["F1", "F2", "F3"] and table.ref[6] == "G"
    # rows in file order: c1, c1, s1, c2, s2, s2, c3, s3
    scores = np.array([
        #  T0     T1     T2
        [-4.0, 1.0, 0.5],   # c1
        [-3.0, -1.0, 2.0],  # c1
        [1.0, 0.0, 0.1],    # s1
        [-2.0, 2.0, 3.0],   # c2
        [2.0, 1.5, -0.2],   # s2
        [3.0, -2.0, 0.3],   # s2
        [-1.0, 3.0, -1.0],  # c3
        [4.0, 2.5, 1.5],    # s3
    ])
    res = run_denovo(table, scores, ["T0", "T1", "T2"], ["brain a", "liver", "brain b"], ["brain", "other", "brain"])
    case, ctrl = scores[table.is_case], scores[~table.is_case]
    ref = stats.mannwhitneyu(case, ctrl, axis=0)
    assert np.array_equal(res.tests.U, ref.statistic) and np.array_equal(res.tests.p, ref.pvalue)
    # by hand: T0 every case score is below every control score -> U = 0; 4 vs 4 without ties is
    # scipy's exact method: two-sided p = 2 / C(8, 4) = 2 / 70
    assert res.tests.U[0] == 0 and res.tests.p[0] == pytest.approx(2 / 70, rel=1e-12)
    # T1: cases (1, -1, 2, 3) vs controls (0, 1.5, -2, 2.5): pairs with case > control
    # = 2 + 1 + 3 + 4 = 10 (no ties anywhere, so scipy's auto method is exact for every track)
    assert res.tests.U[1] == 10 and res.tests.method == "auto"
    q = multipletests(ref.pvalue, method="fdr_bh")[1]
    assert np.allclose(res.q, q, rtol=1e-14)
    # by hand, BH: q of the smallest p = min over k of p_(k) * 3 / k
    p_sorted = np.sort(ref.pvalue)
    assert res.q[0] == pytest.approx(min(p_sorted[k] * 3 / (k + 1) for k in range(3)), rel=1e-12)
    effect = np.arcsinh(case).mean(axis=0) - np.arcsinh(ctrl).mean(axis=0)
    assert np.allclose(res.tests.effect, effect, rtol=1e-14)
    # by hand, T0: mean asinh(-4,-3,-2,-1) - mean asinh(1,2,3,4) = -2 * mean asinh(1..4)
    assert res.tests.effect[0] == pytest.approx(-2 * np.mean(np.arcsinh([1, 2, 3, 4])))
    assert res.direction.tolist()[0] == "case_lower" and res.significant.tolist() == list(res.q <= 0.1)
    # chosen track: smallest p is T0; burdens: c1 = -7, s1 = 0, c2 = -2, s2 = 0, c3 = -1, s3 = 0
    assert res.chosen == 0 and res.chosen_by == "smallest p"
    assert res.families.case_sum.tolist() == [-7.0, -2.0, -1.0] and res.families.control_sum.tolist() == [0, 0, 0]
    # 3 of 3 cases more negative: two-sided binomial p = 2 * 0.5^3 = 0.25
    assert res.families.test.n_case_lower == 3 and res.families.test.p == pytest.approx(0.25)
    assert res.families.test.p == stats.binomtest(3, 3, 0.5).pvalue
    # eps = 1% of the median non-zero |burden| (1, 2, 7 -> 2): log((7 + 0.02) / 0.02) for F1
    assert res.families.eps == pytest.approx(0.02)
    assert res.families.log_ratio[0] == pytest.approx(math.log(7.02 / 0.02))
    # top case variants on T0, most negative first, with ISM windows centred on them
    assert res.top_variants["score"].tolist() == [-4.0, -3.0, -2.0, -1.0]
    assert res.top_variants["ism_region"].tolist()[0] == "chr1:1-200"  # pos 100 -> start clipped to 1
    # group test: brain p-values (T0, T2) vs the other track's (T1), as scipy directly
    brain = res.group_tests[0]
    assert brain.group == "brain" and brain.n_tracks == 2
    assert brain.p_smaller == stats.mannwhitneyu(ref.pvalue[[0, 2]], ref.pvalue[[1]], alternative="less").pvalue
    # PC1 test is scipy's MWU of the PC1 scores
    pc1 = res.pca.scores[:, 0]
    assert res.pc1_test[1] == stats.mannwhitneyu(pc1[table.is_case], pc1[~table.is_case]).pvalue
    # the chosen track by identifier or index; T2's burdens: c1 = 0, c2 = 0, c3 = -1; s2 = -0.2
    for chosen in ("T2", 2, "2"):
        other = run_denovo(table, scores, ["T0", "T1", "T2"], ["a", "b", "c"], ["x", "y", "x"], chosen_track=chosen)
        assert other.chosen == 2 and other.chosen_by == "given"
        assert other.families.case_sum.tolist() == [0.0, 0.0, -1.0]
        assert other.families.control_sum.tolist() == [0.0, -0.2, 0.0]
        assert other.families.test.n_ties == 1 and other.families.test.n_case_lower == 1
    with pytest.raises(InputError, match="chosen track 'T9': not a track identifier"):
        run_denovo(table, scores, ["T0", "T1", "T2"], ["a", "b", "c"], ["x", "y", "x"], chosen_track="T9")
    with pytest.raises(InputError, match="--fdr must be between 0 and 1"):
        run_denovo(table, scores, ["T0", "T1", "T2"], ["a", "b", "c"], ["x", "y", "x"], fdr=1.5)


def test_fast_mann_whitney_equals_scipy():
    rng = np.random.default_rng(3)
    n1, n2, t = 120, 95, 12
    x = rng.integers(-4, 5, (n1 + n2, t)).astype(np.float64)  # many ties
    x[:, 0] = 2.0  # constant column: scipy gives p = 1
    x[:, 1] = rng.standard_normal(n1 + n2).astype(np.float16)  # no ties
    x[:n1, 2] -= 1.5  # a real difference
    x[:40, 3], x[40:90, 3] = 0.0, -0.0  # signed zeros are one tie group
    x[::3, 4] = 65504.0  # the float16 extremes
    x[1::3, 4] = -65504.0
    ref = stats.mannwhitneyu(x[:n1], x[n1:], axis=0)
    effect = np.arcsinh(x[:n1]).mean(axis=0) - np.arcsinh(x[n1:]).mean(axis=0)
    # float16-exact values (as read from a score file) are ranked by counting, others by sorting:
    # 1e-3 added to one column moves the whole matrix to the sorting path
    nudged = x.copy()
    nudged[:, 5] += 1e-3
    ref_nudged = stats.mannwhitneyu(nudged[:n1], nudged[n1:], axis=0)
    for data, want in ((x, ref), (nudged, ref_nudged)):
        for dtype in (np.float64, np.float32):
            if dtype == np.float32 and data is nudged:
                continue  # 1e-3 offsets are not exact in float32: other values, other test
            for threads in (1, 3):
                res = case_control_columns(data[:n1].astype(dtype), data[n1:].astype(dtype), threads=threads)
                assert res.method == "asymptotic"
                assert np.array_equal(res.U, want.statistic)
                np.testing.assert_allclose(res.p, want.pvalue, rtol=1e-13, atol=0)
    np.testing.assert_allclose(res.effect, np.arcsinh(nudged[:n1]).mean(axis=0) - np.arcsinh(nudged[n1:]).mean(axis=0),
                               rtol=1e-12, atol=1e-13)
    counted = case_control_columns(x[:n1], x[n1:])
    np.testing.assert_allclose(counted.effect, effect, rtol=1e-12, atol=1e-13)
    assert counted.p[0] == 1.0 and ref.pvalue[2] < 1e-3
    # the two rank paths agree exactly on the same float16-exact data
    from crossreg.denovo.stats import _block_by_counting, _block_by_sorting, as_float16_exact

    by_count = _block_by_counting(as_float16_exact(x[:n1]), as_float16_exact(x[n1:]), 0, t)
    by_sort = _block_by_sorting(x[:n1], x[n1:], 0, t, True)
    assert np.array_equal(by_count[2], by_sort[2]) and np.array_equal(by_count[3], by_sort[3])
    assert as_float16_exact(nudged) is None and as_float16_exact(np.array([[7e4]])) is None
    # small samples: scipy's exact path
    small = case_control_columns(x[:5, 1:3], x[5:12, 1:3])
    ref_small = stats.mannwhitneyu(x[:5, 1:3], x[5:12, 1:3], axis=0)
    assert np.array_equal(small.p, ref_small.pvalue) and np.array_equal(small.U, ref_small.statistic)


def test_bh_and_sign_test_match_statsmodels_and_scipy():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    q = bh_qvalues(p)
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2, 3, 4]], multipletests(p[[0, 2, 3, 4]], method="fdr_bh")[1])
    a = np.array([-3.0, -1.0, 0.0, -2.0, -5.0])
    b = np.array([-1.0, -2.0, 0.0, 0.0, -4.0])
    res = paired_sign_test(a, b)
    assert (res.n_families, res.n_case_lower, res.n_ties) == (4, 3, 1)
    assert res.p == stats.binomtest(3, 4, 0.5).pvalue and res.fraction == 0.75


# ---------------------------------------------------------------------- planted signal and calibration
def test_planted_brain_signal_is_found(planted, tmp_path):
    table, report, scores, ids, labels = planted
    groups = assign_groups(ids, labels, rules=["brain=brain", "heart=heart"])
    assert groups.groups[:10] == ["brain"] * 10 and groups.groups[-1] == "other" and groups.n_defaulted == 10
    res = run_denovo(table, scores, ids, labels, groups, exclusions=report)
    order = np.argsort(res.tests.p)
    assert set(order[:10]) == set(range(10))  # the 10 brain tracks are the most significant
    assert res.significant[:10].all() and (res.direction[:10] == "case_lower").all()
    assert (res.tests.effect[:10] < 0).all()
    assert res.significant[10:].sum() <= 1
    brain = next(g for g in res.group_tests if g.group == "brain")
    assert brain.p_smaller < 1e-4 and brain.p_two_sided < 2e-4
    heart = next(g for g in res.group_tests if g.group == "heart")
    assert heart.p_smaller > 0.05
    assert res.chosen < 10
    fam = res.families.test
    assert fam.fraction > 0.7 and fam.p < 1e-3 and fam.n_families + fam.n_ties == 60
    top = res.top_variants
    assert len(top) == 20 and top["score"].is_monotonic_increasing and (top["score"] < 0).all()
    assert set(top["individual"]) <= set(table.member_ids[table.member_is_case])
    # PCA: PC1 scores correlate positively with each variant's mean score (the sign rule)
    assert np.corrcoef(res.pca.scores[:, 0], scores.mean(axis=1))[0, 1] > 0
    paths = write_outputs(res, tmp_path / "out")
    summary = json.loads(paths["summary"].read_text())
    assert summary["format"] == "crossreg-denovo" and summary["format_version"] == 1
    assert summary["tracks"]["significant_case_lower"] == int(np.sum(res.significant & (res.direction == "case_lower")))
    assert summary["families"]["binomial_p"] == pytest.approx(fam.p)
    tracks = pd.read_csv(paths["tracks"], sep="\t")
    assert list(tracks.columns) == ["identifier", "description", "group", "n_case", "n_control", "U", "p", "q",
                                    "effect", "direction", "significant"]
    np.testing.assert_allclose(tracks["p"], res.tests.p, rtol=1e-9)


def test_calibration_under_permuted_labels(planted):
    # The planted matrix with case/control labels permuted over variants is a global null (with
    # correlated tracks). BH at 0.1 then makes any discovery in at most ~10% of permutations (its
    # FWER under the global null is <= 0.1); we allow 15% of 200 (P(Binomial(200, 0.1) > 30) < 0.01),
    # and the pooled p-values must look uniform.
    table, _, scores, _, _ = planted
    rng = np.random.default_rng(11)
    n_case = table.n_case
    any_hit, small = 0, []
    for _ in range(200):
        perm = rng.permutation(len(table))
        res = case_control_columns(scores[perm[:n_case]], scores[perm[n_case:]], threads=1)
        any_hit += bool((bh_qvalues(res.p) <= 0.1).any())
        small.append(res.p)
    pooled = np.concatenate(small)
    assert any_hit <= 30
    assert 0.03 <= np.mean(pooled < 0.05) <= 0.07
    # while the real labels find the brain tracks (the test has power)
    real = case_control_columns(scores[table.is_case], scores[~table.is_case])
    assert (bh_qvalues(real.p)[:10] <= 0.1).all()


def test_pca_matches_numpy_svd_and_is_deterministic():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((400, 30))
    x[:, :12] += 2.5 * rng.standard_normal((400, 1))  # a clear first component
    x[:, 12:20] += 1.2 * rng.standard_normal((400, 1))  # a second one
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    explained = s**2 / np.sum(s**2)
    for method in ("covariance-eigh", "randomized"):
        res = pca(x.astype(np.float32) if method == "randomized" else x, 2, method=method)
        np.testing.assert_allclose(res.explained, explained[:2], rtol=1e-5)
        for j in range(2):
            assert abs(abs(res.loadings[:, j] @ vt[j]) - 1) < 1e-5
        assert res.loadings[:, 0].sum() > 0 and np.corrcoef(res.scores[:, 0], x.mean(axis=1))[0, 1] > 0
        assert np.abs(res.loadings[:, 1]).argmax() == np.argmax(res.loadings[:, 1])
    again, flipped = pca(x, 2), pca(-x, 2)
    assert np.array_equal(again.scores, pca(x, 2).scores)  # same input, same output
    # negated data: the same axes; the sign rule keeps PC1 correlated with the (negated) mean score
    assert np.allclose(flipped.loadings, again.loadings) and np.allclose(flipped.scores, -again.scores)
    assert np.corrcoef(flipped.scores[:, 0], -x.mean(axis=1))[0, 1] > 0
    scaled = pca(x, 2, scale=True)
    z = xc / x.std(axis=0, ddof=1)
    sz = np.linalg.svd(z, compute_uv=False)
    np.testing.assert_allclose(scaled.explained, (sz**2 / np.sum(sz**2))[:2], rtol=1e-9)


# ---------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small_genome(tmp_path_factory):
    root = tmp_path_factory.mktemp("denovo_genome")
    rng = np.random.default_rng(21)
    seqs = {"chr1": random_sequence(rng, 6000), "chr2": random_sequence(rng, 3000)}
    return {"root": root, "seqs": seqs, "fasta": write_fasta(root / "g.fa", seqs)}


def _other(b: str, k: int = 1) -> str:
    return "ACGT"[("ACGT".index(b.upper()) + k) % 4]


def test_every_exclusion_reason_is_counted_with_examples(small_genome, tmp_path):
    s = small_genome["seqs"]
    b = lambda c, p: s[c][p - 1].upper()  # noqa: E731
    ok = lambda fam, ind, role, c, p: (fam, ind, role, c, p, b(c, p), _other(b(c, p)))  # noqa: E731
    rows = [
        ok("F1", "F1.p", "case", "chr1", 100),
        ok("F1", "F1.s", "control", "chr1", 200),
        ("F1", "F1.p", "case", "chr1", 300, b("chr1", 300), "."),                           # missing_alt (line 4)
        ("F1", "F1.p", "case", "chr1", 310, b("chr1", 310), "A,C"),                         # multiallelic
        ("F1", "F1.p", "case", "chr1", 320, b("chr1", 320), "<DEL>"),                       # symbolic_alt
        ("F1", "F1.p", "case", "chr1", 330, b("chr1", 330), b("chr1", 330) + "T"),          # indel
        ("F1", "F1.s", "control", "chr1", 340, b("chr1", 340), "-"),                        # indel (dash)
        ("F1", "F1.p", "case", "chr1", 350, s["chr1"][349:351].upper(), "AA"),              # mnp
        ("F1", "F1.p", "case", "chr1", 360, "N", "A"),                                      # non_acgt
        ("F1", "F1.p", "case", "chr1", 370, b("chr1", 370), b("chr1", 370)),                # ref_equals_alt
        (".", "X.p", "case", "chr1", 380, b("chr1", 380), _other(b("chr1", 380))),         # missing_family
        ("", "Y.p", "case", "chr1", 385, b("chr1", 385), _other(b("chr1", 385))),          # missing_family
        ok("F1", "F1.p", "case", "chr1", 100),                                              # duplicate (line 14)
        ("F1", "F1.s", "control", "chr2", 50, _other(b("chr2", 50)), _other(b("chr2", 50), 2)),  # ref_mismatch
        ok("F2", "F2.p", "case", "chr2", 60),                                               # F2: no control
        ok("F3", "F3.s", "control", "chr2", 70),                                            # F3: no case
        ok("F4", "F4.p1", "case", "chr2", 80), ok("F4", "F4.p2", "case", "chr2", 90),
        ok("F4", "F4.s", "control", "chr2", 95),                                            # F4: 2 cases
        ok("F5", "F5.p", "case", "chr2", 100), ok("F5", "F5.s1", "control", "chr2", 110),
        ok("F5", "F5.s2", "control", "chr2", 120),                                          # F5: 2 controls, paired
    ]
    path = write_table(tmp_path / "messy.tsv", rows)
    table, report = read_denovo_table(path, fasta=small_genome["fasta"])
    expected = {"missing_alt": 1, "multiallelic": 1, "symbolic_alt": 1, "indel": 2, "mnp": 1, "non_acgt": 1,
                "ref_equals_alt": 1, "missing_family": 2, "duplicate": 1, "ref_mismatch": 1,
                "family_without_control": 1, "family_without_case": 1, "family_with_several_cases": 1}
    assert report.counts == expected
    assert report.examples["missing_alt"] == [f"line 4: F1.p chr1:300 {b('chr1', 300)}>."]
    assert report.examples["duplicate"][0].startswith("line 14: F1.p chr1:100")
    assert "FASTA has" in report.examples["ref_mismatch"][0]
    assert report.examples["family_without_case"] == ["family F3 (cases: none; controls: F3.s)"]
    assert len(report.examples["indel"]) == 2 and "indel 2 records" in report.text()
    assert report.n_records == 12
    assert table.paired_families == ["F1", "F5"]
    # kept: F1.p, F1.s, F2.p, F3.s, F4 x3, F5 x3; every row is kept or excluded exactly once
    assert len(table) == 10 and len(table) + report.n_records == len(rows)
    assert table.chrom_sizes == {"chr1": 6000, "chr2": 3000}
    # F1's control has one valid SNP; F5's control burden is the mean of its two controls
    scores = np.full((len(table), 2), 1.0)
    scores[:, 0] = -np.arange(1, len(table) + 1)
    fam = compare_families(table, scores[:, 0])
    f5 = list(fam.family).index("F5")
    members = {m: i for i, m in enumerate(table.individual)}
    assert fam.control_sum[f5] == pytest.approx((scores[members["F5.s1"], 0] + scores[members["F5.s2"], 0]) / 2)
    assert fam.control_ids[f5] == "F5.s1,F5.s2"
    # all-positive scores: every burden is 0, so every family is a tie (left out of the test, counted)
    fam0 = compare_families(table, scores[:, 1])
    assert fam0.test.n_ties == 2 and fam0.test.n_families == 0 and math.isnan(fam0.test.p)
    # the sites VCF: one record per distinct site, in FASTA order, ids chrom:pos:ref:alt
    from crossreg.variants.vcf import read_vcf

    n = write_sites_vcf(table, tmp_path / "sites.vcf.gz", table.chrom_sizes)
    back = read_vcf(tmp_path / "sites.vcf.gz")
    assert n == len(back.snps) == len(set(table.site_keys())) and not back.skipped
    assert [x.id for x in back.snps] == sorted(set(table.site_keys()), key=lambda k: (k.split(":")[0], int(k.split(":")[1])))


@pytest.mark.parametrize("rows,header,needle", [
    ([("F1", "a", "case", "chr1", 10, "A", "G")], "family_id\tindividual_id\trole\tchrom\tpos\tref\n",
     "line 1: missing column(s) alt"),
    ([("F1", "a", "case", "chr1", 10, "A", "G"), ("F1", "b", "sibling", "chr1", 11, "A", "G")], HEADER,
     "line 3: unknown role 'sibling'"),
    ([("F1", "a", "case", "chr1", "1e5", "A", "G")], HEADER, "line 2: pos '1e5' is not a positive integer"),
    ([("F1", "a", "case", "chr1", 0, "A", "G")], HEADER, "line 2: pos '0'"),
    ([("F1", "a", "case", "chr1", "12.0", "A", "G")], HEADER, "line 2: pos '12.0'"),
    ([("F1", "a", "case", "chr1", 10, "A")], HEADER, "line 2: 6 tab-separated fields"),
    ([("F1", "a", "case", "chr1", 10, "A", "G"), ("F1", "a", "control", "chr1", 11, "A", "G")], HEADER,
     "line 3: individual 'a' is a control here and a case on line 2"),
    ([("F1", "a", "case", "chr1", 10, "A", "G"), ("F2", "a", "case", "chr1", 11, "A", "G")], HEADER,
     "line 3: individual 'a' is in family 'F2' here and in family 'F1' on line 2"),
    ([("F1", "", "case", "chr1", 10, "A", "G")], HEADER, "line 2: empty individual_id"),
])
def test_malformed_tables_name_file_and_line(tmp_path, rows, header, needle):
    path = write_table(tmp_path / "bad.tsv", rows, header)
    with pytest.raises(InputError) as err:
        read_denovo_table(path)
    assert str(path) in str(err.value) and needle in str(err.value)


def test_fasta_disagreements_are_errors(small_genome, tmp_path):
    path = write_table(tmp_path / "t.tsv", [("F1", "a", "case", "1", 10, "A", "G")])
    with pytest.raises(InputError, match=r"line 2: chromosome '1' is not in the FASTA .*it has 'chr1'"):
        read_denovo_table(path, fasta=small_genome["fasta"])
    path = write_table(tmp_path / "t2.tsv", [("F1", "a", "case", "chr2", 3001, "A", "G")])
    with pytest.raises(InputError, match=r"t2.tsv: line 2: position chr2:3001 is past the chromosome end"):
        read_denovo_table(path, fasta=small_genome["fasta"])
    with pytest.raises(InputError, match="no such file"):
        read_denovo_table(tmp_path / "absent.tsv")


def test_track_groups_from_table_and_rules(tmp_path):
    ids, labels = ["a", "b", "c", "d"], ["CAGE:Neonate Cerebellum", "CAGE:heart, fetal", "CAGE:embryo E11", "liver"]
    path = tmp_path / "groups.tsv"
    path.write_text("identifier\tgroup\na\tbrain\nb\theart\nzz\tbrain\n")
    g = assign_groups(ids, labels, table=path)
    assert g.groups == ["brain", "heart", "other", "other"] and g.n_defaulted == 2 and g.n_unknown == 1
    # rules: case-insensitive substrings, the first matching rule wins
    r = groups_from_labels(labels, ["brain=cerebell", "embryo=fetal,embryo", "heart=heart"])
    assert r.groups == ["brain", "embryo", "embryo", "other"] and r.n_defaulted == 1
    assert assign_groups(ids, labels).groups[:3] == ["brain", "heart", "embryo"]  # default rules
    assert parse_group_rules(["Brain = Cortex, HIPPO "]) == [("Brain", ["cortex", "hippo"])]
    for bad in (["brain"], ["=x"], ["brain="]):
        with pytest.raises(InputError, match="expected GROUP=keyword1,keyword2"):
            parse_group_rules(bad)
    path.write_text("identifier\tgroup\na\tbrain\na\theart\n")
    with pytest.raises(InputError, match=r"groups.tsv: line 3: track 'a' is in group 'heart' here and 'brain' on line 2"):
        read_group_table(path)
    with pytest.raises(InputError, match="not both"):
        assign_groups(ids, labels, table=path, rules=["x=y"])


def test_ism_regions_are_centred_and_inside_the_chromosome():
    assert ism_region("chr1", 1000, 200) == "chr1:900-1099"
    assert ism_region("chr1", 50, 200) == "chr1:1-200"
    assert ism_region("chr1", 990, 200, chrom_size=1000) == "chr1:801-1000"
    assert ism_region("chr1", 5, 201, chrom_size=100) == "chr1:1-100"


# ---------------------------------------------------------------------- through the real scorer
def _linear_predictor(tracks: int = 4, seq_length: int = 256):
    """x [n, L, 4] -> [n, bins, tracks]: a fixed random linear read-out of the one-hot sequence."""
    from crossreg.variants import Predictor

    rng = np.random.default_rng(2)
    w = rng.normal(0, 1, (4, tracks)).astype(np.float32)
    pos = rng.uniform(0.2, 2.0, seq_length).astype(np.float32)

    def predict_fn(x):
        y = (x.astype(np.float32) @ w) * pos[None, :, None]
        return y.reshape(len(x), seq_length // 32, 32, tracks).sum(axis=2)

    return Predictor(predict_fn, seq_length, tracks, "human", model_dir="numpy:linear", params_sha256="lin",
                     weights_sha256="lin", bins=seq_length // 32, bin_width=32)


@pytest.fixture(scope="module")
def scored(small_genome, tmp_path_factory):
    """A cohort table on the small genome, its sites VCF scored in 2 chunks and gathered."""
    from crossreg.variants import gather_scores, score_variants

    root = tmp_path_factory.mktemp("denovo_scored")
    rng = np.random.default_rng(8)
    s = small_genome["seqs"]
    rows = []
    for f in range(12):
        for role, tag in (("case", "p1"), ("control", "s1")):
            for _ in range(6):
                c = "chr1" if rng.random() < 0.6 else "chr2"
                p = int(rng.integers(1, len(s[c]) + 1))
                rows.append((f"F{f:02d}", f"F{f:02d}.{tag}", role, c, p, s[c][p - 1].upper(),
                             _other(s[c][p - 1], int(rng.integers(1, 4)))))
    rows.append(("F00", "F00.p1", "case", "chr1", 10, "A", "AT"))  # an indel: excluded
    rows.append(("F00", "F00.s1", "control", *rows[2][3:]))  # the case's site, in its sibling too
    table_path = write_table(root / "denovo.tsv", rows)
    info = denovo_sites(table_path, small_genome["fasta"], root / "sites.vcf.gz", exclusions_out=root / "excl.tsv")
    pred = _linear_predictor()
    for i in range(2):
        score_variants(pred, "human", small_genome["fasta"], root / "sites.vcf.gz", root / f"c{i}.h5", chunk=i, of=2)
    gather_scores([root / "c0.h5", root / "c1.h5"], root / "scores.h5")
    return {"root": root, "table": table_path, "info": info, "rows": rows, "scores": root / "scores.h5"}


def test_sites_vcf_reads_back_with_every_snp(scored):
    from crossreg.variants.vcf import read_vcf

    table, _ = read_denovo_table(scored["table"])
    back = read_vcf(scored["root"] / "sites.vcf.gz")
    assert not back.skipped and len(back.snps) == scored["info"]["sites"] == len(set(table.site_keys()))
    assert {x.id for x in back.snps} == set(table.site_keys())
    assert [(x.chrom, x.pos) for x in back.snps] == sorted((x.chrom, x.pos) for x in back.snps)  # chr1 < chr2
    assert scored["info"]["exclusions"] == {"indel": 1}
    assert pd.read_csv(scored["root"] / "excl.tsv", sep="\t")["reason"].tolist() == ["indel"]


def test_whole_chain_through_the_scorer_is_deterministic(scored, small_genome, tmp_path):
    import h5py

    out1, out2 = tmp_path / "a", tmp_path / "b"
    res = denovo_analysis(scored["table"], scored["scores"], out1, fasta=small_genome["fasta"], top_n=5)
    denovo_analysis(scored["table"], scored["scores"], out2, fasta=small_genome["fasta"], top_n=5)
    names = sorted(p.name for p in out1.iterdir())
    assert names == sorted(["tracks.tsv", "groups.tsv", "pca.tsv", "families.tsv", "top_variants.tsv",
                            "exclusions.tsv", "summary.json", "effect_vs_significance.png", "families.png"])
    for name in names:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name
    assert (out1 / "effect_vs_significance.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the scores used are the score file's, joined by site: check against h5py directly
    with h5py.File(scored["scores"], "r") as h5:
        keys = [f"{c}:{p}:{r}:{a}" for c, p, r, a in zip(h5["chr"].asstr()[:], h5["pos"][:], h5["ref_allele"].asstr()[:],
                                                            h5["alt_allele"].asstr()[:])]
        sad = h5["SAD"][:].astype(np.float64)
    table = res.table
    expected = sad[[keys.index(k) for k in table.site_keys()]]
    ref = stats.mannwhitneyu(expected[table.is_case], expected[~table.is_case], axis=0)
    tracks = pd.read_csv(out1 / "tracks.tsv", sep="\t")
    np.testing.assert_allclose(tracks["p"], ref.pvalue, rtol=1e-9)
    assert (tracks["n_case"] == 72).all() and (tracks["n_control"] == 73).all()
    summary = json.loads((out1 / "summary.json").read_text())
    assert summary["counts"]["paired_families"] == 12 and summary["exclusions"] == {"indel": 1}
    assert summary["families"]["compared"] + summary["families"]["ties"] == 12
    top = pd.read_csv(out1 / "top_variants.tsv", sep="\t")
    assert len(top) <= 5 and list(top.columns) == ["chrom", "pos", "ref", "alt", "individual", "family", "score",
                                                   "ism_region"]
    fams = pd.read_csv(out1 / "families.tsv", sep="\t")
    assert (fams["case_more_negative"] == (fams["case_sum"] < fams["control_sum"])).all()


def test_missing_scores_are_reported_or_refused(scored, tmp_path):
    rows = list(scored["rows"]) + [("F01", "F01.p1", "case", "chr2", 7, "A", "C"), ("F01", "F01.s1", "control", "chr2", 7, "G", "T")]
    path = write_table(tmp_path / "more.tsv", rows)
    table, report = read_denovo_table(path)  # no FASTA: the two new sites are not in the score file
    with pytest.raises(InputError, match=r"2 of 147 de novo SNPs .* have no score .*more than 1% allowed"):
        scores_for_table(table, scored["scores"], max_missing_fraction=0.01)
    scores, ids, labels = scores_for_table(table, scored["scores"], tracks=["track_1", 3])
    assert ids == ["track_1", "track_3"] and scores.shape == (147, 2)
    assert np.isnan(scores[-2:]).all() and np.isfinite(scores[:-2]).all()
    res = run_denovo(table, scores, ids, labels, ["x", "y"], exclusions=report)
    assert res.exclusions.counts["missing_score"] == 2 and len(res.table) == 145
    assert res.exclusions.examples["missing_score"][0].startswith(f"line {len(rows)}: F01.p1 chr2:7 A>C")
    with pytest.raises(InputError, match="not a crossreg-variant-scores"):
        bad = tmp_path / "bad.h5"
        import h5py

        h5py.File(bad, "w").close()
        scores_for_table(table, bad)
    with pytest.raises(InputError, match="'nope': not a track identifier"):
        scores_for_table(table, scored["scores"], tracks=["nope"])


def test_importing_denovo_loads_no_keras_tensorflow_or_model():
    code = ("import sys, crossreg.denovo, crossreg.io.denovo; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow') "
            "or m.startswith(('crossreg.model', 'crossreg.variants'))]; print(bad); assert not bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
