"""Occlusion sensitivity (Zeiler & Fergus, 2014): cover one part of the image with a grey
patch and see how much the chosen class's probability drops; a second opinion beside
Grad-CAM that needs no gradients.

Every patch position is one image of a batch; the batches are as large as the model's
activations allow. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from cnnviz.featuremaps.activations import activation_bytes, prepare_batch

if TYPE_CHECKING:
    import keras

__all__ = [
    "Occlusion",
    "OcclusionError",
    "occluded_images",
    "occlusion_sensitivity",
    "patch_corners",
    "probabilities_of",
]

GREY: Final = 0.5
_BATCH_BYTES: Final = 128 * 1024 * 1024  # activations held at once


class OcclusionError(ValueError):
    """A patch, stride or class for which occlusion cannot be computed."""


@dataclass(frozen=True, eq=False)
class Occlusion:
    drops: np.ndarray  # (rows, cols): p(class) of the image minus p(class) with the patch there
    class_index: int
    probability: float  # p(class) of the whole image
    patch: int
    stride: int
    passes: int  # forward passes it took

    @property
    def largest_drop(self) -> float:
        return float(self.drops.max())

    def pixel_map(self, height: int, width: int) -> np.ndarray:
        """(height, width): each pixel's mean drop over the patches that cover it."""
        total = np.zeros((height, width), dtype=np.float64)
        count = np.zeros((height, width), dtype=np.float64)
        for (i, top), (j, left) in ((a, b) for a in enumerate(patch_corners(height, self.stride))
                                    for b in enumerate(patch_corners(width, self.stride))):
            total[top : top + self.patch, left : left + self.patch] += self.drops[i, j]
            count[top : top + self.patch, left : left + self.patch] += 1
        return np.asarray(total / np.maximum(count, 1), dtype=np.float32)


def patch_corners(size: int, stride: int) -> list[int]:
    """Where patches start along one side: every `stride` pixels (the last one may reach
    past the edge; it is cut there)."""
    return list(range(0, size, stride))


def probabilities_of(outputs: np.ndarray, final_activation: str | None) -> np.ndarray:
    """A batch of classifier outputs (n, k) as probabilities, as `class_probabilities`."""
    values = np.asarray(outputs, dtype=np.float64)
    if final_activation == "softmax":
        return values
    if final_activation == "sigmoid":
        return np.concatenate([1.0 - values, values], axis=1) if values.shape[1] == 1 else values
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def occluded_images(image: np.ndarray, patch: int, stride: int) -> np.ndarray:
    """(positions, H, W, C): `image` with a grey `patch`×`patch` square at each position,
    row by row."""
    height, width = image.shape[:2]
    tops, lefts = patch_corners(height, stride), patch_corners(width, stride)
    batch = np.repeat(image[np.newaxis], len(tops) * len(lefts), axis=0)
    for number, (top, left) in enumerate((t, left) for t in tops for left in lefts):
        batch[number, top : top + patch, left : left + patch, :] = GREY
    return batch


def occlusion_sensitivity(
    model: keras.Model,
    image: np.ndarray,
    class_index: int,
    *,
    patch: int = 8,
    stride: int = 8,
    final_activation: str | None = "softmax",
) -> Occlusion:
    """How much p(`class_index`) drops when a grey patch covers each place of `image`."""
    batch = prepare_batch(image, tuple(model.inputs[0].shape[1:]))
    height, width = batch.shape[1:3]
    for name, value in (("patch", patch), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
            1 <= value <= max(height, width)
        ):
            raise OcclusionError(
                f"Expected {name} from 1 to {max(height, width)} pixels. Received: {name}={value!r}"
            )
    covered = occluded_images(batch[0], int(patch), int(stride))
    size = max(1, min(len(covered) + 1, _BATCH_BYTES // max(1, activation_bytes(model))))
    everything = np.concatenate([batch, covered])
    outputs = [np.asarray(model(everything[start : start + size], training=False))
               for start in range(0, len(everything), size)]
    probabilities = probabilities_of(np.concatenate(outputs), final_activation)
    classes = probabilities.shape[1]
    if isinstance(class_index, bool) or not 0 <= int(class_index) < classes:
        raise OcclusionError(
            f"Expected a class from 0 to {classes - 1}. Received: class_index={class_index!r}"
        )
    chosen = probabilities[:, int(class_index)]
    rows, cols = len(patch_corners(height, stride)), len(patch_corners(width, stride))
    drops = (chosen[0] - chosen[1:]).reshape(rows, cols).astype(np.float32)
    return Occlusion(drops, int(class_index), float(chosen[0]), int(patch), int(stride),
                     len(outputs))
