"""The synthetic two-species world: genomes, tracks, alignment, variants and their truth.

Public API: :func:`simulate` (writes a world to a folder) and :data:`PRESETS` (``tiny``,
``demo``, ``bench`` parameter trees). See the project README ("crossreg simulate") for the model, every
knob and every output file.
"""

from crossreg.simulate.params import PRESETS, resolve_params
from crossreg.simulate.world import simulate

__all__ = ["PRESETS", "resolve_params", "simulate"]
