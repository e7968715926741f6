"""Shared fixtures: small genomes, bigWigs and BEDs written with the real libraries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pysam
import pytest

DATA = Path(__file__).parent / "data"
REAL_TINY = DATA / "real_tiny"


def write_fasta(path: Path, seqs: dict[str, str]) -> Path:
    """Plain FASTA + .fai (pysam)."""
    with open(path, "w") as out:
        for name, seq in seqs.items():
            out.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                out.write(seq[i : i + 60] + "\n")
    pysam.faidx(str(path))
    return path


def write_bigwig(path: Path, chrom_sizes: dict[str, int], values: dict[str, np.ndarray], runs: bool = False) -> Path:
    """bigWig with per-base entries, or one entry per run of equal values when ``runs``."""
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(chrom_sizes.items()), maxZooms=0)
    for chrom, vals in values.items():
        vals = np.asarray(vals, dtype=np.float64)
        keep = ~np.isnan(vals)
        if runs:
            change = np.flatnonzero((vals[1:] != vals[:-1]) | (keep[1:] != keep[:-1])) + 1
            starts = np.concatenate(([0], change))
            ends = np.concatenate((change, [len(vals)]))
            sel = keep[starts]
            if sel.any():
                bw.addEntries([chrom] * int(sel.sum()), starts[sel].tolist(), ends=ends[sel].tolist(), values=vals[starts][sel].tolist())
        else:
            pos = np.flatnonzero(keep)
            if len(pos):
                bw.addEntries([chrom] * len(pos), pos.tolist(), ends=(pos + 1).tolist(), values=vals[pos].tolist())
    bw.close()
    return path


def random_sequence(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
