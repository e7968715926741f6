"""The training loop: epochs, validation, early stopping, checkpoints, resume, fine-tuning.

:func:`train` runs one *phase* of joint (or single-genome) training, then optionally one
fine-tuning phase per genome. A phase is a sequence of epochs; each epoch

1. draws the genome of every step (:class:`~crossreg.train.sampler.GenomeSampler`) and
   streams those batches, shuffled and augmented, through a background prefetch queue;
2. runs one optimiser step per batch on the trunk and that batch's genome head;
3. evaluates every trained genome on its whole valid split (Poisson loss, Pearson R);
4. writes ``model_best/`` when the validation loss improved, then ``model_last/`` with the
   optimiser and trainer state, then ``history.csv`` and TensorBoard scalars.

The phase stops after ``epochs`` epochs, or early when the validation loss has not improved
for more than ``patience`` epochs (and at least ``epochs_min`` were run). The validation
loss that decides is, with several genomes, the mean over all validation windows of all
genomes (each genome weighted by its windows, like the training objective).

Resume: every random draw of an epoch is a function of (seed, phase, epoch), and the last
checkpoint holds every model and optimiser variable, so ``resume=True`` restarts the epoch
that was interrupted from the state at the end of the previous one and reproduces the
uninterrupted run (bit for bit on the same machine and backend).

Fine-tuning (``finetune_epochs`` > 0): for each genome, start from the joint best weights
and train that genome's model alone (trunk and its head, optimiser state reset) with the
same early stopping, writing ``finetune/<genome>/model_best`` and ``model_last``. The
compiled steps are shared by all phases (nothing is recompiled).
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from tqdm import tqdm

from crossreg.errors import InputError, IntegrityError
from crossreg.model.params import resolve_params, write_resolved_params
from crossreg.train.augment import augment_batch, crop_targets
from crossreg.train.checkpoint import (
    new_state,
    read_state,
    recover_dir,
    restore_checkpoint,
    update_state,
    write_checkpoint,
)
from crossreg.train.history import TensorBoardWriter, assay_column, write_history_csv
from crossreg.train.inputs import TrainInputs, prepare_inputs
from crossreg.train.prefetch import Prefetcher
from crossreg.train.sampler import GenomeSampler, derive_seed, genome_batches, rng_for

log = logging.getLogger(__name__)

PREFETCH_DEPTH = 4


@dataclass
class PhaseResult:
    """Outcome of one training phase (joint, or fine-tuning one genome).

    Attributes:
        name: ``"joint"`` or ``"finetune_<genome>"``.
        out_dir: the phase's output directory.
        genomes: genomes trained.
        epochs_done: epochs completed.
        best_epoch: 1-based epoch with the lowest validation loss.
        best_valid_loss: that loss.
        stopped_early: patience ran out before the epoch limit.
        valid_pearson: ``{genome: mean Pearson R over tracks}`` at the best epoch.
        valid_pearson_tracks: ``{genome: [R per track]}`` at the best epoch.
        model_best: best checkpoint directory.
        model_last: last checkpoint directory.
        history: the phase's history CSV.
    """

    name: str
    out_dir: Path
    genomes: list[str]
    epochs_done: int
    best_epoch: int
    best_valid_loss: float
    stopped_early: bool
    valid_pearson: dict[str, float]
    valid_pearson_tracks: dict[str, list[float]]
    model_best: Path
    model_last: Path
    history: Path


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        out_dir: the run's output directory.
        params_path: ``out_dir/params.json``.
        mode: ``"joint"`` or ``"single"``.
        genomes: genomes trained.
        backend: Keras backend used.
        phase: the joint (or single-genome) phase; ``best_epoch``, ``best_valid_loss``,
            ``epochs_done``, ``stopped_early``, ``valid_pearson``, ``valid_pearson_tracks``,
            ``model_best``, ``model_last`` and ``history`` read through to it.
        tensorboard: TensorBoard log directory.
        finetune: ``{genome: PhaseResult}`` of the fine-tuning phases (empty without).
    """

    out_dir: Path
    params_path: Path
    mode: str
    genomes: list[str]
    backend: str
    phase: PhaseResult
    tensorboard: Path
    finetune: dict[str, PhaseResult] = field(default_factory=dict)

    def __getattr__(self, name: str):
        # only reached for names that are not fields: the main phase's outcome
        if name in _PHASE_OUTCOME:
            return getattr(self.phase, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_PHASE_OUTCOME = frozenset({"best_epoch", "best_valid_loss", "epochs_done", "stopped_early", "valid_pearson",
                            "valid_pearson_tracks", "model_best", "model_last", "history"})


@dataclass
class _Phase:
    name: str
    out_dir: Path
    genomes: list[str]
    epochs: int
    epochs_min: int
    patience: int
    steps_per_epoch: int | None
    tensorboard: Path


# ---------------------------------------------------------------- helpers
def _nanmean(values) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def _json_floats(values) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _epoch_rows(
    epoch: int,
    genomes: list[str],
    inputs: TrainInputs,
    train_losses: Mapping[str, list[float]],
    evals: Mapping[str, Any],
    seconds: float,
) -> tuple[list[dict], float]:
    assays = inputs.assays
    rows = []
    for g in genomes:
        ev = evals[g]
        row = {
            "epoch": epoch, "genome": g, "train_loss": _nanmean(train_losses[g]), "valid_loss": float(ev.loss),
            "valid_pearson_mean": ev.pearson_mean, "seconds": round(seconds, 3),
        }
        track_assays = np.array(inputs.data[g].assays)
        for assay in assays:
            mask = track_assays == assay
            row[assay_column(assay)] = _nanmean(ev.pearson[mask]) if mask.any() else None
        rows.append(row)
    windows = np.array([evals[g].windows for g in genomes], dtype=np.float64)
    valid_loss = float(np.dot(windows, [evals[g].loss for g in genomes]) / windows.sum())
    if len(genomes) > 1:
        pearson = np.concatenate([evals[g].pearson for g in genomes])
        track_assays = np.concatenate([np.array(inputs.data[g].assays) for g in genomes])
        row = {
            "epoch": epoch, "genome": "all", "train_loss": _nanmean([x for g in genomes for x in train_losses[g]]),
            "valid_loss": valid_loss, "valid_pearson_mean": _nanmean(pearson), "seconds": round(seconds, 3),
        }
        for assay in assays:
            row[assay_column(assay)] = _nanmean(pearson[track_assays == assay])
        rows.append(row)
    return rows, valid_loss


def _phase_result(phase: _Phase, state: dict) -> PhaseResult:
    tracks = {g: [float("nan") if v is None else float(v) for v in r] for g, r in state["best_valid_pearson"].items()}
    best = state["best_valid_loss"]
    return PhaseResult(
        name=phase.name, out_dir=phase.out_dir, genomes=list(phase.genomes), epochs_done=int(state["epochs_done"]),
        best_epoch=int(state["best_epoch"]), best_valid_loss=float("nan") if best is None else float(best),
        stopped_early=bool(state["stopped_early"]), valid_pearson={g: _nanmean(r) for g, r in tracks.items()},
        valid_pearson_tracks=tracks, model_best=phase.out_dir / "model_best", model_last=phase.out_dir / "model_last",
        history=phase.out_dir / "history.csv",
    )


def reseed_dropout(model, seed: int, phase: str) -> None:
    """Set every random-generator state of the model (dropout) from (seed, phase).

    Fine-tuning phases start from weights loaded from a file, which do not carry these
    states; seeding them makes a phase independent of what ran before it in the process.

    Args:
        model: the MultiHeadModel.
        seed: the run seed.
        phase: phase name.
    """
    for i, v in enumerate(model.joint.non_trainable_variables):
        if str(v.path).endswith("seed_generator_state"):
            current = np.asarray(v.numpy())
            value = np.array([derive_seed(seed, phase, "dropout", i, k) % (2**31) for k in range(current.size)])
            v.assign(value.reshape(current.shape).astype(current.dtype))


# ---------------------------------------------------------------- one epoch
def _epoch_batches(phase: _Phase, inputs: TrainInputs, plan: list[str], seed: int, epoch: int, batch_size: int):
    model_cfg = inputs.params["model"]
    rc, max_shift = bool(model_cfg["augment_rc"]), int(model_cfg["augment_shift"])
    crop = inputs.target_crop
    streams = {
        g: genome_batches(inputs.data[g].train, batch_size, derive_seed(seed, phase.name, epoch, "data", g))
        for g in dict.fromkeys(plan)
    }
    rng = rng_for(seed, phase.name, epoch, "augment")
    for g in plan:
        batch = next(streams[g])
        y = np.ascontiguousarray(crop_targets(batch.targets, crop))
        x, y, _ = augment_batch(batch.sequence, y, rng, rc, max_shift)
        yield g, x, y


def _train_epoch(runner, phase, inputs, sampler, seed, epoch, batch_size, progress) -> dict[str, list[float]]:
    plan = sampler.plan(epoch)
    losses: dict[str, list[float]] = {g: [] for g in phase.genomes}
    # disable=None: tqdm shows the bar only on a terminal
    bar = tqdm(total=len(plan), desc=f"{phase.name} epoch {epoch + 1}", disable=None if progress else True, leave=False,
               unit="step")
    try:
        with Prefetcher(_epoch_batches(phase, inputs, plan, seed, epoch, batch_size), depth=PREFETCH_DEPTH) as batches:
            for genome, x, y in batches:
                loss = runner.train_step(genome, x, y)
                losses[genome].append(loss)
                bar.update(1)
                if bar.n % 10 == 0 or bar.n == len(plan):
                    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
    finally:
        bar.close()
    bad = sum(1 for v in losses.values() for x in v if not math.isfinite(x))
    if bad:
        log.warning("%s epoch %d: %d steps had a non-finite training loss", phase.name, epoch + 1, bad)
    return losses


# ---------------------------------------------------------------- one phase
class _Trainer:
    """The model, one optimiser over the trunk and every trained head, and the compiled steps.

    Shared by all phases of a run: a fine-tuning phase applies updates to a subset (the trunk
    and one head) like a joint step does, and starts from the optimiser's initial state, so
    nothing is recompiled between phases.
    """

    def __init__(self, model, train_cfg: Mapping[str, Any], genomes: list[str], jit_compile: bool | None) -> None:
        from crossreg.train.backend import make_runner
        from crossreg.train.optimizer import build_optimizer

        self.model = model
        variables = list(model.trunk.trainable_variables)
        for g in genomes:
            variables += list(model.heads[g].trainable_variables)
        self.optimizer = build_optimizer(train_cfg, variables)
        self._initial = [np.array(v.numpy()) for v in self.optimizer.variables]
        self.runner = make_runner(model, self.optimizer, genomes, jit_compile)

    def reset_optimizer(self) -> None:
        """Put every optimiser variable (step counter, slots) back to its initial value."""
        for v, value in zip(self.optimizer.variables, self._initial):
            v.assign(value)


def _run_phase(
    phase: _Phase,
    inputs: TrainInputs,
    trainer: _Trainer,
    seed: int,
    resume: bool,
    progress: bool,
) -> PhaseResult:
    from crossreg.train.validation import evaluate_split

    train_cfg = inputs.params["train"]
    batch_size = int(train_cfg["batch_size"])
    model, optimizer, runner = trainer.model, trainer.optimizer, trainer.runner
    last_dir, best_dir = phase.out_dir / "model_last", phase.out_dir / "model_best"
    history_path = phase.out_dir / "history.csv"

    state = None
    if resume:
        recover_dir(best_dir)  # an interrupted write of the best checkpoint
        state = read_state(last_dir)  # (recovers the last checkpoint the same way)
    if state is not None:
        if state["phase"] != phase.name or state["genomes"] != phase.genomes or state["seed"] != seed:
            raise InputError(
                f"{last_dir}: the checkpoint is of phase {state['phase']} on {state['genomes']} with seed {state['seed']}, "
                f"not {phase.name} on {phase.genomes} with seed {seed}; resume with the original arguments"
            )
        restore_checkpoint(last_dir, model, optimizer)
        write_history_csv(history_path, state["history"], inputs.assays)
        if state["finished"] and not state["stopped_early"] and state["epochs_done"] < phase.epochs:
            state["finished"] = False  # more epochs were asked for
        if not state["finished"] and state["epochs_done"] >= phase.epochs:
            state["finished"] = True
            update_state(last_dir, state)
        if state["finished"]:
            log.info("%s: already finished (%d epochs, best %d)", phase.name, state["epochs_done"], state["best_epoch"])
            return _phase_result(phase, state)
        log.info("%s: resuming after epoch %d from %s", phase.name, state["epochs_done"], last_dir)
    else:
        state = new_state(phase.name, phase.genomes, seed, {"steps_per_epoch": phase.steps_per_epoch})
        trainer.reset_optimizer()

    sampler = GenomeSampler(
        {g: inputs.data[g].train.num_windows for g in phase.genomes}, batch_size, seed, phase.name, phase.steps_per_epoch
    )
    tensorboard = TensorBoardWriter(phase.tensorboard)
    log.info(
        "%s: %d steps per epoch of %d sequences; genome probabilities %s", phase.name, sampler.steps_per_epoch,
        batch_size, ", ".join(f"{g} {p:.3f}" for g, p in sampler.probabilities.items()),
    )
    try:
        while state["epochs_done"] < phase.epochs:
            epoch = int(state["epochs_done"])
            start = time.perf_counter()
            losses = _train_epoch(runner, phase, inputs, sampler, seed, epoch, batch_size, progress)
            evals = {
                g: evaluate_split(partial(runner.predict, g), inputs.data[g].valid, batch_size, inputs.target_crop)
                for g in phase.genomes
            }
            seconds = time.perf_counter() - start
            rows, valid_loss = _epoch_rows(epoch + 1, phase.genomes, inputs, losses, evals, seconds)
            best = state["best_valid_loss"]
            improved = math.isfinite(valid_loss) and (best is None or valid_loss < best)
            state["epochs_done"] = epoch + 1
            state["history"].extend(rows)
            if improved:
                state.update(best_epoch=epoch + 1, best_valid_loss=valid_loss, epochs_since_best=0,
                             best_valid_pearson={g: _json_floats(evals[g].pearson) for g in phase.genomes})
            else:
                state["epochs_since_best"] += 1
            stop = state["epochs_done"] >= phase.epochs_min and state["epochs_since_best"] > phase.patience
            if stop or state["epochs_done"] >= phase.epochs:
                state["finished"] = True
                state["stopped_early"] = bool(stop and state["epochs_done"] < phase.epochs)
            if improved:
                write_checkpoint(best_dir, model, info={"phase": phase.name, "epoch": epoch + 1, "valid_loss": valid_loss})
            write_checkpoint(last_dir, model, optimizer, state)
            write_history_csv(history_path, state["history"], inputs.assays)
            scalars = {}
            for row in rows:
                for key in ("train_loss", "valid_loss", "valid_pearson_mean"):
                    scalars[f"{key}/{row['genome']}"] = row[key]
            tensorboard.scalars(epoch + 1, scalars)
            log.info(
                "%s epoch %d: train loss %.5g, valid loss %.5g%s, valid R %s, %.1fs", phase.name, epoch + 1,
                _nanmean([x for v in losses.values() for x in v]), valid_loss, " (best)" if improved else "",
                ", ".join(f"{g} {evals[g].pearson_mean:.4f}" for g in phase.genomes), seconds,
            )
            if state["finished"]:
                if state["stopped_early"]:
                    log.info("%s: stopped early after epoch %d (best epoch %d)", phase.name, epoch + 1, state["best_epoch"])
                break
    finally:
        tensorboard.close()
    return _phase_result(phase, state)


# ---------------------------------------------------------------- the run
def _effective_params(params: dict, epochs: int | None, steps_per_epoch: int | None, seed: int | None) -> dict:
    params = copy.deepcopy(params)
    train_cfg = params["train"]
    if epochs is not None:
        train_cfg["epochs"] = int(epochs)
        train_cfg["epochs_min"] = min(int(train_cfg["epochs_min"]), int(epochs))
    if steps_per_epoch is not None:
        train_cfg["steps_per_epoch"] = int(steps_per_epoch)
    if seed is not None:
        train_cfg["seed"] = int(seed)
    return resolve_params(params, source="params")


def _first_difference(a: Any, b: Any, where: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{where}{key}"
            diff = _first_difference(a[key], b[key], f"{where}{key}.")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff = _first_difference(x, y, f"{where.rstrip('.')}[{i}].")
            if diff:
                return diff
        return None
    return None if a == b else where.rstrip(".")


def _prepare_out_dir(out_dir: Path, params: dict, resume: bool) -> Path:
    params_path = out_dir / "params.json"
    holds_run = params_path.exists() or (out_dir / "model_last").exists() or (out_dir / ".model_last.old").exists()
    if holds_run and not resume:
        raise InputError(
            f"{out_dir} already holds a training run ({params_path.name}); resume it (resume=True, --resume) "
            "or choose another output directory"
        )
    if holds_run and params_path.exists():
        try:
            previous = json.loads(params_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise IntegrityError(f"{params_path}: unreadable ({err})") from None
        a, b = copy.deepcopy(previous), copy.deepcopy(params)
        for p in (a, b):
            p.get("train", {}).pop("epochs", None)
        diff = _first_difference(a, b)
        if diff is not None:
            raise InputError(
                f"{params_path}: the run being resumed used different params ({diff} differs); resume with the same "
                "params, seed and steps per epoch (only epochs may change)"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_resolved_params(params, params_path)


def _check_numbers(epochs, steps_per_epoch, seed, finetune_epochs) -> None:
    for name, value, low in (("epochs", epochs, 1), ("steps_per_epoch", steps_per_epoch, 1), ("seed", seed, 0),
                             ("finetune_epochs", finetune_epochs, 0)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")


def train(
    params: str | os.PathLike | Mapping[str, Any],
    manifests: Mapping[str, str | os.PathLike],
    out_dir: str | os.PathLike,
    mode: str = "joint",
    genome: str | None = None,
    resume: bool = False,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    seed: int | None = None,
    finetune_epochs: int = 0,
    progress: bool = True,
    jit_compile: bool | None = None,
) -> TrainResult:
    """Train the model on the shards of one or several genomes (``crossreg train``).

    Args:
        params: params file, or raw or resolved params (model and train sections).
        manifests: ``{genome: manifest.json}``; in joint mode exactly one per head.
        out_dir: output directory (see the package docstring for its contents).
        mode: ``"joint"`` (all heads, batches of each genome in proportion to its training
            windows) or ``"single"`` (one genome: the trunk and its head only).
        genome: the genome of single mode.
        resume: continue the run in ``out_dir`` from its last checkpoint (optimiser, epoch
            and random state included); without a checkpoint, start afresh.
        epochs: maximum epochs (default ``train.epochs``); may be raised on resume.
        steps_per_epoch: optimiser steps per epoch (default ``train.steps_per_epoch``, or
            one pass over the training windows).
        seed: seed of initialisation, data order, augmentation and dropout (default
            ``train.seed``).
        finetune_epochs: after joint training, fine-tune each genome alone for up to this
            many epochs from the joint best weights (0: no fine-tuning).
        progress: show tqdm progress bars (when stderr is a terminal).
        jit_compile: XLA-compile the steps on TensorFlow (default: for large steps and on
            GPUs, see :func:`crossreg.train.backend.auto_jit_compile`); JAX always compiles.

    Returns:
        The :class:`TrainResult`.

    Raises:
        InputError: bad params, manifests, arguments or output directory (before training).
    """
    _check_numbers(epochs, steps_per_epoch, seed, finetune_epochs)
    inputs = prepare_inputs(params, manifests, mode, genome)
    inputs.params = _effective_params(inputs.params, epochs, steps_per_epoch, seed)
    train_cfg = inputs.params["train"]
    run_seed = int(train_cfg["seed"])
    out_dir = Path(out_dir)
    params_path = _prepare_out_dir(out_dir, inputs.params, resume)

    from crossreg.train.backend import auto_jit_compile, backend_name, configure_xla_cpu

    if configure_xla_cpu(inputs.params):
        log.info("large train step: asked XLA for its memory-minimising CPU scheduler")
    from crossreg.model.checkpoint import WEIGHTS_NAME
    from crossreg.model.network import build_model

    model = build_model(inputs.params, seed=run_seed)
    log.info("training %s on %s with the %s backend; output in %s", inputs.mode, ", ".join(inputs.genomes),
             backend_name(), out_dir)
    if jit_compile is None:
        jit_compile = auto_jit_compile(inputs.params)
    trainer = _Trainer(model, train_cfg, list(inputs.genomes), jit_compile)
    if backend_name() == "tensorflow":
        log.info("steps %s XLA-compiled", "are" if jit_compile else "are not")
    joint = _Phase(
        name="joint", out_dir=out_dir, genomes=list(inputs.genomes), epochs=int(train_cfg["epochs"]),
        epochs_min=int(train_cfg["epochs_min"]), patience=int(train_cfg["patience"]),
        steps_per_epoch=train_cfg["steps_per_epoch"], tensorboard=out_dir / "tensorboard",
    )
    joint_result = _run_phase(joint, inputs, trainer, run_seed, resume, progress)
    finetuned: dict[str, PhaseResult] = {}
    if finetune_epochs and finetune_epochs > 0:
        for g in inputs.genomes:
            phase = _Phase(
                name=f"finetune_{g}", out_dir=out_dir / "finetune" / g, genomes=[g], epochs=int(finetune_epochs),
                epochs_min=1, patience=int(train_cfg["patience"]), steps_per_epoch=train_cfg["steps_per_epoch"],
                tensorboard=out_dir / "tensorboard" / f"finetune_{g}",
            )
            model.load_weights(joint_result.model_best / WEIGHTS_NAME)
            reseed_dropout(model, run_seed, phase.name)
            finetuned[g] = _run_phase(phase, inputs, trainer, run_seed, resume, progress)
    return TrainResult(
        out_dir=out_dir, params_path=params_path, mode=inputs.mode, genomes=list(inputs.genomes),
        backend=backend_name(), phase=joint_result, tensorboard=out_dir / "tensorboard", finetune=finetuned,
    )
