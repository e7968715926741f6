process CROSSREG_MATCH_TRACKS {
    tag "${meta.id}"
    label 'process_single'

    input:
    // genomes[i] names manifests[i] (at least two genomes); only the manifests' targets are read
    tuple val(meta), val(genomes), path(manifests, stageAs: 'input/manifest??/*', arity: '2..*')

    output:
    // genome_a identifier_a genome_b identifier_b: tracks of different genomes with one description
    tuple val(meta), path("${prefix}.tsv"), emit: matches
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def manifest_args = genomes.withIndex().collect { genome, i -> "--manifest ${genome}=${manifests[i]}" }.join(' ')
    """
    crossreg match-tracks \\
        ${manifest_args} \\
        ${args} \\
        --out ${prefix}.tsv
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    printf 'genome_a\\tidentifier_a\\tgenome_b\\tidentifier_b\\n' > ${prefix}.tsv
    """
}
