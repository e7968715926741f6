"""Choosing tracks of a model head by identifier or index (bigWig output, score TSVs, ISM)."""

from __future__ import annotations

import difflib
from typing import Sequence

import numpy as np

from crossreg.errors import InputError


def resolve_tracks(requested: Sequence[str | int], track_ids: Sequence[str], what: str) -> list[int]:
    """Track identifiers or 0-based indices -> distinct indices, in the order requested.

    Args:
        requested: identifiers (as in ``track_ids``) or indices; a string of digits that is not
            an identifier is read as an index.
        track_ids: identifiers of the head's tracks, in output order.
        what: how messages name the choice (an option such as ``--tsv-track``).

    Returns:
        Distinct track indices in the order requested.

    Raises:
        InputError: an unknown identifier (with close matches) or an index out of range.
    """
    index = {t: i for i, t in enumerate(track_ids)}
    out: list[int] = []
    for item in requested:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            i = int(item)
        elif str(item) in index:
            i = index[str(item)]
        elif str(item).strip().lstrip("-").isdigit():
            i = int(str(item))
        else:
            hint = difflib.get_close_matches(str(item), list(track_ids), n=3)
            shown = ", ".join(list(track_ids)[:8]) + (", ..." if len(track_ids) > 8 else "")
            raise InputError(
                f"{what} {item!r}: not a track identifier"
                + (f" (did you mean {', '.join(map(repr, hint))}?)" if hint else "")
                + f"; give an identifier ({shown}) or an index 0..{len(track_ids) - 1}"
            )
        if not 0 <= i < len(track_ids):
            raise InputError(f"{what} {item!r}: index {i} is out of range; there are {len(track_ids)} tracks (0..{len(track_ids) - 1})")
        if i not in out:
            out.append(i)
    return out
