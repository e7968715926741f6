/*
 * The simulated two-species world (crossreg simulate) as pipeline input: its genomes in the
 * shape of the samplesheet's, its chains, its genomes' TSSs (<genome>/tss.bed) and variants
 * (<genome>/variants.vcf.gz with its .tbi: the simulator writes human's).
 */

include { CROSSREG_SIMULATE } from '../../../modules/local/simulate'
include { genomeRecord      } from '../utils_crossreg'

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

    emit:
    genomes  = genomes  // channel: [ meta, fasta, fasta_index, targets, bigwigs, blacklist, unmappable, windows_bed ]
    chains   = chains   // channel: [ target, query, chain ]
    tss      = tss      // channel: [ genome, tss.bed ]
    variants = variants // channel: [ genome, variants.vcf.gz, [ variants.vcf.gz.tbi ] ] (the index list empty without one)
    world    = world    // channel: [ meta, world_dir ]
    summary  = CROSSREG_SIMULATE.out.summary // channel: [ meta, summary.json ]
}
