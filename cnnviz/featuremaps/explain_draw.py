"""Pictures for an explanation: the window drawn over the layer's input (zero padding as a
grey border) and the receptive field drawn over the input image."""

from __future__ import annotations

from typing import Final

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.featuremaps.colormaps import apply_colormap
from cnnviz.featuremaps.explain import Window
from cnnviz.featuremaps.receptive_field import ReceptiveField

__all__ = ["OUTLINE", "receptive_field_picture", "window_picture"]

OUTLINE: Final = (255, 45, 85)
_PADDING_GREY: Final = (128, 128, 128)


def _colours(values: np.ndarray) -> np.ndarray:
    """(H, W) values → viridis on their own range; (H, W, 3) in [0, 1] → RGB as it is."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 3 and array.shape[2] == 3:
        return np.asarray(np.clip(array, 0.0, 1.0) * 255.0 + 0.5, dtype=np.uint8)
    if array.ndim == 3:
        array = array[:, :, 0]
    low, high = float(array.min(initial=0.0)), float(array.max(initial=0.0))
    unit = (array - low) / (high - low) if high > low else np.zeros_like(array)
    return apply_colormap(unit)


def _scale(height: int, width: int, side: int) -> int:
    return max(1, side // max(height, width, 1))


def _outline(draw: ImageDraw.ImageDraw, top: int, bottom: int, left: int, right: int,
             scale: int) -> None:
    thickness = max(2, scale // 6)
    box = (left * scale, top * scale, (right + 1) * scale - 1, (bottom + 1) * scale - 1)
    draw.rectangle(box, outline=OUTLINE, width=thickness)


def window_picture(values: np.ndarray, window: Window, side: int = 320) -> Image.Image:
    """`values` (the layer's input: one channel (H, W), or an RGB image (H, W, 3) in [0, 1])
    enlarged, with the window outlined and its sampled cells marked; cells of zero padding
    the window reaches are drawn grey around it."""
    colours = _colours(values)
    height, width = colours.shape[:2]
    before_rows, before_cols = max(0, -window.top), max(0, -window.left)
    after_rows = max(0, window.bottom - (height - 1))
    after_cols = max(0, window.right - (width - 1))
    canvas = np.empty((height + before_rows + after_rows, width + before_cols + after_cols, 3),
                      dtype=np.uint8)
    canvas[:] = _PADDING_GREY
    canvas[before_rows:before_rows + height, before_cols:before_cols + width] = colours
    scale = _scale(canvas.shape[0], canvas.shape[1], side)
    picture = Image.fromarray(canvas).resize((canvas.shape[1] * scale, canvas.shape[0] * scale),
                                             Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)
    top, left = window.top + before_rows, window.left + before_cols
    bottom, right = window.bottom + before_rows, window.right + before_cols
    if (window.row_step, window.col_step) != (1, 1) and scale >= 4:
        dot = max(1, scale // 5)
        for row in range(top, bottom + 1, window.row_step):
            for col in range(left, right + 1, window.col_step):
                cy, cx = row * scale + scale // 2, col * scale + scale // 2
                draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=OUTLINE)
    _outline(draw, top, bottom, left, right, scale)
    return picture


def receptive_field_picture(image: np.ndarray, field: ReceptiveField,
                            side: int = 320) -> Image.Image:
    """The input image (H, W, C) in [0, 1], enlarged, with the receptive field outlined and
    the pixels outside it dimmed."""
    colours = _colours(image if image.shape[-1] == 3 else np.repeat(image[..., :1], 3, axis=-1))
    height, width = colours.shape[:2]
    if not field.whole and not field.empty:
        dimmed = (colours.astype(np.float64) * 0.35).astype(np.uint8)
        inside = np.zeros((height, width), dtype=bool)
        inside[field.top:field.bottom + 1, field.left:field.right + 1] = True
        colours = np.where(inside[..., None], colours, dimmed)
    scale = _scale(height, width, side)
    picture = Image.fromarray(colours).resize((width * scale, height * scale),
                                              Image.Resampling.NEAREST)
    if not field.empty:
        _outline(ImageDraw.Draw(picture), field.top, field.bottom, field.left, field.right, scale)
    return picture
