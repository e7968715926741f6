"""De novo variants in cases vs sibling controls (the paper's Figure 5), on score tables.

Public API::

    read_denovo_table(path, *, fasta=None) -> (DenovoTable, ExclusionReport)   # crossreg.io.denovo
    write_sites_vcf(table, path, chrom_sizes) -> int                             # sites to score
    scores_for_table(table, h5_path, tracks=None, *, stat="SAD",
                     max_missing_fraction=0.05) -> (scores, track_ids, track_labels)
    assign_groups(track_ids, track_labels, *, table=None, rules=None) -> TrackGroups
    run_denovo(table, scores, track_ids, track_labels, groups, *, fdr=0.1, chosen_track=None,
               top_n=20, ism_width=200, pca_scale=False, eps=None, method="auto",
               exclusions=None, threads=None, seed=0) -> DenovoResult
    write_outputs(result, out_dir, *, plots=True) -> dict[str, Path]
    denovo_sites(table_path, fasta, out_vcf, *, exclusions_out=None) -> dict      # crossreg denovo-vcf
    denovo_analysis(table_path, scores_path, out_dir, **options) -> DenovoResult  # crossreg denovo

Modules: :mod:`crossreg.io.denovo` (table reader, exclusions, sites VCF), :mod:`.scores`
(score-file join), :mod:`.groups` (track groups), :mod:`.stats` (MWU, BH, effects, group and
sign tests), :mod:`.pca`, :mod:`.families` (per-individual burden, paired test),
:mod:`.plots`, :mod:`.output` (files), :mod:`.core` (the steps).

This package works on tables: it never imports Keras/TensorFlow, :mod:`crossreg.model` or
:mod:`crossreg.variants`.
"""

from crossreg.denovo.core import DenovoResult, denovo_analysis, denovo_sites, run_denovo
from crossreg.denovo.groups import DEFAULT_RULES, TrackGroups, assign_groups
from crossreg.denovo.output import DENOVO_FORMAT, DENOVO_FORMAT_VERSION, write_outputs
from crossreg.denovo.scores import scores_for_table
from crossreg.io.denovo import ExclusionReport, DenovoTable, read_denovo_table, write_sites_vcf

__all__ = [
    "DEFAULT_RULES",
    "DENOVO_FORMAT",
    "DENOVO_FORMAT_VERSION",
    "DenovoResult",
    "DenovoTable",
    "ExclusionReport",
    "TrackGroups",
    "assign_groups",
    "denovo_analysis",
    "denovo_sites",
    "read_denovo_table",
    "run_denovo",
    "scores_for_table",
    "write_outputs",
    "write_sites_vcf",
]
