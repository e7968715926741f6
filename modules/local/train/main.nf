process CROSSREG_TRAIN {
    tag "${meta.id}"
    label 'process_gpu'

    input:
    // one network over every genome's shards: genomes[i] names manifests[i]; shards holds the
    // shard files of every genome. Each genome's manifest and its shards (<genome>-<split>-<k>.h5)
    // are linked into shards/<genome>/: a manifest names its shards relative to its own folder, and
    // every genome's manifest is called manifest.json. meta.id is the training mode (joint, single).
    tuple val(meta), path(params_json, stageAs: 'input/*'), val(genomes), path(manifests, stageAs: 'input/manifest??/*', arity: '1..*'), path(shards, stageAs: 'input/shards??/*', arity: '1..*')

    output:
    // the run folder (published whole), its best model and its history
    tuple val(meta), path("${prefix}", type: 'dir'), emit: run
    tuple val(meta), path("${prefix}/model_best", type: 'dir'), emit: model
    tuple val(meta), path("${prefix}/history.csv"), emit: history
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: 'train'
    def layout = genomes.withIndex().collect { genome, i ->
        def own = shards.findAll { shard -> shard.toString().tokenize('/').last().startsWith("${genome}-") }
        def links = own.collect { shard -> "../../${shard}" }.join(' ')
        "mkdir -p shards/${genome}\n    ln -s ../../${manifests[i]} shards/${genome}/manifest.json" + (own ? "\n    ln -s ${links} shards/${genome}/" : '')
    }.join('\n    ')
    def manifest_args = genomes.collect { genome -> "--manifest ${genome}=shards/${genome}/manifest.json" }.join(' ')
    """
    # shards/<genome>/: the genome's manifest beside its shards
    ${layout}

    crossreg train \\
        --params ${params_json} \\
        ${manifest_args} \\
        ${args} \\
        --out ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: 'train'
    """
    mkdir -p ${prefix}/model_best ${prefix}/model_last
    echo '{}' > ${prefix}/params.json
    echo '{}' > ${prefix}/model_best/params.json
    touch ${prefix}/model_best/model.weights.h5
    printf 'epoch,genome,train_loss,valid_loss,valid_pearson_mean\\n' > ${prefix}/history.csv
    """
}
