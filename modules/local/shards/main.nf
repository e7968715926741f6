process CROSSREG_SHARDS {
    tag "${meta.id}:chunk${meta.chunk}"
    label 'process_medium'

    input:
    // one task per chunk of a genome's shard plan: meta.chunk in 0..meta.chunks-1
    tuple val(meta), path(fasta), path(fasta_index, arity: '1..*'), path(targets, stageAs: 'input/*'), path(bigwigs, stageAs: 'tracks/*', arity: '1..*'), path(blacklist, stageAs: 'blacklist??/*', arity: '0..*'), path(unmappable, stageAs: 'unmappable??/*', arity: '0..*'), path(windows), path(baselines)

    output:
    // the chunk's shards (<genome>-<split>-<k>.h5) and its report (chunk-<i>-of-<n>.json)
    tuple val(meta), path("${prefix}/*"), emit: shards
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.chunk${meta.chunk}"
    def masks = (blacklist.collect { bed -> "--blacklist ${bed}" } + unmappable.collect { bed -> "--unmappable ${bed}" }).join(' ')
    """
    # the bigWigs were staged into tracks/: point the table's file column there
    awk -F '\\t' -v OFS='\\t' '
        /^#/ || NF == 0 { print; next }
        !col { for (i = 1; i <= NF; i++) if (\$i == "file") col = i; print; next }
        { n = split(\$col, part, "/"); \$col = "tracks/" part[n]; print }
    ' ${targets} > targets.txt

    crossreg shards \\
        --genome ${meta.id} \\
        --fasta ${fasta} \\
        --targets targets.txt \\
        ${masks} \\
        --windows ${windows} \\
        --baselines ${baselines} \\
        ${args} \\
        --chunk ${meta.chunk} \\
        --of ${meta.chunks} \\
        --out-dir ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.chunk${meta.chunk}"
    """
    mkdir -p ${prefix}
    touch ${prefix}/${meta.id}-train-${meta.chunk}.h5
    echo '{}' > ${prefix}/chunk-${meta.chunk}-of-${meta.chunks}.json
    """
}
