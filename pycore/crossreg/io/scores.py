"""Opening a variant-score file (``crossreg-variant-scores``, written by ``crossreg score-variants``).

The layout is documented with its writer, :mod:`crossreg.variants.output`; this reader lives
in ``io`` so that the statistics packages (:mod:`crossreg.sldp`, :mod:`crossreg.denovo`)
read score files without importing the scorer.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py

from crossreg.errors import InputError

SCORES_FORMAT = "crossreg-variant-scores"
SCORES_FORMAT_VERSION = 1


def open_scores(path: str | os.PathLike) -> h5py.File:
    """Open a score file for reading, checking its format.

    Raises:
        InputError: missing, unreadable, or not a ``crossreg-variant-scores`` version 1 file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"score file {path}: no such file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise InputError(f"score file {path}: cannot open as HDF5 ({err})") from None
    fmt, version = h5.attrs.get("format"), h5.attrs.get("format_version")
    if fmt != SCORES_FORMAT or version != SCORES_FORMAT_VERSION:
        h5.close()
        raise InputError(f"score file {path}: not a {SCORES_FORMAT} version {SCORES_FORMAT_VERSION} file "
                         f"(format {fmt!r}, version {version!r}); make one with crossreg score-variants")
    return h5
