"""Dev-only: builds the fixture zoo in tests/fixtures/zoo.

Small Keras models are converted by the real TensorFlow Lite converter to
full-integer int8 models; TFLM (the `tflite_micro` package) then computes
the reference outputs, and tflite-runtime 2.14 with BUILTIN_REF is checked
against it. Two steps, because TensorFlow and tflite-runtime 2.14 need
different numpy majors:

    /tmp/tfvenv/bin/python tools/make_fixtures.py convert [NAME ...]   # TF 2.x venv
    .venv/bin/python tools/make_fixtures.py outputs [NAME ...]         # project venv

`convert` writes NAME.tflite; `outputs` writes NAME.npz and README.md.
Everything is seeded, so re-running gives the same files for the same
TensorFlow version. Tests never import this module.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
N_SAMPLES = 5
N_REP = 32


@dataclass
class Fixture:
    name: str
    covers: str
    ops: tuple[str, ...]  # operators the model must contain after conversion
    build: Callable  # (tf, keras, layers) -> keras.Model
    io: str = "int8"  # "int8" or "float32" at the model's edges
    per_tensor: bool = False  # converter._experimental_disable_per_channel
    rep_scale: tuple[float, ...] = ()  # std of the representative data, per input
    pin: tuple[int, ...] = ()  # values for dynamic (-1) dims, in order, see _pin_dynamic_dims


FIXTURES: list[Fixture] = []


def fixture(name, covers, ops, **kw):
    def wrap(fn):
        FIXTURES.append(Fixture(name=name, covers=covers, ops=tuple(ops), build=fn, **kw))
        return fn
    return wrap


_N_INPUTS = [0]


def _in(keras, shape, batch=1):
    # named in0, in1, ... so the converter's (name-sorted) input order is the
    # order the builder created them in
    k = _N_INPUTS[0]
    _N_INPUTS[0] += 1
    return keras.Input(shape, batch_size=batch, name=f"in{k}")


# ---- CONV_2D ------------------------------------------------------------------

@fixture("conv_rgb_s2_same_relu", "first layer: 3 input channels, 3x3 stride 2 SAME on odd 9x9 input, fused RELU, per-channel", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (9, 9, 3))
    return keras.Model(x, L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x))


@fixture("conv_7x5_valid_relu6", "7x5 input, 3x3 VALID, fused RELU6", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (7, 5, 4))
    return keras.Model(x, L.Conv2D(6, 3, padding="valid", activation=tf.nn.relu6)(x))


@fixture("conv_dilation2_same", "3x3 dilation 2 SAME on 10x9, no activation", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (10, 9, 4))
    return keras.Model(x, L.Conv2D(5, 3, dilation_rate=2, padding="same")(x))


@fixture("conv_1xn_nx1", "1x5 SAME + RELU, then 5x1 VALID with stride (2,1)", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (8, 8, 4))
    y = L.Conv2D(6, (1, 5), padding="same", activation="relu")(x)
    return keras.Model(x, L.Conv2D(4, (5, 1), strides=(2, 1), padding="valid")(y))


@fixture("conv_1x1_per_tensor", "1x1 conv, 8->16 channels, per-tensor weights", ["CONV_2D"], per_tensor=True)
def _(tf, keras, L):
    x = _in(keras, (6, 6, 8))
    return keras.Model(x, L.Conv2D(16, 1)(x))


@fixture("conv_per_tensor_s23_valid", "3x2 kernel, strides (2,3) VALID on 11x8, RELU, per-tensor weights", ["CONV_2D"], per_tensor=True)
def _(tf, keras, L):
    x = _in(keras, (11, 8, 3))
    return keras.Model(x, L.Conv2D(4, (3, 2), strides=(2, 3), padding="valid", activation="relu")(x))


@fixture("conv_even_kernel_no_bias", "4x4 kernel stride 2 SAME (asymmetric padding), use_bias=False", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (8, 7, 4))
    return keras.Model(x, L.Conv2D(8, 4, strides=2, padding="same", use_bias=False)(x))


@fixture("conv_deep_accumulate", "3x3 SAME with 24 input channels (long accumulations), RELU6", ["CONV_2D"], rep_scale=(2.0,))
def _(tf, keras, L):
    x = _in(keras, (5, 5, 24))
    return keras.Model(x, L.Conv2D(12, 3, padding="same", activation=tf.nn.relu6)(x))


@fixture("conv_clip_n1_1", "conv followed by clip to [-1,1], which the converter fuses as RELU_N1_TO_1", ["CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (6, 6, 3))
    y = L.Conv2D(4, 3, padding="same")(x)
    return keras.Model(x, L.Lambda(lambda t: tf.clip_by_value(t, -1.0, 1.0))(y))


@fixture("conv_float_io", "float32 I/O (QUANTIZE/DEQUANTIZE edges), 3x3 s2 VALID RELU then 3x3 SAME", ["QUANTIZE", "CONV_2D", "DEQUANTIZE"], io="float32")
def _(tf, keras, L):
    x = _in(keras, (12, 12, 2))
    y = L.Conv2D(4, 3, strides=2, padding="valid", activation="relu")(x)
    return keras.Model(x, L.Conv2D(3, 3, padding="same")(y))


# ---- DEPTHWISE_CONV_2D ----------------------------------------------------------

@fixture("dw_3x3_s1_same_relu6", "depthwise 3x3 stride 1 SAME, RELU6", ["DEPTHWISE_CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (8, 8, 6))
    return keras.Model(x, L.DepthwiseConv2D(3, padding="same", activation=tf.nn.relu6)(x))


@fixture("dw_3x3_s2_valid_relu", "depthwise 3x3 stride 2 VALID on 9x7, RELU", ["DEPTHWISE_CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (9, 7, 4))
    return keras.Model(x, L.DepthwiseConv2D(3, strides=2, padding="valid", activation="relu")(x))


@fixture("dw_multiplier2", "depthwise 3x3 SAME, depth multiplier 2 (3 -> 6 channels)", ["DEPTHWISE_CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (6, 5, 3))
    return keras.Model(x, L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x))


@fixture("dw_dilation2", "depthwise 3x3 dilation 2 SAME", ["DEPTHWISE_CONV_2D"])
def _(tf, keras, L):
    x = _in(keras, (9, 9, 4))
    return keras.Model(x, L.DepthwiseConv2D(3, dilation_rate=2, padding="same")(x))


@fixture("dw_s2_same_per_tensor", "depthwise 3x3 stride 2 SAME on even 8x8, per-tensor weights, multiplier 2", ["DEPTHWISE_CONV_2D"], per_tensor=True)
def _(tf, keras, L):
    x = _in(keras, (8, 8, 5))
    return keras.Model(x, L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")(x))


# ---- FULLY_CONNECTED --------------------------------------------------------------

@fixture("fc_two_layers", "Dense 32->16 RELU -> Dense 10", ["FULLY_CONNECTED"])
def _(tf, keras, L):
    x = _in(keras, (32,))
    return keras.Model(x, L.Dense(10)(L.Dense(16, activation="relu")(x)))


@fixture("fc_keep_num_dims", "Dense on a 3-D input [1,4,12] (keep_num_dims), then another Dense with RELU6", ["FULLY_CONNECTED"])
def _(tf, keras, L):
    x = _in(keras, (4, 12))
    y = L.Dense(8)(x)
    return keras.Model(x, L.Dense(5, activation=tf.nn.relu6)(y))


@fixture("fc_batch3", "FULLY_CONNECTED with 3 batch rows, RELU", ["FULLY_CONNECTED"])
def _(tf, keras, L):
    x = _in(keras, (20,), batch=3)
    return keras.Model(x, L.Dense(7, activation="relu")(x))


@fixture("fc_no_bias_per_tensor", "Dense without bias, per-tensor weights", ["FULLY_CONNECTED"], per_tensor=True)
def _(tf, keras, L):
    x = _in(keras, (24,))
    return keras.Model(x, L.Dense(12, use_bias=False)(x))


# ---- TRANSPOSE_CONV ---------------------------------------------------------------

@fixture("tconv_s2_same", "Conv2DTranspose 3x3 stride 2 SAME with bias", ["TRANSPOSE_CONV"])
def _(tf, keras, L):
    x = _in(keras, (4, 4, 4))
    return keras.Model(x, L.Conv2DTranspose(6, 3, strides=2, padding="same")(x))


@fixture("tconv_s2_valid", "Conv2DTranspose 3x3 stride 2 VALID on 3x5 with bias, then RELU", ["TRANSPOSE_CONV"])
def _(tf, keras, L):
    x = _in(keras, (3, 5, 3))
    return keras.Model(x, L.ReLU()(L.Conv2DTranspose(4, 3, strides=2, padding="valid")(x)))


@fixture("tconv_even_kernel_float_io", "float32 I/O, Conv2DTranspose 4x4 stride 2 SAME, no bias", ["QUANTIZE", "TRANSPOSE_CONV", "DEQUANTIZE"], io="float32")
def _(tf, keras, L):
    x = _in(keras, (3, 3, 2))
    return keras.Model(x, L.Conv2DTranspose(3, 4, strides=2, padding="same", use_bias=False)(x))


# ---- pooling and MEAN ---------------------------------------------------------------

@fixture("avgpool_variants", "AVERAGE_POOL_2D: 3x3 s2 SAME (edge windows hold fewer values), 2x2 s2 VALID, 3x2 strides (1,2) VALID",
         ["AVERAGE_POOL_2D"])
def _(tf, keras, L):
    x = _in(keras, (9, 9, 4))
    return keras.Model(x, [L.AveragePooling2D(3, 2, padding="same")(x), L.AveragePooling2D(2, 2, padding="valid")(x),
                           L.AveragePooling2D((3, 2), (1, 2), padding="valid")(x)])


@fixture("maxpool_variants", "MAX_POOL_2D: 3x3 s2 SAME, 2x2 s2 VALID, 2x3 strides (1,2) VALID on 7x8", ["MAX_POOL_2D"])
def _(tf, keras, L):
    x = _in(keras, (7, 8, 3))
    return keras.Model(x, [L.MaxPooling2D(3, 2, padding="same")(x), L.MaxPooling2D(2, 2, padding="valid")(x),
                           L.MaxPooling2D((2, 3), (1, 2), padding="valid")(x)])


@fixture("mean_global_avg", "GlobalAveragePooling2D (MEAN over H,W), with and without keepdims", ["MEAN"])
def _(tf, keras, L):
    x = _in(keras, (5, 7, 8))
    return keras.Model(x, [L.GlobalAveragePooling2D()(x), L.GlobalAveragePooling2D(keepdims=True)(x)])


@fixture("mean_other_axes", "reduce_mean over channels (keepdims), over H, and over W,C", ["MEAN"], rep_scale=(3.0,))
def _(tf, keras, L):
    x = _in(keras, (4, 6, 8))
    return keras.Model(x, [L.Lambda(lambda t: tf.reduce_mean(t, axis=3, keepdims=True))(x),
                           L.Lambda(lambda t: tf.reduce_mean(t, axis=1))(x),
                           L.Lambda(lambda t: tf.reduce_mean(t, axis=[2, 3]))(x)])


# ---- ADD / SUB / MUL ------------------------------------------------------------------

@fixture("add_same_shape_relu", "ADD of two inputs, same shape, different scales, RELU fused", ["ADD"], rep_scale=(1.0, 3.0))
def _(tf, keras, L):
    a, b = _in(keras, (4, 4, 8)), _in(keras, (4, 4, 8))
    return keras.Model([a, b], L.ReLU()(L.Add()([a, b])))


@fixture("add_broadcast", "ADD [1,4,4,8] + [1,1,1,8] and [1,4,4,8] + [1,4,1,1] (broadcast)", ["ADD"], rep_scale=(1.0, 0.5, 2.0))
def _(tf, keras, L):
    a, b, c = _in(keras, (4, 4, 8)), _in(keras, (1, 1, 8)), _in(keras, (4, 1, 1))
    return keras.Model([a, b, c], [L.Lambda(lambda t: t[0] + t[1])([a, b]), L.Lambda(lambda t: t[0] + t[1])([a, c])])


@fixture("elementwise_const", "x + const vector, x - const vector, x * const vector, x * scalar", ["ADD", "MUL"])
def _(tf, keras, L):
    x = _in(keras, (3, 4, 6))
    c1 = np.linspace(-1.5, 2.0, 6).astype(np.float32)
    c2 = np.linspace(0.2, 1.7, 6).astype(np.float32)
    return keras.Model(x, [L.Lambda(lambda t: t + c1)(x), L.Lambda(lambda t: t - c2)(x),
                           L.Lambda(lambda t: t * c2)(x), L.Lambda(lambda t: t * -0.75)(x)])


@fixture("sub_variants", "SUB same shape, SUB broadcast [1,3,5,4] - [1,1,5,1], and SUB followed by RELU", ["SUB"], rep_scale=(1.0, 2.0, 0.7))
def _(tf, keras, L):
    a, b, c = _in(keras, (3, 5, 4)), _in(keras, (3, 5, 4)), _in(keras, (1, 5, 1))
    return keras.Model([a, b, c], [L.Subtract()([a, b]), L.Lambda(lambda t: t[0] - t[1])([a, c]),
                                   L.ReLU()(L.Subtract()([b, a]))])


@fixture("mul_variants", "MUL same shape, MUL broadcast [1,4,4,8] * [1,1,1,8], MUL followed by RELU", ["MUL"], rep_scale=(1.0, 2.0, 0.5))
def _(tf, keras, L):
    a, b, c = _in(keras, (4, 4, 8)), _in(keras, (4, 4, 8)), _in(keras, (1, 1, 8))
    return keras.Model([a, b, c], [L.Multiply()([a, b]), L.Lambda(lambda t: t[0] * t[1])([a, c]),
                                   L.ReLU()(L.Multiply()([b, a]))])


# ---- shape operators --------------------------------------------------------------------

@fixture("concat_requantize", "CONCATENATION of x, sigmoid(x), tanh(x): fixed-scale inputs make the converter insert int8->int8 QUANTIZE",
         ["CONCATENATION", "QUANTIZE", "LOGISTIC", "TANH"], rep_scale=(2.0,))
def _(tf, keras, L):
    x = _in(keras, (3, 3, 4))
    return keras.Model(x, L.Concatenate()([x, L.Activation("sigmoid")(x), L.Activation("tanh")(x)]))


@fixture("concat_axes", "CONCATENATION along axis 3, 1 and 2 of two inputs with different ranges", ["CONCATENATION"], rep_scale=(1.0, 4.0))
def _(tf, keras, L):
    a, b = _in(keras, (3, 4, 2)), _in(keras, (3, 4, 5))
    return keras.Model([a, b], [L.Concatenate(axis=3)([a, b]), L.Concatenate(axis=1)([a, L.ReLU()(a)]),
                                L.Concatenate(axis=2)([b, b])])


@fixture("split_and_split_v", "SPLIT into 3 along W, SPLIT_V [1,2,3] along C, SPLIT_V [3,1] along H", ["SPLIT", "SPLIT_V"])
def _(tf, keras, L):
    x = _in(keras, (4, 6, 6))
    s1 = L.Lambda(lambda t: tf.split(t, 3, axis=2))(x)
    s2 = L.Lambda(lambda t: tf.split(t, [1, 2, 3], axis=3))(x)
    s3 = L.Lambda(lambda t: tf.split(t, [3, 1], axis=1))(x)
    return keras.Model(x, list(s1) + list(s2) + list(s3))


@fixture("strided_slice_variants", "STRIDED_SLICE: steps 2, negative strides, shrink axis, begin/end masks, negative indices",
         ["STRIDED_SLICE"])
def _(tf, keras, L):
    x = _in(keras, (8, 7, 6))
    return keras.Model(x, [L.Lambda(lambda t: t[:, 1:7:2, ::-1, 2:5])(x),
                           L.Lambda(lambda t: t[:, 2])(x),
                           L.Lambda(lambda t: t[:, :3, 1:, ::2])(x),
                           L.Lambda(lambda t: t[:, -3:, -1:-6:-2, :])(x),
                           L.Lambda(lambda t: t[:, ::-3, 5, 1::4])(x)])


@fixture("pad_zero", "PAD with zeros: [1,2] x [2,1] spatially, and on channels", ["PAD"])
def _(tf, keras, L):
    x = _in(keras, (4, 5, 3))
    return keras.Model(x, [L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 1], [0, 0]]))(x),
                           L.Lambda(lambda t: tf.pad(t, [[0, 0], [0, 0], [0, 0], [1, 2]]))(x)])


@fixture("padv2_constant", "PADV2: tf.pad with constant_values 0.5 (int8 pad value)", ["PADV2"])
def _(tf, keras, L):
    x = _in(keras, (4, 4, 3))
    return keras.Model(x, L.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 2], [0, 1], [0, 0]], constant_values=0.5))(x))


@fixture("reshape_flatten", "RESHAPE [1,4,6,2] -> [1,6,8] and Flatten -> [1,48]", ["RESHAPE"])
def _(tf, keras, L):
    x = _in(keras, (4, 6, 2))
    return keras.Model(x, [L.Reshape((6, 8))(x), L.Flatten()(x)])


@fixture("squeeze", "SQUEEZE axis 2 of [1,4,1,5,3]; made with dynamic dims (the converter turns static squeezes into RESHAPE), "
         "then the dims were pinned in the flatbuffer", ["SQUEEZE"], pin=(4, 5))
def _(tf, keras, L):
    x = keras.Input((None, 1, None, 3), batch_size=1, name="in0")
    return keras.Model(x, L.Lambda(lambda t: tf.squeeze(t, axis=[2]))(x))


# ---- activations -------------------------------------------------------------------------

@fixture("softmax_variants", "SOFTMAX on [1,12], on softmax(2.5*x) (converter keeps a MUL, beta stays 1), on [1,2,3,5] "
         "(last axis), and on a narrow-range [1,7]", ["SOFTMAX", "MUL"], rep_scale=(3.0, 2.0, 0.2))
def _(tf, keras, L):
    a, b, c = _in(keras, (12,)), _in(keras, (2, 3, 5)), _in(keras, (7,))
    return keras.Model([a, b, c], [L.Softmax()(a), L.Lambda(lambda t: tf.nn.softmax(t * 2.5))(a), L.Softmax()(b),
                                   L.Softmax()(c)])


@fixture("logistic_tanh", "LOGISTIC and TANH over a wide input range (saturation)", ["LOGISTIC", "TANH"], rep_scale=(4.0,))
def _(tf, keras, L):
    x = _in(keras, (4, 16))
    return keras.Model(x, [L.Activation("sigmoid")(x), L.Activation("tanh")(x)])


@fixture("logistic_tanh_narrow", "LOGISTIC and TANH on a narrow input range (small input scale)", ["LOGISTIC", "TANH"],
         rep_scale=(0.05,))
def _(tf, keras, L):
    x = _in(keras, (3, 10))
    return keras.Model(x, [L.Activation("sigmoid")(x), L.Activation("tanh")(x)])


@fixture("relu_relu6", "standalone RELU and RELU6 (not fused into a producer)", ["RELU", "RELU6"], rep_scale=(4.0,))
def _(tf, keras, L):
    x = _in(keras, (5, 6))
    return keras.Model(x, [L.ReLU()(x), L.ReLU(6.0)(x)])


@fixture("leaky_relu", "LEAKY_RELU alpha 0.1 and 0.3", ["LEAKY_RELU"], rep_scale=(2.0,))
def _(tf, keras, L):
    x = _in(keras, (3, 4, 5))
    return keras.Model(x, [L.LeakyReLU(0.1)(x), L.LeakyReLU(0.3)(x)])


@fixture("hard_swish", "HARD_SWISH fused from x*relu6(x+3)/6", ["HARD_SWISH"], rep_scale=(3.0,))
def _(tf, keras, L):
    x = _in(keras, (4, 4, 8))
    return keras.Model(x, L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0)(x))


@fixture("activations_float_io", "float32 I/O around LOGISTIC, TANH, HARD_SWISH and LEAKY_RELU",
         ["QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU"], io="float32", rep_scale=(3.0,))
def _(tf, keras, L):
    x = _in(keras, (2, 3, 8))
    return keras.Model(x, [L.Activation("sigmoid")(x), L.Activation("tanh")(x),
                           L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) * (1.0 / 6.0))(x), L.LeakyReLU(0.2)(x)])


# ---- realistic small nets ----------------------------------------------------------------

@fixture("tiny_cnn_classifier", "conv s2 RELU -> depthwise RELU -> 1x1 conv RELU -> maxpool -> GAP -> dense -> softmax",
         ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"])
def _(tf, keras, L):
    x = _in(keras, (16, 16, 1))
    y = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu")(y)
    y = L.Conv2D(12, 1, activation="relu")(y)
    y = L.MaxPooling2D(2)(y)
    y = L.GlobalAveragePooling2D()(y)
    return keras.Model(x, L.Softmax()(L.Dense(10)(y)))


@fixture("tiny_mobilenet_block", "float32 I/O; inverted residual: 1x1 expand RELU6, dw 3x3 RELU6, 1x1 project, residual ADD; "
         "then a stride-2 block with HARD_SWISH, GAP and a dense head",
         ["QUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "HARD_SWISH", "MEAN", "FULLY_CONNECTED", "DEQUANTIZE"], io="float32")
def _(tf, keras, L):
    x = _in(keras, (12, 12, 8))
    y = L.Conv2D(24, 1, activation=tf.nn.relu6)(x)
    y = L.DepthwiseConv2D(3, padding="same", activation=tf.nn.relu6)(y)
    y = L.Conv2D(8, 1)(y)
    y = L.Add()([x, y])
    z = L.Conv2D(16, 1)(y)
    z = L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0)(z)
    z = L.DepthwiseConv2D(3, strides=2, padding="same", activation=tf.nn.relu6)(z)
    z = L.Conv2D(12, 1)(z)
    z = L.GlobalAveragePooling2D()(z)
    return keras.Model(x, L.Dense(5)(z))


@fixture("tiny_mlp", "float32 I/O; Dense 20->32 RELU -> 16 RELU -> 4 softmax",
         ["QUANTIZE", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"], io="float32")
def _(tf, keras, L):
    x = _in(keras, (20,))
    y = L.Dense(32, activation="relu")(x)
    y = L.Dense(16, activation="relu")(y)
    return keras.Model(x, L.Dense(4, activation="softmax")(y))


@fixture("two_in_two_out", "float32 I/O with two inputs (image, vector) and two outputs (softmax class, linear value)",
         ["QUANTIZE", "CONV_2D", "MEAN", "FULLY_CONNECTED", "CONCATENATION", "SOFTMAX", "DEQUANTIZE"],
         io="float32", rep_scale=(1.0, 2.0))
def _(tf, keras, L):
    img, vec = _in(keras, (8, 8, 3)), _in(keras, (6,))
    a = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(img)
    a = L.GlobalAveragePooling2D()(a)
    b = L.Dense(8, activation="relu")(vec)
    h = L.Concatenate()([a, b])
    return keras.Model([img, vec], [L.Dense(3, activation="softmax")(h), L.Dense(1)(h)])


@fixture("int8_multi_io_residual", "int8 I/O, two inputs and two outputs: conv branch + residual ADD, pooled and flattened heads",
         ["CONV_2D", "ADD", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED"], rep_scale=(1.0, 1.5))
def _(tf, keras, L):
    a, b = _in(keras, (6, 6, 4)), _in(keras, (6, 6, 4))
    y = L.Conv2D(4, 3, padding="same", activation="relu")(a)
    y = L.Add()([y, b])
    p = L.AveragePooling2D(2)(y)
    return keras.Model([a, b], [p, L.Dense(3)(L.Flatten()(p))])


# ---- convert (TensorFlow venv) ---------------------------------------------------------------


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def _randomize_weights(model, rng) -> None:
    # Keras initialises biases to zero, which would leave bias arithmetic untested.
    for layer in model.layers:
        new = []
        for w in layer.get_weights():
            if w.ndim == 1:
                new.append(rng.normal(0.0, 0.3, w.shape).astype(np.float32))
            else:
                fan = int(np.prod(w.shape[:-1]))
                limit = np.sqrt(3.0 / max(fan, 1)) * 1.5
                new.append(rng.uniform(-limit, limit, w.shape).astype(np.float32))
        if new:
            layer.set_weights(new)


def _input_shapes(model, fx: Fixture) -> list[list[int]]:
    shapes = []
    for t in model.inputs:
        dims = list(t.shape)
        pins = iter(fx.pin)
        shapes.append([d if d is not None else next(pins) for d in dims])
    return shapes


def _pin_dynamic_dims(buf: bytes, pin: tuple[int, ...]) -> bytes:
    """Replaces the k-th dynamic (-1) dim of every tensor by pin[k] and drops
    shape_signature, so the model is fully static."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(buf))
    for sg in model.subgraphs:
        for t in sg.tensors:
            if t.shapeSignature is None or -1 not in list(t.shapeSignature):
                continue
            pins = iter(pin)
            t.shape = np.array([d if d != -1 else next(pins) for d in t.shapeSignature], dtype=np.int32)
            t.shapeSignature = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def convert(fx: Fixture) -> bytes:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf

    keras = tf.keras
    seed = _seed(fx.name)
    keras.utils.set_random_seed(seed)
    keras.backend.clear_session()
    _N_INPUTS[0] = 0
    model = fx.build(tf, keras, keras.layers)
    rng = np.random.default_rng(seed)
    _randomize_weights(model, rng)
    shapes = _input_shapes(model, fx)
    scales = fx.rep_scale or (1.0,) * len(shapes)
    rep_rng = np.random.default_rng(seed + 1)
    names = [t.name.split(":")[0] for t in model.inputs]
    assert names == sorted(names), names
    rep = [{n: (rep_rng.normal(size=s) * scales[k]).astype(np.float32) for k, (n, s) in enumerate(zip(names, shapes))}
           for _ in range(N_REP)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: iter(rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    io = tf.int8 if fx.io == "int8" else tf.float32
    conv.inference_input_type = io
    conv.inference_output_type = io
    if fx.per_tensor:
        conv._experimental_disable_per_channel = True
    buf = conv.convert()
    if fx.pin:
        buf = _pin_dynamic_dims(buf, fx.pin)
    return buf


# ---- outputs (project venv: tflite_micro, tflite_runtime, mcugen) -------------------------------


def _op_kinds(buf: bytes) -> list[str]:
    """Operator names straight from the schema, independent of mcugen's frontend."""
    import tflite
    from tflite.BuiltinOperator import BuiltinOperator

    names = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAsModel(buf, 0)
    codes = []
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        codes.append(names[max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))])
    sg = m.Subgraphs(0)
    return [codes[sg.Operators(k).OpcodeIndex()] for k in range(sg.OperatorsLength())]


def _io_details(path: Path, buf: bytes):
    import tflite
    from tflite_micro.python.tflite_micro import runtime

    sg = tflite.Model.GetRootAsModel(buf, 0).Subgraphs(0)
    it = runtime.Interpreter.from_file(str(path))
    ins = [it.get_input_details(k) for k in range(sg.InputsLength())]
    # the converter does not keep the builder's input order; rep_scale is
    # given in builder order, so find each input's builder index by its name
    for k, d in enumerate(ins):
        d["builder_index"] = int(re.search(r"in(\d+)", sg.Tensors(sg.Inputs(k)).Name().decode()).group(1))
    outs = [it.get_output_details(k) for k in range(sg.OutputsLength())]
    return it, ins, outs


def _samples(detail: dict, scale_std: float, rng) -> np.ndarray:
    """Three samples from the representative distribution, two extreme ones
    (full int8 range, or float values beyond the quantized range)."""
    shape = [int(d) for d in detail["shape"]]
    q = detail["quantization_parameters"]
    rep = rng.normal(size=[N_SAMPLES] + shape) * scale_std
    if detail["dtype"] == np.float32:
        rep[3:] *= 4.0
        return rep.astype(np.float32)
    s, zp = float(q["scales"][0]), int(q["zero_points"][0])
    x = np.clip(np.round(rep / s) + zp, -128, 127)
    x[3:] = rng.integers(-128, 128, size=[N_SAMPLES - 3] + shape)
    return x.astype(np.int8)


def _tflite_runtime_outputs(path: Path, inputs: list[np.ndarray]):
    from tflite_runtime.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ind, outd = it.get_input_details(), it.get_output_details()
    result = [[] for _ in outd]
    for s in range(N_SAMPLES):
        for d, x in zip(ind, inputs):
            it.set_tensor(d["index"], x[s])
        it.invoke()
        for k, d in enumerate(outd):
            result[k].append(it.get_tensor(d["index"]).copy())
    return [np.stack(r) for r in result]


def outputs(fx: Fixture) -> dict:
    path = ZOO / f"{fx.name}.tflite"
    buf = path.read_bytes()
    kinds = _op_kinds(buf)
    missing = [k for k in fx.ops if k not in kinds]
    it, ins, outs = _io_details(path, buf)
    rng = np.random.default_rng(_seed(fx.name) + 2)
    scales = fx.rep_scale or (1.0,) * len(ins)
    xs = [_samples(d, scales[d['builder_index']], rng) for d in ins]
    ys = [[] for _ in outs]
    for s in range(N_SAMPLES):
        for k, x in enumerate(xs):
            it.set_input(x[s], k)
        it.invoke()
        for k in range(len(outs)):
            ys[k].append(np.array(it.get_output(k)).copy())
    ys = [np.stack(y) for y in ys]
    arrays = {f"input_{k}": x for k, x in enumerate(xs)}
    arrays.update({f"output_{k}": y for k, y in enumerate(ys)})
    np.savez_compressed(ZOO / f"{fx.name}.npz", **arrays)

    try:
        ref = _tflite_runtime_outputs(path, xs)
        diffs = []
        for k, (a, b) in enumerate(zip(ys, ref)):
            if a.shape != b.shape or not np.array_equal(a, b):
                n = int(np.sum(a != b)) if a.shape == b.shape else -1
                md = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.shape == b.shape else float("nan")
                diffs.append(f"output_{k}: {n}/{a.size} differ, max {md:g}")
        agree = "yes" if not diffs else "NO: " + "; ".join(diffs)
    except Exception as e:  # an op version tflite-runtime 2.14 does not know, say
        agree = f"could not run: {str(e).split('. ')[0]}"

    frontend = "ok"
    try:
        from mcugen.frontend import load
        load(path)
    except Exception as e:
        frontend = f"{type(e).__name__}: {e}"

    def fmt(details):
        return ", ".join(f"{np.dtype(d['dtype']).name}{[int(v) for v in d['shape']]}" for d in details)

    return dict(name=fx.name, kinds=kinds, missing=missing, agree=agree, frontend=frontend, size=len(buf),
                inputs=fmt(ins), outputs=fmt(outs))


README_HEAD = """# Fixture zoo

Small full-integer int8 models made by the real TensorFlow Lite converter
(TF {tf}), with reference outputs computed by TFLM (the `tflite_micro`
package, reference kernels). `tests/test_zoo.py` runs every model through
`mcugen.reference` and requires bit-exact equality with these outputs, and
checks that the zoo covers every operator in `mcugen.frontend.SUPPORTED_OPS`.

Regenerate with `tools/make_fixtures.py` (dev-only, needs TensorFlow):

    /tmp/tfvenv/bin/python tools/make_fixtures.py convert    # writes *.tflite
    .venv/bin/python tools/make_fixtures.py outputs          # writes *.npz and this file

How the models were made: Keras (tf_keras) functional models with weights
drawn from a seeded numpy generator (biases non-zero), converted with
`optimizations=[Optimize.DEFAULT]`, a seeded {n_rep}-sample representative
dataset (normal, std per input as noted), `supported_ops=[TFLITE_BUILTINS_INT8]`,
and int8 or float32 inference I/O. "per-tensor" models were converted with
`converter._experimental_disable_per_channel = True`.

Each `NAME.npz` holds `input_K` with {n} samples stacked on a new first axis
(dtype of the model input: int8, or float32 for float-I/O models) and
`output_K` the TFLM outputs, in the model's input/output order. Samples 0-2
come from the representative distribution; samples 3-4 are extreme (uniform
over the whole int8 range, or floats 4x wider than calibrated, which saturate
in QUANTIZE).

"tflite-runtime" says whether tflite-runtime 2.14 with
`OpResolverType.BUILTIN_REF` gives the same outputs as TFLM.

## Fixtures

| model | I/O | operators (after conversion) | what it covers | bytes | tflite-runtime |
|---|---|---|---|---:|---|"""

README_NOTES = """
## Where the two oracles disagree (TFLM is the one mcugen must match)

- `relu_relu6`, output 0 (RELU6): TFLM's RELU6 does not requantize. Its
  Prepare takes `zero = input zero point` and `six = quantize(6.0)` with the
  *input* scale and zero point, and Eval only clamps the input values into
  `[zero, six]`, writing them unchanged even though the converter gave the
  output a different scale and zero point (here input 0.0907/2, output
  0.0235/-128). tflite-runtime requantizes, so all 150 values differ. RELU
  (output 1) does requantize in TFLM (CalculateReluOpData) and both agree.
  The converter produces a standalone RELU6 with different in/out
  quantization whenever it cannot fuse it (here: directly on a graph input).
- `fc_keep_num_dims`: tflite-runtime 2.14's BUILTIN_REF int8 FULLY_CONNECTED
  is wrong for a 3-D output ([1,4,8] with keep_num_dims): most values differ.
  The optimized BUILTIN resolver of the same tflite-runtime agrees with TFLM
  exactly, so the committed (TFLM) outputs are taken as right. The
  BUILTIN_REF result even changes from run to run (91 or 92 of 100 values
  differ), so it reads memory it never wrote.
- `tconv_s2_valid`: the converter fused the RELU into TRANSPOSE_CONV, which
  makes it TRANSPOSE_CONV version 4; tflite-runtime 2.14 does not know that
  version, so only TFLM checked this one.

## What the converter does with some patterns

- `tf.squeeze` on static shapes becomes RESHAPE. The `squeeze` fixture was
  converted with dynamic dims (input `[1,None,1,None,3]`), which keeps a real
  SQUEEZE; the two dynamic dims were then pinned to 4 and 5 in the flatbuffer
  (`shape` set, `shape_signature` dropped). No other fixture was edited after
  conversion.
- `tf.nn.softmax(x * beta)` is not fused: the converter keeps a MUL and a
  SOFTMAX with beta = 1. No converter path gives beta != 1, so no fixture
  has one.
- CONCATENATION: the converter gives every input the output's scale where it
  can (even graph inputs). Inputs with fixed output scales (LOGISTIC 1/256,
  TANH 1/128) or a graph input that also feeds another concatenation get an
  int8->int8 QUANTIZE (requantize) in front instead (`concat_requantize`,
  `concat_axes`).
- Fused activations: ADD+ReLU and SUB+ReLU fuse into the op; MUL+ReLU does
  not (a standalone RELU follows, `mul_variants`); Conv2D+clip(-1,1) fuses
  into RELU_N1_TO_1 (`conv_clip_n1_1`); Conv2DTranspose+ReLU fuses
  (`tconv_s2_valid`).
- `Conv2D(use_bias=False)` still gets a bias tensor (all zeros);
  `Dense(use_bias=False)` gets no bias input (-1). Conv2DTranspose without
  bias gives a 3-input TRANSPOSE_CONV.
- `x - c` with a constant stays SUB with a constant operand.
- `tf.pad(..., constant_values=c)` with c != 0 gives PADV2 with an int8 scalar
  pad value; plain `tf.pad` gives PAD.
- `x * relu6(x + 3) / 6` (and `* (1/6)`) is fused into HARD_SWISH.
- The converter does not keep the Keras input order (inputs are named
  in0, in1, ... in build order; e.g. `add_broadcast` has in2 first). The npz
  files follow the model's order.
"""


def write_readme(rows: list[dict], tf_version: str) -> None:
    by_name = {f.name: f for f in FIXTURES}
    lines = [README_HEAD.format(tf=tf_version, n=N_SAMPLES, n_rep=N_REP)]
    for r in rows:
        fx = by_name[r["name"]]
        counts: dict[str, int] = {}
        for k in r["kinds"]:
            counts[k] = counts.get(k, 0) + 1
        ops = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in counts.items())
        extra = []
        if fx.per_tensor and "per-tensor" not in fx.covers:
            extra.append("per-tensor")
        if fx.rep_scale and any(s != 1.0 for s in fx.rep_scale):
            extra.append("rep std " + "/".join(f"{s:g}" for s in fx.rep_scale))
        covers = fx.covers + (f" ({', '.join(extra)})" if extra else "")
        io = f"{r['inputs']} -> {r['outputs']}"
        lines.append(f"| {r['name']} | {io} | {ops} | {covers} | {r['size']} | {r['agree']} |")
    lines.append(README_NOTES)
    (ZOO / "README.md").write_text("\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["convert", "outputs", "list"])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--tf-version", default="2.21.0", help="TensorFlow version to name in README.md")
    args = ap.parse_args(argv)
    chosen = [f for f in FIXTURES if not args.names or f.name in args.names]
    unknown = set(args.names) - {f.name for f in FIXTURES}
    if unknown:
        print(f"unknown fixtures: {sorted(unknown)}", file=sys.stderr)
        return 2
    ZOO.mkdir(parents=True, exist_ok=True)
    if args.step == "list":
        for f in FIXTURES:
            print(f.name)
        return 0
    if args.step == "convert":
        import warnings

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.filterwarnings("ignore")
        for fx in chosen:
            buf = convert(fx)
            (ZOO / f"{fx.name}.tflite").write_bytes(buf)
            print(f"{fx.name}: {len(buf)} bytes")
        return 0
    sys.path.insert(0, str(ROOT))
    rows, bad = [], 0
    for fx in chosen:
        r = outputs(fx)
        rows.append(r)
        flag = "" if not r["missing"] and r["agree"] == "yes" and r["frontend"] == "ok" else "  <--"
        print(f"{fx.name}: {' '.join(r['kinds'])} | missing={r['missing']} | runtime={r['agree']} | frontend={r['frontend']}{flag}")
        bad += bool(r["missing"])
    if not args.names:
        write_readme(rows, args.tf_version)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
