"""Writers of the file formats users bring: FASTA, bigWig, BED, GTF, UCSC chain, VCF.

Every writer goes through :func:`crossreg.io.atomic.atomic_path`, so a crash never leaves a
half-written file, and writes deterministically (BGZF blocks and bigWig headers carry no
timestamps: the same input gives the same bytes). FASTA and VCF are bgzipped and indexed with
pysam (htslib), bigWig is written with pyBigWig: the libraries the readers use.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pyBigWig
import pysam

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_open, atomic_path

_ASCII = np.frombuffer(b"ACGTN", dtype=np.uint8)


def _as_bytes(seq: Any) -> bytes:
    """FASTA sequence text from bytes/str or a uint8 code array (A,C,G,T,N = 0..4)."""
    if isinstance(seq, bytes):
        return seq
    if isinstance(seq, str):
        return seq.encode("ascii")
    arr = np.asarray(seq)
    if arr.dtype != np.uint8 or (arr.size and int(arr.max()) > 4):
        raise InputError("write_fasta: sequences must be str, bytes or uint8 codes 0-4 (A,C,G,T,N)")
    return _ASCII[arr].tobytes()


def write_fasta(path: str | os.PathLike, records: Iterable[tuple[str, Any]], line_width: int = 60) -> None:
    """Write a bgzipped FASTA with its ``.fai`` and ``.gzi`` indexes beside it.

    Args:
        path: output, conventionally ending in ``.fa.gz``; ``path + '.fai'`` and
            ``path + '.gzi'`` are written too.
        records: (name, sequence) pairs; sequence as str, bytes or uint8 codes (0-4 = ACGTN).
        line_width: bases per line.
    """
    path = Path(path)
    fai, gzi = Path(f"{path}.fai"), Path(f"{path}.gzi")
    with atomic_path(path) as tmp:
        with pysam.BGZFile(str(tmp), "wb") as out:
            for name, seq in records:
                text = _as_bytes(seq)
                out.write(b">" + name.encode("ascii") + b"\n")
                lines = [text[i:i + line_width] for i in range(0, len(text), line_width)]
                out.write(b"\n".join(lines) + b"\n")
        with atomic_path(fai) as tmp_fai, atomic_path(gzi) as tmp_gzi:
            pysam.faidx(str(tmp), "--fai-idx", str(tmp_fai), "--gzi-idx", str(tmp_gzi))


class BigWigWriter:
    """Write one bigWig chromosome by chromosome (use as a context manager).

    Entries are bedGraph-like runs: ``[start, end)`` with one float value each. Chromosomes
    must be added in header order, runs sorted and non-overlapping within a chromosome.

    Args:
        path: output ``.bw``.
        chrom_sizes: (name, length) for every chromosome of the genome (all go in the header).
    """

    def __init__(self, path: str | os.PathLike, chrom_sizes: Sequence[tuple[str, int]]):
        self.path = Path(path)
        self.sizes = [(str(n), int(s)) for n, s in chrom_sizes]
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        self._bw = pyBigWig.open(str(self._tmp), "w")
        self._bw.addHeader(self.sizes, maxZooms=10)
        self._order = {n: i for i, (n, _) in enumerate(self.sizes)}
        self._last = -1

    def add(self, chrom: str, starts: np.ndarray, ends: np.ndarray, values: np.ndarray) -> None:
        """Add runs on one chromosome.

        Args:
            chrom: chromosome name (from the header, in order).
            starts, ends: int64 (n,) 0-based half-open run bounds.
            values: float (n,) value of each run.
        """
        if chrom not in self._order:
            raise InputError(f"{self.path}: chromosome {chrom!r} is not in the bigWig header")
        idx = self._order[chrom]
        if idx < self._last:
            raise InputError(f"{self.path}: chromosome {chrom!r} added out of header order")
        self._last = idx
        starts = np.asarray(starts, dtype=np.int64)
        if starts.size == 0:
            return
        ends = np.asarray(ends, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        if np.any(ends <= starts) or np.any(starts[1:] < ends[:-1]) or ends[-1] > self.sizes[idx][1]:
            raise InputError(f"{self.path}: runs on {chrom} must be sorted, non-empty, non-overlapping, in bounds")
        self._bw.addEntries([chrom] * starts.size, starts, ends=ends, values=values)

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._bw.close()
        self._stack.close()

    def abort(self) -> None:
        """Discard the partial file."""
        with contextlib.suppress(Exception):
            self._bw.close()
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> "BigWigWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def merge_runs(starts: np.ndarray, ends: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge adjacent runs (end == next start) that carry the same value.

    Returns:
        (starts, ends, values) with fewer, longer runs.
    """
    if starts.size == 0:
        return starts, ends, values
    same = (starts[1:] == ends[:-1]) & (values[1:] == values[:-1])
    first = np.concatenate([[True], ~same])
    idx = np.flatnonzero(first)
    last = np.concatenate([idx[1:] - 1, [starts.size - 1]])
    return starts[idx], ends[last], values[idx]


def write_bed(path: str | os.PathLike, rows: Iterable[Sequence[Any]], header: str | None = None) -> None:
    """Write a tab-separated BED (0-based, half-open) atomically; rows are (chrom, start, end, ...).

    Args:
        path: output.
        rows: the records.
        header: optional first line (e.g. ``#chrom\tstart\tend``).
    """
    with atomic_open(path, "w") as out:
        if header:
            out.write(header.rstrip("\n") + "\n")
        for row in rows:
            out.write("\t".join(str(x) for x in row) + "\n")


def _gtf_attrs(attrs: Mapping[str, Any]) -> str:
    return " ".join(f'{k} "{v}";' for k, v in attrs.items())


def write_gtf(path: str | os.PathLike, records: Iterable[Sequence[Any]]) -> None:
    """Write a GTF.

    Args:
        path: output.
        records: (seqname, source, feature, start, end, score, strand, frame, attributes) with
            1-based inclusive ``start``/``end`` and ``attributes`` a mapping (written as
            ``key "value";``).
    """
    with atomic_open(path, "w") as out:
        for rec in records:
            *fields, attrs = rec
            out.write("\t".join(str(x) for x in fields) + "\t" + _gtf_attrs(attrs) + "\n")


def write_chain(path: str | os.PathLike, chains: Iterable[Any]) -> None:
    """Write a UCSC chain file.

    Args:
        path: output.
        chains: objects with attributes ``score, t_name, t_size, t_start, t_end, q_name, q_size,
            q_strand, q_start, q_end, id`` and int arrays ``sizes`` (k,), ``dt``, ``dq`` (k-1,);
            the target strand is always ``+``.
    """
    with atomic_open(path, "w") as out:
        for c in chains:
            out.write(f"chain {c.score} {c.t_name} {c.t_size} + {c.t_start} {c.t_end} "
                      f"{c.q_name} {c.q_size} {c.q_strand} {c.q_start} {c.q_end} {c.id}\n")
            k = len(c.sizes)
            lines = [f"{c.sizes[i]}\t{c.dt[i]}\t{c.dq[i]}" for i in range(k - 1)]
            lines.append(f"{c.sizes[k - 1]}")
            out.write("\n".join(lines) + "\n\n")


def write_vcf(path: str | os.PathLike, contigs: Sequence[tuple[str, int]], records: Iterable[Sequence[Any]],
              meta: Sequence[str] = (), info: Sequence[str] = ()) -> None:
    """Write a bgzipped, tabix-indexed VCFv4.2 (sites only).

    Args:
        path: output ``.vcf.gz``; ``path + '.tbi'`` is written too.
        contigs: (name, length) in the order records are sorted by.
        records: (chrom, pos 1-based, id, ref, alt, qual, filter, info) sorted by contig and pos.
        meta: extra ``##key=value`` header lines (without ``##``).
        info: ``##INFO=<...>`` definitions (the part inside ``<>``).
    """
    path = Path(path)
    order = {name: i for i, (name, _) in enumerate(contigs)}
    header = ["##fileformat=VCFv4.2"] + [f"##{m}" for m in meta]
    header += [f"##contig=<ID={n},length={ln}>" for n, ln in contigs]
    header += [f"##INFO=<{i}>" for i in info]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    tbi = Path(f"{path}.tbi")
    with atomic_path(path) as tmp:
        last = (-1, -1)
        with pysam.BGZFile(str(tmp), "wb") as out:
            out.write(("\n".join(header) + "\n").encode("ascii"))
            for rec in records:
                key = (order.get(rec[0], -1), int(rec[1]))
                if key[0] < 0:
                    raise InputError(f"{path}: record on {rec[0]!r} which has no ##contig line")
                if key < last:
                    raise InputError(f"{path}: records must be sorted by contig then position ({rec[0]}:{rec[1]})")
                last = key
                out.write(("\t".join(str(x) for x in rec) + "\n").encode("ascii"))
        with atomic_path(tbi) as tmp_tbi:
            pysam.tabix_index(str(tmp), preset="vcf", force=True)
            os.replace(f"{tmp}.tbi", tmp_tbi)


@contextlib.contextmanager
def bigwig_writers(paths_and_sizes: Iterable[tuple[str | os.PathLike, Sequence[tuple[str, int]]]]
                   ) -> Iterator[list[BigWigWriter]]:
    """Open several :class:`BigWigWriter` at once; all are finished together or all discarded."""
    writers: list[BigWigWriter] = []
    try:
        for p, sizes in paths_and_sizes:
            writers.append(BigWigWriter(p, sizes))
        yield writers
    except BaseException:
        for w in writers:
            w.abort()
        raise
    for w in writers:
        w.close()
