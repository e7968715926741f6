"""Command line: one subcommand per pipeline step. Argument parsing only; the library works.

Every subcommand ``crossreg <step>`` calls ``<step>_step`` (or the equivalent function) of
the module of the same name. Errors about input are printed as one line without a
traceback and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from crossreg import __version__
from crossreg.errors import CrossregError, InputError

log = logging.getLogger("crossreg")


def _import_keras_quietly() -> None:
    """Import the Keras backend with its native start-up chatter (oneDNN, CPU flags) held back.

    The C++ libraries write straight to file descriptor 2, past Python's ``sys.stderr``; that
    output is captured and shown only when the import fails.
    """
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _progress(desc: str):
    """A tqdm-backed progress callback (n_done, n_total), silent when stderr is not a terminal."""
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=desc, disable=not sys.stderr.isatty(), leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


# ---------------------------------------------------------------- shared argument groups
def _add_genome_inputs(p: argparse.ArgumentParser, targets: bool) -> None:
    g = p.add_argument_group("genome inputs")
    g.add_argument("--genome", required=True, help="genome name (e.g. hg38, mouse)")
    g.add_argument("--fasta", required=True, type=Path, help="reference FASTA (plain or bgzip) with .fai")
    if targets:
        g.add_argument("--targets", required=True, type=Path, help="targets table (targets.txt)")
        g.add_argument(
            "--missing-chroms", choices=("error", "zeros"), default="error",
            help="genome chromosomes absent from a bigWig: fail (default) or read as zeros with a count",
        )
    g.add_argument("--blacklist", action="append", type=Path, default=[], help="blacklist BED (repeatable)")
    g.add_argument(
        "--unmappable", action="append", type=Path, default=[],
        help="unmappable-regions BED (repeatable); only intervals > 32 bp are masked",
    )


def _inputs(args):
    from crossreg.data.inputs import GenomeInputs

    return GenomeInputs(
        genome=args.genome,
        fasta=args.fasta,
        targets_path=getattr(args, "targets", None),
        blacklists=args.blacklist,
        unmappable=args.unmappable,
        missing_chroms=getattr(args, "missing_chroms", "error"),
    )


def _add_geometry(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("geometry")
    g.add_argument("--seq-length", type=int, default=131_072, help="window length, bp (default 131072)")
    g.add_argument("--pool-width", type=int, default=128, help="target bin width, bp (default 128)")
    g.add_argument("--crop-bp", type=int, default=8_192, help="bp trimmed from each window side before binning (default 8192)")
    g.add_argument("--windows-per-shard", type=int, default=64, help="windows per HDF5 shard file (default 64)")


def _geometry(args):
    from crossreg.data.shards import Geometry

    return Geometry(seq_length=args.seq_length, pool_width=args.pool_width, crop_bp=args.crop_bp)


def _genome_spec(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FASTA, got {text!r}")
    return name, Path(path)


def _chain_spec(text: str) -> tuple[str, str, str]:
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError(f"expected TARGET:QUERY:CHAIN_FILE, got {text!r}")
    return parts[2], parts[0], parts[1]


# ---------------------------------------------------------------- steps
def _cmd_split(args) -> None:
    from crossreg.data.split import orthology_split, write_folds_bed
    from crossreg.io.atomic import atomic_open
    from crossreg.io.fasta import chrom_sizes

    genomes = {name: chrom_sizes(path) for name, path in args.genome}
    result = orthology_split(
        genomes, args.chain, valid_fraction=args.valid_fraction, test_fraction=args.test_fraction,
        region_size=args.region_size, min_shared_bp=args.min_shared_bp, seed=args.seed,
    )
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in genomes:
        write_folds_bed(result.regions[name], args.out_dir / f"{name}.folds.bed")
    with atomic_open(args.out_dir / "split_report.json") as handle:
        json.dump(result.to_dict(), handle, indent=1)
    print(result.summary())


def _cmd_windows(args) -> None:
    from crossreg.data.windows import windows_step

    report = windows_step(
        _inputs(args), args.out, folds_path=args.folds, windows_bed=args.windows_bed, seq_length=args.seq_length,
        stride=args.stride, max_n_fraction=args.max_n_fraction, max_masked_fraction=args.max_masked_fraction,
    )
    print(report.summary())


def _cmd_baselines(args) -> None:
    from crossreg.data.baseline import compute_baselines, write_baselines

    inputs = _inputs(args)
    baselines = compute_baselines(
        inputs.targets, inputs.chrom_sizes, inputs.masked, inputs.missing_chroms, progress=_progress("baselines")
    )
    write_baselines(baselines, args.out)
    print(f"{len(baselines)} track baselines written to {args.out}")


def _shard_context(args):
    from crossreg.data.baseline import read_baselines
    from crossreg.data.windows import read_windows_bed

    inputs = _inputs(args)
    geometry = _geometry(args)
    windows = read_windows_bed(args.windows, inputs.chrom_sizes, geometry.seq_length)
    return inputs, geometry, windows, read_baselines(args.baselines)


def _cmd_shards(args) -> None:
    from crossreg.data.shards import write_chunk

    inputs, geometry, windows, baselines = _shard_context(args)
    report = write_chunk(
        args.out_dir, inputs.genome, inputs.fasta, inputs.targets, baselines, windows, inputs.masked, geometry,
        windows_per_shard=args.windows_per_shard, chunk=args.chunk, of=args.of, missing_chroms=inputs.missing_chroms,
        progress=_progress(f"shards {args.chunk}/{args.of}"),
    )
    saturated = sum(report.saturated_bins.values())
    print(
        f"chunk {args.chunk} of {args.of}: {len(report.shards)} shards, {report.windows} windows; "
        f"{saturated} bins saturated float16; {report.non_acgtn_bases} non-ACGTN bases read as N"
    )
    if report.missing_chrom_reads:
        log.warning("reads of chromosomes missing from bigWigs (as zeros): %s", report.missing_chrom_reads)


def _cmd_manifest(args) -> None:
    from crossreg.data.manifest import build_manifest

    inputs, geometry, windows, baselines = _shard_context(args)
    files = inputs.input_files() | {"windows": args.windows, "baselines": args.baselines}
    params = {
        "genome": inputs.genome, "seq_length": geometry.seq_length, "pool_width": geometry.pool_width,
        "crop_bp": geometry.crop_bp, "windows_per_shard": args.windows_per_shard,
        "missing_chroms": inputs.missing_chroms,
    }
    manifest = build_manifest(
        args.shard_dir, inputs.genome, windows, inputs.targets, baselines, geometry, args.windows_per_shard,
        files, params,
    )
    counts = ", ".join(f"{k} {v['windows']}" for k, v in manifest["splits"].items())
    print(f"manifest {args.shard_dir / 'manifest.json'}: {manifest['tracks']} tracks, windows {counts}; all shards verified")


def _cmd_inspect(args) -> None:
    from crossreg.data.manifest import load_manifest, manifest_summary

    for path in args.manifest:
        print(manifest_summary(load_manifest(path)))
        print()


def _cmd_describe_model(args) -> None:
    from crossreg.model import load_params

    load_params(args.params)  # a bad file fails before the backend is loaded
    _import_keras_quietly()
    from crossreg.model import describe_model

    sys.stdout.write(describe_model(args.params))


def _cmd_train(args) -> None:
    from crossreg.train import manifest_specs

    manifests = manifest_specs(args.manifest)
    _import_keras_quietly()
    from crossreg.train import train

    result = train(
        args.params, manifests, args.out, mode=args.mode, genome=args.single_genome, resume=args.resume,
        epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed,
        finetune_epochs=args.finetune_epochs, jit_compile=args.jit_compile,
    )
    pearson = ", ".join(f"{g} {r:.3f}" for g, r in result.valid_pearson.items())
    print(
        f"{result.mode} training on {', '.join(result.genomes)} ({result.backend}): best epoch {result.best_epoch} "
        f"of {result.epochs_done}, valid loss {result.best_valid_loss:.4f}, valid Pearson R {pearson}; "
        f"model in {result.model_best}"
    )


def _cmd_predict(args) -> None:
    _import_keras_quietly()
    from crossreg.predict import predict

    summary = predict(
        args.model_dir, args.out, args.genome, manifest=args.manifest, split=args.split,
        windows_bed=args.windows_bed, fasta=args.fasta, batch_size=args.batch_size,
        rc_average=args.rc_average, bigwig_tracks=args.bigwig_track, bigwig_dir=args.bigwig_dir,
        chrom_sizes=args.chrom_sizes,
    )
    bigwigs = f"; {len(summary['bigwigs'])} bigWig(s) in {args.bigwig_dir}" if summary["bigwigs"] else ""
    print(
        f"{summary['out']}: {summary['windows']} windows x {summary['bins']} bins x {summary['tracks']} tracks "
        f"from {summary['source']} with head {summary['genome']}{bigwigs} ({summary['seconds']:.1f} s)"
    )


def _cmd_simulate(args) -> None:
    from crossreg.simulate import simulate

    summary = simulate(args.out, preset=args.preset, seed=args.seed, params=args.params)
    print(json.dumps(summary, indent=1, default=str))


def _cmd_score_variants(args) -> None:
    _import_keras_quietly()
    from crossreg.variants import score_variants

    s = score_variants(
        args.model_dir, args.head, args.fasta, args.vcf, args.out, chunk=args.chunk, of=args.of,
        rc=not args.no_rc, shifts=args.shifts, stats=args.stats, ref_mismatch=args.ref_mismatch,
        batch_size=args.batch_size, tsv=args.tsv, tsv_tracks=args.tsv_track, manifest=args.manifest,
        progress=True if args.progress else None,
    )
    skipped = ", ".join(f"{k} {v}" for k, v in s["skipped"].items()) or "none"
    print(
        f"{s['out']}: {s['snps']} SNP(s) x {s['tracks']} tracks scored with head {args.head} "
        f"(chunk {s['chunk']} of {s['of']}: {s['records']} of {s['records_total']} VCF records; "
        f"skipped: {skipped}; flipped {s['flipped']}) in {s['seconds']:.1f} s"
    )


def _cmd_gather_scores(args) -> None:
    from crossreg.variants import gather_scores

    s = gather_scores(args.inputs, args.out, tsv=args.tsv, tsv_tracks=args.tsv_track)
    skipped = ", ".join(f"{k} {v}" for k, v in s["skipped"].items()) or "none"
    print(f"{s['out']}: {s['chunks']} chunk(s), {s['snps']} SNP(s) of {s['records']} VCF records (skipped: {skipped})")


def _cmd_ism(args) -> None:
    if (args.region is None) == (args.regions_table is None):
        raise InputError("give either --region (with --out) or --regions-table (with --out-dir)")
    if args.region is not None and args.out is None:
        raise InputError("--region needs --out (the ISM HDF5 to write)")
    if args.regions_table is not None and args.out_dir is None:
        raise InputError("--regions-table needs --out-dir")
    _import_keras_quietly()
    from crossreg.variants import ism_regions_table, saturation_mutagenesis

    if args.regions_table is not None:
        s = ism_regions_table(
            args.model_dir, args.head, args.fasta, args.regions_table, args.out_dir, top=args.top, tracks=args.track,
            manifest=args.manifest, rc=not args.no_rc, batch_size=args.batch_size, max_length=args.max_length,
            progress=True if args.progress else None)
        print(f"{s['index']}: ISM of {len(s['regions'])} region(s) from {args.regions_table}")
        return
    s = saturation_mutagenesis(
        args.model_dir, args.head, args.fasta, args.region, args.out, plot=args.plot, tracks=args.track,
        manifest=args.manifest, rc=not args.no_rc, batch_size=args.batch_size, max_length=args.max_length,
        progress=True if args.progress else None,
    )
    plot = f"; plot {s['plot']}" if s["plot"] else ""
    print(f"{s['out']}: {s['region']} ({s['positions']} bp x 3 mutations) x {s['tracks']} tracks, "
          f"{s['windows']} model inputs{plot} ({s['seconds']:.1f} s)")


def _cmd_denovo_vcf(args) -> None:
    from crossreg.denovo.core import denovo_sites

    s = denovo_sites(args.table, args.fasta, args.out, exclusions_out=args.exclusions)
    excluded = ", ".join(f"{k} {v}" for k, v in s["exclusions"].items()) or "none"
    print(f"{s['vcf']}: {s['sites']} site(s) of {s['snps']} de novo SNP(s) ({s['case_snps']} in cases, "
          f"{s['control_snps']} in controls; {s['individuals']} individuals, {s['paired_families']} paired families; "
          f"excluded: {excluded})")


def _cmd_denovo(args) -> None:
    from crossreg.denovo.core import denovo_analysis
    from crossreg.denovo.output import summary as denovo_summary

    result = denovo_analysis(
        args.table, args.scores, args.outdir, fasta=args.fasta, tracks=args.track or None, group_table=args.groups,
        group_rules=args.group_rule or None, max_missing_fraction=args.max_missing, plots=not args.no_plots,
        fdr=args.fdr, chosen_track=args.chosen_track, top_n=args.top_n, ism_width=args.ism_width,
        pca_scale=args.pca_scale, eps=args.eps, threads=args.threads)
    summary = denovo_summary(result)  # what summary.json holds
    t, f, pc = summary["tracks"], summary["families"], summary["pca"]
    print(f"{len(result.track_ids)} tracks: {t['significant_case_lower']} lower and {t['significant_case_higher']} "
          f"higher in cases at FDR {args.fdr:g}; PC1 ({pc['variance_explained'][0]:.1%} of variance) cases vs controls "
          f"MWU p {pc['pc1_mwu']['p']:.3g}")
    if f.get("compared"):
        print(f"families: case more negative on {summary['chosen_track']['identifier']} in "
              f"{f['case_more_negative']}/{f['compared']} ({f['fraction_case_more_negative']:.1%}), binomial p "
              f"{f['binomial_p']:.3g}")
    print(f"de novo analysis in {args.outdir}")


def _cmd_sldp_panel(args) -> None:
    from crossreg.sldp.steps import panel_step

    s = panel_step(args.panel, args.chroms, args.blocks, args.out, print_snps=args.print_snps,
                   window_cm=args.window_cm, rebuild=args.rebuild)
    print(f"{s['cache']}: panel of {s['people']} people, {s['snps']} SNPs ({s['print_snps']} regression SNPs) on "
          f"chromosome(s) {', '.join(s['chroms'])}, {s['blocks']} LD blocks")


def _cmd_sldp_aggregate(args) -> None:
    from crossreg.sldp.steps import aggregate_step

    s = aggregate_step(args.pairs, args.out)
    print(f"{s['out']}: {s['snps']} SNPs from {s['pairs']} SNP-gene pairs")


def _cmd_sldp_profiles(args) -> None:
    from crossreg.sldp.steps import profiles_step

    s = profiles_step(args.panel_cache, args.scores, args.out, tracks=args.track or None, panel_prefix=args.panel,
                      background_gtf=args.background_gtf, no_background=args.no_background)
    for text in s["reports"]:
        print(text)
    background = ", ".join(s["background"]) or "none"
    print(f"{s['out']}: signed LD profiles of {s['targets']} track(s); background: {background}")


def _cmd_sldp(args) -> None:
    from crossreg.sldp.steps import regression_step

    s = regression_step(args.panel_cache, args.profiles, args.sumstats, args.out, phenotype=args.phenotype,
                        flips=args.flips, seed=args.seed, jk_blocks=args.jk_blocks, rng=args.rng, fastp=args.fastp,
                        ldscores=args.ldscores, duplicates=args.sumstats_duplicates)
    best = s["best"]
    top = "" if best is None else f"; strongest: {best['annotation']} z {best['z']:.2f}, p {best['p']:.3g}"
    print(f"{s['out']}: {s['phenotype']}, {s['targets']} track(s), h2g {s['h2g']:.3g}{top}")


def _cmd_sldp_gather(args) -> None:
    from crossreg.sldp.steps import gather_step

    s = gather_step(args.inputs, args.out_dir, fdr=args.fdr, scores=args.scores, n_clusters=args.clusters)
    print(f"{args.out_dir}: {s['tests']} tests ({s['tracks']} tracks x {len(s['phenotypes'])} phenotypes), "
          f"{s['significant']} at FDR {s['fdr']:g}")
    for phen, b in s["best_track_per_phenotype"].items():
        print(f"  {phen}: {b['annotation']} {b['description']} z {b['z']:.2f}, q {b['q']:.3g}")


def _genome_paths(specs: list[tuple[str, Path]], flag: str) -> dict[str, Path]:
    """``[(genome, path)]`` -> ``{genome: path}``; a genome given twice is an error."""
    out: dict[str, Path] = {}
    for genome, path in specs:
        if genome in out:
            raise InputError(f"{flag}: genome {genome!r} given twice")
        out[genome] = path
    return out


def _cmd_match_tracks(args) -> None:
    from crossreg.data.track_matches import match_by_description, write_track_matches

    manifests = _genome_paths(args.manifest, "--manifest")
    if len(manifests) < 2:
        raise InputError("--manifest: give the shard manifests of at least two genomes")
    rows = match_by_description(manifests)
    write_track_matches(rows, args.out)
    print(f"{args.out}: {len(rows)} matched track pair(s) across {', '.join(manifests)}")


def _r_text(value) -> str:
    """A correlation for messages: 3 decimals, or "nan" when undefined (None)."""
    return "nan" if value is None else f"{value:.3f}"


def _print_evaluation(summary: dict) -> None:
    """One line per genome of an evaluation summary: mean R by assay, and gene-level CAGE R when measured."""
    for genome, g in summary["genomes"].items():
        by_assay = ", ".join(f"{a} {_r_text(r)}" for a, r in g["mean_r_by_assay"].items())
        gene = "" if g.get("gene_r_mean") is None else f"; gene-level CAGE R {_r_text(g['gene_r_mean'])}"
        print(f"{genome}: {summary['split']}-split Pearson R by assay: {by_assay}{gene}")


def _cmd_evaluate(args) -> None:
    _import_keras_quietly()
    from crossreg.evaluate import evaluate_model

    summary = evaluate_model(
        args.model_dir, _genome_paths(args.manifest, "--manifest"), args.out,
        tss=_genome_paths(args.tss, "--tss") or None, track_matches=args.track_matches, split=args.split,
        batch_size=args.batch_size, rc_average=args.rc_average,
    )
    _print_evaluation(summary)
    print(f"evaluation in {args.out}")


def _cmd_compare_models(args) -> None:
    from crossreg.evaluate import compare_models

    summary = compare_models(args.a, args.b, args.out, label_a=args.label_a, label_b=args.label_b)
    for row in summary["rows"]:
        fraction = "–" if row["fraction_improved"] is None else f"{row['fraction_improved']:.0%}"
        p_value = "–" if row["binomial_p"] is None else f"{row['binomial_p']:.3g}"
        print(f"{row['genome']} {row['assay']}: {args.label_a} better on {row['improved']}/{row['tracks']} tracks "
              f"({fraction}), binomial p {p_value}")
    print(f"comparison in {args.out}")


def _cmd_report(args) -> None:
    from crossreg.report import render_report

    train_dirs = dict(_genome_paths(args.train_dir, "--train-dir"))
    summary = render_report(args.out, evaluations=args.evaluation, comparisons=args.comparison,
                            train_dirs=train_dirs or None, title=args.title, sldp=args.sldp, denovo=args.denovo)
    print(f"report: {summary['out']}")


def _cmd_run(args) -> None:
    from crossreg.runner import run_pipeline

    overrides = {}
    for text in args.param:
        key, sep, value = text.partition("=")
        if not sep:
            raise InputError(f"--param {text!r}: expected KEY=VALUE")
        import yaml

        overrides[key.strip()] = yaml.safe_load(value) if value.strip() else None
    result = run_pipeline(args.params_file, args.outdir, overrides, jobs=args.jobs, force=args.force)
    print(f"{len(result.ran)} step(s) ran, {len(result.skipped)} up to date, {result.seconds:.0f} s")
    summary_path = result.plan.evaluation / "summary.json" if result.plan.evaluation is not None else None
    if summary_path is not None and summary_path.is_file():
        _print_evaluation(json.loads(summary_path.read_text()))
    if result.plan.report is not None:
        print(f"report: {result.plan.report}")


def _label_path(text: str) -> tuple[str, Path]:
    """``LABEL=PATH`` or a bare path (label: the folder's name)."""
    label, sep, path = text.partition("=")
    if not sep:
        return Path(text).name or "run", Path(text)
    if not label or not path:
        raise argparse.ArgumentTypeError(f"expected LABEL=PATH or PATH, got {text!r}")
    return label, Path(path)


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The ``crossreg`` argument parser (also used by the contract tests of the pipeline)."""
    parser = argparse.ArgumentParser(prog="crossreg", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"crossreg {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="STEP")

    p = sub.add_parser("simulate", help="write a synthetic two-species world with known truth")
    p.add_argument("--preset", choices=("tiny", "demo", "bench"), default="tiny")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params", type=Path, help="YAML/JSON file overriding preset knobs")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("split", help="orthology-aware train/valid/test split of 1 Mb regions")
    p.add_argument("--genome", action="append", type=_genome_spec, required=True, metavar="NAME=FASTA",
                   help="a genome and its FASTA (repeatable)")
    p.add_argument("--chain", action="append", type=_chain_spec, default=[], metavar="TARGET:QUERY:CHAIN",
                   help="UCSC chain aligning genome TARGET to QUERY (repeatable); none = contiguous split")
    p.add_argument("--valid-fraction", type=float, default=0.12)
    p.add_argument("--test-fraction", type=float, default=0.12)
    p.add_argument("--region-size", type=int, default=1_000_000, help="bp per region (default 1 Mb)")
    p.add_argument("--min-shared-bp", type=int, default=100_000, help="aligned bp that link two regions (default 100 kb)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", type=Path, required=True, help="writes <genome>.folds.bed and split_report.json")
    p.set_defaults(func=_cmd_split)

    p = sub.add_parser("windows", help="tile windows inside fold regions (or read them), drop N/masked ones")
    _add_genome_inputs(p, targets=False)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--folds", type=Path, help="folds BED from crossreg split")
    src.add_argument("--windows-bed", type=Path, help="windows with folds (chrom start end fold)")
    p.add_argument("--seq-length", type=int, default=131_072, help="window length, bp (default 131072)")
    p.add_argument("--stride", type=int, default=65_599, help="step between windows, bp (default 65599)")
    p.add_argument("--max-n-fraction", type=float, default=0.5, help="drop windows with more N (default 0.5)")
    p.add_argument("--max-masked-fraction", type=float, default=0.5, help="drop windows more masked (default 0.5)")
    p.add_argument("--out", type=Path, required=True, help="windows BED to write")
    p.set_defaults(func=_cmd_windows)

    p = sub.add_parser("baselines", help="per-track genome-wide 25th percentile over unmasked bases")
    _add_genome_inputs(p, targets=True)
    p.add_argument("--out", type=Path, required=True, help="baselines TSV to write")
    p.set_defaults(func=_cmd_baselines)

    for name, helptext in (
        ("shards", "write HDF5 shards (one chunk of the plan: --chunk i --of n)"),
        ("manifest", "verify all shards of a genome and write manifest.json"),
    ):
        p = sub.add_parser(name, help=helptext)
        _add_genome_inputs(p, targets=True)
        _add_geometry(p)
        p.add_argument("--windows", type=Path, required=True, help="windows BED from crossreg windows")
        p.add_argument("--baselines", type=Path, required=True, help="baselines TSV from crossreg baselines")
        if name == "shards":
            p.add_argument("--chunk", type=int, default=0, help="which chunk of the plan to write (0-based)")
            p.add_argument("--of", type=int, default=1, help="number of chunks the plan is cut into")
            p.add_argument("--out-dir", type=Path, required=True, help="the genome's shard folder")
            p.set_defaults(func=_cmd_shards)
        else:
            p.add_argument("--shard-dir", type=Path, required=True, help="the genome's shard folder")
            p.set_defaults(func=_cmd_manifest)
    p = sub.add_parser("describe-model", help="layer table and parameter counts of a params file")
    p.add_argument("params", type=Path, help="params JSON (model + train sections)")
    p.set_defaults(func=_cmd_describe_model)

    p = sub.add_parser("train", help="train the shared trunk and per-genome heads on shards (joint or single genome)")
    p.add_argument("--params", type=Path, required=True, help="params JSON (model + train sections)")
    p.add_argument("--manifest", action="append", required=True, metavar="GENOME=MANIFEST",
                   help="a genome's shard manifest.json (repeatable; joint mode: one per head)")
    p.add_argument("--out", type=Path, required=True, help="output directory (checkpoints, history, params)")
    p.add_argument("--mode", choices=("joint", "single"), default="joint")
    p.add_argument("--genome", dest="single_genome", help="the genome trained in --mode single")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    p.add_argument("--epochs", type=int, help="maximum epochs (default: train.epochs)")
    p.add_argument("--steps-per-epoch", type=int, help="optimiser steps per epoch (default: one pass)")
    p.add_argument("--seed", type=int, help="seed (default: train.seed)")
    p.add_argument("--finetune-epochs", type=int, default=0, help="per-genome fine-tuning epochs after joint training")
    p.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=None,
                   help="XLA-compile the TensorFlow steps (default: automatic)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="predictions of a saved model for a shard split or a windows BED (HDF5, bigWig)")
    p.add_argument("--model-dir", type=Path, required=True, help="model directory (params.json + model.weights.h5)")
    p.add_argument("--genome", required=True, help="head to predict with (head_<genome> in the params)")
    p.add_argument("--manifest", type=Path, help="the genome's shard manifest.json: windows of --split, track names")
    p.add_argument("--split", choices=("train", "valid", "test"), default="test", help="split of the shards (default test)")
    p.add_argument("--windows-bed", type=Path, help="predict these windows instead (chrom start end ...; seq_length bp each)")
    p.add_argument("--fasta", type=Path, help="FASTA (with .fai) of --windows-bed; with shards, only chromosome sizes")
    p.add_argument("--batch-size", type=int, default=4, help="windows per model call (default 4)")
    p.add_argument("--rc-average", action="store_true", help="average with the reverse complement's prediction, flipped back")
    p.add_argument("--bigwig-track", action="append", default=[], metavar="ID_OR_INDEX",
                   help="also write this track as bigWig (identifier or 0-based index; repeatable)")
    p.add_argument("--bigwig-dir", type=Path, help="folder for the bigWigs (<identifier>.bw)")
    p.add_argument("--chrom-sizes", type=Path, help="chrom<TAB>size file for bigWig headers (default: from the FASTA)")
    p.add_argument("--out", type=Path, required=True, help="predictions HDF5 to write")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("score-variants", help="SNP effect scores (SAD: ALT - REF summed over bins) of a VCF with one head")
    p.add_argument("--model-dir", type=Path, required=True, help="model directory (params.json + model.weights.h5)")
    p.add_argument("--head", required=True, help="head to score with (any genome's head may score any genome's variants)")
    p.add_argument("--fasta", type=Path, required=True, help="reference FASTA of the VCF (plain or bgzip, with .fai)")
    p.add_argument("--vcf", type=Path, required=True, help="VCF (plain, bgzip or gzip); biallelic SNPs are scored, other records reported")
    p.add_argument("--out", type=Path, required=True, help="scores HDF5 to write")
    p.add_argument("--chunk", type=int, default=0, help="score this piece of the SNP list (0-based; default 0)")
    p.add_argument("--of", type=int, default=1, help="number of contiguous pieces the SNP list is cut into (default 1)")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: average with the reverse complement)")
    p.add_argument("--shifts", default="0", help="comma-separated window shifts in bp averaged over, e.g. 0,-1,1 (default 0; "
                        "write --shifts=-1,0,1 when the first is negative)")
    p.add_argument("--stats", default="SAD", help="SAD plus optionally logSAD and L2, comma-separated (default SAD)")
    p.add_argument("--ref-mismatch", choices=("skip", "flip"), default="skip",
                   help="VCF REF differs from the FASTA: skip the SNP (default), or score it flipped when ALT matches")
    p.add_argument("--batch-size", type=int, default=8, help="windows per model call (default 8)")
    p.add_argument("--tsv", type=Path, help="also write a TSV (snp chr pos ref alt flipped SAD_<track>...)")
    p.add_argument("--tsv-track", action="append", default=[], metavar="ID_OR_INDEX",
                   help="track of the TSV (identifier or 0-based index; repeatable; default the first 10)")
    p.add_argument("--manifest", type=Path, help="the head's shard manifest.json: names the tracks (else track_0 ...)")
    p.add_argument("--progress", action="store_true", help="show a progress bar (default: only on a terminal)")
    p.set_defaults(func=_cmd_score_variants)

    p = sub.add_parser("gather-scores", help="concatenate the chunk files of score-variants into one")
    p.add_argument("--in", dest="inputs", nargs="+", type=Path, required=True, help="chunk files (any order)")
    p.add_argument("--out", type=Path, required=True, help="scores HDF5 to write")
    p.add_argument("--tsv", type=Path, help="also write the TSV")
    p.add_argument("--tsv-track", action="append", default=[], metavar="ID_OR_INDEX",
                   help="track of the TSV (identifier or 0-based index; repeatable; default the first 10)")
    p.set_defaults(func=_cmd_gather_scores)

    p = sub.add_parser("ism", help="in-silico saturation mutagenesis of a region (HDF5, PNG)")
    p.add_argument("--model-dir", type=Path, required=True, help="model directory (params.json + model.weights.h5)")
    p.add_argument("--head", required=True, help="head to predict with")
    p.add_argument("--fasta", type=Path, required=True, help="reference FASTA (plain or bgzip, with .fai)")
    p.add_argument("--region", help="CHROM:START-END, 1-based inclusive, centred in the model window")
    p.add_argument("--out", type=Path, help="ISM HDF5 to write (with --region)")
    p.add_argument("--plot", type=Path, help="PNG: heat map and logo row of the first chosen track")
    p.add_argument("--regions-table", type=Path,
                   help="instead of --region: a TSV with an ism_region column (e.g. crossreg denovo's top_variants.tsv)")
    p.add_argument("--top", type=int, default=3, help="with --regions-table: its first N regions (default 3)")
    p.add_argument("--out-dir", type=Path, help="with --regions-table: folder for ism_<k>.h5/.png and index.tsv")
    p.add_argument("--track", action="append", default=[], metavar="ID_OR_INDEX",
                   help="track to keep (identifier or 0-based index; repeatable; default all)")
    p.add_argument("--manifest", type=Path, help="the head's shard manifest.json: names the tracks")
    p.add_argument("--no-rc", action="store_true", help="forward strand only (default: average with the reverse complement)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per model call (default 8)")
    p.add_argument("--max-length", type=int, default=1000, help="longest region accepted, bp (default 1000)")
    p.add_argument("--progress", action="store_true", help="show a progress bar (default: only on a terminal)")
    p.set_defaults(func=_cmd_ism)

    p = sub.add_parser("denovo-vcf", help="the distinct SNP sites of a de novo table as a VCF to score")
    p.add_argument("--table", type=Path, required=True,
                   help="de novo TSV (family_id individual_id role chrom pos ref alt)")
    p.add_argument("--fasta", type=Path, required=True, help="reference FASTA (REF alleles checked; chromosome order)")
    p.add_argument("--out", type=Path, required=True, help="VCF (.vcf.gz, indexed) to write")
    p.add_argument("--exclusions", type=Path, help="also write the table's exclusions.tsv")
    p.set_defaults(func=_cmd_denovo_vcf)

    p = sub.add_parser("denovo", help="de novo variants, cases vs sibling controls: per-track MWU + FDR, PCA, "
                                      "track groups, family test")
    p.add_argument("--table", type=Path, required=True, help="de novo TSV (as for denovo-vcf)")
    p.add_argument("--scores", type=Path, required=True, help="score-variants HDF5 of the table's sites")
    p.add_argument("--outdir", type=Path, required=True, help="output folder (TSV tables, PNG plots, summary.json)")
    p.add_argument("--fasta", type=Path, help="reference FASTA: check REF alleles again, bound the ISM regions")
    p.add_argument("--track", action="append", default=[], metavar="ID_OR_INDEX",
                   help="track to analyse (repeatable; default all)")
    p.add_argument("--groups", type=Path, help="TSV 'identifier group' of track groups")
    p.add_argument("--group-rule", action="append", default=[], metavar="GROUP=KW1,KW2",
                   help="group tracks whose description contains a keyword (repeatable; first match wins; "
                        "default brain, heart, embryo, else other)")
    p.add_argument("--fdr", type=float, default=0.1, help="Benjamini-Hochberg level (default 0.1)")
    p.add_argument("--chosen-track", help="track of the per-family test (default: the one with the smallest p)")
    p.add_argument("--top-n", type=int, default=20, help="case variants listed in top_variants.tsv (default 20)")
    p.add_argument("--ism-width", type=int, default=200, help="bp of each top variant's ISM region (default 200)")
    p.add_argument("--pca-scale", action="store_true", help="scale tracks to unit variance before the PCA")
    p.add_argument("--eps", type=float, help="log-ratio pseudo-count (default 1%% of the median non-zero |sum|)")
    p.add_argument("--max-missing", type=float, help="fraction of SNPs allowed without a score (default 0.05)")
    p.add_argument("--threads", type=int, help="threads of the per-track tests (default: CPUs)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    p.set_defaults(func=_cmd_denovo)

    p = sub.add_parser("sldp-panel", help="SLDP: preprocess a PLINK reference panel once (LD-block eigenbases, LD scores)")
    p.add_argument("--panel", required=True, help="PLINK prefix: PREFIX<chrom>.bed/.bim/.fam per chromosome")
    p.add_argument("--chroms", required=True, help="chromosomes, e.g. 1-22, chr1-chr3 or 1,2,X")
    p.add_argument("--blocks", type=Path, required=True, help="LD blocks (BED, or a 'chr start stop' table)")
    p.add_argument("--print-snps", type=Path, help="regression SNP ids, one per line (default every panel SNP)")
    p.add_argument("--window-cm", type=float, default=1.0, help="LD-score window, cM (default 1)")
    p.add_argument("--rebuild", action="store_true", help="rebuild even when a valid cache exists")
    p.add_argument("--out", type=Path, required=True, help="cache folder to write")
    p.set_defaults(func=_cmd_sldp_panel)

    p = sub.add_parser("sldp-aggregate", help="SLDP: per-gene eQTL statistics of a tissue -> per-SNP summary statistics")
    p.add_argument("--pairs", type=Path, required=True, help="TSV 'gene SNP A1 A2 Z N' (or slope slope_se instead of Z)")
    p.add_argument("--out", type=Path, required=True, help="summary statistics to write (SNP A1 A2 Z N; .gz ok)")
    p.set_defaults(func=_cmd_sldp_aggregate)

    p = sub.add_parser("sldp-profiles", help="SLDP: signed LD profiles of variant scores and background annotations")
    p.add_argument("--panel-cache", type=Path, required=True, help="folder written by sldp-panel")
    p.add_argument("--scores", type=Path, required=True, help="score-variants HDF5 of the panel's SNPs")
    p.add_argument("--track", action="append", default=[], metavar="ID", help="track to use (repeatable; default all)")
    p.add_argument("--panel", help="the PLINK prefix of the cache: MAF-bin background from its genotypes")
    p.add_argument("--background-gtf", type=Path, help="GTF: coding, 5'UTR, 3'UTR (+-500 bp) and intron background")
    p.add_argument("--no-background", action="store_true", help="no background annotations")
    p.add_argument("--out", type=Path, required=True, help="profiles .npz to write")
    p.set_defaults(func=_cmd_sldp_profiles)

    p = sub.add_parser("sldp", help="SLDP: signed LD profile regression of one phenotype on every track's profile")
    p.add_argument("--panel-cache", type=Path, required=True, help="folder written by sldp-panel")
    p.add_argument("--profiles", type=Path, required=True, help="profiles written by sldp-profiles")
    p.add_argument("--sumstats", type=Path, required=True, help="SNP A1 A2 Z N (text, .gz or .parquet)")
    p.add_argument("--phenotype", help="name in the output (default: the file name)")
    p.add_argument("--flips", type=int, default=1_000_000, help="maximum sign flips of the null (default 1e6)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sign flips (default 0)")
    p.add_argument("--jk-blocks", type=int, default=300, help="jackknife chunks (default 300)")
    p.add_argument("--rng", choices=("fast", "reference"), default="fast",
                   help="sign-flip stream: fast (shared across tracks) or reference (sldp 1.1.5's exact stream)")
    p.add_argument("--fastp", action="store_true", help="analytic z/p only, no sign flips")
    p.add_argument("--ldscores", help="ldsc LD-score prefix (default: computed from the panel)")
    p.add_argument("--sumstats-duplicates", choices=("error", "drop"), default="error",
                   help="SNP ids on several rows (multi-allelic sites): error (default) or drop them")
    p.add_argument("--out", type=Path, required=True, help="TSV to write (+ .json beside it)")
    p.set_defaults(func=_cmd_sldp)

    p = sub.add_parser("sldp-gather", help="SLDP: all phenotypes' tables -> one table with FDR, z heat map, clusters")
    p.add_argument("--in", dest="inputs", nargs="+", type=Path, required=True, help="sldp TSVs")
    p.add_argument("--scores", type=Path, help="the score HDF5: track descriptions label the rows")
    p.add_argument("--fdr", type=float, default=0.05, help="Benjamini-Hochberg level of marked cells (default 0.05)")
    p.add_argument("--clusters", type=int, help="clusters of tracks (default: automatic cut of the tree)")
    p.add_argument("--out-dir", type=Path, required=True, help="output folder")
    p.set_defaults(func=_cmd_sldp_gather)

    p = sub.add_parser("inspect", help="summarise shard manifests")
    p.add_argument("manifest", nargs="+", type=Path, help="manifest.json file(s)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("match-tracks", help="table of tracks of different genomes with the same description")
    p.add_argument("--manifest", action="append", type=_genome_spec, required=True, metavar="GENOME=MANIFEST",
                   help="a genome's shard manifest.json (repeatable, at least two)")
    p.add_argument("--out", type=Path, required=True, help="TSV to write (genome_a identifier_a genome_b identifier_b)")
    p.set_defaults(func=_cmd_match_tracks)

    p = sub.add_parser("evaluate", help="test-split accuracy per track, gene level, cross-species transfer")
    p.add_argument("--model-dir", type=Path, required=True, help="model directory (params.json + model.weights.h5)")
    p.add_argument("--manifest", action="append", type=_genome_spec, required=True, metavar="GENOME=MANIFEST",
                   help="a genome's shard manifest.json (repeatable)")
    p.add_argument("--tss", action="append", type=_genome_spec, default=[], metavar="GENOME=TSS",
                   help="a genome's TSS BED or GTF for gene-level evaluation (repeatable)")
    p.add_argument("--track-matches", type=Path, help="TSV of matched tracks across genomes (crossreg match-tracks)")
    p.add_argument("--split", choices=("train", "valid", "test"), default="test", help="split evaluated (default test)")
    p.add_argument("--batch-size", type=int, default=4, help="windows per model call (default 4)")
    p.add_argument("--rc-average", action="store_true", help="average with the reverse complement's prediction")
    p.add_argument("--out", type=Path, required=True, help="output folder (TSV tables, PNG plots, summary.json)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("compare-models", help="joint vs single-genome: per-track R of two evaluations, binomial test")
    p.add_argument("--a", type=Path, required=True, help="evaluation folder of model A (e.g. joint)")
    p.add_argument("--b", type=Path, required=True, help="evaluation folder of model B (e.g. single genome)")
    p.add_argument("--label-a", default="joint", help="name of model A (default joint)")
    p.add_argument("--label-b", default="single", help="name of model B (default single)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_cmd_compare_models)

    p = sub.add_parser("report", help="one self-contained HTML page of evaluations, comparisons and training runs")
    p.add_argument("--evaluation", action="append", type=Path, default=[], help="evaluation folder (repeatable)")
    p.add_argument("--comparison", action="append", type=Path, default=[], help="comparison folder (repeatable)")
    p.add_argument("--train-dir", action="append", type=_label_path, default=[], metavar="[LABEL=]DIR",
                   help="training run folder (repeatable)")
    p.add_argument("--sldp", action="append", type=Path, default=[], help="sldp-gather folder (repeatable)")
    p.add_argument("--denovo", action="append", type=Path, default=[], help="denovo folder (repeatable)")
    p.add_argument("--title", default="crossreg report", help="page title")
    p.add_argument("--out", type=Path, required=True, help="HTML file to write")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("run", help="the whole pipeline on this machine from a params file, skipping up-to-date steps")
    p.add_argument("-params-file", "--params-file", dest="params_file", type=Path,
                   help="the pipeline's params file (YAML or JSON), as for nextflow run -params-file")
    p.add_argument("--outdir", type=Path, help="output folder (default: the params' outdir)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="set one parameter (YAML value; repeatable), e.g. --param train_epochs=2")
    p.add_argument("--jobs", type=int, help="steps run at once within a parallel group (default: CPUs, at most 4)")
    p.add_argument("--force", action="store_true", help="run every step even when up to date")
    p.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crossreg`` console script."""
    # TensorFlow's C++ start-up chatter would bury crossreg's own messages; users may override.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        args.func(args)
    except CrossregError as err:
        print(f"crossreg {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"crossreg {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
