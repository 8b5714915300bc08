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
    "Conv2DTranspose": "A convolution run backwards: each pixel stamps a filter; grows the map.",
    "UpSampling2D": "Repeats each pixel (or interpolates): doubles the map with size 2.",
    "Reshape": "Lays the same values out in a new shape; -1 takes whatever is left.",
    "ReLU": "max(x, 0) as a layer; max_value=6 gives MobileNet's relu6.",
    "LeakyReLU": "Like ReLU, but negative values keep a small slope instead of becoming 0.",
    "ELU": "x above 0, alpha·(eˣ − 1) below: smooth near 0.",
    "PReLU": "A leaky ReLU whose negative slopes are learned weights.",
    "Softmax": "Turns scores into probabilities that add up to 1 along an axis.",
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
    "axis": "The axis the layer works along: -1 is the last one (the channels).",
    "momentum": "How slowly the moving mean and variance follow each batch.",
    "epsilon": "Small number added to the variance to avoid dividing by zero.",
    "center": "Learn a shift β per channel.",
    "scale": "Learn a scale γ per channel.",
    "name": "The layer's name in Keras; empty: Keras's automatic name.",
    "trainable": "Whether training updates this layer's weights; False freezes them.",
    "output_padding": "Extra rows/columns added at the bottom/right of the output; "
    "must be smaller than strides. None: Keras's default size.",
    "size": "How many times each row and column is repeated: 2 doubles height and width.",
    "interpolation": "How new pixels are filled: 'nearest' copies, 'bilinear' blends.",
    "target_shape": "The new shape without the batch, e.g. [-1] or [7, 7, 64]; "
    "-1 stands for whatever is left. The number of values cannot change.",
    "max_value": "Caps the output: 6 gives relu6. Empty: no cap.",
    "negative_slope": "Slope for values below the threshold; 0 zeroes them.",
    "threshold": "Values below it count as negative.",
    "alpha": "Scale of the negative part: alpha·(eˣ − 1).",
    "alpha_initializer": "How the learned negative slopes start before training.",
    "shared_axes": "Axes that share one slope (1 height, 2 width, 3 channels); "
    "[1, 2]: one slope per channel. Empty: one per value.",
    "kernel_regularizer": "Penalty on large weights added to the loss: 'l1', 'l2', 'l1l2' "
    "or {\"class_name\": \"L2\", \"config\": {\"l2\": 0.01}}. Shapes and counts do not change.",
    "bias_regularizer": "Penalty on large biases: 'l1', 'l2', 'l1l2' or Keras's form.",
    "depthwise_regularizer": "Penalty on the depthwise weights: 'l1', 'l2' or 'l1l2'.",
    "pointwise_regularizer": "Penalty on the 1×1 pointwise weights: 'l1', 'l2' or 'l1l2'.",
    "alpha_regularizer": "Penalty on the learned slopes: 'l1', 'l2' or 'l1l2'.",
}


def field_help(field: str, default_text: str) -> str:
    """`default_text`: Keras's default as written in Python, or "required"."""
    if default_text == "required":
        return f"{FIELD_HELP.get(field, field)} Required (Keras has no default)."
    return f"{FIELD_HELP.get(field, field)} Keras default: {default_text}."
