process CROSSREG_ISM {
    tag "${meta.id}"
    label 'process_gpu'

    input:
    // in-silico saturation mutagenesis with the model's head meta.id of the first regions of a
    // table with an ism_region column (crossreg denovo's top_variants.tsv; how many: `--top` in
    // task.ext.args) on the FASTA of the table's genome (+ its index); manifest is the head
    // genome's shard manifest.json (only its track names are read)
    tuple val(meta), path(model_dir, stageAs: 'model'), path(fasta), path(fasta_index, arity: '1..*'), path(regions, stageAs: 'input/*'), path(manifest, stageAs: 'input/manifest/*')

    output:
    // index.tsv (the regions run, with their files), and per region ism_<k>.h5 and ism_<k>.png
    // (none when the table has no rows)
    tuple val(meta), path('index.tsv'), emit: index
    tuple val(meta), path('ism_*.h5'), emit: ism, optional: true
    tuple val(meta), path('ism_*.png'), emit: plots, optional: true
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    """
    crossreg ism \\
        --model-dir ${model_dir} \\
        --head ${meta.id} \\
        --fasta ${fasta} \\
        --regions-table ${regions} \\
        --manifest ${manifest} \\
        ${args} \\
        --out-dir .
    """

    stub:
    """
    printf 'chrom\\tpos\\tism_region\\tism_h5\\tism_png\\n' > index.tsv
    touch ism_1.h5 ism_1.png
    """
}
