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
