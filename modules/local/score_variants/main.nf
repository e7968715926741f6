process CROSSREG_SCORE_VARIANTS {
    tag "${meta.id}:chunk${meta.chunk}"
    label 'process_gpu'

    input:
    // one task per chunk of a VCF's SNP list (meta.chunk in 0..meta.chunks-1), scored with the
    // model's head meta.id (any head may score any genome's variants). The VCF is on genome
    // meta.vcf_genome: fasta (+ its index) is that genome's reference; vcf_index (.tbi/.csi, or [])
    // is staged beside the VCF; manifest is the head genome's shard manifest.json (only its track
    // identifiers and descriptions are read: its shards are not needed)
    tuple val(meta), path(model_dir, stageAs: 'model'), path(fasta), path(fasta_index, arity: '1..*'), path(vcf, stageAs: 'input/*'), path(vcf_index, stageAs: 'input/*', arity: '0..*'), path(manifest, stageAs: 'input/manifest/*')

    output:
    // the chunk's scores (chunk-<i>-of-<n>.h5), for gather-scores
    tuple val(meta), path("${prefix}.h5"), emit: scores
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "chunk-${meta.chunk}-of-${meta.chunks}"
    """
    crossreg score-variants \\
        --model-dir ${model_dir} \\
        --head ${meta.id} \\
        --fasta ${fasta} \\
        --vcf ${vcf} \\
        --manifest ${manifest} \\
        ${args} \\
        --chunk ${meta.chunk} \\
        --of ${meta.chunks} \\
        --out ${prefix}.h5
    """

    stub:
    prefix = task.ext.prefix ?: "chunk-${meta.chunk}-of-${meta.chunks}"
    """
    touch ${prefix}.h5
    """
}
