process CROSSREG_SLDP_AGGREGATE {
    tag "${meta.id}"
    label 'process_single'

    input:
    // one phenotype's per-gene eQTL statistics (TSV 'gene SNP A1 A2 Z N', or slope and slope_se
    // instead of Z; plain or gzip); meta.id is the phenotype (the tissue)
    tuple val(meta), path(pairs, stageAs: 'input/*')

    output:
    // per-SNP summary statistics (SNP A1 A2 Z N): the phenotype of sldp
    tuple val(meta), path("${prefix}.sumstats.gz"), emit: sumstats
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    crossreg sldp-aggregate \\
        --pairs ${pairs} \\
        ${args} \\
        --out ${prefix}.sumstats.gz
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    printf 'SNP\\tA1\\tA2\\tZ\\tN\\n' | gzip -c > ${prefix}.sumstats.gz
    """
}
