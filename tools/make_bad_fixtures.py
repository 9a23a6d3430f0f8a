"""Dev-only: writes the models the frontend must reject, into tests/fixtures/bad/.

Run with a Python that has TensorFlow (not needed by the tests):
    python tools/make_bad_fixtures.py
"""
from pathlib import Path

import numpy as np
import tensorflow as tf

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bad"


def small_model():
    tf.keras.utils.set_random_seed(1)
    inp = tf.keras.Input((8, 8, 2), batch_size=1)
    x = tf.keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(64, activation="relu")(x)  # over 1024 weights, so dynamic-range quantizes it
    return tf.keras.Model(inp, tf.keras.layers.Dense(3)(x))


def rep():
    rng = np.random.default_rng(0)
    for _ in range(16):
        yield [rng.standard_normal((1, 8, 8, 2)).astype(np.float32)]


def convert(model, mode):
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode in ("dynamic", "int8"):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        c.representative_dataset = rep
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    return c.convert()


def unsupported_op_model():
    tf.keras.utils.set_random_seed(2)
    inp = tf.keras.Input((16,), batch_size=1)
    x = tf.keras.layers.Dense(8)(inp)
    x = tf.keras.layers.Activation("exponential")(x)  # EXP has no mcugen kernel
    return tf.keras.Model(inp, x)


def rep16():
    rng = np.random.default_rng(0)
    for _ in range(16):
        yield [rng.standard_normal((1, 16)).astype(np.float32)]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    m = small_model()
    (OUT / "float32.tflite").write_bytes(convert(m, "float"))
    (OUT / "dynamic_range.tflite").write_bytes(convert(m, "dynamic"))
    (OUT / "good_int8.tflite").write_bytes(convert(m, "int8"))
    c = tf.lite.TFLiteConverter.from_keras_model(unsupported_op_model())
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep16
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    (OUT / "unsupported_exp.tflite").write_bytes(c.convert())
    for p in sorted(OUT.glob("*.tflite")):
        print(p.name, p.stat().st_size)


if __name__ == "__main__":
    main()
