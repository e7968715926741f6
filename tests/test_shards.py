"""Shards on real data: values, TSS signal, chunking, integrity checks and the streaming reader."""

import shutil

import h5py
import numpy as np
import pandas as pd
import pyBigWig
import pytest

from crossreg.data.baseline import compute_baselines
from crossreg.data.inputs import GenomeInputs
from crossreg.data.manifest import build_manifest, load_manifest
from crossreg.data.reader import ShardSplit
from crossreg.data.shards import Geometry, compute_targets, write_chunk
from crossreg.data.windows import read_windows_bed
from crossreg.errors import IntegrityError
from crossreg.io.bed import merge_intervals
from crossreg.io.fasta import FastaGenome
from crossreg.io.targets import read_targets

from conftest import REAL_TINY, write_bigwig, write_fasta

HG = REAL_TINY / "hg38"
GEOMETRY = Geometry(seq_length=131_072, pool_width=128, crop_bp=8_192)


def _build(out_dir, targets_path, chunks=1, windows_per_shard=8, blacklist=True):
    inputs = GenomeInputs("hg38", HG / "genome.fa.gz", targets_path, [HG / "blacklist.bed"] if blacklist else [])
    windows = read_windows_bed(HG / "windows.bed", inputs.chrom_sizes, GEOMETRY.seq_length)
    baselines = compute_baselines(inputs.targets, inputs.chrom_sizes, inputs.masked)
    for chunk in range(chunks):
        write_chunk(out_dir, "hg38", inputs.fasta, inputs.targets, baselines, windows, inputs.masked, GEOMETRY,
                    windows_per_shard=windows_per_shard, chunk=chunk, of=chunks)
    build_manifest(out_dir, "hg38", windows, inputs.targets, baselines, GEOMETRY, windows_per_shard,
                   inputs.input_files(), {"test": True})
    return out_dir / "manifest.json", windows


@pytest.fixture(scope="module")
def raw_targets(tmp_path_factory):
    """The real targets with the transform switched off (no clip, scale 1, mean)."""
    folder = tmp_path_factory.mktemp("raw")
    table = pd.read_csv(HG / "targets.txt", sep="\t")
    table["clip"] = ""
    table["clip_soft"] = ""
    table["file"] = [str(HG / f) for f in table["file"]]
    path = folder / "targets.txt"
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture(scope="module")
def raw_shards(tmp_path_factory, raw_targets):
    return _build(tmp_path_factory.mktemp("shards_raw"), raw_targets, chunks=2, blacklist=False)


@pytest.fixture(scope="module")
def real_shards(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("shards"), HG / "targets.txt", chunks=1)


def _all_windows(manifest_path, split):
    stream = ShardSplit(manifest_path, split)
    items = list(stream.windows())
    return stream, items


def test_shard_values_equal_bigwig_bin_means(raw_shards, raw_targets):
    manifest_path, windows = raw_shards
    table = read_targets(raw_targets)
    stream, items = _all_windows(manifest_path, "valid")
    assert len(items) == 10
    checked = 0
    for codes, targets, index in items[:4]:
        w = windows.iloc[index]
        lo = int(w.start) + GEOMETRY.crop_bp
        for t in (0, 1, 20):
            bw = pyBigWig.open(str(table.targets[t].file))
            values = np.nan_to_num(bw.values(w.chrom, lo, lo + GEOMETRY.bins * 128, numpy=True), nan=0.0)
            expected = np.maximum(values, 0).reshape(-1, 128).mean(axis=1)
            np.testing.assert_allclose(targets[:, t].astype(np.float32), expected, rtol=2e-3, atol=1e-3)
            # and pyBigWig's own exact bin means where a bin is fully covered by data
            covered = bw.stats(w.chrom, lo + 128 * 400, lo + 128 * 401, type="coverage", exact=True)[0]
            if covered == 1.0:
                mean = bw.stats(w.chrom, lo + 128 * 400, lo + 128 * 401, type="mean", exact=True)[0]
                assert float(targets[400, t]) == pytest.approx(max(mean, 0), rel=2e-3, abs=1e-3)
                checked += 1
    assert checked > 0


def test_shard_sequence_is_the_fasta(raw_shards):
    manifest_path, windows = raw_shards
    _, items = _all_windows(manifest_path, "test")
    lookup = np.frombuffer(b"ACGTN", dtype=np.uint8)
    with FastaGenome(HG / "genome.fa.gz") as fasta:
        for codes, _, index in items[:3]:
            w = windows.iloc[index]
            assert lookup[codes].tobytes() == fasta.fetch(w.chrom, int(w.start), int(w.end)).upper()


def test_cage_signal_sits_on_annotated_tss(real_shards):
    manifest_path, windows = real_shards
    manifest = load_manifest(manifest_path)
    plus = [i for i, t in enumerate(manifest["targets"]) if t["assay"] == "CAGE" and t["identifier"].endswith("+")]
    tss = pd.read_csv(HG / "tss.bed", sep="\t", header=None, names=["chrom", "start", "end", "name", "score", "strand"])
    at_tss, background = [], []
    for split in ("train", "valid", "test"):
        for _, targets, index in ShardSplit(manifest_path, split).windows():
            w = windows.iloc[index]
            profile = targets[:, plus].astype(np.float32).mean(axis=1)
            background.append(profile)
            here = tss[(tss.chrom == w.chrom) & (tss.strand == "+")]
            bins = (here.start.to_numpy() - int(w.start) - GEOMETRY.crop_bp) // 128
            bins = bins[(bins >= 0) & (bins < GEOMETRY.bins)]
            at_tss.extend(profile[bins])
    assert len(at_tss) >= 10
    ratio = np.mean(at_tss) / np.mean(np.concatenate(background))
    assert ratio > 20, f"CAGE+ at + strand TSSs only {ratio:.1f}x the mean bin"


def test_chunked_writing_equals_one_run(tmp_path, raw_targets, raw_shards):
    one, _ = _build(tmp_path / "one", raw_targets, chunks=1, blacklist=False)
    two, _ = raw_shards
    m1, m2 = load_manifest(one), load_manifest(two)
    for split in ("train", "valid", "test"):
        files1 = [s["file"] for s in m1["splits"][split]["shards"]]
        assert files1 == [s["file"] for s in m2["splits"][split]["shards"]]
        for f in files1:
            with h5py.File(one.parent / f) as a, h5py.File(two.parent / f) as b:
                for name in ("sequence", "targets", "start", "window_index"):
                    np.testing.assert_array_equal(a[name][...], b[name][...])


def test_manifest_contents(real_shards):
    manifest = load_manifest(real_shards[0])
    assert (manifest["seq_length"], manifest["pool_width"], manifest["bins"], manifest["tracks"]) == (131072, 128, 896, 34)
    assert {k: v["windows"] for k, v in manifest["splits"].items()} == {"train": 45, "valid": 10, "test": 10}
    assert "sha256" in manifest["inputs"]["fasta"] and "track:CNhs10752+" in manifest["inputs"]
    assert all(len(m["members"]) == 1 and "baseline" in m["members"][0] for m in manifest["targets"])
    assert manifest["versions"]["crossreg"] and manifest["statistics"]["chunks"] == 1


def test_truncated_and_altered_shards_are_detected(tmp_path, real_shards):
    copy = tmp_path / "copy"
    shutil.copytree(real_shards[0].parent, copy)
    manifest = load_manifest(copy / "manifest.json")
    first = copy / manifest["splits"]["valid"]["shards"][0]["file"]
    # altered: same size, a flipped byte inside the targets data -> fletcher32 / decompression error
    data = bytearray(first.read_bytes())
    with h5py.File(first) as h5:
        offset = h5["targets"].id.get_chunk_info(3).byte_offset
    data[offset + 100] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=f"shard {first}"):
        list(ShardSplit(copy / "manifest.json", "valid").windows())
    with pytest.raises(IntegrityError, match="SHA-256 differs"):
        list(ShardSplit(copy / "manifest.json", "valid", verify_checksums=True).windows())
    # truncated
    first.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(IntegrityError, match=f"shard {first} is \\d+ bytes but the manifest recorded"):
        list(ShardSplit(copy / "manifest.json", "valid").windows())


def test_reader_streams_every_window_once_and_shuffles_deterministically(real_shards):
    stream = ShardSplit(real_shards[0], "train")
    ordered = [i for _, _, i in stream.windows()]
    assert len(ordered) == stream.num_windows == 45 and len(set(ordered)) == 45
    s1 = [i for _, _, i in stream.windows(shuffle=True, seed=7, block_size=4, buffer_blocks=3)]
    s2 = [i for _, _, i in stream.windows(shuffle=True, seed=7, block_size=4, buffer_blocks=3)]
    s3 = [i for _, _, i in stream.windows(shuffle=True, seed=8, block_size=4, buffer_blocks=3)]
    assert s1 == s2 and s1 != s3 and sorted(s1) == sorted(ordered)
    batches = list(stream.batches(batch_size=16))
    assert [b.sequence.shape for b in batches] == [(16, 131072, 4), (16, 131072, 4), (13, 131072, 4)]
    assert batches[0].targets.shape == (16, 896, 34) and batches[0].targets.dtype == np.float32
    assert np.all(batches[0].sequence.sum(axis=2) <= 1)


def test_masked_bases_take_the_baseline_and_replicates_average(tmp_path):
    """Synthetic: a masked stretch becomes the baseline; two replicates are averaged."""
    sizes = {"c": 4096}
    write_fasta(tmp_path / "g.fa", {"c": "ACGT" * 1024})
    rep1 = np.full(4096, 2.0)
    rep2 = np.full(4096, 4.0)
    rep1[1000:1100] = 1000.0  # an artefact under the blacklist
    write_bigwig(tmp_path / "r1.bw", sizes, {"c": rep1}, runs=True)
    write_bigwig(tmp_path / "r2.bw", sizes, {"c": rep2}, runs=True)
    (tmp_path / "targets.txt").write_text(
        "index\tgenome\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription\tgroup\n"
        "0\tg\tr1\tr1.bw\t\t\t1\tsum\tDNASE:x\tx\n1\tg\tr2\tr2.bw\t\t\t1\tsum\tDNASE:x\tx\n"
    )
    geometry = Geometry(seq_length=4096, pool_width=128, crop_bp=0)
    windows = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [4096], "fold": ["train"]})
    masked = {"c": merge_intervals(np.array([[1000, 1100]]))}
    table = read_targets(tmp_path / "targets.txt", genome="g")
    out = compute_targets(table, {"r1": 0.5, "r2": 4.0}, windows, masked, geometry, sizes)
    assert out.shape == (1, 32, 1)
    dense = rep1.copy()
    dense[1000:1100] = 0.5
    expected1 = dense.reshape(32, 128).sum(axis=1)
    expected = (expected1 + 512.0) / 2  # replicate 2 is 4.0 everywhere: 512 per bin
    assert expected[7] == (104 * 2 + 24 * 0.5 + 512) / 2  # bin [896, 1024) holds 24 masked bases
    np.testing.assert_allclose(out[0, :, 0].astype(np.float32), expected, rtol=1e-3)


def test_mouse_loci_run_through_with_their_folds(tmp_path):
    mm = REAL_TINY / "mm10"
    inputs = GenomeInputs("mm10", mm / "genome.fa.gz", mm / "targets.txt", [mm / "blacklist.bed"])
    windows = read_windows_bed(mm / "windows.bed", inputs.chrom_sizes, GEOMETRY.seq_length)
    baselines = compute_baselines(inputs.targets, inputs.chrom_sizes, inputs.masked)
    write_chunk(tmp_path, "mm10", inputs.fasta, inputs.targets, baselines, windows, inputs.masked, GEOMETRY, windows_per_shard=32)
    manifest = build_manifest(tmp_path, "mm10", windows, inputs.targets, baselines, GEOMETRY, 32, inputs.input_files(), {})
    expected = windows["fold"].value_counts().to_dict()
    assert {k: v["windows"] for k, v in manifest["splits"].items() if v["windows"]} == expected
    assert manifest["tracks"] == 15
    batch = next(ShardSplit(tmp_path / "manifest.json", "test").batches(batch_size=2))
    assert batch.targets.shape == (2, 896, 15) and np.isfinite(batch.targets).all() and batch.targets.max() > 0
