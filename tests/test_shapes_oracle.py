"""Oracle: cnnviz's shapes, parameter counts and verdicts against Keras's own, layer by layer.

Every architecture here is built straight from the Keras constructors its JSON names
(`keras.layers.Conv2D(**config)`), not through cnnviz, then run once on a tiny input.
Keras rejects it when a constructor raises, when adding a layer raises, when the forward
pass raises, or when an output has a zero-size axis (cnnviz calls such a shape an error).
cnnviz must reject exactly those, name the same layer, and otherwise report the same
names, output shapes and trainable / non-trainable counts. Then `build_model` and the
import of Keras's own `model.to_json()` are held to the same numbers.

cnnviz is stricter than Keras only by design, and the generator stays inside those
limits: sizes up to MAX_SIZE / MAX_WINDOW, names of letters, digits, '_', '.', '-', the
listed activations and initializers, BatchNormalization on the last axis, channels_last.
It is more lenient only in reading JSON: 3.0 for 3, 'ReLU' for 'relu', and a
SpatialDropout2D `trainable: true` that it does not pass on.

Keras accepts some configurations when it builds the model and fails only later; cnnviz
refuses them when it reads the file (see `deferred_by_keras`): ZeroPadding2D(-1) fails on
the first forward pass, and so do DepthwiseConv2D / SeparableConv2D with unequal strides
and no dilation where TensorFlow runs without its oneDNN kernels
(`cnnviz.backend_rules`); pooling strides of 0, bias_initializer='orthogonal', a
zero-size input and a duplicate name fail when the model is built. Keras checks a Softmax
axis only when the layer is called; a Conv2DTranspose with `same` padding, output_padding 0
and an even kernel builds and fails when called (TensorFlow cannot run it), or, on a 1-pixel
input, builds with a zero-size axis: cnnviz refuses both at that layer's shape.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pytest
from archgen import random_architecture

from cnnviz.archfile import load_architecture
from cnnviz.backend_rules import depthwise_takes_unequal_strides
from cnnviz.fields import Regularizer
from cnnviz.keras_build import build_model
from cnnviz.layers import LAYER_TYPES
from cnnviz.presets import PRESETS
from cnnviz.shapes import ModelSummary, summarize
from cnnviz.spec import ModelSpec, SpecError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # softmax over one unit

GENERATED = 500
UNEQUAL_DEPTHWISE_STRIDES = depthwise_takes_unequal_strides()
Numbers = list[tuple[str, tuple[Any, ...], int, int]]


@dataclass
class KerasOutcome:
    model: keras.Sequential | None
    forward_shape: tuple[int, ...] | None = None  # of the one-image forward pass
    phase: str | None = None  # "constructor", "input", "add", "call" or "zero-size"
    index: int | None = None
    error: BaseException | None = None


@dataclass
class CnnvizOutcome:
    summary: ModelSummary | None
    error: SpecError | None
    phase: str | None  # "construct" (ModelSpec.from_dict) or "shape" (summarize)


def fresh_keras_session() -> None:
    """Default layer names restart at `conv2d`, as cnnviz's `layer_names` assumes."""
    keras.backend.clear_session(free_memory=False)


def keras_outcome(arch: dict[str, Any]) -> KerasOutcome:
    fresh_keras_session()
    layers = []
    for index, entry in enumerate(arch["layers"]):
        try:
            layers.append(getattr(keras.layers, entry["class_name"])(**entry["config"]))
        except Exception as error:  # noqa: BLE001 - any refusal is the verdict
            return KerasOutcome(None, None, "constructor", index, error)
    try:
        model = keras.Sequential([keras.Input(shape=tuple(arch["input_shape"]))])
    except Exception as error:  # noqa: BLE001
        return KerasOutcome(None, None, "input", None, error)
    for index, layer in enumerate(layers):
        try:
            model.add(layer)
        except Exception as error:  # noqa: BLE001
            return KerasOutcome(None, None, "add", index, error)
    try:
        output = model(np.random.rand(1, *arch["input_shape"]).astype("float32"), training=True)
    except Exception as error:  # noqa: BLE001
        return KerasOutcome(None, None, "call", None, error)
    for index, layer in enumerate(model.layers):
        if 0 in layer.output.shape[1:]:
            return KerasOutcome(None, None, "zero-size", index)
    return KerasOutcome(model, tuple(output.shape))


def cnnviz_outcome(arch: dict[str, Any]) -> CnnvizOutcome:
    try:
        spec = ModelSpec.from_dict(arch)
    except SpecError as error:
        return CnnvizOutcome(None, error, "construct")
    summary = summarize(spec)
    return CnnvizOutcome(summary, summary.error, "shape" if summary.error else None)


def keras_numbers(model: keras.Model) -> Numbers:
    def size(weights: list[Any]) -> int:
        return sum(int(np.prod(weight.shape)) for weight in weights)

    return [
        (layer.name, tuple(layer.output.shape), size(layer.trainable_weights),
         size(layer.non_trainable_weights))
        for layer in model.layers
    ]  # fmt: skip


def cnnviz_numbers(summary: ModelSummary) -> Numbers:
    return [
        (layer.name, layer.keras_output_shape, layer.trainable_params,
         layer.non_trainable_params)
        for layer in summary.layers
    ]  # fmt: skip


def deferred_by_keras(error: SpecError) -> bool:
    """Checks cnnviz makes while reading the file that Keras only makes when it builds or runs."""
    layer = error.layer.class_name if error.layer else None
    return (
        error.field in ("name", "input_shape", "bias_initializer")  # orthogonal: at build
        or (layer == "ZeroPadding2D" and error.field == "padding")  # negative int: at call
        or (layer in ("DepthwiseConv2D", "SeparableConv2D") and error.field == "strides")
        or (layer in ("MaxPooling2D", "AveragePooling2D") and error.field == "strides")  # 0
    )


CHECKED_WHEN_CALLED = {("Softmax", "axis"), ("Conv2DTranspose", "output_padding")}


def assert_same_verdict(arch: dict[str, Any]) -> tuple[CnnvizOutcome, KerasOutcome]:
    ours, theirs = cnnviz_outcome(arch), keras_outcome(arch)
    assert (ours.error is None) == (theirs.model is not None), (
        f"cnnviz: {ours.error}\nkeras ({theirs.phase}, layer {theirs.index}): {theirs.error}"
    )
    if ours.error is None:
        return ours, theirs
    if ours.phase == "construct" and deferred_by_keras(ours.error):
        return ours, theirs  # Keras meets another error first, or this one later
    ours_index = ours.error.layer.index if ours.error.layer else None
    if (ours.phase, theirs.phase) == ("shape", "call") and ours.error.layer is not None:
        assert (ours.error.layer.class_name, ours.error.field) in CHECKED_WHEN_CALLED
        return ours, theirs  # Keras meets it on the first forward pass
    assert (ours.phase, theirs.phase) in (
        ("construct", "constructor"), ("shape", "add"), ("shape", "zero-size")), (
        f"cnnviz ({ours.phase}): {ours.error}\nkeras ({theirs.phase}): {theirs.error}"
    )
    assert ours_index == theirs.index, f"cnnviz: {ours.error}\nkeras: {theirs.error}"
    return ours, theirs


def assert_same_numbers(arch: dict[str, Any]) -> None:
    ours, theirs = assert_same_verdict(arch)
    if ours.summary is None or ours.error is not None or theirs.model is None:
        return
    summary, model = ours.summary, theirs.model
    assert cnnviz_numbers(summary) == keras_numbers(model)
    assert theirs.forward_shape == (1, *summary.output_shape)
    assert summary.total_params == model.count_params()
    built = build_model(summary.spec)
    assert keras_numbers(built) == cnnviz_numbers(summary)
    imported = summarize(load_architecture(model.to_json()))
    assert cnnviz_numbers(imported) == cnnviz_numbers(summary)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_matches_keras(name: str) -> None:
    assert_same_numbers(PRESETS[name].to_dict())


@pytest.mark.parametrize("seed", range(GENERATED))
def test_generated_architecture_matches_keras(seed: int) -> None:
    assert_same_numbers(random_architecture(random.Random(seed)))


def _layer(class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": config}


FLAT = _layer("Flatten")
CONV = "Conv2D"
DW = "DepthwiseConv2D"
SEP = "SeparableConv2D"
BN = "BatchNormalization"
ZP = "ZeroPadding2D"
CT = "Conv2DTranspose"
# (label, input_shape, layers, whether Keras accepts it)
EDGES: list[tuple[str, list[int], list[dict[str, Any]], bool]] = [
    ("kernel larger than input", [4, 4, 1], [_layer(CONV, filters=2, kernel_size=5)], False),
    ("kernel as large as input", [4, 4, 1], [_layer(CONV, filters=2, kernel_size=4)], True),
    ("kernel larger than input, same padding", [4, 4, 1],
     [_layer(CONV, filters=2, kernel_size=5, padding="same")], True),
    ("tall kernel on a wide input", [4, 9, 1],
     [_layer(CONV, filters=2, kernel_size=[5, 1])], False),
    ("dilated kernel larger than input", [4, 4, 1],
     [_layer(CONV, filters=2, kernel_size=3, dilation_rate=2)], False),
    ("dilated kernel fits exactly", [5, 5, 1],
     [_layer(CONV, filters=2, kernel_size=3, dilation_rate=2)], True),
    ("stride larger than input", [3, 3, 1],
     [_layer(CONV, filters=1, kernel_size=1, strides=5)], True),
    ("Conv2D strides with dilation", [9, 9, 1],
     [_layer(CONV, filters=2, kernel_size=3, strides=2, dilation_rate=2)], False),
    ("SeparableConv2D strides with dilation", [9, 9, 2],
     [_layer(SEP, filters=2, kernel_size=3, strides=2, dilation_rate=2)], True),
    ("DepthwiseConv2D strides with dilation", [9, 9, 2],
     [_layer(DW, kernel_size=3, strides=[2, 2], dilation_rate=[1, 2])], True),
    ("DepthwiseConv2D unequal strides (without oneDNN: fails when called)", [8, 8, 2],
     [_layer(DW, kernel_size=1, strides=[1, 2])], UNEQUAL_DEPTHWISE_STRIDES),
    ("SeparableConv2D unequal strides (without oneDNN: fails when called)", [8, 8, 2],
     [_layer(SEP, filters=2, kernel_size=1, strides=[2, 1])], UNEQUAL_DEPTHWISE_STRIDES),
    ("DepthwiseConv2D unequal strides with dilation", [8, 8, 2],
     [_layer(DW, kernel_size=2, strides=[1, 3], dilation_rate=[2, 1])], True),
    ("SeparableConv2D unequal strides with dilation, same padding", [9, 8, 2],
     [_layer(SEP, filters=3, kernel_size=3, strides=[3, 1], dilation_rate=2, padding="same")],
     True),
    ("groups not dividing filters", [8, 8, 4],
     [_layer(CONV, filters=3, kernel_size=1, groups=2)], False),
    ("groups not dividing channels", [8, 8, 3],
     [_layer(CONV, filters=4, kernel_size=1, groups=2)], False),
    ("groups dividing both", [8, 8, 4], [_layer(CONV, filters=6, kernel_size=3, groups=2)], True),
    ("zero groups", [8, 8, 4], [_layer(CONV, filters=4, kernel_size=1, groups=0)], False),
    ("zero filters", [8, 8, 1], [_layer(CONV, filters=0, kernel_size=3)], False),
    ("negative filters", [8, 8, 1], [_layer(SEP, filters=-2, kernel_size=3)], False),
    ("zero kernel", [8, 8, 1], [_layer(CONV, filters=2, kernel_size=[3, 0])], False),
    ("zero strides", [8, 8, 1], [_layer(CONV, filters=2, kernel_size=3, strides=0)], False),
    ("zero dilation", [8, 8, 1], [_layer(DW, kernel_size=3, dilation_rate=0)], False),
    ("zero depth_multiplier", [8, 8, 1], [_layer(DW, kernel_size=3, depth_multiplier=0)], False),
    ("zero units", [8, 8, 1], [FLAT, _layer("Dense", units=0)], False),
    ("Dense on a 4-D input", [3, 4, 2], [_layer("Dense", units=5)], True),
    ("pooling a 1x1 map", [1, 1, 3], [_layer("MaxPooling2D")], False),
    ("pooling a 1x1 map, same padding", [1, 1, 3], [_layer("MaxPooling2D", padding="same")], True),
    ("MaxPool2D alias collapsing a map", [4, 4, 1], [_layer("MaxPool2D", pool_size=2)] * 3, False),
    ("average pool larger than input", [2, 2, 3], [_layer("AveragePooling2D", pool_size=3)], False),
    ("average pool without pool_size", [4, 4, 3], [_layer("AveragePooling2D")], False),
    ("zero pool strides", [4, 4, 3], [_layer("MaxPooling2D", strides=0)], False),
    ("Conv2D after Flatten", [4, 4, 1], [FLAT, _layer(CONV, filters=1, kernel_size=1)], False),
    ("pooling after global pooling", [4, 4, 1],
     [_layer("GlobalAveragePooling2D"), _layer("MaxPooling2D")], False),
    ("global pooling after Flatten", [4, 4, 1], [FLAT, _layer("GlobalMaxPooling2D")], False),
    ("ZeroPadding2D after Flatten", [4, 4, 1], [FLAT, _layer(ZP)], False),
    ("SpatialDropout2D after Flatten", [4, 4, 1],
     [FLAT, _layer("SpatialDropout2D", rate=0.1)], False),
    ("keepdims then 1x1 conv", [4, 4, 2],
     [_layer("GlobalMaxPooling2D", keepdims=True), _layer(CONV, filters=3, kernel_size=1)], True),
    ("keepdims then 2x2 conv", [4, 4, 2],
     [_layer("GlobalAveragePooling2D", keepdims=True), _layer(CONV, filters=3, kernel_size=2)],
     False),
    ("BatchNormalization after Flatten", [4, 4, 2], [FLAT, _layer(BN)], True),
    ("BatchNormalization axis 3 after Flatten", [4, 4, 2], [FLAT, _layer(BN, axis=3)], False),
    ("BatchNormalization axis 3 on an image", [4, 4, 2], [_layer(BN, axis=3)], True),
    ("BatchNormalization without center and scale", [4, 4, 2],
     [_layer(BN, center=False, scale=False)], True),
    ("negative int padding (fails when called)", [4, 4, 1], [_layer(ZP, padding=-1)], False),
    ("negative pair padding", [4, 4, 1], [_layer(ZP, padding=[[0, -1], [1, 1]])], False),
    ("asymmetric padding", [4, 4, 1], [_layer(ZP, padding=[[0, 1], [2, 3]])], True),
    ("mixed padding forms", [4, 4, 1], [_layer(ZP, padding=[[0, 1], 2])], True),
    ("dropout rate 1", [4, 4, 1], [_layer("Dropout", rate=1.0)], True),
    ("dropout rate above 1", [4, 4, 1], [_layer("Dropout", rate=1.5)], False),
    ("negative spatial dropout", [4, 4, 1], [_layer("SpatialDropout2D", rate=-0.1)], False),
    ("SpatialDropout2D trainable", [4, 4, 1],
     [_layer("SpatialDropout2D", rate=0.1, trainable=False)], False),
    ("duplicate names", [4, 4, 1], [_layer("Dense", units=2, name="a")] * 2, False),
    ("name clashing with a default name", [4, 4, 1],
     [_layer("Dense", units=2), _layer("Dense", units=2, name="dense")], False),
    ("name of the input layer", [4, 4, 1], [_layer("Dense", units=2, name="input_layer")], False),
    ("name 'input'", [4, 4, 1], [_layer("Dense", units=2, name="input")], True),
    ("zero-size input", [4, 0, 1], [_layer("Dense", units=2)], False),
    ("unknown argument", [4, 4, 1], [_layer("Dense", units=2, kernal_size=3)], False),
    ("missing argument", [4, 4, 1], [_layer("Dense")], False),
    ("orthogonal kernel", [6, 6, 3],
     [_layer(CONV, filters=2, kernel_size=3, kernel_initializer="orthogonal")], True),
    ("orthogonal bias (fails when built)", [6, 6, 3],
     [_layer(DW, kernel_size=3, bias_initializer="orthogonal")], False),
    ("every initializer by name", [6, 6, 3],
     [_layer(SEP, filters=2, kernel_size=3, depthwise_initializer="random_uniform",
             pointwise_initializer="truncated_normal", bias_initializer="ones"),
      _layer("Dense", units=2, kernel_initializer="lecun_normal", bias_initializer="he_uniform")],
     True),
    ("trainable=False", [6, 6, 3],
     [_layer(CONV, filters=2, kernel_size=3, trainable=False), _layer(BN, trainable=False)], True),
    ("Conv2DTranspose valid: (in - 1)*stride + kernel", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=3, strides=2)], True),
    ("Conv2DTranspose same: in*stride", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=3, strides=[2, 3], padding="same")], True),
    ("Conv2DTranspose stride larger than kernel", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=1, strides=3)], True),
    ("Conv2DTranspose output_padding, valid", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=[2, 3], strides=3, output_padding=[2, 1])], True),
    ("Conv2DTranspose output_padding, same", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=4, strides=2, padding="same", output_padding=1)], True),
    ("Conv2DTranspose dilation with output_padding 0", [3, 4, 2],
     [_layer(CT, filters=2, kernel_size=3, dilation_rate=2, output_padding=0)], True),
    ("Conv2DTranspose output_padding not below strides", [3, 3, 1],
     [_layer(CT, filters=2, kernel_size=3, strides=2, output_padding=2)], False),
    ("Conv2DTranspose strides with dilation", [3, 3, 1],
     [_layer(CT, filters=2, kernel_size=3, strides=2, dilation_rate=2)], False),
    ("Conv2DTranspose empty output", [1, 1, 2],
     [_layer(CT, filters=2, kernel_size=2, padding="same", output_padding=0)], False),
    ("Conv2DTranspose same, even kernel, output_padding 0 (fails when called)", [5, 5, 2],
     [_layer(CT, filters=2, kernel_size=[1, 4], strides=3, padding="same",
             output_padding=[0, 0])], False),
    ("Conv2DTranspose same, even kernel, output_padding 1", [5, 5, 2],
     [_layer(CT, filters=2, kernel_size=4, strides=3, padding="same", output_padding=1)], True),
    ("Conv2DTranspose same, dilated even kernel, output_padding 0", [5, 5, 2],
     [_layer(CT, filters=2, kernel_size=2, dilation_rate=2, padding="same",
             output_padding=0)], True),
    ("Conv2DTranspose after Flatten", [4, 4, 1], [FLAT, _layer(CT, filters=1, kernel_size=1)],
     False),
    ("ReLU as relu6", [4, 4, 2], [_layer("ReLU", max_value=6.0)], True),
    ("ReLU leaky with threshold", [4, 4, 2],
     [_layer("ReLU", negative_slope=0.1, threshold=0.5, max_value=1)], True),
    ("ReLU negative threshold", [4, 4, 2], [_layer("ReLU", threshold=-1.0)], False),
    ("ReLU negative max_value", [4, 4, 2], [_layer("ReLU", max_value=-6.0)], False),
    ("LeakyReLU negative slope", [4, 4, 2], [_layer("LeakyReLU", negative_slope=-0.1)], False),
    ("ELU negative alpha", [4, 4, 2], [FLAT, _layer("ELU", alpha=-0.5)], True),
    ("PReLU: one slope per value", [4, 5, 2], [_layer("PReLU")], True),
    ("PReLU shared over the image", [4, 5, 2], [_layer("PReLU", shared_axes=[1, 2])], True),
    ("PReLU shared over the channels", [4, 5, 2], [_layer("PReLU", shared_axes=3)], True),
    ("PReLU axis 2 on a flat input", [4, 4, 2], [FLAT, _layer("PReLU", shared_axes=2)], False),
    ("PReLU orthogonal slopes on a flat input", [4, 4, 2],
     [FLAT, _layer("PReLU", alpha_initializer="orthogonal")], False),
    ("PReLU frozen", [4, 4, 2], [_layer("PReLU", trainable=False)], True),
    ("Softmax over the channels", [4, 4, 2], [_layer("Softmax")], True),
    ("Softmax over the height", [4, 4, 2], [_layer("Softmax", axis=1)], True),
    ("Softmax axis beyond the input (fails when called)", [4, 4, 2],
     [_layer("Softmax", axis=4)], False),
    ("Reshape to flat with -1", [4, 4, 2], [_layer("Reshape", target_shape=[-1])], True),
    ("Reshape flat to an image", [4, 4, 2],
     [FLAT, _layer("Reshape", target_shape=[2, -1, 4]), _layer(CONV, filters=1, kernel_size=2)],
     True),
    ("Reshape to a size that does not fit", [4, 4, 2],
     [_layer("Reshape", target_shape=[3, -1, 2])], False),
    ("Reshape with two -1", [4, 4, 2], [_layer("Reshape", target_shape=[-1, -1, 2])], False),
    ("Reshape with a 0", [4, 4, 2], [_layer("Reshape", target_shape=[0, -1, 2])], False),
    ("UpSampling2D", [3, 4, 2], [_layer("UpSampling2D")], True),
    ("UpSampling2D bilinear, 2x3", [3, 4, 2],
     [_layer("UpSampling2D", size=[2, 3], interpolation="bilinear")], True),
    ("UpSampling2D size 0", [3, 4, 2], [_layer("UpSampling2D", size=0)], False),
    ("UpSampling2D after Flatten", [3, 4, 2], [FLAT, _layer("UpSampling2D")], False),
    ("regularizers by name", [6, 6, 3],
     [_layer(CONV, filters=2, kernel_size=3, kernel_regularizer="l2", bias_regularizer="l1"),
      _layer(CT, filters=2, kernel_size=2, kernel_regularizer="L1L2"),
      FLAT, _layer("Dense", units=2, kernel_regularizer="l1l2")], True),
    ("regularizers in Keras's form", [6, 6, 3],
     [_layer(SEP, filters=2, kernel_size=3,
             depthwise_regularizer={"class_name": "L2", "config": {"l2": 0.1}},
             pointwise_regularizer={"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
             bias_regularizer="l2"),
      _layer(DW, kernel_size=2, depthwise_regularizer="l1", bias_regularizer="L2"),
      _layer("PReLU", alpha_regularizer="l2")], True),
    ("regularizer 'l1_l2' (Keras has no such name)", [6, 6, 3],
     [FLAT, _layer("Dense", units=2, kernel_regularizer="l1_l2")], False),
    ("negative regularizer factor", [6, 6, 3],
     [FLAT, _layer("Dense", units=2, bias_regularizer={"class_name": "L2",
                                                       "config": {"l2": -0.1}})], False),
]


@pytest.mark.parametrize(
    ("input_shape", "layers", "keras_accepts"),
    [case[1:] for case in EDGES],
    ids=[case[0] for case in EDGES],
)
def test_edge_configuration_has_the_same_verdict_as_keras(
    input_shape: list[int], layers: list[dict[str, Any]], keras_accepts: bool
) -> None:
    arch = {"input_shape": input_shape, "layers": layers}
    assert (keras_outcome(arch).model is not None) is keras_accepts
    assert_same_numbers(arch)


def _generated_outcomes() -> list[tuple[dict[str, Any], CnnvizOutcome]]:
    archs = [random_architecture(random.Random(seed)) for seed in range(GENERATED)]
    return [(arch, cnnviz_outcome(arch)) for arch in archs]


def _has(summary: ModelSummary, class_name: str, test: Any) -> bool:
    return any(
        layer.class_name == class_name and test(layer, row)
        for layer, row in zip(summary.spec.layers, summary.layers, strict=True)
    )


ACCEPTED_FEATURES: dict[str, Any] = {
    "conv padding same": lambda s: _has(s, "Conv2D", lambda layer, _: layer.padding == "same"),
    "conv strides": lambda s: _has(s, "Conv2D", lambda layer, _: max(layer.strides) > 1),
    "conv dilation": lambda s: _has(s, "Conv2D", lambda layer, _: max(layer.dilation_rate) > 1),
    "conv groups": lambda s: _has(s, "Conv2D", lambda layer, _: layer.groups > 1),
    "conv without bias": lambda s: _has(s, "Conv2D", lambda layer, _: not layer.use_bias),
    "separable depth_multiplier": lambda s: _has(
        s, "SeparableConv2D", lambda layer, _: layer.depth_multiplier > 1),
    "separable dilation": lambda s: _has(
        s, "SeparableConv2D", lambda layer, _: max(layer.dilation_rate) > 1),
    "depthwise depth_multiplier": lambda s: _has(
        s, "DepthwiseConv2D", lambda layer, _: layer.depth_multiplier > 1),
    "depthwise strides": lambda s: _has(
        s, "DepthwiseConv2D", lambda layer, _: max(layer.strides) > 1),
    "pool strides": lambda s: _has(s, "MaxPooling2D", lambda layer, _: layer.strides is not None),
    "pool padding same": lambda s: _has(
        s, "AveragePooling2D", lambda layer, _: layer.padding == "same"),
    "keepdims": lambda s: any(getattr(layer, "keepdims", False) for layer in s.spec.layers),
    "Dense on 4-D": lambda s: _has(s, "Dense", lambda _, row: len(row.input_shape) == 3),
    "Dense without bias": lambda s: _has(s, "Dense", lambda layer, _: not layer.use_bias),
    "BatchNormalization center=False": lambda s: _has(
        s, "BatchNormalization", lambda layer, _: not layer.center),
    "BatchNormalization scale=False": lambda s: _has(
        s, "BatchNormalization", lambda layer, _: not layer.scale),
    "asymmetric padding": lambda s: _has(
        s, "ZeroPadding2D", lambda layer, _: len({*layer.padding[0], *layer.padding[1]}) > 1),
    "conv transpose strides": lambda s: _has(
        s, "Conv2DTranspose", lambda layer, _: max(layer.strides) > 1),
    "conv transpose output_padding": lambda s: _has(
        s, "Conv2DTranspose", lambda layer, _: layer.output_padding is not None),
    "PReLU shared_axes": lambda s: _has(
        s, "PReLU", lambda layer, _: layer.shared_axes is not None),
    "Reshape with -1": lambda s: _has(s, "Reshape", lambda layer, _: -1 in layer.target_shape),
    "Reshape to an image": lambda s: _has(s, "Reshape", lambda _, row: len(row.output_shape) == 3),
    "ReLU max_value": lambda s: _has(s, "ReLU", lambda layer, _: layer.max_value is not None),
    "Softmax axis": lambda s: _has(s, "Softmax", lambda layer, _: layer.axis != -1),
    "UpSampling2D size": lambda s: _has(s, "UpSampling2D", lambda layer, _: layer.size != (2, 2)),
    "regularizer": lambda s: any(
        isinstance(getattr(layer, item.name), Regularizer)
        for layer in s.spec.layers for item in dataclasses.fields(layer)),
    "trainable=False with weights": lambda s: any(
        not layer.trainable and row.params
        for layer, row in zip(s.spec.layers, s.layers, strict=True)),
}  # fmt: skip
if UNEQUAL_DEPTHWISE_STRIDES:
    ACCEPTED_FEATURES["unequal depthwise strides"] = lambda s: _has(
        s, "DepthwiseConv2D", lambda layer, _: layer.strides[0] != layer.strides[1]
        and max(layer.dilation_rate) == 1)

REJECTIONS: dict[str, Any] = {
    "kernel larger than input": lambda e: e.field == "kernel_size" and "larger" in e.problem,
    "pool larger than input": lambda e: e.field == "pool_size" and "larger" in e.problem,
    "strides with dilation": lambda e: e.field == "strides" and "dilation" in e.problem,
    "groups": lambda e: e.field == "groups" and "divisible" in e.problem,
    "zero or negative size": lambda e: "at least 1" in e.problem or "0 or more" in e.problem,
    "image layer on a flat input": lambda e: "image-shaped" in e.problem,
    "axis on a flat input": lambda e: e.field == "axis",
    "rate out of range": lambda e: e.field == "rate",
    "duplicate name": lambda e: e.field == "name",
    "missing argument": lambda e: "needs a value" in e.problem,
    "unknown argument": lambda e: "is not an argument" in e.problem,
    "zero-size input": lambda e: e.field == "input_shape",
    "orthogonal bias": lambda e: e.field == "bias_initializer",
    "output_padding": lambda e: e.field == "output_padding",
    "target_shape": lambda e: e.field == "target_shape",
    "regularizer": lambda e: "regularizer" in (e.field or ""),
    "shared_axes": lambda e: e.field == "shared_axes",
}
if not UNEQUAL_DEPTHWISE_STRIDES:
    REJECTIONS["unequal depthwise strides"] = (
        lambda e: e.field == "strides" and "same stride" in e.problem)


def test_generated_architectures_cover_every_layer_option_and_rejection() -> None:
    outcomes = _generated_outcomes()
    accepted = [ours.summary for _, ours in outcomes if ours.error is None]
    rejected = [ours.error for _, ours in outcomes if ours.error is not None]
    assert len(accepted) >= 200 and len(rejected) >= 150
    classes = {row.class_name for summary in accepted for row in summary.layers if summary}
    aliases = {
        entry["class_name"] for arch, ours in outcomes if ours.error is None
        for entry in arch["layers"]
    }  # fmt: skip
    assert classes == set(LAYER_TYPES) and "MaxPool2D" in aliases
    for feature, present in ACCEPTED_FEATURES.items():
        assert sum(map(present, accepted)) >= 3, feature
    for reason, matches in REJECTIONS.items():
        assert sum(1 for error in rejected if matches(error)) >= 2, reason
