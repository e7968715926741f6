"""bigWig output of predictions: one file per chosen track, bins at their genomic coordinates.

Where windows overlap, each base takes the prediction of the window whose *predicted region*
(the part of the window the model outputs bins for, ``[target_start, target_start + bins *
bin_size)``) has its centre nearest to the base; ties go to the leftmost window. With the
usual symmetric crop this is the window whose centre is nearest. Each window therefore owns
one contiguous stretch of the chromosome (a Voronoi cell of the window centres, clipped to
its own predicted region), so bins near window edges, which see the least sequence context,
are replaced by bins from a neighbouring window wherever one overlaps them. The stretches do
not overlap; bins cut at a stretch's edge are written as shorter intervals. Bases covered by
no window get no entry (pyBigWig reads them as NaN). Entries are written sorted by the
header's chromosome order, then position, as the bigWig format requires.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_path
from crossreg.io.track_select import resolve_tracks

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def select_tracks(requested: Sequence[str | int], track_ids: Sequence[str]) -> list[int]:
    """Resolve bigWig track identifiers or indices to output-track indices.

    See :func:`crossreg.io.track_select.resolve_tracks` (distinct indices, in the order requested).
    """
    return resolve_tracks(requested, track_ids, "bigWig track")


def bigwig_names(track_ids: Sequence[str], selected: Sequence[int]) -> list[str]:
    """File names ``<identifier>.bw`` (characters other than ``A-Za-z0-9._+-`` become ``_``).

    Args:
        track_ids: all identifiers.
        selected: chosen track indices.

    Returns:
        One distinct file name per selected track (``<identifier>.<index>.bw`` where two
        identifiers sanitise to the same name).
    """
    names: list[str] = []
    for i in selected:
        name = _UNSAFE.sub("_", str(track_ids[i])) or f"track_{i}"
        if name.startswith("."):
            name = "_" + name[1:]
        if f"{name}.bw" in names:
            name = f"{name}.{i}"
        names.append(f"{name}.bw")
    return names


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Chromosome sizes from a two-column ``chrom<TAB>size`` file (UCSC chrom.sizes or a ``.fai``).

    Args:
        path: the file; extra columns are ignored, ``#`` lines skipped.

    Returns:
        Chromosome name -> length (bp), in file order.

    Raises:
        InputError: missing file, a short line or a non-integer size (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"chromosome sizes {path}: no such file")
    sizes: dict[str, int] = {}
    with open(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split()
            try:
                size = int(fields[1])
            except (IndexError, ValueError):
                raise InputError(f"{path}:{line_no}: expected 'chrom<TAB>size' with an integer size") from None
            if size <= 0:
                raise InputError(f"{path}:{line_no}: chromosome size must be positive, got {size}")
            sizes[fields[0]] = size
    if not sizes:
        raise InputError(f"chromosome sizes {path}: no chromosomes")
    return sizes


def ownership(target_start: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of genome each window's predictions are written for (one chromosome).

    Args:
        target_start: int64 [n] genomic start (bp) of each window's bin 0, **sorted**.
        span: predicted region length, bp (``bins * bin_size``).

    Returns:
        ``(lo, hi)`` int64 [n]: window ``i`` owns ``[lo[i], hi[i])`` (empty when
        ``lo >= hi``); stretches are disjoint, sorted, and cover the union of the predicted
        regions. A base ``p`` goes to the window whose region centre is nearest to
        ``p + 0.5``, the leftmost on a tie.
    """
    starts = np.asarray(target_start, dtype=np.int64)
    doubled_centre = 2 * starts + span  # 2 x centre, an integer
    # base p is nearer to (or as near to) centre i than to centre i+1 iff 4p + 2 <= C_i + C_{i+1}
    cut = (doubled_centre[:-1] + doubled_centre[1:] - 2) // 4 + 1
    lo = np.maximum(starts, np.concatenate(([np.iinfo(np.int64).min], cut)))
    hi = np.minimum(starts + span, np.concatenate((cut, [np.iinfo(np.int64).max])))
    return lo, hi


def window_entries(
    target_start: int, lo: int, hi: int, bin_size: int, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """bigWig entries of one window's bins clipped to its stretch ``[lo, hi)``.

    Args:
        target_start: genomic start (bp) of bin 0.
        lo, hi: the owned stretch (see :func:`ownership`).
        bin_size: bp per bin.
        values: [bins, k] predictions of the k selected tracks.

    Returns:
        ``(starts int64 [m], ends int64 [m], values float32 [m, k])``.
    """
    if hi <= lo:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, values.shape[1]), np.float32)
    first = (lo - target_start) // bin_size
    last = (hi - 1 - target_start) // bin_size
    b = np.arange(first, last + 1, dtype=np.int64)
    starts = np.maximum(target_start + b * bin_size, lo)
    ends = np.minimum(target_start + (b + 1) * bin_size, hi)
    return starts, ends, np.asarray(values[b], dtype=np.float32)


def write_bigwigs(
    preds,
    chroms: np.ndarray,
    target_start: np.ndarray,
    bin_size: int,
    selected: Sequence[int],
    paths: Sequence[Path],
    chrom_sizes: dict[str, int],
    progress=None,
) -> None:
    """Write one bigWig per selected track from stored predictions, atomically.

    Args:
        preds: array-like [windows, bins, tracks] (an h5py dataset is read one window at a
            time).
        chroms: str [windows] chromosome of each window.
        target_start: int64 [windows] genomic start (bp) of each window's bin 0.
        bin_size: bp per bin.
        selected: track indices, one per path.
        paths: output bigWig files.
        chrom_sizes: every chromosome of the genome, in header order; each window's bins
            must lie inside its chromosome.
        progress: optional callable ``progress(n_windows_done)``.

    Raises:
        InputError: a window on a chromosome missing from ``chrom_sizes`` or past its end.
    """
    import pyBigWig

    bins = int(preds.shape[1])
    span = bins * bin_size
    order_of = {c: i for i, c in enumerate(chrom_sizes)}
    missing = sorted(set(chroms) - set(order_of))
    if missing:
        raise InputError(
            f"window chromosome(s) {missing[:3]} are not in the chromosome sizes "
            f"(which have e.g. {next(iter(chrom_sizes))!r}); give the genome's FASTA or chromosome sizes"
        )
    tstart = np.asarray(target_start, dtype=np.int64)
    order = sorted(range(len(chroms)), key=lambda w: (order_of[chroms[w]], int(tstart[w]), w))
    sel = np.asarray(selected, dtype=np.int64)
    with contextlib.ExitStack() as stack:
        writers = []
        for path in paths:
            tmp = stack.enter_context(atomic_path(path, suffix=".bw"))
            bw = pyBigWig.open(str(tmp), "w")
            stack.callback(bw.close)  # closes (flushes) before the rename of its atomic path
            bw.addHeader([(c, int(s)) for c, s in chrom_sizes.items()], maxZooms=10)
            writers.append(bw)
        done = 0
        i = 0
        while i < len(order):
            chrom = chroms[order[i]]
            j = i
            while j < len(order) and chroms[order[j]] == chrom:
                j += 1
            rows = order[i:j]
            lo, hi = ownership(tstart[rows], span)
            parts = []
            for w, a, b in zip(rows, lo, hi):
                if tstart[w] < 0 or tstart[w] + span > chrom_sizes[chrom]:
                    raise InputError(
                        f"window {chrom}:{tstart[w]} predicted region ends past the chromosome end "
                        f"{chrom_sizes[chrom]} given by the chromosome sizes"
                    )
                if b > a:
                    values = np.asarray(preds[w])[:, sel]
                    parts.append(window_entries(int(tstart[w]), int(a), int(b), bin_size, values))
                done += 1
                if progress is not None:
                    progress(done)
            if parts:
                starts = np.concatenate([p[0] for p in parts])
                ends = np.concatenate([p[1] for p in parts])
                values = np.concatenate([p[2] for p in parts]).astype(np.float64)
                names = [chrom] * len(starts)
                for k, bw in enumerate(writers):
                    bw.addEntries(names, starts, ends=ends, values=np.ascontiguousarray(values[:, k]))
            i = j
