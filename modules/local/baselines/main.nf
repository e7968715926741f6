process CROSSREG_BASELINES {
    tag "${meta.id}"
    label 'process_medium'

    input:
    // bigwigs: every file the targets table names, staged flat into tracks/
    tuple val(meta), path(fasta), path(fasta_index, arity: '1..*'), path(targets, stageAs: 'input/*'), path(bigwigs, stageAs: 'tracks/*', arity: '1..*'), path(blacklist, stageAs: 'blacklist??/*', arity: '0..*'), path(unmappable, stageAs: 'unmappable??/*', arity: '0..*')

    output:
    tuple val(meta), path("${prefix}.baselines.tsv"), emit: baselines
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def masks = (blacklist.collect { bed -> "--blacklist ${bed}" } + unmappable.collect { bed -> "--unmappable ${bed}" }).join(' ')
    """
    # the bigWigs were staged into tracks/: point the table's file column there
    awk -F '\\t' -v OFS='\\t' '
        /^#/ || NF == 0 { print; next }
        !col { for (i = 1; i <= NF; i++) if (\$i == "file") col = i; print; next }
        { n = split(\$col, part, "/"); \$col = "tracks/" part[n]; print }
    ' ${targets} > targets.txt

    crossreg baselines \\
        --genome ${meta.id} \\
        --fasta ${fasta} \\
        --targets targets.txt \\
        ${masks} \\
        ${args} \\
        --out ${prefix}.baselines.tsv
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    printf 'identifier\\tbaseline\\n' > ${prefix}.baselines.tsv
    """
}
