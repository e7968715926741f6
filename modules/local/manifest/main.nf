process CROSSREG_MANIFEST {
    tag "${meta.id}"
    label 'process_low'

    input:
    // shards: the files of every chunk of the genome (shards and chunk reports), gathered into shards/
    tuple val(meta), path(fasta), path(fasta_index, arity: '1..*'), path(targets, stageAs: 'input/*'), path(bigwigs, stageAs: 'tracks/*', arity: '1..*'), path(blacklist, stageAs: 'blacklist??/*', arity: '0..*'), path(unmappable, stageAs: 'unmappable??/*', arity: '0..*'), path(windows), path(baselines), path(shards, stageAs: 'shards/*', arity: '1..*')

    output:
    // written beside the shards; readers resolve shard files relative to it
    tuple val(meta), path('shards/manifest.json'), emit: manifest
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def masks = (blacklist.collect { bed -> "--blacklist ${bed}" } + unmappable.collect { bed -> "--unmappable ${bed}" }).join(' ')
    """
    # the bigWigs were staged into tracks/: point the table's file column there
    awk -F '\\t' -v OFS='\\t' '
        /^#/ || NF == 0 { print; next }
        !col { for (i = 1; i <= NF; i++) if (\$i == "file") col = i; print; next }
        { n = split(\$col, part, "/"); \$col = "tracks/" part[n]; print }
    ' ${targets} > targets.txt

    crossreg manifest \\
        --genome ${meta.id} \\
        --fasta ${fasta} \\
        --targets targets.txt \\
        ${masks} \\
        --windows ${windows} \\
        --baselines ${baselines} \\
        ${args} \\
        --shard-dir shards
    """

    stub:
    """
    mkdir -p shards
    echo '{}' > shards/manifest.json
    """
}
