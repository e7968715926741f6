"""Compiled train and predict steps for the TensorFlow and JAX Keras backends.

A runner owns one compiled train step and one predict step per genome, each over that
genome's model (the shared trunk and its head, :meth:`MultiHeadModel.model_for`):

* train step ``(genome, x [batch, seq_length, 4], y [batch, bins, tracks]) -> loss``:
  forward in training mode (dropout on, batch-norm batch statistics and moving averages
  updated), Poisson loss (:func:`crossreg.model.poisson_loss`) plus any weight
  regularisation, gradients of the trunk and that head only, one optimiser update of
  exactly those variables;
* predict step ``(genome, x, y) -> (predictions [batch, bins, tracks], loss per sequence
  [batch])`` in inference mode.

TensorFlow: ``tf.function`` per step, XLA-compiled when ``jit_compile`` (by default for
large steps and on GPUs, see :func:`auto_jit_compile`). The same seed gives the same
weights: XLA's CPU code is deterministic, and without XLA TensorFlow's op determinism is
switched on (it is switched off for XLA steps, which it would reject).

JAX: a ``jax.jit``-compiled pure function over the variable values (``stateless_call`` and
the optimiser applied inside a ``StatelessScope``), whose results are written back to the
Keras variables after each step, so the model object is always current on both backends.

:func:`configure_xla_cpu` selects XLA's memory-minimising scheduler on CPU for large steps
(the concurrency-optimised default holds about 1 GB more temporaries in a train step of the
full model); it must run before the first XLA compilation of the process to take effect.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping, Sequence

import keras
import numpy as np

from crossreg.model.layers import fused_batch_norm
from crossreg.model.losses import poisson_loss, poisson_nll
from crossreg.model.registry import get_block

log = logging.getLogger(__name__)

XLA_SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


#: Steps whose :func:`trunk_activation_bytes` exceed this are "large": XLA-compiled by default
#: on TensorFlow (:func:`auto_jit_compile`), with XLA's memory-minimising CPU scheduler.
LARGE_STEP_BYTES = 160 * 2**20


def trunk_activation_bytes(params: Mapping[str, Any]) -> int:
    """Rough size of one train step's trunk activations: sum over blocks of input length x output channels.

    Args:
        params: resolved params (``train.batch_size`` and the ``model`` trunk).

    Returns:
        ``4 * batch_size * sum(length_in * channels_out)`` bytes (float32), the block outputs
        before pooling.
    """
    model = params["model"]
    length, channels, total = model["seq_length"], 4, 0
    for i, cfg in enumerate(model["trunk"]):
        where = f"model.trunk[{i}]"
        out_length, channels = get_block(cfg, "trunk", "params", where).shape(cfg, length, channels, "params", where)
        total += length * channels
        length = out_length
    return 4 * int(params["train"]["batch_size"]) * total


def configure_xla_cpu(params: Mapping[str, Any]) -> bool:
    """Pick XLA's CPU scheduler for the step size (unless ``XLA_FLAGS`` already chooses).

    Large steps (long sequences; :func:`trunk_activation_bytes` above
    :data:`LARGE_STEP_BYTES`, e.g. the paper's 131,072 bp at batch 1) get the
    memory-minimising scheduler (``--xla_cpu_enable_concurrency_optimized_scheduler=false``):
    the concurrency-optimised default holds about 1 GB more temporaries for params_full, for
    little speed; smaller steps keep the default, which runs their many small operations
    concurrently and is about twice as fast for params_small. XLA reads ``XLA_FLAGS`` once,
    at its first compilation in the process (JAX: when its backend starts), so this must run
    before that and only the first call of a process has an effect.

    Args:
        params: resolved params.

    Returns:
        Whether the memory-minimising scheduler was requested.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if XLA_SCHEDULER_FLAG in flags or trunk_activation_bytes(params) <= LARGE_STEP_BYTES:
        return False
    os.environ["XLA_FLAGS"] = f"{flags} {XLA_SCHEDULER_FLAG}=false".strip()
    return True


def auto_jit_compile(params: Mapping[str, Any]) -> bool:
    """Whether to XLA-compile the steps when the caller does not say.

    JAX always compiles. On TensorFlow XLA pays off for large steps (it fuses the element-wise
    work around the convolutions of long sequences: params_full trains about 1.6x faster and
    in less memory) and on GPUs; for small CPU steps TensorFlow's own (oneDNN) kernels are
    about 10% faster (params_small at batch 4) and need no compilation.

    Args:
        params: resolved params.

    Returns:
        True for XLA.
    """
    if backend_name() != "tensorflow":
        return True
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU")) or trunk_activation_bytes(params) > LARGE_STEP_BYTES


def backend_name() -> str:
    """The Keras backend in use: ``"tensorflow"`` or ``"jax"``."""
    return keras.backend.backend()


class StepRunner:
    """Compiled steps of every trained genome (see module docstring).

    Args:
        model: the :class:`~crossreg.model.network.MultiHeadModel`.
        optimizer: a built optimiser over the union of the trained variables.
        genomes: genomes with a train step.
        jit_compile: XLA-compile the steps (TensorFlow; JAX compiles unless False).
    """

    def __init__(self, model, optimizer, genomes: Sequence[str], jit_compile: bool = True) -> None:
        self.model = model
        self.optimizer = optimizer
        self.genomes = list(genomes)
        self.jit_compile = bool(jit_compile)

    def train_step(self, genome: str, x: np.ndarray, y: np.ndarray) -> float:
        """One optimiser step on one genome's batch.

        Args:
            genome: whose head is trained (with the trunk).
            x: float32 ``[batch, seq_length, 4]``.
            y: float32 ``[batch, bins, tracks]`` (cropped to the output bins).

        Returns:
            The batch's Poisson loss (before the update, regularisation excluded).
        """
        raise NotImplementedError

    def predict(self, genome: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inference-mode predictions and per-sequence Poisson loss.

        Args:
            genome: which head.
            x: float32 ``[batch, seq_length, 4]``.
            y: float32 ``[batch, bins, tracks]``.

        Returns:
            ``(predictions float32 [batch, bins, tracks], loss float64 [batch])``.
        """
        raise NotImplementedError


class TensorFlowRunner(StepRunner):
    """``tf.function`` steps: XLA-compiled when ``jit_compile``, else TensorFlow kernels with op determinism."""

    def __init__(self, model, optimizer, genomes: Sequence[str], jit_compile: bool = True) -> None:
        super().__init__(model, optimizer, genomes, jit_compile)
        import tensorflow as tf
        from tensorflow.python.framework import config as tf_config

        self._tf = tf
        self._tf_config = tf_config
        self._train: dict[str, Callable] = {}
        self._predict: dict[str, Callable] = {}
        for genome in self.genomes:
            self._train[genome] = tf.function(self._make_train(genome), jit_compile=self.jit_compile, autograph=False)
        for genome in model.genomes:
            self._predict[genome] = tf.function(self._make_predict(genome), jit_compile=self.jit_compile, autograph=False)

    def _make_train(self, genome: str):
        tf = self._tf
        sub = self.model.model_for(genome)
        variables = list(sub.trainable_variables)
        optimizer = self.optimizer

        # TensorFlow's fused batch-norm kernel pays off without XLA only (crossreg.model.layers)
        fused = not self.jit_compile

        def step(x, y):
            with tf.GradientTape() as tape, fused_batch_norm(fused):
                pred = sub(x, training=True)
                loss = poisson_loss(y, pred)
                total = loss
                for extra in sub.losses:
                    total = total + extra
            grads = tape.gradient(total, variables)
            optimizer.apply(grads, variables)
            return loss

        return step

    def _make_predict(self, genome: str):
        sub = self.model.model_for(genome)

        def predict(x, y):
            pred = sub(x, training=False)
            return pred, poisson_nll(y, pred)

        return predict

    def _set_determinism(self) -> None:
        # On for plain TensorFlow kernels; off for XLA, whose CPU code is deterministic
        # already and which TensorFlow's switch would refuse (no "deterministic" MaxPool
        # gradient for XLA). The switch is process-wide, so it is set before every call.
        want = not self.jit_compile
        if self._tf_config.is_op_determinism_enabled() != want:
            if want:
                self._tf.config.experimental.enable_op_determinism()
            else:
                self._tf_config.disable_op_determinism()

    def train_step(self, genome: str, x: np.ndarray, y: np.ndarray) -> float:
        self._set_determinism()
        return float(self._train[genome](self._tf.constant(x), self._tf.constant(y)))

    def predict(self, genome: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._set_determinism()
        pred, loss = self._predict[genome](self._tf.constant(x), self._tf.constant(y))
        return pred.numpy(), loss.numpy().astype(np.float64)


class JaxRunner(StepRunner):
    """``jax.jit`` pure steps; results written back to the Keras variables after each step."""

    def __init__(self, model, optimizer, genomes: Sequence[str], jit_compile: bool = True) -> None:
        super().__init__(model, optimizer, genomes, jit_compile)
        import jax

        self._jax = jax
        self._train: dict[str, tuple] = {}
        self._predict: dict[str, tuple] = {}
        for genome in self.genomes:
            self._train[genome] = self._make_train(genome)
        for genome in model.genomes:
            self._predict[genome] = self._make_predict(genome)

    def _make_train(self, genome: str):
        jax = self._jax
        sub = self.model.model_for(genome)
        tv = list(sub.trainable_variables)
        ntv = list(sub.non_trainable_variables)
        optimizer = self.optimizer
        opt_vars = list(optimizer.variables)

        def loss_fn(tv_values, ntv_values, x, y):
            pred, new_ntv, losses = sub.stateless_call(tv_values, ntv_values, x, training=True, return_losses=True)
            loss = poisson_loss(y, pred)
            total = loss
            for extra in losses:
                total = total + extra
            return total, (loss, new_ntv)

        def step(tv_values, ntv_values, opt_values, x, y):
            (_, (loss, new_ntv)), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv_values, ntv_values, x, y)
            mapping = list(zip(tv, tv_values)) + list(zip(opt_vars, opt_values))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                optimizer.apply(grads, tv)
            new_tv = [scope.get_current_value(v) for v in tv]
            new_opt = [scope.get_current_value(v) for v in opt_vars]
            return loss, new_tv, new_ntv, new_opt

        fn = jax.jit(step, donate_argnums=(0, 1, 2)) if self.jit_compile else step
        return fn, tv, ntv, opt_vars

    def _make_predict(self, genome: str):
        jax = self._jax
        sub = self.model.model_for(genome)
        tv = list(sub.trainable_variables)
        ntv = list(sub.non_trainable_variables)

        def predict(tv_values, ntv_values, x, y):
            pred, _ = sub.stateless_call(tv_values, ntv_values, x, training=False)
            return pred, poisson_nll(y, pred)

        fn = jax.jit(predict) if self.jit_compile else predict
        return fn, tv, ntv

    def train_step(self, genome: str, x: np.ndarray, y: np.ndarray) -> float:
        fn, tv, ntv, opt_vars = self._train[genome]
        loss, new_tv, new_ntv, new_opt = fn(
            [v.value for v in tv], [v.value for v in ntv], [v.value for v in opt_vars], x, y
        )
        for variables, values in ((tv, new_tv), (ntv, new_ntv), (opt_vars, new_opt)):
            for variable, value in zip(variables, values):
                variable.assign(value)
        return float(loss)

    def predict(self, genome: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fn, tv, ntv = self._predict[genome]
        pred, loss = fn([v.value for v in tv], [v.value for v in ntv], x, y)
        return np.asarray(pred), np.asarray(loss, dtype=np.float64)


def make_runner(model, optimizer, genomes: Sequence[str], jit_compile: bool | None = None) -> StepRunner:
    """The runner of the active Keras backend.

    Args:
        model: the MultiHeadModel.
        optimizer: built optimiser over the trained variables.
        genomes: genomes to build train steps for.
        jit_compile: XLA compilation; None: :func:`auto_jit_compile` of the model's params.

    Returns:
        A :class:`TensorFlowRunner` or :class:`JaxRunner`.

    Raises:
        RuntimeError: another Keras backend is active.
    """
    jit = auto_jit_compile(model.params) if jit_compile is None else bool(jit_compile)
    name = backend_name()
    if name == "tensorflow":
        return TensorFlowRunner(model, optimizer, genomes, jit)
    if name == "jax":
        return JaxRunner(model, optimizer, genomes, jit)
    raise RuntimeError(f"the trainer supports the tensorflow and jax Keras backends, not {name!r}")
