"""Scores of a de novo table's SNPs, joined from a ``crossreg score-variants`` HDF5 file.

The score file (format ``crossreg-variant-scores`` version 1, written by
``crossreg score-variants`` / ``crossreg gather-scores``; layout in
:mod:`crossreg.variants.output`) is opened with :func:`crossreg.io.scores.open_scores`: this
module must not import :mod:`crossreg.variants` (whose package imports the scorer) nor
anything that loads Keras.

Rows are joined on (chrom, pos, ref, alt) against the file's ``chr pos ref_allele
alt_allele`` (alleles compared in upper case). A table row whose site has no score (the
scorer skipped it, e.g. a REF mismatch, or the file is of another variant set) gets a row of
NaN; :func:`crossreg.denovo.core.run_denovo` excludes those rows as ``missing_score`` and
counts them. More than ``max_missing_fraction`` of the rows without a score is an error (the
score file is probably not the one made from this table).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import h5py
import numpy as np
import pandas as pd

from crossreg.errors import InputError
from crossreg.io.denovo import DenovoTable
from crossreg.io.scores import open_scores
from crossreg.io.track_select import resolve_tracks

log = logging.getLogger(__name__)

MAX_MISSING_FRACTION = 0.05
_BLOCK_ROWS = 16384


def _strings(h5: h5py.File, name: str, path: Path) -> list[str]:
    if name not in h5:
        raise InputError(f"score file {path}: no dataset {name!r}")
    return h5[name].asstr()[:].tolist()


def score_file_keys(h5: h5py.File, path: Path) -> pd.Index:
    """``chrom:pos:REF:ALT`` of each row of an open score file (alleles upper case)."""
    chrom, ref, alt = (_strings(h5, n, path) for n in ("chr", "ref_allele", "alt_allele"))
    pos = h5["pos"][:].astype(np.int64).tolist()
    return pd.Index([f"{c}:{p}:{r.upper()}:{a.upper()}" for c, p, r, a in zip(chrom, pos, ref, alt)])


def scores_for_table(table: DenovoTable, h5_path: str | os.PathLike, tracks: Sequence[str | int] | None = None,
                     *, stat: str = "SAD", max_missing_fraction: float = MAX_MISSING_FRACTION
                     ) -> tuple[np.ndarray, list[str], list[str]]:
    """The score of every table row on the chosen tracks.

    Args:
        table: the valid SNPs (:func:`crossreg.io.denovo.read_denovo_table`).
        h5_path: a ``crossreg-variant-scores`` HDF5 file.
        tracks: track identifiers or 0-based indices (default: every track, in file order).
        stat: the score matrix to read (``SAD``; ``logSAD``/``L2`` when the file has them).
        max_missing_fraction: the largest fraction of rows allowed to have no score.

    Returns:
        (scores float64 [rows, tracks] in the file's units (sum over bins of ALT - REF),
        a row of NaN for a row with no score; track identifiers; track descriptions).

    Raises:
        InputError: not a score file, no such stat or track, or too many rows without a score.
    """
    path = Path(h5_path)
    with open_scores(path) as h5:
        if stat not in h5:
            have = [k for k in ("SAD", "logSAD", "L2") if k in h5]
            raise InputError(f"score file {path}: no {stat!r} scores (it has {', '.join(have) or 'none'})")
        ids = _strings(h5, "target_ids", path)
        labels = _strings(h5, "target_labels", path)
        cols = np.arange(len(ids)) if tracks is None else np.asarray(resolve_tracks(list(tracks), ids, "track"), dtype=np.int64)
        keys = score_file_keys(h5, path)
        if keys.has_duplicates:
            dup = keys[keys.duplicated()][0]
            raise InputError(f"score file {path}: variant {dup} appears more than once")
        rows = keys.get_indexer(pd.Index(table.site_keys()))
        missing = rows < 0
        n_missing = int(missing.sum())
        if len(table) and n_missing / len(table) > max_missing_fraction:
            shown = "; ".join(table.describe(i) for i in np.flatnonzero(missing)[:5])
            raise InputError(
                f"score file {path}: {n_missing} of {len(table)} de novo SNPs ({100 * n_missing / len(table):.1f}%) "
                f"have no score (more than {100 * max_missing_fraction:g}% allowed), e.g. {shown}; was the score file "
                f"made from this table's sites VCF (crossreg denovo-vcf) with the same FASTA?"
            )
        if n_missing:
            log.warning("score file %s: %d of %d de novo SNPs have no score (excluded as missing_score)",
                        path, n_missing, len(table))
        out = np.full((len(table), len(cols)), np.nan, dtype=np.float64)
        data = h5[stat]
        if data.shape != (len(keys), len(ids)):
            raise InputError(f"score file {path}: {stat} has shape {data.shape}, expected ({len(keys)}, {len(ids)})")
        found = np.flatnonzero(~missing)
        order = found[np.argsort(rows[found], kind="stable")]
        file_rows = rows[order]
        # read whole row blocks (fast contiguous HDF5 reads), keep the rows and columns asked for
        starts = np.arange(0, len(keys), _BLOCK_ROWS)
        for lo in starts:
            a, b = np.searchsorted(file_rows, [lo, lo + _BLOCK_ROWS])
            if a == b:
                continue
            block = data[lo : min(lo + _BLOCK_ROWS, len(keys))]
            out[order[a:b]] = block[file_rows[a:b] - lo][:, cols].astype(np.float64)
        bad = found[~np.isfinite(out[found]).all(axis=1)]
        if len(bad):
            raise InputError(f"score file {path}: {len(bad)} de novo SNPs have non-finite {stat} values, "
                             f"e.g. {keys[rows[bad[0]]]}")
    return out, [ids[i] for i in cols], [labels[i] for i in cols]
