"""Random architectures in the cnnviz/1 JSON, seeded, many of them near Keras's edges.

`random_architecture(random.Random(seed))` gives the same dict for the same seed; most
layers are valid for the shape that reaches them, and a share are edge cases Keras refuses
(a kernel larger than its input, strides with dilation, groups that do not divide the
channels, zero or negative sizes, image layers after Flatten, duplicate names, ...).
Values stay inside cnnviz's documented limits and use plain ints, lists and strings, so
every config can be passed straight to the Keras constructor of the same name.

`architectures()` is the same generator as a hypothesis strategy, for other tests.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["ACTIVATIONS", "LAYER_CLASSES", "architectures", "random_architecture"]

Layer = dict[str, Any]
ACTIVATIONS = ("relu", "sigmoid", "softmax", "tanh", "linear", "elu", "gelu", "relu6")
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
    "zeros", "ones", "random_normal", "random_uniform", "truncated_normal", "orthogonal",
)  # fmt: skip
WEIGHTS = {
    "Conv2D": ("kernel_initializer", "bias_initializer"),
    "SeparableConv2D": ("depthwise_initializer", "pointwise_initializer", "bias_initializer"),
    "DepthwiseConv2D": ("depthwise_initializer", "bias_initializer"),
    "Dense": ("kernel_initializer", "bias_initializer"),
    "Conv2DTranspose": ("kernel_initializer", "bias_initializer"),
    "PReLU": ("alpha_initializer",),
}
REGULARIZED = {
    "Conv2D": ("kernel_regularizer", "bias_regularizer"),
    "SeparableConv2D": ("depthwise_regularizer", "pointwise_regularizer", "bias_regularizer"),
    "DepthwiseConv2D": ("depthwise_regularizer", "bias_regularizer"),
    "Dense": ("kernel_regularizer", "bias_regularizer"),
    "Conv2DTranspose": ("kernel_regularizer", "bias_regularizer"),
    "PReLU": ("alpha_regularizer",),
}
REGULARIZERS: tuple[Any, ...] = (
    "l1", "l2", "l1l2", "L2", "L1L2", {"class_name": "L2", "config": {"l2": 0.1}},
    {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.001}},
    {"module": "keras.regularizers", "class_name": "L1", "config": {"l1": 0.5},
     "registered_name": None},
)  # fmt: skip
BAD_REGULARIZERS: tuple[Any, ...] = (
    "l1_l2", "l3", {"class_name": "L2", "config": {"l2": -1.0}},
    {"class_name": "L1", "config": {"l2": 0.1}},
)  # fmt: skip
ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax")
FLAT_SAFE = ("Dense", "Dropout", "Activation", "BatchNormalization", "Flatten", "Reshape",
             *ACTIVATION_LAYERS)
IMAGE_ONLY = (
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "MaxPool2D",
    "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "SpatialDropout2D",
    "ZeroPadding2D", "Conv2DTranspose", "UpSampling2D",
)  # fmt: skip
LAYER_CLASSES = IMAGE_ONLY + FLAT_SAFE
NAMES = ("a", "b", "features", "conv2d", "dense", "dense_1", "max_pooling2d", "input_layer")


@dataclass
class _Shape:
    """The generator's own rough idea of the shape reaching the next layer."""

    height: int
    width: int
    channels: int
    flat: bool = False

    def side(self, rng: random.Random) -> int:
        return min(self.height, self.width) if rng.random() < 0.5 else max(
            self.height, self.width
        )


def _pair(rng: random.Random, low: int, high: int) -> int | list[int]:
    if rng.random() < 0.6:
        return rng.randint(low, high)
    return [rng.randint(low, high), rng.randint(low, high)]


def _first(value: int | list[int]) -> int:
    return value if isinstance(value, int) else max(value)


def _bad_size(rng: random.Random) -> int:
    return rng.choice((0, -1, -3))


def _conv_like(rng: random.Random, shape: _Shape, class_name: str, edge: bool) -> Layer:
    side = max(1, min(shape.height, shape.width))
    config: dict[str, Any] = {"kernel_size": _pair(rng, 1, min(side, 4))}
    if class_name != "DepthwiseConv2D":
        config["filters"] = rng.randint(1, 8)
    if rng.random() < 0.4:
        config["padding"] = rng.choice(("same", "valid"))
    if rng.random() < 0.3:
        config["strides"] = _pair(rng, 1, 3)
    elif rng.random() < 0.35 and side >= 3:
        config["dilation_rate"] = _pair(rng, 1, 2)
        config["kernel_size"] = _pair(rng, 1, (side - 1) // 2 + 1)
    if class_name != "Conv2D" and rng.random() < 0.4:
        config["depth_multiplier"] = rng.randint(1, 3)
    if class_name == "Conv2D" and rng.random() < 0.2:
        divisors = [g for g in range(2, shape.channels + 1) if shape.channels % g == 0]
        if divisors:
            config["groups"] = rng.choice(divisors)
            config["filters"] = config["groups"] * rng.randint(1, 3)
    if rng.random() < 0.25:
        config["use_bias"] = False
    if rng.random() < 0.3:
        config["activation"] = rng.choice(ACTIVATIONS)
    if edge:
        _conv_edge(rng, config, shape, class_name)
    return {"class_name": class_name, "config": config}


def _conv_edge(rng: random.Random, config: dict[str, Any], shape: _Shape, class_name: str) -> None:
    side = shape.side(rng)
    kinds = ["big_kernel", "dilated", "strides_dilation", "bad_kernel", "bad_strides",
             "bad_dilation", "missing"]  # fmt: skip
    if class_name != "DepthwiseConv2D":
        kinds.append("bad_filters")
    else:
        kinds.append("bad_multiplier")
    if class_name == "Conv2D":
        kinds += ["groups_filters", "groups_channels", "bad_groups"]
    kind = rng.choice(kinds)
    if rng.random() < 0.7:
        config.pop("padding", None)
    if kind == "big_kernel":
        big, small = side + rng.randint(0, 2), rng.randint(1, 2)
        config["kernel_size"] = rng.choice(([big, small], [small, big], big))
    elif kind == "dilated":
        config.pop("strides", None)
        config["kernel_size"], config["dilation_rate"] = 3, max(1, side // 2 + rng.randint(0, 1))
    elif kind == "strides_dilation":
        config["strides"] = rng.choice((2, [1, 2], [2, 2], [3, 1]))
        config["dilation_rate"] = rng.choice((2, [2, 1], [1, 3]))
    elif kind == "bad_kernel":
        config["kernel_size"] = [_bad_size(rng), 1]
    elif kind == "bad_strides":
        config["strides"] = _bad_size(rng)
    elif kind == "bad_dilation":
        config["dilation_rate"] = _bad_size(rng)
    elif kind == "bad_filters":
        config["filters"] = _bad_size(rng)
    elif kind == "bad_multiplier":
        config["depth_multiplier"] = _bad_size(rng)
    elif kind == "groups_filters":
        config["groups"], config["filters"] = 2, 3
    elif kind == "groups_channels":
        config["groups"] = shape.channels + 1
        config["filters"] = config["groups"] * 2
    elif kind == "bad_groups":
        config["groups"] = _bad_size(rng)
    else:
        config.pop("kernel_size")


def _pooling(rng: random.Random, shape: _Shape, class_name: str, edge: bool) -> Layer:
    side = max(1, min(shape.height, shape.width))
    config: dict[str, Any] = {}
    if class_name.startswith("Average") or rng.random() < 0.7:
        config["pool_size"] = _pair(rng, 1, min(side, 3))
    if rng.random() < 0.3:
        config["strides"] = _pair(rng, 1, 3)
    if rng.random() < 0.4:
        config["padding"] = rng.choice(("same", "valid"))
    if edge:
        kind = rng.choice(("big_pool", "big_pool", "bad_pool", "bad_strides", "missing"))
        if kind == "big_pool":
            config["pool_size"] = shape.side(rng) + rng.randint(0, 1)
        elif kind == "bad_pool":
            config["pool_size"] = _bad_size(rng)
        elif kind == "bad_strides":
            config["strides"] = _bad_size(rng)
        elif class_name.startswith("Average"):
            config.pop("pool_size")
    return {"class_name": class_name, "config": config}


def _zero_padding(rng: random.Random, edge: bool) -> Layer:
    form = rng.randrange(4)
    if form == 0:
        padding: Any = rng.randint(0, 2)
    elif form == 1:
        padding = [rng.randint(0, 2), rng.randint(0, 2)]
    elif form == 2:
        padding = [[rng.randint(0, 2), rng.randint(0, 2)], [rng.randint(0, 2), rng.randint(0, 2)]]
    else:
        padding = [[rng.randint(0, 2), rng.randint(0, 2)], rng.randint(0, 2)]
    if edge:
        padding = rng.choice((-1, [[0, -1], [1, 1]], [1, -2], [1, 2, 3]))
    config = {} if form == 0 and padding == 1 and not edge else {"padding": padding}
    return {"class_name": "ZeroPadding2D", "config": config}


def _conv_transpose(rng: random.Random, shape: _Shape, edge: bool) -> Layer:
    config: dict[str, Any] = {"filters": rng.randint(1, 6), "kernel_size": _pair(rng, 1, 4)}
    if rng.random() < 0.5:
        config["padding"] = rng.choice(("same", "valid"))
    if rng.random() < 0.5:
        config["strides"] = _pair(rng, 1, 3)
        if rng.random() < 0.5:
            strides = config["strides"]
            pair = strides if isinstance(strides, list) else [strides, strides]
            config["output_padding"] = [rng.randrange(pair[0]), rng.randrange(pair[1])]
    elif rng.random() < 0.3:
        config["dilation_rate"] = _pair(rng, 1, 2)
        if rng.random() < 0.4:
            config["output_padding"] = 0
    if rng.random() < 0.25:
        config["use_bias"] = False
    if rng.random() < 0.3:
        config["activation"] = rng.choice(ACTIVATIONS)
    if edge:
        kind = rng.choice(("output_padding", "strides_dilation", "empty", "bad_filters"))
        if kind == "output_padding":
            config["strides"], config["output_padding"] = rng.choice(
                ((1, 1), (2, [1, 2]), ([3, 1], [0, 1])))
        elif kind == "strides_dilation":
            config["strides"], config["dilation_rate"] = 2, 2
            config.pop("output_padding", None)
        elif kind == "empty":  # 'same' with output_padding: (1 − 1)·s + 2 mod 2 + 0 = 0
            config.update(kernel_size=2, padding="same", output_padding=0)
            config.pop("strides", None)
            config.pop("dilation_rate", None)
        else:
            config["filters"] = _bad_size(rng)
    return {"class_name": "Conv2DTranspose", "config": config}


def _reshape(rng: random.Random, shape: _Shape, edge: bool) -> Layer:
    size = shape.height * shape.width * shape.channels
    if edge:
        target = rng.choice(([-1, -1, 1], [0, -1, 1], [size + 1], [-2, 1, 1], [size, 2, -1]))
    elif shape.flat:
        target = rng.choice(([-1], [1, 1, -1], [-1, 1, 1], [size], [1, -1, 1]))
    else:
        target = rng.choice(([-1], [1, 1, -1], [shape.height, -1, shape.channels],
                             [shape.width, shape.height, -1], [size]))
    return {"class_name": "Reshape", "config": {"target_shape": target}}


def _activation_layer(rng: random.Random, shape: _Shape, class_name: str,
                      edge: bool) -> Layer:
    config: dict[str, Any] = {}
    if class_name == "ReLU":
        for key, values in (("max_value", (0.0, 1.0, 6.0)), ("negative_slope", (0.0, 0.1)),
                            ("threshold", (0.0, 0.5))):
            if rng.random() < 0.4:
                config[key] = rng.choice(values)
        if edge:
            config[rng.choice(("max_value", "negative_slope", "threshold"))] = -1.0
    elif class_name == "LeakyReLU":
        if rng.random() < 0.6 or edge:
            config["negative_slope"] = -0.1 if edge else rng.choice((0.0, 0.01, 0.2))
    elif class_name == "ELU":
        if rng.random() < 0.6:
            config["alpha"] = rng.choice((-0.5, 0.5, 1.0, 2.0))
    elif class_name == "PReLU":
        axes: tuple[Any, ...] = (None, 1, [1]) if shape.flat else (None, [1, 2], 3, [1, 2, 3])
        shared = rng.choice(axes)
        if edge:
            shared = rng.choice(([1, 4], 2 if shape.flat else 4))
        if shared is not None:
            config["shared_axes"] = shared
    elif class_name == "Softmax":
        rank = 2 if shape.flat else 4
        if rng.random() < 0.4 or edge:
            config["axis"] = rank if edge else rng.choice(range(-rank, rank))
    return {"class_name": class_name, "config": config}


def _simple(rng: random.Random, shape: _Shape, class_name: str, edge: bool) -> Layer:
    config: dict[str, Any] = {}
    if class_name == "Dense":
        config["units"] = _bad_size(rng) if edge else rng.randint(1, 8)
        if rng.random() < 0.25:
            config["use_bias"] = False
        if rng.random() < 0.4:
            config["activation"] = rng.choice(ACTIVATIONS)
    elif class_name in ("Dropout", "SpatialDropout2D"):
        config["rate"] = rng.choice((-0.5, 1.5)) if edge else rng.choice((0.0, 0.25, 0.5, 1.0))
        if rng.random() < 0.2:
            config["seed"] = rng.randint(0, 1000)
    elif class_name == "Activation":
        config["activation"] = rng.choice(ACTIVATIONS)
    elif class_name == "BatchNormalization":
        for key in ("center", "scale"):
            if rng.random() < 0.3:
                config[key] = False
        if rng.random() < 0.3 or edge:
            config["axis"] = 3 if edge or (not shape.flat and rng.random() < 0.5) else -1
        if rng.random() < 0.2:
            config["momentum"], config["epsilon"] = 0.9, 1e-5
    elif class_name.startswith("Global") and rng.random() < 0.35:
        config["keepdims"] = True
    elif class_name == "UpSampling2D":
        if rng.random() < 0.6 or edge:
            config["size"] = _bad_size(rng) if edge else _pair(rng, 1, 3)
        if rng.random() < 0.3:
            config["interpolation"] = rng.choice(("nearest", "bilinear", "bicubic", "area"))
    return {"class_name": class_name, "config": config}


def _next_shape(layer: Layer, shape: _Shape) -> _Shape:
    """Roughly where the shape goes next (exactness is not needed: this only steers)."""
    name, config = layer["class_name"], layer["config"]
    if name == "Flatten" or (name.startswith("Global") and not config.get("keepdims")):
        return _Shape(shape.height * shape.width * shape.channels, 1, 1, flat=True)
    if name.startswith("Global"):
        return _Shape(1, 1, shape.channels)
    if name == "Reshape":
        target = config["target_shape"]
        size = shape.height * shape.width * shape.channels
        if len(target) == 1:
            return _Shape(size, 1, 1, flat=True)
        known = [side for side in target if side != -1] or [1]
        sides = [side if side != -1 else max(1, size // max(1, math.prod(known)))
                 for side in target]
        return _Shape(max(1, sides[0]), max(1, sides[1]), max(1, min(sides[2], 24)))
    if name == "UpSampling2D":
        size = config.get("size", 2)
        pair = size if isinstance(size, list) else [size, size]
        return _Shape(shape.height * max(1, pair[0]), shape.width * max(1, pair[1]),
                      shape.channels)
    if name == "Conv2DTranspose":
        strides = max(1, _first(config.get("strides", 1)))
        grow = max(1, _first(config.get("kernel_size", 1))) - 1
        extra = 0 if config.get("padding") == "same" else grow
        return _Shape(shape.height * strides + extra, shape.width * strides + extra,
                      max(1, min(_first(config.get("filters", 1)), 24)))
    if name == "Dense":
        units = max(1, _first(config.get("units", 1)))
        if shape.flat:
            return _Shape(units, 1, 1, flat=True)
        return _Shape(shape.height, shape.width, units)
    if name == "ZeroPadding2D":
        grow = 2 * max(0, _first(config.get("padding", 1)) if not isinstance(
            config.get("padding"), list) else 1)
        return _Shape(shape.height + grow, shape.width + grow, shape.channels)
    if "kernel_size" in config or "pool_size" in config or name.startswith("MaxPool"):
        window = _first(config.get("kernel_size", config.get("pool_size", 2)))
        strides = max(1, _first(config.get("strides", 1 if "kernel_size" in config else window)))
        if config.get("padding") != "same":
            shrink = lambda side: max(1, (side - window) // strides + 1)  # noqa: E731
        else:
            shrink = lambda side: max(1, (side - 1) // strides + 1)  # noqa: E731
        channels = max(1, _first(config.get("filters", shape.channels)))
        if name == "DepthwiseConv2D":
            channels = shape.channels * max(1, config.get("depth_multiplier", 1))
        return _Shape(shrink(shape.height), shrink(shape.width), min(channels, 24))
    return shape


EDGE_CLASSES = (
    "Conv2D", "Conv2D", "Conv2D", "SeparableConv2D", "SeparableConv2D", "DepthwiseConv2D",
    "DepthwiseConv2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D", "Dense", "Dropout",
    "SpatialDropout2D", "BatchNormalization", "ZeroPadding2D", "after_flat", "after_flat",
    "Conv2DTranspose", "UpSampling2D", "Reshape", "ReLU", "LeakyReLU", "PReLU", "Softmax",
)  # fmt: skip


def _layer(rng: random.Random, shape: _Shape, class_name: str | None, edge: bool) -> Layer:
    if class_name is None:
        choices = FLAT_SAFE if shape.flat else LAYER_CLASSES + (
            "Conv2D", "SeparableConv2D", "DepthwiseConv2D")
        class_name = rng.choice(choices)
    if class_name in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
        return _conv_like(rng, shape, class_name, edge)
    if "Pool" in class_name and not class_name.startswith("Global"):
        return _pooling(rng, shape, class_name, edge)
    if class_name == "ZeroPadding2D":
        return _zero_padding(rng, edge)
    if class_name == "Conv2DTranspose":
        return _conv_transpose(rng, shape, edge)
    if class_name == "Reshape":
        return _reshape(rng, shape, edge)
    if class_name in ACTIVATION_LAYERS:
        return _activation_layer(rng, shape, class_name, edge)
    return _simple(rng, shape, class_name, edge and class_name != "Flatten")


def _edge_layers(rng: random.Random, shape: _Shape) -> list[Layer]:
    """One layer Keras may well refuse (or two: an image layer after a flattening one)."""
    class_name = rng.choice(EDGE_CLASSES)
    if class_name != "after_flat":
        if shape.flat and class_name in IMAGE_ONLY:
            return [_layer(rng, shape, class_name, False)]
        return [_layer(rng, shape, class_name, True)]
    layers = []
    if not shape.flat:
        flattening = rng.choice(("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"))
        layers.append({"class_name": flattening, "config": {}})
    image_only = rng.choice(IMAGE_ONLY + ("BatchNormalization",))
    last = _layer(rng, _Shape(shape.height, shape.width, shape.channels), image_only, False)
    if image_only == "BatchNormalization":
        last["config"]["axis"] = 3
    return layers + [last]


def _regularizers(rng: random.Random, layer: Layer, edgy: bool) -> None:
    """Now and then a weight penalty, by name or in Keras's form; a bad one near the edge."""
    for key in REGULARIZED.get(layer["class_name"], ()):
        if rng.random() < 0.1:
            bad = edgy and rng.random() < 0.2
            layer["config"][key] = rng.choice(BAD_REGULARIZERS if bad else REGULARIZERS)


def _initializers(rng: random.Random, layer: Layer, edgy: bool) -> None:
    """Now and then a named initializer; `orthogonal` on a bias only near the edge."""
    for key in WEIGHTS.get(layer["class_name"], ()):
        if rng.random() < 0.12:
            vector = key in ("bias_initializer", "alpha_initializer")
            choices = INITIALIZERS[:-1] if vector else INITIALIZERS
            layer["config"][key] = rng.choice(choices)
            if edgy and key == "bias_initializer" and rng.random() < 0.5:
                layer["config"][key] = "orthogonal"


def random_architecture(rng: random.Random) -> dict[str, Any]:
    """One architecture: 1 to 8 layers on a small input; 40% have one layer near an edge."""
    edgy = rng.random() < 0.4
    side = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 16))
    shape = _Shape(side, rng.choice((side, side, 1, 3, 7, 10)), rng.choice((1, 2, 3, 4, 6)))
    input_shape = [shape.height, shape.width, shape.channels]
    count = rng.randint(1, 8)
    edge_at = rng.randrange(count) if edgy else -1
    if edgy and rng.random() < 0.04:
        input_shape[rng.randrange(3)] = 0
    layers: list[Layer] = []
    for index in range(count):
        new = _edge_layers(rng, shape) if index == edge_at else [_layer(rng, shape, None, False)]
        for layer in new:
            config = layer["config"]
            _initializers(rng, layer, edgy)
            _regularizers(rng, layer, edgy)
            if rng.random() < 0.15 and (layer["class_name"] != "SpatialDropout2D" or edgy):
                config["trainable"] = False
            if rng.random() < (0.15 if edgy else 0.04):
                config["name"] = rng.choice(NAMES)
            if edgy and rng.random() < 0.01:
                config["kernel_regularizer_typo"] = 1
            layers.append(layer)
            shape = _next_shape(layer, shape)
    return {"format": "cnnviz/1", "name": "generated", "input_shape": input_shape,
            "layers": layers}


def architectures() -> Any:
    """A hypothesis strategy of `random_architecture` dicts."""
    from hypothesis import strategies as st

    return st.randoms(use_true_random=False).map(random_architecture)
