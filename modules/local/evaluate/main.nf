process CROSSREG_EVALUATE {
    tag "${meta.id}"
    label 'process_gpu'

    input:
    // a model and the genomes it is evaluated on: genomes[i] names manifests[i]; shards holds the
    // shard files of every genome, linked with its manifest into shards/<genome>/ (as for training).
    // tss_genomes[i] names tss[i] (TSS BED/GTF: gene-level evaluation; none: track level only);
    // track_matches: matched tracks across genomes (cross-species transfer; [] for none)
    tuple val(meta), path(model_dir, stageAs: 'model'), val(genomes), path(manifests, stageAs: 'input/manifest??/*', arity: '1..*'), path(shards, stageAs: 'input/shards??/*', arity: '1..*'), val(tss_genomes), path(tss, stageAs: 'input/tss??/*', arity: '0..*'), path(track_matches, stageAs: 'input/matches/*', arity: '0..1')

    output:
    // tables (TSV), plots (PNG) and summary.json
    tuple val(meta), path("${prefix}", type: 'dir'), emit: evaluation
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def layout = genomes.withIndex().collect { genome, i ->
        def own = shards.findAll { shard -> shard.toString().tokenize('/').last().startsWith("${genome}-") }
        def links = own.collect { shard -> "../../${shard}" }.join(' ')
        "mkdir -p shards/${genome}\n    ln -s ../../${manifests[i]} shards/${genome}/manifest.json" + (own ? "\n    ln -s ${links} shards/${genome}/" : '')
    }.join('\n    ')
    def manifest_args = genomes.collect { genome -> "--manifest ${genome}=shards/${genome}/manifest.json" }.join(' ')
    def tss_args = tss_genomes.withIndex().collect { genome, i -> "--tss ${genome}=${tss[i]}" }.join(' ')
    def matches_arg = track_matches ? "--track-matches ${track_matches}" : ''
    """
    # shards/<genome>/: the genome's manifest beside its shards
    ${layout}

    crossreg evaluate \\
        --model-dir ${model_dir} \\
        ${manifest_args} \\
        ${tss_args} \\
        ${matches_arg} \\
        ${args} \\
        --out ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p ${prefix}
    printf 'genome\\tidentifier\\tassay\\tpearson_r\\n' > ${prefix}/tracks.tsv
    echo '{}' > ${prefix}/summary.json
    """
}
