"""Input validation of an evaluation: the model's params, each genome's shards, the TSS files
and the track-matches table, all checked before Keras is loaded or anything is written."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crossreg.errors import InputError
from crossreg.evaluate.tss import TssSet, read_tss

DNASE_ASSAYS = ("DNASE", "ATAC")
CAGE_ASSAY = "CAGE"
MATCHES_COLUMNS = ("genome_a", "identifier_a", "genome_b", "identifier_b")


def assay_of(description: str) -> str:
    """Assay of a track: its description before the first ``:``, stripped and upper-cased.

    ``CAGE:liver`` -> ``CAGE``, ``chip:CTCF:heart`` -> ``CHIP``; a description without ``:``
    (or with nothing before it) -> ``OTHER``.
    """
    text = str(description)
    if ":" not in text:
        return "OTHER"
    head = text.split(":", 1)[0].strip().upper()
    return head or "OTHER"


@dataclass
class ModelInfo:
    """What the evaluation needs from a model directory, read without Keras.

    Attributes:
        model_dir: the directory.
        params: resolved params.
        geometry: :class:`~crossreg.model.geometry.TrunkGeometry`.
        heads: genome -> output tracks of its head.
        digest: SHA-256 of the canonical params JSON (as ``crossreg predict`` records it).
    """

    model_dir: Path
    params: dict
    geometry: object
    heads: dict[str, int]
    digest: str


@dataclass
class GenomeInput:
    """One genome's validated shards.

    Attributes:
        genome: the genome (= the head used for its own predictions).
        manifest_path: its ``manifest.json``.
        split: the :class:`~crossreg.data.reader.ShardSplit` streamed.
        windows: window coordinates in streaming order (``crossreg.predict.core._Windows``).
        target_start: int64 [windows] first base of each window's predicted region.
        offset: target bins skipped at the start of each stored window (crop to the output).
        track_ids, descriptions, assays: per output track, in head order.
        tss: the genome's TSSs, or None.
    """

    genome: str
    manifest_path: Path
    split: object
    windows: object
    target_start: np.ndarray
    offset: int
    track_ids: list[str]
    descriptions: list[str]
    assays: list[str]
    tss: TssSet | None = None

    @property
    def num_windows(self) -> int:
        return len(self.windows.chrom)

    @property
    def cage(self) -> np.ndarray:
        """int64 indices of the CAGE tracks."""
        return np.array([i for i, a in enumerate(self.assays) if a == CAGE_ASSAY], dtype=np.int64)

    @property
    def dnase(self) -> np.ndarray:
        """int64 indices of the DNASE and ATAC tracks."""
        return np.array([i for i, a in enumerate(self.assays) if a in DNASE_ASSAYS], dtype=np.int64)


@dataclass
class TrackMatches:
    """Matched track pairs across genomes (symmetric).

    Attributes:
        path: the table read.
        pairs: set of ``((genome, identifier), (genome, identifier))`` in both directions.
    """

    path: Path | None
    pairs: set = field(default_factory=set)

    def matched(self, genome_a: str, identifier_a: str, genome_b: str, identifier_b: str) -> bool:
        """True for a listed pair, and for a track with itself."""
        if genome_a == genome_b and identifier_a == identifier_b:
            return True
        return ((genome_a, identifier_a), (genome_b, identifier_b)) in self.pairs


def check_model(model_dir: str | os.PathLike, rc_average: bool = False) -> ModelInfo:
    """Read a model directory's params (no Keras) and the output tracks of every head.

    Raises:
        InputError: missing files, invalid params, or ``rc_average`` with an asymmetric crop.
    """
    from crossreg.model.checkpoint import PARAMS_NAME, ModelDirectory

    described = ModelDirectory(model_dir)
    model_dir, params, geo, heads = described.path, described.params, described.geometry, dict(described.head_tracks)
    if rc_average and geo.crop_left != geo.crop_right:
        raise InputError(
            f"{model_dir / PARAMS_NAME}: rc_average needs a symmetric crop, but the trunk crops "
            f"{geo.crop_left}+{geo.crop_right} positions; a flipped prediction would not line up"
        )
    return ModelInfo(model_dir, params, geo, heads, described.params_sha256)


def check_genome(model: ModelInfo, genome: str, manifest_path: str | os.PathLike, split: str) -> GenomeInput:
    """Validate one genome's manifest and split against the model.

    Raises:
        InputError: the genome is not a head of the model; the manifest is for another
            genome; the split is missing or empty; the window length, bin width or stored
            bins do not fit the model; the manifest's track count differs from the head's.
    """
    from crossreg.data.reader import ShardSplit
    from crossreg.model.checkpoint import PARAMS_NAME
    from crossreg.predict.core import _shard_windows, _target_offset, _track_names

    manifest_path = Path(manifest_path)
    if genome not in model.heads:
        raise InputError(
            f"manifest {manifest_path}: genome {genome!r} is not a head of the model in {model.model_dir} "
            f"({model.model_dir / PARAMS_NAME} has heads for: {', '.join(model.heads)})"
        )
    shard_split = ShardSplit(manifest_path, split)
    manifest = shard_split.manifest
    if manifest["genome"] != genome:
        raise InputError(
            f"manifest {manifest_path}: holds genome {manifest['genome']!r} but was given for genome {genome!r}"
        )
    if shard_split.num_windows == 0:
        raise InputError(f"manifest {manifest_path}: split {split!r} has no windows")
    offset = _target_offset(manifest, manifest_path, model.geometry)
    track_ids, descriptions = _track_names(manifest, manifest_path, model.heads[genome], model.model_dir, genome)
    windows = _shard_windows(shard_split)
    if not windows.chrom:
        raise InputError(f"manifest {manifest_path}: split {split!r} has no windows")
    geo = model.geometry
    target_start = windows.start + geo.crop_left * geo.bin_width
    return GenomeInput(
        genome, manifest_path, shard_split, windows, target_start, offset,
        track_ids, descriptions, [assay_of(d) for d in descriptions],
    )


def attach_tss(genomes: dict[str, GenomeInput], tss: dict[str, str | os.PathLike] | None) -> None:
    """Read each genome's TSS file into ``genomes[genome].tss``.

    Raises:
        InputError: a TSS file for a genome that is not evaluated, or a malformed file.
    """
    for genome, path in (tss or {}).items():
        if genome not in genomes:
            raise InputError(
                f"TSS file {path}: given for genome {genome!r}, which has no manifest "
                f"(evaluated genomes: {', '.join(genomes)})"
            )
        genomes[genome].tss = read_tss(path)


def read_track_matches(path: str | os.PathLike, genomes: dict[str, GenomeInput]) -> TrackMatches:
    """Read the matched-tracks table (TSV, header ``genome_a identifier_a genome_b identifier_b``).

    One row per matched pair; a row matches in both directions. Extra columns are ignored;
    blank lines and ``#`` lines are skipped.

    Raises:
        InputError: missing file, missing header columns, a row with the wrong number of
            columns, or an unknown genome or identifier (naming the file, line and value).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"track matches {path}: no such file")
    ids = {g: set(gi.track_ids) for g, gi in genomes.items()}
    matches = TrackMatches(path)
    header: list[str] | None = None
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\r\n").split("\t")
            if header is None:
                header = [f.strip() for f in fields]
                missing = [c for c in MATCHES_COLUMNS if c not in header]
                if missing:
                    raise InputError(
                        f"{path}:{line_no}: header lacks column(s) {', '.join(missing)} "
                        f"(expected the tab-separated header {' '.join(MATCHES_COLUMNS)})"
                    )
                cols = [header.index(c) for c in MATCHES_COLUMNS]
                continue
            if len(fields) != len(header):
                raise InputError(f"{path}:{line_no}: expected {len(header)} tab-separated columns, got {len(fields)}")
            ga, ia, gb, ib = (fields[c].strip() for c in cols)
            for g, ident in ((ga, ia), (gb, ib)):
                if g not in ids:
                    raise InputError(
                        f"{path}:{line_no}: genome {g!r} is not an evaluated genome (expected one of: {', '.join(ids)})"
                    )
                if ident not in ids[g]:
                    raise InputError(
                        f"{path}:{line_no}: identifier {ident!r} is not a track of genome {g!r} "
                        f"(manifest {genomes[g].manifest_path})"
                    )
            matches.pairs.add(((ga, ia), (gb, ib)))
            matches.pairs.add(((gb, ib), (ga, ia)))
    if header is None:
        raise InputError(f"track matches {path}: empty (expected the header {' '.join(MATCHES_COLUMNS)})")
    return matches
