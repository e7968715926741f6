"""De novo variant tables: reading, validating, and reporting what is excluded.

Input (TSV, plain or gzip; ``#`` lines after the header and blank lines are ignored; extra
columns are ignored; a leading ``#`` on the header line is allowed)::

    family_id  individual_id  role     chrom  pos      ref  alt
    F0001      F0001.p1       case     chr1   1000123  A    G
    F0001      F0001.s1       control  chr2   2045001  C    T

``role`` is ``case`` or ``control`` (any letter case); ``pos`` is 1-based. One row is one
de novo variant of one individual.

Errors (:class:`~crossreg.errors.InputError`, naming the file and line): a missing column, a
row with fewer fields than the header, an empty ``individual_id`` or ``chrom``, an unknown
role, a ``pos`` that is not a positive integer, an individual given two roles or two
families; with a FASTA, a chromosome the FASTA lacks or a position past its end.

Exclusions (counted by reason with up to :data:`EXAMPLES_PER_REASON` examples, never
errors; :data:`EXCLUSION_REASONS` in report order):

==============================  =========  ==============  ========================================
reason                          unit       excluded from   meaning
==============================  =========  ==============  ========================================
``missing_alt``                 records    all tests       ALT empty or ``.``
``multiallelic``                records    all tests       ALT lists several alleles (``A,T``)
``symbolic_alt``                records    all tests       ``<DEL>``, breakends, ``*``
``indel``                       records    all tests       REF and ALT lengths differ (``-`` = empty)
``mnp``                         records    all tests       REF and ALT of equal length > 1
``non_acgt``                    records    all tests       a base other than A/C/G/T (N, IUPAC)
``ref_equals_alt``              records    all tests       ALT is the REF base
``missing_family``              records    all tests       ``family_id`` empty or ``.``
``duplicate``                   records    all tests       same individual, chrom, pos and ALT as an
                                                           earlier row (the first is kept)
``ref_mismatch``                records    all tests       REF is not the FASTA's base (with a FASTA)
``missing_score``               records    all tests       no score in the score file
                                                           (added by :mod:`crossreg.denovo`)
``family_without_control``      families   paired test     the family has a case but no control
``family_without_case``         families   paired test     the family has controls but no case
``family_with_several_cases``   families   paired test     more than one case in the family
==============================  =========  ==============  ========================================

The family rule: the per-variant tests (per track, PCA) use every valid SNP of every
individual; the paired (per-family) test uses the families with exactly one case and at
least one control. The members of a family are every individual named on a row with that
family id, whatever the row's variant (an individual whose only de novo variants are indels
is a member with no scored SNP, and so a sum of 0). An individual with no de novo variant at
all does not appear in the table: a family whose control has none is therefore
``family_without_control``.
"""

from __future__ import annotations

import gzip
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from crossreg.errors import InputError
from crossreg.io.alleles import SNP_REASONS, snp_skip_reason

log = logging.getLogger(__name__)

COLUMNS = ("family_id", "individual_id", "role", "chrom", "pos", "ref", "alt")
ROLES = ("case", "control")
EXAMPLES_PER_REASON = 5
RECORD_REASONS = (
    *SNP_REASONS,
    "missing_family",
    "duplicate",
    "ref_mismatch",
    "missing_score",
)
FAMILY_REASONS = ("family_without_control", "family_without_case", "family_with_several_cases")
EXCLUSION_REASONS = RECORD_REASONS + FAMILY_REASONS
_MISSING_FAMILY = ("", ".")


# ---------------------------------------------------------------------- the exclusion report
@dataclass
class ExclusionReport:
    """Counts of excluded records (or families) per reason, with the first examples of each.

    Attributes:
        counts: reason -> count (records for record reasons, families for family reasons),
            only reasons that occurred, in :data:`EXCLUSION_REASONS` order.
        examples: reason -> up to :data:`EXAMPLES_PER_REASON` examples, in input order.
    """

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reason: str, example: str, n: int = 1) -> None:
        """Count ``n`` exclusions for ``reason``; keep ``example`` while fewer than the limit."""
        self.counts[reason] = self.counts.get(reason, 0) + int(n)
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(example)
        self._sort()

    def merge(self, other: "ExclusionReport") -> "ExclusionReport":
        """Add another report's counts (and examples, while fewer than the limit)."""
        for reason, n in other.counts.items():
            self.counts[reason] = self.counts.get(reason, 0) + int(n)
            shown = self.examples.setdefault(reason, [])
            shown.extend(other.examples.get(reason, [])[: EXAMPLES_PER_REASON - len(shown)])
        self._sort()
        return self

    def copy(self) -> "ExclusionReport":
        return ExclusionReport().merge(self)

    @staticmethod
    def unit(reason: str) -> str:
        """``families`` for the family reasons, ``records`` otherwise."""
        return "families" if reason in FAMILY_REASONS else "records"

    @staticmethod
    def excluded_from(reason: str) -> str:
        """``paired_test`` for the family reasons, ``all_tests`` otherwise."""
        return "paired_test" if reason in FAMILY_REASONS else "all_tests"

    @property
    def n_records(self) -> int:
        """Records excluded from every test."""
        return sum(n for r, n in self.counts.items() if r not in FAMILY_REASONS)

    def _sort(self) -> None:
        rank = {r: i for i, r in enumerate(EXCLUSION_REASONS)}
        self.counts = dict(sorted(self.counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
        self.examples = {r: self.examples[r] for r in self.counts if r in self.examples}

    def rows(self) -> list[tuple[str, str, str, int, str]]:
        """(reason, unit, excluded_from, count, examples joined by ``; ``), in report order."""
        return [(r, self.unit(r), self.excluded_from(r), n, "; ".join(self.examples.get(r, [])))
                for r, n in self.counts.items()]

    def text(self) -> str:
        """One line: ``indel 3 records (e.g. line 4: ...; ...); family_without_case 1 families (...)``."""
        if not self.counts:
            return "none"
        return "; ".join(f"{r} {n} {self.unit(r)} (e.g. {'; '.join(self.examples.get(r, []))})"
                         for r, n in self.counts.items())


# ---------------------------------------------------------------------- the table
@dataclass
class DenovoTable:
    """The valid de novo SNPs of a table, one per row, and the families' members.

    Row arrays (length ``n`` = valid SNPs, in file order):
        family, individual, chrom, ref, alt: object (str) arrays; ref/alt upper case A/C/G/T.
        pos: int64, 1-based.
        is_case: bool, True for ``case``.
        line: int64, the row's 1-based line in the file.

    Members (every individual named on a row with a family id, sorted by individual id):
        member_ids, member_family: object (str) arrays; member_is_case: bool.

    Families:
        paired_families: sorted family ids with exactly one case and at least one control
            (the paired test's families).

    Other:
        path: the table's file.
        chrom_sizes: chromosome -> length (bp) of the FASTA the table was checked against,
            in FASTA order, or None when read without one.
    """

    path: Path
    family: np.ndarray
    individual: np.ndarray
    is_case: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    line: np.ndarray
    member_ids: np.ndarray
    member_family: np.ndarray
    member_is_case: np.ndarray
    paired_families: list[str]
    chrom_sizes: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def n_case(self) -> int:
        return int(np.count_nonzero(self.is_case))

    @property
    def n_control(self) -> int:
        return len(self) - self.n_case

    def site_keys(self) -> np.ndarray:
        """object [n]: ``chrom:pos:ref:alt`` per row (the sites VCF's IDs)."""
        return np.array([f"{c}:{p}:{r}:{a}" for c, p, r, a in zip(self.chrom, self.pos, self.ref, self.alt)],
                        dtype=object)

    def member_index(self) -> np.ndarray:
        """int64 [n]: each row's individual as an index into ``member_ids``."""
        idx = np.searchsorted(self.member_ids, self.individual)
        return idx.astype(np.int64)

    def subset(self, keep: np.ndarray) -> "DenovoTable":
        """The rows where ``keep`` (bool [n]) is True; members and families unchanged."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(self),):
            raise ValueError(f"subset: mask of shape {keep.shape}, expected ({len(self)},)")
        rows = {name: getattr(self, name)[keep] for name in
                ("family", "individual", "is_case", "chrom", "pos", "ref", "alt", "line")}
        return DenovoTable(self.path, **rows, member_ids=self.member_ids, member_family=self.member_family,
                           member_is_case=self.member_is_case, paired_families=list(self.paired_families),
                           chrom_sizes=self.chrom_sizes)

    def describe(self, i: int) -> str:
        """``line L: INDIVIDUAL chrom:pos ref>alt``: how examples name row ``i``."""
        return f"line {self.line[i]}: {self.individual[i]} {self.chrom[i]}:{self.pos[i]} {self.ref[i]}>{self.alt[i]}"


def classify_alleles(ref: str, alt: str) -> str | None:
    """The exclusion reason of a REF/ALT pair, or None for a SNP (the scorer's rules,
    :func:`crossreg.io.alleles.snp_skip_reason`; ``-`` or an empty REF/ALT is an empty allele).
    """
    return snp_skip_reason(ref, tuple(alt.split(",")) if alt not in ("", ".") else ())


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without the newline) of a plain or gzip text file."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for number, text in enumerate(handle, start=1):
                yield number, text.rstrip("\r\n")
    except UnicodeDecodeError as err:
        raise InputError(f"de novo table {path}: not UTF-8 text ({err})") from None
    except (OSError, EOFError) as err:
        raise InputError(f"de novo table {path}: cannot read ({err})") from None


@dataclass
class _Row:
    line: int
    family: str
    individual: str
    is_case: bool
    chrom: str
    pos: int
    ref: str
    alt: str

    def text(self) -> str:
        return f"line {self.line}: {self.individual} {self.chrom}:{self.pos} {self.ref}>{self.alt}"


def _parse(path: Path) -> list[_Row]:
    """Every data row of the table, checked for the errors (not the exclusions)."""
    rows: list[_Row] = []
    cols: dict[str, int] | None = None
    width = 0
    for number, text in _lines(path):
        if not text.strip():
            continue
        if cols is None:
            names = [c.strip() for c in text.lstrip("#").split("\t")]
            missing = [c for c in COLUMNS if c not in names]
            if missing:
                raise InputError(
                    f"de novo table {path}: line {number}: missing column(s) {', '.join(missing)}; expected a "
                    f"tab-separated header with {' '.join(COLUMNS)} (found: {' '.join(names)})"
                )
            cols = {c: names.index(c) for c in COLUMNS}
            width = max(cols.values()) + 1
            continue
        if text.startswith("#"):
            continue
        fields = text.split("\t")
        if len(fields) < width:
            raise InputError(f"de novo table {path}: line {number}: {len(fields)} tab-separated fields, "
                             f"expected at least {width} ({' '.join(COLUMNS)})")
        get = {c: fields[i].strip() for c, i in cols.items()}
        role = get["role"].lower()
        if role not in ROLES:
            raise InputError(f"de novo table {path}: line {number}: unknown role {get['role']!r}; expected case or control")
        if not get["individual_id"]:
            raise InputError(f"de novo table {path}: line {number}: empty individual_id")
        if not get["chrom"]:
            raise InputError(f"de novo table {path}: line {number}: empty chrom")
        pos_text = get["pos"]
        if not (pos_text.isascii() and pos_text.isdigit()) or int(pos_text) < 1:
            raise InputError(f"de novo table {path}: line {number}: pos {pos_text!r} is not a positive integer "
                             "(expected a 1-based position)")
        rows.append(_Row(number, get["family_id"], get["individual_id"], role == "case", get["chrom"],
                         int(pos_text), get["ref"], get["alt"]))
    if cols is None:
        raise InputError(f"de novo table {path}: empty file; expected a header with {' '.join(COLUMNS)}")
    return rows


def _members(path: Path, rows: Sequence[_Row]) -> dict[str, tuple[str, bool, int]]:
    """individual -> (family, is_case, first line), from rows with a family id; errors on conflicts."""
    members: dict[str, tuple[str, bool, int]] = {}
    for row in rows:
        if row.family in _MISSING_FAMILY:
            continue
        seen = members.get(row.individual)
        if seen is None:
            members[row.individual] = (row.family, row.is_case, row.line)
            continue
        family, is_case, line = seen
        if family != row.family:
            raise InputError(f"de novo table {path}: line {row.line}: individual {row.individual!r} is in family "
                             f"{row.family!r} here and in family {family!r} on line {line}")
        if is_case != row.is_case:
            roles = {True: "case", False: "control"}
            raise InputError(f"de novo table {path}: line {row.line}: individual {row.individual!r} is a "
                             f"{roles[row.is_case]} here and a {roles[is_case]} on line {line}")
    return members


def _pair_families(members: dict[str, tuple[str, bool, int]], report: ExclusionReport) -> list[str]:
    """Families with exactly one case and at least one control; the others reported."""
    cases: dict[str, list[str]] = {}
    controls: dict[str, list[str]] = {}
    for individual, (family, is_case, _) in sorted(members.items()):
        cases.setdefault(family, [])
        controls.setdefault(family, [])
        (cases if is_case else controls)[family].append(individual)
    paired = []
    for family in sorted(cases):
        c, k = cases[family], controls[family]
        shown = f"family {family} (cases: {', '.join(c) or 'none'}; controls: {', '.join(k) or 'none'})"
        if not k:
            report.add("family_without_control", shown)
        elif not c:
            report.add("family_without_case", shown)
        elif len(c) > 1:
            report.add("family_with_several_cases", shown)
        else:
            paired.append(family)
    return paired


def read_denovo_table(path: str | os.PathLike, *, fasta: str | os.PathLike | None = None
                      ) -> tuple[DenovoTable, ExclusionReport]:
    """Read and validate a de novo table (see the module docstring for the format and rules).

    Args:
        path: TSV, plain or gzip.
        fasta: optional reference FASTA (plain or bgzip with ``.fai``): each SNP's REF is
            checked against it (mismatches excluded as ``ref_mismatch``) and chromosomes and
            positions must lie in it.

    Returns:
        (the valid SNPs with the families' members, the exclusion report).

    Raises:
        InputError: a malformed table, or one inconsistent with the FASTA (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"de novo table {path}: no such file")
    rows = _parse(path)
    report = ExclusionReport()
    members = _members(path, rows)
    kept: list[_Row] = []
    seen: set[tuple[str, str, int, str]] = set()
    for row in rows:
        reason = classify_alleles(row.ref, row.alt)
        if reason is None and row.family in _MISSING_FAMILY:
            reason = "missing_family"
        if reason is None:
            row.ref, row.alt = row.ref.upper(), row.alt.upper()
            key = (row.individual, row.chrom, row.pos, row.alt)
            if key in seen:
                reason = "duplicate"
            else:
                seen.add(key)
        if reason is None:
            kept.append(row)
        else:
            report.add(reason, row.text())
    chrom_sizes = None
    if fasta is not None:
        kept, chrom_sizes = _check_fasta(path, Path(fasta), kept, report)
    paired = _pair_families(members, report)
    ids = np.array(sorted(members), dtype=object)
    table = DenovoTable(
        path=path,
        family=np.array([r.family for r in kept], dtype=object),
        individual=np.array([r.individual for r in kept], dtype=object),
        is_case=np.array([r.is_case for r in kept], dtype=bool),
        chrom=np.array([r.chrom for r in kept], dtype=object),
        pos=np.array([r.pos for r in kept], dtype=np.int64),
        ref=np.array([r.ref for r in kept], dtype=object),
        alt=np.array([r.alt for r in kept], dtype=object),
        line=np.array([r.line for r in kept], dtype=np.int64),
        member_ids=ids,
        member_family=np.array([members[i][0] for i in ids], dtype=object),
        member_is_case=np.array([members[i][1] for i in ids], dtype=bool),
        paired_families=paired,
        chrom_sizes=chrom_sizes,
    )
    log.info("de novo table %s: %d rows, %d SNPs kept (%d case, %d control), %d individuals, %d paired families; "
             "excluded: %s", path, len(rows), len(table), table.n_case, table.n_control, len(ids), len(paired),
             report.text())
    return table, report


def _check_fasta(path: Path, fasta_path: Path, rows: list[_Row], report: ExclusionReport
                 ) -> tuple[list[_Row], dict[str, int]]:
    """Chromosomes and positions must be in the FASTA; REF mismatches are excluded."""
    from crossreg.io.fasta import FastaGenome

    kept: list[_Row] = []
    with FastaGenome(fasta_path) as genome:
        sizes = dict(genome.chrom_sizes)
        for row in rows:
            size = sizes.get(row.chrom)
            if size is None:
                other = row.chrom[3:] if row.chrom.startswith("chr") else f"chr{row.chrom}"
                hint = f" (it has {other!r}: the table and the FASTA name chromosomes differently)" if other in sizes else ""
                shown = ", ".join(list(sizes)[:10]) + (f", ... ({len(sizes)} in all)" if len(sizes) > 10 else "")
                raise InputError(f"de novo table {path}: line {row.line}: chromosome {row.chrom!r} is not in the FASTA "
                                 f"{fasta_path}{hint}; the FASTA's chromosomes: {shown}")
            if row.pos > size:
                raise InputError(f"de novo table {path}: line {row.line}: position {row.chrom}:{row.pos} is past the "
                                 f"chromosome end ({size} bp in the FASTA {fasta_path}); is the table on another assembly?")
            base = genome.fetch(row.chrom, row.pos - 1, row.pos).decode("ascii").upper()
            if base != row.ref:
                report.add("ref_mismatch", f"{row.text()} (FASTA has {base})")
            else:
                kept.append(row)
    return kept, sizes


# ---------------------------------------------------------------------- the sites VCF
def unique_sites(table: DenovoTable, chrom_order: Sequence[str]) -> list[tuple[str, int, str, str]]:
    """The table's distinct (chrom, pos, ref, alt), sorted by ``chrom_order`` then pos, ref, alt.

    Raises:
        InputError: a chromosome that is not in ``chrom_order`` (naming the table line).
    """
    rank = {c: i for i, c in enumerate(chrom_order)}
    sites: dict[tuple[str, int, str, str], int] = {}
    for i in range(len(table)):
        key = (str(table.chrom[i]), int(table.pos[i]), str(table.ref[i]), str(table.alt[i]))
        if key[0] not in rank:
            raise InputError(f"de novo table {table.path}: line {table.line[i]}: chromosome {key[0]!r} is not among "
                             f"the genome's chromosomes ({', '.join(list(chrom_order)[:10])}"
                             f"{', ...' if len(rank) > 10 else ''})")
        sites.setdefault(key, i)
    return sorted(sites, key=lambda k: (rank[k[0]], k[1], k[2], k[3]))


def write_sites_vcf(table: DenovoTable, path: str | os.PathLike,
                    chrom_sizes: dict[str, int] | Sequence[tuple[str, int]]) -> int:
    """Write the table's distinct SNP sites as a bgzipped, tabix-indexed VCF for the scorer.

    One record per distinct (chrom, pos, ref, alt), sorted by the genome's chromosome order
    (the order of ``chrom_sizes``, e.g. the FASTA's) then position; ID ``chrom:pos:ref:alt``,
    QUAL/FILTER/INFO ``.``. Score it with ``crossreg score-variants`` (optionally scattered
    with ``--chunk i --of n`` and gathered with ``crossreg gather-scores``).

    Args:
        table: the valid SNPs (:func:`read_denovo_table`).
        path: output ``.vcf.gz`` (``.tbi`` written beside it).
        chrom_sizes: chromosome -> length (bp), or (name, length) pairs, in genome order.

    Returns:
        The number of sites written.
    """
    from crossreg.io.writers import write_vcf

    contigs = list(chrom_sizes.items()) if isinstance(chrom_sizes, dict) else [(str(n), int(s)) for n, s in chrom_sizes]
    sizes = dict(contigs)
    sites = unique_sites(table, [c for c, _ in contigs])
    for chrom, pos, ref, alt in sites:
        if pos > sizes[chrom]:
            raise InputError(f"de novo table {table.path}: site {chrom}:{pos} is past the chromosome end ({sizes[chrom]} bp)")
    records = ((c, p, f"{c}:{p}:{r}:{a}", r, a, ".", ".", ".") for c, p, r, a in sites)
    write_vcf(path, contigs, records, meta=["source=crossreg-denovo"])
    log.info("sites VCF %s: %d distinct SNPs of %d rows", path, len(sites), len(table))
    return len(sites)
