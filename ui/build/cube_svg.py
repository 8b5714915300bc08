"""The network as blocks: each layer's output drawn as an isometric box, as an SVG string.

Height and depth follow the map's height and width, thickness follows its channels (both
on compressed scales, so a 224×224×3 input and a 7×7×512 map fit in one picture); a flat
vector is a thin bar. Layers that keep the shape (Dropout, Activation, …) share a block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from cnnviz.shapes import ModelSummary

__all__ = ["MAX_WIDTH_PX", "Block", "blocks", "cube_svg"]

_COLOURS = {
    "Input": "#d9dde6", "Conv2D": "#4c78a8", "SeparableConv2D": "#72b7b2",
    "DepthwiseConv2D": "#72b7b2", "MaxPooling2D": "#54a24b", "AveragePooling2D": "#54a24b",
    "GlobalAveragePooling2D": "#88d27a", "GlobalMaxPooling2D": "#88d27a",
    "Flatten": "#bab0ac", "Dense": "#b279a2", "ZeroPadding2D": "#eeca3b",
}  # fmt: skip
_DEFAULT_COLOUR = "#9d755d"
_MAX_SIDE_PX = 150.0
_SLANT = 0.5  # depth drawn at 45° and half length: the usual oblique projection
MAX_WIDTH_PX = 780.0  # fits the page's width on a 1280-pixel screen, so it is never shrunk
_CHAR_PX = 7.6  # a 14-pixel label's character, with room
_GAP_PX = 22.0
_MARGIN = 16.0


@dataclass(frozen=True)
class Block:
    label: str
    class_name: str
    shape: tuple[int, ...]


def blocks(summary: ModelSummary) -> list[Block]:
    """The input, then one block per layer that changes the shape (or is a Dense)."""
    found = [Block("input", "Input", tuple(summary.spec.input_shape))]
    for row in summary.layers:
        if row.output_shape == found[-1].shape and row.class_name != "Dense":
            continue
        found.append(Block(row.name, row.class_name, row.output_shape))
    return found


def _side(value: int, largest: int) -> float:
    return 8.0 + (_MAX_SIDE_PX - 8.0) * math.sqrt(value / largest)


def _thickness(channels: int) -> float:
    return 4.0 + 9.0 * math.log2(channels + 1)


def _face(points: list[tuple[float, float]], colour: str, shade: float) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (f'<polygon points="{path}" fill="{colour}" fill-opacity="{shade}" '
            'stroke="#31333f" stroke-width="0.8"/>')


def _box(x: float, base: float, width: float, height: float, depth: float,
         colour: str) -> str:
    dx, dy = depth * _SLANT, -depth * _SLANT
    top = base - height
    front = [(x, base), (x + width, base), (x + width, top), (x, top)]
    lid = [(x, top), (x + width, top), (x + width + dx, top + dy), (x + dx, top + dy)]
    side = [(x + width, base), (x + width + dx, base + dy), (x + width + dx, top + dy),
            (x + width, top)]
    return _face(front, colour, 0.95) + _face(lid, colour, 0.7) + _face(side, colour, 0.55)


def cube_svg(summary: ModelSummary, max_width: float = MAX_WIDTH_PX) -> str:
    """The blocks left to right, wrapped into rows no wider than `max_width` pixels, so the
    picture is shown at its own size (labels at 14 and 13 px) instead of shrunk to fit."""
    found = blocks(summary)
    largest = max(max(block.shape[:2]) if len(block.shape) == 3 else 1 for block in found)
    longest_flat = max((block.shape[0] for block in found if len(block.shape) == 1), default=1)
    placed: list[tuple[Block, float, float, float, float]] = []  # block, width, h, depth, advance
    for block in found:
        if len(block.shape) == 3:
            height, width, channels = block.shape
            box_w = _thickness(channels)
            box_h, depth = _side(height, largest), _side(width, largest)
        else:
            box_w, depth = 10.0, 10.0
            box_h = 16.0 + (_MAX_SIDE_PX - 16.0) * math.log1p(block.shape[0]) / math.log1p(
                max(longest_flat, 2))
        shape_text = "×".join(str(side) for side in block.shape)
        label_width = _CHAR_PX * max(len(shape_text), len(block.label))
        placed.append((block, box_w, box_h, depth, max(box_w + depth * _SLANT, label_width)))
    rows: list[list[tuple[Block, float, float, float, float]]] = [[]]
    x = _MARGIN
    for item in placed:
        if rows[-1] and x + item[4] > max_width:
            rows.append([])
            x = _MARGIN
        rows[-1].append(item)
        x += item[4] + _GAP_PX
    parts: list[str] = []
    top, widest = 0.0, 0.0
    for row in rows:
        base = top + max(h + d * _SLANT for _, _, h, d, _ in row) + 12.0
        x = _MARGIN
        for block, box_w, box_h, depth, advance in row:
            colour = _COLOURS.get(block.class_name, _DEFAULT_COLOUR)
            parts.append(_box(x, base, box_w, box_h, depth, colour))
            centre = x + advance / 2
            shape_text = "×".join(str(side) for side in block.shape)
            parts.append(
                f'<text x="{centre:.1f}" y="{base + 21:.1f}" text-anchor="middle" '
                f'font-size="14" font-weight="600">{escape(shape_text)}</text>'
                f'<text x="{centre:.1f}" y="{base + 39:.1f}" text-anchor="middle" '
                f'font-size="13" fill="#444">{escape(block.label)}</text>'
            )
            x += advance + _GAP_PX
        widest = max(widest, x - _GAP_PX + _MARGIN)
        top = base + 52.0
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {widest:.0f} {top:.0f}" '
            f'width="{widest:.0f}" height="{top:.0f}" font-family="sans-serif" '
            f'fill="#31333f">{"".join(parts)}</svg>')
