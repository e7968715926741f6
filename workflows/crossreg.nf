/*
 * crossreg: one network trained on several genomes, from their data to an HTML report.
 *
 * The steps of `crossreg run` (pycore/crossreg/runner/plan.py) as a workflow:
 *   split (jointly over the genomes, with their chains)
 *     -> windows, baselines (per genome)
 *     -> shards (per genome and chunk: --chunk i --of n, i = 0..n-1)
 *     -> manifest (per genome: gathers its chunks, verifies every shard)
 *     -> train (every genome's shards; skipped when a trained model is given)
 *     -> match-tracks (tracks matched across the evaluated genomes, unless given)
 *     -> evaluate (the model on each evaluated genome: tracks, genes at TSSs, transfer)
 *     -> denovo-vcf (the de novo table's sites as a VCF, when a table is given)
 *     -> score-variants (per head and chunk of a VCF's SNPs: --chunk i --of n, i = 0..n-1; the
 *        VCF asked for, the SLDP panel's SNPs and the de novo sites)
 *     -> gather-scores (per head: its chunks into scores.h5 and scores.tsv)
 *     -> sldp-panel (once), sldp-aggregate (per eQTL phenotype), sldp-profiles (per head),
 *        sldp (per head and phenotype), sldp-gather (per head)
 *     -> denovo (per head), ism (per head: its top case variants)
 *     -> predict (per genome asked for)
 *     -> report (evaluation, training curves, SLDP and de novo results: one HTML page)
 * This workflow reads no params: main.nf passes everything in. Step options (geometry,
 * fractions, seeds, epochs) reach the modules through task.ext.args, set in conf/modules.config.
 */

include { CROSSREG_SPLIT          } from '../modules/local/split'
include { CROSSREG_WINDOWS        } from '../modules/local/windows'
include { CROSSREG_BASELINES      } from '../modules/local/baselines'
include { CROSSREG_SHARDS         } from '../modules/local/shards'
include { CROSSREG_MANIFEST       } from '../modules/local/manifest'
include { CROSSREG_TRAIN          } from '../modules/local/train'
include { CROSSREG_MATCH_TRACKS   } from '../modules/local/match_tracks'
include { CROSSREG_EVALUATE       } from '../modules/local/evaluate'
include { CROSSREG_SCORE_VARIANTS } from '../modules/local/score_variants'
include { CROSSREG_GATHER_SCORES  } from '../modules/local/gather_scores'
include { CROSSREG_SLDP_PANEL     } from '../modules/local/sldp_panel'
include { CROSSREG_SLDP_AGGREGATE } from '../modules/local/sldp_aggregate'
include { CROSSREG_SLDP_PROFILES  } from '../modules/local/sldp_profiles'
include { CROSSREG_SLDP           } from '../modules/local/sldp'
include { CROSSREG_SLDP_GATHER    } from '../modules/local/sldp_gather'
include { CROSSREG_DENOVO_VCF     } from '../modules/local/denovo_vcf'
include { CROSSREG_DENOVO         } from '../modules/local/denovo'
include { CROSSREG_ISM            } from '../modules/local/ism'
include { CROSSREG_PREDICT        } from '../modules/local/predict'
include { CROSSREG_REPORT         } from '../modules/local/report'

/*
 * The one input of the split task: genomes sorted by name (a stable task hash), their FASTA and
 * .fai in the same order, and the chains whose two genomes are both being split.
 *   genome_records: [ [ id, fasta, fai ], ... ]   chain_records: [ [ target, query, chain ], ... ]
 */
def splitInput(List<List> genome_records, List<List> chain_records) {
    def genomes = genome_records.toSorted { record -> record[0] }
    def names = genomes.collect { record -> record[0] }
    def chains = chain_records.findAll { chain -> names.contains(chain[0]) && names.contains(chain[1]) }.toList()
    return tuple(
        [id: 'split'],
        names,
        genomes.collect { record -> record[1] },
        genomes.collect { record -> record[2] },
        chains.collect { chain -> "${chain[0]}:${chain[1]}" },
        chains.collect { chain -> chain[2] },
    )
}

/*
 * The one input of the evaluate task: the evaluated genomes' shard records
 * [ [ genome, manifest, [ shard files ] ], ... ] (sorted by genome), the model, the track
 * matches ([ TSV ] or []) and the TSS files [ [ genome, tss ], ... ] of any genomes.
 */
def evaluateInput(List<List> records, model_dir, List matches, List<List> tss_records) {
    def names = records.collect { record -> record[0] }
    def tss_used = tss_records.findAll { record -> names.contains(record[0]) }.toSorted { record -> record[0] }
    return tuple(
        [id: 'evaluate'],
        model_dir,
        names,
        records.collect { record -> record[1] },
        records.collectMany { record -> record[2] as List },
        tss_used.collect { record -> record[0] },
        tss_used.collect { record -> record[1] },
        matches,
    )
}

/*
 * A head that scores variants and its genome's manifest (the track names): [ head, manifest ];
 * the head must be one of the run's genomes (param: the parameter that asked for it, for the
 * message). records: every genome's shard records [ [ genome, manifest, [ shard files ] ], ... ].
 */
def scoreHead(String head, List<List> records, String param) {
    def record = records.find { candidate -> candidate[0] == head }
    if (!record) {
        error("crossreg: ${param}: '${head}' is not a genome of this run (${records.collect { other -> other[0] }.join(', ')})")
    }
    return tuple(head, record[1])
}

/*
 * The heads that score a VCF on `genome`, with their manifests: [ [ head, manifest ], ... ] for the
 * heads asked for (none: the VCF genome's own head).
 */
def scoreHeads(String genome, List heads, List<List> records, String param) {
    if (heads.isEmpty()) {
        return [scoreHead(genome, records, param)]
    }
    return heads.collect { head -> scoreHead(head as String, records, param) }
}

/*
 * The meta map of one head's scores of a VCF on `genome`: analysis '' (the VCF asked for,
 * published into variants/<head>/), 'sldp' (the panel SNPs) or 'denovo' (the de novo sites),
 * published into <analysis>/<head>/scores/.
 */
def scoreMeta(String head, String genome, String analysis) {
    if (analysis) {
        return [id: head, vcf_genome: genome, analysis: analysis]
    }
    return [id: head, vcf_genome: genome]
}

/*
 * The report's input for the files of one analysis: [ key, [ folder of each file ], [ file ] ],
 * sorted by folder and file name (a stable task hash, and the --sldp/--denovo order: heads sorted,
 * as crossreg run lists them). entries: [ [ folder, file ], ... ] (folder: <head> or <head>/ism;
 * [] when the analysis did not run).
 */
def reportLayout(String key, List entries) {
    def sorted = entries.toSorted { a, b -> (a[0] <=> b[0]) ?: (a[1].name <=> b[1].name) }
    return tuple(key, sorted.collect { entry -> entry[0] }, sorted.collect { entry -> entry[1] })
}

workflow CROSSREG {
    take:
    genomes         // channel: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
    chains          // channel: [ target, query, chain ]
    tss             // channel: [ genome, tss ] (TSS BED/GTF of the genomes that have one: gene-level evaluation)
    model           // channel: model_dir (a trained model, at most one; empty: one is trained)
    model_params    // channel: model params JSON (at most one; empty when a model is given)
    track_matches   // list: [ TSV of tracks matched across genomes ], or [] (matched by description)
    shard_chunks    // integer: chunks each genome's shard plan is cut into (one shards task each)
    train_mode      // string: joint (one network on every genome) or single (train_genome alone)
    train_genome    // string: the genome of train_mode single, trained and evaluated alone ('' otherwise)
    predict_genomes // list: genomes (model heads) to predict (empty: none)
    variants        // channel: [ genome, vcf, vcf_index ] (the VCF to score and the genome it is on, at most one;
                    //          vcf_index: [ .tbi or .csi ] or []; empty: no variant scores)
    score_heads     // list: heads that score the VCF (empty: the head of the VCF's genome)
    score_chunks    // integer: chunks each head's SNP list is cut into (one score-variants task each)
    sldp_panel      // channel: [ meta, panel, panel_prefix, chroms, blocks, print_snps, gtf ] (the SLDP
                    //          reference panel: PLINK files <panel_prefix><chrom>.bed/.bim/.fam of chroms,
                    //          LD blocks, [ print SNPs ] or [], [ background GTF ] or []; at most one item;
                    //          empty: no SLDP)
    sldp_snps       // channel: [ genome, vcf, vcf_index ] (the panel's SNPs to score and their genome)
    sldp_eqtl       // channel: [ phenotype, pairs ] (per-gene eQTL statistics, aggregated by sldp-aggregate)
    sldp_sumstats   // channel: [ phenotype, sumstats ] (per-SNP summary statistics, used as they are)
    sldp_heads      // list: heads that score the panel SNPs (empty: the head of their genome)
    sldp_background // boolean: background annotations (MAF bins, gene classes of the GTF) in the profiles
    denovo          // channel: [ genome, table ] (de novo variants table and its genome, at most one;
                    //          empty: no de novo analysis)
    denovo_groups   // list: [ track groups TSV ] or []
    denovo_heads    // list: [ head ] that scores the de novo sites (empty: the head of their genome)
    denovo_ism      // boolean: ISM of each head's top case variants

    main:
    // 1. orthology-aware split, jointly over the genomes that bring no windows of their own
    split_genomes = genomes
        .filter { _meta, _fasta, _fasta_index, _targets, _bigwigs, _blacklist, _unmappable, windows_bed -> !windows_bed }
        .map { meta, fasta, fasta_index, _targets, _bigwigs, _blacklist, _unmappable, _windows_bed -> tuple(meta.id, fasta, fasta_index[0]) }
        .toList()
        .filter { records -> !records.isEmpty() }
        .map { records -> tuple('split', records) }
    split_chains = chains
        .toList()
        .map { records -> tuple('split', records) }
    CROSSREG_SPLIT(
        split_genomes
            .join(split_chains)
            .map { _key, genome_records, chain_records -> splitInput(genome_records, chain_records) }
    )
    // [ genome, folds BED ] from <genome>.folds.bed
    folds = CROSSREG_SPLIT.out.folds
        .flatMap { _meta, beds -> beds }
        .map { bed -> tuple(bed.name.replace('.folds.bed', ''), bed) }

    // 2. windows inside same-fold runs (or the genome's own windows, validated)
    windows_input = genomes
        .map { meta, fasta, fasta_index, _targets, _bigwigs, blacklist, unmappable, windows_bed -> tuple(meta.id, meta, fasta, fasta_index, windows_bed, blacklist, unmappable) }
        .join(folds, remainder: true)
        .map { _id, meta, fasta, fasta_index, windows_bed, blacklist, unmappable, folds_bed ->
            tuple(meta, fasta, fasta_index, windows_bed ? [] : [folds_bed], windows_bed, blacklist, unmappable)
        }
    CROSSREG_WINDOWS(windows_input)

    // 3. per-track baselines
    CROSSREG_BASELINES(
        genomes.map { meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, _windows_bed -> tuple(meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable) }
    )

    // what the shards and manifest steps read, per genome:
    // [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines ]
    genome_data = genomes
        .map { meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, _windows_bed -> tuple(meta.id, meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable) }
        .join(CROSSREG_WINDOWS.out.windows.map { meta, bed -> tuple(meta.id, bed) })
        .join(CROSSREG_BASELINES.out.baselines.map { meta, tsv -> tuple(meta.id, tsv) })
        .map { _id, meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines ->
            tuple(meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines)
        }

    // 4. shards, scattered: one task per (genome, chunk)
    chunks = channel.fromList((0..<(shard_chunks as Integer)).toList())
    CROSSREG_SHARDS(
        genome_data
            .combine(chunks)
            .map { meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines, chunk ->
                tuple(meta + [chunk: chunk, chunks: shard_chunks], fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines)
            }
    )
    // [ genome, [ every file of every chunk ] ], emitted once all chunks of the genome are done
    shard_files = CROSSREG_SHARDS.out.shards
        .map { meta, files -> tuple(meta.id, files) }
        .groupTuple(size: shard_chunks as Integer)
        .map { id, files -> tuple(id, (files as List).flatten()) }

    // 5. manifest per genome: gathers its chunks and verifies every shard
    CROSSREG_MANIFEST(
        genome_data
            .map { meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines -> tuple(meta.id, meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines) }
            .join(shard_files)
            .map { _id, meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines, files ->
                tuple(meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows, baselines, files)
            }
    )
    // [ meta, manifest.json, [ shards and chunk reports ] ]: what a trainer or predict stages together
    shards = CROSSREG_MANIFEST.out.manifest
        .map { meta, manifest -> tuple(meta.id, meta, manifest) }
        .join(shard_files)
        .map { _id, meta, manifest, files -> tuple(meta, manifest, files) }

    // every genome's shard records, sorted by genome: [ [ genome, manifest, [ shard files ] ], ... ]
    shard_records = shards
        .map { meta, manifest, files -> tuple(meta.id, manifest, files) }
        .toList()
        .map { records -> records.toSorted { record -> record[0] } }

    // 6. one network on every genome's shards (train_mode single: the heads of train_genome),
    // unless a trained model is given
    CROSSREG_TRAIN(
        model_params
            .map { params_json -> tuple('train', params_json) }
            .join(shard_records.map { records -> tuple('train', records) })
            .map { _key, params_json, records ->
                tuple(
                    [id: train_mode],
                    params_json,
                    records.collect { record -> record[0] },
                    records.collect { record -> record[1] },
                    records.collectMany { record -> record[2] as List },
                )
            }
    )
    trained = CROSSREG_TRAIN.out.model.map { _meta, model_dir -> model_dir }
    evaluated_model = model.mix(trained)

    // the genomes evaluated: every genome (joint), or train_genome alone (single)
    evaluated_records = shard_records.map { records ->
        def used = records.findAll { record -> train_mode != 'single' || record[0] == train_genome }
        if (!used) {
            error("crossreg: train_genome '${train_genome}' is none of the genomes ${records.collect { record -> record[0] }}")
        }
        return used
    }

    // 7. tracks matched across the evaluated genomes by description, unless given
    CROSSREG_MATCH_TRACKS(
        evaluated_records
            .filter { records -> records.size() > 1 && !track_matches }
            .map { records -> tuple([id: 'track_matches'], records.collect { record -> record[0] }, records.collect { record -> record[1] }) }
    )
    // [ track matches TSV ] (matched above, or given), or [] for a single genome
    evaluate_matches = CROSSREG_MATCH_TRACKS.out.matches
        .map { _meta, tsv -> [tsv] }
        .mix(evaluated_records.filter { records -> records.size() > 1 && track_matches }.map { _records -> track_matches })
        .mix(evaluated_records.filter { records -> records.size() < 2 }.map { _records -> [] })

    // 8. the model on each evaluated genome's test split: per track, at TSSs, across species
    CROSSREG_EVALUATE(
        evaluated_records
            .map { records -> tuple('evaluate', records) }
            .join(evaluated_model.map { model_dir -> tuple('evaluate', model_dir) })
            .join(evaluate_matches.map { files -> tuple('evaluate', files) })
            .join(tss.toList().map { tss_records -> tuple('evaluate', tss_records) })
            .map { _key, records, model_dir, matches_files, tss_records -> evaluateInput(records, model_dir, matches_files, tss_records) }
    )

    // [ genome, fasta, fasta_index ]
    fasta_of = genomes.map { meta, fasta, fasta_index, _targets, _bigwigs, _blacklist, _unmappable, _windows_bed -> tuple(meta.id, fasta, fasta_index) }

    // 9. variant scores: the SNPs of a VCF scored with each head asked for (default: its
    // genome's), scattered: one task per (head, chunk), with the VCF genome's FASTA and the head
    // genome's manifest (the track names); then the chunks of each head gathered. Three VCFs:
    // the one asked for (variants/<head>/), the SLDP panel's SNPs and the de novo sites, whose
    // meta.analysis (sldp, denovo) sends them to <analysis>/<head>/scores/
    CROSSREG_DENOVO_VCF(
        denovo
            .join(fasta_of)
            .map { genome, table, fasta, fasta_index -> tuple([id: genome], table, fasta, fasta_index) }
    )
    // [ genome, vcf, vcf_index, heads, param naming the heads, analysis ]
    score_requests = variants
        .map { genome, vcf, vcf_index -> tuple(genome, vcf, vcf_index, score_heads, 'score_heads', '') }
        .mix(sldp_snps.map { genome, vcf, vcf_index -> tuple(genome, vcf, vcf_index, sldp_heads, 'sldp_heads', 'sldp') })
        .mix(CROSSREG_DENOVO_VCF.out.vcf.map { meta, vcf, tbi -> tuple(meta.id, vcf, [tbi], denovo_heads, 'denovo_head', 'denovo') })
    variant_chunks = channel.fromList((0..<(score_chunks as Integer)).toList())
    CROSSREG_SCORE_VARIANTS(
        score_requests
            .combine(fasta_of, by: 0)
            .map { genome, vcf, vcf_index, heads, param, analysis, fasta, fasta_index -> tuple('scores', genome, vcf, vcf_index, heads, param, analysis, fasta, fasta_index) }
            .combine(shard_records.map { records -> tuple('scores', records) }, by: 0)
            .flatMap { _key, genome, vcf, vcf_index, heads, param, analysis, fasta, fasta_index, records ->
                scoreHeads(genome as String, heads as List, records as List, param as String).collect { head_record ->
                    tuple(head_record[0], genome, vcf, vcf_index, fasta, fasta_index, head_record[1], analysis)
                }
            }
            .combine(evaluated_model)
            .combine(variant_chunks)
            .map { head, genome, vcf, vcf_index, fasta, fasta_index, manifest, analysis, model_dir, chunk ->
                tuple([id: head, chunk: chunk, chunks: score_chunks] + scoreMeta(head as String, genome as String, analysis as String), model_dir, fasta, fasta_index, vcf, vcf_index, manifest)
            }
    )
    // [ meta, [ chunk files ] ] per VCF and head, once all its chunks are scored (sorted: a stable task hash)
    CROSSREG_GATHER_SCORES(
        CROSSREG_SCORE_VARIANTS.out.scores
            .map { meta, h5 -> tuple(meta.id, meta.vcf_genome, meta.analysis ?: '', h5) }
            .groupTuple(by: [0, 1, 2], size: score_chunks as Integer)
            .map { head, genome, analysis, files -> tuple(scoreMeta(head as String, genome as String, analysis as String), (files as List).toSorted { h5 -> h5.name }) }
    )
    variant_scores = CROSSREG_GATHER_SCORES.out.scores.filter { meta, _h5 -> !meta.analysis }
    sldp_scores = CROSSREG_GATHER_SCORES.out.scores.filter { meta, _h5 -> meta.analysis == 'sldp' }
    denovo_scores = CROSSREG_GATHER_SCORES.out.scores.filter { meta, _h5 -> meta.analysis == 'denovo' }

    // 10. SLDP: the panel preprocessed once, each eQTL phenotype aggregated to per-SNP statistics;
    // per head the signed LD profiles of its scores of the panel SNPs, one regression per
    // phenotype (scattered), then the phenotypes gathered (FDR, heat map, track clusters)
    CROSSREG_SLDP_PANEL(
        sldp_panel.map { meta, panel, panel_prefix, chroms, blocks, print_snps, _gtf -> tuple(meta, panel, panel_prefix, chroms, blocks, print_snps) }
    )
    CROSSREG_SLDP_AGGREGATE(sldp_eqtl.map { phenotype, pairs -> tuple([id: phenotype], pairs) })
    // [ phenotype, sumstats ]
    sldp_phenotypes = CROSSREG_SLDP_AGGREGATE.out.sumstats
        .map { meta, sumstats -> tuple(meta.id, sumstats) }
        .mix(sldp_sumstats)
    sldp_cache = CROSSREG_SLDP_PANEL.out.cache.map { _meta, cache -> cache }
    CROSSREG_SLDP_PROFILES(
        sldp_scores
            .combine(sldp_cache)
            .combine(sldp_panel)
            .map { meta, h5, cache, _panel_meta, panel, panel_prefix, _chroms, _blocks, _print_snps, gtf ->
                tuple([id: meta.id], cache, h5, sldp_background ? panel : [], panel_prefix, sldp_background ? gtf : [])
            }
    )
    CROSSREG_SLDP(
        CROSSREG_SLDP_PROFILES.out.profiles
            .combine(sldp_cache)
            .combine(sldp_phenotypes)
            .map { meta, profiles, cache, phenotype, sumstats -> tuple(meta + [phenotype: phenotype], cache, profiles, sumstats) }
    )
    // [ meta, [ every phenotype's table ], scores ] per head, once every phenotype is regressed
    // (sorted: a stable task hash)
    CROSSREG_SLDP_GATHER(
        CROSSREG_SLDP.out.results
            .map { meta, tsv -> tuple(meta.id, tsv) }
            .groupTuple()
            .join(sldp_scores.map { meta, h5 -> tuple(meta.id, h5) })
            .map { head, tables, h5 -> tuple([id: head], (tables as List).toSorted { tsv -> tsv.name }, h5) }
    )

    // 11. de novo variants: cases against sibling controls with each head's scores of the sites,
    // then the ISM of the top case variants with the same head on the table's genome
    // [ genome, table, fasta, fasta_index ]
    denovo_inputs = denovo.join(fasta_of)
    CROSSREG_DENOVO(
        denovo_scores
            .map { meta, h5 -> tuple(meta.vcf_genome, meta.id, h5) }
            .combine(denovo_inputs, by: 0)
            .map { genome, head, h5, table, fasta, fasta_index -> tuple([id: head, genome: genome], table, h5, fasta, fasta_index, denovo_groups) }
    )
    CROSSREG_ISM(
        CROSSREG_DENOVO.out.top_variants
            .filter { _meta, _tsv -> denovo_ism }
            .map { meta, tsv -> tuple(meta.genome, meta, tsv) }
            .combine(fasta_of, by: 0)
            .map { _genome, meta, tsv, fasta, fasta_index -> tuple('ism', meta, tsv, fasta, fasta_index) }
            .combine(shard_records.map { records -> tuple('ism', records) }, by: 0)
            .combine(evaluated_model)
            .map { _key, meta, tsv, fasta, fasta_index, records, model_dir ->
                tuple([id: meta.id, genome: meta.genome], model_dir, fasta, fasta_index, tsv, scoreHead(meta.id as String, records as List, 'denovo_head')[1])
            }
    )

    // 12. predictions of the model (given or trained) on the test split of each genome asked for
    // (its own head), as crossreg run does
    CROSSREG_PREDICT(
        shards
            .map { meta, manifest, files -> tuple(meta.id, meta, manifest, files) }
            .join(fasta_of)
            .filter { id, _meta, _manifest, _files, _fasta, _fasta_index -> (predict_genomes as List).contains(id) }
            .combine(model.mix(trained))
            .map { _id, meta, manifest, files, fasta, fasta_index, model_dir -> tuple(meta, model_dir, [manifest], files, [], [fasta], fasta_index) }
    )

    // 13. the report: the evaluation, the training run's curves (none for a given model), and the
    // trait analyses: what crossreg report reads of each head's sldp-gather and denovo outputs (and
    // of its ISM), as [ folder, file ] pairs that the task links into sldp/<head>/ and
    // denovo/<head>/ (ism/ inside), crossreg run's layout; [] and [] for an analysis that did not run
    train_runs = CROSSREG_TRAIN.out.run
        .map { meta, run -> tuple('report', [meta.id], [run]) }
        .mix(model.map { _model_dir -> tuple('report', [], []) })
    report_sldp = CROSSREG_SLDP_GATHER.out.results
        .map { meta, tsv -> tuple(meta.id as String, [tsv]) }
        .mix(CROSSREG_SLDP_GATHER.out.plots.map { meta, pngs -> tuple(meta.id as String, pngs) })
        .mix(CROSSREG_SLDP_GATHER.out.summary.map { meta, json -> tuple(meta.id as String, [json]) })
    report_denovo = CROSSREG_DENOVO.out.tables
        .map { meta, tracks, groups, _pca, _families, _exclusions -> tuple(meta.id as String, [tracks, groups]) }
        .mix(CROSSREG_DENOVO.out.top_variants.map { meta, tsv -> tuple(meta.id as String, [tsv]) })
        .mix(CROSSREG_DENOVO.out.plots.map { meta, pngs -> tuple(meta.id as String, pngs) })
        .mix(CROSSREG_DENOVO.out.summary.map { meta, json -> tuple(meta.id as String, [json]) })
        .mix(CROSSREG_ISM.out.index.map { meta, tsv -> tuple((meta.id as String) + '/ism', [tsv]) })
        .mix(CROSSREG_ISM.out.plots.map { meta, pngs -> tuple((meta.id as String) + '/ism', pngs instanceof List ? pngs : [pngs]) })
    CROSSREG_REPORT(
        CROSSREG_EVALUATE.out.evaluation
            .map { _meta, evaluation -> tuple('report', [evaluation]) }
            .join(train_runs)
            .join(report_sldp.flatMap { folder, files -> (files as List).collect { staged -> tuple(folder, staged) } }.toList().map { entries -> reportLayout('report', entries) })
            .join(report_denovo.flatMap { folder, files -> (files as List).collect { staged -> tuple(folder, staged) } }.toList().map { entries -> reportLayout('report', entries) })
            .map { _key, evaluations, labels, runs, sldp_folders, sldp_files, denovo_folders, denovo_files ->
                tuple([id: 'report'], evaluations, labels, runs, sldp_folders, sldp_files, denovo_folders, denovo_files)
            }
    )

    emit:
    folds          = folds                                // channel: [ genome, folds.bed ]
    windows        = CROSSREG_WINDOWS.out.windows         // channel: [ meta, windows.bed ]
    baselines      = CROSSREG_BASELINES.out.baselines     // channel: [ meta, baselines.tsv ]
    shards         = shards                               // channel: [ meta, manifest.json, [ shard files ] ]
    train_run      = CROSSREG_TRAIN.out.run               // channel: [ meta, train/ ] (meta.id: train_mode)
    model_dir      = evaluated_model                      // channel: model_dir (given, or train/model_best)
    history        = CROSSREG_TRAIN.out.history           // channel: [ meta, history.csv ]
    matches        = CROSSREG_MATCH_TRACKS.out.matches    // channel: [ meta, track_matches.tsv ] (when matched here)
    evaluation     = CROSSREG_EVALUATE.out.evaluation     // channel: [ meta, evaluate/ ]
    variant_scores = variant_scores                       // channel: [ meta, scores.h5 ] (meta [ id: head, vcf_genome ])
    variant_tsv    = CROSSREG_GATHER_SCORES.out.tsv.filter { meta, _tsv -> !meta.analysis } // channel: [ meta, scores.tsv ]
    sldp_results   = CROSSREG_SLDP_GATHER.out.results     // channel: [ meta, results.tsv ] (meta.id: head)
    sldp_summary   = CROSSREG_SLDP_GATHER.out.summary     // channel: [ meta, summary.json ]
    denovo_tables  = CROSSREG_DENOVO.out.tables           // channel: [ meta, tracks.tsv, groups.tsv, pca.tsv, families.tsv, exclusions.tsv ]
    denovo_summary = CROSSREG_DENOVO.out.summary          // channel: [ meta, summary.json ] (meta [ id: head, genome ])
    ism            = CROSSREG_ISM.out.index               // channel: [ meta, index.tsv ]
    predictions    = CROSSREG_PREDICT.out.predictions     // channel: [ meta, preds.h5 ]
    bigwig         = CROSSREG_PREDICT.out.bigwig          // channel: [ meta, [ track.bw ] ]
    report         = CROSSREG_REPORT.out.report           // channel: [ meta, report.html ]
}
