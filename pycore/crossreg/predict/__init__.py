"""Predictions of a saved model for windows of a genome: HDF5 and bigWig output.

Public API::

    predict(model_dir, out_path, genome, manifest=None, split="test", windows_bed=None,
            fasta=None, batch_size=4, rc_average=False, bigwig_tracks=None,
            bigwig_dir=None, chrom_sizes=None, progress=None) -> dict   # crossreg predict
    predict_sequences(keras_model, one_hot, batch_size=4, rc_average=False) -> float32 [n, bins, tracks]
    predict_batch(keras_model, one_hot, batch_size=None, rc_average=False)  -> float32 [n, bins, tracks]
    reverse_complement_one_hot(one_hot) -> [..., L, 4]

The output layout is documented in the project README (section "Predicting: crossreg predict"). Keras is imported only
when a model is loaded.
"""

from crossreg.predict.core import (
    PREDICTIONS_FORMAT,
    PREDICTIONS_FORMAT_VERSION,
    predict,
    predict_batch,
    predict_sequences,
    reverse_complement_one_hot,
)

__all__ = [
    "PREDICTIONS_FORMAT",
    "PREDICTIONS_FORMAT_VERSION",
    "predict",
    "predict_batch",
    "predict_sequences",
    "reverse_complement_one_hot",
]
