"""SLDP inputs: GTF reader, gene regions, signed background annotations, eQTL aggregation, z-score plots.

Expected values are worked out by hand in the comments next to them.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossreg.errors import InputError
from crossreg.io.gtf import parse_attributes, read_gtf
from crossreg.io.plink import read_plink
from crossreg.io.sumstats import read_sumstats
from crossreg.sldp.aggregate import aggregate_eqtl, read_eqtl_pairs, write_sumstats
from crossreg.sldp.background import a1_frequency, background_annotations, gene_regions, maf_bin_names
from crossreg.sldp.plots import cluster_tracks, plot_track_clusters, plot_z_heatmap
from test_io_plink_sumstats import STEM, decode_bed, write_bed


def gtf_line(chrom, feature, start, end, strand, gene, transcript=None, extra=""):
    attrs = f'gene_id "{gene}";' + (f' transcript_id "{transcript}";' if transcript else "") + extra
    return f"{chrom}\ttest\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n"


# T1 (+, coding), T2 (-, coding), T3 (+, non-coding, no transcript line); 1-based inclusive
_STRUCTURE = [
    ("gene", 1001, 5000, "+", "G1", None),
    ("transcript", 1001, 5000, "+", "G1", "T1"),
    ("exon", 1001, 1500, "+", "G1", "T1"),
    ("exon", 2001, 2500, "+", "G1", "T1"),
    ("exon", 4001, 5000, "+", "G1", "T1"),
    ("CDS", 1201, 1500, "+", "G1", "T1"),
    ("CDS", 2001, 2500, "+", "G1", "T1"),
    ("CDS", 4001, 4300, "+", "G1", "T1"),
    ("transcript", 10001, 14000, "-", "G2", "T2"),
    ("exon", 10001, 11000, "-", "G2", "T2"),
    ("exon", 13001, 14000, "-", "G2", "T2"),
    ("CDS", 10501, 11000, "-", "G2", "T2"),
    ("CDS", 13001, 13400, "-", "G2", "T2"),
    ("exon", 20001, 20500, "+", "G3", "T3"),
    ("exon", 22001, 23000, "+", "G3", "T3"),
]
# UTRs: (start, end, strand, gene, transcript, Ensembl feature)
_UTRS = [
    (1001, 1200, "+", "G1", "T1", "five_prime_utr"),
    (4301, 5000, "+", "G1", "T1", "three_prime_utr"),
    (10001, 10500, "-", "G2", "T2", "three_prime_utr"),  # low coordinates on '-' = 3'
    (13401, 14000, "-", "G2", "T2", "five_prime_utr"),
]

# by hand (0-based half-open), extension 500:
# coding: CDS [1200,1500) [2000,2500) [4000,4300) -> [700,2000) [1500,3000) [3500,4800) -> [700,3000) [3500,4800)
#         CDS [10500,11000) [13000,13400) -> [10000,11500) [12500,13900)
# utr5: [1000,1200) -> [500,1700); [13400,14000) -> [12900,14500)
# utr3: [4300,5000) -> [3800,5500); [10000,10500) -> [9500,11000)
# intron: T1 [1500,2000) [2500,4000); T2 [11000,13000); T3 [20500,22000)
EXPECTED_REGIONS = {
    "coding": [[700, 3000], [3500, 4800], [10000, 11500], [12500, 13900]],
    "utr5": [[500, 1700], [12900, 14500]],
    "utr3": [[3800, 5500], [9500, 11000]],
    "intron": [[1500, 2000], [2500, 4000], [11000, 13000], [20500, 22000]],
}


def write_gtf(path: Path, chrom: str, style: str) -> Path:
    lines = ["##description: hand-made test annotation\n"]
    for feature, start, end, strand, gene, transcript in _STRUCTURE:
        lines.append(gtf_line(chrom, feature, start, end, strand, gene, transcript, ' gene_type "protein_coding";'))
    for start, end, strand, gene, transcript, ensembl in _UTRS:
        feature = "UTR" if style == "gencode" else ensembl
        lines.append(gtf_line(chrom, feature, start, end, strand, gene, transcript))
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as out:
            out.writelines(lines)
    else:
        path.write_text("".join(lines))
    return path


# ---------------------------------------------------------------- GTF reader


def test_parse_attributes():
    attrs = parse_attributes('gene_id "G1"; transcript_id "T1"; tag "basic"; tag "CCDS"; level 2; note "a; b";')
    assert attrs == {"gene_id": "G1", "transcript_id": "T1", "tag": "basic", "level": "2", "note": "a; b"}


def test_read_gtf_coordinates_and_gz(tmp_path):
    plain = read_gtf(write_gtf(tmp_path / "a.gtf", "chr1", "gencode"))
    packed = read_gtf(write_gtf(tmp_path / "a.gtf.gz", "chr1", "gencode"))
    pd.testing.assert_frame_equal(plain, packed)
    assert len(plain) == len(_STRUCTURE) + len(_UTRS)
    first_cds = plain[plain["feature"] == "CDS"].iloc[0]
    assert (first_cds["start"], first_cds["end"]) == (1200, 1500)  # GTF 1201-1500
    assert first_cds["line"] == 7  # header line + 5 lines before it
    assert first_cds["gene_type"] == "protein_coding" and first_cds["transcript_id"] == "T1"
    gene = plain[plain["feature"] == "gene"].iloc[0]
    assert gene["transcript_id"] == "" and gene["gene_id"] == "G1"
    only_exons = read_gtf(tmp_path / "a.gtf", features={"exon"})
    assert set(only_exons["feature"]) == {"exon"} and len(only_exons) == 7


@pytest.mark.parametrize(
    "line, message",
    [
        ("chr1\tt\texon\t10\t20\t.\t+\t.\n", r"x\.gtf:2: expected 9 tab-separated GTF columns, got 8"),
        ('chr1\tt\texon\tten\t20\t.\t+\t.\tgene_id "G"; transcript_id "T";\n', r"x\.gtf:2: start/end must be integers"),
        ('chr1\tt\texon\t30\t20\t.\t+\t.\tgene_id "G"; transcript_id "T";\n', r"x\.gtf:2: invalid GTF interval"),
        ('chr1\tt\texon\t10\t20\t.\t*\t.\tgene_id "G"; transcript_id "T";\n', r"x\.gtf:2: strand must be"),
        ('chr1\tt\texon\t10\t20\t.\t+\t.\ttranscript_id "T";\n', r"x\.gtf:2: exon line without a gene_id"),
        ('chr1\tt\tCDS\t10\t20\t.\t+\t.\tgene_id "G";\n', r"x\.gtf:2: CDS line without a transcript_id"),
    ],
)
def test_read_gtf_errors(tmp_path, line, message):
    path = tmp_path / "x.gtf"
    path.write_text(gtf_line("chr1", "gene", 1, 100, "+", "G") + line)
    with pytest.raises(InputError, match=message):
        read_gtf(path)


# ---------------------------------------------------------------- gene regions


def test_gene_regions_by_hand_gencode_and_ensembl(tmp_path):
    gencode = gene_regions(write_gtf(tmp_path / "g.gtf", "chr1", "gencode"))
    ensembl = gene_regions(write_gtf(tmp_path / "e.gtf", "1", "ensembl"))
    for name, expected in EXPECTED_REGIONS.items():
        np.testing.assert_array_equal(gencode[name]["chr1"], np.array(expected), err_msg=name)
        np.testing.assert_array_equal(ensembl[name]["1"], np.array(expected), err_msg=name)
    assert set(gencode) == {"coding", "utr5", "utr3", "intron"}
    # the non-coding transcript T3's exons (20000-20500, 22000-23000) are in no coding/UTR region
    for name in ("coding", "utr5", "utr3"):
        assert gencode[name]["chr1"][:, 1].max() < 20000
    no_ext = gene_regions(tmp_path / "g.gtf", extension_bp=0)
    np.testing.assert_array_equal(no_ext["utr5"]["chr1"], [[1000, 1200], [13400, 14000]])


def test_gene_regions_bad_utrs(tmp_path):
    path = tmp_path / "bad.gtf"
    path.write_text(gtf_line("chr1", "exon", 100, 500, "+", "G", "T") + gtf_line("chr1", "UTR", 100, 200, "+", "G", "T"))
    with pytest.raises(InputError, match=r"bad\.gtf:2: UTR of transcript 'T' whose transcript has no CDS"):
        gene_regions(path)
    path.write_text(
        gtf_line("chr1", "CDS", 100, 200, "+", "G", "T")
        + gtf_line("chr1", "CDS", 400, 500, "+", "G", "T")
        + gtf_line("chr1", "UTR", 250, 300, "+", "G", "T")
    )
    with pytest.raises(InputError, match=r"bad\.gtf:3: UTR chr1:250-300 of transcript 'T' overlaps the span of its CDS"):
        gene_regions(path)


# ---------------------------------------------------------------- background annotations

# (snp, bp, copies of A1 among 10 people or None for per-person genotypes below)
_SNPS = [
    ("s1", 600, 1),  # f 1/20: MAF .05 -> maf_0_5, A1 minor (+1); utr5
    ("s2", 1101, 19),  # f 19/20: MAF .05 -> maf_0_5, A1 major (-1); coding, utr5
    ("s3", 1800, 2),  # f .10 -> maf_5_10, +1; coding, intron
    ("s4", 3200, 10),  # f .5 -> no minor allele: all 0 (intron)
    ("s5", 5400, 0),  # monomorphic: all 0 (utr3)
    ("s6", 12000, 15),  # f .75: MAF .25 -> maf_20_30, -1; intron
    ("s7", 13000, None),  # 6 copies over 9 called people: f 1/3 -> maf_30_40, +1; coding, utr5, intron
    ("s8", 20200, None),  # all missing: all 0 (non-coding exon: no region anyway)
    ("s9", 21000, 9),  # f .45 -> maf_40_50, +1; intron (of the non-coding transcript)
    ("s10", 50000, 3),  # f .15 -> maf_10_20, +1; no region
    ("s11", 11001, 16),  # f .8: MAF .2 -> maf_10_20, -1; coding (11000 in [10000,11500)), intron; not utr3 (end 11000)
]
_COLS = ["maf_0_5", "maf_5_10", "maf_10_20", "maf_20_30", "maf_30_40", "maf_40_50", "coding", "utr5", "utr3", "intron"]
_EXPECTED = {
    "s1": [1, 0, 0, 0, 0, 0, 0, 1, 0, 0],
    "s2": [-1, 0, 0, 0, 0, 0, -1, -1, 0, 0],
    "s3": [0, 1, 0, 0, 0, 0, 1, 0, 0, 1],
    "s4": [0] * 10,
    "s5": [0] * 10,
    "s6": [0, 0, 0, -1, 0, 0, 0, 0, 0, -1],
    "s7": [0, 0, 0, 0, 1, 0, 1, 1, 0, 1],
    "s8": [0] * 10,
    "s9": [0, 0, 0, 0, 0, 1, 0, 0, 0, 1],
    "s10": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    "s11": [0, 0, -1, 0, 0, 0, -1, 0, 0, -1],
}


def _genotype_column(copies: int) -> np.ndarray:
    g = np.zeros(10)
    g[: copies // 2] = 2
    if copies % 2:
        g[copies // 2] = 1
    return g


def tiny_panel(tmp_path: Path):
    columns = []
    for snp, _, copies in _SNPS:
        if snp == "s7":
            columns.append(np.array([2, 2, 1, 1, 0, 0, 0, 0, 0, np.nan]))
        elif snp == "s8":
            columns.append(np.full(10, np.nan))
        else:
            columns.append(_genotype_column(copies))
    geno = np.stack(columns, axis=1)
    bim = [f"1\t{snp}\t0\t{bp}\tA\tG" for snp, bp, _ in _SNPS]
    return read_plink(write_bed(tmp_path / "tiny", geno, bim)), geno


def test_background_annotations_by_hand(tmp_path):
    panel, geno = tiny_panel(tmp_path)
    gtf = write_gtf(tmp_path / "genes.gtf.gz", "chr1", "gencode")  # chr1 in the GTF, 1 in the bim
    bg = background_annotations(panel, gtf)
    assert list(bg.columns) == ["snp", "a1", "a2"] + _COLS
    assert bg["snp"].tolist() == [s for s, _, _ in _SNPS]
    expected = np.array([_EXPECTED[s] for s, _, _ in _SNPS], dtype=float)
    np.testing.assert_array_equal(bg[_COLS].to_numpy(), expected)
    assert all(bg[c].dtype == np.float64 for c in _COLS)

    maf_only = background_annotations(panel, None)
    assert list(maf_only.columns) == ["snp", "a1", "a2"] + _COLS[:6]
    np.testing.assert_array_equal(maf_only[_COLS[:6]].to_numpy(), expected[:, :6])

    freq = a1_frequency(panel)
    np.testing.assert_allclose(freq[[0, 6, 9]], [0.05, 6 / 18, 0.15])
    assert np.isnan(freq[7])


def test_background_sign_follows_a1(tmp_path):
    """Swapping A1/A2 in the panel (genotypes recoded) negates every background value."""
    panel, geno = tiny_panel(tmp_path)
    bim = [f"1\t{snp}\t0\t{bp}\tG\tA" for snp, bp, _ in _SNPS]
    swapped = read_plink(write_bed(tmp_path / "swapped", 2 - geno, bim))
    gtf = write_gtf(tmp_path / "genes.gtf", "chr1", "gencode")
    a = background_annotations(panel, gtf)
    b = background_annotations(swapped, gtf)
    np.testing.assert_array_equal(b[_COLS].to_numpy(), -a[_COLS].to_numpy())


def test_maf_bins_names_and_edges(tmp_path):
    assert maf_bin_names() == _COLS[:6]
    assert maf_bin_names([0, 0.005, 0.01, 0.5]) == ["maf_0_0p5", "maf_0p5_1", "maf_1_50"]
    panel, _ = tiny_panel(tmp_path)
    with pytest.raises(InputError, match="MAF bin edges"):
        background_annotations(panel, None, maf_edges=(0.0, 0.3, 0.2))
    with pytest.raises(InputError, match="MAF bin edges"):
        background_annotations(panel, None, maf_edges=(0.0, 0.6))


def test_a1_frequency_real_panel_chunked():
    panel = read_plink(STEM)
    expected = decode_bed(Path(f"{STEM}.bed"), panel.n_people, panel.n_snps).mean(axis=0) / 2
    np.testing.assert_allclose(a1_frequency(panel), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a1_frequency(panel, chunk_snps=100), expected, rtol=0, atol=1e-15)
    bg = background_annotations(panel, None)
    maf = np.minimum(expected, 1 - expected)
    in_any_bin = (bg[_COLS[:6]] != 0).sum(axis=1).to_numpy()
    assert set(in_any_bin) <= {0, 1}
    np.testing.assert_array_equal(in_any_bin == 1, (maf > 0) & (np.abs(expected - 0.5) > 1e-12))


# ---------------------------------------------------------------- eQTL aggregation


def test_read_eqtl_pairs_z_and_slope(tmp_path):
    (tmp_path / "z.tsv").write_text("Gene\tsnp\ta1\ta2\tz\tn\textra\ng1\trs1\ta\tc\t2.5\t100\tx\n")
    df = read_eqtl_pairs(tmp_path / "z.tsv")
    assert list(df.columns) == ["gene", "snp", "a1", "a2", "z", "n"]
    assert df.iloc[0].tolist() == ["g1", "rs1", "A", "C", 2.5, 100.0]
    with gzip.open(tmp_path / "s.tsv.gz", "wt") as out:
        out.write("gene\tSNP\tA1\tA2\tslope\tslope_se\tN\ng1\trs1\tA\tC\t0.3\t0.2\t100\ng2\trs1\tA\tC\t-1\t4\t50\n")
    df = read_eqtl_pairs(tmp_path / "s.tsv.gz")
    assert df["z"].tolist() == [0.3 / 0.2, -0.25]


@pytest.mark.parametrize(
    "text, message",
    [
        ("gene SNP A1 A2 N\ng rs1 A C 10\n", r"e\.tsv:1: missing column\(s\) SLOPE, SLOPE_SE"),
        ("gene SNP A1 A2 Z N\ng rs1 A C x 10\n", r"e\.tsv:2: Z must be a number, got 'x'"),
        ("gene SNP A1 A2 Z N\ng rs1 A C 1 10\ng rs2 A C 1 -3\n", r"e\.tsv:3: N must be > 0"),
        ("gene SNP A1 A2 slope slope_se N\ng rs1 A C 1 0 10\n", r"e\.tsv:2: slope_se must be > 0"),
        ("gene SNP A1 A2 Z N\ng rs1 A C 1 10\nh rs1 A C 1 10\ng rs1 A C 2 10\n", r"e\.tsv:4: pair gene 'g', SNP 'rs1' already on line 2"),
        ("gene SNP A1 A2 Z N\ng rs1 A C 1\n", r"e\.tsv:2: expected 6 fields"),
    ],
)
def test_read_eqtl_pairs_errors(tmp_path, text, message):
    (tmp_path / "e.tsv").write_text(text)
    with pytest.raises(InputError, match=message):
        read_eqtl_pairs(tmp_path / "e.tsv")


def _pairs() -> pd.DataFrame:
    rows = [
        ("g1", "rs1", "A", "C", 2.0, 100.0),
        ("g1", "rs2", "G", "T", -1.0, 100.0),
        ("g1", "rs3", "A", "G", 3.0, 400.0),
        ("g2", "rs1", "C", "A", 1.0, 400.0),  # swapped: contributes -1/20
        ("g2", "rs2", "G", "T", 2.0, 100.0),
        ("g2", "rs3", "A", "C", 5.0, 100.0),  # alleles differ from rs3's first row: dropped
        ("g1", "rs4", "A", "T", 1.0, 100.0),  # strand-ambiguous SNP: dropped whole
        ("g2", "rs4", "A", "T", 1.0, 100.0),
    ]
    return pd.DataFrame(rows, columns=["gene", "snp", "a1", "a2", "z", "n"])


def test_aggregate_eqtl_by_hand():
    out, counts = aggregate_eqtl(_pairs())
    assert list(out.columns) == ["snp", "a1", "a2", "z", "n"]
    assert out["snp"].tolist() == ["rs1", "rs2", "rs3"]
    assert out["a1"].tolist() == ["A", "G", "A"] and out["a2"].tolist() == ["C", "T", "G"]
    # rs1: alpha = (2/10 - 1/20) / sqrt(2), N = 250;  rs2: (-1/10 + 2/10) / sqrt(2), N = 100;  rs3: 3/20, N = 400
    z_expected = [(0.2 - 0.05) / math.sqrt(2) * math.sqrt(250), (-0.1 + 0.2) / math.sqrt(2) * 10.0, 3 / 20 * 20.0]
    np.testing.assert_allclose(out["z"].to_numpy(), z_expected, rtol=1e-14)
    np.testing.assert_array_equal(out["n"].to_numpy(), [250.0, 100.0, 400.0])
    assert counts == {
        "pairs": 8,
        "pairs_used": 5,
        "snps": 3,
        "genes": 2,
        "swapped_rows": 1,
        "mismatched_rows": 1,
        "ambiguous_rows": 2,
        "ambiguous_snps": 1,
    }


def test_aggregate_eqtl_order_invariance():
    pairs = _pairs()
    first_rows = pairs.drop_duplicates("snp")
    rest = pairs.drop(first_rows.index)
    shuffled = pd.concat([first_rows.iloc[::-1], rest.iloc[::-1]], ignore_index=True)  # first row per SNP kept first
    a, ca = aggregate_eqtl(pairs)
    b, cb = aggregate_eqtl(shuffled)
    pd.testing.assert_frame_equal(a, b)
    assert ca == cb
    with pytest.raises(InputError, match="given more than once"):
        aggregate_eqtl(pd.concat([pairs, pairs.iloc[:1]], ignore_index=True))


def test_write_sumstats_roundtrip_exact(tmp_path):
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {"snp": [f"rs{i}" for i in range(50)], "a1": ["A"] * 50, "a2": ["G"] * 50, "z": rng.normal(size=50) * 1e-3, "n": rng.uniform(50, 700, 50)}
    )
    df.loc[0, "z"] = 1 / 3
    for name in ("agg.sumstats.gz", "agg.sumstats"):
        path = write_sumstats(df, tmp_path / name)
        first = path.read_bytes()
        back = read_sumstats(path)
        np.testing.assert_array_equal(back["z"].to_numpy(), df["z"].to_numpy())
        np.testing.assert_array_equal(back["n"].to_numpy(), df["n"].to_numpy())
        assert back["snp"].tolist() == df["snp"].tolist()
        write_sumstats(df, path)
        assert path.read_bytes() == first
    with gzip.open(tmp_path / "agg.sumstats.gz", "rt") as handle:
        assert handle.readline() == "SNP\tA1\tA2\tZ\tN\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agg.sumstats", "agg.sumstats.gz"]
    bad = df.copy()
    bad.loc[3, "z"] = np.nan
    with pytest.raises(InputError, match="row 4"):
        write_sumstats(bad, tmp_path / "bad.sumstats.gz")
    assert not (tmp_path / "bad.sumstats.gz").exists()


def test_aggregate_then_write_then_read(tmp_path):
    lines = ["gene\tSNP\tA1\tA2\tZ\tN"] + ["\t".join(map(str, r)) for r in _pairs().itertuples(index=False)]
    (tmp_path / "pairs.tsv").write_text("\n".join(lines) + "\n")
    out, _ = aggregate_eqtl(read_eqtl_pairs(tmp_path / "pairs.tsv"))
    back = read_sumstats(write_sumstats(out, tmp_path / "tissue.sumstats.gz"))
    pd.testing.assert_frame_equal(back, out)


# ---------------------------------------------------------------- plots


def planted_z(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    pattern_a = np.array([4.0, 3.0, -2.0, 0.0, 1.0, -3.0, 2.0, 0.5])
    pattern_b = np.array([-1.0, 0.5, 3.0, 4.0, -3.0, 1.0, -2.0, 2.5])
    group = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
    rows = [(pattern_a if g == 0 else pattern_b) * rng.uniform(0.5, 2.0) + rng.normal(0, 0.3, 8) for g in group]
    z = pd.DataFrame(rows, index=[f"track{i}" for i in range(10)], columns=[f"tissue{j}" for j in range(8)])
    return z, group


def test_cluster_tracks_recovers_planted_groups():
    z, group = planted_z()
    clusters = cluster_tracks(z, n_clusters=2)
    assert list(clusters.columns) == ["cluster", "order"] and clusters.index.name == "track"
    assert clusters["cluster"].dtype == np.int64 and clusters["order"].dtype == np.int64
    labels = clusters["cluster"].to_numpy()
    assert set(labels) == {1, 2}
    same = labels[:, None] == labels[None, :]
    np.testing.assert_array_equal(same, group[:, None] == group[None, :])
    order = clusters["order"].to_numpy()
    assert sorted(order) == list(range(10))
    in_leaf_order = labels[np.argsort(order)]
    assert in_leaf_order[0] == 1 and np.count_nonzero(np.diff(in_leaf_order)) == 1  # contiguous blocks
    pd.testing.assert_frame_equal(clusters, cluster_tracks(z, n_clusters=2))
    auto = cluster_tracks(z)  # cut at 0.7 x the top merge: the two planted groups
    np.testing.assert_array_equal(auto["cluster"].to_numpy(), labels)


def test_cluster_tracks_constant_rows_and_nan():
    z, _ = planted_z()
    z.iloc[1] = 0.0
    z.iloc[4] = 2.0
    z.iloc[6, 3] = np.nan
    clusters = cluster_tracks(z, n_clusters=3)
    assert clusters["cluster"].notna().all() and set(clusters["cluster"]) <= {1, 2, 3}
    assert clusters.loc["track1", "cluster"] == clusters.loc["track4", "cluster"]  # constant rows: distance 0
    assert sorted(clusters["order"]) == list(range(10))
    one = cluster_tracks(z.iloc[:1])
    assert one["cluster"].tolist() == [1] and one["order"].tolist() == [0]


def test_plots_written_and_deterministic(tmp_path):
    z, _ = planted_z()
    z.iloc[2, 5] = np.nan
    mark = z.abs() > 3
    heat = plot_z_heatmap(z, tmp_path / "heat.png", title="SLDP z", mark=mark)
    first = heat.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and len(first) > 5000
    assert b"Software" not in first
    plot_z_heatmap(z, tmp_path / "heat.png", title="SLDP z", mark=mark)
    assert heat.read_bytes() == first
    assert plot_z_heatmap(z, tmp_path / "plain.png").read_bytes() != first

    clusters = cluster_tracks(z, n_clusters=2)
    fig = plot_track_clusters(z, clusters, tmp_path / "clusters.png", title="tracks")
    one = fig.read_bytes()
    assert one[:8] == b"\x89PNG\r\n\x1a\n" and len(one) > 5000
    plot_track_clusters(z, clusters, tmp_path / "clusters.png", title="tracks")
    assert fig.read_bytes() == one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clusters.png", "heat.png", "plain.png"]
    with pytest.raises(ValueError):
        plot_track_clusters(z, clusters.iloc[:5], tmp_path / "bad.png")
