process CROSSREG_WINDOWS {
    tag "${meta.id}"
    label 'process_single'

    input:
    // folds (from crossreg split) or windows_bed (ready-made windows with folds): one of the two, the other []
    tuple val(meta), path(fasta), path(fasta_index, arity: '1..*'), path(folds, arity: '0..1'), path(windows_bed, stageAs: 'input/*', arity: '0..1'), path(blacklist, stageAs: 'blacklist??/*', arity: '0..*'), path(unmappable, stageAs: 'unmappable??/*', arity: '0..*')

    output:
    tuple val(meta), path("${prefix}.windows.bed"), emit: windows
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def source = windows_bed ? "--windows-bed ${windows_bed}" : "--folds ${folds}"
    def masks = (blacklist.collect { bed -> "--blacklist ${bed}" } + unmappable.collect { bed -> "--unmappable ${bed}" }).join(' ')
    """
    crossreg windows \\
        --genome ${meta.id} \\
        --fasta ${fasta} \\
        ${masks} \\
        ${source} \\
        ${args} \\
        --out ${prefix}.windows.bed
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    printf '#chrom\\tstart\\tend\\tfold\\tn_fraction\\tmasked_fraction\\n' > ${prefix}.windows.bed
    """
}
