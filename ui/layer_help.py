"""One line of help for every layer type and every Keras argument the settings form shows."""

from __future__ import annotations

__all__ = ["FIELD_HELP", "LAYER_HINTS", "field_help"]

LAYER_HINTS: dict[str, str] = {
    "Conv2D": "Slides learned filters over the image; each filter makes one output channel.",
    "SeparableConv2D": "A depthwise filter per channel, then a 1×1 mix: far fewer weights.",
    "DepthwiseConv2D": "One spatial filter per input channel, no mixing of channels.",
    "MaxPooling2D": "Keeps the largest value of each window: halves the map with pool_size 2.",
    "AveragePooling2D": "Averages each window: halves the map with pool_size 2.",
    "GlobalAveragePooling2D": "Averages each channel over the whole map: one value per channel.",
    "GlobalMaxPooling2D": "Takes each channel's largest value: one value per channel.",
    "Flatten": "Lays the H×W×C map out as one long vector, for Dense layers.",
    "Dense": "Every input connected to every unit: the classifier at the end.",
    "Dropout": "Zeroes a random fraction of values while training, against overfitting.",
    "SpatialDropout2D": "Drops whole channels while training.",
    "Activation": "Applies a function (relu, softmax…) to every value.",
    "BatchNormalization": "Normalises each channel with batch statistics; learns scale and shift.",
    "ZeroPadding2D": "Adds rows and columns of zeros around the map.",
}

FIELD_HELP: dict[str, str] = {
    "filters": "How many filters the layer learns = the number of output channels.",
    "kernel_size": "Height and width of each filter window, e.g. 3×3.",
    "strides": "How many pixels the window moves each step; 2 halves the output size.",
    "padding": "'valid': no padding, the map shrinks by kernel − 1. "
    "'same': zeros around the edges keep the size (÷ strides).",
    "data_format": "cnnviz uses channels_last: images are height × width × channels.",
    "dilation_rate": "Spacing between kernel taps: a 3×3 kernel with rate 2 covers 5×5. "
    "Cannot be combined with strides > 1.",
    "groups": "Splits input channels into groups convolved separately; must divide both "
    "the input channels and filters.",
    "depth_multiplier": "Output channels per input channel in the depthwise step.",
    "activation": "The function applied to each output; linear (None) applies nothing.",
    "use_bias": "Whether each filter or unit adds a learned bias: +1 weight per output.",
    "kernel_initializer": "How the weights are drawn before training.",
    "bias_initializer": "How the biases start before training.",
    "depthwise_initializer": "How the depthwise weights are drawn before training.",
    "pointwise_initializer": "How the 1×1 pointwise weights are drawn before training.",
    "pool_size": "Height and width of the pooling window.",
    "units": "How many outputs (neurons); the last Dense needs one per class.",
    "rate": "Fraction of values dropped during training (0 to 1); none at inference.",
    "seed": "Fixes the random dropout pattern; empty: random.",
    "keepdims": "Keep the result as a 1×1×C map instead of a flat vector of C.",
    "axis": "The axis normalised: the channels (-1).",
    "momentum": "How slowly the moving mean and variance follow each batch.",
    "epsilon": "Small number added to the variance to avoid dividing by zero.",
    "center": "Learn a shift β per channel.",
    "scale": "Learn a scale γ per channel.",
    "name": "The layer's name in Keras; empty: Keras's automatic name.",
    "trainable": "Whether training updates this layer's weights; False freezes them.",
}


def field_help(field: str, default_text: str) -> str:
    """`default_text`: Keras's default as written in Python, or "required"."""
    if default_text == "required":
        return f"{FIELD_HELP.get(field, field)} Required (Keras has no default)."
    return f"{FIELD_HELP.get(field, field)} Keras default: {default_text}."
