"""crossreg: regulatory activity from DNA sequence, trained jointly across genomes."""

__version__ = "0.1.0"
