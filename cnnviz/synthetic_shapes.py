"""The built-in "shapes" dataset: coloured filled shapes on varied backgrounds, 32×32×3.

Every image is drawn from a seeded generator, so a seed always gives the same data.
Shapes are drawn as masks at 4× resolution and averaged down (anti-aliased edges), then
blended in numpy over a solid or gradient background with a little noise.
"""

from __future__ import annotations

import colorsys
import math
from typing import Final

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["SHAPE_NAMES", "IMAGE_SIZE", "generate_shapes"]

SHAPE_NAMES: Final = (
    "circle",
    "square",
    "triangle",
    "cross",
    "star",
    "ring",
    "crescent",
    "arrow",
)
IMAGE_SIZE: Final = 32
_SUPERSAMPLE: Final = 4
_MIN_COLOUR_DISTANCE: Final = 0.45

_Points = list[tuple[float, float]]


def _rotated(points: np.ndarray, cx: float, cy: float, angle: float) -> _Points:
    cos, sin = math.cos(angle), math.sin(angle)
    xs = cx + points[:, 0] * cos - points[:, 1] * sin
    ys = cy + points[:, 0] * sin + points[:, 1] * cos
    return list(zip(xs.tolist(), ys.tolist(), strict=True))


def _regular(count: int, radius: float, offset: float = 0.0) -> np.ndarray:
    angles = offset + np.arange(count) * (2 * math.pi / count)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def _star(radius: float) -> np.ndarray:
    outer = _regular(5, radius, -math.pi / 2)
    inner = _regular(5, radius * 0.45, -math.pi / 2 + math.pi / 5)
    return np.stack([outer, inner], axis=1).reshape(10, 2)


def _cross(radius: float) -> np.ndarray:
    a, w = radius, radius * 0.34
    return np.array(
        [(-w, -a), (w, -a), (w, -w), (a, -w), (a, w), (w, w),
         (w, a), (-w, a), (-w, w), (-a, w), (-a, -w), (-w, -w)]  # fmt: skip
    )


def _arrow(radius: float) -> np.ndarray:
    r = radius
    return np.array(
        [(-r, -0.2 * r), (0.1 * r, -0.2 * r), (0.1 * r, -0.6 * r), (r, 0.0),
         (0.1 * r, 0.6 * r), (0.1 * r, 0.2 * r), (-r, 0.2 * r)]  # fmt: skip
    )


def _draw_mask(draw: ImageDraw.ImageDraw, label: int, cx: float, cy: float, r: float,
               angle: float, rng: np.random.Generator) -> None:  # fmt: skip
    def disc(x: float, y: float, radius: float, fill: int) -> None:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)

    name = SHAPE_NAMES[label]
    if name == "circle":
        disc(cx, cy, r, 255)
    elif name == "ring":
        disc(cx, cy, r, 255)
        disc(cx, cy, r * rng.uniform(0.5, 0.65), 0)
    elif name == "crescent":
        disc(cx, cy, r, 255)
        shift = r * rng.uniform(0.45, 0.6)
        disc(cx + shift * math.cos(angle), cy + shift * math.sin(angle), r * 0.85, 0)
    else:
        outline = {
            "square": lambda: _regular(4, r * 1.1, math.pi / 4),
            "triangle": lambda: _regular(3, r * 1.15, -math.pi / 2),
            "cross": lambda: _cross(r),
            "star": lambda: _star(r * 1.15),
            "arrow": lambda: _arrow(r),
        }[name]()
        draw.polygon(_rotated(outline, cx, cy, angle), fill=255)


def _masks(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Anti-aliased shape coverage in [0, 1], shape (n, 32, 32)."""
    big = IMAGE_SIZE * _SUPERSAMPLE
    masks = np.empty((len(labels), IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    radii = rng.uniform(7.0, 14.0, size=len(labels))
    angles = rng.uniform(0.0, 2 * math.pi, size=len(labels))
    canvas = Image.new("L", (big, big))
    draw = ImageDraw.Draw(canvas)
    for i, label in enumerate(labels.tolist()):
        r = radii[i]
        margin = r * 1.05 + 0.5
        cx, cy = rng.uniform(margin, IMAGE_SIZE - margin, size=2)
        draw.rectangle((0, 0, big, big), fill=0)
        s = _SUPERSAMPLE
        _draw_mask(draw, label, cx * s, cy * s, r * s, float(angles[i]), rng)
        masks[i] = np.asarray(canvas.reduce(s), dtype=np.float32) / 255.0
    return masks


def _colours(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shape colour and two background colours per image, far enough apart to see the edge."""
    shape = np.empty((count, 3))
    first = np.empty((count, 3))
    second = np.empty((count, 3))
    for i in range(count):
        hue, sat, val = rng.uniform(0, 1), rng.uniform(0.45, 1), rng.uniform(0.45, 1)
        shape[i] = colorsys.hsv_to_rgb(hue, sat, val)
        for target in (first, second):
            colour = rng.uniform(0, 1, size=3)
            while np.linalg.norm(colour - shape[i]) < _MIN_COLOUR_DISTANCE:
                colour = rng.uniform(0, 1, size=3)
            target[i] = colour
    return shape, first, second


def _backgrounds(count: int, first: np.ndarray, second: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Solid colour (1/3) or a linear gradient at a random angle (2/3), (n, 3, 32, 32)."""
    solid = rng.uniform(size=count) < 1 / 3
    second = np.where(solid[:, None], first, second)
    angle = rng.uniform(0, 2 * math.pi, size=count).astype(np.float32)
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    coords = ((np.arange(IMAGE_SIZE, dtype=np.float32) + 0.5) / IMAGE_SIZE - 0.5)
    half_extent = (np.abs(cos) + np.abs(sin)) * (2 * coords[-1])
    t = (cos * coords[None, None, :] + sin * coords[None, :, None]) / half_extent + 0.5
    first32 = first.astype(np.float32)[:, :, None, None]
    images = (second.astype(np.float32)[:, :, None, None] - first32) * t[:, None]
    images += first32
    return images


def generate_shapes(seed: int, count: int, *, stream: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` images (float32, (count, 32, 32, 3), values in [0, 1]) and int64 labels.

    Classes are balanced (counts differ by at most one) and in random order. Different
    `stream` values give independent images for the same seed (e.g. train and test).
    """
    rng = np.random.default_rng([stream, seed])
    labels = rng.permutation(np.arange(count) % len(SHAPE_NAMES)).astype(np.int64)
    masks = _masks(labels, rng)[:, None]
    shape, first, second = _colours(count, rng)
    # Channels-first while blending keeps numpy's inner loops long (32 pixels, not 3 channels).
    images = _backgrounds(count, first, second, rng)
    images += (shape.astype(np.float32)[:, :, None, None] - images) * masks
    noise = rng.uniform(0.0, 0.05, size=(count, 1, 1, 1)).astype(np.float32)
    images += rng.standard_normal(images.shape, dtype=np.float32) * noise
    np.clip(images, 0.0, 1.0, out=images)
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)), labels
