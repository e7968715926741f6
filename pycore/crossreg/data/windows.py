"""Sequence windows: tiled along each genome inside fold runs, filtered, written as BED.

A window never straddles two folds: windows are tiled inside each maximal run of consecutive
regions that ``crossreg split`` put into the same fold. Windows are then filtered by their
fraction of N bases and of masked (blacklist + unmappable) bases.

Windows BED format (tab-separated, header line starting with ``#``)::

    #chrom  start  end  fold  n_fraction  masked_fraction

Files with only the first four columns (``chrom start end fold``, e.g. a curated list) are
read as well; extra columns are ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.data.split import FOLDS
from crossreg.errors import InputError
from crossreg.io.bed import IntervalSet, covered_bp, iter_bed_records
from crossreg.io.writers import write_bed

DEFAULT_SEQ_LENGTH = 131_072
DEFAULT_STRIDE = 65_599
WINDOW_COLUMNS = ["chrom", "start", "end", "fold"]


@dataclass
class WindowsReport:
    """What tiling and filtering did, for the log and the manifest."""

    tiled: int = 0
    dropped_n: int = 0
    dropped_masked: int = 0
    kept_per_fold: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        kept = sum(self.kept_per_fold.values())
        per_fold = ", ".join(f"{f} {self.kept_per_fold.get(f, 0)}" for f in FOLDS)
        return (
            f"{self.tiled} windows tiled; dropped {self.dropped_n} for N content and "
            f"{self.dropped_masked} for masked content; kept {kept} ({per_fold})"
        )


def fold_runs(folds: pd.DataFrame) -> pd.DataFrame:
    """Maximal runs of adjacent regions sharing a fold.

    Args:
        folds: regions with columns chrom, start, end, fold (from ``crossreg split``).

    Returns:
        DataFrame chrom, start, end, fold: one row per run, sorted by chrom then start.
    """
    runs = []
    for chrom, regions in folds.sort_values(["chrom", "start"]).groupby("chrom", sort=False):
        starts = regions["start"].to_numpy()
        ends = regions["end"].to_numpy()
        fold = regions["fold"].to_numpy()
        new_run = np.ones(len(regions), dtype=bool)
        new_run[1:] = (fold[1:] != fold[:-1]) | (starts[1:] != ends[:-1])
        run_id = np.cumsum(new_run) - 1
        for r in range(run_id[-1] + 1):
            sel = run_id == r
            runs.append((chrom, int(starts[sel][0]), int(ends[sel][-1]), fold[sel][0]))
    return pd.DataFrame(runs, columns=WINDOW_COLUMNS)


def tile(start: int, end: int, seq_length: int, stride: int) -> np.ndarray:
    """Window starts tiling ``[start, end)``; the leftover tail is split evenly at both ends.

    Returns:
        int64 [k] window starts (empty when the span is shorter than ``seq_length``).
    """
    span = end - start
    if span < seq_length:
        return np.zeros(0, dtype=np.int64)
    count = (span - seq_length) // stride + 1
    offset = (span - seq_length - (count - 1) * stride) // 2
    return start + offset + stride * np.arange(count, dtype=np.int64)


def tile_windows(
    chrom_sizes: dict[str, int],
    folds: pd.DataFrame,
    seq_length: int = DEFAULT_SEQ_LENGTH,
    stride: int = DEFAULT_STRIDE,
) -> pd.DataFrame:
    """Tile windows inside each run of same-fold regions.

    Args:
        chrom_sizes: chromosome lengths (bp) of the genome.
        folds: regions with their fold (chrom, start, end, fold), from ``crossreg split``.
        seq_length, stride: window length and step (bp).

    Returns:
        DataFrame chrom, start, end, fold (unsorted across runs).

    Raises:
        InputError: bad geometry; folds on chromosomes the FASTA lacks.
    """
    if seq_length <= 0 or stride <= 0:
        raise InputError(f"seq_length and stride must be positive, got {seq_length} and {stride}")
    unknown = sorted(set(folds["chrom"]) - set(chrom_sizes))
    if unknown:
        raise InputError(
            f"folds name chromosome(s) not in the FASTA: {unknown[:3]} (the FASTA has e.g. {next(iter(chrom_sizes))!r})"
        )
    frames = []
    for run in fold_runs(folds).itertuples(index=False):
        starts = tile(run.start, min(run.end, chrom_sizes[run.chrom]), seq_length, stride)
        if len(starts):
            frames.append(pd.DataFrame({"chrom": run.chrom, "start": starts, "end": starts + seq_length, "fold": run.fold}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(WINDOW_COLUMNS, (str, np.int64, np.int64, str))})
    return pd.concat(frames, ignore_index=True)


def filter_windows(
    windows: pd.DataFrame,
    chrom_sizes: dict[str, int],
    n_runs: IntervalSet,
    masked: IntervalSet,
    max_n_fraction: float = 0.5,
    max_masked_fraction: float = 0.5,
) -> tuple[pd.DataFrame, WindowsReport]:
    """Annotate windows with their N and masked fractions and drop those above the limits.

    Args:
        windows: chrom, start, end, fold.
        chrom_sizes: fixes the output order (chromosomes as in the FASTA, then start).
        n_runs: non-ACGT runs per chromosome (see ``FastaGenome.n_runs``).
        masked: blacklist + unmappable intervals per chromosome (merged).
        max_n_fraction, max_masked_fraction: drop windows above these fractions.

    Returns:
        (kept windows with n_fraction and masked_fraction columns, report).

    Raises:
        InputError: no window left.
    """
    report = WindowsReport(tiled=len(windows))
    windows = windows.copy()
    windows["n_fraction"] = 0.0
    windows["masked_fraction"] = 0.0
    for chrom, rows in windows.groupby("chrom", sort=False).groups.items():
        starts = windows.loc[rows, "start"].to_numpy(np.int64)
        ends = windows.loc[rows, "end"].to_numpy(np.int64)
        length = ends - starts
        windows.loc[rows, "n_fraction"] = covered_bp(n_runs, chrom, starts, ends) / length
        windows.loc[rows, "masked_fraction"] = covered_bp(masked, chrom, starts, ends) / length
    too_many_n = windows["n_fraction"] > max_n_fraction
    too_masked = ~too_many_n & (windows["masked_fraction"] > max_masked_fraction)
    report.dropped_n = int(too_many_n.sum())
    report.dropped_masked = int(too_masked.sum())
    windows = windows[~(too_many_n | too_masked)]
    if windows.empty:
        raise InputError(
            f"no window left: {report.tiled} windows, {report.dropped_n} dropped for N fraction > "
            f"{max_n_fraction}, {report.dropped_masked} for masked fraction > {max_masked_fraction}"
        )
    chrom_order = {c: i for i, c in enumerate(chrom_sizes)}
    windows = windows.assign(_order=windows["chrom"].map(chrom_order)).sort_values(["_order", "start"], kind="stable")
    windows = windows.drop(columns="_order").reset_index(drop=True)
    report.kept_per_fold = {f: int((windows["fold"] == f).sum()) for f in FOLDS}
    return windows, report


def windows_step(
    inputs,
    out_path: str | os.PathLike,
    folds_path: str | os.PathLike | None = None,
    windows_bed: str | os.PathLike | None = None,
    seq_length: int = DEFAULT_SEQ_LENGTH,
    stride: int = DEFAULT_STRIDE,
    max_n_fraction: float = 0.5,
    max_masked_fraction: float = 0.5,
) -> WindowsReport:
    """``crossreg windows``: tile (from fold regions) or read (from a BED) windows, filter, write.

    Args:
        inputs: the genome's :class:`~crossreg.data.inputs.GenomeInputs`.
        out_path: windows BED to write.
        folds_path: folds BED from ``crossreg split`` (exactly one of this and windows_bed).
        windows_bed: windows with folds given by the user (each ``seq_length`` long).
        seq_length, stride, max_n_fraction, max_masked_fraction: see the functions above.
    """
    from crossreg.data.split import read_folds_bed  # noqa: PLC0415
    from crossreg.io.fasta import FastaGenome

    if (folds_path is None) == (windows_bed is None):
        raise InputError("give exactly one of --folds (regions from crossreg split) or --windows-bed (windows with folds)")
    sizes = inputs.chrom_sizes
    if windows_bed is not None:
        windows = read_windows_bed(windows_bed, sizes, seq_length)
    else:
        windows = tile_windows(sizes, read_folds_bed(folds_path), seq_length, stride)
    with FastaGenome(inputs.fasta) as fasta:
        n_runs = {c: fasta.n_runs(c) for c in sorted(set(windows["chrom"]))}
    windows, report = filter_windows(windows, sizes, n_runs, inputs.masked, max_n_fraction, max_masked_fraction)
    write_windows_bed(windows, out_path)
    return report


def write_windows_bed(windows: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write windows atomically as BED (see module docstring for the columns)."""
    has_fractions = "n_fraction" in windows.columns
    header = "#chrom\tstart\tend\tfold" + ("\tn_fraction\tmasked_fraction" if has_fractions else "")
    cols = WINDOW_COLUMNS + (["n_fraction", "masked_fraction"] if has_fractions else [])
    rows = (
        [r[0], r[1], r[2], r[3]] + ([f"{r[4]:.4f}", f"{r[5]:.4f}"] if has_fractions else [])
        for r in windows[cols].itertuples(index=False)
    )
    write_bed(path, rows, header=header)


def read_windows_bed(
    path: str | os.PathLike,
    chrom_sizes: dict[str, int] | None = None,
    seq_length: int | None = None,
) -> pd.DataFrame:
    """Read windows with their folds from a BED (``chrom start end fold ...``).

    Args:
        path: BED file; the 4th column must be train, valid or test.
        chrom_sizes: if given, every window must lie on a known chromosome and inside it.
        seq_length: if given, every window must have exactly this length.

    Returns:
        DataFrame chrom, start, end, fold in file order.

    Raises:
        InputError: naming the line of a bad fold, length, chromosome or interval.
    """
    path = Path(path)
    rows = []
    for line_no, fields in iter_bed_records(path, min_fields=4):
        chrom, start, end, fold = fields[0], int(fields[1]), int(fields[2]), fields[3]
        if fold not in FOLDS:
            raise InputError(f"{path}:{line_no}: fold {fold!r} is not one of {list(FOLDS)}")
        if seq_length is not None and end - start != seq_length:
            raise InputError(f"{path}:{line_no}: window {chrom}:{start}-{end} is {end - start} bp; expected seq_length {seq_length}")
        if chrom_sizes is not None:
            if chrom not in chrom_sizes:
                raise InputError(
                    f"{path}:{line_no}: chromosome {chrom!r} is not in the FASTA (which has e.g. {next(iter(chrom_sizes))!r})"
                )
            if end > chrom_sizes[chrom]:
                raise InputError(f"{path}:{line_no}: window {chrom}:{start}-{end} ends past the chromosome end {chrom_sizes[chrom]}")
        rows.append((chrom, start, end, fold))
    if not rows:
        raise InputError(f"{path}: no windows")
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)
