"""Model inputs around a variant: centred windows, shifts, reverse complements, alleles.

Conventions (``L`` = the model's ``seq_length``, even in practice):

* the SNP at 0-based genomic position ``p`` sits at index ``L // 2 + s`` of the window for
  shift ``s``: the window is ``[p - L // 2 - s, p - L // 2 - s + L)``; shift 0 puts it at
  ``L // 2`` (one past the middle for even ``L``, as Basenji); a shift moves the window over
  the genome (real flanking sequence, not padding), and ``-L // 2 <= s < L // 2`` keeps the
  SNP inside;
* windows reaching past a chromosome end are padded with N (all-zero one-hot rows);
* the reverse-complement member of a shift is the reverse complement of that same window
  (the SNP then sits at index ``L - 1 - (L // 2 + s)``); its predictions are flipped back
  along bins before they are compared;
* the SNP's row is always set explicitly to the allele (REF or ALT as written in the VCF),
  so the score is ALT - REF in the VCF's orientation whatever base the FASTA has there.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from crossreg import _native
from crossreg.errors import InputError

BASES = "ACGT"
_ONE_HOT = {b: np.eye(4, dtype=np.uint8)[i] for i, b in enumerate(BASES)}


def parse_shifts(text: str | Sequence[int], seq_length: int | None = None) -> list[int]:
    """Parse ``"0,-1,1"`` (or a list of ints) into distinct shifts, in the order given.

    Raises:
        InputError: not integers, empty, repeated, or (with ``seq_length``) a shift that
            would move the SNP out of the window.
    """
    if isinstance(text, str):
        parts = [t.strip() for t in text.split(",")]
        try:
            shifts = [int(t) for t in parts]
        except ValueError:
            raise InputError(f"--shifts {text!r}: expected comma-separated integers (bp), e.g. 0,-1,1") from None
    else:
        shifts = [int(s) for s in text]
    if not shifts:
        raise InputError("--shifts: give at least one shift (0 for none)")
    if len(set(shifts)) != len(shifts):
        raise InputError(f"--shifts {text!r}: a shift is given twice")
    if seq_length is not None:
        bad = [s for s in shifts if not -(seq_length // 2) <= s < seq_length // 2]
        if bad:
            raise InputError(
                f"--shifts: shift {bad[0]} moves the SNP out of the {seq_length} bp window "
                f"(allowed {-(seq_length // 2)}..{seq_length // 2 - 1})"
            )
    return shifts


def ensemble_members(shifts: Sequence[int], rc: bool) -> list[tuple[int, bool]]:
    """The ensemble's members ``(shift, reverse_complemented)``: each shift forward, then its RC."""
    return [(s, r) for s in shifts for r in ((False, True) if rc else (False,))]


def one_hot_rows(seq: bytes) -> np.ndarray:
    """uint8 [len, 4] one-hot (A, C, G, T; anything else zeros) via the native kernel."""
    return _native.one_hot_encode(seq)


class SnpWindows:
    """Builds the REF and ALT inputs of every ensemble member for one SNP at a time.

    Args:
        fasta: an open :class:`crossreg.io.fasta.FastaGenome`.
        seq_length: the model's window length ``L``, bp.
        shifts: shifts in bp (see the module notes).
        rc: add the reverse complement of every shifted window.
    """

    def __init__(self, fasta, seq_length: int, shifts: Sequence[int], rc: bool):
        self.fasta = fasta
        self.seq_length = int(seq_length)
        self.shifts = parse_shifts(list(shifts), self.seq_length)
        self.rc = bool(rc)
        self.members = ensemble_members(self.shifts, self.rc)

    @property
    def windows_per_snp(self) -> int:
        """REF and ALT of every member: ``2 * len(members)``."""
        return 2 * len(self.members)

    def window_start(self, pos0: int, shift: int) -> int:
        """0-based genomic start of the window of shift ``shift`` around 0-based ``pos0``."""
        return pos0 - self.seq_length // 2 - shift

    def inputs(self, chrom: str, pos: int, ref: str, alt: str) -> np.ndarray:
        """The model inputs of one SNP.

        Args:
            chrom: chromosome.
            pos: 1-based position.
            ref, alt: the alleles (A/C/G/T), placed at the SNP's row as given.

        Returns:
            uint8 [2 * members, L, 4]: for each member in :attr:`members` order, its REF
            window then its ALT window (reverse-complemented for RC members).
        """
        L = self.seq_length
        pos0 = pos - 1
        hi_shift, lo_shift = max(self.shifts), min(self.shifts)
        lo = self.window_start(pos0, hi_shift)
        span = self.window_start(pos0, lo_shift) + L - lo
        wide = one_hot_rows(self.fasta.fetch(chrom, lo, lo + span))
        out = np.empty((self.windows_per_snp, L, 4), dtype=np.uint8)
        k = 0
        for shift, rc in self.members:
            offset = hi_shift - shift
            centre = L // 2 + shift
            for allele in (ref, alt):
                window = out[k]
                window[:] = wide[offset : offset + L]
                window[centre] = _ONE_HOT[allele]
                if rc:
                    window[:] = window[::-1, ::-1].copy()
                k += 1
        return out
