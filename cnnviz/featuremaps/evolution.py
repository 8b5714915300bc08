"""The first layer's filters across the epochs of a training: an animated GIF (one frame
per epoch) and a still strip of a few epochs, one row each.

Each frame draws that epoch's filters as the Filters tab does (RGB for RGB input, grey at
zero), but all on the layer's largest |weight| at that epoch rather than each on its own:
a filter that fades away turns grey instead of showing its leftover noise at full
contrast, and one that grows into a detector stands out. A band above names the epoch.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnnviz.featuremaps.filters import KERNEL_TILE, FilterError, signed_to_unit
from cnnviz.featuremaps.mosaic import encode_png, tile_mosaic

__all__ = ["filter_evolution_frames", "filter_evolution_gif", "filter_evolution_strip_png"]

_BAND: Final = 22  # pixels above each frame for its label
_FRAME_MS: Final = 700
_LAST_FRAME_MS: Final = 2_000  # the trained filters stay a little longer


def _check(kernels: Sequence[np.ndarray], labels: Sequence[str]) -> None:
    if not kernels:
        raise FilterError("Expected the kernels of at least one epoch. Received: none")
    if len(labels) != len(kernels):
        raise FilterError(f"Expected {len(kernels)} labels. Received: {len(labels)} labels")
    shapes = {np.shape(kernel) for kernel in kernels}
    if len(shapes) != 1:
        raise FilterError("Expected the same layer's kernels at every epoch. Received: "
                          f"shapes={sorted(shapes)}")


def _labelled(image: Image.Image, label: str) -> Image.Image:
    framed = Image.new("RGB", (image.width, image.height + _BAND), (255, 255, 255))
    framed.paste(image.convert("RGB"), (0, _BAND))
    font = ImageFont.load_default(size=15)
    ImageDraw.Draw(framed).text((4, 3), label, fill=(20, 20, 20), font=font)
    return framed


def _on_layer_scale(kernel: np.ndarray) -> np.ndarray:
    """(kh, kw, in, out) → (out, kh, kw, 3) for RGB input or (out, kh, kw) for grey, in
    [0, 1] with zero at 0.5 and the layer's largest |weight| at 0 or 1."""
    array = np.asarray(kernel, dtype=np.float32)
    if array.ndim != 4 or array.shape[2] not in (1, 3):
        raise FilterError("Expected a first layer's kernel of shape (kh, kw, 1 or 3, filters). "
                          f"Received: shape={array.shape}")
    unit = np.moveaxis(signed_to_unit(array), 3, 0)
    return unit if array.shape[2] == 3 else unit[..., 0]


def filter_evolution_frames(kernels: Sequence[np.ndarray],
                            labels: Sequence[str]) -> list[Image.Image]:
    """One labelled RGB picture of the first layer's filters per kernel (kh, kw, in, out)."""
    _check(kernels, labels)
    frames = []
    for kernel, label in zip(kernels, labels, strict=True):
        images = _on_layer_scale(kernel)
        numbers = [str(number) for number in range(images.shape[0])]
        image, _ = tile_mosaic(images, labels=numbers, colormap="coolwarm",
                               min_tile=KERNEL_TILE)
        frames.append(_labelled(image, label))
    return frames


def filter_evolution_gif(kernels: Sequence[np.ndarray], labels: Sequence[str]) -> bytes:
    """An animated GIF, one frame per epoch, looping."""
    frames = filter_evolution_frames(kernels, labels)
    durations = [_FRAME_MS] * (len(frames) - 1) + [_LAST_FRAME_MS]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0, optimize=False)
    return buffer.getvalue()


def filter_evolution_strip_png(kernels: Sequence[np.ndarray], labels: Sequence[str]) -> bytes:
    """The frames one under another: the filters of every epoch given, to compare."""
    frames = filter_evolution_frames(kernels, labels)
    width = max(frame.width for frame in frames)
    strip = Image.new("RGB", (width, sum(frame.height for frame in frames)), (255, 255, 255))
    top = 0
    for frame in frames:
        strip.paste(frame, (0, top))
        top += frame.height
    return encode_png(strip)
