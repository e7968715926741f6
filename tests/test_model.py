"""Model package: params (real paper files), registry errors, parameter counts, shapes,
loss, Pearson accumulator, TensorFlow/JAX agreement, resolved-params round trip."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from crossreg.errors import InputError
from crossreg.model import (
    PearsonAccumulator,
    block_names,
    geometry,
    head_genomes,
    load_params,
    resolve_params,
    write_resolved_params,
)

# Keras' own TensorFlow-backend save_weights calls np.array on tensors (NumPy 2 deprecation; not ours).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

PARAMS = Path(__file__).parent / "data" / "params"
# Reference (baskerville) counts for params_full.json: Keras count_params, BN moving stats included.
FULL_TRUNK = 21_957_503
FULL_TOTAL = 32_648_875
HEAD_HUMAN = 1536 * 5313 + 5313  # Dense with bias: 8,166,081
HEAD_MOUSE = 1536 * 1643 + 1643  # 2,525,291


def raw(name: str) -> dict:
    return json.loads((PARAMS / name).read_text())


def one_hot(rng: np.random.Generator, batch: int, length: int) -> np.ndarray:
    return np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=(batch, length))]


@pytest.fixture(scope="module")
def full_model():
    from crossreg.model import build_model

    return build_model(PARAMS / "params_full.json")


@pytest.fixture(scope="module")
def tiny_model():
    from crossreg.model import build_model

    return build_model(PARAMS / "params_tiny.json")


# ---------------------------------------------------------------- params files
@pytest.mark.parametrize(
    "name, genomes, bins, target_crop",
    [
        ("params_human.json", ["human"], 896, 64),  # paper: target_length 1024 = before the crop
        ("params_mouse.json", ["mouse"], 896, 64),
        ("params_full.json", ["human", "mouse"], 896, 0),  # benchmark: target_length 896 = cropped
        ("params_small.json", ["human", "mouse"], 96, 0),
        ("params_tiny.json", ["human", "mouse"], 12, 0),
    ],
)
def test_real_params_load(name, genomes, bins, target_crop):
    params = load_params(PARAMS / name)
    geo = geometry(params)
    assert head_genomes(params) == genomes
    assert (geo.bins, geo.target_crop, geo.bin_width) == (bins, target_crop, 128)
    assert geo.positions - geo.crop_left - geo.crop_right == geo.bins
    assert resolve_params(params) == params  # resolving is idempotent


def test_paper_geometry_and_resolution():
    params = load_params(PARAMS / "params_human.json")
    geo = geometry(params)
    assert (geo.seq_length, geo.positions, geo.crop_left, geo.crop_right, geo.channels) == (131072, 1024, 64, 64, 1536)
    trunk = params["model"]["trunk"]
    assert trunk[0]["activation"] == "gelu" and trunk[0]["norm_type"] == "batch" and trunk[0]["bn_momentum"] == 0.9
    assert trunk[4]["kernel_size"] == 1 and trunk[4]["pool_size"] == 1 and trunk[4]["dropout"] == 0.05
    assert params["train"]["clip_norm"] == 2.0 and params["train"]["loss"] == "poisson"
    from crossreg.model.registry import dilation_rates, tower_filters

    assert tower_filters(trunk[1]) == [339, 399, 470, 554, 652, 768]
    assert dilation_rates(trunk[2]) == [1, 2, 3, 4, 6, 9, 14, 21, 32, 48, 72]


def _set(d: dict, path: list, value):
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value


def _drop(d: dict, path: list):
    for key in path[:-1]:
        d = d[key]
    del d[path[-1]]


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (["model", "trunk", 2, "rate_mul"], 1.5,
         "model.trunk[2].rate_mul: unknown key (did you mean 'rate_mult'?); known keys: activation, bn_momentum"),
        (["model", "trunk", 1, "name"], "conv_towr",
         "model.trunk[1].name: unknown trunk block 'conv_towr' (did you mean 'conv_tower'?); known trunk blocks: "
         "Cropping1D, conv_block, conv_tower, dilated_residual"),
        (["model", "head_human", "name"], "dense", "model.head_human.name: unknown head block 'dense'"),
        (["model", "head_human", "unitz"], 3, "model.head_human.unitz: unknown key (did you mean 'units'?)"),
        (["model", "trunk", 0, "name"], "final", "model.trunk[0].name: unknown trunk block 'final'"),
        (["model", "seq_lenght"], 10, "model.seq_lenght: unknown key (did you mean 'seq_length'?)"),
        (["model", "headhuman"], {}, "model.headhuman: a head key must be head_<genome>"),
        (["train", "learning_rat"], 0.1, "train.learning_rat: unknown key (did you mean 'learning_rate'?)"),
        (["train", "optimizer"], "rmsprop", "train.optimizer: unknown value 'rmsprop'; expected one of 'sgd', 'adam'"),
        (["train", "loss"], "mse", "train.loss: unknown value 'mse'"),
        (["train", "batch_size"], 0, "train.batch_size: 0 is out of range; expected an integer >= 1"),
        (["train", "batch_size"], True, "train.batch_size: expected an integer, got True"),
        (["train", "momentum"], "high", "train.momentum: expected a number"),
        (["validate"], {}, "validate: unknown section; known sections: model, train"),
        (["model", "trunk", 0, "filters"], 8.5, "model.trunk[0].filters: expected an integer, got 8.5"),
        (["model", "trunk", 3, "cropping"], -1, "model.trunk[3].cropping: expected an integer >= 0 or a pair"),
        (["model", "trunk", 2, "round"], "yes", "model.trunk[2].round: expected true or false"),
        (["model", "activation"], "swish", "model.activation: unknown value 'swish'"),
        (["model", "trunk", 1, "filters_end"], 24, "model.trunk[1].filters_end: give filters_mult or filters_end"),
        (["model", "target_length"], 13, "model.target_length: 13 does not match the trunk: 2048 bp -> 16 positions"),
        (["model", "seq_length"], 2000, "model.seq_length: 2000 is not a multiple of 128, the product of the trunk's pool sizes"),
        (["model", "trunk"], [], "model.trunk: expected a non-empty list of blocks"),
        (["model", "trunk", 3, "cropping"], 8, "model.trunk[3].cropping: cropping 8+8 leaves nothing of 16 positions"),
    ],
)
def test_bad_params_name_the_key(tmp_path, path, value, expected):
    params = raw("params_tiny.json")
    _set(params, path, value)
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(params))
    with pytest.raises(InputError) as err:
        load_params(target)
    assert str(err.value).startswith(f"{target}: ")
    assert expected in str(err.value)


@pytest.mark.parametrize(
    "path, expected",
    [
        (["model", "seq_length"], "model.seq_length: missing required key"),
        (["model", "trunk"], "model.trunk: missing required key"),
        (["model", "trunk", 2, "filters"], "model.trunk[2].filters: missing required key"),
        (["model", "trunk", 0, "name"], "model.trunk[0].name: missing block name; known trunk blocks"),
        (["model", "head_human", "units"], "model.head_human.units: missing required key"),
        (["model"], "model: missing required section"),
    ],
)
def test_missing_keys(path, expected):
    params = raw("params_tiny.json")
    _drop(params, path)
    with pytest.raises(InputError) as err:
        resolve_params(params, source="p.json")
    assert expected in str(err.value)


def test_no_head_and_unreadable_files(tmp_path):
    params = raw("params_tiny.json")
    del params["model"]["head_human"], params["model"]["head_mouse"]
    with pytest.raises(InputError, match="no head: give at least one head_<genome>"):
        resolve_params(params)
    with pytest.raises(InputError, match="cannot read params file"):
        load_params(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text('{"model": ')
    with pytest.raises(InputError, match=r"broken.json: not valid JSON: .* line 1"):
        load_params(tmp_path / "broken.json")


def test_target_length_conventions():
    params = raw("params_tiny.json")
    params["model"]["target_length"] = 16  # paper convention: targets before the trunk's crop
    assert geometry(resolve_params(params)).target_crop == 2
    params["model"]["target_length"] = None
    assert geometry(resolve_params(params)).target_crop == 0


def test_train_section_defaults_and_checks():
    params = raw("params_tiny.json")
    del params["train"]
    train = resolve_params(params)["train"]
    assert train == {
        "batch_size": 4, "optimizer": "sgd", "learning_rate": 0.01, "momentum": 0.99, "beta_1": 0.9,
        "beta_2": 0.999, "adam_eps": 1e-7, "clip_norm": None, "global_clipnorm": None, "warmup_steps": 0,
        "loss": "poisson", "epochs": 10000, "epochs_min": 1, "patience": 20, "steps_per_epoch": None, "seed": 0,
            "precision": "float32",
    }
    params["train"] = {"epochs": 3, "epochs_min": 5}
    with pytest.raises(InputError, match=r"train.epochs_min: 5 exceeds epochs \(3\)"):
        resolve_params(params)


def test_registry_names():
    assert block_names("trunk") == ["Cropping1D", "conv_block", "conv_tower", "dilated_residual"]
    assert block_names("head") == ["final"]
    from crossreg.model.blocks import BUILDERS
    from crossreg.model.registry import _REGISTRY

    for name, spec in _REGISTRY.items():
        assert spec.resolve_builder() is BUILDERS[name]


def test_resolved_params_round_trip(tmp_path):
    params = load_params(PARAMS / "params_full.json")
    written = write_resolved_params(raw("params_full.json"), tmp_path)  # a directory -> params.json
    assert written == tmp_path / "params.json"
    on_disk = json.loads(written.read_text())
    assert on_disk == params
    assert load_params(written) == params
    # every default is spelled out
    assert on_disk["model"]["trunk"][0]["dropout"] == 0.0 and on_disk["model"]["trunk"][0]["residual"] is False
    assert on_disk["model"]["trunk"][1]["filters_end"] is None and on_disk["model"]["l2_scale"] == 0.0
    assert on_disk["train"]["seed"] == 0 and on_disk["train"]["warmup_steps"] == 0
    bad = copy.deepcopy(params)
    bad["train"]["optimizer"] = "lbfgs"
    with pytest.raises(InputError):
        write_resolved_params(bad, tmp_path / "never.json")
    assert not (tmp_path / "never.json").exists()


# ---------------------------------------------------------------- model
def test_param_counts_full_match_reference(full_model):
    counts = full_model.parameter_counts()
    assert counts.trunk == FULL_TRUNK
    assert counts.heads == {"human": HEAD_HUMAN, "mouse": HEAD_MOUSE}
    assert counts.total == FULL_TOTAL
    bn_channels = 288 + (339 + 399 + 470 + 554 + 652 + 768) + 11 * (384 + 768) + 1536
    assert counts.non_trainable == 2 * bn_channels  # moving mean + variance
    assert counts.trainable == FULL_TOTAL - 2 * bn_channels
    # convolutions carry no bias (BN follows), heads do
    convs = [r.layer for r in full_model.rows["trunk"] if type(r.layer).__name__ == "Conv1D"]
    assert len(convs) == 1 + 6 + 22 + 1 and not any(c.use_bias for c in convs)
    assert full_model.heads["human"].layers[-1].use_bias


def test_describe_model_full(full_model):
    from crossreg.model import describe_model

    text = describe_model(full_model)
    assert "131072 bp -> 1024 positions of 128 bp -> crop 64+64 -> 896 bins x 1536 channels" in text
    assert "targets: target_length 896 (already cropped)" in text
    for line in (r"trunk +21,957,503", r"head human +8,166,081", r"head mouse +2,525,291", r"total +32,648,875"):
        assert re.search(rf"^  {line}$", text, re.M), line
    assert "t2_r10_dil_conv" in text and "width 3 dilation 72" in text
    assert "(batch, 896, 5313)" in text and "(batch, 896, 1643)" in text


def test_paper_files_share_the_full_trunk():
    """params_human/params_mouse build the same trunk as params_full (so 21,957,503 too)."""
    full = load_params(PARAMS / "params_full.json")["model"]
    for name, genome in (("params_human.json", "human"), ("params_mouse.json", "mouse")):
        model = load_params(PARAMS / name)["model"]
        assert model["trunk"] == full["trunk"]
        assert model[f"head_{genome}"] == full[f"head_{genome}"]


def test_small_output_shapes():
    import keras

    from crossreg.model import build_model

    model = build_model(PARAMS / "params_small.json")
    assert model.output_bins == 96 and model.genomes == ["human", "mouse"]
    seq = keras.KerasTensor((2, 16384, 4))
    assert tuple(model.trunk.compute_output_spec(seq).shape) == (2, 96, 512)
    assert tuple(model.model_for("human").compute_output_spec(seq).shape) == (2, 96, 5313)
    assert tuple(model.model_for("mouse").compute_output_spec(seq).shape) == (2, 96, 1643)
    out = model.joint.compute_output_spec(seq)
    assert {g: tuple(v.shape) for g, v in out.items()} == {"human": (2, 96, 5313), "mouse": (2, 96, 1643)}
    with pytest.raises(InputError, match="unknown genome 'dog'; this model has heads for: human, mouse"):
        model.model_for("dog")


def test_forward_pass_tiny_and_shared_trunk(tiny_model):
    x = one_hot(np.random.default_rng(0), 2, 2048)
    human = np.asarray(tiny_model.model_for("human").predict(x, verbose=0))
    mouse = np.asarray(tiny_model.model_for("mouse").predict(x, verbose=0))
    assert human.shape == (2, 12, 3) and mouse.shape == (2, 12, 2)
    assert np.all(np.isfinite(human)) and np.all(human > 0)  # softplus
    features = np.asarray(tiny_model.trunk.predict(x, verbose=0))
    assert features.shape == (2, 12, 32)
    # the per-genome models use the very trunk layers (shared weights)
    trunk_ids = {id(w) for w in tiny_model.trunk.weights}
    for genome in ("human", "mouse"):
        model_ids = {id(w) for w in tiny_model.model_for(genome).weights}
        assert trunk_ids <= model_ids
    head = np.asarray(tiny_model.heads["human"].predict(features, verbose=0))
    np.testing.assert_allclose(head, human, rtol=1e-5, atol=1e-6)


def test_initialisation_is_deterministic(tiny_model):
    from crossreg.model import build_model

    again = build_model(PARAMS / "params_tiny.json")  # train.seed 7, as tiny_model
    other = build_model(PARAMS / "params_tiny.json", seed=8)
    for a, b in zip(tiny_model.joint.weights, again.joint.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    kernel = lambda m: m.trunk.get_layer("t0_conv").kernel.numpy()  # noqa: E731
    assert not np.array_equal(kernel(tiny_model), kernel(other))


def test_save_and_load_model_dir(tmp_path, tiny_model):
    from crossreg.model import load_model, save_model

    save_model(tiny_model, tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.weights.h5", "params.json"]
    loaded = load_model(tmp_path / "m")
    x = one_hot(np.random.default_rng(1), 1, 2048)
    np.testing.assert_array_equal(
        np.asarray(loaded.model_for("mouse").predict(x, verbose=0)),
        np.asarray(tiny_model.model_for("mouse").predict(x, verbose=0)),
    )
    with pytest.raises(InputError, match="missing; a model directory holds params.json and model.weights.h5"):
        load_model(tmp_path)


# ---------------------------------------------------------------- loss and metrics
def numpy_poisson(y, p, eps=1e-7):
    y, p = y.astype(np.float64), p.astype(np.float64)
    return float(np.mean(np.sum(p - y * np.log(p + eps), axis=-1)))


def test_poisson_loss_matches_numpy():
    from keras import ops

    from crossreg.model import PoissonLoss, poisson_loss, poisson_nll

    rng = np.random.default_rng(3)
    pred = rng.gamma(2.0, 1.5, size=(3, 7, 5)).astype(np.float32)
    target = rng.poisson(pred).astype(np.float32)
    target[0, 0, 0] = 0.0
    expected = numpy_poisson(target, pred)
    assert float(ops.convert_to_numpy(poisson_loss(target, pred))) == pytest.approx(expected, rel=1e-6)
    assert float(ops.convert_to_numpy(PoissonLoss()(target, pred))) == pytest.approx(expected, rel=1e-6)
    per_seq = np.asarray(ops.convert_to_numpy(poisson_nll(target, pred)))
    np.testing.assert_allclose(per_seq, [numpy_poisson(target[i], pred[i]) for i in range(3)], rtol=1e-6)
    # Keras' Poisson averages over tracks instead of summing: ours = tracks * theirs
    import keras

    keras_mean = float(ops.convert_to_numpy(keras.losses.Poisson()(target, pred)))
    assert expected == pytest.approx(5 * keras_mean, rel=1e-5)


def test_pearson_accumulator_matches_corrcoef():
    rng = np.random.default_rng(4)
    acc = PearsonAccumulator()
    ys, ps = [], []
    for batch in (2, 3, 1, 4):  # uneven batches, large common offset
        y = rng.gamma(1.0, 2.0, size=(batch, 12, 4)) + 1e4
        p = y + rng.normal(0, [0.5, 1.0, 3.0, 10.0], size=y.shape)
        acc.update(y.astype(np.float32), p.astype(np.float32))
        ys.append(y.astype(np.float32).reshape(-1, 4))
        ps.append(p.astype(np.float32).reshape(-1, 4))
    y, p = np.concatenate(ys).astype(np.float64), np.concatenate(ps).astype(np.float64)
    expected = [np.corrcoef(y[:, t], p[:, t])[0, 1] for t in range(4)]
    np.testing.assert_allclose(acc.pearson_r(), expected, rtol=1e-9)
    r2 = 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(acc.r2(), r2, rtol=1e-9)
    assert acc.count == 10 * 12


def test_pearson_accumulator_edge_cases():
    acc = PearsonAccumulator(num_tracks=2)
    with pytest.raises(ValueError, match="no values accumulated"):
        acc.pearson_r()
    y = np.stack([np.ones(6), np.arange(6.0)], axis=-1)[None]
    acc.update(y, y * 2)
    r = acc.pearson_r()
    assert np.isnan(r[0]) and r[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="expected 2 tracks, got 3"):
        acc.update(np.zeros((1, 2, 3)), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="differ in shape"):
        acc.update(np.zeros((1, 2, 2)), np.zeros((1, 3, 2)))
    acc.reset()
    assert acc.count == 0


# ---------------------------------------------------------------- TensorFlow vs JAX
JAX_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import crossreg.model as cm
    cm.load_params(sys.argv[1])
    assert "keras" not in sys.modules, "params handling must not import keras"
    import keras
    assert keras.backend.backend() == "jax"
    from crossreg.model import build_model, poisson_loss, PearsonAccumulator
    model = build_model(sys.argv[1], seed=123)  # different init, then overwritten by the TF weights
    model.load_weights(sys.argv[2])
    data = np.load(sys.argv[3])
    out = model.joint.predict(data["x"], verbose=0)
    loss = float(keras.ops.convert_to_numpy(poisson_loss(data["y"], out["human"])))
    acc = PearsonAccumulator()
    acc.update(data["y"], out["human"])
    np.savez(sys.argv[4], human=np.asarray(out["human"]), mouse=np.asarray(out["mouse"]),
             trunk=np.asarray(model.trunk.predict(data["x"], verbose=0)), loss=loss, r=acc.pearson_r())
    """
)


def test_tensorflow_and_jax_agree(tmp_path):
    import keras
    from keras import ops

    from crossreg.model import build_model, poisson_loss

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the reference side runs on the default TensorFlow backend")
    tiny_model = build_model(PARAMS / "params_tiny.json")  # its own copy: weights are changed below
    rng = np.random.default_rng(5)
    # give BN non-trivial statistics and the zero-initialised gammas non-zero values
    for weight in tiny_model.joint.weights:
        w = weight.numpy()
        if "gamma" in weight.path or "moving_variance" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, size=w.shape).astype(np.float32))
        elif "beta" in weight.path or "moving_mean" in weight.path:
            weight.assign(rng.normal(0, 0.2, size=w.shape).astype(np.float32))
    weights = tmp_path / "tiny.weights.h5"
    tiny_model.save_weights(weights)
    x = one_hot(rng, 3, 2048)
    y = rng.poisson(1.0, size=(3, 12, 3)).astype(np.float32)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    tf_out = tiny_model.joint.predict(x, verbose=0)
    tf_loss = float(ops.convert_to_numpy(poisson_loss(y, tf_out["human"])))

    # XLA optimisation level 0: the JAX side compiles one initialiser per weight shape before
    # loading the weights; unoptimised code halves that time (differences stay below 1e-5 here).
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    result = tmp_path / "jax.npz"
    proc = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, str(PARAMS / "params_tiny.json"), str(weights),
         str(tmp_path / "data.npz"), str(result)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    jax_out = np.load(result)
    for genome in ("human", "mouse"):
        np.testing.assert_allclose(jax_out[genome], np.asarray(tf_out[genome]), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(jax_out["trunk"], np.asarray(tiny_model.trunk.predict(x, verbose=0)), atol=1e-4, rtol=1e-4)
    assert float(jax_out["loss"]) == pytest.approx(tf_loss, abs=1e-4)
    acc = PearsonAccumulator()
    acc.update(y, tf_out["human"])
    np.testing.assert_allclose(jax_out["r"], acc.pearson_r(), atol=1e-4)


def test_describe_model_command(capsys, tmp_path):
    from crossreg.cli import main

    assert main(["describe-model", str(PARAMS / "params_full.json")]) == 0
    out = capsys.readouterr().out
    assert "trunk         21,957,503" in out and "total         32,648,875" in out
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"seq_length": 2048, "trunk": [{"name": "conv_towr"}]}, "train": {}}')
    assert main(["describe-model", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown trunk block 'conv_towr' (did you mean 'conv_tower'?)" in err[0]


def test_readme_documents_every_params_key():
    from crossreg.model import schema_text

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    begin = readme.index("<!-- schema:begin")
    block = readme[begin : readme.index("<!-- schema:end -->")]
    documented = block[block.index("```text\n") + len("```text\n") : block.rindex("```")]
    assert documented.rstrip() == schema_text().rstrip(), "README params schema is stale: regenerate it"


@pytest.mark.parametrize("batch, length, channels, momentum", [(4, 96, 17, 0.9), (1, 5, 3, 0.5), (2, 1, 8, 0.99)])
def test_fused_batch_norm_matches_keras(batch, length, channels, momentum):
    """The TensorFlow fast path of crossreg's BatchNormalization equals Keras' own layer in training:
    outputs, gradients (inputs, gamma, beta) and moving statistics; inference is Keras' path."""
    import keras
    import tensorflow as tf

    from crossreg.model.layers import BatchNormalization, fused_batch_norm

    rng = np.random.default_rng(batch * 100 + length)
    x = tf.constant(rng.normal(3.0, 2.0, (batch, length, channels)).astype(np.float32))
    ours = BatchNormalization(momentum=momentum)
    theirs = keras.layers.BatchNormalization(momentum=momentum)
    for layer in (ours, theirs):
        layer.build(x.shape)
        layer.gamma.assign(rng.normal(1.0, 0.3, channels).astype(np.float32))
        layer.beta.assign(rng.normal(0.0, 0.3, channels).astype(np.float32))
    theirs.set_weights(ours.get_weights())
    assert not ours._fused_path_applies(x, True, None)  # off unless switched on (XLA steps)
    with fused_batch_norm(True):
        assert ours._fused_path_applies(x, True, None) and not ours._fused_path_applies(x, False, None)
    upstream = tf.constant(rng.normal(size=x.shape).astype(np.float32))

    def run(layer):
        with tf.GradientTape() as tape, fused_batch_norm(True):
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * upstream)
        grads = tape.gradient(loss, [x, layer.gamma.value, layer.beta.value])
        return [y.numpy(), *(g.numpy() for g in grads), layer.moving_mean.numpy(), layer.moving_variance.numpy()]

    for name, a, b in zip(["output", "d input", "d gamma", "d beta", "moving mean", "moving variance"],
                          run(ours), run(theirs)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4, err_msg=name)
    np.testing.assert_allclose(ours(x, training=False).numpy(), theirs(x, training=False).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("jit_compile, expected", [(False, True), (True, False)])
def test_train_step_uses_the_fused_kernel_only_without_xla(monkeypatch, jit_compile, expected):
    from crossreg.model import build_model
    from crossreg.model.layers import BatchNormalization
    from crossreg.train.backend import make_runner
    from crossreg.train.optimizer import build_optimizer

    params = load_params(PARAMS / "params_tiny.json")
    model = build_model(params, seed=0)
    seen = []
    original = BatchNormalization._fused_path_applies

    def spy(self, inputs, training, mask):
        result = original(self, inputs, training, mask)
        if training:
            seen.append(result)
        return result

    monkeypatch.setattr(BatchNormalization, "_fused_path_applies", spy)
    variables = list(model.model_for("human").trainable_variables)
    runner = make_runner(model, build_optimizer(params["train"], variables), ["human"], jit_compile=jit_compile)
    x = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (2, model.geometry.seq_length))]
    y = np.ones((2, model.geometry.bins, model.num_tracks("human")), np.float32)
    assert np.isfinite(runner.train_step("human", x, y))
    assert seen and set(seen) == {expected}


def test_mixed_bfloat16_precision_trains_with_float32_weights_and_outputs():
    """train.precision mixed_bfloat16: bf16 compute, float32 weights, float32 predictions and loss."""
    import keras

    from crossreg.model import build_model, poisson_loss
    from crossreg.train.backend import make_runner
    from crossreg.train.optimizer import build_optimizer

    params = raw("params_tiny.json")
    params.setdefault("train", {})["precision"] = "mixed_bfloat16"
    before = keras.config.dtype_policy().name
    model = build_model(params, seed=0)
    assert keras.config.dtype_policy().name == before  # the global policy is restored
    convs = [layer for layer in model.trunk.layers if isinstance(layer, keras.layers.Conv1D)]
    assert convs and all(layer.compute_dtype == "bfloat16" for layer in convs)
    assert all(w.dtype == "float32" for w in model.joint.weights)
    rng = np.random.default_rng(0)
    x = one_hot(rng, 2, model.geometry.seq_length)
    y = rng.poisson(1.0, size=(2, model.geometry.bins, model.num_tracks("human"))).astype(np.float32)
    pred = model.model_for("human")(x, training=False)
    assert keras.backend.standardize_dtype(pred.dtype) == "float32"
    reference = build_model(raw("params_tiny.json"), seed=0)  # same initial weights in float32
    ref_pred = keras.ops.convert_to_numpy(reference.model_for("human")(x, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pred), ref_pred, rtol=0.05, atol=0.05)
    assert not np.allclose(keras.ops.convert_to_numpy(pred), ref_pred, rtol=0, atol=1e-7)  # really bf16
    variables = [*model.trunk.trainable_variables, *model.heads["human"].trainable_variables]
    runner = make_runner(model, build_optimizer(model.params["train"], variables), ["human"], jit_compile=False)
    first = runner.train_step("human", x, y)
    for _ in range(4):
        last = runner.train_step("human", x, y)
    assert np.isfinite(first) and np.isfinite(last) and last < first
    ref_vars = [*reference.trunk.trainable_variables, *reference.heads["human"].trainable_variables]
    ref_runner = make_runner(reference, build_optimizer(reference.params["train"], ref_vars), ["human"],
                             jit_compile=False)
    assert ref_runner.train_step("human", x, y) == pytest.approx(first, rel=0.02)  # same step in float32
    assert float(keras.ops.convert_to_numpy(poisson_loss(y, pred))) == pytest.approx(
        float(keras.ops.convert_to_numpy(poisson_loss(y, ref_pred))), rel=0.02)


POOL_SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np, keras, jax, jax.numpy as jnp
    from crossreg.model.layers import MaxPooling1D
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 64, 5)).astype(np.float32)
    ours = MaxPooling1D(pool_size=2, padding="same")
    ref = keras.layers.MaxPooling1D(pool_size=2, padding="same")
    assert ours._tiles(keras.ops.convert_to_tensor(x)), "the reshape path must apply"
    np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(ref(x)))
    g1 = jax.grad(lambda v: jnp.sum(ours(v) ** 2))(jnp.asarray(x))
    g2 = jax.grad(lambda v: jnp.sum(ref(v) ** 2))(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-6)
    y = rng.normal(size=(2, 63, 4)).astype(np.float32)
    assert not ours._tiles(keras.ops.convert_to_tensor(y))  # odd length: Keras' own code
    np.testing.assert_array_equal(np.asarray(ours(y)), np.asarray(ref(y)))
    print("pooling ok")
    """
)


def test_max_pooling_reshape_path_on_jax_equals_keras():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", POOL_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "pooling ok" in proc.stdout, proc.stderr[-3000:]
