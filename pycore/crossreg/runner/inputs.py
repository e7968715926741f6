"""The genomes a run works on: from a samplesheet (+ chain sheet), or from a simulated world.

Samplesheet (CSV, one header line; the Nextflow pipeline reads the same file):
``genome,fasta,targets,blacklist,unmappable,windows,tss`` — ``genome``, ``fasta`` and
``targets`` required; ``blacklist`` and ``unmappable`` empty, one BED or several separated by
``;``; ``windows`` empty (windows come from the orthology-aware split) or a windows BED with
folds; ``tss`` empty or a TSS BED/GTF for gene-level evaluation. Chain sheet:
``target,query,chain``. Relative paths are relative to the folder the run is started in.

Phenotype sheets of the SLDP analysis (CSV, one header line, the same rules):
``phenotype,pairs`` (``sldp_eqtl``: per-gene eQTL statistics of one tissue per row) and
``phenotype,sumstats`` (``sldp_sumstats``: per-SNP summary statistics used as they are).
Phenotype names name files (``<phenotype>.tsv``): letters, digits, ``_``, ``-`` and ``.``.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from crossreg.errors import InputError

SAMPLESHEET_COLUMNS = ("genome", "fasta", "targets", "blacklist", "unmappable", "windows", "tss")
CHAIN_COLUMNS = ("target", "query", "chain")
PHENOTYPE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class GenomeRecord:
    """One genome's inputs.

    Attributes:
        name: genome name (the model head's key).
        fasta: reference FASTA (plain or bgzip with .fai).
        targets: targets table.
        blacklist, unmappable: BED files (possibly none).
        windows: a windows BED with folds, or None (windows from the split).
        tss: TSS BED or GTF for gene-level evaluation, or None.
        track_files: the signal files or folders the targets table points to, when known
            before the table exists (a simulated world's ``tracks/``); None: read the table.
    """

    name: str
    fasta: Path
    targets: Path
    blacklist: list[Path] = field(default_factory=list)
    unmappable: list[Path] = field(default_factory=list)
    windows: Path | None = None
    tss: Path | None = None
    track_files: list[Path] | None = None


@dataclass
class ChainRecord:
    """A UCSC chain aligning genome ``target`` to genome ``query``."""

    target: str
    query: str
    chain: Path


def _existing(text: str, where: str, column: str) -> Path:
    path = Path(text.strip())
    if not path.exists():
        raise InputError(f"{where}: column {column!r}: file {path} does not exist")
    return path


def _rows(path: Path, required: tuple[str, ...], known: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        handle = open(path, newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected {','.join(known)}")
        unknown = [c for c in header if c not in known]
        if unknown:
            raise InputError(f"{path}: line 1: unknown column(s) {', '.join(unknown)}; expected {','.join(known)}")
        rows = []
        for line, row in enumerate(reader, start=2):
            rows.append((line, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}))
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def read_samplesheet(path: str | os.PathLike) -> list[GenomeRecord]:
    """Genomes of a samplesheet (see module docstring).

    Raises:
        InputError: missing or unknown columns, an empty required cell, a file that does not
            exist, or a genome listed twice, naming the line.
    """
    path = Path(path)
    records: list[GenomeRecord] = []
    seen: dict[str, int] = {}
    for line, row in _rows(path, ("genome", "fasta", "targets"), SAMPLESHEET_COLUMNS):
        where = f"{path}: line {line}"
        for column in ("genome", "fasta", "targets"):
            if not row.get(column):
                raise InputError(f"{where}: column {column!r} is empty (required)")
        name = row["genome"]
        if name in seen:
            raise InputError(f"{where}: genome {name!r} is already listed on line {seen[name]}")
        seen[name] = line

        def beds(column: str) -> list[Path]:
            return [_existing(p, where, column) for p in row.get(column, "").split(";") if p.strip()]

        records.append(GenomeRecord(
            name=name,
            fasta=_existing(row["fasta"], where, "fasta"),
            targets=_existing(row["targets"], where, "targets"),
            blacklist=beds("blacklist"),
            unmappable=beds("unmappable"),
            windows=_existing(row["windows"], where, "windows") if row.get("windows") else None,
            tss=_existing(row["tss"], where, "tss") if row.get("tss") else None,
        ))
    return records


def read_chain_sheet(path: str | os.PathLike, genomes: list[str]) -> list[ChainRecord]:
    """Chains of a chain sheet whose two genomes are both in ``genomes``.

    Raises:
        InputError: missing columns, empty cells, missing files, naming the line.
    """
    path = Path(path)
    chains = []
    for line, row in _rows(path, CHAIN_COLUMNS, CHAIN_COLUMNS):
        where = f"{path}: line {line}"
        for column in CHAIN_COLUMNS:
            if not row.get(column):
                raise InputError(f"{where}: column {column!r} is empty (required)")
        if row["target"] in genomes and row["query"] in genomes:
            chains.append(ChainRecord(row["target"], row["query"], _existing(row["chain"], where, "chain")))
    return chains


def simulated_world(world: Path) -> tuple[list[GenomeRecord], list[ChainRecord]]:
    """The genomes and chain of a world written by ``crossreg simulate`` (paths need not exist yet).

    Args:
        world: the simulator's output folder.

    Returns:
        (genome records for human and mouse, the human-to-mouse chain).
    """
    from crossreg.simulate.params import GENOMES

    records = [
        GenomeRecord(
            name=g,
            fasta=world / g / "genome.fa.gz",
            targets=world / g / "targets.txt",
            blacklist=[world / g / "blacklist.bed"],
            unmappable=[world / g / "unmappable.bed"],
            tss=world / g / "tss.bed",
            track_files=[world / g / "tracks"],
        )
        for g in GENOMES
    ]
    chains = [ChainRecord(GENOMES[0], GENOMES[1], world / "alignment" / f"{GENOMES[0]}_to_{GENOMES[1]}.chain")]
    return records, chains


def read_phenotype_sheet(path: str | os.PathLike, column: str, param: str) -> list[tuple[str, Path]]:
    """``(phenotype, file)`` of each row of a phenotype sheet (``phenotype,<column>``), in sheet order.

    Args:
        path: the CSV sheet.
        column: the file column (``pairs`` or ``sumstats``).
        param: the parameter that named the sheet (``sldp_eqtl``, ``sldp_sumstats``), for messages.

    Raises:
        InputError: unreadable sheet, missing or unknown columns, an empty cell, a phenotype
            name that is not file-name safe or listed twice, a file that does not exist; the
            message starts with ``param`` and names the line.
    """
    path = Path(path)
    columns = ("phenotype", column)
    out: list[tuple[str, Path]] = []
    seen: dict[str, int] = {}
    try:
        rows = _rows(path, columns, columns)
    except InputError as err:
        raise InputError(f"{param}: {err}") from None
    for line, row in rows:
        where = f"{param}: {path}: line {line}"
        for c in columns:
            if not row.get(c):
                raise InputError(f"{where}: column {c!r} is empty (required)")
        name = row["phenotype"]
        if not PHENOTYPE_NAME.match(name):
            raise InputError(f"{where}: phenotype {name!r}: use letters, digits, '_', '-' and '.' (it names files)")
        if name in seen:
            raise InputError(f"{where}: phenotype {name!r} is already listed on line {seen[name]}")
        seen[name] = line
        out.append((name, _existing(row[column], where, column)))
    return out


@dataclass
class SimulatedPopulation:
    """The population files a simulated world writes for its first genome (human), known before
    ``crossreg simulate`` has run (the paths need not exist yet).

    Attributes:
        genome: the genome they belong to (``human``).
        panel: PLINK prefix of the LD reference panel (``<genome>/ld_panel/`` + chromosome).
        chroms: the genome's chromosomes, comma-separated (``chr1,...,chrN``).
        blocks: LD blocks BED.
        snps_vcf: VCF of the panel SNPs (to score).
        gtf: gene annotation GTF.
        eqtl: ``(tissue, <Tissue>.pairs.tsv.gz)`` of every eQTL tissue.
        denovo_table: the de novo variants table.
    """

    genome: str
    panel: str
    chroms: str
    blocks: Path
    snps_vcf: Path
    gtf: Path
    eqtl: list[tuple[str, Path]]
    denovo_table: Path


def simulated_population(world: Path, preset: str, overrides: str | os.PathLike | None) -> SimulatedPopulation:
    """Where ``crossreg simulate --preset PRESET [--params OVERRIDES] --out WORLD`` writes its population files.

    The chromosomes (``chr1..chrN``, N = ``genome.chromosomes.human``) and the eQTL tissues
    (:func:`crossreg.simulate.eqtl.eqtl_tissues`) come from the simulator's resolved params.

    Raises:
        InputError: unreadable or invalid simulator overrides.
    """
    from crossreg.simulate.eqtl import eqtl_tissues
    from crossreg.simulate.params import GENOMES, resolve_params

    params = resolve_params(preset, overrides)
    genome = GENOMES[0]
    folder = world / genome
    n_chroms = int(params["genome"]["chromosomes"][genome])
    return SimulatedPopulation(
        genome=genome,
        panel=f"{folder / 'ld_panel'}/",
        chroms=",".join(f"chr{i}" for i in range(1, n_chroms + 1)),
        blocks=folder / "ld_blocks.bed",
        snps_vcf=folder / "panel_snps.vcf.gz",
        gtf=folder / "genes.gtf",
        eqtl=[(tissue, folder / "eqtl" / f"{tissue}.pairs.tsv.gz") for tissue, _ in eqtl_tissues(params)],
        denovo_table=folder / "denovo.tsv",
    )
