"""Transcription start sites: reading them (BED or GTF) and finding them in predicted windows.

A TSS is one base (0-based position). Formats:

* **BED**, exactly 6 tab-separated columns ``chrom start end name score strand`` (as
  ``crossreg simulate``'s ``tss.bed``: ``chrom tss tss+1 gene_id 0 strand``); the TSS is
  ``start`` on ``+`` or ``.`` strands and ``end - 1`` on ``-`` (the same base for 1 bp
  intervals). ``#``, ``track`` and ``browser`` lines are skipped.
* **GTF** (``.gtf``/``.gtf.gz``, or any file whose first data line has 9 columns and a
  ``gene_id`` attribute): the 5' end of every ``transcript`` line (``start - 1`` on ``+``,
  ``end - 1`` on ``-``, GTF being 1-based inclusive), named by its ``gene_id``.

Identical (chrom, position, strand, name) records are kept once, so the transcripts of one
gene that share a start count as one TSS.

A TSS is *in* a window when its bin lies in the window's predicted region: bin ``b`` covers
``[target_start + b * bin_width, target_start + (b + 1) * bin_width)``. A TSS inside several
overlapping windows is assigned to one only: the window whose predicted region's centre is
nearest the TSS base (ties: the window starting first), the rule of ``crossreg predict``'s
bigWig output.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crossreg.errors import InputError

_GENE_ID = re.compile(r'gene_id\s+"([^"]*)"|gene_id\s+([^;\s]+)')


@dataclass
class TssSet:
    """TSSs of one genome.

    Attributes:
        path: the file they were read from.
        chrom: str [n] chromosome names.
        pos: int64 [n] 0-based TSS base.
        strand: str [n] ``+``, ``-`` or ``.``.
        name: str [n] gene name or id.
    """

    path: Path
    chrom: np.ndarray
    pos: np.ndarray
    strand: np.ndarray
    name: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


@dataclass
class TssLocations:
    """TSSs found in windows, one entry per TSS (never repeated).

    Attributes:
        tss: int64 [m] row of the TSS in its :class:`TssSet`, ascending.
        window: int64 [m] row of the window (in the windows' order) the TSS is assigned to.
        bin: int64 [m] the TSS's bin in that window's predicted region, ``0 <= bin < bins``.
    """

    tss: np.ndarray
    window: np.ndarray
    bin: np.ndarray

    def __len__(self) -> int:
        return len(self.tss)


def _open_text(path: Path):
    from crossreg.io.bed import _open_text as open_text

    return open_text(path)


def _data_lines(path: Path):
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            yield line_no, line.rstrip("\r\n").split("\t")


def _is_gtf(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith((".gtf", ".gtf.gz", ".gff", ".gff.gz")):
        return True
    if name.endswith((".bed", ".bed.gz")):
        return False
    for _, fields in _data_lines(path):
        return len(fields) == 9 and "gene_id" in fields[8]
    return False


def _make(path: Path, rows: list[tuple[str, int, str, str]]) -> TssSet:
    unique = list(dict.fromkeys(rows))
    if not unique:
        text = np.zeros(0, dtype=object)
        return TssSet(path, text, np.zeros(0, np.int64), text.copy(), text.copy())
    chrom, pos, strand, name = zip(*unique)
    return TssSet(
        path,
        np.array(chrom, dtype=object),
        np.array(pos, dtype=np.int64),
        np.array(strand, dtype=object),
        np.array(name, dtype=object),
    )


def read_tss_bed(path: str | os.PathLike) -> TssSet:
    """Read a 6-column TSS BED (see module docstring).

    Raises:
        InputError: missing file; a line without exactly 6 columns, with non-integer or
            invalid coordinates, or with a strand other than ``+``, ``-`` or ``.``; each
            naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"TSS file {path}: no such file")
    rows = []
    for line_no, fields in _data_lines(path):
        if len(fields) != 6:
            raise InputError(
                f"{path}:{line_no}: expected 6 tab-separated columns (chrom start end name score strand) "
                f"in a TSS BED, got {len(fields)}"
            )
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            raise InputError(f"{path}:{line_no}: start/end must be integers, got {fields[1]!r}, {fields[2]!r}") from None
        if start < 0 or end <= start:
            raise InputError(f"{path}:{line_no}: invalid interval {fields[0]}:{start}-{end} (expected 0 <= start < end)")
        strand = fields[5]
        if strand not in ("+", "-", "."):
            raise InputError(f"{path}:{line_no}: strand must be '+', '-' or '.', got {strand!r}")
        rows.append((fields[0], end - 1 if strand == "-" else start, strand, fields[3]))
    return _make(path, rows)


def read_tss_gtf(path: str | os.PathLike) -> TssSet:
    """Read the 5' ends of a GTF's ``transcript`` lines (see module docstring).

    Raises:
        InputError: missing file; a line without 9 columns; a transcript line with
            non-integer or invalid coordinates, a strand other than ``+``/``-`` or no
            ``gene_id``; each naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"TSS file {path}: no such file")
    rows = []
    for line_no, fields in _data_lines(path):
        if len(fields) != 9:
            raise InputError(f"{path}:{line_no}: expected 9 tab-separated GTF columns, got {len(fields)}")
        if fields[2] != "transcript":
            continue
        try:
            start, end = int(fields[3]), int(fields[4])
        except ValueError:
            raise InputError(f"{path}:{line_no}: start/end must be integers, got {fields[3]!r}, {fields[4]!r}") from None
        if start < 1 or end < start:
            raise InputError(f"{path}:{line_no}: invalid GTF interval {fields[0]}:{start}-{end} (expected 1 <= start <= end)")
        strand = fields[6]
        if strand not in ("+", "-"):
            raise InputError(f"{path}:{line_no}: transcript strand must be '+' or '-', got {strand!r}")
        match = _GENE_ID.search(fields[8])
        if match is None:
            raise InputError(f"{path}:{line_no}: transcript line without a gene_id attribute")
        name = match.group(1) if match.group(1) is not None else match.group(2)
        rows.append((fields[0], start - 1 if strand == "+" else end - 1, strand, name))
    return _make(path, rows)


def read_tss(path: str | os.PathLike) -> TssSet:
    """Read TSSs from a BED or a GTF (chosen by extension, else by the first data line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"TSS file {path}: no such file")
    return read_tss_gtf(path) if _is_gtf(path) else read_tss_bed(path)


def locate_tss(
    tss_chrom,
    tss_pos,
    window_chrom,
    target_start,
    bins: int,
    bin_width: int,
) -> TssLocations:
    """Assign TSSs to the predicted region of the window nearest them (see module docstring).

    Args:
        tss_chrom: str [n] chromosome of each TSS.
        tss_pos: int [n] 0-based TSS base.
        window_chrom: str [w] chromosome of each window.
        target_start: int [w] first base of each window's predicted region (bp).
        bins: predicted bins per window.
        bin_width: bp per bin.

    Returns:
        :class:`TssLocations` of the TSSs inside at least one predicted region; TSSs outside
        every window are left out.
    """
    tss_chrom = np.asarray(tss_chrom, dtype=object)
    tss_pos = np.asarray(tss_pos, dtype=np.int64)
    window_chrom = np.asarray(window_chrom, dtype=object)
    target_start = np.asarray(target_start, dtype=np.int64)
    span = int(bins) * int(bin_width)
    out_t, out_w, out_b = [], [], []
    for chrom in np.unique(window_chrom.astype(str)) if len(window_chrom) else []:
        rows = np.flatnonzero(window_chrom == chrom)
        order = rows[np.argsort(target_start[rows], kind="stable")]
        starts = target_start[order]
        t_idx = np.flatnonzero(tss_chrom == chrom)
        if not len(t_idx):
            continue
        pos = tss_pos[t_idx]
        lo = np.searchsorted(starts, pos - span, side="right")  # first window with start > pos - span
        hi = np.searchsorted(starts, pos, side="right")  # windows with start <= pos
        inside = hi > lo
        t_idx, pos, lo, hi = t_idx[inside], pos[inside], lo[inside], hi[inside]
        if not len(t_idx):
            continue
        # centres are sorted like the starts; the nearest is next to where the base would go
        twice_centre = 2 * starts + span  # 2 * centre, exact in integers
        twice_base = 2 * pos + 1
        j = np.searchsorted(twice_centre, twice_base, side="left")
        left = np.clip(j - 1, lo, hi - 1)
        right = np.clip(j, lo, hi - 1)
        d_left = np.abs(twice_base - twice_centre[left])
        d_right = np.abs(twice_base - twice_centre[right])
        pick = np.where(d_right < d_left, right, left)
        # equal starts (duplicate windows): the first of them in the windows' order
        pick = np.searchsorted(starts, starts[pick], side="left")
        window = order[pick]
        out_t.append(t_idx)
        out_w.append(window)
        out_b.append((pos - target_start[window]) // bin_width)
    if not out_t:
        empty = np.zeros(0, np.int64)
        return TssLocations(empty, empty.copy(), empty.copy())
    t = np.concatenate(out_t)
    order = np.argsort(t, kind="stable")
    window = np.concatenate(out_w)[order].astype(np.int64)
    return TssLocations(t[order].astype(np.int64), window, np.concatenate(out_b)[order].astype(np.int64))


def tss_bin_sums(values, window, bin, radius: int = 1) -> np.ndarray:
    """Sum of each TSS's bin and its ``radius`` neighbours either side, clipped at the window edge.

    Args:
        values: float [n_windows, bins, tracks] (predictions or targets of a batch).
        window: int [m] row in ``values`` of each TSS's window.
        bin: int [m] the TSS's bin.
        radius: neighbours each side (1: 3 bins).

    Returns:
        float64 [m, tracks].
    """
    values = np.asarray(values)
    window = np.asarray(window, dtype=np.int64)
    bin = np.asarray(bin, dtype=np.int64)
    n_bins = values.shape[1]
    out = np.zeros((len(window), values.shape[2]), dtype=np.float64)
    for offset in range(-radius, radius + 1):
        b = bin + offset
        ok = (b >= 0) & (b < n_bins)
        if ok.any():
            out[ok] += values[window[ok], b[ok]].astype(np.float64)
    return out
