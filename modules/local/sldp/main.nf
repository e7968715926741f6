process CROSSREG_SLDP {
    tag "${meta.id}:${meta.phenotype}"
    label 'process_medium'

    input:
    // one phenotype (meta.phenotype; its summary statistics 'SNP A1 A2 Z N', text, .gz or
    // .parquet) regressed on the signed LD profiles of one head's tracks (meta.id is the head):
    // scattered, one task per (head, phenotype); the panel cache the profiles were made on
    tuple val(meta), path(cache, stageAs: 'panel_cache'), path(profiles, stageAs: 'input/*'), path(sumstats, stageAs: 'input/sumstats/*')

    output:
    // one row per track (mu, se, z, p, rf, h2g, ...), and the allele reconciliation, heritability
    // and settings beside it (.tsv.json): gathered per head by sldp-gather
    tuple val(meta), path("${prefix}.tsv"), emit: results
    tuple val(meta), path("${prefix}.tsv.json"), emit: json
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.phenotype}"
    """
    crossreg sldp \\
        --panel-cache ${cache} \\
        --profiles ${profiles} \\
        --sumstats ${sumstats} \\
        --phenotype ${meta.phenotype} \\
        ${args} \\
        --out ${prefix}.tsv
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.phenotype}"
    """
    printf 'phenotype\\tannotation\\tmu\\tse\\tz\\tp\\trf\\n' > ${prefix}.tsv
    echo '{}' > ${prefix}.tsv.json
    """
}
