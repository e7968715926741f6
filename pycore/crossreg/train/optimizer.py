"""The optimiser from the params' ``train`` section: SGD with momentum (paper) or Adam.

One Keras optimiser is built over the union of the trainable variables being trained (the
trunk and every trained head). Each step applies gradients to a *subset*, the trunk and
one head, exactly as baskerville's multi-genome trainer applies one model's gradients:
Keras optimisers update only the variables (and slot variables such as momentum) they are
given, so a head that got no gradient in a step does not move, momentum included. The
step counter (``iterations``), hence the warm-up and Adam's bias correction, counts every
step of every genome.

Gradient clipping follows the params: ``clip_norm`` clips each weight's gradient to that
L2 norm (Keras ``clipnorm``, as basenji), ``global_clipnorm`` the global norm of the
gradients of the step (trunk and the step's head).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras


@keras.saving.register_keras_serializable(package="crossreg")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to a constant learning rate.

    ``lr(step) = peak * min(1, (step + 1) / warmup_steps)`` for the 0-based optimiser step.

    Args:
        peak: learning rate after the warm-up.
        warmup_steps: steps of the warm-up (> 0).
    """

    def __init__(self, peak: float, warmup_steps: int) -> None:
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        """Scalar learning rate at ``step`` (a scalar tensor)."""
        step = keras.ops.cast(step, "float32")
        frac = keras.ops.minimum(1.0, (step + 1.0) / float(self.warmup_steps))
        return self.peak * frac

    def get_config(self) -> dict:
        """Serialisable config."""
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


def build_optimizer(train: Mapping[str, Any], variables: Sequence) -> keras.optimizers.Optimizer:
    """Build the optimiser and its slot variables.

    Args:
        train: the resolved ``train`` section (optimizer, learning_rate, momentum, beta_1,
            beta_2, adam_eps, clip_norm, global_clipnorm, warmup_steps).
        variables: every trainable variable that any step will update (trunk + heads).

    Returns:
        A built ``keras.optimizers.SGD`` or ``keras.optimizers.Adam``.
    """
    lr: Any = float(train["learning_rate"])
    if train["warmup_steps"]:
        lr = WarmupSchedule(lr, train["warmup_steps"])
    clip = {}
    if train["clip_norm"] is not None:
        clip["clipnorm"] = float(train["clip_norm"])
    if train["global_clipnorm"] is not None:
        clip["global_clipnorm"] = float(train["global_clipnorm"])
    if train["optimizer"] == "adam":
        opt = keras.optimizers.Adam(
            learning_rate=lr, beta_1=train["beta_1"], beta_2=train["beta_2"], epsilon=train["adam_eps"], **clip
        )
    else:
        opt = keras.optimizers.SGD(learning_rate=lr, momentum=train["momentum"], **clip)
    opt.build(list(variables))
    return opt
