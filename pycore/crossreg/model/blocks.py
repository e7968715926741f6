"""Keras builders of the registered blocks (see :mod:`crossreg.model.registry`).

Each builder has the signature ``builder(x, cfg, ctx) -> x``: ``x`` a symbolic tensor
``[batch, length, channels]``, ``cfg`` the block's resolved config, ``ctx`` a
:class:`BuildContext` that names layers uniquely and deterministically (``t1_r3_conv`` =
trunk block 1, repeat 3, convolution) and records every layer's output shape for
``describe-model``. Explicit names make a ``.weights.h5`` file independent of the process
that wrote it and of the backend (TensorFlow or JAX).

Layer order of ``conv_block`` follows baskerville, whose parameter count the reference
numbers come from: activation BEFORE the convolution, convolution without bias when a
normalisation follows, normalisation, dropout, optional residual add, max pool; the trunk
ends with one more activation (baskerville's "final activation"). The paper's text says
conv -> BN -> GELU -> max pool; that order pools activated values where this one pools
normalised pre-activations, but both have exactly the same weights (bias-free convolution,
4 BN weights per channel), so the reference parameter count is matched either way and we
follow the code that produced the reference model.

Normalisation scale (gamma) starts at 1 except in the second convolution of each
dilated-residual unit, where it starts at 0 (baskerville ``norm_gamma='zeros'``), so every
residual unit starts as the identity. (baskerville's plain conv_block passes
``gamma_initializer=None``, which tf.keras 2 turned into glorot_uniform; we use ones.)

``gelu`` is the tanh approximation, as baskerville's ``layers.activate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import keras
from keras import ops

from crossreg.model.layers import BatchNormalization, MaxPooling1D
from crossreg.model.registry import crop_pair, dilation_rates, tower_filters


@keras.saving.register_keras_serializable(package="crossreg")
def gelu_tanh(x):
    """GELU, tanh approximation (baskerville's ``gelu``): ``[...]`` -> ``[...]``."""
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable(package="crossreg")
def exp_activation(x):
    """Elementwise exponential: ``[...]`` -> ``[...]``."""
    return ops.exp(x)


_ACTIVATION_FNS: dict[str, Any] = {
    "linear": "linear",
    "relu": "relu",
    "gelu": gelu_tanh,
    "softplus": "softplus",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "exp": exp_activation,
}


def activation_fn(name: str):
    """Keras activation (name or function) for a params activation name."""
    return _ACTIVATION_FNS[name]


@dataclass
class LayerRow:
    """One row of the layer table: the layer and its output shape (batch as None)."""

    layer: keras.layers.Layer
    output_shape: tuple


@dataclass
class BuildContext:
    """Names layers under a prefix and records their output shapes.

    Attributes:
        prefix: name prefix, e.g. ``t2`` for trunk block 2.
        rows: shared list that receives a :class:`LayerRow` per layer applied.
    """

    prefix: str
    rows: list[LayerRow] = field(default_factory=list)

    def name(self, suffix: str) -> str:
        """Layer name ``<prefix>_<suffix>``."""
        return f"{self.prefix}_{suffix}"

    def child(self, suffix: str) -> "BuildContext":
        """A context for a sub-block (same rows, longer prefix)."""
        return BuildContext(self.name(suffix), self.rows)

    def apply(self, layer: keras.layers.Layer, x):
        """Apply ``layer`` to ``x`` (a tensor or list of tensors), record and return its output."""
        out = layer(x)
        self.rows.append(LayerRow(layer, tuple(out.shape)))
        return out


def _regularizer(l2: float, l1: float = 0.0):
    if l1 > 0 and l2 > 0:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l2 > 0:
        return keras.regularizers.L2(l2)
    if l1 > 0:
        return keras.regularizers.L1(l1)
    return None


def activate(x, name: str, ctx: BuildContext, suffix: str = "act"):
    """Apply activation ``name`` as a named layer (no layer for ``linear``).

    Args:
        x: ``[batch, length, channels]``.
        name: params activation name.
        ctx: build context.
        suffix: layer-name suffix.

    Returns:
        ``[batch, length, channels]``.
    """
    if name == "linear":
        return x
    return ctx.apply(keras.layers.Activation(activation_fn(name), name=ctx.name(suffix)), x)


def _conv_unit(
    x,
    ctx: BuildContext,
    *,
    filters: int,
    kernel_size: int,
    dilation_rate: int,
    activation: str,
    norm_type: str | None,
    bn_momentum: float,
    norm_gamma: str,
    l2_scale: float,
    kernel_initializer: str,
    dropout: float,
    residual: bool = False,
    pool_size: int = 1,
    pool_type: str = "max",
):
    """activation -> Conv1D -> norm -> dropout -> [add input] -> pool (baskerville conv_block)."""
    inputs = x
    x = activate(x, activation, ctx)
    x = ctx.apply(
        keras.layers.Conv1D(
            filters=filters,
            kernel_size=kernel_size,
            padding="same",
            dilation_rate=dilation_rate,
            use_bias=norm_type is None,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=_regularizer(l2_scale),
            name=ctx.name("conv"),
        ),
        x,
    )
    if norm_type == "batch":
        x = ctx.apply(
            BatchNormalization(momentum=bn_momentum, gamma_initializer=norm_gamma, name=ctx.name("bn")), x
        )
    elif norm_type == "layer":
        x = ctx.apply(keras.layers.LayerNormalization(gamma_initializer=norm_gamma, name=ctx.name("ln")), x)
    if dropout > 0:
        x = ctx.apply(keras.layers.Dropout(dropout, name=ctx.name("drop")), x)
    if residual:
        x = ctx.apply(keras.layers.Add(name=ctx.name("add")), [inputs, x])
    if pool_size > 1:
        pool_cls = MaxPooling1D if pool_type == "max" else keras.layers.AveragePooling1D
        x = ctx.apply(pool_cls(pool_size=pool_size, padding="same", name=ctx.name("pool")), x)
    return x


def _common(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("activation", "norm_type", "bn_momentum", "l2_scale", "kernel_initializer")}


def conv_block(x, cfg: dict, ctx: BuildContext):
    """Registered ``conv_block``.

    Args:
        x: ``[batch, length, channels_in]``.
        cfg: resolved conv_block config.
        ctx: build context.

    Returns:
        ``[batch, length // pool_size, filters]``.
    """
    return _conv_unit(
        x, ctx,
        filters=x.shape[-1] if cfg["filters"] is None else cfg["filters"],
        kernel_size=cfg["kernel_size"],
        dilation_rate=cfg["dilation_rate"],
        norm_gamma=cfg["norm_gamma"],
        dropout=cfg["dropout"],
        residual=cfg["residual"],
        pool_size=cfg["pool_size"],
        pool_type=cfg["pool_type"],
        **_common(cfg),
    )


def conv_tower(x, cfg: dict, ctx: BuildContext):
    """Registered ``conv_tower``: one conv_block per entry of ``tower_filters(cfg)``.

    Args:
        x: ``[batch, length, channels_in]``.
        cfg: resolved conv_tower config.
        ctx: build context.

    Returns:
        ``[batch, length // pool_size**repeat, tower_filters(cfg)[-1]]``.
    """
    for i, filters in enumerate(tower_filters(cfg)):
        x = _conv_unit(
            x, ctx.child(f"r{i}"),
            filters=filters,
            kernel_size=cfg["kernel_size"],
            dilation_rate=cfg["dilation_rate"],
            norm_gamma="ones",
            dropout=cfg["dropout"],
            pool_size=cfg["pool_size"],
            pool_type=cfg["pool_type"],
            **_common(cfg),
        )
    return x


def dilated_residual(x, cfg: dict, ctx: BuildContext):
    """Registered ``dilated_residual``.

    Each repeat: conv_block(filters, width kernel_size, dilation d, gamma 1) ->
    conv_block(input channels, width 1, gamma 0, dropout) -> add the repeat's input.
    With BN gamma 0 every residual unit starts as the identity.

    Args:
        x: ``[batch, length, channels]``.
        cfg: resolved dilated_residual config.
        ctx: build context.

    Returns:
        ``[batch, length, channels]``.
    """
    channels = x.shape[-1]
    for i, rate in enumerate(dilation_rates(cfg)):
        rctx = ctx.child(f"r{i}")
        y = _conv_unit(
            x, rctx.child("dil"),
            filters=cfg["filters"], kernel_size=cfg["kernel_size"], dilation_rate=rate,
            norm_gamma="ones", dropout=0.0, **_common(cfg),
        )
        y = _conv_unit(
            y, rctx.child("proj"),
            filters=channels, kernel_size=1, dilation_rate=1,
            norm_gamma="zeros", dropout=cfg["dropout"], **_common(cfg),
        )
        x = rctx.apply(keras.layers.Add(name=rctx.name("add")), [x, y])
    return x


def cropping_1d(x, cfg: dict, ctx: BuildContext):
    """Registered ``Cropping1D``: ``[batch, L, C]`` -> ``[batch, L - left - right, C]``."""
    return ctx.apply(keras.layers.Cropping1D(cropping=crop_pair(cfg["cropping"]), name=ctx.name("crop")), x)


def final(x, cfg: dict, ctx: BuildContext):
    """Registered head ``final``: Dense with bias to ``units``, then ``activation``.

    Args:
        x: trunk output ``[batch, bins, channels]``.
        cfg: resolved final config.
        ctx: build context.

    Returns:
        ``[batch, bins, units]``.
    """
    return ctx.apply(
        keras.layers.Dense(
            units=cfg["units"],
            use_bias=True,
            activation=activation_fn(cfg["activation"]),
            kernel_initializer=cfg["kernel_initializer"],
            kernel_regularizer=_regularizer(cfg["l2_scale"], cfg["l1_scale"]),
            name=ctx.name("dense"),
        ),
        x,
    )


BUILDERS: dict[str, Callable[..., Any]] = {
    "conv_block": conv_block,
    "conv_tower": conv_tower,
    "dilated_residual": dilated_residual,
    "Cropping1D": cropping_1d,
    "final": final,
}
