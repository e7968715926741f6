"""The trainer: sampling, augmentation, head isolation, checkpoints and resume, outputs, backends,
input errors, and learning on real data (against untrained and shuffled-target models).

Shards are written with the real data layer (``crossreg windows/baselines/shards/manifest``):
two small synthetic genomes for the mechanics (params_tiny geometry: 2,048 bp windows,
12 bins of 128 bp) and real_tiny hg38 re-tiled into 4,096 bp windows for the learning test.
Keras is imported inside tests, so the module itself imports under any backend (the JAX
subprocess re-uses :func:`isolation_check`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import DATA, REAL_TINY, write_bigwig, write_fasta
from crossreg.cli import main
from crossreg.data.manifest import sha256_file
from crossreg.data.reader import ShardSplit
from crossreg.errors import InputError
from crossreg.train.augment import augment_batch, crop_targets, reverse_complement, shift_sequence
from crossreg.train.prefetch import Prefetcher
from crossreg.train.sampler import GenomeSampler, genome_batches

TESTS = Path(__file__).parent
PARAMS = DATA / "params"
MOTIFS = ("TGACTCA", "CCAATCG")


# ---------------------------------------------------------------- data
def _cli(argv) -> None:
    assert main([str(a) for a in argv]) == 0, argv


def _shards(d: Path, genome: str, fasta: Path, targets: Path, windows_in: Path, seq_length: int, crop_bp: int,
            per_shard: int, blacklist: Path | None = None) -> Path:
    common = ["--genome", genome, "--fasta", fasta] + (["--blacklist", blacklist] if blacklist else [])
    _cli(["windows", *common, "--windows-bed", windows_in, "--seq-length", seq_length, "--out", d / "windows.bed"])
    _cli(["baselines", *common, "--targets", targets, "--out", d / "baselines.tsv"])
    args = [*common, "--targets", targets, "--windows", d / "windows.bed", "--baselines", d / "baselines.tsv",
            "--seq-length", seq_length, "--crop-bp", crop_bp, "--windows-per-shard", per_shard]
    _cli(["shards", *args, "--out-dir", d / "shards"])
    _cli(["manifest", *args, "--shard-dir", d / "shards"])
    return d / "shards" / "manifest.json"


def _synthetic_genome(root: Path, genome: str, n_windows: int, tracks: list[tuple[str, int, float]], seed: int,
                      crop_bp: int = 256) -> Path:
    """A random chromosome with two planted motifs; each track is bumps around one motif's sites."""
    rng = np.random.default_rng(seed)
    d = root / genome
    d.mkdir(parents=True)
    n = n_windows * 2048
    seq = np.array(list("ACGT"))[rng.integers(0, 4, n)]
    signals = np.zeros((len(MOTIFS), n))
    bump = np.exp(-0.5 * (np.arange(-150, 151) / 40.0) ** 2)
    for k, motif in enumerate(MOTIFS):
        for pos in rng.integers(200, n - 200, n // 700):
            seq[pos : pos + len(motif)] = list(motif)
            signals[k, pos - 150 : pos + 151] += bump * rng.uniform(2, 6)
    write_fasta(d / "genome.fa", {"chr1": "".join(seq)})
    lines = ["identifier\tfile\tclip\tclip_soft\tscale\tsum_stat\tdescription"]
    for i, (assay, k, scale) in enumerate(tracks):
        write_bigwig(d / f"t{i}.bw", {"chr1": n}, {"chr1": signals[k] * scale + rng.gamma(0.5, 0.1, n)})
        lines.append(f"{genome}_t{i}\tt{i}.bw\t\t\t1\tmean\t{assay}:{genome} track {i}")
    (d / "targets.txt").write_text("\n".join(lines) + "\n")
    folds = [{4: "test", 5: "valid"}.get(i % 6, "train") for i in range(n_windows)]
    (d / "windows_in.bed").write_text("".join(f"chr1\t{i * 2048}\t{(i + 1) * 2048}\t{f}\n" for i, f in enumerate(folds)))
    return _shards(d, genome, d / "genome.fa", d / "targets.txt", d / "windows_in.bed", 2048, crop_bp, 8)


@pytest.fixture(scope="module")
def manifests(tmp_path_factory) -> dict[str, Path]:
    """human: 3 tracks (CAGE, CAGE, DNASE), 40/10/10 windows; mouse: 2 tracks, 28/6/6 windows."""
    root = tmp_path_factory.mktemp("synthetic")
    return {
        "human": _synthetic_genome(root, "human", 60, [("CAGE", 0, 1.0), ("CAGE", 1, 0.5), ("DNASE", 0, 2.0)], 1),
        "mouse": _synthetic_genome(root, "mouse", 40, [("CAGE", 1, 1.0), ("DNASE", 0, 1.5)], 2),
    }


def tiny_params(**train) -> dict:
    """params_tiny with a gentler learning rate (and any train overrides)."""
    params = json.loads((PARAMS / "params_tiny.json").read_text())
    params["train"].update({"learning_rate": 0.01, "patience": 5}, **train)
    return params


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files if k != "paths"}


def _weights(model_dir: Path) -> list[np.ndarray]:
    from crossreg.model import load_model

    return [np.asarray(w) for w in load_model(model_dir).joint.get_weights()]


def _history(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- augmentation
def test_reverse_complement_is_the_one_hot_reversed_on_both_axes():
    from crossreg import _native

    codes = np.array([[0, 1, 2, 3, 4, 0, 0, 2]], dtype=np.uint8)  # ACGTNAAG
    one_hot = _native.codes_to_one_hot(codes, np.float32)
    targets = np.arange(6, dtype=np.float32).reshape(1, 3, 2)
    seq, tgt = reverse_complement(one_hot, targets)
    complement = np.array([3, 2, 1, 0, 4], dtype=np.uint8)[codes[:, ::-1]]  # CTTNACGT
    np.testing.assert_array_equal(seq, _native.codes_to_one_hot(complement, np.float32))
    np.testing.assert_array_equal(tgt, targets[:, ::-1, :])
    assert seq[0, 3].sum() == 0  # the N stays N


def test_shift_fills_with_n_and_moves_bases():
    seq = np.eye(4, dtype=np.float32)[np.array([0, 1, 2, 3, 0, 1])]
    right = shift_sequence(seq, 2)
    np.testing.assert_array_equal(right[2:], seq[:4])
    assert right[:2].sum() == 0
    left = shift_sequence(seq, -3)
    np.testing.assert_array_equal(left[:3], seq[3:])
    assert left[3:].sum() == 0
    np.testing.assert_array_equal(shift_sequence(seq, 0), seq)


def test_augment_batch_draws_per_sequence_and_leaves_inputs_alone():
    rng = np.random.default_rng(0)
    seq = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (64, 50))]
    targets = rng.random((64, 5, 2)).astype(np.float32)
    seq0, tgt0 = seq.copy(), targets.copy()
    out_seq, out_tgt, draws = augment_batch(seq, targets, np.random.default_rng(1), rc=True, max_shift=3)
    np.testing.assert_array_equal(seq, seq0)
    np.testing.assert_array_equal(targets, tgt0)
    assert 10 < draws.reverse.sum() < 54 and set(draws.shift) <= set(range(-3, 4)) and len(set(draws.shift)) == 7
    for i in range(64):
        expected = shift_sequence(seq[i], int(draws.shift[i]))
        expected_t = targets[i]
        if draws.reverse[i]:
            expected, expected_t = expected[::-1, ::-1], expected_t[::-1]
        np.testing.assert_array_equal(out_seq[i], expected)
        np.testing.assert_array_equal(out_tgt[i], expected_t)
    # off: identical arrays, and the generator is advanced the same way
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    same_seq, same_tgt, off = augment_batch(seq, targets, r1, rc=False, max_shift=0)
    assert same_seq is seq and same_tgt is targets and not off.reverse.any() and not off.shift.any()
    augment_batch(seq, targets, r2, rc=True, max_shift=3)
    assert r1.random() == r2.random()  # the generator advanced the same way


def test_crop_targets():
    t = np.arange(2 * 10 * 3).reshape(2, 10, 3)
    np.testing.assert_array_equal(crop_targets(t, 2), t[:, 2:8])
    assert crop_targets(t, 0) is t


# ---------------------------------------------------------------- sampling and prefetch
def test_genome_plan_is_proportional_and_reproducible():
    one_pass = GenomeSampler({"human": 40, "mouse": 28}, batch_size=4, seed=3)
    plan = one_pass.plan(0)
    assert len(plan) == one_pass.steps_per_epoch == 17 and plan.count("human") == 10 and plan.count("mouse") == 7
    assert plan == one_pass.plan(0) and plan != one_pass.plan(1)
    assert plan != GenomeSampler({"human": 40, "mouse": 28}, 4, seed=4).plan(0)
    drawn = GenomeSampler({"human": 300, "mouse": 100}, batch_size=4, seed=0, steps_per_epoch=4000).plan(2)
    assert abs(drawn.count("human") / 4000 - 0.75) < 0.03


def test_genome_batches_stream_full_shuffled_passes(manifests):
    split = ShardSplit(manifests["mouse"], "valid")  # 6 windows
    stream = genome_batches(split, batch_size=4, seed=11)
    batches = [next(stream) for _ in range(6)]  # 24 windows = 4 passes
    assert all(b.sequence.shape == (4, 2048, 4) and b.targets.shape == (4, 12, 2) for b in batches)
    order = np.concatenate([b.window_index for b in batches])
    passes = order.reshape(4, 6)
    assert all(sorted(p) == sorted(passes[0]) for p in passes)  # every window once per pass
    assert len({tuple(p) for p in passes}) > 1  # each pass shuffled differently
    again = genome_batches(split, batch_size=4, seed=11)
    np.testing.assert_array_equal(np.concatenate([next(again).window_index for _ in range(6)]), order)


def test_prefetcher_keeps_order_and_forwards_errors():
    with Prefetcher(iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))

    def broken():
        yield 1
        raise RuntimeError("shard went away")

    with pytest.raises(RuntimeError, match="shard went away"):
        with Prefetcher(broken()) as items:
            list(items)
    with Prefetcher(iter(range(10**6)), depth=2) as items:  # leaving early stops the producer
        for i in items:
            if i == 5:
                break


def test_tensorboard_is_skipped_with_one_warning_without_tensorflow(tmp_path, monkeypatch, caplog):
    from crossreg.train.history import TensorBoardWriter

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    writer = TensorBoardWriter(tmp_path / "tb")
    with caplog.at_level("WARNING"):
        for epoch in (1, 2, 3):
            writer.scalars(epoch, {"valid_loss/all": 1.0})
    writer.close()
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1 == len(caplog.records)
    assert "TensorFlow cannot be imported" in caplog.records[0].message and not (tmp_path / "tb").exists()


def test_checkpoint_directories_are_replaced_atomically_and_recovered(tmp_path):
    from crossreg.train.checkpoint import recover_dir, replace_dir

    final = tmp_path / "model_last"
    final.mkdir()
    (final / "old.txt").write_text("old")
    new = tmp_path / ".model_last.tmp.1"
    new.mkdir()
    (new / "new.txt").write_text("new")
    replace_dir(new, final)
    assert [p.name for p in tmp_path.iterdir()] == ["model_last"] and (final / "new.txt").is_file()
    # a crash between the two renames leaves only the renamed-aside copy; a crash while writing, a temp dir
    final.rename(tmp_path / ".model_last.old")
    (tmp_path / ".model_last.tmp.2").mkdir()
    recover_dir(final)
    assert [p.name for p in tmp_path.iterdir()] == ["model_last"] and (final / "new.txt").is_file()


def test_manifest_arguments():
    from crossreg.train import manifest_specs

    assert manifest_specs(["human=a/m.json", "mouse=b/m.json"]) == {"human": Path("a/m.json"), "mouse": Path("b/m.json")}
    with pytest.raises(InputError, match="expected GENOME=MANIFEST"):
        manifest_specs(["a/m.json"])
    with pytest.raises(InputError, match="genome 'human' given twice"):
        manifest_specs(["human=a", "human=b"])


# ---------------------------------------------------------------- input errors
def test_bad_inputs_fail_before_training(manifests, tmp_path):
    from crossreg.train import train

    out = tmp_path / "out"

    def fails(match, params=None, mans=None, **kw):
        with pytest.raises(InputError, match=match):
            train(params or tiny_params(), mans or manifests, out, progress=False, **kw)
        assert not out.exists()

    wrong_tracks = tiny_params()
    wrong_tracks["model"]["head_human"]["units"] = 4
    fails(r"manifest .*human.*manifest\.json \(genome human\): the shards hold 3 tracks but head_human outputs 4", wrong_tracks)
    longer = tiny_params()
    longer["model"].update(seq_length=4096, target_length=None)
    fails(r"\(genome human\): windows are 2048 bp but the params' model.seq_length is 4096", longer)
    less_crop = tiny_params()
    less_crop["model"]["trunk"][3]["cropping"] = 1
    less_crop["model"]["target_length"] = None
    fails(r"\(genome human\): the shards hold 12 target bins per window but the model needs 14", less_crop)
    paper_convention = tiny_params()
    paper_convention["model"]["target_length"] = 16  # targets before the trunk's 2+2 crop
    fails(r"needs 16 \(12 output bins \+ 2 cropped from each end", paper_convention)
    fails(r"manifest .* is for genome 'dog' but params has no head_dog", mans={**manifests, "dog": manifests["human"]})
    fails(r"params has head_mouse but no manifest was given for genome 'mouse'", mans={"human": manifests["human"]})
    fails(r"holds genome 'mouse' but was given for genome 'human'",
          mans={"human": manifests["mouse"], "mouse": manifests["mouse"]})
    fails(r"unknown training mode 'both'", mode="both")
    fails(r"single mode genome 'dog'", mode="single", genome="dog")
    fails(r"epochs must be an integer >= 1", epochs=0)
    both_clips = tiny_params(global_clipnorm=1.0)
    fails(r"clip_norm and train.global_clipnorm are both set", both_clips)
    # an empty valid split
    manifest = json.loads(manifests["human"].read_text())
    manifest["splits"]["valid"] = {"windows": 0, "shards": []}
    empty = manifests["human"].with_name("manifest_no_valid.json")
    empty.write_text(json.dumps(manifest))
    fails(r"manifest_no_valid\.json \(genome human\): the valid split is empty", mans={**manifests, "human": empty})


# ---------------------------------------------------------------- head isolation
def isolation_check(manifests: dict, optimizer: str, jit_compile: bool) -> dict:
    """Give mouse's head non-zero optimiser slots (momentum), then train on human only.

    Mouse's head weights and slots must stay bit-identical while the trunk and human's head
    move. Returns what changed, for the caller's assertions (also run under JAX).
    """
    from crossreg.model import build_model
    from crossreg.train.backend import make_runner
    from crossreg.train.optimizer import build_optimizer

    params = tiny_params(optimizer=optimizer, learning_rate=0.05)
    model = build_model(params, seed=3)
    variables = [*model.trunk.trainable_variables, *model.heads["human"].trainable_variables,
                 *model.heads["mouse"].trainable_variables]
    opt = build_optimizer(model.params["train"], variables)
    runner = make_runner(model, opt, ["human", "mouse"], jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    mouse_slots = [v for v in opt.variables if "head_mouse" in v.path]
    for slot in mouse_slots:  # as if mouse had been trained before (positive: valid Adam velocities too)
        slot.assign(rng.uniform(0.01, 0.1, size=tuple(slot.shape)).astype("float32"))
    batch = next(genome_batches(ShardSplit(manifests["human"], "train"), 2, seed=1))

    def snapshot(variables):
        return [np.array(v.numpy()) for v in variables]

    groups = {"mouse_head": model.heads["mouse"].weights, "mouse_slots": mouse_slots,
              "human_head": model.heads["human"].weights, "trunk": model.trunk.trainable_weights}
    before = {k: snapshot(v) for k, v in groups.items()}
    for _ in range(3):
        runner.train_step("human", batch.sequence, batch.targets)
    after = {k: snapshot(v) for k, v in groups.items()}
    return {
        "n_mouse_slots": len(mouse_slots),
        **{f"{k}_identical": all(np.array_equal(a, b) for a, b in zip(before[k], after[k])) for k in groups},
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_step_on_one_genome_leaves_the_other_head_bit_identical(manifests, optimizer):
    result = isolation_check(manifests, optimizer, jit_compile=False)
    assert result["n_mouse_slots"] == (2 if optimizer == "sgd" else 4)
    assert result["mouse_head_identical"] and result["mouse_slots_identical"]
    assert not result["human_head_identical"] and not result["trunk_identical"]


# ---------------------------------------------------------------- a run and its outputs
REFERENCE = dict(epochs=3, steps_per_epoch=6, seed=5, progress=False, jit_compile=False)


@pytest.fixture(scope="module")
def reference_run(manifests, tmp_path_factory):
    """A joint run (3 epochs of 6 steps, seed 5) followed by one fine-tuning epoch per genome."""
    from crossreg.train import train

    return train(tiny_params(), manifests, tmp_path_factory.mktemp("reference") / "run", finetune_epochs=1, **REFERENCE)


def test_joint_run_outputs_history_tensorboard_and_finetuning(manifests, reference_run):
    from crossreg.model import load_model
    from crossreg.train import train

    result, out = reference_run, reference_run.out_dir
    assert result.epochs_done == 3 and 1 <= result.best_epoch <= 3 and np.isfinite(result.best_valid_loss)
    assert set(result.valid_pearson) == {"human", "mouse"} and len(result.valid_pearson_tracks["human"]) == 3
    params = json.loads((out / "params.json").read_text())
    assert params["train"]["epochs"] == 3 and params["train"]["seed"] == 5 and params["train"]["steps_per_epoch"] == 6
    for name in ("model.weights.h5", "params.json", "variables.npz", "optimizer.npz", "trainer_state.json"):
        assert (out / "model_last" / name).is_file()
    best_info = json.loads((out / "model_best" / "checkpoint.json").read_text())
    assert best_info["epoch"] == result.best_epoch
    rows = _history(out / "history.csv")
    assert list(rows[0]) == ["epoch", "genome", "train_loss", "valid_loss", "valid_pearson_mean",
                             "valid_pearson_CAGE", "valid_pearson_DNASE", "seconds"]
    assert [(r["epoch"], r["genome"]) for r in rows] == [(e, g) for e in "123" for g in ("human", "mouse", "all")]
    all_rows = [r for r in rows if r["genome"] == "all"]
    assert float(all_rows[result.best_epoch - 1]["valid_loss"]) == pytest.approx(result.best_valid_loss, rel=1e-5)
    # the "all" loss is the window-weighted mean of the genomes' (10 human, 6 mouse validation windows)
    h, m = (float(r["valid_loss"]) for r in rows[:2])
    assert float(rows[2]["valid_loss"]) == pytest.approx((10 * h + 6 * m) / 16, rel=1e-4)
    # TensorBoard scalars
    import tensorflow as tf

    tags = set()
    for event_file in (out / "tensorboard").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags |= {v.tag for v in event.summary.value}
    assert {"valid_loss/all", "train_loss/human", "valid_pearson_mean/mouse"} <= tags
    # best checkpoint loads and reproduces the recorded validation loss
    from crossreg.train.validation import KerasPredictor, evaluate_split

    model = load_model(out / "model_best")
    ev = evaluate_split(KerasPredictor(model, "human"), ShardSplit(manifests["human"], "valid"), 2)
    assert ev.loss == pytest.approx(float(rows[3 * (result.best_epoch - 1)]["valid_loss"]), rel=1e-4)
    # fine-tuning: one checkpoint per genome, each from the joint best
    assert set(result.finetune) == {"human", "mouse"}
    for genome, ft in result.finetune.items():
        assert ft.epochs_done == 1 and (ft.model_best / "model.weights.h5").is_file()
        assert [r["genome"] for r in _history(ft.history)] == [genome]
    mouse_ft = load_model(result.finetune["mouse"].model_best)
    same = lambda a, b: all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.weights, b.weights))  # noqa: E731
    # fine-tuning mouse moved the trunk and mouse's head, not human's head
    assert same(model.heads["human"], mouse_ft.heads["human"])
    assert not same(model.heads["mouse"], mouse_ft.heads["mouse"]) and not same(model.trunk, mouse_ft.trunk)
    # a second run into the same directory must be a resume, with the same params
    with pytest.raises(InputError, match="already holds a training run"):
        train(tiny_params(), manifests, out, epochs=2, progress=False)
    with pytest.raises(InputError, match=r"different params \(train.learning_rate differs\)"):
        train(tiny_params(learning_rate=0.02), manifests, out, resume=True, **REFERENCE)


def test_single_mode_trains_the_trunk_and_one_head(manifests, tmp_path):
    from crossreg.model import build_model, load_model
    from crossreg.train import train

    result = train(tiny_params(), manifests, tmp_path / "single", mode="single", genome="mouse", epochs=1,
                   steps_per_epoch=4, seed=2, progress=False, jit_compile=False)
    assert result.mode == "single" and result.genomes == ["mouse"] and set(result.valid_pearson) == {"mouse"}
    assert [r["genome"] for r in _history(result.history)] == ["mouse"]
    init, trained = build_model(tiny_params(), seed=2), load_model(result.model_last)
    same = lambda a, b: all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(a.weights, b.weights))  # noqa: E731
    assert same(init.heads["human"], trained.heads["human"])  # the unused head is the initialisation
    assert not same(init.heads["mouse"], trained.heads["mouse"]) and not same(init.trunk, trained.trunk)


def test_early_stopping_and_paper_target_crop(manifests, tmp_path):
    """Patience 1 at a learning rate that makes the validation loss bounce; targets stored
    uncropped (16 bins) with the paper's convention (target_length 16 = output 12 + 2 x 2)."""
    from crossreg.train import train

    root = tmp_path / "uncropped"
    uncropped = _synthetic_genome(root, "human", 24, [("CAGE", 0, 1.0), ("CAGE", 1, 0.5), ("DNASE", 0, 2.0)], 1,
                                  crop_bp=0)
    assert ShardSplit(uncropped, "train").bins == 16
    params = tiny_params(learning_rate=0.3, patience=1)
    params["model"]["target_length"] = 16
    result = train(params, {"human": uncropped}, tmp_path / "run", mode="single", epochs=12, steps_per_epoch=3,
                   seed=0, progress=False, jit_compile=False)
    losses = [float(r["valid_loss"]) for r in _history(result.history)]
    assert result.stopped_early and result.epochs_done < 12
    assert result.epochs_done - result.best_epoch == 2  # patience 1: two epochs without improvement
    assert result.best_valid_loss == pytest.approx(min(losses), rel=1e-6) and losses.index(min(losses)) + 1 == result.best_epoch
    assert json.loads((result.model_best / "checkpoint.json").read_text())["epoch"] == result.best_epoch


# ---------------------------------------------------------------- determinism and resume
RESUME_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    cfg = json.loads(sys.argv[1])
    from crossreg.train import backend
    original = backend.TensorFlowRunner.train_step
    calls = [0]
    def train_step(self, genome, x, y):
        calls[0] += 1
        if calls[0] == cfg["hang_at"]:  # mid-epoch 2: tell the test, then wait to be killed
            Path(cfg["marker"]).write_text(str(calls[0]))
            time.sleep(600)
        return original(self, genome, x, y)
    backend.TensorFlowRunner.train_step = train_step
    from crossreg.train import train
    train(cfg["params"], cfg["manifests"], cfg["out"], epochs=cfg["epochs"], steps_per_epoch=cfg["steps"],
          seed=cfg["seed"], progress=False, jit_compile=False)
    """
)


def test_same_seed_same_weights_and_resume_after_sigkill_matches(manifests, reference_run, tmp_path):
    from crossreg.model import build_model
    from crossreg.train import train

    a = reference_run  # its joint phase (3 epochs); fine-tuning wrote elsewhere
    b = train(tiny_params(), manifests, tmp_path / "b", **{**REFERENCE, "epochs": 1})
    # a run with the same seed in another process, killed (SIGKILL) in the middle of epoch 2:
    # its epoch-1 checkpoint must equal b's; resumed here, it must end with the reference's weights
    out, marker = tmp_path / "killed", tmp_path / "marker"
    cfg = {"params": tiny_params(), "manifests": {g: str(p) for g, p in manifests.items()}, "out": str(out),
           "epochs": 3, "steps": 6, "seed": 5, "hang_at": 6 + 3, "marker": str(marker)}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, "-c", RESUME_SCRIPT, json.dumps(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 150
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"training exited early: {proc.stderr.read().decode()[-3000:]}")
        assert time.time() < deadline, "the training subprocess never reached epoch 2"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    state = json.loads((out / "model_last" / "trainer_state.json").read_text())
    assert state["epochs_done"] == 1 and not state["finished"]
    assert {r["epoch"] for r in _history(out / "history.csv")} == {"1"}
    vb, vk = _load_npz(b.model_last / "variables.npz"), _load_npz(out / "model_last" / "variables.npz")
    assert all(np.array_equal(vb[k], vk[k]) for k in vb), "same seed, different weights after one epoch"

    resumed = train(tiny_params(), manifests, out, resume=True, **REFERENCE)
    assert resumed.epochs_done == 3 and resumed.best_epoch == a.best_epoch
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(_history(resumed.history)) == strip(_history(a.history))
    va, vr = _load_npz(a.model_last / "variables.npz"), _load_npz(resumed.model_last / "variables.npz")
    assert all(np.array_equal(va[k], vr[k]) for k in va), "same seed, but the resumed run differs from the reference"
    init = [np.asarray(v) for v in build_model(tiny_params(), seed=5).joint.get_weights()]
    assert not all(np.array_equal(x, y) for x, y in zip(init, _weights(resumed.model_last)))  # and training moved them
    oa, orr = _load_npz(a.model_last / "optimizer.npz"), _load_npz(resumed.model_last / "optimizer.npz")
    assert all(np.array_equal(oa[k], orr[k]) for k in oa)
    # resuming a finished run does nothing more
    again = train(tiny_params(), manifests, out, resume=True, **REFERENCE)
    assert again.epochs_done == 3 and len(_history(again.history)) == 9


# ---------------------------------------------------------------- JAX backend
JAX_SCRIPT = textwrap.dedent(
    """
    import json, logging, os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    sys.modules["tensorflow"] = None  # a JAX-only installation: import tensorflow fails
    sys.path.insert(0, sys.argv[2])
    import keras
    assert keras.backend.backend() == "jax"
    warnings = []
    logging.getLogger("crossreg.train.history").addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: warnings.append(r.getMessage())})())
    from test_train import isolation_check, tiny_params
    manifests = json.loads(sys.argv[1])
    result = {"isolation": isolation_check(manifests, "sgd", jit_compile=True)}
    from crossreg.train import train
    out = sys.argv[3]
    run = train(tiny_params(), manifests, out, epochs=1, steps_per_epoch=4, seed=4, progress=False)
    result.update(backend=run.backend, epochs=run.epochs_done, best=run.best_valid_loss,
                  pearson=run.valid_pearson, warnings=warnings)
    print("RESULT" + json.dumps(result))
    """
)


def test_jax_backend_trains_and_isolates_heads_without_tensorflow(manifests, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "3",
           # unoptimised XLA code compiles about twice as fast; plenty for these tiny shapes
           "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    out = tmp_path / "jax_run"
    proc = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, json.dumps({g: str(p) for g, p in manifests.items()}), str(TESTS), str(out)],
        env=env, capture_output=True, text=True, timeout=170,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(proc.stdout.split("RESULT", 1)[1])
    iso = result["isolation"]
    assert iso["n_mouse_slots"] == 2 and iso["mouse_head_identical"] and iso["mouse_slots_identical"]
    assert not iso["human_head_identical"] and not iso["trunk_identical"]
    assert result["backend"] == "jax" and result["epochs"] == 1 and np.isfinite(result["best"])
    assert (out / "model_best" / "model.weights.h5").is_file() and len(_history(out / "history.csv")) == 3
    # without TensorFlow: no TensorBoard output, one warning
    assert len(result["warnings"]) == 1 and "TensorFlow cannot be imported" in result["warnings"][0]
    assert not (out / "tensorboard").exists()
    # the JAX checkpoint loads under TensorFlow
    from crossreg.model import load_model

    assert load_model(out / "model_last").genomes == ["human", "mouse"]


# ---------------------------------------------------------------- learning on real data
REAL_SEQ, REAL_STRIDE, REAL_CROP_BP = 4096, 2048, 512


def real_params(seed: int = 1) -> dict:
    """A params_small-like model shrunk to 4,096 bp: 32 positions of 128 bp, crop 4+4, 24 bins, 34 tracks."""
    return {
        "train": {"batch_size": 8, "optimizer": "adam", "learning_rate": 0.002, "clip_norm": 2, "patience": 10,
                  "seed": seed},
        "model": {
            "seq_length": REAL_SEQ, "target_length": 24, "augment_rc": True, "augment_shift": 3, "activation": "gelu",
            "norm_type": "batch", "bn_momentum": 0.9,
            "trunk": [
                {"name": "conv_block", "filters": 32, "kernel_size": 15, "pool_size": 2},
                {"name": "conv_tower", "filters_init": 32, "filters_mult": 1.2, "kernel_size": 5, "pool_size": 2,
                 "repeat": 6},
                {"name": "dilated_residual", "filters": 24, "rate_mult": 1.5, "repeat": 2, "dropout": 0.3, "round": True},
                {"name": "Cropping1D", "cropping": 4},
                {"name": "conv_block", "filters": 64, "dropout": 0.05},
            ],
            "head_hg38": {"name": "final", "units": 34, "activation": "softplus"},
        },
    }


@pytest.fixture(scope="module")
def real_shards(tmp_path_factory) -> Path:
    """real_tiny hg38 re-tiled: 4,096 bp windows inside each contig's covered centre, keeping its fold."""
    d = tmp_path_factory.mktemp("real4k")
    write_real_windows(d / "windows_in.bed")
    hg = REAL_TINY / "hg38"
    return _shards(d, "hg38", hg / "genome.fa.gz", hg / "targets.txt", d / "windows_in.bed", REAL_SEQ, REAL_CROP_BP, 128,
                   blacklist=hg / "blacklist.bed")


def write_real_windows(path: Path) -> Path:
    """Windows BED over real_tiny hg38: coverage exists only in the central 65,536 bp of each
    131,072 bp contig, so windows tile [32,768, 98,304); train windows overlap by half (stride
    2,048), valid and test windows do not (each bin evaluated once)."""
    contigs = pd.read_csv(REAL_TINY / "hg38" / "windows.bed", sep="\t")
    lines = []
    for row in contigs.itertuples(index=False):
        stride = REAL_STRIDE if row.fold == "train" else REAL_SEQ
        for start in range(32_768, 98_304 - REAL_SEQ + 1, stride):
            lines.append(f"{row[0]}\t{start}\t{start + REAL_SEQ}\t{row.fold}\n")
    path.write_text("".join(lines))
    return path


def shuffled_targets_copy(manifest_path: Path, out_dir: Path, seed: int = 0) -> Path:
    """Copy a genome's shards with the train targets permuted across windows (sequences kept)."""
    shutil.copytree(manifest_path.parent, out_dir)
    manifest = json.loads((out_dir / manifest_path.name).read_text())
    shards = manifest["splits"]["train"]["shards"]
    parts = []
    for s in shards:
        with h5py.File(out_dir / s["file"], "r") as h5:
            parts.append(h5["targets"][...])
    permuted = np.concatenate(parts)[np.random.default_rng(seed).permutation(sum(len(p) for p in parts))]
    lo = 0
    for s, part in zip(shards, parts):
        with h5py.File(out_dir / s["file"], "r+") as h5:
            h5["targets"][...] = permuted[lo : lo + len(part)]
        lo += len(part)
        s["bytes"], s["sha256"] = (out_dir / s["file"]).stat().st_size, sha256_file(out_dir / s["file"])
    (out_dir / manifest_path.name).write_text(json.dumps(manifest, indent=1))
    return out_dir / manifest_path.name


def _test_fold_r(model, manifest: Path) -> dict[str, float]:
    from crossreg.train.validation import KerasPredictor, evaluate_split

    split = ShardSplit(manifest, "test")
    assays = np.array([t["assay"] for t in split.manifest["targets"]])
    ev = evaluate_split(KerasPredictor(model, "hg38"), split, 16)
    return {a: float(np.nanmean(ev.pearson[assays == a])) for a in ("CAGE", "DNASE")}


@pytest.mark.slow
def test_training_on_real_data_beats_untrained_and_shuffled_targets(real_shards, tmp_path):
    from crossreg.model import build_model, load_model
    from crossreg.train import train

    manifest = json.loads(real_shards.read_text())
    assert {k: v["windows"] for k, v in manifest["splits"].items()} == {"train": 1395, "valid": 160, "test": 160}
    run = dict(epochs=3, steps_per_epoch=100, progress=False, jit_compile=False)
    trained = train(real_params(), {"hg38": real_shards}, tmp_path / "trained", **run)
    shuffled_manifest = shuffled_targets_copy(real_shards, tmp_path / "shuffled_shards")
    shuffled = train(real_params(), {"hg38": shuffled_manifest}, tmp_path / "shuffled", **run)

    r_trained = _test_fold_r(load_model(trained.model_best), real_shards)
    r_untrained = _test_fold_r(build_model(real_params()), real_shards)
    r_shuffled = _test_fold_r(load_model(shuffled.model_best), real_shards)  # evaluated on the real test targets
    summary = f"trained {r_trained}, untrained {r_untrained}, shuffled targets {r_shuffled}"
    print(summary)
    # margins seen at this budget: CAGE ~0.04-0.05 over the better control (its tracks are very
    # sparse: most exceed 1 in ~0.1% of bins), DNase ~0.2; `benchmarks/bench_train.py
    # --real-data` trains 12 epochs (CAGE +0.04, DNase +0.34)
    for assay, margin in (("CAGE", 0.02), ("DNASE", 0.1)):
        assert r_trained[assay] > max(r_untrained[assay], r_shuffled[assay]) + margin, summary


def test_train_command_line(manifests, tmp_path, capsys):
    """`crossreg train` parses, trains and reports; bad input is one line on stderr."""
    import json as _json

    from crossreg.cli import main

    params = tmp_path / "params.json"
    params.write_text(_json.dumps(tiny_params(epochs=1, steps_per_epoch=2)))
    argv = ["train", "--params", str(params), "--out", str(tmp_path / "run")]
    argv += [arg for g, m in manifests.items() for arg in ("--manifest", f"{g}={m}")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "joint training on" in out and "best epoch 1 of 1" in out
    assert (tmp_path / "run" / "model_best" / "params.json").is_file()
    assert main(["train", "--params", str(params), "--out", str(tmp_path / "run2"), "--manifest", "nowhere"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected GENOME=MANIFEST" in err[0]
