"""Poisson loss in ``keras.ops`` (works with the TensorFlow and JAX backends).

For predictions ``p`` and targets ``y``, both ``[batch, bins, tracks]`` (the centre bins the
model predicts; targets cropped to them beforehand)::

    loss = mean over batch and bins of ( sum over tracks of ( p - y * log(p + eps) ) )

i.e. the Poisson negative log-likelihood without the ``log(y!)`` term (constant in ``p``),
summed over tracks and averaged over bins and sequences. ``keras.losses.Poisson`` (used by
basenji) *averages* over tracks instead, so it equals this loss divided by the number of
tracks: the gradients point the same way, scaled by ``1 / tracks``.
"""

from __future__ import annotations

import keras
from keras import ops

#: Added to predictions inside the log (Keras' backend epsilon, as ``keras.losses.Poisson``).
EPS = 1e-7


def poisson_nll(y_true, y_pred, eps: float = EPS):
    """Per-sequence Poisson loss.

    Args:
        y_true: targets ``[batch, bins, tracks]`` (any float dtype; cast to ``y_pred``'s).
        y_pred: non-negative predictions ``[batch, bins, tracks]``.
        eps: added to predictions inside the log.

    Returns:
        ``[batch]``: for each sequence, the mean over bins of the sum over tracks of
        ``y_pred - y_true * log(y_pred + eps)``.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    per_value = y_pred - y_true * ops.log(y_pred + eps)
    return ops.mean(ops.sum(per_value, axis=-1), axis=-1)


def poisson_loss(y_true, y_pred, eps: float = EPS):
    """Poisson loss of a batch (see module docstring).

    Args:
        y_true: targets ``[batch, bins, tracks]``.
        y_pred: predictions ``[batch, bins, tracks]``.
        eps: added to predictions inside the log.

    Returns:
        Scalar: the mean over sequences of :func:`poisson_nll`.
    """
    return ops.mean(poisson_nll(y_true, y_pred, eps))


@keras.saving.register_keras_serializable(package="crossreg")
class PoissonLoss(keras.losses.Loss):
    """:func:`poisson_loss` as a Keras loss for ``model.compile``.

    ``call`` returns the per-sequence values ``[batch]``; the default reduction
    ``sum_over_batch_size`` averages them, giving :func:`poisson_loss` (sample weights, if
    any, weight sequences).

    Args:
        eps: added to predictions inside the log.
        name: loss name.
        reduction: Keras reduction.
    """

    def __init__(self, eps: float = EPS, name: str = "poisson", reduction: str = "sum_over_batch_size", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.eps = eps

    def call(self, y_true, y_pred):
        """``[batch, bins, tracks]`` x 2 -> ``[batch]``."""
        return poisson_nll(y_true, y_pred, self.eps)

    def get_config(self) -> dict:
        """Serialisable config."""
        return {**super().get_config(), "eps": self.eps}
