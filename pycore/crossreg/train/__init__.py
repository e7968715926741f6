"""The trainer: one shared trunk and one head per genome, trained jointly (Basenji2).

``crossreg train`` and :func:`train` stream batches from the shards of every genome, each
batch from one genome chosen at random in proportion to its number of training windows; a
batch updates the trunk and that genome's head only. Sequences are augmented on the fly
(reverse complement, small shifts) and never at evaluation. Every epoch ends with a
validation pass (Poisson loss and per-track Pearson R over all validation bins), a
checkpoint and one history row per genome; early stopping on the validation loss picks
the best epoch. ``resume=True`` continues an interrupted run from its last epoch-end
checkpoint and gives the same weights as an uninterrupted run (same backend and machine).

Modules, one concern each:

=================  ==============================================================
``inputs``         params and manifests checked against each other (InputError)
``sampler``        per-epoch genome plan, seeds, endless shuffled batch streams
``prefetch``       background thread filling a bounded queue
``augment``        reverse complement, shifts, target cropping (NumPy)
``optimizer``      SGD with momentum / Adam, clipping, warm-up
``backend``        compiled train / predict steps for TensorFlow and JAX
``validation``     loss and Pearson R over a whole split
``checkpoint``     atomic checkpoint directories, optimizer and trainer state
``history``        history CSV and TensorBoard
``loop``           the epoch loop, early stopping, resume, fine-tuning, :func:`train`
=================  ==============================================================

Outputs in ``out_dir``::

    params.json               resolved params of the run (epochs/seed overrides applied), first
    model_best/               best epoch (save_model: params.json, model.weights.h5)
    model_last/               last epoch + variables.npz, optimizer.npz, trainer_state.json
    history.csv               epoch, genome, train_loss, valid_loss, valid_pearson_mean,
                              valid_pearson_<ASSAY>..., seconds
    tensorboard/              scalars per epoch (when TensorFlow is importable)
    finetune/<genome>/        per-genome fine-tuning: model_best/, model_last/, history.csv

Public API (importing this package does not import Keras)::

    train(params, manifests, out_dir, mode="joint", genome=None, resume=False, epochs=None,
          steps_per_epoch=None, seed=None, finetune_epochs=0, progress=True,
          jit_compile=None) -> TrainResult
    prepare_inputs(params, manifests, mode="joint", genome=None) -> TrainInputs
    manifest_specs(["human=path/manifest.json", ...]) -> {genome: Path}   # --manifest values
    evaluate_split(predict, split, batch_size, target_crop) -> SplitEvaluation
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from crossreg.train.inputs import GenomeData, TrainInputs, manifest_specs, prepare_inputs

_LAZY = {
    "train": "loop",
    "TrainResult": "loop",
    "PhaseResult": "loop",
    "evaluate_split": "validation",
    "SplitEvaluation": "validation",
    "KerasPredictor": "validation",
}

__all__ = ["GenomeData", "TrainInputs", "manifest_specs", "prepare_inputs", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f"crossreg.train.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'crossreg.train' has no attribute {name!r}")
