/*
 * crossreg: training data for one network over several genomes, then predictions.
 *
 * The data chain of scripts/demo.sh as a workflow:
 *   split (jointly over the genomes, with their chains)
 *     -> windows, baselines (per genome)
 *     -> shards (per genome and chunk: --chunk i --of n, i = 0..n-1)
 *     -> manifest (per genome: gathers its chunks, verifies every shard)
 *     -> predict (per genome, when a trained model is given)
 * This workflow reads no params: main.nf passes everything in. Step options (geometry,
 * fractions, seeds) reach the modules through task.ext.args, set in conf/modules.config.
 */

include { CROSSREG_SPLIT     } from '../modules/local/split'
include { CROSSREG_WINDOWS   } from '../modules/local/windows'
include { CROSSREG_BASELINES } from '../modules/local/baselines'
include { CROSSREG_SHARDS    } from '../modules/local/shards'
include { CROSSREG_MANIFEST  } from '../modules/local/manifest'
include { CROSSREG_PREDICT   } from '../modules/local/predict'

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

workflow CROSSREG {
    take:
    genomes         // channel: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
    chains          // channel: [ target, query, chain ]
    model           // channel: model_dir (a trained model, at most one; empty: no predictions)
    shard_chunks    // integer: chunks each genome's shard plan is cut into (one shards task each)
    predict_genomes // list: genomes (model heads) to predict; empty: every genome

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

    // 6. predictions of a trained model on each genome's test split (its own head)
    fasta_of = genomes.map { meta, fasta, fasta_index, _targets, _bigwigs, _blacklist, _unmappable, _windows_bed -> tuple(meta.id, fasta, fasta_index) }
    CROSSREG_PREDICT(
        shards
            .filter { meta, _manifest, _files -> (predict_genomes as List).isEmpty() || (predict_genomes as List).contains(meta.id) }
            .map { meta, manifest, files -> tuple(meta.id, meta, manifest, files) }
            .join(fasta_of)
            .combine(model)
            .map { _id, meta, manifest, files, fasta, fasta_index, model_dir -> tuple(meta, model_dir, [manifest], files, [], [fasta], fasta_index) }
    )

    emit:
    folds       = folds                              // channel: [ genome, folds.bed ]
    windows     = CROSSREG_WINDOWS.out.windows       // channel: [ meta, windows.bed ]
    baselines   = CROSSREG_BASELINES.out.baselines   // channel: [ meta, baselines.tsv ]
    shards      = shards                             // channel: [ meta, manifest.json, [ shard files ] ]
    predictions = CROSSREG_PREDICT.out.predictions   // channel: [ meta, preds.h5 ]
    bigwig      = CROSSREG_PREDICT.out.bigwig        // channel: [ meta, [ track.bw ] ]
}
