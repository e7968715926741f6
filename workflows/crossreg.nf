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
 *     -> score-variants (per head and chunk of a VCF's SNPs: --chunk i --of n, i = 0..n-1)
 *     -> gather-scores (per head: its chunks into scores.h5 and scores.tsv)
 *     -> predict (per genome asked for)
 *     -> report (evaluation and training curves, one HTML page)
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
 * the head must be one of the run's genomes. records: every genome's shard records
 * [ [ genome, manifest, [ shard files ] ], ... ].
 */
def scoreHead(String head, List<List> records) {
    def record = records.find { candidate -> candidate[0] == head }
    if (!record) {
        error("crossreg: score_heads: '${head}' is not a genome of this run (${records.collect { other -> other[0] }.join(', ')})")
    }
    return tuple(head, record[1])
}

/*
 * The heads that score a VCF on `genome`, with their manifests: [ [ head, manifest ], ... ] for the
 * heads asked for (none: the VCF genome's own head).
 */
def scoreHeads(String genome, List heads, List<List> records) {
    if (heads.isEmpty()) {
        return [scoreHead(genome, records)]
    }
    return heads.collect { head -> scoreHead(head as String, records) }
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

    // 9. variant scores: the VCF's SNPs scored with each head asked for (default: its genome's),
    // scattered: one task per (head, chunk), with the VCF genome's FASTA and the head genome's
    // manifest (the track names); then the chunks of each head gathered
    variant_chunks = channel.fromList((0..<(score_chunks as Integer)).toList())
    CROSSREG_SCORE_VARIANTS(
        variants
            .join(fasta_of)
            .map { genome, vcf, vcf_index, fasta, fasta_index -> tuple('variants', genome, vcf, vcf_index, fasta, fasta_index) }
            .join(shard_records.map { records -> tuple('variants', records) })
            .flatMap { _key, genome, vcf, vcf_index, fasta, fasta_index, records ->
                scoreHeads(genome as String, score_heads, records as List).collect { head_record ->
                    tuple(head_record[0], genome, vcf, vcf_index, fasta, fasta_index, head_record[1])
                }
            }
            .combine(evaluated_model)
            .combine(variant_chunks)
            .map { head, genome, vcf, vcf_index, fasta, fasta_index, manifest, model_dir, chunk ->
                tuple([id: head, chunk: chunk, chunks: score_chunks, vcf_genome: genome], model_dir, fasta, fasta_index, vcf, vcf_index, manifest)
            }
    )
    // [ meta, [ chunk files ] ] per head, once all its chunks are scored (sorted: a stable task hash)
    CROSSREG_GATHER_SCORES(
        CROSSREG_SCORE_VARIANTS.out.scores
            .map { meta, h5 -> tuple(meta.id, meta.vcf_genome, h5) }
            .groupTuple(by: [0, 1], size: score_chunks as Integer)
            .map { head, genome, files -> tuple([id: head, vcf_genome: genome], (files as List).toSorted { h5 -> h5.name }) }
    )

    // 10. predictions of the model (given or trained) on the test split of each genome asked for
    // (its own head), as crossreg run does
    CROSSREG_PREDICT(
        shards
            .map { meta, manifest, files -> tuple(meta.id, meta, manifest, files) }
            .join(fasta_of)
            .filter { id, _meta, _manifest, _files, _fasta, _fasta_index -> (predict_genomes as List).contains(id) }
            .combine(model.mix(trained))
            .map { _id, meta, manifest, files, fasta, fasta_index, model_dir -> tuple(meta, model_dir, [manifest], files, [], [fasta], fasta_index) }
    )

    // 11. the report: the evaluation, and the training run's curves (none for a given model)
    train_runs = CROSSREG_TRAIN.out.run
        .map { meta, run -> tuple('report', [meta.id], [run]) }
        .mix(model.map { _model_dir -> tuple('report', [], []) })
    CROSSREG_REPORT(
        CROSSREG_EVALUATE.out.evaluation
            .map { _meta, evaluation -> tuple('report', [evaluation]) }
            .join(train_runs)
            .map { _key, evaluations, labels, runs -> tuple([id: 'report'], evaluations, labels, runs) }
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
    variant_scores = CROSSREG_GATHER_SCORES.out.scores    // channel: [ meta, scores.h5 ] (meta [ id: head, vcf_genome ])
    variant_tsv    = CROSSREG_GATHER_SCORES.out.tsv       // channel: [ meta, scores.tsv ]
    predictions    = CROSSREG_PREDICT.out.predictions     // channel: [ meta, preds.h5 ]
    bigwig         = CROSSREG_PREDICT.out.bigwig          // channel: [ meta, [ track.bw ] ]
    report         = CROSSREG_REPORT.out.report           // channel: [ meta, report.html ]
}
