"""Trunk geometry: sequence length -> positions -> crop -> output bins, without Keras.

Walks the trunk's blocks through their registered shape arithmetic and checks
``model.target_length`` against the result. Two conventions for ``target_length`` exist in
the wild and both are accepted:

* the paper's files (``params_human.json``: ``target_length`` 1024) give the length of the
  targets *before* the trunk's cropping: 131,072 bp -> 1024 positions of 128 bp -> crop 64
  each side -> 896 bins, and the targets are cropped the same way (``target_crop`` 64);
* the crossreg benchmark configs (``params_full.json``: 896, ``params_small.json``: 96) and
  crossreg's own shards give the length of targets already cropped (``target_crop`` 0).

Anything else is an :class:`~crossreg.errors.InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from crossreg.model.registry import crop_pair, get_block
from crossreg.model.schema import fail


@dataclass(frozen=True)
class TrunkGeometry:
    """Lengths through the trunk.

    Attributes:
        seq_length: input length, bp.
        positions: trunk length after all pooling, before cropping.
        bin_width: bp per position (``seq_length // positions``), 128 in the paper.
        crop_left: positions removed at the start by Cropping1D blocks (after pooling).
        crop_right: positions removed at the end.
        bins: trunk output length (= head output length).
        channels: trunk output channels.
        target_length: ``model.target_length`` or None.
        target_crop: bins to drop from each end of a stored target of ``target_length``
            bins to align it with the output (0 when targets are already cropped).
    """

    seq_length: int
    positions: int
    bin_width: int
    crop_left: int
    crop_right: int
    bins: int
    channels: int
    target_length: int | None
    target_crop: int

    def text(self) -> str:
        """One line: ``131072 bp -> 1024 positions of 128 bp -> crop 64+64 -> 896 bins x 1536 channels``."""
        return (
            f"{self.seq_length} bp -> {self.positions} positions of {self.bin_width} bp -> "
            f"crop {self.crop_left}+{self.crop_right} -> {self.bins} bins x {self.channels} channels"
        )


def trunk_geometry(model: Mapping[str, Any], source: str = "params") -> TrunkGeometry:
    """Compute the trunk's geometry from a *resolved* ``model`` section and check target_length.

    Args:
        model: resolved ``model`` section (see :func:`crossreg.model.params.resolve_params`).
        source: params file, for error messages.

    Returns:
        The geometry.

    Raises:
        InputError: a pool that does not divide its input length, a crop that leaves
            nothing, or a ``target_length`` that matches neither the output bins nor the
            output bins plus the trunk's cropping.
    """
    length, channels = model["seq_length"], 4
    specs = [get_block(cfg, "trunk", source, f"model.trunk[{i}]") for i, cfg in enumerate(model["trunk"])]
    stride = 1
    for spec, cfg in zip(specs, model["trunk"]):
        stride *= spec.stride(cfg)
    if length % stride:
        raise fail(source, "model.seq_length", f"{length} is not a multiple of {stride}, the product of the trunk's pool sizes")
    positions = None
    crop_l = crop_r = 0
    for i, cfg in enumerate(model["trunk"]):
        where = f"model.trunk[{i}]"
        spec = specs[i]
        if spec.name == "Cropping1D":
            left, right = crop_pair(cfg["cropping"])
            crop_l, crop_r = crop_l + left, crop_r + right
            if positions is None:
                positions = length
        elif positions is not None and spec.shape(cfg, length, channels, source, where)[0] != length:
            raise fail(source, where, "blocks after a Cropping1D must keep the length (no pooling after cropping)")
        length, channels = spec.shape(cfg, length, channels, source, where)
    if positions is None:
        positions = length
    bin_width = model["seq_length"] // positions
    target_length = model.get("target_length")
    target_crop = 0
    if target_length is not None:
        if target_length == length:
            target_crop = 0
        elif target_length == positions and crop_l == crop_r:
            target_crop = crop_l
        else:
            expected = f"{length}" if crop_l + crop_r == 0 or crop_l != crop_r else f"{length} or {positions}"
            raise fail(
                source, "model.target_length",
                f"{target_length} does not match the trunk: {model['seq_length']} bp -> {positions} positions "
                f"of {bin_width} bp -> crop {crop_l}+{crop_r} -> {length} bins; expected {expected} "
                "(targets already cropped, or cropped like the trunk)",
            )
    return TrunkGeometry(
        seq_length=model["seq_length"],
        positions=positions,
        bin_width=bin_width,
        crop_left=crop_l,
        crop_right=crop_r,
        bins=length,
        channels=channels,
        target_length=target_length,
        target_crop=target_crop,
    )
