"""Block registry: every trunk block and head type a params file may name.

Each :class:`BlockSpec` gives the block's keys (with defaults and documentation), its shape
arithmetic (output length and channels from input length and channels, without Keras) and
the Keras builder, referenced as ``"module:function"`` so that this module and params
validation never import Keras. Built-in blocks follow calico/baskerville semantics:

* ``conv_block``: activation -> Conv1D (no bias when normalised) -> norm -> dropout
  -> [residual add] -> max pool.
* ``conv_tower``: ``repeat`` conv_blocks, filters ``filters_init * filters_mult**i`` rounded
  to a multiple of ``divisible_by``.
* ``dilated_residual``: ``repeat`` x [conv_block(filters, width kernel_size, dilation d)
  -> conv_block(back to input channels, width 1, BN gamma initialised to 0, dropout) -> add],
  d starting at 1 and multiplied by ``rate_mult`` (rounded half-to-even when ``round``).
* ``Cropping1D``: drops ``cropping`` positions from each end.
* head ``final``: Dense (a width-1 convolution) to ``units`` with bias, then ``activation``.

New blocks can be added with :func:`register_block`.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from crossreg.model.schema import ACTIVATIONS, INITIALIZERS, NORM_TYPES, REQUIRED, Key, fail, unknown_key_error

#: ``shape(cfg, length, channels, source, where) -> (length, channels)``.
ShapeFn = Callable[[dict, int, int, str, str], "tuple[int, int]"]


@dataclass(frozen=True)
class BlockSpec:
    """One registered block type.

    Attributes:
        name: the ``name`` value used in params files.
        role: ``"trunk"`` (may appear in ``model.trunk``) or ``"head"`` (a ``head_<genome>``).
        doc: one line of documentation.
        keys: key specification (``name`` included).
        shape: output (length, channels) from input (length, channels); raises InputError
            when the block cannot apply (e.g. a pool that does not divide the length).
        builder: ``"module:function"`` or a callable
            ``builder(x, cfg, ctx) -> x`` (see ``crossreg.model.blocks``).
        check: optional cross-key validation ``check(resolved_cfg, source, where)``.
        stride: total length reduction of the block, ``stride(resolved_cfg) -> int``
            (product of its pool sizes; 1 for blocks that keep or crop the length).
    """

    name: str
    role: str
    doc: str
    keys: Mapping[str, Key]
    shape: ShapeFn
    builder: str | Callable[..., Any]
    check: Callable[[dict, str, str], None] | None = field(default=None)
    stride: Callable[[dict], int] = field(default=lambda cfg: 1)

    def resolve_builder(self) -> Callable[..., Any]:
        """Import and return the Keras builder function."""
        if callable(self.builder):
            return self.builder
        module, _, attr = self.builder.partition(":")
        return getattr(importlib.import_module(module), attr)


_REGISTRY: dict[str, BlockSpec] = {}


def register_block(spec: BlockSpec, replace: bool = False) -> BlockSpec:
    """Add a block type to the registry.

    Args:
        spec: the block.
        replace: allow replacing a block of the same name.

    Returns:
        ``spec``.

    Raises:
        ValueError: the name is taken (and ``replace`` is false), or the spec lacks a
            ``name`` key or has an unknown role.
    """
    if spec.role not in ("trunk", "head"):
        raise ValueError(f"block {spec.name!r}: role must be 'trunk' or 'head', not {spec.role!r}")
    if "name" not in spec.keys:
        raise ValueError(f"block {spec.name!r}: its keys must include 'name'")
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"block {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def block_names(role: str) -> list[str]:
    """Registered block names for a role (``"trunk"`` or ``"head"``), sorted."""
    return sorted(n for n, s in _REGISTRY.items() if s.role == role)


def get_block(raw: Any, role: str, source: str, where: str) -> BlockSpec:
    """Look up the block named by a params object's ``name`` key.

    Args:
        raw: the block object from the params file.
        role: ``"trunk"`` or ``"head"``.
        source: params file, for error messages.
        where: dotted path of the block, e.g. ``model.trunk[1]``.

    Returns:
        The block's spec.

    Raises:
        InputError: not an object, no ``name``, or an unknown block name for that role.
    """
    if not isinstance(raw, Mapping):
        raise fail(source, where, f"expected a JSON object with a 'name' key, got {type(raw).__name__}")
    if "name" not in raw:
        raise fail(source, f"{where}.name", f"missing block name; known {role} blocks: {', '.join(block_names(role))}")
    name = raw["name"]
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None or spec.role != role:
        known = block_names(role)
        raise unknown_key_error(
            source, f"{where}.name", str(name), known, f"unknown {role} block {name!r}", f"known {role} blocks"
        )
    return spec


# ------------------------------------------------------------------ shared arithmetic
def round_filters(x: float, divisible_by: int = 1) -> int:
    """Round a filter count to a multiple of ``divisible_by`` (half to even, as NumPy).

    Args:
        x: the unrounded count.
        divisible_by: the multiple.

    Returns:
        ``round(x / divisible_by) * divisible_by``.
    """
    return int(round(x / divisible_by) * divisible_by)


def tower_filters(cfg: Mapping[str, Any]) -> list[int]:
    """Filters of each conv_block of a resolved ``conv_tower`` config.

    Args:
        cfg: resolved conv_tower config.

    Returns:
        One filter count per repeat.
    """
    init, end, mult, repeat = cfg["filters_init"], cfg["filters_end"], cfg["filters_mult"], cfg["repeat"]
    if mult is None:
        mult = 1.0 if end is None or repeat == 1 else math.exp(math.log(end / init) / (repeat - 1))
    out, rep = [], float(init)
    for _ in range(repeat):
        out.append(round_filters(rep, cfg["divisible_by"]))
        rep *= mult
    return out


def dilation_rates(cfg: Mapping[str, Any]) -> list[int]:
    """Dilation rate of each repeat of a resolved ``dilated_residual`` config.

    The rate starts at 1.0 and is multiplied by ``rate_mult`` after each repeat; when
    ``round`` is true the running rate itself is rounded (half to even) after each update,
    otherwise only the value used is rounded. Paper: 1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72.

    Args:
        cfg: resolved dilated_residual config.

    Returns:
        One integer dilation rate per repeat.
    """
    rates, rate = [], 1.0
    for _ in range(cfg["repeat"]):
        rates.append(int(round(rate)))
        rate *= cfg["rate_mult"]
        if cfg["round"]:
            rate = float(round(rate))
    return rates


def _pool(length: int, pool: int, source: str, where: str) -> int:
    if pool > 1 and length % pool:
        raise fail(
            source, f"{where}.pool_size",
            f"input length {length} is not divisible by pool_size {pool}; "
            "seq_length must be a multiple of the product of all pool sizes",
        )
    return length // pool


# ------------------------------------------------------------------ shared keys
def _conv_common() -> dict[str, Key]:
    return {
        "activation": Key("str", "activation applied before the convolution", choices=ACTIVATIONS, inherit="activation"),
        "norm_type": Key("str", "normalisation after the convolution (null: none, convolution gets a bias)",
                         choices=NORM_TYPES, nullable=True, inherit="norm_type"),
        "bn_momentum": Key("number", "batch-norm moving-average momentum", minimum=0, maximum=1,
                           exclusive_max=True, inherit="bn_momentum"),
        "l2_scale": Key("number", "L2 penalty on convolution kernels", minimum=0, inherit="l2_scale"),
        "kernel_initializer": Key("str", "kernel initialiser", choices=INITIALIZERS, inherit="kernel_initializer"),
    }


_DROPOUT = Key("number", "dropout rate after normalisation", default=0.0, minimum=0, maximum=1, exclusive_max=True)


# ------------------------------------------------------------------ conv_block
def _conv_block_shape(cfg: dict, length: int, channels: int, source: str, where: str) -> tuple[int, int]:
    filters = channels if cfg["filters"] is None else cfg["filters"]
    if cfg["residual"] and filters != channels:
        raise fail(source, f"{where}.residual", f"residual add needs filters ({filters}) equal to the input channels ({channels})")
    return _pool(length, cfg["pool_size"], source, where), filters


register_block(BlockSpec(
    name="conv_block",
    role="trunk",
    doc="activation -> Conv1D -> norm -> dropout -> [residual add] -> pool",
    keys={
        "name": Key("str", "block type"),
        "filters": Key("int", "output channels (null: input channels)", default=None, minimum=1, nullable=True),
        "kernel_size": Key("int", "convolution width", default=1, minimum=1),
        "dilation_rate": Key("int", "convolution dilation", default=1, minimum=1),
        "dropout": _DROPOUT,
        "pool_size": Key("int", "max-pool width and stride (1: no pooling)", default=1, minimum=1),
        "pool_type": Key("str", "pooling", default="max", choices=("max", "avg")),
        "norm_gamma": Key("str", "initial normalisation scale", default="ones", choices=("ones", "zeros")),
        "residual": Key("bool", "add the block input before pooling", default=False),
        **_conv_common(),
    },
    shape=_conv_block_shape,
    builder="crossreg.model.blocks:conv_block",
    stride=lambda cfg: cfg["pool_size"],
))


# ------------------------------------------------------------------ conv_tower
def _conv_tower_check(cfg: dict, source: str, where: str) -> None:
    mult, end = cfg["filters_mult"], cfg["filters_end"]
    if mult is not None and end is not None:
        raise fail(source, f"{where}.filters_end", "give filters_mult or filters_end, not both")
    if mult is None and end is None and cfg["repeat"] > 1:
        raise fail(source, f"{where}.filters_mult", f"repeat {cfg['repeat']} needs filters_mult or filters_end")
    if end is not None and cfg["repeat"] < 2:
        raise fail(source, f"{where}.filters_end", "filters_end needs repeat >= 2")


def _conv_tower_shape(cfg: dict, length: int, channels: int, source: str, where: str) -> tuple[int, int]:
    filters = tower_filters(cfg)
    if min(filters) < 1:
        raise fail(source, where, f"filters round to {filters}; every count must be >= 1")
    for i in range(cfg["repeat"]):
        length = _pool(length, cfg["pool_size"], source, where)
    return length, filters[-1]


register_block(BlockSpec(
    name="conv_tower",
    role="trunk",
    doc="repeat conv_blocks with filters growing geometrically",
    keys={
        "name": Key("str", "block type"),
        "filters_init": Key("number", "filters of the first conv_block", minimum=1),
        "filters_mult": Key("number", "filter growth factor per repeat", default=None, nullable=True,
                            minimum=0, exclusive_min=True),
        "filters_end": Key("number", "filters of the last conv_block (instead of filters_mult)", default=None,
                           nullable=True, minimum=1),
        "divisible_by": Key("int", "round filters to a multiple of this", default=1, minimum=1),
        "repeat": Key("int", "number of conv_blocks", default=1, minimum=1),
        "kernel_size": Key("int", "convolution width", default=1, minimum=1),
        "dilation_rate": Key("int", "convolution dilation", default=1, minimum=1),
        "dropout": _DROPOUT,
        "pool_size": Key("int", "pool width after each conv_block", default=1, minimum=1),
        "pool_type": Key("str", "pooling", default="max", choices=("max", "avg")),
        **_conv_common(),
    },
    shape=_conv_tower_shape,
    builder="crossreg.model.blocks:conv_tower",
    check=_conv_tower_check,
    stride=lambda cfg: cfg["pool_size"] ** cfg["repeat"],
))


# ------------------------------------------------------------------ dilated_residual
register_block(BlockSpec(
    name="dilated_residual",
    role="trunk",
    doc="repeat [dilated conv_block -> width-1 conv_block back to input channels (gamma 0) -> dropout -> add]",
    keys={
        "name": Key("str", "block type"),
        "filters": Key("int", "channels of the dilated convolution", minimum=1),
        "kernel_size": Key("int", "dilated convolution width", default=3, minimum=1),
        "rate_mult": Key("number", "dilation growth factor per repeat", default=2.0, minimum=1),
        "round": Key("bool", "round the running dilation rate after each update", default=False),
        "repeat": Key("int", "number of residual units", default=1, minimum=1),
        "dropout": Key("number", "dropout rate before each residual add", default=0.0, minimum=0, maximum=1,
                       exclusive_max=True),
        **_conv_common(),
    },
    shape=lambda cfg, length, channels, source, where: (length, channels),
    builder="crossreg.model.blocks:dilated_residual",
))


# ------------------------------------------------------------------ Cropping1D
def _crop_shape(cfg: dict, length: int, channels: int, source: str, where: str) -> tuple[int, int]:
    left, right = crop_pair(cfg["cropping"])
    if left + right >= length:
        raise fail(source, f"{where}.cropping", f"cropping {left}+{right} leaves nothing of {length} positions")
    return length - left - right, channels


def crop_pair(cropping: int | list[int]) -> tuple[int, int]:
    """``(left, right)`` of a Cropping1D ``cropping`` value (an int crops both ends)."""
    if isinstance(cropping, int):
        return cropping, cropping
    return int(cropping[0]), int(cropping[1])


register_block(BlockSpec(
    name="Cropping1D",
    role="trunk",
    doc="drop positions from each end",
    keys={
        "name": Key("str", "block type"),
        "cropping": Key("cropping", "positions removed from each end (int) or [left, right]"),
    },
    shape=_crop_shape,
    builder="crossreg.model.blocks:cropping_1d",
))


# ------------------------------------------------------------------ heads
register_block(BlockSpec(
    name="final",
    role="head",
    doc="Dense (width-1 convolution) with bias to `units` tracks, then `activation`",
    keys={
        "name": Key("str", "head type"),
        "units": Key("int", "number of output tracks", minimum=1),
        "activation": Key("str", "output activation", default="linear", choices=ACTIVATIONS),
        "l2_scale": Key("number", "L2 penalty on the kernel", minimum=0, inherit="l2_scale"),
        "l1_scale": Key("number", "L1 penalty on the kernel", default=0.0, minimum=0),
        "kernel_initializer": Key("str", "kernel initialiser", choices=INITIALIZERS, inherit="kernel_initializer"),
    },
    shape=lambda cfg, length, channels, source, where: (length, cfg["units"]),
    builder="crossreg.model.blocks:final",
))

__all__ = [
    "REQUIRED",
    "BlockSpec",
    "block_names",
    "crop_pair",
    "dilation_rates",
    "get_block",
    "register_block",
    "round_filters",
    "tower_filters",
]
