"""crossreg predict: HDF5 schema from shards and from a windows BED, batch-size invariance,
reverse-complement averaging, bigWig read-back (nearest-centre rule) and input checks."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pyBigWig
import pytest

from crossreg.data.baseline import compute_baselines
from crossreg.data.inputs import GenomeInputs
from crossreg.data.manifest import build_manifest
from crossreg.data.reader import ShardSplit
from crossreg.data.shards import Geometry, write_chunk
from crossreg.data.windows import read_windows_bed
from crossreg.errors import InputError
from crossreg.predict import predict, predict_sequences, reverse_complement_one_hot
from crossreg.predict.bigwig import ownership, select_tracks

from conftest import random_sequence, write_bigwig, write_fasta

# Keras' TensorFlow-backend save_weights calls np.array on tensors (NumPy 2 deprecation; not ours).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

PARAMS = Path(__file__).parent / "data" / "params" / "params_tiny.json"
# params_tiny: 2048 bp -> 16 positions of 128 bp -> crop 2+2 -> 12 bins; head_human 3 tracks
SEQ, BIN, CROP_BP, BINS = 2048, 128, 256, 12
GEOMETRY = Geometry(seq_length=SEQ, pool_width=BIN, crop_bp=CROP_BP)
SIZES = {"chr1": 10_000, "chr2": 7_000}
TRACKS = ["CNhsA+", "CNhsA-", "DNASE_x"]
# Overlapping windows, stride not a multiple of 128: bins of neighbours are not on one grid.
WINDOWS = (
    [("chr1", s, f) for s, f in zip(range(0, 8000, 1000), ["train", "train", "valid"] + ["test"] * 5)]
    + [("chr2", s, f) for s, f in zip((0, 1500, 3000, 4500), ("test", "test", "train", "valid"))]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small genome with 3 bigWig tracks, its shards (geometry of params_tiny) and a saved untrained model."""
    from crossreg.model import build_model, save_model

    root = tmp_path_factory.mktemp("predict")
    rng = np.random.default_rng(7)
    fasta = write_fasta(root / "genome.fa", {c: random_sequence(rng, n) for c, n in SIZES.items()})
    rows = ["index\tgenome\tidentifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription"]
    for i, ident in enumerate(TRACKS):
        values = {c: rng.gamma(1.0, 2.0, n).round(1) for c, n in SIZES.items()}
        write_bigwig(root / f"t{i}.bw", SIZES, values, runs=True)
        rows.append(f"{i}\thuman\t{ident}\tt{i}.bw\t\t\t1.0\tmean\tASSAY:track {i}")
    (root / "targets.txt").write_text("\n".join(rows) + "\n")
    (root / "windows.bed").write_text("".join(f"{c}\t{s}\t{s + SEQ}\t{f}\n" for c, s, f in WINDOWS))

    shard_dir = root / "shards"
    inputs = GenomeInputs("human", fasta, root / "targets.txt")
    windows = read_windows_bed(root / "windows.bed", inputs.chrom_sizes, SEQ)
    baselines = compute_baselines(inputs.targets, inputs.chrom_sizes, inputs.masked)
    write_chunk(shard_dir, "human", fasta, inputs.targets, baselines, windows, inputs.masked, GEOMETRY, windows_per_shard=3)
    build_manifest(shard_dir, "human", windows, inputs.targets, baselines, GEOMETRY, 3, inputs.input_files(), {})

    model = build_model(PARAMS, seed=3)
    model_dir = save_model(model, root / "model")
    return {"root": root, "fasta": fasta, "manifest": shard_dir / "manifest.json", "model_dir": model_dir, "model": model}


@pytest.fixture(scope="module")
def shard_run(world):
    out = world["root"] / "out" / "test.h5"
    summary = predict(
        world["model_dir"], out, "human", manifest=world["manifest"], split="test", batch_size=4,
        bigwig_tracks=["DNASE_x", "0"], bigwig_dir=world["root"] / "bw",
    )
    return out, summary


def _read(path):
    with h5py.File(path, "r") as h5:
        data = {k: h5[k][...] for k in h5}
        data["attrs"] = dict(h5.attrs)
        data["track_ids"] = [s.decode() for s in data["track_ids"]]
        data["track_descriptions"] = [s.decode() for s in data["track_descriptions"]]
    return data


def test_predictions_from_shards_follow_the_schema(world, shard_run):
    out, summary = shard_run
    d = _read(out)
    test_windows = [(c, s) for c, s, f in WINDOWS if f == "test"]
    n = len(test_windows)
    assert summary["windows"] == n and summary["source"] == "shards" and summary["tracks"] == 3
    assert d["preds"].dtype == np.float16 and d["preds"].shape == (n, BINS, 3)
    assert d["targets"].dtype == np.float16 and d["targets"].shape == (n, BINS, 3)
    assert [c.decode() for c in d["chrom"]] == [c for c, _ in test_windows]
    assert d["start"].tolist() == [s for _, s in test_windows]
    assert (d["end"] - d["start"] == SEQ).all() and d["start"].dtype == np.int64
    assert (d["target_start"] == d["start"] + CROP_BP).all()
    assert d["track_ids"] == TRACKS and d["track_descriptions"] == [f"ASSAY:track {i}" for i in range(3)]
    a = d["attrs"]
    assert a["bin_size"] == BIN and a["genome"] == "human" and a["format"] == "crossreg-predictions"
    assert len(a["params_sha256"]) == 64 and a["crossreg_version"] and not a["rc_average"]

    # observed targets and window rows are the shards'; predictions are the model's on the shard sequences
    batches = list(ShardSplit(world["manifest"], "test").batches(64))
    seq = np.concatenate([b.sequence for b in batches])
    np.testing.assert_array_equal(d["targets"], np.concatenate([b.targets for b in batches]).astype(np.float16))
    np.testing.assert_array_equal(d["window_index"], np.concatenate([b.window_index for b in batches]))
    direct = predict_sequences(world["model"].model_for("human"), seq, batch_size=2)
    np.testing.assert_allclose(d["preds"].astype(np.float32), direct, rtol=2e-3, atol=1e-3)
    assert np.ptp(d["preds"]) > 0


def test_bigwig_holds_the_nearest_centre_window_bins(world, shard_run):
    out, summary = shard_run
    d = _read(out)
    assert list(summary["bigwigs"]) == ["DNASE_x", "CNhsA+"]
    chroms = np.array([c.decode() for c in d["chrom"]])
    centre = d["target_start"] + BINS * BIN / 2
    rng = np.random.default_rng(0)
    for ident, path in summary["bigwigs"].items():
        track = TRACKS.index(ident)
        assert Path(path).name == f"{ident}.bw"
        bw = pyBigWig.open(path)
        assert bw.chroms() == SIZES
        checked = 0
        for chrom in SIZES:
            rows = np.flatnonzero(chroms == chrom)
            lo, hi = d["target_start"][rows].min(), d["target_start"][rows].max() + BINS * BIN
            # every bin start and end of every window, plus random bases
            probes = (d["target_start"][rows, None] + BIN * np.arange(BINS)[None, :]).ravel()
            probes = np.concatenate([probes, probes + BIN - 1, rng.integers(lo, hi, 40)])
            for p in probes:
                dist = np.abs(p + 0.5 - centre[rows])
                owner = rows[np.flatnonzero(dist == dist.min())[0]]
                b = (p - d["target_start"][owner]) // BIN
                got = bw.values(chrom, int(p), int(p) + 1)[0]
                assert got == np.float32(d["preds"][owner, b, track]), (ident, chrom, p)
                checked += 1
            if lo > 0:
                assert np.isnan(bw.values(chrom, int(lo) - 1, int(lo))[0])  # before the first window: no entry
        assert checked > 100
        bw.close()


def test_windows_bed_at_batch_sizes_1_and_3_match_the_shards(world, shard_run):
    root = world["root"]
    bed = root / "test_windows.bed"
    bed.write_text("#chrom\tstart\tend\n" + "".join(f"{c}\t{s}\t{s + SEQ}\n" for c, s, f in WINDOWS if f == "test"))
    runs = {}
    for bs in (1, 3):
        out = root / f"bed_{bs}.h5"
        summary = predict(world["model_dir"], out, "human", windows_bed=bed, fasta=world["fasta"], batch_size=bs)
        assert summary["source"] == "windows_bed"
        runs[bs] = _read(out)
    one, three = runs[1], runs[3]
    assert "targets" not in one and one["track_ids"] == ["track_0", "track_1", "track_2"]
    assert one["window_index"].tolist() == list(range(len(one["start"])))
    np.testing.assert_allclose(one["preds"].astype(np.float32), three["preds"].astype(np.float32), rtol=2e-3, atol=1e-3)
    shards = _read(shard_run[0])
    np.testing.assert_array_equal(one["start"], shards["start"])
    np.testing.assert_allclose(one["preds"].astype(np.float32), shards["preds"].astype(np.float32), rtol=2e-3, atol=1e-3)


def test_rc_average_is_reverse_complement_equivariant(world, tmp_path):
    rng = np.random.default_rng(11)
    seq = random_sequence(rng, SEQ)
    rc = seq[::-1].translate(str.maketrans("ACGT", "TGCA"))
    fasta = write_fasta(tmp_path / "pair.fa", {"fwd": seq, "rev": rc})
    bed = tmp_path / "pair.bed"
    bed.write_text(f"fwd\t0\t{SEQ}\ttest\nrev\t0\t{SEQ}\ttest\n")
    plain = _read(predict(world["model_dir"], tmp_path / "plain.h5", "human", windows_bed=bed, fasta=fasta)["out"])
    both = _read(predict(world["model_dir"], tmp_path / "rc.h5", "human", windows_bed=bed, fasta=fasta, rc_average=True)["out"])
    assert both["attrs"]["rc_average"]
    fwd, rev = both["preds"].astype(np.float32)
    np.testing.assert_allclose(rev, fwd[::-1], rtol=2e-3, atol=1e-3)
    # the random model itself is not symmetric, so the averaging is what makes this hold
    assert np.abs(plain["preds"][1].astype(np.float32) - plain["preds"][0][::-1]).max() > 1e-2

    # library level, float32
    model = world["model"].model_for("human")
    x = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (3, SEQ))]
    a = predict_sequences(model, x, batch_size=2, rc_average=True)
    b = predict_sequences(model, reverse_complement_one_hot(x), batch_size=2, rc_average=True)
    np.testing.assert_allclose(b, a[:, ::-1, :], rtol=1e-5, atol=1e-6)


def _manifest_copy(world, name, **changes):
    data = json.loads(world["manifest"].read_text())
    data.update(changes)
    path = world["manifest"].parent / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "case, pattern",
    [
        ("no_head", r"no head for genome 'cow'.*human, mouse"),
        ("seq_length", r"4096 bp windows.*model takes 2048 bp"),
        ("bins", r"10 target bins.*do not cover the model's output bins"),
        ("bed_length", r"bad\.bed:2: window chr1:100-2000 is 1900 bp; the model's seq_length is 2048"),
        ("track", r"bigWig track 'DNASE_y'.*did you mean 'DNASE_x'"),
        ("track_index", r"index 7 is out of range"),
        ("no_source", r"give the windows to predict"),
    ],
)
def test_bad_inputs_fail_before_predicting(world, tmp_path, case, pattern):
    out = tmp_path / "never.h5"
    kw = dict(manifest=world["manifest"], split="test")
    genome = "human"
    if case == "no_head":
        genome = "cow"
    elif case == "seq_length":
        kw["manifest"] = _manifest_copy(world, "m_seq.json", seq_length=4096)
    elif case == "bins":
        kw["manifest"] = _manifest_copy(world, "m_bins.json", crop_bp=384, bins=10)
    elif case == "bed_length":
        bed = tmp_path / "bad.bed"
        bed.write_text(f"chr1\t0\t{SEQ}\nchr1\t100\t2000\n")
        kw = dict(windows_bed=bed, fasta=world["fasta"])
    elif case == "track":
        kw.update(bigwig_tracks=["DNASE_y"], bigwig_dir=tmp_path)
    elif case == "track_index":
        kw.update(bigwig_tracks=[7], bigwig_dir=tmp_path)
    elif case == "no_source":
        kw = {}
    with pytest.raises(InputError, match=pattern):
        predict(world["model_dir"], out, genome, **kw)
    assert not out.exists() and not list(tmp_path.glob("*.bw"))


def test_ownership_is_the_nearest_centre_partition():
    rng = np.random.default_rng(3)
    span = BINS * BIN
    for _ in range(20):
        starts = np.sort(rng.choice(np.arange(0, 6000), size=rng.integers(1, 6), replace=False)).astype(np.int64)
        lo, hi = ownership(starts, span)
        owner = np.full(8000, -1)
        for i, (a, b) in enumerate(zip(lo, hi)):
            if b > a:
                assert (owner[a:b] == -1).all()  # disjoint
                owner[a:b] = i
        centre = starts + span / 2
        for p in range(0, 8000):
            inside = (starts <= p) & (p < starts + span)
            if not inside.any():
                assert owner[p] == -1
                continue
            dist = np.abs(p + 0.5 - centre)
            assert owner[p] == np.flatnonzero(dist == dist.min())[0]


def test_select_tracks_by_identifier_or_index():
    assert select_tracks(["DNASE_x", 0, "1", "CNhsA+"], TRACKS) == [2, 0, 1]
    with pytest.raises(InputError, match="not a track identifier"):
        select_tracks(["CNhsB+"], TRACKS)
