"""``crossreg describe-model PARAMS``: layer table and parameter counts as text."""

from __future__ import annotations

import os
from typing import Any, Mapping

from crossreg.model.blocks import LayerRow


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def _detail(layer) -> str:
    """Short configuration note: convolution width/dilation/bias, pool width, dropout rate, ..."""
    cfg = layer.get_config()
    kind = type(layer).__name__
    if kind == "Conv1D":
        bias = " +bias" if cfg["use_bias"] else ""
        return f"width {cfg['kernel_size'][0]} dilation {cfg['dilation_rate'][0]}{bias}"
    if kind in ("MaxPooling1D", "AveragePooling1D"):
        return f"pool {cfg['pool_size'][0]}"
    if kind == "Dropout":
        return f"rate {cfg['rate']:g}"
    if kind == "Cropping1D":
        return f"crop {cfg['cropping'][0]}+{cfg['cropping'][1]}"
    if kind == "BatchNormalization":
        return f"momentum {cfg['momentum']:g}"
    if kind in ("Activation", "Dense"):
        act = cfg["activation"]
        name = act if isinstance(act, str) else str(act.get("config") or act.get("class_name") or act)
        name = {"gelu_tanh": "gelu (tanh approximation)", "exp_activation": "exp"}.get(name.split(">")[-1], name)
        return f"{'+bias ' if kind == 'Dense' else ''}{name}"
    return ""


def _table(rows: list[LayerRow]) -> list[str]:
    lines = [f"  {'layer':<24} {'type':<19} {'output shape':<24} {'params':>12}  detail"]
    for row in rows:
        layer = row.layer
        lines.append(
            f"  {layer.name:<24} {type(layer).__name__:<19} {_shape_text(row.output_shape):<24} "
            f"{layer.count_params():>12,}  {_detail(layer)}"
        )
    return lines


def describe_model(params: Mapping[str, Any] | str | os.PathLike | Any) -> str:
    """Describe a model: geometry, every layer with its output shape, parameter counts.

    Args:
        params: a params file, raw or resolved params, or a built
            :class:`~crossreg.model.network.MultiHeadModel`.

    Returns:
        Multi-line text: a header (input, bins, heads), the trunk's layer table, each head's
        layer table, then parameter counts (trunk, each head, total, trainable and
        non-trainable). Counts follow Keras ``count_params``: batch-norm moving statistics
        are included, as in the reference counts.

    Raises:
        InputError: invalid params.
    """
    from crossreg.model.network import MultiHeadModel, build_model

    model = params if isinstance(params, MultiHeadModel) else build_model(params)
    geo = model.geometry
    counts = model.parameter_counts()
    lines = [
        f"input: [batch, {geo.seq_length}, 4] one-hot DNA",
        f"trunk: {geo.text()}",
    ]
    if geo.target_length is not None:
        how = "already cropped" if geo.target_crop == 0 else f"crop {geo.target_crop} bins from each end of the targets"
        lines.append(f"targets: target_length {geo.target_length} ({how})")
    lines.append("heads: " + ", ".join(f"{g} ({model.num_tracks(g)} tracks)" for g in model.genomes))
    lines += ["", "trunk", *_table(model.rows["trunk"])]
    for genome in model.genomes:
        lines += ["", f"head {genome}", *_table(model.rows[genome])]
    width = max(len(g) for g in model.genomes) + 6
    lines += ["", "parameters", f"  {'trunk':<{width}} {counts.trunk:>12,}"]
    for genome, n in counts.heads.items():
        lines.append(f"  {'head ' + genome:<{width}} {n:>12,}")
    lines += [
        f"  {'total':<{width}} {counts.total:>12,}",
        f"  (trainable {counts.trainable:,}; non-trainable {counts.non_trainable:,}: batch-norm moving statistics)",
    ]
    return "\n".join(lines) + "\n"
