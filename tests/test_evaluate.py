"""crossreg.evaluate: pure statistics against NumPy, TSS reading and location, the streaming
variable-site selection, an end-to-end evaluation of two genomes (untrained model checked
against an independent recomputation; a planted-perfect predictor), input errors that leave
no output behind, and the joint-vs-single comparison."""

from __future__ import annotations

import gzip
import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from crossreg.errors import InputError
from crossreg.evaluate import compare_models, evaluate_model
from crossreg.evaluate.collect import VariableSites
from crossreg.evaluate.inputs import assay_of, read_track_matches
from crossreg.evaluate.stats import (
    log_values,
    normalize_rows,
    pearson_columns,
    pearson_matrix,
    select_variable_sites,
    site_count,
)
from crossreg.evaluate.tss import locate_tss, read_tss, tss_bin_sums

from conftest import REAL_TINY
from test_train import MOTIFS, _synthetic_genome, tiny_params

# Keras' TensorFlow-backend save_weights calls np.array on tensors (NumPy 2 deprecation; not ours).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SEQ, BIN, BINS = 2048, 128, 12  # params_tiny: 2048 bp -> 16 positions -> crop 2+2 -> 12 bins
CROP = 2 * BIN  # first predicted base of a window
HUMAN_TRACKS = [("CAGE", 0, 1.0), ("CAGE", 1, 0.5), ("DNASE", 0, 2.0), ("DNASE", 1, 1.0)]
MOUSE_TRACKS = [("CAGE", 1, 1.0), ("CAGE", 0, 0.7), ("DNASE", 0, 1.5)]
# human_t0 and mouse_t1 follow motif 0, human_t1 and mouse_t0 motif 1
MATCHES = [("human", "human_t0", "mouse", "mouse_t1"), ("mouse", "mouse_t0", "human", "human_t1")]
TRACKS_COLUMNS = ["genome", "index", "identifier", "description", "assay", "pearson_r", "r2", "bins"]


def _corr(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def _read_tsv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"))) for line in lines[1:]]


# ---------------------------------------------------------------- pure statistics
def test_pearson_columns_matches_corrcoef_and_gives_nan_for_degenerate_columns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6))
    y = 0.5 * x + rng.normal(size=(80, 6))
    x[:, 2] = 0.1  # constant, not zero: the mean is not exactly 0.1 in floating point
    y[:, 4] = 7.3
    x[5, 5] = np.nan
    r = pearson_columns(x, y)
    assert r.shape == (6,)
    for j in (0, 1, 3):
        assert r[j] == pytest.approx(_corr(x[:, j], y[:, j]), abs=1e-12)
    assert np.isnan(r[2]) and np.isnan(r[4]) and np.isnan(r[5])
    assert np.isnan(pearson_columns(x[:1], y[:1])).all()  # one row
    assert pearson_columns(x[:, 0], -x[:, 0])[0] == pytest.approx(-1.0)

    m = pearson_matrix(x, y)
    assert m.shape == (6, 6)
    for i in (0, 1, 3):
        for j in (0, 1, 3):
            assert m[i, j] == pytest.approx(_corr(x[:, i], y[:, j]), abs=1e-12)
    assert np.isnan(m[2]).all() and np.isnan(m[:, 4]).all() and np.isnan(m[5]).all()
    np.testing.assert_allclose(np.diag(m)[[0, 1, 3]], r[[0, 1, 3]], atol=1e-12)


def test_log_and_tissue_normalisation():
    np.testing.assert_allclose(log_values([-2.0, 0.0, 1.0, 3.0]), [0.0, 0.0, 1.0, 2.0])
    rng = np.random.default_rng(1)
    x = rng.gamma(1.0, 3.0, size=(30, 5))
    z = normalize_rows(x)
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(z, x - x.mean(axis=1)[:, None])
    np.testing.assert_array_equal(normalize_rows(x[:, :1]), 0.0)  # one track: nothing left
    assert np.isnan(pearson_columns(normalize_rows(x[:, :1]), normalize_rows(x[:, 1:2]))).all()
    # a per-row offset (a ubiquitously stronger gene) disappears
    np.testing.assert_allclose(normalize_rows(x + rng.normal(size=(30, 1))), z, atol=1e-12)


def test_variable_site_selection_is_the_top_tenth_by_variance():
    assert [site_count(n) for n in (0, 1, 5, 120, 1000)] == [0, 1, 1, 12, 100]
    rng = np.random.default_rng(2)
    values = rng.normal(size=(200, 4))
    sel = select_variable_sites(values)
    var = values.var(axis=1)
    assert len(sel) == 20 and list(sel) == sorted(sel)
    assert set(sel) == set(np.argsort(-var)[:20])
    assert var[sel].min() > np.delete(var, sel).max()
    # ties go to the lower row
    tied = np.zeros((50, 3))
    tied[[7, 20, 33, 41], 0] = 1.0  # 4 rows of equal variance, 5 to pick
    tied[45, 0] = 5.0
    assert list(select_variable_sites(tied)) == [7, 20, 33, 41, 45]
    tied[45, 0] = 1.0
    assert list(select_variable_sites(tied)) == [7, 20, 33, 41, 45]
    assert list(select_variable_sites(np.zeros((30, 2)))) == [0, 1, 2]  # all equal: the first


def test_streaming_variable_sites_equal_the_global_selection():
    rng = np.random.default_rng(3)
    n = 7000
    obs = rng.integers(0, 4, size=(n, 3)).astype(float)  # many ties
    pred = rng.normal(size=(n, 3))
    expected = select_variable_sites(obs)
    stream = VariableSites(site_count(n))
    order = rng.permutation(n)  # arrival order must not matter
    for lo in range(0, n, 333):
        idx = order[lo : lo + 333]
        stream.add(idx, obs[idx], pred[idx])
    index, got_obs, got_pred = stream.result()
    np.testing.assert_array_equal(index, expected)
    np.testing.assert_array_equal(got_obs, obs[expected])
    np.testing.assert_array_equal(got_pred, pred[expected])


def test_assay_of_description():
    assert [assay_of(d) for d in ("CAGE:liver", "dnase:brain", "ATAC: x", "chip:CTCF:heart", "no colon", ":x", "")] == [
        "CAGE", "DNASE", "ATAC", "CHIP", "OTHER", "OTHER", "OTHER"]


# ---------------------------------------------------------------- TSS location
def _naive_locate(tss_chrom, tss_pos, win_chrom, target_start, bins, bin_width):
    """Loop version of the rule: nearest predicted-region centre, ties to the earliest start then row."""
    out = []
    span = bins * bin_width
    for t, (c, p) in enumerate(zip(tss_chrom, tss_pos)):
        best = None
        for w, (wc, s) in enumerate(zip(win_chrom, target_start)):
            if wc == c and s <= p < s + span:
                key = (abs(p + 0.5 - (s + span / 2)), s, w)
                best = key if best is None or key < best else best
        if best is not None:
            w = best[2]
            out.append((t, w, (p - target_start[w]) // bin_width))
    return out


def test_locate_tss_edges_overlaps_and_outside():
    bins, bw = 10, 128  # predicted regions of 1280 bp
    win_chrom = ["chr1", "chr1", "chr2", "chr1", "chr1"]
    target_start = [5000, 0, 0, 640, 5000]  # rows 0 and 4 duplicate; rows 1 and 3 overlap by half
    tss_chrom = ["chr1", "chr1", "chr1", "chr1", "chr1", "chr1", "chr3", "chr2", "chr1"]
    tss_pos = [0, 959, 1279, 6279, 4999, 6280, 10, 100, 960]
    loc = locate_tss(tss_chrom, tss_pos, win_chrom, target_start, bins, bw)
    got = list(zip(loc.tss.tolist(), loc.window.tolist(), loc.bin.tolist()))
    assert got == [
        (0, 1, 0),  # first base of the first bin
        (1, 1, 7),  # in windows 1 (bin 7) and 3 (bin 2): nearer the centre of window 1
        (2, 3, 4),  # in windows 1 (last bin) and 3: nearer window 3's centre
        (3, 0, 9),  # last bin of a duplicated window: the first row
        (7, 2, 0),
        (8, 3, 2),  # just past the midpoint of the two centres
    ]  # 4999 and 6280 are outside every predicted region, chr3 has no window
    assert got == _naive_locate(tss_chrom, tss_pos, win_chrom, target_start, bins, bw)

    # random layouts against the loop version
    rng = np.random.default_rng(4)
    for _ in range(20):
        w = rng.integers(1, 12)
        wc = rng.choice(["a", "b"], w).tolist()
        ws = (rng.integers(0, 40, w) * 160).tolist()
        tc = rng.choice(["a", "b", "c"], 60).tolist()
        tp = rng.integers(0, 8000, 60).tolist()
        loc = locate_tss(tc, tp, wc, ws, 10, 128)
        assert list(zip(loc.tss.tolist(), loc.window.tolist(), loc.bin.tolist())) == _naive_locate(tc, tp, wc, ws, 10, 128)
        assert len(set(loc.tss.tolist())) == len(loc)  # each TSS once

    empty = locate_tss([], [], win_chrom, target_start, bins, bw)
    assert len(empty) == 0


def test_tss_bin_sums_clip_at_window_edges():
    values = np.arange(2 * 10 * 2, dtype=float).reshape(2, 10, 2)
    sums = tss_bin_sums(values, np.array([0, 0, 1, 1]), np.array([0, 9, 4, 9]))
    expected = np.stack([
        values[0, 0] + values[0, 1],
        values[0, 8] + values[0, 9],
        values[1, 3] + values[1, 4] + values[1, 5],
        values[1, 8] + values[1, 9],
    ])
    np.testing.assert_array_equal(sums, expected)
    assert tss_bin_sums(values, np.zeros(0, int), np.zeros(0, int)).shape == (0, 2)


# ---------------------------------------------------------------- TSS files
def test_read_tss_bed_positions_and_bad_lines(tmp_path):
    good = tmp_path / "tss.bed"
    good.write_text(
        "#chrom\tstart\tend\tname\tscore\tstrand\n"
        "chr1\t100\t101\tA\t0\t+\n"
        "chr1\t100\t101\tA\t0\t+\n"  # duplicate: kept once
        "chr1\t200\t260\tB\t0\t-\n"  # minus strand interval: the last base
        "chr2\t5\t6\tC\t0\t.\n"
    )
    tss = read_tss(good)
    assert tss.chrom.tolist() == ["chr1", "chr1", "chr2"] and tss.pos.tolist() == [100, 259, 5]
    assert tss.name.tolist() == ["A", "B", "C"] and tss.strand.tolist() == ["+", "-", "."]

    real = read_tss(REAL_TINY / "hg38" / "tss.bed")
    assert len(real) > 50 and (real.pos >= 0).all()

    gz = tmp_path / "tss.bed.gz"
    with gzip.open(gz, "wt") as out:
        out.write("chr1\t7\t8\tG\t0\t+\n")
    assert read_tss(gz).pos.tolist() == [7]

    for i, (line, words) in enumerate([
        ("chr1\t100\t101\tA\t0", "expected 6 tab-separated columns"),
        ("chr1\t1e3\t1001\tA\t0\t+", "must be integers"),
        ("chr1\t100\t101\tA\t0\t*", "strand"),
        ("chr1\t100\t101\tA\t0\t+\textra", "got 7"),
    ]):
        bad = tmp_path / f"bad{i}.bed"
        bad.write_text("chr1\t1\t2\tX\t0\t+\n\n" + line + "\n")
        with pytest.raises(InputError, match=f"bad{i}.bed:3: .*{words}"):
            read_tss(bad)
    with pytest.raises(InputError, match="no such file"):
        read_tss(tmp_path / "missing.bed")


def test_read_tss_gtf_uses_transcript_five_prime_ends(tmp_path):
    attrs = 'gene_id "G1"; transcript_id "G1.1"; gene_name "ONE";'
    lines = [
        "##comment",
        f"chr1\tsrc\tgene\t101\t500\t.\t+\t.\t{attrs}",
        f"chr1\tsrc\ttranscript\t101\t500\t.\t+\t.\t{attrs}",
        f"chr1\tsrc\texon\t101\t200\t.\t+\t.\t{attrs}",
        'chr2\tsrc\ttranscript\t1001\t3000\t.\t-\t.\tgene_id "G2"; transcript_id "G2.1";',
        'chr2\tsrc\ttranscript\t1001\t3000\t.\t-\t.\tgene_id "G2"; transcript_id "G2.2";',  # same TSS
    ]
    gtf = tmp_path / "genes.gtf"
    gtf.write_text("\n".join(lines) + "\n")
    tss = read_tss(gtf)
    assert tss.chrom.tolist() == ["chr1", "chr2"] and tss.pos.tolist() == [100, 2999] and tss.name.tolist() == ["G1", "G2"]
    sniffed = tmp_path / "genes.txt"  # no extension: recognised by its first line
    sniffed.write_text("\n".join(lines[1:]) + "\n")
    assert read_tss(sniffed).pos.tolist() == [100, 2999]

    for i, (line, words) in enumerate([
        ("chr1\tsrc\ttranscript\t101\t500\t.\t+\t.", "expected 9 tab-separated GTF columns"),
        ("chr1\tsrc\ttranscript\tx\t500\t.\t+\t.\tgene_id \"G\";", "must be integers"),
        ("chr1\tsrc\ttranscript\t101\t500\t.\t+\t.\ttranscript_id \"T\";", "without a gene_id"),
        ("chr1\tsrc\ttranscript\t101\t500\t.\t.\t.\tgene_id \"G\";", "strand"),
    ]):
        bad = tmp_path / f"bad{i}.gtf"
        bad.write_text(lines[1] + "\n" + line + "\n")
        with pytest.raises(InputError, match=f"bad{i}.gtf:2: .*{words}"):
            read_tss(bad)


def test_track_matches_errors_name_file_line_and_value(tmp_path):
    genomes = {
        "human": SimpleNamespace(track_ids=["h0", "h1"], manifest_path=Path("h/manifest.json")),
        "mouse": SimpleNamespace(track_ids=["m0"], manifest_path=Path("m/manifest.json")),
    }
    path = tmp_path / "matches.tsv"
    path.write_text("genome_a\tidentifier_a\tgenome_b\tidentifier_b\nhuman\th1\tmouse\tm0\n")
    matches = read_track_matches(path, genomes)
    assert matches.matched("mouse", "m0", "human", "h1") and matches.matched("human", "h1", "mouse", "m0")
    assert not matches.matched("human", "h0", "mouse", "m0") and matches.matched("human", "h0", "human", "h0")
    for body, words in [
        ("human\th1\tmouse\tm9\n", r"matches.tsv:2: identifier 'm9' is not a track of genome 'mouse'"),
        ("rat\th1\tmouse\tm0\n", r"matches.tsv:2: genome 'rat' is not an evaluated genome"),
        ("human\th1\tmouse\n", r"matches.tsv:2: expected 4 tab-separated columns, got 3"),
    ]:
        path.write_text("genome_a\tidentifier_a\tgenome_b\tidentifier_b\n" + body)
        with pytest.raises(InputError, match=words):
            read_track_matches(path, genomes)
    path.write_text("genome\tidentifier_a\tgenome_b\tidentifier_b\n")
    with pytest.raises(InputError, match=r"matches.tsv:1: header lacks column\(s\) genome_a"):
        read_track_matches(path, genomes)


# ---------------------------------------------------------------- end to end
def _read_fasta(path: Path) -> str:
    return "".join(line.strip() for line in path.read_text().splitlines() if not line.startswith(">"))


def _test_windows(manifest: Path) -> list[int]:
    rows = (manifest.parent.parent / "windows.bed").read_text().splitlines()
    return [int(f[1]) for f in (r.split("\t") for r in rows if not r.startswith("#")) if f[3] == "test"]


def _write_tss(root: Path, genome: str, manifest: Path) -> tuple[Path, list[int]]:
    """TSSs at the planted motifs of the test windows' predicted regions (and some elsewhere)."""
    seq = _read_fasta(root / genome / "genome.fa")
    starts = _test_windows(manifest)
    inside = []
    for s in starts:
        for motif in MOTIFS:
            k = seq.find(motif, s + CROP)
            while 0 <= k < s + CROP + BINS * BIN:
                inside.append(k)
                k = seq.find(motif, k + 1)
    inside = sorted(set(inside))
    outside = [k for k in range(0, len(seq) - 10, 4096 + 17) if not any(s + CROP <= k < s + CROP + BINS * BIN for s in starts)]
    lines = [f"chr1\t{p}\t{p + 1}\tg{p}\t0\t{'+-'[i % 2]}" for i, p in enumerate(sorted(inside + outside[:10]))]
    lines.append("chrUn\t5\t6\tnowhere\t0\t+")
    path = root / genome / "tss.bed"
    path.write_text("\n".join(lines) + "\n")
    return path, inside


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two synthetic genomes (human: shards cropped like the model; mouse: uncropped shards),
    TSS BEDs, a track-matches table and a saved untrained model with both heads."""
    from crossreg.model import build_model, save_model

    root = tmp_path_factory.mktemp("evaluate")
    manifests = {
        "human": _synthetic_genome(root, "human", 36, HUMAN_TRACKS, 11),
        "mouse": _synthetic_genome(root, "mouse", 30, MOUSE_TRACKS, 12, crop_bp=0),
    }
    tss, inside = {}, {}
    for genome, manifest in manifests.items():
        tss[genome], inside[genome] = _write_tss(root, genome, manifest)
    matches = root / "matches.tsv"
    matches.write_text("genome_a\tidentifier_a\tgenome_b\tidentifier_b\n" + "".join("\t".join(m) + "\n" for m in MATCHES))
    params = tiny_params()
    params["model"]["head_human"]["units"] = len(HUMAN_TRACKS)
    params["model"]["head_mouse"]["units"] = len(MOUSE_TRACKS)
    model = build_model(params, seed=3)
    model_dir = save_model(model, root / "model")
    return SimpleNamespace(root=root, manifests=manifests, tss=tss, inside=inside, matches=matches,
                           model_dir=model_dir, model=model)


def _split_arrays(manifest: Path, offset: int):
    from crossreg.data.reader import ShardSplit

    batches = list(ShardSplit(manifest, "test").batches(64))
    seq = np.concatenate([b.sequence for b in batches])
    targets = np.concatenate([b.targets for b in batches])[:, offset : offset + BINS]
    return seq, targets


OFFSETS = {"human": 0, "mouse": 2}  # mouse shards start at base 0, the model's bins at 256


@pytest.fixture(scope="module")
def model_run(world):
    out = world.root / "eval_model"
    summary = evaluate_model(world.model_dir, world.manifests, out, tss=world.tss, track_matches=world.matches,
                             batch_size=3, progress=False)
    return out, summary


def test_evaluation_outputs_and_independent_recomputation(world, model_run):
    from crossreg.predict import predict_sequences

    out, summary = model_run
    expected_files = {
        "tracks.tsv", "assays.tsv", "genes.tsv", "dnase_variable.tsv", "transfer.tsv", "transfer_summary.tsv",
        "track_r_by_assay.png", "genes_human.png", "genes_mouse.png", "transfer_human_by_mouse.png",
        "transfer_mouse_by_human.png", "summary.json",
    }
    assert {p.name for p in out.iterdir()} == expected_files  # no temporary files left
    for name in expected_files:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    header, tracks = _read_tsv(out / "tracks.tsv")
    assert header == TRACKS_COLUMNS
    assert [(t["genome"], t["identifier"], t["assay"]) for t in tracks] == (
        [("human", f"human_t{i}", a) for i, (a, _, _) in enumerate(HUMAN_TRACKS)]
        + [("mouse", f"mouse_t{i}", a) for i, (a, _, _) in enumerate(MOUSE_TRACKS)]
    )
    assert tracks[0]["description"] == "CAGE:human track 0"
    assert all(math.isfinite(float(t["pearson_r"])) and math.isfinite(float(t["r2"])) for t in tracks)
    gene_header, genes = _read_tsv(out / "genes.tsv")
    assert gene_header == ["genome", "index", "identifier", "description", "tss", "gene_r", "gene_r_normalized"]

    for genome in ("human", "mouse"):
        seq, targets = _split_arrays(world.manifests[genome], OFFSETS[genome])
        preds = predict_sequences(world.model.model_for(genome), seq, batch_size=4)
        mine = [t for t in tracks if t["genome"] == genome]
        for j, t in enumerate(mine):
            r = _corr(preds[..., j].ravel(), targets[..., j].ravel())
            assert float(t["pearson_r"]) == pytest.approx(r, abs=1e-4)
            r2 = 1 - ((targets[..., j] - preds[..., j]) ** 2).sum() / ((targets[..., j] - targets[..., j].mean()) ** 2).sum()
            assert float(t["r2"]) == pytest.approx(r2, rel=1e-3, abs=1e-4)
            assert int(t["bins"]) == len(seq) * BINS
        # gene level: TSS bins found independently (windows do not overlap here)
        starts = np.array(_test_windows(world.manifests[genome])) + CROP
        inside = world.inside[genome]
        assert inside and all(int(g["tss"]) == len(inside) for g in genes if g["genome"] == genome)
        obs, pred = [], []
        for p in inside:
            w = int(np.flatnonzero((starts <= p) & (p < starts + BINS * BIN))[0])
            b = (p - starts[w]) // BIN
            lo, hi = max(0, b - 1), min(BINS, b + 2)
            obs.append(targets[w, lo:hi].sum(axis=0))
            pred.append(preds[w, lo:hi].sum(axis=0))
        obs_log, pred_log = np.log2(1 + np.array(obs)), np.log2(1 + np.array(pred))
        cage = [i for i, t in enumerate(mine) if t["assay"] == "CAGE"]
        rows = [g for g in genes if g["genome"] == genome]
        assert [int(g["index"]) for g in rows] == cage
        assert all(math.isfinite(float(g[k])) for g in rows for k in ("gene_r", "gene_r_normalized"))
        on = obs_log[:, cage] - obs_log[:, cage].mean(axis=1, keepdims=True)
        pn = pred_log[:, cage] - pred_log[:, cage].mean(axis=1, keepdims=True)
        for k, (g, c) in enumerate(zip(rows, cage)):
            assert float(g["gene_r"]) == pytest.approx(_corr(pred_log[:, c], obs_log[:, c]), abs=1e-4)
            assert float(g["gene_r_normalized"]) == pytest.approx(_corr(pn[:, k], on[:, k]), abs=1e-4)
        if genome == "human":  # DNase variable sites: the top 10% of bins by observed variance
            d = [2, 3]
            o = np.log2(1 + targets[..., d].reshape(-1, 2))
            q = np.log2(1 + preds[..., d].reshape(-1, 2))
            sel = np.argsort(-o.var(axis=1), kind="stable")[: round(0.1 * len(o))]
            assert np.sort(o.var(axis=1))[::-1][len(sel) - 1] > np.sort(o.var(axis=1))[::-1][len(sel)]  # no tie at the cut
            d_header, dnase = _read_tsv(out / "dnase_variable.tsv")
            assert d_header == ["genome", "index", "identifier", "sites", "r", "r_normalized"]
            assert [(r["genome"], r["identifier"]) for r in dnase] == [("human", "human_t2"), ("human", "human_t3")]
            for k, r in enumerate(dnase):
                assert int(r["sites"]) == len(sel)
                assert float(r["r"]) == pytest.approx(_corr(q[sel, k], o[sel, k]), abs=1e-4)
                on_ = o[sel] - o[sel].mean(axis=1, keepdims=True)
                qn_ = q[sel] - q[sel].mean(axis=1, keepdims=True)
                assert float(r["r_normalized"]) == pytest.approx(_corr(qn_[:, k], on_[:, k]), abs=1e-4)

    t_header, transfer = _read_tsv(out / "transfer.tsv")
    assert t_header == ["data_genome", "data_identifier", "head_genome", "head_identifier", "matched", "tss", "r", "r_normalized"]
    assert len(transfer) == 2 * (2 * 2 + 2 * 2)  # per data genome: own diagonal block + the other head
    matched = {(t["data_identifier"], t["head_identifier"]) for t in transfer if t["matched"] == "true"}
    assert matched == {("human_t0", "human_t0"), ("human_t1", "human_t1"), ("human_t0", "mouse_t1"),
                       ("human_t1", "mouse_t0"), ("mouse_t0", "mouse_t0"), ("mouse_t1", "mouse_t1"),
                       ("mouse_t1", "human_t0"), ("mouse_t0", "human_t1")}
    assert all(math.isfinite(float(t["r"])) for t in transfer)
    # own-head diagonal rows repeat genes.tsv
    for t in transfer:
        if t["head_genome"] == t["data_genome"] and t["data_identifier"] == t["head_identifier"]:
            g = next(g for g in genes if g["identifier"] == t["data_identifier"])
            assert float(t["r"]) == pytest.approx(float(g["gene_r"]), abs=1e-5)
            assert float(t["r_normalized"]) == pytest.approx(float(g["gene_r_normalized"]), abs=1e-5)
    s_header, tsum = _read_tsv(out / "transfer_summary.tsv")
    assert s_header == ["data_genome", "head_genome", "matched", "pairs", "mean_r", "mean_r_normalized"]
    assert [(r["data_genome"], r["head_genome"], r["matched"], r["pairs"]) for r in tsum] == [
        ("human", "human", "true", "2"), ("human", "human", "false", "2"),
        ("human", "mouse", "true", "2"), ("human", "mouse", "false", "2"),
        ("mouse", "mouse", "true", "2"), ("mouse", "mouse", "false", "2"),
        ("mouse", "human", "true", "2"), ("mouse", "human", "false", "2"),
    ]
    sel = [float(t["r"]) for t in transfer if t["data_genome"] == "human" and t["head_genome"] == "mouse" and t["matched"] == "false"]
    assert float(tsum[3]["mean_r"]) == pytest.approx(np.mean(sel), abs=1e-5)

    a_header, assays = _read_tsv(out / "assays.tsv")
    assert a_header == ["genome", "assay", "tracks", "mean_r", "median_r"]
    assert [(a["genome"], a["assay"], a["tracks"]) for a in assays] == [
        ("human", "CAGE", "2"), ("human", "DNASE", "2"), ("mouse", "CAGE", "2"), ("mouse", "DNASE", "1")]
    assert float(assays[0]["mean_r"]) == pytest.approx(np.mean([float(tracks[i]["pearson_r"]) for i in (0, 1)]), abs=1e-5)

    data = json.loads((out / "summary.json").read_text())
    assert data == summary
    assert list(data) == ["format", "format_version", "model_dir", "params_sha256", "split", "rc_average", "genomes",
                          "transfer", "tables", "plots", "versions", "seconds"]
    assert data["format"] == "crossreg-evaluation" and data["format_version"] == 1 and data["split"] == "test"
    params = json.loads((world.model_dir / "params.json").read_text())
    import hashlib

    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    assert data["params_sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    human = data["genomes"]["human"]
    assert set(human) == {"windows", "bins", "tracks", "mean_r_by_assay", "gene_r_mean", "gene_r_normalized_mean"}
    assert human["windows"] == 6 and human["bins"] == 6 * BINS and human["tracks"] == 4
    assert set(human["mean_r_by_assay"]) == {"CAGE", "DNASE"}
    assert human["gene_r_mean"] == pytest.approx(np.mean([float(g["gene_r"]) for g in genes if g["genome"] == "human"]), abs=1e-5)
    assert len(data["transfer"]) == 8 and set(data["transfer"][0]) == set(s_header)
    assert {t["file"] for t in data["tables"]} | {p["file"] for p in data["plots"]} | {"summary.json"} == expected_files
    assert all(t["title"] for t in data["tables"] + data["plots"])
    v = data["versions"]
    assert {"crossreg", "python", "numpy", "keras", "keras_backend"} <= set(v)


def _perfect_predictor(world, constant_track: tuple[str, int] | None = None):
    """predict_fn returning the observed (cropped) targets of each window, looked up by sequence.

    Head B on genome A's windows predicts, for B's track matched to A's track a, A's
    observation of a (so matched transfer is perfect), and zeros for other tracks.
    """
    table = {}
    for genome, manifest in world.manifests.items():
        seq, targets = _split_arrays(manifest, OFFSETS[genome])
        for s, t in zip(seq, targets):
            table[s.tobytes()] = (genome, t)
    ids = {"human": [f"human_t{i}" for i in range(len(HUMAN_TRACKS))], "mouse": [f"mouse_t{i}" for i in range(len(MOUSE_TRACKS))]}
    pairs = {(a, ia, b, ib) for a, ia, b, ib in MATCHES} | {(b, ib, a, ia) for a, ia, b, ib in MATCHES}
    calls = []

    def predict_fn(head, one_hot):
        calls.append((head, len(one_hot)))
        out = []
        for s in one_hot:
            genome, t = table[s.tobytes()]
            if head == genome:
                p = t.copy()
            else:
                p = np.zeros((BINS, len(ids[head])), np.float32)
                for j, ib in enumerate(ids[head]):
                    for i, ia in enumerate(ids[genome]):
                        if (genome, ia, head, ib) in pairs:
                            p[:, j] = t[:, i]
            if constant_track is not None and head == constant_track[0]:
                p[:, constant_track[1]] = 0.3
            out.append(p)
        return np.stack(out)

    return predict_fn, calls


def test_planted_perfect_predictor_gives_r_one(world, caplog):
    predict_fn, calls = _perfect_predictor(world, constant_track=("human", 3))
    out = world.root / "eval_perfect"
    with caplog.at_level(logging.WARNING):
        summary = evaluate_model(world.model_dir, world.manifests, out, tss=world.tss, track_matches=world.matches,
                                 batch_size=4, predict_fn=predict_fn)
    assert {h for h, _ in calls} == {"human", "mouse"} and max(n for _, n in calls) <= 4
    _, tracks = _read_tsv(out / "tracks.tsv")
    for t in tracks:
        if t["identifier"] == "human_t3":
            assert t["pearson_r"] == "nan"  # predicted constant (0.3): NaN, not a crash
        else:
            assert float(t["pearson_r"]) == pytest.approx(1.0, abs=1e-6) and float(t["r2"]) == pytest.approx(1.0, abs=1e-6)
    _, genes = _read_tsv(out / "genes.tsv")
    assert len(genes) == 4
    for g in genes:
        assert float(g["gene_r"]) == pytest.approx(1.0, abs=1e-6)
        assert float(g["gene_r_normalized"]) == pytest.approx(1.0, abs=1e-6)
    _, dnase = _read_tsv(out / "dnase_variable.tsv")
    assert float(dnase[0]["r"]) == pytest.approx(1.0, abs=1e-6) and dnase[1]["r"] == "nan"
    _, transfer = _read_tsv(out / "transfer.tsv")
    for t in transfer:
        if t["matched"] == "true":
            assert float(t["r"]) == pytest.approx(1.0, abs=1e-6), t
            assert float(t["r_normalized"]) == pytest.approx(1.0, abs=1e-6), t
    mean_by_assay = summary["genomes"]["human"]["mean_r_by_assay"]
    assert mean_by_assay["CAGE"] == pytest.approx(1.0) and mean_by_assay["DNASE"] == pytest.approx(1.0)  # NaN left out
    assert summary["genomes"]["human"]["gene_r_mean"] == pytest.approx(1.0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_tss_outside_every_window_skips_the_gene_part_with_a_warning(world, caplog, tmp_path):
    far = tmp_path / "far.bed"
    far.write_text("chrUn\t5\t6\tx\t0\t+\nchr1\t0\t1\ty\t0\t+\n")  # window 0 is a train window
    predict_fn, _ = _perfect_predictor(world)
    with caplog.at_level(logging.WARNING):
        summary = evaluate_model(world.model_dir, {"human": world.manifests["human"]}, tmp_path / "out",
                                 tss={"human": far}, predict_fn=predict_fn)
    assert any("no TSS lies in a test window" in r.getMessage() and "far.bed" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / "out" / "genes.tsv").exists() and not (tmp_path / "out" / "genes_human.png").exists()
    assert summary["genomes"]["human"]["gene_r_mean"] is None and summary["transfer"] is None
    assert (tmp_path / "out" / "dnase_variable.tsv").exists()


def test_rc_average_predictor_is_averaged_with_the_flipped_reverse_complement(world, tmp_path):
    from crossreg.predict import reverse_complement_one_hot

    predict_fn, _ = _perfect_predictor(world)
    fwd = {}

    def asymmetric(head, one_hot):  # forward: the targets; reverse complement: zeros
        known = [s.tobytes() in fwd for s in one_hot]
        return predict_fn(head, one_hot) if all(known) else np.zeros((len(one_hot), BINS, 4), np.float32)

    seq, _ = _split_arrays(world.manifests["human"], 0)
    for s in seq:
        fwd[s.tobytes()] = True
        assert reverse_complement_one_hot(s).tobytes() not in fwd
    evaluate_model(world.model_dir, {"human": world.manifests["human"]}, tmp_path / "rc", rc_average=True,
                   predict_fn=asymmetric)
    _, tracks = _read_tsv(tmp_path / "rc" / "tracks.tsv")
    # half the targets: R stays 1, R^2 drops
    assert float(tracks[0]["pearson_r"]) == pytest.approx(1.0, abs=1e-6) and float(tracks[0]["r2"]) < 0.9


# ---------------------------------------------------------------- input errors leave nothing behind
def _fails(out: Path, pattern: str, **kwargs):
    with pytest.raises(InputError, match=pattern):
        evaluate_model(**kwargs, out_dir=out, predict_fn=lambda head, x: pytest.fail("predicted despite bad input"))
    assert not out.exists() or not any(out.iterdir())


def test_bad_inputs_raise_before_any_output(world, tmp_path):
    out = tmp_path / "out"
    base = dict(model_dir=world.model_dir, manifests=world.manifests, tss=world.tss, track_matches=world.matches)
    bad = tmp_path / "matches.tsv"
    bad.write_text("genome_a\tidentifier_a\tgenome_b\tidentifier_b\nhuman\thuman_t0\tmouse\tmouse_t1\nhuman\thuman_t1\tmouse\tmouse_t9\n")
    _fails(out, r"matches\.tsv:3: identifier 'mouse_t9' is not a track of genome 'mouse'", **{**base, "track_matches": bad})
    _fails(out, r"manifest .*human.*holds genome 'human' but was given for genome 'mouse'",
           **{**base, "manifests": {"mouse": world.manifests["human"]}, "tss": None, "track_matches": None})
    _fails(out, r"genome 'rat' is not a head of the model",
           **{**base, "manifests": {"rat": world.manifests["human"]}, "tss": None, "track_matches": None})
    _fails(out, r"no split 'nope'", **{**base, "split": "nope"})
    manifest = json.loads(world.manifests["human"].read_text())
    manifest["splits"]["test"] = {"windows": 0, "shards": []}
    empty = world.manifests["human"].with_name("manifest_empty_test.json")
    empty.write_text(json.dumps(manifest))
    _fails(out, r"manifest_empty_test\.json: split 'test' has no windows",
           **{**base, "manifests": {"human": empty}, "tss": None, "track_matches": None})
    bad_tss = tmp_path / "bad_tss.bed"
    bad_tss.write_text("chr1\t10\t11\tA\t0\t+\nchr1\tten\t11\tB\t0\t+\n")
    _fails(out, r"bad_tss\.bed:2: start/end must be integers", **{**base, "tss": {**world.tss, "mouse": bad_tss}})
    _fails(out, r"TSS file .* given for genome 'rat', which has no manifest", **{**base, "tss": {"rat": bad_tss}})
    # a model whose human head predicts 3 tracks: the weights are never read before the check
    other = tmp_path / "model3"
    other.mkdir()
    params = json.loads((world.model_dir / "params.json").read_text())
    params["model"]["head_human"]["units"] = 3
    (other / "params.json").write_text(json.dumps(params))
    (other / "model.weights.h5").write_bytes(b"not read")
    _fails(out, r"lists 4 tracks but the head 'human' of the model in .*model3 predicts 3", **{**base, "model_dir": other})
    _fails(out, r"params\.json: missing", **{**base, "model_dir": tmp_path})
    assert not out.exists()


# ---------------------------------------------------------------- comparison
def _evaluation_dir(path: Path, rows: list[tuple[str, str, str, float]]) -> Path:
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps({"format": "crossreg-evaluation", "format_version": 1}))
    lines = ["\t".join(TRACKS_COLUMNS)]
    for i, (genome, ident, assay, r) in enumerate(rows):
        lines.append(f"{genome}\t{i}\t{ident}\t{assay}:x\t{assay}\t{r}\t0.1\t100")
    (path / "tracks.tsv").write_text("\n".join(lines) + "\n")
    return path


def test_compare_models_counts_improvements_and_matches_binomtest(tmp_path):
    from scipy.stats import binomtest

    a_rows = [("human", f"c{i}", "CAGE", 0.5 + 0.01 * i) for i in range(10)] + [
        ("human", "d0", "DNASE", 0.3), ("human", "d1", "DNASE", 0.4), ("human", "d2", "DNASE", float("nan")),
        ("mouse", "m0", "CAGE", 0.2), ("human", "only_a", "CAGE", 0.9)]
    b_rows = [("human", f"c{i}", "CAGE", 0.45 + 0.01 * i if i < 7 else (0.6 + 0.01 * i if i < 9 else 0.5 + 0.01 * i))
              for i in range(10)] + [
        ("human", "d0", "DNASE", 0.35), ("human", "d1", "DNASE", 0.3), ("human", "d2", "DNASE", 0.2),
        ("mouse", "m0", "CAGE", 0.1), ("mouse", "only_b", "CAGE", 0.9)]
    a = _evaluation_dir(tmp_path / "a", a_rows)
    b = _evaluation_dir(tmp_path / "b", b_rows)
    out = tmp_path / "cmp"
    summary = compare_models(a, b, out, label_a="joint", label_b="single")
    assert {p.name for p in out.iterdir()} == {"comparison.tsv", "comparison_summary.tsv", "compare_human.png",
                                              "compare_mouse.png", "summary.json"}
    header, rows = _read_tsv(out / "comparison.tsv")
    assert header == ["genome", "identifier", "assay", "r_joint", "r_single", "difference"]
    assert len(rows) == 14 and "only_a" not in {r["identifier"] for r in rows}
    assert float(rows[0]["difference"]) == pytest.approx(0.05)
    header, srows = _read_tsv(out / "comparison_summary.tsv")
    assert header[:7] == ["genome", "assay", "tracks", "improved", "fraction_improved", "mean_difference", "binomial_p"]
    by = {(r["genome"], r["assay"]): r for r in srows}
    assert list(by) == [("human", "CAGE"), ("human", "DNASE"), ("human", "ALL"), ("mouse", "CAGE"), ("mouse", "ALL")]
    cage = by[("human", "CAGE")]  # 7 improved, 2 worse, 1 tie (c9)
    assert (cage["tracks"], cage["improved"], cage["worse"], cage["ties"], cage["missing"]) == ("10", "7", "2", "1", "0")
    assert float(cage["fraction_improved"]) == pytest.approx(7 / 9, abs=1e-6)
    assert float(cage["binomial_p"]) == pytest.approx(binomtest(7, 9, 0.5).pvalue, rel=1e-5)
    diffs = [r_a - r_b for (_, _, _, r_a), (_, _, _, r_b) in zip(a_rows[:10], b_rows[:10])]
    assert float(cage["mean_difference"]) == pytest.approx(np.mean(diffs), abs=1e-6)
    dnase = by[("human", "DNASE")]  # d2 has NaN: left out of the test
    assert (dnase["tracks"], dnase["improved"], dnase["worse"], dnase["missing"]) == ("3", "1", "1", "1")
    assert float(dnase["binomial_p"]) == pytest.approx(1.0)
    assert by[("human", "ALL")]["improved"] == "8" and by[("human", "ALL")]["tracks"] == "13"
    data = json.loads((out / "summary.json").read_text())
    assert data == summary
    assert list(data) == ["format", "format_version", "label_a", "label_b", "eval_a", "eval_b", "rows", "tables",
                          "plots", "versions", "seconds"]
    assert data["format"] == "crossreg-comparison" and len(data["rows"]) == 5
    assert data["rows"][0]["binomial_p"] == pytest.approx(binomtest(7, 9, 0.5).pvalue)


def test_compare_models_input_errors(tmp_path):
    a = _evaluation_dir(tmp_path / "a", [("human", "x", "CAGE", 0.5)])
    b = _evaluation_dir(tmp_path / "b", [("mouse", "x", "CAGE", 0.5)])
    out = tmp_path / "cmp"
    with pytest.raises(InputError, match="label 'joint model'"):
        compare_models(a, a, out, label_a="joint model")
    with pytest.raises(InputError, match="labels must differ"):
        compare_models(a, a, out, label_a="x", label_b="x")
    with pytest.raises(InputError, match="share no track"):
        compare_models(a, b, out)
    with pytest.raises(InputError, match="no summary.json"):
        compare_models(a, tmp_path, out)
    (b / "summary.json").write_text(json.dumps({"format": "crossreg-comparison"}))
    with pytest.raises(InputError, match="not a crossreg evaluation"):
        compare_models(a, b, out)
    assert not out.exists()
