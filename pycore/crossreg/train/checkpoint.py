"""Checkpoint directories, written atomically, and the trainer state they carry.

A checkpoint is a model directory (:func:`crossreg.model.save_model`: ``params.json`` and
``model.weights.h5``, loadable by :func:`crossreg.model.load_model` on either backend) plus,
for the *last* checkpoint of a run, what an exact resume needs:

``variables.npz``
    every variable of the model in build order, non-trainable ones included (batch-norm
    moving statistics and the dropout layers' random-generator states);
``optimizer.npz``
    every optimiser variable (step counter, momentum / Adam moments);
``trainer_state.json``
    epochs done, best epoch and loss, patience counter, the history rows, finished flag.

An optional ``checkpoint.json`` records what the checkpoint is (epoch, validation loss).

Atomicity: the checkpoint is written into a fresh temporary directory beside the target,
the previous checkpoint is renamed aside, the new one renamed into place, and the old one
deleted. A crash leaves either the old or the new checkpoint under the final name, or (for
an instant) only the renamed-aside old one, which :func:`recover_dir` puts back.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from crossreg.errors import InputError, IntegrityError
from crossreg.io.atomic import atomic_open

STATE_NAME = "trainer_state.json"
VARIABLES_NAME = "variables.npz"
OPTIMIZER_NAME = "optimizer.npz"
INFO_NAME = "checkpoint.json"
STATE_FORMAT = "crossreg-trainer-state"
STATE_VERSION = 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _aside(final: Path) -> Path:
    return final.with_name(f".{final.name}.old")


def recover_dir(final: str | os.PathLike) -> None:
    """Clean up after an interrupted :func:`write_checkpoint` (call only when nothing writes there).

    Puts back a checkpoint renamed aside by an interrupted :func:`replace_dir` and deletes
    half-written temporary directories.

    Args:
        final: the checkpoint directory.
    """
    final = Path(final)
    old = _aside(final)
    if not final.exists() and old.is_dir():
        os.replace(old, final)
    elif final.exists() and old.exists():
        shutil.rmtree(old, ignore_errors=True)
    if final.parent.is_dir():
        for tmp in final.parent.glob(f".{final.name}.tmp.*"):
            shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(tmp: Path, final: Path) -> None:
    """Move a finished temporary directory to ``final``, replacing any previous one.

    Args:
        tmp: the complete new directory (same filesystem as ``final``).
        final: destination.
    """
    old = _aside(final)
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _to_numpy(variable) -> np.ndarray:
    # Variable.numpy() works on every backend (convert_to_numpy of a TensorFlow variable
    # goes through a deprecated NumPy path and warns).
    return np.array(variable.numpy())


def save_variables(path: Path, variables: Sequence) -> None:
    """Write variable values (in order) and their paths to an ``.npz`` file.

    Args:
        path: output file.
        variables: Keras variables.
    """
    arrays = {f"v{i:05d}": _to_numpy(v) for i, v in enumerate(variables)}
    arrays["paths"] = np.array([str(v.path) for v in variables])
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def load_variables(path: Path, variables: Sequence, what: str) -> None:
    """Assign values written by :func:`save_variables` (same build: count, paths and shapes checked).

    Args:
        path: the ``.npz`` file.
        variables: Keras variables, in the order they were saved.
        what: description for error messages.

    Raises:
        IntegrityError: missing or unreadable file, or a different set of variables.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise IntegrityError(f"{path}: cannot read {what} ({err})") from None
    with data:
        paths = [str(p) for p in data["paths"]]
        if len(paths) != len(variables):
            raise IntegrityError(f"{path}: holds {len(paths)} {what} but this run has {len(variables)}")
        values = []
        for i, v in enumerate(variables):
            value = data[f"v{i:05d}"]
            if tuple(value.shape) != tuple(v.shape):
                raise IntegrityError(f"{path}: {what} {i} ({paths[i]}) has shape {value.shape}, expected {tuple(v.shape)}")
            values.append(value)
    for v, value in zip(variables, values):
        v.assign(value)


def write_checkpoint(
    final_dir: str | os.PathLike,
    model,
    optimizer=None,
    state: dict | None = None,
    info: dict | None = None,
) -> Path:
    """Write a checkpoint directory atomically.

    Args:
        final_dir: destination (e.g. ``out/model_last``).
        model: the MultiHeadModel.
        optimizer: also write every model and optimiser variable (a resumable checkpoint).
        state: trainer state to write as ``trainer_state.json``.
        info: small JSON description written as ``checkpoint.json``.

    Returns:
        ``final_dir``.
    """
    from crossreg.model.checkpoint import save_model

    final = Path(final_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp.", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a checkpoint is an ordinary directory
    try:
        save_model(model, tmp)
        if optimizer is not None:
            save_variables(tmp / VARIABLES_NAME, model.joint.variables)
            save_variables(tmp / OPTIMIZER_NAME, optimizer.variables)
        if state is not None:
            (tmp / STATE_NAME).write_text(json.dumps(state, indent=1, allow_nan=True) + "\n")
        if info is not None:
            (tmp / INFO_NAME).write_text(json.dumps(info, indent=1, allow_nan=True) + "\n")
        replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def update_state(checkpoint_dir: str | os.PathLike, state: dict) -> None:
    """Rewrite only the trainer state of an existing checkpoint (atomically).

    Args:
        checkpoint_dir: a resumable checkpoint.
        state: the new state.
    """
    with atomic_open(Path(checkpoint_dir) / STATE_NAME) as handle:
        handle.write(json.dumps(state, indent=1, allow_nan=True) + "\n")


def read_state(checkpoint_dir: str | os.PathLike) -> dict | None:
    """The trainer state of a checkpoint, or None when there is no checkpoint.

    Args:
        checkpoint_dir: e.g. ``out/model_last``.

    Returns:
        The state dict, or None.

    Raises:
        IntegrityError: the state file is unreadable or of another format.
    """
    checkpoint_dir = Path(checkpoint_dir)
    recover_dir(checkpoint_dir)
    path = checkpoint_dir / STATE_NAME
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise IntegrityError(f"{path}: unreadable trainer state ({err})") from None
    if state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
        raise IntegrityError(f"{path}: not a crossreg trainer state (format {state.get('format')!r})")
    return state


def restore_checkpoint(checkpoint_dir: str | os.PathLike, model, optimizer) -> dict:
    """Load every model and optimiser variable of a resumable checkpoint.

    Args:
        checkpoint_dir: a checkpoint written with an optimizer and a state.
        model: the MultiHeadModel, built from the same params.
        optimizer: the optimiser, built over the same variables.

    Returns:
        The trainer state.

    Raises:
        InputError: no resumable checkpoint there.
        IntegrityError: the checkpoint does not fit this model or optimiser.
    """
    checkpoint_dir = Path(checkpoint_dir)
    state = read_state(checkpoint_dir)
    if state is None:
        raise InputError(f"{checkpoint_dir}: no trainer state to resume from")
    load_variables(checkpoint_dir / VARIABLES_NAME, model.joint.variables, "model variables")
    load_variables(checkpoint_dir / OPTIMIZER_NAME, optimizer.variables, "optimizer variables")
    return state


def new_state(phase: str, genomes: Sequence[str], seed: int, extra: dict[str, Any] | None = None) -> dict:
    """A fresh trainer state.

    Args:
        phase: ``"joint"`` or ``"finetune_<genome>"``.
        genomes: genomes trained in the phase.
        seed: the run seed.
        extra: more keys to record (e.g. ``steps_per_epoch``).

    Returns:
        The state dict.
    """
    state = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "phase": phase,
        "genomes": list(genomes),
        "seed": int(seed),
        "epochs_done": 0,
        "best_epoch": 0,
        "best_valid_loss": None,
        "best_valid_pearson": {},
        "epochs_since_best": 0,
        "finished": False,
        "stopped_early": False,
        "history": [],
    }
    state.update(extra or {})
    return state
