"""Which REF/ALT records are biallelic SNPs, and why the others are not: one rule set for the
variant scorer's VCF records and the de novo tables.
"""

from __future__ import annotations

from typing import Sequence

ACGT = frozenset("ACGT")
#: the reasons :func:`snp_skip_reason` returns, in the order it checks them
SNP_REASONS = ("missing_alt", "multiallelic", "symbolic_alt", "indel", "mnp", "non_acgt", "ref_equals_alt")


def snp_skip_reason(ref: str, alts: Sequence[str] | None) -> str | None:
    """The reason a record is not a biallelic A/C/G/T SNP, or None when it is.

    Args:
        ref: the REF allele (``""`` or ``-``: an empty allele).
        alts: the ALT alleles (a VCF's ALT list; ``None``, ``()`` or ``(".",)``: none).

    Returns:
        ``missing_alt``, ``multiallelic``, ``symbolic_alt`` (``<DEL>``, breakends, ``*``),
        ``indel`` (lengths differ, or an empty allele), ``mnp`` (equal lengths > 1),
        ``non_acgt`` (N, IUPAC), ``ref_equals_alt``, or None. Letter case is ignored.
    """
    if not alts or tuple(alts) in ((".",), ("",)):
        return "missing_alt"
    if len(alts) > 1:
        return "multiallelic"
    alt = alts[0]
    if alt.startswith("<") or "[" in alt or "]" in alt or alt in ("*", ".") or alt.startswith(".") or alt.endswith("."):
        return "symbolic_alt"
    if ref in ("", "-") or alt == "-" or len(ref) != len(alt):
        return "indel"
    if len(ref) > 1:
        return "mnp"
    if ref.upper() not in ACGT or alt.upper() not in ACGT:
        return "non_acgt"
    if ref.upper() == alt.upper():
        return "ref_equals_alt"
    return None
