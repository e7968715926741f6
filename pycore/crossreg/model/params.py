"""Params files: read, validate, resolve (fill every default) and write.

A params file is a JSON object with two sections, as in Basenji2/baskerville:

``model``
    ``seq_length`` and ``target_length``, model-wide defaults for blocks (``activation``,
    ``norm_type``, ``bn_momentum``, ``l2_scale``, ``kernel_initializer``), the ``trunk`` (a
    list of blocks from the registry, see :mod:`crossreg.model.registry`) and one
    ``head_<genome>`` object per genome (any number, at least one).
``train``
    optimiser and schedule settings, consumed by the trainer (see :data:`TRAIN_KEYS`).

Unknown keys, sections and block names are errors that name the key and where it is, e.g.
``params.json: model.trunk[2].rate_mul: unknown key (did you mean 'rate_mult'?); known keys:
...``. :func:`resolve_params` returns the *resolved* params: every key of every section and
block present, defaults filled in (block keys such as ``activation`` inherit the ``model``
value), numbers normalised. Resolving resolved params returns them unchanged, so
:func:`write_resolved_params` output reads back to the same model.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping

from crossreg.errors import InputError
from crossreg.io.config import read_config_file
from crossreg.io.atomic import atomic_open
from crossreg.model.geometry import TrunkGeometry, trunk_geometry
from crossreg.model.registry import get_block
from crossreg.model.schema import ACTIVATIONS, INITIALIZERS, NORM_TYPES, Key, check_section, fail, keys_doc, unknown_key_error

#: Keys of the ``model`` section other than ``trunk`` and the ``head_<genome>`` objects.
MODEL_KEYS: dict[str, Key] = {
    "seq_length": Key("int", "input sequence length, bp", minimum=1),
    "target_length": Key(
        "int", "target bins per sequence: the output bins, or the output bins plus the trunk's cropping "
        "(paper convention); null: not checked", default=None, nullable=True, minimum=1,
    ),
    "augment_rc": Key("bool", "trainer: reverse-complement training sequences at random (and un-reverse "
                      "predictions); not a layer", default=False),
    "augment_shift": Key("int", "trainer: shift training sequences by a random 0..augment_shift bp either way; "
                         "not a layer", default=0, minimum=0),
    "activation": Key("str", "default activation of trunk blocks, also applied once at the end of the trunk",
                      default="relu", choices=ACTIVATIONS),
    "norm_type": Key("str", "default normalisation of conv blocks", default=None, choices=NORM_TYPES, nullable=True),
    "bn_momentum": Key("number", "default batch-norm momentum", default=0.99, minimum=0, maximum=1, exclusive_max=True),
    "l2_scale": Key("number", "default L2 penalty on kernels", default=0.0, minimum=0),
    "kernel_initializer": Key("str", "default kernel initialiser", default="he_normal", choices=INITIALIZERS),
}

#: Keys of the ``train`` section. Every key is optional; the trainer reads the resolved values.
TRAIN_KEYS: dict[str, Key] = {
    "batch_size": Key("int", "sequences per optimiser step", default=4, minimum=1),
    "optimizer": Key("str", "sgd (with momentum) or adam", default="sgd", choices=("sgd", "adam")),
    "learning_rate": Key("number", "peak learning rate", default=0.01, minimum=0, exclusive_min=True),
    "momentum": Key("number", "SGD momentum (sgd only)", default=0.99, minimum=0, maximum=1, exclusive_max=True),
    "beta_1": Key("number", "Adam first-moment decay (adam only)", default=0.9, minimum=0, maximum=1, exclusive_max=True),
    "beta_2": Key("number", "Adam second-moment decay (adam only)", default=0.999, minimum=0, maximum=1,
                  exclusive_max=True),
    "adam_eps": Key("number", "Adam epsilon (adam only)", default=1e-7, minimum=0, exclusive_min=True),
    "clip_norm": Key("number", "clip each weight's gradient to this L2 norm (Keras clipnorm, as basenji); "
                     "null: no clipping", default=None, nullable=True, minimum=0, exclusive_min=True),
    "global_clipnorm": Key("number", "clip the global gradient norm (Keras global_clipnorm); null: no clipping",
                           default=None, nullable=True, minimum=0, exclusive_min=True),
    "warmup_steps": Key("int", "linear learning-rate warm-up from 0 over this many optimiser steps", default=0,
                        minimum=0),
    "loss": Key("str", "training loss (see crossreg.model.losses.poisson_loss)", default="poisson",
                choices=("poisson",)),
    "epochs": Key("int", "maximum epochs (basenji train_epochs_max); patience usually stops training first",
                  default=10000, minimum=1),
    "epochs_min": Key("int", "epochs always run before early stopping may act", default=1, minimum=1),
    "patience": Key("int", "stop after this many epochs without validation improvement", default=20, minimum=0),
    "steps_per_epoch": Key("int", "optimiser steps per epoch; null: one pass over the training data",
                           default=None, nullable=True, minimum=1),
    "seed": Key("int", "seed for weight initialisation, dropout and data order (keras.utils.set_random_seed)",
                default=0, minimum=0),
    "precision": Key("str", "float32, or mixed_bfloat16 (bf16 compute, float32 weights and head outputs; for GPUs)",
                     default="float32", choices=("float32", "mixed_bfloat16")),
}

_SECTIONS = ("model", "train")
_HEAD_RE = re.compile(r"^head_([A-Za-z0-9][A-Za-z0-9_-]*)$")


def load_params(path: str | os.PathLike) -> dict:
    """Read, validate and resolve a params JSON file.

    Args:
        path: the params file (the paper's ``params_human.json`` reads unchanged).

    Returns:
        Resolved params ``{"model": {...}, "train": {...}}`` (see :func:`resolve_params`).

    Raises:
        InputError: the file is missing, not JSON, or fails validation (the message names
            the file and the key).
    """
    path = Path(path)
    return resolve_params(read_config_file(path), source=str(path))


def resolve_params(raw: Any, source: str = "params") -> dict:
    """Validate params and fill every default.

    Args:
        raw: the decoded JSON (or already resolved params).
        source: where the params came from, for error messages.

    Returns:
        ``{"model": model, "train": train}``: ``model`` has every key of :data:`MODEL_KEYS`,
        ``trunk`` (each block with all its registry keys) and the ``head_<genome>`` objects
        in file order; ``train`` has every key of :data:`TRAIN_KEYS`.

    Raises:
        InputError: unknown section, key or block; missing required key; bad value; no
            head; a trunk whose lengths do not work out (see :func:`trunk_geometry`).
    """
    if not isinstance(raw, Mapping):
        raise InputError(f"{source}: expected a JSON object with 'model' and 'train' sections")
    for key in raw:
        if key not in _SECTIONS:
            raise unknown_key_error(source, str(key), str(key), list(_SECTIONS), "unknown section", "known sections")
    if "model" not in raw:
        raise fail(source, "model", "missing required section")
    model = _resolve_model(raw["model"], source)
    train = check_section(raw.get("train", {}), TRAIN_KEYS, source, "train", extra_check=_check_train)
    return {"model": model, "train": train}


def _check_train(train: dict, source: str, where: str) -> None:
    if train["epochs_min"] > train["epochs"]:
        raise fail(source, f"{where}.epochs_min", f"{train['epochs_min']} exceeds epochs ({train['epochs']})")


def _resolve_model(raw: Any, source: str) -> dict:
    if not isinstance(raw, Mapping):
        raise fail(source, "model", f"expected a JSON object, got {type(raw).__name__}")
    known = [*MODEL_KEYS, "trunk", "head_<genome>"]
    heads_raw: dict[str, Any] = {}
    scalars: dict[str, Any] = {}
    for key, value in raw.items():
        m = _HEAD_RE.match(key) if isinstance(key, str) else None
        if m:
            heads_raw[key] = value
        elif key == "trunk":
            continue
        elif key in MODEL_KEYS:
            scalars[key] = value
        elif isinstance(key, str) and key.startswith("head"):
            raise fail(source, f"model.{key}", "a head key must be head_<genome>, the genome name made of "
                       "letters, digits, '_' or '-' (e.g. head_human)")
        else:
            raise unknown_key_error(source, f"model.{key}", str(key), known)
    model = check_section(scalars, MODEL_KEYS, source, "model")
    if "trunk" not in raw:
        raise fail(source, "model.trunk", "missing required key (list of trunk blocks)")
    trunk = raw["trunk"]
    if not isinstance(trunk, list) or not trunk:
        raise fail(source, "model.trunk", "expected a non-empty list of blocks")
    model["trunk"] = [_resolve_block(b, "trunk", model, source, f"model.trunk[{i}]") for i, b in enumerate(trunk)]
    if not heads_raw:
        raise fail(source, "model", "no head: give at least one head_<genome> object, e.g. head_human")
    for key, value in heads_raw.items():
        model[key] = _resolve_block(value, "head", model, source, f"model.{key}")
    trunk_geometry(model, source)  # raises on inconsistent lengths / target_length
    return model


def _resolve_block(raw: Any, role: str, model: Mapping[str, Any], source: str, where: str) -> dict:
    spec = get_block(raw, role, source, where)
    return check_section(raw, spec.keys, source, where, inherited=model, extra_check=spec.check)


def head_genomes(params: Mapping[str, Any]) -> list[str]:
    """Genome names of the heads, in file order.

    Args:
        params: resolved params, or just their ``model`` section.

    Returns:
        e.g. ``["human", "mouse"]`` for ``head_human`` and ``head_mouse``.
    """
    model = params.get("model", params)
    return [m.group(1) for k in model if (m := _HEAD_RE.match(k))]


def geometry(params: Mapping[str, Any], source: str = "params") -> TrunkGeometry:
    """Trunk geometry of resolved params (see :func:`crossreg.model.geometry.trunk_geometry`)."""
    return trunk_geometry(params.get("model", params), source)


def write_resolved_params(params: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write params with every default filled in, as JSON, atomically.

    Args:
        params: raw or resolved params (resolved again, so invalid params are never written).
        path: the output file, or a directory (a model directory) to write ``params.json`` in.

    Returns:
        The file written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "params.json"
    resolved = resolve_params(params, source=str(path))
    with atomic_open(path, "w") as out:
        json.dump(resolved, out, indent=2)
        out.write("\n")
    return path


def schema_text() -> str:
    """Documentation of every params key: model, train, each registered block.

    Returns:
        Plain text, one table per section/block (key, type, default, meaning).
    """
    from crossreg.model.registry import _REGISTRY

    parts = ["[model]", keys_doc(MODEL_KEYS), "trunk              list     required         trunk blocks, below",
             "head_<genome>      object   required         one head per genome, below", "", "[train]",
             keys_doc(TRAIN_KEYS)]
    for name, spec in sorted(_REGISTRY.items()):
        parts += ["", f"[{spec.role} block {name}] {spec.doc}", keys_doc(spec.keys)]
    return "\n".join(parts)
