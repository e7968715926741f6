"""Per-track baseline: the genome-wide 25th percentile of a track over unmasked bases.

Masked bases (blacklist, unmappable) are set to this value before binning, so that an
artefact does not leave a hole of zeros nor a spike in the targets.

The value is exact: the percentile of the per-base values (NaN -> 0, negatives -> 0, as in
the target transform) over every unmasked base of every chromosome, with numpy's
``inverted_cdf`` definition (the smallest value v such that at least 25% of the unmasked
bases are <= v). It is computed from run-length encoded chunks, so memory stays bounded by
the chunk size and by the number of distinct values.
"""

from __future__ import annotations

import numpy as np

from crossreg.io.bed import IntervalSet, intervals_in
from crossreg.io.bigwig import BigWigTrack

BASELINE_PERCENTILE = 25.0


def run_length_encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collapse a per-base vector into runs of equal values.

    Args:
        values: float32 [n].

    Returns:
        (run_values float32 [k], run_lengths int64 [k]).
    """
    if len(values) == 0:
        return values[:0], np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(values)])))
    return values[starts], lengths.astype(np.int64)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, percentile: float) -> float:
    """Inverted-CDF weighted percentile.

    Args:
        values: float [k] (any order); weights: int64 [k] counts (bp).
        percentile: in [0, 100].

    Returns:
        The smallest value whose cumulative weight reaches ``percentile`` % of the total.
    """
    if weights.sum() <= 0:
        return 0.0
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    target = cum[-1] * percentile / 100.0
    k = int(np.searchsorted(cum, target, side="left"))
    return float(values[order][min(k, len(cum) - 1)])


class _ValueCounter:
    """Accumulates value -> bp counts, compacting with np.unique as it grows."""

    def __init__(self) -> None:
        self._values: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._pending = 0

    def add(self, values: np.ndarray, counts: np.ndarray) -> None:
        self._values.append(values)
        self._counts.append(counts)
        self._pending += len(values)
        if self._pending > 4_000_000:
            self._compact()

    def _compact(self) -> None:
        if not self._values:
            return
        values = np.concatenate(self._values)
        counts = np.concatenate(self._counts)
        uniq, inverse = np.unique(values, return_inverse=True)
        self._values = [uniq]
        self._counts = [np.bincount(inverse, weights=counts).astype(np.int64)]
        self._pending = len(uniq)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        self._compact()
        if not self._values:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return self._values[0], self._counts[0]


def track_baseline(
    track: BigWigTrack,
    chrom_sizes: dict[str, int],
    masked: IntervalSet,
    percentile: float = BASELINE_PERCENTILE,
    chunk: int = 4_000_000,
) -> float:
    """Genome-wide percentile of one track over unmasked bases (see module docstring).

    Args:
        track: the open bigWig.
        chrom_sizes: chromosomes (bp) over which to compute it.
        masked: merged masked intervals per chromosome.
        percentile: 25 for the Basenji baseline.
        chunk: bases read at a time.

    Returns:
        The baseline, in the track's raw units (float).
    """
    counter = _ValueCounter()
    for chrom, size in chrom_sizes.items():
        for lo in range(0, size, chunk):
            hi = min(lo + chunk, size)
            values = track.values(chrom, lo, hi)
            np.nan_to_num(values, copy=False, nan=0.0)
            np.maximum(values, 0.0, out=values)
            keep = np.ones(hi - lo, dtype=bool)
            for s, e in intervals_in(masked, chrom, lo, hi):
                keep[max(s, lo) - lo : min(e, hi) - lo] = False
            if keep.all():
                run_values, run_lengths = run_length_encode(values)
            else:
                # runs of masked bases are dropped by encoding the unmasked bases only
                run_values, run_lengths = run_length_encode(values[keep])
            counter.add(run_values, run_lengths)
    values, counts = counter.result()
    return weighted_quantile(values, counts, percentile)


def compute_baselines(
    targets,
    chrom_sizes: dict[str, int],
    masked: IntervalSet,
    missing_chroms: str = "error",
    progress=None,
) -> dict[str, float]:
    """Baseline of every track of a targets table.

    Args:
        targets: a :class:`~crossreg.io.targets.TargetsTable`.
        chrom_sizes: the genome's chromosomes.
        masked: merged masked intervals.
        missing_chroms: "error" or "zeros" (see :class:`BigWigTrack`).
        progress: optional callable(n_done, n_total).

    Returns:
        identifier -> baseline (raw track units), in table order.
    """
    out: dict[str, float] = {}
    for i, target in enumerate(targets):
        with BigWigTrack(target.file, chrom_sizes, missing_chroms) as track:
            out[target.identifier] = track_baseline(track, chrom_sizes, masked)
        if progress is not None:
            progress(i + 1, len(targets))
    return out


def write_baselines(baselines: dict[str, float], path) -> None:
    """Write ``identifier<TAB>baseline`` lines (with a header) atomically."""
    from crossreg.io.atomic import atomic_open

    with atomic_open(path) as out:
        out.write("identifier\tbaseline\n")
        for identifier, value in baselines.items():
            out.write(f"{identifier}\t{value!r}\n")


def read_baselines(path) -> dict[str, float]:
    """Read a baselines TSV written by :func:`write_baselines`.

    Raises:
        InputError: bad header or values, naming the line.
    """
    from pathlib import Path

    from crossreg.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"baselines {path}: no such file")
    lines = path.read_text().splitlines()
    if not lines or lines[0].split("\t") != ["identifier", "baseline"]:
        raise InputError(f"{path}:1: expected header 'identifier<TAB>baseline'")
    out: dict[str, float] = {}
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        try:
            out[fields[0]] = float(fields[1])
        except (IndexError, ValueError):
            raise InputError(f"{path}:{n}: expected 'identifier<TAB>number', got {line!r}") from None
    return out
