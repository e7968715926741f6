"""The analyses of variant scores that ``crossreg run`` plans after the evaluation: SLDP and de novo.

SLDP (signed LD profile regression, when a reference panel is known: ``sldp_panel``, or a
simulated world's; ``run_sldp`` false skips it)::

    sldp/panel_cache/                          sldp-panel
    sldp/sumstats/<phenotype>.sumstats.gz      sldp-aggregate:<phenotype>    (sldp_eqtl rows)
    sldp/<head>/scores/                        score-variants:sldp:<head>:<i>, gather-scores:sldp:<head>
    sldp/<head>/profiles.npz                   sldp-profiles:<head>
    sldp/<head>/phenotypes/<phenotype>.tsv     sldp:<head>:<phenotype>       (+ .tsv.json)
    sldp/<head>/                               sldp-gather:<head>: results.tsv, z.tsv, z_heatmap.png,
                                               clusters.tsv, z_clusters.png (2+ tracks), summary.json

De novo variants (``denovo_table``, or a simulated world's; ``run_denovo`` false skips it)::

    denovo/sites.vcf.gz                        denovo-vcf
    denovo/<head>/scores/                      score-variants:denovo:<head>:<i>, gather-scores:denovo:<head>
    denovo/<head>/                             denovo:<head>: tracks.tsv, groups.tsv, pca.tsv, families.tsv,
                                               top_variants.tsv, exclusions.tsv, summary.json, PNGs
    denovo/<head>/ism/                         ism-denovo:<head>: ism_<k>.h5/.png, index.tsv
                                               (denovo_ism_top > 0)

The Nextflow pipeline runs the same commands (``modules/local/{sldp_*,sldp,denovo_vcf,denovo,ism}``)
and publishes into the same layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from crossreg.errors import InputError
from crossreg.runner.inputs import GenomeRecord, SimulatedPopulation, read_phenotype_sheet, simulated_population
from crossreg.runner.scoring import plan_scores
from crossreg.runner.step import RunPlan, Step, fasta_files, genome_named, remove_folder

GATHERED_SLDP = ("results.tsv", "z.tsv", "z_heatmap.png", "summary.json")
DENOVO_TABLES = ("tracks.tsv", "groups.tsv", "pca.tsv", "families.tsv", "top_variants.tsv", "exclusions.tsv",
                 "summary.json")


def _population(v: Mapping[str, Any], outdir: Path) -> SimulatedPopulation | None:
    """The simulated world's population files (None without ``simulate_preset``)."""
    if not v["simulate_preset"]:
        return None
    return simulated_population(outdir / "simulate" / "world", v["simulate_preset"], v["simulate_params"])


def _file(v: Mapping[str, Any], param: str, default: Path | None) -> Path | None:
    """A file param: the given path (it must exist), else ``default`` (a simulated world's, written later)."""
    if v[param]:
        path = Path(v[param])
        if not path.is_file():
            raise InputError(f"{param}: {path} does not exist")
        return path
    return default


def _genome(v: Mapping[str, Any], param: str, genomes: list[GenomeRecord], world: SimulatedPopulation | None,
            what: str) -> GenomeRecord:
    """The genome named by ``param``, else the simulated world's (human), else the only genome."""
    name = v[param] or (world.genome if world is not None else None)
    if name is None:
        if len(genomes) != 1:
            raise InputError(f"{what}: say which genome it is on with '{param}' ({', '.join(g.name for g in genomes)})")
        name = genomes[0].name
    return genome_named(genomes, name, param)


def _heads(text: str | None, default: str, plan: RunPlan, param: str) -> list[str]:
    heads = [h.strip() for h in (text or default).split(",") if h.strip()]
    for head in heads:
        if head not in plan.manifests:
            raise InputError(f"{param}: {head!r} is not a genome of this run ({', '.join(plan.manifests)})")
    return list(dict.fromkeys(heads))


def _panel_files(prefix: str, chroms: str, exist: bool) -> list[Path]:
    """``{prefix}{chrom}.bed/.bim/.fam`` of every chromosome of ``sldp_chroms`` (checked to exist when ``exist``)."""
    from crossreg.sldp.steps import parse_chroms

    try:
        names = parse_chroms(chroms)
    except InputError as err:
        raise InputError(f"sldp_chroms: {err}") from None
    files = [Path(f"{prefix}{c}.{ext}") for c in names for ext in ("bed", "bim", "fam")]
    if exist:
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise InputError(f"sldp_panel: {missing[0]} does not exist (sldp_panel {prefix!r} + chromosome of "
                             f"sldp_chroms {chroms!r} + .bed/.bim/.fam)")
    return files


def plan_sldp(plan: RunPlan, v: Mapping[str, Any], genomes: list[GenomeRecord], outdir: Path,
              model_inputs: list[Path]) -> None:
    """Append the SLDP steps (module docstring) when a panel is known and ``run_sldp`` is true.

    Args:
        plan: the plan so far (manifests and model known); steps are appended, ``plan.sldp`` filled.
        v: the run params.
        genomes: the run's genomes.
        outdir: the run's output folder.
        model_inputs: what the model is (fingerprinted by the scoring steps).

    Raises:
        InputError: a panel without chromosomes, blocks, SNP VCF or phenotypes; a file that does
            not exist; a bad phenotype sheet; a genome or head that is not of the run.
    """
    world = _population(v, outdir)
    if not v["run_sldp"] or (not v["sldp_panel"] and world is None):
        return
    if v["sldp_panel"]:
        panel, chroms = v["sldp_panel"], v["sldp_chroms"]
        if not chroms:
            raise InputError("sldp_panel is set: give 'sldp_chroms' too (the panel's chromosomes, e.g. 1-22)")
        panel_files = _panel_files(panel, chroms, exist=True)
    else:
        panel, chroms = world.panel, v["sldp_chroms"] or world.chroms
        panel_files = _panel_files(panel, chroms, exist=False)
    blocks = _file(v, "sldp_blocks", world.blocks if world else None)
    snps_vcf = _file(v, "sldp_snps_vcf", world.snps_vcf if world else None)
    for param, value, what in (("sldp_blocks", blocks, "the LD blocks BED"),
                               ("sldp_snps_vcf", snps_vcf, "a VCF of the panel SNPs to score")):
        if value is None:
            raise InputError(f"sldp_panel is set: give '{param}' ({what})")
    print_snps = _file(v, "sldp_print_snps", None)
    gtf = _file(v, "sldp_gtf", world.gtf if world else None) if v["sldp_background"] else None
    eqtl = (read_phenotype_sheet(v["sldp_eqtl"], "pairs", "sldp_eqtl") if v["sldp_eqtl"]
            else list(world.eqtl) if world else [])
    sumstats = read_phenotype_sheet(v["sldp_sumstats"], "sumstats", "sldp_sumstats") if v["sldp_sumstats"] else []
    both = sorted({p for p, _ in eqtl} & {p for p, _ in sumstats})
    if both:
        raise InputError(f"sldp_eqtl and sldp_sumstats both list phenotype {both[0]!r}")
    if not eqtl and not sumstats:
        raise InputError("sldp: no phenotypes; give 'sldp_eqtl' (phenotype,pairs) or 'sldp_sumstats' (phenotype,sumstats)")
    genome = _genome(v, "sldp_genome", genomes, world, f"sldp_snps_vcf {snps_vcf}")
    heads = _heads(v["sldp_heads"], genome.name, plan, "sldp_heads")

    steps, base = plan.steps, outdir / "sldp"
    cache = base / "panel_cache"
    argv = ["sldp-panel", "--panel", panel, "--chroms", chroms, "--blocks", str(blocks)]
    if print_snps is not None:
        argv += ["--print-snps", str(print_snps)]
    steps.append(Step("sldp-panel", argv + ["--out", str(cache)],
                      [*panel_files, blocks, *([print_snps] if print_snps else [])], [cache],
                      parallel_group="sldp-inputs", prepare=remove_folder(cache)))
    phenotypes: list[tuple[str, Path]] = []
    for name, pairs in eqtl:
        out = base / "sumstats" / f"{name}.sumstats.gz"
        steps.append(Step(f"sldp-aggregate:{name}", ["sldp-aggregate", "--pairs", str(pairs), "--out", str(out)],
                          [pairs], [out], parallel_group="sldp-inputs"))
        phenotypes.append((name, out))
    phenotypes += sumstats

    for head in heads:
        folder = base / head
        scores = plan_scores(plan, v, key=f"sldp:{head}", head=head, genome=genome, vcf=snps_vcf,
                             out=folder / "scores", model_inputs=model_inputs)
        profiles = folder / "profiles.npz"
        argv = ["sldp-profiles", "--panel-cache", str(cache), "--scores", str(scores)]
        inputs = [cache, scores]
        if v["sldp_background"]:
            argv += ["--panel", panel]
            inputs += panel_files
            if gtf is not None:
                argv += ["--background-gtf", str(gtf)]
                inputs.append(gtf)
        else:
            argv.append("--no-background")
        steps.append(Step(f"sldp-profiles:{head}", argv + ["--out", str(profiles)], inputs, [profiles]))
        tables = []
        for name, table in phenotypes:
            out = folder / "phenotypes" / f"{name}.tsv"
            steps.append(Step(
                f"sldp:{head}:{name}",
                ["sldp", "--panel-cache", str(cache), "--profiles", str(profiles), "--sumstats", str(table),
                 "--phenotype", name, "--flips", str(v["sldp_flips"]), "--seed", str(v["sldp_seed"]),
                 "--jk-blocks", str(v["sldp_jk_blocks"]), "--out", str(out)],
                [cache, profiles, table], [out, out.with_name(out.name + ".json")], parallel_group=f"sldp:{head}"))
            tables.append(out)
        # sorted by file name, as the pipeline hands them over (a stable command line)
        tables.sort(key=lambda path: path.name)
        steps.append(Step(f"sldp-gather:{head}", ["sldp-gather", "--in", *map(str, tables), "--scores", str(scores),
                                                   "--fdr", str(v["sldp_fdr"]), "--out-dir", str(folder)],
                          [*tables, scores], [folder / name for name in GATHERED_SLDP]))
        plan.sldp[head] = folder


def group_rules(text: str | None) -> list[str]:
    """``denovo_group_rules`` (``group=kw1,kw2;group2=kw3``) -> the ``--group-rule`` values.

    Raises:
        InputError: a rule without ``=``, an empty group or no keyword, naming the rule.
    """
    rules = []
    for rule in (text or "").split(";"):
        rule = rule.strip()
        if not rule:
            continue
        group, sep, words = rule.partition("=")
        if not sep or not group.strip() or not [w for w in words.split(",") if w.strip()]:
            raise InputError(f"denovo_group_rules: rule {rule!r}: expected GROUP=KEYWORD1,KEYWORD2 "
                             "(rules separated by ';')")
        rules.append(f"{group.strip()}={','.join(w.strip() for w in words.split(',') if w.strip())}")
    return rules


def plan_denovo(plan: RunPlan, v: Mapping[str, Any], genomes: list[GenomeRecord], outdir: Path,
                model_inputs: list[Path]) -> None:
    """Append the de novo steps (module docstring) when a table is known and ``run_denovo`` is true.

    Args: as :func:`plan_sldp` (``plan.denovo`` is filled).

    Raises:
        InputError: a table or groups file that does not exist, bad group rules, a negative
            ``denovo_ism_top``, a genome or head that is not of the run.
    """
    world = _population(v, outdir)
    if not v["run_denovo"] or (not v["denovo_table"] and world is None):
        return
    table = _file(v, "denovo_table", world.denovo_table if world else None)
    groups = _file(v, "denovo_groups", None)
    rules = group_rules(v["denovo_group_rules"])
    if int(v["denovo_ism_top"]) < 0:
        raise InputError(f"denovo_ism_top must be 0 (no ISM) or more, got {v['denovo_ism_top']}")
    genome = _genome(v, "denovo_genome", genomes, world, f"denovo_table {table}")
    head = (v["denovo_head"] or genome.name).strip()
    if "," in head:
        raise InputError(f"denovo_head: one head (a genome of this run), got {head!r}")
    (head,) = _heads(head, genome.name, plan, "denovo_head")

    steps, base = plan.steps, outdir / "denovo"
    sites = base / "sites.vcf.gz"
    steps.append(Step("denovo-vcf", ["denovo-vcf", "--table", str(table), "--fasta", str(genome.fasta),
                                     "--out", str(sites)],
                      [table, *fasta_files(genome)], [sites, Path(f"{sites}.tbi")]))
    folder = base / head
    scores = plan_scores(plan, v, key=f"denovo:{head}", head=head, genome=genome, vcf=sites,
                         out=folder / "scores", model_inputs=model_inputs)
    argv = ["denovo", "--table", str(table), "--scores", str(scores), "--fasta", str(genome.fasta),
            "--outdir", str(folder)]
    if groups is not None:
        argv += ["--groups", str(groups)]
    for rule in rules:
        argv += ["--group-rule", rule]
    argv += ["--fdr", str(v["denovo_fdr"])]
    if v["denovo_track"]:
        argv += ["--chosen-track", v["denovo_track"]]
    argv += ["--top-n", str(v["denovo_top"])]
    steps.append(Step(f"denovo:{head}", argv, [table, scores, *fasta_files(genome), *([groups] if groups else [])],
                      [folder / name for name in DENOVO_TABLES]))
    if int(v["denovo_ism_top"]) > 0:
        ism = folder / "ism"
        steps.append(Step(
            f"ism-denovo:{head}",
            ["ism", "--model-dir", str(plan.model_dir), "--head", head, "--fasta", str(genome.fasta),
             "--regions-table", str(folder / "top_variants.tsv"), "--top", str(v["denovo_ism_top"]),
             "--manifest", str(plan.manifests[head]), "--batch-size", str(v["score_batch_size"]),
             *([] if v["score_rc"] else ["--no-rc"]),
             "--out-dir", str(ism)],
            [*model_inputs, *fasta_files(genome), folder / "top_variants.tsv", plan.manifests[head]],
            [ism / "index.tsv"]))
    plan.denovo[head] = folder
