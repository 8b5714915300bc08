"""Named architectures a teacher reaches for, written in the architecture JSON."""

from __future__ import annotations

from typing import Any

from cnnviz.spec import ModelSpec, SpecError
from cnnviz.synthetic_shapes import SHAPE_NAMES

__all__ = ["PRESETS", "PRESET_DESCRIPTIONS", "get_preset", "preset_names"]

Layer = dict[str, Any]


def _layer(class_name: str, **config: Any) -> Layer:
    return {"class_name": class_name, "config": config}


def _conv(filters: int, kernel: int | list[int], **config: Any) -> Layer:
    return _layer("Conv2D", filters=filters, kernel_size=kernel, **config)


def _sep(filters: int, kernel: int = 3, **config: Any) -> Layer:
    return _layer("SeparableConv2D", filters=filters, kernel_size=kernel, **config)


def _act(name: str) -> Layer:
    return _layer("Activation", activation=name)


def _cifar10_cnn(first: Layer) -> list[Layer]:
    return [
        first, _act("relu"), _conv(32, [3, 3]), _act("relu"),
        _layer("MaxPooling2D", pool_size=[2, 2]), _layer("Dropout", rate=0.25),
        _conv(64, [3, 3], padding="same"), _act("relu"), _conv(64, [3, 3]), _act("relu"),
        _layer("MaxPooling2D", pool_size=[2, 2]), _layer("Dropout", rate=0.25),
        _layer("Flatten"), _layer("Dense", units=512), _act("relu"), _layer("Dropout", rate=0.5),
        _layer("Dense", units=10), _act("softmax"),
    ]  # fmt: skip


def _vgg16_base() -> list[Layer]:
    layers: list[Layer] = []
    for block, (filters, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), 1):
        for conv in range(1, convs + 1):
            layers.append(_conv(filters, [3, 3], activation="relu", padding="same",
                                name=f"block{block}_conv{conv}"))
        layers.append(_layer("MaxPooling2D", pool_size=[2, 2], strides=[2, 2],
                             name=f"block{block}_pool"))
    return layers


def _mobilenet_block(filters: int, strides: int) -> list[Layer]:
    return [
        _layer("DepthwiseConv2D", kernel_size=3, strides=strides, padding="same", use_bias=False),
        _layer("BatchNormalization"), _act("relu"),
        _conv(filters, 1, use_bias=False), _layer("BatchNormalization"), _act("relu"),
    ]  # fmt: skip


_SOURCES: dict[str, tuple[str, list[int], list[Layer]]] = {
    "chollet-mnist-convnet": (
        "The MNIST convnet of Deep Learning with Python (Chollet), 93,322 parameters.",
        [28, 28, 1],
        [
            _conv(32, 3, activation="relu"), _layer("MaxPooling2D", pool_size=2),
            _conv(64, 3, activation="relu"), _layer("MaxPooling2D", pool_size=2),
            _conv(64, 3, activation="relu"), _layer("Flatten"),
            _layer("Dense", units=64, activation="relu"),
            _layer("Dense", units=10, activation="softmax"),
        ],
    ),
    "keras-mnist-cnn": (
        "The Keras mnist_cnn example: two convolutions, then a large Dense layer.",
        [28, 28, 1],
        [
            _conv(32, [3, 3], activation="relu"), _conv(64, [3, 3], activation="relu"),
            _layer("MaxPooling2D", pool_size=[2, 2]), _layer("Dropout", rate=0.25),
            _layer("Flatten"), _layer("Dense", units=128, activation="relu"),
            _layer("Dropout", rate=0.5), _layer("Dense", units=10, activation="softmax"),
        ],
    ),
    "keras-cifar10-cnn": (
        "The classic Keras CIFAR-10 example: most of its parameters sit in one Dense layer.",
        [32, 32, 3],
        _cifar10_cnn(_conv(32, [3, 3], padding="same")),
    ),
    "cifar10-cnn-2filters": (
        "The CIFAR-10 example with a first layer of only two 5×5 filters.",
        [32, 32, 3],
        _cifar10_cnn(_conv(2, [5, 5], padding="same")),
    ),
    "separable-convnet": (
        "A small network of depthwise-separable convolutions (Chollet), 38,949 parameters.",
        [64, 64, 3],
        [
            _sep(32, activation="relu"), _sep(64, activation="relu"),
            _layer("MaxPooling2D", pool_size=2),
            _sep(64, activation="relu"), _sep(128, activation="relu"),
            _layer("MaxPooling2D", pool_size=2),
            _sep(64, activation="relu"), _sep(128, activation="relu"),
            _layer("GlobalAveragePooling2D"),
            _layer("Dense", units=32, activation="relu"),
            _layer("Dense", units=10, activation="softmax"),
        ],
    ),
    "vgg16-base": (
        "VGG16 without its classifier on 150×150×3, with Keras's layer names.",
        [150, 150, 3],
        _vgg16_base(),
    ),
    "lenet-5": (
        "LeNet-5 (LeCun et al., 1998) as usually written in Keras: tanh and average pooling.",
        [28, 28, 1],
        [
            _conv(6, 5, activation="tanh", padding="same"),
            _layer("AveragePooling2D", pool_size=2),
            _conv(16, 5, activation="tanh"),
            _layer("AveragePooling2D", pool_size=2),
            _layer("Flatten"),
            _layer("Dense", units=120, activation="tanh"),
            _layer("Dense", units=84, activation="tanh"),
            _layer("Dense", units=10, activation="softmax"),
        ],
    ),
    "tiny-vgg": (
        "The Tiny VGG of CNN Explainer: 64×64×3, four 3×3 convolutions of 10 filters.",
        [64, 64, 3],
        [
            _conv(10, 3, activation="relu"), _conv(10, 3, activation="relu"),
            _layer("MaxPooling2D"),
            _conv(10, 3, activation="relu"), _conv(10, 3, activation="relu"),
            _layer("MaxPooling2D"), _layer("Flatten"),
            _layer("Dense", units=10, activation="softmax"),
        ],
    ),
    "tiny-vgg-32": (
        f"Tiny VGG for the built-in shapes dataset: 32×32×3 images, same padding, "
        f"{len(SHAPE_NAMES)} outputs (one per shape).",
        [32, 32, 3],
        [
            _conv(10, 3, activation="relu", padding="same"),
            _conv(10, 3, activation="relu", padding="same"), _layer("MaxPooling2D"),
            _conv(10, 3, activation="relu", padding="same"),
            _conv(10, 3, activation="relu", padding="same"), _layer("MaxPooling2D"),
            _layer("Flatten"), _layer("Dense", units=len(SHAPE_NAMES), activation="softmax"),
        ],
    ),
    "mini-mobilenet": (
        "A small MobileNet-style network: depthwise 3×3 + pointwise 1×1 blocks with batch norm.",
        [32, 32, 3],
        [
            _conv(16, 3, strides=2, padding="same", use_bias=False),
            _layer("BatchNormalization"), _act("relu"),
            *_mobilenet_block(32, 1), *_mobilenet_block(64, 2), *_mobilenet_block(64, 1),
            *_mobilenet_block(128, 2),
            _layer("GlobalAveragePooling2D"), _layer("Dropout", rate=0.2),
            _layer("Dense", units=10, activation="softmax"),
        ],
    ),
}


def _build(name: str) -> ModelSpec:
    _, input_shape, layers = _SOURCES[name]
    return ModelSpec.from_dict({"name": name, "input_shape": input_shape, "layers": layers})


PRESETS: dict[str, ModelSpec] = {name: _build(name) for name in _SOURCES}
PRESET_DESCRIPTIONS: dict[str, str] = {name: source[0] for name, source in _SOURCES.items()}


def preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)


def get_preset(name: str) -> ModelSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise SpecError(
            "is not a preset",
            field="preset",
            received=name,
            fix="use one of " + ", ".join(PRESETS),
        ) from None
