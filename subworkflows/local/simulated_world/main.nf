/*
 * The simulated two-species world (crossreg simulate) as pipeline input: its genomes in the
 * shape of the samplesheet's, its chains, its genomes' TSSs (<genome>/tss.bed) and variants
 * (<genome>/variants.vcf.gz with its .tbi: the simulator writes human's), and the population
 * files the simulator writes for human: the LD reference panel (ld_panel/<chrom>.bed/.bim/.fam,
 * ld_blocks.bed), its SNPs (panel_snps.vcf.gz), one eQTL table per tissue
 * (eqtl/<Tissue>.pairs.tsv.gz), the genes (genes.gtf) and de novo variants (denovo.tsv).
 */

include { CROSSREG_SIMULATE } from '../../../modules/local/simulate'
include { genomeRecord      } from '../utils_crossreg'
include { naturalOrder      } from '../utils_crossreg'

workflow SIMULATED_WORLD {
    take:
    world_request // channel: [ meta, overrides ] (overrides: YAML/JSON of simulator knobs, or [])

    main:
    CROSSREG_SIMULATE(world_request)
    world = CROSSREG_SIMULATE.out.world

    // every folder of the world with a targets table is a genome (human/, mouse/)
    genomes = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('targets.txt').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            genomeRecord(sub.name, sub.resolve('genome.fa.gz'), sub.resolve('targets.txt'), [sub.resolve('blacklist.bed')], [sub.resolve('unmappable.bed')], [])
        }
    }
    // <genome>/tss.bed: the genes' TSSs (gene-level evaluation)
    tss = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('targets.txt').exists() && sub.resolve('tss.bed').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            tuple(sub.name, sub.resolve('tss.bed'))
        }
    }
    // <genome>/variants.vcf.gz (bgzip) and its tabix index: SNPs on the genome, to score
    variants = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('targets.txt').exists() && sub.resolve('variants.vcf.gz').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            def tbi = sub.resolve('variants.vcf.gz.tbi')
            tuple(sub.name, sub.resolve('variants.vcf.gz'), tbi.exists() ? [tbi] : [])
        }
    }
    // alignment/<target>_to_<query>.chain
    chains = world.flatMap { _meta, dir ->
        dir.resolve('alignment').listFiles().findAll { chain -> chain.name.endsWith('.chain') && chain.name.contains('_to_') }.toList().collect { chain ->
            def pair = chain.name.replace('.chain', '').split('_to_')
            tuple(pair[0], pair[1], chain)
        }
    }
    // <genome>/ld_panel/<chrom>.bed/.bim/.fam and <genome>/ld_blocks.bed: the LD reference panel,
    // its chromosomes (those with a .bim, in natural order) joined by ','
    ld_panel = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('ld_panel').isDirectory() && sub.resolve('ld_blocks.bed').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            def chroms = sub.resolve('ld_panel').listFiles().findAll { bim -> bim.name.endsWith('.bim') }.collect { bim -> bim.name.replace('.bim', '') }.toList().toSorted { a, b -> naturalOrder(a as String, b as String) }
            def panel = chroms.collectMany { chrom -> ['bed', 'bim', 'fam'].collect { ext -> sub.resolve("ld_panel/${chrom}.${ext}") } }
            tuple(sub.name, panel, chroms.join(','), sub.resolve('ld_blocks.bed'))
        }
    }
    // <genome>/panel_snps.vcf.gz and its tabix index: the panel's SNPs, to score
    panel_snps = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('panel_snps.vcf.gz').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            def tbi = sub.resolve('panel_snps.vcf.gz.tbi')
            tuple(sub.name, sub.resolve('panel_snps.vcf.gz'), tbi.exists() ? [tbi] : [])
        }
    }
    // <genome>/eqtl/<Tissue>.pairs.tsv.gz: per-gene eQTL statistics of each tissue (the phenotype)
    eqtl = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('eqtl').isDirectory() }.toList().sort { sub -> sub.name }.collectMany { sub ->
            sub.resolve('eqtl').listFiles().findAll { pairs -> pairs.name.endsWith('.pairs.tsv.gz') }.toList().sort { pairs -> pairs.name }.collect { pairs ->
                tuple(sub.name, pairs.name.replace('.pairs.tsv.gz', ''), pairs)
            }
        }
    }
    // <genome>/genes.gtf of the genomes with population files (the SLDP background's gene classes)
    genes_gtf = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('ld_panel').isDirectory() && sub.resolve('genes.gtf').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            tuple(sub.name, sub.resolve('genes.gtf'))
        }
    }
    // <genome>/denovo.tsv: de novo variants of cases and their sibling controls
    denovo = world.flatMap { _meta, dir ->
        dir.listFiles().findAll { sub -> sub.resolve('denovo.tsv').exists() }.toList().sort { sub -> sub.name }.collect { sub ->
            tuple(sub.name, sub.resolve('denovo.tsv'))
        }
    }

    emit:
    genomes  = genomes  // channel: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
    chains   = chains   // channel: [ target, query, chain ]
    tss      = tss      // channel: [ genome, tss.bed ]
    variants = variants // channel: [ genome, variants.vcf.gz, [ variants.vcf.gz.tbi ] ] (the index list empty without one)
    ld_panel   = ld_panel   // channel: [ genome, [ ld_panel/<chrom>.bed/.bim/.fam ], chroms, ld_blocks.bed ]
    panel_snps = panel_snps // channel: [ genome, panel_snps.vcf.gz, [ panel_snps.vcf.gz.tbi ] ]
    eqtl       = eqtl       // channel: [ genome, tissue, eqtl/<tissue>.pairs.tsv.gz ]
    genes_gtf  = genes_gtf  // channel: [ genome, genes.gtf ]
    denovo     = denovo     // channel: [ genome, denovo.tsv ]
    world    = world    // channel: [ meta, world_dir ]
    summary  = CROSSREG_SIMULATE.out.summary // channel: [ meta, summary.json ]
}
