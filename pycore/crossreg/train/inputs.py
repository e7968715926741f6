"""Training inputs: params and shard manifests, checked against each other before training.

Everything a user can get wrong is an :class:`~crossreg.errors.InputError` raised here,
before any output is written or a backend is loaded: an unknown mode, a genome whose
manifest has no head in the params (or, in joint mode, a head without a manifest), shards
whose window length, bins, bin width or track count do not fit the model (the message names
the manifest, the genome and both numbers), and an empty train or valid split.

Target geometry: shards store targets for the window centre, ``bins`` bins of
``pool_width`` bp after ``crop_bp`` bp trimmed from each side. The model predicts
``geometry.bins`` bins; with the paper's convention (``target_length`` before the trunk's
crop) the stored targets are ``geometry.target_crop`` bins longer on each side and the
trainer crops them. Either way the bp covered by the (cropped) targets must be exactly the
bp covered by the model's output bins.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from crossreg.data.reader import ShardSplit
from crossreg.errors import InputError
from crossreg.model.geometry import TrunkGeometry
from crossreg.model.params import geometry as params_geometry
from crossreg.model.params import head_genomes, load_params, resolve_params
from crossreg.model.registry import get_block

log = logging.getLogger(__name__)

MODES = ("joint", "single")


@dataclass
class GenomeData:
    """One genome's training data.

    Attributes:
        genome: genome name (the params hold ``head_<genome>``).
        manifest_path: its ``manifest.json``.
        train: the train split stream.
        valid: the valid split stream.
        track_ids: output track identifiers, in target order.
        assays: assay of each output track (``CAGE``, ``DNASE``, ...), in target order.
    """

    genome: str
    manifest_path: Path
    train: ShardSplit
    valid: ShardSplit
    track_ids: list[str]
    assays: list[str]

    @property
    def num_tracks(self) -> int:
        """Output tracks of this genome."""
        return len(self.track_ids)


@dataclass
class TrainInputs:
    """Checked inputs of a training run.

    Attributes:
        params: resolved params.
        source: where the params came from (file path or ``"params"``), for messages.
        mode: ``"joint"`` or ``"single"``.
        genomes: genomes trained, in params (head) order.
        data: ``{genome: GenomeData}``.
        geometry: the trunk geometry.
    """

    params: dict
    source: str
    mode: str
    genomes: list[str]
    data: dict[str, GenomeData]
    geometry: TrunkGeometry

    @property
    def target_crop(self) -> int:
        """Bins cropped from each end of the stored targets (0 when already cropped)."""
        return self.geometry.target_crop

    @property
    def assays(self) -> list[str]:
        """Assays of all trained genomes, in order of first appearance."""
        seen: dict[str, None] = {}
        for genome in self.genomes:
            for assay in self.data[genome].assays:
                seen.setdefault(assay, None)
        return list(seen)


def manifest_specs(values: Sequence[str]) -> dict[str, Path]:
    """Parse ``GENOME=MANIFEST`` arguments (``crossreg train --manifest``).

    Args:
        values: e.g. ``["human=shards/human/manifest.json", "mouse=shards/mouse/manifest.json"]``.

    Returns:
        ``{genome: manifest path}`` in the order given.

    Raises:
        InputError: a value without ``=``, an empty part, or a genome given twice.
    """
    out: dict[str, Path] = {}
    for value in values:
        genome, sep, path = value.partition("=")
        if not sep or not genome or not path:
            raise InputError(f"--manifest {value!r}: expected GENOME=MANIFEST, e.g. human=shards/human/manifest.json")
        if genome in out:
            raise InputError(f"--manifest: genome {genome!r} given twice ({out[genome]} and {path})")
        out[genome] = Path(path)
    return out


def load_any_params(params: str | os.PathLike | Mapping[str, Any]) -> tuple[dict, str]:
    """Resolve params given as a file or a mapping.

    Args:
        params: a params JSON path, or raw or resolved params.

    Returns:
        ``(resolved params, source)`` where source names the file (or ``"params"``).

    Raises:
        InputError: unreadable or invalid params.
    """
    if isinstance(params, (str, os.PathLike)):
        return load_params(params), str(params)
    if not isinstance(params, Mapping):
        raise InputError(f"params: expected a params file path or a mapping, got {type(params).__name__}")
    return resolve_params(params, source="params"), "params"


def head_tracks(params: Mapping[str, Any], genome: str, geo: TrunkGeometry, source: str) -> int:
    """Number of tracks a genome's head outputs, from the registry's shape arithmetic.

    Args:
        params: resolved params.
        genome: genome name.
        geo: the trunk geometry (head input length and channels).
        source: params source, for messages.

    Returns:
        Output tracks of ``head_<genome>``.
    """
    cfg = params["model"][f"head_{genome}"]
    where = f"model.head_{genome}"
    spec = get_block(cfg, "head", source, where)
    return int(spec.shape(cfg, geo.bins, geo.channels, source, where)[1])


def _check_train_section(params: dict, source: str) -> None:
    train = params["train"]
    if train["clip_norm"] is not None and train["global_clipnorm"] is not None:
        raise InputError(f"{source}: train.clip_norm and train.global_clipnorm are both set; give at most one")


def _load_genome(genome: str, manifest_path: Path, geo: TrunkGeometry, tracks: int) -> GenomeData:
    where = f"manifest {manifest_path} (genome {genome})"
    train = ShardSplit(manifest_path, "train")
    manifest = train.manifest
    if manifest["genome"] != genome:
        raise InputError(f"manifest {manifest_path}: holds genome {manifest['genome']!r} but was given for genome {genome!r}")
    if int(manifest["seq_length"]) != geo.seq_length:
        raise InputError(
            f"{where}: windows are {manifest['seq_length']} bp but the params' model.seq_length is {geo.seq_length}"
        )
    if int(manifest["tracks"]) != tracks:
        raise InputError(f"{where}: the shards hold {manifest['tracks']} tracks but head_{genome} outputs {tracks} tracks")
    expected_bins = geo.bins + 2 * geo.target_crop
    if int(manifest["bins"]) != expected_bins:
        crop = (
            f" ({geo.bins} output bins + {geo.target_crop} cropped from each end, params target_length "
            f"{geo.target_length})" if geo.target_crop else ""
        )
        raise InputError(
            f"{where}: the shards hold {manifest['bins']} target bins per window but the model needs {expected_bins}{crop}"
        )
    pool = int(manifest["pool_width"])
    if pool != geo.bin_width:
        raise InputError(f"{where}: target bins are {pool} bp but the model's output bins are {geo.bin_width} bp")
    target_start = int(manifest["crop_bp"]) + geo.target_crop * pool
    output_start = geo.crop_left * geo.bin_width
    if target_start != output_start:
        raise InputError(
            f"{where}: the targets start {target_start} bp into each window but the model's output bins start at "
            f"{output_start} bp (trunk crop {geo.crop_left}+{geo.crop_right}); the shards' crop_bp does not fit the model"
        )
    valid = ShardSplit(manifest_path, "valid")
    for split in (train, valid):
        if split.num_windows == 0:
            raise InputError(f"{where}: the {split.split} split is empty (0 windows); training needs train and valid windows")
    track_ids = [str(t["identifier"]) for t in manifest["targets"]]
    assays = [str(t.get("assay") or "other") for t in manifest["targets"]]
    return GenomeData(genome, manifest_path, train, valid, track_ids, assays)


def prepare_inputs(
    params: str | os.PathLike | Mapping[str, Any],
    manifests: Mapping[str, str | os.PathLike],
    mode: str = "joint",
    genome: str | None = None,
) -> TrainInputs:
    """Check params and manifests against each other.

    Args:
        params: params file, or raw or resolved params.
        manifests: ``{genome: manifest.json path}``.
        mode: ``"joint"`` (every genome given, one head each, all trained together) or
            ``"single"`` (one genome: the trunk and that genome's head only).
        genome: the genome of single mode (may be left out when one manifest is given).

    Returns:
        The checked :class:`TrainInputs`.

    Raises:
        InputError: see the module docstring.
    """
    resolved, source = load_any_params(params)
    _check_train_section(resolved, source)
    if mode not in MODES:
        raise InputError(f"unknown training mode {mode!r}; expected one of {', '.join(MODES)}")
    if not isinstance(manifests, Mapping) or not manifests:
        raise InputError("no manifests given: pass {genome: manifest.json} for every genome to train")
    manifests = {str(g): Path(p) for g, p in manifests.items()}
    heads = head_genomes(resolved)
    if mode == "joint":
        if genome is not None:
            raise InputError(f"genome {genome!r} is only used in single mode; joint mode trains every head")
        for g, path in manifests.items():
            if g not in heads:
                raise InputError(
                    f"manifest {path} is for genome {g!r} but {source} has no head_{g} (heads: {', '.join(heads)})"
                )
        for g in heads:
            if g not in manifests:
                raise InputError(
                    f"{source} has head_{g} but no manifest was given for genome {g!r}; joint mode trains every "
                    "head (give its manifest, or use single mode to train one genome)"
                )
        genomes = list(heads)
    else:
        if genome is None:
            if len(manifests) != 1:
                raise InputError(f"single mode needs the genome to train (manifests given for {', '.join(manifests)})")
            genome = next(iter(manifests))
        if genome not in heads:
            raise InputError(f"single mode genome {genome!r}: {source} has no head_{genome} (heads: {', '.join(heads)})")
        if genome not in manifests:
            raise InputError(f"single mode genome {genome!r}: no manifest given for it (given: {', '.join(manifests)})")
        ignored = [g for g in manifests if g != genome]
        if ignored:
            log.info("single mode on %s: ignoring the manifests of %s", genome, ", ".join(ignored))
        genomes = [genome]
    geo = params_geometry(resolved, source)
    data = {g: _load_genome(g, manifests[g], geo, head_tracks(resolved, g, geo, source)) for g in genomes}
    return TrainInputs(resolved, source, mode, genomes, data, geo)
