process CROSSREG_REPORT {
    tag "${meta.id}"
    label 'process_single'

    input:
    // evaluation folders (crossreg evaluate), and training runs: train_labels[i] names train_dirs[i]
    // (its history curves; none when a trained model was given). The trait analyses arrive as files
    // (their tasks emit files, not folders), each staged on its own and linked back into the folder
    // crossreg report reads: sldp_files[i] into sldp/<sldp_folders[i]>/ (sldp-gather of a head:
    // results.tsv, summary.json, its PNGs), denovo_files[i] into denovo/<denovo_folders[i]>/ (denovo of
    // a head into <head>: tracks.tsv, groups.tsv, top_variants.tsv, summary.json, its PNGs; the ISM of
    // its top variants into <head>/ism: index.tsv, ism_<k>.png). Each top folder (sldp/<head>,
    // denovo/<head>) is one --sldp / --denovo; [] and [] for an analysis that did not run
    tuple val(meta), path(evaluations, stageAs: 'evaluation??/*', arity: '1..*'), val(train_labels), path(train_dirs, stageAs: 'train??/*', arity: '0..*'), val(sldp_folders), path(sldp_files, stageAs: 'input/sldp??/*', arity: '0..*'), val(denovo_folders), path(denovo_files, stageAs: 'input/denovo??/*', arity: '0..*')

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
    // sldp/<folder>/<file> -> input/sldpNN/<file>, denovo/<folder>/<file> -> input/denovoNN/<file>, per folder
    // (relative links: as many ../ as the link is deep)
    def sldp_layout = sldp_folders.collect { folder -> folder.toString() }.unique().collect { folder ->
        def up = '../' * (1 + folder.tokenize('/').size())
        def targets = sldp_files.withIndex().findAll { _staged, i -> sldp_folders[i].toString() == folder }.collect { staged, _i -> "${up}${staged}" }
        "mkdir -p sldp/${folder}\n    ln -s ${targets.join(' ')} sldp/${folder}/"
    }
    def denovo_layout = denovo_folders.collect { folder -> folder.toString() }.unique().collect { folder ->
        def up = '../' * (1 + folder.tokenize('/').size())
        def targets = denovo_files.withIndex().findAll { _staged, i -> denovo_folders[i].toString() == folder }.collect { staged, _i -> "${up}${staged}" }
        "mkdir -p denovo/${folder}\n    ln -s ${targets.join(' ')} denovo/${folder}/"
    }
    def layout = (sldp_layout + denovo_layout).join('\n    ')
    def sldp_args = sldp_folders.collect { folder -> folder.toString().tokenize('/')[0] }.unique().collect { head -> "--sldp sldp/${head}" }.join(' ')
    def denovo_args = denovo_folders.collect { folder -> folder.toString().tokenize('/')[0] }.unique().collect { head -> "--denovo denovo/${head}" }.join(' ')
    """
    # sldp/<head>/ and denovo/<head>/ (ism/ inside): each analysis's files together again
    ${layout}

    crossreg report \\
        ${evaluation_args} \\
        ${train_args} \\
        ${sldp_args} \\
        ${denovo_args} \\
        ${args} \\
        --out ${prefix}.html
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    // the page names the folders the report would show
    def folders = sldp_folders.collect { folder -> 'sldp/' + folder.toString().tokenize('/')[0] }.unique() + denovo_folders.collect { folder -> 'denovo/' + folder.toString().tokenize('/')[0] }.unique()
    """
    echo '<!DOCTYPE html><html><head><title>crossreg report</title></head><body><p>${folders.join(' ')}</p></body></html>' > ${prefix}.html
    """
}
