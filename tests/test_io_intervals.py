"""FASTA, BED and bigWig readers: coordinates, masks, and the errors for bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossreg.errors import InputError
from crossreg.io.bed import covered_bp, merge_intervals, read_bed_intervals, read_masks
from crossreg.io.bigwig import BigWigTrack
from crossreg.io.fasta import FastaGenome

from conftest import write_bigwig, write_fasta

intervals_strategy = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1])), max_size=25
)


def _dense(intervals, size=400):
    covered = np.zeros(size, dtype=bool)
    for s, e in intervals:
        covered[s:e] = True
    return covered


@settings(max_examples=150, deadline=None)
@given(intervals_strategy)
def test_merge_intervals_matches_brute_force(intervals):
    merged = merge_intervals(np.array(intervals, dtype=np.int64).reshape(-1, 2))
    np.testing.assert_array_equal(_dense(merged), _dense(intervals))
    assert (merged[1:, 0] > merged[:-1, 1]).all()  # disjoint, non-touching, sorted


@settings(max_examples=150, deadline=None)
@given(intervals_strategy, st.lists(st.tuples(st.integers(0, 350), st.integers(1, 60)), min_size=1, max_size=10))
def test_covered_bp_matches_brute_force(intervals, queries):
    iv = {"c": merge_intervals(np.array(intervals, dtype=np.int64).reshape(-1, 2))}
    starts = np.array([q[0] for q in queries])
    ends = starts + np.array([q[1] for q in queries])
    dense = _dense(intervals, 500)
    expected = [dense[s:e].sum() for s, e in zip(starts, ends)]
    np.testing.assert_array_equal(covered_bp(iv, "c", starts, ends), expected)


def test_fasta_fetch_pads_with_n_and_finds_n_runs(tmp_path):
    fa = write_fasta(tmp_path / "g.fa", {"chr1": "ACGTNNNNacgtRYAC", "chr2": "NNAC"})
    with FastaGenome(fa) as g:
        assert g.chrom_sizes == {"chr1": 16, "chr2": 4}
        assert g.fetch("chr1", -2, 3) == b"NNACG"
        assert g.fetch("chr1", 14, 18) == b"ACNN"
        np.testing.assert_array_equal(g.n_runs("chr1"), [[4, 8], [12, 14]])
        np.testing.assert_array_equal(g.n_runs("chr2", chunk=1), [[0, 2]])  # joined across chunks
        with pytest.raises(InputError, match="no chromosome 'chrZ'"):
            g.fetch("chrZ", 0, 1)


def test_fasta_not_indexable(tmp_path):
    bad = tmp_path / "bad.fa"
    bad.write_text("this is not a fasta\n")
    with pytest.raises(InputError, match="bad.fa: cannot open"):
        FastaGenome(bad)


def test_bed_errors_name_the_line(tmp_path):
    sizes = {"chr1": 1000}
    bed = tmp_path / "b.bed"
    bed.write_text("chr1\t10\t20\nchr1\t50\t40\n")
    with pytest.raises(InputError, match=r"b.bed:2: invalid interval chr1:50-40"):
        read_bed_intervals(bed, sizes)
    bed.write_text("#header\nchr1\t10\t20\n1\t10\t20\n")
    with pytest.raises(InputError, match=r"b.bed:3: chromosome '1' is not in the genome \(whose names look like 'chr1'\)"):
        read_bed_intervals(bed, sizes)
    bed.write_text("chr1\t10\tx\n")
    with pytest.raises(InputError, match=r"b.bed:1: start/end must be integers"):
        read_bed_intervals(bed, sizes)
    bed.write_text("chr1\t10\t2000\n")
    with pytest.raises(InputError, match=r"b.bed:1: .* ends past the chromosome end 1000"):
        read_bed_intervals(bed, sizes)


def test_unmappable_counts_only_intervals_longer_than_32bp(tmp_path):
    sizes = {"chr1": 1000}
    black = tmp_path / "black.bed"
    black.write_text("chr1\t0\t5\n")
    unmap = tmp_path / "unmap.bed"
    unmap.write_text("chr1\t100\t132\nchr1\t200\t233\nchr1\t230\t300\n")
    iv, dropped = read_bed_intervals(unmap, sizes, min_length=32)
    assert dropped == 1
    masks = read_masks(sizes, [black], [unmap])
    np.testing.assert_array_equal(masks["chr1"], [[0, 5], [200, 300]])


def test_bigwig_names_must_match_fasta(tmp_path):
    bw = write_bigwig(tmp_path / "t.bw", {"1": 100}, {"1": np.ones(100)})
    with pytest.raises(InputError, match=r"t.bw has e.g. '1', the FASTA has e.g. 'chr1'"):
        BigWigTrack(bw, {"chr1": 100})


def test_bigwig_missing_chromosome_error_or_zeros(tmp_path):
    bw = write_bigwig(tmp_path / "t.bw", {"chr1": 100}, {"chr1": np.arange(100.0)})
    genome = {"chr1": 100, "chr2": 50}
    with pytest.raises(InputError, match=r"t.bw has no chromosome 'chr2'.*--missing-chroms zeros"):
        BigWigTrack(bw, genome)
    with BigWigTrack(bw, genome, missing_chroms="zeros") as track:
        assert np.isnan(track.values("chr2", 0, 10)).all()
        assert track.missing_reads == 1
        np.testing.assert_array_equal(track.values("chr1", 98, 102)[:2], [98, 99])
        assert np.isnan(track.values("chr1", 98, 102)[2:]).all()
        starts, ends, values = track.intervals("chr1", 10, 12)
        np.testing.assert_array_equal(starts, [10, 11])
