process CROSSREG_GATHER_SCORES {
    tag "${meta.id}"
    label 'process_single'

    input:
    // every chunk of one head's variant scores (chunk-<i>-of-<n>.h5 from score-variants), in any
    // order: gather-scores sorts them by the chunk index each records and checks that every one of
    // 0..n-1 is there exactly once. meta.id is the head.
    tuple val(meta), path(chunks, stageAs: 'input/*', arity: '1..*')

    output:
    // the head's scores of every SNP (HDF5) and the TSV of selected tracks
    tuple val(meta), path("${prefix}.h5"), emit: scores
    tuple val(meta), path("${prefix}.tsv"), emit: tsv
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: 'scores'
    def inputs = chunks.collect { chunk -> "${chunk}" }.join(' ')
    """
    crossreg gather-scores \\
        --in ${inputs} \\
        ${args} \\
        --out ${prefix}.h5 \\
        --tsv ${prefix}.tsv
    """

    stub:
    prefix = task.ext.prefix ?: 'scores'
    """
    touch ${prefix}.h5
    printf 'snp\\tchr\\tpos\\tref\\talt\\tflipped\\n' > ${prefix}.tsv
    """
}
