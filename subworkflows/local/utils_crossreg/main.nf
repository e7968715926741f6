/*
 * Functions shared by the input subworkflows: one genome record from its files.
 *
 * A genome record (the channel shape every step reads from):
 *   [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
 *   meta        [ id: genome name ]
 *   fasta       FASTA, plain or bgzip
 *   fasta_index [ .fai ] or [ .fai, .gzi ] (bgzip), staged beside the FASTA
 *   targets     targets table (targets.txt)
 *   bigwigs     every bigWig the table names (staged into tracks/ by the modules)
 *   blacklist   [ BED, ... ] (may be empty)
 *   unmappable  [ BED, ... ] (may be empty)
 *   windows_bed [ ready-made windows BED with folds ], or [] (windows from crossreg split)
 */

def fastaIndex(fasta) {
    def fai = fasta.resolveSibling("${fasta.name}.fai")
    if (!fai.exists()) {
        error("crossreg: FASTA ${fasta} has no index ${fai.name} beside it (samtools faidx)")
    }
    def gzi = fasta.resolveSibling("${fasta.name}.gzi")
    // a bgzip FASTA without its .gzi still opens: htslib rebuilds the .gzi in the task folder
    return gzi.exists() ? [fai, gzi] : [fai]
}

def targetBigwigs(targets) {
    def rows = targets.readLines().findAll { line -> line.trim() && !line.startsWith('#') }.toList()
    if (rows.size() < 2) {
        error("crossreg: targets table ${targets}: expected a header line and one row per track")
    }
    def header = rows.first().split('\t', -1).collect { name -> name.trim() }
    def column = header.indexOf('file')
    if (column < 0) {
        error("crossreg: targets table ${targets}: no 'file' column in the header ${header}")
    }
    return rows.drop(1).collect { line ->
        def name = line.split('\t', -1)[column].trim()
        name.startsWith('/') || name.contains('://') ? file(name, checkIfExists: true) : file(targets.resolveSibling(name).toString(), checkIfExists: true)
    }
}

def genomeRecord(id, fasta, targets, blacklist, unmappable, windows_bed) {
    return tuple([id: id], fasta, fastaIndex(fasta), targets, targetBigwigs(targets), blacklist, unmappable, windows_bed)
}

/*
 * Natural order of chromosome names: by the text before the trailing number, then by the number
 * (chr2 before chr10); names without a trailing number after the numbered ones of their prefix.
 */
def naturalOrder(String a, String b) {
    def digits_a = (a =~ /\d+$/).find() ? (a =~ /\d+$/)[0] as String : ''
    def digits_b = (b =~ /\d+$/).find() ? (b =~ /\d+$/)[0] as String : ''
    def stem_a = a.substring(0, a.length() - digits_a.length())
    def stem_b = b.substring(0, b.length() - digits_b.length())
    if (stem_a != stem_b) {
        return stem_a <=> stem_b
    }
    if (digits_a && digits_b) {
        return digits_a.toLong() <=> digits_b.toLong()
    }
    return digits_a ? -1 : (digits_b ? 1 : 0)
}
