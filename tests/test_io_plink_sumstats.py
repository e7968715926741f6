"""PLINK panels, summary statistics and allele reconciliation (crossreg.io.plink / crossreg.io.sumstats).

Genotypes are checked against an independent decoding of the .bed bytes with NumPy; the
allele reconciliation against a literal port of gprim 0.23's allele tables
(``MATCH_ALLELES`` / ``FLIP_ALLELES``, as used by sldp 1.1.5's ``reconciled_to``).
"""

from __future__ import annotations

import gzip
import itertools
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crossreg.errors import InputError
from crossreg.io.plink import read_panel, read_plink
from crossreg.io.sumstats import ReconcileReport, read_sumstats, reconcile

PANEL = Path(__file__).parent / "data" / "ld_panel_1kg_eur"
STEM = PANEL / "chr1"

# PLINK 1 SNP-major 2-bit codes -> copies of A1 (bim column 5)
_CODE_TO_A1 = np.array([2.0, np.nan, 1.0, 0.0])


def decode_bed(path: Path, n_people: int, n_snps: int) -> np.ndarray:
    """Independent .bed decoder: float64 [n_people, n_snps] copies of A1, NaN missing."""
    raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    assert bytes(raw[:3]) == b"\x6c\x1b\x01"
    per_snp = (n_people + 3) // 4
    block = raw[3:].reshape(n_snps, per_snp)
    codes = np.stack([(block >> (2 * k)) & 0b11 for k in range(4)], axis=2).reshape(n_snps, per_snp * 4)
    return _CODE_TO_A1[codes[:, :n_people]].T


def write_bed(stem: Path, geno: np.ndarray, bim_rows: list[str], fam_rows: list[str] | None = None) -> Path:
    """Write a PLINK fileset by hand: geno float [people, snps] copies of A1, NaN missing."""
    n, m = geno.shape
    code = np.where(np.isnan(geno), 1, np.select([geno == 2, geno == 1, geno == 0], [0, 2, 3], 1)).astype(np.uint8)
    per_snp = (n + 3) // 4
    padded = np.zeros((m, per_snp * 4), dtype=np.uint8)
    padded[:, :n] = code.T
    quads = padded.reshape(m, per_snp, 4)
    packed = quads[:, :, 0] | (quads[:, :, 1] << 2) | (quads[:, :, 2] << 4) | (quads[:, :, 3] << 6)
    Path(f"{stem}.bed").write_bytes(b"\x6c\x1b\x01" + packed.astype(np.uint8).tobytes())
    Path(f"{stem}.bim").write_text("".join(r + "\n" for r in bim_rows))
    fam_rows = fam_rows or [f"f{i} i{i} 0 0 {1 + i % 2} -9" for i in range(n)]
    Path(f"{stem}.fam").write_text("".join(r + "\n" for r in fam_rows))
    return stem


def copy_panel(dest_stem: Path, src_stem: Path = STEM) -> Path:
    for ext in (".bed", ".bim", ".fam"):
        shutil.copyfile(f"{src_stem}{ext}", f"{dest_stem}{ext}")
    return dest_stem


# ---------------------------------------------------------------- PLINK


def test_read_plink_real_panel_tables():
    panel = read_plink(STEM)
    bim = pd.read_csv(f"{STEM}.bim", sep="\t", header=None, dtype=str)
    fam = pd.read_csv(f"{STEM}.fam", sep=r"\s+", header=None, dtype=str)
    assert panel.n_snps == len(bim) == 966
    assert panel.n_people == len(fam) == 489
    assert list(panel.bim.columns) == ["chrom", "snp", "cm", "bp", "a1", "a2"]
    assert isinstance(panel.bim.index, pd.RangeIndex)
    assert panel.bim["bp"].dtype == np.int64 and panel.bim["cm"].dtype == np.float64
    assert panel.bim["snp"].tolist() == bim[1].tolist()
    assert panel.bim["chrom"].tolist() == bim[0].tolist()
    np.testing.assert_array_equal(panel.bim["bp"].to_numpy(), bim[3].astype(np.int64).to_numpy())
    np.testing.assert_array_equal(panel.bim["cm"].to_numpy(), bim[2].astype(float).to_numpy())
    assert panel.bim["a1"].tolist() == bim[4].str.upper().tolist()
    assert panel.bim["a2"].tolist() == bim[5].str.upper().tolist()
    assert list(panel.fam.columns) == ["fid", "iid", "father", "mother", "sex", "pheno"]
    assert panel.fam["iid"].tolist() == fam[1].tolist()


def test_genotypes_match_independent_decoding():
    panel = read_plink(STEM)
    expected = decode_bed(Path(f"{STEM}.bed"), panel.n_people, panel.n_snps)
    got = panel.genotypes()
    assert got.dtype == np.float64 and got.shape == (489, 966)
    np.testing.assert_array_equal(got, expected)
    index = np.array([900, 3, 3, 0, 965])
    np.testing.assert_array_equal(panel.genotypes(index), expected[:, index])
    assert panel.genotypes(np.array([], dtype=np.int64)).shape == (489, 0)
    # A1 is counted: the panel's A1 is mostly the minor allele, so mean dosage < 1 for most SNPs
    assert np.mean(np.nanmean(got, axis=0) < 1.0) > 0.9


def test_genotypes_missing_and_a1_counting(tmp_path):
    geno = np.array([[0, 2, np.nan], [1, 2, 0], [2, np.nan, 1], [np.nan, 0, 2], [1, 1, 1]], dtype=float)
    stem = write_bed(tmp_path / "tiny", geno, ["1\trsA\t0\t10\tA\tG", "1\trsB\t0\t20\tc\tt", "1\trsC\t0.5\t30\tG\tA"])
    panel = read_plink(stem)
    np.testing.assert_array_equal(panel.genotypes(), geno)
    assert panel.bim["a1"].tolist() == ["A", "C", "G"]
    np.testing.assert_array_equal(panel.genotypes(np.array([2, 0])), geno[:, [2, 0]])
    with pytest.raises(IndexError):
        panel.genotypes(np.array([3]))


def test_read_plink_missing_fam(tmp_path):
    stem = copy_panel(tmp_path / "p")
    Path(f"{stem}.fam").unlink()
    with pytest.raises(InputError, match=r"p\.fam"):
        read_plink(stem)


def test_read_plink_truncated_bed(tmp_path):
    stem = copy_panel(tmp_path / "p")
    data = Path(f"{stem}.bed").read_bytes()
    Path(f"{stem}.bed").write_bytes(data[:-50])
    with pytest.raises(InputError, match=r"p\.bed.*size .*expected 3 \+ 966 \* ceil\(489 / 4\) = 118821"):
        read_plink(stem)


def test_read_plink_bad_magic(tmp_path):
    stem = copy_panel(tmp_path / "p")
    data = bytearray(Path(f"{stem}.bed").read_bytes())
    data[2] = 0  # individual-major
    Path(f"{stem}.bed").write_bytes(bytes(data))
    with pytest.raises(InputError, match="SNP-major"):
        read_plink(stem)


@pytest.mark.parametrize(
    "line, message",
    [
        ("1\trsX\t0\t12345\tA", r"p\.bim:3: expected 6 whitespace-separated columns"),
        ("1\trsX\t0\tabc\tA\tG", r"p\.bim:3: base position \(column 4\) must be an integer, got 'abc'"),
        ("1\trsX\tcm\t5\tA\tG", r"p\.bim:3: genetic position"),
        ("1\trsX\t0\t-5\tA\tG", r"p\.bim:3: base position \(column 4\) must be >= 0"),
    ],
)
def test_read_plink_malformed_bim_line(tmp_path, line, message):
    stem = copy_panel(tmp_path / "p")
    lines = Path(f"{stem}.bim").read_text().splitlines()
    lines[2] = line
    Path(f"{stem}.bim").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        read_plink(stem)


def test_read_plink_duplicate_snp(tmp_path):
    stem = copy_panel(tmp_path / "p")
    lines = Path(f"{stem}.bim").read_text().splitlines()
    first_id = lines[0].split("\t")[1]
    fields = lines[4].split("\t")
    fields[1] = first_id
    lines[4] = "\t".join(fields)
    Path(f"{stem}.bim").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"p\.bim:5: duplicate SNP id '{first_id}' \(first on line 1\)"):
        read_plink(stem)


def test_read_plink_bad_fam(tmp_path):
    stem = copy_panel(tmp_path / "p")
    lines = Path(f"{stem}.fam").read_text().splitlines()
    lines[9] = "A B 0 0 male -9"
    Path(f"{stem}.fam").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"p\.fam:10: sex"):
        read_plink(stem)


def test_read_panel_order_prefix_and_errors(tmp_path):
    geno = np.array([[0, 1], [2, 1], [1, 0]], dtype=float)
    write_bed(tmp_path / "ref.2", geno, ["2\tr1\t0\t100\tA\tG", "2\tr2\t0\t200\tC\tT"])
    write_bed(tmp_path / "ref.chr1", geno[:, :1], ["1\tr3\t0\t100\tA\tG"])  # bim says 1, file says chr1
    panels = read_panel(tmp_path / "ref.", ["2", "chr1"])
    assert list(panels) == ["2", "chr1"]
    assert panels["2"].bim["snp"].tolist() == ["r1", "r2"]
    np.testing.assert_array_equal(panels["chr1"].genotypes(), geno[:, :1])

    with pytest.raises(InputError) as err:
        read_panel(tmp_path / "ref.", ["2", "3", "X"])
    assert "3" in str(err.value) and "X" in str(err.value) and "ref.3.bed" in str(err.value)

    write_bed(tmp_path / "ref.5", geno[:, :1], ["6\tr9\t0\t100\tA\tG"])
    with pytest.raises(InputError, match=r"ref\.5\.bim:1: chromosome '6' where chromosome '5' was requested"):
        read_panel(tmp_path / "ref.", ["5"])


# ---------------------------------------------------------------- summary statistics


def test_read_sumstats_text_plain_and_gz(tmp_path):
    text = "snp\tInfo\ta1\ta2\tz\tn\nrs1\t.9\ta\tc\t1.5\t1000\nrs2\t.8\tG\tT\t-2.25e-3\t999.5\n"
    (tmp_path / "s.txt").write_text(text.replace("\t", "  "))
    with gzip.open(tmp_path / "s.sumstats.gz", "wt") as out:
        out.write(text)
    for name in ("s.txt", "s.sumstats.gz"):
        df = read_sumstats(tmp_path / name)
        assert list(df.columns) == ["snp", "a1", "a2", "z", "n"]
        assert df["snp"].tolist() == ["rs1", "rs2"]
        assert df["a1"].tolist() == ["A", "G"] and df["a2"].tolist() == ["C", "T"]
        assert df["z"].dtype == np.float64 and df["n"].dtype == np.float64
        assert df["z"].tolist() == [1.5, -2.25e-3] and df["n"].tolist() == [1000.0, 999.5]


@pytest.mark.parametrize(
    "text, message",
    [
        ("SNP A1 A2 Z\nrs1 A C 1\n", r"missing column\(s\) N"),
        ("SNP A1 A2 Z N\nrs1 A C 1 10\nrs2 A C abc 10\n", r"s\.txt:3: Z must be a number, got 'abc'"),
        ("SNP A1 A2 Z N\nrs1 A C nan 10\n", r"s\.txt:2: Z must be a finite number"),
        ("SNP A1 A2 Z N\nrs1 A C 1 NA\n", r"s\.txt:2: N must be a number"),
        ("SNP A1 A2 Z N\nrs1 A C 1 10\nrs2 A C 1 0\n", r"s\.txt:3: N must be > 0"),
        ("SNP A1 A2 Z N\nrs1 A C 1 10\nrs2 A C 1\n", r"s\.txt:3: expected 5 fields"),
        ("SNP A1 A2 Z N\nrs1 A C 1 10\nrs2 A C 1 10\nrs1 A G 2 10\n", r"'rs1' appears 2 times \(lines 2, 4\)"),
    ],
)
def test_read_sumstats_errors(tmp_path, text, message):
    (tmp_path / "s.txt").write_text(text)
    with pytest.raises(InputError, match=message):
        read_sumstats(tmp_path / "s.txt")


def test_read_sumstats_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_sumstats(tmp_path / "absent.sumstats.gz")


def _slice_lines() -> list[str]:
    with gzip.open(PANEL / "RBC.sumstats.slice.tsv.gz", "rt") as handle:
        return handle.read().splitlines()


def test_real_ukbb_slice_duplicate_ids_rejected_then_read(tmp_path):
    # the real file splits the multi-allelic rs554782495 into two records (lines 629, 630)
    with pytest.raises(InputError, match=r"'rs554782495' appears 2 times \(lines 629, 630\)"):
        read_sumstats(PANEL / "RBC.sumstats.slice.tsv.gz")
    lines = _slice_lines()
    kept = [line for line in lines if not line.startswith("rs554782495\t")]
    assert len(kept) == len(lines) - 2
    path = tmp_path / "rbc.sumstats.gz"
    with gzip.open(path, "wt") as out:
        out.write("\n".join(kept) + "\n")
    df = read_sumstats(path)
    ref = pd.read_csv(path, sep="\t")  # independent parse of the same text
    assert list(ref.columns) == ["SNP", "CHR", "BP", "A1", "A2", "Z", "N"]
    assert len(df) == len(ref) == 698
    assert df["snp"].tolist() == ref["SNP"].tolist()
    assert df["a1"].tolist() == ref["A1"].str.upper().tolist()
    np.testing.assert_array_equal(df["z"].to_numpy(), ref["Z"].to_numpy(dtype=float))
    assert (df["n"] == 383290.0).all()
    assert df["a1"].str.len().max() > 1  # real indels pass through the reader unchanged


def test_real_ukbb_parquet(tmp_path, monkeypatch):
    parquet = PANEL / "RBC.sumstats.small.parquet"
    with pytest.raises(InputError, match=r"'rs554782495' appears 2 times \(records 628, 629\)"):
        read_sumstats(parquet)
    # duplicates="drop": every row of a repeated id goes; the rest equals an independent read
    import pyarrow.parquet as pq

    raw = pq.read_table(parquet).to_pandas()
    repeated = raw["SNP"].duplicated(keep=False)
    dropped = read_sumstats(parquet, duplicates="drop")
    assert dropped.attrs["dropped_duplicates"] == int(repeated.sum()) > 0
    kept = raw.loc[~repeated]
    assert dropped["snp"].tolist() == kept["SNP"].tolist() and len(dropped) == len(raw) - int(repeated.sum())
    np.testing.assert_array_equal(dropped["z"].to_numpy(), kept["Z"].to_numpy(dtype=float))
    np.testing.assert_array_equal(dropped["n"].to_numpy(), kept["N"].to_numpy(dtype=float))
    assert dropped["a1"].tolist() == kept["A1"].str.upper().tolist()

    # the parquet branch's own handling (column case, extra columns, index, dtypes), fed
    # the same real records through a stand-in engine
    frame = pd.read_csv(PANEL / "RBC.sumstats.slice.tsv.gz", sep="\t")
    frame = frame[frame["SNP"] != "rs554782495"].rename(columns={"Z": "z", "SNP": "snp"})
    frame.index = frame.index + 19366899  # the parquet keeps a pandas index column
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, **k: frame.copy())
    df = read_sumstats(parquet)
    assert len(df) == 698 and isinstance(df.index, pd.RangeIndex)
    assert df["snp"].tolist() == frame["snp"].tolist()
    np.testing.assert_array_equal(df["z"].to_numpy(), frame["z"].to_numpy())
    bad = frame.copy()
    bad.iloc[4, bad.columns.get_loc("z")] = np.nan
    monkeypatch.setattr(pd, "read_parquet", lambda path, *a, **k: bad.copy())
    with pytest.raises(InputError, match=r"parquet:record 5: Z must be a finite number"):
        read_sumstats(parquet)


# ---------------------------------------------------------------- reconcile (gprim semantics)

# literal port of gprim 0.23 annotation.py's allele tables
_COMP = {"A": "T", "T": "A", "C": "G", "G": "C"}
_BASES = _COMP.keys()
_AMBIG = {"".join(x): x[0] == _COMP[x[1]] for x in itertools.product(_BASES, _BASES) if x[0] != x[1]}
_VALID = {x for x in map(lambda y: "".join(y), itertools.product(_BASES, _BASES)) if x[0] != x[1] and not _AMBIG[x]}
_MATCH = {
    x
    for x in map(lambda y: "".join(y), itertools.product(_VALID, _VALID))
    if ((x[0] == x[2]) and (x[1] == x[3]))
    or ((x[0] == _COMP[x[2]]) and (x[1] == _COMP[x[3]]))
    or ((x[0] == x[3]) and (x[1] == x[2]))
    or ((x[0] == _COMP[x[3]]) and (x[1] == _COMP[x[2]]))
}
_FLIP = {x for x in _MATCH if ((x[0] == x[3]) and (x[1] == x[2])) or ((x[0] == _COMP[x[3]]) and (x[1] == _COMP[x[2]]))}


def gprim_expected(r1, r2, o1, o2, value):
    key = (r1 + r2 + o1 + o2).upper()
    if key not in _MATCH:
        return np.nan
    return -value if key in _FLIP else value


def test_reconcile_every_allele_combination_matches_gprim():
    pairs = [a + b for a in "ACGT" for b in "ACGT" if a != b] + ["AT", "at", "AC", "ac"]
    combos = list(itertools.product(pairs, pairs))
    ref = pd.DataFrame({"snp": [f"s{i}" for i in range(len(combos))], "a1": [r[0] for r, _ in combos], "a2": [r[1] for r, _ in combos]})
    other = pd.DataFrame({"snp": ref["snp"][::-1].to_numpy(), "a1": [o[0] for _, o in combos][::-1], "a2": [o[1] for _, o in combos][::-1]})
    values = np.arange(1, len(combos) + 1, dtype=float)[::-1].copy()
    got, report = reconcile(ref, other, values, what="all combinations")
    expected = np.array([gprim_expected(r[0], r[1], o[0], o[1], float(i + 1)) for i, (r, o) in enumerate(combos)])
    np.testing.assert_array_equal(got, expected)
    assert report.total == len(combos) and report.missing == 0
    assert report.matched + report.flipped == int(np.isfinite(expected).sum())
    assert report.flipped == sum(1 for r, o in combos if (r + o).upper() in _FLIP)


def test_reconcile_cases_1d_and_2d():
    ref = pd.DataFrame(
        {
            "snp": ["match", "swap", "strand", "swapstrand", "at", "cg", "mism", "missing", "indel", "lower", "otherambig"],
            "a1": ["A", "A", "A", "A", "A", "C", "A", "A", "AT", "a", "A"],
            "a2": ["C", "C", "C", "C", "T", "G", "C", "C", "A", "g", "G"],
        }
    )
    other = pd.DataFrame(
        {
            "snp": ["lower", "indel", "mism", "cg", "at", "swapstrand", "strand", "swap", "match", "extra", "otherambig"],
            "a1": ["A", "AT", "A", "C", "A", "G", "T", "C", "A", "A", "A"],
            "a2": ["G", "A", "G", "G", "T", "T", "G", "A", "C", "C", "T"],
        }
    )
    v = np.array([10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110])
    got, report = reconcile(ref, other, v, what="toy")
    nan = np.nan
    expected = np.array([90.0, -80, 70, -60, nan, nan, nan, nan, nan, 10, nan])
    np.testing.assert_array_equal(got, expected)
    assert (report.total, report.matched, report.flipped, report.strand_flipped) == (11, 3, 2, 2)
    assert (report.missing, report.mismatched, report.ambiguous) == (1, 2, 3)
    assert report.examples["ambiguous"] == ["at", "cg", "otherambig"]
    assert report.examples["missing"] == ["missing"]
    assert report.examples["mismatched"] == ["mism", "indel"]
    assert "toy" in report.text() and "11 reference SNPs" in report.text()

    v2 = np.stack([v, 2 * v, -v], axis=1)
    got2, report2 = reconcile(ref, other, v2, what="toy")
    assert got2.shape == (11, 3) and got2.dtype == np.float64
    np.testing.assert_array_equal(got2, np.stack([expected, 2 * expected, -expected], axis=1))
    assert report2 == report


def test_reconcile_duplicate_ids_and_shapes():
    ref = pd.DataFrame({"snp": ["a", "b"], "a1": ["A", "A"], "a2": ["C", "G"]})
    other = pd.DataFrame({"snp": ["a", "a"], "a1": ["A", "A"], "a2": ["C", "G"]})
    with pytest.raises(InputError, match="'a' appears more than once"):
        reconcile(ref, other, np.ones(2), what="dups")
    other = pd.DataFrame({"snp": ["a"], "a1": ["A"], "a2": ["C"]})
    with pytest.raises(InputError, match=r"shape \(2,\)"):
        reconcile(ref, other, np.ones(2), what="shape")
    with pytest.raises(InputError, match="lacks column"):
        reconcile(ref.drop(columns="a2"), other, np.ones(1), what="cols")
    empty = other.iloc[:0]
    got, report = reconcile(ref, empty, np.zeros(0), what="empty")
    assert np.isnan(got).all() and report.missing == 2
    assert isinstance(report, ReconcileReport)


def test_reconcile_real_sumstats_to_panel_alleles(tmp_path):
    """The real UKBB records reconciled to themselves with alleles swapped / complemented."""
    lines = [line for line in _slice_lines() if not line.startswith("rs554782495\t")]
    path = tmp_path / "rbc.txt"
    path.write_text("\n".join(lines) + "\n")
    ss = read_sumstats(path)
    ref = ss[["snp", "a1", "a2"]].copy()
    ref[["a1", "a2"]] = ref[["a2", "a1"]].to_numpy()  # swapped
    got, report = reconcile(ref, ss, ss["z"].to_numpy(), what="RBC")
    single = ss["a1"].isin(list("ACGT")) & ss["a2"].isin(list("ACGT"))
    ambiguous = single & (ss["a1"].map(_COMP) == ss["a2"])
    usable = (single & ~ambiguous).to_numpy()
    np.testing.assert_array_equal(got[usable], -ss["z"].to_numpy()[usable])
    assert np.isnan(got[~usable]).all()
    assert report.flipped == int(usable.sum()) and report.ambiguous == int(ambiguous.sum())
    assert report.mismatched == int((~single).sum())
