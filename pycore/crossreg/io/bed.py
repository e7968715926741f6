"""BED interval files: blacklist, unmappable regions, window lists.

Intervals are 0-based half-open. Masks are kept per chromosome as sorted, merged int64
arrays of shape [n, 2] so that a window's masked positions can be found by binary search.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from crossreg.errors import InputError

IntervalSet = dict[str, np.ndarray]  # chrom -> int64 [n, 2] sorted, merged (start, end)


def _open_text(path: Path):
    with open(path, "rb") as raw:
        magic = raw.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path)


def iter_bed_records(path: str | os.PathLike, min_fields: int = 3):
    """Yield ``(line_no, fields)`` for every data line of a BED file (plain or gzip).

    Header lines (``#``, ``track``, ``browser``) and blank lines are skipped. The first three
    fields are validated: integer start/end with ``0 <= start <= end``.

    Raises:
        InputError: naming the file and line for a short line or bad coordinates.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"BED {path}: no such file")
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) < min_fields:
                raise InputError(f"{path}:{line_no}: expected at least {min_fields} tab-separated fields, got {len(fields)}")
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise InputError(f"{path}:{line_no}: start/end must be integers, got {fields[1]!r}, {fields[2]!r}") from None
            if start < 0 or end < start:
                raise InputError(f"{path}:{line_no}: invalid interval {fields[0]}:{start}-{end} (expected 0 <= start <= end)")
            yield line_no, fields


def merge_intervals(intervals: np.ndarray) -> np.ndarray:
    """Sort and merge overlapping or touching intervals.

    Args:
        intervals: int64 [n, 2] (start, end).

    Returns:
        int64 [m, 2], sorted, disjoint, non-touching.
    """
    if len(intervals) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    iv = np.asarray(intervals, dtype=np.int64)
    iv = iv[np.lexsort((iv[:, 1], iv[:, 0]))]
    running_end = np.maximum.accumulate(iv[:, 1])
    new_block = np.ones(len(iv), dtype=bool)
    new_block[1:] = iv[1:, 0] > running_end[:-1]
    block_id = np.cumsum(new_block) - 1
    starts = iv[new_block, 0]
    ends = np.zeros(len(starts), dtype=np.int64)
    np.maximum.at(ends, block_id, iv[:, 1])
    return np.stack([starts, ends], axis=1)


def read_bed_intervals(
    path: str | os.PathLike,
    chrom_sizes: dict[str, int] | None = None,
    min_length: int = 0,
    unknown_chrom: str = "error",
    genome_label: str = "the genome",
) -> tuple[IntervalSet, int]:
    """Read a BED file into merged per-chromosome intervals.

    Args:
        path: BED file (plain or gzip).
        chrom_sizes: the genome's chromosome sizes; names are checked against it.
        min_length: keep only intervals strictly longer than this (bp); the unmappable
            track uses 32 ("regions > 32 bp").
        unknown_chrom: "error" (default) or "skip" for chromosomes not in ``chrom_sizes``.
        genome_label: how error messages name the genome (e.g. ``FASTA hg38.fa.gz``).

    Returns:
        (intervals, n_dropped_short): chrom -> int64 [n, 2] merged, and how many intervals
        were dropped by ``min_length``.

    Raises:
        InputError: bad lines; an unknown chromosome (naming the line and an example of the
            genome's names, e.g. ``chr1`` vs ``1``); an interval past the chromosome end.
    """
    path = Path(path)
    raw: dict[str, list[tuple[int, int]]] = {}
    dropped = 0
    for line_no, fields in iter_bed_records(path):
        chrom, start, end = fields[0], int(fields[1]), int(fields[2])
        if chrom_sizes is not None:
            if chrom not in chrom_sizes:
                if unknown_chrom == "skip":
                    continue
                example = next(iter(chrom_sizes))
                raise InputError(
                    f"{path}:{line_no}: chromosome {chrom!r} is not in {genome_label} (whose names look like {example!r})"
                )
            if end > chrom_sizes[chrom]:
                raise InputError(f"{path}:{line_no}: interval {chrom}:{start}-{end} ends past the chromosome end {chrom_sizes[chrom]}")
        if end - start <= min_length:
            dropped += 1
            continue
        raw.setdefault(chrom, []).append((start, end))
    merged = {chrom: merge_intervals(np.array(iv, dtype=np.int64).reshape(-1, 2)) for chrom, iv in raw.items()}
    return merged, dropped


def union_intervals(*sets: IntervalSet) -> IntervalSet:
    """Union of several per-chromosome interval sets (merged)."""
    chroms = {c for s in sets for c in s}
    out: IntervalSet = {}
    for chrom in chroms:
        parts = [s[chrom] for s in sets if chrom in s and len(s[chrom])]
        out[chrom] = merge_intervals(np.concatenate(parts)) if parts else np.zeros((0, 2), dtype=np.int64)
    return out


def intervals_in(intervals: IntervalSet, chrom: str, start: int, end: int) -> np.ndarray:
    """The merged intervals of ``chrom`` overlapping ``[start, end)`` (not clipped).

    Returns:
        int64 [k, 2].
    """
    iv = intervals.get(chrom)
    if iv is None or len(iv) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    lo = np.searchsorted(iv[:, 1], start, side="right")
    hi = np.searchsorted(iv[:, 0], end, side="left")
    return iv[lo:hi]


def covered_bp(intervals: IntervalSet, chrom: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Number of bases of each query interval covered by ``intervals[chrom]``.

    Args:
        starts, ends: int64 [w] query intervals on ``chrom``.

    Returns:
        int64 [w] covered bp per query (exact; intervals are merged so nothing double counts).
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    iv = intervals.get(chrom)
    if iv is None or len(iv) == 0:
        return np.zeros(len(starts), dtype=np.int64)
    # cumulative covered bp up to each interval boundary; F(x) = covered bp in [0, x)
    lengths = iv[:, 1] - iv[:, 0]
    cum = np.concatenate(([0], np.cumsum(lengths)))

    def covered_before(x: np.ndarray) -> np.ndarray:
        k = np.searchsorted(iv[:, 0], x, side="right")  # intervals starting at or before x
        full = cum[np.maximum(k - 1, 0)]
        last = np.where(k > 0, np.clip(x - iv[np.maximum(k - 1, 0), 0], 0, lengths[np.maximum(k - 1, 0)]), 0)
        return np.where(k > 0, full + last, 0)

    return covered_before(ends) - covered_before(starts)


UNMAPPABLE_MIN_LENGTH = 32


def read_masks(
    chrom_sizes: dict[str, int],
    blacklists: list[str | os.PathLike] = (),
    unmappable: list[str | os.PathLike] = (),
    genome_label: str = "the genome",
) -> IntervalSet:
    """Masked intervals of a genome: every blacklist interval, and unmappable intervals > 32 bp.

    Args:
        chrom_sizes: the genome's chromosomes (names are checked).
        blacklists: BED files whose every interval is masked.
        unmappable: BED files of unmappable regions; only intervals longer than 32 bp count.
        genome_label: how error messages name the genome.

    Returns:
        chrom -> merged int64 [n, 2].
    """
    sets = [read_bed_intervals(p, chrom_sizes, genome_label=genome_label)[0] for p in blacklists]
    sets += [
        read_bed_intervals(p, chrom_sizes, min_length=UNMAPPABLE_MIN_LENGTH, genome_label=genome_label)[0]
        for p in unmappable
    ]
    return union_intervals(*sets) if sets else {}
