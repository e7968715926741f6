"""Scattered variant scoring, as ``crossreg run`` plans it for every VCF it scores.

A VCF's SNPs are scored with one model head in ``score_chunks`` pieces (``score-variants --chunk i
--of n``, one step each, one parallel group), then gathered (``gather-scores``) into
``scores.h5`` and ``scores.tsv``. The same params (``score_*``) steer the variant scores of
``variants_vcf`` (``variants/<head>/``), of the SLDP panel SNPs (``sldp/<head>/scores/``) and of
the de novo sites (``denovo/<head>/scores/``); the Nextflow pipeline runs the same two modules
for all three.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from crossreg.errors import InputError
from crossreg.runner.inputs import GenomeRecord
from crossreg.runner.step import RunPlan, Step, fasta_files


def score_chunks(v: Mapping[str, Any]) -> int:
    """``score_chunks``, checked.

    Raises:
        InputError: fewer than 1.
    """
    chunks = int(v["score_chunks"])
    if chunks < 1:
        raise InputError(f"score_chunks must be at least 1, got {chunks}")
    return chunks


def score_options(v: Mapping[str, Any]) -> list[str]:
    """The ``score-variants`` flags of the ``score_*`` params (``--shifts=`` keeps a negative first shift one value)."""
    return ([f"--shifts={v['score_shifts']}", "--stats", v["score_stats"], "--ref-mismatch", v["score_ref_mismatch"],
             "--batch-size", str(v["score_batch_size"])] + ([] if v["score_rc"] else ["--no-rc"]))


def tsv_track_options(v: Mapping[str, Any]) -> list[str]:
    """The ``gather-scores`` flags of ``score_tsv_tracks``."""
    return [x for t in (v["score_tsv_tracks"] or "").split(",") if t.strip() for x in ("--tsv-track", t.strip())]


def plan_scores(plan: RunPlan, v: Mapping[str, Any], *, key: str, head: str, genome: GenomeRecord, vcf: Path,
                out: Path, model_inputs: list[Path]) -> Path:
    """Append the scatter (``score-variants:<key>:<i>``) and the gather (``gather-scores:<key>``) of one VCF and head.

    Args:
        plan: the plan (its ``model_dir`` and ``manifests`` are read; steps are appended).
        v: the run params.
        key: the steps' name part, e.g. ``human`` (variants) or ``sldp:human``.
        head: the model head that scores (a genome of the run: its manifest names the tracks).
        genome: the genome the VCF is on (its FASTA is read around each SNP).
        vcf: the VCF.
        out: folder of ``chunk-<i>-of-<n>.h5``, ``scores.h5`` and ``scores.tsv``.
        model_inputs: what the model is (fingerprinted by the scoring steps).

    Returns:
        ``out/scores.h5``.

    Raises:
        InputError: ``score_chunks`` < 1; ``head`` not a genome of the run.
    """
    chunks = score_chunks(v)
    if head not in plan.manifests:
        raise InputError(f"{head!r} is not a genome of this run ({', '.join(plan.manifests)})")
    names = [out / f"chunk-{i}-of-{chunks}.h5" for i in range(chunks)]
    common = ["--model-dir", str(plan.model_dir), "--head", head, "--fasta", str(genome.fasta), "--vcf", str(vcf),
              "--manifest", str(plan.manifests[head]), *score_options(v)]
    for i, name in enumerate(names):
        plan.steps.append(Step(f"score-variants:{key}:{i}", ["score-variants", *common, "--chunk", str(i),
                                                              "--of", str(chunks), "--out", str(name)],
                               [*model_inputs, *fasta_files(genome), vcf, plan.manifests[head]], [name],
                               parallel_group=f"score-variants:{key}"))
    plan.steps.append(Step(f"gather-scores:{key}", ["gather-scores", "--in", *map(str, names),
                                                    "--out", str(out / "scores.h5"), "--tsv", str(out / "scores.tsv"),
                                                    *tsv_track_options(v)],
                           names, [out / "scores.h5", out / "scores.tsv"]))
    return out / "scores.h5"
