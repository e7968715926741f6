process CROSSREG_DENOVO {
    tag "${meta.id}"
    label 'process_low'

    input:
    // de novo variants of cases and their sibling controls (the table of denovo-vcf) scored with
    // one head (meta.id; scores: gather-scores of the table's sites), the FASTA of the genome the
    // table is on (+ its index: REF alleles checked again, ISM regions bounded) and the track
    // groups (TSV 'identifier group', or [] for the group rules of task.ext.args / the defaults)
    tuple val(meta), path(table, stageAs: 'input/*'), path(scores, stageAs: 'input/scores/*'), path(fasta), path(fasta_index, arity: '1..*'), path(groups, stageAs: 'input/groups/*', arity: '0..1')

    output:
    // per track (MWU, q, effect), per group, the PCA of variants, the family test, the records
    // excluded and why; the top case variants with their ISM regions; the figures; summary.json
    tuple val(meta), path('tracks.tsv'), path('groups.tsv'), path('pca.tsv'), path('families.tsv'), path('exclusions.tsv'), emit: tables
    tuple val(meta), path('top_variants.tsv'), emit: top_variants
    tuple val(meta), path('*.png', arity: '1..*'), emit: plots
    tuple val(meta), path('summary.json'), emit: summary
    tuple val("${task.process}"), val('crossreg'), eval('crossreg --version | sed "s/^crossreg //"'), emit: versions_crossreg, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def groups_arg = groups ? "--groups ${groups}" : ''
    """
    crossreg denovo \\
        --table ${table} \\
        --scores ${scores} \\
        --fasta ${fasta} \\
        ${groups_arg} \\
        ${args} \\
        --threads ${task.cpus} \\
        --outdir .
    """

    stub:
    """
    for name in tracks groups pca families exclusions; do printf 'stub\\n' > \$name.tsv; done
    printf 'chrom\\tpos\\tref\\talt\\tindividual\\tfamily\\tscore\\tism_region\\n' > top_variants.tsv
    touch effect_vs_significance.png families.png
    echo '{}' > summary.json
    """
}
