"""The targets table: one row per signal track (Basenji/baskerville ``targets.txt`` compatible).

Format (tab-separated, one header line)::

    index  genome  identifier  file  clip  clip_soft  scale  sum_stat  description  [group]

- ``index``: integer track index (the Basenji files name this column ``index`` or leave the
  header cell empty); rows must be numbered 0..n-1 in order.
- ``genome``: genome name (or the Basenji integer genome index); optional when the caller
  says which genome the table belongs to.
- ``identifier``: unique track id.
- ``file``: bigWig path, absolute or relative to the table's folder.
- ``clip``: hard clip applied to binned values (``min(x, clip)``); empty or ``inf`` = none.
- ``clip_soft``: soft-clip threshold t (``min(x, t + sqrt(max(0, x - t)))``); optional.
- ``scale``: multiplier applied after clipping.
- ``sum_stat``: ``sum`` or ``mean`` pooling over each bin.
- ``description``: free text; by convention ``ASSAY:rest`` (``CAGE:liver``).
- ``group``: optional replicate group; tracks sharing a group are averaged into one.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

from crossreg.errors import InputError

REQUIRED_COLUMNS = ("identifier", "file", "clip", "scale", "sum_stat", "description")
OPTIONAL_COLUMNS = ("index", "genome", "clip_soft", "group")
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
SUM_STATS = ("sum", "mean")


@dataclass(frozen=True)
class Target:
    """One signal track.

    Attributes:
        index: position of the track in the table (0-based).
        genome: genome name the track belongs to.
        identifier: unique id.
        file: resolved bigWig path.
        clip: hard clip (None = off), in transformed units.
        clip_soft: soft-clip threshold (None = off).
        scale: multiplier.
        sum_stat: "sum" or "mean".
        description: free text, ``ASSAY:...``.
        group: replicate group (defaults to the identifier: a group of one).
    """

    index: int
    genome: str
    identifier: str
    file: Path
    clip: float | None
    clip_soft: float | None
    scale: float
    sum_stat: str
    description: str
    group: str

    @property
    def assay(self) -> str:
        """Assay type from the description prefix (``CAGE``, ``DNASE``, ``ATAC``, ``CHIP``...)."""
        head = self.description.split(":", 1)[0].strip().upper()
        return head or "UNKNOWN"


@dataclass(frozen=True)
class TargetsTable:
    """All tracks of one genome, in table order."""

    path: Path
    genome: str
    targets: tuple[Target, ...]

    def __len__(self) -> int:
        return len(self.targets)

    def __iter__(self):
        return iter(self.targets)

    @property
    def identifiers(self) -> list[str]:
        return [t.identifier for t in self.targets]

    @property
    def groups(self) -> list[str]:
        """Replicate groups in order of first appearance (the output track order)."""
        seen: dict[str, None] = {}
        for t in self.targets:
            seen.setdefault(t.group, None)
        return list(seen)

    def group_members(self) -> dict[str, list[int]]:
        """Map each replicate group to the table indices of its member tracks."""
        members: dict[str, list[int]] = {}
        for t in self.targets:
            members.setdefault(t.group, []).append(t.index)
        return members


def _parse_optional_float(text: str, column: str, where: str) -> float | None:
    text = text.strip()
    if text == "" or text.lower() in ("none", "inf", "nan"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: column '{column}' must be a number or empty, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{where}: column '{column}' must be a positive number, got {text!r}")
    return value


def read_targets(
    path: str | os.PathLike,
    genome: str | None = None,
    check_files: bool = True,
) -> TargetsTable:
    """Read and validate a targets table.

    Args:
        path: the TSV file.
        genome: the genome this table belongs to. If the table has a ``genome`` column with
            names, every row must equal this (when given); integer genome indices (as in the
            Basenji paper's files) are accepted and replaced by ``genome``.
        check_files: require every bigWig file to exist.

    Returns:
        The validated table.

    Raises:
        InputError: unknown or missing columns, duplicate identifiers, unknown sum_stat,
            bad numbers, missing files, mixed genomes; the message names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"targets table {path}: no such file")
    with open(path, newline="") as handle:
        rows = [(n, line) for n, line in enumerate(handle, start=1) if line.strip() and not line.startswith("#")]
    if not rows:
        raise InputError(f"{path}: empty targets table (expected a header line and one row per track)")

    header_line_no, header_line = rows[0]
    header = next(csv.reader([header_line.rstrip("\r\n")], delimiter="\t"))
    header = [h.strip() for h in header]
    if header and header[0] == "":
        header[0] = "index"  # Basenji files leave the index column's header empty
    unknown = [h for h in header if h not in KNOWN_COLUMNS]
    if unknown:
        raise InputError(
            f"{path}:{header_line_no}: unknown column(s) {unknown}; expected columns "
            f"{list(REQUIRED_COLUMNS)} plus optional {list(OPTIONAL_COLUMNS)} (tab-separated)"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}:{header_line_no}: missing required column(s) {missing}; header is {header}")
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise InputError(f"{path}:{header_line_no}: duplicated column(s) {duplicated}")

    targets: list[Target] = []
    seen_ids: dict[str, int] = {}
    genomes_seen: set[str] = set()
    for row_index, (line_no, line) in enumerate(rows[1:]):
        where = f"{path}:{line_no}"
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != len(header):
            raise InputError(f"{where}: expected {len(header)} tab-separated fields ({header}), got {len(fields)}")
        rec = dict(zip(header, (f.strip() for f in fields)))

        if "index" in rec:
            try:
                idx = int(rec["index"])
            except ValueError:
                raise InputError(f"{where}: column 'index' must be an integer, got {rec['index']!r}") from None
            if idx != row_index:
                raise InputError(f"{where}: index {idx} out of order; expected {row_index} (rows numbered 0..n-1)")

        identifier = rec["identifier"]
        if not identifier:
            raise InputError(f"{where}: empty identifier")
        if identifier in seen_ids:
            raise InputError(f"{where}: duplicate identifier {identifier!r} (first seen on line {seen_ids[identifier]})")
        seen_ids[identifier] = line_no

        sum_stat = rec["sum_stat"].lower()
        if sum_stat not in SUM_STATS:
            raise InputError(f"{where}: unknown sum_stat {rec['sum_stat']!r}; expected one of {list(SUM_STATS)}")

        try:
            scale = float(rec["scale"])
        except ValueError:
            raise InputError(f"{where}: column 'scale' must be a number, got {rec['scale']!r}") from None
        if not math.isfinite(scale) or scale <= 0:
            raise InputError(f"{where}: column 'scale' must be a positive finite number, got {rec['scale']!r}")
        clip = _parse_optional_float(rec["clip"], "clip", where)
        clip_soft = _parse_optional_float(rec.get("clip_soft", ""), "clip_soft", where)

        row_genome = rec.get("genome", "")
        if row_genome and not row_genome.isdigit():
            if genome is not None and row_genome != genome:
                raise InputError(f"{where}: track belongs to genome {row_genome!r}, but this table was given for {genome!r}")
            genomes_seen.add(row_genome)
        resolved_genome = genome or row_genome
        if not resolved_genome or resolved_genome.isdigit():
            raise InputError(f"{where}: no genome name: add a 'genome' column with names or pass the genome explicitly")

        file_text = rec["file"]
        if not file_text:
            raise InputError(f"{where}: empty 'file' column (expected a bigWig path)")
        file_path = Path(file_text)
        if not file_path.is_absolute():
            file_path = path.parent / file_path
        if check_files and not file_path.is_file():
            raise InputError(f"{where}: track {identifier!r}: bigWig file {file_path} does not exist")

        group = rec.get("group", "") or identifier
        targets.append(
            Target(
                index=row_index,
                genome=resolved_genome,
                identifier=identifier,
                file=file_path,
                clip=clip,
                clip_soft=clip_soft,
                scale=scale,
                sum_stat=sum_stat,
                description=rec["description"],
                group=group,
            )
        )

    if not targets:
        raise InputError(f"{path}: no tracks (only a header line)")
    if len(genomes_seen) > 1:
        raise InputError(f"{path}: tracks of several genomes {sorted(genomes_seen)}; use one table per genome")
    table_genome = genome or targets[0].genome
    # Replicates of one group must agree on the transform so that averaging is meaningful.
    first_of_group: dict[str, Target] = {}
    for t in targets:
        ref = first_of_group.setdefault(t.group, t)
        if (ref.clip, ref.clip_soft, ref.scale, ref.sum_stat) != (t.clip, t.clip_soft, t.scale, t.sum_stat):
            raise InputError(
                f"{path}: replicate group {t.group!r}: track {t.identifier!r} has clip/clip_soft/scale/sum_stat "
                f"different from {ref.identifier!r}; replicates are averaged and must share the transform"
            )
    return TargetsTable(path=path, genome=table_genome, targets=tuple(targets))
