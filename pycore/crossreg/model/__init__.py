"""The crossreg network: a shared convolutional trunk and one output head per genome.

Re-implements Basenji2 (Kelley et al. 2020) / calico/baskerville from a params JSON with a
``model`` and a ``train`` section (the paper's own params files read unchanged).

Params handling (:mod:`.params`, :mod:`.registry`, :mod:`.geometry`) needs no deep-learning
backend; everything else imports Keras on first use (``KERAS_BACKEND`` = ``tensorflow``, the
default, or ``jax``).

Public API::

    load_params(path) -> dict                        # validated, every default filled in
    resolve_params(raw, source="params") -> dict
    write_resolved_params(params, path) -> Path
    head_genomes(params) -> list[str]
    geometry(params) -> TrunkGeometry                # seq -> positions -> crop -> bins
    build_model(params, seed=None) -> MultiHeadModel # .trunk, .heads, .model_for(genome)
    describe_model(params) -> str                    # crossreg describe-model PARAMS
    poisson_loss(y_true, y_pred) / PoissonLoss()     # keras.ops
    PearsonAccumulator(num_tracks=None)              # streaming per-track R, R^2
    save_model(model, model_dir) / load_model(model_dir)
    register_block(BlockSpec(...))                   # add a block type
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from crossreg.model.geometry import TrunkGeometry, trunk_geometry
from crossreg.model.metrics import PearsonAccumulator
from crossreg.model.params import (
    MODEL_KEYS,
    TRAIN_KEYS,
    geometry,
    head_genomes,
    load_params,
    resolve_params,
    schema_text,
    write_resolved_params,
)
from crossreg.model.registry import BlockSpec, block_names, register_block

# Names whose modules import Keras: loaded on first access.
_LAZY = {
    "build_model": "network",
    "build_trunk": "network",
    "build_head": "network",
    "MultiHeadModel": "network",
    "ParamCounts": "network",
    "describe_model": "describe",
    "poisson_loss": "losses",
    "poisson_nll": "losses",
    "PoissonLoss": "losses",
    "save_model": "checkpoint",
    "load_model": "checkpoint",
}

__all__ = [
    "MODEL_KEYS",
    "PearsonAccumulator",
    "TRAIN_KEYS",
    "BlockSpec",
    "TrunkGeometry",
    "block_names",
    "geometry",
    "head_genomes",
    "load_params",
    "register_block",
    "resolve_params",
    "schema_text",
    "trunk_geometry",
    "write_resolved_params",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f"crossreg.model.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'crossreg.model' has no attribute {name!r}")
