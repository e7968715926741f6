"""Keras layers of the model that are not Keras' own.

:class:`BatchNormalization` is ``keras.layers.BatchNormalization`` (same weights, same
config, same results) with one fast path: in training mode on the TensorFlow backend it
normalises with TensorFlow's fused batch-norm kernel (one op forward, one backward, oneDNN
on CPU, cuDNN on GPU) instead of Keras' composition of moments, subtractions and
multiplications (about a dozen element-wise passes over the activations each way). On a
2-core CPU that makes the params_small train step about 10% faster
(``benchmarks/bench_train.py``). Under XLA the opposite holds (XLA fuses Keras' element-wise
composition into the convolutions around it, and its own lowering of the fused op makes the
params_full step about 30% slower), so the fast path is off unless a caller switches it on
with :func:`fused_batch_norm` while tracing a step that TensorFlow runs without XLA, as
:class:`crossreg.train.backend.TensorFlowRunner` does. Every other case (JAX, XLA, inference,
a frozen layer, masks, renormalisation, synchronised statistics, inputs that are not
``[batch, length, channels]``) runs Keras' own code, and ``tests/test_model.py`` checks the
fast path against it: outputs, gradients and moving statistics.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras
from keras import ops

_fused_enabled = False


@contextlib.contextmanager
def fused_batch_norm(enabled: bool) -> Iterator[None]:
    """Let :class:`BatchNormalization` layers called inside use TensorFlow's fused kernel in training.

    Args:
        enabled: switch the fast path on (True) or off (False) for the calls made inside.
    """
    global _fused_enabled
    before, _fused_enabled = _fused_enabled, bool(enabled)
    try:
        yield
    finally:
        _fused_enabled = before


@keras.saving.register_keras_serializable(package="crossreg")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` with TensorFlow's fused kernel in training (see module docstring)."""

    def _fused_path_applies(self, inputs, training, mask) -> bool:
        return (
            _fused_enabled
            and bool(training)
            and self.trainable
            and mask is None
            and not self.renorm
            and not self.synchronized
            and self.scale
            and self.center
            and len(inputs.shape) == 3
            and self.axis in (-1, 2)
            and keras.backend.backend() == "tensorflow"
        )

    def call(self, inputs, training=None, mask=None):
        """Normalise ``[batch, length, channels]`` over batch and length, per channel.

        Args:
            inputs: ``[batch, length, channels]`` (any float dtype; computed in float32).
            training: batch statistics (and moving-average updates) when true.
            mask: optional ``[batch, length]`` mask (Keras' path).

        Returns:
            ``[batch, length, channels]`` in the layer's compute dtype.
        """
        if not self._fused_path_applies(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = ops.cast(inputs, "float32")
        y, mean, corrected_variance = tf.compat.v1.nn.fused_batch_norm(
            tf.expand_dims(x, 2),  # NHWC with W = 1
            ops.cast(self.gamma, "float32"),
            ops.cast(self.beta, "float32"),
            epsilon=self.epsilon,
            data_format="NHWC",
            is_training=True,
        )[:3]
        # the kernel normalises with the biased batch variance but returns the unbiased one;
        # Keras' moving average takes the biased one
        count = ops.cast(ops.shape(x)[0] * ops.shape(x)[1], "float32")
        variance = corrected_variance * ops.maximum(count - 1.0, 0.0) / count
        momentum = self.momentum
        self.moving_mean.assign(
            ops.cast(self.moving_mean, "float32") * momentum + ops.stop_gradient(mean) * (1.0 - momentum)
        )
        self.moving_variance.assign(
            ops.cast(self.moving_variance, "float32") * momentum + ops.stop_gradient(variance) * (1.0 - momentum)
        )
        return ops.cast(tf.squeeze(y, 2), self.compute_dtype)


@keras.saving.register_keras_serializable(package="crossreg")
class MaxPooling1D(keras.layers.MaxPooling1D):
    """``keras.layers.MaxPooling1D`` (same config, same outputs) computed as element-wise maxima on JAX.

    When the windows tile the input exactly (``strides == pool_size``, channels last, a
    length divisible by the pool size: every pooling of the Basenji trunks), the JAX
    backend's ``reduce_window`` lowering is replaced by the element-wise maximum of the
    ``pool`` strided slices ``x[:, k::pool]``, whose gradient is an element-wise mask instead
    of XLA's select-and-scatter (on an H100 the forward + backward of a bf16
    ``[16, 131,072, 288]`` pooling takes 1.15 ms instead of 6.9 ms; a reshape + max form took
    1.6 ms, and gave NaN gradients under ``--xla_backend_optimization_level=0`` on CPU). Outputs are identical; the gradient differs only where a
    window holds two equal maxima (split instead of routed to one). TensorFlow and every
    other case run Keras' own code.
    """

    def _tiles(self, inputs) -> bool:
        length = inputs.shape[1]
        pool = self.pool_size[0]
        return (
            keras.backend.backend() == "jax"
            and self.data_format == "channels_last"
            and self.strides[0] == pool
            and len(inputs.shape) == 3
            and length is not None
            and length % pool == 0
        )

    def call(self, inputs):
        """``[batch, length, channels]`` -> ``[batch, length // pool_size, channels]``."""
        if not self._tiles(inputs):
            return super().call(inputs)
        pool = self.pool_size[0]
        out = inputs[:, 0::pool]
        for k in range(1, pool):
            out = ops.maximum(out, inputs[:, k::pool])
        return out
