"""All channels of a layer tiled into one colour-mapped image, with channel numbers.

Pure numpy and Pillow. A scalar mosaic is a palette PNG (one byte a pixel before
compression): the colormap takes `LEVELS` entries, the background and the label text the
last two, so a layer of hundreds of channels stays a few hundred kilobytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnnviz.featuremaps.colormaps import colormap_table

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "LAYER_MIN_TILE",
    "LEVELS",
    "MIN_TILE",
    "MosaicError",
    "MosaicLayout",
    "Normalization",
    "encode_png",
    "feature_mosaic",
    "model_scale",
    "mosaic_png",
    "normalize_maps",
    "plan_layout",
    "tile_mosaic",
]

Normalization = Literal["channel", "layer"]

LEVELS: Final = 254  # palette entries for values; index 254 is the background, 255 the text
_BACKGROUND: Final = (255, 255, 255)
_TEXT: Final = (49, 51, 63)
DEFAULT_MAX_PIXELS: Final = 480_000
MIN_TILE: Final = 40  # small maps are enlarged (nearest neighbour) to at least this side
LAYER_MIN_TILE: Final = 40  # with `model_scale`: a deep layer's 3×3 map still reads, and
# so does its channel number (a 16-pixel label from tiles this wide)
_GAP: Final = 2
_TARGET_ASPECT: Final = 2.0  # width / height of the whole mosaic


class MosaicError(ValueError):
    """Values that cannot be drawn as a mosaic; says what shape was expected."""


def normalize_maps(maps: np.ndarray, normalization: Normalization = "channel") -> np.ndarray:
    """(H, W, C) values → float32 in [0, 1], each channel on its own range or on the layer's.

    A constant channel (a dead ReLU, say) maps to 0 rather than dividing by zero.
    """
    values = _as_maps(maps)
    if normalization == "channel":
        low = values.min(axis=(0, 1), keepdims=True)
        high = values.max(axis=(0, 1), keepdims=True)
    elif normalization == "layer":
        low = np.asarray(values.min(), dtype=np.float32)
        high = np.asarray(values.max(), dtype=np.float32)
    else:
        raise MosaicError(
            "Expected normalization 'channel' or 'layer'. "
            f"Received: normalization={normalization!r}"
        )
    span = high - low
    safe = np.where(span > 0, span, 1.0)
    scaled: np.ndarray = ((values - low) / safe).astype(np.float32)
    return scaled


def _as_maps(maps: np.ndarray) -> np.ndarray:
    values = np.asarray(maps)
    if values.ndim != 3 or min(values.shape) < 1:
        raise MosaicError(
            "Expected feature maps of shape (height, width, channels). "
            f"Received: shape={values.shape}"
        )
    return np.nan_to_num(values.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)


@dataclass(frozen=True)
class MosaicLayout:
    """Where each tile goes: a grid of `rows` × `cols`, tiles of `tile_height` × `tile_width`."""

    count: int
    rows: int
    cols: int
    tile_height: int
    tile_width: int
    label_height: int
    gap: int = _GAP

    @property
    def cell_height(self) -> int:
        return self.label_height + self.tile_height + self.gap

    @property
    def cell_width(self) -> int:
        return self.tile_width + self.gap

    @property
    def width(self) -> int:
        return self.cols * self.cell_width - self.gap

    @property
    def height(self) -> int:
        return self.rows * self.cell_height - self.gap

    def tile_box(self, index: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of tile `index`, without its label."""
        row, col = divmod(index, self.cols)
        left = col * self.cell_width
        top = row * self.cell_height + self.label_height
        return left, top, left + self.tile_width, top + self.tile_height


def _grid(count: int, height: int, width: int) -> tuple[int, int]:
    def cost(cols: int) -> float:
        rows = math.ceil(count / cols)
        aspect = (cols * width) / (rows * height)
        return abs(math.log(aspect / _TARGET_ASPECT)) + (rows * cols - count) / count

    cols = min(range(1, count + 1), key=cost)
    return math.ceil(count / cols), cols


def _label_height(tile_width: int, labels: bool) -> int:
    if not labels:
        return 0
    return 16 if tile_width >= 36 else 13 if tile_width >= 24 else 10


def plan_layout(
    count: int,
    height: int,
    width: int,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    labels: bool = True,
    scale: int = 1,
    min_tile: int = MIN_TILE,
) -> MosaicLayout:
    """A grid for `count` maps of `height` × `width`, each enlarged by the whole factor
    `scale` (more if needed to reach `min_tile`) and shrunk back while the mosaic would
    exceed `max_pixels`. One `scale` for every layer of a model keeps their sizes honest."""
    if count < 1 or height < 1 or width < 1:
        raise MosaicError(
            f"Expected at least one map of at least 1×1. Received: count={count}, "
            f"height={height}, width={width}"
        )
    rows, cols = _grid(count, height, width)
    budget = max_pixels / (rows * cols)

    def tile(factor: float) -> tuple[int, int, int]:
        tile_w = max(1, round(width * factor))
        return max(1, round(height * factor)), tile_w, _label_height(tile_w, labels)

    def fits(factor: float) -> bool:
        tile_h, tile_w, label = tile(factor)
        return (tile_h + label + _GAP) * (tile_w + _GAP) <= budget or max(tile_h, tile_w) <= 4

    factor: float = max(1, scale, math.ceil(min_tile / max(height, width)))
    while factor > 1 and not fits(factor):
        factor -= 1  # whole factors first: crisp, nearest-neighbour pixels
    while not fits(factor):
        factor *= 0.9
    return MosaicLayout(count, rows, cols, *tile(factor))


@lru_cache(maxsize=256)
def _glyph(char: str, label_height: int) -> np.ndarray:
    """A character as a boolean mask `label_height` high, rendered once and stamped after."""
    size = 13 if label_height >= 16 else 11 if label_height >= 13 else 8
    font = ImageFont.load_default(size=size)
    width = max(1, math.ceil(font.getlength(char)))
    image = Image.new("L", (width, label_height), 0)
    ImageDraw.Draw(image).text((0, 0), char, fill=255, font=font)
    mask = np.asarray(image) >= 128
    mask.setflags(write=False)
    return mask


def _stamp_labels(canvas: np.ndarray, layout: MosaicLayout, labels: Sequence[str],
                  fill: int | tuple[int, int, int]) -> None:
    if layout.label_height == 0:
        return
    for index, text in enumerate(labels):
        left, top, right, _ = layout.tile_box(index)
        x, y = left + 1, top - layout.label_height
        for char in text:
            mask = _glyph(char, layout.label_height)
            width = min(mask.shape[1], right - x)
            if width <= 0:
                break
            region = canvas[y : y + layout.label_height, x : x + width]
            region[mask[:, :width]] = fill
            x += mask.shape[1]


def _resize_tile(tile: np.ndarray, layout: MosaicLayout) -> np.ndarray:
    if tile.shape[:2] == (layout.tile_height, layout.tile_width):
        return tile
    enlarge = layout.tile_height >= tile.shape[0]
    image = Image.fromarray(tile)
    method = Image.Resampling.NEAREST if enlarge else Image.Resampling.BOX
    return np.asarray(image.resize((layout.tile_width, layout.tile_height), method))


def tile_mosaic(
    tiles: np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    colormap: str = "viridis",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    scale: int = 1,
    min_tile: int = MIN_TILE,
) -> tuple[Image.Image, MosaicLayout]:
    """Tiles (N, h, w) in [0, 1] → a palette image through `colormap`; tiles (N, h, w, 3)
    in [0, 1] → an RGB image as they are. Labels (one per tile) go above each tile."""
    array = np.asarray(tiles, dtype=np.float32)
    rgb = array.ndim == 4 and array.shape[3] == 3
    if not (array.ndim == 3 or rgb) or array.shape[0] < 1:
        raise MosaicError(
            f"Expected tiles of shape (n, height, width) or (n, height, width, 3). "
            f"Received: shape={array.shape}"
        )
    if labels is not None and len(labels) != array.shape[0]:
        raise MosaicError(f"Expected {array.shape[0]} labels. Received: {len(labels)} labels")
    layout = plan_layout(array.shape[0], array.shape[1], array.shape[2], max_pixels=max_pixels,
                         labels=labels is not None, scale=scale, min_tile=min_tile)
    clean = np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0)
    if rgb:
        pixels = np.rint(clean * 255).astype(np.uint8)
        canvas_array = np.full((layout.height, layout.width, 3), _BACKGROUND, dtype=np.uint8)
    else:
        pixels = np.rint(clean * (LEVELS - 1)).astype(np.uint8)
        canvas_array = np.full((layout.height, layout.width), LEVELS, dtype=np.uint8)
    for index in range(layout.count):
        left, top, right, bottom = layout.tile_box(index)
        canvas_array[top:bottom, left:right] = _resize_tile(pixels[index], layout)
    _stamp_labels(canvas_array, layout, labels or (), _TEXT if rgb else LEVELS + 1)
    if rgb:
        canvas = Image.fromarray(canvas_array)
    else:
        canvas = Image.frombytes("P", (layout.width, layout.height), canvas_array.tobytes())
        palette = np.vstack([colormap_table(colormap, LEVELS), [_BACKGROUND, _TEXT]])
        canvas.putpalette(palette.astype(np.uint8).tobytes())
    return canvas, layout


def feature_mosaic(
    maps: np.ndarray,
    *,
    normalization: Normalization = "channel",
    colormap: str = "viridis",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    labels: bool = True,
    scale: int = 1,
    min_tile: int = MIN_TILE,
) -> tuple[Image.Image, MosaicLayout]:
    """Feature maps (H, W, C) → one image of C tiles numbered 0…C-1, and its layout."""
    normalized = normalize_maps(maps, normalization)
    tiles = np.moveaxis(normalized, 2, 0)
    names = [str(channel) for channel in range(tiles.shape[0])] if labels else None
    return tile_mosaic(tiles, labels=names, colormap=colormap, max_pixels=max_pixels,
                       scale=scale, min_tile=min_tile)


def model_scale(input_shape: Sequence[int], target: int = 96) -> int:
    """One enlargement for every layer of a model: its input drawn about `target` pixels
    wide, so that deeper, smaller maps look smaller (pass with `min_tile=LAYER_MIN_TILE`)."""
    return max(1, round(target / max(int(input_shape[0]), int(input_shape[1]))))


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def mosaic_png(
    maps: np.ndarray,
    *,
    normalization: Normalization = "channel",
    colormap: str = "viridis",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    scale: int = 1,
    min_tile: int = MIN_TILE,
) -> bytes:
    """`feature_mosaic` encoded as PNG bytes."""
    image, _ = feature_mosaic(maps, normalization=normalization, colormap=colormap,
                              max_pixels=max_pixels, scale=scale, min_tile=min_tile)
    return encode_png(image)
