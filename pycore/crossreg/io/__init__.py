"""Readers and validators for everything a user brings (FASTA, bigWig, BED, targets, chain)."""
