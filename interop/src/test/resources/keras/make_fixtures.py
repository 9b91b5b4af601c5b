"""Makes the Keras 3 fixtures that KerasImportTest reads: small seeded Sequential models saved as
.keras archives, and Keras's own outputs on fixed inputs in <name>.json.

Run from this folder with Keras 3 on any backend (the committed files were made with
KERAS_BACKEND=torch, keras 3.15.1):

    KERAS_BACKEND=torch python make_fixtures.py

Outputs are taken before the head's softmax: the script runs the same model with the last Dense
layer's activation switched to linear (the weights are shared), so the JSON holds logits, which
is what a Recur classifier predicts (softmax is applied by whoever reads its scores).

Each JSON: {"keras": version, "backend": ..., "inputs": [B, T] ids or [B, T, F] numbers,
"outputs": [B, out] (many-to-one) or [B, T, out] (per step)}.

It also writes damaged.keras: the first fixture with its second LSTM's (lstm_2, whose group
Keras names layers/lstm_1) recurrent kernel replaced by a dataset of the wrong shape, for the
hostile-file test, and conv_lstm.keras, a model with a Conv1D layer.
"""
import json
import os
import shutil
import tempfile
import zipfile

import h5py
import numpy as np

import keras
from keras import layers

HERE = os.path.dirname(os.path.abspath(__file__))


def randomize(model, seed):
    """Every weight uniform in [-0.5, 0.5], so biases are not zero and gate mix-ups show."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])


def logits(model, x):
    """The model's outputs with the last layer's activation linear (pre-softmax)."""
    last = model.layers[-1]
    saved = last.activation
    last.activation = keras.activations.linear
    try:
        return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
    finally:
        last.activation = saved


def deflate(path):
    """Keras stores its archive's entries uncompressed; deflated, the fixtures are a third the size."""
    with zipfile.ZipFile(path) as z:
        entries = [(n, z.read(n)) for n in z.namelist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries:
            z.writestr(n, data)


def save(name, model, x):
    path = os.path.join(HERE, name + ".keras")
    model.save(path)
    deflate(path)
    y = logits(model, x)
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump({"keras": keras.__version__, "backend": keras.backend.backend(),
                   "inputs": x.tolist(), "outputs": y.astype(float).tolist()}, f)
    print(f"{name}: {os.path.getsize(path)} bytes, outputs {y.shape}")


def main():
    keras.utils.set_random_seed(15)
    vocab, steps, batch = 11, 6, 3
    ids = np.random.default_rng(1).integers(0, vocab, size=(batch, steps)).astype(np.int32)

    # Two stacked LSTMs, the first returning sequences, a softmax classifier on the last state.
    m = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocab, 5, name="embedding"),
        layers.LSTM(7, return_sequences=True, name="lstm_1"),
        layers.Dropout(0.3, name="dropout"),
        layers.LSTM(7, name="lstm_2"),
        layers.Dense(3, activation="softmax", name="head"),
    ], name="lstm_classifier")
    randomize(m, 1)
    save("lstm_classifier", m, ids)

    # A bidirectional GRU (reset_after=True, Keras 3's default: the PyTorch/cuDNN form).
    m = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocab, 4, name="embedding"),
        layers.Bidirectional(layers.GRU(5), name="bidirectional"),
        layers.Dense(4, name="head"),
    ], name="bigru_classifier")
    randomize(m, 2)
    save("bigru_classifier", m, ids)

    # Numeric input: a SimpleRNN regressor of one number.
    x = np.random.default_rng(3).normal(size=(batch, steps, 2)).astype(np.float32)
    m = keras.Sequential([
        keras.Input(shape=(None, 2)),
        layers.SimpleRNN(6, name="simple_rnn"),
        layers.Dense(1, name="head"),
    ], name="rnn_regressor")
    randomize(m, 3)
    save("rnn_regressor", m, x)

    # The original GRU form (reset_after=False), per step: a character language model.
    m = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocab, 4, name="embedding"),
        layers.GRU(6, reset_after=False, return_sequences=True, name="gru"),
        layers.Dense(vocab, name="head"),
    ], name="gru_lm")
    randomize(m, 4)
    save("gru_lm", m, ids)

    # A SimpleRNN with relu, per step, two layers: also a language model.
    m = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocab, 4, name="embedding"),
        layers.SimpleRNN(5, activation="relu", return_sequences=True, name="rnn_1"),
        layers.SimpleRNN(5, activation="relu", return_sequences=True, name="rnn_2"),
        layers.Dense(vocab, activation="softmax", name="head"),
    ], name="relu_lm")
    randomize(m, 5)
    save("relu_lm", m, ids)

    # A layer Recur does not import.
    m = keras.Sequential([
        keras.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocab, 4, name="embedding"),
        layers.Conv1D(4, 3, name="conv"),
        layers.LSTM(3, name="lstm"),
        layers.Dense(2, name="head"),
    ], name="conv_lstm")
    m.save(os.path.join(HERE, "conv_lstm.keras"))
    deflate(os.path.join(HERE, "conv_lstm.keras"))

    damage(os.path.join(HERE, "lstm_classifier.keras"), os.path.join(HERE, "damaged.keras"))


def damage(src, dst):
    """A copy of src whose layers/lstm_1 (layer lstm_2) recurrent kernel is [7, 27], not [7, 28]."""
    work = tempfile.mkdtemp()
    try:
        with zipfile.ZipFile(src) as z:
            z.extractall(work)
        with h5py.File(os.path.join(work, "model.weights.h5"), "r+") as f:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            target = [n for n in names if "lstm_1" in n and n.endswith("vars/1")][0]
            del f[target]
            f[target] = np.zeros((7, 27), np.float32)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
            for n in ("metadata.json", "config.json", "model.weights.h5"):
                z.write(os.path.join(work, n), n)
        print(f"damaged: {target} -> [7, 27]")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
