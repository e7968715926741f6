"""Variant scores (crossreg ``score-variants`` HDF5) as SLDP annotations.

SAD is ALT minus REF, so as a signed annotation its allele is ALT: the table has ``a1 = ALT``,
``a2 = REF`` and one float64 column per track (the stored float16 SAD, widened). Only
:mod:`crossreg.variants.output` is imported (no Keras, no TensorFlow), and only when called.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd

from crossreg.errors import InputError


def annotations_from_scores(h5_path: str | os.PathLike, tracks: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a variant-score file as an annotation table.

    Args:
        h5_path: a ``crossreg-variant-scores`` HDF5 file.
        tracks: track identifiers (``target_ids``) to keep, in this order; None = all.

    Returns:
        DataFrame ``snp a1 a2`` (a1 = ALT, a2 = REF, upper case) + one float64 column per
        track identifier (SAD), one row per scored SNP in file order.

    Raises:
        InputError: not a score file (:func:`crossreg.io.scores.open_scores`), no SAD
            dataset, duplicate track identifiers among those kept, unknown tracks (all named).
    """
    from crossreg.io.scores import open_scores
    from crossreg.variants.output import read_table

    with open_scores(h5_path) as h5:
        if "SAD" not in h5:
            raise InputError(f"score file {h5_path}: no SAD dataset")
        ids = h5["target_ids"].asstr()[:].tolist()
        if tracks is None:
            cols = list(range(len(ids)))
        else:
            where = {}
            for i, name in enumerate(ids):
                where.setdefault(name, i)
            unknown = [t for t in tracks if t not in where]
            if unknown:
                raise InputError(
                    f"score file {h5_path}: unknown track(s) {', '.join(map(repr, unknown))} "
                    f"(it has {len(ids)} tracks, e.g. {', '.join(ids[:5])})"
                )
            cols = [where[t] for t in tracks]
        names = [ids[i] for i in cols]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"score file {h5_path}: track identifier(s) {', '.join(dup)} appear more than once")
        table = read_table(h5)
        sad = h5["SAD"]
        values = np.empty((len(table), len(cols)), dtype=np.float64)
        order = np.argsort(cols)
        sorted_cols = np.asarray(cols, dtype=np.int64)[order]
        unique_sorted, inverse = np.unique(sorted_cols, return_inverse=True)
        step = 65536
        for lo in range(0, len(table), step):
            block = sad[lo : lo + step, unique_sorted] if len(unique_sorted) else np.zeros((min(step, len(table) - lo), 0))
            values[lo : lo + len(block), order] = block[:, inverse].astype(np.float64)
    frame = pd.DataFrame(
        {
            "snp": pd.Series(table.snp, dtype=object),
            "a1": pd.Series([a.upper() for a in table.alt_allele], dtype=object),
            "a2": pd.Series([a.upper() for a in table.ref_allele], dtype=object),
        }
    )
    return pd.concat([frame, pd.DataFrame(values, columns=names)], axis=1)
