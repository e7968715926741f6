process CROSSREG_SLDP_PROFILES {
    tag "${meta.id}"
    label 'process_medium'

    input:
    // the panel cache (sldp-panel) and one head's scores of the panel SNPs (gather-scores;
    // meta.id is the head). The background annotations (MAF bins, and with a GTF coding, UTR and
    // intron classes) need the panel's genotypes: panel (<panel_prefix><chrom>.bed/.bim/.fam,
    // staged into panel/) and gtf; with `--no-background` in task.ext.args give [] for both
    tuple val(meta), path(cache, stageAs: 'panel_cache'), path(scores, stageAs: 'input/*'), path(panel, stageAs: 'panel/*', arity: '0..*'), val(panel_prefix), path(gtf, stageAs: 'input/gtf/*', arity: '0..1')

    output:
    // signed LD profiles of every track (and the background): read by sldp
    tuple val(meta), path("${prefix}.npz"), emit: profiles
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: 'profiles'
    def panel_arg = panel ? "--panel panel/${panel_prefix}" : ''
    def gtf_arg = gtf ? "--background-gtf ${gtf}" : ''
    """
    crossreg sldp-profiles \\
        --panel-cache ${cache} \\
        --scores ${scores} \\
        ${panel_arg} \\
        ${gtf_arg} \\
        ${args} \\
        --out ${prefix}.npz
    """

    stub:
    prefix = task.ext.prefix ?: 'profiles'
    """
    touch ${prefix}.npz
    """
}
