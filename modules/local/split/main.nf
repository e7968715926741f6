process CROSSREG_SPLIT {
    tag "${meta.id}"
    label 'process_low'

    input:
    // genomes[i] names fastas[i] and fais[i]; each genome's FASTA and .fai share one folder
    // (genome01/, genome02/, ...) so that equal file names from different genomes cannot collide.
    // chain_pairs[i] is 'TARGET:QUERY' for chains[i]; no chains gives a contiguous split.
    tuple val(meta), val(genomes), path(fastas, stageAs: 'genome??/*', arity: '1..*'), path(fais, stageAs: 'genome??/*', arity: '1..*'), val(chain_pairs), path(chains, stageAs: 'chain??/*', arity: '0..*')

    output:
    tuple val(meta), path("${prefix}/*.folds.bed", arity: '1..*'), emit: folds
    tuple val(meta), path("${prefix}/split_report.json"), emit: report
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def genome_args = genomes.withIndex().collect { name, i -> "--genome ${name}=${fastas[i]}" }.join(' ')
    def chain_args = chain_pairs.withIndex().collect { pair, i -> "--chain ${pair}:${chains[i]}" }.join(' ')
    """
    crossreg split \\
        ${genome_args} \\
        ${chain_args} \\
        ${args} \\
        --out-dir ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    def touch_folds = genomes.collect { name -> "touch ${prefix}/${name}.folds.bed" }.join('\n')
    """
    mkdir -p ${prefix}
    ${touch_folds}
    echo '{}' > ${prefix}/split_report.json
    """
}
