"""Round trips of the file writers through the libraries the readers use (pysam, pyBigWig)."""

from __future__ import annotations

import math

import numpy as np
import pyBigWig
import pysam
import pytest

from crossreg.errors import InputError
from crossreg.io import writers


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_fasta_roundtrip_indexed_and_deterministic(tmp_path):
    rng = np.random.default_rng(0)
    seqs = [("chr1", rng.integers(0, 5, 12_345).astype(np.uint8)), ("chr2", "ACGTNNNNacgt" * 50),
            ("chr3", b"GATTACA")]
    a, b = tmp_path / "a.fa.gz", tmp_path / "b.fa.gz"
    writers.write_fasta(a, seqs, line_width=60)
    writers.write_fasta(b, seqs, line_width=60)
    for suffix in ("", ".fai", ".gzi"):
        assert (tmp_path / f"a.fa.gz{suffix}").read_bytes() == (tmp_path / f"b.fa.gz{suffix}").read_bytes()
    fa = pysam.FastaFile(str(a))
    assert list(fa.references) == ["chr1", "chr2", "chr3"]
    assert fa.get_reference_length("chr1") == 12_345
    assert fa.fetch("chr1", 100, 200) == "".join("ACGTN"[x] for x in seqs[0][1][100:200])
    assert fa.fetch("chr2", 0, 12) == "ACGTNNNNacgt"  # text is written as given (soft-masking kept)
    assert fa.fetch("chr3") == "GATTACA"
    assert _leftovers(tmp_path) == []


def test_fasta_rejects_bad_codes(tmp_path):
    with pytest.raises(InputError):
        writers.write_fasta(tmp_path / "x.fa.gz", [("chr1", np.array([0, 9], np.uint8))])
    assert not (tmp_path / "x.fa.gz").exists()
    assert _leftovers(tmp_path) == []


def test_bigwig_roundtrip_runs_and_header(tmp_path):
    sizes = [("chr1", 1000), ("chr2", 500), ("chr3", 300)]
    path = tmp_path / "t.bw"
    with writers.BigWigWriter(path, sizes) as w:
        w.add("chr1", np.array([0, 10, 50]), np.array([10, 20, 60]), np.array([1.5, -2.0, 3.0]))
        w.add("chr2", np.array([], np.int64), np.array([], np.int64), np.array([]))
        w.add("chr3", np.array([299]), np.array([300]), np.array([7.0]))
    bw = pyBigWig.open(str(path))
    assert bw.chroms() == dict(sizes)
    v = bw.values("chr1", 0, 60)
    assert v[0] == 1.5 and v[15] == -2.0 and math.isnan(v[30]) and v[55] == 3.0
    assert bw.intervals("chr3") == ((299, 300, 7.0),)
    assert bw.intervals("chr2") is None
    # deterministic bytes
    path2 = tmp_path / "t2.bw"
    with writers.BigWigWriter(path2, sizes) as w:
        w.add("chr1", np.array([0, 10, 50]), np.array([10, 20, 60]), np.array([1.5, -2.0, 3.0]))
        w.add("chr3", np.array([299]), np.array([300]), np.array([7.0]))
    assert path.read_bytes() == path2.read_bytes()


def test_bigwig_errors_leave_nothing(tmp_path):
    path = tmp_path / "bad.bw"
    with pytest.raises(InputError):
        with writers.BigWigWriter(path, [("chr1", 100), ("chr2", 100)]) as w:
            w.add("chr2", np.array([0]), np.array([5]), np.array([1.0]))
            w.add("chr1", np.array([0]), np.array([5]), np.array([1.0]))  # out of header order
    assert not path.exists() and _leftovers(tmp_path) == []
    with pytest.raises(InputError):
        with writers.BigWigWriter(path, [("chr1", 100)]) as w:
            w.add("chr1", np.array([0, 3]), np.array([5, 8]), np.array([1.0, 2.0]))  # overlapping
    with pytest.raises(InputError):
        with writers.BigWigWriter(path, [("chr1", 100)]) as w:
            w.add("chrX", np.array([0]), np.array([5]), np.array([1.0]))
    assert not path.exists() and _leftovers(tmp_path) == []


def test_bigwig_writers_all_or_nothing(tmp_path):
    paths = [(tmp_path / f"{i}.bw", [("chr1", 100)]) for i in range(3)]
    with pytest.raises(RuntimeError):
        with writers.bigwig_writers(paths) as ws:
            ws[0].add("chr1", np.array([0]), np.array([10]), np.array([1.0]))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with writers.bigwig_writers(paths) as ws:
        for w in ws:
            w.add("chr1", np.array([0]), np.array([10]), np.array([1.0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.bw", "1.bw", "2.bw"]


def test_merge_runs():
    s = np.array([0, 10, 20, 40, 50])
    e = np.array([10, 20, 30, 50, 60])
    v = np.array([1.0, 1.0, 2.0, 2.0, 2.0])
    ms, me, mv = writers.merge_runs(s, e, v)
    assert ms.tolist() == [0, 20, 40] and me.tolist() == [20, 30, 60] and mv.tolist() == [1.0, 2.0, 2.0]
    empty = np.zeros(0, np.int64)
    assert writers.merge_runs(empty, empty, np.zeros(0))[0].size == 0


def test_bed_gtf_chain_text(tmp_path):
    writers.write_bed(tmp_path / "x.bed", [("chr1", 0, 10, "a"), ("chr2", 5, 7)])
    assert (tmp_path / "x.bed").read_text() == "chr1\t0\t10\ta\nchr2\t5\t7\n"
    writers.write_gtf(tmp_path / "x.gtf", [("chr1", "src", "exon", 1, 10, ".", "+", ".",
                                           {"gene_id": "G1", "transcript_id": "G1.1"})])
    assert (tmp_path / "x.gtf").read_text() == \
        'chr1\tsrc\texon\t1\t10\t.\t+\t.\tgene_id "G1"; transcript_id "G1.1";\n'

    class C:
        score, t_name, t_size, t_start, t_end = 100, "chr1", 1000, 10, 60
        q_name, q_size, q_strand, q_start, q_end, id = "chr2", 900, "-", 5, 57, 1
        sizes, dt, dq = np.array([20, 25]), np.array([5]), np.array([7])

    writers.write_chain(tmp_path / "x.chain", [C()])
    assert (tmp_path / "x.chain").read_text() == \
        "chain 100 chr1 1000 + 10 60 chr2 900 - 5 57 1\n20\t5\t7\n25\n\n"


def test_vcf_roundtrip_tabix(tmp_path):
    path = tmp_path / "v.vcf.gz"
    contigs = [("chr1", 1000), ("chr2", 500)]
    recs = [("chr1", 5, "rs1", "A", "G", ".", "PASS", "AF=0.1"), ("chr1", 700, "rs2", "C", "T", ".", "PASS", "AF=0.2"),
            ("chr2", 3, "rs3", "G", "A", ".", "PASS", "AF=0.3")]
    info = ['ID=AF,Number=A,Type=Float,Description="freq"']
    writers.write_vcf(path, contigs, recs, meta=["source=test"], info=info)
    vf = pysam.VariantFile(str(path))
    assert list(vf.header.contigs) == ["chr1", "chr2"]
    got = [(r.chrom, r.pos, r.id, r.ref, r.alts[0]) for r in vf.fetch("chr1", 600, 800)]
    assert got == [("chr1", 700, "rs2", "C", "T")]
    assert (tmp_path / "v.vcf.gz.tbi").exists()
    writers.write_vcf(tmp_path / "w.vcf.gz", contigs, recs, meta=["source=test"], info=info)
    assert path.read_bytes() == (tmp_path / "w.vcf.gz").read_bytes()


def test_vcf_rejects_unsorted_and_unknown_contig(tmp_path):
    contigs = [("chr1", 1000)]
    with pytest.raises(InputError):
        writers.write_vcf(tmp_path / "u.vcf.gz", contigs, [("chr1", 9, ".", "A", "G", ".", ".", "."),
                                                           ("chr1", 5, ".", "A", "G", ".", ".", ".")])
    with pytest.raises(InputError):
        writers.write_vcf(tmp_path / "u.vcf.gz", contigs, [("chrZ", 9, ".", "A", "G", ".", ".", ".")])
    assert list(tmp_path.iterdir()) == []
