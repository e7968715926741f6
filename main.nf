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
 * and a model: --model_params PARAMS_JSON (a model trained on every genome's shards) or
 * --model_dir DIR (a trained model); the model is evaluated on the test split of each genome
 * (--train_mode single: of --train_genome) and reported in report/report.html. A VCF
 * (--variants_vcf on --variants_genome, or the simulated world's human/variants.vcf.gz) is
 * scored with each head of --score_heads (default: its genome's) into variants/<head>/.
 *
 * Channel shapes:
 *   genomes:       [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
 *                  meta [ id: genome ]; fasta_index [ .fai(, .gzi) ]; bigwigs, blacklist,
 *                  unmappable and windows_bed are lists (possibly empty)
 *   chains:        [ target, query, chain ]
 *   tss:           [ genome, tss ] (genomes with a TSS BED/GTF: gene-level evaluation)
 *   model:         model_dir (at most one item; empty: a model is trained)
 *   model_params:  params JSON (at most one item; empty when model_dir is given)
 *   track_matches: [ TSV ] or [] (a list: tracks matched across genomes, else matched by description)
 *   variants:      [ genome, vcf, vcf_index ] (at most one item: the VCF to score and the genome it
 *                  is on; vcf_index [ .tbi or .csi ] or []; empty: no variant scores)
 *   score_heads:   [ head, ... ] (a list; empty: the head of the VCF's genome)
 *   versions (topic): [ process, tool, version ]
 *
 * Only this file reads params; the language server checks every name against
 * nextflow_schema.json.
 */

include { CROSSREG          } from './workflows/crossreg'
include { SIMULATED_WORLD   } from './subworkflows/local/simulated_world'
include { SAMPLESHEET_INPUT } from './subworkflows/local/samplesheet_input'

/*
 * A file named by a parameter: relative paths are looked up in the launch folder, then in the
 * pipeline's folder (e.g. the bundled conf/model/params_sim_tiny.json of -profile test).
 */
def pipelineFile(String path) {
    def local = file(path)
    if (local.exists() || path.startsWith('/') || path.contains('://')) {
        return file(path, checkIfExists: true)
    }
    return file("${projectDir}/${path}", checkIfExists: true)
}

/*
 * The genome a VCF is on, as crossreg run decides: `genome` (--variants_genome), else the only
 * genome of the run; it must be one of the run's genomes (names).
 */
def variantsGenome(String vcf, String genome, List names) {
    def chosen = genome ?: (names.size() == 1 ? names[0] : null)
    if (!chosen) {
        error("crossreg: variants_vcf ${vcf}: say which genome it is on with --variants_genome (${names.join(', ')})")
    }
    if (!names.contains(chosen)) {
        error("crossreg: variants_genome: '${chosen}' is not a genome of this run (${names.join(', ')})")
    }
    return chosen
}

/*
 * The simulated world's VCF of `genome` among its [ genome, vcf, vcf_index ] records: [ record ],
 * or [] (with a warning) when the world has none for it.
 */
def worldVariants(String genome, List<List> records) {
    def found = records.findAll { record -> record[0] == genome }
    if (!found) {
        log.warn("crossreg: the simulated world has no ${genome}/variants.vcf.gz: no variant scores")
    }
    return found
}

workflow {
    if (!params.simulate_preset && !params.input) {
        error("crossreg: give --input GENOMES_CSV (and --chains CHAINS_CSV), or --simulate_preset tiny|demo|bench")
    }
    if (params.simulate_preset && params.input) {
        error("crossreg: --input and --simulate_preset exclude each other")
    }
    if (!params.model_dir && !params.model_params) {
        error("crossreg: give --model_params PARAMS_JSON (model and train sections) to train a model, or --model_dir DIR (a trained model)")
    }
    if (params.train_mode == 'single' && !params.train_genome) {
        error("crossreg: --train_mode single needs --train_genome")
    }

    // inputs: the simulated world, or the genomes of a samplesheet
    if (params.simulate_preset) {
        overrides = params.simulate_params ? [file(params.simulate_params, checkIfExists: true)] : []
        SIMULATED_WORLD(channel.of(tuple([id: 'world'], overrides)))
        genomes = SIMULATED_WORLD.out.genomes
        chains = SIMULATED_WORLD.out.chains
        tss = SIMULATED_WORLD.out.tss
        world_variants = SIMULATED_WORLD.out.variants
    }
    else {
        chain_sheets = params.chains ? [file(params.chains, checkIfExists: true)] : []
        SAMPLESHEET_INPUT(file(params.input, checkIfExists: true), chain_sheets)
        genomes = SAMPLESHEET_INPUT.out.genomes
        chains = SAMPLESHEET_INPUT.out.chains
        tss = SAMPLESHEET_INPUT.out.tss
        world_variants = channel.empty()
    }
    // a given model is evaluated as it is; otherwise one is trained from the model params
    model = channel.fromList(params.model_dir ? [file(params.model_dir, checkIfExists: true)] : [])
    model_params = channel.fromList(params.model_dir ? [] : [pipelineFile(params.model_params)])
    track_matches = params.track_matches ? [file(params.track_matches, checkIfExists: true)] : []
    predict_genomes = (params.predict_genomes ?: '').tokenize(',')

    // the VCF to score and the genome it is on (checked against the run's genomes):
    // --variants_vcf (its .tbi or .csi staged too), else the simulated world's VCF of
    // --variants_genome (default: human, the genome the simulator writes variants for)
    genome_names = genomes
        .map { meta, _fasta, _fasta_index, _targets, _bigwigs, _blacklist, _unmappable, _windows_bed -> meta.id }
        .toList()
    if (params.variants_vcf) {
        vcf = file(params.variants_vcf, checkIfExists: true)
        vcf_index = ['tbi', 'csi'].collect { ext -> file("${params.variants_vcf}.${ext}") }.findAll { index -> index.exists() }
        variants = genome_names.map { names -> tuple(variantsGenome(params.variants_vcf, params.variants_genome, names), vcf, vcf_index) }
    }
    else if (params.simulate_preset) {
        variants = genome_names
            .map { names -> tuple('variants', variantsGenome('', params.variants_genome ?: 'human', names)) }
            .join(world_variants.toList().map { records -> tuple('variants', records) })
            .flatMap { _key, genome, records -> worldVariants(genome, records) }
    }
    else {
        variants = channel.empty()
    }
    score_heads = (params.score_heads ?: '').tokenize(',').collect { head -> head.trim() }.findAll { head -> head != '' }

    CROSSREG(
        genomes,
        chains,
        tss,
        model,
        model_params,
        track_matches,
        params.shard_chunks,
        params.train_mode,
        params.train_genome ?: '',
        predict_genomes,
        variants,
        score_heads,
        params.score_chunks,
    )

    // software versions of every task, from the `versions` topic
    channel.topic('versions')
        .map { entry ->
            def (process_name, tool, version) = entry
            "${process_name.tokenize(':').last()}:\n  ${tool}: ${version}"
        }
        .unique()
        .collectFile(name: 'crossreg_software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: true, newLine: true) { text -> text }
}
