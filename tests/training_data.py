"""Small, fast data and models for the training tests: two classes a tiny CNN separates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnnviz.data import Dataset
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.spec import ModelSpec


def stripes_dataset(train: int = 160, test: int = 40, seed: int = 0) -> Dataset:
    """8×8×1 images: class 0 has a bright left half, class 1 a bright right half, plus noise."""
    rng = np.random.default_rng(seed)

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.arange(count, dtype=np.int64) % 2
        images = rng.uniform(0.0, 0.3, size=(count, 8, 8, 1)).astype(np.float32)
        images[labels == 0, :, :4] += 0.6
        images[labels == 1, :, 4:] += 0.6
        return np.clip(images, 0.0, 1.0), labels

    x_train, y_train = split(train)
    x_test, y_test = split(test)
    return Dataset("stripes", x_train, y_train, x_test, y_test, ("left", "right"))


def save_stripes_npz(folder: Path) -> Path:
    """`stripes_dataset()` as an .npz upload: uint8 images without the channel axis."""
    data = stripes_dataset()
    path = folder / "stripes.npz"
    np.savez(path, x_train=(data.x_train[..., 0] * 255).astype(np.uint8), y_train=data.y_train,
             x_test=(data.x_test[..., 0] * 255).astype(np.uint8), y_test=data.y_test)
    return path


def tiny_spec(units: int = 2, activation: str | None = "softmax") -> ModelSpec:
    return ModelSpec(
        input_shape=(8, 8, 1),
        layers=(
            Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
            MaxPooling2DSpec(pool_size=2),
            FlattenSpec(),
            DenseSpec(units=units, activation=activation),
        ),
        name="tiny",
    )


def block_conv(name: str, filters: int = 4) -> dict[str, Any]:
    """A VGG block's convolution, small: 3×3 kernels, same padding, ReLU."""
    return {"class_name": "Conv2D", "config": {"filters": filters, "kernel_size": 3,
                                               "padding": "same", "activation": "relu",
                                               "name": name}}


def block_pool(name: str) -> dict[str, Any]:
    return {"class_name": "MaxPooling2D", "config": {"pool_size": 2, "name": name}}


def two_block_classifier(name: str, classes: int) -> ModelSpec:
    """8×8×1 images through block1_conv1 and block2_conv1 (each pooled) to a softmax."""
    return ModelSpec.from_dict({
        "name": name, "input_shape": [8, 8, 1],
        "layers": [
            block_conv("block1_conv1"), block_pool("block1_pool"),
            block_conv("block2_conv1"), block_pool("block2_pool"),
            {"class_name": "Flatten", "config": {}},
            {"class_name": "Dense", "config": {"units": classes, "activation": "softmax"}},
        ],
    })
