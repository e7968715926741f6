"""Model assembly: one shared trunk, one head per genome.

:func:`build_model` turns params into a :class:`MultiHeadModel`:

* ``trunk``: ``keras.Model`` sequence ``[batch, seq_length, 4]`` float32 ->
  ``[batch, bins, channels]`` (all trunk blocks, then the model activation once more, as
  baskerville's "final activation");
* ``heads``: ``{genome: keras.Model}``, each ``[batch, bins, channels]`` ->
  ``[batch, bins, tracks]``;
* ``model_for(genome)``: ``keras.Model`` sequence -> ``[batch, bins, tracks]`` built from the
  shared trunk and that genome's head (the same layer objects, hence the same weights);
* ``joint``: ``keras.Model`` sequence -> ``{genome: [batch, bins, tracks]}``, the whole thing
  (used to save and load all weights at once).

Layers carry explicit names (``t<block>_...`` in the trunk, ``head_<genome>_...`` in heads), so
weight files do not depend on the process or the backend that wrote them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import keras

from crossreg.errors import InputError
from crossreg.model.blocks import BuildContext, LayerRow, activate
from crossreg.model.geometry import TrunkGeometry, trunk_geometry
from crossreg.model.params import head_genomes, load_params, resolve_params
from crossreg.model.registry import get_block


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts, Keras ``count_params`` convention (non-trainable BN moving statistics included).

    Attributes:
        trunk: all trunk weights.
        heads: ``{genome: weights of that head}``.
        total: trunk plus every head.
        trainable: trainable weights of the whole model.
        non_trainable: non-trainable weights (BN moving mean and variance).
    """

    trunk: int
    heads: dict[str, int]
    total: int
    trainable: int
    non_trainable: int


class MultiHeadModel:
    """A shared trunk and one head per genome (see module docstring).

    Attributes:
        params: resolved params the model was built from.
        geometry: trunk lengths (``geometry.bins`` = output bins per sequence).
        trunk: ``[batch, seq_length, 4]`` -> ``[batch, bins, channels]``.
        heads: ``{genome: [batch, bins, channels] -> [batch, bins, tracks]}``.
        rows: ``{"trunk" or genome: [LayerRow, ...]}`` layer table recorded at build time.
    """

    def __init__(
        self,
        params: dict,
        geometry: TrunkGeometry,
        trunk: keras.Model,
        heads: dict[str, keras.Model],
        rows: dict[str, list[LayerRow]],
    ) -> None:
        self.params = params
        self.geometry = geometry
        self.trunk = trunk
        self.heads = heads
        self.rows = rows
        self._per_genome: dict[str, keras.Model] = {}
        self._joint: keras.Model | None = None

    @property
    def genomes(self) -> list[str]:
        """Genome names, in params-file order."""
        return list(self.heads)

    @property
    def output_bins(self) -> int:
        """Output bins per sequence (trunk length after cropping)."""
        return self.geometry.bins

    def num_tracks(self, genome: str) -> int:
        """Output tracks of one genome's head."""
        return int(self.heads[self._check_genome(genome)].output_shape[-1])

    def _check_genome(self, genome: str) -> str:
        if genome not in self.heads:
            raise InputError(f"unknown genome {genome!r}; this model has heads for: {', '.join(self.heads)}")
        return genome

    def _sequence_input(self):
        return keras.Input(shape=(self.geometry.seq_length, 4), dtype="float32", name="sequence")

    def model_for(self, genome: str) -> keras.Model:
        """The model of one genome, sharing the trunk's weights.

        Args:
            genome: a head's genome name.

        Returns:
            ``keras.Model``: ``[batch, seq_length, 4]`` float32 -> ``[batch, bins, tracks]``.

        Raises:
            InputError: no head for that genome.
        """
        genome = self._check_genome(genome)
        if genome not in self._per_genome:
            seq = self._sequence_input()
            out = self.heads[genome](self.trunk(seq))
            self._per_genome[genome] = keras.Model(seq, out, name=f"model_{genome}")
        return self._per_genome[genome]

    @property
    def joint(self) -> keras.Model:
        """``keras.Model``: ``[batch, seq_length, 4]`` -> ``{genome: [batch, bins, tracks]}``."""
        if self._joint is None:
            seq = self._sequence_input()
            features = self.trunk(seq)
            self._joint = keras.Model(seq, {g: h(features) for g, h in self.heads.items()}, name="joint")
        return self._joint

    def parameter_counts(self) -> ParamCounts:
        """Trunk, per-head and total parameter counts (see :class:`ParamCounts`)."""
        heads = {g: int(h.count_params()) for g, h in self.heads.items()}
        trunk = int(self.trunk.count_params())
        layers = [self.trunk, *self.heads.values()]
        trainable = sum(_size(w) for m in layers for w in m.trainable_weights)
        non_trainable = sum(_size(w) for m in layers for w in m.non_trainable_weights)
        return ParamCounts(trunk, heads, trunk + sum(heads.values()), trainable, non_trainable)

    def save_weights(self, path: str | os.PathLike) -> None:
        """Save every weight (trunk and all heads) to a Keras ``.weights.h5`` file."""
        self.joint.save_weights(str(path))

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load weights written by :meth:`save_weights` (same params, any backend)."""
        self.joint.load_weights(str(path))


def _size(weight) -> int:
    n = 1
    for d in weight.shape:
        n *= int(d)
    return n


def build_trunk(params: Mapping[str, Any], rows: list[LayerRow] | None = None) -> keras.Model:
    """Build the shared trunk from resolved params.

    Args:
        params: resolved params (or their ``model`` section).
        rows: list receiving the layer table (optional).

    Returns:
        ``keras.Model`` named ``trunk``: ``[batch, seq_length, 4]`` float32 ->
        ``[batch, bins, channels]``.
    """
    model = params.get("model", params)
    rows = [] if rows is None else rows
    seq = keras.Input(shape=(model["seq_length"], 4), dtype="float32", name="sequence")
    x = seq
    for i, cfg in enumerate(model["trunk"]):
        spec = get_block(cfg, "trunk", "params", f"model.trunk[{i}]")
        x = spec.resolve_builder()(x, cfg, BuildContext(f"t{i}", rows))
    x = activate(x, model["activation"], BuildContext("trunk", rows), "final_act")
    return keras.Model(seq, x, name="trunk")


def build_head(genome: str, params: Mapping[str, Any], rows: list[LayerRow] | None = None) -> keras.Model:
    """Build one genome's head from resolved params.

    Args:
        genome: genome name (the params hold ``head_<genome>``).
        params: resolved params (or their ``model`` section).
        rows: list receiving the layer table (optional).

    Returns:
        ``keras.Model`` named ``head_<genome>``: ``[batch, bins, channels]`` ->
        ``[batch, bins, tracks]``.
    """
    model = params.get("model", params)
    geo = trunk_geometry(model)
    rows = [] if rows is None else rows
    cfg = model[f"head_{genome}"]
    spec = get_block(cfg, "head", "params", f"model.head_{genome}")
    features = keras.Input(shape=(geo.bins, geo.channels), dtype="float32", name=f"head_{genome}_input")
    out = spec.resolve_builder()(features, cfg, BuildContext(f"head_{genome}", rows))
    if keras.config.dtype_policy().compute_dtype != "float32":
        # mixed precision: predictions (and so the Poisson loss) stay float32
        out = keras.layers.Activation("linear", dtype="float32", name=f"head_{genome}_float32")(out)
    return keras.Model(features, out, name=f"head_{genome}")


def build_model(params: Mapping[str, Any] | str | os.PathLike, seed: int | None = None) -> MultiHeadModel:
    """Build the trunk and every head.

    Initialisation is deterministic: ``keras.utils.set_random_seed(seed)`` is called first
    (this seeds Python, NumPy and the backend globally), with ``seed`` defaulting to
    ``params["train"]["seed"]``.

    Args:
        params: a params file, or raw or resolved params.
        seed: initialisation seed; None uses the params' ``train.seed``.

    Returns:
        The :class:`MultiHeadModel`.

    Raises:
        InputError: invalid params.
    """
    if isinstance(params, (str, os.PathLike)):
        resolved = load_params(Path(params))
    else:
        resolved = resolve_params(params)
    keras.utils.set_random_seed(int(resolved["train"]["seed"] if seed is None else seed))
    geo = trunk_geometry(resolved["model"])
    rows: dict[str, list[LayerRow]] = {"trunk": []}
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolved["train"]["precision"])  # layers keep the policy they are built under
    try:
        trunk = build_trunk(resolved, rows["trunk"])
        heads = {}
        for genome in head_genomes(resolved):
            rows[genome] = []
            heads[genome] = build_head(genome, resolved, rows[genome])
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return MultiHeadModel(resolved, geo, trunk, heads, rows)
