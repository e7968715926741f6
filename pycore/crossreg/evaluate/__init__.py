"""Evaluation of a trained model on held-out windows (Kelley 2020 metrics) and comparison of
two evaluations.

Public API::

    evaluate_model(model_dir, manifests, out_dir, tss=None, track_matches=None, split="test",
                   batch_size=4, rc_average=False, progress=None, predict_fn=None) -> dict
    compare_models(eval_a, eval_b, out_dir, label_a="joint", label_b="single") -> dict

Modules: :mod:`.stats` (pure NumPy: per-column Pearson R, log, tissue normalisation, variable
sites), :mod:`.tss` (TSS BED/GTF reading, TSS-in-window location), :mod:`.inputs`
(validation of model, manifests, TSS files, track matches), :mod:`.collect` (one streaming
pass per genome), :mod:`.tables` and :mod:`.plots` (writing), :mod:`.core`
(``evaluate_model``), :mod:`.compare` (``compare_models``). Keras is imported only when a
model is evaluated.
"""

from crossreg.evaluate.compare import COMPARISON_FORMAT, COMPARISON_FORMAT_VERSION, compare_models
from crossreg.evaluate.core import EVALUATION_FORMAT, EVALUATION_FORMAT_VERSION, evaluate_model

__all__ = [
    "COMPARISON_FORMAT",
    "COMPARISON_FORMAT_VERSION",
    "EVALUATION_FORMAT",
    "EVALUATION_FORMAT_VERSION",
    "compare_models",
    "evaluate_model",
]
