/*
 * nf-test scaffolding for CROSSREG_PREDICT: an untrained model of the test geometry
 * (model_params.json: 16,384 bp windows, 96 bins, 7 tracks per head like the tiny world),
 * until the pipeline has a train step.
 */

process UNTRAINED_MODEL {
    tag "${meta.id}"
    label 'process_single'

    input:
    tuple val(meta), path(model_params)

    output:
    tuple val(meta), path('model', type: 'dir'), emit: model

    script:
    """
    python -c "from crossreg.model import build_model, save_model; save_model(build_model('${model_params}', seed=0), 'model')"
    """

    stub:
    """
    mkdir model
    touch model/params.json model/model.weights.h5
    """
}
