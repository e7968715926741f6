"""Streaming per-track Pearson R and R^2 over all bins of all batches (float64 NumPy).

:class:`PearsonAccumulator` keeps, per track, the count and the sums of targets,
predictions, their squares and their cross products, so that after any number of
:meth:`~PearsonAccumulator.update` calls :meth:`~PearsonAccumulator.pearson_r` equals
``np.corrcoef`` of all values of that track seen so far (every bin of every sequence of
every batch pooled), as baskerville's ``PearsonR`` metric. Values are shifted by the first
batch's per-track target mean before summing, which keeps the float64 sums well
conditioned; Pearson R and R^2 do not change under a common shift.

Inputs may be NumPy arrays or tensors of any Keras backend (converted with ``np.asarray``).
"""

from __future__ import annotations

import numpy as np


def _to_numpy(x) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):  # e.g. a tensor type that needs an explicit conversion
        import keras

        return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


class PearsonAccumulator:
    """Accumulate per-track sums for Pearson R and R^2.

    Args:
        num_tracks: expected number of tracks (last axis); None takes it from the first update.
    """

    def __init__(self, num_tracks: int | None = None) -> None:
        self.num_tracks = num_tracks
        self.reset()

    def reset(self) -> None:
        """Forget everything accumulated."""
        self.count = 0
        self._shift: np.ndarray | None = None
        self._sums: dict[str, np.ndarray] = {}

    def update(self, y_true, y_pred) -> None:
        """Add a batch.

        Args:
            y_true: targets ``[..., tracks]`` (e.g. ``[batch, bins, tracks]``).
            y_pred: predictions, same shape.

        Raises:
            ValueError: shapes differ, or the number of tracks changes.
        """
        y = _to_numpy(y_true)
        p = _to_numpy(y_pred)
        if y.shape != p.shape:
            raise ValueError(f"targets {y.shape} and predictions {p.shape} differ in shape")
        tracks = y.shape[-1]
        if self.num_tracks is None:
            self.num_tracks = tracks
        if tracks != self.num_tracks:
            raise ValueError(f"expected {self.num_tracks} tracks, got {tracks}")
        y = y.reshape(-1, tracks)
        p = p.reshape(-1, tracks)
        if y.shape[0] == 0:
            return
        if self._shift is None:
            self._shift = y.mean(axis=0)
            self._sums = {k: np.zeros(tracks) for k in ("y", "p", "yy", "pp", "yp")}
        y = y - self._shift
        p = p - self._shift
        s = self._sums
        s["y"] += y.sum(axis=0)
        s["p"] += p.sum(axis=0)
        s["yy"] += np.einsum("ij,ij->j", y, y)
        s["pp"] += np.einsum("ij,ij->j", p, p)
        s["yp"] += np.einsum("ij,ij->j", y, p)
        self.count += y.shape[0]

    def _centred(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.count == 0:
            raise ValueError("no values accumulated")
        n, s = self.count, self._sums
        var_y = s["yy"] - s["y"] ** 2 / n
        var_p = s["pp"] - s["p"] ** 2 / n
        cov = s["yp"] - s["y"] * s["p"] / n
        return var_y, var_p, cov

    def pearson_r(self) -> np.ndarray:
        """Pearson R per track, ``[tracks]`` float64 (NaN where a track is constant)."""
        var_y, var_p, cov = self._centred()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = cov / np.sqrt(var_y * var_p)
        return np.where((var_y > 0) & (var_p > 0), r, np.nan)

    def r2(self) -> np.ndarray:
        """Coefficient of determination per track, ``1 - SS_res / SS_tot``, ``[tracks]`` float64.

        NaN where the targets of a track are constant.
        """
        var_y, _, _ = self._centred()
        s = self._sums
        ss_res = s["yy"] - 2 * s["yp"] + s["pp"]
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = 1.0 - ss_res / var_y
        return np.where(var_y > 0, r2, np.nan)
