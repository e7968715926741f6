process CROSSREG_SLDP_GATHER {
    tag "${meta.id}"
    label 'process_single'

    input:
    // every phenotype's sldp table of one head (meta.id), in any order, and the head's score
    // HDF5 of the panel SNPs (its track descriptions label the rows)
    tuple val(meta), path(tables, stageAs: 'input/*', arity: '1..*'), path(scores, stageAs: 'input/scores/*')

    output:
    // every track x phenotype test with Benjamini-Hochberg q (results.tsv), the signed z matrix
    // (z.tsv), the heat map and cluster plots (PNG), the track clusters (2+ tracks) and summary.json
    tuple val(meta), path('results.tsv'), emit: results
    tuple val(meta), path('z.tsv'), emit: z
    tuple val(meta), path('*.png', arity: '1..*'), emit: plots
    tuple val(meta), path('clusters.tsv'), emit: clusters, optional: true
    tuple val(meta), path('summary.json'), emit: summary
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def inputs = tables.collect { table -> "${table}" }.join(' ')
    """
    crossreg sldp-gather \\
        --in ${inputs} \\
        --scores ${scores} \\
        ${args} \\
        --out-dir .
    """

    stub:
    """
    printf 'phenotype\\tannotation\\tdescription\\tz\\tp\\tq\\n' > results.tsv
    printf 'annotation\\n' > z.tsv
    touch z_heatmap.png z_clusters.png
    printf 'track\\tcluster\\torder\\n' > clusters.tsv
    echo '{}' > summary.json
    """
}
