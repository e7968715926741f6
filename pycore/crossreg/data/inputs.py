"""The inputs a user brings for one genome, loaded and cross-checked once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from crossreg.io.bed import IntervalSet, read_masks
from crossreg.io.fasta import chrom_sizes as fasta_chrom_sizes
from crossreg.io.targets import TargetsTable, read_targets


@dataclass
class GenomeInputs:
    """Paths of one genome's inputs, with lazily loaded, validated contents.

    Attributes:
        genome: genome name.
        fasta: reference FASTA (plain or bgzip, indexed).
        targets: targets table (optional for steps that need no tracks).
        blacklists: BEDs masked entirely.
        unmappable: BEDs of unmappable regions (intervals > 32 bp are masked).
        missing_chroms: "error" or "zeros" for genome chromosomes a bigWig lacks.
    """

    genome: str
    fasta: Path
    targets_path: Path | None = None
    blacklists: list[Path] = field(default_factory=list)
    unmappable: list[Path] = field(default_factory=list)
    missing_chroms: str = "error"

    @cached_property
    def chrom_sizes(self) -> dict[str, int]:
        return fasta_chrom_sizes(self.fasta)

    @cached_property
    def masked(self) -> IntervalSet:
        return read_masks(self.chrom_sizes, self.blacklists, self.unmappable, genome_label=f"the FASTA {self.fasta}")

    @cached_property
    def targets(self) -> TargetsTable:
        if self.targets_path is None:
            raise ValueError("this step needs a targets table")
        return read_targets(self.targets_path, genome=self.genome)

    def input_files(self) -> dict[str, str | os.PathLike]:
        """role -> path of every input file, for checksums in the manifest."""
        files: dict[str, str | os.PathLike] = {"fasta": self.fasta}
        if self.targets_path is not None:
            files["targets"] = self.targets_path
            for t in self.targets:
                files[f"track:{t.identifier}"] = t.file
        for i, p in enumerate(self.blacklists):
            files[f"blacklist:{i}"] = p
        for i, p in enumerate(self.unmappable):
            files[f"unmappable:{i}"] = p
        return files
