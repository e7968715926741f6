"""A simulated tiny world passes the data layer end to end (split with its chain -> manifest)."""

import json

import h5py
import numpy as np
import pandas as pd
import pytest

from crossreg.cli import main
from crossreg.data.reader import ShardSplit
from crossreg.data.split import read_folds_bed
from crossreg.data.windows import read_windows_bed
from crossreg.io.chain import read_chains
from crossreg.simulate import simulate

SEQ_LENGTH = 16_384
REGION = 32_768


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    simulate(out, preset="tiny", seed=3)
    return out


def _ok(argv):
    assert main([str(a) for a in argv]) == 0


@pytest.fixture(scope="module")
def prepared(world):
    out = world / "prepared"
    _ok(["split", "--genome", f"human={world / 'human' / 'genome.fa.gz'}", "--genome", f"mouse={world / 'mouse' / 'genome.fa.gz'}",
         "--chain", f"human:mouse:{world / 'alignment' / 'human_to_mouse.chain'}", "--region-size", REGION,
         "--min-shared-bp", 4096, "--valid-fraction", 0.15, "--test-fraction", 0.15, "--out-dir", out / "split"])
    for genome in ("human", "mouse"):
        d = world / genome
        common = ["--genome", genome, "--fasta", d / "genome.fa.gz", "--blacklist", d / "blacklist.bed", "--unmappable", d / "unmappable.bed"]
        _ok(["windows", *common, "--folds", out / "split" / f"{genome}.folds.bed", "--seq-length", SEQ_LENGTH,
             "--stride", 8192, "--out", out / f"{genome}.windows.bed"])
        _ok(["baselines", *common, "--targets", d / "targets.txt", "--out", out / f"{genome}.baselines.tsv"])
        shard_args = [*common, "--targets", d / "targets.txt", "--windows", out / f"{genome}.windows.bed",
                      "--baselines", out / f"{genome}.baselines.tsv", "--seq-length", SEQ_LENGTH, "--crop-bp", 2048,
                      "--windows-per-shard", 8]
        for chunk in (0, 1):
            _ok(["shards", *shard_args, "--chunk", chunk, "--of", 2, "--out-dir", out / genome])
        _ok(["manifest", *shard_args, "--shard-dir", out / genome])
    return out


def test_homologous_regions_share_a_fold(world, prepared):
    folds = {g: read_folds_bed(prepared / "split" / f"{g}.folds.bed") for g in ("human", "mouse")}
    report = json.loads((prepared / "split" / "split_report.json").read_text())
    assert report  # the split reported its fractions
    checked = 0
    for chain in read_chains(world / "alignment" / "human_to_mouse.chain"):
        for t, q, size in zip(chain.t_starts, chain.q_starts, chain.sizes):
            if size < 4096:
                continue
            h = folds["human"][(folds["human"].chrom == chain.t_name) & (folds["human"].start <= t) & (folds["human"].end > t)]
            m = folds["mouse"][(folds["mouse"].chrom == chain.q_name) & (folds["mouse"].start <= q) & (folds["mouse"].end > q)]
            if len(h) and len(m) and h.component.iloc[0] == m.component.iloc[0]:
                assert h.fold.iloc[0] == m.fold.iloc[0]
                checked += 1
    assert checked > 0


def test_every_genome_has_all_three_splits_and_consistent_shards(prepared):
    for genome, n_tracks_min in (("human", 4), ("mouse", 4)):
        manifest = json.loads((prepared / genome / "manifest.json").read_text())
        windows = read_windows_bed(prepared / f"{genome}.windows.bed")
        assert {k: v["windows"] for k, v in manifest["splits"].items()} == {
            f: int((windows.fold == f).sum()) for f in ("train", "valid", "test")
        }
        assert manifest["splits"]["train"]["windows"] > 0 and manifest["tracks"] >= n_tracks_min
        batch = next(ShardSplit(prepared / genome / "manifest.json", "train").batches(4))
        assert batch.targets.shape[1:] == (96, manifest["tracks"]) and np.isfinite(batch.targets).all()


def _transformed_baseline(target: dict, pool: int) -> float:
    """What a bin wholly under the mask must hold: the members' baselines through the transform."""
    values = []
    for member in target["members"]:
        x = member["baseline"] * (pool if target["sum_stat"] == "sum" else 1)
        if target["clip_soft"] is not None:
            t = target["clip_soft"]
            x = min(x, t + np.sqrt(max(0.0, x - t)))
        if target["clip"] is not None:
            x = min(x, target["clip"])
        values.append(x * target["scale"])
    return float(np.mean(values))


def test_blacklist_artefacts_are_masked_in_the_targets(world, prepared):
    """The simulator plants huge signal under the blacklist; the shards hold the baseline there."""
    import pyBigWig

    black = pd.read_csv(world / "human" / "blacklist.bed", sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"])
    manifest = json.loads((prepared / "human" / "manifest.json").read_text())
    expected = np.array([_transformed_baseline(t, 128) for t in manifest["targets"]])
    inside_bins, raw_under_mask = 0, []
    for split in manifest["splits"].values():
        for shard in split["shards"]:
            with h5py.File(prepared / "human" / shard["file"]) as h5:
                chroms, starts, targets = h5["chrom"][...].astype(str), h5["start"][...], h5["targets"][...]
            for w, (chrom, start) in enumerate(zip(chroms, starts)):
                lo = int(start) + 2048
                for b in black[black.chrom == chrom].itertuples():
                    first, last = -(-(b.start - lo) // 128), (b.end - lo) // 128  # bins wholly inside
                    first, last = max(first, 0), min(last, 96)
                    if last <= first:
                        continue
                    np.testing.assert_allclose(targets[w, first:last, :].astype(np.float32),
                                               np.broadcast_to(expected, (last - first, len(expected))), rtol=2e-3, atol=1e-3)
                    inside_bins += last - first
    bw = pyBigWig.open(manifest["targets"][0]["members"][0]["file"])
    chrom_values = np.nan_to_num(bw.values("chr1", 0, bw.chroms("chr1"), numpy=True))
    outside = np.ones(len(chrom_values), dtype=bool)
    for b in black[black.chrom == "chr1"].itertuples():
        outside[b.start : b.end] = False
        covered = bw.values("chr1", int(b.start), int(b.end), numpy=True)
        if not np.isnan(covered).all():
            raw_under_mask.append(np.nanmean(covered))
    assert inside_bins > 0, "no blacklist interval covers a whole bin of a window's target region"
    # the planted artefact is real: far above the track's mean outside the blacklist
    assert max(raw_under_mask) > 10 * chrom_values[outside].mean()
