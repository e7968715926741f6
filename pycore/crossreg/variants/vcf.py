"""VCF records -> biallelic SNPs to score, with a report of every record that is skipped.

Records are read with pysam (plain, bgzipped or gzipped VCF, no index needed) and classified in file
order. A record is scored when it is a biallelic SNP: one REF base and one ALT base, both
A/C/G/T (either case; stored upper case). Every other record is counted under one reason and
skipped, never silently dropped (:data:`SKIP_REASONS`):

=================  =====================================================================
``missing_alt``    ALT is ``.`` (no alternative allele)
``multiallelic``   more than one ALT allele (split them with ``bcftools norm -m-`` to score)
``symbolic_alt``   a symbolic (``<DEL>``), breakend (``G]2:100]``) or ``*`` ALT
``indel``          REF and ALT of different lengths
``mnp``            REF and ALT of the same length above 1 (multi-nucleotide)
``non_acgt``       a REF or ALT base other than A/C/G/T (``N``, IUPAC codes)
``ref_equals_alt`` ALT is the REF base
``duplicate``      the same chrom, pos, REF and ALT as an earlier record (the first is kept)
``ref_mismatch``   REF is not the FASTA's base there (with ``ref_mismatch="flip"``: neither
                   REF nor ALT is; a SNP whose ALT is the FASTA's base is then scored, flipped)
=================  =====================================================================

Record numbers (``index``) count data records from 0 in file order; ``line`` is the 1-based
line of the record in the (decompressed) file, for messages.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from crossreg.errors import InputError
from crossreg.io.alleles import SNP_REASONS, snp_skip_reason

log = logging.getLogger(__name__)

SKIP_REASONS = (
    *SNP_REASONS,
    "duplicate",
    "ref_mismatch",
)
EXAMPLES_PER_REASON = 3


@dataclass(frozen=True, slots=True)
class Snp:
    """One biallelic SNP of the VCF.

    Attributes:
        index: 0-based number of the record among the VCF's data records.
        line: 1-based line of the record in the file (for messages).
        chrom: chromosome, as in the VCF.
        pos: 1-based position.
        id: the VCF ID, or ``chrom:pos:ref:alt`` when the ID is ``.``.
        ref, alt: upper-case bases (A/C/G/T) as in the VCF.
    """

    index: int
    line: int
    chrom: str
    pos: int
    id: str
    ref: str
    alt: str

    def text(self) -> str:
        """``chrom:pos ref>alt``."""
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that is not scored: where it is and why."""

    index: int
    line: int
    chrom: str
    pos: int
    ref: str
    alt: str  # the ALT column as text ("." when missing, alleles joined by ",")
    reason: str

    def text(self) -> str:
        """``chrom:pos ref>alt (reason)``: the form of the report's examples."""
        return f"{self.chrom}:{self.pos} {self.ref}>{self.alt} ({self.reason})"


@dataclass
class SkipReport:
    """Counts of skipped records per reason, with the first examples of each.

    Attributes:
        counts: reason -> number of records skipped for it (only reasons that occurred,
            in the order of :data:`SKIP_REASONS`).
        examples: reason -> up to :data:`EXAMPLES_PER_REASON` examples
            ``chrom:pos ref>alt (reason)``, in file order.
    """

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, item: Skipped) -> None:
        self.counts[item.reason] = self.counts.get(item.reason, 0) + 1
        shown = self.examples.setdefault(item.reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(item.text())
        self._sort()

    def merge(self, other: "SkipReport") -> "SkipReport":
        """Add another report's counts (and examples, while fewer than the limit) to this one.

        Merging the reports of consecutive pieces of a VCF in order gives the report of the
        whole (the first examples of each reason, in file order).
        """
        for reason, n in other.counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + int(n)
            shown = self.examples.setdefault(reason, [])
            shown.extend(other.examples.get(reason, [])[: EXAMPLES_PER_REASON - len(shown)])
        self._sort()
        return self

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _sort(self) -> None:
        rank = {r: i for i, r in enumerate(SKIP_REASONS)}
        self.counts = dict(sorted(self.counts.items(), key=lambda kv: rank.get(kv[0], len(rank))))
        self.examples = {r: self.examples[r] for r in self.counts if r in self.examples}

    def text(self) -> str:
        """One line: ``indel 194 (e.g. 20:421808 A>ACCA (indel), ...); duplicate 1 (...)``."""
        if not self.counts:
            return "none"
        return "; ".join(f"{r} {n} (e.g. {', '.join(self.examples.get(r, []))})" for r, n in self.counts.items())

    def to_json(self) -> tuple[str, str]:
        """(counts, examples) as JSON texts, for HDF5 attributes."""
        return json.dumps(self.counts), json.dumps(self.examples)

    @classmethod
    def from_json(cls, counts: str, examples: str) -> "SkipReport":
        report = cls({str(k): int(v) for k, v in json.loads(counts).items()},
                     {str(k): list(v) for k, v in json.loads(examples).items()})
        report._sort()
        return report


@dataclass
class VcfSnps:
    """The classified records of a VCF.

    Attributes:
        path: the VCF.
        snps: biallelic SNPs in file order (duplicates removed).
        skipped: records not scored, in file order (not yet including REF mismatches,
            which need the FASTA: :func:`check_ref`).
        n_records: data records in the file.
    """

    path: Path
    snps: list[Snp]
    skipped: list[Skipped]
    n_records: int


def _header_lines(path: Path) -> int:
    """Number of ``#`` lines at the top of a plain or gzip/bgzip VCF."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    n = 0
    with opener(path, "rb") as handle:
        for line in handle:
            if not line.startswith(b"#"):
                break
            n += 1
    return n


def _is_plain_gzip(path: Path) -> bool:
    """True for a gzip file that is not BGZF (htslib cannot open those as VCF)."""
    with open(path, "rb") as raw:
        head = raw.read(18)
    if head[:2] != b"\x1f\x8b":
        return False
    has_extra = len(head) > 3 and head[3] & 4
    return not (has_extra and head[12:14] == b"BC")


def read_vcf(path: str | os.PathLike) -> VcfSnps:
    """Read a VCF and split its records into SNPs to score and skipped records.

    Args:
        path: plain, bgzipped or gzipped VCF (an index is not needed; a plain-gzip file, which
            htslib cannot open, is read from a decompressed temporary copy).

    Returns:
        :class:`VcfSnps`; the REF allele is not yet checked against a FASTA.

    Raises:
        InputError: the file is missing, not a VCF, or a record cannot be parsed (naming
            the line).
    """
    import pysam

    path = Path(path)
    if not path.is_file():
        raise InputError(f"VCF {path}: no such file")
    try:
        header_lines = _header_lines(path)
    except (OSError, EOFError) as err:
        raise InputError(f"VCF {path}: cannot read ({err})") from None
    snps: list[Snp] = []
    skipped: list[Skipped] = []
    seen: set[tuple[str, int, str, str]] = set()
    index = -1
    with contextlib.ExitStack() as stack:
        # htslib warns on stderr about contigs missing from the header: harmless here
        stack.callback(pysam.set_verbosity, pysam.set_verbosity(0))
        source = path
        if _is_plain_gzip(path):
            # plain gzip (not bgzip): htslib cannot read it as VCF; decompress to a private copy
            log.info("VCF %s is gzip, not bgzip: reading a decompressed copy", path)
            tmp_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crossreg-vcf-")))
            source = tmp_dir / "input.vcf"
            try:
                with gzip.open(path, "rb") as src, open(source, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (OSError, EOFError) as err:
                raise InputError(f"VCF {path}: cannot decompress ({err})") from None
        try:
            vf = pysam.VariantFile(str(source))
        except (OSError, ValueError, NotImplementedError) as err:
            raise InputError(f"VCF {path}: cannot open as VCF ({err})") from None
        with vf:
            records = iter(vf)
            while True:
                try:
                    rec = next(records)
                except StopIteration:
                    break
                except (OSError, ValueError) as err:
                    raise InputError(
                        f"VCF {path}: line {header_lines + index + 2}: cannot parse the record ({err})"
                    ) from None
                index += 1
                line = header_lines + index + 1
                chrom, pos, ref, alts = str(rec.chrom), int(rec.pos), str(rec.ref), rec.alts
                reason = snp_skip_reason(ref, alts)
                if reason is None:
                    ref_u, alt_u = ref.upper(), alts[0].upper()
                    key = (chrom, pos, ref_u, alt_u)
                    if key in seen:
                        reason = "duplicate"
                    else:
                        seen.add(key)
                        vid = rec.id if rec.id not in (None, ".", "") else f"{chrom}:{pos}:{ref_u}:{alt_u}"
                        snps.append(Snp(index, line, chrom, pos, str(vid), ref_u, alt_u))
                        continue
                skipped.append(Skipped(index, line, chrom, pos, ref, ",".join(alts) if alts else ".", reason))
    return VcfSnps(path, snps, skipped, index + 1)


def check_chromosomes(snps: Iterable[Snp], chrom_sizes: dict[str, int], vcf: Path, fasta: Path) -> None:
    """Every SNP's chromosome must be in the FASTA and its position inside the chromosome.

    Raises:
        InputError: naming the VCF line, the chromosome and the FASTA's chromosomes.
    """
    for snp in snps:
        size = chrom_sizes.get(snp.chrom)
        if size is None:
            names = list(chrom_sizes)
            shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
            hint = ""
            alt_name = snp.chrom[3:] if snp.chrom.startswith("chr") else f"chr{snp.chrom}"
            if alt_name in chrom_sizes:
                hint = f" (it has {alt_name!r}: the VCF and the FASTA name chromosomes differently)"
            raise InputError(
                f"VCF {vcf}: line {snp.line}: chromosome {snp.chrom!r} is not in the FASTA {fasta}{hint}; "
                f"the FASTA's chromosomes: {shown}"
            )
        if not 1 <= snp.pos <= size:
            raise InputError(
                f"VCF {vcf}: line {snp.line}: position {snp.chrom}:{snp.pos} is outside the chromosome "
                f"(1..{size} in the FASTA {fasta}); is the VCF on another assembly?"
            )


def check_ref(snps: Sequence[Snp], fasta, mode: str = "skip") -> tuple[list[Snp], list[bool], list[Skipped]]:
    """Compare each SNP's REF with the FASTA.

    Args:
        snps: SNPs (chromosomes already checked with :func:`check_chromosomes`).
        fasta: an open :class:`crossreg.io.fasta.FastaGenome`.
        mode: ``skip``: a REF that differs from the FASTA's base (case ignored) skips the
            SNP; ``flip``: a SNP whose ALT is the FASTA's base is kept and marked flipped
            (it is scored in the VCF's orientation all the same, ALT - REF), others skipped.

    Returns:
        (kept SNPs, flipped flag per kept SNP, skipped records with reason ``ref_mismatch``),
        each in input order.
    """
    if mode not in ("skip", "flip"):
        raise InputError(f"ref_mismatch must be 'skip' or 'flip', got {mode!r}")
    kept: list[Snp] = []
    flipped: list[bool] = []
    skipped: list[Skipped] = []
    for snp in snps:
        base = fasta.fetch(snp.chrom, snp.pos - 1, snp.pos).decode("ascii").upper()
        if base == snp.ref:
            kept.append(snp)
            flipped.append(False)
        elif mode == "flip" and base == snp.alt:
            kept.append(snp)
            flipped.append(True)
        else:
            skipped.append(Skipped(snp.index, snp.line, snp.chrom, snp.pos, snp.ref, snp.alt, "ref_mismatch"))
    return kept, flipped, skipped


def chunk_bounds(n_snps: int, chunk: int, of: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of the ``chunk``-th of ``of`` contiguous, balanced pieces of ``n_snps``.

    The first ``n_snps % of`` pieces hold one SNP more (as ``numpy.array_split``); pieces
    beyond the number of SNPs are empty.
    """
    if of < 1:
        raise InputError(f"--of must be at least 1, got {of}")
    if not 0 <= chunk < of:
        raise InputError(f"--chunk must be in 0..{of - 1} for --of {of}, got {chunk}")
    base, extra = divmod(n_snps, of)
    lo = chunk * base + min(chunk, extra)
    return lo, lo + base + (1 if chunk < extra else 0)


def chunk_records(vcf: VcfSnps, chunk: int, of: int) -> tuple[list[Snp], list[Skipped], tuple[int, int]]:
    """The SNPs of one chunk and the skipped records it reports.

    SNPs are cut into ``of`` balanced pieces in file order (:func:`chunk_bounds`). Each
    chunk owns the records from its first SNP up to the next chunk's first SNP (chunk 0 from
    the first record, the last chunk to the end; an empty chunk owns nothing unless it is
    chunk 0 of a VCF without SNPs), so every record is reported by exactly one chunk.

    Returns:
        (SNPs, skipped records owned, (first record, end record) index range owned).
    """
    lo, hi = chunk_bounds(len(vcf.snps), chunk, of)

    def first_record(k: int) -> int:
        return vcf.snps[k].index if k < len(vcf.snps) else vcf.n_records

    r_lo = 0 if chunk == 0 else first_record(lo)
    r_hi = first_record(hi)
    owned = [s for s in vcf.skipped if r_lo <= s.index < r_hi]
    return vcf.snps[lo:hi], owned, (r_lo, r_hi)
