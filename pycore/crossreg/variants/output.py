"""Variant-score files: the HDF5 layout, the TSV, and gathering chunk files into one.

HDF5 (``crossreg-variant-scores`` version 1), one row per scored SNP in VCF order:

=================  ===========================  ============================================
dataset            dtype, shape                 meaning
=================  ===========================  ============================================
``snp``            UTF-8 [snps]                 VCF ID, or ``chrom:pos:ref:alt`` when ``.``
``chr``            UTF-8 [snps]                 chromosome
``pos``            int64 [snps]                 1-based position
``ref_allele``     UTF-8 [snps]                 REF as in the VCF
``alt_allele``     UTF-8 [snps]                 ALT as in the VCF
``flipped``        bool [snps]                  REF mismatched the FASTA and ALT matched it
                                                (``ref_mismatch="flip"``); still ALT - REF
``target_ids``     UTF-8 [tracks]               track identifiers
``target_labels``  UTF-8 [tracks]               track descriptions
``SAD``            float16 [snps, tracks]       sum over bins of ALT - REF, ensemble mean
``logSAD``, ``L2`` float16 [snps, tracks]       when asked
=================  ===========================  ============================================

Strings are fixed-length UTF-8 (read with ``h5["snp"].asstr()[:]``); every dataset is
chunked with HDF5 fletcher32 checksums (score matrices also lzf-compressed). Values beyond
+-65,504 saturate there and are counted in ``saturated_values``. The attributes are listed
in :data:`SCORE_ATTRS` order by :func:`crossreg.variants.core.score_variants`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import h5py
import numpy as np

from crossreg.io.scores import SCORES_FORMAT, SCORES_FORMAT_VERSION, open_scores

FLOAT16_MAX = 65504.0
__all__ = ["FLOAT16_MAX", "SCORES_FORMAT", "SCORES_FORMAT_VERSION", "SNP_FIELDS", "ScoreWriter", "SnpTable",
           "TSV_DEFAULT_TRACKS", "default_tsv_tracks", "json_attr", "open_scores", "read_table", "rows_per_chunk",
           "write_tsv"]
TSV_DEFAULT_TRACKS = 10
SNP_FIELDS = ("snp", "chr", "pos", "ref_allele", "alt_allele", "flipped")
_STRING_FIELDS = ("snp", "chr", "ref_allele", "alt_allele")


def rows_per_chunk(n_tracks: int) -> int:
    """HDF5 chunk rows of the score matrices: about 256 KiB of float16 per chunk, at most 1024 rows."""
    return max(1, min(1024, (1 << 17) // max(1, n_tracks)))


def _utf8(values: Sequence[str]) -> np.ndarray:
    """Fixed-length UTF-8 bytes (itemsize = the longest, at least 1)."""
    encoded = [str(v).encode("utf-8") for v in values]
    width = max([1] + [len(e) for e in encoded])
    return np.array(encoded, dtype=f"S{width}")


def _create(h5: h5py.File, name: str, data: np.ndarray, rows: int, compress: bool = False) -> h5py.Dataset:
    """A chunked dataset with fletcher32 (resizable first axis, so empty ones are allowed)."""
    data = np.asarray(data)
    chunks = (max(1, min(rows, len(data) or 1)),) + tuple(max(1, d) for d in data.shape[1:])
    kwargs = dict(compression="lzf", shuffle=True) if compress else {}
    if data.dtype.kind == "S":
        data = data.astype(h5py.string_dtype("utf-8", data.dtype.itemsize))
    return h5.create_dataset(
        name, data=data, chunks=chunks, maxshape=(None,) + data.shape[1:], fletcher32=True, **kwargs
    )


@dataclass
class SnpTable:
    """Per-SNP columns of a score file (not the scores), in row order."""

    snp: list[str] = field(default_factory=list)
    chr: list[str] = field(default_factory=list)
    pos: list[int] = field(default_factory=list)
    ref_allele: list[str] = field(default_factory=list)
    alt_allele: list[str] = field(default_factory=list)
    flipped: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.snp)


class ScoreWriter:
    """Writes one score file: SNP columns, track names, attributes, then score rows in order.

    Args:
        h5: an open, empty HDF5 file.
        table: the SNP columns (their count fixes the number of rows).
        track_ids, track_labels: per output track.
        stats: the score matrices to create (``SAD`` first).
        attrs: file attributes.
    """

    def __init__(self, h5: h5py.File, table: SnpTable, track_ids: Sequence[str], track_labels: Sequence[str],
                 stats: Sequence[str], attrs: dict):
        n, t = len(table), len(track_ids)
        rows = rows_per_chunk(t)
        for name in _STRING_FIELDS:
            _create(h5, name, _utf8(getattr(table, name)), rows=65536)
        _create(h5, "pos", np.asarray(table.pos, dtype=np.int64), rows=65536)
        _create(h5, "flipped", np.asarray(table.flipped, dtype=bool), rows=65536)
        _create(h5, "target_ids", _utf8(track_ids), rows=65536)
        _create(h5, "target_labels", _utf8(track_labels), rows=65536)
        self.datasets = {}
        for stat in stats:
            self.datasets[stat] = h5.create_dataset(
                stat, shape=(n, t), dtype="float16", chunks=(max(1, min(rows, n or 1)), max(1, t)),
                maxshape=(None, t), fletcher32=True, compression="lzf", shuffle=True,
            )
        h5.attrs.update(attrs)
        self.h5 = h5
        self.n = n
        self.rows = rows
        self.saturated = {s: 0 for s in stats}
        self._buffer: dict[str, list[np.ndarray]] = {s: [] for s in stats}
        self._next = 0  # first row not yet written

    def add(self, scores: dict[str, np.ndarray]) -> None:
        """Append the next rows: stat -> float32 [k, tracks] (or [tracks] for one row)."""
        for stat, values in scores.items():
            values = np.asarray(values, dtype=np.float32)
            self._buffer[stat].append(values.reshape(-1, values.shape[-1]))
        if sum(len(b) for b in self._buffer["SAD"]) >= self.rows:
            self.flush()

    def add_float16(self, scores: dict[str, np.ndarray]) -> None:
        """Append rows already stored as float16 (gathering): copied unchanged."""
        k = None
        for stat, values in scores.items():
            values = np.asarray(values)
            k = len(values)
            self.datasets[stat][self._next : self._next + k] = values
        self._next += k or 0

    def flush(self) -> None:
        if not self._buffer["SAD"]:
            return
        k = 0
        for stat, parts in self._buffer.items():
            block = np.concatenate(parts)
            k = len(block)
            self.saturated[stat] += int(np.count_nonzero(np.abs(block) > FLOAT16_MAX))
            self.datasets[stat][self._next : self._next + k] = np.clip(block, -FLOAT16_MAX, FLOAT16_MAX).astype(np.float16)
            self._buffer[stat] = []
        self._next += k

    def close(self, extra_attrs: dict | None = None) -> None:
        """Write buffered rows and check that every row was written."""
        self.flush()
        if self._next != self.n:
            raise RuntimeError(f"score file: {self._next} rows written for {self.n} SNPs")
        if extra_attrs:
            self.h5.attrs.update(extra_attrs)


def read_table(h5: h5py.File) -> SnpTable:
    """The SNP columns of an open score file."""
    return SnpTable(
        *[h5[name].asstr()[:].tolist() for name in ("snp", "chr")],
        h5["pos"][:].astype(np.int64).tolist(),
        *[h5[name].asstr()[:].tolist() for name in ("ref_allele", "alt_allele")],
        h5["flipped"][:].astype(bool).tolist(),
    )


def _tsv_value(v: np.float16) -> str:
    return f"{float(v):.6g}"


def write_tsv(h5: h5py.File, out, tracks: Sequence[int]) -> int:
    """Write the TSV of an open score file to a text handle.

    Columns: ``snp chr pos ref alt flipped`` (flipped as 0/1), then ``SAD_<identifier>`` for
    each chosen track, with the stored float16 values (6 significant digits, which
    round-trip). Returns the number of rows.
    """
    ids = h5["target_ids"].asstr()[:].tolist()
    table = read_table(h5)
    out.write("\t".join(["snp", "chr", "pos", "ref", "alt", "flipped"] + [f"SAD_{ids[i]}" for i in tracks]) + "\n")
    sad = h5["SAD"]
    cols = np.asarray(tracks, dtype=np.int64)
    step = 4096
    for lo in range(0, len(table), step):
        block = sad[lo : lo + step][:, cols] if len(cols) else np.zeros((min(step, len(table) - lo), 0), np.float16)
        for k in range(len(block)):
            r = lo + k
            fields = [table.snp[r], table.chr[r], str(table.pos[r]), table.ref_allele[r], table.alt_allele[r],
                      "1" if table.flipped[r] else "0"]
            out.write("\t".join(fields + [_tsv_value(v) for v in block[k]]) + "\n")
    return len(table)


def default_tsv_tracks(n_tracks: int) -> list[int]:
    """The first :data:`TSV_DEFAULT_TRACKS` tracks (all when fewer)."""
    return list(range(min(TSV_DEFAULT_TRACKS, n_tracks)))


def json_attr(value) -> str:
    """Canonical JSON for attributes that are compared (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
