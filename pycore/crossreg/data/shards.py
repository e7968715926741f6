"""HDF5 training shards: sequence codes and transformed targets for a genome's windows.

Layout of one shard file ``<genome>-<split>-<k>.h5`` (k zero-padded to 4 digits)::

    sequence   uint8   [windows, seq_length]      base codes A=0 C=1 G=2 T=3 N=4
    targets    float16 [windows, bins, tracks]    transformed targets (SPEC section 2)
    chrom      bytes   [windows]                  window chromosome (ASCII)
    start      int64   [windows]                  window start, 0-based (bp)
    end        int64   [windows]                  window end, exclusive (bp)
    window_index int64 [windows]                  row of the window in the windows BED
    attrs: format, format_version, genome, split, shard, seq_length, pool_width, crop_bp,
           bins, tracks, track_ids (replicate-group ids, in target order)

``targets`` covers the centre of each window, ``[start + crop_bp, end - crop_bp)``, in
``pool_width`` bp bins. Every dataset is chunked per window, compressed (lzf) and carries
HDF5's fletcher32 checksum, so altered bytes are detected when they are read.

Shards are planned deterministically from the windows BED: split ``s`` is cut into shards
of ``windows_per_shard`` consecutive windows; chunk ``i`` of ``n`` writes shards whose
position in the plan is ``i`` modulo ``n``. Each chunk also writes a small JSON report; the
manifest step (:mod:`crossreg.data.manifest`) checks the shards and indexes them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from crossreg import _native
from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open, atomic_path
from crossreg.io.bed import IntervalSet, intervals_in
from crossreg.io.bigwig import BigWigTrack
from crossreg.io.fasta import FastaGenome
from crossreg.io.targets import TargetsTable

SHARD_FORMAT = "crossreg-shard"
SHARD_FORMAT_VERSION = 1
FLOAT16_MAX = 65504.0
# Above this many data intervals per base the per-base read beats the interval path.
_DENSE_INTERVALS_PER_BP = 1.0 / 16


@dataclass(frozen=True)
class Geometry:
    """Window geometry shared by shards, the model and the trainer.

    Attributes:
        seq_length: window length (bp).
        pool_width: bin width (bp).
        crop_bp: bases trimmed from each side of the window before binning the targets.
    """

    seq_length: int = 131_072
    pool_width: int = 128
    crop_bp: int = 8_192

    def __post_init__(self) -> None:
        if self.seq_length <= 0 or self.pool_width <= 0 or self.crop_bp < 0:
            raise InputError(f"invalid geometry {self}: lengths must be positive")
        target_bp = self.seq_length - 2 * self.crop_bp
        if target_bp <= 0 or target_bp % self.pool_width:
            raise InputError(
                f"seq_length {self.seq_length} - 2 x crop_bp {self.crop_bp} = {target_bp} bp must be a positive "
                f"multiple of pool_width {self.pool_width}"
            )

    @property
    def bins(self) -> int:
        """Number of target bins per window."""
        return (self.seq_length - 2 * self.crop_bp) // self.pool_width


@dataclass(frozen=True)
class ShardSpec:
    """One planned shard: which windows of which split go into which file."""

    split: str
    shard: int
    rows: np.ndarray  # int64 [w] indices into the windows table

    @property
    def name(self) -> str:
        return f"{self.split}-{self.shard:04d}"

    def filename(self, genome: str) -> str:
        return f"{genome}-{self.name}.h5"


@dataclass
class ChunkReport:
    """What one chunk wrote, merged by the manifest step."""

    chunk: int
    of: int
    shards: list[str] = field(default_factory=list)
    windows: int = 0
    saturated_bins: dict[str, int] = field(default_factory=dict)
    non_acgtn_bases: int = 0
    missing_chrom_reads: dict[str, int] = field(default_factory=dict)


def plan_shards(windows: pd.DataFrame, windows_per_shard: int) -> list[ShardSpec]:
    """Cut each split's windows (in BED order) into consecutive shards.

    Returns:
        ShardSpecs ordered by split (train, valid, test) then shard number.
    """
    if windows_per_shard <= 0:
        raise InputError(f"windows_per_shard must be positive, got {windows_per_shard}")
    plan = []
    for split in ("train", "valid", "test"):
        rows = np.flatnonzero(windows["fold"].to_numpy() == split).astype(np.int64)
        for k, lo in enumerate(range(0, len(rows), windows_per_shard)):
            plan.append(ShardSpec(split=split, shard=k, rows=rows[lo : lo + windows_per_shard]))
    return plan


def chunk_of(plan: list[ShardSpec], chunk: int, of: int) -> list[ShardSpec]:
    """The shards chunk ``chunk`` (0-based) of ``of`` writes."""
    if of <= 0 or not 0 <= chunk < of:
        raise InputError(f"--chunk must be in [0, --of) with --of >= 1, got chunk {chunk} of {of}")
    return [spec for i, spec in enumerate(plan) if i % of == chunk]


def plan_read_spans(chroms: np.ndarray, starts: np.ndarray, length: int, max_span: int) -> list[tuple[str, int, int, list[int]]]:
    """Group target regions into spans read from a bigWig at once.

    Consecutive regions (in the given order) on the same chromosome that overlap or touch
    are read together while the span stays within ``max_span`` bp, so overlapping windows
    decompress each bigWig block once and calls into pyBigWig are few.

    Args:
        chroms: [w] chromosome of each region; starts: int [w] region starts (bp).
        length: region length (bp); max_span: longest span read at once (bp).

    Returns:
        (chrom, span_start, span_end, region positions) per span, in order.
    """
    spans: list[tuple[str, int, int, list[int]]] = []
    for i, (chrom, start) in enumerate(zip(chroms, starts)):
        start = int(start)
        if spans:
            c, lo, hi, members = spans[-1]
            if c == chrom and lo <= start <= hi and max(hi, start + length) - lo <= max_span:
                members.append(i)
                spans[-1] = (c, lo, max(hi, start + length), members)
                continue
        spans.append((chrom, start, start + length, [i]))
    return spans


class TrackTransformer:
    """Reads one track span by span and writes each region's transformed bins.

    A cheap probe of the first span decides between binning straight from the bigWig's
    intervals (piecewise tracks: no expansion to bases) and reading per-base values (dense
    tracks, where one interval per base would make the interval path slow).
    """

    PROBE_BP = 4096

    def __init__(self, track: BigWigTrack, target, baseline: float, geometry: Geometry):
        self.track = track
        self.target = target
        self.baseline = float(baseline)
        self.geometry = geometry
        self.use_dense: bool | None = None
        self.saturated = 0
        self._span: tuple[str, int, int] | None = None
        self._data = None

    def load(self, chrom: str, lo: int, hi: int) -> None:
        """Read ``chrom:[lo, hi)`` into the span cache."""
        if self.use_dense is None:
            probe = self.track.intervals(chrom, lo, min(hi, lo + self.PROBE_BP))[0]
            self.use_dense = len(probe) > self.PROBE_BP * _DENSE_INTERVALS_PER_BP
        self._span = (chrom, lo, hi)
        self._data = self.track.values(chrom, lo, hi) if self.use_dense else self.track.intervals(chrom, lo, hi)

    def write(self, chrom: str, start: int, mask: np.ndarray, out: np.ndarray) -> None:
        """Transform ``[start, start + target_bp)`` of ``chrom`` into ``out``.

        Args:
            chrom, start: target region start (bp, the window start + crop).
            mask: int64 [k, 2] masked intervals overlapping the region (absolute coords).
            out: float16 [bins] (may be a strided view).
        """
        g, t = self.geometry, self.target
        length = g.bins * g.pool_width
        span = self._span
        if span is None or span[0] != chrom or start < span[1] or start + length > span[2]:
            self.load(chrom, start, start + length)
            span = self._span
        mean = t.sum_stat == "mean"
        if self.use_dense:
            values = self._data[start - span[1] : start - span[1] + length]
            region_mask = _native.mask_from_intervals(mask[:, 0], mask[:, 1], start, length) if len(mask) else None
            self.saturated += _native.transform_dense(
                values, region_mask, self.baseline, g.pool_width, mean, t.clip_soft, t.clip, t.scale, out
            )
            return
        starts, ends, values = self._data
        lo = int(np.searchsorted(ends, start, side="right"))
        hi = int(np.searchsorted(starts, start + length, side="left"))
        self.saturated += _native.transform_intervals(
            starts[lo:hi], ends[lo:hi], values[lo:hi], np.ascontiguousarray(mask[:, 0]),
            np.ascontiguousarray(mask[:, 1]), start, length, self.baseline, g.pool_width, mean, t.clip_soft,
            t.clip, t.scale, out,
        )


def compute_targets(
    targets: TargetsTable,
    baselines: dict[str, float],
    windows: pd.DataFrame,
    masked: IntervalSet,
    geometry: Geometry,
    chrom_sizes: dict[str, int],
    missing_chroms: str = "error",
    report: ChunkReport | None = None,
    max_span: int = 2_097_152,
) -> np.ndarray:
    """Transformed targets of some windows, replicate groups averaged.

    Args:
        targets: the genome's tracks.
        baselines: track identifier -> baseline (raw units).
        windows: rows with chrom, start, end.
        masked: blacklist + unmappable intervals.
        geometry: window geometry.
        chrom_sizes: the genome's chromosome sizes (bigWig names are checked against them).
        missing_chroms: "error" or "zeros" (see :class:`BigWigTrack`).
        report: saturation and missing-chromosome counts are added here.
        max_span: longest stretch of a bigWig read at once (bp); see :func:`plan_read_spans`.

    Returns:
        float16 [windows, bins, groups].
    """
    groups = targets.group_members()
    group_names = list(groups)
    n_win = len(windows)
    out = np.zeros((n_win, geometry.bins, len(group_names)), dtype=np.float16)
    chroms = windows["chrom"].to_numpy()
    region_starts = windows["start"].to_numpy() + geometry.crop_bp
    length = geometry.bins * geometry.pool_width
    masks = [intervals_in(masked, c, s, s + length) for c, s in zip(chroms, region_starts)]
    spans = plan_read_spans(chroms, region_starts, length, max_span)
    replicate_buffer = np.zeros(geometry.bins, dtype=np.float16)
    for g, name in enumerate(group_names):
        members = groups[name]
        accumulate = np.zeros((n_win, geometry.bins), dtype=np.float32) if len(members) > 1 else None
        for idx in members:
            target = targets.targets[idx]
            with BigWigTrack(target.file, chrom_sizes, missing_chroms) as track:
                transformer = TrackTransformer(track, target, baselines[target.identifier], geometry)
                for chrom, lo, hi, members_of_span in spans:
                    transformer.load(chrom, lo, hi)
                    for w in members_of_span:
                        dest = out[w, :, g] if accumulate is None else replicate_buffer
                        transformer.write(chroms[w], int(region_starts[w]), masks[w], dest)
                        if accumulate is not None:
                            accumulate[w] += replicate_buffer
                if report is not None:
                    report.saturated_bins[target.identifier] = report.saturated_bins.get(target.identifier, 0) + transformer.saturated
                    if track.missing_reads:
                        report.missing_chrom_reads[target.identifier] = (
                            report.missing_chrom_reads.get(target.identifier, 0) + track.missing_reads
                        )
        if accumulate is not None:
            mean = accumulate / len(members)
            saturated = int(np.count_nonzero(np.abs(mean) > FLOAT16_MAX))
            out[:, :, g] = np.clip(mean, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
            if report is not None and saturated:
                report.saturated_bins[name] = report.saturated_bins.get(name, 0) + saturated
    return out


def encode_windows(fasta: FastaGenome, windows: pd.DataFrame, seq_length: int) -> tuple[np.ndarray, int]:
    """Base codes of windows.

    Returns:
        (codes uint8 [windows, seq_length] with A=0 C=1 G=2 T=3 N=4, count of non-ACGTN letters).
    """
    codes = np.empty((len(windows), seq_length), dtype=np.uint8)
    other = 0
    for w, row in enumerate(windows.itertuples(index=False)):
        seq = fasta.fetch(row.chrom, int(row.start), int(row.end))
        _, n_other = _native.encode_codes(seq, out=codes[w])
        other += n_other
    return codes, other


def write_shard(
    path: Path,
    genome: str,
    spec: ShardSpec,
    windows: pd.DataFrame,
    codes: np.ndarray,
    targets: np.ndarray,
    track_ids: list[str],
    geometry: Geometry,
) -> None:
    """Write one shard atomically (see module docstring for the layout)."""
    n = len(windows)
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w", track_order=True) as h5:
            common = dict(compression="lzf", fletcher32=True)
            h5.create_dataset("sequence", data=codes, chunks=(1, geometry.seq_length), **common)
            h5.create_dataset(
                "targets", data=targets, chunks=(1, geometry.bins, targets.shape[2]), shuffle=True, **common
            )
            h5.create_dataset("chrom", data=np.array([c.encode("ascii") for c in windows["chrom"]], dtype="S"), **common)
            h5.create_dataset("start", data=windows["start"].to_numpy(np.int64), **common)
            h5.create_dataset("end", data=windows["end"].to_numpy(np.int64), **common)
            h5.create_dataset("window_index", data=spec.rows, **common)
            attrs = dict(
                format=SHARD_FORMAT,
                format_version=SHARD_FORMAT_VERSION,
                genome=genome,
                split=spec.split,
                shard=spec.shard,
                windows=n,
                seq_length=geometry.seq_length,
                pool_width=geometry.pool_width,
                crop_bp=geometry.crop_bp,
                bins=geometry.bins,
                tracks=targets.shape[2],
                track_ids=json.dumps(track_ids),
            )
            h5.attrs.update(attrs)


def write_chunk(
    out_dir: str | os.PathLike,
    genome: str,
    fasta_path: str | os.PathLike,
    targets: TargetsTable,
    baselines: dict[str, float],
    windows: pd.DataFrame,
    masked: IntervalSet,
    geometry: Geometry,
    windows_per_shard: int = 64,
    chunk: int = 0,
    of: int = 1,
    missing_chroms: str = "error",
    progress=None,
) -> ChunkReport:
    """Write the shards of one chunk, then its JSON report ``chunk-<i>-of-<n>.json``.

    Args:
        out_dir: the genome's shard folder.
        genome: genome name (file prefix and attrs).
        fasta_path: reference FASTA.
        targets, baselines: tracks and their baselines.
        windows: the genome's windows (chrom, start, end, fold), all of them: the plan is
            made from the whole table so that every chunk agrees on it.
        masked: blacklist + unmappable intervals.
        geometry: window geometry; every window must be ``seq_length`` long.
        windows_per_shard: windows per shard file.
        chunk, of: which part of the plan to write.
        missing_chroms: "error" or "zeros" for genome chromosomes a bigWig lacks.
        progress: optional callable(n_done, n_total) after each shard.

    Returns:
        The chunk's report (also written as JSON).
    """
    out_dir = Path(out_dir)
    lengths = (windows["end"] - windows["start"]).to_numpy()
    if len(windows) and not (lengths == geometry.seq_length).all():
        bad = windows[lengths != geometry.seq_length].iloc[0]
        raise InputError(
            f"window {bad['chrom']}:{bad['start']}-{bad['end']} is {bad['end'] - bad['start']} bp, "
            f"but seq_length is {geometry.seq_length}"
        )
    missing_baselines = [t.identifier for t in targets if t.identifier not in baselines]
    if missing_baselines:
        raise InputError(f"no baseline for track(s) {missing_baselines[:3]}; recompute the baselines for this targets table")
    plan = chunk_of(plan_shards(windows, windows_per_shard), chunk, of)
    report = ChunkReport(chunk=chunk, of=of)
    track_ids = targets.groups
    with FastaGenome(fasta_path) as fasta:
        for done, spec in enumerate(plan):
            rows = windows.iloc[spec.rows]
            codes, n_other = encode_windows(fasta, rows, geometry.seq_length)
            values = compute_targets(
                targets, baselines, rows, masked, geometry, fasta.chrom_sizes, missing_chroms, report
            )
            write_shard(out_dir / spec.filename(genome), genome, spec, rows, codes, values, track_ids, geometry)
            report.shards.append(spec.filename(genome))
            report.windows += len(rows)
            report.non_acgtn_bases += n_other
            if progress is not None:
                progress(done + 1, len(plan))
    with atomic_open(out_dir / f"chunk-{chunk}-of-{of}.json") as handle:
        json.dump(report.__dict__, handle, indent=1, sort_keys=True)
    return report
