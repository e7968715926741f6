"""Variant effect scores (SAD) of a VCF's SNPs, chunk gathering, and saturation mutagenesis.

Public API::

    score_variants(model_dir_or_predictor, head, fasta, vcf, out, chunk=0, of=1, rc=True,
                   shifts=(0,), stats=("SAD",), ref_mismatch="skip", batch_size=8, tsv=None,
                   tsv_tracks=None, manifest=None, progress=None) -> dict  # crossreg score-variants
    gather_scores(inputs, out, tsv=None, tsv_tracks=None) -> dict           # crossreg gather-scores
    saturation_mutagenesis(model_dir_or_predictor, head, fasta, region, out, plot=None,
                           tracks=None, manifest=None, rc=True, batch_size=8) -> dict  # crossreg ism
    ism_regions_table(model_dir_or_predictor, head, fasta, table, out_dir, top=3, ...) -> dict
                                              # crossreg ism --regions-table (e.g. denovo's top variants)
    load_predictor(model_dir, head) -> Predictor    # a saved head; Keras loaded on first use
    Predictor(predict_fn, seq_length, n_tracks, head, ...)  # any x [n, L, 4] -> [n, bins, tracks]

Modules: :mod:`.vcf` (records, skip reasons, REF check, chunks), :mod:`.windows` (centred
windows, shifts, reverse complements, alleles), :mod:`.sad` (batched ensemble predictions ->
SAD/logSAD/L2), :mod:`.output` (HDF5/TSV layout), :mod:`.ism` (mutagenesis and its plot),
:mod:`.core` (the steps).
"""

from crossreg.variants.core import (
    ISM_FORMAT,
    gather_scores,
    ism_regions_table,
    load_predictor,
    saturation_mutagenesis,
    score_variants,
)
from crossreg.variants.output import SCORES_FORMAT, SCORES_FORMAT_VERSION
from crossreg.variants.sad import STATS, Predictor, keras_predictor
from crossreg.variants.vcf import SKIP_REASONS, SkipReport, read_vcf

__all__ = [
    "ISM_FORMAT",
    "SCORES_FORMAT",
    "SCORES_FORMAT_VERSION",
    "SKIP_REASONS",
    "STATS",
    "Predictor",
    "SkipReport",
    "gather_scores",
    "ism_regions_table",
    "keras_predictor",
    "load_predictor",
    "read_vcf",
    "saturation_mutagenesis",
    "score_variants",
]
