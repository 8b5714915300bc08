"""Named architectures a teacher reaches for, written in the architecture JSON."""

from __future__ import annotations

from typing import Any

from cnnviz.data import SHAPE_NAMES
from cnnviz.spec import ModelSpec, SpecError

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


def _vgg_base(convs_per_block: tuple[int, ...] = (2, 2, 3, 3, 3)) -> list[Layer]:
    """keras.applications.VGG16 / VGG19 without the top, with Keras's layer names."""
    layers: list[Layer] = []
    block_filters = (64, 128, 256, 512, 512)
    for block, (filters, convs) in enumerate(zip(block_filters, convs_per_block, strict=True), 1):
        for conv in range(1, convs + 1):
            layers.append(_conv(filters, [3, 3], activation="relu", padding="same",
                                name=f"block{block}_conv{conv}"))
        layers.append(_layer("MaxPooling2D", pool_size=[2, 2], strides=[2, 2],
                             name=f"block{block}_pool"))
    return layers


def _vgg_top() -> list[Layer]:
    return [
        _layer("Flatten", name="flatten"),
        _layer("Dense", units=4096, activation="relu", name="fc1"),
        _layer("Dense", units=4096, activation="relu", name="fc2"),
        _layer("Dense", units=1000, activation="softmax", name="predictions"),
    ]


def _relu6(name: str) -> Layer:
    return _layer("ReLU", max_value=6.0, name=name)


def _mobilenet_1_0_224() -> list[Layer]:
    """keras.applications.MobileNet(weights=None): alpha 1.0, 224×224, with its top."""
    layers = [
        _conv(32, [3, 3], strides=[2, 2], padding="same", use_bias=False, name="conv1"),
        _layer("BatchNormalization", name="conv1_bn"), _relu6("conv1_relu"),
    ]
    blocks = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *[(512, 1)] * 5,
              (1024, 2), (1024, 1))
    for block_id, (filters, strides) in enumerate(blocks, 1):
        if strides > 1:
            layers.append(_layer("ZeroPadding2D", padding=[[0, 1], [0, 1]],
                                 name=f"conv_pad_{block_id}"))
        layers += [
            _layer("DepthwiseConv2D", kernel_size=[3, 3], strides=[strides, strides],
                   padding="same" if strides == 1 else "valid", use_bias=False,
                   name=f"conv_dw_{block_id}"),
            _layer("BatchNormalization", name=f"conv_dw_{block_id}_bn"),
            _relu6(f"conv_dw_{block_id}_relu"),
            _conv(filters, [1, 1], padding="same", use_bias=False, name=f"conv_pw_{block_id}"),
            _layer("BatchNormalization", name=f"conv_pw_{block_id}_bn"),
            _relu6(f"conv_pw_{block_id}_relu"),
        ]
    return layers + [
        _layer("GlobalAveragePooling2D", keepdims=True, name="global_average_pooling2d"),
        _layer("Dropout", rate=0.001, name="dropout"),
        _conv(1000, [1, 1], padding="same", name="conv_preds"),
        _layer("Reshape", target_shape=[1000], name="reshape_2"),
        _layer("Activation", activation="softmax", name="predictions"),
    ]


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
        _vgg_base(),
    ),
    "vgg16": (
        "keras.applications.VGG16 with its top: 224×224×3, 1,000 ImageNet classes, "
        "138,357,544 parameters.",
        [224, 224, 3],
        _vgg_base() + _vgg_top(),
    ),
    "vgg19": (
        "keras.applications.VGG19 with its top: 224×224×3, 1,000 ImageNet classes, "
        "143,667,240 parameters.",
        [224, 224, 3],
        _vgg_base((2, 2, 4, 4, 4)) + _vgg_top(),
    ),
    "mobilenet-1.0-224": (
        "keras.applications.MobileNet (width 1.0, 224×224×3) with its top: relu6, "
        "depthwise-separable blocks, 4,253,864 parameters, 569 M multiply-adds.",
        [224, 224, 3],
        _mobilenet_1_0_224(),
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
