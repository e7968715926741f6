"""Tests of the orthology-aware train/valid/test split (crossreg.data.split)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from crossreg.data.split import (
    FOLDS,
    SplitResult,
    make_regions,
    orthology_split,
    read_folds_bed,
    write_folds_bed,
)
from crossreg.errors import InputError

DATA = Path(__file__).parent / "data"
REAL_CHAIN = DATA / "chain" / "hg38ToHg19.over.chain.gz"
HG38_SIZES = DATA / "annotation" / "hg38.seqinfo.tsv"

Block = tuple[int, int, int]  # (target start, query start on the + strand, size), bp


def write_chain(path: Path, chains: list[tuple[str, int, str, int, str, list[Block]]]) -> Path:
    """Write a UCSC chain file from blocks given in + strand coordinates of both sides.

    Each chain is ``(t_name, t_size, q_name, q_size, q_strand, blocks)``; blocks are in
    chain order (increasing target; increasing query on the query's own strand).
    """
    lines = ["# written by tests/test_split.py"]
    for cid, (tn, tsize, qn, qsize, strand, blocks) in enumerate(chains, 1):
        qs = [q if strand == "+" else qsize - q - s for _, q, s in blocks]
        t_end = blocks[-1][0] + blocks[-1][2]
        q_end = qs[-1] + blocks[-1][2]
        lines.append(
            f"chain 1000 {tn} {tsize} + {blocks[0][0]} {t_end} {qn} {qsize} {strand} "
            f"{qs[0]} {q_end} {cid}"
        )
        for k in range(len(blocks) - 1):
            size = blocks[k][2]
            dt = blocks[k + 1][0] - blocks[k][0] - size
            dq = qs[k + 1] - qs[k] - size
            assert dt >= 0 and dq >= 0, "test chain blocks out of order"
            lines.append(f"{size}\t{dt}\t{dq}")
        lines.append(str(blocks[-1][2]))
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def random_chains(
    rng: np.random.Generator, t_sizes: dict[str, int], q_sizes: dict[str, int], n: int
) -> list[tuple[str, int, str, int, str, list[Block]]]:
    """Random chains of 1-4 blocks (500-4000 bp, gaps 0-3000 bp), both strands."""
    out = []
    t_names, q_names = list(t_sizes), list(q_sizes)
    while len(out) < n:
        tn = t_names[rng.integers(len(t_names))]
        qn = q_names[rng.integers(len(q_names))]
        strand = "+" if rng.random() < 0.6 else "-"
        k = int(rng.integers(1, 5))
        sizes = rng.integers(500, 4001, k)
        dt = rng.integers(0, 3001, k)
        dq = rng.integers(0, 3001, k)
        t = int(rng.integers(0, t_sizes[tn]))
        q = int(rng.integers(0, q_sizes[qn]))  # on the query's strand
        blocks = []
        for i in range(k):
            blocks.append((t, q, int(sizes[i])))
            t += int(sizes[i] + dt[i])
            q += int(sizes[i] + dq[i])
        last_t, last_q, last_s = blocks[-1]
        if last_t + last_s > t_sizes[tn] or last_q + last_s > q_sizes[qn]:
            continue
        if strand == "-":
            blocks = [(bt, q_sizes[qn] - bq - bs, bs) for bt, bq, bs in blocks]
        out.append((tn, t_sizes[tn], qn, q_sizes[qn], strand, blocks))
    return out


def brute_force_shared(chains, region_size: int) -> dict[tuple, int]:
    """Shared aligned bp per ((t_chrom, t_region), (q_chrom, q_region)), base by base."""
    keys: dict[tuple, int] = {}
    for tn, _, qn, _, strand, blocks in chains:
        for t, q, s in blocks:
            i = np.arange(s)
            tr = (t + i) // region_size
            qr = ((q + i) if strand == "+" else (q + s - 1 - i)) // region_size
            pairs, counts = np.unique(np.stack([tr, qr], axis=1), axis=0, return_counts=True)
            for (a, b), c in zip(pairs.tolist(), counts.tolist()):
                key = ((tn, a), (qn, b))
                keys[key] = keys.get(key, 0) + c
    return keys


def pairs_as_dict(result: SplitResult, k: int = 0, region_size: int = 10_000) -> dict[tuple, int]:
    p = result.pairs[k]
    return {
        ((tc, ts // region_size), (qc, qs // region_size)): int(bp)
        for tc, ts, qc, qs, bp in zip(
            p.target_chrom, p.target_start, p.query_chrom, p.query_start, p.shared_bp
        )
    }


def fold_of(result: SplitResult) -> dict[tuple, str]:
    out = {}
    for g, df in result.regions.items():
        for chrom, start, fold in zip(df.chrom, df.start, df.fold):
            out[(g, chrom, start)] = fold
    return out


def assert_linked_pairs_share_fold(result: SplitResult, alignments) -> int:
    folds = fold_of(result)
    n = 0
    for (_, tg, qg), p in zip(alignments, result.pairs):
        linked = p[p.linked]
        for tc, ts, qc, qs in zip(
            linked.target_chrom, linked.target_start, linked.query_chrom, linked.query_start
        ):
            assert folds[(tg, tc, ts)] == folds[(qg, qc, qs)], (tc, ts, qc, qs)
            n += 1
    return n


# --------------------------------------------------------------------------- regions


def test_make_regions_last_region_shorter():
    df = make_regions({"chr1": 25, "chr2": 10}, region_size=10)
    assert list(df.columns) == ["chrom", "start", "end"]
    assert df.chrom.tolist() == ["chr1"] * 3 + ["chr2"]
    assert df.start.tolist() == [0, 10, 20, 0]
    assert df.end.tolist() == [10, 20, 25, 10]
    assert df.start.dtype == np.int64 and df.end.dtype == np.int64
    with pytest.raises(InputError, match="region_size"):
        make_regions({"chr1": 25}, region_size=0)
    with pytest.raises(InputError, match="chr1"):
        make_regions({"chr1": -5})


# --------------------------------------------------------------------------- hand-made


GENOME_A = {"chrA1": 50_000, "chrA2": 25_000}
GENOME_B = {"chrB1": 40_000, "chrB2": 30_000}
HAND_CHAINS = [
    # diagonal, query +
    ("chrA1", 50_000, "chrB1", 40_000, "+", [
        (2_000, 12_000, 6_000),    # A1r0-B1r1 6000
        (16_000, 27_000, 5_000),   # A1r1-B1r2 3000, A1r1-B1r3 1000, A1r2-B1r3 1000
    ]),
    ("chrA1", 50_000, "chrB1", 40_000, "+", [
        (13_000, 15_000, 2_000),   # A1r1-B1r1 2000 (joins the two components above)
    ]),
    # anti-diagonal, query -
    ("chrA2", 25_000, "chrB2", 30_000, "-", [
        (1_000, 22_000, 3_000),    # A2r0-B2r2 3000
        (8_000, 16_500, 5_000),    # A2r0-B2r2 1500, A2r0-B2r1 500, A2r1-B2r1 3000
    ]),
]
HAND_SHARED = {
    (("chrA1", 0), ("chrB1", 1)): 6_000,
    (("chrA1", 1), ("chrB1", 2)): 3_000,
    (("chrA1", 1), ("chrB1", 3)): 1_000,
    (("chrA1", 2), ("chrB1", 3)): 1_000,
    (("chrA1", 1), ("chrB1", 1)): 2_000,
    (("chrA2", 0), ("chrB2", 2)): 4_500,
    (("chrA2", 0), ("chrB2", 1)): 500,
    (("chrA2", 1), ("chrB2", 1)): 3_000,
}


@pytest.fixture()
def hand_split(tmp_path):
    path = write_chain(tmp_path / "AtoB.chain", HAND_CHAINS)
    alignments = [(str(path), "A", "B")]
    result = orthology_split(
        {"A": GENOME_A, "B": GENOME_B}, alignments,
        region_size=10_000, min_shared_bp=1_000, seed=3,
    )
    return result, alignments


def test_hand_made_shared_bp_and_components(hand_split):
    result, alignments = hand_split
    assert brute_force_shared(HAND_CHAINS, 10_000) == HAND_SHARED
    assert pairs_as_dict(result) == HAND_SHARED
    p = result.pairs[0]
    assert p.linked.tolist() == (p.shared_bp > 1_000).tolist()
    assert result.report.alignments[0].n_edges == 5  # 1000 bp is not > 1000 bp
    a, b = result.regions["A"], result.regions["B"]
    comp_a = dict(zip(zip(a.chrom, a.start // 10_000), a.component))
    comp_b = dict(zip(zip(b.chrom, b.start // 10_000), b.component))
    # {A1r0, A1r1, B1r1, B1r2} is the largest component (id 0)
    assert comp_a[("chrA1", 0)] == comp_a[("chrA1", 1)] == comp_b[("chrB1", 1)] \
        == comp_b[("chrB1", 2)] == 0
    assert comp_a[("chrA2", 0)] == comp_b[("chrB2", 2)]
    assert comp_a[("chrA2", 1)] == comp_b[("chrB2", 1)]
    assert comp_a[("chrA2", 0)] != comp_a[("chrA2", 1)]
    # 1000 bp shared is not an edge: A1r2 and B1r3 are singletons
    assert (a.component == comp_a[("chrA1", 2)]).sum() == 1
    assert (b.component == comp_b[("chrB1", 3)]).sum() == 1
    # 8 + 7 regions, 5 edges joining 8 regions into 3 components -> 15 - 5 = 10
    assert result.report.n_components == 10
    assert result.report.largest_component == {
        "id": 0, "n_regions": {"A": 2, "B": 2}, "bp": {"A": 20_000, "B": 20_000}
    }
    assert assert_linked_pairs_share_fold(result, alignments) == 5
    assert set(a.fold) <= set(FOLDS) and set(b.fold) <= set(FOLDS)


def test_report_is_json_and_summary_readable(hand_split):
    result, _ = hand_split
    d = json.loads(json.dumps(result.to_dict()))
    assert d["n_components"] == 10 and d["mode"] == "orthology"
    assert set(d["fractions"]["A"]) == set(FOLDS)
    assert abs(sum(d["fractions"]["B"].values()) - 1.0) < 1e-9
    assert d["alignments"][0]["n_chains"] == 3
    text = result.summary()
    assert "largest (#0): A 2 regions" in text
    assert "train" in text and "valid" in text and "test" in text


# --------------------------------------------------------------------------- random


SIZES_A = {f"a{i}": 500_000 for i in range(1, 5)}       # 4 x 50 = 200 regions of 10 kb
SIZES_B = {f"b{i}": 400_000 for i in range(1, 6)}       # 5 x 40 = 200 regions of 10 kb


@pytest.fixture(scope="module")
def random_setup(tmp_path_factory):
    rng = np.random.default_rng(11)
    chains = random_chains(rng, SIZES_A, SIZES_B, 110)
    path = write_chain(tmp_path_factory.mktemp("rand") / "rand.chain", chains)
    alignments = [(str(path), "A", "B")]
    genomes = {"A": SIZES_A, "B": SIZES_B}
    kwargs = dict(region_size=10_000, min_shared_bp=1_000)
    results = {seed: orthology_split(genomes, alignments, seed=seed, **kwargs) for seed in (0, 1)}
    return chains, alignments, genomes, kwargs, results


def test_random_shared_bp_matches_brute_force(random_setup):
    chains, _, _, _, results = random_setup
    assert pairs_as_dict(results[0]) == brute_force_shared(chains, 10_000)


def test_random_components_and_folds(random_setup):
    chains, alignments, _, _, results = random_setup
    result = results[0]
    # components are exactly the connected components of the brute-force edges
    graph = nx.Graph()
    for g, df in result.regions.items():
        graph.add_nodes_from((g, c, s) for c, s in zip(df.chrom, df.start))
    for ((tc, tr), (qc, qr)), bp in brute_force_shared(chains, 10_000).items():
        if bp > 1_000:
            graph.add_edge(("A", tc, tr * 10_000), ("B", qc, qr * 10_000))
    comp = {}
    for g, df in result.regions.items():
        comp.update({(g, c, s): k for c, s, k in zip(df.chrom, df.start, df.component)})
    expected = sorted(sorted(comp[n] for n in cc) for cc in nx.connected_components(graph))
    assert all(len(set(ids)) == 1 for ids in expected)
    assert len(expected) == result.report.n_components
    assert assert_linked_pairs_share_fold(result, alignments) > 50
    # component sizes are non-increasing in id
    total = result.regions["A"].assign(bp=lambda d: d.end - d.start).groupby("component").bp.sum()
    total = total.add(
        result.regions["B"].assign(bp=lambda d: d.end - d.start).groupby("component").bp.sum(),
        fill_value=0,
    )
    assert (np.diff(total.sort_index().to_numpy()) <= 0).all()


def test_random_fractions_close_to_targets(random_setup):
    *_, results = random_setup
    for result in results.values():
        for g in ("A", "B"):
            fr = result.report.fractions[g]
            assert abs(fr["valid"] - 0.12) < 0.02, (g, fr)
            assert abs(fr["test"] - 0.12) < 0.02, (g, fr)
            df = result.regions[g]
            bp = (df.end - df.start).groupby(df.fold).sum()
            assert bp["valid"] / bp.sum() == pytest.approx(fr["valid"])


def test_deterministic_given_seed(random_setup):
    _, alignments, genomes, kwargs, results = random_setup
    again = orthology_split(genomes, alignments, seed=0, **kwargs)
    for g in genomes:
        pd.testing.assert_frame_equal(again.regions[g], results[0].regions[g])
    assert again.to_dict() == results[0].to_dict()
    differs = any(
        (results[0].regions[g].fold != results[1].regions[g].fold).any() for g in genomes
    )
    assert differs


def test_unaligned_genome_gets_contiguous_runs(random_setup):
    _, alignments, genomes, kwargs, _ = random_setup
    result = orthology_split(
        {**genomes, "C": {"c1": 700_000, "c2": 300_000}}, alignments, seed=0, **kwargs
    )
    assert result.report.contiguous_regions == {"C": 1}  # 100 regions // 100
    for g in ("A", "B", "C"):
        assert abs(result.report.fractions[g]["valid"] - 0.12) < 0.03


# --------------------------------------------------------------------------- contiguous


def test_single_genome_contiguous_split():
    sizes = {"chr1": 1_200_000, "chr2": 800_000, "chr3": 555_000}
    res = orthology_split({"G": sizes}, [], region_size=10_000, seed=5, contiguous_regions=5)
    df = res.regions["G"]
    assert len(df) == 120 + 80 + 56
    assert res.report.mode == "contiguous" and res.report.contiguous_regions == {"G": 5}
    run = df.groupby("chrom", sort=False).cumcount() // 5
    per_run = df.groupby([df.chrom, run]).fold.nunique()
    assert (per_run == 1).all()
    assert df.groupby([df.chrom, run]).component.nunique().eq(1).all()
    for fold in ("valid", "test"):
        assert abs(res.report.fractions["G"][fold] - 0.12) < 0.03
    # fold changes only at run boundaries, and far fewer than regions
    changes = (df.fold.values[1:] != df.fold.values[:-1]) & (
        df.chrom.values[1:] == df.chrom.values[:-1]
    )
    assert changes.sum() <= per_run.size
    again = orthology_split({"G": sizes}, [], region_size=10_000, seed=5, contiguous_regions=5)
    pd.testing.assert_frame_equal(again.regions["G"], df)
    other = orthology_split({"G": sizes}, [], region_size=10_000, seed=6, contiguous_regions=5)
    assert (other.regions["G"].fold != df.fold).any()
    default = orthology_split({"G": sizes}, [], region_size=10_000, seed=5)
    assert default.report.contiguous_regions == {"G": 2}
    assert abs(default.report.fractions["G"]["test"] - 0.12) < 0.02
    assert "contiguous runs of 5 region(s)" in res.summary()


# --------------------------------------------------------------------------- names


def test_chromosome_name_mismatch_error(tmp_path):
    chains = [
        ("1", 50_000, "chr1", 50_000, "+", [(0, 0, 20_000)]),
        ("2", 50_000, "chr2", 50_000, "+", [(0, 0, 20_000)]),
    ]
    path = write_chain(tmp_path / "mismatch.chain", chains)
    genomes = {"hs": {"chr1": 50_000, "chr2": 50_000}, "mm": {"chr1": 50_000, "chr2": 50_000}}
    with pytest.raises(InputError) as info:
        orthology_split(genomes, [(str(path), "hs", "mm")], region_size=10_000,
                        min_shared_bp=1_000)
    msg = str(info.value)
    assert str(path) in msg
    assert "genome 'hs'" in msg
    assert "'1'" in msg and "'chr1'" in msg
    assert "target" in msg and "line 2:" in msg


def test_few_unmatched_names_are_skipped_and_reported(tmp_path):
    chains = [
        ("chr1", 50_000, "chr1", 50_000, "+", [(0, 0, 40_000)]),
        ("chr1_alt", 5_000, "chr1", 50_000, "+", [(0, 45_000, 2_000)]),
        ("chr1", 50_000, "chrUn_x", 3_000, "-", [(41_000, 0, 1_500)]),
    ]
    path = write_chain(tmp_path / "alt.chain", chains)
    genomes = {"X": {"chr1": 50_000}, "Y": {"chr1": 48_000}}
    res = orthology_split(genomes, [(str(path), "X", "Y")], region_size=10_000,
                          min_shared_bp=1_000)
    rep = res.report.alignments[0]
    assert rep.skipped_target_names == ["chr1_alt"]
    assert rep.skipped_query_names == ["chrUn_x"]
    assert rep.skipped_bp == 3_500 and rep.n_chains_used == 1
    assert rep.size_mismatch_query == ["chr1"]  # chain says 50 kb, chrom sizes 48 kb
    assert rep.clipped_bp == 0  # the aligned block ends at 40 kb
    assert res.report.skipped_names == {str(path): {"X": ["chr1_alt"], "Y": ["chrUn_x"]}}
    assert "skipped 1 target names" in res.summary()
    # same coordinates on both sides: each region is linked to its counterpart only
    assert res.report.largest_component["n_regions"] == {"X": 1, "Y": 1}
    assert res.report.n_components == 10 - 4  # 10 regions, 4 edges


def test_bad_arguments(tmp_path):
    path = write_chain(tmp_path / "c.chain", HAND_CHAINS)
    genomes = {"A": GENOME_A, "B": GENOME_B}
    with pytest.raises(InputError, match="query genome 'Z'"):
        orthology_split(genomes, [(str(path), "A", "Z")])
    with pytest.raises(InputError, match="valid_fraction"):
        orthology_split(genomes, [], valid_fraction=1.5)
    with pytest.raises(InputError, match="must be < 1"):
        orthology_split(genomes, [], valid_fraction=0.5, test_fraction=0.5)


# --------------------------------------------------------------------------- too large


def test_component_too_large_goes_to_train(tmp_path):
    # query offset of 5 kb: every region overlaps two regions of the other genome
    chains = [("chr1", 100_000, "chr1", 100_000, "+", [(0, 5_000, 60_000)])]
    path = write_chain(tmp_path / "shift.chain", chains)
    res = orthology_split(
        {"A": {"chr1": 100_000}, "B": {"chr1": 100_000}}, [(str(path), "A", "B")],
        region_size=10_000, min_shared_bp=1_000,
    )
    assert res.report.largest_component == {
        "id": 0, "n_regions": {"A": 6, "B": 7}, "bp": {"A": 60_000, "B": 70_000}
    }
    assert res.report.n_forced_train == 1
    assert res.report.forced_train_bp == {"A": 60_000, "B": 70_000}
    for g in ("A", "B"):
        df = res.regions[g]
        assert (df.fold[df.component == 0] == "train").all()
    assert "1 component(s) too large for valid/test" in res.summary()


# --------------------------------------------------------------------------- BED


def test_folds_bed_round_trip(hand_split, tmp_path):
    result, _ = hand_split
    path = tmp_path / "out" / "A.folds.bed"
    write_folds_bed(result.regions["A"], path)
    assert path.read_text().startswith("#chrom\tstart\tend\tfold\tcomponent\n")
    assert [p.name for p in path.parent.iterdir()] == ["A.folds.bed"]  # no temp files left
    back = read_folds_bed(path)
    pd.testing.assert_frame_equal(back, result.regions["A"].reset_index(drop=True))
    four = tmp_path / "four.bed"
    four.write_text("track name=x\nchr1\t0\t10\ttrain\n\nchr1\t10\t20\ttest\n")
    assert read_folds_bed(four).columns.tolist() == ["chrom", "start", "end", "fold"]


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("#h\nchr1\t0\t10\n", 2, "at least 4"),
        ("chr1\t0\t10\ttrain\nchr1\tx\t20\tvalid\n", 2, "must be integers"),
        ("chr1\t10\t10\ttrain\n", 1, "0 <= start < end"),
        ("chr1\t0\t10\ttraining\n", 1, "fold must be one of"),
        ("chr1\t0\t10\ttrain\t0\nchr1\t10\t20\ttrain\n", 2, "5th field"),
        ("chr1\t0\t10\ttrain\t0\nchr1\t10\t20\ttrain\tz\n", 2, "component must be an integer"),
    ],
)
def test_read_folds_bed_errors(tmp_path, text, line, fragment):
    path = tmp_path / "bad.bed"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_folds_bed(path)
    msg = str(info.value)
    assert str(path) in msg and f"line {line}:" in msg and fragment in msg


# --------------------------------------------------------------------------- real chain


def test_real_hg38_to_hg19_chain():
    info = pd.read_csv(HG38_SIZES, sep="\t")
    sizes = dict(zip(info["name"], info["length"].astype(int)))
    alignments = [(str(REAL_CHAIN), "hg38", "hg19")]
    t0 = time.perf_counter()
    res = orthology_split({"hg38": sizes, "hg19": sizes}, alignments, seed=0)
    assert time.perf_counter() - t0 < 15.0
    rep = res.report
    for g in ("hg38", "hg19"):
        assert abs(rep.fractions[g]["valid"] - 0.12) < 0.01
        assert abs(rep.fractions[g]["test"] - 0.12) < 0.01
        assert rep.n_regions[g] == len(res.regions[g])
    a = rep.alignments[0]
    assert a.n_chains == 25_374 and 0 < a.n_chains_used < a.n_chains
    assert any(n.endswith("_alt") for n in a.skipped_target_names)
    assert "chr9_gl000199_random" in a.skipped_query_names  # hg19 name, not in hg38
    assert "chr1" in a.size_mismatch_query and a.size_mismatch_target == []
    assert a.skipped_bp < 0.05 * a.aligned_bp
    assert assert_linked_pairs_share_fold(res, alignments) == a.n_edges
    # liftOver is chromosome-to-same-chromosome: each main hg38 region's best partner
    main = {f"chr{i}" for i in list(range(1, 23)) + ["X"]}
    p = res.pairs[0]
    p = p[p.target_chrom.isin(main) & p.linked]
    best = p.loc[p.groupby(["target_chrom", "target_start"]).shared_bp.idxmax()]
    assert len(best) > 2_500
    assert (best.target_chrom == best.query_chrom).mean() > 0.98
    assert (best.target_start - best.query_start).abs().median() <= 1_000_000
    # most of the genome lies in components made of a single chromosome on both sides
    h38, h19 = res.regions["hg38"], res.regions["hg19"]
    c38 = h38.groupby("component").chrom.agg(frozenset)
    c19 = h19.groupby("component").chrom.agg(frozenset)
    both = pd.concat([c38.rename("a"), c19.rename("b")], axis=1, join="inner")
    same = both.index[[len(x) == 1 and x == y for x, y in zip(both.a, both.b)]]
    bp = (h38.end - h38.start).groupby(h38.component).sum()
    assert bp[same].sum() / bp.sum() > 0.7
    lc = rep.largest_component
    assert lc["n_regions"]["hg38"] > 50 and lc["bp"]["hg19"] > 50_000_000
    assert "fractions of bp" in res.summary()
