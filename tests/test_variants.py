"""crossreg score-variants / gather-scores / ism: SNP classification and skip reports, allele-flip
antisymmetry, reverse-complement symmetry, batch-size invariance, scatter + gather == one run,
bad input, the simulated world's planted variants (truth oracle) and real GRCh37 chr20 SNPs.

Most checks use exact NumPy "models" (``Predictor``); the ones about Keras use params_tiny
(2,048 bp windows, 12 bins) saved untrained.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from crossreg.cli import main
from crossreg.errors import InputError
from crossreg.variants import Predictor, gather_scores, load_predictor, saturation_mutagenesis, score_variants
from crossreg.variants.sad import predict_stream, score_stream
from crossreg.variants.vcf import chunk_bounds, read_vcf
from crossreg.variants.windows import SnpWindows

from conftest import random_sequence, write_fasta

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

DATA = Path(__file__).parent / "data"
PARAMS = DATA / "params" / "params_tiny.json"
CHR20 = DATA / "grch37_chr20_sub"
COMP = str.maketrans("ACGTacgtN", "TGCAtgcaN")
HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


# ---------------------------------------------------------------------- helpers
def write_vcf(path: Path, rows) -> Path:
    """Plain-text VCF; rows are (chrom, pos, id, ref, alt)."""
    path.write_text(HEADER + "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\tPASS\t.\n" for c, p, i, r, a in rows))
    return path


def conv_predictor(kernel: np.ndarray, bin_width: int, position_weight: np.ndarray | None = None,
                   nonlinear: str | None = None):
    """x [n, L, 4] -> 'same' convolution with an odd kernel [k, 4, T], optional softplus or ReLU
    and per-position weights, summed into bins of ``bin_width``."""
    k = kernel.shape[0]
    h = k // 2

    def predict_fn(x):
        n, L, _ = x.shape
        xp = np.pad(x, ((0, 0), (h, h), (0, 0)))
        y = sum(xp[:, j : j + L, :] @ kernel[j] for j in range(k)).astype(np.float32)
        if nonlinear == "softplus":
            y = np.logaddexp(0, y).astype(np.float32)
        elif nonlinear == "relu":
            y = np.maximum(y, 0)
        if position_weight is not None:
            y = y * position_weight[None, :, None]
        return y.reshape(n, L // bin_width, bin_width, -1).sum(axis=2)

    return predict_fn


def numpy_predictor(seed=0, seq_length=512, tracks=3, head="human", symmetric=False, integer=False, tag="np") -> Predictor:
    rng = np.random.default_rng(seed)
    kernel = rng.integers(-3, 4, (7, 4, tracks)).astype(np.float32) if integer else rng.normal(0, 1, (7, 4, tracks)).astype(np.float32)
    if symmetric:
        # kernel equal to its reverse complement, ReLU, position weights symmetric about the
        # middle: f(RC(x)) flipped back along bins == f(x), exactly with integer weights
        kernel = kernel + kernel[::-1, ::-1, :]
        weight = rng.integers(1, 4, seq_length).astype(np.float32)
        fn = conv_predictor(kernel, 64, weight + weight[::-1], nonlinear="relu")
    else:
        fn = conv_predictor(kernel, 64, rng.uniform(0.5, 1.5, seq_length).astype(np.float32), nonlinear="softplus")
    return Predictor(fn, seq_length, tracks, head, model_dir=f"numpy:{tag}", params_sha256=f"{tag}-{seed}",
                     weights_sha256=f"w-{tag}-{seed}", bins=seq_length // 64, bin_width=64)


def read_scores(path: Path, raw: bool = False) -> dict:
    """Datasets (strings decoded unless ``raw``: then as stored) and attributes."""
    with h5py.File(path, "r") as h5:
        out = {k: (h5[k].asstr()[:] if h5[k].dtype.kind == "S" and not raw else h5[k][:]) for k in h5}
        out["attrs"] = dict(h5.attrs)
    return out


def auroc(pos, neg) -> float:
    """Mann-Whitney AUROC of positives over negatives (ties count one half)."""
    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def genome(tmp_path_factory):
    """chr1 6 kb and chr2 3 kb of random sequence (lower case in part), and its reverse complement."""
    root = tmp_path_factory.mktemp("variants")
    rng = np.random.default_rng(11)
    seqs = {"chr1": random_sequence(rng, 6000), "chr2": random_sequence(rng, 3000)}
    seqs["chr2"] = seqs["chr2"][:1000] + seqs["chr2"][1000:1500].lower() + seqs["chr2"][1500:]
    rc = {c: s.translate(COMP)[::-1] for c, s in seqs.items()}
    return {"root": root, "seqs": seqs, "fasta": write_fasta(root / "g.fa", seqs),
            "rc_fasta": write_fasta(root / "g_rc.fa", rc)}


def other_base(b: str, k: int = 1) -> str:
    return "ACGT"[("ACGT".index(b.upper()) + k) % 4]


@pytest.fixture(scope="module")
def messy_vcf(genome):
    """A VCF exercising every skip reason, plus SNPs at the chromosome ends (N padding).

    Returns (path, expected counts per reason, number of records).
    """
    s = genome["seqs"]
    b = lambda c, p: s[c][p - 1].upper()  # noqa: E731 - base at 1-based p
    rows = [
        ("chr1", 1, "first", b("chr1", 1), other_base(b("chr1", 1))),          # at the chromosome start
        ("chr1", 120, ".", b("chr1", 120), "."),                                 # missing_alt
        ("chr1", 150, "rs_sym", b("chr1", 150), "<DEL>"),                        # symbolic_alt
        ("chr1", 200, "rs_multi", b("chr1", 200), f"{other_base(b('chr1', 200))},{other_base(b('chr1', 200), 2)}"),
        ("chr1", 300, "rs_ins", b("chr1", 300), b("chr1", 300) + "AC"),          # indel
        ("chr1", 400, "rs_del", s["chr1"][399:402].upper(), b("chr1", 400)),     # indel
        ("chr1", 500, "rs_mnp", s["chr1"][499:501].upper(), "NN".replace("N", other_base(b("chr1", 500)))),
        ("chr1", 600, "rs_n", "N", "A"),                                         # non_acgt
        ("chr1", 700, "rs_same", b("chr1", 700), b("chr1", 700)),                # ref_equals_alt
        ("chr1", 800, "rs_ok1", b("chr1", 800), other_base(b("chr1", 800))),
        ("chr1", 800, "rs_dup", b("chr1", 800), other_base(b("chr1", 800))),   # duplicate
        ("chr1", 900, "rs_mm", other_base(b("chr1", 900)), other_base(b("chr1", 900), 2)),  # ref_mismatch (flip too)
        ("chr1", 1000, "rs_flip", other_base(b("chr1", 1000)), b("chr1", 1000)),  # ref_mismatch; flipped with flip
        ("chr1", 3000, ".", b("chr1", 3000), other_base(b("chr1", 3000), 3)),
        ("chr1", 6000, "last", b("chr1", 6000), other_base(b("chr1", 6000))),   # at the chromosome end
        ("chr2", 1200, "rs_lower", b("chr2", 1200).lower(), other_base(b("chr2", 1200)).lower()),
        ("chr2", 2000, "rs_ok2", b("chr2", 2000), other_base(b("chr2", 2000), 2)),
    ]
    path = write_vcf(genome["root"] / "messy.vcf", rows)
    expected = {"missing_alt": 1, "multiallelic": 1, "symbolic_alt": 1, "indel": 2, "mnp": 1, "non_acgt": 1,
                "ref_equals_alt": 1, "duplicate": 1, "ref_mismatch": 2}
    return path, expected, len(rows)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """params_tiny saved untrained (heads human: 3 tracks, mouse: 2), and its human head as a Predictor."""
    from crossreg.model import build_model, save_model

    root = tmp_path_factory.mktemp("variants_model")
    model_dir = save_model(build_model(PARAMS, seed=5), root / "model")
    return {"dir": model_dir, "human": load_predictor(model_dir, "human")}


# ---------------------------------------------------------------------- records and reports
def test_every_record_is_scored_or_reported(genome, messy_vcf, caplog):
    path, expected, n_records = messy_vcf
    pred = numpy_predictor()
    with caplog.at_level(logging.INFO, logger="crossreg.variants"):
        summary = score_variants(pred, "human", genome["fasta"], path, genome["root"] / "messy.h5")
    d = read_scores(genome["root"] / "messy.h5")
    assert summary["skipped"] == expected
    assert summary["snps"] + sum(expected.values()) == n_records == d["attrs"]["records"]
    assert json.loads(d["attrs"]["skipped"]) == expected and d["attrs"]["skipped_total"] == sum(expected.values())
    examples = json.loads(d["attrs"]["skipped_examples"])
    assert examples["indel"][0].endswith(" (indel)") and examples["indel"][0].startswith("chr1:300 ")
    assert examples["multiallelic"] == [f"chr1:200 {genome['seqs']['chr1'][199].upper()}>"
                                        f"{other_base(genome['seqs']['chr1'][199])},{other_base(genome['seqs']['chr1'][199], 2)} (multiallelic)"]
    assert [e.split()[0] for e in examples["ref_mismatch"]] == ["chr1:900", "chr1:1000"]
    assert "indel 2 (e.g. chr1:300" in caplog.text  # logged, with examples
    assert d["snp"].tolist() == ["first", "rs_ok1", f"chr1:3000:{genome['seqs']['chr1'][2999].upper()}:"
                                 f"{other_base(genome['seqs']['chr1'][2999], 3)}", "last", "rs_lower", "rs_ok2"]
    assert d["chr"].tolist() == ["chr1"] * 4 + ["chr2"] * 2 and d["pos"].dtype == np.int64
    assert d["pos"].tolist() == [1, 800, 3000, 6000, 1200, 2000]
    assert d["ref_allele"][4] == genome["seqs"]["chr2"][1199].upper()  # lower case read, stored upper
    assert not d["flipped"].any() and d["SAD"].dtype == np.float16 and d["SAD"].shape == (6, 3)
    assert np.isfinite(d["SAD"]).all() and (d["SAD"] != 0).all()
    assert d["target_ids"].tolist() == ["track_0", "track_1", "track_2"] and d["target_labels"].tolist() == [""] * 3
    assert d["attrs"]["format"] == "crossreg-variant-scores" and d["attrs"]["format_version"] == 1
    with h5py.File(genome["root"] / "messy.h5") as h5:
        assert all(h5[k].fletcher32 for k in h5)

    # flip: the SNP whose ALT is the FASTA base is scored (flipped), the other mismatch still skipped
    summary = score_variants(pred, "human", genome["fasta"], path, genome["root"] / "messy_flip.h5", ref_mismatch="flip")
    f = read_scores(genome["root"] / "messy_flip.h5")
    assert summary["skipped"]["ref_mismatch"] == 1 and summary["flipped"] == 1 == f["attrs"]["flipped"]
    assert f["snp"][f["flipped"]].tolist() == ["rs_flip"] and summary["snps"] == 7
    assert summary["snps"] + sum(summary["skipped"].values()) == n_records


def test_snps_at_chromosome_ends_are_padded_with_n(genome):
    fasta_seqs = genome["seqs"]
    from crossreg.io.fasta import FastaGenome

    with FastaGenome(genome["fasta"]) as fa:
        maker = SnpWindows(fa, 512, [0, -3, 2], rc=True)
        x = maker.inputs("chr1", 1, fasta_seqs["chr1"][0], "G")
    assert x.shape == (12, 512, 4) and len(maker.members) == 6
    fwd_ref, fwd_alt = x[0], x[1]
    assert not fwd_ref[:256].any() and fwd_ref[256].argmax() == "ACGT".index(fasta_seqs["chr1"][0])  # N padding before
    assert fwd_alt[256].tolist() == [0, 0, 1, 0]
    assert (x[3] == fwd_alt[::-1, ::-1]).all()  # RC member of shift 0
    shifted = x[4 + 1]  # shift -3, ALT: the SNP at index 256 - 3
    assert shifted[253].tolist() == [0, 0, 1, 0] and not shifted[:253].any()
    expected = np.eye(4, dtype=np.uint8)[["ACGT".index(c) for c in fasta_seqs["chr1"][1 : 1 + 512 - 254]]]
    assert (shifted[254:] == expected).all()  # real sequence after the SNP


def test_chunk_bounds_are_balanced_and_cover_everything():
    for n, of in ((10, 3), (2, 5), (0, 2), (7, 7)):
        pieces = [chunk_bounds(n, c, of) for c in range(of)]
        assert pieces[0][0] == 0 and pieces[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
        sizes = [hi - lo for lo, hi in pieces]
        assert max(sizes) - min(sizes) <= 1


# ---------------------------------------------------------------------- symmetries
def _one_snp_scores(pred, fasta, chrom, pos, ref, alt, path, **kw):
    vcf = write_vcf(path.with_suffix(".vcf"), [(chrom, pos, "v", ref, alt)])
    score_variants(pred, pred.head, fasta, vcf, path, stats="SAD,logSAD,L2", **kw)
    d = read_scores(path)
    return d


def test_allele_flip_is_antisymmetric(genome, tiny_model, tmp_path):
    """score(ref=a, alt=b) == -score(ref=b, alt=a) (ALT given as the FASTA base, --ref-mismatch flip)."""
    a = genome["seqs"]["chr1"][2500].upper()
    b = other_base(a)
    for pred in (numpy_predictor(), tiny_model["human"]):
        fwd = _one_snp_scores(pred, genome["fasta"], "chr1", 2501, a, b, tmp_path / "ab.h5")
        rev = _one_snp_scores(pred, genome["fasta"], "chr1", 2501, b, a, tmp_path / "ba.h5", ref_mismatch="flip")
        assert rev["flipped"].tolist() == [True] and fwd["flipped"].tolist() == [False]
        assert (fwd["SAD"] != 0).all()
        np.testing.assert_array_equal(rev["SAD"], -fwd["SAD"])
        np.testing.assert_array_equal(rev["logSAD"], -fwd["logSAD"])
        np.testing.assert_array_equal(rev["L2"], fwd["L2"])
        assert (fwd["L2"] >= np.abs(fwd["SAD"]) / np.sqrt(8 if pred.seq_length == 512 else 12) - 1e-3).all()
    # without --ref-mismatch flip the swapped record is reported, not scored
    d = _one_snp_scores(numpy_predictor(), genome["fasta"], "chr1", 2501, b, a, tmp_path / "ba2.h5")
    assert len(d["snp"]) == 0 and json.loads(d["attrs"]["skipped"]) == {"ref_mismatch": 1}


def test_rc_ensemble_matches_the_mirrored_snp_on_the_reverse_complement(genome, tmp_path):
    """Scoring a SNP equals scoring the complementary SNP at the mirrored position of the
    reverse-complemented FASTA, for any deterministic predictor, when the shift set is closed
    under s -> -1 - s (windows have even length: the SNP sits one past the middle)."""
    pred = numpy_predictor(seed=3)
    seq = genome["seqs"]["chr1"]
    n = len(seq)
    rows, mirrored = [], []
    for k, pos in enumerate((40, 777, 2048, 3001, 5990)):
        ref = seq[pos - 1].upper()
        alt = other_base(ref, k % 3 + 1)
        rows.append(("chr1", pos, f"v{k}", ref, alt))
        mirrored.append(("chr1", n - pos + 1, f"v{k}", ref.translate(COMP), alt.translate(COMP)))
    mirrored.sort(key=lambda r: r[1])
    write_vcf(tmp_path / "f.vcf", rows)
    write_vcf(tmp_path / "m.vcf", mirrored)
    results = {}
    for shifts in ("0,-1", "0,-1,1,-2", "0"):
        score_variants(pred, "human", genome["fasta"], tmp_path / "f.vcf", tmp_path / "f.h5", shifts=shifts, stats="SAD,L2")
        score_variants(pred, "human", genome["rc_fasta"], tmp_path / "m.vcf", tmp_path / "m.h5", shifts=shifts, stats="SAD,L2")
        f, m = read_scores(tmp_path / "f.h5"), read_scores(tmp_path / "m.h5")
        order = np.argsort(m["snp"])
        results[shifts] = (f["SAD"], m["SAD"][order])
        if shifts != "0":
            np.testing.assert_array_equal(f["SAD"], m["SAD"][order])
            np.testing.assert_array_equal(f["L2"], m["L2"][order])
    # with shift 0 alone the mirrored window is offset by 1 bp: the symmetry above is not trivial
    assert not np.array_equal(*results["0"])


def test_strand_symmetric_model_gives_the_same_scores_with_and_without_rc(genome, tmp_path, messy_vcf):
    path = messy_vcf[0]
    sym = numpy_predictor(seed=4, symmetric=True, integer=True)
    asym = numpy_predictor(seed=4)
    out = {}
    for name, pred in (("sym", sym), ("asym", asym)):
        for rc in (True, False):
            score_variants(pred, "human", genome["fasta"], path, tmp_path / f"{name}{rc}.h5", rc=rc, shifts="0,1")
            out[name, rc] = read_scores(tmp_path / f"{name}{rc}.h5")["SAD"]
    assert np.abs(out["sym", True]).max() > 1
    np.testing.assert_array_equal(out["sym", True], out["sym", False])
    assert not np.array_equal(out["asym", True], out["asym", False])


# ---------------------------------------------------------------------- batching and chunks
def test_predict_stream_packs_windows_across_blocks():
    calls = []
    rng = np.random.default_rng(0)

    def fn(x):
        calls.append(len(x))
        return x.sum(axis=1, keepdims=True).repeat(2, axis=1) * np.arange(1, 5, dtype=np.float32)

    blocks = [rng.integers(0, 2, (k, 16, 4)).astype(np.uint8) for k in (3, 0, 5, 1, 7, 2)]
    outs = list(predict_stream(fn, blocks, batch_size=4))
    assert set(calls) == {4} and len(calls) == 5  # 18 windows -> 5 calls of 4 (last padded)
    assert [len(o) for o in outs] == [3, 5, 1, 7, 2]
    for block, o in zip([b for b in blocks if len(b)], outs):
        np.testing.assert_array_equal(o, fn(block.astype(np.float32)))


def test_batch_sizes_1_and_16_agree(genome, tiny_model, messy_vcf, tmp_path):
    """Exact for a NumPy predictor. Keras on CPU (TensorFlow, oneDNN) gives batch-shape-dependent
    float32 round-off in the predictions (~1e-6 relative here; 0 under JAX), and SAD is a small
    difference of large sums, so the Keras comparison is to 1e-5 of the predictions' own scale."""
    path = messy_vcf[0]
    pred = numpy_predictor()
    files = []
    for bs in (1, 3, 16):
        score_variants(pred, "human", genome["fasta"], path, tmp_path / f"b{bs}.h5", batch_size=bs, shifts="0,-1,1",
                       stats="SAD,logSAD,L2")
        files.append(read_scores(tmp_path / f"b{bs}.h5"))
    for other in files[1:]:
        for k in ("SAD", "logSAD", "L2", "snp"):
            np.testing.assert_array_equal(files[0][k], other[k])

    from crossreg.io.fasta import FastaGenome

    keras_pred = tiny_model["human"]
    snps = read_vcf(path).snps
    with FastaGenome(genome["fasta"]) as fa:
        maker = SnpWindows(fa, keras_pred.seq_length, [0, 1], rc=True)
        inputs = [maker.inputs(s.chrom, s.pos, s.ref, s.alt) for s in snps]
        scale = np.abs(keras_pred.predict_fn(inputs[0][:1].astype(np.float32))).sum(axis=1).max()
        sad = {bs: np.stack([s["SAD"] for s in score_stream(keras_pred, iter(inputs), maker.members, bs)])
               for bs in (1, 16)}
    assert np.abs(sad[1]).max() > 1e-4
    np.testing.assert_allclose(sad[1], sad[16], rtol=0, atol=1e-5 * scale)


def test_scatter_gather_equals_one_run(genome, tiny_model, messy_vcf, tmp_path):
    path = messy_vcf[0]
    kw = dict(shifts="0,1", stats="SAD,L2", batch_size=4, tsv_tracks=["track_2", "0"])
    pred = tiny_model["human"]
    single = score_variants(pred, "human", genome["fasta"], path, tmp_path / "all.h5", tsv=tmp_path / "all.tsv", **kw)
    chunks = [score_variants(pred, "human", genome["fasta"], path, tmp_path / f"c{i}.h5", chunk=i, of=3, **kw)
              for i in range(3)]
    assert [c["snps"] for c in chunks] == [2, 2, 2] and sum(c["records"] for c in chunks) == single["records"]
    assert sum(sum(c["skipped"].values()) for c in chunks) == sum(single["skipped"].values())
    summary = gather_scores([tmp_path / f"c{i}.h5" for i in (2, 0, 1)], tmp_path / "g.h5", tsv=tmp_path / "g.tsv",
                            tsv_tracks=["track_2", "0"])
    assert summary["snps"] == single["snps"] == 6
    a, g = read_scores(tmp_path / "all.h5", raw=True), read_scores(tmp_path / "g.h5", raw=True)
    assert set(a) == set(g)
    for key in a:
        if key != "attrs":
            assert a[key].dtype == g[key].dtype and a[key].tobytes() == g[key].tobytes(), key
    for key in ("skipped", "skipped_examples", "records", "snps", "flipped", "options", "vcf_sha256", "chunk", "of"):
        assert a["attrs"][key] == g["attrs"][key], key
    assert (tmp_path / "all.tsv").read_bytes() == (tmp_path / "g.tsv").read_bytes()
    header = (tmp_path / "all.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["snp", "chr", "pos", "ref", "alt", "flipped", "SAD_track_2", "SAD_track_0"]

    # more chunks than SNPs: empty chunks are valid files, and still gather to the same result
    pred_np = numpy_predictor()
    score_variants(pred_np, "human", genome["fasta"], path, tmp_path / "np_all.h5")
    for i in range(10):  # 8 SNP records (2 of them then skipped for REF) in 10 chunks
        score_variants(pred_np, "human", genome["fasta"], path, tmp_path / f"np{i}.h5", chunk=i, of=10)
    assert read_scores(tmp_path / "np9.h5")["SAD"].shape == (0, 3)
    assert read_scores(tmp_path / "np9.h5")["attrs"]["records"] == 0
    gather_scores([tmp_path / f"np{i}.h5" for i in range(10)], tmp_path / "np_g.h5")
    a, g = read_scores(tmp_path / "np_all.h5", raw=True), read_scores(tmp_path / "np_g.h5", raw=True)
    assert all(a[k].tobytes() == g[k].tobytes() for k in a if k != "attrs")
    assert a["attrs"]["skipped"] == g["attrs"]["skipped"] and a["attrs"]["skipped_examples"] == g["attrs"]["skipped_examples"]


def test_gather_refuses_mixed_or_incomplete_chunks(genome, messy_vcf, tmp_path):
    path = messy_vcf[0]
    p1, p2 = numpy_predictor(seed=1), numpy_predictor(seed=2)
    for i in range(3):
        score_variants(p1, "human", genome["fasta"], path, tmp_path / f"a{i}.h5", chunk=i, of=3)
    score_variants(p2, "human", genome["fasta"], path, tmp_path / "other_model.h5", chunk=2, of=3)
    score_variants(p1, "human", genome["fasta"], path, tmp_path / "other_opts.h5", chunk=2, of=3, rc=False)
    other_vcf = write_vcf(tmp_path / "other.vcf", [("chr1", 10, "x", genome["seqs"]["chr1"][9].upper(), "N")])
    score_variants(p1, "human", genome["fasta"], other_vcf, tmp_path / "other_vcf.h5", chunk=2, of=3)
    a = [tmp_path / f"a{i}.h5" for i in range(3)]
    cases = [
        ([a[0], a[1], tmp_path / "other_model.h5"], "params_sha256"),
        ([a[0], a[1], tmp_path / "other_opts.h5"], "options"),
        ([a[0], a[1], tmp_path / "other_vcf.h5"], "vcf"),
        ([a[0], a[1]], "chunk(s) 2 of 3 missing"),
        ([a[0], a[1], a[1]], "chunk 1 of 3 is given twice"),
        ([a[0], a[1], messy_vcf[0]], "cannot open as HDF5"),
    ]
    for files, message in cases:
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
            gather_scores(files, tmp_path / "g.h5")
        assert str(files[-1]) in str(err.value) or "missing" in message
    assert not (tmp_path / "g.h5").exists()
    gather_scores(a, tmp_path / "g.h5")


# ---------------------------------------------------------------------- bad input
def test_bad_input_is_one_clear_error(genome, tiny_model, messy_vcf, tmp_path, caplog):
    pred = numpy_predictor()
    fasta, vcf = genome["fasta"], messy_vcf[0]
    (tmp_path / "garbage.vcf").write_text("this is not a VCF\n")
    write_vcf(tmp_path / "chr3.vcf", [("chr1", 5, "a", genome["seqs"]["chr1"][4], "A"), ("chr3", 10, "b", "A", "C")])
    write_vcf(tmp_path / "past.vcf", [("chr2", 3001, "a", "A", "C")])
    manifest = {"format": "crossreg-manifest", "format_version": 1, "genome": "human", "seq_length": 2048,
                "pool_width": 64, "crop_bp": 0, "bins": 8, "tracks": 3, "splits": {},
                "targets": [{"identifier": f"T{i}", "description": f"DNASE:t{i}"} for i in range(3)]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "out.h5"
    cases = [
        (dict(vcf=tmp_path / "garbage.vcf"), "cannot open as VCF"),
        (dict(vcf=tmp_path / "nope.vcf"), "no such file"),
        (dict(vcf=tmp_path / "chr3.vcf"), r"line 4: chromosome 'chr3' is not in the FASTA .*chromosomes: chr1, chr2"),
        (dict(vcf=tmp_path / "past.vcf"), "line 3: position chr2:3001 is outside the chromosome"),
        (dict(shifts="0,x"), "--shifts '0,x': expected comma-separated integers"),
        (dict(shifts="0,256"), "shift 256 moves the SNP out of the 512 bp window"),
        (dict(shifts="1,1"), "given twice"),
        (dict(stats="SAD,foo"), "unknown statistic 'foo'"),
        (dict(tsv_tracks=["track_9"], tsv=tmp_path / "x.tsv"), "--tsv-track 'track_9': not a track identifier .*did you mean"),
        (dict(tsv_tracks=["5"], tsv=tmp_path / "x.tsv"), "index 5 is out of range"),
        (dict(manifest=tmp_path / "manifest.json"), "windows of 2048 bp, but the model takes 512 bp"),
        (dict(chunk=3, of=3), "--chunk must be in 0..2"),
        (dict(batch_size=0), "--batch-size must be positive"),
    ]
    for change, message in cases:
        args = dict(vcf=vcf)
        args.update(change)
        v = args.pop("vcf")
        with pytest.raises(InputError, match=message):
            score_variants(pred, "human", fasta, v, out, **args)
        assert not out.exists()
    with pytest.raises(InputError, match="no head for genome 'dog'; this model has heads for: human, mouse"):
        score_variants(tiny_model["dir"], "dog", fasta, vcf, out)

    # a manifest of the right length names the tracks; a VCF without SNPs gives a valid empty file
    manifest["seq_length"] = 512
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    write_vcf(tmp_path / "indels.vcf", [("chr1", 5, "a", genome["seqs"]["chr1"][4] + "A", "A")])
    with caplog.at_level(logging.WARNING, logger="crossreg.variants"):
        summary = score_variants(pred, "human", fasta, tmp_path / "indels.vcf", out, manifest=tmp_path / "manifest.json",
                                 tsv=tmp_path / "e.tsv", tsv_tracks=["T1"])
    assert "no SNP to score" in caplog.text
    d = read_scores(out)
    assert summary["snps"] == 0 and d["SAD"].shape == (0, 3) and summary["skipped"] == {"indel": 1}
    assert d["target_ids"].tolist() == ["T0", "T1", "T2"] and d["target_labels"][2] == "DNASE:t2"
    assert (tmp_path / "e.tsv").read_text() == "snp\tchr\tpos\tref\talt\tflipped\tSAD_T1\n"


def test_cli_steps_and_errors(genome, tiny_model, messy_vcf, tmp_path, capsys):
    base = ["--model-dir", tiny_model["dir"], "--fasta", genome["fasta"]]
    argv = ["score-variants", *base, "--head", "mouse", "--vcf", messy_vcf[0], "--shifts", "0,-1", "--stats", "SAD,logSAD",
            "--batch-size", "6", "--tsv-track", "1"]
    for i in range(2):
        assert main([str(a) for a in argv + ["--out", tmp_path / f"c{i}.h5", "--chunk", str(i), "--of", "2"]]) == 0
    assert main([str(a) for a in ["gather-scores", "--in", tmp_path / "c1.h5", tmp_path / "c0.h5", "--out",
                                  tmp_path / "g.h5", "--tsv", tmp_path / "g.tsv"]]) == 0
    out = capsys.readouterr().out
    assert "6 SNP(s) of 17 VCF records" in out
    d = read_scores(tmp_path / "g.h5")
    assert d["SAD"].shape == (6, 2) and d["logSAD"].shape == (6, 2) and d["attrs"]["head"] == "mouse"
    assert len((tmp_path / "g.tsv").read_text().splitlines()) == 7

    assert main([str(a) for a in ["ism", *base, "--head", "human", "--region", "chr1:2,001-2,040", "--out", tmp_path / "i.h5",
                                  "--plot", tmp_path / "i.png", "--track", "2", "--track", "track_0", "--batch-size", "16"]]) == 0
    assert (tmp_path / "i.png").read_bytes()[:4] == b"\x89PNG"
    with h5py.File(tmp_path / "i.h5") as h5:
        assert h5["scores"].shape == (40, 4, 2) and h5["track_index"][:].tolist() == [2, 0]
        assert h5["reference"][()].decode() == genome["seqs"]["chr1"][2000:2040].upper()

    capsys.readouterr()
    code = main([str(a) for a in argv + ["--out", tmp_path / "x.h5", "--shifts", "a"]])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "crossreg score-variants: error: --shifts 'a'" in err
    code = main([str(a) for a in ["ism", *base, "--head", "human", "--region", "chr1:1-5000", "--out", tmp_path / "y.h5"]])
    err = capsys.readouterr().err
    assert code == 2 and "at most 1000 bp" in err


# ---------------------------------------------------------------------- ism
def test_ism_scores_are_the_sad_of_each_substitution(genome, tmp_path):
    pred = numpy_predictor(seed=6)
    seq = genome["seqs"]["chr2"]
    summary = saturation_mutagenesis(pred, "human", genome["fasta"], "chr2:1491-1510", tmp_path / "ism.h5",
                                     plot=tmp_path / "ism.png", tracks=["track_1", "track_2"])
    assert summary["positions"] == 20 and summary["windows"] == 2 * (1 + 3 * 20)
    with h5py.File(tmp_path / "ism.h5") as h5:
        scores = h5["scores"][:]
        assert h5["reference"][()].decode() == seq[1490:1510].upper()
        assert h5["positions"][:].tolist() == list(range(1491, 1511))
        assert h5["target_ids"].asstr()[:].tolist() == ["track_1", "track_2"] and h5.attrs["format"] == "crossreg-ism"
    ref_cols = ["ACGT".index(c) for c in seq[1490:1510].upper()]
    assert (scores[np.arange(20), ref_cols] == 0).all() and (np.count_nonzero(scores, axis=1) == 3).all()
    # a one-base region sits where a SNP's shift-0 window puts it: ISM == SAD (before float16)
    for pos in (1491, 1500, 1510):
        saturation_mutagenesis(pred, "human", genome["fasta"], f"chr2:{pos}-{pos}", tmp_path / "one.h5")
        with h5py.File(tmp_path / "one.h5") as h5:
            s1 = h5["scores"][0]
        ref = seq[pos - 1].upper()
        rows = [("chr2", pos, f"m{b}", ref, b) for b in "ACGT" if b != ref]
        write_vcf(tmp_path / "sat.vcf", rows)
        score_variants(pred, "human", genome["fasta"], tmp_path / "sat.vcf", tmp_path / "sat.h5")
        sad = read_scores(tmp_path / "sat.h5")["SAD"]
        expected = np.array([s1["ACGT".index(b)] for _, _, _, _, b in rows]).astype(np.float16)
        np.testing.assert_array_equal(sad, expected)
    assert (tmp_path / "ism.png").stat().st_size > 10_000


def test_ism_of_a_regions_table_equals_one_region_at_a_time(genome, tmp_path):
    from crossreg.errors import InputError
    from crossreg.variants import ism_regions_table

    pred = numpy_predictor(seed=6)
    table = tmp_path / "top.tsv"
    table.write_text("chrom\tpos\tscore\tism_region\nchr2\t1500\t-3.5\tchr2:1491-1510\n"
                     "chr2\t2000\t-2.0\tchr2:1996-2005\nchr2\t900\t-1.0\tchr2:896-905\n")
    s = ism_regions_table(pred, "human", genome["fasta"], table, tmp_path / "ism", top=2, tracks=["track_1"])
    assert [r["region"] for r in s["regions"]] == ["chr2:1491-1510", "chr2:1996-2005"]
    index = (tmp_path / "ism" / "index.tsv").read_text().splitlines()
    assert index[0] == "chrom\tpos\tscore\tism_region\tism_h5\tism_png" and len(index) == 3
    assert index[2].endswith("\tism_2.h5\tism_2.png") and (tmp_path / "ism" / "ism_2.png").is_file()
    saturation_mutagenesis(pred, "human", genome["fasta"], "chr2:1996-2005", tmp_path / "one.h5", tracks=["track_1"])
    with h5py.File(tmp_path / "one.h5") as a, h5py.File(tmp_path / "ism" / "ism_2.h5") as b:
        np.testing.assert_array_equal(a["scores"][:], b["scores"][:])
    (tmp_path / "bad.tsv").write_text("ism_region\nchr2:10-5\n")
    with pytest.raises(InputError, match=r"bad\.tsv, data row 1"):
        ism_regions_table(pred, "human", genome["fasta"], tmp_path / "bad.tsv", tmp_path / "bad")
    (tmp_path / "nocol.tsv").write_text("region\nchr2:1-5\n")
    with pytest.raises(InputError, match="no 'ism_region' column"):
        ism_regions_table(pred, "human", genome["fasta"], tmp_path / "nocol.tsv", tmp_path / "bad")


# ---------------------------------------------------------------------- the simulated world
class TruthOracle:
    """A "model" that knows the planted variants: a window holding a variant's ALT (found by its
    24 bp flanks on either strand) predicts the truth's expected change of each track
    (dnase_delta_<cell>, cage_delta_<cell>) spread evenly over the bins; anything else 0."""

    def __init__(self, world: Path, k: int = 24):
        from crossreg.io.fasta import FastaGenome

        self.truth = pd.read_csv(world / "truth" / "variants.tsv", sep="\t")
        self.tracks = [c for c in self.truth.columns if c.startswith(("dnase_delta_", "cage_delta_"))]
        self.k = k
        self.keys: dict[bytes, tuple[int, np.ndarray]] = {}
        with FastaGenome(world / "human" / "genome.fa.gz") as fa:
            for row in self.truth.itertuples(index=False):
                s = fa.fetch(row.chrom, row.pos - 1 - k, row.pos + k).upper()
                delta = np.array([getattr(row, t) for t in self.tracks], dtype=np.float32)
                self.keys[s[:k] + b"." + s[k + 1 :]] = (ord(row.alt), delta)
                rc = s.decode().translate(COMP)[::-1].encode()
                self.keys[rc[:k] + b"." + rc[k + 1 :]] = (ord(row.alt.translate(COMP)), delta)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, L, _ = x.shape
        out = np.zeros((n, 4, len(self.tracks)), dtype=np.float32)
        letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
        k = self.k
        for w in range(n):
            codes = np.where(x[w].any(axis=1), x[w].argmax(axis=1), 4)
            seq = letters[codes].tobytes()
            for i in range(k, L - k):
                hit = self.keys.get(seq[i - k : i] + b"." + seq[i + 1 : i + k + 1])
                if hit is not None and seq[i] == hit[0]:
                    out[w] += hit[1] / 4
        return out


def test_planted_variants_of_the_simulated_world_with_a_truth_oracle(tmp_path):
    from crossreg.simulate import simulate

    simulate(tmp_path / "world", preset="tiny", seed=3)
    oracle = TruthOracle(tmp_path / "world")
    pred = Predictor(oracle, 512, len(oracle.tracks), "human", model_dir="oracle")
    summary = score_variants(pred, "human", tmp_path / "world" / "human" / "genome.fa.gz",
                             tmp_path / "world" / "human" / "variants.vcf.gz", tmp_path / "sim.h5", shifts="0,1")
    truth = oracle.truth
    assert summary["snps"] == len(truth) and summary["skipped"] == {}
    d = read_scores(tmp_path / "sim.h5")
    assert d["snp"].tolist() == truth.id.tolist()
    sad = d["SAD"].astype(np.float32)
    expected = truth[oracle.tracks].to_numpy(np.float32)
    np.testing.assert_allclose(sad, expected, rtol=2e-3, atol=1e-3)  # float16 storage
    causal = (truth.label != "neutral").to_numpy()
    strength = np.abs(sad).max(axis=1)
    assert causal.sum() >= 10 and (~causal).sum() >= 10
    assert auroc(strength[causal], strength[~causal]) == 1.0
    best = np.array([oracle.tracks.index(f"dnase_delta_{c}") for c in truth.best_cell])
    sign = np.sign(sad[np.arange(len(sad)), best])
    assert (sign[causal] == truth.expected_sign.to_numpy()[causal]).all()


# ---------------------------------------------------------------------- real data
def test_real_grch37_chr20_snps_and_indels(tmp_path):
    """75 real HapMap3 SNPs (all REF match) and 194 real indels (a plain-gzip VCF) on GRCh37 chr20,
    scored with a one-head tiny model."""
    from crossreg.model import build_model, save_model

    params = json.loads(PARAMS.read_text())
    del params["model"]["head_mouse"]
    model_dir = save_model(build_model(params, seed=2), tmp_path / "model")
    fasta = CHR20 / "20.sub.fa.gz"
    summary = score_variants(model_dir, "human", fasta, CHR20 / "hapmap3_snps.chr20.vcf.gz", tmp_path / "snps.h5",
                             tsv=tmp_path / "snps.tsv", batch_size=16)
    assert summary["snps"] == 75 and summary["skipped"] == {} and summary["flipped"] == 0
    d = read_scores(tmp_path / "snps.h5")
    assert d["snp"][0] == "rs6055045" and d["pos"][0] == 134017 and d["chr"][0] == "20"
    assert np.isfinite(d["SAD"]).all() and (d["SAD"] != 0).all()
    assert len((tmp_path / "snps.tsv").read_text().splitlines()) == 76

    summary = score_variants(model_dir, "human", fasta, CHR20 / "indels.chr20.vcf.gz", tmp_path / "indels.h5")
    assert summary["snps"] == 0 and summary["skipped"] == {"indel": 194} and summary["records"] == 194
    examples = json.loads(read_scores(tmp_path / "indels.h5")["attrs"]["skipped_examples"])
    assert examples == {"indel": ["20:421808 A>ACCA (indel)", "20:1292033 C>CTTGT (indel)", "20:1340527 T>TGTC (indel)"]}
