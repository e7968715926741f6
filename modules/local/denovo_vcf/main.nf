process CROSSREG_DENOVO_VCF {
    tag "${meta.id}"
    label 'process_single'

    input:
    // a de novo variants table (TSV: family_id individual_id role chrom pos ref alt) on genome
    // meta.id, and that genome's reference FASTA (+ its index; REF alleles are checked against it)
    tuple val(meta), path(table, stageAs: 'input/*'), path(fasta), path(fasta_index, arity: '1..*')

    output:
    // the table's distinct SNP sites as a bgzip VCF with its tabix index: scored by score-variants
    tuple val(meta), path("${prefix}.vcf.gz"), path("${prefix}.vcf.gz.tbi"), emit: vcf
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: 'sites'
    """
    crossreg denovo-vcf \\
        --table ${table} \\
        --fasta ${fasta} \\
        ${args} \\
        --out ${prefix}.vcf.gz
    """

    stub:
    prefix = task.ext.prefix ?: 'sites'
    """
    printf '##fileformat=VCFv4.2\\n#CHROM\\tPOS\\tID\\tREF\\tALT\\tQUAL\\tFILTER\\tINFO\\n' | gzip -c > ${prefix}.vcf.gz
    touch ${prefix}.vcf.gz.tbi
    """
}
