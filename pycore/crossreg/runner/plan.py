"""The steps of ``crossreg run``, in the pipeline's order, as ``crossreg`` command lines.

Each :class:`Step` is one task of the Nextflow pipeline (``modules/local/<step>``) with the
same options (``conf/modules.config`` turns the same params into the same flags), and writes
into the pipeline's ``publishDir`` layout under ``outdir``::

    simulate/world/                 the simulated world (simulate_preset only)
    split/<genome>.folds.bed        orthology-aware folds (genomes without a windows BED)
    windows/<genome>.windows.bed
    baselines/<genome>.baselines.tsv
    shards/<genome>/                shards, chunk reports, manifest.json
    train/                          params.json, model_best/, model_last/, history.csv
    evaluate/                       tracks.tsv, assays.tsv, genes.tsv, ... summary.json
    evaluate_inputs/track_matches.tsv  tracks matched across genomes by description (when not given)
    variants/<head>/                chunk-<i>-of-<n>.h5, scores.h5, scores.tsv (variant scores)
    sldp/                           panel_cache/, sumstats/, <head>/ (SLDP; crossreg.runner.analyses)
    denovo/                         sites.vcf.gz, <head>/ (de novo analysis, ism/; crossreg.runner.analyses)
    predict/<genome>/               <genome>.preds.h5 (+ bigWigs) (predict_genomes only)
    report/report.html
    pipeline_info/                  step records (steps/) and logs (logs/)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from crossreg.errors import InputError
from crossreg.runner.analyses import plan_denovo, plan_sldp
from crossreg.runner.inputs import ChainRecord, GenomeRecord, read_chain_sheet, read_samplesheet, simulated_world
from crossreg.runner.scoring import plan_scores, score_chunks
from crossreg.runner.step import RunPlan, Step, fasta_files, remove_folder

__all__ = ["RunPlan", "Step", "plan_run"]


def _remove_stale_chunk_reports(shard_dir: Path, chunks: int) -> Callable[[], None]:
    """Remove chunk reports of another chunking (the manifest step reads every report)."""
    def prepare() -> None:
        for report in shard_dir.glob("chunk-*-of-*.json"):
            if not report.name.endswith(f"-of-{chunks}.json"):
                report.unlink()
    return prepare


# what ``crossreg report`` reads of an sldp-gather folder and of a denovo folder (crossreg.report.traits)
# among the files their steps are planned to write: the report's inputs, so that it runs again when
# they change (the optional plots are written by the same steps, with the summary)
REPORT_SLDP_FILES = ("summary.json", "results.tsv", "z_heatmap.png")
REPORT_DENOVO_FILES = ("summary.json", "tracks.tsv", "groups.tsv", "top_variants.tsv")


def _report_traits(plan: RunPlan) -> tuple[list[str], list[Path]]:
    """The report's ``--sldp``/``--denovo`` flags (heads sorted) and the files it reads of those folders.

    ``denovo/<head>/ism/index.tsv`` is an input when the plan has the ISM step that writes it.
    """
    argv: list[str] = []
    inputs: list[Path] = []
    for head in sorted(plan.sldp):
        folder = plan.sldp[head]
        argv += ["--sldp", str(folder)]
        inputs += [folder / name for name in REPORT_SLDP_FILES]
    planned = {path for step in plan.steps for path in step.outputs}
    for head in sorted(plan.denovo):
        folder = plan.denovo[head]
        argv += ["--denovo", str(folder)]
        inputs += [folder / name for name in REPORT_DENOVO_FILES]
        if folder / "ism" / "index.tsv" in planned:
            inputs.append(folder / "ism" / "index.tsv")
    return argv, inputs


def _genome_flags(g: GenomeRecord) -> list[str]:
    flags = ["--genome", g.name, "--fasta", str(g.fasta)]
    for bed in g.blacklist:
        flags += ["--blacklist", str(bed)]
    for bed in g.unmappable:
        flags += ["--unmappable", str(bed)]
    return flags


def _bigwigs(g: GenomeRecord) -> list[Path]:
    """The bigWig files of a genome's targets table, for fingerprints (a simulated world: its tracks folder)."""
    if g.track_files is not None:
        return list(g.track_files)
    from crossreg.io.targets import read_targets

    return [t.file for t in read_targets(g.targets, check_files=False).targets]


def _variants(v: Mapping[str, Any], genomes: list[GenomeRecord], outdir: Path) -> tuple[Path | None, str | None]:
    """The VCF to score and the genome it is on: ``variants_vcf``, or a simulated world's human variants."""
    names = [g.name for g in genomes]
    if v["variants_vcf"]:
        vcf = Path(v["variants_vcf"])
        genome = v["variants_genome"] or (names[0] if len(names) == 1 else None)
        if genome is None:
            raise InputError(f"variants_vcf {vcf}: say which genome it is on with 'variants_genome' ({', '.join(names)})")
    elif v["simulate_preset"]:
        from crossreg.simulate.params import GENOMES

        genome = v["variants_genome"] or GENOMES[0]
        vcf = outdir / "simulate" / "world" / genome / "variants.vcf.gz"
    else:
        return None, None
    if genome not in names:
        raise InputError(f"variants_genome: {genome!r} is not a genome of this run ({', '.join(names)})")
    return vcf, genome


def plan_run(values: Mapping[str, Any], outdir: Path) -> RunPlan:
    """The steps for a set of run parameters (see :mod:`crossreg.runner.params`).

    Args:
        values: every run parameter (:func:`crossreg.runner.params.load_run_params`).
        outdir: output folder.

    Returns:
        The plan. Files that earlier steps will write (e.g. a simulated world) need not exist.

    Raises:
        InputError: a bad samplesheet or chain sheet, no model params and no model, or
            ``model_params`` that does not exist.
    """
    plan = RunPlan()
    steps = plan.steps
    v = values

    # -- inputs
    if v["simulate_preset"]:
        world = outdir / "simulate" / "world"
        argv = ["simulate", "--preset", v["simulate_preset"], "--seed", str(v["simulate_seed"])]
        inputs: list[Path] = []
        if v["simulate_params"]:
            argv += ["--params", v["simulate_params"]]
            inputs.append(Path(v["simulate_params"]))
        steps.append(Step("simulate", argv + ["--out", str(world)], inputs, [world],
                          stdout=outdir / "simulate" / "simulation_summary.json"))
        genomes, chains = simulated_world(world)
    else:
        genomes = read_samplesheet(v["input"])
        chains: list[ChainRecord] = read_chain_sheet(v["chains"], [g.name for g in genomes]) if v["chains"] else []

    # -- split: jointly over the genomes without windows of their own
    to_split = sorted((g for g in genomes if g.windows is None), key=lambda g: g.name)
    split_dir = outdir / "split"
    if to_split:
        names = [g.name for g in to_split]
        argv = ["split"]
        for g in to_split:
            argv += ["--genome", f"{g.name}={g.fasta}"]
        used = [c for c in chains if c.target in names and c.query in names]
        for c in used:
            argv += ["--chain", f"{c.target}:{c.query}:{c.chain}"]
        argv += ["--region-size", str(v["region_size"]), "--min-shared-bp", str(v["min_shared_bp"]),
                 "--valid-fraction", str(v["valid_fraction"]), "--test-fraction", str(v["test_fraction"]),
                 "--seed", str(v["split_seed"]), "--out-dir", str(split_dir)]
        steps.append(Step("split", argv, [p for g in to_split for p in fasta_files(g)] + [c.chain for c in used],
                          [split_dir / f"{n}.folds.bed" for n in names] + [split_dir / "split_report.json"]))

    # -- per genome: windows, baselines, shards (chunks), manifest
    geometry = ["--seq-length", str(v["seq_length"]), "--pool-width", str(v["pool_width"]),
                "--crop-bp", str(v["crop_bp"]), "--windows-per-shard", str(v["windows_per_shard"]),
                "--missing-chroms", v["missing_chroms"]]
    masks = lambda g: [*g.blacklist, *g.unmappable]  # noqa: E731
    for g in genomes:
        windows = outdir / "windows" / f"{g.name}.windows.bed"
        source = ["--windows-bed", str(g.windows)] if g.windows else ["--folds", str(split_dir / f"{g.name}.folds.bed")]
        steps.append(Step(
            f"windows:{g.name}",
            ["windows", *_genome_flags(g), *source, "--seq-length", str(v["seq_length"]), "--stride", str(v["stride"]),
             "--max-n-fraction", str(v["max_n_fraction"]), "--max-masked-fraction", str(v["max_masked_fraction"]),
             "--out", str(windows)],
            [*fasta_files(g), *masks(g), Path(source[1])], [windows], parallel_group="windows"))
    for g in genomes:
        baselines = outdir / "baselines" / f"{g.name}.baselines.tsv"
        steps.append(Step(
            f"baselines:{g.name}",
            ["baselines", *_genome_flags(g), "--targets", str(g.targets), "--missing-chroms", v["missing_chroms"],
             "--out", str(baselines)],
            [*fasta_files(g), *masks(g), g.targets, *_bigwigs(g)], [baselines], parallel_group="baselines"))
    chunks = int(v["shard_chunks"])
    if chunks < 1:
        raise InputError(f"shard_chunks must be at least 1, got {chunks}")
    for g in genomes:
        windows = outdir / "windows" / f"{g.name}.windows.bed"
        baselines = outdir / "baselines" / f"{g.name}.baselines.tsv"
        shard_dir = outdir / "shards" / g.name
        common = [*_genome_flags(g), "--targets", str(g.targets), *geometry, "--windows", str(windows),
                  "--baselines", str(baselines)]
        reads = [*fasta_files(g), *masks(g), g.targets, *_bigwigs(g), windows, baselines]
        for i in range(chunks):
            steps.append(Step(
                f"shards:{g.name}:{i}",
                ["shards", *common, "--chunk", str(i), "--of", str(chunks), "--out-dir", str(shard_dir)],
                reads, [shard_dir / f"chunk-{i}-of-{chunks}.json"], parallel_group=f"shards:{g.name}",
                prepare=_remove_stale_chunk_reports(shard_dir, chunks)))
        manifest = shard_dir / "manifest.json"
        steps.append(Step(
            f"manifest:{g.name}",
            ["manifest", *common, "--shard-dir", str(shard_dir)],
            reads + [shard_dir / f"chunk-{i}-of-{chunks}.json" for i in range(chunks)], [manifest]))
        plan.manifests[g.name] = manifest
    manifest_args = [x for name, m in plan.manifests.items() for x in ("--manifest", f"{name}={m}")]
    shard_dirs = [m.parent for m in plan.manifests.values()]

    # -- train (unless a trained model is given)
    if v["model_dir"]:
        plan.model_dir = Path(v["model_dir"])
        model_inputs = [plan.model_dir]
        train_dir = None
    else:
        if not v["model_params"]:
            raise InputError("give 'model_params' (a params JSON with model and train sections) to train, "
                             "or 'model_dir' (a trained model)")
        model_params = Path(v["model_params"])
        if not model_params.is_file():
            raise InputError(f"model_params: {model_params} does not exist")
        train_dir = outdir / "train"
        argv = ["train", "--params", str(model_params), *manifest_args, "--out", str(train_dir), "--mode", v["train_mode"]]
        if v["train_mode"] == "single":
            argv += ["--genome", v["train_genome"]]
        for key, flag in (("train_epochs", "--epochs"), ("train_steps_per_epoch", "--steps-per-epoch"),
                          ("train_seed", "--seed")):
            if v[key] is not None:
                argv += [flag, str(v[key])]
        if v["finetune_epochs"]:
            argv += ["--finetune-epochs", str(v["finetune_epochs"])]
        steps.append(Step("train", argv, [model_params, *shard_dirs],
                          [train_dir / "model_best", train_dir / "history.csv", train_dir / "params.json"],
                          resume_flag="--resume", resume_marker=train_dir / "params.json", prepare=remove_folder(train_dir)))
        plan.model_dir = train_dir / "model_best"
        model_inputs = [plan.model_dir]

    # -- evaluate: each genome's test split with every head; gene level where TSSs are known
    eval_dir = outdir / "evaluate"
    matches: Path | None = Path(v["track_matches"]) if v["track_matches"] else None
    evaluated = [g for g in genomes if v["train_mode"] == "joint" or g.name == v["train_genome"]]
    if matches is None and len(evaluated) > 1:
        matches = outdir / "evaluate_inputs" / "track_matches.tsv"
        argv = ["match-tracks", *(x for g in evaluated for x in ("--manifest", f"{g.name}={plan.manifests[g.name]}")),
                "--out", str(matches)]
        steps.append(Step("match-tracks", argv, [plan.manifests[g.name] for g in evaluated], [matches]))
    argv = ["evaluate", "--model-dir", str(plan.model_dir)]
    for g in evaluated:
        argv += ["--manifest", f"{g.name}={plan.manifests[g.name]}"]
        if g.tss is not None:
            argv += ["--tss", f"{g.name}={g.tss}"]
    if matches is not None and len(evaluated) > 1:
        argv += ["--track-matches", str(matches)]
    argv += ["--split", v["evaluate_split"], "--batch-size", str(v["evaluate_batch_size"])]
    if v["evaluate_rc_average"]:
        argv.append("--rc-average")
    argv += ["--out", str(eval_dir)]
    eval_inputs = [*model_inputs, *(m.parent for n, m in plan.manifests.items() if n in {g.name for g in evaluated}),
                   *(g.tss for g in evaluated if g.tss is not None), *([matches] if matches is not None else [])]
    steps.append(Step("evaluate", argv, eval_inputs, [eval_dir / "summary.json"]))
    plan.evaluation = eval_dir

    # -- variant scores: chunks scattered, then gathered, for each head asked for
    vcf, vcf_genome = _variants(v, genomes, outdir)
    if vcf is not None:
        g = next(x for x in genomes if x.name == vcf_genome)
        heads = [h.strip() for h in (v["score_heads"] or vcf_genome).split(",") if h.strip()]
        score_chunks(v)
        for head in heads:
            if head not in plan.manifests:
                raise InputError(f"score_heads: {head!r} is not a genome of this run ({', '.join(plan.manifests)})")
            plan.variant_scores[head] = plan_scores(plan, v, key=head, head=head, genome=g, vcf=vcf,
                                                    out=outdir / "variants" / head, model_inputs=model_inputs)

    # -- SLDP of the panel SNPs' scores, and the de novo analysis (crossreg.runner.analyses)
    plan_sldp(plan, v, genomes, outdir, model_inputs)
    plan_denovo(plan, v, genomes, outdir, model_inputs)

    # -- predictions (bigWigs for a browser), for the genomes asked for
    for name in [n.strip() for n in (v["predict_genomes"] or "").split(",") if n.strip()]:
        if name not in plan.manifests:
            raise InputError(f"predict_genomes: unknown genome {name!r} (genomes: {', '.join(plan.manifests)})")
        g = next(x for x in genomes if x.name == name)
        out = outdir / "predict" / name
        argv = ["predict", "--model-dir", str(plan.model_dir), "--genome", name, "--manifest", str(plan.manifests[name]),
                "--split", v["predict_split"], "--batch-size", str(v["predict_batch_size"]), "--fasta", str(g.fasta)]
        if v["predict_rc_average"]:
            argv.append("--rc-average")
        tracks = [t.strip() for t in (v["predict_bigwig_tracks"] or "").split(",") if t.strip()]
        for t in tracks:
            argv += ["--bigwig-track", t]
        if tracks:
            argv += ["--bigwig-dir", str(out / f"{name}.bigwig")]
        argv += ["--out", str(out / f"{name}.preds.h5")]
        steps.append(Step(f"predict:{name}", argv, [*model_inputs, plan.manifests[name].parent],
                          [out / f"{name}.preds.h5"], parallel_group=None))

    # -- report: the evaluation, the training curves, and the SLDP and de novo folders (Trait analyses)
    report = outdir / "report" / "report.html"
    argv = ["report", "--evaluation", str(eval_dir)]
    report_inputs = [eval_dir / "summary.json"]
    if train_dir is not None:
        argv[1:1] = ["--train-dir", f"{v['train_mode']}={train_dir}"]
        report_inputs += [train_dir / "history.csv", train_dir / "params.json"]
    trait_args, trait_inputs = _report_traits(plan)
    argv += [*trait_args, "--title", v["report_title"], "--out", str(report)]
    steps.append(Step("report", argv, report_inputs + trait_inputs, [report]))
    plan.report = report
    return plan
