/*
 * Genomes from a samplesheet and chains from a chain sheet (CSV files, one header line).
 *
 * samplesheet: genome,fasta,targets,blacklist,unmappable,windows,tss
 *   blacklist and unmappable: empty, one BED, or several separated by ';'
 *   windows: empty (windows from the orthology-aware split) or a windows BED with folds
 *   tss (optional column): empty, or a TSS BED/GTF of the genome's genes (gene-level evaluation)
 * chain sheet: target,query,chain (UCSC chain aligning genome target to genome query)
 * Paths are absolute, URLs, or relative to the launch folder.
 */

include { genomeRecord } from '../utils_crossreg'

def bedList(text) {
    return text ? text.tokenize(';').collect { bed -> file(bed.trim(), checkIfExists: true) } : []
}

def samplesheetGenome(row) {
    ['genome', 'fasta', 'targets'].each { column ->
        if (!row[column]) {
            error("crossreg: samplesheet row ${row}: column '${column}' is required")
        }
    }
    return genomeRecord(
        row.genome,
        file(row.fasta, checkIfExists: true),
        file(row.targets, checkIfExists: true),
        bedList(row.blacklist),
        bedList(row.unmappable),
        row.windows ? [file(row.windows, checkIfExists: true)] : [],
    )
}

// [ [ genome, tss ] ] of a row with a tss, else []
def tssRecords(row) {
    return row.tss ? [tuple(row.genome, file(row.tss, checkIfExists: true))] : []
}

def chainRecord(row) {
    ['target', 'query', 'chain'].each { column ->
        if (!row[column]) {
            error("crossreg: chain sheet row ${row}: column '${column}' is required")
        }
    }
    return tuple(row.target, row.query, file(row.chain, checkIfExists: true))
}

workflow SAMPLESHEET_INPUT {
    take:
    samplesheet // path: genome samplesheet (CSV)
    chain_sheets // list: [ chain sheet (CSV) ], or [] for none

    main:
    rows = channel.fromPath(samplesheet)
        .splitCsv(header: true, strip: true)
    genomes = rows
        .map { row -> samplesheetGenome(row as Map) }
    tss = rows
        .flatMap { row -> tssRecords(row as Map) }
    chains = channel.fromList(chain_sheets)
        .splitCsv(header: true, strip: true)
        .map { row -> chainRecord(row as Map) }

    // one row per genome
    genomes
        .map { meta, _fasta, _fasta_index, _targets, _bigwigs, _blacklist, _unmappable, _windows_bed -> meta.id }
        .toList()
        .map { ids ->
            def names = ids as List
            def repeated = names.findAll { id -> names.findAll { other -> other == id }.size() > 1 }.toSet()
            if (repeated) {
                error("crossreg: samplesheet ${samplesheet}: genome(s) ${repeated} listed more than once")
            }
        }

    emit:
    genomes = genomes // channel: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
    chains  = chains  // channel: [ target, query, chain ]
    tss     = tss     // channel: [ genome, tss ] (rows with a tss)
}
