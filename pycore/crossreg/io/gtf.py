"""GTF gene annotations (GENCODE, Ensembl, UCSC ``genePredToGtf``): a general reader.

A GTF has 9 tab-separated columns ``seqname source feature start end score strand frame
attributes``, 1-based inclusive coordinates, and attributes ``key "value";``. Plain or gzip
(detected from the first bytes); ``#`` lines and blank lines are skipped.

:func:`read_gtf` returns one row per kept feature line with **0-based half-open**
coordinates (``start = GTF start - 1``, ``end = GTF end``), the BED convention used across
crossreg. By default it keeps the feature types used for gene structure:
``gene transcript exon CDS UTR five_prime_utr three_prime_utr 5UTR 3UTR start_codon
stop_codon``; pass ``features`` to choose others (``None`` keeps every line).

Validation (each error names the file and line): exactly 9 columns; integer
``1 <= start <= end``; strand ``+``, ``-`` or ``.``; a ``gene_id`` attribute on every kept
line and a ``transcript_id`` on every kept line other than ``gene``.

(``crossreg.evaluate.tss.read_tss_gtf`` reads only the 5' ends of transcript lines and
keeps its own parser.)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Collection

import numpy as np
import pandas as pd

from crossreg.errors import InputError

GTF_COLUMNS = (
    "chrom",
    "source",
    "feature",
    "start",
    "end",
    "strand",
    "gene_id",
    "transcript_id",
    "gene_name",
    "gene_type",
    "transcript_type",
    "line",
)
STRUCTURE_FEATURES = frozenset(
    {
        "gene",
        "transcript",
        "exon",
        "CDS",
        "UTR",
        "five_prime_utr",
        "three_prime_utr",
        "5UTR",
        "3UTR",
        "start_codon",
        "stop_codon",
    }
)
# attribute -> output column; the first key present wins (GENCODE *_type, Ensembl *_biotype)
_ATTRIBUTES = {
    "gene_id": ("gene_id",),
    "transcript_id": ("transcript_id",),
    "gene_name": ("gene_name",),
    "gene_type": ("gene_type", "gene_biotype"),
    "transcript_type": ("transcript_type", "transcript_biotype"),
}


def _open_text(path: Path):
    from crossreg.io.bed import _open_text as open_text

    return open_text(path)


_ATTRIBUTE = re.compile(r'([^\s;"]+)\s+(?:"([^"]*)"|([^;]*))')


def parse_attributes(text: str) -> dict[str, str]:
    """GTF attributes ``key "value"; key value; ...`` as a dict (the first of repeated keys wins).

    Quotes around values are removed; a ``;`` inside a quoted value is kept.
    """
    out: dict[str, str] = {}
    for key, quoted, bare in _ATTRIBUTE.findall(text):
        if key not in out:
            out[key] = quoted if quoted or not bare else bare.strip()
    return out


def read_gtf(path: str | os.PathLike, features: Collection[str] | None = STRUCTURE_FEATURES) -> pd.DataFrame:
    """Read a GTF's feature lines (see module docstring).

    Args:
        path: GTF, plain or gzip.
        features: feature types (column 3) to keep; ``None`` keeps every line.

    Returns:
        DataFrame in file order (RangeIndex) with columns ``chrom source feature`` str,
        ``start end`` int64 (0-based half-open, bp), ``strand`` str (``+``/``-``/``.``),
        ``gene_id transcript_id gene_name gene_type transcript_type`` str (``""`` when the
        attribute is absent; ``gene_type`` also from ``gene_biotype``, ``transcript_type``
        from ``transcript_biotype``), ``line`` int64 (line number in the file, for messages).

    Raises:
        InputError: missing file or a malformed line (see module docstring).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"GTF {path}: no such file")
    keep = None if features is None else frozenset(features)
    cols: dict[str, list] = {c: [] for c in GTF_COLUMNS}
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\r\n").split("\t")
            if len(f) != 9:
                raise InputError(f"{path}:{line_no}: expected 9 tab-separated GTF columns, got {len(f)}")
            if keep is not None and f[2] not in keep:
                continue
            try:
                start, end = int(f[3]), int(f[4])
            except ValueError:
                raise InputError(f"{path}:{line_no}: start/end must be integers, got {f[3]!r}, {f[4]!r}") from None
            if start < 1 or end < start:
                raise InputError(
                    f"{path}:{line_no}: invalid GTF interval {f[0]}:{start}-{end} (expected 1 <= start <= end)"
                )
            if f[6] not in ("+", "-", "."):
                raise InputError(f"{path}:{line_no}: strand must be '+', '-' or '.', got {f[6]!r}")
            attrs = parse_attributes(f[8])
            if not attrs.get("gene_id"):
                raise InputError(f"{path}:{line_no}: {f[2]} line without a gene_id attribute")
            if f[2] != "gene" and not attrs.get("transcript_id"):
                raise InputError(f"{path}:{line_no}: {f[2]} line without a transcript_id attribute")
            cols["chrom"].append(f[0])
            cols["source"].append(f[1])
            cols["feature"].append(f[2])
            cols["start"].append(start - 1)
            cols["end"].append(end)
            cols["strand"].append(f[6])
            for column, keys in _ATTRIBUTES.items():
                cols[column].append(next((attrs[k] for k in keys if k in attrs), ""))
            cols["line"].append(line_no)
    out = {}
    for column in GTF_COLUMNS:
        if column in ("start", "end", "line"):
            out[column] = np.asarray(cols[column], dtype=np.int64)
        else:
            out[column] = pd.Series(cols[column], dtype=object)
    return pd.DataFrame(out)
