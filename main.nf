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
 * SLDP (sldp/): a reference panel (--sldp_panel, or the simulated world's human LD panel), its
 * SNPs scored with each head of --sldp_heads, regressed on every phenotype of --sldp_eqtl
 * (aggregated eQTL tables) and --sldp_sumstats (or the world's eQTL tissues); --run_sldp false
 * skips it. De novo (denovo/): the table of --denovo_table (or the world's human denovo.tsv)
 * scored with --denovo_head, cases against sibling controls, and the ISM of the top case
 * variants (--denovo_ism_top); --run_denovo false skips it.
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
 *   sldp_panel:    [ meta, panel, panel_prefix, chroms, blocks, print_snps, gtf ] (at most one item:
 *                  PLINK files <panel_prefix><chrom>.bed/.bim/.fam, staged together; print_snps and
 *                  gtf lists of at most one file; empty: no SLDP)
 *   sldp_snps:     [ genome, vcf, vcf_index ] (the panel SNPs to score)
 *   sldp_eqtl:     [ phenotype, pairs ]   sldp_sumstats: [ phenotype, sumstats ]
 *   denovo:        [ genome, table ] (at most one item; empty: no de novo analysis)
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

/*
 * The genome an analysis's file is on (param: --sldp_genome, --denovo_genome), as crossreg run
 * decides: `genome` (the param's value, else the simulated world's), else the only genome of
 * the run; it must be one of the run's genomes (names).
 */
def analysisGenome(String what, String param, String genome, List names) {
    def chosen = genome ?: (names.size() == 1 ? names[0] : null)
    if (!chosen) {
        error("crossreg: ${what}: say which genome it is on with --${param} (${names.join(', ')})")
    }
    if (!names.contains(chosen)) {
        error("crossreg: ${param}: '${chosen}' is not a genome of this run (${names.join(', ')})")
    }
    return chosen
}

/*
 * Chromosome names of --sldp_chroms, as crossreg sldp-panel reads them: '1-22', 'chr1-chr3',
 * '1,2,X' (a range A-B of integers with the prefix of A).
 */
def sldpChroms(String text) {
    def names = []
    text.tokenize(',').collect { item -> item.trim() }.findAll { item -> item != '' }.each { item ->
        def dash = item.indexOf('-')
        if (dash < 0) {
            names << item.toString()
        }
        else {
            def low = item.substring(0, dash)
            def high = item.substring(dash + 1)
            def prefix = low.replaceAll(/\d+$/, '')
            def first = low.substring(prefix.length())
            def last = high.startsWith(prefix) ? high.substring(prefix.length()) : high
            if (!(first ==~ /\d+/) || !(last ==~ /\d+/) || (first as Integer) > (last as Integer)) {
                error("crossreg: sldp_chroms: cannot read the range '${item}' (expected e.g. 1-22 or chr1-chr5)")
            }
            ((first as Integer)..(last as Integer)).each { k -> names << "${prefix}${k}".toString() }
        }
    }
    if (!names) {
        error("crossreg: sldp_chroms: no chromosomes in '${text}'")
    }
    return names.withIndex().findAll { name, i -> names.indexOf(name) == i }.collect { name, _i -> name }
}

/*
 * The PLINK files of a panel prefix: <prefix><chrom>.bed/.bim/.fam of every chromosome of
 * `chroms`, each checked to exist, and the part of the prefix after its folder (the name the
 * task gives after panel/).
 */
def sldpPanel(String prefix, String chroms) {
    def files = sldpChroms(chroms).collectMany { chrom -> ['bed', 'bim', 'fam'].collect { ext -> file("${prefix}${chrom}.${ext}", checkIfExists: true) } }
    return tuple(files, prefix.endsWith('/') ? '' : prefix.tokenize('/').last())
}

/*
 * One row of a phenotype sheet (--sldp_eqtl: phenotype,pairs; --sldp_sumstats:
 * phenotype,sumstats): [ phenotype, file ]; the phenotype names files.
 */
def phenotypeRecord(Map row, String column, String sheet) {
    if (!row.phenotype || !row[column]) {
        error("crossreg: ${sheet}: row ${row}: columns 'phenotype' and '${column}' are required (columns: phenotype,${column})")
    }
    if (!(row.phenotype ==~ /[A-Za-z0-9_.-]+/)) {
        error("crossreg: ${sheet}: phenotype '${row.phenotype}': use letters, digits, '_', '-' and '.' (it names files)")
    }
    return tuple(row.phenotype as String, file(row[column] as String, checkIfExists: true))
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
        world_panel = SIMULATED_WORLD.out.ld_panel
        world_panel_snps = SIMULATED_WORLD.out.panel_snps
        world_eqtl = SIMULATED_WORLD.out.eqtl
        world_gtf = SIMULATED_WORLD.out.genes_gtf
        world_denovo = SIMULATED_WORLD.out.denovo
    }
    else {
        chain_sheets = params.chains ? [file(params.chains, checkIfExists: true)] : []
        SAMPLESHEET_INPUT(file(params.input, checkIfExists: true), chain_sheets)
        genomes = SAMPLESHEET_INPUT.out.genomes
        chains = SAMPLESHEET_INPUT.out.chains
        tss = SAMPLESHEET_INPUT.out.tss
        world_variants = channel.empty()
        world_panel = channel.empty()
        world_panel_snps = channel.empty()
        world_eqtl = channel.empty()
        world_gtf = channel.empty()
        world_denovo = channel.empty()
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

    // SLDP: --sldp_panel (with --sldp_chroms, --sldp_blocks, --sldp_snps_vcf and phenotypes), else
    // the simulated world's human panel, SNPs, eQTL tissues and genes; a param given overrides
    // the world's file. The genome of the panel and of the de novo table: --sldp_genome,
    // --denovo_genome, else the simulated world's (human), else the only genome
    world_genome = params.simulate_preset ? 'human' : ''
    sldp_heads = (params.sldp_heads ?: '').tokenize(',').collect { head -> head.trim() }.findAll { head -> head != '' }
    print_snps = params.sldp_print_snps ? [file(params.sldp_print_snps, checkIfExists: true)] : []
    given_gtf = params.sldp_gtf ? [file(params.sldp_gtf, checkIfExists: true)] : []
    given_eqtl = params.sldp_eqtl
        ? channel.fromPath(params.sldp_eqtl, checkIfExists: true).splitCsv(header: true, strip: true).map { row -> phenotypeRecord(row as Map, 'pairs', params.sldp_eqtl) }
        : channel.empty()
    sldp_sumstats = params.run_sldp && params.sldp_sumstats
        ? channel.fromPath(params.sldp_sumstats, checkIfExists: true).splitCsv(header: true, strip: true).map { row -> phenotypeRecord(row as Map, 'sumstats', params.sldp_sumstats) }
        : channel.empty()
    if (params.run_sldp && params.sldp_panel) {
        if (!params.sldp_chroms) {
            error("crossreg: --sldp_panel is set: give --sldp_chroms too (the panel's chromosomes, e.g. 1-22)")
        }
        if (!params.sldp_blocks && !params.simulate_preset) {
            error("crossreg: --sldp_panel is set: give --sldp_blocks too (the LD blocks BED)")
        }
        if (!params.sldp_snps_vcf && !params.simulate_preset) {
            error("crossreg: --sldp_panel is set: give --sldp_snps_vcf too (a VCF of the panel SNPs to score)")
        }
        if (!params.sldp_eqtl && !params.sldp_sumstats && !params.simulate_preset) {
            error("crossreg: sldp: no phenotypes; give --sldp_eqtl (phenotype,pairs) or --sldp_sumstats (phenotype,sumstats)")
        }
        given_panel = sldpPanel(params.sldp_panel, params.sldp_chroms)
        sldp_panel_files = channel.of(tuple(given_panel[0], given_panel[1], params.sldp_chroms))
    }
    else if (params.run_sldp && params.simulate_preset) {
        sldp_panel_files = world_panel.map { _genome, panel, chroms, _blocks -> tuple(panel, '', params.sldp_chroms ?: chroms) }
    }
    else {
        sldp_panel_files = channel.empty()
    }
    if (params.sldp_blocks) {
        sldp_blocks = channel.of(file(params.sldp_blocks, checkIfExists: true))
    }
    else {
        sldp_blocks = world_panel.map { _genome, _panel, _chroms, blocks -> blocks }
    }
    if (params.sldp_gtf) {
        sldp_gtf = channel.of(given_gtf)
    }
    else {
        sldp_gtf = world_gtf.toList().map { records -> records.collect { record -> record[1] }.take(1) }
    }
    sldp_panel = sldp_panel_files
        .combine(sldp_blocks)
        .combine(sldp_gtf.map { gtf -> [gtf] })
        .map { panel, panel_prefix, chroms, blocks, gtf -> tuple([id: 'panel'], panel, panel_prefix, chroms, blocks, print_snps, gtf) }
    if (params.sldp_snps_vcf) {
        snps_vcf_file = file(params.sldp_snps_vcf, checkIfExists: true)
        snps_vcf_index = ['tbi', 'csi'].collect { ext -> file("${params.sldp_snps_vcf}.${ext}") }.findAll { candidate -> candidate.exists() }
        sldp_snps_given = genome_names.map { names ->
            tuple(analysisGenome("sldp_snps_vcf ${params.sldp_snps_vcf}", 'sldp_genome', params.sldp_genome ?: world_genome, names), snps_vcf_file, snps_vcf_index)
        }
    }
    else {
        sldp_snps_given = world_panel_snps
            .map { genome, snps_vcf, index -> tuple('snps', genome, snps_vcf, index) }
            .join(genome_names.map { names -> tuple('snps', names) })
            .map { _key, genome, snps_vcf, index, names ->
                tuple(analysisGenome("sldp_snps_vcf ${snps_vcf}", 'sldp_genome', params.sldp_genome ?: genome, names as List), snps_vcf, index)
            }
    }
    // the SNPs are scored only when there is a panel
    sldp_snps = sldp_panel
        .map { _meta, _panel, _panel_prefix, _chroms, _blocks, _print_snps, _gtf -> 'sldp' }
        .combine(sldp_snps_given)
        .map { _key, genome, snps_vcf, index -> tuple(genome, snps_vcf, index) }
    // the eQTL phenotypes are aggregated only when there is a panel
    if (params.sldp_eqtl) {
        eqtl_records = given_eqtl
    }
    else {
        eqtl_records = world_eqtl.map { _genome, tissue, pairs -> tuple(tissue, pairs) }
    }
    sldp_eqtl = sldp_panel
        .map { _meta, _panel, _panel_prefix, _chroms, _blocks, _print_snps, _gtf -> 'sldp' }
        .combine(eqtl_records)
        .map { _key, phenotype, pairs -> tuple(phenotype, pairs) }

    // de novo variants: --denovo_table, else the simulated world's human denovo.tsv
    if (params.run_denovo && params.denovo_table) {
        denovo_file = file(params.denovo_table, checkIfExists: true)
        denovo = genome_names.map { names -> tuple(analysisGenome("denovo_table ${params.denovo_table}", 'denovo_genome', params.denovo_genome ?: world_genome, names), denovo_file) }
    }
    else if (params.run_denovo && params.simulate_preset) {
        denovo = world_denovo
            .map { genome, table -> tuple('denovo', genome, table) }
            .join(genome_names.map { names -> tuple('denovo', names) })
            .map { _key, genome, table, names ->
                tuple(analysisGenome("denovo_table ${table}", 'denovo_genome', params.denovo_genome ?: genome, names as List), table)
            }
    }
    else {
        denovo = channel.empty()
    }
    denovo_groups = params.denovo_groups ? [file(params.denovo_groups, checkIfExists: true)] : []
    denovo_heads = params.denovo_head ? [params.denovo_head.trim()] : []
    if (params.denovo_ism_top < 0) {
        error("crossreg: --denovo_ism_top must be 0 (no ISM) or more, got ${params.denovo_ism_top}")
    }

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
        sldp_panel,
        sldp_snps,
        sldp_eqtl,
        sldp_sumstats,
        sldp_heads,
        params.sldp_background,
        denovo,
        denovo_groups,
        denovo_heads,
        params.denovo_ism_top > 0,
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
