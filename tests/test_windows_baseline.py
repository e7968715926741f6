"""Windows (tiling inside fold runs, filtering) and the exact per-track baseline."""

import numpy as np
import pandas as pd
import pytest

from crossreg.data.baseline import run_length_encode, track_baseline, weighted_quantile
from crossreg.data.windows import filter_windows, fold_runs, read_windows_bed, tile, tile_windows
from crossreg.errors import InputError
from crossreg.io.bed import merge_intervals
from crossreg.io.bigwig import BigWigTrack

from conftest import REAL_TINY, write_bigwig


def test_tile_centres_the_leftover():
    starts = tile(0, 1000, 300, 250)
    np.testing.assert_array_equal(starts, [100, 350, 600])  # leftover 200 split 100 / 100
    assert len(tile(0, 299, 300, 250)) == 0
    # the defaults: 131,072 bp windows every 65,599 bp
    starts = tile(0, 10_000_000, 131_072, 65_599)
    assert np.all(np.diff(starts) == 65_599) and starts[-1] + 131_072 <= 10_000_000


def test_windows_never_straddle_folds():
    folds = pd.DataFrame(
        {"chrom": ["c1"] * 6 + ["c2"] * 2, "start": [0, 100, 200, 300, 400, 500, 0, 100],
         "end": [100, 200, 300, 400, 500, 550, 100, 200],
         "fold": ["train", "train", "valid", "train", "train", "train", "test", "test"]}
    )
    runs = fold_runs(folds)
    assert runs.values.tolist() == [
        ["c1", 0, 200, "train"], ["c1", 200, 300, "valid"], ["c1", 300, 550, "train"], ["c2", 0, 200, "test"]
    ]
    windows = tile_windows({"c1": 550, "c2": 150}, folds, seq_length=60, stride=40)
    for w in windows.itertuples():
        region = folds[(folds.chrom == w.chrom) & (folds.start < w.end) & (folds.end > w.start)]
        assert set(region.fold) == {w.fold}
    assert windows[windows.chrom == "c2"].end.max() <= 150  # clipped to the chromosome


def test_filter_drops_n_and_masked_windows_and_reports():
    windows = pd.DataFrame({"chrom": ["c"] * 4, "start": [0, 100, 200, 300], "end": [100, 200, 300, 400],
                            "fold": ["train", "train", "valid", "test"]})
    n_runs = {"c": np.array([[0, 60]])}
    masked = {"c": merge_intervals(np.array([[100, 170], [250, 260]]))}
    kept, report = filter_windows(windows, {"c": 400}, n_runs, masked, 0.5, 0.5)
    assert kept.start.tolist() == [200, 300]
    assert (report.dropped_n, report.dropped_masked) == (1, 1)
    assert kept.masked_fraction.tolist() == [0.1, 0.0]
    assert report.kept_per_fold == {"train": 0, "valid": 1, "test": 1}
    with pytest.raises(InputError, match="no window left: 4 windows, 1 dropped for N fraction > 0.1"):
        filter_windows(windows, {"c": 400}, n_runs, {"c": np.array([[0, 400]])}, 0.1, 0.1)


def test_read_windows_bed_real_tiny_and_errors(tmp_path):
    w = read_windows_bed(REAL_TINY / "hg38" / "windows.bed", seq_length=131_072)
    assert len(w) == 65 and set(w.fold) == {"train", "valid", "test"}
    bad = tmp_path / "w.bed"
    bad.write_text("c\t0\t100\ttrain\nc\t0\t90\ttrain\n")
    with pytest.raises(InputError, match=r"w.bed:2: window c:0-90 is 90 bp; expected seq_length 100"):
        read_windows_bed(bad, seq_length=100)
    bad.write_text("c\t0\t100\ttraining\n")
    with pytest.raises(InputError, match=r"w.bed:1: fold 'training'"):
        read_windows_bed(bad)


def test_weighted_quantile_is_inverted_cdf(rng):
    values = rng.normal(size=50).astype(np.float32)
    weights = rng.integers(1, 5, size=50)
    expanded = np.repeat(values, weights)
    for q in (0, 10, 25, 50, 99, 100):
        assert weighted_quantile(values, weights, q) == np.percentile(expanded, q, method="inverted_cdf")
    v, n = run_length_encode(np.array([1, 1, 2, 2, 2, 1], dtype=np.float32))
    assert v.tolist() == [1, 2, 1] and n.tolist() == [2, 3, 1]


@pytest.mark.parametrize("runs", [False, True])
def test_track_baseline_is_exact_over_unmasked_bases(tmp_path, rng, runs):
    sizes = {"c1": 5000, "c2": 3000}
    values = {}
    for chrom, size in sizes.items():
        v = np.repeat(rng.gamma(0.5, 2.0, size // 50), 50)[:size]
        v[rng.random(size) < 0.05] = -1.0  # negatives become 0
        v[100:300] = np.nan  # no data -> 0
        values[chrom] = v
    bw = write_bigwig(tmp_path / "t.bw", sizes, values, runs=runs)
    masked = {"c1": np.array([[1000, 1500]]), "c2": np.array([[0, 10], [2000, 2999]])}
    expected_parts = []
    for chrom, v in values.items():
        keep = np.ones(sizes[chrom], dtype=bool)
        for s, e in masked[chrom]:
            keep[s:e] = False
        expected_parts.append(np.maximum(np.nan_to_num(v, nan=0.0), 0)[keep].astype(np.float32))
    expected = np.percentile(np.concatenate(expected_parts), 25, method="inverted_cdf")
    with BigWigTrack(bw, sizes) as track:
        assert track_baseline(track, sizes, masked, chunk=777) == pytest.approx(expected, rel=1e-6)
