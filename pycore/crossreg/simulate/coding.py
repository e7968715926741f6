"""Coding structure of simulated transcripts: CDS, start/stop codons and UTRs for the GTF.

Every transcript keeps its exons; a coding region is laid on them in transcript order: a 5' UTR
of ``regulation.utr5_length`` bp (drawn uniformly, clipped so the start codon lies in the first
exon), then the CDS, then the stop codon and a 3' UTR of ``regulation.utr3_length`` bp (clipped
so the stop codon and the 3' UTR lie in the last exon). The coding length (CDS + stop codon) is a
multiple of 3. Records follow GENCODE: ``CDS`` excludes the stop codon, ``start_codon`` is the
first 3 bp of the CDS, ``stop_codon`` the 3 bp after it, and ``UTR`` covers every exonic base
outside the CDS (the stop codon included), so CDS + UTR = exons. The DNA itself is not made to
code: this is annotation only (for coding / UTR / intron masks).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class CodingPlan:
    """Coding layout of one transcript, in transcript coordinates (0 = TSS, ``length`` exonic bp).

    Attributes:
        length: total exonic length (bp).
        cds_start: first CDS base (= 5' UTR length).
        cds_end: end of the CDS, exclusive (the stop codon is [cds_end, cds_end + 3)).
    """

    length: int
    cds_start: int
    cds_end: int


def plan_cds(exon_lengths: list[int], utr5: int, utr3: int) -> CodingPlan | None:
    """Place a CDS on exons given in transcript order.

    Args:
        exon_lengths: lengths (bp) of the exons, 5' to 3'.
        utr5: wanted 5' UTR length (clipped to [1, first exon - 3]).
        utr3: wanted 3' UTR length after the stop codon (clipped to [1, last exon - 3]).

    Returns:
        The plan, or None where no valid layout exists (first or last exon under 4 bp, or a single
        exon too short for 5' UTR + start + stop + 3' UTR).
    """
    lens = [int(x) for x in exon_lengths]
    if not lens or lens[0] < 4 or lens[-1] < 4:
        return None
    total = sum(lens)
    first, last = lens[0], lens[-1]
    u5 = int(min(max(1, utr5), first - 3))
    u3_hi = last - 3
    u3 = int(min(max(1, utr3), u3_hi))
    # adjust the 3' UTR (else the 5' UTR) so that the coding part (CDS + stop) is a multiple of 3
    for d5 in (0, -1, -2, 1, 2):
        v5 = u5 + d5
        for d in (0, 1, 2, -1, -2, 3, 4, 5):
            v3 = u3 + d
            if not (1 <= v5 <= first - 3 and 1 <= v3 <= u3_hi):
                continue
            coding = total - v3 - v5
            if coding % 3 == 0 and coding >= 6:
                return CodingPlan(total, v5, total - v3 - 3)
    return None


def _to_genome(exons: np.ndarray, strand: str, a: int, b: int) -> list[tuple[int, int, int]]:
    """Genomic pieces of transcript interval [a, b): (start, end, exon index in genomic order)."""
    order = list(range(len(exons))) if strand == "+" else list(range(len(exons)))[::-1]
    out, t = [], 0
    for k in order:
        s, e = int(exons[k][0]), int(exons[k][1])
        n = e - s
        lo, hi = max(a, t), min(b, t + n)
        if lo < hi:
            if strand == "+":
                out.append((s + lo - t, s + hi - t, k))
            else:
                out.append((e - (hi - t), e - (lo - t), k))
        t += n
    return sorted(out)


def coding_records(chrom: str, strand: str, exons: np.ndarray, plan: CodingPlan, attrs: dict,
                   source: str = "crossreg_sim") -> list[tuple]:
    """GTF records (1-based, inclusive) of one transcript's CDS, start/stop codons and UTRs.

    Args:
        chrom: chromosome name.
        strand: ``+`` or ``-``.
        exons: int64 (n_exons, 2) exon [start, end) in genomic order (0-based).
        plan: from :func:`plan_cds`.
        attrs: transcript attributes (gene_id, transcript_id, ...); ``exon_number`` is added.
        source: GTF source column.

    Returns:
        Records ``(chrom, source, feature, start, end, '.', strand, frame, attrs)`` in the order
        CDS (genomic order), start_codon, stop_codon, UTR (genomic order).
    """
    n = len(exons)

    def num(k: int) -> int:
        return k + 1 if strand == "+" else n - k

    recs = []
    cds = _to_genome(exons, strand, plan.cds_start, plan.cds_end)
    # phase: bases before the first complete codon of the piece, counted in transcript order
    done = 0
    phases = {}
    for s, e, k in (cds if strand == "+" else cds[::-1]):
        phases[(s, e)] = (3 - done % 3) % 3
        done += e - s
    for s, e, k in cds:
        recs.append((chrom, source, "CDS", s + 1, e, ".", strand, phases[(s, e)], {**attrs, "exon_number": num(k)}))
    for feature, a in (("start_codon", plan.cds_start), ("stop_codon", plan.cds_end)):
        for s, e, k in _to_genome(exons, strand, a, a + 3):
            recs.append((chrom, source, feature, s + 1, e, ".", strand, 0, {**attrs, "exon_number": num(k)}))
    utr = _to_genome(exons, strand, 0, plan.cds_start) + _to_genome(exons, strand, plan.cds_end, plan.length)
    for s, e, k in sorted(utr):
        recs.append((chrom, source, "UTR", s + 1, e, ".", strand, ".", {**attrs, "exon_number": num(k)}))
    return recs
