"""What a plan is made of: :class:`Step` (one ``crossreg`` command) and :class:`RunPlan` (every step
of a run and where its products are), with small helpers shared by the planners."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from crossreg.runner.inputs import GenomeRecord


@dataclass
class Step:
    """One ``crossreg`` command of the run.

    Attributes:
        name: unique step name, e.g. ``shards:human:1``.
        argv: the arguments after ``crossreg``.
        inputs: files or folders the step reads (its up-to-date check fingerprints them).
        outputs: files or folders it writes.
        stdout: file that receives the command's standard output (else the step's log).
        parallel_group: consecutive steps with the same group may run at the same time.
        resume_flag: flag that continues an interrupted run of the step (``--resume`` for
            train), added when ``resume_marker`` exists but the step has no record.
        resume_marker: a file an interrupted run of the step leaves (train: ``params.json``,
            written first).
        prepare: called before the step runs again after a finished earlier run with other
            inputs or options (removes what that run left that this one would not replace).
    """

    name: str
    argv: list[str]
    inputs: list[Path]
    outputs: list[Path]
    stdout: Path | None = None
    parallel_group: str | None = None
    resume_flag: str | None = None
    resume_marker: Path | None = None
    prepare: Callable[[], None] | None = None


@dataclass
class RunPlan:
    """Every step of a run, in order, and where its main products are.

    Attributes:
        steps: the steps in the order they run.
        manifests: genome -> its shard ``manifest.json``.
        model_dir: the model evaluated (given, or trained).
        evaluation: the evaluation folder.
        variant_scores: head -> ``variants/<head>/scores.h5``.
        sldp: head -> ``sldp/<head>/`` (the gathered SLDP tables, heat map, summary.json).
        denovo: head -> ``denovo/<head>/`` (the de novo analysis, ``ism/`` inside it).
        report: the HTML report.
    """

    steps: list[Step] = field(default_factory=list)
    manifests: dict[str, Path] = field(default_factory=dict)
    model_dir: Path | None = None
    evaluation: Path | None = None
    variant_scores: dict[str, Path] = field(default_factory=dict)
    sldp: dict[str, Path] = field(default_factory=dict)
    denovo: dict[str, Path] = field(default_factory=dict)
    report: Path | None = None


def fasta_files(g: GenomeRecord) -> list[Path]:
    """The FASTA and its indexes (the same list whether or not they exist yet: fingerprints compare lists)."""
    files = [g.fasta, Path(f"{g.fasta}.fai")]
    if g.fasta.suffix == ".gz":
        files.append(Path(f"{g.fasta}.gzi"))
    return files


def remove_folder(folder: Path) -> Callable[[], None]:
    """A ``prepare`` callback removing ``folder`` (a step that rebuilds it from scratch)."""
    def prepare() -> None:
        if folder.exists():
            shutil.rmtree(folder)
    return prepare


def genome_named(genomes: list[GenomeRecord], name: str, param: str) -> GenomeRecord:
    """The run's genome called ``name``.

    Raises:
        InputError: no genome of that name (the message names ``param``).
    """
    from crossreg.errors import InputError

    for g in genomes:
        if g.name == name:
            return g
    raise InputError(f"{param}: {name!r} is not a genome of this run ({', '.join(g.name for g in genomes)})")
