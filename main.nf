#!/usr/bin/env nextflow
/*
 * crossreg: predict regulatory tracks from DNA, one network trained on several genomes.
 *
 * Every step is a `crossreg <step>` command (modules/local/<step>); this entry workflow picks
 * the inputs and hands them to the CROSSREG workflow (workflows/crossreg.nf).
 *
 * Inputs, either
 *   --simulate_preset tiny|demo|bench   the simulated two-species world (crossreg simulate)
 *   --input genomes.csv [--chains chains.csv]   your genomes (see nextflow_schema.json)
 * and optionally --model_dir DIR (a trained model: predictions on each genome's test split).
 *
 * Channel shapes:
 *   genomes: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
 *            meta [ id: genome ]; fasta_index [ .fai(, .gzi) ]; bigwigs, blacklist,
 *            unmappable and windows_bed are lists (possibly empty)
 *   chains:  [ target, query, chain ]
 *   model:   model_dir (at most one item)
 *   versions (topic): [ process, tool, version ]
 *
 * Only this file reads params; the language server checks every name against
 * nextflow_schema.json.
 */

include { CROSSREG          } from './workflows/crossreg'
include { SIMULATED_WORLD   } from './subworkflows/local/simulated_world'
include { SAMPLESHEET_INPUT } from './subworkflows/local/samplesheet_input'

workflow {
    if (!params.simulate_preset && !params.input) {
        error("crossreg: give --input GENOMES_CSV (and --chains CHAINS_CSV), or --simulate_preset tiny|demo|bench")
    }
    if (params.simulate_preset && params.input) {
        error("crossreg: --input and --simulate_preset exclude each other")
    }

    // inputs: the simulated world, or the genomes of a samplesheet
    if (params.simulate_preset) {
        overrides = params.simulate_params ? [file(params.simulate_params, checkIfExists: true)] : []
        SIMULATED_WORLD(channel.of(tuple([id: 'world'], overrides)))
        genomes = SIMULATED_WORLD.out.genomes
        chains = SIMULATED_WORLD.out.chains
    }
    else {
        chain_sheets = params.chains ? [file(params.chains, checkIfExists: true)] : []
        SAMPLESHEET_INPUT(file(params.input, checkIfExists: true), chain_sheets)
        genomes = SAMPLESHEET_INPUT.out.genomes
        chains = SAMPLESHEET_INPUT.out.chains
    }
    model = channel.fromList(params.model_dir ? [file(params.model_dir, checkIfExists: true)] : [])
    predict_genomes = (params.predict_genomes ?: '').tokenize(',')

    CROSSREG(genomes, chains, model, params.shard_chunks, predict_genomes)

    // software versions of every task, from the `versions` topic
    channel.topic('versions')
        .map { entry ->
            def (process_name, tool, version) = entry
            "${process_name.tokenize(':').last()}:\n  ${tool}: ${version}"
        }
        .unique()
        .collectFile(name: 'crossreg_software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: true, newLine: true) { text -> text }
}
