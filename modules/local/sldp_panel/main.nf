process CROSSREG_SLDP_PANEL {
    tag "${meta.id}"
    label 'process_medium'

    input:
    // a PLINK reference panel: <prefix><chrom>.bed/.bim/.fam of every chromosome of `chroms`
    // (e.g. 1-22, chr1,chr2), staged into panel/; panel_prefix is the part of the PLINK prefix after
    // its folder ('' for a folder of <chrom>.bed files, '1000G.EUR.' for 1000G.EUR.<chrom>.bed);
    // blocks: LD blocks (BED); print_snps: regression SNP ids, one per line ([]: every panel SNP)
    tuple val(meta), path(panel, stageAs: 'panel/*', arity: '3..*'), val(panel_prefix), val(chroms), path(blocks, stageAs: 'input/*'), path(print_snps, stageAs: 'input/print_snps/*', arity: '0..1')

    output:
    // the panel cache (LD-block eigenbases, LD scores, index.json): read by sldp-profiles and sldp
    tuple val(meta), path("${prefix}", type: 'dir'), emit: cache
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: 'panel_cache'
    def print_arg = print_snps ? "--print-snps ${print_snps}" : ''
    """
    crossreg sldp-panel \\
        --panel panel/${panel_prefix} \\
        --chroms ${chroms} \\
        --blocks ${blocks} \\
        ${print_arg} \\
        ${args} \\
        --out ${prefix}
    """

    stub:
    prefix = task.ext.prefix ?: 'panel_cache'
    """
    mkdir -p ${prefix}
    echo '{}' > ${prefix}/index.json
    """
}
