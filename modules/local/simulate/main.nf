process CROSSREG_SIMULATE {
    tag "${meta.id}"
    label 'process_low'

    input:
    tuple val(meta), path(overrides, arity: '0..1')

    output:
    tuple val(meta), path("${prefix}", type: 'dir'), emit: world
    tuple val(meta), path("${prefix}.summary.json"), emit: summary
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def overrides_arg = overrides ? "--params ${overrides}" : ''
    """
    crossreg simulate \\
        ${args} \\
        ${overrides_arg} \\
        --out ${prefix} \\
        > ${prefix}.summary.json
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    # a two-genome world with the simulator's layout: every file downstream steps read
    mkdir -p ${prefix}/alignment
    for genome in human mouse; do
        mkdir -p ${prefix}/\$genome/tracks
        touch ${prefix}/\$genome/genome.fa.gz ${prefix}/\$genome/genome.fa.gz.fai ${prefix}/\$genome/genome.fa.gz.gzi
        touch ${prefix}/\$genome/blacklist.bed ${prefix}/\$genome/unmappable.bed ${prefix}/\$genome/tracks/DNASE_liver.bw
        printf 'index\\tgenome\\tidentifier\\tfile\\tclip\\tclip_soft\\tscale\\tsum_stat\\tdescription\\n' > ${prefix}/\$genome/targets.txt
        printf '0\\t%s\\tDNASE_liver\\ttracks/DNASE_liver.bw\\t384\\t32\\t1\\tsum\\tDNASE:liver\\n' \$genome >> ${prefix}/\$genome/targets.txt
    done
    touch ${prefix}/alignment/human_to_mouse.chain
    echo '{}' > ${prefix}/simulation.json
    echo '{}' > ${prefix}.summary.json
    """
}
