"""Evaluation of a whole split: Poisson loss and per-track Pearson R over all its bins.

Windows are read in file order without augmentation and predicted in inference mode.
Pearson R pools every bin of every window per track (:class:`PearsonAccumulator`, as
baskerville's ``PearsonR``), never an average of per-batch values. The loss is the mean
over windows of :func:`crossreg.model.losses.poisson_nll`. A last, smaller batch is padded
to the batch size (and the padding dropped from the results) so that compiled predict
steps see one shape only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from crossreg.data.reader import ShardSplit
from crossreg.model.metrics import PearsonAccumulator
from crossreg.train.augment import crop_targets

#: ``predict(x [batch, seq_length, 4], y [batch, bins, tracks]) -> (pred, loss [batch])``.
PredictFn = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]


@dataclass
class SplitEvaluation:
    """Result of :func:`evaluate_split`.

    Attributes:
        loss: mean Poisson loss per window.
        pearson: per-track Pearson R over all bins, float64 ``[tracks]`` (NaN for a
            constant track).
        r2: per-track R^2, float64 ``[tracks]``.
        windows: windows evaluated.
    """

    loss: float
    pearson: np.ndarray
    r2: np.ndarray
    windows: int

    @property
    def pearson_mean(self) -> float:
        """Mean Pearson R over tracks (NaN tracks skipped; NaN when all are)."""
        finite = self.pearson[np.isfinite(self.pearson)]
        return float(finite.mean()) if finite.size else float("nan")


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    if array.shape[0] == size:
        return array
    pad = np.zeros((size - array.shape[0], *array.shape[1:]), dtype=array.dtype)
    return np.concatenate([array, pad])


def evaluate_split(predict: PredictFn, split: ShardSplit, batch_size: int, target_crop: int = 0) -> SplitEvaluation:
    """Loss and Pearson R of a model over a whole split.

    Args:
        predict: the genome's predict function (see :data:`PredictFn`).
        split: e.g. ``ShardSplit(manifest, "valid")``.
        batch_size: windows per predict call.
        target_crop: bins cropped from each end of the stored targets.

    Returns:
        The :class:`SplitEvaluation`.

    Raises:
        ValueError: the split is empty.
    """
    acc = PearsonAccumulator()
    total, count = 0.0, 0
    for batch in split.batches(batch_size, shuffle=False):
        n = batch.sequence.shape[0]
        y = np.ascontiguousarray(crop_targets(batch.targets, target_crop))
        pred, loss = predict(_pad(batch.sequence, batch_size), _pad(y, batch_size))
        pred, loss = pred[:n], np.asarray(loss, dtype=np.float64)[:n]
        acc.update(y, pred)
        total += float(loss.sum())
        count += n
    if count == 0:
        raise ValueError(f"split {split.split} of {split.manifest_path} has no windows")
    return SplitEvaluation(total / count, acc.pearson_r(), acc.r2(), count)


class KerasPredictor:
    """A :data:`PredictFn` from a model, without the trainer's compiled steps.

    Args:
        model: a :class:`~crossreg.model.network.MultiHeadModel`.
        genome: which head.
    """

    def __init__(self, model, genome: str) -> None:
        self.model = model.model_for(genome)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``([batch, seq_length, 4], [batch, bins, tracks]) -> (pred, loss [batch])``."""
        from crossreg.model.losses import poisson_nll

        pred = self.model(x, training=False)
        loss = poisson_nll(y, pred)
        return _numpy(pred), _numpy(loss).astype(np.float64)


def _numpy(tensor) -> np.ndarray:
    """A backend tensor as a NumPy array (TensorFlow tensors via ``.numpy()``, JAX arrays via ``np.asarray``)."""
    return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor)
