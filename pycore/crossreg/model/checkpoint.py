"""A model directory: ``params.json`` (resolved) next to ``model.weights.h5``.

Both files are written atomically; the weights load under either Keras backend.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from crossreg.errors import InputError
from crossreg.model.params import write_resolved_params

PARAMS_NAME = "params.json"
WEIGHTS_NAME = "model.weights.h5"


def save_model(model, model_dir: str | os.PathLike) -> Path:
    """Write resolved params and all weights (trunk and every head) into a directory.

    Args:
        model: a :class:`~crossreg.model.network.MultiHeadModel`.
        model_dir: output directory (created if needed).

    Returns:
        The directory.
    """
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    # Keras insists on the .weights.h5 suffix, so write into a private temporary
    # directory beside the target and rename from there.
    tmp_dir = Path(tempfile.mkdtemp(prefix=".weights.", dir=model_dir))
    try:
        model.save_weights(tmp_dir / WEIGHTS_NAME)
        os.replace(tmp_dir / WEIGHTS_NAME, model_dir / WEIGHTS_NAME)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    write_resolved_params(model.params, model_dir / PARAMS_NAME)
    return model_dir


def load_model(model_dir: str | os.PathLike):
    """Rebuild a model from a directory written by :func:`save_model`.

    Args:
        model_dir: the directory.

    Returns:
        The :class:`~crossreg.model.network.MultiHeadModel` with its saved weights.

    Raises:
        InputError: a file is missing or the params are invalid.
    """
    from crossreg.model.network import build_model

    model_dir = Path(model_dir)
    for name in (PARAMS_NAME, WEIGHTS_NAME):
        if not (model_dir / name).is_file():
            raise InputError(f"{model_dir / name}: missing; a model directory holds {PARAMS_NAME} and {WEIGHTS_NAME}")
    model = build_model(model_dir / PARAMS_NAME)
    model.load_weights(model_dir / WEIGHTS_NAME)
    return model


def params_digest(params: dict) -> str:
    """SHA-256 of resolved params as canonical JSON (sorted keys, no spaces): the model's identity in outputs."""
    import hashlib
    import json

    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ModelDirectory:
    """What a model directory holds, read without Keras: resolved params, geometry, tracks per head.

    Args:
        model_dir: a directory written by :func:`save_model`.

    Attributes:
        path: the directory; ``params_path`` its params.json.
        params: resolved params.
        geometry: the trunk's :class:`~crossreg.model.geometry.TrunkGeometry`.
        head_tracks: ``{genome: output tracks}`` of every head, in params order.
        params_sha256: :func:`params_digest` of the params.

    Raises:
        InputError: a missing params or weights file, or invalid params.
    """

    def __init__(self, model_dir: str | os.PathLike) -> None:
        from crossreg.model import geometry as model_geometry
        from crossreg.model import head_genomes, load_params
        from crossreg.model.registry import get_block

        self.path = Path(model_dir)
        for name in (PARAMS_NAME, WEIGHTS_NAME):
            if not (self.path / name).is_file():
                raise InputError(f"{self.path / name}: missing; a model directory holds {PARAMS_NAME} and {WEIGHTS_NAME}")
        self.params_path = self.path / PARAMS_NAME
        self.params = load_params(self.params_path)
        self.geometry = model_geometry(self.params, str(self.params_path))
        self.head_tracks: dict[str, int] = {}
        for genome in head_genomes(self.params):
            cfg = self.params["model"][f"head_{genome}"]
            where = f"model.head_{genome}"
            self.head_tracks[genome] = int(get_block(cfg, "head", "params", where).shape(
                cfg, self.geometry.bins, self.geometry.channels, "params", where)[1])
        self.params_sha256 = params_digest(self.params)

    @property
    def weights_path(self) -> Path:
        """The weights file."""
        return self.path / WEIGHTS_NAME

    def tracks_of(self, genome: str) -> int:
        """Output tracks of ``genome``'s head.

        Raises:
            InputError: the model has no head for ``genome`` (naming the heads it has).
        """
        if genome not in self.head_tracks:
            raise InputError(f"{self.params_path}: no head for genome {genome!r}; this model has heads for: "
                             f"{', '.join(self.head_tracks)}")
        return self.head_tracks[genome]
