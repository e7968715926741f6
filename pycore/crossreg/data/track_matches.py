"""Tracks of different genomes that measure the same assay in the same tissue.

The cross-species transfer evaluation (``crossreg evaluate --track-matches``) takes a TSV with
header ``genome_a identifier_a genome_b identifier_b``, one matched pair per row. For targets
whose descriptions name assay and tissue the same way in every genome (the simulated world's
``CAGE:liver``; baskerville-style tables curated to match), :func:`match_by_description`
writes that table from the genomes' shard manifests, whose tracks are the ones a model
predicts (replicate groups already merged into one track): two tracks match when their
descriptions are equal after trimming and case folding; several tracks with one description
match every track of the other genome with that description. Real FANTOM/ENCODE descriptions differ between species; curate
those tables by hand.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path
from typing import Mapping

from crossreg.data.manifest import load_manifest
from crossreg.io.atomic import atomic_open

HEADER = ("genome_a", "identifier_a", "genome_b", "identifier_b")


def match_by_description(manifests: Mapping[str, str | os.PathLike]) -> list[tuple[str, str, str, str]]:
    """Pairs of tracks of different genomes with the same description.

    Args:
        manifests: ``{genome: shard manifest.json}`` (at least two genomes).

    Returns:
        ``(genome_a, identifier_a, genome_b, identifier_b)`` rows, genomes in the given order,
        then track order.
    """
    tracks = {g: [(t["identifier"], t["description"]) for t in load_manifest(path)["targets"]]
              for g, path in manifests.items()}
    rows = []
    for a, b in combinations(list(tracks), 2):
        for id_a, desc_a in tracks[a]:
            key = desc_a.strip().casefold()
            if not key:
                continue
            rows.extend((a, id_a, b, id_b) for id_b, desc_b in tracks[b] if desc_b.strip().casefold() == key)
    return rows


def write_track_matches(rows, out: str | os.PathLike) -> Path:
    """Write rows of :func:`match_by_description` as the TSV ``evaluate`` reads (atomically)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out) as handle:
        handle.write("\t".join(HEADER) + "\n")
        for row in rows:
            handle.write("\t".join(row) + "\n")
    return out
