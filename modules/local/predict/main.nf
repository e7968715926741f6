process CROSSREG_PREDICT {
    tag "${meta.id}"
    label 'process_gpu'

    input:
    // windows of a shard split (manifest + shards, windows_bed []) or of a windows BED over fasta;
    // meta.id names the model head (head_<genome> in the model's params)
    tuple val(meta), path(model_dir, stageAs: 'model'), path(manifest, stageAs: 'shards/*', arity: '0..1'), path(shards, stageAs: 'shards/*', arity: '0..*'), path(windows_bed, arity: '0..1'), path(fasta, arity: '0..1'), path(fasta_index, arity: '0..*')

    output:
    tuple val(meta), path("${prefix}.preds.h5"), emit: predictions
    tuple val(meta), path("${prefix}.bigwig/*.bw"), optional: true, emit: bigwig
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def manifest_arg = manifest ? "--manifest ${manifest}" : ''
    def windows_arg = windows_bed ? "--windows-bed ${windows_bed}" : ''
    def fasta_arg = fasta ? "--fasta ${fasta}" : ''
    """
    crossreg predict \\
        --model-dir ${model_dir} \\
        --genome ${meta.id} \\
        ${manifest_arg} \\
        ${windows_arg} \\
        ${fasta_arg} \\
        ${args} \\
        --bigwig-dir ${prefix}.bigwig \\
        --out ${prefix}.preds.h5
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.preds.h5
    """
}
