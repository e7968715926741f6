"""Reference FASTA access through pysam (plain or bgzipped, with .fai)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pysam

from crossreg.errors import InputError
from crossreg.io.bed import merge_intervals

# Bytes counted as "N": anything not A/C/G/T in either case.
_ACGT = np.zeros(256, dtype=bool)
for _b in b"ACGTacgt":
    _ACGT[_b] = True


class FastaGenome:
    """A reference genome opened for random access.

    Coordinates are 0-based half-open. Regions reaching past a chromosome end are padded
    with ``N`` so that every window has its full length.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"FASTA {self.path}: no such file")
        try:
            self._fasta = pysam.FastaFile(str(self.path))
        except (OSError, ValueError) as err:
            raise InputError(
                f"FASTA {self.path}: cannot open ({err}); expected plain or bgzip-compressed FASTA "
                "(bgzip, not gzip) with a .fai index (samtools faidx)"
            ) from None
        self.chrom_sizes: dict[str, int] = dict(zip(self._fasta.references, self._fasta.lengths))
        if not self.chrom_sizes:
            raise InputError(f"FASTA {self.path}: no sequences")

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> "FastaGenome":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(self, chrom: str, start: int, end: int) -> bytes:
        """Sequence of ``chrom:[start, end)`` as ASCII bytes, N-padded outside the chromosome.

        Returns:
            bytes of length ``end - start``; original case kept.
        """
        if chrom not in self.chrom_sizes:
            raise InputError(f"FASTA {self.path}: no chromosome {chrom!r} (it has e.g. {next(iter(self.chrom_sizes))!r})")
        size = self.chrom_sizes[chrom]
        lo, hi = max(start, 0), min(end, size)
        body = self._fasta.fetch(chrom, lo, hi).encode("ascii") if hi > lo else b""
        return b"N" * (lo - start) + body + b"N" * (end - hi) if (lo > start or hi < end) else body

    def n_runs(self, chrom: str, chunk: int = 8_000_000) -> np.ndarray:
        """Intervals of non-ACGT bases (N, IUPAC codes) on one chromosome.

        Returns:
            int64 array [n, 2] of (start, end), sorted, merged.
        """
        size = self.chrom_sizes[chrom]
        pieces = []
        for lo in range(0, size, chunk):
            hi = min(lo + chunk, size)
            codes = np.frombuffer(self._fasta.fetch(chrom, lo, hi).encode("ascii"), dtype=np.uint8)
            is_n = ~_ACGT[codes]
            if not is_n.any():
                continue
            edges = np.flatnonzero(np.diff(np.concatenate(([0], is_n.view(np.int8), [0]))))
            pieces.append(edges.reshape(-1, 2).astype(np.int64) + lo)
        if not pieces:
            return np.zeros((0, 2), dtype=np.int64)
        # runs that touch across chunk boundaries are joined by the merge
        return merge_intervals(np.concatenate(pieces))


def chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Chromosome name -> length (bp) of a FASTA, read from its index."""
    with FastaGenome(path) as fasta:
        return dict(fasta.chrom_sizes)
