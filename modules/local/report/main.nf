process CROSSREG_REPORT {
    tag "${meta.id}"
    label 'process_single'

    input:
    // evaluation folders (crossreg evaluate), and training runs: train_labels[i] names train_dirs[i]
    // (its history curves; none when a trained model was given)
    tuple val(meta), path(evaluations, stageAs: 'evaluation??/*', arity: '1..*'), val(train_labels), path(train_dirs, stageAs: 'train??/*', arity: '0..*')

    output:
    // one self-contained HTML page
    tuple val(meta), path("${prefix}.html"), emit: report
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def evaluation_args = evaluations.collect { folder -> "--evaluation ${folder}" }.join(' ')
    def train_args = train_labels.withIndex().collect { label, i -> "--train-dir ${label}=${train_dirs[i]}" }.join(' ')
    """
    crossreg report \\
        ${evaluation_args} \\
        ${train_args} \\
        ${args} \\
        --out ${prefix}.html
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo '<!DOCTYPE html><html><head><title>crossreg report</title></head><body></body></html>' > ${prefix}.html
    """
}
